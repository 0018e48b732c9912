//! `wasmforge.toml`: optional project settings beside the project. Flags win over environment
//! variables, which win over this file, which wins over the defaults.

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::error::{Error, Result};
use crate::project::Lang;
use crate::target::Target;

/// The file name.
pub const FILE_NAME: &str = "wasmforge.toml";

/// The whole file. Unknown keys are errors, so a typo never silently does nothing: the tables
/// here refuse unknown keys themselves; a language's own table (`[c]`) is read and checked by
/// its language (`lang/<name>/config.rs`, through [`crate::lang::load_config`]), and any other
/// table is refused there.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Config {
    #[serde(default)]
    pub package: PackageConfig,
    #[serde(default)]
    pub build: BuildConfig,
    #[serde(default)]
    pub validate: ValidateConfig,
    #[serde(default)]
    pub push: PushConfig,
    #[serde(default)]
    pub component: ComponentConfig,
    /// `[test]`: the tests of a C project without CMake (`wasmforge test`).
    #[serde(default)]
    pub test: TestConfig,
    /// `[app]` and `[[app.service]]`: an app of several HTTP services (`serve`, `dev`, `push`).
    #[serde(default)]
    pub app: AppConfig,
    /// Where the file was read from, when there was one.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The file's text, for the tables its languages read.
    #[serde(skip)]
    pub text: String,
    /// The names of the tables other than the ones above, in file order.
    #[serde(skip)]
    pub other_tables: Vec<String>,
}

/// The tables [`Config`] reads itself.
pub const TABLES: &[&str] = &[
    "package",
    "build",
    "validate",
    "push",
    "component",
    "test",
    "app",
];

/// `[app]`: the services of an app, served in one process (`wasmforge serve APPDIR`). It is
/// also the config of a pushed app (as JSON, each `source` the digest of its component).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppConfig {
    /// `[[app.service]]`, one per HTTP service.
    #[serde(default)]
    pub service: Vec<ServiceConfig>,
    /// The longest chain of in-process calls a request may make (default 8); a call past it
    /// gets 508.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_call_depth: Option<u32>,
}

impl AppConfig {
    pub fn is_app(&self) -> bool {
        !self.service.is_empty()
    }
}

/// One `[[app.service]]`. Its grants and limits are the keys of `serve`'s flags (`dir`,
/// `dir-ro`, `env`, `env-inherit`, `allow-http`, `timeout`, `fuel`, `max-memory`, …), read and
/// checked by the command line's own flag parser, so they are declared once.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceConfig {
    /// A DNS label: other services call it at `http://NAME.internal/`.
    pub name: String,
    /// A project folder (built, relative to the app's folder), a `.wasm` component, or an OCI
    /// reference (pulled, its digest pinned).
    pub source: String,
    /// The path prefix it answers (removed before the service sees the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The host it answers (the request's `Host`, without the port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The services it may call in-process.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Every other key: its grants and limits, as `serve`'s flags.
    #[serde(flatten)]
    pub flags: toml::Table,
}

/// `[test]` of a C project without CMake (CMake projects have CTest; Rust and Go find their
/// tests themselves).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestConfig {
    /// Shell commands run in the build's mirror of a Make project (`make check`), with make
    /// given wasmforge's compiler: every program they link is a launcher of its module, so
    /// whatever they run runs in the sandbox. Each is a test: it passes when it exits 0.
    #[serde(default)]
    pub commands: Vec<String>,
    /// `[[test.case]]`: programs the build makes, each run with arguments.
    #[serde(default)]
    pub case: Vec<TestCase>,
    /// Grants for every test (as `dir`, `dir-ro`, `env` of a case).
    #[serde(default)]
    pub dir: Vec<String>,
    #[serde(default)]
    pub dir_ro: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
}

impl TestConfig {
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.case.is_empty()
    }
}

/// One `[[test.case]]` of a C project without CMake (Make or plain sources): a program the build
/// makes, run in the sandbox with these arguments; it passes when it exits with `exit-code` and
/// its standard output holds `stdout`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestCase {
    pub name: String,
    /// The executable the build makes (a make target, as `build --bin`); default the project's.
    pub bin: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// An export to call instead of `main` (a library), `args` its arguments, as `run --invoke`.
    pub invoke: Option<String>,
    /// Text the standard output must contain (with `invoke`: the results, one a line).
    pub stdout: Option<String>,
    #[serde(default)]
    pub exit_code: i32,
    /// Folders granted read-write and read-only (`HOST[::GUEST]`, HOST relative to the project),
    /// besides the project folder, which every test reads at its path and as `.`.
    #[serde(default)]
    pub dir: Vec<String>,
    #[serde(default)]
    pub dir_ro: Vec<String>,
    /// `NAME=VALUE`.
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageConfig {
    pub name: Option<String>,
    pub lang: Option<Lang>,
    pub kind: Option<ArtifactKind>,
    pub target: Option<Target>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// Optimisation level for release builds (used by the optimizer stage).
    pub opt: Option<String>,
    /// `go` or `tinygo` for Go; `wasi-sdk`, `clang` or `zig` for C.
    pub toolchain: Option<String>,
    /// Go: the main package to build (e.g. `./cmd/server`).
    pub package: Option<String>,
    /// `false` skips the source checks (never the facts that make a build impossible).
    pub checks: Option<bool>,
    /// Release builds: what custom sections go, with cargo's names (`none`, `debuginfo` — the
    /// default —, `symbols`).
    pub strip: Option<crate::wasm::strip::Level>,
    /// Release builds: the smallest artifact the toolchain allows (`--size`).
    pub size: Option<bool>,
    /// WebAssembly SIMD (128-bit vectors) in the code the compiler writes (`--simd`).
    pub simd: Option<bool>,
}

