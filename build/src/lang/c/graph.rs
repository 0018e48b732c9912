//! The C build graph: the compile commands a build really runs, and the headers each compiled
//! file really includes. Source checks read only these, so a file the build never compiles
//! (tests, fuzzers, `contrib/`) and an `#include` under an `#ifdef` the build does not define
//! are never reported.
//!
//! Where the commands come from depends on the build: plain sources are ours; CMake's are in
//! `compile_commands.json` (filtered to the chosen target and the libraries it links); Make's are
//! read from `make -n -B` run with wasmforge's compiler wrapper. The includes come from the
//! preprocessor itself (`-M -MG` with the command's own flags and defines), cached per command
//! until the file or one of its headers changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cache::{self, Stamp};
use crate::error::{Error, Result};
use crate::process::Tool;
use crate::report::Reporter;

/// One compile the build runs: the compiler's argv (its program first) and its folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompileCommand {
    pub dir: PathBuf,
    pub argv: Vec<String>,
    /// The C file it compiles (absolute).
    pub source: PathBuf,
}

/// Flags that name outputs or ask for dependency files, with whether they take a value.
const OUTPUT_FLAGS: &[(&str, bool)] = &[
    ("-c", false),
    ("-o", true),
    ("-MD", false),
    ("-MMD", false),
    ("-MP", false),
    ("-MF", true),
    ("-MT", true),
    ("-MQ", true),
    ("-fsyntax-only", false),
];

impl CompileCommand {
    /// The command without what it writes: no `-c`, `-o`, dependency-file flags.
    fn without_outputs(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.argv.len());
        let mut words = self.argv.iter();
        while let Some(word) = words.next() {
            if let Some((_, takes_value)) = OUTPUT_FLAGS.iter().find(|(f, _)| f == word) {
                if *takes_value {
                    words.next();
                }
                continue;
            }
            // `-ofile`, `-MFfile`, `-Wp,-MD,file`.
            if (word.starts_with("-o") && word.len() > 2 && !word.starts_with("-objc"))
                || word.starts_with("-MF")
                || word.starts_with("-MT")
                || word.starts_with("-MQ")
                || word.starts_with("-Wp,-MD")
                || word.starts_with("-Wp,-MMD")
            {
                continue;
            }
            out.push(word.clone());
        }
        out
    }

    /// The dependency scan: the preprocessor lists every header (`-MG`: missing ones too, as
    /// written) on stdout.
    pub fn scan_argv(&self) -> Vec<String> {
        let mut argv = self.without_outputs();
        argv.extend(["-M".into(), "-MG".into(), "-w".into()]);
        argv
    }

    /// The compiler's syntax-only pass over the same file with the same flags (doctor); with
    /// `object`, a real compile into it instead (`zig cc` has no working `-fsyntax-only`).
    pub fn syntax_argv(&self, object: Option<&Path>) -> Vec<String> {
        let mut argv = self.without_outputs();
        match object {
            Some(object) => argv.extend(["-c".into(), "-o".into(), object.display().to_string()]),
            None => argv.push("-fsyntax-only".into()),
        }
        argv
    }

    fn tool(&self, argv: &[String]) -> Tool {
        let mut tool = Tool::new(&argv[0], "see `wasmforge doctor` for the C toolchain");
        tool.args(&argv[1..]).current_dir(&self.dir);
        tool
    }
}

