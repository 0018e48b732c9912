//! Small by default: release builds drop DWARF, `--size` builds are as small as the toolchain
//! allows and behave the same, `opt` follows Binaryen's conventions, and where the bytes are is
//! reported.

use std::path::Path;
use std::sync::OnceLock;

use crate::support::*;

/// Custom sections of a module (nested modules' too).
fn customs(bytes: &[u8]) -> Vec<String> {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .filter_map(|p| match p {
            Ok(wasmparser::Payload::CustomSection(c)) => Some(c.name().to_string()),
            _ => None,
        })
        .collect()
}

fn has_dwarf(bytes: &[u8]) -> bool {
    customs(bytes).iter().any(|n| n.starts_with(".debug_"))
}

/// examples/hello-rust built once in release and once with --size (one copy: the second build
/// must not reuse the first's output).
struct RustBuilds {
    _dir: tempfile::TempDir,
    release: serde_json::Value,
    release_bytes: Vec<u8>,
    size: serde_json::Value,
    size_bytes: Vec<u8>,
    size_stderr: String,
}

fn rust_builds() -> Option<&'static RustBuilds> {
    static BUILT: OnceLock<Option<RustBuilds>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !require_rust_targets() {
                return None;
            }
            let (dir, path) = project("hello-rust");
            let release = build_ok(&path, &["--release"]);
            let release_bytes = first_artifact(&release);
            let output = run(wasmforge().arg("build").arg(&path).args([
                "--release",
                "--size",
                "--format",
                "json",
            ]));
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let size = json(&output);
            let size_bytes = first_artifact(&size);
            Some(RustBuilds {
                _dir: dir,
                release,
                release_bytes,
                size,
                size_bytes,
                size_stderr: stderr(&output),
            })
        })
        .as_ref()
}

#[test]
fn rust_release_keeps_names_and_size_drops_them_and_runs_the_same() {
    let Some(b) = rust_builds() else { return };
    assert!(!has_dwarf(&b.release_bytes));
    assert!(
        customs(&b.release_bytes).contains(&"name".to_string()),
        "release keeps the name section (strip = debuginfo)"
    );
    assert!(!customs(&b.size_bytes).contains(&"name".to_string()));
    assert!(
        b.size_bytes.len() < b.release_bytes.len(),
        "--size {} vs release {}",
        b.size_bytes.len(),
        b.release_bytes.len()
    );
    let (code_r, out_r) = run_wasip1(&b.release_bytes, &[]);
    let (code_s, out_s) = run_wasip1(&b.size_bytes, &[]);
    assert_eq!((code_r, &out_r), (code_s, &out_s));
    assert!(out_r.contains("Hello"), "{out_r}");
    // What --size set, and what the project's own profile kept.
    assert!(
        b.size_stderr.contains("lto = \"fat\"") && b.size_stderr.contains("codegen-units = 1"),
        "{}",
        b.size_stderr
    );
    let artifact = &b.size["artifacts"][0];
    assert_eq!(artifact["opt_level"], "Oz");
    assert!(
        artifact["compiled_size"].as_u64().unwrap_or(0)
            > artifact["size"].as_u64().unwrap_or(u64::MAX)
    );
}

#[test]
fn the_build_report_says_where_the_bytes_are() {
    let Some(b) = rust_builds() else { return };
    let artifact = &b.release["artifacts"][0];
    let breakdown = &artifact["breakdown"];
    let total = breakdown["total"].as_u64().expect("total");
    assert_eq!(total, artifact["size"].as_u64().expect("size"));
    let custom: u64 = breakdown["custom"]
        .as_array()
        .expect("custom")
        .iter()
        .map(|p| p["size"].as_u64().unwrap_or(0))
        .sum();
    let parts = breakdown["code"].as_u64().unwrap_or(0)
        + breakdown["data"].as_u64().unwrap_or(0)
        + custom
        + breakdown["other"].as_u64().unwrap_or(0);
    assert_eq!(parts, total);
    let largest = breakdown["largest"].as_array().expect("largest");
    assert!(!largest.is_empty());
    // Names come from the name section, demangled: the program's own main is among them.
    let names: Vec<&str> = largest.iter().filter_map(|f| f["name"].as_str()).collect();
    assert!(names.iter().any(|n| n.contains("::")), "{names:?}");
    let sizes: Vec<u64> = largest.iter().filter_map(|f| f["size"].as_u64()).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {sizes:?}"
    );
}

