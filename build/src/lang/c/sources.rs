//! Plain C sources: every file compiled in parallel into its own object (depfiles make
//! rebuilds incremental), then linked.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::graph::CompileCommand;
use super::{Flags, Job, cc_tool};
use crate::error::{Error, Result};
use crate::files::{sha256_hex, write_atomic};
use crate::lang::c::toolchain::CToolchain;
use crate::report::Reporter;

/// One source file and where its object goes.
#[derive(Debug)]
struct Unit {
    source: PathBuf,
    rel: String,
    object: PathBuf,
    depfile: PathBuf,
}

/// The C files of a plain-sources project: `[c] sources` globs, else `src/**/*.c`, else `*.c`.
fn source_files(job: &Job<'_>) -> Result<Vec<PathBuf>> {
    let dir = &job.project.dir;
    let configured = super::config::of(job.config)?.sources;
    let patterns = if !configured.is_empty() {
        configured
    } else if dir.join("src").is_dir() {
        vec!["src/**/*.c".into()]
    } else {
        vec!["*.c".into()]
    };
    let mut sources = Vec::new();
    for pattern in &patterns {
        let full = dir.join(pattern).display().to_string();
        let paths = glob::glob(&full).map_err(|e| Error::ConfigValue {
            key: "[c] sources",
            message: format!("pattern `{pattern}` is not valid: {e}"),
            hint: "patterns are globs relative to the project folder, e.g. \"src/**/*.c\"".into(),
        })?;
        sources.extend(
            paths
                .filter_map(std::result::Result::ok)
                .filter(|p| p.is_file()),
        );
    }
    sources.sort();
    sources.dedup();
    if sources.is_empty() {
        return Err(Error::NoCSources {
            patterns,
            dir: dir.to_path_buf(),
        });
    }
    Ok(sources)
}

/// Where each source's object goes: its path mirrored under `obj/p/` (or, for a file outside
/// the project, `obj/x/<hash of its folder>/`), so no two sources can share an object.
fn units(job: &Job<'_>, obj_dir: &Path, generated: &[PathBuf]) -> Result<Vec<Unit>> {
    let dir = &job.project.dir;
    let mut files = source_files(job)?;
    files.extend(generated.iter().cloned());
    Ok(files
        .into_iter()
        .map(|source| {
            let (rel, object) = match source.strip_prefix(dir) {
                Ok(rel) => (
                    rel.display().to_string(),
                    obj_dir.join("p").join(format!("{}.o", rel.display())),
                ),
                Err(_) => {
                    let parent = source.parent().unwrap_or(Path::new("/"));
                    let hash = &sha256_hex(parent.display().to_string().as_bytes())[..16];
                    let file = source.file_name().map(|f| f.to_string_lossy().into_owned());
                    (
                        source.display().to_string(),
                        obj_dir
                            .join("x")
                            .join(hash)
                            .join(format!("{}.o", file.unwrap_or_default())),
                    )
                }
            };
            let depfile = PathBuf::from(format!("{}.d", object.display()));
            Unit {
                source,
                rel,
                object,
                depfile,
            }
        })
        .collect())
}

/// The compile commands a plain-sources build runs.
pub(super) fn commands(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
) -> Result<Vec<CompileCommand>> {
    let obj_dir = super::build_dir(job, toolchain, "c").join("obj");
    Ok(units(job, &obj_dir, &flags.sources)?
        .into_iter()
        .map(|u| {
            let mut argv = toolchain.cc.clone();
            argv.extend(flags.compile());
            argv.extend([
                "-c".to_string(),
                u.source.display().to_string(),
                "-o".to_string(),
                u.object.display().to_string(),
            ]);
            CompileCommand {
                dir: job.project.dir.clone(),
                argv,
                source: u.source,
            }
        })
        .collect())
}

pub(super) fn build(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    name: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let work = super::build_dir(job, toolchain, "c");
    let obj_dir = work.join("obj");
    fs_err::create_dir_all(&obj_dir)?;
    let units = units(job, &obj_dir, &flags.sources)?;

    // A change of compiler, flags or defines makes every object stale.
    let compile_fingerprint = fingerprint(&[
        &toolchain.cc,
        std::slice::from_ref(&toolchain.version),
        &flags.compile(),
    ]);
    let stamp = obj_dir.join(".compile-flags");
    let flags_changed =
        std::fs::read_to_string(&stamp).ok().as_deref() != Some(compile_fingerprint.as_str());
    let stale: Vec<&Unit> = units
        .iter()
        .filter(|u| flags_changed || is_stale(u))
        .collect();

    if !stale.is_empty() {
        compile_all(&stale, toolchain, flags, super::jobs(job), reporter)?;
        write_atomic(&stamp, compile_fingerprint.as_bytes())?;
    }

    let out = work.join(format!("{name}.wasm"));
    let objects: Vec<String> = units
        .iter()
        .map(|u| u.object.display().to_string())
        .collect();
    let link_fingerprint = fingerprint(&[&toolchain.cc, &flags.compile(), &flags.link, &objects]);
    let link_stamp = work.join(".link-flags");
    let link_changed =
        std::fs::read_to_string(&link_stamp).ok().as_deref() != Some(link_fingerprint.as_str());
    let out_time = mtime(&out);
    let relink = link_changed
        || !stale.is_empty()
        || out_time.is_none()
        || units.iter().any(|u| mtime(&u.object) > out_time);
    if relink {
        let tmp = work.join(format!(".{name}.wasm.{}.tmp", std::process::id()));
        let mut link = cc_tool(toolchain);
        link.args(flags.compile())
            .args(&objects)
            .arg("-o")
            .arg(&tmp)
            .args(&flags.link);
        reporter.status("Linking", &format!("{name}.wasm"));
        let status = link.run_streaming(reporter)?;
        if !status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::CompileFailed {
                hint: None,
                diagnostics: Vec::new(),
                what: format!("linking {name}.wasm"),
                status: status.to_string(),
            });
        }
        fs_err::rename(&tmp, &out)?;
        write_atomic(&link_stamp, link_fingerprint.as_bytes())?;
    }
    Ok(out)
}