/// `[validate]`: what release builds check their artifacts against.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ValidateConfig {
    /// The profile (default: the one the target and kind imply).
    #[serde(default, deserialize_with = "profile")]
    pub profile: Option<crate::wasm::validate::Profile>,
    /// The largest artifact allowed, in bytes.
    #[serde(default, deserialize_with = "size")]
    pub max_size: Option<u64>,
}

/// `[component]`: the WIT world a `wasip2` library (a plugin) is built for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// The world's name (default: the only world of the package in `wit/`).
    pub world: Option<String>,
    /// The folder of WIT packages (default: `wit`).
    pub wit: Option<String>,
}

/// `[push]`: where `wasmforge push` sends a project when no reference is given.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// `registry/repository:tag` or `oci:DIR:TAG`; `{version}` becomes the package's version.
    pub reference: Option<String>,
}

fn profile<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<crate::wasm::validate::Profile>, D::Error> {
    let expected = "a profile: wasip1-command, wasip1-library, wasip2, wasip2-library or unknown";
    let text = <toml::Value as serde::Deserialize>::deserialize(d)?;
    match text {
        toml::Value::String(name) => name
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{name}` is not {expected}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected {expected}, found {}",
            other.type_str()
        ))),
    }
}

fn size<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    let expected = "a size: a number of bytes, or a string like \"1MiB\"";
    match <toml::Value as serde::Deserialize>::deserialize(d)? {
        toml::Value::Integer(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is negative: expected {expected}"))),
        toml::Value::String(text) => crate::wasm::validate::parse_size(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "expected {expected}, found {}",
            other.type_str()
        ))),
    }
}

impl Config {
    /// Reads `wasmforge.toml` in `dir`, or the defaults when there is none.
    pub fn load(dir: &Path) -> Result<Config> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("{e} (path: {})", path.display()),
                )));
            }
        };
        let invalid = |source| Error::ConfigInvalid {
            path: path.clone(),
            source,
        };
        let tables: toml::Table = toml::from_str(&text).map_err(invalid)?;
        let mut config: Config = toml::from_str(&text).map_err(invalid)?;
        config.other_tables = tables
            .keys()
            .filter(|k| !TABLES.contains(&k.as_str()))
            .cloned()
            .collect();
        config.path = Some(path);
        config.text = text;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_documented_key_and_refuses_typos() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"
[package]
lang = "c"
kind = "library"
target = "wasip1"
[build]
opt = "Oz"
[c]
exports = ["add"]
[validate]
profile = "wasip1-command"
max-size = "1MiB"
[push]
reference = "ghcr.io/acme/hello:{version}"
"#,
        )
        .expect("write");
        let config = Config::load(dir.path()).expect("valid");
        assert_eq!(config.package.lang, Some(Lang::C));
        assert_eq!(config.package.kind, Some(ArtifactKind::Library));
        assert_eq!(config.other_tables, ["c"], "a language's table, left to it");

        assert_eq!(config.validate.max_size, Some(1 << 20));
        assert_eq!(
            config.validate.profile,
            Some(crate::wasm::validate::Profile::Wasip1Command)
        );
        assert_eq!(
            config.push.reference.as_deref(),
            Some("ghcr.io/acme/hello:{version}")
        );

        for (text, says) in [
            ("[build]\nopts = \"Oz\"\n", "unknown field `opts`"),
            (
                "[validate]\nmax_size = 10\n",
                "expected `profile` or `max-size`",
            ),
            (
                "[validate]\nprofile = 3\n",
                "expected a profile: wasip1-command",
            ),
            (
                "[validate]\nprofile = \"tiny\"\n",
                "`tiny` is not a profile",
            ),
            ("[validate]\nmax-size = true\n", "expected a size"),
            ("[validate]\nmax-size = \"1 lot\"\n", "unknown unit"),
            ("[push]\nref = \"x\"\n", "expected `reference`"),
            ("[push]\nreference = 1\n", "expected a string"),
        ] {
            std::fs::write(dir.path().join(FILE_NAME), text).expect("write");
            let err = Config::load(dir.path()).expect_err(text);
            assert!(matches!(err, Error::ConfigInvalid { .. }));
            let shown = std::error::Error::source(&err)
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(shown.contains(says), "{text}: {shown}");
        }
    }
}
