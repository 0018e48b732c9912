//! `wasmforge doctor --containerd`: is this machine ready to run wasmforge's artifacts as
//! containers? containerd, the shim built into wasmforge and on containerd's PATH, containerd's
//! CRI configuration (Kubernetes), and which of `push`'s layouts this containerd runs.

use std::path::{Path, PathBuf};

use wasmforge_build::diagnostics::Diagnostic;
use wasmforge_build::doctor::{Check, DoctorReport, Status};

/// The binary containerd runs for the runtime [`RUNTIME`]: wasmforge under another name.
pub const SHIM_BINARY: &str = "containerd-shim-wasmforge-v1";
/// The runtime's name in containerd (`ctr run --runtime`, CRI's `runtime_type`).
pub const RUNTIME: &str = "io.containerd.wasmforge.v1";
/// The CRI handler (and RuntimeClass) name the config lines and `deploy` use.
pub const HANDLER: &str = "wasmforge";
/// The container env variable naming the address an HTTP component is served on.
pub const LISTEN_VAR: &str = "WASMFORGE_LISTEN";
/// Where an HTTP component is served when the container's env does not say.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
/// Where containerd reads its configuration unless started with `--config`.
pub const DEFAULT_CONFIG: &str = "/etc/containerd/config.toml";

/// The lines that register the runtime with containerd's CRI plugin (config version 2, which
/// containerd 1.x reads; containerd 2 reads them too and migrates them).
pub fn config_lines() -> String {
    format!(
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.{HANDLER}]\n  runtime_type = \"{RUNTIME}\""
    )
}

/// The checks of `doctor --containerd`.
pub fn report(config: Option<&Path>) -> DoctorReport {
    let mut checks = Vec::new();
    let version = containerd_version();
    checks.push(match &version {
        Some((version, path)) => Check::ok("containerd", format!("{version} ({})", path.display())),
        None => failed(
            "containerd",
            Status::Error,
            "not found on PATH".into(),
            Diagnostic::new(
                "WF8001",
                "containerd was not found on PATH",
                "install containerd (Debian/Ubuntu: `apt-get install containerd`), or run this on the node that runs the containers",
            ),
        ),
    });
    if let Some((version, _)) = &version {
        checks.push(match runs_wasm_artifact(version) {
            Some(true) | None => Check::ok(
                "layouts",
                format!("containerd {version} runs both the Wasm artifact and `push --layout image`"),
            ),
            Some(false) => failed(
                "layouts",
                Status::Warning,
                format!("containerd {version}: `push --layout image` only"),
                Diagnostic::new(
                    "WF8005",
                    format!(
                        "containerd {version} unpacks the Wasm artifact's `application/wasm` layer as a filesystem layer and fails (\"mismatched image rootfs and manifest layers\")"
                    ),
                    "push with `wasmforge push --layout image` (runs on every containerd 1.6), or upgrade containerd to 1.6.25, 1.7.7, 2.0 or later",
                ),
            ),
        });
    }
    checks.push(if cfg!(all(target_os = "linux", feature = "containerd")) {
        Check::ok(
            "shim",
            "built into this wasmforge (runwasi's containerd-shim-wasm 1.0)".into(),
        )
    } else {
        failed(
            "shim",
            Status::Error,
            "not built into this wasmforge".into(),
            Diagnostic::new(
                "WF8003",
                "this wasmforge was built without the containerd shim",
                "`install.sh --shim` (or `cargo install --path cli --features containerd`: needs protobuf-compiler and libseccomp-dev)",
            ),
        )
    });
    checks.push(shim_on_path());
    checks.push(cri_config(config.unwrap_or(Path::new(DEFAULT_CONFIG))));
    DoctorReport {
        project: None,
        checks,
    }
}

