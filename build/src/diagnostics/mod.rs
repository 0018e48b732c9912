//! Diagnostics: what is wrong, why, and the exact fix, each under a stable code.
//!
//! The catalog ([`catalog::CATALOG`]) is data: one entry per code with its title, explanation and
//! the general fix. A [`Diagnostic`] is one finding: a code, the offending thing named in the
//! message (tool and version, crate and version, file:line) and the fix for this case. They come
//! from toolchain probes and project checks ([`rust`], [`go`], [`c`], [`wasm`]) and from
//! compiler output after a failed build ([`stderr`]).

use std::path::{Path, PathBuf};

pub mod catalog;
pub mod check;
pub mod stderr;

pub use catalog::{CATALOG, Entry, lookup};

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Works, but worth knowing (e.g. a tool on PATH that would fail if used directly).
    Warning,
    /// The build cannot succeed until it is fixed.
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Where the offending thing is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// How to fix one finding.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Fix {
    /// What to do, in one or two sentences (names the file and the edit when it is an edit).
    pub text: String,
    /// Commands that fix it, to run in order, as a shell would show them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// The same commands word by word: what `doctor --fix` runs (never a string split again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<Vec<String>>,
    /// Whether `doctor --fix` may run `commands` unattended (they only add what is missing).
    #[serde(default)]
    pub safe: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// `WF` + 4 digits; see [`CATALOG`].
    pub code: String,
    /// The catalog's title for the code.
    pub title: String,
    pub severity: Severity,
    /// One line naming the offending thing.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub fix: Fix,
    /// What it is about, when one name says it (a header, a function): rules that relate
    /// diagnostics compare this, never their message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl Diagnostic {
    /// A finding of `code` with the catalog's severity.
    ///
    /// # Panics
    /// Never for the codes this crate uses; an unknown code is a programming error caught by the
    /// catalog tests (every code used in the source is looked up there).
    pub fn new(code: &str, message: impl Into<String>, fix: impl Into<String>) -> Diagnostic {
        let entry = lookup(code);
        let severity = entry.map_or(Severity::Error, |e| e.severity);
        Diagnostic {
            code: code.to_string(),
            title: entry.map_or("", |e| e.title).to_string(),
            severity,
            message: message.into(),
            location: None,
            fix: Fix {
                text: fix.into(),
                commands: Vec::new(),
                argv: Vec::new(),
                safe: false,
            },
            subject: None,
        }
    }

    /// What it is about (a header's name, a function's).
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn at(mut self, file: impl Into<PathBuf>, line: Option<u32>) -> Self {
        self.location = Some(Location {
            file: file.into(),
            line,
        });
        self
    }

    /// Commands that fix it, word by word; `safe` when `doctor --fix` may run them unattended.
    pub fn commands(mut self, argv: Vec<Vec<String>>, safe: bool) -> Self {
        self.fix.commands = argv.iter().map(|words| shell_line(words)).collect();
        self.fix.argv = argv;
        self.fix.safe = safe;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The location's file relative to `root` when it is inside it (for CI annotations, which
    /// want paths relative to the repository root).
    pub fn relative_file(&self, root: &Path) -> Option<PathBuf> {
        let file = &self.location.as_ref()?.file;
        Some(
            file.strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| file.clone()),
        )
    }
}

/// A command line as a shell would need it typed (words with spaces or quotes quoted).
pub fn shell_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| crate::text::shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `rustup update`: the fix for a compiler too old.
pub fn rustup_update() -> Vec<Vec<String>> {
    vec![["rustup", "update"].map(String::from).to_vec()]
}

/// Errors first, then by code, then by place: the order every report uses.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| {
                a.location
                    .as_ref()
                    .map(|l| (&l.file, l.line))
                    .cmp(&b.location.as_ref().map(|l| (&l.file, l.line)))
            })
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Renders the catalog as Markdown (`docs/diagnostics.md` is this text; a test keeps them equal).
pub fn catalog_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\n\
         <!-- Generated from build/src/diagnostics/catalog.rs: `UPDATE_DOCS=1 cargo test -p wasmforge-build \
         diagnostics_doc` rewrites it, and that test fails when this file and the catalog differ. -->\n\n\
         Every problem `wasmforge doctor` and `wasmforge build` diagnose has a stable code. \
         `wasmforge explain CODE` prints the same text in a terminal.\n\n\
         | code | severity | title |\n| --- | --- | --- |\n",
    );
    for entry in CATALOG {
        out.push_str(&format!(
            "| [{code}](#{lower}) | {sev} | {title} |\n",
            code = entry.code,
            lower = entry.code.to_ascii_lowercase(),
            sev = entry.severity.name(),
            title = entry.title
        ));
    }
    for entry in CATALOG {
        out.push_str(&format!(
            "\n## {code}\n\n**{title}** ({sev})\n\n{explanation}\n\n**Fix:** {fix}\n",
            code = entry.code,
            title = entry.title,
            sev = entry.severity.name(),
            explanation = entry.explanation.trim(),
            fix = entry.fix.trim(),
        ));
    }
    out
}

/// The files under `dir` that `keep` accepts, sorted, skipping hidden folders and those named in
/// `skip_dirs` (build outputs, vendored code).
pub fn project_files(dir: &Path, skip_dirs: &[&str], keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && !skip_dirs.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if keep(&name) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `1 crate`, `2 crates`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/diagnostics.md is the catalog rendered; it cannot drift from the code.
    #[test]
    fn diagnostics_doc_matches_the_catalog() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
        let expected = catalog_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).expect("write docs/diagnostics.md");
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/diagnostics.md is out of date: run `UPDATE_DOCS=1 cargo test -p wasmforge-build diagnostics_doc`"
        );
    }

    #[test]
    fn diagnostics_sort_errors_first() {
        let mut list = vec![
            Diagnostic::new("WF4001", "w", "f"),
            Diagnostic::new("WF1001", "e", "f"),
        ];
        sort(&mut list);
        assert_eq!(list[0].code, "WF1001");
        assert_eq!(
            list[0].title,
            "Rust target not installed for the project's toolchain"
        );
    }
}
