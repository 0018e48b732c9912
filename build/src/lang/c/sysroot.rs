//! What the WASI sysroot itself says about a name the code uses: which of its headers declares
//! it, whether wasi-libc left the declaration out (and the reason its comment gives: "WASI has no
//! chmod"), whether its `libc.a` defines it — and whether the host's C library has it at all.
//! A diagnosis of a function WASI lacks is made from this evidence, not from a list; the list in
//! `checks.rs` only adds why and the way out for the families it knows.

use std::path::{Path, PathBuf};

use super::toolchain::{CFlavor, CToolchain};
use crate::process::Tool;
use crate::report::Reporter;

/// The headers and C library of one toolchain's WASI sysroot, and the host's headers.
#[derive(Debug, Clone, Default)]
pub struct Sysroot {
    /// The folders the compiler searches for `<…>` headers that are not the host's.
    pub include: Vec<PathBuf>,
    /// The host's header folders (`/usr/include`).
    pub host: Vec<PathBuf>,
    /// The sysroot's `libc.a`, when the toolchain has one on disk (zig builds its own).
    pub libc: Option<PathBuf>,
    /// The symbols `libc.a` defines, read once when first asked (None: no archive to read).
    pub symbols: std::sync::OnceLock<Option<std::collections::HashSet<Vec<u8>>>>,
}

/// How a sysroot's headers know a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// Declared (or defined as a macro) in `header` (as `#include <…>` names it).
    Yes { header: String, line: u32 },
    /// Written in `header`, but inside `#ifdef __wasilibc_unmodified_upstream`: wasi-libc left
    /// it out, for the reason its comment gives.
    LeftOut {
        header: String,
        line: u32,
        reason: Option<String>,
    },
    /// No header declares it.
    No,
}

/// At most this many header files are read from the host's folders (a host may have many).
const HOST_FILES: usize = 6000;

impl Sysroot {
    /// The sysroot of `tc` for `triple`: its search list (cached probe) and `libc.a`.
    pub fn of(tc: &CToolchain, triple: &str, reporter: &dyn Reporter) -> Sysroot {
        let roots = super::checks::IncludeRoots::probe(tc, triple, reporter);
        let (host, include): (Vec<PathBuf>, Vec<PathBuf>) = roots
            .roots
            .into_iter()
            .partition(|r| r == Path::new("/usr/include") || r.starts_with("/usr/local/include"));
        let libc = (tc.flavor != CFlavor::Zig)
            .then(|| {
                let mut tool = Tool::new(&tc.cc[0], "");
                tool.args(&tc.cc[1..])
                    .args(tc.target_args(triple))
                    .arg("-print-file-name=libc.a");
                tool.capture(reporter).ok()
            })
            .flatten()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.is_absolute() && p.is_file());
        let host = if host.is_empty() {
            vec![PathBuf::from("/usr/include")]
        } else {
            host
        };
        Sysroot {
            include,
            host,
            libc,
            symbols: Default::default(),
        }
    }

    /// How the sysroot's headers know `name`.
    pub fn declaration(&self, name: &str) -> Declared {
        let mut left_out = None;
        for root in &self.include {
            for file in headers_under(root, 6, usize::MAX) {
                match declared_in(&file, name) {
                    Some((line, None)) => {
                        return Declared::Yes {
                            header: include_name(root, &file),
                            line,
                        };
                    }
                    Some((line, Some(reason))) if left_out.is_none() => {
                        left_out = Some(Declared::LeftOut {
                            header: include_name(root, &file),
                            line,
                            reason,
                        });
                    }
                    _ => {}
                }
            }
        }
        left_out.unwrap_or(Declared::No)
    }

    /// The host header that declares `name` (`sys/stat.h`), when the host's C library has it.
    pub fn host_declaration(&self, name: &str) -> Option<String> {
        let mut internal = None;
        for root in &self.host {
            for file in headers_under(root, 3, HOST_FILES) {
                if let Some((_, None)) = declared_in(&file, name) {
                    let shown = include_name(root, &file);
                    // Debian keeps glibc's per-architecture headers in a multiarch folder.
                    let shown = match shown.split_once("-linux-gnu/") {
                        Some((_, rest)) => rest.to_string(),
                        None => shown,
                    };
                    // glibc's `bits/` headers are included through a public one.
                    if !shown.starts_with("bits/") {
                        return Some(shown);
                    }
                    internal.get_or_insert(shown);
                }
            }
        }
        internal
    }

    /// Whether the sysroot's `libc.a` defines `symbol` (None: no `libc.a` to read).
    pub fn defines(&self, symbol: &str) -> Option<bool> {
        let symbols = self.symbols.get_or_init(|| {
            let bytes = std::fs::read(self.libc.as_ref()?).ok()?;
            let archive = object::read::archive::ArchiveFile::parse(&*bytes).ok()?;
            let symbols = archive.symbols().ok()??;
            Some(
                symbols
                    .filter_map(|s| s.ok().map(|s| s.name().to_vec()))
                    .collect(),
            )
        });
        Some(symbols.as_ref()?.contains(symbol.as_bytes()))
    }
}

/// `root/sys/stat.h` → `sys/stat.h`.
fn include_name(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}

