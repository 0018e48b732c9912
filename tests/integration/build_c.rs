//! C projects with the real toolchains: Debian's clang-16 + lld-16 + wasi-libc, and zig from PyPI.

use std::ffi::OsStr;
use std::path::Path;

use snapbox::str;

use crate::support::*;

/// The names of the files compiled by one build, read from its status lines.
fn compiled(stderr: &str) -> Vec<String> {
    let mut files: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Compiling "))
        .map(str::to_string)
        .collect();
    files.sort();
    files
}

fn build_err(dir: &Path, extra: &[&str]) -> String {
    let output = run(wasmforge().arg("build").arg(dir).args(extra));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stderr(&output)
}

#[test]
fn hello_c_with_each_toolchain_and_target() {
    if !have_clang() || !have_zig() {
        return;
    }
    let (_tmp, dir) = project("hello-c");
    for toolchain in ["clang", "zig"] {
        let doc = build_ok(&dir, &["--toolchain", toolchain]);
        assert_eq!(doc["lang"], "c");
        assert!(
            doc["toolchain"]
                .as_str()
                .unwrap_or_default()
                .starts_with(toolchain),
            "{doc}"
        );
        let bytes = first_artifact(&doc);
        assert!(is_core_module(&bytes));
        let (code, out) = run_wasip1(&bytes, &[toolchain]);
        assert_eq!(
            (code, out.trim().to_string()),
            (
                0,
                format!("Hello, {toolchain}! (from C, compiled to WebAssembly)")
            )
        );
        let (code, out) = run_under_both_compilers(&doc, &[toolchain]);
        assert_eq!(
            (code, out.trim().to_string()),
            (
                Some(0),
                format!("Hello, {toolchain}! (from C, compiled to WebAssembly)")
            )
        );
    }
    // The define from wasmforge.toml reached the compiler: without it the greeting is "Hi".
    let doc = build_ok(&dir, &["--target", "wasip2"]);
    let bytes = first_artifact(&doc);
    assert!(is_component(&bytes));
    let (ok, out) = run_wasip2(&bytes, &["P2"]);
    assert!(ok);
    assert_eq!(out.trim(), "Hello, P2! (from C, compiled to WebAssembly)");
    let (code, out) = run_under_both_compilers(&doc, &["P2"]);
    assert_eq!(
        (code, out.trim()),
        (Some(0), "Hello, P2! (from C, compiled to WebAssembly)")
    );

    // A bare command has nothing reachable.
    session(&dir, &["build", "--target", "unknown"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF3011]: a bare `--target unknown` module has no `_start`: only its exports are reachable, and wasmforge.toml lists none
hint: list the functions to export in wasmforge.toml: `[c] exports = ["add"]`
explain: wasmforge explain WF3011

"#]]);
}

#[test]
fn incremental_builds_recompile_exactly_what_changed() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-multi");
    let all = ["src/a.c", "src/b.c", "src/main.c"]
        .map(String::from)
        .to_vec();
    assert_eq!(compiled(&build_err(&dir, &["-j", "2"])), all);
    let (_, out) = wf_run(&[dir
        .join("target/wasmforge/wasip1/debug/c-multi.wasm")
        .as_os_str()]);
    assert_eq!(out.trim(), "result: 42");

    let again = build_err(&dir, &[]);
    assert!(
        compiled(&again).is_empty(),
        "nothing changed, nothing compiled: {again}"
    );
    assert!(!again.contains("Linking"), "and nothing linked: {again}");

    // Touching a header recompiles exactly the files that include it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let b = dir.join("include/b.h");
    std::fs::write(&b, std::fs::read_to_string(&b).expect("read")).expect("touch");
    assert_eq!(compiled(&build_err(&dir, &[])), ["src/b.c", "src/main.c"]);

    // Changing a define recompiles everything, and the new value is in the program.
    let config = dir.join("wasmforge.toml");
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .expect("read")
            .replace("FACTOR=3", "FACTOR=2"),
    )
    .expect("w");
    assert_eq!(compiled(&build_err(&dir, &[])), all);
    let (_, out) = wf_run(&[dir
        .join("target/wasmforge/wasip1/debug/c-multi.wasm")
        .as_os_str()]);
    assert_eq!(out.trim(), "result: 28");
}

