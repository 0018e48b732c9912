//! `wasmforge new`: every language and kind builds, validates and runs as generated.

use std::path::Path;

use crate::support::*;

fn new_project(parent: &Path, name: &str, args: &[&str]) -> std::process::Output {
    run(wasmforge()
        .current_dir(parent)
        .arg("new")
        .arg(name)
        .args(args))
}

/// The generated files and their contents, for a snapshot.
fn listing(dir: &Path) -> String {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|f| {
            format!(
                "=== {}\n{}",
                f.strip_prefix(dir).expect("inside").display(),
                std::fs::read_to_string(f).expect("text")
            )
        })
        .collect()
}

#[test]
fn every_language_and_kind_builds_validates_and_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cases = vec!["rust"];
    if have_go(24) {
        cases.push("go");
    }
    if have_clang() {
        cases.push("c");
    }
    for lang in cases {
        for kind in ["command", "library"] {
            let name = format!("demo-{lang}-{kind}");
            let output = new_project(tmp.path(), &name, &["--lang", lang, "--kind", kind]);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let dir = tmp.path().join(&name);
            assert!(dir.join(".gitignore").is_file() && dir.join("wasmforge.toml").is_file());
            assert!(dir.join(".github/workflows/wasm.yml").is_file());
            let doc = build_ok(&dir, &[]);
            let artifact = &doc["artifacts"][0];
            // Debug builds are not validated; the artifact fits the profile its kind implies.
            assert_eq!(
                artifact["validated"],
                serde_json::Value::Null,
                "{name}: {doc}"
            );
            let path = artifact["path"].as_str().expect("path");
            let output = run(wasmforge()
                .args(["validate", "--profile", &format!("wasip1-{kind}")])
                .arg(path));
            assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
            let output = if kind == "command" {
                run(wasmforge().arg("run").arg(path).arg("--").arg("Ada"))
            } else {
                run(wasmforge()
                    .args(["run", "--invoke", "add"])
                    .arg(path)
                    .args(["2", "40"]))
            };
            assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
            let expected = if kind == "command" {
                format!("Hello, Ada! (from {name},")
            } else {
                "42".into()
            };
            assert!(
                stdout(&output).contains(&expected),
                "{name}: {}",
                stdout(&output)
            );
            // Every template ships a passing test that `wasmforge test` runs (C: a [[test.case]]
            // of wasmforge.toml).
            let output = run(wasmforge().args(["test", "-q"]).arg(&dir));
            assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
            assert!(
                stderr(&output).contains("ok: 1 passed, 0 failed, 0 ignored"),
                "{name}: {}",
                stderr(&output)
            );
        }
    }
}

#[test]
fn generated_files_and_ci_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let output = new_project(tmp.path(), "hello-app", &["--lang", "rust"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_snapshot(
        "new-rust-command-github.txt",
        listing(&tmp.path().join("hello-app")),
    );
    let output = new_project(
        tmp.path(),
        "plugin",
        &[
            "--lang",
            "c",
            "--kind",
            "library",
            "--ci",
            "gitlab",
            "--name",
            "my-plugin",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_snapshot(
        "new-c-library-gitlab.txt",
        listing(&tmp.path().join("plugin")),
    );
    let output = new_project(tmp.path(), "bare", &["--lang", "go", "--ci", "none"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        !tmp.path().join("bare/.github").exists()
            && !tmp.path().join("bare/.gitlab-ci.yml").exists()
    );

    // The CI files are valid for their CI (the schemas check-jsonschema ships).
    if require(
        on_path("check-jsonschema"),
        "check-jsonschema is not installed",
    ) {
        for (schema, file) in [
            (
                "vendor.github-workflows",
                tmp.path().join("hello-app/.github/workflows/wasm.yml"),
            ),
            ("vendor.gitlab-ci", tmp.path().join("plugin/.gitlab-ci.yml")),
        ] {
            let output = run(std::process::Command::new("check-jsonschema")
                .args(["--builtin-schema", schema])
                .arg(&file));
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: {}",
                file.display(),
                stdout(&output)
            );
        }
    }
}

#[test]
fn refusals() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A folder with something in it.
    std::fs::create_dir_all(tmp.path().join("taken")).expect("mkdir");
    std::fs::write(tmp.path().join("taken/notes.txt"), "mine").expect("write");
    let output = new_project(tmp.path(), "taken", &["--lang", "rust"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not empty") && stderr(&output).contains("--force"));
    assert!(
        !tmp.path().join("taken/Cargo.toml").exists(),
        "nothing written"
    );
    let output = new_project(tmp.path(), "taken", &["--lang", "rust", "--force"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("taken/notes.txt")).expect("kept"),
        "mine"
    );
    // Names each language cannot use.
    for (name, lang) in [
        ("fn", "rust"),
        ("1st", "c"),
        ("MyModule", "go"),
        ("has space", "rust"),
    ] {
        let output = new_project(tmp.path(), "x", &["--lang", lang, "--name", name]);
        assert_eq!(output.status.code(), Some(2), "{name} for {lang}");
        assert!(
            stderr(&output).contains("cannot name"),
            "{}",
            stderr(&output)
        );
    }
    let output = new_project(tmp.path(), "y", &["--lang", "cobol"]);
    assert_eq!(output.status.code(), Some(2));
}