/// Splits a command line as a POSIX shell would (quotes and backslashes), or `None` when it is
/// not a plain command (unbalanced quotes).
pub fn split_words(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// The C files a compiler command compiles: its `.c` arguments that are not an option's value.
fn sources_of(argv: &[String]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut index = 1;
    while index < argv.len() {
        let word = &argv[index];
        let takes_value = OUTPUT_FLAGS.iter().any(|(f, v)| f == word && *v)
            || [
                "-include", "-imacros", "-isystem", "-I", "-D", "-U", "-x", "-target",
            ]
            .contains(&word.as_str());
        if takes_value {
            index += 2;
            continue;
        }
        if !word.starts_with('-') && word.ends_with(".c") {
            found.push(index);
        }
        index += 1;
    }
    found
}

/// One command per C file of `argv` (a command may compile, or compile and link, several).
fn per_source(argv: &[String], dir: &Path) -> Vec<CompileCommand> {
    let sources = sources_of(argv);
    sources
        .iter()
        .map(|&keep| CompileCommand {
            dir: dir.to_owned(),
            argv: argv
                .iter()
                .enumerate()
                .filter(|(i, _)| *i == keep || !sources.contains(i))
                .map(|(_, w)| w.clone())
                .collect(),
            source: dir.join(&argv[keep]),
        })
        .collect()
}

/// Reads CMake's `compile_commands.json`, keeping the entries `keep` accepts (given the source
/// file and the object it writes, relative to the build folder).
pub fn from_compile_commands(
    path: &Path,
    keep: impl Fn(&Path, &str) -> bool,
) -> Result<Vec<CompileCommand>> {
    #[derive(serde::Deserialize)]
    struct Entry {
        directory: PathBuf,
        file: PathBuf,
        #[serde(default)]
        command: Option<String>,
        #[serde(default)]
        arguments: Option<Vec<String>>,
        #[serde(default)]
        output: Option<String>,
    }
    let text = fs_err::read_to_string(path)?;
    let entries: Vec<Entry> = serde_json::from_str(&text).map_err(|e| {
        Error::Io(std::io::Error::other(format!(
            "{e} (path: {})",
            path.display()
        )))
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let file = entry.directory.join(&entry.file);
        if file.extension().is_none_or(|e| e != "c") {
            continue;
        }
        let argv = match (entry.arguments, entry.command.as_deref()) {
            (Some(argv), _) => argv,
            (None, Some(line)) => split_words(line).unwrap_or_default(),
            (None, None) => continue,
        };
        // CMake writes `output` from 3.20 on, but not every generator does: else the `-o`.
        let output = entry
            .output
            .clone()
            .or_else(|| output_of(&argv))
            .unwrap_or_default();
        if argv.is_empty() || !keep(&file, &output) {
            continue;
        }
        out.push(CompileCommand {
            dir: entry.directory,
            argv,
            source: file,
        });
    }
    Ok(out)
}

/// The compile commands and link outputs in the output of `make -n -B` run with
/// `CC=<wrapper>`: lines whose first word is the wrapper, in the folder make says it is in.
pub fn from_make_dry_run(text: &str, wrapper: &str, start: &Path) -> MakePlan {
    let mut plan = MakePlan::default();
    let mut dirs: Vec<PathBuf> = vec![start.to_owned()];
    for line in text.lines() {
        // make[1]: Entering directory '/x/y'
        if let Some(rest) = line.split("Entering directory ").nth(1) {
            let dir = rest.trim().trim_matches(['\'', '`', '"']);
            dirs.push(PathBuf::from(dir));
            continue;
        }
        if line.contains("Leaving directory ") {
            if dirs.len() > 1 {
                dirs.pop();
            }
            continue;
        }
        // A recipe line may chain commands: `cd sub && $(CC) …` (the `cd` lasts for the line).
        let mut dir = dirs.last().cloned().unwrap_or_else(|| start.to_owned());
        for part in line.split("&&").flat_map(|p| p.split(';')) {
            let Some(words) = split_words(part.trim()) else {
                continue;
            };
            if words.first().map(String::as_str) == Some("cd") && words.len() == 2 {
                dir = dir.join(&words[1]);
                continue;
            }
            if words.first().map(String::as_str) != Some(wrapper) {
                continue;
            }
            // `cc -c a.c`, and `cc a.c b.c -o app` (compiled and linked in one go).
            plan.compiles.extend(per_source(&words, &dir));
            if !is_compile_only(&words)
                && let Some(out) = output_of(&words)
            {
                plan.links.push(dir.join(out));
            }
        }
    }
    plan
}

/// What `make -n` says the build will do.
#[derive(Debug, Clone, Default)]
pub struct MakePlan {
    pub compiles: Vec<CompileCommand>,
    /// What each link command writes.
    pub links: Vec<PathBuf>,
}

/// Whether a compiler command only compiles (or preprocesses) and does not link.
pub fn is_compile_only(argv: &[String]) -> bool {
    argv.iter().any(|a| {
        matches!(
            a.as_str(),
            "-c" | "-E" | "-S" | "-M" | "-MM" | "-fsyntax-only"
        )
    })
}

/// The `-o` of a command line.
pub fn output_of(argv: &[String]) -> Option<String> {
    let mut words = argv.iter();
    while let Some(word) = words.next() {
        if word == "-o" {
            return words.next().cloned();
        }
        if let Some(rest) = word.strip_prefix("-o")
            && !rest.is_empty()
            && !word.starts_with("-objc")
        {
            return Some(rest.to_string());
        }
    }
    None
}

/// The headers one compiled file includes, as the preprocessor resolved them: absolute paths,
/// or the name as written for a header it did not find.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scan {
    pub source: PathBuf,
    pub headers: Vec<PathBuf>,
}

/// `f` over every item, `jobs` at a time, in the items' order (items `f` gives nothing for are
/// left out).
fn parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(usize, &T) -> Option<R> + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    if let Some(result) = f(index, item) {
                        found
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((index, result));
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, r)| r).collect()
}