fn failed(name: &str, status: Status, detail: String, diagnostic: Diagnostic) -> Check {
    let severity = match status {
        Status::Warning => wasmforge_build::diagnostics::Severity::Warning,
        _ => wasmforge_build::diagnostics::Severity::Error,
    };
    Check {
        name: name.into(),
        status,
        detail,
        diagnostics: vec![diagnostic.severity(severity)],
    }
}

/// `containerd --version`: its version (`1.6.20~ds1`) and the binary's path.
fn containerd_version() -> Option<(String, PathBuf)> {
    let path = which::which("containerd").ok()?;
    let output = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // `containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3`
    let version = text
        .split_whitespace()
        .find(|w| {
            w.trim_start_matches('v')
                .starts_with(|c: char| c.is_ascii_digit())
        })?
        .trim_start_matches('v')
        .to_string();
    Some((version, path))
}

/// Whether containerd `version` unpacks only layer media types (1.6.25+, 1.7.7+, 2.0+), so the
/// Wasm artifact runs; `None` when the version cannot be read.
fn runs_wasm_artifact(version: &str) -> Option<bool> {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    Some(match (major, minor) {
        (0, _) => false,
        (1, 0..=5) => false,
        (1, 6) => patch >= 25,
        (1, 7) => patch >= 7,
        _ => true,
    })
}

/// The shim as containerd finds it: `containerd-shim-wasmforge-v1` on PATH, which must be a
/// wasmforge with the shim (ideally this one).
fn shim_on_path() -> Check {
    let exe = std::env::current_exe().ok();
    let link_fix = |exe: &Option<PathBuf>| {
        let target = exe
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "$(command -v wasmforge)".into());
        vec![vec![
            "ln".to_string(),
            "-sf".into(),
            target,
            format!("/usr/local/bin/{SHIM_BINARY}"),
        ]]
    };
    let Ok(found) = which::which(SHIM_BINARY) else {
        let fix = link_fix(&exe);
        return failed(
            "shim on PATH",
            Status::Error,
            format!("no `{SHIM_BINARY}` on PATH"),
            Diagnostic::new(
                "WF8002",
                format!("`{SHIM_BINARY}` is not on PATH, so containerd cannot start the runtime `{RUNTIME}`"),
                format!(
                    "`install.sh --shim`, or `{}` (containerd's own PATH must reach it: /usr/local/bin does on most systems)",
                    wasmforge_build::diagnostics::shell_line(&fix[0])
                ),
            )
            .commands(fix, false),
        );
    };
    let same = match (
        found.canonicalize(),
        exe.as_ref().and_then(|e| e.canonicalize().ok()),
    ) {
        (Ok(a), Some(b)) => a == b,
        _ => false,
    };
    if same {
        return Check::ok(
            "shim on PATH",
            format!("{} → this wasmforge", found.display()),
        );
    }
    // Another binary: ask it what it is (the shim answers `-v` with its runtime's name).
    let answer = std::process::Command::new(&found)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if answer.contains("Runtime: wasmforge") {
        let version = answer
            .lines()
            .find_map(|l| l.trim().strip_prefix("Version:"))
            .map(str::trim)
            .unwrap_or("?");
        failed(
            "shim on PATH",
            Status::Warning,
            format!("{} is another wasmforge ({version})", found.display()),
            Diagnostic::new(
                "WF8002",
                format!(
                    "`{}` is a wasmforge shim, but not this wasmforge (version {version}, this one {}): containers run with that one",
                    found.display(),
                    env!("CARGO_PKG_VERSION")
                ),
                "`install.sh --shim` links the installed wasmforge",
            )
            .commands(link_fix(&exe), false),
        )
    } else {
        let fix = link_fix(&exe);
        failed(
            "shim on PATH",
            Status::Error,
            format!("{} is not a wasmforge shim", found.display()),
            Diagnostic::new(
                "WF8002",
                format!(
                    "`{}` does not answer as wasmforge's shim (a wasmforge built without it, or another program)",
                    found.display()
                ),
                format!(
                    "`install.sh --shim`, or `{}` with a wasmforge built with the shim",
                    wasmforge_build::diagnostics::shell_line(&fix[0])
                ),
            )
            .commands(fix, false),
        )
    }
}

