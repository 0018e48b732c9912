//! Every flag, key, exit code and message tells the truth: flags a language does not take are
//! refused, paths that do not exist are usage errors (exit 2), every failure reaches the JSON
//! error document, `-v` shows every command and `-q` quiets the build tools.

use std::path::{Path, PathBuf};

use serde_json::Value;
use snapbox::{IntoData as _, str};

use crate::support::*;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Writes each `(relative path, text)` under `dir`.
fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        write(&dir.join(path), text);
    }
}

fn artifacts(doc: &Value) -> Vec<Value> {
    doc["artifacts"].as_array().cloned().unwrap_or_default()
}

/// The artifacts' names, in the report's order.
fn names(doc: &Value) -> Vec<String> {
    artifacts(doc)
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn missing_paths_and_folders_are_usage_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        &tmp.path().join("ok.wat"),
        "(module (func (export \"_start\")))",
    );
    std::fs::create_dir(tmp.path().join("folder")).expect("mkdir");
    session(tmp.path(), &["run", "--dir", "/missing", "ok.wat"])
        .code(2)
        .stderr_eq(str![[r#"
error: --dir /missing: `/missing` is not a folder on this machine
hint: grant a folder that exists (`mkdir` it first for the guest to write in)

"#]]);
    session(
        tmp.path(),
        &[
            "pull",
            "--ca-file",
            "/nope.pem",
            "127.0.0.1:9/x:1",
            "-o",
            "x.wasm",
        ],
    )
    .code(2)
    .stderr_eq(str![[r#"
error: --ca-file `/nope.pem`: no such file
hint: give the path of a PEM certificate file (`-----BEGIN CERTIFICATE-----`)

"#]]);
    for command in ["inspect", "validate", "opt", "strip", "precompile"] {
        session(tmp.path(), &[command, "folder"])
            .code(2)
            .stderr_eq(str![[r#"
error: `folder` is a folder, not a module
hint: give a .wasm (or .wat) file; `wasmforge build` makes one from a project folder

"#]]);
    }

    // Toolchains and profiles a language does not have.
    let (_c, c) = project("hello-c");
    session(
        c.parent().expect("parent"),
        &["build", "hello-c", "--toolchain", "go"],
    )
    .code(2)
    .stderr_eq(str![[r#"
error[WF6004]: --toolchain `go` (a Go toolchain) is not a C toolchain
hint: C builds with `wasi-sdk`, `clang` or `zig`
explain: wasmforge explain WF6004

"#]]);
    session(
        c.parent().expect("parent"),
        &["build", "hello-c", "--profile", "tiny"],
    )
    .code(2)
    .stderr_eq(str![[r#"
error[WF6001]: --profile tiny does not apply to C projects: it is for Rust (Cargo profiles)
hint: Go and C build debug or release: use --release, or no profile flag
explain: wasmforge explain WF6001

"#]]);
    let (_g, go) = project("go-multi");
    let parent = go.parent().expect("parent");
    session(parent, &["build", "go-multi", "--toolchain", "zig"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6004]: --toolchain `zig` (a C toolchain) is not a Go toolchain
hint: Go builds with `go` or `tinygo`
explain: wasmforge explain WF6004

"#]]);
    if have_go(21) {
        session(parent, &["build", "go-multi", "-p", "./cmd/nope"])
            .code(2)
            .stderr_eq(str![[r#"
error: Go package `./cmd/nope` is not in this workspace
hint: available: ./cmd/a, ./cmd/b

"#]]);
    }
}

#[test]
fn each_flag_works_for_its_language_or_is_refused() {
    let (_r, rust) = project("hello-rust");
    let parent = rust.parent().expect("parent").to_path_buf();
    session(&parent, &["build", "hello-rust", "--kind", "library"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6001]: --kind does not apply to Rust projects: it is for Go and C
hint: a Rust package's kind is in Cargo.toml: a binary (src/main.rs, [[bin]]) is a command, `[lib] crate-type = ["cdylib"]` a library; choose with --bin or -p
explain: wasmforge explain WF6001

"#]]);
    session(&parent, &["build", "hello-rust", "--toolchain", "zig"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6004]: --toolchain `zig` (a C toolchain) is not a rustup toolchain
hint: for Rust, --toolchain selects a rustup toolchain as `cargo +NAME` does: stable, nightly, 1.82.0 (`rustup toolchain list` shows what is installed)
explain: wasmforge explain WF6004

"#]]);
    if require_rust_targets() {
        // `--toolchain` is `cargo +NAME`: nightly (installed without Wasm targets) is the one
        // used, and its missing target is the diagnosis.
        let _nightly = nightly_lock();
        let output = run(wasmforge()
            .arg("build")
            .arg(&rust)
            .args(["--toolchain", "nightly"]));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("for toolchain `nightly-")
                && stderr(&output).contains("(from --toolchain)"),
            "{}",
            stderr(&output)
        );
    }

    let (_g, go) = project("go-multi");
    let parent = go.parent().expect("parent").to_path_buf();
    session(&parent, &["build", "go-multi", "-F", "x"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6001]: -F/--features does not apply to Go projects: it is for Rust (cargo)
hint: Go builds choose code with build tags: `wasmforge build -- -tags NAME`
explain: wasmforge explain WF6001

"#]]);
    session(&parent, &["build", "go-multi", "--bin", "a"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6001]: --bin does not apply to Go projects: it is for Rust and C (CMake, Make)
hint: a Go program is a main package: choose it with `-p ./cmd/NAME` (repeat -p for several)
explain: wasmforge explain WF6001

"#]]);
    session(&parent, &["build", "go-multi", "--locked"])
        .code(2)
        .stderr_eq(str![[r#"
error[WF6001]: --locked does not apply to Go projects: it is for Rust (Cargo.lock)
hint: Go checks go.sum on every build; `-- -mod=readonly` or `-- -mod=vendor` go to `go build`
explain: wasmforge explain WF6001

"#]]);
    if have_go(21) {
        // Repeated -p builds each main package; `-- ARGS` reach `go build`.
        let output = run(wasmforge()
            .args(["--format", "json", "build"])
            .arg(&go)
            .args(["-p", "./cmd/a", "-p", "./cmd/b", "--", "-tags", "special"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let doc = json(&output);
        assert_eq!(names(&doc), ["a", "b"], "{doc}");
        let (_, out_a) = wf_run(&[artifacts(&doc)[0]["path"].as_str().expect("path").as_ref()]);
        assert_eq!(out_a.trim(), "a says special");
        let (_, out_b) = wf_run(&[artifacts(&doc)[1]["path"].as_str().expect("path").as_ref()]);
        assert_eq!(out_b.trim(), "b runs");
    }

    let (_c, c) = project("hello-c");
    session(
        c.parent().expect("parent"),
        &["build", "hello-c", "-p", "x"],
    )
    .code(2)
    .stderr_eq(str![[r#"
error[WF6001]: -p/--package does not apply to C projects: it is for Rust and Go
hint: a C project's executable is chosen with `--bin NAME` (CMake, Make)
explain: wasmforge explain WF6001

"#]]);
    if have_clang() && require(on_path("cmake"), "cmake is not installed") {
        // Repeated --bin builds each CMake executable.
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("two");
        write_files(
            &dir,
            &[
                (
                    "CMakeLists.txt",
                    "cmake_minimum_required(VERSION 3.13)\nproject(two C)\nadd_executable(one one.c)\nadd_executable(other other.c)\n",
                ),
                (
                    "one.c",
                    "#include <stdio.h>\nint main(void) { puts(\"one\"); }\n",
                ),
                (
                    "other.c",
                    "#include <stdio.h>\nint main(void) { puts(\"other\"); }\n",
                ),
            ],
        );
        let doc = build_ok(&dir, &["--bin", "one", "--bin", "other"]);
        assert_eq!(names(&doc), ["one", "other"], "{doc}");
        for artifact in artifacts(&doc) {
            let (code, out) = wf_run(&[artifact["path"].as_str().expect("path").as_ref()]);
            assert_eq!(
                (code, out.trim()),
                (Some(0), artifact["name"].as_str().unwrap_or_default())
            );
        }
    }
}

#[test]
fn flags_win_over_variables_and_a_bad_variable_is_named() {
    if !require_rust_targets() {
        return;
    }
    let (_r, rust) = project("hello-rust");
    let output = run(wasmforge()
        .args(["build", "--release", "--no-opt", "--format", "json"])
        .arg(&rust)
        .env("WASMFORGE_OPT", "O2"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["artifacts"][0]["opt_level"], Value::Null);
    let output = run(wasmforge()
        .args(["build", "--release", "--format", "json"])
        .arg(&rust)
        .env("WASMFORGE_OPT", "O2"));
    assert_eq!(json(&output)["artifacts"][0]["opt_level"], "O2");
    session_env(
        rust.parent().expect("parent"),
        &["build", "hello-rust"],
        &[("WASMFORGE_OPT", "O9")],
    )
    .code(2)
    .stderr_eq(str![[r#"
error: WASMFORGE_OPT=`O9`: unknown optimization level `O9`: use O1, O2, O3, O4, Os or Oz
hint: set it to O1, O2, O3, O4, Os, Oz or none, or unset it

"#]]);
}

#[test]
fn artifact_names_are_the_projects_and_never_shared() {
    if !require_rust_targets() {
        return;
    }
    // `[package] name` names a Rust artifact, as it does Go's and C's.
    let (_r, rust) = project("hello-rust");
    write(
        &rust.join("wasmforge.toml"),
        "[package]\nname = \"greeter\"\n",
    );
    let doc = build_ok(&rust, &[]);
    let path = PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"));
    assert_eq!(path.file_name().expect("name"), "greeter.wasm");
    assert!(path.is_file());

    // A binary and a cdylib of one name would be one file on WebAssembly: refused with the fix.
    let tmp = tempfile::tempdir().expect("tempdir");
    let both = tmp.path().join("both");
    write_files(
        &both,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"both\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\ncrate-type = [\"cdylib\"]\n[[bin]]\nname = \"both\"\npath = \"src/main.rs\"\n",
            ),
            ("src/main.rs", "fn main() { println!(\"bin\"); }\n"),
            (
                "src/lib.rs",
                "#[unsafe(no_mangle)] pub extern \"C\" fn add(a: i32, b: i32) -> i32 { a + b }\n",
            ),
        ],
    );
    session(tmp.path(), &["build", "both"])
        .code(1)
        .stderr_eq(str![[r#"
error[WF6007]: package `both` has a binary and a library (cdylib) that are both `both.wasm` on WebAssembly: one would overwrite the other
hint: rename the library in Cargo.toml (`[lib] name = "both_lib"`), or build only the binary: `--bin both`
explain: wasmforge explain WF6007

"#]]);
    let doc = build_ok(&both, &["--bin", "both"]);
    assert_eq!(artifacts(&doc).len(), 1);
    assert_eq!(doc["artifacts"][0]["kind"], "command");

    // One name cannot name several artifacts.
    let (_w, workspace) = project("rust-workspace");
    write(
        &workspace.join("wasmforge.toml"),
        "[package]\nname = \"one\"\n",
    );
    let output = run(wasmforge().arg("build").arg(&workspace));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("names one artifact, and this build makes 4"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn settings_are_typed_and_validation_belongs_to_release_builds() {
    let (_c, c) = project("hello-c");
    let parent = c.parent().expect("parent").to_path_buf();
    let own = std::fs::read_to_string(c.join("wasmforge.toml")).expect("hello-c's settings");
    let settings = |extra: &str| write(&c.join("wasmforge.toml"), &format!("{own}\n{extra}"));
    settings("[validate]\nmax_size = 10\n");
    let output = run(wasmforge().current_dir(&parent).args(["build", "hello-c"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("unknown field `max_size`, expected `profile` or `max-size`"),
        "{}",
        stderr(&output)
    );
    settings("[validate]\nprofile = 3\n");
    let output = run(wasmforge().current_dir(&parent).args(["build", "hello-c"]));
    assert!(
        stderr(&output).contains(
            "expected a profile: wasip1-command, wasip1-library, wasip2, wasip2-library or unknown, found integer"
        ),
        "{}",
        stderr(&output)
    );
    settings("[push]\nref = \"x\"\n");
    let output = run(wasmforge().current_dir(&parent).args(["build", "hello-c"]));
    assert!(
        stderr(&output).contains("unknown field `ref`, expected `reference`"),
        "{}",
        stderr(&output)
    );
    if !have_clang() {
        return;
    }
    // A profile that does not fit is no reason to fail a debug build: release builds validate.
    settings("[validate]\nprofile = \"wasip1-library\"\n");
    let doc = build_ok(&c, &[]);
    assert_eq!(doc["artifacts"][0]["validated"], Value::Null);
    let output = run(wasmforge().arg("build").arg(&c).arg("--release"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("does not fit the wasip1-library profile"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn push_uses_the_configured_reference() {
    if !require_rust_targets() {
        return;
    }
    let (_r, rust) = project("hello-rust");
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = tmp.path().join("layout");
    write(
        &rust.join("wasmforge.toml"),
        &format!(
            "[push]\nreference = \"oci:{}:v{{version}}\"\n",
            layout.display()
        ),
    );
    let output = run(wasmforge().arg("push").arg(&rust));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("oci:{}:v0.1.0", layout.display())),
        "{}",
        stdout(&output)
    );
    // No reference and none configured: a usage error that says where to put one.
    std::fs::remove_file(rust.join("wasmforge.toml")).expect("rm");
    let output = run(wasmforge().arg("push").arg(&rust));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("[push] reference"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn opt_levels_parse_wherever_global_flags_stand() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(&tmp.path().join("m.wat"), "(module (func (export \"f\")))");
    session(
        tmp.path(),
        &["--format", "json", "opt", "-O3", "m.wat", "-o", "o3.wasm"],
    )
    .code(0)
    .stdout_eq(
        str![[r#"
{
  "after": "{...}",
  "before": "{...}",
  "converge": false,
  "debuginfo": false,
  "features": "{...}",
  "input": "m.wat",
  "level": "O3",
  "output": "o3.wasm",
  "skipped": null
}
"#]]
        .is_json(),
    );
    // The last level wins, as with compilers; nobody typed `--Os`.
    session(
        tmp.path(),
        &[
            "-q", "opt", "-Os", "-Oz", "m.wat", "-o", "oz.wasm", "--format", "json",
        ],
    )
    .code(0)
    .stdout_eq(
        str![[r#"
{
  "after": "{...}",
  "before": "{...}",
  "converge": false,
  "debuginfo": false,
  "features": "{...}",
  "input": "m.wat",
  "level": "Oz",
  "output": "oz.wasm",
  "skipped": null
}
"#]]
        .is_json(),
    );
    for bad in ["-O5", "-O0"] {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["opt", bad, "m.wat"]));
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains(&format!(
                "`{bad}` is not an optimization level: use -O1, -O2, -O3, -O4 (speed), -Os or -Oz (size)"
            )),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn verbose_shows_every_command_and_quiet_quiets_the_build_tools() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    // git, for push's annotations.
    let repo = tmp.path().join("repo");
    write(&repo.join("m.wat"), "(module (func (export \"_start\")))");
    let git_ok = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .is_ok_and(|s| s.success());
    if require(git_ok, "git is not installed") {
        let layout = tmp.path().join("layout");
        let output = run(wasmforge()
            .current_dir(&repo)
            .args(["-v", "push", "m.wat"])
            .arg(format!("oci:{}:1", layout.display())));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("Running `git -C"),
            "{}",
            stderr(&output)
        );
    }
    // A credential helper.
    let bin = tmp.path().join("bin");
    write(
        &bin.join("docker-credential-wftest"),
        "#!/bin/sh\nread server\necho '{\"Username\":\"u\",\"Secret\":\"s\"}'\n",
    );
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(bin.join("docker-credential-wftest"))
        .status()
        .expect("chmod");
    write(
        &tmp.path().join("docker/config.json"),
        r#"{"credHelpers": {"127.0.0.1:9": "wftest"}}"#,
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = run(wasmforge()
        .args(["-v", "pull", "127.0.0.1:9/app:1", "-o"])
        .arg(tmp.path().join("x.wasm"))
        .env("DOCKER_CONFIG", tmp.path().join("docker"))
        .env("PATH", &path));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Running `docker-credential-wftest get`"),
        "{}",
        stderr(&output)
    );
    // The wasm-opt probe of doctor's survey (a fresh cache, so it runs).
    if on_path("wasm-opt") {
        let empty = tempfile::tempdir().expect("tempdir");
        let output = run(wasmforge()
            .args(["-v", "doctor"])
            .current_dir(empty.path())
            .env("WASMFORGE_CACHE_DIR", &cache));
        assert!(
            stderr(&output).contains("wasm-opt --version`"),
            "{}",
            stderr(&output)
        );
    }
    // -q: no CMake status, no make "Entering directory", no build progress.
    if have_clang() && require(on_path("cmake"), "cmake is not installed") {
        for name in ["hello-c-cmake", "c-make"] {
            let (_p, dir) = project(name);
            let output = run(wasmforge().arg("-q").arg("build").arg(&dir));
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let text = stderr(&output);
            for noise in [
                "-- Configuring",
                "Entering directory",
                "% ] ",
                "%] Built target",
            ] {
                assert!(!text.contains(noise), "{name}: {noise:?} in {text}");
            }
        }
    }
}

#[test]
fn every_failure_is_a_json_document() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("full")).expect("mkdir");
    write(&tmp.path().join("full/keep.txt"), "mine");
    // A guest blocked in a host call past --timeout: the watchdog's report.
    write(
        &tmp.path().join("sleep.wat"),
        r#"(module (import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "_start")
               (i64.store (i32.const 24) (i64.const 60000000000))
               (drop (call $p (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#,
    );
    for (args, code, message) in [
        (
            &["explain", "WF9999"][..],
            2,
            "`WF9999` is not a wasmforge diagnostic code",
        ),
        (
            &["new", "full", "--lang", "rust"][..],
            2,
            "`full` is not empty",
        ),
        (
            &["run", "--timeout", "200ms", "sleep.wat"][..],
            124,
            "the guest ran longer than --timeout 200ms and was stopped (it was blocked in a host call)",
        ),
        (
            &["opt", "-O9", "sleep.wat"][..],
            2,
            "invalid value '9' for '-O <LEVEL>': `-O9` is not an optimization level: use -O1, -O2, -O3, -O4 (speed), -Os or -Oz (size)",
        ),
    ] {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["--format", "json"])
            .args(args));
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let doc = json(&output);
        assert_eq!(doc["error"]["message"], message, "{args:?}");
        assert_eq!(doc["error"]["exit_code"], code, "{args:?}");
    }
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("full/keep.txt")).expect("kept"),
        "mine"
    );
    // Every command: one failure each, one JSON document each, with the exit code.
    write(&tmp.path().join("junk.wasm"), "not wasm");
    write(
        &tmp.path().join("trap.wat"),
        "(module (func (export \"_start\") unreachable))",
    );
    for (args, code) in [
        (&["build", "/nope"][..], 2),
        (&["doctor", "/nope"][..], 2),
        (&["run", "trap.wat"][..], 134),
        (&["opt", "junk.wasm"][..], 1),
        (&["validate", "missing.wasm"][..], 2),
        (&["inspect", "junk.wasm"][..], 1),
        (&["strip", "junk.wasm"][..], 1),
        (&["precompile", "junk.wasm"][..], 1),
        (&["push", "trap.wat", "bad..ref"][..], 2),
        (&["pull", "bad..ref"][..], 2),
        (&["login"][..], 2),
        (&["logout"][..], 2),
        (&["cache", "frob"][..], 2),
        (&["completions", "tcsh"][..], 2),
        (&["new", "x"][..], 2),
        (&["explain"][..], 2),
    ] {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["--format", "json"])
            .args(args));
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let doc = json(&output);
        assert_eq!(doc["error"]["exit_code"], code, "{args:?}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && !m.contains('\n')),
            "{args:?}: {doc}"
        );
    }
}

#[test]
fn new_checks_everything_before_it_writes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, lang, why) in [
        (
            "deps",
            "rust",
            "is reserved: a Rust keyword, a standard crate, or a folder cargo uses",
        ),
        ("incremental", "rust", "is reserved"),
        ("fmt", "go", "is a Go standard library name"),
        ("std", "go", "is a Go standard library name"),
    ] {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["new", name, "--lang", lang]));
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(stderr(&output).contains(why), "{name}: {}", stderr(&output));
        assert!(!tmp.path().join(name).exists());
    }
    // `new .` in an empty folder takes the folder's name.
    let here = tmp.path().join("my-tool");
    std::fs::create_dir(&here).expect("mkdir");
    session(&here, &["new", ".", "--lang", "rust", "--ci", "none"])
        .code(0)
        .stderr_eq(str![[r#"
     Created Rust command `my-tool` in .
       Next: wasmforge build && wasmforge run .

"#]]);
    assert!(
        std::fs::read_to_string(here.join("Cargo.toml"))
            .expect("Cargo.toml")
            .contains("name = \"my-tool\"")
    );
    // --force where the template needs a folder and finds a file: nothing is written.
    let clash = tmp.path().join("clash");
    write(&clash.join("src"), "a file");
    session(tmp.path(), &["new", "clash", "--lang", "rust", "--force"])
        .code(2)
        .stderr_eq(str![[r#"
error: `clash/src` is a file, and the template needs a folder there
hint: move it away, or create the project in a new folder

"#]]);
    assert!(!clash.join("Cargo.toml").exists());

    // The generated project follows the target asked for: its profile is not pinned.
    if require_rust_targets() {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["new", "p", "--lang", "rust", "--ci", "none"]));
        assert_eq!(output.status.code(), Some(0));
        let doc = build_ok(&tmp.path().join("p"), &["--target", "wasip2", "--release"]);
        assert_eq!(doc["artifacts"][0]["validated"], "wasip2", "{doc}");
    }
}

#[test]
fn messages_say_what_happened() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(&tmp.path().join("notes.wasm"), "hello world, not wasm");
    write(
        &tmp.path().join("m.wat"),
        "(module (func (export \"_start\")))",
    );
    write(
        &tmp.path().join("envlib.wat"),
        "(module (import \"env\" \"f\" (func)) (func (export \"add\")))",
    );
    session(tmp.path(), &["inspect", "notes.wasm"])
        .code(1)
        .stderr_eq(str![[r#"
error: `notes.wasm` is not a WebAssembly file: it does not start with WebAssembly's magic bytes `\0asm` (it starts with `hello wo`)
hint: give a .wasm module or component (binary), or WebAssembly text (.wat); a project folder is built with `wasmforge build`

"#]].raw());
    // precompile takes text as run, opt and validate do.
    session(tmp.path(), &["precompile", "m.wat"]).code(0);
    assert!(tmp.path().join("m.cwasm").is_file());
    // A library importing only from `env` does not "import WASI".
    session(
        tmp.path(),
        &[
            "validate",
            "--profile",
            "wasip1-library",
            "--allow-import",
            "env",
            "envlib.wat",
        ],
    )
    .code(0);

    // A --bin of another package of the workspace, and run's choices.
    let (_w, workspace) = project("rust-workspace");
    let parent = workspace.parent().expect("parent").to_path_buf();
    session(
        &parent,
        &["build", "rust-workspace", "-p", "app", "--bin", "tool"],
    )
    .code(2)
    .stderr_eq(str![[r#"
error: binary `tool` is in package `tool`, which `-p app` does not select
hint: add `-p tool`, or leave out -p to build from the whole workspace

"#]]);
    if require_rust_targets() {
        let output = run(wasmforge()
            .arg("run")
            .arg(&workspace)
            .args(["--invoke", "add"]));
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains("hint: choose one: --bin count, --bin greet, -p plugin, --bin tool (a library is chosen by its package)"),
            "{}",
            stderr(&output)
        );
    }

    if have_go(21) {
        // Inside a module's cmd/x, the build is that package's, at the module's root.
        let (_g, go) = project("go-multi");
        let output = run(wasmforge()
            .current_dir(go.join("cmd/b"))
            .args(["build", "--format", "json"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let path = PathBuf::from(
            json(&output)["artifacts"][0]["path"]
                .as_str()
                .expect("path"),
        );
        assert_eq!(path, go.join("target/wasmforge/wasip1/debug/b.wasm"));
        assert!(!go.join("cmd/b/target").exists());

        // A build stopped by a signal was interrupted, not wrong. SIGTERM, not SIGINT: a test
        // run started in the background (`nohup tests/run.sh &`) inherits SIGINT ignored, and
        // `go build` would then go on.
        let script = tmp.path().join("interrupt.sh");
        write(
            &script,
            "#!/bin/sh\nkill -TERM $PPID\nsleep 5\nexec \"$@\"\n",
        );
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&script)
            .status()
            .expect("chmod");
        let output = run(wasmforge()
            .arg("build")
            .arg(&go)
            .args(["-p", "./cmd/b", "--", "-a"])
            .arg(format!("-toolexec={}", script.display())));
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains(
                "error: the build was interrupted: compiling the Go package `./cmd/b` was stopped"
            ) && stderr(&output).contains(
                "hint: nothing was wrong with the code as far as wasmforge saw: build again"
            ) && !stderr(&output).contains("fix the compiler errors"),
            "{}",
            stderr(&output)
        );
    }

    // oci: layouts: a digest pull says the digest; a push keeps the index's own annotations.
    let layout = tmp.path().join("layout");
    let reference = format!("oci:{}:1", layout.display());
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .args(["push", "m.wat", &reference, "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let digest = json(&output)["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .arg("pull")
        .arg(format!("oci:{}@{digest}", layout.display()))
        .args(["-o", "back.wasm"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("Pulled oci:{}@{digest}", layout.display())),
        "{}",
        stderr(&output)
    );
    let index_path = layout.join("index.json");
    let mut index: Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path).expect("index")).expect("json");
    index["annotations"] = serde_json::json!({"org.example.owner": "team-a"});
    std::fs::write(&index_path, index.to_string()).expect("write");
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .args(["push", "m.wat"])
        .arg(format!("oci:{}:2", layout.display())));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path).expect("index")).expect("json");
    assert_eq!(
        index["annotations"]["org.example.owner"], "team-a",
        "{index}"
    );
    assert_eq!(index["manifests"].as_array().map(Vec::len), Some(2));
}