/// Scans every command (in parallel, `jobs` at a time), reusing earlier answers while the
/// command, the file and the headers it listed are unchanged.
pub fn scan_all(commands: &[CompileCommand], jobs: usize, reporter: &dyn Reporter) -> Vec<Scan> {
    parallel(commands, jobs, |_, command| scan_one(command, reporter))
}

fn scan_one(command: &CompileCommand, reporter: &dyn Reporter) -> Option<Scan> {
    let argv = command.scan_argv();
    let key = format!("scan {}\n{}", command.dir.display(), argv.join("\u{1f}"));
    if let Some(scan) = cache::load::<Scan>(crate::cache::Section::CScan, &key) {
        return Some(scan);
    }
    let output = command.tool(&argv).capture(reporter).ok()?;
    // The preprocessor lists what it found even when an `#error` stops it (exit 1).
    let text = String::from_utf8_lossy(&output.stdout);
    let mut headers: Vec<PathBuf> = super::parse_depfile(&text)
        .into_iter()
        .filter(|p| p != &command.source && command.dir.join(p) != command.source)
        .map(|p| {
            if p.is_relative() && command.dir.join(&p).is_file() {
                command.dir.join(p)
            } else {
                p
            }
        })
        .collect();
    let mut seen = BTreeSet::new();
    headers.retain(|h| seen.insert(h.clone()));
    let scan = Scan {
        source: command.source.clone(),
        headers,
    };
    let mut stamps = vec![Stamp::of(&command.source)];
    stamps.extend(
        scan.headers
            .iter()
            .filter(|h| h.is_absolute())
            .map(|h| Stamp::of(h)),
    );
    cache::store(crate::cache::Section::CScan, &key, stamps, &scan);
    Some(scan)
}

