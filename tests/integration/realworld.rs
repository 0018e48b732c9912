//! Public projects nobody here wrote, unmodified (`../shared/realworld`): cJSON through its own
//! CMake, Lua through its own makefile, ivy through the go tool. Each is extracted and built once
//! per test binary; the tests share the build.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

use crate::support::*;

/// One extracted and built project: its folder, the build's output and its artifact.
struct Built {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    build: Output,
    artifact: Option<PathBuf>,
}

fn build(archive: &str, setup: impl FnOnce(&Path), args: &[&str]) -> Option<Built> {
    let (tmp, dir) = realworld(archive)?;
    setup(&dir);
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&dir)
        .args(args));
    let artifact = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|doc| doc["artifacts"][0]["path"].as_str().map(PathBuf::from));
    Some(Built {
        _tmp: tmp,
        dir,
        build: output,
        artifact,
    })
}

fn warnings(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|l| l.starts_with("warning[") || l.starts_with("error["))
        .map(str::to_string)
        .collect()
}

static CJSON: OnceLock<Option<Built>> = OnceLock::new();

fn cjson() -> Option<&'static Built> {
    if !have_clang() || !require(on_path("cmake"), "cmake is not installed") {
        return None;
    }
    CJSON
        .get_or_init(|| build("cJSON-1.7.18", |_| {}, &["--bin", "cJSON_test"]))
        .as_ref()
}

#[test]
fn cjson_builds_through_its_own_cmake_and_its_test_program_runs() {
    let Some(built) = cjson() else { return };
    assert_eq!(
        built.build.status.code(),
        Some(0),
        "{}",
        stderr(&built.build)
    );
    // Its tests/unity and fuzzing files (setjmp.h and all) are not part of this build.
    assert_eq!(warnings(&built.build), Vec::<String>::new());
    let artifact = built.artifact.as_ref().expect("artifact");
    let output = run(wasmforge().arg("run").arg(artifact));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // cJSON_test prints the examples of its README, built and printed by cJSON.
    let out = stdout(&output);
    assert!(
        out.contains("\"name\":\t\"Jack (\\\"Bee\\\") Nimble\""),
        "{out}"
    );
    assert!(out.contains("\"Country\":\t\"US\""), "{out}");
}

#[test]
fn cjson_doctor_checks_what_the_build_compiles() {
    let Some(built) = cjson() else { return };
    let output = run(wasmforge().arg("doctor").arg(&built.dir).args([
        "--bin",
        "cJSON_test",
        "--format",
        "json",
    ]));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(0), "{doc}");
    let graph = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "c-build-graph")
        .expect("the build graph");
    assert_eq!(
        graph["detail"], "2 files compiled by this build (CMake compile commands)",
        "cJSON.c and test.c, not tests/ or fuzzing/"
    );
    // Without --bin the build builds each executable, and doctor checks each the same way.
    let output = run(wasmforge()
        .arg("doctor")
        .arg(&built.dir)
        .args(["--format", "json"]));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(0), "{doc}");
    let verdict = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "build")
        .expect("the build's verdict");
    let detail = verdict["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("the build succeeds: ") && detail.contains("cJSON_test.wasm"),
        "{doc}"
    );
}

static LUA: OnceLock<Option<Built>> = OnceLock::new();

/// Lua's interpreter: its makefile links `-lreadline` (host only, so `MYLIBS=` leaves it out),
/// and wasi-libc lacks tmpnam, tmpfile and system, which wasmforge.toml stubs.
fn lua() -> Option<&'static Built> {
    if !have_clang() || !have_zig() || !require(on_path("make"), "make is not installed") {
        return None;
    }
    LUA.get_or_init(|| {
        build(
            "lua-5.4.8",
            |dir| {
                std::fs::write(
                    dir.join("wasmforge.toml"),
                    "[c]\nbin = \"lua\"\ndefines = [\"L_tmpnam=32\"]\nstubs = [\"system\", \"tmpfile\", \"tmpnam\"]\n",
                )
                .expect("write wasmforge.toml");
            },
            &["--", "MYLIBS="],
        )
    })
    .as_ref()
}

