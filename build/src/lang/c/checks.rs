//! C checks: a compiler with the WebAssembly backend, wasm-ld, a WASI sysroot, compiler-rt's
//! builtins, and headers WASI preview 1 lacks or only emulates.

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::diagnostics::check::Check;
use crate::lang::c::config::{Emulate, Emulation};
use crate::lang::c::graph::Scan;
use crate::lang::c::toolchain::{CFlavor, CToolchain};
use crate::process::Tool;
use crate::report::Reporter;

/// The toolchain discovery's answer as a check; when nothing was found, one diagnostic per
/// candidate that was rejected, with the reason's code.
pub fn toolchain_check(found: &crate::Result<CToolchain>) -> Check {
    match found {
        Ok(tc) => Check::ok(
            "c-compiler",
            format!(
                "{} ({}), target {}{}",
                tc.version,
                tc.cc.join(" "),
                tc.wasi_triple,
                tc.sysroot
                    .as_ref()
                    .map(|s| format!(", sysroot {}", s.display()))
                    .unwrap_or_default()
            ),
        ),
        Err(crate::Error::NoCToolchain { looked }) => {
            let mut found: Vec<Diagnostic> = looked
                .iter()
                .filter_map(|miss| miss_diagnostic(miss))
                .collect();
            if !found.iter().any(|d| d.code == "WF3001") {
                found.push(Diagnostic::new(
                    "WF3001",
                    format!("no C compiler for WebAssembly is usable (looked at: {})", looked.join("; ")),
                    "Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`; or `pip install ziglang`; or set WASI_SDK_PATH to a wasi-sdk",
                ));
            }
            Check::from("c-compiler", found)
        }
        Err(other) => Check::from(
            "c-compiler",
            vec![Diagnostic::new(
                "WF3001",
                other.to_string(),
                other.hint().unwrap_or_default(),
            )],
        ),
    }
}

/// One rejected candidate of the C toolchain search (the strings `toolchain::c` writes).
fn miss_diagnostic(miss: &str) -> Option<Diagnostic> {
    if miss.starts_with("wasi-sdk") || miss.starts_with("zig") {
        // Not installed at all: the WF3001 summary says how to get one.
        return None;
    }
    if let Some(clang) = miss
        .split(" (no wasm-ld")
        .next()
        .filter(|_| miss.contains("(no wasm-ld"))
    {
        let major = miss
            .split("install lld-")
            .nth(1)
            .map(|m| m.trim_end_matches(')'))
            .unwrap_or("NN");
        return Some(Diagnostic::new(
            "WF3002",
            format!("{clang} has the WebAssembly backend but no wasm-ld to link"),
            format!("Debian/Ubuntu: `apt-get install lld-{major}`"),
        ));
    }
    if miss.contains("sysroot") || miss.contains("WASI_SYSROOT") {
        let clang = miss.split(" (").next().unwrap_or(miss);
        let why = miss
            .split(" (")
            .nth(1)
            .map(|w| w.trim_end_matches(')'))
            .unwrap_or("");
        return Some(Diagnostic::new(
            "WF3003",
            format!("{clang} can compile WebAssembly but there is no WASI sysroot: {why}"),
            "Debian/Ubuntu: `apt-get install wasi-libc`; or set WASI_SYSROOT to a sysroot (wasi-sdk's share/wasi-sysroot)",
        ));
    }
    if miss.contains("(no WebAssembly backend") {
        let clang = miss.split(" (").next().unwrap_or(miss);
        return Some(Diagnostic::new(
            "WF3001",
            format!("{clang} has no WebAssembly backend (`-print-targets` lists no wasm32)"),
            "install a clang built with it (Debian's and Homebrew's are), or wasi-sdk, or `pip install ziglang`",
        ));
    }
    None
}

/// The clang `-print-targets` output lists the WebAssembly backend.
pub fn has_wasm_backend(print_targets: &str) -> bool {
    print_targets
        .lines()
        .any(|l| l.trim_start().starts_with("wasm32"))
}

