//! `wasmforge run`: examples, grants, the sandbox, limits, the compile cache, precompiled code
//! and bad input, with real guests built by the real toolchain.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use snapbox::{IntoData as _, str};

use crate::support::*;

/// The sandbox probe, built once per test run for wasip1 and wasip2.
pub(crate) fn probe(target: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        if !require_rust_targets() {
            return None;
        }
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe-build");
        let _ = std::fs::remove_dir_all(&dest);
        let (_tmp, src) = project("sandbox-probe");
        for t in ["wasip1", "wasip2"] {
            let output = run(wasmforge()
                .arg("build")
                .arg(&src)
                .args(["--target", t, "-q"])
                .env("CARGO_TARGET_DIR", &dest));
            assert!(
                output.status.success(),
                "building the probe failed: {}",
                stderr(&output)
            );
        }
        Some(dest.join("wasmforge"))
    });
    dir.as_ref()
        .map(|d| d.join(target).join("debug/sandbox-probe.wasm"))
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/wat").join(name)
}

/// The probe reports a refused action with `denied: …` and a failing exit (3 for a core module;
/// a component can only say err, which is 1).
#[track_caller]
fn assert_denied(output: &std::process::Output, what: impl std::fmt::Display) {
    assert!(stdout(output).starts_with("denied:"), "{what}");
    assert!(
        matches!(code(output), Some(1 | 3)),
        "{what}: exit {:?}",
        code(output)
    );
}

fn code(output: &std::process::Output) -> Option<i32> {
    output.status.code()
}

#[test]
fn examples_run_with_their_output() {
    if !require_rust_targets() {
        return;
    }
    // A project folder is built first, like `cargo run`; arguments after `--` reach the guest.
    let (_tmp, dir) = project("hello-rust");
    let output = run(wasmforge().args(["run"]).arg(&dir).args(["--", "Ada"]));
    assert_eq!(code(&output), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        "Hello, Ada! (from Rust, compiled to WebAssembly)"
    );

    let output = run(wasmforge()
        .args(["run", "--target", "wasip2"])
        .arg(&dir)
        .arg("Grace"));
    assert_eq!(code(&output), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        "Hello, Grace! (from Rust, compiled to WebAssembly)"
    );

    let (_tmp, lib) = project("hello-rust-lib");
    let output = run(wasmforge()
        .args(["run", "--invoke", "add"])
        .arg(&lib)
        .args(["2", "40"]));
    assert_eq!((code(&output), stdout(&output).trim()), (Some(0), "42"));
    let output = run(wasmforge()
        .args(["run", "--invoke", "fib", "--format", "json"])
        .arg(&lib)
        .arg("90"));
    assert_eq!(json(&output)["results"][0], "2880067194370816120");
    // A library is not a command.
    let output = run(wasmforge()
        .arg("run")
        .arg(lib.join("target/wasmforge/wasip1/debug/hello_rust_lib.wasm")));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("no `_start` export")
            && stderr(&output).contains("exports: add, fib")
    );
}

