//! install.sh, run for real into a temporary prefix, reusing this test build's target folder so
//! no second build of the dependencies happens. The test build has the containerd shim built in
//! (tests/run.sh), so the installs ask for it too (`--shim`): the same build, found fresh, and
//! never a build without it written over the binary the other tests run.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target-dir>/tmp.
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_owned()
}

fn install_sh() -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("install.sh"))
        .env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

#[test]
fn help_exits_zero_and_describes_options() {
    let output = run(install_sh().arg("--help"));
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for word in [
        "--prefix",
        "--debug",
        "CARGO_INSTALL_ROOT",
        "--no-targets",
        "--shim",
        "--shim-dir",
    ] {
        assert!(text.contains(word), "help mentions {word}: {text}");
    }
    let output = run(install_sh().arg("--bogus"));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn installs_into_a_prefix_twice() {
    if !require(which("cargo"), "cargo not on PATH") {
        return;
    }
    let prefix = tempfile::tempdir().expect("tempdir");
    let shim_dir = tempfile::tempdir().expect("tempdir");
    for round in 0..2 {
        let output = run(install_sh()
            .args(["--debug", "--prefix"])
            .arg(prefix.path())
            .arg("--shim-dir")
            .arg(shim_dir.path())
            .env("CARGO_TARGET_DIR", target_dir()));
        assert_eq!(output.status.code(), Some(0), "round {round}");
        let text = stdout(&output) + &stderr(&output);
        assert!(
            text.contains("Installed wasmforge"),
            "round {round}: {text}"
        );
        assert!(text.contains("Next:"), "round {round}: {text}");
    }
    let binary = prefix.path().join("bin/wasmforge");
    let output = run(Command::new(&binary).arg("--version"));
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("wasmforge "));
    // The shim is the installed wasmforge under containerd's name, and answers as the shim.
    let link = shim_dir.path().join("containerd-shim-wasmforge-v1");
    assert_eq!(std::fs::read_link(&link).expect("a link"), binary);
    let output = run(Command::new(&link).arg("-v"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Runtime: wasmforge"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn honours_cargo_install_root() {
    if !require(which("cargo"), "cargo not on PATH") {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    // The link's folder is given: the default (/usr/local/bin when writable) is the machine's.
    let shim_dir = tempfile::tempdir().expect("tempdir");
    let output = run(install_sh()
        .args(["--debug", "--no-targets", "--shim-dir"])
        .arg(shim_dir.path())
        .env("CARGO_INSTALL_ROOT", root.path())
        .env("CARGO_TARGET_DIR", target_dir()));
    assert_eq!(output.status.code(), Some(0));
    assert!(root.path().join("bin/wasmforge").is_file());
    assert!(
        shim_dir
            .path()
            .join("containerd-shim-wasmforge-v1")
            .is_symlink()
    );
}

#[test]
fn fails_clearly_without_cargo() {
    let output = run(install_sh()
        .env("PATH", "/usr/bin:/bin")
        .env("CARGO_HOME", "/nonexistent"));
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("cargo was not found"), "{err}");
    assert!(err.contains("rustup.rs"), "{err}");
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}
