//! The containerd shim for real: Debian's containerd 1.6, started by each test as root with its
//! own root, state and socket folders in a temp dir (the native snapshotter), and the shim
//! `containerd-shim-wasmforge-v1` a link to the wasmforge under test. Images are pushed by
//! wasmforge to the test registry and pulled by `ctr images pull --plain-http`, containers run by
//! `ctr run --runtime io.containerd.wasmforge.v1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::registry::Registry;
use crate::support::*;

const RUNTIME: &str = "io.containerd.wasmforge.v1";

/// A containerd of the test's own.
struct Containerd {
    dir: tempfile::TempDir,
    child: Child,
}

impl Containerd {
    /// Starts containerd, or says why it cannot (through `require`).
    fn start() -> Option<Containerd> {
        if !require(
            cfg!(feature = "containerd"),
            "wasmforge was built without the containerd shim (cargo test --features wasmforge/containerd, as tests/run.sh does)",
        ) || !require(
            is_root(),
            "containerd's tests run as root (containerd and its shims make namespaces and mounts)",
        ) || !require(
            on_path("containerd") && on_path("ctr") && on_path("runc"),
            "containerd, ctr or runc is missing (apt-get install containerd runc)",
        ) {
            return None;
        }
        // Unix socket paths are short (108 bytes): the folder is under /tmp.
        let dir = tempfile::Builder::new()
            .prefix("wf-ctd")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_wasmforge"),
            bin.join("containerd-shim-wasmforge-v1"),
        )
        .expect("link the shim");
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [grpc]\n  address = \"{d}/containerd.sock\"\n\
                 [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n"
            ),
        )
        .expect("config");
        let log = std::fs::File::create(dir.path().join("containerd.log")).expect("log");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = Command::new("containerd")
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .env("PATH", path)
            // The shim compiles through the cache the tests' `wasmforge run` uses.
            .env(
                "WASMFORGE_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmforge-cache"),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let containerd = Containerd { dir, child };
        let started = Instant::now();
        while !containerd.ctr(&["version"]).status.success() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "containerd did not start: {}",
                containerd.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(containerd)
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.arg("--address")
            .arg(self.dir.path().join("containerd.sock"))
            .env("CONTAINERD_SNAPSHOTTER", "native");
        cmd
    }

    fn ctr(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("ctr")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    fn pull(&self, image: &str) {
        let output = self.ctr(&["images", "pull", "--plain-http", image]);
        assert!(output.status.success(), "pull {image}: {}", stderr(&output));
    }

    /// `ctr run --rm --runtime io.containerd.wasmforge.v1 [OPTIONS] IMAGE ID [ARGS…]`.
    fn run(&self, options: &[&str], image: &str, id: &str, args: &[&str]) -> Output {
        let mut cmd = self.command();
        cmd.args(["run", "--rm", "--runtime", RUNTIME])
            .args(options)
            .args([image, id])
            .args(args)
            .stdin(Stdio::null());
        run(&mut cmd)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // containerd ends its shims' connections; the containers were removed (--rm).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn push_image(file: &Path, reference: &str) {
    let output = run(wasmforge()
        .args(["push", "--layout", "image", "-q"])
        .arg(file)
        .arg(reference));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// `wasmforge run FILE ARGS`: what the container must print.
fn run_locally(file: &Path, args: &[&str]) -> Output {
    run(wasmforge().arg("run").arg(file).args(args))
}

/// A `new --kind command` Rust project built for wasip2: a command component.
fn command_component() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("greeter");
    let output = run(wasmforge()
        .args(["new", "--lang", "rust", "--kind", "command", "--ci", "none"])
        .arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(wasmforge()
        .args(["--format", "json", "build", "--target", "wasip2"])
        .arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    let wasm = PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"));
    assert!(is_component(&std::fs::read(&wasm).expect("read")));
    (dir, wasm)
}

#[test]
fn modules_and_components_run_as_containers_with_the_containers_grants() {
    let Some(probe) = crate::run::probe("wasip1") else {
        return;
    };
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(containerd) = Containerd::start() else {
        return;
    };
    let reg = &registry.addr;

    // examples/hello-rust (a core module) and a `new --kind command` wasip2 component: the
    // container prints what `wasmforge run` prints and exits as it exits.
    let (_hello_dir, hello_src) = {
        let dir = tempfile::tempdir().expect("tempdir");
        let to = dir.path().join("hello-rust");
        copy_tree(&repo_root().join("examples/hello-rust"), &to);
        (dir, to)
    };
    let output = run(wasmforge()
        .args(["--format", "json", "build"])
        .arg(&hello_src));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let hello = PathBuf::from(
        json(&output)["artifacts"][0]["path"]
            .as_str()
            .expect("path"),
    );
    let (_cmd_dir, component) = command_component();
    for (file, name, args) in [
        (&hello, "hello", vec!["containers"]),
        (&component, "greeter", vec![]),
    ] {
        let image = format!("{reg}/{name}:1");
        push_image(file, &image);
        containerd.pull(&image);
        let local = run_locally(file, &args);
        // The image's entrypoint is the module (`/NAME.wasm`): ARGS follow it.
        let entry = format!(
            "/{}",
            file.file_name().expect("a file name").to_string_lossy()
        );
        let mut container_args = vec![entry.as_str()];
        container_args.extend(args.iter().copied());
        let output = containerd.run(&[], &image, &format!("{name}-1"), &container_args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}\n{}",
            stderr(&output),
            containerd.log()
        );
        assert!(!stdout(&local).is_empty());
        assert_eq!(stdout(&output), stdout(&local), "{name}");
    }

    // The CNCF Wasm artifact (push's default layout): doctor's verdict on this containerd is
    // what happens. containerd before 1.6.25/1.7.7 refuses it at pull and at run.
    let artifact = format!("{reg}/hello-artifact:1");
    let output = run(wasmforge().args(["push", "-q"]).arg(&hello).arg(&artifact));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&run(wasmforge().args([
        "--format",
        "json",
        "doctor",
        "--containerd",
    ])));
    let runs_artifact = doctor_check(&doc, "layouts")["status"] == "ok";
    let pulled = containerd.ctr(&["images", "pull", "--plain-http", &artifact]);
    let ran = containerd.run(
        &[],
        &artifact,
        "artifact",
        &["/hello-rust.wasm", "containers"],
    );
    if runs_artifact {
        assert!(pulled.status.success(), "{}", stderr(&pulled));
        assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
        assert_eq!(stdout(&ran), stdout(&run_locally(&hello, &["containers"])));
    } else {
        for output in [&pulled, &ran] {
            assert!(!output.status.success());
            assert!(
                stderr(output).contains("mismatched image rootfs and manifest layers"),
                "{}",
                stderr(output)
            );
        }
    }

    // The probe: exit codes, env, mounts, memory.
    let image = format!("{reg}/probe:1");
    push_image(&probe, &image);
    // Compiled through the cache `run` fills: the shim finds the probe's code there.
    let output = run(wasmforge()
        .args(["run", "--compiler", "cranelift"])
        .arg(&probe)
        .args(["args", "warm"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    containerd.pull(&image);
    let probe_run = |options: &[&str], id: &str, args: &[&str]| {
        let mut all = vec!["/sandbox-probe.wasm"];
        all.extend(args);
        containerd.run(options, &image, id, &all)
    };
    let output = probe_run(&[], "exit", &["exit", "7"]);
    assert_eq!(output.status.code(), Some(7), "{}", containerd.log());
    assert!(
        containerd
            .log()
            .contains("compiled /sandbox-probe.wasm (cache hit)"),
        "the shim compiled through run's cache: {}",
        containerd.log()
    );
    // A command naming no module in the image: said on the container's stderr, exit 1.
    let output = containerd.run(&[], &image, "missing", &["/nope.wasm"]);
    assert_eq!(output.status.code(), Some(1), "{}", containerd.log());
    assert!(
        stderr(&output).contains("could not read the container's program `/nope.wasm`"),
        "{}",
        stderr(&output)
    );
    let output = probe_run(&["--env", "GREETING=hi there"], "env", &["env", "GREETING"]);
    assert_eq!(stdout(&output).trim(), "ok: hi there");
    assert!(
        !containerd.log().contains("hi there"),
        "env values stay out of containerd's log"
    );

    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("in.txt"), "from the host").expect("write");
    let ro = format!(
        "type=bind,src={},dst=/data,options=rbind:ro",
        data.path().display()
    );
    let rw = format!(
        "type=bind,src={},dst=/data,options=rbind:rw",
        data.path().display()
    );
    let output = probe_run(&["--mount", &ro], "read", &["read", "/data/in.txt"]);
    assert_eq!(
        stdout(&output).trim(),
        "ok: 13 bytes",
        "{}",
        stderr(&output)
    );
    // Read-only mounts are read-only grants.
    let output = probe_run(&["--mount", &ro], "write-ro", &["write", "/data/out.txt"]);
    assert!(
        stdout(&output).starts_with("denied:"),
        "{}",
        stdout(&output)
    );
    assert!(!data.path().join("out.txt").exists());
    let output = probe_run(&["--mount", &rw], "write-rw", &["write", "/data/out.txt"]);
    assert_eq!(stdout(&output).trim(), "ok: written", "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(data.path().join("out.txt")).expect("written"),
        "written by the guest"
    );
    // Outside the mounts nothing is visible: not the image's own files, not /etc.
    for path in ["/sandbox-probe.wasm", "/etc/hostname", "/proc/self/status"] {
        let output = probe_run(&["--mount", &ro], "outside", &["read", path]);
        assert!(
            stdout(&output).starts_with("denied:"),
            "{path}: {}",
            stdout(&output)
        );
        assert_eq!(output.status.code(), Some(3));
    }

    // A memory limit stops a memory bomb: with the cgroup in view (as Kubernetes mounts it) the
    // guest is stopped by --max-memory with run's message and exit code; without it, by the
    // kernel (137).
    let limit = (64u64 << 20).to_string();
    let output = probe_run(
        &[
            "--memory-limit",
            &limit,
            "--mount",
            "type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro",
        ],
        "bomb",
        &["alloc", "1024"],
    );
    assert_eq!(output.status.code(), Some(123), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("over --max-memory"),
        "{}",
        stderr(&output)
    );
    let output = probe_run(
        &["--memory-limit", &limit],
        "bomb-kernel",
        &["alloc", "1024"],
    );
    assert_ne!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(!stdout(&output).contains("allocated"));
    // Within the limit the same program runs.
    let output = probe_run(&["--memory-limit", &limit], "small", &["alloc", "8"]);
    assert_eq!(stdout(&output).trim(), "ok: allocated 8 MiB");
}

#[test]
fn the_http_template_is_served_until_its_task_is_stopped() {
    let Some(template) = crate::serve::template() else {
        return;
    };
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(containerd) = Containerd::start() else {
        return;
    };
    let image = format!("{}/hello-http:1", registry.addr);
    push_image(&template.wasm, &image);
    containerd.pull(&image);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let listen = format!("WASMFORGE_LISTEN=127.0.0.1:{port}");
    let output = containerd.ctr(&[
        "run",
        "-d",
        "--net-host",
        "--runtime",
        RUNTIME,
        "--env",
        &listen,
        &image,
        "web",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let url = format!("http://127.0.0.1:{port}/");
    let started = Instant::now();
    let reply = loop {
        let reply = Command::new("curl")
            .args(["-s", "-i", "--max-time", "5", &url])
            .output()
            .expect("curl");
        if reply.status.success() {
            break String::from_utf8_lossy(&reply.stdout).into_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the container never answered: {}",
            containerd.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("x-served-by"), "{reply}");
    // Stopping the task stops the server.
    let output = containerd.ctr(&["task", "kill", "web"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let started = Instant::now();
    loop {
        let tasks = stdout(&containerd.ctr(&["task", "ls"]));
        if tasks
            .lines()
            .any(|l| l.starts_with("web ") && l.contains("STOPPED"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the task did not stop: {tasks}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens once the task stopped"
    );
    let output = containerd.ctr(&["task", "delete", "web"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = containerd.ctr(&["containers", "rm", "web"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn doctor_says_whether_the_machine_runs_wasm_containers_and_how_to_fix_it() {
    if !require(
        on_path("containerd"),
        "containerd is missing (apt-get install containerd)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let containerd = Command::new("which")
        .arg("containerd")
        .output()
        .expect("which");
    let containerd = PathBuf::from(stdout(&containerd).trim());
    // A PATH with containerd and nothing else: no shim on it.
    let bare = dir.path().join("bare");
    std::fs::create_dir_all(&bare).expect("dir");
    std::os::unix::fs::symlink(&containerd, bare.join("containerd")).expect("link");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "version = 2\n").expect("config");
    let doctor = |path: &Path| {
        run(wasmforge()
            .args([
                "--format",
                "json",
                "doctor",
                "--containerd",
                "--containerd-config",
            ])
            .arg(&config)
            .env("PATH", path))
    };
    let output = doctor(&bare);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let doc = json(&output);
    assert_eq!(doctor_check(&doc, "containerd")["status"], "ok");
    assert_eq!(
        doctor_check(&doc, "shim")["status"],
        "ok",
        "built with the shim"
    );
    let shim = doctor_check(&doc, "shim on PATH");
    assert_eq!(shim["status"], "error");
    assert_eq!(shim["diagnostics"][0]["code"], "WF8002");
    let cri = doctor_check(&doc, "CRI runtime");
    assert_eq!(cri["status"], "warning");
    let fix = cri["diagnostics"][0]["fix"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        fix.contains("runtime_type = \"io.containerd.wasmforge.v1\""),
        "{fix}"
    );
    // Debian's 1.6.20 runs `--layout image` only.
    let layouts = doctor_check(&doc, "layouts");
    let version = doctor_check(&doc, "containerd")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let patch_of_1_6: Option<u32> = version
        .strip_prefix("1.6.")
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok());
    if patch_of_1_6.is_some_and(|patch| patch < 25) {
        assert_eq!(layouts["status"], "warning", "{version}");
        assert_eq!(layouts["diagnostics"][0]["code"], "WF8005", "{version}");
    }

    // The fixes applied: the shim linked on PATH, the lines doctor printed added to the config.
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_wasmforge"),
        bare.join("containerd-shim-wasmforge-v1"),
    )
    .expect("link");
    let lines = fix.lines().skip(1).collect::<Vec<_>>().join("\n");
    std::fs::write(&config, format!("version = 2\n{lines}\n")).expect("config");
    let output = doctor(&bare);
    let doc = json(&output);
    assert_eq!(doctor_check(&doc, "shim on PATH")["status"], "ok", "{doc}");
    assert_eq!(doctor_check(&doc, "CRI runtime")["status"], "ok", "{doc}");
    let failed_only_on_layouts = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .all(|c| c["status"] == "ok" || c["name"] == "layouts");
    assert!(failed_only_on_layouts, "{doc}");
    assert_eq!(output.status.code(), Some(0), "warnings only: {doc}");

    // Something else under the shim's name is not the shim.
    std::fs::remove_file(bare.join("containerd-shim-wasmforge-v1")).expect("rm");
    std::os::unix::fs::symlink("/bin/true", bare.join("containerd-shim-wasmforge-v1"))
        .expect("link");
    let doc = json(&doctor(&bare));
    let shim = doctor_check(&doc, "shim on PATH");
    assert_eq!(shim["status"], "error", "{shim}");
    assert!(
        shim["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("is not a wasmforge shim"),
        "{shim}"
    );
}

#[test]
fn deploy_prints_a_runtime_class_and_a_deployment_kubernetes_can_read() {
    if !require(
        Command::new("python3")
            .args(["-c", "import yaml"])
            .status()
            .is_ok_and(|s| s.success()),
        "python3 with PyYAML is missing (apt-get install python3-yaml)",
    ) {
        return;
    }
    let output = run(wasmforge().args([
        "deploy",
        "registry.example:5000/team/hello-api:1.2",
        "--print",
        "--port",
        "8080",
        "--memory",
        "128Mi",
        "--replicas",
        "3",
        "--env",
        "GREETING=hi: \"there\"",
        "--",
        "--verbose",
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Read back by a YAML parser, as kubectl would.
    let mut python = Command::new("python3");
    python.args([
        "-c",
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))",
    ]);
    let parsed = run_with_stdin(&mut python, stdout(&output).as_bytes());
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    let docs: serde_json::Value = serde_json::from_slice(&parsed.stdout).expect("json");
    let kinds: Vec<&str> = docs
        .as_array()
        .expect("documents")
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["RuntimeClass", "Deployment", "Service"]);
    assert_eq!(docs[0]["handler"], "wasmforge");
    let spec = &docs[1]["spec"];
    assert_eq!(spec["replicas"], 3);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["runtimeClassName"], "wasmforge");
    let container = &pod["containers"][0];
    assert_eq!(container["name"], "hello-api");
    assert_eq!(
        container["image"],
        "registry.example:5000/team/hello-api:1.2"
    );
    assert_eq!(container["args"][0], "--verbose");
    assert_eq!(container["resources"]["limits"]["memory"], "128Mi");
    let env = container["env"].as_array().expect("env");
    assert!(
        env.iter()
            .any(|e| e["name"] == "GREETING" && e["value"] == "hi: \"there\"")
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "WASMFORGE_LISTEN" && e["value"] == "0.0.0.0:8080")
    );
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(
        spec["selector"]["matchLabels"],
        spec["template"]["metadata"]["labels"]
    );
    assert_eq!(docs[2]["spec"]["ports"][0]["targetPort"], "http");

    // Bad input: a name Kubernetes refuses, a layout folder, a bad quantity, no --print.
    for (args, says) in [
        (
            vec!["deploy", "r.example/a:1", "--print", "--name", "Bad_Name"],
            "not a Kubernetes name",
        ),
        (
            vec!["deploy", "oci:out/layout", "--print"],
            "a cluster pulls images from a registry",
        ),
        (
            vec!["deploy", "r.example/a:1", "--print", "--memory", "lots"],
            "not a memory quantity",
        ),
        (vec!["deploy", "r.example/a:1"], "--print"),
    ] {
        let output = run(wasmforge().args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

/// Code nobody here wrote: Lua's interpreter (its own makefile, built once per test binary by the
/// real-world tests) runs a script from a read-only mount as `wasmforge run` runs it.
#[test]
fn real_world_lua_runs_a_mounted_script_as_under_run() {
    let Some(lua) = crate::realworld::lua() else {
        return;
    };
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(containerd) = Containerd::start() else {
        return;
    };
    let module = lua.artifact.as_ref().expect("lua builds");
    let scripts = tempfile::tempdir().expect("tempdir");
    std::fs::write(scripts.path().join("test.lua"), crate::realworld::SCRIPT).expect("write");
    let local = run(wasmforge()
        .arg("run")
        .arg("--dir-ro")
        .arg(format!("{}::/s", scripts.path().display()))
        .arg(module)
        .args(["--", "/s/test.lua"]));
    assert_eq!(local.status.code(), Some(0), "{}", stderr(&local));
    assert!(stdout(&local).contains("sum\t385"), "{}", stdout(&local));
    let image = format!("{}/lua:5.4.8", registry.addr);
    push_image(module, &image);
    containerd.pull(&image);
    let mount = format!(
        "type=bind,src={},dst=/s,options=rbind:ro",
        scripts.path().display()
    );
    let entry = format!(
        "/{}",
        module.file_name().expect("a file name").to_string_lossy()
    );
    let output = containerd.run(
        &["--mount", &mount],
        &image,
        "lua",
        &[&entry, "/s/test.lua"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&output),
        containerd.log()
    );
    assert_eq!(stdout(&output), stdout(&local));
    // Without the mount the script is not there for Lua.
    let output = containerd.run(&[], &image, "lua-nomount", &[&entry, "/s/test.lua"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("/s/test.lua"),
        "{}",
        stderr(&output)
    );
}
