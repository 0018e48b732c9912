//! The rule: a diagnosis never stops a build the compiler would complete. Source checks read
//! only what the build compiles; doctor and build give the same verdict; C builds are as
//! correct as cargo's (separate folders per toolchain and profile, a lock, unique names).

use std::path::Path;
use std::process::Output;

use snapbox::str;

use crate::support::*;

fn err_of(output: &Output) -> String {
    stderr(output)
}

/// doctor's exit code and JSON report.
fn doctor(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let output = run(wasmforge()
        .arg("doctor")
        .arg(dir)
        .args(args)
        .args(["--format", "json"]));
    (output.status.code(), json(&output))
}

#[test]
fn includes_under_undefined_ifdefs_and_files_outside_the_build_are_never_reported() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-ifdef");
    // No warning: neither unity.c (outside the build) nor <pthread.h> (under an #ifdef).
    session(&dir, &["build", "--toolchain", "clang"])
        .code(0)
        .stderr_eq(str![[r#"
    Building c-ifdef (clang [..], wasip1, debug)
   Compiling src/main.c
     Linking c-ifdef.wasm
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
    let (code, doc) = doctor(&dir, &["--toolchain", "clang"]);
    assert_eq!(code, Some(0), "{doc}");
    let text = doc.to_string();
    for never in ["mman", "pthread", "termios", "windows", "setjmp", "unity.c"] {
        assert!(!text.contains(never), "{never}: {doc}");
    }
    // The same file with the define the `#ifdef` waits for: now it is in the build, and the
    // scan sees it (as a warning; the compiler decides).
    std::fs::write(
        dir.join("wasmforge.toml"),
        "[c]\ndefines = [\"HAVE_PTHREAD\"]\n",
    )
    .expect("write");
    session(&dir, &["build", "--toolchain", "clang"])
        .code(1)
        .stderr_eq(str![[r#"
warning[WF3006]: src/main.c:10 includes <pthread.h>, which WASI preview 1 does not have: threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1 — only when `HAVE_PTHREAD` is defined, and the compile command defines it (`-DHAVE_PTHREAD`, from wasmforge.toml:2) (the compile will likely fail)
  --> [CWD]/src/main.c:10
  = fix: build without `HAVE_PTHREAD`: leave out what adds `-DHAVE_PTHREAD`, from wasmforge.toml:2 (for make, a variable or target: `wasmforge build -- VAR=`); or keep the include out of the WASI build (`#ifndef __wasi__`)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
    Building c-ifdef (clang [..], wasip1, debug)
   Compiling src/main.c
In file included from [CWD]/src/main.c:10:
/usr/include/pthread.h:25:10: fatal error: 'bits/endian.h' file not found
#include <bits/endian.h>
         ^~~~~~~~~~~~~~~
1 error generated.
error[WF3006]: src/main.c:10 includes <pthread.h>, which WASI preview 1 does not have: threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1 — only when `HAVE_PTHREAD` is defined, and the compile command defines it (`-DHAVE_PTHREAD`, from wasmforge.toml:2)
  --> [CWD]/src/main.c:10
  = fix: build without `HAVE_PTHREAD`: leave out what adds `-DHAVE_PTHREAD`, from wasmforge.toml:2 (for make, a variable or target: `wasmforge build -- VAR=`); or keep the include out of the WASI build (`#ifndef __wasi__`)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
error: compiling src/main.c failed (compiler errors)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}

#[test]
fn a_call_to_socket_is_caught_by_doctor_and_after_a_failed_build() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-socket");
    let (code, doc) = doctor(&dir, &["--toolchain", "clang"]);
    assert_eq!(code, Some(1), "{doc}");
    let text = doc.to_string();
    assert!(
        text.contains("WF3008") && text.contains("`socket`"),
        "{doc}"
    );
    assert!(text.contains("main.c"), "{doc}");

    // clang's own message first, then the diagnosis, whose way out names wasip2's sockets.
    session(&dir, &["build", "--toolchain", "clang"])
        .code(1)
        .stderr_eq(str![[r#"
    Building c-socket (clang [..], wasip1, debug)
   Compiling main.c
[CWD]/main.c:6:14: error: call to undeclared function 'socket'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]
    int fd = socket(AF_INET, SOCK_STREAM, 0);
             ^
1 error generated.
error[WF3008]: `socket` is a BSD socket call, which WASI preview 1 does not have: WASI preview 1 cannot open sockets (a host may only pass in ones it opened) — wasi-libc's <sys/socket.h> leaves it out ("WASI has no socket/socketpair") and its libc.a does not define it
  --> [CWD]/main.c:6
  = fix: keep the call out of the WASI build (`#ifndef __wasi__` around it, with a fallback); or build for wasip2, where wasi-libc has BSD sockets (wasi-sdk 22+ `--target wasip2`, run with `--allow-tcp`)
  = a function WASI preview 1 does not have: wasmforge explain WF3008
error: compiling main.c failed (compiler errors)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}

#[test]
fn getrandom_custom_backends_build_for_the_bare_target() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("rust-getrandom-custom");
    let (code, doc) = doctor(&dir, &["--target", "unknown"]);
    assert_eq!(code, Some(0), "{doc}");
    let text = doc.to_string();
    assert!(
        !text.contains("WF1007") && !text.contains("WF1008"),
        "{doc}"
    );
    session(&dir, &["build", "--target", "unknown"])
        .code(0)
        .stderr_eq(str![[r#"
    Building rust-getrandom-custom (wasm32-unknown-unknown, debug)
...
    Finished `dev` profile [unoptimized + debuginfo] target(s) in [ELAPSED]
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
    let module = dir.join("target/wasmforge/unknown/debug/rust_getrandom_custom.wasm");
    let output = run(wasmforge()
        .arg("run")
        .arg(&module)
        .args(["--invoke", "sum"]));
    assert_eq!(stdout(&output).trim(), "42", "{}", err_of(&output));

    // Without a backend: a warning before cargo, cargo's failure, then the diagnosis, whose fix
    // is not only the browser's `js`.
    std::fs::remove_file(dir.join(".cargo/config.toml")).expect("rm");
    session(&dir, &["build", "--target", "unknown"])
        .code(1)
        .stderr_eq(str![[r#"
warning[WF1008]: getrandom 0.3.4 (required by rust-getrandom-custom 0.1.0) on wasm32-unknown-unknown needs a backend: `getrandom_backend` is not set (`"wasm_js"` with the `wasm_js` feature, or `"custom"`) (the compile will likely fail)
  = fix: in a browser or Node.js: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend="wasm_js"']` in .cargo/config.toml and `getrandom = { version = "0.3", features = ["wasm_js"] }` in Cargo.toml; for another host: `--cfg getrandom_backend="custom"` and an `extern "Rust" fn __getrandom_v03_custom`; or build for wasip1
  = getrandom 0.3 without a backend on wasm32-unknown-unknown: wasmforge explain WF1008
    Building rust-getrandom-custom (wasm32-unknown-unknown, debug)
...
error[WF1008]: getrandom 0.3.4 (required by rust-getrandom-custom 0.1.0) on wasm32-unknown-unknown needs a backend: `getrandom_backend` is not set (`"wasm_js"` with the `wasm_js` feature, or `"custom"`)
  = fix: in a browser or Node.js: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend="wasm_js"']` in .cargo/config.toml and `getrandom = { version = "0.3", features = ["wasm_js"] }` in Cargo.toml; for another host: `--cfg getrandom_backend="custom"` and an `extern "Rust" fn __getrandom_v03_custom`; or build for wasip1
  = getrandom 0.3 without a backend on wasm32-unknown-unknown: wasmforge explain WF1008
error: compiling the Rust project failed (exit status: 101)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}

#[test]
fn go_mod_asking_for_a_newer_go_is_a_fact_said_before_the_build() {
    if !have_go(21) {
        return;
    }
    let (_tmp, dir) = project("go-mod-newer");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, Some(1), "{doc}");
    assert!(doc.to_string().contains("WF2009"), "{doc}");
    // go never ran (nothing downloaded); the fix says how to let go fetch it.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error[WF2009]: go.mod requires go 1.99.0 or newer (line 3), but the installed go is [..]
  --> [CWD]/go.mod:3
  = fix: install Go 1.99 or newer and put it first on PATH; or let go download it (network access to the Go proxy): `GOTOOLCHAIN=go1.99.0+auto wasmforge build`; or lower the `go` line of go.mod if the code allows it
  = go.mod requires a newer Go than the one installed: wasmforge explain WF2009
error: this project cannot build for its target: go.mod requires go 1.99.0 or newer (line 3), but the installed go is [..]
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
}

/// Every fixture: doctor exits 1 exactly when the build fails (same checks, same verdict).
#[test]
fn doctor_and_build_give_the_same_verdict_on_every_fixture() {
    if !have_clang() || !require_rust_targets() || !have_go(21) {
        return;
    }
    let cases: &[(&str, &[&str])] = &[
        ("hello-c", &[]),
        ("hello-go", &[]),
        ("hello-go", &["--target", "unknown"]),
        ("hello-go-lib", &["--target", "wasip2"]),
        ("hello-rust-lib", &["--target", "wasip2"]),
        ("c-ifdef", &[]),
        ("c-socket", &[]),
        ("c-objects", &[]),
        ("go-mod-newer", &[]),
        ("go-broken", &[]),
        ("doctor/c-headers", &[]),
        ("doctor/c-host-header", &[]),
        ("doctor/c-undefined", &[]),
        ("doctor/go-cgo", &[]),
        ("doctor/go-std", &[]),
        ("doctor/rust-no-artifact", &[]),
        ("doctor/rust-new-msrv", &[]),
        ("doctor/rust-healthy-deps", &[]),
        ("rust-getrandom-custom", &["--target", "unknown"]),
    ];
    let mut disagree = Vec::new();
    for (name, args) in cases {
        let (_tmp, dir) = project(name);
        let doctor = run(wasmforge().arg("doctor").arg(&dir).args(*args));
        let build = run(wasmforge().arg("build").arg(&dir).args(*args));
        let doctor_fails = doctor.status.code() == Some(1);
        let build_fails = build.status.code() != Some(0);
        if doctor_fails != build_fails {
            disagree.push(format!(
                "{name} {args:?}: doctor {:?}, build {:?}",
                doctor.status.code(),
                build.status.code()
            ));
        }
    }
    // A folder with both go.mod and C files: neither guesses.
    let (_tmp, dir) = project("hello-go");
    std::fs::write(dir.join("extra.c"), "int main(void) { return 0; }\n").expect("write");
    let doctor = run(wasmforge().arg("doctor").arg(&dir));
    let build = run(wasmforge().arg("build").arg(&dir));
    assert_eq!(
        (doctor.status.code(), build.status.code()),
        (Some(1), Some(1))
    );
    assert!(disagree.is_empty(), "{disagree:#?}");
}

#[test]
fn cmake_builds_take_the_c_settings_of_wasmforge_toml() {
    if !have_clang() || !require(on_path("cmake"), "cmake is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-cmake-flags");
    // Defines reach the compiler as written: a quoted string with a space, a function-like
    // macro (CMake pastes its flags into shell commands).
    let doc = build_ok(&dir, &[]);
    let (code, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!((code, out.trim()), (0, "42\ncustom words 42"));
    // A changed define reconfigures CMake and rebuilds with it.
    let config = dir.join("wasmforge.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, text.replace("FROM_DEFINES=40", "FROM_DEFINES=1")).expect("write");
    let doc = build_ok(&dir, &[]);
    let (_, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!(out.trim(), "3\ncustom words 42");
    // doctor compiles with exactly those flags, and agrees.
    let output = run(wasmforge().arg("doctor").arg(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn make_and_cmake_builds_are_never_stale_across_profiles_and_toolchains() {
    if !have_clang()
        || !have_zig()
        || !require(on_path("make"), "make is not installed")
        || !require(on_path("cmake"), "cmake is not installed")
    {
        return;
    }
    // Make builds in the project folder: after a switch of profile every object is rebuilt.
    let (_tmp, dir) = project("c-make");
    let debug = first_artifact(&build_ok(&dir, &[]));
    // make compiled again, at -O2 (never "up to date").
    session(&dir, &["build", "--release", "--no-opt"])
        .code(0)
        .stderr_eq(str![[r#"
    Building c-make (clang [..], wasip1, release)
make: Entering directory '[CWD]/target/wasmforge/make/clang-wasip1/release/tree'
mkdir -p out
[CWD]/target/wasmforge/make/clang-wasip1/release/cc -O2 main.c -o out/app.wasm 
make: Leaving directory '[CWD]/target/wasmforge/make/clang-wasip1/release/tree'
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
    let release =
        std::fs::read(dir.join("target/wasmforge/wasip1/release/app.wasm")).expect("read");
    assert_ne!(debug, release, "release code, not the debug build's");

    // CMake: each toolchain has its own build folder, and the report names the toolchain that
    // built the bytes.
    let (_tmp, dir) = project("hello-c-cmake");
    let clang_bytes = first_artifact(&build_ok(&dir, &["--toolchain", "clang"]));
    let zig = build_ok(&dir, &["--toolchain", "zig"]);
    assert!(
        zig["toolchain"]
            .as_str()
            .unwrap_or_default()
            .starts_with("zig")
    );
    let zig_bytes = first_artifact(&zig);
    // The producers section names the compiler: clang 16 for one, zig's newer clang for the other.
    let clang_16 = |bytes: &[u8]| bytes.windows(b"16.0.6".len()).any(|w| w == b"16.0.6");
    assert!(clang_16(&clang_bytes), "clang 16 built the first");
    assert!(
        !clang_16(&zig_bytes),
        "zig's build is zig's, not clang's objects relinked"
    );
}

#[test]
fn two_builds_of_one_c_project_at_once_both_succeed() {
    if !have_clang() {
        return;
    }
    for _ in 0..3 {
        let (_tmp, dir) = project("c-multi");
        let spawn = || {
            wasmforge()
                .arg("build")
                .arg(&dir)
                .args(["-j", "1"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let output = child.wait_with_output().expect("wait");
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        }
    }
}

#[test]
fn objects_never_collide_and_link_failures_say_linking() {
    if !have_clang() {
        return;
    }
    // src/a/b.c and src/a__b.c used to become the same object.
    let (_tmp, dir) = project("c-objects");
    let doc = build_ok(&dir, &[]);
    let (code, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!((code, out.trim()), (0, "42"));

    std::fs::write(dir.join("wasmforge.toml"), "[c]\nlibs = [\"readline\"]\n").expect("write");
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
    Building c-objects (clang [..], wasip1, debug)
     Linking c-objects.wasm
wasm-ld-16: error: unable to find library -lreadline
clang: error: linker command failed with exit code 1 (use -v to see invocation)
error[WF3010]: the link asks for `-lreadline`, which the WASI sysroot does not have (a library of the host, not built for WebAssembly)
  = fix: build readline for WebAssembly and point the link at it (`-L`), or leave it out of the WASI build: for Make, override the variable that adds `-lreadline` (e.g. `wasmforge build -- MYLIBS=`); for CMake, turn off the option that needs it
  = the link asks for a library the WASI sysroot does not have: wasmforge explain WF3010
error: linking c-objects.wasm failed (exit status: 1)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}
