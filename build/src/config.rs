//! `wasmforge.toml`: optional project settings beside the project. Flags win over environment
//! variables, which win over this file, which wins over the defaults.

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::error::{Error, Result};
use crate::project::Lang;
use crate::target::Target;

/// The file name.
pub const FILE_NAME: &str = "wasmforge.toml";

/// The whole file. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub package: PackageConfig,
    #[serde(default)]
    pub build: BuildConfig,
    #[serde(default)]
    pub c: CConfig,
    #[serde(default)]
    pub validate: ValidateConfig,
    #[serde(default)]
    pub push: PushConfig,
    #[serde(default)]
    pub component: ComponentConfig,
    /// Where the file was read from, when there was one.
    #[serde(skip)]
    pub path: Option<PathBuf>,
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

/// C project settings (see DESIGN.md).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CConfig {
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub defines: Vec<String>,
    #[serde(default)]
    pub cflags: Vec<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
    #[serde(default)]
    pub libs: Vec<String>,
    #[serde(default)]
    pub exports: Vec<String>,
    /// CMake or Make: which target to build.
    pub bin: Option<String>,
    /// Make: where make leaves the module (default: what the one link command writes).
    pub artifact: Option<String>,
    /// wasi-libc emulations to compile and link (default: all of them).
    #[serde(default)]
    pub emulate: Emulate,
    /// Functions wasi-libc declares but does not define that get a stub failing at run time.
    #[serde(default)]
    pub stubs: Vec<String>,
}

/// The emulation libraries wasi-libc ships, off by default in the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Emulation {
    /// `signal.h`: `signal()` and `raise()`; no signal ever arrives from outside.
    Signal,
    /// `sys/mman.h`: `mmap` of anonymous memory and reading files into memory; no sharing.
    Mman,
    /// `clock()`, `times()`, `getrusage()` from the wall clock, not CPU time.
    ProcessClocks,
    /// `getpid()` returns a placeholder.
    Getpid,
}

impl Emulation {
    pub const ALL: [Emulation; 4] = [
        Emulation::Signal,
        Emulation::Mman,
        Emulation::ProcessClocks,
        Emulation::Getpid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Emulation::Signal => "signal",
            Emulation::Mman => "mman",
            Emulation::ProcessClocks => "process-clocks",
            Emulation::Getpid => "getpid",
        }
    }

    /// The define that unlocks wasi-libc's declarations.
    pub fn define(self) -> &'static str {
        match self {
            Emulation::Signal => "_WASI_EMULATED_SIGNAL",
            Emulation::Mman => "_WASI_EMULATED_MMAN",
            Emulation::ProcessClocks => "_WASI_EMULATED_PROCESS_CLOCKS",
            Emulation::Getpid => "_WASI_EMULATED_GETPID",
        }
    }

    /// The library that implements it (`-l` name).
    pub fn lib(self) -> &'static str {
        match self {
            Emulation::Signal => "wasi-emulated-signal",
            Emulation::Mman => "wasi-emulated-mman",
            Emulation::ProcessClocks => "wasi-emulated-process-clocks",
            Emulation::Getpid => "wasi-emulated-getpid",
        }
    }

    /// What it means at run time.
    pub fn meaning(self) -> &'static str {
        match self {
            Emulation::Signal => {
                "signal handlers run only for raise(); no signal ever arrives from outside"
            }
            Emulation::Mman => {
                "mmap gives anonymous or read-only copied memory; nothing is shared or written back"
            }
            Emulation::ProcessClocks => {
                "clock(), times() and getrusage() measure wall time, not CPU time"
            }
            Emulation::Getpid => "getpid() returns a placeholder, not the host's process id",
        }
    }

    /// The header that needs it, when one does (the others are single functions).
    pub fn header(self) -> Option<&'static str> {
        match self {
            Emulation::Signal => Some("signal.h"),
            Emulation::Mman => Some("sys/mman.h"),
            Emulation::ProcessClocks => Some("sys/times.h"),
            Emulation::Getpid => None,
        }
    }

    /// The emulation a header needs (`sys/resource.h` is process clocks too).
    pub fn for_header(header: &str) -> Option<Emulation> {
        match header {
            "signal.h" => Some(Emulation::Signal),
            "sys/mman.h" => Some(Emulation::Mman),
            "sys/times.h" | "sys/resource.h" => Some(Emulation::ProcessClocks),
            _ => None,
        }
    }
}

impl std::str::FromStr for Emulation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Emulation::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                format!("unknown emulation `{s}`: use signal, mman, process-clocks or getpid")
            })
    }
}

/// `[c] emulate`: absent or `true` for all, `false` for none, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Emulate {
    #[default]
    All,
    Only(Vec<Emulation>),
}

impl Emulate {
    pub fn enabled(&self) -> Vec<Emulation> {
        match self {
            Emulate::All => Emulation::ALL.to_vec(),
            Emulate::Only(list) => list.clone(),
        }
    }

    pub fn allows(&self, emulation: Emulation) -> bool {
        match self {
            Emulate::All => true,
            Emulate::Only(list) => list.contains(&emulation),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Emulate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            List(Vec<String>),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected true, false or a list of signal, mman, process-clocks, getpid",
            )
        })? {
            Raw::Flag(true) => Ok(Emulate::All),
            Raw::Flag(false) => Ok(Emulate::Only(Vec::new())),
            Raw::List(names) => names
                .iter()
                .map(|n| n.parse::<Emulation>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|mut list| {
                    list.sort();
                    list.dedup();
                    Emulate::Only(list)
                })
                .map_err(serde::de::Error::custom),
        }
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
        let mut config: Config = toml::from_str(&text).map_err(|source| Error::ConfigInvalid {
            path: path.clone(),
            source,
        })?;
        config.path = Some(path);
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
sources = ["src/**/*.c"]
include = ["include"]
defines = ["NDEBUG", "LEVEL=2"]
cflags = ["-Wall"]
ldflags = []
libs = ["m"]
exports = ["add"]
bin = "minigzip"
artifact = "out/app.wasm"
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
        assert_eq!(config.c.defines, ["NDEBUG", "LEVEL=2"]);
        assert_eq!(config.c.artifact.as_deref(), Some("out/app.wasm"));

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
            ("[c]\nsource = [\"a.c\"]\n", "unknown field `source`"),
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