/// compiler-rt's builtins for wasm32, which clang links into every WASI program.
pub fn builtins_check(tc: &CToolchain, reporter: &dyn Reporter) -> Check {
    if tc.flavor == CFlavor::Zig {
        return Check::ok("c-builtins", "zig builds its own compiler-rt".into());
    }
    let mut tool = Tool::new(&tc.cc[0], "");
    tool.args(&tc.cc[1..])
        .args(tc.target_args(&tc.wasi_triple))
        .arg("-print-libgcc-file-name");
    let printed = match tool.output(reporter) {
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Err(e) => {
            return Check::note(
                "c-builtins",
                format!("could not ask {} for its runtime library: {e}", tc.cc[0]),
            );
        }
    };
    let path = PathBuf::from(&printed);
    if path.is_file() {
        return Check::ok("c-builtins", format!("{}", path.display()));
    }
    let major = tc
        .version
        .strip_prefix("clang ")
        .and_then(|v| v.split('.').next())
        .unwrap_or("NN");
    let package = format!("libclang-rt-{major}-dev-wasm32");
    Check::from(
        "c-builtins",
        vec![Diagnostic::new(
            "WF3004",
            format!(
                "{} links {} but it does not exist (128-bit and long double arithmetic will fail: `undefined symbol: __multi3`)",
                tc.cc[0],
                path.display()
            ),
            match tc.flavor {
                CFlavor::WasiSdk => {
                    "reinstall wasi-sdk: its lib/clang/*/lib/wasi folder is incomplete".to_string()
                }
                _ => format!("Debian/Ubuntu: `apt-get install {package}`"),
            },
        )],
    )
}

/// Headers for facilities WASI preview 1 does not have, and what that means.
const UNAVAILABLE: &[(&str, &str)] = &[
    (
        "pthread.h",
        "threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1",
    ),
    (
        "setjmp.h",
        "setjmp/longjmp need WebAssembly exception handling (zig 0.15+ or wasi-sdk 26+)",
    ),
    ("sys/wait.h", "WASI cannot start or wait for processes"),
    ("spawn.h", "WASI cannot start processes"),
    ("termios.h", "WASI has no terminals to configure"),
    ("pwd.h", "WASI has no users"),
    ("grp.h", "WASI has no groups"),
    ("dlfcn.h", "WASI has no dynamic loading"),
    ("netdb.h", "WASI preview 1 has no name resolution"),
    ("sys/ipc.h", "WASI has no System V IPC"),
    ("sys/shm.h", "WASI has no shared memory segments"),
    ("ucontext.h", "WebAssembly cannot switch stacks"),
    ("execinfo.h", "WebAssembly cannot walk its own stack"),
];

/// Why WASI preview 1 lacks a header, when wasmforge knows.
pub fn why_unavailable(header: &str) -> Option<&'static str> {
    UNAVAILABLE
        .iter()
        .find(|(h, _)| *h == header)
        .map(|(_, why)| *why)
}

/// Where a toolchain's preprocessor looks for `<…>` headers, and which of those folders are the
/// host's own (`/usr/include`: a header found there is one the WASI sysroot lacks).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncludeRoots {
    pub roots: Vec<PathBuf>,
}

impl IncludeRoots {
    /// Reads the search list from `cc -E -v` (cached per toolchain).
    pub fn probe(tc: &CToolchain, triple: &str, reporter: &dyn Reporter) -> IncludeRoots {
        let key = format!("include-roots {:?} {triple}", tc.cc);
        if let Some(found) = crate::cache::load::<IncludeRoots>(crate::cache::Section::Probes, &key)
        {
            return found;
        }
        let mut tool = Tool::new(&tc.cc[0], "");
        tool.args(&tc.cc[1..]).args(tc.target_args(triple)).args([
            "-E",
            "-v",
            "-x",
            "c",
            "/dev/null",
            "-o",
            "/dev/null",
        ]);
        let text = tool
            .capture(reporter)
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        let found = IncludeRoots::parse(&text);
        let stamp = which::which(&tc.cc[0])
            .map(|p| vec![crate::cache::Stamp::of(&p)])
            .unwrap_or_default();
        crate::cache::store(crate::cache::Section::Probes, &key, stamp, &found);
        found
    }

    /// The folders between "#include <...> search starts here:" and "End of search list.".
    pub fn parse(text: &str) -> IncludeRoots {
        let roots = text
            .lines()
            .skip_while(|l| !l.starts_with("#include <...> search starts here:"))
            .skip(1)
            .take_while(|l| !l.starts_with("End of search list."))
            .map(|l| PathBuf::from(l.trim()))
            .collect();
        IncludeRoots { roots }
    }

    /// The header's name as `#include <…>` spells it and whether it came from the host's own
    /// include folders, for a path under one of the roots.
    pub fn classify(&self, header: &Path) -> Option<(String, bool)> {
        let root = self
            .roots
            .iter()
            .filter(|r| header.starts_with(r))
            .max_by_key(|r| r.components().count())?;
        let name = header
            .strip_prefix(root)
            .ok()?
            .to_string_lossy()
            .into_owned();
        let host = root == Path::new("/usr/include") || root.starts_with("/usr/local/include");
        Some((name, host))
    }
}

