//! Which Rust toolchain will build a project, and whether it has a WebAssembly target.
//!
//! The rules are rustup's, in its order: `RUSTUP_TOOLCHAIN`; then, walking up from the project
//! folder, a directory override (`rustup override set`) or a `rust-toolchain.toml` /
//! `rust-toolchain` file; then the default toolchain. Resolving them here (instead of asking
//! `rustc --print sysroot` through the rustup proxy) costs no process at all; a rustc that is
//! not managed by rustup is asked for its sysroot instead.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::process::Tool;
use crate::report::Reporter;

/// A resolved toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustToolchain {
    /// The name rustup knows it by (e.g. `stable-x86_64-unknown-linux-gnu`), or `rustc` for a
    /// toolchain outside rustup.
    pub name: String,
    /// Where the choice came from, for messages: "rust-toolchain.toml at …", "default", …
    pub source: String,
    /// The toolchain's sysroot (holds `lib/rustlib/<triple>` per installed target).
    pub sysroot: PathBuf,
    /// Managed by rustup (so `rustup target add` is the fix).
    pub rustup: bool,
}

impl RustToolchain {
    /// Whether the standard library for `triple` is installed in this toolchain.
    pub fn has_target(&self, triple: &str) -> bool {
        self.sysroot
            .join("lib/rustlib")
            .join(triple)
            .join("lib")
            .is_dir()
    }

    /// Fails with the exact fix when `triple` is missing.
    pub fn require_target(&self, triple: &str) -> Result<()> {
        if self.has_target(triple) {
            return Ok(());
        }
        Err(Error::TargetNotInstalled {
            toolchain: self.name.clone(),
            source_desc: self.source.clone(),
            triple: triple.to_string(),
            rustup: self.rustup,
        })
    }
}

/// The environment the resolution reads, separated out so tests can build one.
#[derive(Debug, Clone, Default)]
pub struct RustupEnv {
    pub rustup_home: Option<PathBuf>,
    pub toolchain_env: Option<String>,
    pub host: String,
    /// Who chose `toolchain_env` when it was not the variable (`--toolchain`, wasmforge.toml).
    pub chosen_by: Option<String>,
}

impl RustupEnv {
    /// Reads `RUSTUP_HOME` (default `~/.rustup`) and `RUSTUP_TOOLCHAIN`.
    pub fn from_process() -> Self {
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::home_dir().map(|h| h.join(".rustup")))
            .filter(|p| p.join("toolchains").is_dir());
        RustupEnv {
            rustup_home,
            toolchain_env: std::env::var("RUSTUP_TOOLCHAIN")
                .ok()
                .filter(|s| !s.is_empty()),
            host: host_triple().to_string(),
            chosen_by: None,
        }
    }

    /// The process's environment, with the toolchain `name` chosen (as `cargo +name` would)
    /// by `chosen_by`; unchanged when `name` is `None`.
    pub fn choosing(name: Option<&str>, chosen_by: &str) -> Self {
        let mut env = RustupEnv::from_process();
        if let Some(name) = name {
            env.toolchain_env = Some(name.to_string());
            env.chosen_by = Some(chosen_by.to_string());
        }
        env
    }
}

/// The triple of the machine wasmforge runs on, as rustup names toolchains.
fn host_triple() -> &'static str {
    // rustup appends the host triple to channel names; the common hosts are enough here,
    // and `default_host_triple` in rustup's settings wins when present.
    match (std::env::consts::ARCH, std::env::consts::OS) {
        ("x86_64", "linux") => "x86_64-unknown-linux-gnu",
        ("aarch64", "linux") => "aarch64-unknown-linux-gnu",
        ("x86_64", "macos") => "x86_64-apple-darwin",
        ("aarch64", "macos") => "aarch64-apple-darwin",
        ("x86_64", "windows") => "x86_64-pc-windows-msvc",
        ("aarch64", "windows") => "aarch64-pc-windows-msvc",
        _ => "unknown",
    }
}

