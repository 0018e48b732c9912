//! Finding the project a path refers to and which language builds it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The language of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
}

/// A detected project.
#[derive(Debug, Clone)]
pub struct Project {
    pub lang: Lang,
    /// The folder the user pointed at (absolute).
    pub dir: PathBuf,
    /// The manifest that describes it (`Cargo.toml`).
    pub manifest: PathBuf,
}

/// Detects the project at `path` (a folder or a manifest file). Like cargo, a folder inside a
/// package finds the nearest `Cargo.toml` above it.
pub fn detect(path: &Path) -> Result<Project> {
    if !path.exists() {
        return Err(Error::PathNotFound {
            path: path.to_owned(),
        });
    }
    let path = fs_err::canonicalize(path)?;
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            let dir = path.parent().map(Path::to_owned).unwrap_or_default();
            return Ok(Project {
                lang: Lang::Rust,
                dir,
                manifest: path,
            });
        }
        return Err(Error::NotAProject { path });
    }
    for dir in path.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() {
            return Ok(Project {
                lang: Lang::Rust,
                dir: path.clone(),
                manifest,
            });
        }
    }
    Err(Error::NotAProject { path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_manifest_above_a_subfolder() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
        std::fs::create_dir(dir.path().join("src")).expect("mkdir");
        let project = detect(&dir.path().join("src")).expect("detect");
        assert_eq!(project.lang, Lang::Rust);
        assert_eq!(
            project.manifest,
            dir.path().canonicalize().expect("canon").join("Cargo.toml")
        );
    }

    #[test]
    fn missing_path_and_non_project_are_distinct_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            detect(&dir.path().join("nope")),
            Err(Error::PathNotFound { .. })
        ));
        assert!(matches!(detect(dir.path()), Err(Error::NotAProject { .. })));
    }
}
