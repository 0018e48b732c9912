//! push and pull against a real `distribution` registry (Debian's docker-registry) started on a
//! free 127.0.0.1 port, and OCI layout folders, checked with skopeo and umoci.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// A registry process with its own storage, stopped when dropped.
pub(crate) struct Registry {
    child: Child,
    pub(crate) addr: String,
    storage: PathBuf,
    _dir: TempDirPath,
}

/// A folder removed when dropped (kept while a registry restarts with new settings).
struct TempDirPath(PathBuf);

impl Drop for TempDirPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Registry {
    pub(crate) fn start() -> Option<Registry> {
        if !require(
            Path::new("/usr/bin/docker-registry").is_file(),
            "docker-registry is not installed (apt-get install docker-registry)",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir").keep();
        Registry::start_configured(dir, "")
    }

    /// Starts a registry storing under `dir`, with extra configuration (`HTPASSWD` stands for
    /// `dir/htpasswd`).
    fn start_configured(dir: PathBuf, extra: &str) -> Option<Registry> {
        Registry::start_on(dir, "127.0.0.1", extra)
    }

    /// `start_configured` on another loopback address; `http_extra` goes under `http:`, the
    /// rest of `extra` at the top level.
    fn start_on(dir: PathBuf, host: &str, http_extra: &str) -> Option<Registry> {
        let (http_extra, extra) = if http_extra.starts_with("  ") {
            (http_extra, "")
        } else {
            ("", http_extra)
        };
        let extra = extra.replace("HTPASSWD", &dir.join("htpasswd").display().to_string());
        std::fs::create_dir_all(&dir).expect("registry folder");
        let dir = TempDirPath(dir);
        let port = std::net::TcpListener::bind(format!("{host}:0"))
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let addr = format!("{host}:{port}");
        let storage = dir.0.join("data");
        let config = dir.0.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n{http_extra}{extra}",
                storage.display()
            ),
        )
        .expect("config");
        let log = std::fs::File::create(dir.0.join("access.log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            // The access log (one line per request, on stdout) and errors (stderr).
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child,
            addr,
            storage,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(&registry.addr).is_ok() {
                return Some(registry);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {}", registry.addr);
    }

    /// How many blob uploads the registry has started for `repository` (from its access log).
    pub(crate) fn uploads(&self, repository: &str) -> usize {
        let log = self.storage.parent().expect("dir").join("access.log");
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .matches(&format!("\"POST /v2/{repository}/blobs/uploads/"))
            .count()
    }

    /// The file a blob is stored in (distribution's filesystem layout).
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skopeo(args: &[&str]) -> Value {
    let output = run(Command::new("skopeo").args(args));
    assert_eq!(
        output.status.code(),
        Some(0),
        "skopeo {args:?}: {}",
        stderr(&output)
    );
    json(&output)
}

/// A debug build of hello-rust for `target` (a core module for wasip1, a component for wasip2).
fn module(target: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = project("hello-rust");
    let doc = build_ok(&dir, &["--target", target]);
    let path = PathBuf::from(doc["artifacts"][0]["path"].as_str().expect("path"));
    (tmp, path)
}

fn push(file: &Path, reference: &str, extra: &[&str]) -> Value {
    let output = run(wasmforge()
        .arg("push")
        .arg(file)
        .arg(reference)
        .args(extra)
        .args(["--format", "json"])
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    json(&output)
}

#[test]
fn core_module_and_component_round_trip_through_a_registry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require(on_path("skopeo"), "skopeo is not installed") || !require_rust_targets() {
        return;
    }
    for (target, os) in [("wasip1", "wasip1"), ("wasip2", "wasip2")] {
        let (_tmp, file) = module(target);
        let reference = format!("{}/hello-{target}:1.0", registry.addr);
        let report = push(&file, &reference, &["--tag", "1.0", "--tag", "latest"]);
        assert_eq!(report["uploaded"], 2);
        let digest = report["digest"].as_str().expect("digest").to_string();
        assert_eq!(report["references"].as_array().map(Vec::len), Some(2));

        // What other tools read back.
        let docker = format!("docker://{}/hello-{target}:latest", registry.addr);
        let manifest = skopeo(&["inspect", "--raw", "--tls-verify=false", &docker]);
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.wasm.config.v0+json"
        );
        assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));
        assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );
        assert!(
            manifest["annotations"]["org.opencontainers.image.title"]
                .as_str()
                .is_some_and(|t| t.ends_with(".wasm"))
        );
        let config = skopeo(&[
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            &docker,
        ]);
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["os"], os);
        assert_eq!(config["layerDigests"][0], manifest["layers"][0]["digest"]);
        if target == "wasip2" {
            let imports: Vec<&str> = config["component"]["imports"]
                .as_array()
                .expect("imports")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                imports.iter().any(|i| i.starts_with("wasi:cli/")),
                "{imports:?}"
            );
            assert_eq!(
                config["component"]["exports"][0]
                    .as_str()
                    .map(|e| e.starts_with("wasi:cli/run@0.2")),
                Some(true)
            );
        } else {
            assert!(config.get("component").is_none());
        }

        // Pull: the same bytes, by tag and by digest.
        let out = tempfile::tempdir().expect("tempdir");
        let pulled = out.path().join("pulled.wasm");
        let output = run(wasmforge()
            .arg("pull")
            .arg(&reference)
            .arg("-o")
            .arg(&pulled)
            .args(["--format", "json"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            std::fs::read(&pulled).expect("read"),
            std::fs::read(&file).expect("read")
        );
        assert_eq!(json(&output)["digest"], digest.as_str());
        let by_digest = format!("{}/hello-{target}@{digest}", registry.addr);
        let output = run(wasmforge()
            .arg("pull")
            .arg(&by_digest)
            .arg("-o")
            .arg(out.path().join("d.wasm")));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

        // A Rust project folder: built in release, its package version annotated.
        if target == "wasip1" {
            let (_tmp, dir) = project("hello-rust");
            let output = run(wasmforge()
                .arg("push")
                .arg(&dir)
                .arg(format!("{}/from-folder:1", registry.addr)));
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let manifest = skopeo(&[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{}/from-folder:1", registry.addr),
            ]);
            assert_eq!(
                manifest["annotations"]["org.opencontainers.image.version"],
                "0.1.0"
            );
        }

        // `run REF` pulls into the cache and runs it.
        let output = run(wasmforge()
            .arg("run")
            .arg(&reference)
            .arg("--")
            .arg("Registry"));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("Hello, Registry!"),
            "{}",
            stdout(&output)
        );

        // Re-push of the same bytes: nothing uploaded (the registry saw no upload), the same
        // digest.
        let uploads = registry.uploads(&format!("hello-{target}"));
        assert_eq!(
            uploads,
            2,
            "config and layer were uploaded once: {}",
            std::fs::read_to_string(registry.storage.parent().expect("dir").join("access.log"))
                .unwrap_or_default()
        );
        let again = push(&file, &reference, &[]);
        assert_eq!(registry.uploads(&format!("hello-{target}")), uploads);
        assert_eq!(
            (again["uploaded"].as_u64(), again["skipped"].as_u64()),
            (Some(0), Some(2))
        );
        assert_eq!(again["digest"], digest.as_str());
    }
}

