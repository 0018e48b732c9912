//! C checks: a compiler with the WebAssembly backend, wasm-ld, a WASI sysroot, compiler-rt's
//! builtins, and headers WASI preview 1 lacks or only emulates.

use std::path::{Path, PathBuf};

use super::Diagnostic;
use crate::config::CConfig;
use crate::doctor::Check;
use crate::process::Tool;
use crate::report::Reporter;
use crate::toolchain::c::{CFlavor, CToolchain};

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

/// Headers wasi-libc only emulates: the define that turns the emulation on and its library.
const EMULATED: &[(&str, &str, &str)] = &[
    ("signal.h", "_WASI_EMULATED_SIGNAL", "wasi-emulated-signal"),
    ("sys/mman.h", "_WASI_EMULATED_MMAN", "wasi-emulated-mman"),
    (
        "sys/times.h",
        "_WASI_EMULATED_PROCESS_CLOCKS",
        "wasi-emulated-process-clocks",
    ),
];

/// Headers for facilities WASI preview 1 does not have, and what that means.
const UNAVAILABLE: &[(&str, &str)] = &[
    (
        "pthread.h",
        "threads need the wasm32-wasip1-threads target (wasi-sdk), not plain WASI preview 1",
    ),
    (
        "setjmp.h",
        "setjmp/longjmp need WebAssembly exception handling (wasi-sdk 25+ with -mllvm -wasm-enable-sjlj)",
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

/// `#include <…>` lines in the project's C sources and headers that WASI lacks or only emulates.
/// `sysroot_include` (when known) rules out headers a richer sysroot does provide.
pub fn headers_check(files: &[PathBuf], config: &CConfig, sysroot_include: Option<&Path>) -> Check {
    let mut found = Vec::new();
    let defined = |define: &str| {
        config
            .defines
            .iter()
            .any(|d| d.split('=').next() == Some(define))
            || config
                .cflags
                .iter()
                .any(|f| f.strip_prefix("-D").and_then(|d| d.split('=').next()) == Some(define))
    };
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        // Conditionals: (excluded for WASI in this branch, is a __wasi__ test)
        let mut stack: Vec<(bool, bool)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if let Some(directive) = directive(line) {
                let wasi_test = directive.contains("__wasi__");
                let negated = directive.starts_with("ifndef")
                    || directive.contains("!defined")
                    || directive.contains("! defined");
                if directive.starts_with("if") {
                    stack.push((wasi_test && negated, wasi_test));
                } else if directive.starts_with("else") || directive.starts_with("elif") {
                    if let Some(top) = stack.last_mut()
                        && top.1
                    {
                        top.0 = !top.0;
                    }
                } else if directive.starts_with("endif") {
                    stack.pop();
                }
                if stack.iter().any(|(excluded, _)| *excluded) {
                    continue;
                }
            }
            if stack.iter().any(|(excluded, _)| *excluded) {
                continue;
            }
            let Some(header) = included_header(line) else {
                continue;
            };
            let at = Some(n as u32 + 1);
            if let Some((_, define, lib)) = EMULATED.iter().find(|(h, _, _)| *h == header) {
                let linked = config.libs.iter().any(|l| l == lib)
                    || config.ldflags.iter().any(|f| f == &format!("-l{lib}"));
                if !defined(define) || !linked {
                    found.push(
                        Diagnostic::new(
                            "WF3005",
                            format!("{}:{} includes <{header}>, which WASI only emulates, and the emulation is off", file.display(), n + 1),
                            format!("in wasmforge.toml: `[c] defines = [\"{define}\"]` and `libs = [\"{lib}\"]` (for make/cmake: -D{define} and -l{lib})"),
                        )
                        .at(file, at),
                    );
                }
            } else if let Some((_, why)) = UNAVAILABLE.iter().find(|(h, _)| *h == header)
                && !sysroot_include.is_some_and(|inc| inc.join(header).is_file())
            {
                found.push(
                    Diagnostic::new(
                        "WF3006",
                        format!("{}:{} includes <{header}>, which WASI preview 1 does not have: {why}", file.display(), n + 1),
                        "compile this code only for other platforms (`#ifndef __wasi__` around the include and its uses)".to_string(),
                    )
                    .at(file, at),
                );
            }
        }
    }
    if found.is_empty() {
        Check::ok(
            "c-headers",
            format!(
                "{}, no header WASI lacks",
                super::plural(files.len(), "file")
            ),
        )
    } else {
        Check::from("c-headers", found)
    }
}

/// A preprocessor directive without its `#`: `ifndef __wasi__`, `endif`, ….
fn directive(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let word = rest.split_whitespace().next()?;
    matches!(word, "if" | "ifdef" | "ifndef" | "else" | "elif" | "endif").then(|| rest.to_string())
}

/// `#include <sys/mman.h>` → `sys/mman.h`.
fn included_header(line: &str) -> Option<&str> {
    let rest = line
        .trim_start()
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("include")?
        .trim_start();
    let rest = rest.strip_prefix('<')?;
    Some(&rest[..rest.find('>')?])
}

/// The project's `.c` and `.h` files (build folders and hidden folders aside).
pub fn source_files(project_dir: &Path) -> Vec<PathBuf> {
    super::project_files(project_dir, &["target", "build", "node_modules"], |name| {
        name.ends_with(".c") || name.ends_with(".h")
    })
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
    fn includes_guarded_for_wasi_are_not_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.c");
        std::fs::write(
            &file,
            "#include <stdio.h>\n#ifndef __wasi__\n#include <pthread.h>\n#endif\n#ifdef __wasi__\n#include <stdlib.h>\n#else\n#include <dlfcn.h>\n#endif\n#if !defined(__wasi__) && defined(X)\n#include <termios.h>\n#endif\n#include <setjmp.h>\n",
        )
        .expect("write");
        let check = headers_check(&[file], &CConfig::default(), None);
        let lines: Vec<Option<u32>> = check
            .diagnostics
            .iter()
            .map(|d| d.location.as_ref().and_then(|l| l.line))
            .collect();
        assert_eq!(lines, [Some(13)], "{:#?}", check.diagnostics);
    }

    #[test]
    fn includes_are_read_from_lines() {
        assert_eq!(included_header("#include <pthread.h>"), Some("pthread.h"));
        assert_eq!(
            included_header("  #  include <sys/mman.h> // x"),
            Some("sys/mman.h")
        );
        assert_eq!(included_header("#include \"local.h\""), None);
        assert_eq!(included_header("// #include <x.h>"), None);
    }
}
