//! CMake projects: a WASI toolchain file and platform module wasmforge writes (Debian's CMake
//! has none), one build folder per toolchain, target and profile, reconfigured whenever the
//! flags change. CMake's file API says which executables there are and which sources and
//! libraries each is made of; `compile_commands.json` says how each file is compiled.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::graph::{self, CompileCommand};
use super::support::{self, Programs, write_if_changed};
use super::{Flags, Job, Profile};
use crate::error::{Error, Result};
use crate::files::sha256_hex;
use crate::lang::c::toolchain::CToolchain;
use crate::process::Tool;
use crate::report::Reporter;

const CMAKE_HINT: &str = "install CMake: `apt-get install cmake` (or https://cmake.org/download/)";

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

/// The first lines of a test launcher (`wasmforge test` of a CMake project): `run` given one
/// runs the module beside it, `NAME.wasm`, as CTest's emulator gives it the launcher's path.
pub const TEST_LAUNCHER_MARK: &str = "#!/bin/sh\n# wasmforge test launcher:";

/// The platform module of a test build: executables without a suffix, each linked as
/// `NAME.wasm` with a launcher script `NAME` beside it that runs it in the sandbox. So every
/// way a project names a test's program reaches the sandbox: a target (CTest prepends the
/// emulator, which follows the launcher to its module), `$<TARGET_FILE:…>` through a script of
/// the project's own (expat's `bash run.sh …`), or a path (cJSON's `./name`), where CMake puts
/// no emulator.
fn platform_wasi_tests(launcher: &Path) -> String {
    // Quoted for the shell, then for a CMake string.
    let launcher = crate::text::shell_quote(launcher.as_os_str())
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$");
    PLATFORM_WASI.replace(
        "set(CMAKE_EXECUTABLE_SUFFIX \".wasm\")\n",
        &format!(
            "set(CMAKE_EXECUTABLE_SUFFIX \"\")\n\
             # wasmforge test: NAME.wasm is the module, NAME a launcher that runs it in the sandbox\n\
             # (not in the configure's checks: they read what they compiled, as check_type_size).\n\
             if(NOT PROJECT_NAME STREQUAL \"CMAKE_TRY_COMPILE\")\n  \
             set(CMAKE_C_LINK_EXECUTABLE\n    \
             \"<CMAKE_C_COMPILER> <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET>.wasm <LINK_LIBRARIES>\"\n    \
             \"cp {launcher} <TARGET>\")\nendif()\n"
        ),
    )
}

/// The launcher every test executable is a copy of: `exec RUNNER "$0.wasm" "$@"`.
pub fn test_launcher(runner: &[String]) -> String {
    format!(
        "{TEST_LAUNCHER_MARK} runs \"$0.wasm\" (WebAssembly) in wasmforge's sandbox.\nexec {} \"$0.wasm\" \"$@\"\n",
        shell_words(runner)
    )
}