#[test]
fn missing_tags_unreachable_registries_and_tampered_blobs() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let dest = out.path().join("x.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/nothing:1.0", registry.addr))
        .arg("-o")
        .arg(&dest));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("was not found"),
        "{}",
        stderr(&output)
    );
    assert!(!dest.exists());

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("127.0.0.1:{closed}/app:1.0"))
        .arg("-o")
        .arg(&dest));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot reach the registry"),
        "{}",
        stderr(&output)
    );

    let output = run(wasmforge().args(["pull", "Acme/App:1.0"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("repository names must be lowercase"));

    // A blob changed in the registry's storage is refused, and nothing is written.
    let wat = repo_root().join("tests/fixtures/wat");
    let file = std::fs::read_dir(&wat)
        .expect("wat")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "wat"))
        .expect("a .wat");
    let report = push(&file, &format!("{}/tampered:1.0", registry.addr), &[]);
    let manifest = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/tampered:1.0", registry.addr),
    ]);
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .expect("layer")
        .to_string();
    let blob = registry.blob_file(&layer);
    let mut bytes = std::fs::read(&blob).expect("blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).expect("tamper");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/tampered:1.0", registry.addr))
        .arg("-o")
        .arg(&dest));
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        stderr(&output).contains("does not match its digest"),
        "{}",
        stderr(&output)
    );
    assert!(!dest.exists(), "nothing written");
}