/// The `.h` files under `root`, `depth` folders deep at most, `limit` at most, in a stable order.
fn headers_under(root: &Path, depth: usize, limit: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut folders = vec![(root.to_path_buf(), 0)];
    while let Some((folder, level)) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if level + 1 < depth && !entry.file_name().to_string_lossy().contains("c++") {
                    folders.push((path, level + 1));
                }
            } else if path.extension().is_some_and(|e| e == "h") {
                out.push(path);
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// Where `file` declares `name` (a prototype `name(` or a function-like macro), with the reason
/// when the declaration sits inside `#ifdef __wasilibc_unmodified_upstream /* reason */`
/// (`Some(None)` when it does without a comment).
fn declared_in(file: &Path, name: &str) -> Option<(u32, Option<Option<String>>)> {
    let text = std::fs::read_to_string(file).ok()?;
    if !text.contains(name) {
        return None;
    }
    // The conditions around each line: for each open `#if`, whether it is wasi-libc's "left
    // out" block (in its `#if` branch), and its reason.
    let mut open: Vec<Option<Option<String>>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(directive) = trimmed.strip_prefix('#').map(str::trim_start) {
            if directive.starts_with("if") {
                let left_out = directive.contains("__wasilibc_unmodified_upstream")
                    && !directive.starts_with("ifndef")
                    && !directive.contains('!');
                open.push(left_out.then(|| {
                    directive
                        .split_once("/*")
                        .and_then(|(_, c)| c.split_once("*/"))
                        .map(|(c, _)| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                }));
            } else if directive.starts_with("el") {
                if let Some(top) = open.last_mut() {
                    *top = None;
                }
            } else if directive.starts_with("endif") {
                open.pop();
            } else if let Some(rest) = directive.strip_prefix("define")
                && rest.trim_start().starts_with(&format!("{name}("))
            {
                return Some((i as u32 + 1, left_out(&open)));
            }
            continue;
        }
        if declares(line, name) {
            return Some((i as u32 + 1, left_out(&open)));
        }
    }
    None
}

fn left_out(open: &[Option<Option<String>>]) -> Option<Option<String>> {
    open.iter().rev().find_map(|o| o.clone())
}

/// Whether a line of a header declares `name` as a function: the name as a whole word, then
/// `(`, not a member access, not inside a comment.
fn declares(line: &str, name: &str) -> bool {
    let code = line.split("//").next().unwrap_or(line);
    let mut from = 0;
    while let Some(at) = code[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before = code[..start].chars().next_back();
        let word_start = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let after = code[end..].trim_start();
        let member = code[..start].ends_with('.') || code[..start].ends_with("->");
        let in_comment = code[..start].contains("/*") && !code[..start].contains("*/")
            || code.trim_start().starts_with('*');
        if word_start && after.starts_with('(') && !member && !in_comment {
            return true;
        }
        from = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn a_declaration_wasi_libc_left_out_keeps_its_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sysroot = dir.path().join("wasi");
        let host = dir.path().join("host");
        header(
            &sysroot,
            "sys/stat.h",
            "int stat(const char *, struct stat *);\n\
             #ifdef __wasilibc_unmodified_upstream /* WASI has no chmod */\n\
             int chmod(const char *, mode_t);\n\
             #endif\n\
             #ifndef __wasilibc_unmodified_upstream\n\
             int fstat(int, struct stat *);\n\
             #else\n\
             int lstat(const char *, struct stat *);\n\
             #endif\n",
        );
        header(
            &sysroot,
            "string.h",
            "#define strdupa(x) x\nchar *strdup (const char *);\n",
        );
        header(
            &host,
            "x86_64-linux-gnu/sys/stat.h",
            "extern int chmod (const char *__file, __mode_t __mode);\n",
        );
        let s = Sysroot {
            include: vec![sysroot],
            host: vec![host],
            libc: None,
            symbols: Default::default(),
        };
        assert_eq!(
            s.declaration("chmod"),
            Declared::LeftOut {
                header: "sys/stat.h".into(),
                line: 3,
                reason: Some("WASI has no chmod".into()),
            }
        );
        assert!(matches!(
            s.declaration("stat"),
            Declared::Yes { line: 1, .. }
        ));
        assert!(matches!(
            s.declaration("fstat"),
            Declared::Yes { line: 6, .. }
        ));
        assert!(matches!(
            s.declaration("strdup"),
            Declared::Yes { line: 2, .. }
        ));
        assert!(matches!(
            s.declaration("strdupa"),
            Declared::Yes { line: 1, .. }
        ));
        assert_eq!(s.declaration("fchown"), Declared::No);
        assert_eq!(s.host_declaration("chmod").as_deref(), Some("sys/stat.h"));
        assert_eq!(s.host_declaration("my_helper"), None);
        assert_eq!(s.defines("chmod"), None);
    }

    #[test]
    fn member_calls_and_comments_are_not_declarations() {
        assert!(declares("int chmod(const char *, mode_t);", "chmod"));
        assert!(declares("extern int chmod (const char *__file);", "chmod"));
        assert!(!declares("  s->chmod(x);", "chmod"));
        assert!(!declares("/* see chmod(2) */", "chmod"));
        assert!(!declares(" * chmod(2) changes modes", "chmod"));
        assert!(!declares("int fchmod(int, mode_t);", "chmod"));
    }
}
