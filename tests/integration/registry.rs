//! push and pull against a real `distribution` registry (Debian's docker-registry) started on a
//! free 127.0.0.1 port, and OCI layout folders, checked with skopeo and umoci.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// A registry process with its own storage, stopped when dropped.
struct Registry {
    child: Child,
    addr: String,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Option<Registry> {
        if !require(
            Path::new("/usr/bin/docker-registry").is_file(),
            "docker-registry is not installed (apt-get install docker-registry)",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let storage = dir.path().join("data");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n", storage.display()),
        )
        .expect("config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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

        // Re-push of the same bytes: nothing uploaded, the same digest.
        let again = push(&file, &reference, &[]);
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
