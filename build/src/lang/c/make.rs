//! Make projects: make runs in the project's folder with `CC` set to wasmforge's compiler
//! wrapper, which adds the target and wasmforge's flags and records every compile and link. What
//! make will compile is read beforehand from `make -n -B`; which file the build made, afterwards
//! from the wrapper's record of the link (no `[c] artifact` needed unless there are several).

use std::path::{Path, PathBuf};

use super::graph::{self, MakePlan};
use super::support::{self, Recorded};
use super::{Flags, Job};
use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::files::{sha256_hex, write_atomic};
use crate::lang::c::toolchain::CToolchain;
use crate::process::Tool;
use crate::report::Reporter;
use crate::text::shell_quote;

const MAKE_HINT: &str = "install GNU make: `apt-get install make`";

/// The make command line for this build, with the wrapper at `wrapper`.
fn make_tool(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    wrapper: &Path,
) -> Result<Tool> {
    let path = make_path(toolchain, dir)?;
    let words = |words: &[String]| {
        words
            .iter()
            .map(|w| shell_quote(w.as_ref()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut cflags = flags.profile.clone();
    cflags.extend(flags.project.iter().cloned());
    let tree = tree_of(dir);
    mirror(&job.project.dir, &tree)?;
    let mut make = Tool::new("make", MAKE_HINT);
    make.arg("-C")
        .arg(&tree)
        .env("PATH", path)
        .arg(format!("CC={}", wrapper.display()))
        .arg(format!("CFLAGS={}", words(&cflags)))
        .args(&job.options.extra_args);
    Ok(make)
}

/// PATH for make: the toolchain's archivers first (see `support::archiver_dir`).
fn make_path(toolchain: &CToolchain, dir: &Path) -> Result<std::ffi::OsString> {
    let tools = support::archiver_dir(toolchain, &dir.join("tools"))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![tools];
    paths.extend(std::env::split_paths(&path));
    std::env::join_paths(paths).map_err(|e| Error::Io(std::io::Error::other(e)))
}

/// The folder make runs in: a mirror of the project (its folders made, its files linked) under
/// the build's own folder, so objects and programs land there and never in the user's tree,
/// one mirror per toolchain, target and profile.
fn tree_of(dir: &Path) -> PathBuf {
    dir.join("tree")
}

/// The folders `mirror` never copies: version control and wasmforge's own build folder.
fn skipped(project: &Path, path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(name, ".git" | ".hg" | ".svn") || path == project.join("target").join("wasmforge")
}

/// Makes `tree` mirror `project`: every folder made, every file a symbolic link to the
/// project's (make reads the sources through them and writes its own files beside them); links
/// to files the project no longer has are removed. What make wrote stays.
pub fn mirror(project: &Path, tree: &Path) -> Result<()> {
    mirror_with(project, tree, Link::Symbolic)
}

/// How a mirror's files stand for the project's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    Symbolic,
    /// Hard links (copies across file systems), refreshed when the project's file changed.
    Hard,
}

fn mirror_with(project: &Path, tree: &Path, link: Link) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    fs_err::create_dir_all(tree)?;
    let mut folders = vec![PathBuf::new()];
    while let Some(rel) = folders.pop() {
        let from = project.join(&rel);
        let to = tree.join(&rel);
        fs_err::create_dir_all(&to)?;
        for entry in fs_err::read_dir(&from)? {
            let entry = entry?;
            let path = entry.path();
            if skipped(project, &path) {
                continue;
            }
            let rel = rel.join(entry.file_name());
            let there = tree.join(&rel);
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(rel);
            } else if link == Link::Symbolic {
                if std::fs::symlink_metadata(&there).is_err() {
                    std::os::unix::fs::symlink(&path, &there)?;
                }
            } else if kind.is_file() {
                let source = entry.metadata()?;
                let current = std::fs::metadata(&there).is_ok_and(|m| {
                    (m.dev(), m.ino()) == (source.dev(), source.ino())
                        || (m.len() == source.len() && m.mtime() >= source.mtime())
                });
                if !current {
                    let _ = std::fs::remove_file(&there);
                    if std::fs::hard_link(&path, &there).is_err() {
                        fs_err::copy(&path, &there)?;
                    }
                }
            }
        }
        // A source deleted since the last build must not stay visible to make.
        for entry in fs_err::read_dir(&to)? {
            let entry = entry?;
            let path = entry.path();
            if let Ok(target) = std::fs::read_link(&path)
                && target.starts_with(project)
                && !target.exists()
            {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    Ok(())
}

/// `wasmforge test`'s tree of a Make project: a mirror made of hard links (copies across file
/// systems), so a test program reading its data through it stays inside the sandbox's folder (a
/// symbolic link out of a granted folder is refused), and make given wasmforge's compiler
/// through `MAKEFLAGS`, whose links leave each program as a launcher of its module. Returns the
/// tree and the environment the project's test commands run with.
pub fn test_tree(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    runner: &[String],
) -> Result<(PathBuf, Vec<(String, String)>)> {
    fs_err::create_dir_all(dir)?;
    let launcher = dir.join("launcher");
    support::write_executable(&launcher, &super::cmake::test_launcher(runner))?;
    let wrapper = dir.join("cc");
    let mut compile = flags.target.clone();
    compile.extend(flags.extra.iter().cloned());
    support::compiler_wrapper_with(
        &wrapper,
        &dir.join("test.log"),
        toolchain,
        &compile,
        &flags.target,
        &flags.link,
        Some(&launcher),
    )?;
    let tree = tree_of(dir);
    mirror_with(&job.project.dir, &tree, Link::Hard)?;
    let path = make_path(toolchain, dir)?;
    // MAKEFLAGS carries command-line variables to every make the commands start (a space in a
    // value is escaped with a backslash there).
    let escape = |text: &str| text.replace('\\', "\\\\").replace(' ', "\\ ");
    let mut cflags = flags.profile.clone();
    cflags.extend(flags.project.iter().cloned());
    let cflags = cflags
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut makeflags = vec![
        format!("CC={}", escape(&wrapper.display().to_string())),
        format!("CFLAGS={}", escape(&cflags)),
    ];
    makeflags.extend(job.options.extra_args.iter().map(|a| escape(a)));
    Ok((
        tree,
        vec![
            ("PATH".into(), path.to_string_lossy().into_owned()),
            ("MAKEFLAGS".into(), makeflags.join(" ")),
            ("CC".into(), wrapper.display().to_string()),
        ],
    ))
}

/// A path in a build's mirror (`…/target/wasmforge/make/clang-wasip1/debug/tree/lib/x.h`) as the
/// project's own (`…/lib/x.h`); any other path as it is.
pub fn unmirror(project: &Path, path: &Path) -> PathBuf {
    let make = project.join("target").join("wasmforge").join("make");
    let Ok(rest) = path.strip_prefix(&make) else {
        return path.to_path_buf();
    };
    let mut parts = rest.components();
    // toolchain-target, profile, "tree"
    let (_, _, tree) = (parts.next(), parts.next(), parts.next());
    if tree.is_some_and(|t| t.as_os_str() == "tree") {
        project.join(parts.as_path())
    } else {
        path.to_path_buf()
    }
}

fn wrapper(
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    log: &str,
) -> Result<(PathBuf, PathBuf)> {
    let path = dir.join("cc");
    let log = dir.join(log);
    let mut compile = flags.target.clone();
    compile.extend(flags.extra.iter().cloned());
    support::compiler_wrapper(&path, &log, toolchain, &compile, &flags.target, &flags.link)?;
    Ok((path, log))
}

fn bin(job: &Job<'_>) -> Option<String> {
    job.options
        .bins
        .first()
        .cloned()
        .or_else(|| super::config::checked(job.config).bin)
}

/// What make would compile and link, from `make -n -B` (nothing is built).
pub fn plan(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    reporter: &dyn Reporter,
) -> Result<MakePlan> {
    let (wrapper, _) = wrapper(toolchain, flags, dir, "dry-run.log")?;
    let mut make = make_tool(job, toolchain, flags, dir, &wrapper)?;
    make.args(["-n", "-B"]);
    if let Some(bin) = bin(job) {
        make.arg(bin);
    }
    let output = make.output(reporter)?;
    Ok(graph::from_make_dry_run(
        &String::from_utf8_lossy(&output.stdout),
        &wrapper.display().to_string(),
        &tree_of(dir),
    ))
}

/// Runs make; returns the module it linked and its name.
pub fn build(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    name: &str,
    reporter: &dyn Reporter,
) -> Result<(PathBuf, String)> {
    fs_err::create_dir_all(dir)?;
    let (wrapper, log) = wrapper(toolchain, flags, dir, "build.log")?;
    let mut make = make_tool(job, toolchain, flags, dir, &wrapper)?;
    make.arg(format!("-j{}", super::jobs(job)));
    // make only knows file times: after a change of toolchain, target, profile or flags, every
    // object is rebuilt (`-B`), or the last build's objects would be linked as they are.
    let fingerprint = sha256_hex(
        format!(
            "{}\n{}\n{}",
            make.display(),
            toolchain.version,
            std::fs::read_to_string(&wrapper).unwrap_or_default()
        )
        .as_bytes(),
    );
    let stamp = dir.join(".wasmforge-make");
    let last = std::fs::read_to_string(&stamp).ok();
    if last.as_deref() != Some(fingerprint.as_str()) {
        make.arg("-B");
        let _ = std::fs::remove_file(&stamp);
    }
    if job.options.quiet {
        // `-q`: no command echo, no "Entering directory"; the compiler's messages stay.
        make.args(["-s", "--no-print-directory"]);
    }
    let wanted = bin(job);
    if let Some(bin) = &wanted {
        make.arg(bin);
    }
    write_atomic(&log, b"")?;
    let status = make.run_streaming(reporter)?;
    if !status.success() {
        // What make asked the compiler to do says more than its messages: a shared library.
        let recorded = support::read_log(&log);
        let planned = || {
            plan(job, toolchain, flags, dir, reporter)
                .map(|p| p.links)
                .unwrap_or_default()
        };
        if let Some(d) = shared_library_link(&recorded, planned) {
            job.evidence
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(d);
        }
        return Err(Error::CompileFailed {
            hint: None,
            diagnostics: Vec::new(),
            what: "building the Make project".into(),
            status: status.to_string(),
        });
    }
    write_atomic(&stamp, fingerprint.as_bytes())?;

    let artifact = match &super::config::of(job.config)?.artifact {
        Some(artifact) => tree_of(dir).join(artifact),
        None => linked(job, &support::read_log(&log), dir, wanted.as_deref())?,
    };
    if !artifact.is_file() {
        return Err(Error::NoArtifact {
            what: format!(
                "{} (make finished, but the file is not there)",
                artifact.display()
            ),
        });
    }
    // A program asked for by name is published under it; `[package] name` names the default.
    let stem = || {
        artifact
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string())
    };
    let name = match &wanted {
        Some(_) => stem(),
        None => job.config.package.name.clone().unwrap_or_else(stem),
    };
    Ok((artifact, name))
}

/// The module make linked this time (remembered, per make target, for a later build that links
/// nothing because everything is up to date).
fn linked(_job: &Job<'_>, log: &[Recorded], dir: &Path, wanted: Option<&str>) -> Result<PathBuf> {
    let remembered = match wanted {
        Some(bin) => dir.join(format!("artifact-{}", sha256_hex(bin.as_bytes()))),
        None => dir.join("artifact"),
    };
    let mut outputs: Vec<PathBuf> = log
        .iter()
        .filter(|r| r.mode == "link")
        .filter_map(|r| {
            let (cwd, args) = r.args.split_first()?;
            Some(Path::new(cwd).join(graph::output_of(args)?))
        })
        .collect();
    outputs.sort();
    outputs.dedup();
    if let Some(bin) = wanted {
        outputs.retain(|o| o.file_stem().is_some_and(|s| s == bin));
    }
    match outputs.as_slice() {
        [] => std::fs::read_to_string(&remembered)
            .ok()
            .map(|p| PathBuf::from(p.trim()))
            .filter(|p| p.is_file())
            .ok_or(Error::MakeLinkedNothing),
        [one] => {
            write_atomic(&remembered, one.display().to_string().as_bytes())?;
            Ok(one.clone())
        }
        // Each is then built on its own, chosen by its name (`--bin`).
        many => Err(Error::SeveralExecutables {
            what: "make linked several programs".into(),
            names: many
                .iter()
                .filter_map(|p| p.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .collect(),
        }),
    }
}

/// The diagnosis for links of shared libraries among `recorded` (`-shared`, a `-soname`, an
/// output named `*.so*` or `*.dylib`): WASI has no shared libraries; the programs make would link
/// (`planned`, asked only then: make's dry run) are named.
pub fn shared_library_link(
    recorded: &[support::Recorded],
    planned: impl FnOnce() -> Vec<PathBuf>,
) -> Option<Diagnostic> {
    let output = |args: &[String]| {
        args.iter()
            .position(|a| a == "-o")
            .and_then(|i| args.get(i + 1))
            .map(|o| o.rsplit('/').next().unwrap_or(o).to_string())
    };
    let library_name =
        |name: &str| name.ends_with(".so") || name.contains(".so.") || name.ends_with(".dylib");
    let shared = |args: &[String]| {
        args.iter()
            .any(|a| a == "-shared" || a.contains("-soname") || a == "-dynamiclib" || a == "-dylib")
            || output(args).is_some_and(|o| library_name(&o))
    };
    // make's own probes (`$(CC) -shared … -o /dev/null`) are not links of the build.
    let probe = |args: &[String]| {
        args.iter()
            .position(|a| a == "-o")
            .and_then(|i| args.get(i + 1))
            .is_some_and(|o| o == "/dev/null")
    };
    let links: Vec<&support::Recorded> = recorded
        .iter()
        .filter(|r| r.mode == "link" && !probe(&r.args))
        .collect();
    let mut libraries: Vec<String> = links
        .iter()
        .filter(|r| shared(&r.args))
        .filter_map(|r| output(&r.args))
        .collect();
    // A compile failed before the link: what make would have linked says it (the dry run).
    let planned = planned();
    if libraries.is_empty() {
        libraries = planned
            .iter()
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
            .filter(|n| library_name(n))
            .map(str::to_string)
            .collect();
        libraries.sort();
        libraries.dedup();
    }
    if libraries.is_empty() {
        return None;
    }
    let mut programs: Vec<String> = planned
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .filter(|n| !library_name(n) && !libraries.contains(n))
        .collect();
    programs.sort();
    programs.dedup();
    let fix = match programs.as_slice() {
        [] => "build a program's make target instead: `wasmforge build --bin TARGET` (`[c] bin = \"TARGET\"`); its library code is linked into it statically".to_string(),
        names => format!(
            "build the program{} instead: {} (`[c] bin` in wasmforge.toml); the library's code is linked into it statically",
            if names.len() == 1 { "" } else { "s" },
            names
                .iter()
                .map(|n| format!("`wasmforge build --bin {n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(
        Diagnostic::new(
            "WF3014",
            format!(
                "make links {} as a shared library: WASI has no shared libraries (no dynamic loader; each module is linked whole)",
                libraries
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix,
        )
        .about(&libraries[0]),
    )
}
