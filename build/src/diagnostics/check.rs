//! One check of `doctor` (and of a build's pre-flight): its name, outcome and findings.

use super::{Diagnostic, Severity};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to check, or could not be checked (said in the detail); never a failure.
    Skipped,
    Ok,
    Warning,
    Error,
}

/// One check: its name, outcome, a line of detail, and the findings behind a warning or error.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl Check {
    pub fn ok(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Ok,
            detail,
            diagnostics: Vec::new(),
        }
    }

    /// A check that could not run or has nothing to say (never a failure).
    pub fn note(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Skipped,
            detail,
            diagnostics: Vec::new(),
        }
    }

    /// A check whose outcome is its findings (ok when there are none).
    pub fn from(name: &str, diagnostics: Vec<Diagnostic>) -> Check {
        let status = match diagnostics.iter().map(|d| d.severity).max() {
            None => Status::Ok,
            Some(Severity::Warning) => Status::Warning,
            Some(Severity::Error) => Status::Error,
        };
        let detail = match diagnostics.as_slice() {
            [] => "ok".to_string(),
            [one] => one.message.clone(),
            [first, rest @ ..] => format!("{} (and {} more)", first.message, rest.len()),
        };
        Check {
            name: name.into(),
            status,
            detail,
            diagnostics,
        }
    }

    /// A check that failed with an error of the build (its message and hint).
    pub fn from_error(name: &str, error: &crate::Error) -> Check {
        Check::failed(
            name,
            format!(
                "{error}{}",
                error
                    .hint()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default()
            ),
        )
    }

    /// The build's own verdict when it failed: its diagnosis, or its error when nothing in the
    /// compiler's output was recognised.
    /// Diagnostics whose code a check before it already reported are not repeated: the detail
    /// names the first cause with its code either way.
    pub fn from_build_error(error: &crate::Error, before: &[Check]) -> Check {
        let diagnostics = error.diagnostics();
        match diagnostics.iter().find(|d| d.is_error()) {
            Some(first) => {
                let fresh: Vec<Diagnostic> = diagnostics
                    .iter()
                    .filter(|d| {
                        !before
                            .iter()
                            .flat_map(|c| &c.diagnostics)
                            .any(|o| o.code == d.code)
                    })
                    .cloned()
                    .collect();
                Check {
                    name: "build".into(),
                    status: Status::Error,
                    detail: format!("the build fails ({}): {}", first.code, first.message),
                    diagnostics: fresh,
                }
            }
            None => {
                let mut check = Check::from_error("build", error);
                check.detail = match error.code() {
                    Some(code) if !code.is_empty() => {
                        format!("the build fails ({code}): {}", check.detail)
                    }
                    _ => format!("the build fails: {}", check.detail),
                };
                check
            }
        }
    }

    /// An error found by reading sources, when the build succeeds all the same: a warning,
    /// saying so.
    pub fn downgrade(&mut self, why: &str) {
        if self.status != Status::Error {
            return;
        }
        self.status = Status::Warning;
        self.detail = after_first_line(&self.detail, why);
        for d in &mut self.diagnostics {
            if d.is_error() {
                d.severity = Severity::Warning;
                d.message = after_first_line(&d.message, why);
            }
        }
    }

    /// A check that failed without a catalogued cause (e.g. `cargo metadata` rejected Cargo.toml).
    pub fn failed(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Error,
            detail,
            diagnostics: Vec::new(),
        }
    }
}

/// `text` with ` (why)` after its first line (a message may go on with a quoted source excerpt).
fn after_first_line(text: &str, why: &str) -> String {
    match text.split_once('\n') {
        Some((first, rest)) => format!("{first} ({why})\n{rest}"),
        None => format!("{text} ({why})"),
    }
}
