//! The C driver: plain sources (parallel, incremental, with depfiles), CMake projects (with a
//! WASI toolchain file and platform module wasmforge writes) and Make projects, on wasi-sdk,
//! a system clang or zig. wasip2 commands are wrapped into components in-process.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::{BuildOutput, Driver, Job, Profile};
use crate::artifact::{ArtifactKind, sha256_hex, write_atomic};
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::process::{Tool, shell_quote};
use crate::project::Lang;
use crate::report::Reporter;
use crate::target::Target;
use crate::toolchain::c::{self as probe, CToolchain, SearchEnv};

#[derive(Debug)]
pub struct CDriver;

/// How the project is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Sources,
    CMake,
    Make,
}

/// Flags for one build, derived from wasmforge.toml, the target, the kind and the profile.
#[derive(Debug, Clone)]
struct Flags {
    /// Target selection (and sysroot).
    target: Vec<String>,
    /// Optimisation, include folders, defines, cflags.
    compile: Vec<String>,
    /// Kind-specific link flags, ldflags, libs.
    link: Vec<String>,
}

/// The `[c]` settings plus the WASI emulation defines and libraries a Makefile or CMake file
/// sets itself (the header check must not report what the build files already turn on).
fn with_build_file_defines(config: &crate::config::CConfig, dir: &Path) -> crate::config::CConfig {
    let mut config = config.clone();
    let mut text = String::new();
    for name in ["Makefile", "makefile", "GNUmakefile", "CMakeLists.txt"] {
        text.push_str(&std::fs::read_to_string(dir.join(name)).unwrap_or_default());
    }
    for (define, lib) in [
        ("_WASI_EMULATED_SIGNAL", "wasi-emulated-signal"),
        ("_WASI_EMULATED_MMAN", "wasi-emulated-mman"),
        (
            "_WASI_EMULATED_PROCESS_CLOCKS",
            "wasi-emulated-process-clocks",
        ),
    ] {
        if text.contains(define) {
            config.defines.push(define.to_string());
        }
        if text.contains(lib) {
            config.libs.push(lib.to_string());
        }
    }
    config
}

impl Driver for CDriver {
    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
        job.require_plain_profile()?;
        let kind = job.kind.unwrap_or(ArtifactKind::Command);
        let target = job.target;
        job.refuse_wasip2_library(kind, "build the library for `--target wasip1` (a reactor exporting `[c] exports`) or `--target unknown`")?;
        let found = probe::discover(
            job.toolchain.as_deref(),
            &SearchEnv::from_process(),
            reporter,
        );
        if found.is_err() {
            super::preflight([diagnostics::c::toolchain_check(&found)], reporter)?;
        }
        let toolchain = found?;
        if target != crate::target::Target::Unknown {
            super::preflight(
                [diagnostics::c::headers_check(
                    &diagnostics::c::source_files(&job.project.dir),
                    &with_build_file_defines(&job.config.c, &job.project.dir),
                    crate::doctor::sysroot_include(&toolchain).as_deref(),
                )],
                reporter,
            )?;
        }
        let flags = flags(job, &toolchain, kind)?;
        let dir = &job.project.dir;
        let style = if dir.join("CMakeLists.txt").is_file() {
            Style::CMake
        } else if ["Makefile", "makefile", "GNUmakefile"]
            .iter()
            .any(|m| dir.join(m).is_file())
        {
            Style::Make
        } else {
            Style::Sources
        };
        let name = job
            .config
            .package
            .name
            .clone()
            .unwrap_or_else(|| match style {
                Style::CMake => job
                    .options
                    .bins
                    .first()
                    .cloned()
                    .or_else(|| job.config.c.bin.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            });
        let name = if name.is_empty() {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "main".into())
        } else {
            name
        };
        reporter.status(
            "Building",
            &format!(
                "{name} ({}, {target}, {})",
                toolchain.version,
                job.options.profile.dir_name()
            ),
        );
        let (core_path, name) = match style {
            Style::Sources => (
                build_sources(job, &toolchain, &flags, &name, reporter)?,
                name,
            ),
            Style::CMake => build_cmake(job, &toolchain, &flags, reporter)?,
            Style::Make => (build_make(job, &toolchain, &flags, reporter)?, name),
        };
        let artifact = job.publish_core(&core_path, true, &name, kind, reporter)?;
        Ok(BuildOutput {
            lang: Lang::C,
            toolchain: toolchain.version.clone(),
            artifacts: vec![artifact],
        })
    }
}

