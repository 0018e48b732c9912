//! Public projects nobody here wrote, unmodified (`../shared/realworld`): cJSON through its own
//! CMake, Lua through its own makefile, ivy through the go tool. Each is extracted and built once
//! per test binary; the tests share the build.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::support::*;

/// One extracted and built project: its folder, the build's output and its artifact.
pub(crate) struct Built {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    build: Output,
    pub(crate) artifact: Option<PathBuf>,
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

/// cJSON's own CTest suite (19 Unity tests, `ENABLE_CJSON_TEST` is on by default) under
/// `wasmforge test`: Unity's setjmp.h takes the toolchain that can build setjmp/longjmp.
#[test]
fn cjson_ctest_suite_passes_under_wasmforge_test() {
    let Some(built) = cjson() else { return };
    if !have_zig() {
        return;
    }
    let output = run(wasmforge()
        .args(["test", "--format", "json"])
        .arg(&built.dir));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(0), "{doc}\n{}", stderr(&output));
    assert_eq!(
        (&doc["passed"], &doc["failed"], &doc["ignored"]),
        (
            &serde_json::Value::from(19),
            &serde_json::Value::from(0),
            &serde_json::Value::from(0)
        ),
        "{doc}"
    );
    let names: Vec<&str> = doc["binaries"][0]["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"misc_tests") && names.contains(&"readme_examples"),
        "{names:?}"
    );
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
pub(crate) fn lua() -> Option<&'static Built> {
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

pub(crate) const SCRIPT: &str = r#"
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

/// ivy's own `go test ./...` under wasip1: every package with tests passes but `mobile`,
/// whose TestHelp runs `go run` — a process, which WASI cannot start; the report says so. (Its
/// TestAll needs a deep stack and time zones: both are what Go's tests get.)
#[test]
fn ivy_go_test_passes_but_where_wasip1_cannot() {
    let Some(built) = ivy() else { return };
    let output = run(wasmforge()
        .args(["test", "--format", "json"])
        .arg(&built.dir));
    let doc = json(&output);
    assert_eq!(output.status.code(), Some(1), "{doc}\n{}", stderr(&output));
    let binaries = doc["binaries"].as_array().expect("binaries");
    let name = |b: &serde_json::Value| b["name"].as_str().unwrap_or_default().to_string();
    let failed: Vec<String> = binaries
        .iter()
        .filter(|b| b["failed"] != 0)
        .map(name)
        .collect();
    assert_eq!(failed, ["robpike.io/ivy/mobile"], "{doc}");
    let mobile = binaries
        .iter()
        .find(|b| b["name"] == "robpike.io/ivy/mobile")
        .expect("mobile");
    let failures: Vec<&serde_json::Value> = mobile["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|t| t["status"] == "failed")
        .collect();
    assert_eq!(failures.len(), 1, "{mobile}");
    assert_eq!(failures[0]["name"], "TestHelp", "{mobile}");
    let why = failures[0]["output"].as_str().unwrap_or_default();
    assert!(why.contains("go run") && why.contains("exec"), "{why}");
    // The packages that pass include the big one (the interpreter's whole test corpus).
    for package in ["robpike.io/ivy", "robpike.io/ivy/value/persist"] {
        let b = binaries
            .iter()
            .find(|b| b["name"] == package)
            .unwrap_or_else(|| panic!("{package}: {doc}"));
        assert!(b["passed"].as_u64().unwrap_or(0) >= 4, "{b}");
        assert_eq!(b["failed"], 0, "{b}");
    }
    // Packages without test files are not reported as test binaries.
    assert!(
        !binaries
            .iter()
            .any(|b| b["name"] == "robpike.io/ivy/config"),
        "{doc}"
    );
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

// ------------------------------------------------------------------ zstd (Make: lib + CLI)

/// The fixes of a failed build's diagnoses (`--format json`): (code, fix text).
fn diagnosed(output: &Output) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    doc["error"]["diagnostics"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or("").to_string(),
                        d["fix"]["text"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the fixes say to write: each `` `[c] KEY = [...]` `` (lists merged by key) and each
/// `` `wasmforge build --bin NAME` ``.
#[derive(Default, Debug)]
struct Followed {
    c: std::collections::BTreeMap<String, Vec<String>>,
    bin: Option<String>,
}

impl Followed {
    fn take(&mut self, fix: &str) {
        for snippet in fix.split('`').skip(1).step_by(2) {
            // (`[c] bin` alone names a key: only `[c] KEY = VALUE` says what to write.)
            if let Some(entry) = snippet.strip_prefix("[c] ")
                && let Ok(table) = toml::from_str::<toml::Table>(entry)
            {
                for (key, value) in table {
                    let list = self.c.entry(key).or_default();
                    for v in value.as_array().expect("a list").iter() {
                        let v = v.as_str().expect("a string").to_string();
                        if !list.contains(&v) {
                            list.push(v);
                        }
                    }
                }
            } else if let Some(bin) = snippet.strip_prefix("wasmforge build --bin ") {
                self.bin.get_or_insert(bin.to_string());
            }
        }
    }

    fn write(&self, dir: &Path) {
        let mut text = String::from("[c]\n");
        if let Some(bin) = &self.bin {
            text.push_str(&format!("bin = {bin:?}\n"));
        }
        for (key, values) in &self.c {
            text.push_str(&format!("{key} = {values:?}\n"));
        }
        std::fs::write(dir.join("wasmforge.toml"), text).expect("write wasmforge.toml");
    }
}

struct Zstd {
    built: Built,
    /// The build that follows the diagnoses, for wasip2.
    wasip2: Output,
    /// The codes of each failed build, in order.
    rounds: Vec<Vec<String>>,
    followed: String,
}

static ZSTD: OnceLock<Option<Zstd>> = OnceLock::new();

/// zstd, built as a new user would: build, do what the diagnoses say (only that: the keys come
/// from the fixes' own text), build again — until it builds or five rounds have passed.
fn zstd() -> Option<&'static Zstd> {
    if !have_clang() || !require(on_path("make"), "make is not installed") {
        return None;
    }
    ZSTD.get_or_init(|| {
        let (tmp, dir) = realworld("zstd-1.5.6-2dddf09")?;
        let mut followed = Followed::default();
        let mut rounds = Vec::new();
        let build = |dir: &Path, target: &str| {
            run(wasmforge()
                .args(["--format", "json", "build", "-q", "--target", target])
                .arg(dir))
        };
        let mut output = build(&dir, "wasip1");
        while !output.status.success() && rounds.len() < 5 {
            let fixes = diagnosed(&output);
            rounds.push(fixes.iter().map(|(c, _)| c.clone()).collect());
            for (_, fix) in &fixes {
                followed.take(fix);
            }
            followed.write(&dir);
            output = build(&dir, "wasip1");
        }
        let artifact = serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .ok()
            .and_then(|doc| doc["artifacts"][0]["path"].as_str().map(PathBuf::from));
        let wasip2 = build(&dir, "wasip2");
        Some(Zstd {
            followed: std::fs::read_to_string(dir.join("wasmforge.toml")).unwrap_or_default(),
            built: Built {
                _tmp: tmp,
                dir,
                build: output,
                artifact,
            },
            wasip2,
            rounds,
        })
    })
    .as_ref()
}

#[test]
fn zstd_builds_with_what_the_diagnoses_point_to() {
    let Some(z) = zstd() else { return };
    assert_eq!(
        z.built.build.status.code(),
        Some(0),
        "after {:?} with\n{}\n{}",
        z.rounds,
        z.followed,
        stderr(&z.built.build)
    );
    // The first build names the shared library (build the program), the header a file relies
    // on glibc for, and the header WASI lacks (under ZSTD_MULTITHREAD, the shared library's);
    // the second, the functions WASI lacks.
    assert_eq!(z.rounds.len(), 2, "{:?}", z.rounds);
    for code in ["WF3014", "WF3015"] {
        assert!(z.rounds[0].iter().any(|c| c == code), "{:?}", z.rounds);
    }
    assert!(z.rounds[1].iter().all(|c| c == "WF3008"), "{:?}", z.rounds);
    assert!(z.followed.contains("bin = \"zstd\""), "{}", z.followed);
    assert!(z.followed.contains("chmod(...)=0"), "{}", z.followed);
    // make wrote nothing into the project's folders.
    assert!(!z.built.dir.join("programs/obj").exists());
    assert!(!z.built.dir.join("zstd").exists());
    assert!(
        z.wasip2.status.success(),
        "wasip2 with\n{}\n{}",
        z.followed,
        stderr(&z.wasip2)
    );
}

/// `zstd -19` of 1 MiB, for wasip1 and wasip2: Debian's zstd decompresses it to the same bytes,
/// and ours decompresses Debian's.
#[test]
fn zstd_compresses_and_decompresses_like_the_native_tool() {
    let Some(z) = zstd() else { return };
    if !require(on_path("zstd"), "Debian's zstd is not installed") {
        return;
    }
    let input: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 % 40 + b' ')
        .collect();
    let native = run_with_stdin(Command::new("zstd").args(["-19", "-c"]), &input);
    assert!(native.status.success());
    let wasip2: serde_json::Value = serde_json::from_slice(&z.wasip2.stdout).expect("json");
    let wasip2 = PathBuf::from(wasip2["artifacts"][0]["path"].as_str().expect("path"));
    for module in [z.built.artifact.clone().expect("artifact"), wasip2] {
        let ours = run_with_stdin(
            wasmforge()
                .arg("run")
                .arg(&module)
                .args(["--", "-19", "-c"]),
            &input,
        );
        assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
        let back = run_with_stdin(Command::new("zstd").args(["-d", "-c"]), &ours.stdout);
        assert!(
            back.stdout == input,
            "{}: Debian's zstd -d differs",
            module.display()
        );
        let back = run_with_stdin(
            wasmforge().arg("run").arg(&module).args(["--", "-d", "-c"]),
            &native.stdout,
        );
        assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
        assert!(
            back.stdout == input,
            "{}: our zstd -d differs",
            module.display()
        );
    }
}

// ------------------------------------------------------------------ expat (CMake: lib, xmlwf; runtests under CTest)

struct Expat {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// (target, the build's output)
    builds: Vec<(&'static str, Output)>,
}

static EXPAT: OnceLock<Option<Expat>> = OnceLock::new();

/// expat through its own CMake, its test runner and xmlwf, for wasip1 and wasip2 (release: the
/// test runner is heavy).
fn expat() -> Option<&'static Expat> {
    if !have_clang() || !require(on_path("cmake"), "cmake is not installed") {
        return None;
    }
    EXPAT
        .get_or_init(|| {
            let (tmp, dir) = realworld("expat-2.8.3")?;
            let builds = ["wasip1", "wasip2"]
                .into_iter()
                .map(|target| {
                    let output = run(wasmforge()
                        .args(["--format", "json", "build", "-q", "--release", "--target"])
                        .arg(target)
                        .args(["--bin", "xmlwf"])
                        .arg(&dir));
                    (target, output)
                })
                .collect();
            Some(Expat {
                _tmp: tmp,
                dir,
                builds,
            })
        })
        .as_ref()
}

impl Expat {
    fn module(&self, target: &str, name: &str) -> PathBuf {
        let (_, output) = self
            .builds
            .iter()
            .find(|(t, _)| *t == target)
            .expect("built");
        assert!(output.status.success(), "{target}: {}", stderr(output));
        let path = self
            .dir
            .join(format!("target/wasmforge/{target}/release/{name}.wasm"));
        assert!(path.is_file(), "{}", path.display());
        path
    }
}

/// expat's CTest suite (its `runtests`, through its own `bash run.sh $<TARGET_FILE:runtests>`)
/// under `wasmforge test`, for wasip1 and as a component: every one of its checks passes.
#[test]
fn expat_ctest_suite_passes_under_wasmforge_test() {
    let Some(expat) = expat() else { return };
    // Its test runner uses setjmp/longjmp: the toolchain that can build them.
    if !have_zig() {
        return;
    }
    // Both targets at once: each run is long. `-V` makes ctest print runtests' own summary.
    let runs: Vec<(&str, Output)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["wasip1", "wasip2"]
            .into_iter()
            .map(|target| {
                let dir = &expat.dir;
                scope.spawn(move || {
                    let output = run(wasmforge()
                        .args(["--format", "json", "test", "-q", "--release", "--target"])
                        .arg(target)
                        .arg(dir)
                        .args(["--", "-V"]));
                    (target, output)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("test"))
            .collect()
    });
    for (target, output) in runs {
        let out = stdout(&output);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{target}: {out}{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(doc["passed"], 1, "{target}: {doc}");
        assert_eq!(doc["binaries"][0]["tests"][0]["name"], "runtests", "{doc}");
        // ctest's own output (with -V, runtests' lines) goes to stderr under --format json.
        let summary = err
            .lines()
            .find_map(|l| l.split_once("100%: Checks: ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("{target}: no summary of runtests: {err}"));
        assert!(summary.ends_with(", Failed: 0"), "{target}: {summary}");
        let checks: u32 = summary
            .split(',')
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(checks >= 4000, "{target}: {summary}");
    }
}

/// xmlwf: a well-formed document passes (exit 0, nothing said); a broken one is named with its
/// line and column, exit 2 as native for wasip1 — and not 0 for wasip2, whose `exit` carries only
/// success or failure (WASI 0.2: `exit-with-code` is not stable).
#[test]
fn expat_xmlwf_checks_documents_as_native() {
    let Some(expat) = expat() else { return };
    let docs = tempfile::tempdir().expect("tempdir");
    std::fs::write(docs.path().join("good.xml"), "<a><b>x</b><c/></a>\n").expect("write");
    std::fs::write(docs.path().join("bad.xml"), "<a><b>x</a>\n").expect("write");
    for (target, broken) in [("wasip1", 2), ("wasip2", 1)] {
        let module = expat.module(target, "xmlwf");
        let check = |name: &str| {
            run(wasmforge()
                .arg("run")
                .arg("--dir")
                .arg(docs.path())
                .arg(&module)
                .arg("--")
                .arg(docs.path().join(name)))
        };
        let good = check("good.xml");
        assert_eq!(good.status.code(), Some(0), "{target}: {}", stderr(&good));
        assert_eq!(stdout(&good), "", "{target}");
        let bad = check("bad.xml");
        assert_eq!(
            bad.status.code(),
            Some(broken),
            "{target}: {}",
            stderr(&bad)
        );
        assert!(
            stdout(&bad).contains("bad.xml:1:9: mismatched tag"),
            "{target}: {}",
            stdout(&bad)
        );
    }
}
