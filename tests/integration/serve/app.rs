//! Apps (`[[app.service]]`): the `new --kind app` template (a Rust gateway, a C and a Go
//! service) served in one process, with in-process calls counted at the system-call level
//! (strace: no socket is opened for them), refusals (403, 508, a cycle at load), twelve services
//! from the three HTTP templates, and `dev` swapping one service while the others serve.
//!
//! The template's three services are built once per test binary (debug builds); the tests that
//! need other app layouts point `source` at those built components.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Server, curl, shared_target};
use crate::support::*;

struct App {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The built components: gateway (Rust), users (C), greet (Go).
    gateway: PathBuf,
    users: PathBuf,
    greet: PathBuf,
}

fn build_debug(project: &Path) -> PathBuf {
    let output = run(wasmforge()
        .env("CARGO_TARGET_DIR", shared_target().join("app"))
        .args(["--format", "json", "build"])
        .arg(project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    PathBuf::from(
        json(&output)["artifacts"][0]["path"]
            .as_str()
            .expect("path"),
    )
}

/// `wasmforge new shop --kind app`, each service built once.
fn app() -> Option<&'static App> {
    static APP: OnceLock<Option<App>> = OnceLock::new();
    APP.get_or_init(|| {
        if !(require_rust_targets()
            && require(clang_works(), "clang with wasm-ld and a WASI sysroot")
            && have_go(24)
            && require(on_path("curl"), "curl (apt install curl)"))
        {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("shop");
        let output = run(wasmforge().args(["new", "--kind", "app"]).arg(&root));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            !root.join(".github").exists(),
            "an app's folder gets no single-project CI file"
        );
        Some(App {
            gateway: build_debug(&root.join("gateway")),
            users: build_debug(&root.join("users")),
            greet: build_debug(&root.join("greet")),
            _dir: dir,
            root,
        })
    })
    .as_ref()
}

fn serve_app(dir: &Path, args: &[&str]) -> Server {
    let mut cmd = wasmforge();
    cmd.env("CARGO_TARGET_DIR", shared_target().join("app"))
        .arg("serve")
        .arg(dir)
        .args(["--debug", "--addr", "127.0.0.1:0"])
        .args(args);
    Server::start(cmd, "Serving http://", Duration::from_secs(300))
}

/// An app folder holding only `toml` (its sources are the built components).
fn app_folder(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("wasmforge.toml"), toml).expect("write");
    dir
}

fn service(name: &str, wasm: &Path, route: Option<&str>, calls: &[&str]) -> String {
    let mut text = format!(
        "[[app.service]]\nname = \"{name}\"\nsource = \"{}\"\n",
        wasm.display()
    );
    if let Some(route) = route {
        text.push_str(&format!("route = \"{route}\"\n"));
    }
    let calls: Vec<String> = calls.iter().map(|c| format!("\"{c}\"")).collect();
    text.push_str(&format!("calls = [{}]\n", calls.join(", ")));
    text
}