#[test]
fn layout_folders_are_read_by_skopeo_and_umoci() {
    if !require(
        on_path("skopeo") && on_path("umoci"),
        "skopeo and umoci are not installed",
    ) || !require_rust_targets()
    {
        return;
    }
    let (_tmp, file) = module("wasip1");
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    let report = push(&file, &format!("oci:{}:1.0", layout.display()), &[]);
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}:1.0", layout.display())]);
    assert_eq!(raw["layers"][0]["mediaType"], "application/wasm");
    let pulled = dir.path().join("back.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("oci:{}:1.0", layout.display()))
        .arg("-o")
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&pulled).expect("read"),
        std::fs::read(&file).expect("read")
    );
    assert_eq!(
        push(&file, &format!("oci:{}:1.0", layout.display()), &[])["digest"],
        report["digest"]
    );

    // The wasi/wasm image: its config, and the module in its one layer.
    let image = dir.path().join("image");
    push(
        &file,
        &format!("oci:{}:img", image.display()),
        &["--layout", "image"],
    );
    let config = skopeo(&[
        "inspect",
        "--config",
        "--raw",
        &format!("oci:{}:img", image.display()),
    ]);
    assert_eq!(
        (config["os"].as_str(), config["architecture"].as_str()),
        (Some("wasi"), Some("wasm"))
    );
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(config["config"]["Entrypoint"][0], format!("/{name}"));
    let rootfs = dir.path().join("rootfs");
    let output = run(Command::new("umoci")
        .args(["raw", "unpack", "--rootless", "--image"])
        .arg(format!("{}:img", image.display()))
        .arg(&rootfs));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(rootfs.join(&name)).expect("module in the layer"),
        std::fs::read(&file).expect("read")
    );
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("oci:{}:img", image.display()))
        .arg("-o")
        .arg(dir.path().join("img.wasm")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

impl Registry {
    /// A registry that wants basic credentials (htpasswd, bcrypt) for everything.
    pub(crate) fn start_with_password(user: &str, password: &str) -> Option<Registry> {
        if !require(
            Path::new("/usr/bin/docker-registry").is_file() && on_path("htpasswd"),
            "docker-registry or htpasswd is not installed (apt-get install docker-registry apache2-utils)",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let output = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd");
        std::fs::write(dir.join("htpasswd"), &output.stdout).expect("write htpasswd");
        Registry::start_configured(
            dir,
            "auth:\n  htpasswd:\n    realm: wasmforge-test\n    path: HTPASSWD\n",
        )
    }
}

const PASSWORD: &str = "s3cret-Pa55word";

/// `wasmforge …` with its own docker config folder.
fn with_config(config: &Path) -> Command {
    let mut cmd = wasmforge();
    cmd.env("DOCKER_CONFIG", config)
        .env_remove("WASMFORGE_REGISTRY_USERNAME")
        .env_remove("WASMFORGE_REGISTRY_PASSWORD");
    cmd
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    eprintln!(
        "$ {cmd:?}\n--- exit: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

#[test]
fn credentials_login_helpers_and_secrets_never_shown() {
    let Some(registry) = Registry::start_with_password("ci", PASSWORD) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("docker");
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let reference = format!("{}/private:1.0", registry.addr);
    let mut outputs: Vec<std::process::Output> = Vec::new();

    // Anonymous: refused, with a hint to log in.
    let output = run(with_config(&config)
        .args(["-v", "push"])
        .arg(&wat)
        .arg(&reference));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("needs credentials"),
        "{}",
        stderr(&output)
    );
    outputs.push(output);

    // A wrong password: unauthorised, nothing stored.
    let output = run_with_stdin(
        with_config(&config).args(["login", &registry.addr, "-u", "ci", "--password-stdin"]),
        "wrong\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("rejected the credentials"),
        "{}",
        stderr(&output)
    );
    assert!(!config.join("config.json").exists());
    outputs.push(output);

    // login, then push and pull with no flags.
    let output = run_with_stdin(
        with_config(&config).args([
            "-v",
            "login",
            &registry.addr,
            "-u",
            "ci",
            "--password-stdin",
        ]),
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    outputs.push(output);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(config.join("config.json"))
            .expect("config")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the docker config is private: {mode:o}");
    }
    let output = run(with_config(&config)
        .args(["-v", "push"])
        .arg(&wat)
        .arg(&reference));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    outputs.push(output);
    let pulled = work.path().join("p.wasm");
    let output = run(with_config(&config)
        .args(["-v", "pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    outputs.push(output);
    let output = run(with_config(&config).args(["logout", &registry.addr]));
    assert_eq!(output.status.code(), Some(0));
    let output = run(with_config(&config)
        .args(["pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(1), "logged out");

    // --password-stdin on push and pull.
    let output = run_with_stdin(
        with_config(&config)
            .args([
                "-v",
                "pull",
                &reference,
                "-u",
                "ci",
                "--password-stdin",
                "-o",
            ])
            .arg(&pulled),
        PASSWORD,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    outputs.push(output);

    // A credential helper on PATH, named in credHelpers.
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let helper = bin.join("docker-credential-wftest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\nif [ \"$1\" = get ]; then printf '{{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"; else exit 1; fi\n"),
    )
    .expect("helper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::write(
        config.join("config.json"),
        format!("{{\"credHelpers\": {{\"{}\": \"wftest\"}}}}", registry.addr),
    )
    .expect("config");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = run(with_config(&config)
        .env("PATH", &path)
        .args(["-v", "pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("docker-credential-wftest"),
        "says where credentials came from"
    );
    outputs.push(output);

    // login with a credsStore: the helper stores them, the config file gets no secret.
    let stored = work.path().join("helper-store.json");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  store) cat > '{}' ;;\n  get) read server; printf '{{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"{PASSWORD}\"}}' \"$server\" ;;\n  *) exit 1 ;;\nesac\n",
            stored.display()
        ),
    )
    .expect("helper");
    std::fs::write(config.join("config.json"), "{\"credsStore\": \"wftest\"}").expect("config");
    let output = run_with_stdin(
        with_config(&config).env("PATH", &path).args([
            "login",
            &registry.addr,
            "-u",
            "ci",
            "--password-stdin",
        ]),
        PASSWORD,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(&stored).expect("stored")).expect("json");
    assert_eq!(
        (record["ServerURL"].as_str(), record["Username"].as_str()),
        (Some(registry.addr.as_str()), Some("ci"))
    );
    assert!(
        !std::fs::read_to_string(config.join("config.json"))
            .expect("config")
            .contains(PASSWORD)
    );
    outputs.push(output);

    // WASMFORGE_REGISTRY_USERNAME / _PASSWORD (CI), for the registry WASMFORGE_REGISTRY names.
    let output = run(wasmforge()
        .env("DOCKER_CONFIG", work.path().join("empty"))
        .env("WASMFORGE_REGISTRY", &registry.addr)
        .env("WASMFORGE_REGISTRY_USERNAME", "ci")
        .env("WASMFORGE_REGISTRY_PASSWORD", PASSWORD)
        .args(["-v", "pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    outputs.push(output);

    for output in &outputs {
        let all = format!("{}{}", stdout(output), stderr(output));
        assert!(!all.contains(PASSWORD), "the password leaked: {all}");
    }
}

/// A TCP proxy in front of a registry that answers the first `fail` connections with
/// `503 Service Unavailable` and passes the rest through; counts connections.
struct FaultProxy {
    addr: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Bytes passed upstream (counted when cutting).
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FaultProxy {
    fn start(upstream: &str, fail: usize) -> FaultProxy {
        FaultProxy::start_cutting(upstream, fail, None)
    }

    /// Like `start`, and with `cut_after`, once that many bytes went upstream (over all the
    /// connections together) the registry is gone: the connection carrying them is cut, and every
    /// connection after it is closed at once — a registry dying in the middle of an upload, as
    /// it looks whether the client keeps one connection or opens one per request.
    fn start_cutting(upstream: &str, fail: usize, cut_after: Option<u64>) -> FaultProxy {
        use std::io::{Read as _, Write as _};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = connections.clone();
        let upstream = upstream.to_string();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = sent.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let upstream = upstream.clone();
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let mut client = stream;
                    if cut_after.is_some_and(|limit| sent.load(Ordering::SeqCst) >= limit) {
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    if n <= fail {
                        // Read the request head, then refuse it.
                        let mut buf = [0u8; 4096];
                        let _ = client.read(&mut buf);
                        let _ = client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }
                    let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                        return;
                    };
                    let (mut c2, mut s2) = (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    );
                    let mut server = server;
                    let up = std::thread::spawn(move || match cut_after {
                        Some(limit) => {
                            let mut buf = [0u8; 16 * 1024];
                            loop {
                                let before = sent.load(Ordering::SeqCst);
                                if before >= limit {
                                    break;
                                }
                                let room = usize::try_from(limit - before)
                                    .unwrap_or(buf.len())
                                    .min(buf.len());
                                match c2.read(&mut buf[..room]) {
                                    Ok(0) | Err(_) => break,
                                    Ok(got) => {
                                        sent.fetch_add(got as u64, Ordering::SeqCst);
                                        if server.write_all(&buf[..got]).is_err() {
                                            break;
                                        }
                                    }
                                }
                            }
                            let _ = server.shutdown(std::net::Shutdown::Both);
                            let _ = c2.shutdown(std::net::Shutdown::Both);
                        }
                        None => {
                            let _ = std::io::copy(&mut c2, &mut server);
                            let _ = server.shutdown(std::net::Shutdown::Write);
                        }
                    });
                    let _ = std::io::copy(&mut s2, &mut client);
                    let _ = client.shutdown(std::net::Shutdown::Write);
                    let _ = up.join();
                });
            }
        });
        FaultProxy {
            addr,
            connections,
            sent: counted,
        }
    }
}

#[test]
fn transient_registry_failures_are_retried_and_a_dead_registry_is_named() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    // The first connection is the auth probe (a 503 there means "no auth"); the second, a
    // blob check, gets the 503 that must be retried.
    let proxy = FaultProxy::start(&registry.addr, 2);
    let reference = format!("{}/retried:1.0", proxy.addr);
    let output = run(wasmforge().arg("push").arg(&wat).arg(&reference));
    assert_eq!(
        output.status.code(),
        Some(0),
        "retried past the 503: {}",
        stderr(&output)
    );
    assert!(proxy.connections.load(std::sync::atomic::Ordering::SeqCst) > 2);
    let out = tempfile::tempdir().expect("tempdir");
    let output = run(wasmforge()
        .arg("pull")
        .arg(&reference)
        .arg("-o")
        .arg(out.path().join("r.wasm")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // A registry that keeps failing: the error names it, after the retries.
    let always = FaultProxy::start(&registry.addr, usize::MAX);
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/retried:1.0", always.addr))
        .arg("-o")
        .arg(out.path().join("x.wasm")));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&always.addr),
        "{}",
        stderr(&output)
    );
    assert!(
        always.connections.load(std::sync::atomic::Ordering::SeqCst) >= 4,
        "tried again"
    );

    // The registry going away in the middle of an upload: the push fails with the registry
    // named; pushed again, it succeeds and pulls back whole.
    let (_tmp, big) = module_file();
    let cutting = FaultProxy::start_cutting(&registry.addr, 0, Some(300_000));
    let output = run(wasmforge()
        .arg("push")
        .arg(&big)
        .arg(format!("{}/cut:1.0", cutting.addr)));
    assert_eq!(
        output.status.code(),
        Some(1),
        "{} bytes of {}: {}{}\nregistry log:\n{}",
        cutting.sent.load(std::sync::atomic::Ordering::SeqCst),
        std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0),
        stdout(&output),
        stderr(&output),
        std::fs::read_to_string(registry.storage.parent().expect("dir").join("access.log"))
            .unwrap_or_default()
    );
    assert!(
        stderr(&output).contains(&cutting.addr),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .arg("push")
        .arg(&big)
        .arg(format!("{}/cut:1.0", registry.addr)));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let back = out.path().join("cut.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/cut:1.0", registry.addr))
        .arg("-o")
        .arg(&back));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&back).expect("read"),
        std::fs::read(&big).expect("read")
    );
}