fn fingerprint(parts: &[&[String]]) -> String {
    let joined: Vec<String> = parts.iter().map(|p| p.join("\u{1f}")).collect();
    sha256_hex(joined.join("\u{1e}").as_bytes())
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// An object is stale when it is missing, or older than its source or any header its depfile
/// names (or one of those is gone).
fn is_stale(unit: &Unit) -> bool {
    let Some(built) = mtime(&unit.object) else {
        return true;
    };
    let Ok(depfile) = std::fs::read_to_string(&unit.depfile) else {
        return true;
    };
    let mut inputs = parse_depfile(&depfile);
    inputs.push(unit.source.clone());
    inputs
        .iter()
        .any(|input| mtime(input).is_none_or(|t| t > built))
}

/// The prerequisites listed in a Make-style depfile (`obj.o: a.c b.h \` …).
pub fn parse_depfile(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut deps = Vec::new();
    for line in joined.lines() {
        let Some((_, rest)) = split_rule(line) else {
            continue;
        };
        let mut word = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    word.push(' ');
                    chars.next();
                }
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        deps.push(PathBuf::from(std::mem::take(&mut word)));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            deps.push(PathBuf::from(word));
        }
    }
    deps
}

/// Splits `target: prerequisites` at the rule's colon (not a drive letter's).
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find_map(|i| {
        let is_drive = i == 1
            && bytes[0].is_ascii_alphabetic()
            && bytes.get(2).is_some_and(|b| *b == b'\\' || *b == b'/');
        (bytes[i] == b':' && !is_drive).then(|| (&line[..i], &line[i + 1..]))
    })
}

fn compile_all(
    stale: &[&Unit],
    toolchain: &CToolchain,
    flags: &Flags,
    jobs: usize,
    reporter: &dyn Reporter,
) -> Result<()> {
    reporter.progress_start(stale.len() as u64);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let fatal = Mutex::new(None::<Error>);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(stale.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(unit) = stale.get(index) else { break };
                    match compile_one(unit, toolchain, flags, reporter) {
                        Ok(true) => reporter.progress_step(&unit.rel),
                        Ok(false) => failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(unit.rel.clone()),
                        Err(err) => {
                            *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
                            break;
                        }
                    }
                }
            });
        }
    });
    reporter.progress_finish();
    if let Some(err) = fatal.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(err);
    }
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    if !failures.is_empty() {
        return Err(Error::CompileFailed {
            hint: None,
            diagnostics: Vec::new(),
            what: format!("compiling {}", failures.join(", ")),
            status: "compiler errors".into(),
        });
    }
    Ok(())
}

/// Compiles one unit into a temporary object renamed into place, so a failed or interrupted
/// compile never leaves an object that looks up to date. Returns whether it compiled.
fn compile_one(
    unit: &Unit,
    toolchain: &CToolchain,
    flags: &Flags,
    reporter: &dyn Reporter,
) -> Result<bool> {
    reporter.status("Compiling", &unit.rel);
    if let Some(parent) = unit.object.parent() {
        fs_err::create_dir_all(parent)?;
    }
    // A name of its own per process: two builds of one project never share a temporary file.
    let tmp = PathBuf::from(format!(
        "{}.{}.tmp",
        unit.object.display(),
        std::process::id()
    ));
    let mut cc = cc_tool(toolchain);
    cc.args(flags.compile())
        .args(["-MMD", "-MF"])
        .arg(&unit.depfile)
        .arg("-c")
        .arg(&unit.source)
        .arg("-o")
        .arg(&tmp);
    let output = cc.capture(reporter)?;
    // Diagnostics of one file stay together even when files compile in parallel.
    let text = String::from_utf8_lossy(&output.stderr);
    for line in text.lines() {
        reporter.tool_output(line);
    }
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Ok(false);
    }
    fs_err::rename(&tmp, &unit.object)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfiles_as_clang_and_zig_write_them() {
        let text = "obj/a.o.tmp: /p/src/a.c /p/include/a.h \\\n  /p/include/with\\ space.h\n/p/include/a.h:\n";
        let deps = parse_depfile(text);
        assert_eq!(
            deps,
            ["/p/src/a.c", "/p/include/a.h", "/p/include/with space.h"]
                .map(PathBuf::from)
                .to_vec()
        );
        assert!(parse_depfile("").is_empty());
    }
}
