//! Finding the project a path refers to and which language builds it. This is the one place
//! that decides the language.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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

/// What in a folder points at a language.
#[derive(Debug, Default)]
struct Signals {
    rust: Option<PathBuf>,
    go: Option<PathBuf>,
    c: Vec<String>,
}

fn signals(dir: &Path) -> Signals {
    let mut found = Signals::default();
    if dir.join("Cargo.toml").is_file() {
        found.rust = Some(dir.join("Cargo.toml"));
    }
    if dir.join("go.mod").is_file() {
        found.go = Some(dir.join("go.mod"));
    }
    for name in ["CMakeLists.txt", "Makefile", "makefile", "GNUmakefile"] {
        if dir.join(name).is_file() {
            found.c.push(name.to_string());
        }
    }
    for sub in [dir.to_owned(), dir.join("src")] {
        let has_c = std::fs::read_dir(&sub)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .any(|e| e.path().extension().is_some_and(|x| x == "c"))
            })
            .unwrap_or(false);
        if has_c {
            let rel = if sub == dir {
                "*.c".to_string()
            } else {
                "src/*.c".to_string()
            };
            found.c.push(rel);
        }
    }
    found
}

/// Detects the project at `path` (a folder or a manifest file). `lang` (from `--lang` or
/// `wasmforge.toml`) settles folders that hold more than one language.
pub fn detect(path: &Path, lang: Option<Lang>) -> Result<Project> {
    if !path.exists() {
        return Err(Error::PathNotFound {
            path: path.to_owned(),
        });
    }
    let path = fs_err::canonicalize(path)?;
    if path.is_file() {
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        let lang = match path.file_name().and_then(|n| n.to_str()) {
            Some("Cargo.toml") => Lang::Rust,
            Some("go.mod") => Lang::Go,
            Some("CMakeLists.txt" | "Makefile" | "makefile" | "GNUmakefile") => Lang::C,
            _ => return Err(Error::NotAProject { path }),
        };
        let manifest = if lang == Lang::C { dir.clone() } else { path };
        return Ok(Project {
            lang,
            dir,
            manifest,
            within: None,
        });
    }

    let here = signals(&path);
    let lang = match lang {
        Some(lang) => lang,
        None => {
            let mut found = Vec::new();
            if here.rust.is_some() {
                found.push((Lang::Rust, "Cargo.toml".to_string()));
            }
            if here.go.is_some() {
                found.push((Lang::Go, "go.mod".to_string()));
            }
            if !here.c.is_empty() {
                found.push((Lang::C, here.c.join(", ")));
            }
            match found.as_slice() {
                [] => match find_up(&path) {
                    Some(lang) => lang,
                    None => return Err(Error::NotAProject { path }),
                },
                [(lang, _)] => *lang,
                // A Cargo package may hold C sources that its build script compiles.
                _ if here.rust.is_some() && here.go.is_none() => Lang::Rust,
                _ => {
                    return Err(Error::AmbiguousProject {
                        path,
                        found: found
                            .iter()
                            .map(|(l, why)| format!("{} ({why})", l.name()))
                            .collect(),
                    });
                }
            }
        }
    };
    let manifest = match lang {
        Lang::Rust => {
            nearest(&path, "Cargo.toml").ok_or_else(|| Error::NotAProject { path: path.clone() })?
        }
        Lang::Go => {
            nearest(&path, "go.mod").ok_or_else(|| Error::NotAProject { path: path.clone() })?
        }
        Lang::C => path.clone(),
    };
    // Go inside a module's subfolder: the module root is the project, the folder its package.
    if lang == Lang::Go
        && let Some(root) = manifest.parent()
        && root != path
        && let Ok(relative) = path.strip_prefix(root)
    {
        return Ok(Project {
            lang,
            dir: root.to_path_buf(),
            within: Some(relative.to_path_buf()),
            manifest,
        });
    }
    Ok(Project {
        lang,
        dir: path,
        manifest,
        within: None,
    })
}

/// Like cargo and go, a folder inside a project finds the manifest above it.
fn find_up(dir: &Path) -> Option<Lang> {
    dir.ancestors().skip(1).find_map(|d| {
        if d.join("Cargo.toml").is_file() {
            Some(Lang::Rust)
        } else if d.join("go.mod").is_file() {
            Some(Lang::Go)
        } else {
            None
        }
    })
}

fn nearest(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, rel: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "").expect("write");
    }

    #[test]
    fn finds_the_manifest_above_a_subfolder() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
        std::fs::create_dir(dir.path().join("src")).expect("mkdir");
        let project = detect(&dir.path().join("src"), None).expect("detect");
        assert_eq!(project.lang, Lang::Rust);
        assert_eq!(
            project.manifest,
            dir.path().canonicalize().expect("canon").join("Cargo.toml")
        );
    }

    #[test]
    fn each_language_by_its_signals() {
        for (files, lang) in [
            (&["go.mod", "main.go"][..], Lang::Go),
            (&["CMakeLists.txt", "main.c"], Lang::C),
            (&["Makefile"], Lang::C),
            (&["src/a.c", "include/a.h"], Lang::C),
            (&["hello.c"], Lang::C),
            (&["Cargo.toml", "src/main.rs", "src/shim.c"], Lang::Rust),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            for f in files {
                touch(dir.path(), f);
            }
            assert_eq!(
                detect(dir.path(), None).map(|p| p.lang).ok(),
                Some(lang),
                "{files:?}"
            );
        }
    }

    #[test]
    fn ambiguous_folders_need_a_choice() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(dir.path(), "go.mod");
        touch(dir.path(), "native.c");
        match detect(dir.path(), None) {
            Err(Error::AmbiguousProject { found, .. }) => {
                assert_eq!(found, ["go (go.mod)", "c (*.c)"]);
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert_eq!(
            detect(dir.path(), Some(Lang::C)).map(|p| p.lang).ok(),
            Some(Lang::C)
        );
    }

    #[test]
    fn missing_path_and_non_project_are_distinct_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            detect(&dir.path().join("nope"), None),
            Err(Error::PathNotFound { .. })
        ));
        assert!(matches!(
            detect(dir.path(), None),
            Err(Error::NotAProject { .. })
        ));
    }
}