/// Whether containerd's config maps a CRI handler to the runtime.
fn cri_config(path: &Path) -> Check {
    let lines = config_lines();
    let missing = |detail: String, why: String| {
        failed(
            "CRI runtime",
            Status::Warning,
            detail,
            Diagnostic::new(
                "WF8004",
                why,
                format!(
                    "add to {} and restart containerd (`ctr run --runtime {RUNTIME}` works without it; Kubernetes needs it):\n{lines}",
                    path.display()
                ),
            ),
        )
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return missing(
                format!("{} not read", path.display()),
                format!(
                    "containerd's config `{}` could not be read ({e})",
                    path.display()
                ),
            );
        }
    };
    let config: toml::Table = match toml::from_str(&text) {
        Ok(config) => config,
        Err(e) => {
            return failed(
                "CRI runtime",
                Status::Error,
                format!("{} is not valid TOML", path.display()),
                Diagnostic::new(
                    "WF8004",
                    format!(
                        "containerd's config `{}` is not valid TOML: {}",
                        path.display(),
                        e.message()
                    ),
                    format!("fix the file, then add:\n{lines}"),
                ),
            );
        }
    };
    match handlers(&config).into_iter().next() {
        Some(handler) => Check::ok(
            "CRI runtime",
            format!(
                "handler `{handler}` → {RUNTIME} in {}{}",
                path.display(),
                if handler == HANDLER {
                    String::new()
                } else {
                    format!(" (use `wasmforge deploy --handler {handler}`)")
                }
            ),
        ),
        None => missing(
            format!("no handler for {RUNTIME} in {}", path.display()),
            format!(
                "containerd's config `{}` maps no CRI handler to `{RUNTIME}`: Kubernetes pods with the RuntimeClass `{HANDLER}` would fail",
                path.display()
            ),
        ),
    }
}

/// The CRI handler names whose `runtime_type` is [`RUNTIME`] (config version 2's plugin
/// `io.containerd.grpc.v1.cri`, version 3's `io.containerd.cri.v1.runtime`).
fn handlers(config: &toml::Table) -> Vec<String> {
    let plugins = config.get("plugins").and_then(|p| p.as_table());
    let mut found = Vec::new();
    for plugin in ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"] {
        let runtimes = plugins
            .and_then(|p| p.get(plugin))
            .and_then(|p| p.get("containerd"))
            .and_then(|c| c.get("runtimes"))
            .and_then(|r| r.as_table());
        for (name, runtime) in runtimes.into_iter().flatten() {
            if runtime.get("runtime_type").and_then(|t| t.as_str()) == Some(RUNTIME) {
                found.push(name.clone());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_containerd_runs_the_wasm_artifact() {
        assert_eq!(runs_wasm_artifact("1.6.20~ds1"), Some(false));
        assert_eq!(runs_wasm_artifact("1.6.25"), Some(true));
        assert_eq!(runs_wasm_artifact("1.7.6"), Some(false));
        assert_eq!(runs_wasm_artifact("1.7.7"), Some(true));
        assert_eq!(runs_wasm_artifact("2.0.0"), Some(true));
        assert_eq!(runs_wasm_artifact("1.5.9"), Some(false));
        assert_eq!(runs_wasm_artifact("devel"), None);
    }

    #[test]
    fn the_config_lines_are_what_the_check_looks_for() {
        let config: toml::Table = toml::from_str(&format!("version = 2\n{}", config_lines()))
            .expect("the printed lines are TOML");
        assert_eq!(handlers(&config), vec![HANDLER.to_string()]);
        let other: toml::Table = toml::from_str(
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\nruntime_type = \"io.containerd.runc.v2\"",
        )
        .expect("toml");
        assert!(handlers(&other).is_empty());
    }
}
