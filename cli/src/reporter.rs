//! The terminal side of the library's [`Reporter`]: an indicatif bar counting compiled crates
//! on an interactive terminal; plain lines (what the compiler printed) everywhere else.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wasmforge_build::Reporter;

use crate::output::{Ctx, DIM};

pub struct TermReporter<'a> {
    ctx: &'a Ctx,
    bar: Mutex<Option<ProgressBar>>,
    /// The CI whose log folds long output (compiler messages) into a group.
    ci: Option<crate::output::CiLog>,
    /// The last status line, which names an open group; `Some` while a group is open.
    group: Mutex<(String, Option<String>)>,
}

impl<'a> TermReporter<'a> {
    pub fn new(ctx: &'a Ctx) -> Self {
        TermReporter {
            ctx,
            bar: Mutex::new(None),
            ci: crate::output::CiLog::detect(),
            group: Mutex::new((String::new(), None)),
        }
    }

    fn with_bar<R>(&self, f: impl FnOnce(Option<&ProgressBar>) -> R) -> R {
        let guard = self
            .bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(guard.as_ref())
    }

    /// Opens a folded group named after the last status, once, before compiler output.
    fn open_group(&self) {
        let Some(ci) = self.ci else { return };
        let mut group = self.group.lock().unwrap_or_else(|p| p.into_inner());
        if group.1.is_none() {
            let title = if group.0.is_empty() {
                "compiler output".to_string()
            } else {
                group.0.clone()
            };
            let id = ci.open(&title);
            group.1 = Some(id);
        }
    }

    /// Closes the open group, so what follows (statuses, diagnostics, errors) stays visible.
    fn close_group(&self) {
        let Some(ci) = self.ci else { return };
        let mut group = self.group.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = group.1.take() {
            ci.close(&id);
        }
    }

    fn print_line(&self, line: &str) {
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| anstream::eprintln!("{line}")),
            None => anstream::eprintln!("{line}"),
        });
    }
}

/// Cargo's status lines ("   Compiling foo v0.1.0") that a progress bar replaces.
fn is_status_line(line: &str) -> bool {
    let plain = strip_ansi(line);
    let trimmed = plain.trim_start();
    let indent = plain.len() - trimmed.len();
    let verb = trimmed.split_whitespace().next().unwrap_or("");
    (1..=12).contains(&indent)
        && matches!(
            verb,
            "Compiling"
                | "Checking"
                | "Fresh"
                | "Downloading"
                | "Downloaded"
                | "Updating"
                | "Locking"
                | "Adding"
                | "Blocking"
                | "Finished"
                | "Building"
                | "Running"
        )
}

/// Build tools' progress that `-q` hides: CMake's `[ 50%] Building C object …` (Makefiles) and
/// `[3/7] Linking …` (Ninja), and its `-- Configuring done` status messages.
fn is_progress_line(line: &str) -> bool {
    let plain = strip_ansi(line);
    if plain.starts_with("-- ") {
        return true;
    }
    let Some(rest) = plain.strip_prefix('[') else {
        return false;
    };
    let Some((inside, after)) = rest.split_once("] ") else {
        return false;
    };
    let inside = inside.trim();
    let percent = inside
        .strip_suffix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let ratio = inside.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    (percent || ratio) && !after.is_empty()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Reporter for TermReporter<'_> {
    fn diagnostic(&self, diagnostic: &wasmforge_build::diagnostics::Diagnostic) {
        self.close_group();
        if self.ci == Some(crate::output::CiLog::Github) {
            crate::output::github_annotation(diagnostic);
        }
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| crate::output::render_diagnostic(diagnostic)),
            None => crate::output::render_diagnostic(diagnostic),
        });
    }

    fn command(&self, line: &str) {
        if self.ctx.verbose > 0 {
            self.print_line(&format!("{DIM}     Running `{line}`{DIM:#}"));
        }
    }

    fn status(&self, verb: &str, message: &str) {
        self.close_group();
        self.group.lock().unwrap_or_else(|p| p.into_inner()).0 = format!("{verb} {message}");
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| self.ctx.status(verb, message)),
            None => self.ctx.status(verb, message),
        });
    }

    fn progress_start(&self, total: u64) {
        if !self.ctx.interactive {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len}: {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix("Building");
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn progress_step(&self, name: &str) {
        self.with_bar(|bar| {
            if let Some(bar) = bar {
                bar.inc(1);
                bar.set_message(name.to_string());
            }
        });
    }

    fn progress_finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            bar.finish_and_clear();
        }
    }

    fn tool_output(&self, line: &str) {
        let has_bar = self.with_bar(|bar| bar.is_some());
        if has_bar && is_status_line(line) {
            return;
        }
        if self.ctx.quiet && (is_status_line(line) || is_progress_line(line)) {
            return;
        }
        self.open_group();
        self.print_line(line);
    }

    fn warning(&self, message: &str) {
        self.close_group();
        self.with_bar(|bar| match bar {
            Some(bar) => bar.suspend(|| self.ctx.warning(message)),
            None => self.ctx.warning(message),
        });
    }
}

impl Drop for TermReporter<'_> {
    fn drop(&mut self) {
        self.close_group();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_cargo_status_lines_with_and_without_colour() {
        assert!(is_status_line("   Compiling hello v0.1.0 (/tmp/hello)"));
        assert!(is_status_line(
            "\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m hello v0.1.0"
        ));
        assert!(!is_status_line("error[E0308]: mismatched types"));
        assert!(!is_status_line("  --> src/main.rs:2:5"));
        assert!(!is_status_line("Compiling at column zero is not cargo's"));
        assert!(is_progress_line(
            "[ 25%] Building C object CMakeFiles/a.dir/a.c.o"
        ));
        assert!(is_progress_line("[100%] Built target hello"));
        assert!(is_progress_line("[3/7] Linking C executable hello.wasm"));
        assert!(is_progress_line("-- Configuring done"));
        assert!(!is_progress_line("src/a.c:3:1: error: expected ';'"));
        assert!(!is_progress_line("[warning] something"));
    }
}
