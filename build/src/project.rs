//! A project and its language, as [`crate::lang::detect`] finds them.

use std::path::{Path, PathBuf};

/// The language of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    Go,
    C,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::C => "c",
        }
    }
}

impl Lang {
    /// The language's name in prose.
    pub fn display_name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Go => "Go",
            Lang::C => "C",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rust" | "rs" => Ok(Lang::Rust),
            "go" | "golang" => Ok(Lang::Go),
            "c" => Ok(Lang::C),
            _ => Err(format!("unknown language `{s}`: use rust, go or c")),
        }
    }
}

/// A detected project.
#[derive(Debug, Clone)]
pub struct Project {
    pub lang: Lang,
    /// The folder the user pointed at (absolute).
    pub dir: PathBuf,
    /// The file that makes it a project: `Cargo.toml`, `go.mod`; for C the folder itself.
    pub manifest: PathBuf,
    /// Go: the package folder the user pointed at inside the module (`cmd/x`), relative to
    /// `dir`, which is then the module's root (as `go build` in `cmd/x` builds that package).
    pub within: Option<PathBuf>,
}

/// The nearest `name` in `dir` or a folder above it (cargo and go find their manifest so).
pub(crate) fn nearest(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}
