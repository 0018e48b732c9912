//! `serve` and `dev` under load, faults and hostile clients: every line of the log is true, no
//! client can hold the server, every limit is a stated one.
//!
//! Slow clients are raw sockets; waits poll for a state (bytes received, a closed socket, a log
//! line), never a fixed sleep.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Server, curl, probe, shared_target};
use crate::support::*;

/// `curl URL` with curl's own exit code (18: the body ended before its end), the status and
/// how many bytes of body arrived.
fn curl_exit(url: &str, extra: &[&str]) -> (Option<i32>, u16, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "60",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The server's host and port.
fn address(server: &Server) -> String {
    server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// A raw connection that has sent `bytes` (half a request head, say).
fn raw(server: &Server, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address(server)).expect("connect");
    stream.write_all(bytes).expect("write");
    stream
}

/// Reads until the server closes the connection (or resets it); how long that took, `None`
/// when it was still open after `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

/// Sends a GET and reads until `wanted` has arrived: the request is then in flight for sure.
fn in_flight(server: &Server, path: &str, wanted: &str) -> TcpStream {
    let mut stream = raw(
        server,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    );
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(wanted) {
        let n = stream.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "closed before `{wanted}`: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    stream
}

/// Sends `signal` to the server's process.
fn signal(server: &Server, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for the server to exit; its code.
fn exit_code(server: &mut Server, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop in {within:?}:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_duration_size_and_count_has_a_stated_maximum() {
    // Checked by the parser, before any file is read: exit 2 naming the maximum, no panic.
    let cases: &[(&[&str], &str)] = &[
        (
            &["serve", "app.wasm", "--timeout", "10000000000000000000s"],
            "maximum, 7d",
        ),
        (
            &["dev", ".", "--timeout", "10000000000000000000s"],
            "maximum, 7d",
        ),
        (&["run", "--timeout", "8d", "app.wasm"], "maximum, 7d"),
        (
            &["serve", "app.wasm", "--shutdown-timeout", "2h"],
            "maximum, 1h",
        ),
        (
            &["serve", "app.wasm", "--header-timeout", "1e9"],
            "unknown unit",
        ),
        (
            &["serve", "app.wasm", "--idle-timeout", "99999h"],
            "maximum, 1h",
        ),
        (&["dev", ".", "--debounce", "6s"], "maximum, 5s"),
        (
            &["serve", "app.wasm", "--max-memory", "2TiB"],
            "maximum, 1.00 TiB",
        ),
        (
            &["run", "--fuel", "99999999999999999999", "app.wasm"],
            "maximum, 9223372036854775807",
        ),
        (
            &["run", "--max-table-elements", "4294967297", "app.wasm"],
            "maximum, 4294967296",
        ),
        (&["serve", "app.wasm", "--max-queued", "100001"], "100000"),
        (
            &["serve", "app.wasm", "--max-concurrency", "10001"],
            "10000",
        ),
        (
            &["pull", "x/y:1", "--max-size", "65GiB"],
            "maximum, 64.00 GiB",
        ),
        (&["build", "-j", "0"], "1..=1024"),
    ];
    for (args, wanted) in cases {
        let out = run(wasmforge().args(*args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(wanted), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn a_full_house_queues_requests_instead_of_failing_them() {
    let Some(p) = probe() else { return };
    // One slot, 8 keep-alive clients, 100 requests each: every one is answered (before, about
    // 6% got 500 "maximum concurrent limit reached": the permit was released before the
    // instance's pool slot).
    let server = Server::wasmforge(&p.wasm, &["--max-concurrency", "1"]);
    let url = format!("{}/", server.url.trim_end_matches('/'));
    let codes: Vec<String> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    // One curl, 100 URLs: one connection, kept alive.
                    let out = Command::new("curl")
                        .args(["-sS", "-w", "%{http_code}\\n"])
                        .args((0..100).flat_map(|_| ["-o", "/dev/null", url.as_str()]))
                        .output()
                        .expect("curl");
                    String::from_utf8_lossy(&out.stdout).into_owned()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| {
                c.join()
                    .expect("client")
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    assert_eq!(codes.len(), 800);
    let failed: Vec<&String> = codes.iter().filter(|c| *c != "200").collect();
    assert!(failed.is_empty(), "{failed:?}\n{}", server.stderr());
    assert!(!server.stderr().contains(" 500 "), "{}", server.stderr());
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let Some(p) = probe() else { return };
    // One slot and no room to wait: while one request runs (its head is out, so it holds the
    // slot), the next is told to come back.
    let server = Server::wasmforge(&p.wasm, &["--max-concurrency", "1", "--max-queued", "0"]);
    let running = in_flight(&server, "/head-then?then=sleep&ms=30000", "head sent");
    let full = server.get("/");
    assert_eq!(full.status, 503, "{full:?}");
    assert_eq!(full.header("retry-after").as_deref(), Some("1"), "{full:?}");
    let log = server.stderr();
    assert!(
        log.contains("GET / 503") && log.contains("0 waiting (--max-queued)"),
        "{log}"
    );
    // The client of the running one leaves: its slot is free again.
    drop(running);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get("/").status != 200 {
        assert!(
            Instant::now() < deadline,
            "the slot stayed taken:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn timed_out_requests_give_their_slots_back() {
    let Some(p) = probe() else { return };
    // Two slots, six requests blocked in a host call: each is stopped at its --timeout and the
    // next takes its slot. Only 504s (before, the slot was still taken when the next request
    // was let in: 500).
    let server = Server::wasmforge(&p.wasm, &["--max-concurrency", "2", "--timeout", "1s"]);
    let url = format!("{}/slow?ms=20000", server.url.trim_end_matches('/'));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6).map(|_| s.spawn(|| curl(&url, &[]).status)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(statuses, vec![504; 6], "{}", server.stderr());
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &["--header-timeout", "1s", "--idle-timeout", "2s"]);
    // Half a head: closed after --header-timeout (1 s; well under 10 s however loaded).
    let mut half = raw(&server, b"GET / HTTP/1.1\r\nHost: te");
    let took = closed_within(&mut half, Duration::from_secs(10)).expect("the half head is cut off");
    assert!(took >= Duration::from_millis(500), "{took:?}");
    // Nothing at all: the same.
    let mut silent = raw(&server, b"");
    assert!(closed_within(&mut silent, Duration::from_secs(10)).is_some());
    // A whole request, then nothing: the keep-alive connection is closed after --idle-timeout.
    let mut idle = in_flight(&server, "/", "probe\n");
    let took =
        closed_within(&mut idle, Duration::from_secs(20)).expect("the idle client is cut off");
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn more_clients_than_descriptors_get_503_not_a_hang() {
    let Some(p) = probe() else { return };
    if !require(on_path("prlimit"), "prlimit (util-linux)") {
        return;
    }
    // 256 descriptors, none to be had beyond (the hard limit too): 300 connections that each
    // send half a head. Before, accepting failed with "Too many open files" and every new
    // client timed out; now the limit is known, past it clients get 503 at once, and the slow
    // ones are cut after --header-timeout.
    let mut cmd = Command::new("prlimit");
    cmd.arg("--nofile=256:256")
        .arg(env!("CARGO_BIN_EXE_wasmforge"))
        .arg("serve")
        .arg(&p.wasm)
        .args(["--addr", "127.0.0.1:0", "--header-timeout", "2s"]);
    copy_env(&mut cmd);
    let mut server = Server::start(cmd, "Serving http://", Duration::from_secs(120));
    let slow: Vec<TcpStream> = (0..300)
        .map(|_| raw(&server, b"GET / HTTP/1.1\r\nHost: x\r\n"))
        .collect();
    let started = Instant::now();
    let reply = curl(
        &format!("{}/", server.url.trim_end_matches('/')),
        &["--max-time", "30"],
    );
    assert!(
        reply.status == 503 || reply.status == 200,
        "an answer, not a hang: {reply:?}"
    );
    if reply.status == 503 {
        assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    server.wait_for_log("refusing connections with 503", 1, Duration::from_secs(30));
    // Once the slow ones are cut off, clients are served again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = curl(
            &format!("{}/", server.url.trim_end_matches('/')),
            &["--max-time", "5"],
        );
        if reply.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never served again:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // SIGTERM with every slow client still connected: out at once.
    let more: Vec<TcpStream> = (0..50)
        .map(|_| raw(&server, b"GET / HTTP/1.1\r\nHost: x\r\n"))
        .collect();
    signal(&server, "TERM");
    assert_eq!(exit_code(&mut server, Duration::from_secs(10)), Some(0));
    drop((slow, more));
}

/// The environment `support::wasmforge()` gives the binary, for a command that starts it
/// through another program.
fn copy_env(cmd: &mut Command) {
    let reference = wasmforge();
    for (key, value) in reference.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
}

#[test]
fn failures_after_the_head_cut_the_response_and_are_logged_as_failures() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &["--timeout", "1s", "--max-memory", "32MiB"]);
    let base = server.url.trim_end_matches('/').to_string();
    for then in ["spin", "alloc", "sleep&ms=20000"] {
        let (code, status, err) = curl_exit(&format!("{base}/head-then?then={then}"), &[]);
        // curl 18: the body ended before its last chunk — the client knows it is incomplete.
        assert_eq!((code, status), (Some(18), 200), "{then}: {err}");
    }
    // A trap right after the first chunk can close the connection before hyper has written
    // the head: then the client sees no response at all (curl 52), and the log no status.
    let (code, status, err) = curl_exit(&format!("{base}/head-then?then=trap"), &[]);
    assert!(
        matches!((code, status), (Some(18), 200) | (Some(52), 0)),
        "trap: {code:?} {status} {err}"
    );
    let (code, status, _) = curl_exit(&format!("{base}/head-then?then=sleep&ms=10"), &[]);
    assert_eq!((code, status), (Some(0), 200), "a whole body ends cleanly");
    let log = server.wait_for_log("GET /head-then 200", 1, Duration::from_secs(10));
    let cut: Vec<&str> = log
        .lines()
        .filter(|l| {
            (l.starts_with("GET /head-then 200") && l.contains("cut after its head"))
                || (l.starts_with("GET /head-then - ")
                    && l.contains("before the response went out"))
        })
        .collect();
    assert_eq!(cut.len(), 4, "{log}");
    assert!(cut.iter().any(|l| l.contains("--timeout 1s")), "{log}");
    assert!(cut.iter().any(|l| l.contains("trapped")), "{log}");
    assert!(
        cut.iter().any(|l| l.contains("--max-memory 33554432")),
        "{log}"
    );
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("GET /head-then 200") && !l.contains("error"))
            .count(),
        1,
        "only the whole one is logged as a success: {log}"
    );

    let fuel = Server::wasmforge(&p.wasm, &["--fuel", "100000000"]);
    let (code, status, _) = curl_exit(
        &format!("{}/head-then?then=spin", fuel.url.trim_end_matches('/')),
        &[],
    );
    assert_eq!((code, status), (Some(18), 200));
    fuel.wait_for_log("used all its fuel", 1, Duration::from_secs(10));
}

#[test]
fn a_guest_whose_client_left_mid_body_is_stopped() {
    let Some(p) = probe() else { return };
    // One slot, no limits: a guest spinning after its head, and one streaming for ever, whose
    // clients give up. Each frees the slot (before, it kept it and a core: later requests hung).
    let server = Server::wasmforge(&p.wasm, &["--max-concurrency", "1"]);
    let base = server.url.trim_end_matches('/').to_string();
    for path in ["/head-then?then=spin", "/stream"] {
        let (code, status, _) = curl_exit(&format!("{base}{path}"), &["--max-time", "1"]);
        assert_eq!((code, status), (Some(28), 200), "curl gave up on {path}");
        let reply = curl(&format!("{base}/"), &["--max-time", "30"]);
        assert_eq!((reply.status, reply.text().as_str()), (200, "probe\n"));
    }
    let log = server.stderr();
    assert_eq!(
        log.matches("the client closed the connection during the response")
            .count(),
        2,
        "{log}"
    );
}

#[test]
fn stopping_abandons_requests_after_the_grace_period_and_says_so() {
    let Some(p) = probe() else { return };
    let mut server = Server::wasmforge(&p.wasm, &["--shutdown-timeout", "1s"]);
    let mut streaming = in_flight(&server, "/stream", "chunk 1");
    signal(&server, "TERM");
    assert_eq!(
        exit_code(&mut server, Duration::from_secs(30)),
        Some(1),
        "requests were cut: not a clean stop"
    );
    assert!(closed_within(&mut streaming, Duration::from_secs(10)).is_some());
    let log = server.stderr();
    assert!(
        log.contains("GET /stream 200")
            && log.contains("abandoned: the server stopped after --shutdown-timeout 1s"),
        "{log}"
    );
    assert!(
        log.contains("1 request in flight was abandoned")
            && !log.contains("requests in flight finished"),
        "{log}"
    );
    assert!(!log.contains("client closed"), "{log}");

    // A second signal: at once, 130, and the request is abandoned (no 499, no "finished").
    let mut server = Server::wasmforge(&p.wasm, &[]);
    let _sleeping = in_flight(&server, "/head-then?then=sleep&ms=30000", "head sent");
    signal(&server, "TERM");
    // The first signal has been handled once the server no longer accepts connections.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address(&server)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&server, "TERM");
    assert_eq!(exit_code(&mut server, Duration::from_secs(30)), Some(130));
    let log = server.stderr();
    assert!(
        log.contains("abandoned: a second signal stopped the server")
            && log.contains("1 request in flight was abandoned"),
        "{log}"
    );
    assert!(
        !log.contains(" 499 ") && !log.contains("requests in flight finished"),
        "{log}"
    );
}

#[test]
fn a_guest_sees_its_file_name_not_where_the_host_keeps_it() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &[]);
    let args = server.get("/args");
    assert_eq!(
        (args.status, args.text().as_str()),
        (200, "http-probe.wasm")
    );
}

#[test]
fn a_memory_limit_below_what_the_component_needs_is_refused_with_the_figure() {
    let Some(p) = probe() else { return };
    let out = run(wasmforge()
        .arg("serve")
        .arg(&p.wasm)
        .args(["--max-memory", "1"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("needs at least") && text.contains("bytes of linear memory to start"),
        "{text}"
    );
    assert!(text.contains("--max-memory 2MiB or more"), "{text}");
    assert!(!text.contains("not valid WebAssembly"), "{text}");
}

#[test]
fn a_concurrency_the_address_space_cannot_hold_is_refused_up_front() {
    // The pool reserves address space for every slot when the engine is made, before anything
    // is built or served: 10000 slots of several GiB each do not fit in 128 TiB.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(wasmforge()
        .arg("serve")
        .arg(dir.path().join("missing.wasm"))
        .args(["--max-concurrency", "10000"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("--max-concurrency 10000 needs more address space")
            && text.contains("slots fit"),
        "{text}"
    );
    assert!(!text.contains("mmap failed"), "{text}");
    // The hint's figure is one that works: the engine is made, and then the missing file is
    // what is wrong.
    let hinted = text
        .split("--max-concurrency ")
        .nth(2)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a figure in the hint")
        .to_string();
    let out = run(wasmforge()
        .arg("serve")
        .arg(dir.path().join("missing.wasm"))
        .args(["--max-concurrency", &hinted]));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces, so read after its closing paren.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Whether `pid` is a live process (not gone, not a zombie nobody reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

#[test]
fn dev_takes_its_command_with_it_whatever_stops_it() {
    if !require_rust_targets() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("sleeper");
    std::fs::create_dir_all(project.join("src")).expect("mkdir");
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"sleeper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .expect("write");
    std::fs::write(
        project.join("src/main.rs"),
        "fn main() { println!(\"sleeping\"); std::thread::sleep(std::time::Duration::from_secs(300)); }\n",
    )
    .expect("write");
    for signal_name in ["TERM", "HUP", "KILL"] {
        let mut cmd = wasmforge();
        cmd.env("CARGO_TARGET_DIR", shared_target().join("sleeper"))
            .arg("dev")
            .arg(&project);
        let mut server = Server::start(cmd, "sleeping", Duration::from_secs(300));
        let dev = server.child.id();
        let runs = children(dev);
        assert_eq!(runs.len(), 1, "dev runs its command as one child: {runs:?}");
        let run = runs[0];
        assert!(alive(run));
        signal(&server, signal_name);
        exit_code(&mut server, Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(run) {
            assert!(
                Instant::now() < deadline,
                "the run ({run}) outlived dev after SIG{signal_name}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