/// One system header a compiled file includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderUse {
    /// The compiled file.
    pub source: PathBuf,
    /// As `#include <…>` names it (`sys/mman.h`).
    pub name: String,
    /// Found only in the host's /usr/include: the WASI sysroot does not have it.
    pub host: bool,
    /// The project file and line of the `#include`, when it is in the project's own files.
    pub site: Option<(PathBuf, u32)>,
}

/// The system headers each scanned file includes, with where the project includes them.
pub fn header_uses(scans: &[Scan], roots: &IncludeRoots, project_dir: &Path) -> Vec<HeaderUse> {
    let mut texts: std::collections::HashMap<PathBuf, Option<String>> = Default::default();
    let mut out = Vec::new();
    for scan in scans {
        // The project's own files this one reads, where an `#include <…>` can be.
        let mut own: Vec<&Path> = vec![scan.source.as_path()];
        own.extend(
            scan.headers
                .iter()
                .filter(|h| h.is_absolute() && h.starts_with(project_dir))
                .map(PathBuf::as_path),
        );
        for header in &scan.headers {
            if header.starts_with(project_dir) {
                continue;
            }
            let Some((name, host)) = roots.classify(header) else {
                continue;
            };
            let site = own.iter().find_map(|file| {
                let text = texts
                    .entry(file.to_path_buf())
                    .or_insert_with(|| std::fs::read_to_string(file).ok());
                let line = text
                    .as_deref()?
                    .lines()
                    .position(|l| included_header(l) == Some(name.as_str()))?;
                Some((
                    super::make::unmirror(project_dir, &crate::files::lexically_normal(file)),
                    line as u32 + 1,
                ))
            });
            out.push(HeaderUse {
                source: scan.source.clone(),
                name,
                host,
                site,
            });
        }
    }
    out
}

fn place(use_: &HeaderUse, project_dir: &Path) -> String {
    let source = super::make::unmirror(project_dir, &use_.source);
    let (file, line) = match &use_.site {
        Some((file, line)) => (file.as_path(), Some(*line)),
        None => (source.as_path(), None),
    };
    let shown = file.strip_prefix(project_dir).unwrap_or(file).display();
    match line {
        Some(line) => format!("{shown}:{line}"),
        None => format!("{shown} (through another header)"),
    }
}

fn at(d: Diagnostic, use_: &HeaderUse) -> Diagnostic {
    match &use_.site {
        Some((file, line)) => d.at(file, Some(*line)),
        None => d.at(&use_.source, None),
    }
}

/// Headers the compiled files take from the host's /usr/include because the WASI sysroot does
/// not have them: the compile of those files will fail (WF3006).
pub fn fallthrough_check(
    uses: &[HeaderUse],
    project_dir: &Path,
    commands: &[super::graph::CompileCommand],
) -> Check {
    let files = commands.len();
    let mut found: Vec<Diagnostic> = Vec::new();
    for u in uses.iter().filter(|u| u.host && u.name != "setjmp.h") {
        // Only the first host header of a chain is the cause (`pthread.h`, not its `sched.h`).
        let Some((file, line)) = &u.site else {
            continue;
        };
        // Included only when the build defines a macro: which one, and where the build does.
        // (A file may be compiled twice, for a static and a shared library, with other flags.)
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let condition = commands
            .iter()
            .filter(|c| c.source == u.source)
            .find_map(|c| Some((defined_condition(&text, *line, &c.argv)?, c.dir.as_path())));
        let (when, fix) = match &condition {
            Some((macro_, near)) => {
                let origin = defined_where(
                    project_dir,
                    &super::make::unmirror(project_dir, near),
                    macro_,
                )
                    .map(|o| format!(", from {o}"))
                    .unwrap_or_default();
                (
                    format!(
                        " — only when `{macro_}` is defined, and the compile command defines it (`-D{macro_}`{origin})"
                    ),
                    format!(
                        "build without `{macro_}`: leave out what adds `-D{macro_}`{origin} (for make, a variable or target: `wasmforge build -- VAR=`); or keep the include out of the WASI build (`#ifndef __wasi__`)"
                    ),
                )
            }
            None => (
                String::new(),
                "compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)".to_string(),
            ),
        };
        let message = format!(
            "{} includes <{}>, which WASI preview 1 does not have{}{when}",
            place(u, project_dir),
            u.name,
            why_unavailable(&u.name)
                .map(|w| format!(": {w}"))
                .unwrap_or_default()
        );
        if found.iter().any(|d| d.message == message) {
            continue;
        }
        found.push(at(
            Diagnostic::new("WF3006", message, fix).about(u.name.clone()),
            u,
        ));
    }
    if found.is_empty() {
        Check::ok(
            "c-headers",
            format!(
                "{} compiled, no header WASI lacks",
                crate::diagnostics::plural(files, "file")
            ),
        )
    } else {
        Check::from("c-headers", found)
    }
}