/// A module of a few MB (the debug hello-rust from the examples, built if needed).
fn module_file() -> (tempfile::TempDir, PathBuf) {
    module("wasip1")
}

#[test]
fn tls_with_a_private_ca_needs_ca_file() {
    if !require(on_path("openssl"), "openssl is not installed") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let sh = |script: &str| {
        let output = run(Command::new("sh").arg("-c").arg(script).current_dir(&dir));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    // 127.0.0.2 is loopback but not "localhost": wasmforge uses HTTPS for it.
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=wasmforge test CA' 2>/dev/null \
        && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.2' 2>/dev/null \
        && printf 'subjectAltName=IP:127.0.0.2\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf \
        && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null",
    );
    let tls = format!(
        "  tls:\n    certificate: {}\n    key: {}\n",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    );
    let Some(registry) = Registry::start_on(dir.clone(), "127.0.0.2", &tls) else {
        return;
    };
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let reference = format!("{}/secure:1.0", registry.addr);
    let output = run(wasmforge().arg("push").arg(&wat).arg(&reference));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("TLS failed"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("--ca-file"),
        "the hint: {}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .arg("push")
        .arg(&wat)
        .arg(&reference)
        .arg("--ca-file")
        .arg(dir.join("ca.pem")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(wasmforge()
        .arg("pull")
        .arg(&reference)
        .arg("--ca-file")
        .arg(dir.join("ca.pem"))
        .arg("-o")
        .arg(dir.join("back.wasm")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Whether the `oras` Python SDK (PyPI) can be imported.
fn have_oras_sdk() -> bool {
    Command::new("python3")
        .args(["-c", "import oras.client"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_oras_sdk_reads_what_wasmforge_pushes_and_the_other_way_round() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require(
        have_oras_sdk(),
        "the oras Python SDK is not installed (pip install oras)",
    ) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let module = work.path().join("scalars.wasm");
    std::fs::write(&module, wat::parse_file(&wat).expect("wat")).expect("write");
    push(&module, &format!("{}/by-wasmforge:1.0", registry.addr), &[]);
    let script = r#"
import json, os, sys, oras.client
host, work = sys.argv[1], sys.argv[2]
client = oras.client.OrasClient(hostname=host, insecure=True)
pulled = client.pull(target=f"{host}/by-wasmforge:1.0", outdir=os.path.join(work, "oras-out"))
print(json.dumps(pulled))
os.chdir(work)
with open("config.json", "w") as f:
    json.dump({"architecture": "wasm", "os": "wasip1", "created": "2026-01-01T00:00:00Z"}, f)
response = client.push(
    target=f"{host}/by-oras:1.0",
    files=["scalars.wasm:application/wasm"],
    manifest_config="config.json:application/vnd.wasm.config.v0+json",
    disable_path_validation=True,
)
print(response.status_code)
"#;
    let output = run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&registry.addr)
        .arg(work.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let by_oras = work.path().join("oras-out/scalars.wasm");
    assert_eq!(
        std::fs::read(&by_oras).expect("oras wrote the layer under its title"),
        std::fs::read(&module).expect("read")
    );
    let back = work.path().join("back.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/by-oras:1.0", registry.addr))
        .arg("-o")
        .arg(&back));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&back).expect("read"),
        std::fs::read(&module).expect("read")
    );
}

/// The token server of `tests/support/token_server.py` (Python, pyjwt + cryptography).
struct TokenServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl TokenServer {
    fn start(dir: &Path, user: &str, password: &str, refresh: &str) -> Option<TokenServer> {
        let ok = Command::new("python3")
            .args(["-c", "import jwt, cryptography"])
            .status()
            .is_ok_and(|s| s.success());
        if !require(
            ok,
            "pyjwt and cryptography are not installed (pip install pyjwt cryptography)",
        ) {
            return None;
        }
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/support/token_server.py"))
            .arg(dir)
            .args([user, password, refresh])
            .spawn()
            .expect("start the token server");
        for _ in 0..200 {
            if let Ok(port) = std::fs::read_to_string(dir.join("port")) {
                return Some(TokenServer {
                    child,
                    dir: dir.to_path_buf(),
                    port: port.trim().parse().expect("port"),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the token server did not start");
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(self.dir.join("requests")).unwrap_or_default()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn bearer_token_registry_with_login_and_identity_tokens() {
    if !require(
        Path::new("/usr/bin/docker-registry").is_file(),
        "docker-registry is not installed",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let _cleanup = TempDirPath(dir.clone());
    let Some(tokens) = TokenServer::start(&dir, "ci", PASSWORD, "refresh-0123456789") else {
        return;
    };
    let auth = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: wasmforge-test-registry\n    issuer: wasmforge-test-issuer\n    rootcertbundle: {}\n",
        tokens.port,
        dir.join("ca.pem").display()
    );
    let Some(registry) = Registry::start_configured(dir.join("registry"), &auth) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("docker");
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let reference = format!("{}/tokens:1.0", registry.addr);

    let output = run(with_config(&config).arg("push").arg(&wat).arg(&reference));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("needs credentials"),
        "{}",
        stderr(&output)
    );

    let output = run_with_stdin(
        with_config(&config).args(["login", &registry.addr, "-u", "ci", "--password-stdin"]),
        PASSWORD,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(with_config(&config).arg("push").arg(&wat).arg(&reference));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // An identity token (a refresh token) in the docker config, exchanged by wasmforge.
    std::fs::write(
        config.join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"identitytoken\": \"refresh-0123456789\"}}}}}}",
            registry.addr
        ),
    )
    .expect("config");
    let pulled = work.path().join("t.wasm");
    let output = run(with_config(&config)
        .args(["-v", "pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        tokens.requests().contains("POST refresh 200"),
        "{}",
        tokens.requests()
    );
    assert!(
        !stderr(&output).contains("refresh-0123456789"),
        "the token is never shown"
    );
    std::fs::write(
        config.join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"identitytoken\": \"refresh-revoked\"}}}}}}",
            registry.addr
        ),
    )
    .expect("config");
    let output = run(with_config(&config)
        .args(["pull", &reference, "-o"])
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("rejected the credentials"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_project_folder_is_built_in_release_then_pushed() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("hello-c");
    let layout = dir.parent().expect("parent").join("layout");
    let output = run(wasmforge()
        .arg("push")
        .arg(&dir)
        .arg(format!("oci:{}:1.0", layout.display()))
        .args([
            "--annotation",
            "org.opencontainers.image.version=1.0.0",
            "--format",
            "json",
        ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Optimiz"),
        "a release build: {}",
        stderr(&output)
    );
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"][0]["digest"].as_str().expect("digest");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .expect("manifest"),
    )
    .expect("json");
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.0.0"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "hello-c.wasm"
    );
    let output = run(wasmforge()
        .arg("run")
        .arg(format!("oci:{}:1.0", layout.display())));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn plain_http_only_for_local_names_and_insecure_registries() {
    if !require(
        Path::new("/usr/bin/docker-registry").is_file(),
        "docker-registry is not installed",
    ) {
        return;
    }
    // 127.0.0.2 is not "localhost" by name: HTTPS unless --insecure says otherwise.
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let Some(registry) = Registry::start_on(dir, "127.0.0.2", "") else {
        return;
    };
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let reference = format!("{}/plain:1.0", registry.addr);
    let output = run(wasmforge().arg("push").arg(&wat).arg(&reference));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--insecure"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .arg("push")
        .arg(&wat)
        .arg(&reference)
        .args(["--insecure", &registry.addr]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Writes an image index into the layout at `dir` whose entries point at `manifest_digest` with
/// the given platforms, tagged `tag`; returns nothing, the layout's index.json names it.
fn add_index(
    dir: &Path,
    manifest_digest: &str,
    manifest_size: u64,
    platforms: &[(&str, &str)],
    tag: &str,
) {
    let entries: Vec<Value> = platforms
        .iter()
        .map(|(os, arch)| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest_size,
                "platform": {"os": os, "architecture": arch},
            })
        })
        .collect();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .expect("json");
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(&index)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(dir.join("blobs/sha256").join(&hex), &index).expect("blob");
    let path = dir.join("index.json");
    let mut top: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("index")).expect("json");
    top["manifests"]
        .as_array_mut()
        .expect("manifests")
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    std::fs::write(&path, serde_json::to_vec(&top).expect("json")).expect("write");
}

#[test]
fn image_indexes_resolve_to_the_wasi_wasm_entry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require(on_path("skopeo"), "skopeo is not installed") {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let wat = repo_root().join("tests/fixtures/wat/scalars.wat");
    let layout = work.path().join("layout");
    let report = push(
        &wat,
        &format!("oci:{}:img", layout.display()),
        &["--layout", "image"],
    );
    let digest = report["digest"].as_str().expect("digest");
    let size = std::fs::metadata(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .expect("manifest")
    .len();
    add_index(
        &layout,
        digest,
        size,
        &[("linux", "amd64"), ("wasi", "wasm")],
        "multi",
    );
    add_index(&layout, digest, size, &[("linux", "arm64")], "linux-only");
    for tag in ["multi", "linux-only"] {
        let output = run(Command::new("skopeo")
            .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/indexed:{tag}", registry.addr)));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let out = work.path().join("from-index.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/indexed:multi", registry.addr))
        .arg("-o")
        .arg(&out));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&out).expect("read"),
        wat::parse_file(&wat).expect("wat")
    );
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("{}/indexed:linux-only", registry.addr))
        .arg("-o")
        .arg(work.path().join("no.wasm")));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("without a wasi/wasm entry (platforms: linux/arm64)"),
        "{}",
        stderr(&output)
    );
}