/// Resolves the toolchain that `cargo` run in `project_dir` would use.
pub fn resolve(
    project_dir: &Path,
    env: &RustupEnv,
    reporter: &dyn Reporter,
) -> Result<RustToolchain> {
    let Some(home) = &env.rustup_home else {
        return resolve_without_rustup(project_dir, reporter);
    };
    let settings = read_settings(home);
    let host = settings
        .default_host
        .clone()
        .unwrap_or_else(|| env.host.clone());

    let (spec, source) = if let Some(name) = &env.toolchain_env {
        (
            ToolchainSpec::Named(name.clone()),
            env.chosen_by
                .clone()
                .unwrap_or_else(|| "the RUSTUP_TOOLCHAIN environment variable".to_string()),
        )
    } else if let Some(found) = find_override(project_dir, &settings)? {
        found
    } else if let Some(default) = &settings.default_toolchain {
        (
            ToolchainSpec::Named(default.clone()),
            "rustup's default toolchain".to_string(),
        )
    } else {
        return Err(Error::ToolchainNotInstalled {
            toolchain: "stable".into(),
            source_desc: "no rustup default toolchain is set".into(),
            triple: "wasm32-wasip1".into(),
        });
    };

    match spec {
        ToolchainSpec::Path(sysroot) => Ok(RustToolchain {
            name: sysroot.display().to_string(),
            source,
            sysroot,
            rustup: false,
        }),
        ToolchainSpec::Named(name) => {
            let toolchains = home.join("toolchains");
            let candidates = [name.clone(), format!("{name}-{host}")];
            for candidate in candidates {
                let dir = toolchains.join(&candidate);
                if dir.join("lib/rustlib").is_dir() {
                    return Ok(RustToolchain {
                        name: candidate,
                        source,
                        sysroot: dir,
                        rustup: true,
                    });
                }
            }
            Err(Error::ToolchainNotInstalled {
                toolchain: name,
                source_desc: source,
                triple: String::new(),
            })
        }
    }
}

/// The toolchain's rustc version (`sysroot/bin/rustc --version`), cached against the binary.
pub fn rustc_version(
    toolchain: &RustToolchain,
    reporter: &dyn Reporter,
) -> Option<crate::lang::rust::checks::RustcVersion> {
    use crate::cache::{self, Stamp};
    use crate::lang::rust::checks::RustcVersion;
    let rustc =
        toolchain
            .sysroot
            .join("bin")
            .join(if cfg!(windows) { "rustc.exe" } else { "rustc" });
    let program = if rustc.is_file() {
        rustc.clone()
    } else {
        PathBuf::from("rustc")
    };
    let key = format!("rustc-version {}", program.display());
    if let Some(version) = cache::load::<RustcVersion>(crate::cache::Section::Probes, &key) {
        return Some(version);
    }
    let mut tool = Tool::new(&program, "");
    tool.arg("--version");
    let output = tool.output(reporter).ok()?;
    let version = RustcVersion::parse(&String::from_utf8_lossy(&output.stdout))?;
    cache::store(
        crate::cache::Section::Probes,
        &key,
        vec![Stamp::of(&program)],
        &version,
    );
    Some(version)
}