/// Runs the compiler's syntax-only pass on every command; returns each failing file with what
/// the compiler said. Warnings of passing files are kept too (they can predict a link failure).
pub fn syntax_check_all(
    commands: &[CompileCommand],
    jobs: usize,
    objects: Option<&Path>,
    reporter: &dyn Reporter,
) -> Vec<(PathBuf, bool, String)> {
    parallel(commands, jobs, |index, command| {
        let object = objects.map(|dir| dir.join(format!("{index}.o")));
        let argv = command.syntax_argv(object.as_deref());
        let output = command.tool(&argv).capture(reporter).ok()?;
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        Some((command.source.clone(), output.status.success(), text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_words(line).expect("words")
    }

    #[test]
    fn scan_and_syntax_commands_drop_outputs() {
        let cmd = CompileCommand {
            dir: PathBuf::from("/b"),
            argv: words(
                "/usr/bin/clang-16 --target=wasm32-wasi -DX=1 -I/p/include -O2 -MD -MT a.o -MF a.o.d -o CMakeFiles/x.dir/a.c.o -c /p/a.c",
            ),
            source: PathBuf::from("/p/a.c"),
        };
        assert_eq!(
            cmd.scan_argv().join(" "),
            "/usr/bin/clang-16 --target=wasm32-wasi -DX=1 -I/p/include -O2 /p/a.c -M -MG -w"
        );
        assert_eq!(
            cmd.syntax_argv(None).join(" "),
            "/usr/bin/clang-16 --target=wasm32-wasi -DX=1 -I/p/include -O2 /p/a.c -fsyntax-only"
        );
    }

    #[test]
    fn make_dry_run_gives_compiles_and_links() {
        // `make -n -B lua` of Lua 5.4.8's makefile with CC=/w/cc (excerpt), and a recursive make.
        let text = "/w/cc -O2 -c -o lapi.o lapi.c\n/w/cc -O2 -c -o 'l code.o' 'l code.c'\nar rc liblua.a lapi.o\nranlib liblua.a\n/w/cc -o lua  -Wl,-E lua.o liblua.a -lm\nmake[1]: Entering directory '/p/sub'\n/w/cc -c x.c\nmake[1]: Leaving directory '/p/sub'\ncd lib && /w/cc -c y.c -o y.o\n/w/cc -O2 m.c n.c -o out/app.wasm\n";
        let plan = from_make_dry_run(text, "/w/cc", Path::new("/p"));
        let sources: Vec<PathBuf> = plan.compiles.iter().map(|c| c.source.clone()).collect();
        assert_eq!(
            sources,
            [
                "/p/lapi.c",
                "/p/l code.c",
                "/p/sub/x.c",
                "/p/lib/y.c",
                "/p/m.c",
                "/p/n.c"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(plan.compiles[2].dir, Path::new("/p/sub"));
        assert_eq!(
            plan.compiles[5].argv.join(" "),
            "/w/cc -O2 n.c -o out/app.wasm"
        );
        assert_eq!(
            plan.links,
            [PathBuf::from("/p/lua"), PathBuf::from("/p/out/app.wasm")]
        );
    }

    #[test]
    fn compile_commands_are_filtered_by_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("compile_commands.json");
        std::fs::write(
            &path,
            r#"[
  {"directory": "/b", "command": "/usr/bin/cc -DA -o CMakeFiles/cjson.dir/cJSON.c.o -c /s/cJSON.c", "file": "/s/cJSON.c", "output": "CMakeFiles/cjson.dir/cJSON.c.o"},
  {"directory": "/b", "command": "/usr/bin/cc -o CMakeFiles/fuzz.dir/f.c.o -c /s/fuzzing/f.c", "file": "/s/fuzzing/f.c"}
]"#,
        )
        .expect("write");
        let kept =
            from_compile_commands(&path, |_, output| output.contains("/cjson.dir/")).expect("read");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].source, Path::new("/s/cJSON.c"));
        assert_eq!(kept[0].argv[1], "-DA");
    }

    #[test]
    fn outputs_and_compile_only() {
        assert_eq!(output_of(&words("cc -o lua lua.o")).as_deref(), Some("lua"));
        assert_eq!(output_of(&words("cc -olua lua.o")).as_deref(), Some("lua"));
        assert!(is_compile_only(&words("cc -c a.c")));
        assert!(!is_compile_only(&words("cc a.o -o x")));
    }
}
