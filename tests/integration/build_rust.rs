//! `wasmforge build` on real Rust projects with the real toolchain, checked with wasmparser and
//! run in Wasmtime.

use std::path::Path;

use snapbox::str;

use crate::support::*;

#[test]
fn command_for_each_target() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust");

    let doc = build_ok(&dir, &["--target", "wasip1"]);
    let art = &doc["artifacts"][0];
    assert_eq!(doc["artifacts"].as_array().map(Vec::len), Some(1));
    for field in [
        "package", "name", "target", "kind", "encoding", "profile", "path", "size", "sha256",
    ] {
        assert!(!art[field].is_null(), "missing field {field} in {art}");
    }
    assert_eq!(art["package"], "hello-rust");
    assert_eq!(art["target"], "wasip1");
    assert_eq!(art["kind"], "command");
    assert_eq!(art["profile"], "debug");
    let expected = dir.join("target/wasmforge/wasip1/debug/hello-rust.wasm");
    assert_eq!(
        Path::new(art["path"].as_str().unwrap_or_default()),
        expected.canonicalize().expect("exists")
    );
    let bytes = first_artifact(&doc);
    assert!(is_core_module(&bytes));
    assert!(core_exports(&bytes).contains(&"_start".to_string()));
    assert_eq!(art["size"].as_u64(), Some(bytes.len() as u64));
    let (code, out) = run_wasip1(&bytes, &["wasmforge"]);
    assert_eq!(
        (code, out.trim()),
        (0, "Hello, wasmforge! (from Rust, compiled to WebAssembly)")
    );
    let (code, out) = run_under_both_compilers(&doc, &["wasmforge"]);
    assert_eq!(
        (code, out.trim()),
        (
            Some(0),
            "Hello, wasmforge! (from Rust, compiled to WebAssembly)"
        )
    );

    let doc = build_ok(&dir, &["--target", "wasm32-wasip2"]);
    assert_eq!(doc["artifacts"][0]["target"], "wasip2");
    assert_eq!(doc["artifacts"][0]["encoding"], "component");
    let bytes = first_artifact(&doc);
    assert!(is_component(&bytes), "wasip2 output must be a component");
    let (ok, out) = run_wasip2(&bytes, &["component"]);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "Hello, component! (from Rust, compiled to WebAssembly)"
    );
    let (code, out) = run_under_both_compilers(&doc, &["component"]);
    assert_eq!(
        (code, out.trim()),
        (
            Some(0),
            "Hello, component! (from Rust, compiled to WebAssembly)"
        )
    );

    let doc = build_ok(&dir, &["--target", "unknown"]);
    let bytes = first_artifact(&doc);
    assert!(is_core_module(&bytes));
    assert!(
        doc["artifacts"][0]["path"]
            .as_str()
            .unwrap_or_default()
            .contains("/wasmforge/unknown/debug/")
    );
}

#[test]
fn library_exports_its_function_and_refuses_wasip2() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust-lib");
    for target in ["wasip1", "unknown"] {
        let doc = build_ok(&dir, &["--target", target]);
        let art = &doc["artifacts"][0];
        assert_eq!(art["kind"], "library");
        assert_eq!(art["name"], "hello_rust_lib");
        let bytes = first_artifact(&doc);
        assert!(is_core_module(&bytes));
        let exports = core_exports(&bytes);
        assert!(exports.contains(&"add".to_string()), "{exports:?}");
        assert!(
            !exports.contains(&"_start".to_string()),
            "a library has no _start: {exports:?}"
        );
        assert_eq!(call_i32_pair(&bytes, "add", 2, 40), 42);
    }

    session(&dir, &["build", "--target", "wasip2"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF6005]: package `hello-rust-lib` is a library (cdylib) without a WIT world, and a `--target wasip2` component of it would export nothing
hint: give it a world: a `wit/` folder and `wit_bindgen::generate!` (`wasmforge new NAME --lang rust --kind plugin` shows how); or build a core module: `--target wasip1` (`--target unknown` for browsers)
explain: wasmforge explain WF6005

"#]]);
    assert!(
        !dir.join("target/wasmforge/wasip2").exists(),
        "no artifact for a refused build"
    );
}

#[test]
fn release_profile_goes_to_its_own_folder() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    let debug = build_ok(&dir, &[]);
    let release = build_ok(&dir, &["--release"]);
    assert_eq!(release["artifacts"][0]["profile"], "release");
    assert!(
        release["artifacts"][0]["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/wasip1/release/hello-rust.wasm")
    );
    let (debug_size, release_size) = (
        debug["artifacts"][0]["size"].as_u64(),
        release["artifacts"][0]["size"].as_u64(),
    );
    assert!(
        release_size < debug_size,
        "release {release_size:?} should be smaller than debug {debug_size:?}"
    );
}

