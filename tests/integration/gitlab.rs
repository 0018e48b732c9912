//! The GitLab CI/CD component (`templates/gitlab/wasmforge.yml`), its jobs run for real by
//! gitlab-ci-local (shell executor) against an example project and a local registry.

use std::path::Path;
use std::process::Command;

use crate::registry::Registry;
use crate::support::*;

fn ready() -> bool {
    require(
        on_path("gitlab-ci-local") && on_path("rsync"),
        "gitlab-ci-local (npm install -g gitlab-ci-local@4.60.1) or rsync is not installed",
    ) && require_rust_targets()
}

/// A git repository holding `project` (copied), the component under `templates/`, and a
/// `.gitlab-ci.yml` that includes it with `inputs`.
fn pipeline(project_name: &str, inputs: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, dir) = project(project_name);
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    std::fs::copy(
        repo_root().join("templates/gitlab/wasmforge.yml"),
        dir.join("templates/wasmforge.yml"),
    )
    .expect("copy");
    std::fs::write(
        dir.join(".gitlab-ci.yml"),
        format!("include:\n  - local: templates/wasmforge.yml\n    inputs:\n{inputs}"),
    )
    .expect("write");
    let git = |args: &[&str]| {
        let output = run(Command::new("git").args(args).current_dir(&dir));
        assert_eq!(
            output.status.code(),
            Some(0),
            "git {args:?}: {}",
            stderr(&output)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.email=ci@example.com",
        "-c",
        "user.name=ci",
        "commit",
        "-qm",
        "init",
    ]);
    (tmp, dir)
}

fn gitlab_ci_local(dir: &Path) -> std::process::Output {
    let wasmforge_dir = Path::new(env!("CARGO_BIN_EXE_wasmforge"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    run(Command::new("gitlab-ci-local")
        .arg("--force-shell-executor")
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:{}",
                wasmforge_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env(
            "WASMFORGE_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmforge-cache"),
        )
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CI_REGISTRY_USER")
        .env_remove("CI_REGISTRY_PASSWORD"))
}

fn dotenv(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
fn the_component_is_valid_gitlab_ci() {
    if !require(
        on_path("check-jsonschema"),
        "check-jsonschema is not installed",
    ) {
        return;
    }
    let text = std::fs::read_to_string(repo_root().join("templates/gitlab/wasmforge.yml"))
        .expect("component");
    let documents: Vec<&str> = text.split("\n---\n").collect();
    assert_eq!(documents.len(), 2, "a spec document and a jobs document");
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, document) in documents.iter().enumerate() {
        let file = tmp.path().join(format!("part-{i}.yml"));
        std::fs::write(&file, document).expect("write");
        let output = run(Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.gitlab-ci"])
            .arg(&file));
        assert_eq!(
            output.status.code(),
            Some(0),
            "document {i}: {}",
            stdout(&output)
        );
    }
    assert!(documents[0].starts_with("# ") && documents[0].contains("spec:\n  inputs:"));
}

#[test]
fn doctor_build_and_push_jobs_with_their_reports() {
    if !ready() {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let reference = format!("{}/gitlab:1", registry.addr);
    let (_tmp, dir) = pipeline(
        "hello-rust",
        &format!(
            "      validate-profile: wasip1-command\n      push: \"{reference}\"\n      annotations: \"org.opencontainers.image.version=1.0,org.opencontainers.image.vendor=acme,org.example.glob=*\"\n"
        ),
    );
    // A script with the removed target name: a doctor warning in the Code Quality report.
    std::fs::write(
        dir.join("build.sh"),
        "#!/bin/sh\ncargo build --target wasm32-wasi\n",
    )
    .expect("write");
    // A file a `*` in an annotation would expand to, were the value not kept as it is.
    std::fs::write(dir.join("org.example.glob=expanded"), "").expect("write");
    let output = gitlab_ci_local(&dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    for job in ["wasmforge-doctor", "wasmforge-build", "wasmforge-push"] {
        assert!(
            stdout(&output).contains(&format!("PASS  {job}")),
            "{job}: {}",
            stdout(&output)
        );
    }
    let artifacts = dir.join(".gitlab-ci-local/artifacts");

    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts.join("wasmforge-doctor/gl-code-quality-report.json"))
            .expect("codequality"),
    )
    .expect("json");
    let issue = report
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| i["check_name"] == "WF1004")
        .expect("the WF1004 issue");
    assert_eq!(
        (
            issue["location"]["path"].as_str(),
            issue["location"]["lines"]["begin"].as_u64()
        ),
        (Some("build.sh"), Some(2))
    );

    let build = dotenv(&artifacts.join("wasmforge-build/wasmforge.env"));
    let wasm = std::fs::read(
        artifacts
            .join("wasmforge-build")
            .join(&build["WASMFORGE_WASM"]),
    )
    .expect("the .wasm artifact");
    assert_eq!(build["WASMFORGE_SIZE"], wasm.len().to_string());
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(&wasm)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(build["WASMFORGE_SHA256"], hex);

    let push = dotenv(&artifacts.join("wasmforge-push/wasmforge-push.env"));
    assert!(push["WASMFORGE_DIGEST"].starts_with("sha256:"), "{push:?}");
    assert_eq!(push["WASMFORGE_REFERENCE"], reference);
    let back = dir.join("back.wasm");
    let output = run(wasmforge().arg("pull").arg(&reference).arg("-o").arg(&back));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read(&back).expect("read"), wasm);
    if require(on_path("skopeo"), "skopeo is not installed") {
        let output = run(std::process::Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ]));
        let manifest = json(&output);
        assert_eq!(
            manifest["annotations"]["org.example.glob"], "*",
            "the annotation as written, not a file name: {manifest}"
        );
    }
}

#[test]
fn a_doctor_error_fails_the_pipeline_and_still_reports() {
    if !ready() {
        return;
    }
    let (_tmp, dir) = pipeline("doctor/rust-new-msrv", "      release: false\n");
    let output = gitlab_ci_local(&dir);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("FAIL  wasmforge-doctor"),
        "{}",
        stdout(&output)
    );
    let report = std::fs::read_to_string(
        dir.join(".gitlab-ci-local/artifacts/wasmforge-doctor/gl-code-quality-report.json"),
    )
    .expect("the report is kept when the job fails");
    assert!(report.contains("\"check_name\": \"WF1006\""), "{report}");
}

#[test]
fn the_test_job_publishes_a_junit_report() {
    if !ready() {
        return;
    }
    let (_tmp, dir) = pipeline("rust-tests", "      test: true\n");
    let output = gitlab_ci_local(&dir);
    // Two tests fail (a panic and a trap): the job fails, its report is still kept.
    assert_ne!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("FAIL  wasmforge-test"),
        "{}",
        stdout(&output)
    );
    let junit = std::fs::read_to_string(
        dir.join(".gitlab-ci-local/artifacts/wasmforge-test/wasmforge-junit.xml"),
    )
    .expect("the JUnit report is kept when the job fails");
    assert!(
        junit.contains(r#"<testcase classname="rust-tests (lib)::tests" name="fails">"#)
            && junit.contains("two and two make four"),
        "{junit}"
    );
}