/// Every rustup toolchain and the WebAssembly targets it has (doctor without a project).
pub fn survey(reporter: &dyn Reporter) -> Vec<crate::diagnostics::check::Check> {
    use crate::diagnostics::Diagnostic;
    use crate::diagnostics::check::Check;
    let env = RustupEnv::from_process();
    let Some(home) = &env.rustup_home else {
        return match resolve_without_rustup(Path::new("."), reporter) {
            Ok(tc) => vec![Check::ok(
                "rust",
                format!("rustc at {} (not managed by rustup)", tc.sysroot.display()),
            )],
            Err(_) => vec![Check::note(
                "rust",
                "not installed (https://rustup.rs)".into(),
            )],
        };
    };
    let settings = read_settings(home);
    let mut names: Vec<String> = std::fs::read_dir(home.join("toolchains"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("lib/rustlib").is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let default = settings.default_toolchain.clone().unwrap_or_default();
    let mut checks = Vec::new();
    for name in names {
        let tc = RustToolchain {
            name: name.clone(),
            source: "rustup".into(),
            sysroot: home.join("toolchains").join(&name),
            rustup: true,
        };
        let is_default = name == default || name.starts_with(&format!("{default}-"));
        let version = rustc_version(&tc, reporter)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".into());
        let targets: Vec<&str> = [
            crate::Target::Wasip1,
            crate::Target::Wasip2,
            crate::Target::Unknown,
        ]
        .into_iter()
        .filter(|t| tc.has_target(t.rust_triple()))
        .map(|t| t.name())
        .collect();
        let label = format!("rust ({name}{})", if is_default { ", default" } else { "" });
        if targets.is_empty() && is_default {
            let (argv, safe) = target_add("wasm32-wasip1", Some(&name));
            let command = crate::diagnostics::shell_line(&argv);
            checks.push(Check::from(
                &label,
                vec![Diagnostic::new(
                    "WF1001",
                    format!("the default toolchain `{name}` (rustc {version}) has no WebAssembly target"),
                    format!("run `{command}`"),
                )
                .commands(vec![argv], safe)],
            ));
        } else if targets.is_empty() {
            checks.push(Check::note(
                &label,
                format!("rustc {version}: no WebAssembly targets (`rustup target add wasm32-wasip1 --toolchain {name}`)"),
            ));
        } else {
            checks.push(Check::ok(
                &label,
                format!("rustc {version}: builds {}", targets.join(", ")),
            ));
        }
    }
    checks
}

enum ToolchainSpec {
    Named(String),
    Path(PathBuf),
}

#[derive(Debug, Default)]
struct Settings {
    default_toolchain: Option<String>,
    default_host: Option<String>,
    overrides: Vec<(PathBuf, String)>,
}

fn read_settings(home: &Path) -> Settings {
    let Ok(text) = std::fs::read_to_string(home.join("settings.toml")) else {
        return Settings::default();
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Settings::default();
    };
    let string = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let overrides = value
        .get("overrides")
        .and_then(|o| o.as_table())
        .map(|table| {
            table
                .iter()
                .filter_map(|(dir, tc)| Some((PathBuf::from(dir), tc.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Settings {
        default_toolchain: string("default_toolchain"),
        default_host: string("default_host_triple"),
        overrides,
    }
}

fn find_override(
    project_dir: &Path,
    settings: &Settings,
) -> Result<Option<(ToolchainSpec, String)>> {
    for dir in project_dir.ancestors() {
        if let Some((_, name)) = settings.overrides.iter().find(|(d, _)| d == dir) {
            let source = format!("a `rustup override` for {}", dir.display());
            return Ok(Some((ToolchainSpec::Named(name.clone()), source)));
        }
        for file in ["rust-toolchain", "rust-toolchain.toml"] {
            let path = dir.join(file);
            if path.is_file() {
                let text = fs_err::read_to_string(&path)?;
                let source = format!("{}", path.display());
                return Ok(parse_toolchain_file(&text, dir).map(|spec| (spec, source)));
            }
        }
    }
    Ok(None)
}

/// Reads a toolchain file: TOML with `[toolchain] channel` or `path`, or the legacy one-line form.
fn parse_toolchain_file(text: &str, dir: &Path) -> Option<ToolchainSpec> {
    if let Ok(table) = text.parse::<toml::Table>()
        && let Some(toolchain) = table.get("toolchain").and_then(|t| t.as_table())
    {
        if let Some(path) = toolchain.get("path").and_then(|p| p.as_str()) {
            return Some(ToolchainSpec::Path(dir.join(path)));
        }
        return toolchain
            .get("channel")
            .and_then(|c| c.as_str())
            .map(|c| ToolchainSpec::Named(c.to_string()));
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(ToolchainSpec::Named(line.to_string()))
}

fn resolve_without_rustup(project_dir: &Path, reporter: &dyn Reporter) -> Result<RustToolchain> {
    let mut rustc = Tool::new(
        "rustc",
        "install Rust: https://rustup.rs (or your distribution's `rustc` package)",
    );
    rustc.args(["--print", "sysroot"]).current_dir(project_dir);
    let output = rustc.output(reporter)?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Ok(RustToolchain {
        name: "rustc".into(),
        source: "the rustc on PATH".into(),
        sysroot,
        rustup: false,
    })
}

/// Whether `name` is a toolchain rustup could install: `stable`, `beta`, `nightly` or a version,
/// with an optional date and host (`nightly-2026-01-02`, `1.81.0-x86_64-unknown-linux-gnu`).
/// A name read from a project (rust-toolchain.toml) that is not one of those never becomes a
/// command `doctor --fix` runs on its own.
pub fn valid_toolchain_name(name: &str) -> bool {
    let well_formed = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let channel = name.split('-').next().unwrap_or_default();
    let known = matches!(channel, "stable" | "beta" | "nightly")
        || (channel.split('.').count() >= 2
            && channel
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    well_formed && known
}

/// `rustup target add TRIPLE [--toolchain NAME]` word by word, and whether `doctor --fix` may run
/// it on its own (only for names rustup's grammar allows).
pub fn target_add(triple: &str, toolchain: Option<&str>) -> (Vec<String>, bool) {
    let mut argv: Vec<String> = ["rustup", "target", "add", triple]
        .map(String::from)
        .to_vec();
    if let Some(name) = toolchain {
        argv.extend(["--toolchain".to_string(), name.to_string()]);
    }
    let triple_ok = triple
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (
        argv,
        triple_ok && toolchain.is_none_or(valid_toolchain_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_names_from_projects_are_checked_before_fix_runs_them() {
        for ok in [
            "stable",
            "nightly-2026-01-02",
            "1.81.0",
            "1.95",
            "beta",
            "1.81.0-x86_64-unknown-linux-gnu",
        ] {
            assert!(valid_toolchain_name(ok), "{ok}");
        }
        for bad in [
            "stable --force",
            "--force",
            "",
            "my-custom",
            "1.81.0; rm -rf ~",
            "stable\n",
        ] {
            assert!(!valid_toolchain_name(bad), "{bad:?}");
        }
        let (argv, safe) = target_add("wasm32-wasip1", Some("stable --force"));
        assert_eq!(
            argv.last().map(String::as_str),
            Some("stable --force"),
            "one word"
        );
        assert!(!safe);
    }
    use crate::report::NullReporter;

    fn fake_home(toolchains: &[(&str, &[&str])], settings: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("tempdir");
        for (name, targets) in toolchains {
            for target in *targets {
                std::fs::create_dir_all(
                    home.path()
                        .join("toolchains")
                        .join(name)
                        .join("lib/rustlib")
                        .join(target)
                        .join("lib"),
                )
                .expect("mkdir");
            }
        }
        std::fs::write(home.path().join("settings.toml"), settings).expect("settings");
        home
    }

    fn env(home: &Path, toolchain_env: Option<&str>) -> RustupEnv {
        RustupEnv {
            rustup_home: Some(home.to_owned()),
            toolchain_env: toolchain_env.map(str::to_string),
            host: "x86_64-unknown-linux-gnu".into(),
            chosen_by: None,
        }
    }

    #[test]
    fn precedence_env_then_file_then_default() {
        let home = fake_home(
            &[
                (
                    "stable-x86_64-unknown-linux-gnu",
                    &["x86_64-unknown-linux-gnu", "wasm32-wasip1"],
                ),
                (
                    "nightly-x86_64-unknown-linux-gnu",
                    &["x86_64-unknown-linux-gnu"],
                ),
                (
                    "1.80.0-x86_64-unknown-linux-gnu",
                    &["x86_64-unknown-linux-gnu"],
                ),
            ],
            "default_toolchain = \"stable-x86_64-unknown-linux-gnu\"\n",
        );
        let project = tempfile::tempdir().expect("project");
        let sub = project.path().join("crates/app");
        std::fs::create_dir_all(&sub).expect("mkdir");

        let tc = resolve(&sub, &env(home.path(), None), &NullReporter).expect("default");
        assert_eq!(tc.name, "stable-x86_64-unknown-linux-gnu");
        assert!(tc.has_target("wasm32-wasip1"));

        std::fs::write(
            project.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"nightly\"\n",
        )
        .expect("w");
        let tc = resolve(&sub, &env(home.path(), None), &NullReporter).expect("file");
        assert_eq!(tc.name, "nightly-x86_64-unknown-linux-gnu");
        assert!(tc.source.ends_with("rust-toolchain.toml"), "{}", tc.source);
        let err = tc
            .require_target("wasm32-wasip1")
            .expect_err("nightly lacks the target");
        assert_eq!(
            err.hint().as_deref(),
            Some("rustup target add wasm32-wasip1 --toolchain nightly-x86_64-unknown-linux-gnu")
        );

        let tc = resolve(&sub, &env(home.path(), Some("1.80.0")), &NullReporter).expect("env");
        assert_eq!(tc.name, "1.80.0-x86_64-unknown-linux-gnu");
    }

    #[test]
    fn legacy_file_and_missing_toolchain() {
        let home = fake_home(
            &[("stable-x86_64-unknown-linux-gnu", &["wasm32-wasip1"])],
            "",
        );
        let project = tempfile::tempdir().expect("project");
        std::fs::write(project.path().join("rust-toolchain"), "1.70.0\n").expect("w");
        let err = resolve(project.path(), &env(home.path(), None), &NullReporter)
            .expect_err("not installed");
        assert!(
            matches!(&err, Error::ToolchainNotInstalled { toolchain, .. } if toolchain == "1.70.0"),
            "{err:?}"
        );
    }

    #[test]
    fn directory_override_beats_a_toolchain_file_above_it() {
        let project = tempfile::tempdir().expect("project");
        let sub = project.path().join("app");
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(
            project.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"stable\"\n",
        )
        .expect("w");
        let settings = format!(
            "default_toolchain = \"stable-x86_64-unknown-linux-gnu\"\n[overrides]\n\"{}\" = \"nightly-x86_64-unknown-linux-gnu\"\n",
            sub.display()
        );
        let home = fake_home(
            &[
                ("stable-x86_64-unknown-linux-gnu", &["wasm32-wasip1"]),
                ("nightly-x86_64-unknown-linux-gnu", &["x"]),
            ],
            &settings,
        );
        let tc = resolve(&sub, &env(home.path(), None), &NullReporter).expect("override");
        assert_eq!(tc.name, "nightly-x86_64-unknown-linux-gnu");
    }
}