fn flags(job: &Job<'_>, toolchain: &CToolchain, kind: ArtifactKind) -> Result<Flags> {
    let c = &job.config.c;
    let triple = match job.target {
        Target::Unknown => "wasm32-unknown-unknown",
        _ => toolchain.wasi_triple.as_str(),
    };
    let mut compile: Vec<String> = match job.options.profile {
        Profile::Release => vec!["-O2".into()],
        _ => vec!["-g".into(), "-O0".into()],
    };
    for include in &c.include {
        compile.push(format!("-I{}", job.project.dir.join(include).display()));
    }
    compile.extend(c.defines.iter().map(|d| format!("-D{d}")));
    compile.extend(c.cflags.iter().cloned());

    let mut link = Vec::new();
    let exports: Vec<String> = c
        .exports
        .iter()
        .map(|e| format!("-Wl,--export={e}"))
        .collect();
    if job.target == Target::Unknown {
        if c.exports.is_empty() {
            return Err(Error::Unsupported {
                message: "a bare `--target unknown` module has no `_start`: only its exports are reachable, \
                          and wasmforge.toml lists none"
                    .into(),
                hint: "list the functions to export in wasmforge.toml: `[c] exports = [\"add\"]`".into(),
            });
        }
        link.extend(["-nostdlib".to_string(), "-Wl,--no-entry".to_string()]);
        link.extend(exports);
    } else if kind == ArtifactKind::Library {
        if c.exports.is_empty() {
            return Err(Error::Unsupported {
                message:
                    "a C library must say which functions it exports, and wasmforge.toml lists none"
                        .into(),
                hint: "add them to wasmforge.toml: `[c] exports = [\"add\", \"mul\"]`".into(),
            });
        }
        link.push("-mexec-model=reactor".into());
        link.extend(exports);
    }
    link.extend(c.ldflags.iter().cloned());
    link.extend(c.libs.iter().map(|l| format!("-l{l}")));
    Ok(Flags {
        target: toolchain.target_args(triple),
        compile,
        link,
    })
}

