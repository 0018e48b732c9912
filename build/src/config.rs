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
    /// Read by later stages (validation profile, size budget); kept as data here.
    #[serde(default)]
    pub validate: toml::Table,
    #[serde(default)]
    pub push: toml::Table,
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
    /// Make: where make leaves the module.
    pub artifact: Option<String>,
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

        std::fs::write(dir.path().join(FILE_NAME), "[c]\nsource = [\"a.c\"]\n").expect("write");
        let err = Config::load(dir.path()).expect_err("typo");
        assert!(matches!(err, Error::ConfigInvalid { .. }));
        assert!(format!("{:?}", err).contains("source"), "{err:?}");
    }
}