#[test]
fn invoke_parses_every_scalar_type_and_runs_initialize_first() {
    let scalars = fixture("scalars.wat");
    let call = |args: &[&str]| {
        let output = run(wasmforge().arg("run").arg("--invoke").args(args));
        assert_eq!(code(&output), Some(0), "{args:?}: {}", stderr(&output));
        stdout(&output).trim().to_string()
    };
    let file = scalars.to_str().expect("utf-8 path");
    assert_eq!(
        call(&["mix", file, "-1", "10000000000", "0.5", "0.25"]),
        "9999999999.75"
    );
    assert_eq!(
        call(&["wide", file, "-4611686018427387904"]),
        "-9223372036854775808"
    );
    assert_eq!(call(&["half", file, "3"]), "1.5");
    assert_eq!(call(&["pair", file]), "-7\n9000000000");
    assert_eq!(
        call(&["get", fixture("reactor.wat").to_str().expect("utf-8")]),
        "42"
    );

    let output = run(wasmforge()
        .args(["run", "--invoke", "mix"])
        .arg(&scalars)
        .args(["1", "x", "1", "1"]));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("argument 2 of `mix` must be i64: `x` is not"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge().args(["run", "--invoke", "nope"]).arg(&scalars));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("exported functions: mix, wide, half, pair"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn component_exports_take_wave_arguments() {
    let lib = fixture("component-lib.wat");
    let call = |name: &str, args: &[&str]| {
        let output = run(wasmforge()
            .args(["run", "--invoke", name])
            .arg(&lib)
            .args(args));
        (
            code(&output),
            stdout(&output).trim().to_string(),
            stderr(&output),
        )
    };
    assert_eq!(call("add", &["2", "40"]).1, "42");
    assert_eq!(call("not", &["true"]).1, "false");
    assert_eq!(call("scale", &["1.5", "-4"]).1, "-6");
    let (status, _, err) = call("add", &["-1", "2"]);
    assert_eq!(status, Some(1));
    assert!(err.contains("must be u32"), "{err}");
    // Not a command: no wasi:cli/run.
    let output = run(wasmforge().arg("run").arg(&lib));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("does not export `wasi:cli/run`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn argv_env_stdin_and_exit_codes_reach_the_guest() {
    let (Some(p1), Some(p2)) = (probe("wasip1"), probe("wasip2")) else {
        return;
    };
    for probe in [&p1, &p2] {
        let output = run(wasmforge()
            .arg("run")
            .arg(probe)
            .args(["args", "a b", "--c"]));
        assert_eq!(stdout(&output).trim(), "ok: a b|--c");

        let output = run(wasmforge()
            .arg("run")
            .args(["--env", "GREETING=hi there"])
            .arg(probe)
            .args(["env", "GREETING"]));
        assert_eq!(stdout(&output).trim(), "ok: hi there");
        let output = run(wasmforge()
            .arg("run")
            .args(["--env-inherit", "WF_TEST_VAR"])
            .env("WF_TEST_VAR", "from host")
            .arg(probe)
            .args(["env", "WF_TEST_VAR"]));
        assert_eq!(stdout(&output).trim(), "ok: from host");

        let mut child = wasmforge()
            .arg("run")
            .arg(probe)
            .arg("stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"piped text\n")
            .expect("write");
        let output = child.wait_with_output().expect("wait");
        assert_eq!(stdout(&output).trim(), "ok: stdin: piped text");

        let output = run(wasmforge()
            .args(["run", "--inherit-stdin=false"])
            .arg(probe)
            .arg("stdin")
            .stdin(Stdio::piped()));
        assert_eq!(stdout(&output).trim(), "ok: stdin:");
    }
    let output = run(wasmforge().arg("run").arg(&p1).args(["exit", "7"]));
    assert_eq!(
        code(&output),
        Some(7),
        "a core module's exit code is wasmforge's"
    );
    // A component can only say ok or err.
    let output = run(wasmforge().arg("run").arg(&p2).args(["exit", "7"]));
    assert_eq!(code(&output), Some(1));
    let output = run(wasmforge().arg("run").arg(&p2).args(["exit", "0"]));
    assert_eq!(code(&output), Some(0));
}

#[test]
fn a_guest_given_nothing_sees_nothing() {
    let (Some(p1), Some(p2)) = (probe("wasip1"), probe("wasip2")) else {
        return;
    };
    for probe in [&p1, &p2] {
        for (action, arg) in [
            ("read", "/etc/passwd"),
            ("list", "/"),
            ("list", "."),
            ("env", "HOME"),
            ("write", "/tmp/x"),
        ] {
            let output = run(wasmforge().arg("run").arg(probe).args([action, arg]));
            assert_denied(
                &output,
                format!("{action} {arg} must be denied: {}", stdout(&output)),
            );
            assert!(stdout(&output).starts_with("denied:"));
        }
        // The failure on a path is followed by the grant that would allow it (WF7002), named
        // from what the guest printed; with the folder granted, nothing is suggested.
        let note = |args: &[&str], granted: Option<&Path>| {
            let mut cmd = wasmforge();
            cmd.arg("run");
            if let Some(dir) = granted {
                cmd.arg("--dir").arg(dir);
            }
            let output = run(cmd.arg(probe).args(args));
            assert_denied(&output, stdout(&output));
            stderr(&output)
                .lines()
                .find(|l| l.starts_with("note[WF7002]: "))
                .map(str::to_string)
        };
        assert_eq!(
            note(&["read", "/etc/passwd"], None).as_deref(),
            Some(
                "note[WF7002]: the guest failed on `/etc/passwd`, and no folder was granted, so it sees no files at all: `--dir-ro /etc` grants that folder to read (`--dir /etc` to write too)"
            )
        );
        let granted = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            note(&["read", "/etc/passwd"], Some(granted.path())).as_deref(),
            Some(
                "note[WF7002]: the guest failed on `/etc/passwd`, and no granted folder holds it: `--dir-ro /etc` grants that folder to read (`--dir /etc` to write too)"
            )
        );
        let missing = granted.path().join("missing.txt");
        assert_eq!(
            note(
                &["read", &missing.display().to_string()],
                Some(granted.path())
            ),
            None
        );
        assert_eq!(
            note(&["read", "/wf-nowhere/config.toml"], None).as_deref(),
            Some(
                "note[WF7002]: the guest failed on `/wf-nowhere/config.toml`, and no folder was granted, so it sees no files at all; it is not on this machine either: `--dir HOST_FOLDER::/wf-nowhere` shows a host folder there (`--dir-ro` to read only)"
            )
        );
        // Reading `/` with nothing granted: the root is a folder this machine has.
        assert_eq!(
            note(&["list", "/"], None).as_deref(),
            Some(
                "note[WF7002]: the guest failed on `/`, and no folder was granted, so it sees no files at all: `--dir-ro /` grants that folder to read (`--dir /` to write too)"
            )
        );
        let relative = note(&["list", "./data"], None).unwrap_or_default();
        assert!(
            relative.contains("`--dir .` grants the current folder"),
            "{relative}"
        );
        let output = run(wasmforge()
            .arg("run")
            .arg(probe)
            .arg("envcount")
            .env("SECRET_TOKEN", "x"));
        assert_eq!(stdout(&output).trim(), "ok: 0 variables");
    }
    // No socket without a grant (components are the only guests with sockets).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("addr").to_string();
    let output = run(wasmforge().arg("run").arg(&p2).args(["tcp", &addr]));
    assert_denied(&output, stdout(&output));
    // …and the note says none was granted (WF7003), naming the flag.
    assert!(
        stderr(&output).contains("note[WF7003]: the guest uses sockets and none was granted")
            && stderr(&output).contains("`--allow-tcp HOST:PORT`"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .arg("run")
        .arg("--allow-tcp")
        .arg(&addr)
        .arg(&p2)
        .args(["tcp", &addr]));
    assert!(
        stdout(&output).starts_with("ok: connected"),
        "{}",
        stdout(&output)
    );
    assert!(!stderr(&output).contains("WF7003"), "{}", stderr(&output));
}

#[test]
fn grants_allow_exactly_the_granted_thing() {
    let (Some(p1), Some(p2)) = (probe("wasip1"), probe("wasip2")) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::write(data.join("in.txt"), "12345").expect("write");
    std::fs::write(tmp.path().join("outside.txt"), "secret").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", data.join("link")).expect("symlink");
    std::os::unix::fs::symlink(tmp.path().join("outside.txt"), data.join("link2"))
        .expect("symlink");
    let rw = format!("{}::/data", data.display());

    for probe in [&p1, &p2] {
        let output = run(wasmforge()
            .args(["run", "--dir", &rw])
            .arg(probe)
            .args(["read", "/data/in.txt"]));
        assert_eq!(stdout(&output).trim(), "ok: 5 bytes");
        for escape in [
            "/data/../outside.txt",
            "/data/../../etc/passwd",
            "/data/link",
            "/data/link2",
            "/etc/passwd",
        ] {
            let output = run(wasmforge()
                .args(["run", "--dir", &rw])
                .arg(probe)
                .args(["read", escape]));
            assert_denied(&output, format!("escape via {escape}: {}", stdout(&output)));
        }
        let output = run(wasmforge()
            .args(["run", "--dir", &rw])
            .arg(probe)
            .args(["write", "/data/out.txt"]));
        assert_eq!(stdout(&output).trim(), "ok: written");
        assert_eq!(
            std::fs::read_to_string(data.join("out.txt")).expect("written"),
            "written by the guest"
        );
        std::fs::remove_file(data.join("out.txt")).expect("rm");

        let ro = format!("{}::/ro", data.display());
        let output = run(wasmforge()
            .args(["run", "--dir-ro", &ro])
            .arg(probe)
            .args(["read", "/ro/in.txt"]));
        assert_eq!(stdout(&output).trim(), "ok: 5 bytes");
        let output = run(wasmforge()
            .args(["run", "--dir-ro", &ro])
            .arg(probe)
            .args(["write", "/ro/out.txt"]));
        assert_denied(
            &output,
            format!("read-only refuses writes: {}", stdout(&output)),
        );
        assert!(!data.join("out.txt").exists());
        // B is set on the host: only the granted A reaches the guest.
        let output = run(wasmforge()
            .args(["run", "--env", "A=1"])
            .arg(probe)
            .args(["env", "B"])
            .env("B", "host value"));
        assert_denied(&output, "only the granted variable");
        let output = run(wasmforge()
            .args(["run", "--env", "A=1"])
            .arg(probe)
            .args(["env", "A"])
            .env("B", "host value"));
        assert_eq!(stdout(&output).trim(), "ok: 1", "{}", stdout(&output));
    }

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("addr").to_string();
    let output = run(wasmforge()
        .args(["run", "--allow-tcp", &addr])
        .arg(&p2)
        .args(["tcp", &addr]));
    assert_eq!(
        (code(&output), stdout(&output).trim()),
        (Some(0), "ok: connected")
    );
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let other_addr = other.local_addr().expect("addr").to_string();
    let output = run(wasmforge()
        .args(["run", "--allow-tcp", &addr])
        .arg(&p2)
        .args(["tcp", &other_addr]));
    assert_denied(
        &output,
        format!("only the granted address: {}", stdout(&output)),
    );
    let output = run(wasmforge()
        .args(["run", "--allow-tcp", &addr])
        .arg(&p1)
        .args(["tcp", &addr]));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("need a component"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn limits_stop_the_guest_with_their_own_code() {
    let (Some(p1), Some(p2)) = (probe("wasip1"), probe("wasip2")) else {
        return;
    };
    let hashed = regex::Regex::new(r"\[[0-9a-f]{16}\]|::h[0-9a-f]{16}\b").expect("regex");
    for probe in [&p1, &p2] {
        for action in [&["loop"][..], &["sleep", "60"]] {
            let started = Instant::now();
            let output = run(wasmforge()
                .args(["run", "--timeout", "1s"])
                .arg(probe)
                .args(action));
            let took = started.elapsed();
            assert_eq!(code(&output), Some(124), "{action:?}");
            assert!(
                stderr(&output).contains("--timeout 1s"),
                "{}",
                stderr(&output)
            );
            assert!(took < Duration::from_secs(5), "{action:?} took {took:?}");
        }
        // Blocked reading a stdin that never closes.
        let started = Instant::now();
        let mut child = wasmforge()
            .args(["run", "--timeout", "1s"])
            .arg(probe)
            .arg("stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let _keep_open = child.stdin.take();
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(124));
        assert!(started.elapsed() < Duration::from_secs(5));

        let output = run(wasmforge()
            .args(["run", "--fuel", "1000000"])
            .arg(probe)
            .arg("loop"));
        assert_eq!(code(&output), Some(125));
        assert!(stderr(&output).contains("used all its fuel (--fuel 1000000)"));

        let output = run(wasmforge()
            .args(["run", "--max-memory", "32MiB"])
            .arg(probe)
            .args(["alloc", "100"]));
        assert_eq!(code(&output), Some(123), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("over --max-memory 33554432 bytes"),
            "{}",
            stderr(&output)
        );
        // Within the limit it works.
        let output = run(wasmforge()
            .args(["run", "--max-memory", "64MiB"])
            .arg(probe)
            .args(["alloc", "8"]));
        assert_eq!(stdout(&output).trim(), "ok: allocated 8 MiB");

        let output = run(wasmforge().arg("run").arg(probe).arg("trap"));
        assert_eq!(code(&output), Some(134));
        let err = stderr(&output);
        assert!(
            err.contains("the guest trapped") && err.contains("unreachable"),
            "{err}"
        );
        assert!(
            err.contains("sandbox_probe::divide"),
            "a symbolised backtrace: {err}"
        );
        // Without the compiler's crate hashes (`std[a88812da5ee6ad9e]::…`, `::h0123…`).
        assert!(err.contains("std::") && !hashed.is_match(&err), "{err}");

        // A thread: Rust's std panics ("Unsupported"), the panic traps, and the frames say why.
        let output = run(wasmforge().arg("run").arg(probe).arg("thread"));
        assert_eq!(code(&output), Some(134));
        let err = stderr(&output);
        assert!(
            err.contains("hint: the guest tried to start a thread, and WASI 0.1 and 0.2 have none"),
            "{err}"
        );
        // A coded note: the catalog explains it.
        assert!(err.contains("error[WF7001]: the guest trapped"), "{err}");
        assert!(err.contains("explain: wasmforge explain WF7001"), "{err}");
    }
    let output = run(wasmforge()
        .args(["run", "--max-table-elements", "1000"])
        .arg(fixture("grow-table.wat")));
    assert_eq!(code(&output), Some(123), "{}", stderr(&output));
    assert!(stderr(&output).contains("--max-table-elements 1000"));
}

#[test]
fn compiled_code_is_cached_and_damaged_entries_are_rebuilt() {
    let Some(p1) = probe("wasip1") else { return };
    let cache = tempfile::tempdir().expect("tempdir");
    let timings = |extra: &[&str]| {
        let output = run(wasmforge()
            .env("WASMFORGE_CACHE_DIR", cache.path())
            .args(["run", "--compiler", "cranelift", "--timings"])
            .args(extra)
            .arg(&p1)
            .args(["args", "x"]));
        assert_eq!(stdout(&output).trim(), "ok: x");
        stderr(&output)
    };
    assert!(timings(&[]).contains("(compiled, cached)"));
    assert!(timings(&[]).contains("(cache hit)"));
    assert!(timings(&["--no-cache"]).contains("(compiled, cache off)"));
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.path().join("compiled"))
        .expect("compiled dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1);
    // Damage the compiled code: it must be detected and rebuilt, never loaded.
    let mut bytes = std::fs::read(&entries[0]).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entries[0], &bytes).expect("write");
    assert!(timings(&[]).contains("damaged or stale: compiled again"));
    assert!(timings(&[]).contains("(cache hit)"));
    std::fs::write(&entries[0], b"truncated").expect("write");
    assert!(timings(&[]).contains("damaged or stale"));

    // A different engine configuration (fuel) is a different entry.
    assert!(timings(&["--fuel", "100000000"]).contains("(compiled, cached)"));

    let size = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", cache.path())
        .args(["cache", "size", "--format", "json"]));
    assert!(json(&size)["size"].as_u64().unwrap_or(0) > 1000);
    let dir = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", cache.path())
        .args(["cache", "dir"]));
    assert_eq!(stdout(&dir).trim(), cache.path().display().to_string());
    let clean = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", cache.path())
        .args(["cache", "clean"]));
    assert_eq!(code(&clean), Some(0));
    assert!(!cache.path().join("compiled").exists());
}

#[test]
fn precompiled_code_needs_consent_and_a_matching_engine() {
    let Some(p1) = probe("wasip1") else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let cwasm = tmp.path().join("probe.cwasm");
    let output = run(wasmforge().arg("precompile").arg(&p1).arg("-o").arg(&cwasm));
    assert_eq!(code(&output), Some(0));
    assert!(cwasm.is_file());

    let output = run(wasmforge().arg("run").arg(&cwasm).args(["args", "pre"]));
    assert_eq!(code(&output), Some(1));
    assert!(stderr(&output).contains("--allow-precompiled"));
    let output = run(wasmforge()
        .args(["run", "--allow-precompiled"])
        .arg(&cwasm)
        .args(["args", "pre"]));
    assert_eq!(
        (code(&output), stdout(&output).trim()),
        (Some(0), "ok: pre")
    );
    let output = run(wasmforge()
        .args(["run", "--allow-precompiled", "--fuel", "1000"])
        .arg(&cwasm)
        .arg("loop"));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("another Wasmtime version or engine configuration"),
        "{}",
        stderr(&output)
    );

    let bytes = std::fs::read(&cwasm).expect("read");
    std::fs::write(&cwasm, &bytes[..bytes.len() / 3]).expect("truncate");
    let output = run(wasmforge()
        .args(["run", "--allow-precompiled"])
        .arg(&cwasm)
        .args(["args", "pre"]));
    assert_eq!(code(&output), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "empty.wasm",
            b"",
            "is not a WebAssembly file: it does not start with WebAssembly's magic bytes `\\0asm` (it starts with nothing: the file is empty)",
        ),
        (
            "text.wasm",
            b"hello, I am not wasm",
            "is not a WebAssembly file: it does not start with WebAssembly's magic bytes `\\0asm` (it starts with `hello, I`)",
        ),
        (
            "garbage.wasm",
            b"\0asm\x01\0\0\0\x01\xff\xff\xff",
            "not valid WebAssembly",
        ),
        (
            "bad.wat",
            b"(module (func (export \"f\") (result i32) i64.const 1))",
            "not valid WebAssembly",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let output = run(wasmforge().arg("run").arg(&path));
        assert_eq!(code(&output), Some(1), "{name}");
        assert!(
            stderr(&output).contains(message),
            "{name}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{name}");
    }
    let output = run(wasmforge().arg("run").arg(tmp.path().join("missing.wasm")));
    assert_eq!(code(&output), Some(2));
    let output = run(wasmforge().arg("run").arg(tmp.path()));
    assert_eq!(code(&output), Some(1), "a folder that is no project");

    let output = run(wasmforge()
        .args(["run", "--invoke", "go"])
        .arg(fixture("component-foreign-import.wat")));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("imports `acme:billing/charge`"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .args(["run", "--timeout", "soon"])
        .arg(fixture("scalars.wat")));
    assert_eq!(code(&output), Some(2));
}

#[test]
fn a_guest_the_host_cannot_link_fails_before_it_starts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, wat: &str| std::fs::write(tmp.path().join(name), wat).expect("write");
    write(
        "unknown.wat",
        r#"(module (import "wasi_snapshot_preview1" "nope" (func)) (func (export "_start")))"#,
    );
    write(
        "signature.wat",
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))"#,
    );
    write(
        "threads.wat",
        r#"(module (memory (export "memory") 1 1 shared) (func (export "_start")))"#,
    );
    write(
        "http.wat",
        r#"(component (import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func)))))"#,
    );
    session(tmp.path(), &["run", "unknown.wat"])
        .code(1)
        .stdout_eq(str![""])
        .stderr_eq(str![[r#"
error: the module cannot be linked with `wasmforge run`'s host: unknown import: `wasi_snapshot_preview1::nope` has not been defined
hint: `run` provides WASI preview 1 (`wasi_snapshot_preview1`) as Wasmtime implements it; this function is not part of it, so the module was made for another host or WASI version

"#]]);
    session(tmp.path(), &["run", "signature.wat"])
        .code(1)
        .stderr_eq(str![[r#"
error: the module cannot be linked with `wasmforge run`'s host: incompatible import type for `wasi_snapshot_preview1::fd_write`: types incompatible: expected type `(func (param i32))`, found type `(func (param i32 i32 i32 i32) (result i32))`
hint: the module declares a WASI preview 1 function with another signature than WASI's: it was built against another ABI or a hand-written import; rebuild it for wasm32-wasip1

"#]]);
    session(tmp.path(), &["run", "threads.wat"])
        .code(1)
        .stderr_eq(str![[r#"
error: the module could not be instantiated: shared memory support is disabled for this engine -- see `Config::shared_memory`
hint: the module uses threads (a shared memory), and `run` does not provide wasi-threads: build for wasm32-wasip1 (not wasm32-wasip1-threads) without `+atomics`

"#]]);
    session(tmp.path(), &["--format", "json", "run", "http.wat"])
        .code(1)
        .stdout_eq(str![[r#"
{
  "error": {
    "causes": [],
    "code": null,
    "diagnostics": [],
    "exit_code": 1,
    "hint": "wasi:http is the interface of HTTP servers and clients: a `wasi:http/proxy` component is served (`wasmforge serve FILE`), not run as a command",
    "message": "the component cannot be linked with `wasmforge run`'s host: component imports instance `wasi:http/outgoing-handler@0.2.0`, but a matching implementation was not found in the linker: instance export `handle` has the wrong type: function implementation is missing"
  }
}
"#]].is_json());
}

#[test]
fn exit_codes_pass_through_as_a_native_programs_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (code, expected) in [
        (0, 0),
        (7, 7),
        (126, 126),
        (200, 200),
        (255, 255),
        (256, 1),
        (-1, 1),
    ] {
        let name = format!("exit{code}.wat");
        std::fs::write(
            tmp.path().join(&name),
            format!(
                r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                   (memory (export "memory") 1)
                   (func (export "_start") i32.const {code} call $exit))"#
            ),
        )
        .expect("write");
        session(tmp.path(), &["run", &name])
            .code(expected)
            .stdout_eq(str![""])
            .stderr_eq(str![""]);
    }
    // A trap is wasmforge's report, in JSON too, with the guest's backtrace.
    std::fs::write(
        tmp.path().join("trap.wat"),
        r#"(module (func $boom unreachable) (func (export "_start") call $boom))"#,
    )
    .expect("write");
    session(tmp.path(), &["run", "trap.wat"])
        .code(134)
        .stderr_eq(str![[r#"
error: the guest trapped: wasm trap: wasm `unreachable` instruction executed
  backtrace:
    0: [..] - <unknown>!boom
    1: [..] - <unknown>![..]

"#]]);
    session(tmp.path(), &["--format", "json", "run", "trap.wat"])
        .code(134)
        .stdout_eq(
            str![[r#"
{
  "error": {
    "backtrace": "{...}",
    "causes": [],
    "code": null,
    "diagnostics": [],
    "exit_code": 134,
    "hint": null,
    "message": "the guest trapped: wasm trap: wasm `unreachable` instruction executed"
  }
}
"#]]
            .is_json(),
        );
}

/// `build` puts the artifact's compiled code in the run cache: a release build before it ends, a
/// debug build in a process of its own; a `run` started while that process writes the entry runs
/// correctly all the same (entries are written whole, then renamed into place).
#[test]
fn build_warms_the_run_cache() {
    if !require_rust_targets() {
        return;
    }
    let (_dir, project) = crate::support::project("hello-rust");
    let cache = tempfile::tempdir().expect("tempdir");
    let wf = || {
        let mut cmd = wasmforge();
        cmd.env("WASMFORGE_CACHE_DIR", cache.path())
            .env_remove("WASMFORGE_NO_WARM");
        cmd
    };
    let entries = || {
        std::fs::read_dir(cache.path().join("compiled"))
            .map(|d| d.filter_map(|e| e.ok()).count())
            .unwrap_or(0)
    };
    let run_timings = |file: &Path| {
        let output = run(wf().args(["run", "--timings"]).arg(file).arg("Ada"));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(stdout(&output).contains("Ada"), "{}", stdout(&output));
        stderr(&output)
    };

    // Debug: the build returns at once, and the entry arrives without any run.
    let output = run(wf().args(["--format", "json", "build"]).arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let debug = PathBuf::from(
        json(&output)["artifacts"][0]["path"]
            .as_str()
            .expect("path"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while entries() == 0 {
        assert!(Instant::now() < deadline, "no cache entry from the build");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The background process may still be renaming its file into place: a hit soon after.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run_timings(&debug).contains("(cache hit)") {
        assert!(Instant::now() < deadline, "never a cache hit");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Runs started while a background compile writes the entry run correctly (no torn entry).
    for _ in 0..3 {
        // A run above may have left a background compile writing into the folder: emptying it
        // races that writer until it is done.
        let deadline = Instant::now() + Duration::from_secs(120);
        while let Err(e) = std::fs::remove_dir_all(cache.path().join("compiled")) {
            if e.kind() == std::io::ErrorKind::NotFound {
                break;
            }
            assert!(
                e.kind() == std::io::ErrorKind::DirectoryNotEmpty && Instant::now() < deadline,
                "empty the cache: {e}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut warming = wf()
            .args(["-q", "cache", "warm"])
            .arg(&debug)
            .spawn()
            .expect("spawn");
        run_timings(&debug);
        run_timings(&debug);
        assert!(warming.wait().expect("wait").success());
    }

    // Release: warmed before the build ends, so the first run is a hit.
    let output = run(wf()
        .args(["--format", "json", "build", "--release"])
        .arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("Warmed"), "{}", stderr(&output));
    let release = PathBuf::from(
        json(&output)["artifacts"][0]["path"]
            .as_str()
            .expect("path"),
    );
    assert!(run_timings(&release).contains("(cache hit)"));

    // `cache warm` itself, and its refusal of a missing file.
    let out = run(wf()
        .args(["--format", "json", "cache", "warm"])
        .arg(&release));
    assert_eq!(json(&out)["warmed"][0]["cache"], "hit");
    let out = run(wf().args(["cache", "warm", "no-such.wasm"]));
    assert_eq!(out.status.code(), Some(2));
}

/// Winch and Cranelift give the same results and exit codes for the probes (files, environment,
/// arguments, exits, traps, limits; the examples are compared where they are built, through
/// `run_under_both_compilers`); `auto` runs a fresh module on Winch while a
/// background Cranelift compile fills the cache, and the next run is a cache hit.
#[test]
fn winch_and_cranelift_agree_and_auto_tiers_up() {
    let Some(p1) = probe("wasip1") else { return };
    let Some(p2) = probe("wasip2") else { return };
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("in.txt"), "twelve bytes").expect("write");
    let dir = format!("{}::/data", data.path().display());
    let cases: Vec<Vec<&str>> = vec![
        vec!["--", "args", "a", "b"],
        vec!["--env", "K=v", "--", "env", "K"],
        vec!["--", "env", "MISSING"],
        vec!["--dir", &dir, "--", "read", "/data/in.txt"],
        vec!["--", "read", "/etc/passwd"],
        vec!["--", "exit", "7"],
        vec!["--", "trap"],
        vec!["--timeout", "300ms", "--", "loop"],
        vec!["--max-memory", "8MiB", "--", "alloc", "64"],
    ];
    let cache = tempfile::tempdir().expect("tempdir");
    let outcome = |compiler: &str, file: &Path, case: &[&str]| {
        let (flags, guest) = case.split_at(case.iter().position(|a| *a == "--").expect("--"));
        let output = run(wasmforge()
            .env("WASMFORGE_CACHE_DIR", cache.path())
            .args(["run", "--compiler", compiler, "--no-cache"])
            .args(flags)
            .arg(file)
            .args(guest));
        (output.status.code(), stdout(&output))
    };
    for file in [&p1, &p2] {
        for case in &cases {
            let winch = outcome("winch", file, case);
            let cranelift = outcome("cranelift", file, case);
            assert_eq!(winch, cranelift, "{} {case:?}", file.display());
        }
    }
    // Not all alike: the cases above really exit, trap and hit limits differently.
    let codes: std::collections::BTreeSet<Option<i32>> = cases
        .iter()
        .map(|case| outcome("winch", &p1, case).0)
        .collect();
    assert!(codes.len() >= 4, "{codes:?}");

    // auto: a fresh module runs on Winch and starts the Cranelift compile; then a hit.
    let verbose = |extra: &[&str]| {
        let output = run(wasmforge()
            .env("WASMFORGE_CACHE_DIR", cache.path())
            .args(["run", "-v"])
            .args(extra)
            .arg(&p1)
            .args(["args", "x"]));
        assert_eq!(stdout(&output).trim(), "ok: x");
        stderr(&output)
    };
    assert!(verbose(&[]).contains("compiled with Winch to start now"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !verbose(&[]).contains("(cache hit)") {
        assert!(
            Instant::now() < deadline,
            "the background compile never landed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // What Winch cannot do goes to Cranelift, said with -v; asked for, it is an error.
    assert!(verbose(&["--fuel", "100000000"]).contains("Cranelift: --fuel needs Cranelift"));
    let out = run(wasmforge()
        .args(["run", "--compiler", "winch", "--fuel", "1000"])
        .arg(&p1)
        .args(["args", "x"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--compiler winch cannot run this"));
}

#[test]
fn names_the_module_chose_cannot_forge_lines_in_runs_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, wat: &str| std::fs::write(tmp.path().join(name), wat).expect("write");
    // A WASI-looking import and a foreign one, each named to print a fake line of its own.
    write(
        "link.wat",
        r#"(module (import "wasi_snapshot_preview1" "f\n\nerror: fake line" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    );
    write(
        "foreign.wat",
        r#"(module (import "env\n\nerror: fake" "f" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    );
    write(
        "library.wat",
        r#"(module (func (export "f\n\nerror: fake export")))"#,
    );
    // (Compared as text: snapbox would read the escapes' backslashes as path separators.)
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .args(["run", "link.wat"]));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).starts_with(
            "error: the module cannot be linked with `wasmforge run`'s host: unknown import: \
             `wasi_snapshot_preview1::f\\n\\nerror: fake line` has not been defined\n"
        ),
        "{}",
        stderr(&output)
    );
    for (file, args) in [
        ("link.wat", vec!["run"]),
        ("foreign.wat", vec!["run"]),
        ("link.wat", vec!["validate", "--profile", "wasip1-command"]),
        ("library.wat", vec!["run"]),
        ("library.wat", vec!["run", "--invoke", "nope"]),
        (
            "foreign.wat",
            vec!["validate", "--profile", "wasip1-command"],
        ),
    ] {
        let output = run(wasmforge().current_dir(tmp.path()).args(&args).arg(file));
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            !text.lines().any(|l| l.starts_with("error: fake")),
            "{args:?} {file}: {text}"
        );
        if args[0] == "validate" {
            // No "fits" for a module importing what no host provides.
            assert_eq!(code(&output), Some(1), "{file}: {text}");
            assert!(!text.contains("fits the"), "{file}: {text}");
        }
        // Shown, escaped.
        assert!(
            text.contains("\\n\\nerror: fake"),
            "{args:?} {file}: {text}"
        );
    }
}

#[test]
fn invoke_errors_spell_types_as_wit_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("types.wat"),
        r#"(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "f") (param i32 i32))
    (func (export "g") (param i32 i32 i32 i32 i32 i32 i32))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (type $t (list (list u8)))
  (type $r (tuple u32 (option string) (result u8 (error string))))
  (func (export "take") (param "x" $t) (canon lift (core func $i "f") (memory $i "mem") (realloc (func $i "realloc"))))
  (func (export "mixed") (param "x" $r) (canon lift (core func $i "g") (memory $i "mem") (realloc (func $i "realloc")))))"#,
    )
    .expect("write");
    session(tmp.path(), &["run", "--invoke", "take", "types.wat", "xyz"])
        .code(1)
        .stderr_eq(str![[r#"
error: argument 1 of `take` must be list<list<u8>>: `xyz` is not
hint: arguments follow the function's parameter types: integers, floats, and WAVE syntax for component values (e.g. "text", [1, 2], some(3))

"#]]);
    session(tmp.path(), &["run", "--invoke", "mixed", "types.wat"])
        .code(1)
        .stderr_eq(str![[r#"
error: `mixed` takes 1 argument(s), 0 given
hint: signature: mixed(x: tuple<u32, option<string>, result<u8, string>>)

"#]]);
}

#[test]
fn winch_asked_for_by_name_says_which_feature_it_lacks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("tail.wat"),
        r#"(module (memory (export "memory") 1) (func $f (return_call $g)) (func $g) (func (export "_start") (call $f)))"#,
    )
    .expect("write");
    std::fs::write(
        tmp.path().join("throw.wat"),
        r#"(module (tag $e) (memory (export "memory") 1) (func (export "_start") (block $h (try_table (catch $e $h) (throw $e)))))"#,
    )
    .expect("write");
    session(tmp.path(), &["run", "--compiler", "winch", "tail.wat"])
        .code(1)
        .stderr_eq(str![[r#"
error: --compiler winch cannot run this: the module uses tail-call, which Winch does not compile
hint: use --compiler cranelift (or auto, which picks it)

"#]]);
    let output =
        run(wasmforge()
            .current_dir(tmp.path())
            .args(["run", "--compiler", "winch", "throw.wat"]));
    assert_eq!(code(&output), Some(1));
    assert!(
        stderr(&output).contains("the module uses exception-handling"),
        "{}",
        stderr(&output)
    );
    // auto picks Cranelift for them, and they run.
    for file in ["tail.wat", "throw.wat"] {
        let output = run(wasmforge().current_dir(tmp.path()).args(["run", file]));
        assert_eq!(code(&output), Some(0), "{file}: {}", stderr(&output));
    }
}

#[test]
fn what_looks_like_a_path_is_never_pulled() {
    // A listener standing in for a registry at the first component of each argument: a
    // `.wasm` path or a `./` path is a missing file (exit 2), and nobody connects.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let host = listener.local_addr().expect("addr").to_string();
    let tmp = tempfile::tempdir().expect("tempdir");
    for target in [
        format!("{host}/dist/app.wasm"),
        format!("{host}/app.wat"),
        format!("{host}/app.cwasm"),
        format!("./{host}/app:1"),
    ] {
        for command in ["run", "serve"] {
            let output = run(wasmforge().current_dir(tmp.path()).args([command, &target]));
            assert_eq!(code(&output), Some(2), "{command} {target}");
            assert!(
                stderr(&output).contains("no such file"),
                "{command} {target}: {}",
                stderr(&output)
            );
        }
    }
    assert!(
        listener.accept().is_err(),
        "nothing may connect to a host named by a path"
    );
}

/// Context switches of every thread of a live process, voluntary ones (a thread waiting for
/// another) — Linux's /proc.
fn voluntary_switches(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc/PID/task");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .map(|n| n.trim().parse::<u64>().expect("a count"))
                .collect::<Vec<_>>()
        })
        .sum()
}

#[test]
fn file_calls_do_not_cross_threads() {
    // Each WASI file call used to go to a Tokio blocking thread and back: a futex round trip,
    // ~6 context switches per file read (issue 27). `run` calls the guest synchronously, so the
    // file calls now run on its thread. The count is read while the guest waits on stdin.
    use std::io::BufRead as _;
    let files = 400;
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..files {
        std::fs::write(tmp.path().join(format!("f{i}.txt")), "x".repeat(100 + i)).unwrap();
    }
    for target in ["wasip1", "wasip2"] {
        let Some(probe) = probe(target) else { return };
        // Compiled and cached first: compiling has threads of its own, waiting on each other.
        let warm = run(wasmforge()
            .args(["run", "--compiler", "cranelift"])
            .arg(&probe)
            .args(["args", "warm"]));
        assert!(warm.status.success(), "{target}: {}", stderr(&warm));
        let mut child = wasmforge()
            .arg("run")
            .arg(format!("--dir={}::/data", tmp.path().display()))
            .arg(&probe)
            .args(["readall", "/data"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("read {files} files"), "{target}");
        let switches = voluntary_switches(child.id());
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert!(status.success(), "{target}: {status}");
        assert!(
            switches < files as u64 / 4,
            "{target}: {switches} voluntary context switches for {files} files read: file calls \
             cross threads"
        );
    }
}

#[test]
fn wasip1_threads_is_refused_with_the_reason_at_build_and_run() {
    // A module built for wasm32-wasip1-threads: neither wasmforge nor Wasmtime 49 runs it.
    let output = run(wasmforge().arg("run").arg(fixture("wasi-threads.wat")));
    assert_eq!(code(&output), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("`wasi::thread-spawn`"), "{err}");
    assert!(
        err.contains("hint: the module was built for wasm32-wasip1-threads"),
        "{err}"
    );
    // And the target is refused by name, with the same reason.
    let tmp = tempfile::tempdir().expect("tempdir");
    let output = run(wasmforge()
        .args(["build", "--target", "wasm32-wasip1-threads"])
        .arg(tmp.path()));
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("wasmforge does not build wasm32-wasip1-threads"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_deep_recursion_gets_the_same_verdict_from_either_compiler() {
    // Winch's frames are about three times Cranelift's: with the same stack a guest that
    // recursed 12,000 deep passed when cached (Cranelift) and trapped on its first, Winch-compiled
    // run (cJSON's misc_tests did). Winch gets a bigger stack; endless recursion still traps.
    let wat = fixture("deep-recursion.wat");
    for compiler in ["winch", "cranelift", "auto"] {
        let cache = tempfile::tempdir().expect("tempdir");
        let output = run(wasmforge()
            .args(["run", "--compiler", compiler, "--invoke", "down"])
            .arg(&wat)
            .arg("12000")
            .env("WASMFORGE_CACHE_DIR", cache.path()));
        assert_eq!(code(&output), Some(0), "{compiler}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim(), "6000", "{compiler}");
        let output = run(wasmforge()
            .args(["run", "--compiler", compiler, "--invoke", "down"])
            .arg(&wat)
            .arg("10000000")
            .env("WASMFORGE_CACHE_DIR", cache.path()));
        assert_eq!(code(&output), Some(134), "{compiler}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("call stack exhausted"),
            "{compiler}: {}",
            stderr(&output)
        );
        // Deeper than the default stack holds: the trap names the flag that gives more, and
        // with it (on a thread with room for it: the main thread's 8 MiB would crash) it passes.
        let output = run(wasmforge()
            .args(["run", "--compiler", compiler, "--invoke", "down"])
            .arg(&wat)
            .arg("200000")
            .env("WASMFORGE_CACHE_DIR", cache.path()));
        assert_eq!(code(&output), Some(134), "{compiler}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("--max-wasm-stack 8MiB"),
            "{compiler}: {}",
            stderr(&output)
        );
        let output = run(wasmforge()
            .args(["run", "--max-wasm-stack", "32MiB", "--compiler", compiler])
            .args(["--invoke", "down"])
            .arg(&wat)
            .arg("200000")
            .env("WASMFORGE_CACHE_DIR", cache.path()));
        assert_eq!(code(&output), Some(0), "{compiler}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim(), "100000", "{compiler}");
    }
    let output = run(wasmforge()
        .args(["run", "--max-wasm-stack", "2GiB", "--invoke", "down"])
        .arg(&wat)
        .arg("1"));
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("1.00 GiB"), "{}", stderr(&output));
}
