//! opt, validate, inspect, strip on real compiler output, and the release pipeline that uses
//! them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::support::*;

/// Builds an example once per test into a temporary copy; returns the copy and the artifact.
fn built(example: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, dir) = project(example);
    let doc = build_ok(&dir, extra);
    let path = PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"));
    (tmp, dir, path)
}

fn wf(args: &[&OsStr]) -> std::process::Output {
    run(wasmforge().args(args))
}

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

#[test]
fn opt_every_level_on_rust_and_c_keeps_behaviour() {
    if !require_rust_targets() || !require(on_path("clang-16"), "clang-16 missing") {
        return;
    }
    let (_t1, _d1, rust) = built("hello-rust", &[]);
    let (_t2, _d2, c) = built("hello-c", &["--toolchain", "clang"]);
    for (module, expected) in [
        (&rust, "Hello, opt! (from Rust, compiled to WebAssembly)"),
        (&c, "Hello, opt! (from C, compiled to WebAssembly)"),
    ] {
        let before = std::fs::metadata(module).expect("meta").len();
        for level in ["-O1", "-O2", "-O3", "-O4", "-Os", "-Oz"] {
            let out = module.with_file_name(format!("out{level}.wasm"));
            let output = wf(&[
                os("opt"),
                os(level),
                module.as_os_str(),
                os("-o"),
                out.as_os_str(),
                os("--format"),
                os("json"),
            ]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{level}: {}",
                stderr(&output)
            );
            let doc = json(&output);
            assert_eq!(doc["before"].as_u64(), Some(before));
            let bytes = std::fs::read(&out).expect("written");
            assert_eq!(doc["after"].as_u64(), Some(bytes.len() as u64));
            assert!(bytes.len() as u64 <= before, "{level} made it bigger");
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&bytes)
                .expect("valid");
            let (code, text) = run_wasip1(&bytes, &["opt"]);
            assert_eq!((code, text.trim()), (0, expected), "{level}");
        }
    }
    // Without -o the output goes beside the input, and the input is untouched.
    let output = wf(&[os("opt"), rust.as_os_str()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(rust.with_file_name("hello-rust.opt.wasm").is_file());
}

#[test]
fn go_output_and_a_module_without_target_features_optimize_with_no_flags() {
    if !require_rust_targets() || !have_go(21) {
        return;
    }
    // Go 1.2x output has no target_features section but uses bulk memory.
    let (_t, _d, go) = built("hello-go", &[]);
    let out = go.with_file_name("go.opt.wasm");
    let output = wf(&[os("opt"), go.as_os_str(), os("-o"), out.as_os_str()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, text) = run_wasip1(&std::fs::read(&out).expect("out"), &["Go"]);
    assert_eq!(
        (code, text.trim()),
        (0, "Hello, Go! (from Go, compiled to WebAssembly)")
    );

    let (_t2, _d2, rust) = built("hello-rust", &["--release", "--no-opt"]);
    let stripped = rust.with_file_name("bare.wasm");
    let output = wf(&[
        os("strip"),
        rust.as_os_str(),
        os("-o"),
        stripped.as_os_str(),
        os("--format"),
        os("json"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let removed: Vec<String> = json(&output)["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        removed.contains(&"target_features".to_string()),
        "{removed:?}"
    );
    let out = rust.with_file_name("bare.opt.wasm");
    let output = wf(&[os("opt"), stripped.as_os_str(), os("-o"), out.as_os_str()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, text) = run_wasip1(&std::fs::read(&out).expect("out"), &["bare"]);
    assert_eq!(
        text.trim(),
        "Hello, bare! (from Rust, compiled to WebAssembly)"
    );
}

#[test]
fn opt_refuses_components_with_a_reason() {
    let component = tempfile::tempdir().expect("tempdir");
    let file = component.path().join("c.wasm");
    std::fs::write(&file, wat::parse_str("(component)").expect("wat")).expect("write");
    let output = wf(&[os("opt"), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Binaryen cannot read components"));
    assert!(stderr(&output).contains("hint: "));
}

#[test]
fn validate_reports_offsets_and_profiles() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let bad_type = write(
        "type.wasm",
        &wat::parse_str("(module (func (result i32) i64.const 1))").expect("wat"),
    );
    let output = wf(&[
        os("validate"),
        bad_type.as_os_str(),
        os("--format"),
        os("json"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    assert_eq!(doc["valid"], false);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("type mismatch")
    );
    let offset = doc["error"]["offset"].as_u64().expect("offset");
    assert!(offset > 8, "{doc}");
    let human = wf(&[os("validate"), bad_type.as_os_str()]);
    assert!(
        stdout(&human).contains(&format!("= {offset})")),
        "{}",
        stdout(&human)
    );

    // Byte edits: a bad section id, and a length that runs past the end.
    let mut good = wat::parse_str("(module (func (export \"f\")))").expect("wat");
    let valid = write("good.wasm", &good);
    assert_eq!(
        wf(&[os("validate"), valid.as_os_str()]).status.code(),
        Some(0)
    );
    good[8] = 0x7f;
    let bad_section = write("section.wasm", &good);
    let output = wf(&[
        os("validate"),
        bad_section.as_os_str(),
        os("--format"),
        os("json"),
    ]);
    let doc = json(&output);
    assert!(
        (8..=10).contains(&doc["error"]["offset"].as_u64().unwrap_or(0)),
        "the bad id's place: {doc}"
    );
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("section id"),
        "{doc}"
    );

    let command = write(
        "cmd.wasm",
        &wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1) (func (export "_start")))"#)
            .expect("wat"),
    );
    for (profile, code) in [
        ("wasip1-command", 0),
        ("wasip1-library", 1),
        ("unknown", 1),
        ("wasip2", 1),
    ] {
        let output = wf(&[
            os("validate"),
            os("--profile"),
            os(profile),
            command.as_os_str(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{profile}: {}",
            stdout(&output)
        );
    }
    let output = wf(&[
        os("validate"),
        os("--max-size"),
        os("10"),
        command.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("over the budget"));
    let output = wf(&[
        os("validate"),
        os("--profile"),
        os("wasip9"),
        command.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// A JSON value as the snapshot files hold it.
fn pretty(value: serde_json::Value) -> String {
    serde_json::to_string_pretty(&value).expect("json") + "\n"
}

#[test]
fn inspect_examples() {
    if !require_rust_targets() || !require(on_path("clang-16"), "clang-16 missing") {
        return;
    }
    // The parts of the report that do not depend on compiler versions.
    let shape = |path: &Path| -> serde_json::Value {
        let output = wf(&[os("inspect"), path.as_os_str(), os("--format"), os("json")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let doc = json(&output);
        let mut imports: Vec<String> = doc["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .map(|i| {
                format!(
                    "{}::{} {} {}",
                    i["module"].as_str().unwrap_or(""),
                    i["name"].as_str().unwrap_or(""),
                    i["kind"].as_str().unwrap_or(""),
                    i["type"].as_str().unwrap_or("")
                )
            })
            .collect();
        imports.sort();
        imports.dedup();
        let exports: Vec<String> = doc["exports"]
            .as_array()
            .expect("exports")
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["name"].as_str().unwrap_or(""),
                    e["kind"].as_str().unwrap_or(""),
                    e["type"].as_str().unwrap_or("")
                )
            })
            .collect();
        let total: u64 = doc["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["size"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            total + 8,
            doc["size"].as_u64().unwrap_or(0),
            "sections add up to the file"
        );
        serde_json::json!({
            "kind": doc["kind"],
            "imports": imports,
            "exports": exports,
            "memories": doc["memories"].as_array().map(Vec::len),
            "features": doc["features"],
            "producers": doc["producers"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            "has_wit": !doc["wit"].is_null(),
        })
    };
    let (_t1, _d1, rust) = built("hello-rust", &["--release"]);
    assert_snapshot("inspect-hello-rust.json", pretty(shape(&rust)));
    let (_t2, _d2, lib) = built("hello-rust-lib", &["--target", "unknown", "--release"]);
    assert_snapshot("inspect-hello-rust-lib-unknown.json", pretty(shape(&lib)));
    let (_t3, _d3, c) = built("hello-c", &["--toolchain", "clang", "--release"]);
    assert_snapshot("inspect-hello-c.json", pretty(shape(&c)));
    let (_t5, _d5, c_lib) = built("hello-c-lib", &["--toolchain", "clang", "--release"]);
    assert_snapshot("inspect-hello-c-lib.json", pretty(shape(&c_lib)));
    if have_go(21) {
        let (_t6, _d6, go) = built("hello-go-lib", &[]);
        assert_snapshot("inspect-hello-go-lib.json", pretty(shape(&go)));
    }
    let (_t4, _d4, component) = built("hello-rust", &["--target", "wasip2", "--release"]);
    let output = wf(&[
        os("inspect"),
        component.as_os_str(),
        os("--format"),
        os("json"),
    ]);
    let doc = json(&output);
    assert_eq!(doc["kind"], "component");
    assert!(
        doc["wit"]
            .as_str()
            .unwrap_or_default()
            .contains("export wasi:cli/run@0.2"),
        "{}",
        doc["wit"]
    );
    let human = wf(&[os("inspect"), component.as_os_str()]);
    assert!(stdout(&human).contains("WIT"));
}

#[test]
fn bad_input_for_every_binary_command() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module =
        wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))").expect("wat");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.wasm", Vec::new()),
        (
            "random.wasm",
            (0..200u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect(),
        ),
        ("truncated.wasm", module[..module.len() - 4].to_vec()),
    ];
    for (name, bytes) in &cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        for command in ["opt", "validate", "inspect", "strip"] {
            let output = wf(&[os(command), path.as_os_str()]);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{command} {name}: {}",
                stderr(&output)
            );
            let text = stderr(&output) + &stdout(&output);
            assert!(!text.contains("panicked"), "{command} {name}");
            assert!(
                text.contains("error") || text.contains("invalid"),
                "{command} {name}: {text}"
            );
        }
    }
    for command in ["opt", "validate", "inspect", "strip"] {
        let output = wf(&[os(command), tmp.path().as_os_str()]);
        assert_eq!(output.status.code(), Some(2), "{command} on a folder");
        let output = wf(&[os(command), tmp.path().join("missing.wasm").as_os_str()]);
        assert_eq!(output.status.code(), Some(2), "{command} on a missing file");
    }
}

#[test]
fn release_builds_are_optimized_validated_and_cached() {
    if !require_rust_targets() || !have_go(21) || !require(on_path("clang-16"), "clang-16 missing")
    {
        return;
    }
    let (_tmp, dir) = project("hello-rust");
    let debug = build_ok(&dir, &[]);
    assert!(
        debug["artifacts"][0]["opt_level"].is_null(),
        "debug builds are not optimized"
    );
    let release = build_ok(&dir, &["--release"]);
    let art = &release["artifacts"][0];
    assert_eq!(art["opt_level"], "Oz");
    assert_eq!(art["validated"], "wasip1-command");
    assert!(
        art["unoptimized_size"].as_u64() > art["size"].as_u64(),
        "{art}"
    );
    let (_, out) = run_wasip1(&first_artifact(&release), &["rel"]);
    assert_eq!(
        out.trim(),
        "Hello, rel! (from Rust, compiled to WebAssembly)"
    );
    // A no-op release build does not run Binaryen again.
    let output = run(wasmforge().arg("build").arg(&dir).arg("--release"));
    assert!(
        stderr(&output).contains("(-Oz, cached)"),
        "{}",
        stderr(&output)
    );
    let plain = build_ok(&dir, &["--release", "--no-opt"]);
    assert!(plain["artifacts"][0]["opt_level"].is_null());
    let o2 = build_ok(&dir, &["--release", "--opt", "O2"]);
    assert_eq!(o2["artifacts"][0]["opt_level"], "O2");

    // wasip2: the core module is optimized before it becomes a component.
    let p2 = build_ok(&dir, &["--release", "--target", "wasip2"]);
    assert_eq!(p2["artifacts"][0]["opt_level"], "Oz");
    assert_eq!(p2["artifacts"][0]["validated"], "wasip2");
    let bytes = first_artifact(&p2);
    assert!(is_component(&bytes));
    let (ok, out) = run_wasip2(&bytes, &["p2"]);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "Hello, p2! (from Rust, compiled to WebAssembly)"
    );

    for (example, extra) in [
        ("hello-c", &["--target", "wasip2"][..]),
        ("hello-go", &["--opt", "O1"]),
    ] {
        let (_t, d) = project(example);
        let doc = build_ok(&d, &[&["--release"][..], extra].concat());
        assert!(
            !doc["artifacts"][0]["opt_level"].is_null(),
            "{example}: {doc}"
        );
        assert!(
            !doc["artifacts"][0]["validated"].is_null(),
            "{example}: {doc}"
        );
    }

    // A size budget in wasmforge.toml fails the release build with the problem named.
    std::fs::write(dir.join("wasmforge.toml"), "[validate]\nmax-size = 100\n").expect("write");
    let output = run(wasmforge().arg("build").arg(&dir).arg("--release"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("over the budget of 100 bytes"),
        "{}",
        stderr(&output)
    );
}