#[test]
fn workspace_builds_every_wasm_capable_binary_or_the_selected_one() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("rust-workspace");
    let doc = build_ok(&dir, &[]);
    let mut names: Vec<(String, String)> = doc["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_string(),
                a["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    names.sort();
    let expected = [
        ("count", "command"),
        ("greet", "command"),
        ("plugin", "library"),
        ("tool", "command"),
    ];
    assert_eq!(names, expected.map(|(n, k)| (n.to_string(), k.to_string())));

    let doc = build_ok(&dir, &["-p", "app", "--bin", "greet", "-F", "loud"]);
    assert_eq!(doc["artifacts"].as_array().map(Vec::len), Some(1));
    let (_, out) = run_wasip1(&first_artifact(&doc), &[]);
    assert_eq!(
        out.trim(),
        "HELLO FROM GREET",
        "the feature must reach the build"
    );

    // Only Wasm-capable packages: `common` is an rlib.
    session(&dir, &["build", "-p", "common"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF1005]: no WebAssembly-capable target in package `common`
hint: a WebAssembly artifact comes from a binary (src/main.rs or [[bin]]) or a library with `crate-type = ["cdylib"]` under [lib] in Cargo.toml
explain: wasmforge explain WF1005

"#]]);
    session(&dir, &["build", "-p", "app", "--bin", "nope"])
        .code(2)
        .stderr_eq(str![[r#"
error: binary `nope` is not in this workspace
hint: available: [..]

"#]]);
    session(&dir, &["build", "-p", "ghost"])
        .code(2)
        .stderr_eq(str![[r#"
error: package `ghost` is not in this workspace
hint: available: app, common, plugin, tool

"#]]);
}

#[test]
fn project_config_rustflags_and_extra_cargo_args_are_respected() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("rust-workspace");
    std::fs::create_dir_all(dir.join(".cargo")).expect("mkdir");
    std::fs::write(
        dir.join(".cargo/config.toml"),
        "[build]\ntarget-dir = \"out\"\n",
    )
    .expect("config");
    let output = run(wasmforge()
        .arg("build")
        .arg(dir.join("app"))
        .args(["--bin", "greet", "--format", "json", "--", "-v"])
        .env("RUSTFLAGS", "--cfg wasmforge_test_cfg"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    let path = doc["artifacts"][0]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        path.contains("/out/wasmforge/wasip1/debug/"),
        "target-dir from .cargo/config.toml: {path}"
    );
    let (_, out) = run_wasip1(&std::fs::read(&path).expect("read"), &[]);
    assert!(out.contains("rustflags reached the compiler"), "{out}");
    // `-v` after `--` went to cargo, which then shows the rustc command lines.
    assert!(
        stderr(&output).contains("Running `") && stderr(&output).contains("rustc"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_target_fails_before_cargo_with_the_rustup_command() {
    let _nightly = nightly_lock();
    // A real toolchain without Wasm targets: CI installs `nightly` without them.
    let nightly = ["nightly"].into_iter().find(|name| {
        let sysroot = std::process::Command::new("rustc")
            .arg(format!("+{name}"))
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        sysroot.is_some_and(|s| s.is_dir() && !s.join("lib/rustlib/wasm32-wasip1").exists())
    });
    if !require(
        nightly.is_some(),
        "no installed toolchain lacks wasm32-wasip1 (CI installs nightly without it)",
    ) {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    std::fs::write(
        dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"nightly\"\n",
    )
    .expect("write");
    // The code, where the toolchain came from, and the exact rustup command.
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
error[WF1001]: the Rust target `wasm32-wasip1` is not installed for toolchain `nightly-x86_64-unknown-linux-gnu` (from [CWD]/rust-toolchain.toml)
hint: rustup target add wasm32-wasip1 --toolchain nightly-x86_64-unknown-linux-gnu
explain: wasmforge explain WF1001

"#]]);
    assert!(!dir.join("target").exists(), "cargo must not have run");

    std::fs::write(
        dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.61.0\"\n",
    )
    .expect("write");
    session(&dir, &["build", "--target", "wasip2"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF1002]: the Rust toolchain `1.61.0` (from [CWD]/rust-toolchain.toml) is not installed
hint: rustup toolchain install 1.61.0 --target wasm32-wasip2
explain: wasmforge explain WF1002

"#]]);
}

#[test]
fn compile_error_shows_cargos_message_and_writes_no_artifact() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() {\n    let x: u32 = \"text\";\n}\n",
    )
    .expect("write");
    session(&dir, &["build"]).code(1).stderr_eq(str![[r#"
    Building hello-rust (wasm32-wasip1, debug)
...
   Compiling hello-rust v0.1.0 ([CWD])
error[E0308]: mismatched types
 --> src/main.rs:2:18
  |
2 |     let x: u32 = "text";
  |            ---   ^^^^^^ expected `u32`, found `&str`
  |            |
  |            expected due to this

For more information about this error, try `rustc --explain E0308`.
error: could not compile `hello-rust` (bin "hello-rust") due to 1 previous error
error: compiling the Rust project failed (exit status: 101)
hint: fix the compiler errors above, then build again

"#]]);
    assert!(!dir.join("target/wasmforge").exists());
}

#[test]
fn not_a_project_and_missing_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    session(tmp.path(), &["build"]).code(1).stderr_eq(str![[r#"
error: `[CWD]` is not a project wasmforge can build
hint: wasmforge builds Rust (Cargo.toml), Go (go.mod) and C projects (CMakeLists.txt, a Makefile or .c files); point it at the project's folder

"#]]);

    let output = run(wasmforge()
        .arg("build")
        .arg(tmp.path().join("missing"))
        .args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(2));
    let doc = json(&output);
    assert_eq!(doc["error"]["exit_code"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not exist")
    );
}

#[test]
fn progress_bar_on_a_terminal_plain_lines_in_ci_nothing_when_quiet() {
    if !require_rust_targets()
        || !require(
            Path::new("/usr/bin/script").exists(),
            "util-linux `script` (a pty) missing",
        )
    {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    let bin = env!("CARGO_BIN_EXE_wasmforge");
    // `script` gives wasmforge a pseudo-terminal, as a user's shell would.
    let line = format!("{bin} build '{}'", dir.display());
    let output = run(std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CI"));
    let tty = stdout(&output);
    assert!(output.status.success(), "{tty}");
    assert!(tty.contains("] 1/1"), "a bar counting crates: {tty}");
    assert!(
        !tty.contains("Compiling hello-rust"),
        "the bar replaces cargo's status lines: {tty}"
    );

    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"changed\"); }\n",
    )
    .expect("write");
    let output = run(wasmforge().arg("build").arg(&dir).env("CI", "true"));
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("Compiling hello-rust"),
        "plain lines in CI"
    );
    assert!(!stderr(&output).contains("] 1/1"));

    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"changed again\"); }\n",
    )
    .expect("write");
    let output = run(wasmforge().arg("build").arg(&dir).arg("-q"));
    assert!(output.status.success());
    assert_eq!(stderr(&output).trim(), "", "--quiet prints no status");
    assert!(stdout(&output).contains("sha256"), "but still the data");
}

#[test]
fn cached_plan_follows_project_changes() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    let names = |doc: &serde_json::Value| -> Vec<String> {
        let mut names: Vec<String> = doc["artifacts"]
            .as_array()
            .expect("artifacts")
            .iter()
            .map(|a| a["name"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&build_ok(&dir, &[])), ["hello-rust"]);
    // A no-op build reuses the cached plan and digest; they must still be right.
    let again = build_ok(&dir, &[]);
    let path = again["artifacts"][0]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        again["artifacts"][0]["sha256"].as_str(),
        Some(sha256_of(&path).as_str())
    );

    // A new binary discovered by cargo (src/bin) invalidates the plan.
    std::fs::create_dir_all(dir.join("src/bin")).expect("mkdir");
    std::fs::write(dir.join("src/bin/extra.rs"), "fn main() {}\n").expect("write");
    assert_eq!(names(&build_ok(&dir, &[])), ["extra", "hello-rust"]);

    // A deleted artifact is published again; a changed program gets a new digest.
    std::fs::remove_file(&path).expect("rm");
    let doc = build_ok(&dir, &["--bin", "hello-rust"]);
    assert!(Path::new(&path).is_file());
    let before = doc["artifacts"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"v2\"); }\n").expect("write");
    let doc = build_ok(&dir, &["--bin", "hello-rust"]);
    let after = doc["artifacts"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(before, after);
    assert_eq!(after, sha256_of(&path));
    let (_, out) = run_wasip1(&std::fs::read(&path).expect("read"), &[]);
    assert_eq!(out.trim(), "v2");

    // Switching the package to a library-only one is noticed too.
    std::fs::remove_dir_all(dir.join("src/bin")).expect("rm");
    std::fs::remove_file(dir.join("src/main.rs")).expect("rm");
    std::fs::write(
        dir.join("src/lib.rs"),
        "#[unsafe(no_mangle)] pub extern \"C\" fn f() -> i32 { 7 }\n",
    )
    .expect("w");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("read");
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest.replace(
            "[workspace]",
            "[lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]",
        ),
    )
    .expect("write");
    let doc = build_ok(&dir, &[]);
    assert_eq!(doc["artifacts"][0]["kind"], "library");
}

fn sha256_of(path: &str) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn wasip2_release_keeps_the_projects_build_rustflags() {
    if !require_rust_targets() {
        return;
    }
    // wasmforge adds a target-level rustflag for wasip2 release builds (to optimize the core
    // module before componentizing); cargo ignores `build.rustflags` once a target-level entry
    // exists, so wasmforge carries them over.
    let (_tmp, dir) = project("rust-build-rustflags");
    for extra in [
        &["--target", "wasip2", "--release"][..],
        &["--target", "wasip1"][..],
    ] {
        let doc = build_ok(&dir, extra);
        let wasm = doc["artifacts"][0]["path"]
            .as_str()
            .expect("path")
            .to_string();
        let output = run(wasmforge().arg("run").arg(&wasm));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            stdout(&output).trim(),
            "build.rustflags: applied",
            "{extra:?}"
        );
    }
}

#[test]
fn cargos_own_build_target_is_the_projects_unless_a_flag_says_otherwise() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    std::fs::create_dir_all(dir.join(".cargo")).expect("mkdir");
    std::fs::write(
        dir.join(".cargo/config.toml"),
        "[build]\ntarget = \"wasm32-wasip2\"\n",
    )
    .expect("write");
    // As cargo would: a component, and the build says where the target came from.
    let output = run(wasmforge().args(["--format", "json", "build"]).arg(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["artifacts"][0]["target"], "wasip2", "{doc}");
    assert_eq!(doc["artifacts"][0]["encoding"], "component", "{doc}");
    assert!(
        stderr(&output)
            .contains("Target wasip2 (.cargo/config.toml [build] target = `wasm32-wasip2`)"),
        "{}",
        stderr(&output)
    );
    // --target wins, and says what it overrode.
    let output = run(wasmforge()
        .args(["--format", "json", "build", "--target", "wasip1"])
        .arg(&dir));
    assert_eq!(json(&output)["artifacts"][0]["target"], "wasip1");
    assert!(
        stderr(&output).contains(
            "Target wasip1 (--target; .cargo/config.toml [build] target says `wasm32-wasip2`)"
        ),
        "{}",
        stderr(&output)
    );
    // CARGO_BUILD_TARGET beats the file, as for cargo; a native triple is said, not obeyed.
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&dir)
        .env("CARGO_BUILD_TARGET", "wasm32-wasip1"));
    assert_eq!(json(&output)["artifacts"][0]["target"], "wasip1");
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&dir)
        .env("CARGO_BUILD_TARGET", "x86_64-unknown-linux-gnu"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["artifacts"][0]["target"], "wasip1");
    assert!(
        stderr(&output).contains("is not a WebAssembly target; choose one with --target"),
        "{}",
        stderr(&output)
    );
    // doctor checks the build cargo's settings ask for.
    let output = run(wasmforge().args(["--format", "json", "doctor"]).arg(&dir));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&output)["project"]["target"], "wasip2");
}

#[test]
fn rust_crates_with_c_inside_get_the_c_toolchain_for_wasip1_and_wasip2() {
    if !require_rust_targets() || !have_clang() {
        return;
    }
    // zstd-sys compiles zstd's C through cc-rs: wasmforge's C toolchain (compiler, its own
    // target and sysroot, archiver) reaches it through CC_/CFLAGS_/AR_<target>.
    let (_tmp, dir) = project("rust-zstd");
    let input: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 % 7)
        .collect();
    for target in ["wasip1", "wasip2"] {
        let doc = build_ok(&dir, &["--target", target]);
        assert_eq!(doc["artifacts"][0]["target"], target);
        let output = run_with_stdin(
            wasmforge()
                .args(["run", "-q", "--target", target])
                .arg(&dir),
            &input,
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{target}: {}",
            stderr(&output)
        );
        let said = stdout(&output);
        assert!(
            said.starts_with("1048576 -> ") && said.trim_end().ends_with("bytes, round trip ok"),
            "{target}: {said}"
        );
    }
}

#[test]
fn simd_on_request_for_rust_and_c_and_refused_for_go() {
    if !require_rust_targets() || !have_clang() {
        return;
    }
    // Each program says whether it was compiled with WebAssembly SIMD; validate names it.
    for (fixture, extra) in [
        ("rust-simd", &[][..]),
        ("c-simd", &["--toolchain", "clang"][..]),
    ] {
        let (_tmp, dir) = project(fixture);
        let plain = build_ok(&dir, extra);
        assert_eq!(
            run_wasip1(&first_artifact(&plain), &[]).1.trim(),
            "scalar 36"
        );
        let mut args = extra.to_vec();
        args.push("--simd");
        let simd = build_ok(&dir, &args);
        let path = simd["artifacts"][0]["path"]
            .as_str()
            .expect("path")
            .to_string();
        assert_eq!(run_wasip1(&first_artifact(&simd), &[]).1.trim(), "simd 36");
        let output = run(wasmforge()
            .args(["--format", "json", "validate"])
            .arg(&path));
        let uses = json(&output)["features"].clone();
        assert!(
            uses.as_array()
                .is_some_and(|f| f.iter().any(|x| x == "simd")),
            "{fixture}: {uses}"
        );
        // `[build] simd = true` says the same.
        std::fs::write(dir.join("wasmforge.toml"), "[build]\nsimd = true\n").expect("write");
        let configured = build_ok(&dir, extra);
        assert_eq!(
            run_wasip1(&first_artifact(&configured), &[]).1.trim(),
            "simd 36"
        );
    }
    let (_g, go) = project("hello-go");
    session(&go, &["build", "--simd"]).code(2).stderr_eq(str![[r#"
error[WF6001]: --simd does not apply to Go projects: it is for Rust and C
hint: build without it: Go's compiler writes no WebAssembly SIMD (GOWASM knows only satconv and signext)
explain: wasmforge explain WF6001

"#]]);
}

#[test]
fn crates_with_no_code_for_wasi_are_named_from_the_compilers_evidence() {
    if !require_rust_targets() {
        return;
    }
    // Three small crates without WASI code, each in its own way, and the real ctrlc (issue 27).
    let (_tmp, dir) = project("rust-targetless");
    // Before compiling: doctor finds the crate the table knows, with its way out.
    let output = run(wasmforge().args(["doctor", "--format", "json"]).arg(&dir));
    let doc = json(&output);
    let deps = doctor_check(&doc, "dependencies");
    let said = deps.to_string();
    assert!(
        said.contains("WF1016")
            && said.contains(
                "ctrlc 3.5.3 (required by rust-targetless 0.1.0) has no code for wasm32-wasip1"
            ),
        "{doc}"
    );
    assert_eq!(output.status.code(), Some(1), "{doc}");
    for target in ["wasip1", "wasip2"] {
        let triple = format!("wasm32-{target}");
        // `--keep-going`: cargo reaches every crate, whichever fails first.
        let output = run(wasmforge()
            .args(["build", "--target", target])
            .arg(&dir)
            .args(["--", "--keep-going"]));
        assert_eq!(output.status.code(), Some(1));
        let err = stderr(&output);
        let said = |needle: &str| {
            assert!(
                err.lines()
                    .any(|l| l.starts_with("error[WF1016]") && l.contains(needle)),
                "{target}: no WF1016 with `{needle}`:\n{err}"
            );
        };
        said(&format!(
            "unixonly 0.1.0 has no code for {triple}: `home_dir` is configured out: rustc says it is gated by `cfg(any(unix, windows))`"
        ));
        said(&format!(
            "nowasm 0.1.0 has no code for {triple}: it stops the build itself: compile_error!(\"Neither cfg(unix) nor cfg(windows) was set\") — pulled in by rust-targetless 0.1.0 through its feature `legacy` (on by default)"
        ));
        said(&format!(
            "gated 0.1.0 has no code for {triple}: it enables `#![feature(wasi_ext)]`"
        ));
        said(&format!(
            "ctrlc 3.5.3 (required by rust-targetless 0.1.0) has no code for {triple}: WASI has no signals"
        ));
        // Each with its way out: the table's for ctrlc, the command that finds who pulls it in.
        assert!(err.contains("its `ctrlc::set_handler` call under"), "{err}");
        // And whether a newer release exists, from the registry's index.
        assert!(
            err.contains("ctrlc 3.5.3 is the newest on crates.io")
                || err.contains("crates.io has a newer ctrlc"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "cargo tree -i nowasm -e features --target {triple}"
            )),
            "{err}"
        );
        assert!(!err.contains("fix the compiler errors above"), "{err}");
    }
    // The feature the diagnosis names drops the crate: that one is no longer said.
    let output = run(wasmforge()
        .args(["build", "--no-default-features"])
        .arg(&dir)
        .args(["--", "--keep-going"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !stderr(&output).contains("nowasm 0.1.0 has no code"),
        "{}",
        stderr(&output)
    );
}
