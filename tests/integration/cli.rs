//! The command-line surface: help text (snapshots), completions, usage errors and exit codes.

use crate::support::*;

fn help(args: &[&str]) -> String {
    let output = run(wasmforge().args(args).arg("--help"));
    assert_eq!(output.status.code(), Some(0));
    stdout(&output)
}

#[test]
fn help_snapshots() {
    assert_snapshot("help-root.txt", help(&[]));
    assert_snapshot("help-build.txt", help(&["build"]));
    assert_snapshot("help-completions.txt", help(&["completions"]));
    assert_snapshot("help-run.txt", help(&["run"]));
    assert_snapshot("help-precompile.txt", help(&["precompile"]));
    assert_snapshot("help-cache.txt", help(&["cache"]));
    for command in [
        "new", "opt", "validate", "inspect", "strip", "doctor", "explain", "push", "pull", "login",
        "logout", "wit", "compose", "serve", "dev", "test",
    ] {
        assert_snapshot(&format!("help-{command}.txt"), help(&[command]));
    }
}

#[test]
fn version_prints_the_package_version() {
    let output = run(wasmforge().arg("--version"));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        format!("wasmforge {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["build", "--no-such-flag"][..],
        &["frobnicate"],
        &["build", "--target", "wasm64"],
        &["--color", "sometimes", "build"],
    ] {
        let output = run(wasmforge().args(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("error:"), "{args:?}");
    }
    let output = run(wasmforge().args(["build", "--target", "wasm32-wasi"]));
    assert!(
        stderr(&output).contains("renamed `wasm32-wasip1`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run(wasmforge().args(["completions", shell]));
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        assert!(
            script.contains("wasmforge") && script.contains("build"),
            "{shell}"
        );
    }
    // The bash script must at least be valid bash.
    let output = run(wasmforge().args(["completions", "bash"]));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wasmforge.bash");
    std::fs::write(&file, &output.stdout).expect("write");
    let check = run(std::process::Command::new("bash").arg("-n").arg(&file));
    assert!(check.status.success());
}

#[test]
fn closed_stdout_exits_quietly() {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child = wasmforge()
        .args(["completions", "zsh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close our end of the pipe before wasmforge writes its (large) script.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit {status:?}, stderr: {err}");
    // Nothing said either; a broken pipe elsewhere (an upload whose registry connection is
    // cut, in the registry tests) is a failure, exit 1.
    assert_eq!(err, "");
}