#[test]
fn inspect_top_lists_the_largest_functions() {
    let Some(b) = rust_builds() else { return };
    // The --size build wrote over the release artifact's path: inspect the release bytes.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("release.wasm");
    std::fs::write(&file, &b.release_bytes).expect("write");
    let path = file.to_str().expect("utf-8 path");
    let output = run(wasmforge().args(["inspect", "--top", "3", path]));
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("where the bytes are") && text.contains("largest functions (3 of"),
        "{text}"
    );
    let output = run(wasmforge().args(["--format", "json", "inspect", "--top", "3", path]));
    let doc = json(&output);
    assert_eq!(
        doc["breakdown"]["largest"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        doc["breakdown"]["largest"],
        b.release["artifacts"][0]["breakdown"]["largest"]
            .as_array()
            .map(|a| serde_json::Value::Array(a[..3].to_vec()))
            .unwrap_or_default(),
        "build and inspect agree"
    );
}

/// The C examples: the sysroot's DWARF is dropped in release builds, optimized or not.
#[test]
fn c_release_artifacts_carry_no_dwarf_and_size_runs_the_same() {
    if !require(clang_works(), "clang with wasm-ld and a WASI sysroot") {
        return;
    }
    let (_dir, path) = project("hello-c");
    let debug = first_artifact(&build_ok(&path, &[]));
    assert!(has_dwarf(&debug), "debug builds keep everything");
    let unoptimized = build_ok(&path, &["--release", "--no-opt"]);
    assert!(!has_dwarf(&first_artifact(&unoptimized)));
    assert_eq!(unoptimized["artifacts"][0]["stripped"], "debuginfo");
    let kept = first_artifact(&build_ok(
        &path,
        &["--release", "--no-opt", "--strip", "none"],
    ));
    assert!(has_dwarf(&kept), "--strip none keeps DWARF");
    let release = first_artifact(&build_ok(&path, &["--release"]));
    let size = first_artifact(&build_ok(&path, &["--release", "--size"]));
    assert!(!has_dwarf(&release) && !has_dwarf(&size));
    assert!(
        size.len() <= release.len(),
        "{} vs {}",
        size.len(),
        release.len()
    );
    let (code_r, out_r) = run_wasip1(&release, &[]);
    assert_eq!(run_wasip1(&size, &[]), (code_r, out_r.clone()));
    assert!(out_r.contains("Hello"), "{out_r}");
}