/// Whether strace can follow a process here (ptrace may be denied in containers).
fn strace_works() -> bool {
    on_path("strace")
        && Command::new("strace")
            .args(["-qq", "-f", "-e", "trace=none", "true"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// The network system calls the process `pid` makes (its threads too) while `during` runs.
fn network_calls(pid: u32, during: impl FnOnce()) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("strace");
    let mut strace = Command::new("strace")
        .args([
            "-qq",
            "-f",
            "-e",
            "trace=socket,connect,accept,accept4",
            "-o",
        ])
        .arg(&log)
        .args(["-p", &pid.to_string()])
        .spawn()
        .expect("strace");
    // strace says nothing when attached: wait until it has seen the process's first call
    // (a request it answers).
    std::thread::sleep(Duration::from_millis(800));
    during();
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status();
    let _ = strace.wait();
    std::fs::read_to_string(&log).unwrap_or_default()
}

#[test]
fn the_app_template_answers_every_route_and_chains_its_services_in_process() {
    let Some(app) = app() else { return };
    if !require(
        strace_works(),
        "strace that can attach (apt install strace)",
    ) {
        return;
    }
    let server = serve_app(&app.root, &[]);
    for (path, says) in [
        ("/", "Hello from the gateway of shop"),
        ("/users/", "users (in C): ada, grace, linus"),
        ("/greet/", "Hello from greet, in Go!"),
        ("/users/chain", "users \u{2192} Hello from greet"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", server.stderr());
        assert!(reply.text().contains(says), "{path}: {}", reply.text());
    }
    // A path below no route but the gateway's goes to the gateway; Go's own 404 for greet's.
    assert_eq!(server.get("/nowhere").status, 404);
    assert_eq!(server.get("/greet/nowhere").status, 404);

    // gateway → users → greet: three requests, each a chain of two in-process calls. The
    // server accepts the three client connections and opens no socket of its own.
    let pid = server.child.id();
    let mut replies = Vec::new();
    let calls = network_calls(pid, || {
        for _ in 0..3 {
            replies.push(server.get("/chain"));
        }
    });
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", server.stderr());
        assert_eq!(
            reply.text(),
            "gateway \u{2192} users \u{2192} Hello from greet, in Go!\n"
        );
    }
    let accepted = calls
        .lines()
        .filter(|l| l.contains("accept") && !l.contains("EAGAIN"))
        .count();
    assert!(
        accepted >= 3,
        "strace saw the clients' connections:\n{calls}"
    );
    assert!(
        !calls.contains("socket(") && !calls.contains("connect("),
        "an in-process call opened a socket:\n{calls}"
    );
    let log = server.wait_for_log("greet \u{2190} users GET / 200", 4, Duration::from_secs(10));
    assert!(
        log.contains("users \u{2190} gateway GET /chain 200"),
        "{log}"
    );

    // The gateway may not call greet: 403, saying which permission is missing, to the calling
    // service and in the log.
    let reply = server.get("/forbidden");
    assert_eq!(reply.status, 403);
    assert!(
        reply.text().contains("`gateway` may not call `greet`"),
        "{}",
        reply.text()
    );
    let log = server.wait_for_log(
        "greet \u{2190} gateway GET / 403",
        1,
        Duration::from_secs(10),
    );
    assert!(
        log.contains("add \"greet\" to its `calls` in wasmforge.toml"),
        "{log}"
    );
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_chain_deeper_than_the_apps_bound_gets_508() {
    let Some(app) = app() else { return };
    let dir = app_folder(&format!(
        "[app]\nmax-call-depth = 1\n{}{}{}",
        service("gateway", &app.gateway, Some("/"), &["users"]),
        service("users", &app.users, Some("/users"), &["greet"]),
        service("greet", &app.greet, None, &[]),
    ));
    let server = serve_app(dir.path(), &[]);
    // One call deep is within the bound.
    let reply = server.get("/users/chain");
    assert_eq!(reply.status, 200, "{}", server.stderr());
    // gateway → users is call 1; users → greet would be call 2.
    let reply = server.get("/chain");
    assert_eq!(reply.status, 508, "{}", reply.text());
    assert!(
        reply.text().contains("508 Loop Detected"),
        "{}",
        reply.text()
    );
    let log = server.wait_for_log("greet \u{2190} users GET / 508", 1, Duration::from_secs(10));
    assert!(log.contains("past the app's bound of 1"), "{log}");
    // greet has no route: a client cannot reach it.
    assert_eq!(server.get("/greet/").status, 404);
}

#[test]
fn a_wrong_app_is_refused_before_anything_is_built_or_served() {
    let Some(app) = app() else { return };
    for (toml, says) in [
        (
            format!(
                "{}{}",
                service("gateway", &app.gateway, Some("/"), &["users"]),
                service("users", &app.users, Some("/users"), &["gateway"]),
            ),
            "cycle: gateway \u{2192} users \u{2192} gateway",
        ),
        (
            format!(
                "{}{}",
                service("a", &app.gateway, Some("/x"), &[]),
                service("b", &app.users, Some("/x/"), &[]),
            ),
            "services `a` and `b` both have the route `/x`",
        ),
        (
            service("gateway", &app.gateway, Some("/"), &["billing"]),
            "service `gateway` calls `billing`, which is not a service of this app",
        ),
        (
            service("gateway", &app.gateway, Some("/"), &[]) + "timeout = \"forever\"\n",
            "--timeout",
        ),
    ] {
        let dir = app_folder(&toml);
        let output = run(wasmforge()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .arg(dir.path()));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{toml}\n{err}");
        assert!(err.contains(says), "{toml}\n{err}");
        assert!(err.contains("wasmforge.toml"), "{err}");
        assert!(!err.contains("Serving"), "{err}");
    }
    // A service that is not an HTTP component is refused naming the service.
    let library = repo_root().join("tests/fixtures/wat/component-lib.wat");
    let dir = app_folder(&format!(
        "{}{}",
        service("gateway", &app.gateway, Some("/"), &[]),
        service("tool", &library, Some("/tool"), &[]),
    ));
    let output = run(wasmforge()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg(dir.path()));
    let err = stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("service `tool`"), "{err}");
    assert!(
        err.contains("not an HTTP component") || err.contains("exports"),
        "{err}"
    );
}

#[test]
fn twelve_services_of_three_languages_answer_from_one_process() {
    let (Some(rust), Some(c), Some(go)) = (super::template(), super::c_template(), go_template())
    else {
        return;
    };
    let mut toml = String::new();
    for i in 1..=4 {
        toml += &service(
            &format!("rust{i}"),
            &rust.wasm,
            Some(&format!("/rust{i}")),
            &[],
        );
        toml += &service(&format!("c{i}"), &c.wasm, Some(&format!("/c{i}")), &[]);
        toml += &service(&format!("go{i}"), &go.wasm, Some(&format!("/go{i}")), &[]);
    }
    let dir = app_folder(&toml);
    let server = serve_app(dir.path(), &[]);
    let mut answered = 0;
    for lang in ["rust", "c", "go"] {
        for i in 1..=4 {
            let reply = server.get(&format!("/{lang}{i}/"));
            assert_eq!(reply.status, 200, "/{lang}{i}/: {}", server.stderr());
            assert!(
                reply.text().contains("a WebAssembly HTTP component"),
                "{}",
                reply.text()
            );
            // The prefix is removed, and said in a header the service can read.
            let echoed = curl(
                &format!("{}/{lang}{i}/echo", server.url),
                &["--data-binary", "ping"],
            );
            assert_eq!(echoed.text(), "ping", "/{lang}{i}/echo");
            answered += 1;
        }
    }
    assert_eq!(answered, 12);
    let log = server.stderr();
    assert!(log.contains("go3 GET /go3/ 200"), "{log}");
}

/// `wasmforge new hello-http --lang go --kind http`, a debug build (Binaryen on a Go module
/// takes long; what is served is the same code).
fn go_template() -> Option<&'static super::Built> {
    static BUILT: OnceLock<Option<super::Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !(have_go(24) && require(on_path("curl"), "curl (apt install curl)")) {
                return None;
            }
            let dir = tempfile::tempdir().expect("tempdir");
            let project = dir.path().join("hello-http");
            let output = run(wasmforge()
                .args(["new", "--lang", "go", "--kind", "http"])
                .arg(&project));
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let wasm = build_debug(&project);
            Some(super::Built {
                _dir: dir,
                project,
                wasm,
            })
        })
        .as_ref()
}

