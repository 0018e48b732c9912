//! C projects with the real toolchains: Debian's clang-16 + lld-16 + wasi-libc, and zig from PyPI.

use std::ffi::OsStr;
use std::path::Path;

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

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--target", "unknown"]));
    assert_eq!(
        output.status.code(),
        Some(1),
        "a bare command has nothing reachable"
    );
    assert!(stderr(&output).contains("[c] exports"));
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

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--bin", "greeting"]));
    assert_eq!(
        output.status.code(),
        Some(2),
        "a library is not an executable"
    );
    assert!(
        stderr(&output).contains("available: goodbye, hello"),
        "{}",
        stderr(&output)
    );

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
    std::fs::remove_file(dir.join("wasmforge.toml")).expect("rm");
    std::fs::remove_dir_all(dir.join("out")).expect("clean");
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

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .args(["--target", "wasip2"]));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn toolchain_and_compile_errors() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-broken");
    let output = run(wasmforge().arg("build").arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("src/main.c:4:"),
        "clang's message with file:line: {err}"
    );
    assert!(!dir.join("target/wasmforge/wasip1").exists());

    // No toolchain at all: an empty PATH and no wasi-sdk.
    let empty = tempfile::tempdir().expect("tempdir");
    let (_tmp2, hello) = project("hello-c");
    let output = run(wasmforge()
        .arg("build")
        .arg(&hello)
        .env("PATH", empty.path())
        .env_remove("WASI_SDK_PATH"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("error[WF3001]: no C compiler for WebAssembly is usable"),
        "{err}"
    );
    assert!(err.contains("apt-get install clang"), "{err}");

    // clang whose WASI sysroot is missing.
    let output = run(wasmforge()
        .arg("build")
        .arg(&hello)
        .args(["--toolchain", "clang"])
        .env("WASI_SYSROOT", empty.path().join("no-sysroot")));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("has no include/ folder"),
        "{}",
        stderr(&output)
    );
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