/// The toolchain file: the system, the programs and where to find things. Flags are given on
/// the configure command line instead, so a change of flags reconfigures.
pub fn toolchain_file(toolchain: &CToolchain, module_dir: &Path, programs: &Programs) -> String {
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

/// A target of the configured project, from the file API.
#[derive(Debug, Clone)]
pub struct CMakeTarget {
    pub name: String,
    pub id: String,
    pub kind: String,
    /// Relative to the build folder.
    pub artifact: Option<PathBuf>,
    /// Ids of the targets it depends on.
    pub dependencies: Vec<String>,
}

/// A configured build folder.
#[derive(Debug, Clone)]
pub struct Configured {
    pub dir: PathBuf,
    pub targets: Vec<CMakeTarget>,
}

/// `words` as one shell command-line fragment, each quoted when the shell would change it.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| crate::text::shell_quote(std::ffi::OsStr::new(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Configures `dir` for this toolchain and these flags, unless it already is.
/// `quiet` keeps CMake's output to itself unless it fails (doctor's scratch configure).
pub fn configure(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    quiet: bool,
    reporter: &dyn Reporter,
) -> Result<Configured> {
    let support_dir = dir.join("wasmforge");
    let module_dir = support_dir.join("modules");
    fs_err::create_dir_all(module_dir.join("Platform"))?;
    let runner = job.options.test_runner.as_deref();
    let platform = match runner {
        Some(runner) => {
            let launcher = support_dir.join("launcher");
            support::write_executable(&launcher, &test_launcher(runner))?;
            platform_wasi_tests(&launcher)
        }
        None => PLATFORM_WASI.to_string(),
    };
    write_if_changed(&module_dir.join("Platform/WASI.cmake"), &platform)?;
    let programs = support::programs(toolchain, &support_dir)?;
    let toolchain_path = support_dir.join("wasi-toolchain.cmake");
    write_if_changed(
        &toolchain_path,
        &toolchain_file(toolchain, &module_dir, &programs),
    )?;
    let query = dir.join(".cmake/api/v1/query/codemodel-v2");
    if !query.exists() {
        fs_err::create_dir_all(query.parent().unwrap_or(dir))?;
        fs_err::write(&query, "")?;
    }
    let build_type = if job.size {
        "MinSizeRel"
    } else if job.options.profile == Profile::Release {
        "Release"
    } else {
        "Debug"
    };
    // Libraries and objects go last on the link line; other link flags first.
    let (libs, link_flags): (Vec<String>, Vec<String>) = flags
        .link
        .iter()
        .cloned()
        .partition(|f| f.starts_with("-l") || f.ends_with(".o") || f.ends_with(".a"));
    let mut c_flags = flags.target.clone();
    c_flags.extend(flags.project.iter().cloned());
    c_flags.extend(flags.extra.iter().cloned());
    let mut exe_flags = flags.target.clone();
    exe_flags.extend(flags.extra.iter().cloned());
    exe_flags.extend(link_flags);
    let mut configure = Tool::new("cmake", CMAKE_HINT);
    configure
        .arg("-S")
        .arg(&job.project.dir)
        .arg("-B")
        .arg(dir)
        .arg(format!(
            "-DCMAKE_TOOLCHAIN_FILE={}",
            toolchain_path.display()
        ))
        .arg(format!("-DCMAKE_BUILD_TYPE={build_type}"))
        // CMake's MinSizeRel is -Os; wasmforge's --size is clang's smaller -Oz.
        .args(
            job.size
                .then_some("-DCMAKE_C_FLAGS_MINSIZEREL=-Oz -DNDEBUG"),
        )
        .arg("-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
        // CMake pastes these into the shell commands it generates: each flag is quoted for
        // the shell, so `GREETING="hi there"` and `twice(X)=((X)*2)` reach the compiler as written.
        .arg(format!("-DCMAKE_C_FLAGS={}", shell_words(&c_flags)))
        .arg(format!(
            "-DCMAKE_EXE_LINKER_FLAGS={}",
            shell_words(&exe_flags)
        ))
        .arg(format!(
            "-DCMAKE_C_STANDARD_LIBRARIES={}",
            shell_words(&libs)
        ))
        .args(
            runner
                .map(|runner| {
                    [
                        "-DBUILD_TESTING=ON".to_string(),
                        format!("-DCMAKE_CROSSCOMPILING_EMULATOR={}", runner.join(";")),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .args(&job.options.extra_args);
    let fingerprint = sha256_hex(
        format!(
            "{}\n{}\n{}",
            configure.display(),
            toolchain.version,
            std::fs::read_to_string(&toolchain_path).unwrap_or_default()
        )
        .as_bytes(),
    );
    // What CMake's cached check results were found with: when the platform module or the
    // toolchain file changes (a new wasmforge), they are stale, so the cache goes.
    let setup = sha256_hex(
        format!(
            "{platform}\n{}",
            std::fs::read_to_string(&toolchain_path).unwrap_or_default()
        )
        .as_bytes(),
    );
    let setup_stamp = dir.join(".wasmforge-setup");
    if std::fs::read_to_string(&setup_stamp).ok().as_deref() != Some(setup.as_str()) {
        let _ = std::fs::remove_file(dir.join("CMakeCache.txt"));
        crate::files::write_atomic(&setup_stamp, setup.as_bytes())?;
    }
    let stamp = dir.join(".wasmforge-configure");
    let current = dir.join("CMakeCache.txt").is_file()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(fingerprint.as_str());
    if !current {
        reporter.status("Configuring", &format!("CMake ({})", toolchain.version));
        let _ = std::fs::remove_file(&stamp);
        if job.options.quiet {
            // `-q`: CMake's status messages go; its warnings and errors stay.
            configure.arg("--log-level=WARNING");
        }
        let status = if quiet {
            let output = configure.capture(reporter)?;
            if !output.status.success() {
                for line in String::from_utf8_lossy(&output.stderr).lines() {
                    reporter.tool_output(line);
                }
            }
            output.status
        } else {
            configure.run_streaming(reporter)?
        };
        if !status.success() {
            return Err(Error::CompileFailed {
                hint: Some(
                    "CMake's own error is above: fix CMakeLists.txt, or give the configure what \
                     it asks for (`wasmforge build -- -DOPTION=VALUE` passes options to CMake; a \
                     library found on the host is not one for WebAssembly: turn off the option \
                     that needs it)"
                        .into(),
                ),
                diagnostics: Vec::new(),
                what: "configuring the CMake project".into(),
                status: status.to_string(),
            });
        }
        crate::files::write_atomic(&stamp, fingerprint.as_bytes())?;
    }
    Ok(Configured {
        dir: dir.to_owned(),
        targets: targets(dir)?,
    })
}

/// Every target of the configured project, from CMake's file API reply.
fn targets(build_dir: &Path) -> Result<Vec<CMakeTarget>> {
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
        let (Some(name), Some(id)) = (detail["name"].as_str(), detail["id"].as_str()) else {
            continue;
        };
        found.push(CMakeTarget {
            name: name.to_string(),
            id: id.to_string(),
            kind: detail["type"].as_str().unwrap_or_default().to_string(),
            artifact: detail["artifacts"][0]["path"].as_str().map(PathBuf::from),
            dependencies: detail["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["id"].as_str().map(str::to_string))
                .collect(),
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The executable this build makes: `--bin`, `[c] bin`, or the only one.
pub fn choose(job: &Job<'_>, configured: &Configured) -> Result<(String, PathBuf)> {
    let executables: Vec<(&str, &Path)> = configured
        .targets
        .iter()
        .filter(|t| t.kind == "EXECUTABLE")
        .filter_map(|t| Some((t.name.as_str(), t.artifact.as_deref()?)))
        .collect();
    let wanted = job
        .options
        .bins
        .first()
        .cloned()
        .or_else(|| super::config::checked(job.config).bin);
    let names: Vec<String> = executables.iter().map(|(n, _)| n.to_string()).collect();
    let found = match wanted {
        Some(bin) => executables
            .iter()
            .find(|(n, _)| *n == bin)
            .ok_or(Error::NotInWorkspace {
                what: "CMake executable",
                name: bin,
                available: names,
            })?,
        None if executables.len() == 1 => &executables[0],
        None if executables.is_empty() => {
            return Err(Error::NoWasmTarget {
                packages: vec![job.project.dir.display().to_string()],
            });
        }
        None => {
            return Err(Error::SeveralExecutables {
                what: "the CMake project has several executables".into(),
                names,
            });
        }
    };
    Ok((found.0.to_string(), configured.dir.join(found.1)))
}

/// The compile commands of executable `name` and of every library it links.
pub fn commands(configured: &Configured, name: &str) -> Result<Vec<CompileCommand>> {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<&str> = configured
        .targets
        .iter()
        .filter(|t| t.name == name)
        .map(|t| t.id.as_str())
        .collect();
    while let Some(id) = stack.pop() {
        let Some(target) = configured.targets.iter().find(|t| t.id == id) else {
            continue;
        };
        if wanted.insert(target.name.clone()) {
            stack.extend(target.dependencies.iter().map(String::as_str));
        }
    }
    graph::from_compile_commands(
        &configured.dir.join("compile_commands.json"),
        |_, output| {
            wanted
                .iter()
                .any(|t| output.contains(&format!("CMakeFiles/{t}.dir/")))
        },
    )
}

/// Configures (when needed) and builds the chosen executable; returns its path and name.
pub fn build(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(PathBuf, String)> {
    let configured = configure(job, toolchain, flags, dir, false, reporter)?;
    let (name, artifact) = choose(job, &configured)?;
    let mut build = Tool::new("cmake", CMAKE_HINT);
    build
        .arg("--build")
        .arg(dir)
        .args(["--target", &name, "-j", &super::jobs(job).to_string()]);
    let status = build.run_streaming(reporter)?;
    if !status.success() {
        return Err(Error::CompileFailed {
            hint: None,
            diagnostics: Vec::new(),
            what: format!("building the CMake target `{name}`"),
            status: status.to_string(),
        });
    }
    Ok((artifact, name))
}

/// A test build: configures (when needed) and builds every target, each executable a launcher
/// of its module (`NAME` and `NAME.wasm`); returns the executables' modules.
pub fn build_tests(
    job: &Job<'_>,
    toolchain: &CToolchain,
    flags: &Flags,
    dir: &Path,
    reporter: &dyn Reporter,
) -> Result<Vec<(String, PathBuf)>> {
    let configured = configure(job, toolchain, flags, dir, false, reporter)?;
    let mut build = Tool::new("cmake", CMAKE_HINT);
    build
        .arg("--build")
        .arg(dir)
        .args(["-j", &super::jobs(job).to_string()]);
    let status = build.run_streaming(reporter)?;
    if !status.success() {
        return Err(Error::CompileFailed {
            hint: None,
            diagnostics: Vec::new(),
            what: "building the CMake project's tests".into(),
            status: status.to_string(),
        });
    }
    Ok(configured
        .targets
        .iter()
        .filter(|t| t.kind == "EXECUTABLE")
        .filter_map(|t| {
            let launcher = dir.join(t.artifact.as_deref()?);
            let mut module = launcher.into_os_string();
            module.push(".wasm");
            Some((t.name.clone(), PathBuf::from(module)))
        })
        .filter(|(_, module)| module.is_file())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::c::toolchain::CFlavor;

    #[test]
    fn toolchain_file_names_the_compiler_and_module_path() {
        let toolchain = CToolchain {
            flavor: CFlavor::Clang,
            cc: vec!["/usr/bin/clang-16".into()],
            ar: vec!["/usr/lib/llvm-16/bin/llvm-ar".into()],
            ranlib: vec!["/usr/lib/llvm-16/bin/llvm-ranlib".into()],
            version: "clang 16.0.6".into(),
            sysroot: None,
            wasi_triple: "wasm32-wasi".into(),
        };
        let programs = Programs {
            cc: "/usr/bin/clang-16".into(),
            ar: "ar".into(),
            ranlib: "ranlib".into(),
        };
        let text = toolchain_file(&toolchain, Path::new("/m"), &programs);
        assert!(text.contains("set(CMAKE_SYSTEM_NAME WASI)"));
        assert!(text.contains("list(APPEND CMAKE_MODULE_PATH \"/m\")"));
        assert!(text.contains("set(CMAKE_C_COMPILER \"/usr/bin/clang-16\")"));
    }
}