#[test]
fn the_go_template_is_served_and_tested_like_the_others() {
    let Some(t) = go_template() else { return };
    super::answers_get_and_echoes_a_large_post(t);
    // Its tests are plain net/http tests, run in the sandbox.
    let output = run(wasmforge().arg("test").arg(&t.project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("2 passed"), "{text}");
}

#[test]
fn dev_on_an_app_swaps_the_edited_service_while_the_others_keep_serving() {
    let Some(app) = app() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&app.root.join("greet"), &dir.path().join("greet"));
    std::fs::write(
        dir.path().join("wasmforge.toml"),
        format!(
            "{}{}[[app.service]]\nname = \"greet\"\nsource = \"greet\"\nroute = \"/greet\"\n",
            service("gateway", &app.gateway, Some("/"), &["users"]),
            service("users", &app.users, Some("/users"), &["greet"]),
        ),
    )
    .expect("write");
    let mut cmd = wasmforge();
    cmd.arg("dev")
        .arg(dir.path())
        .args(["--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(300));
    assert!(server.get("/greet/").text().contains("Hello from greet"));

    let main = dir.path().join("greet/main.go");
    let text = std::fs::read_to_string(&main).expect("main.go");
    std::fs::write(&main, text.replace("Hello from greet", "Edited greet")).expect("write");
    // Until the swap, and after it, the others answer every time.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut others = 0;
    loop {
        let users = server.get("/users/");
        assert_eq!(users.status, 200, "users stopped: {}", server.stderr());
        let gateway = server.get("/");
        assert_eq!(
            gateway.status,
            200,
            "the gateway stopped: {}",
            server.stderr()
        );
        others += 2;
        if server.get("/greet/").text().contains("Edited greet") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not swapped:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(others >= 2);
    // The chain reaches the new greet.
    assert_eq!(
        server.get("/users/chain").text(),
        "users \u{2192} Edited greet, in Go!\n"
    );
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("Swapped service `greet`"), "{log}");
    assert_eq!(
        log.matches("Building").count(),
        2,
        "only greet was built, twice:\n{log}"
    );
}

#[test]
fn a_pushed_app_is_one_artifact_listing_its_services_and_serve_ref_serves_them_all() {
    let Some(app) = app() else { return };
    let Some(registry) = crate::registry::Registry::start() else {
        return;
    };
    if !require(on_path("skopeo"), "skopeo is not installed") {
        return;
    }
    let dir = app_folder(&format!(
        "{}{}{}env = {{ GREETING = \"hi\" }}\nallow-http = [\"example.com\"]\n",
        service("gateway", &app.gateway, Some("/"), &["users"]),
        service("users", &app.users, Some("/users"), &["greet"]),
        service("greet", &app.greet, Some("/greet"), &[]),
    ));
    let reference = format!("{}/shop:1.0", registry.addr);
    let push = |expect_uploaded: u64| {
        // Outside a git repository, `created` is the time of the push unless fixed.
        let output = run(wasmforge()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["--format", "json", "push"])
            .arg(dir.path())
            .arg(&reference));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report = json(&output);
        assert_eq!(report["uploaded"], expect_uploaded, "{report}");
        report["digest"].as_str().expect("digest").to_string()
    };
    // The config and the three components; pushed again, every blob is reused by its digest.
    let digest = push(4);
    assert_eq!(push(0), digest, "the same app has the same digest");

    let docker = format!("docker://{reference}");
    let raw = run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", &docker]));
    assert!(raw.status.success(), "{}", stderr(&raw));
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).expect("manifest");
    assert_eq!(manifest["artifactType"], "application/vnd.wasmforge.app.v1");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasmforge.app.config.v1+json"
    );
    let layers = manifest["layers"].as_array().expect("layers");
    let titles: Vec<&str> = layers
        .iter()
        .map(|l| {
            l["annotations"]["org.opencontainers.image.title"]
                .as_str()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(titles, ["gateway.wasm", "users.wasm", "greet.wasm"]);
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        &docker,
    ]));
    let config: serde_json::Value = serde_json::from_slice(&raw.stdout).expect("config");
    // Each service names its component by digest: the layer's.
    for (service, layer) in config["service"]
        .as_array()
        .expect("services")
        .iter()
        .zip(layers)
    {
        assert_eq!(service["source"], layer["digest"], "{config}");
    }
    assert_eq!(config["service"][1]["calls"][0], "greet");
    assert_eq!(config["service"][2]["env"]["GREETING"], "hi");

    // `serve REF` pulls every service (digests verified) and serves the app.
    let mut cmd = wasmforge();
    cmd.args(["serve", &reference, "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd, "Serving http://", Duration::from_secs(300));
    assert_eq!(
        server.get("/chain").text(),
        "gateway \u{2192} users \u{2192} Hello from greet, in Go!\n"
    );
    assert_eq!(server.get("/users/").status, 200);
    // What reaches the host is the server's to grant, not the artifact's.
    let (_, log) = server.terminate();
    assert!(
        log.contains("service `greet` of") && log.contains("asks for --allow-http example.com"),
        "{log}"
    );

    // One module was expected: the app says what it is and how to serve it.
    let output = run(wasmforge().args(["run", &reference]));
    let err = stderr(&output);
    assert_ne!(output.status.code(), Some(0));
    assert!(err.contains("is an app of 3 services"), "{err}");
    assert!(err.contains("wasmforge serve REF"), "{err}");
}