/// The macro whose definition brings line `line` of `text` in (`#ifdef X`, `#if defined(X)`,
/// `#elif defined(X)` around it), when the compile command (`argv`) defines it.
fn defined_condition(text: &str, line: u32, argv: &[String]) -> Option<String> {
    let defines: Vec<&str> = argv
        .iter()
        .filter_map(|a| a.strip_prefix("-D"))
        .map(|d| d.split('=').next().unwrap_or(d))
        .collect();
    // The conditions open at `line`, innermost last.
    let mut open: Vec<Vec<String>> = Vec::new();
    for l in text.lines().take(line.saturating_sub(1) as usize) {
        let Some(directive) = l.trim_start().strip_prefix('#').map(str::trim_start) else {
            continue;
        };
        let positive = |cond: &str| -> Vec<String> {
            let mut names = Vec::new();
            let mut rest = cond;
            while let Some(at) = rest.find("defined") {
                let negated = rest[..at].trim_end().ends_with('!');
                let after = rest[at + "defined".len()..]
                    .trim_start()
                    .trim_start_matches('(')
                    .trim_start();
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !negated && !name.is_empty() {
                    names.push(name);
                }
                rest = &rest[at + "defined".len()..];
            }
            names
        };
        if let Some(name) = directive.strip_prefix("ifdef") {
            open.push(vec![name.trim().to_string()]);
        } else if directive.starts_with("ifndef") {
            open.push(Vec::new());
        } else if let Some(cond) = directive.strip_prefix("if") {
            open.push(positive(cond));
        } else if let Some(cond) = directive.strip_prefix("elif") {
            if let Some(top) = open.last_mut() {
                *top = positive(cond);
            }
        } else if directive.starts_with("else") {
            if let Some(top) = open.last_mut() {
                top.clear();
            }
        } else if directive.starts_with("endif") {
            open.pop();
        }
    }
    open.iter()
        .rev()
        .flatten()
        .find(|name| defines.contains(&name.as_str()))
        .cloned()
}

/// The build file and line that adds `-DNAME` (a Makefile, a `*.mk`, a CMakeLists.txt), relative
/// to the project.
fn defined_where(project_dir: &Path, near: &Path, name: &str) -> Option<String> {
    let needle = format!("-D{name}");
    let mut folders = vec![(project_dir.to_path_buf(), 0)];
    let mut files = Vec::new();
    while let Some((folder, depth)) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if depth < 3 && !name.starts_with('.') && name != "target" {
                    folders.push((path, depth + 1));
                }
            } else if matches!(
                name,
                "Makefile" | "makefile" | "GNUmakefile" | "CMakeLists.txt" | "wasmforge.toml"
            ) || name.ends_with(".mk")
                || name.ends_with(".cmake")
            {
                files.push(path);
            }
        }
    }
    // The build files of the folder the compile ran in first.
    files.sort_by_key(|f| (f.parent() != Some(near), f.clone()));
    files.iter().find_map(|file| {
        let text = std::fs::read_to_string(file).ok()?;
        let toml = file.file_name().is_some_and(|n| n == "wasmforge.toml");
        let line = text.lines().position(|l| {
            let words = l.split(|c: char| {
                c.is_whitespace() || c == '"' || c == '\'' || c == ')' || c == ',' || c == '['
            });
            !l.trim_start().starts_with('#')
                && if toml {
                    // `[c] defines = ["NAME"]`
                    l.contains(&format!("\"{name}\"")) || l.contains(&format!("\"{name}="))
                } else {
                    words
                        .into_iter()
                        .any(|w| w == needle || w.starts_with(&format!("{needle}=")))
                }
        })?;
        Some(format!(
            "{}:{}",
            file.strip_prefix(project_dir).unwrap_or(file).display(),
            line + 1
        ))
    })
}