fn jobs(job: &Job<'_>) -> usize {
    job.options
        .jobs
        .filter(|j| *j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn cc_tool(toolchain: &CToolchain) -> Tool {
    let mut tool = Tool::new(
        &toolchain.cc[0],
        "see `wasmforge doctor` for the C toolchain",
    );
    tool.args(&toolchain.cc[1..]);
    tool
}

// ---------------------------------------------------------------------------------------------
// Plain sources

/// One source file and where its object goes.
#[derive(Debug)]
struct Unit {
    source: PathBuf,
    rel: String,
    object: PathBuf,
    depfile: PathBuf,
}

fn build_sources(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    name: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let dir = &job.project.dir;
    let patterns = if !job.config.c.sources.is_empty() {
        job.config.c.sources.clone()
    } else if dir.join("src").is_dir() {
        vec!["src/**/*.c".into()]
    } else {
        vec!["*.c".into()]
    };
    let mut sources = Vec::new();
    for pattern in &patterns {
        let full = dir.join(pattern).display().to_string();
        let paths = glob::glob(&full).map_err(|e| Error::Unsupported {
            message: format!("`[c] sources` pattern `{pattern}` is not valid: {e}"),
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
        return Err(Error::Unsupported {
            message: format!("no C sources match {} in `{}`", patterns.join(", "), dir.display()),
            hint: "put .c files under src/ (or the folder), or list them in wasmforge.toml: `[c] sources = [\"lib/*.c\"]`"
                .into(),
        });
    }

    let work = job
        .work_dir()
        .join("c")
        .join(job.target.name())
        .join(job.options.profile.dir_name());
    let obj_dir = work.join("obj");
    fs_err::create_dir_all(&obj_dir)?;
    let units: Vec<Unit> = sources
        .iter()
        .map(|source| {
            let rel = source
                .strip_prefix(dir)
                .unwrap_or(source)
                .display()
                .to_string();
            let object = obj_dir.join(format!("{}.o", rel.replace(['/', '\\'], "__")));
            let depfile = object.with_extension("d");
            Unit {
                source: source.clone(),
                rel,
                object,
                depfile,
            }
        })
        .collect();

    // A change of compiler, flags or defines makes every object stale.
    let compile_fingerprint = fingerprint(&[
        &toolchain.cc,
        std::slice::from_ref(&toolchain.version),
        &flags.target,
        &flags.compile,
    ]);
    let stamp = obj_dir.join(".compile-flags");
    let flags_changed =
        std::fs::read_to_string(&stamp).ok().as_deref() != Some(compile_fingerprint.as_str());
    let stale: Vec<&Unit> = units
        .iter()
        .filter(|u| flags_changed || is_stale(u))
        .collect();

    if !stale.is_empty() {
        compile_all(&stale, toolchain, flags, jobs(job), reporter)?;
        write_atomic(&stamp, compile_fingerprint.as_bytes())?;
    }

    let out = work.join(format!("{name}.wasm"));
    let objects: Vec<String> = units
        .iter()
        .map(|u| u.object.display().to_string())
        .collect();
    let link_fingerprint = fingerprint(&[
        &toolchain.cc,
        &flags.target,
        &flags.compile,
        &flags.link,
        &objects,
    ]);
    let link_stamp = work.join(".link-flags");
    let link_changed =
        std::fs::read_to_string(&link_stamp).ok().as_deref() != Some(link_fingerprint.as_str());
    let out_time = mtime(&out);
    let relink = link_changed
        || !stale.is_empty()
        || out_time.is_none()
        || units.iter().any(|u| mtime(&u.object) > out_time);
    if relink {
        let tmp = work.join(format!(".{name}.wasm.tmp"));
        let mut link = cc_tool(toolchain);
        link.args(&flags.target)
            .args(&flags.compile)
            .args(&objects)
            .arg("-o")
            .arg(&tmp)
            .args(&flags.link);
        reporter.status("Linking", &format!("{name}.wasm"));
        let status = link.run_streaming(reporter)?;
        if !status.success() {
            return Err(Error::CompileFailed {
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
            diagnostics: Vec::new(),
            what: failures.join(", "),
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
    let tmp = unit.object.with_extension("o.tmp");
    let mut cc = cc_tool(toolchain);
    cc.args(&flags.target)
        .args(&flags.compile)
        .args(["-MMD", "-MF"])
        .arg(&unit.depfile)
        .arg("-c")
        .arg(&unit.source)
        .arg("-o")
        .arg(&tmp);
    let output = cc
        .command(reporter)?
        .stdin(std::process::Stdio::null())
        .output();
    let output = output.map_err(|source| Error::Spawn {
        command: cc.display(),
        source,
    })?;
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

// ---------------------------------------------------------------------------------------------
// CMake

/// CMake's own platform module for WASI, as wasi-sdk ships one: Debian's CMake 3.25 has none, and
/// without it shared libraries are attempted and executables lack the `.wasm` suffix.
const PLATFORM_WASI: &str = r#"# Written by wasmforge: the WASI platform for CMake (as wasi-sdk ships it).
set(WASI 1)
set(UNIX 1)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_STATIC_LIBRARY_PREFIX "lib")
set(CMAKE_STATIC_LIBRARY_SUFFIX ".a")
set(CMAKE_FIND_LIBRARY_PREFIXES "lib")
set(CMAKE_FIND_LIBRARY_SUFFIXES ".a")
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
"#;

fn cmake_toolchain_file(
    toolchain: &CToolchain,
    flags: &Flags,
    module_dir: &Path,
    programs: &Programs,
) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut text = String::from("# Written by wasmforge: a WASI toolchain for CMake.\n");
    text.push_str("set(CMAKE_SYSTEM_NAME WASI)\nset(CMAKE_SYSTEM_VERSION 1)\nset(CMAKE_SYSTEM_PROCESSOR wasm32)\n");
    text.push_str(&format!(
        "list(APPEND CMAKE_MODULE_PATH {})\n",
        quote(&module_dir.display().to_string())
    ));
    text.push_str(&format!("set(CMAKE_C_COMPILER {})\n", quote(&programs.cc)));
    text.push_str(&format!(
        "set(CMAKE_AR {} CACHE FILEPATH \"\")\n",
        quote(&programs.ar)
    ));
    text.push_str(&format!(
        "set(CMAKE_RANLIB {} CACHE FILEPATH \"\")\n",
        quote(&programs.ranlib)
    ));
    let target_flags = flags.target.join(" ");
    text.push_str(&format!(
        "set(CMAKE_C_FLAGS_INIT {})\n",
        quote(&target_flags)
    ));
    text.push_str(&format!(
        "set(CMAKE_EXE_LINKER_FLAGS_INIT {})\n",
        quote(&format!("{target_flags} {}", flags.link.join(" ")))
    ));
    if let Some(sysroot) = &toolchain.sysroot {
        text.push_str(&format!(
            "set(CMAKE_SYSROOT {})\n",
            quote(&sysroot.display().to_string())
        ));
    }
    text.push_str("set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\nset(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n");
    text.push_str("set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\nset(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n");
    text
}

/// Single programs for build systems that take one path per tool (zig from PyPI is three words).
struct Programs {
    cc: String,
    ar: String,
    ranlib: String,
}

fn programs(toolchain: &CToolchain, support: &Path) -> Result<Programs> {
    let wrap = |name: &str, words: &[String]| -> Result<String> {
        if words.len() == 1 {
            return Ok(words[0].clone());
        }
        let script = support.join(name);
        let quoted: Vec<String> = words.iter().map(|w| shell_quote(w.as_ref())).collect();
        let text = format!("#!/bin/sh\nexec {} \"$@\"\n", quoted.join(" "));
        if std::fs::read_to_string(&script).ok().as_deref() != Some(text.as_str()) {
            write_atomic(&script, text.as_bytes())?;
            make_executable(&script)?;
        }
        Ok(script.display().to_string())
    };
    Ok(Programs {
        cc: wrap(&format!("{}-cc", toolchain.flavor.name()), &toolchain.cc)?,
        ar: wrap(&format!("{}-ar", toolchain.flavor.name()), &toolchain.ar)?,
        ranlib: wrap(
            &format!("{}-ranlib", toolchain.flavor.name()),
            &toolchain.ranlib,
        )?,
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

fn build_cmake(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    reporter: &dyn Reporter,
) -> Result<(PathBuf, String)> {
    let support = job.work_dir().join("cmake").join(format!(
        "{}-{}",
        toolchain.flavor.name(),
        job.target.name()
    ));
    let module_dir = support.join("modules");
    fs_err::create_dir_all(module_dir.join("Platform"))?;
    write_if_changed(&module_dir.join("Platform/WASI.cmake"), PLATFORM_WASI)?;
    let programs = programs(toolchain, &support)?;
    let toolchain_file = support.join("wasi-toolchain.cmake");
    write_if_changed(
        &toolchain_file,
        &cmake_toolchain_file(toolchain, flags, &module_dir, &programs),
    )?;

    let build_dir = job
        .work_dir()
        .join("cmake-build")
        .join(job.target.name())
        .join(job.options.profile.dir_name());
    let query = build_dir.join(".cmake/api/v1/query/codemodel-v2");
    if !query.exists() {
        fs_err::create_dir_all(query.parent().unwrap_or(&build_dir))?;
        fs_err::write(&query, "")?;
    }
    let build_type = if job.options.profile == Profile::Release {
        "Release"
    } else {
        "Debug"
    };
    let mut configure = Tool::new(
        "cmake",
        "install CMake: `apt-get install cmake` (or https://cmake.org/download/)",
    );
    configure
        .arg("-S")
        .arg(&job.project.dir)
        .arg("-B")
        .arg(&build_dir)
        .arg(format!(
            "-DCMAKE_TOOLCHAIN_FILE={}",
            toolchain_file.display()
        ))
        .arg(format!("-DCMAKE_BUILD_TYPE={build_type}"));
    if !build_dir.join("CMakeCache.txt").is_file() {
        reporter.status("Configuring", "CMake");
        let status = configure.run_streaming(reporter)?;
        if !status.success() {
            return Err(Error::CompileFailed {
                diagnostics: Vec::new(),
                what: "the CMake configure step".into(),
                status: status.to_string(),
            });
        }
    }
    let executables = cmake_executables(&build_dir)?;
    let wanted = job
        .options
        .bins
        .first()
        .cloned()
        .or_else(|| job.config.c.bin.clone());
    let names: Vec<String> = executables.iter().map(|(n, _)| n.clone()).collect();
    let (name, artifact) = match wanted {
        Some(bin) => {
            executables
                .into_iter()
                .find(|(n, _)| *n == bin)
                .ok_or(Error::NotInWorkspace {
                    what: "CMake executable",
                    name: bin,
                    available: names,
                })?
        }
        None if executables.len() == 1 => executables
            .into_iter()
            .next()
            .ok_or(Error::NoWasmTarget { packages: vec![] })?,
        None if executables.is_empty() => {
            return Err(Error::NoWasmTarget {
                packages: vec![job.project.dir.display().to_string()],
            });
        }
        None => {
            return Err(Error::Unsupported {
                message: format!(
                    "the CMake project has several executables: {}",
                    names.join(", ")
                ),
                hint: "choose one with `--bin NAME`, or `[c] bin = \"NAME\"` in wasmforge.toml"
                    .into(),
            });
        }
    };
    let mut build = Tool::new("cmake", "install CMake: `apt-get install cmake`");
    build
        .arg("--build")
        .arg(&build_dir)
        .args(["--target", &name, "-j", &jobs(job).to_string()]);
    let status = build.run_streaming(reporter)?;
    if !status.success() {
        return Err(Error::CompileFailed {
            diagnostics: Vec::new(),
            what: format!("the CMake target `{name}`"),
            status: status.to_string(),
        });
    }
    Ok((build_dir.join(artifact), name))
}

/// Executable targets and their artifact paths (relative to the build folder), from CMake's
/// file API reply.
fn cmake_executables(build_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let reply = build_dir.join(".cmake/api/v1/reply");
    let read_json = |path: &Path| -> Result<serde_json::Value> {
        let text = fs_err::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Io(std::io::Error::other(format!(
                "{e} (path: {})",
                path.display()
            )))
        })
    };
    let mut indexes: Vec<PathBuf> = fs_err::read_dir(&reply)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("index-"))
        })
        .collect();
    indexes.sort();
    let Some(index) = indexes.last() else {
        return Ok(Vec::new());
    };
    let index = read_json(index)?;
    let Some(codemodel) = index["objects"]
        .as_array()
        .and_then(|objects| objects.iter().find(|o| o["kind"] == "codemodel"))
        .and_then(|o| o["jsonFile"].as_str())
    else {
        return Ok(Vec::new());
    };
    let codemodel = read_json(&reply.join(codemodel))?;
    let mut found = Vec::new();
    for target in codemodel["configurations"][0]["targets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(file) = target["jsonFile"].as_str() else {
            continue;
        };
        let detail = read_json(&reply.join(file))?;
        if detail["type"] != "EXECUTABLE" {
            continue;
        }
        let (Some(name), Some(path)) = (
            detail["name"].as_str(),
            detail["artifacts"][0]["path"].as_str(),
        ) else {
            continue;
        };
        found.push((name.to_string(), PathBuf::from(path)));
    }
    found.sort();
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Make

fn build_make(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let Some(artifact) = &job.config.c.artifact else {
        return Err(Error::Unsupported {
            message: "a Make project must say where make leaves the module".into(),
            hint: "add it to wasmforge.toml: `[c] artifact = \"out/app.wasm\"` (relative to the project folder)".into(),
        });
    };
    let words = |words: &[String]| {
        words
            .iter()
            .map(|w| shell_quote(w.as_ref()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cc = format!("{} {}", words(&toolchain.cc), words(&flags.target));
    let mut make = Tool::new("make", "install GNU make: `apt-get install make`");
    make.arg("-C")
        .arg(&job.project.dir)
        .arg(format!("-j{}", jobs(job)))
        .arg(format!("CC={cc}"))
        .arg(format!("AR={}", words(&toolchain.ar)))
        .arg(format!("RANLIB={}", words(&toolchain.ranlib)))
        .arg(format!("CFLAGS={}", words(&flags.compile)))
        .arg(format!("LDFLAGS={}", words(&flags.link)));
    if let Some(bin) = job.options.bins.first().or(job.config.c.bin.as_ref()) {
        make.arg(bin);
    }
    let status = make.run_streaming(reporter)?;
    if !status.success() {
        return Err(Error::CompileFailed {
            diagnostics: Vec::new(),
            what: "the Make project".into(),
            status: status.to_string(),
        });
    }
    let path = job.project.dir.join(artifact);
    if !path.is_file() {
        return Err(Error::NoArtifact {
            what: format!(
                "`[c] artifact` {} (make finished, but the file is not there)",
                artifact
            ),
        });
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolchain::c::CFlavor;

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

    #[test]
    fn cmake_toolchain_names_the_compiler_and_module_path() {
        let toolchain = CToolchain {
            flavor: CFlavor::Clang,
            cc: vec!["/usr/bin/clang-16".into()],
            ar: vec!["/usr/lib/llvm-16/bin/llvm-ar".into()],
            ranlib: vec!["/usr/lib/llvm-16/bin/llvm-ranlib".into()],
            version: "clang 16.0.6".into(),
            sysroot: None,
            wasi_triple: "wasm32-wasi".into(),
        };
        let flags = Flags {
            target: vec!["--target=wasm32-wasi".into()],
            compile: vec![],
            link: vec![],
        };
        let programs = Programs {
            cc: "/usr/bin/clang-16".into(),
            ar: "ar".into(),
            ranlib: "ranlib".into(),
        };
        let text = cmake_toolchain_file(&toolchain, &flags, Path::new("/m"), &programs);
        assert!(text.contains("set(CMAKE_SYSTEM_NAME WASI)"));
        assert!(text.contains("list(APPEND CMAKE_MODULE_PATH \"/m\")"));
        assert!(text.contains("set(CMAKE_C_COMPILER \"/usr/bin/clang-16\")"));
        assert!(text.contains("set(CMAKE_C_FLAGS_INIT \"--target=wasm32-wasi\")"));
    }
}