#[test]
fn cmake_project_builds_the_named_executable() {
    if !have_clang() || !require(on_path("cmake"), "cmake is not installed") {
        return;
    }
    let (_tmp, dir) = project("hello-c-cmake");
    let doc = build_ok(&dir, &[]);
    assert_eq!(
        doc["artifacts"][0]["name"], "hello",
        "[c] bin from wasmforge.toml"
    );
    let (code, out) = run_wasip1(&first_artifact(&doc), &["CMake"]);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            "Hello, CMake! (from C via CMake, compiled to WebAssembly)"
        )
    );

    let doc = build_ok(&dir, &["--target", "wasip2"]);
    let (ok, out) = run_wasip2(&first_artifact(&doc), &["P2"]);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "Hello, P2! (from C via CMake, compiled to WebAssembly)"
    );

    let doc = build_ok(&dir, &["--bin", "goodbye", "--release"]);
    assert_eq!(doc["artifacts"][0]["name"], "goodbye");
    let (_, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!(out.trim(), "Goodbye! (from C via CMake)");

    // A library is not an executable.
    session(&dir, &["build", "--bin", "greeting"])
        .code(2)
        .stderr_eq(str![[r#"
error: CMake executable `greeting` is not in this workspace
hint: available: goodbye, hello

"#]]);

    // None chosen: each executable is built, as cargo builds every binary.
    std::fs::remove_file(dir.join("wasmforge.toml")).expect("rm");
    let doc = build_ok(&dir, &[]);
    let names: Vec<&str> = doc["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["goodbye", "hello"], "{doc}");
}

#[test]
fn make_project_finds_its_artifact_from_the_link() {
    if !have_clang() || !require(on_path("make"), "make is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-make");
    let doc = build_ok(&dir, &[]);
    let (_, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!(out.trim(), "made with make");
    // Without `[c] artifact`, the compiler wrapper's record of the link says which file it is.
    // make ran in the build's mirror of the project: `out/` is there, not in the project.
    assert!(!dir.join("out").exists());
    std::fs::remove_file(dir.join("wasmforge.toml")).expect("rm");
    std::fs::remove_dir_all(dir.join("target/wasmforge/make/clang-wasip1/debug/tree/out"))
        .expect("clean");
    let doc = build_ok(&dir, &[]);
    assert_eq!(doc["artifacts"][0]["name"], "app");
    let (_, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!(out.trim(), "made with make");
    // Nothing to do for make: the module it linked last time.
    let doc = build_ok(&dir, &[]);
    assert_eq!(doc["artifacts"][0]["name"], "app");
}

#[test]
fn library_is_a_reactor_or_a_bare_module() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("hello-c-lib");
    let doc = build_ok(&dir, &[]);
    let exports = core_exports(&first_artifact(&doc));
    for name in ["add", "mul", "_initialize"] {
        assert!(exports.contains(&name.to_string()), "{name}: {exports:?}");
    }
    let path = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path")
        .to_string();
    let (_, out) = wf_run(&[
        OsStr::new("--invoke"),
        OsStr::new("mul"),
        OsStr::new(&path),
        OsStr::new("6"),
        OsStr::new("7"),
    ]);
    assert_eq!(out.trim(), "42");

    let doc = build_ok(&dir, &["--target", "unknown"]);
    let bytes = first_artifact(&doc);
    assert_eq!(call_i32_pair(&bytes, "add", 40, 2), 42);
    let imports = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .filter_map(|p| match p {
            Ok(wasmparser::Payload::ImportSection(r)) => Some(r.into_iter().count()),
            _ => None,
        })
        .sum::<usize>();
    assert_eq!(imports, 0, "a bare module imports nothing");

    session(&dir, &["build", "--target", "wasip2"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF6005]: a C library for `--target wasip2` needs a WIT world: wrapping it into a component without one would silently drop its exports
hint: give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang c --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor exporting `[c] exports`) or `--target unknown`
explain: wasmforge explain WF6005

"#]]);
}

#[test]
fn toolchain_and_compile_errors() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-broken");
    // clang's message with file:line.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
    Building c-broken (clang [..], wasip1, debug)
   Compiling src/main.c
[CWD]/src/main.c:4:28: error: invalid operands to binary expression ('char[13]' and 'int')
    int x = "not a number" * 2;
            ~~~~~~~~~~~~~~ ^ ~
1 error generated.
error: compiling src/main.c failed (compiler errors)
hint: fix the compiler errors above, then build again

"#]]);
    assert!(!dir.join("target/wasmforge/wasip1").exists());

    // No toolchain at all: an empty PATH and no wasi-sdk.
    let empty = tempfile::tempdir().expect("tempdir");
    let (_tmp2, hello) = project("hello-c");
    let mut cmd = wasmforge();
    cmd.arg("build")
        .env("PATH", empty.path())
        .env_remove("WASI_SDK_PATH");
    session_of(&hello, cmd).code(1).stderr_eq(str![[r#"
error[WF3001]: no C compiler for WebAssembly is usable (looked at: wasi-sdk at /opt/wasi-sdk (no bin/clang and share/wasi-sysroot); clang / clang-NN on PATH (none found); zig (not on PATH, and no python3 for `python3 -m ziglang`))
  = fix: Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`; or `pip install ziglang`; or set WASI_SDK_PATH to a wasi-sdk
  = no C compiler with the WebAssembly backend: wasmforge explain WF3001
error: this project cannot build for its target: no C compiler for WebAssembly is usable (looked at: wasi-sdk at /opt/wasi-sdk (no bin/clang and share/wasi-sysroot); clang / clang-NN on PATH (none found); zig (not on PATH, and no python3 for `python3 -m ziglang`))
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);

    // clang whose WASI sysroot is missing.
    let mut cmd = wasmforge();
    cmd.args(["build", "--toolchain", "clang"])
        .env("WASI_SYSROOT", empty.path().join("no-sysroot"));
    session_of(&hello, cmd).code(1).stderr_eq(str![[r#"
error[WF3003]: /usr/bin/clang-16 [..] can compile WebAssembly but there is no WASI sysroot: WASI_SYSROOT=[..]/no-sysroot has no include/ folder: install wasi-libc
  = fix: Debian/Ubuntu: `apt-get install wasi-libc`; or set WASI_SYSROOT to a sysroot (wasi-sdk's share/wasi-sysroot)
  = no WASI sysroot: wasmforge explain WF3003
error[WF3001]: no C compiler for WebAssembly is usable (looked at: /usr/bin/clang-16 [..] (WASI_SYSROOT=[..]/no-sysroot has no include/ folder: install wasi-libc))
  = fix: Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`; or `pip install ziglang`; or set WASI_SDK_PATH to a wasi-sdk
  = no C compiler with the WebAssembly backend: wasmforge explain WF3001
error: this project cannot build for its target: 2 problems (nothing was compiled)
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
}

/// wasi-sdk cannot be installed here: a real compiler laid out as wasi-sdk is (Debian's
/// clang-16 and lld-16 under `bin/`, Debian's WASI sysroot as `share/wasi-sysroot`) is found
/// through WASI_SDK_PATH, named as wasi-sdk, and builds a module that runs.
#[test]
fn wasi_sdk_layout_with_a_real_compiler() {
    let llvm = Path::new("/usr/lib/llvm-16/bin");
    if !have_clang()
        || !require(
            llvm.join("clang").is_file()
                && llvm.join("wasm-ld").is_file()
                && Path::new("/usr/lib/wasm32-wasi").is_dir()
                && Path::new("/usr/include/wasm32-wasi").is_dir(),
            "Debian's clang-16, lld-16 and wasi-libc are not installed",
        )
    {
        return;
    }
    let sdk = tempfile::tempdir().expect("tempdir");
    let root = sdk.path();
    std::fs::create_dir_all(root.join("bin")).expect("mkdir");
    std::fs::create_dir_all(root.join("share/wasi-sysroot/lib")).expect("mkdir");
    for tool in ["clang", "wasm-ld", "llvm-ar", "llvm-ranlib"] {
        std::os::unix::fs::symlink(llvm.join(tool), root.join("bin").join(tool)).expect("link");
    }
    std::os::unix::fs::symlink(
        "/usr/include/wasm32-wasi",
        root.join("share/wasi-sysroot/include"),
    )
    .expect("link");
    std::os::unix::fs::symlink(
        "/usr/lib/wasm32-wasi",
        root.join("share/wasi-sysroot/lib/wasm32-wasi"),
    )
    .expect("link");
    // wasi-sdk 20 shipped clang 16, which names the target wasm32-wasi.
    std::fs::write(root.join("VERSION"), "20.0\n").expect("VERSION");

    let (_tmp, dir) = project("hello-c");
    let output = run(wasmforge()
        .args(["--format", "json", "build", "--toolchain", "wasi-sdk"])
        .arg(&dir)
        .env("WASI_SDK_PATH", root));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["toolchain"], "wasi-sdk 20.0", "{doc}");
    let (code, out) = wf_run(&[doc["artifacts"][0]["path"].as_str().expect("path").as_ref()]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Hello, world! (from C"), "{out}");
}

#[test]
fn c_programs_get_a_real_stack_and_running_out_of_it_is_named() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-stack");
    build_ok(&dir, &[]);
    // 200 KB on the stack: past wasm-ld's own 64 KiB, within wasmforge's 1 MiB.
    session(&dir, &["run", "-q", ".", "200000"])
        .code(0)
        .stdout_eq(str![[r#"
49

"#]]);
    // 3 MB: out of stack, said so, with the key that fixes it.
    session(&dir, &["run", "-q", ".", "3000000"])
        .code(134)
        .stderr_eq(str![[r#"
error: the guest trapped: wasm trap: out of bounds memory access at address 0x[..], just below 0: the program ran out of stack
  backtrace:
...
hint: give it a larger stack: a C project built by wasmforge takes `[c] stack-size = "8MiB"` in wasmforge.toml (1MiB by default); other builds link with `-z stack-size=BYTES` (clang: `-Wl,-z,stack-size=BYTES`, rustc: `-C link-arg=-zstack-size=BYTES`)

"#]]);
    std::fs::write(dir.join("wasmforge.toml"), "[c]\nstack-size = \"8MiB\"\n").expect("write");
    session(&dir, &["run", "-q", ".", "3000000"])
        .code(0)
        .stdout_eq(str![[r#"
733

"#]]);
    std::fs::write(dir.join("wasmforge.toml"), "[c]\nstack-size = 1000\n").expect("write");
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error: `./wasmforge.toml` is not valid
  caused by: TOML parse error at line 2, column 14
      |
    2 | stack-size = 1000
      |              ^^^^
    1000 bytes is not a stack size wasm-ld can lay out: use a multiple of 16 from 4KiB to below 4GiB (e.g. "1MiB")
hint: fix the key named above; the keys are listed in the README (wasmforge.toml)

"#]]);
}

#[test]
fn a_shared_library_in_a_makefile_is_named_with_the_programs_to_build() {
    if !have_clang() || !require(on_path("make"), "make is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-make-shared");
    // make's own lines (in whatever order -j ran them), then the diagnosis, from what make
    // asked the compiler to link, naming the program.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
...
error[WF3014]: make links `libfoo.so` as a shared library: WASI has no shared libraries (no dynamic loader; each module is linked whole)
  = fix: build the program instead: `wasmforge build --bin app` (`[c] bin` in wasmforge.toml); the library's code is linked into it statically
  = a shared library in a WebAssembly build: wasmforge explain WF3014
error: building the Make project failed (exit status: 2)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
    let doc = build_ok(&dir, &["--bin", "app"]);
    let (code, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!((code, out.trim()), (0, "42"));
}

#[test]
fn a_failed_cmake_configure_gets_a_cmake_hint() {
    if !have_clang() || !require(on_path("cmake"), "cmake is not installed") {
        return;
    }
    let (_tmp, dir) = project("hello-c-cmake");
    let lists = std::fs::read_to_string(dir.join("CMakeLists.txt")).expect("read");
    std::fs::write(
        dir.join("CMakeLists.txt"),
        format!("{lists}\nfind_package(ZLIB REQUIRED)\n"),
    )
    .expect("write");
    // CMake's error, then a hint about CMake (there are no compiler errors to fix).
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
...
CMake Error at [..]
...
error: configuring the CMake project failed (exit status: 1)
hint: CMake's own error is above: fix CMakeLists.txt, or give the configure what it asks for (`wasmforge build -- -DOPTION=VALUE` passes options to CMake; a library found on the host is not one for WebAssembly: turn off the option that needs it)

"#]]);
}

#[test]
fn megabytes_through_stdin_a_file_and_stdout_for_every_c_toolchain_and_target() {
    if !have_clang() {
        return;
    }
    let mut toolchains = vec!["clang"];
    if have_zig() {
        toolchains.push("zig");
    }
    // 1 MiB and a bit, not a round number, so the last buffer is partly filled.
    let input: Vec<u8> = (0..(1u32 << 20) + 4321)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let (_tmp, dir) = project("c-big-io");
    for toolchain in toolchains {
        for target in ["wasip1", "wasip2"] {
            let doc = build_ok(&dir, &["--toolchain", toolchain, "--target", target]);
            let wasm = doc["artifacts"][0]["path"]
                .as_str()
                .expect("path")
                .to_string();
            let data = tempfile::tempdir().expect("tempdir");
            let output = run_with_stdin(
                wasmforge()
                    .args(["run", "--dir"])
                    .arg(format!("{}::/data", data.path().display()))
                    .arg(&wasm)
                    .arg("/data/copy.bin"),
                &input,
            );
            let what = format!("{toolchain} {target}");
            assert_eq!(output.status.code(), Some(0), "{what}: {}", stderr(&output));
            assert_eq!(
                stderr(&output).trim(),
                format!("{} same", input.len()),
                "{what}"
            );
            assert!(output.stdout == input, "{what}: stdout differs");
            let copy = std::fs::read(data.path().join("copy.bin")).expect("copy");
            assert!(copy == input, "{what}: the file differs");
        }
    }
}

/// What WASI lacks is read from the sysroot itself: `fallocate` is on no list of wasmforge's, but
/// wasi-libc's <fcntl.h> leaves it out and says why; the project's own `helper` (called without a
/// prototype) is not blamed on WASI; `FILE` without <stdio.h> names the header. The compiler ran
/// in `app/` (make -C): places are the project's files. make wrote nothing into the project.
#[test]
fn functions_wasi_lacks_are_named_from_the_sysroot_and_the_tree_stays_clean() {
    if !have_clang() || !require(on_path("make"), "make is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-make-sysroot");
    let before = files_under(&dir);
    session(&dir, &["build", "-q"]).code(1).stderr_eq(str![[r#"
...
error[WF3015]: `FILE` is defined by <stdio.h>, which the file does not include (the host's headers bring it in through another one; wasi-libc's do not)
  --> ./io.h:3
  = fix: add `#include <stdio.h>` to the file; or, without touching the sources, to every C file of the build: `[c] cflags = ["-include", "stdio.h"]` in wasmforge.toml
  = a standard name the code uses without including its header: wasmforge explain WF3015
error[WF3008]: `fallocate` (the host's <[..]>) is not in WASI's C library: wasi-libc's <fcntl.h> leaves it out ("WASI has no fallocate") and its libc.a does not define it
  --> main.c:6
  = fix: keep the call out of the WASI build (`#ifndef __wasi__` around it, with a fallback)
  = a function WASI preview 1 does not have: wasmforge explain WF3008
error: building the Make project failed (exit status: 2)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
    let mut after = files_under(&dir);
    after.retain(|f| !f.starts_with("target/"));
    assert_eq!(after, before, "make wrote into the project's folders");
}

/// The project's files (relative paths, sorted).
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .expect("under")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

/// Builds with two toolchains publish the same `app.wasm`: the second says it replaced the
/// first's, and each toolchain's make build stays in its own mirror.
#[test]
fn another_toolchain_replacing_the_module_says_so() {
    if !have_clang() || !have_zig() || !require(on_path("make"), "make is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-make");
    build_ok(&dir, &["--toolchain", "clang"]);
    session(&dir, &["build", "--toolchain", "zig"])
        .code(0)
        .stderr_eq(str![[r#"
...
   Replacing app.wasm built with clang [..] by this build with zig [..] (each toolchain's build is kept apart under target/wasmforge)
...
"#]]);
    for mirror in ["clang-wasip1", "zig-wasip1"] {
        let out = dir.join(format!(
            "target/wasmforge/make/{mirror}/debug/tree/out/app.wasm"
        ));
        assert!(out.is_file(), "{}", out.display());
    }
    // The same toolchain again: nothing to say.
    let again = session(&dir, &["build", "--toolchain", "zig"]).code(0);
    assert!(!String::from_utf8_lossy(&again.get_output().stderr).contains("Replacing"));
}