const SCRIPT: &str = r#"
local squares = {}
for i = 1, 10 do squares[i] = i * i end
print("squares", table.concat(squares, ","))
local ok, err = pcall(function() error("thrown through longjmp") end)
print("pcall", ok, err)
local sum = 0
for _, v in ipairs(squares) do sum = sum + v end
print("sum", sum)
print("system", os.execute("ls"))
"#;

#[test]
fn lua_builds_with_setjmp_on_zig_and_runs_a_script() {
    let Some(built) = lua() else { return };
    let err = stderr(&built.build);
    assert_eq!(built.build.status.code(), Some(0), "{err}");
    // clang 16 cannot build setjmp/longjmp; with no toolchain pinned, zig can.
    assert!(err.contains("Using zig"), "{err}");
    assert!(err.contains("for setjmp/longjmp"), "{err}");
    assert!(err.contains("Emulating signal"), "{err}");
    assert_eq!(warnings(&built.build), Vec::<String>::new());

    let scripts = tempfile::tempdir().expect("tempdir");
    std::fs::write(scripts.path().join("test.lua"), SCRIPT).expect("write");
    let output = run(wasmforge()
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/s", scripts.path().display()))
        .arg(built.artifact.as_ref().expect("artifact"))
        .args(["--", "/s/test.lua"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("squares\t1,4,9,16,25,36,49,64,81,100"),
        "{out}"
    );
    assert!(
        out.contains("pcall\tfalse\t") && out.contains("thrown through longjmp"),
        "error() unwinds through longjmp: {out}"
    );
    assert!(out.contains("sum\t385"), "{out}");
    // `system` is a stub: it fails, and Lua reports the failure instead of trapping.
    assert!(out.contains("system\tnil"), "{out}");
}

#[test]
fn lua_doctor_agrees_and_clang_alone_gets_the_setjmp_diagnosis() {
    let Some(built) = lua() else { return };
    let output = run(wasmforge()
        .arg("doctor")
        .arg(&built.dir)
        .args(["--format", "json", "--", "MYLIBS="]));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(0), "{doc}");

    // Pinned to clang 16, the build runs (the compiler decides) and fails with the diagnosis
    // naming the toolchain that would work.
    let (_tmp, dir) = realworld("lua-5.4.8").expect("extracted before");
    let output = run(wasmforge().arg("build").arg(&dir).args([
        "--toolchain",
        "clang",
        "--bin",
        "lua",
        "--",
        "MYLIBS=",
    ]));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("warning[WF3009]"), "before the compile: {err}");
    assert!(
        err.contains("fatal error: 'bits/setjmp.h' file not found"),
        "clang ran: {err}"
    );
    let diagnosis = err.rfind("error[WF3009]").expect("after the compile");
    assert!(err[diagnosis..].contains("zig"), "{err}");
    let output =
        run(wasmforge()
            .arg("doctor")
            .arg(&dir)
            .args(["--toolchain", "clang", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "doctor agrees");
    let doc = json(&output);
    assert!(doc.to_string().contains("WF3009"), "{doc}");
}

static IVY: OnceLock<Option<Built>> = OnceLock::new();

fn ivy() -> Option<&'static Built> {
    if !have_go(21) {
        return None;
    }
    IVY.get_or_init(|| build("ivy-0.5.7", |_| {}, &[])).as_ref()
}

#[test]
fn ivy_builds_without_warnings_and_computes_2_to_the_64() {
    let Some(built) = ivy() else { return };
    assert_eq!(
        built.build.status.code(),
        Some(0),
        "{}",
        stderr(&built.build)
    );
    // talks/script.go imports os/exec, but talks/ is not part of the build.
    assert_eq!(warnings(&built.build), Vec::<String>::new());
    let mut child = wasmforge()
        .arg("run")
        .arg(built.artifact.as_ref().expect("artifact"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"2**64\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "18446744073709551616");

    let output = run(wasmforge()
        .arg("doctor")
        .arg(&built.dir)
        .args(["--format", "json"]));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(0), "{doc}");
    assert!(!doc.to_string().contains("WF2005"), "{doc}");
}