/// The emulations the compiled files need (by the headers they include), and, where
/// `[c] emulate` turned one off, the refusal (WF3005: the compiler stops on its `#error`).
pub fn emulation_check(
    uses: &[HeaderUse],
    emulate: &Emulate,
    project_dir: &Path,
) -> (Check, Vec<(Emulation, String)>) {
    let mut used: Vec<(Emulation, String)> = Vec::new();
    let mut refused = Vec::new();
    for u in uses {
        let Some(emulation) = Emulation::for_header(&u.name) else {
            continue;
        };
        if emulate.allows(emulation) {
            if !used.iter().any(|(e, _)| *e == emulation) {
                used.push((emulation, place(u, project_dir)));
            }
            continue;
        }
        let message = format!(
            "{} includes <{}>, which WASI only emulates, and `[c] emulate` leaves `{}` out",
            place(u, project_dir),
            u.name,
            emulation.name()
        );
        if refused.iter().any(|d: &Diagnostic| d.message == message) {
            continue;
        }
        refused.push(at(
            Diagnostic::new(
                "WF3005",
                message,
                format!(
                    "add \"{}\" to `[c] emulate` in wasmforge.toml (or remove the key: all emulations are on by default); {}",
                    emulation.name(),
                    emulation.meaning()
                ),
            ),
            u,
        ));
    }
    used.sort();
    let check = if refused.is_empty() {
        Check::ok(
            "c-emulations",
            if used.is_empty() {
                "no header needs a wasi-libc emulation".to_string()
            } else {
                format!(
                    "emulated: {}",
                    used.iter()
                        .map(|(e, at)| format!("{} ({at})", e.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        )
    } else {
        Check::from("c-emulations", refused)
    };
    (check, used)
}

/// The first compiled file that includes <setjmp.h>, if any.
pub fn setjmp_use(uses: &[HeaderUse]) -> Option<&HeaderUse> {
    uses.iter().find(|u| u.name == "setjmp.h")
}

/// setjmp/longjmp in the compiled code and no toolchain that can build it (WF3009).
pub fn setjmp_diagnostic(
    use_: &HeaderUse,
    project_dir: &Path,
    toolchain: &str,
    why: &str,
) -> Diagnostic {
    at(
        Diagnostic::new(
            "WF3009",
            format!(
                "{} includes <setjmp.h>: setjmp/longjmp need WebAssembly exception handling, and {toolchain} cannot build it ({why})",
                place(use_, project_dir)
            ),
            SETJMP_FIX,
        ),
        use_,
    )
}

/// How to get a toolchain that builds setjmp/longjmp.
pub const SETJMP_FIX: &str = "install zig 0.15 or newer (`pip install ziglang`) and build with `--toolchain zig` (wasmforge picks it by itself when no toolchain is pinned); or wasi-sdk 26+ (WASI_SDK_PATH) with `--toolchain wasi-sdk`; or keep the code out of the WASI build (`#ifndef __wasi__`)";

/// A function WASI preview 1 lacks: names, what they are, why WASI lacks them, the way out.
struct MissingFunctions {
    names: &'static [&'static str],
    what: &'static str,
    why: &'static str,
    way_out: &'static str,
}

const GUARD: &str =
    "keep the call out of the WASI build (`#ifndef __wasi__` around it, with a fallback)";

const MISSING: &[MissingFunctions] = &[
    MissingFunctions {
        names: &[
            "socket",
            "connect",
            "bind",
            "listen",
            "accept",
            "getaddrinfo",
            "freeaddrinfo",
            "gethostbyname",
            "gethostbyaddr",
            "getnameinfo",
            "setsockopt",
            "socketpair",
        ],
        what: "a BSD socket call",
        why: "WASI preview 1 cannot open sockets (a host may only pass in ones it opened)",
        way_out: "; or build for wasip2, where wasi-libc has BSD sockets (wasi-sdk 22+ `--target wasip2`, run with `--allow-tcp`)",
    },
    MissingFunctions {
        names: &[
            "fork",
            "vfork",
            "execv",
            "execvp",
            "execve",
            "execl",
            "execlp",
            "execle",
            "posix_spawn",
            "posix_spawnp",
            "wait",
            "waitpid",
            "popen",
            "pclose",
            "kill",
            "setsid",
            "getppid",
            "daemon",
        ],
        what: "a process call",
        why: "WASI has no processes: a module cannot start, replace or signal one",
        way_out: "",
    },
    MissingFunctions {
        names: &["system"],
        what: "`system`, which runs a shell command",
        why: "WASI has no processes, so wasi-libc declares it but has no definition",
        way_out: "; or link a stub that fails at run time (returns -1, errno ENOSYS): `[c] stubs = [\"system\"]`",
    },
    MissingFunctions {
        names: &["tmpfile", "tmpnam"],
        what: "a temporary-file call",
        why: "WASI has no system temporary folder, so wasi-libc declares it but has no definition",
        way_out: "; or link a stub that fails at run time (returns NULL, errno ENOTSUP): `[c] stubs = [\"tmpfile\", \"tmpnam\"]`",
    },
    MissingFunctions {
        names: &["pthread_create", "pthread_join", "pthread_detach"],
        what: "a thread call",
        why: "threads need the wasm32-wasip1-threads target (wasi-sdk) and a host with wasi-threads",
        way_out: "",
    },
    MissingFunctions {
        names: &["dlopen", "dlsym", "dlclose", "dlerror"],
        what: "a dynamic-loading call",
        why: "WebAssembly modules cannot load code at run time",
        way_out: "",
    },
    MissingFunctions {
        names: &[
            "getpwnam",
            "getpwuid",
            "getpwnam_r",
            "getpwuid_r",
            "getgrnam",
            "getgrgid",
            "getlogin",
            "getgroups",
        ],
        what: "a user or group lookup",
        why: "WASI has no users or groups",
        way_out: "",
    },
    MissingFunctions {
        names: &["tcgetattr", "tcsetattr", "cfmakeraw", "ttyname"],
        what: "a terminal call",
        why: "WASI has no terminals to configure",
        way_out: "",
    },
    MissingFunctions {
        names: &[
            "chmod", "fchmod", "fchmodat", "lchmod", "chown", "fchown", "lchown", "fchownat",
            "umask",
        ],
        what: "a file permission or ownership call",
        why: "WASI has no file modes or owners",
        way_out: NO_OP,
    },
    MissingFunctions {
        names: &["sigaction", "sigprocmask", "alarm", "setitimer", "pause"],
        what: "a signal call",
        why: "WASI has no signals; wasi-libc's emulation offers only signal() and raise()",
        way_out: "",
    },
];

/// For a call whose effect WASI has no notion of: a macro that makes it succeed, doing nothing.
const NO_OP: &str = "; or, as WASI has nothing for it to change, make the call a no-op that succeeds: `[c] defines = [\"NAME(...)=0\"]`";

/// The functions `[c] stubs` can stand in for.
pub const STUBBABLE: &[&str] = &["system", "tmpfile", "tmpnam"];

/// The WF3008 diagnostic for a call to `name`, when it is a function WASI preview 1 lacks.
pub fn missing_function(name: &str, place: Option<(PathBuf, Option<u32>)>) -> Option<Diagnostic> {
    let entry = MISSING.iter().find(|m| m.names.contains(&name))?;
    let d = Diagnostic::new(
        "WF3008",
        format!(
            "`{name}` is {}, which WASI preview 1 does not have: {}",
            entry.what, entry.why
        ),
        format!("{GUARD}{}", entry.way_out.replace("NAME", name)),
    )
    .about(name);
    Some(match place {
        Some((file, line)) => d.at(file, line),
        None => d,
    })
}

/// A function the compiler or linker did not find, before the sysroot is asked whether WASI
/// lacks it ([`verify_missing`] decides): a known one as [`missing_function`] says it.
pub fn missing_candidate(name: &str, place: Option<(PathBuf, Option<u32>)>) -> Diagnostic {
    missing_function(name, place.clone()).unwrap_or_else(|| {
        let d = Diagnostic::new(
            "WF3008",
            format!("`{name}` is not declared or not defined"),
            GUARD,
        )
        .about(name);
        match place {
            Some((file, line)) => d.at(file, line),
            None => d,
        }
    })
}

/// What the sysroot says about a function the build did not find (`d`, a WF3008 from
/// [`missing_candidate`]): the diagnosis with its evidence, WF3015 when the sysroot declares it
/// in a header the file does not include, or nothing when it is not a C library function at all
/// (the project's own, for the compiler's message to explain).
pub fn verify_missing(d: Diagnostic, sysroot: &super::sysroot::Sysroot) -> Option<Diagnostic> {
    use super::sysroot::Declared;
    let name = d.subject.clone()?;
    let listed = MISSING.iter().find(|m| m.names.contains(&name.as_str()));
    let defined = sysroot.defines(&name);
    let place = d.location.clone();
    let placed = |d: Diagnostic| match &place {
        Some(l) => d.at(&l.file, l.line),
        None => d,
    };
    if sysroot.include.is_empty() {
        // No sysroot to ask: only what wasmforge knows WASI lacks is said.
        return listed.is_some().then_some(d);
    }
    let evidence = match sysroot.declaration(&name) {
        Declared::Yes { header, .. } if defined != Some(false) => {
            return Some(placed(
                Diagnostic::new(
                    "WF3015",
                    format!(
                        "`{name}` is declared in <{header}> of the WASI sysroot, and the file does not include it (the host's headers bring it in through another one)"
                    ),
                    include_fix(&header),
                )
                .about(name),
            ));
        }
        Declared::Yes { header, .. } => {
            format!("the sysroot's <{header}> declares it, but its libc.a does not define it")
        }
        Declared::LeftOut { header, reason, .. } => format!(
            "wasi-libc's <{header}> leaves it out{}{}",
            reason.map(|r| format!(" (\"{r}\")")).unwrap_or_default(),
            if defined == Some(false) {
                " and its libc.a does not define it"
            } else {
                ""
            }
        ),
        Declared::No => format!(
            "no header of the WASI sysroot declares it{}",
            if defined == Some(false) {
                " and its libc.a does not define it"
            } else {
                ""
            }
        ),
    };
    let host = sysroot.host_declaration(&name);
    let message = match (listed, &host) {
        (Some(entry), _) => format!(
            "`{name}` is {}, which WASI preview 1 does not have: {} — {evidence}",
            entry.what, entry.why
        ),
        (None, Some(header)) => {
            format!("`{name}` (the host's <{header}>) is not in WASI's C library: {evidence}")
        }
        (None, None) => return None,
    };
    let fix = format!(
        "{GUARD}{}",
        listed
            .map(|e| e.way_out)
            .unwrap_or("")
            .replace("NAME", &name)
    );
    Some(placed(Diagnostic::new("WF3008", message, fix).about(name)))
}

/// How to bring a standard header into a file that relies on another header to include it.
pub fn include_fix(header: &str) -> String {
    format!(
        "add `#include <{header}>` to the file; or, without touching the sources, to every C file of the build: `[c] cflags = [\"-include\", \"{header}\"]` in wasmforge.toml"
    )
}

/// The standard header that defines a type C code often uses without including it (glibc's
/// headers include each other more than wasi-libc's).
pub fn header_of_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "FILE" | "fpos_t" => "stdio.h",
        "size_t" | "ptrdiff_t" | "wchar_t" | "max_align_t" => "stddef.h",
        "va_list" => "stdarg.h",
        "bool" => "stdbool.h",
        "int8_t" | "int16_t" | "int32_t" | "int64_t" | "uint8_t" | "uint16_t" | "uint32_t"
        | "uint64_t" | "intptr_t" | "uintptr_t" | "intmax_t" | "uintmax_t" => "stdint.h",
        "time_t" | "clock_t" => "time.h",
        "ssize_t" | "off_t" | "pid_t" | "mode_t" | "uid_t" | "gid_t" | "dev_t" | "ino_t" => {
            "sys/types.h"
        }
        "jmp_buf" => "setjmp.h",
        "locale_t" => "locale.h",
        "DIR" => "dirent.h",
        _ => return None,
    })
}

