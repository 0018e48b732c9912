//! Registries and layout folders as an attacker would make them: forged sizes, endless bodies,
//! decompression bombs, FIFOs, credentials fished for; and a careless user's paths and tags.
//! Nothing may crash wasmforge, exhaust its memory, hang it, or get written.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use serde_json::{Value, json};

use crate::support::*;

/// The hostile registry of `tests/support/forged_registry.py`, stopped when dropped.
struct Forged {
    child: Child,
    addr: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Forged {
    fn start(scenario: &str) -> Option<Forged> {
        if !require(on_path("python3"), "python3 is not installed") {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (port_file, log) = (dir.path().join("port"), dir.path().join("requests.jsonl"));
        std::fs::write(&log, "").expect("log");
        let child = Command::new("python3")
            .arg(repo_root().join("tests/support/forged_registry.py"))
            .arg(scenario)
            .arg(&port_file)
            .arg(&log)
            .spawn()
            .expect("start the forged registry");
        // Dropped (so killed and waited for) on every path from here.
        let mut forged = Forged {
            child,
            addr: String::new(),
            log,
            _dir: dir,
        };
        for _ in 0..200 {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                forged.addr = format!("127.0.0.1:{}", port.trim());
                return Some(forged);
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the forged registry did not start");
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Forged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wasmforge ARGS` that must end by itself (coreutils `timeout` stops it after 120 s: exit 124).
fn bounded(args: &[&std::ffi::OsStr]) -> Output {
    let binary = wasmforge();
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg(binary.get_program()).args(args);
    for (key, value) in binary.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    run(cmd
        .env_remove("WASMFORGE_REGISTRY_USERNAME")
        .env_remove("WASMFORGE_REGISTRY_PASSWORD")
        .env(
            "DOCKER_CONFIG",
            std::env::temp_dir().join("wasmforge-no-docker-config"),
        ))
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// `wasmforge pull REFERENCE -o OUT EXTRA…`, bounded in time.
fn pull(reference: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![os("pull"), os(reference), os("-o"), out.as_os_str()];
    args.extend(extra.iter().map(|a| os(a)));
    bounded(&args)
}

/// The command was refused (exit 1), said `needle`, and wrote nothing to `out`.
#[track_caller]
fn assert_refused(output: &Output, needle: &str, out: &Path) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(stderr(output).contains(needle), "{}", stderr(output));
    assert!(!out.exists(), "nothing written to {}", out.display());
}

#[test]
fn declared_layer_sizes_are_never_trusted_for_memory() {
    for scenario in ["declares-2^62", "declares-2^64-1"] {
        let Some(registry) = Forged::start(scenario) else {
            return;
        };
        let out = tempfile::tempdir().expect("tempdir");
        let file = out.path().join("app.wasm");
        let reference = format!("{}/app:1", registry.addr);
        assert_refused(&pull(&reference, &file, &[]), "larger than", &file);
        let output = bounded(&[os("run"), os(&reference)]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{scenario}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_registry_sending_more_than_it_declared_is_cut_off() {
    let Some(registry) = Forged::start("sends-more") else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("app.wasm");
    let output = pull(&format!("{}/app:1", registry.addr), &file, &[]);
    // It would send zeros for ever: the pull stops after the declared 109 bytes.
    assert_refused(&output, "sent past its declared size", &file);

    let Some(registry) = Forged::start("endless-manifest") else {
        return;
    };
    let output = pull(&format!("{}/app:1", registry.addr), &file, &[]);
    assert_refused(&output, "the manifest is larger than 4194304 bytes", &file);
}

#[test]
fn credentials_from_the_environment_go_only_to_their_registry() {
    let Some(registry) = Forged::start("basic-challenge") else {
        return;
    };
    let reference = format!("{}/app:1", registry.addr);
    let pull = |meant: Option<&str>| {
        let mut cmd = wasmforge();
        cmd.env("WASMFORGE_REGISTRY_USERNAME", "ci")
            .env("WASMFORGE_REGISTRY_PASSWORD", "s3cret-env-password")
            .env(
                "DOCKER_CONFIG",
                std::env::temp_dir().join("wasmforge-no-docker-config"),
            )
            .env_remove("WASMFORGE_REGISTRY")
            .args(["pull", &reference, "-o", "/dev/null"]);
        if let Some(meant) = meant {
            cmd.env("WASMFORGE_REGISTRY", meant);
        }
        run(&mut cmd)
    };
    let sent_credentials = |registry: &Forged| {
        registry
            .requests()
            .iter()
            .any(|r| r["authorization"].as_str().is_some())
    };
    // Not said which registry they are for, or said another: this server never gets them.
    for meant in [None, Some("ghcr.io")] {
        let output = pull(meant);
        assert_eq!(output.status.code(), Some(1));
        let err = stderr(&output);
        assert!(err.contains("WASMFORGE_REGISTRY"), "{meant:?}: {err}");
        assert!(!err.contains("s3cret-env-password"));
        assert!(
            !sent_credentials(&registry),
            "{meant:?}: {:?}",
            registry.requests()
        );
    }
    // Meant for it: sent (the control that shows the server would have seen them).
    let _ = pull(Some(&registry.addr));
    assert!(sent_credentials(&registry));
}

#[test]
fn tags_follow_the_reference_grammar_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = tmp.path().join("app.wasm");
    std::fs::write(&module, wat::parse_str("(module)").expect("wat")).expect("write");
    let layout = tmp.path().join("layout");
    let output = run(wasmforge()
        .arg("push")
        .arg(&module)
        .arg(format!("oci:{}:v1", layout.display())));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let index = std::fs::read(layout.join("index.json")).expect("index");
    for tag in ["../../other/manifests/hijacked", "a b", "v1\nx", "-x", ""] {
        for target in [
            "127.0.0.1:9/app:1".to_string(),
            format!("oci:{}:v1", layout.display()),
        ] {
            let output = run(wasmforge()
                .arg("push")
                .arg(&module)
                .arg(&target)
                .arg(format!("--tag={tag}")));
            assert_eq!(
                output.status.code(),
                Some(2),
                "{tag:?} {target}: {}",
                stderr(&output)
            );
            assert!(
                stderr(&output).contains("is not a tag"),
                "{}",
                stderr(&output)
            );
        }
    }
    assert_eq!(
        std::fs::read(layout.join("index.json")).expect("index"),
        index
    );
}

/// An OCI layout folder with one manifest whose only layer is `layer` (written as the blob
/// `layer_digest`, or given as it is when `layer_path` is set) and declares `size`.
fn forged_layout(dir: &Path, media_type: &str, layer: &[u8], declared: u64) -> (PathBuf, String) {
    use sha2::Digest as _;
    let hex = |b: &[u8]| -> String {
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    let layer_hex = hex(layer);
    std::fs::write(blobs.join(&layer_hex), layer).expect("layer");
    let config = b"{}";
    std::fs::write(blobs.join(hex(config)), config).expect("config");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": if media_type == "application/wasm" {
            "application/vnd.wasm.config.v0+json" } else { "application/vnd.oci.image.config.v1+json" },
            "digest": format!("sha256:{}", hex(config)), "size": 2},
        "layers": [{"mediaType": media_type, "digest": format!("sha256:{layer_hex}"), "size": declared}],
    }))
    .expect("json");
    let manifest_hex = hex(&manifest);
    std::fs::write(blobs.join(&manifest_hex), &manifest).expect("manifest");
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{manifest_hex}"), "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
    (blobs.join(layer_hex), format!("oci:{}:v1", dir.display()))
}

#[test]
fn layout_folders_are_read_within_bounds_and_only_as_regular_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out.wasm");
    // 64 bytes that are not WebAssembly, declared as 2^60: refused, nothing written.
    let junk = [7u8; 64];
    let (_, reference) = forged_layout(&tmp.path().join("a"), "application/wasm", &junk, 1 << 60);
    let output = pull(&reference, &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!out.exists());
    // Declared truthfully, still not WebAssembly: refused too.
    let (_, reference) = forged_layout(&tmp.path().join("b"), "application/wasm", &junk, 64);
    assert_refused(&pull(&reference, &out, &[]), "WebAssembly header", &out);

    // A FIFO where the layer should be: refused at once, no hang.
    let module = wat::parse_str("(module)").expect("wat");
    let (layer, reference) = forged_layout(
        &tmp.path().join("c"),
        "application/wasm",
        &module,
        module.len() as u64,
    );
    std::fs::remove_file(&layer).expect("rm");
    let status = Command::new("mkfifo").arg(&layer).status().expect("mkfifo");
    assert!(status.success());
    assert_refused(&pull(&reference, &out, &[]), "not a regular file", &out);
}

/// A tar.gz image layer holding `name` of `size` zeros (made by Python: kilobytes of gzip).
fn gzip_bomb(size: u64, name: &str, symlink: bool) -> Vec<u8> {
    let script = r#"
import io, sys, tarfile, gzip
size, name, link = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
raw = io.BytesIO()
with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
    with tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo(name)
        if link:
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = size
            class Zeros(io.RawIOBase):
                def __init__(self): self.left = size
                def readable(self): return True
                def readinto(self, b):
                    n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
            tar.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
sys.stdout.buffer.write(raw.getvalue())
"#;
    let output = Command::new("python3")
        .args([
            "-c",
            script,
            &size.to_string(),
            name,
            if symlink { "1" } else { "0" },
        ])
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn image_layers_are_decompressed_within_bounds_and_only_from_regular_entries() {
    if !require(on_path("python3"), "python3 is not installed") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("bomb.wasm");
    let layer_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    // 64 MiB of zeros in a few kilobytes of gzip, against a 16 MiB cap.
    let bomb = gzip_bomb(64 << 20, "app.wasm", false);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let (_, reference) = forged_layout(&tmp.path().join("a"), layer_type, &bomb, bomb.len() as u64);
    let output = pull(&reference, &out, &["--max-size", "16MiB"]);
    assert_refused(&output, "decompressed", &out);
    // A `.wasm` that is a symlink in the archive is not a module.
    let link = gzip_bomb(0, "app.wasm", true);
    let (_, reference) = forged_layout(&tmp.path().join("b"), layer_type, &link, link.len() as u64);
    assert_refused(&pull(&reference, &out, &[]), "not a regular file", &out);
}

#[test]
fn a_mistyped_path_is_a_missing_file_not_a_docker_hub_pull() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(tmp.path().join("build")).expect("mkdir");
    std::fs::write(
        tmp.path().join("build/app.wasm"),
        wat::parse_str("(module)").expect("wat"),
    )
    .expect("write");
    for target in ["build/app", "build/app.wasn"] {
        let output = run(wasmforge()
            .current_dir(tmp.path())
            .args(["run", "--dir", ".", target]));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{target}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(err.contains(&format!("no such file `{target}`")), "{err}");
        assert!(err.contains("did you mean build/app.wasm"), "{err}");
        assert!(
            !err.contains("docker.io") || err.contains("docker.io/library"),
            "{err}"
        );
        assert!(!err.contains("Pulled"), "{err}");
    }
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .args(["run", "x/app.wasn"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no such file `x/app.wasn`"));
}

#[cfg(unix)]
#[test]
fn login_writes_through_a_linked_config_and_refuses_a_malformed_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(registry) = crate::registry::Registry::start_with_password("ci", "s3cret-Pa55word")
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let (docker, dotfiles) = (tmp.path().join("docker"), tmp.path().join("dotfiles"));
    std::fs::create_dir_all(&docker).expect("mkdir");
    std::fs::create_dir_all(&dotfiles).expect("mkdir");
    let real = dotfiles.join("config.json");
    std::fs::write(&real, "{}").expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink(&real, docker.join("config.json")).expect("symlink");
    let login = || {
        let mut child = wasmforge()
            .env("DOCKER_CONFIG", &docker)
            .env_remove("WASMFORGE_REGISTRY_PASSWORD")
            .args(["login", &registry.addr, "-u", "ci", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"s3cret-Pa55word\n")
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let output = login();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(docker.join("config.json"))
            .expect("meta")
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&real).expect("read")).expect("json");
    assert!(
        config["auths"].as_object().is_some_and(|a| a.len() == 1),
        "{config}"
    );
    assert_eq!(
        std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777,
        0o640,
        "its mode kept"
    );

    // A config that is not docker's shape: an error, and the file as it was.
    for malformed in [r#"{"auths":[]}"#, "[]"] {
        std::fs::write(&real, malformed).expect("write");
        let output = login();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{malformed}: {}",
            stderr(&output)
        );
        assert!(!stdout(&output).contains("Logged in") && !stderr(&output).contains("Logged in"));
        assert_eq!(std::fs::read_to_string(&real).expect("read"), malformed);
    }
}
