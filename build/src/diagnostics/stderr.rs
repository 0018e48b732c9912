//! What the languages' compiler-output rules share: the context of a failed compile and the
//! helpers that read compiler messages. The rules themselves are each language's
//! (`lang/*/stderr.rs`); [`crate::lang::diagnose`] runs them.

use std::path::{Path, PathBuf};

use super::Diagnostic;

/// One line of a failed compile's output, as the rules see it: the line (trimmed) and where it
/// is among the others (a rule may look at the lines around it).
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub lines: &'a [&'a str],
    pub i: usize,
    pub text: &'a str,
}

/// A rule: recognises one known failure in a line, giving each diagnostic to `push`.
pub type Rule = fn(&Line<'_>, &Context<'_>, &mut dyn FnMut(super::Diagnostic));

/// What the matcher knows besides the text.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The Rust toolchain that built (for `rustup … --toolchain`).
    pub toolchain: Option<&'a str>,
    /// The target triple that was built for.
    pub triple: &'a str,
}

/// The text between `start` and the next `end` in `line`.
pub(crate) fn between<'t>(line: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = line.find(start)? + start.len();
    let len = line[from..].find(end)?;
    Some(&line[from..from + len])
}

/// Compilers colour their output on a terminal; patterns are matched on the plain text.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `path:line[:col]` → (path, line).
pub(crate) fn split_file_line(text: &str) -> Option<(PathBuf, Option<u32>)> {
    let mut parts = text.rsplitn(3, ':');
    let last = parts.next()?;
    let middle = parts.next();
    match (
        last.parse::<u32>(),
        middle.and_then(|m| m.parse::<u32>().ok()),
        parts.next(),
    ) {
        (Ok(_col), Some(line), Some(file)) => Some((PathBuf::from(file), Some(line))),
        (Ok(line), _, _) => {
            let file = text.rsplit_once(':')?.0;
            Some((PathBuf::from(file), Some(line)))
        }
        _ => None,
    }
}

/// `file.c:5:13: error: …` → the file and line of a compiler message.
pub(crate) fn source_place(line: &str) -> Option<(PathBuf, Option<u32>)> {
    let head = line.split(": ").next()?;
    let (file, line_no) = split_file_line(head)?;
    (file.extension().is_some_and(|e| e == "c" || e == "h")).then_some((file, line_no))
}

/// For a rustc error at line `i`, the ` --> …/NAME-VERSION/src/…:L:C` line after it: the crate
/// ("getrandom 0.2.17") and the place.
pub(crate) fn crate_at(
    lines: &[&str],
    i: usize,
    name: &str,
) -> (Option<String>, Option<(PathBuf, Option<u32>)>) {
    let Some(arrow) = lines
        .iter()
        .skip(i + 1)
        .take(3)
        .find_map(|l| l.trim().strip_prefix("--> "))
    else {
        return (None, None);
    };
    let place = split_file_line(arrow);
    let krate = Path::new(arrow)
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}-"))
                .filter(|v| v.starts_with(|ch: char| ch.is_ascii_digit()))
                .map(|v| format!("{name} {v}"))
        });
    (krate, place)
}

pub(crate) fn with_place(d: Diagnostic, place: Option<(PathBuf, Option<u32>)>) -> Diagnostic {
    match place {
        Some((file, line)) => d.at(file, line),
        None => d,
    }
}

/// A compiler's line that cargo relays from a build script, without cargo's words around it:
/// `  cargo:warning=<line>` (the script's output) and `warning: zstd-sys@2.2.0: <line>` (cargo's
/// summary of it). Any other line as it is.
pub fn relayed(line: &str) -> &str {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("cargo:warning=") {
        return rest;
    }
    if let Some(rest) = trimmed.strip_prefix("warning: ")
        && let Some((package, said)) = rest.split_once(": ")
        && package.contains('@')
        && !package.contains(' ')
    {
        return said;
    }
    line
}
