//! Text that a module, a component, a registry or a WIT file chose (import and export names,
//! custom sections, a server's error body), made safe to show: control characters (a newline
//! that would start a fake `error:` line, escape sequences that erase lines or set a terminal's
//! title) and Unicode direction overrides are written as `\u{1b}`-style escapes.
//!
//! Also: quoting a word for a shell (the commands wasmforge shows and suggests).
//!
//! This is the one escaping path: every message that quotes such text quotes it through
//! [`Untrusted`] or [`escape`], in this crate, the registry crate and the binary alike.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;

/// `text` with every risky character escaped (newlines too).
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_except(text, &[])
}

/// [`escape`] for text that may hold lines of its own (WIT, a list we joined): newlines stay.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_except(text, &['\n'])
}

/// Quotes untrusted text in a `format!`: `format!("imports `{}`", Untrusted(name))`.
#[derive(Debug, Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

fn risky(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_except<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    let bad = |c: char| !keep.contains(&c) && risky(c);
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Quotes one word for a POSIX shell when it needs it.
pub fn shell_quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_direction_overrides_are_escaped() {
        assert_eq!(escape("plain `name`"), "plain `name`");
        assert_eq!(escape("f\n\nerror: fake"), "f\\n\\nerror: fake");
        assert_eq!(escape("\u{1b}[2K"), "\\u{1b}[2K");
        assert_eq!(escape("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_lines("one\ntwo\r"), "one\ntwo\\r");
        assert_eq!(format!("`{}`", Untrusted("x\ny")), "`x\\ny`");
    }
}