/// The emulation whose library defines `symbol` (for "undefined symbol: clock" when it is off).
pub fn emulation_for_symbol(symbol: &str) -> Option<Emulation> {
    match symbol {
        "clock" | "times" | "getrusage" => Some(Emulation::ProcessClocks),
        "getpid" => Some(Emulation::Getpid),
        "signal" | "raise" => Some(Emulation::Signal),
        "mmap" | "munmap" | "mprotect" => Some(Emulation::Mman),
        _ => None,
    }
}

/// `#include <sys/mman.h>` (or `"sys/mman.h"`) → `sys/mman.h`.
fn included_header(line: &str) -> Option<&str> {
    let rest = line
        .trim_start()
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("include")?
        .trim_start();
    let (open, close) = match rest.chars().next()? {
        '<' => ('<', '>'),
        '"' => ('"', '"'),
        _ => return None,
    };
    let rest = rest.strip_prefix(open)?;
    Some(&rest[..rest.find(close)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_recorded_print_targets() {
        // `clang-16 -print-targets` on Debian 12 (excerpt) and a clang built for x86 only.
        let debian = "  Registered Targets:\n    aarch64    - AArch64 (little endian)\n    wasm32     - WebAssembly 32-bit\n    wasm64     - WebAssembly 64-bit\n    x86-64     - 64-bit X86: EM_X86_64\n";
        let x86_only = "  Registered Targets:\n    x86        - 32-bit X86: Pentium-Pro and above\n    x86-64     - 64-bit X86: EM_X86_64\n";
        assert!(has_wasm_backend(debian));
        assert!(!has_wasm_backend(x86_only));
    }

    #[test]
    fn misses_become_codes() {
        let codes = |m: &str| miss_diagnostic(m).map(|d| d.code);
        assert_eq!(
            codes("/usr/bin/clang-14 14.0.6 (no wasm-ld: install lld-14)").as_deref(),
            Some("WF3002")
        );
        assert_eq!(codes("/usr/bin/clang-16 16.0.6 (no WASI sysroot (WASI_SYSROOT, /usr/share/wasi-sysroot, or Debian's wasi-libc in /usr): install wasi-libc)").as_deref(), Some("WF3003"));
        assert_eq!(
            codes("/usr/bin/clang 15.0.0 (no WebAssembly backend in -print-targets)").as_deref(),
            Some("WF3001")
        );
        assert_eq!(
            codes("zig (not on PATH, and no python3 for `python3 -m ziglang`)"),
            None
        );
    }

    #[test]
    fn include_roots_from_recorded_search_lists() {
        // `clang-16 --target=wasm32-wasi -E -v -x c /dev/null` on Debian 12.
        let debian = "clang version 16.0.6\n#include \"...\" search starts here:\n#include <...> search starts here:\n /usr/lib/llvm-16/lib/clang/16/include\n /usr/local/include\n /usr/include/wasm32-wasi\n /usr/include\nEnd of search list.\n";
        let roots = IncludeRoots::parse(debian);
        assert_eq!(roots.roots.len(), 4);
        assert_eq!(
            roots.classify(Path::new("/usr/include/wasm32-wasi/sys/mman.h")),
            Some(("sys/mman.h".to_string(), false))
        );
        assert_eq!(
            roots.classify(Path::new("/usr/include/pthread.h")),
            Some(("pthread.h".to_string(), true)),
            "the host's glibc header: the WASI sysroot lacks it"
        );
        assert_eq!(
            roots.classify(Path::new("/usr/lib/llvm-16/lib/clang/16/include/stddef.h")),
            Some(("stddef.h".to_string(), false))
        );
        assert_eq!(roots.classify(Path::new("/p/include/a.h")), None);
    }

    #[test]
    fn header_uses_find_the_include_site_and_only_what_was_scanned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path();
        std::fs::write(
            project.join("main.c"),
            "#include \"cfg.h\"\nint main(void){return 0;}\n",
        )
        .expect("write");
        std::fs::write(
            project.join("cfg.h"),
            "#include <stdio.h>\n#include <signal.h>\n",
        )
        .expect("write");
        let roots = IncludeRoots {
            roots: vec![
                PathBuf::from("/usr/include/wasm32-wasi"),
                PathBuf::from("/usr/include"),
            ],
        };
        let scans = [Scan {
            source: project.join("main.c"),
            headers: vec![
                project.join("cfg.h"),
                PathBuf::from("/usr/include/wasm32-wasi/stdio.h"),
                PathBuf::from("/usr/include/wasm32-wasi/signal.h"),
                PathBuf::from("bits/missing.h"),
            ],
        }];
        let uses = header_uses(&scans, &roots, project);
        let names: Vec<&str> = uses.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["stdio.h", "signal.h"]);
        assert_eq!(uses[1].site, Some((project.join("cfg.h"), 2)));
        let (check, used) = emulation_check(&uses, &Emulate::All, project);
        assert!(check.diagnostics.is_empty());
        assert_eq!(used, [(Emulation::Signal, "cfg.h:2".to_string())]);
        let (check, used) = emulation_check(&uses, &Emulate::Only(vec![]), project);
        assert!(used.is_empty());
        assert_eq!(check.diagnostics[0].code, "WF3005");
        assert!(
            check.diagnostics[0]
                .message
                .starts_with("cfg.h:2 includes <signal.h>")
        );
    }

    #[test]
    fn functions_wasi_lacks_have_a_way_out() {
        let d = missing_function("socket", None).expect("known");
        assert_eq!(d.code, "WF3008");
        assert!(d.fix.text.contains("wasip2"), "{}", d.fix.text);
        let d = missing_function("tmpfile", None).expect("known");
        assert!(d.fix.text.contains("[c] stubs"), "{}", d.fix.text);
        assert!(missing_function("printf", None).is_none());
        for name in STUBBABLE {
            assert!(missing_function(name, None).is_some(), "{name}");
        }
    }

    #[test]
    fn includes_are_read_from_lines() {
        assert_eq!(included_header("#include <pthread.h>"), Some("pthread.h"));
        assert_eq!(
            included_header("  #  include <sys/mman.h> // x"),
            Some("sys/mman.h")
        );
        assert_eq!(included_header("#include \"local.h\""), Some("local.h"));
        assert_eq!(included_header("// #include <x.h>"), None);
    }
}