#[test]
fn size_is_for_release_builds_and_settings_are_checked() {
    let (_dir, path) = project("hello-rust");
    session(&path, &["build", "--size"])
        .code(2)
        .stderr_eq(snapbox::str![[r#"
error[WF6002]: --size shrinks release artifacts, and this is not a release build
hint: add --release: `wasmforge build --release --size`
explain: wasmforge explain WF6002

"#]]);
    session(&path, &["build", "--strip", "all"]).code(2).stderr_eq(snapbox::str![[r#"
error: invalid value 'all' for '--strip <LEVEL>': `all` is not a strip level: use none, debuginfo or symbols

For more information, try '--help'.

"#]]);
    std::fs::write(path.join("wasmforge.toml"), "[build]\nstrip = \"all\"\n").expect("write");
    let output = run(wasmforge().arg("build").arg(&path));
    assert_ne!(output.status.code(), Some(0));
    let text = stderr(&output);
    assert!(
        text.contains("debuginfo") && text.contains("symbols"),
        "{text}"
    );
}

/// A module from a real compiler with its name section, and no DWARF.
fn rust_module(dir: &Path) -> Option<std::path::PathBuf> {
    let b = rust_builds()?;
    let path = dir.join("in.wasm");
    // The release artifact keeps its names: the input wasm-opt and `opt` both get.
    std::fs::write(&path, &b.release_bytes).expect("write");
    Some(path)
}

/// `opt` drops names and DWARF unless -g, as `wasm-opt` does, and is never larger than Debian's
/// `wasm-opt` (Binaryen 108) on the same input with the same flags.
#[test]
fn opt_is_no_larger_than_wasm_opt_and_follows_its_conventions() {
    if !require(on_path("wasm-opt"), "Debian's binaryen (wasm-opt)") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = rust_module(dir.path()) else {
        return;
    };
    let ours = dir.path().join("ours.wasm");
    let theirs = dir.path().join("theirs.wasm");
    let output = run(wasmforge()
        .args(["--format", "json", "opt", "-Oz"])
        .arg(&input)
        .arg("-o")
        .arg(&ours));
    assert_eq!(output.status.code(), Some(0));
    let features: Vec<String> = json(&output)["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f.as_str().map(|f| format!("--enable-{f}")))
        .collect();
    let status = std::process::Command::new("wasm-opt")
        .arg("-Oz")
        .args(&features)
        .arg(&input)
        .arg("-o")
        .arg(&theirs)
        .status()
        .expect("wasm-opt");
    assert!(status.success());
    let (ours_bytes, theirs_bytes) = (
        std::fs::read(&ours).expect("ours"),
        std::fs::read(&theirs).expect("theirs"),
    );
    assert!(
        ours_bytes.len() <= theirs_bytes.len(),
        "opt -Oz {} bytes, wasm-opt -Oz {} bytes",
        ours_bytes.len(),
        theirs_bytes.len()
    );
    assert!(!customs(&ours_bytes).contains(&"name".to_string()));
    // -g keeps the names.
    let kept = dir.path().join("kept.wasm");
    let output = run(wasmforge()
        .args(["opt", "-g", "-Oz"])
        .arg(&input)
        .arg("-o")
        .arg(&kept));
    assert_eq!(output.status.code(), Some(0));
    assert!(customs(&std::fs::read(&kept).expect("kept")).contains(&"name".to_string()));
}

/// DWARF goes with `opt` (and with `--strip-debug`, kept for old scripts); `-g` keeps it.
#[test]
fn opt_drops_dwarf_unless_asked() {
    if !require(clang_works(), "clang with wasm-ld and a WASI sysroot") {
        return;
    }
    let (_dir, path) = project("hello-c");
    let doc = build_ok(&path, &[]);
    let debug = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path")
        .to_string();
    assert!(has_dwarf(&std::fs::read(&debug).expect("read")));
    for flags in [&["-O1"][..], &["-O1", "--strip-debug"]] {
        let out = path.join("o.wasm");
        let output = run(wasmforge()
            .arg("opt")
            .args(flags)
            .arg(&debug)
            .arg("-o")
            .arg(&out));
        assert_eq!(output.status.code(), Some(0));
        let bytes = std::fs::read(&out).expect("out");
        assert!(!has_dwarf(&bytes), "{flags:?}");
        assert!(stdout(&output).contains("smaller"), "{}", stdout(&output));
    }
    let out = path.join("g.wasm");
    let output = run(wasmforge()
        .args(["opt", "-O1", "-g"])
        .arg(&debug)
        .arg("-o")
        .arg(&out));
    assert_eq!(output.status.code(), Some(0));
    assert!(has_dwarf(&std::fs::read(&out).expect("out")));
}

/// A tiny module without names is not given any, and a GC module optimizes (the features a
/// detected feature needs are enabled with it).
#[test]
fn opt_invents_nothing_and_takes_gc_modules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tiny = dir.path().join("tiny.wat");
    std::fs::write(
        &tiny,
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
             (memory (export "memory") 1)
             (global (mut i32) (i32.const 0))
             (func (export "_start") (local i32) i32.const 3 call 0)
             (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    )
    .expect("write");
    let before = wat::parse_file(&tiny).expect("wat").len();
    for flags in [&["-Oz"][..], &["-Oz", "-g"]] {
        let out = dir.path().join("tiny.opt.wasm");
        let output = run(wasmforge()
            .arg("opt")
            .args(flags)
            .arg(&tiny)
            .arg("-o")
            .arg(&out));
        assert_eq!(output.status.code(), Some(0));
        let bytes = std::fs::read(&out).expect("out");
        assert!(
            bytes.len() <= before,
            "{flags:?}: {} > {before}",
            bytes.len()
        );
        assert!(!customs(&bytes).contains(&"name".to_string()), "{flags:?}");
        assert!(
            !stdout(&output).contains("(-"),
            "no negative percentages: {}",
            stdout(&output)
        );
    }
    let gc = dir.path().join("gc.wat");
    std::fs::write(
        &gc,
        r#"(module
             (type $point (struct (field $x (mut i32))))
             (func (export "make") (param i32) (result i32)
               (struct.get $point $x (struct.new $point (local.get 0)))))"#,
    )
    .expect("write");
    let out = dir.path().join("gc.opt.wasm");
    let output = run(wasmforge().arg("opt").arg(&gc).arg("-o").arg(&out));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bytes = std::fs::read(&out).expect("out");
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .expect("valid");
}
