//! Known failures in compiler output. After a failed compile the captured stderr is matched here
//! (a pure function: text in, diagnostics out), and what is recognised is shown after the
//! compiler's own output, with the fix.

use std::path::{Path, PathBuf};

use super::Diagnostic;

/// What the matcher knows besides the text.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The Rust toolchain that built (for `rustup … --toolchain`).
    pub toolchain: Option<&'a str>,
    /// The target triple that was built for.
    pub triple: &'a str,
}

/// Diagnostics for the known failures in `text`, each once, in the order they appear.
pub fn diagnose(text: &str, ctx: &Context<'_>) -> Vec<Diagnostic> {
    let plain = strip_ansi(text);
    let lines: Vec<&str> = plain.lines().collect();
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut push = |d: Diagnostic| {
        if !found
            .iter()
            .any(|f| f.code == d.code && f.message == d.message)
        {
            found.push(d);
        }
    };
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        // rustc quotes the offending source (`516 | compile_error!("…")`): not a second error.
        let gutter = line
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        if gutter.starts_with('|') {
            continue;
        }
        // ---- Rust
        if let Some(triple) = between(line, "the `", "` target may not be installed") {
            let (argv, safe) = crate::toolchain::rust::target_add(triple, ctx.toolchain);
            let command = super::shell_line(&argv);
            push(
                Diagnostic::new(
                    "WF1001",
                    format!(
                        "the standard library for `{triple}` is not installed{}",
                        ctx.toolchain
                            .map(|t| format!(" for toolchain `{t}`"))
                            .unwrap_or_default()
                    ),
                    format!(
                        "run `{command}` (rustc's own hint adds it to the default toolchain only)"
                    ),
                )
                .commands(vec![argv], safe),
            );
        }
        if let Some(name) = between(line, "could not find specification for target \"", "\"") {
            if name == "wasm32-wasi" {
                push(Diagnostic::new(
                    "WF1004",
                    "the target `wasm32-wasi` no longer exists (renamed `wasm32-wasip1`, removed in Rust 1.84)",
                    "replace `wasm32-wasi` by `wasm32-wasip1` where it is set (`.cargo/config.toml`, scripts, --target flags); `wasmforge doctor` names the file",
                ));
            } else if name.starts_with("wasm32-wasip") {
                let needed = if name == "wasm32-wasip2" {
                    "1.82"
                } else {
                    "1.78"
                };
                push(Diagnostic::new(
                    "WF1003",
                    format!("this rustc does not know the target `{name}` (it needs Rust {needed} or newer)"),
                    "`rustup update`, or raise the version in rust-toolchain.toml",
                ).commands(super::rustup_update(), false));
            }
        }
        if line.contains("you may need to enable the \"js\" feature") {
            let (krate, at) = crate_at(&lines, i, "getrandom");
            push(with_place(
                Diagnostic::new(
                    "WF1007",
                    format!(
                        "{} has no randomness source on wasm32-unknown-unknown (no `js` or `custom` backend)",
                        krate.unwrap_or_else(|| "getrandom 0.2".into())
                    ),
                    super::rust::GETRANDOM_02_FIX,
                ),
                at,
            ));
        }
        if line.contains("\"wasm_js\" configuration flag") {
            let (krate, at) = crate_at(&lines, i, "getrandom");
            push(with_place(
                Diagnostic::new(
                    "WF1008",
                    format!(
                        "{} has no backend on wasm32-unknown-unknown (`getrandom_backend` is not set)",
                        krate.unwrap_or_else(|| "getrandom 0.3".into())
                    ),
                    super::rust::GETRANDOM_03_FIX,
                ),
                at,
            ));
        }
        if line.contains("Only features sync,macros,io-util,rt,time are supported on wasm") {
            let (krate, at) = crate_at(&lines, i, "tokio");
            push(with_place(
                Diagnostic::new(
                    "WF1009",
                    format!(
                        "{} is built with features WebAssembly does not support (fs, io-std, net, process, rt-multi-thread or signal)",
                        krate.unwrap_or_else(|| "tokio".into())
                    ),
                    "use `tokio = { version = \"1\", default-features = false, features = [\"rt\", \"macros\", \"sync\", \"time\", \"io-util\"] }`; `wasmforge doctor` names the crate that enables the others",
                ),
                at,
            ));
        }
        if line.contains("This wasm target is unsupported by mio") {
            let (krate, at) = crate_at(&lines, i, "mio");
            push(with_place(
                Diagnostic::new(
                    "WF1010",
                    format!(
                        "{} has no event source on {}",
                        krate.unwrap_or_else(|| "mio".into()),
                        ctx.triple
                    ),
                    "build for wasip1 (mio supports WASI), or disable tokio's `net` feature",
                ),
                at,
            ));
        }
        if line.ends_with("is not supported by the following package:")
            && let Some(next) = lines.get(i + 1)
            && let Some((package, needed)) = next.trim().split_once(" requires rustc ")
        {
            let found = between(line, "rustc ", " is not").unwrap_or("this rustc");
            push(
                Diagnostic::new(
                    "WF1006",
                    format!(
                        "package `{package}` requires rustc {needed}, the toolchain has {found}"
                    ),
                    "`rustup update` (or a newer toolchain in rust-toolchain.toml)",
                )
                .commands(super::rustup_update(), false),
            );
        }
        if line.contains("failed to find tool") {
            let var = format!("CC_{}", ctx.triple.replace('-', "_"));
            let krate = lines
                .iter()
                .find_map(|l| between(l, "failed to run custom build command for `", "`"))
                .map(|k| format!("the build script of `{k}`"))
                .unwrap_or_else(|| "a build script".into());
            push(Diagnostic::new(
                "WF1011",
                format!("{krate} (cc-rs) found no C compiler for {}", ctx.triple),
                format!(
                    "set `{var}` to a WebAssembly C compiler, e.g. `export {var}=clang-16` (`wasmforge doctor` names the one it found; `wasmforge build` sets it by itself)"
                ),
            ));
        }
        // ---- C
        if let Some(header) = between(line, "fatal error: '", "' file not found")
            && header.starts_with("bits/")
        {
            // "/usr/include/pthread.h:25:10: fatal error: 'bits/endian.h' file not found"
            let host_header = line.split(':').next().unwrap_or("");
            let first = host_header
                .strip_prefix("/usr/include/")
                .unwrap_or(host_header);
            let origin = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    l.starts_with("In file included from") || l.starts_with("                 from")
                })
                .last()
                .and_then(|l| {
                    l.trim()
                        .trim_start_matches("In file included from")
                        .trim_start_matches("from")
                        .trim()
                        .strip_suffix(':')
                        .map(str::to_string)
                });
            let included_at = origin
                .as_deref()
                .map(|o| format!(" (included at {o})"))
                .unwrap_or_default();
            let mut d = if first == "setjmp.h" {
                Diagnostic::new(
                    "WF3009",
                    format!(
                        "<setjmp.h>{included_at}: setjmp/longjmp need WebAssembly exception handling, and this toolchain has neither the header nor its runtime (clang fell back to the host's {host_header})"
                    ),
                    super::c::SETJMP_FIX,
                )
            } else {
                Diagnostic::new(
                    "WF3007",
                    format!(
                        "`{first}` is not part of WASI preview 1{}: clang fell back to the host's {host_header} and failed on its `{header}`{included_at}",
                        super::c::why_unavailable(first)
                            .map(|w| format!(" ({w})"))
                            .unwrap_or_default()
                    ),
                    format!(
                        "guard `#include <{first}>` and the code using it with `#ifndef __wasi__`, or use a WASI replacement; `wasmforge explain WF3006` lists what WASI lacks"
                    ),
                )
            };
            if let Some((file, line_no)) = origin.as_deref().and_then(split_file_line) {
                d = d.at(file, line_no);
            }
            push(d);
        }
        if let (Some(define), Some(lib)) = (
            between(line, "compile with -D", " and link"),
            line.split("link with -l")
                .nth(1)
                .map(|l| l.trim_end_matches(['"', ' ', '\\'])),
        ) {
            let header = line.split(':').next().unwrap_or("");
            let short = header
                .rsplit_once("wasm32-wasi/")
                .map(|(_, h)| h)
                .unwrap_or(header);
            push(Diagnostic::new(
                "WF3005",
                format!("`{short}` is only emulated on WASI and the emulation is off"),
                format!(
                    "in wasmforge.toml: `[c] defines = [\"{define}\"]` and `libs = [\"{lib}\"]` (flags: -D{define}, -l{lib})"
                ),
            ));
        }
        // wasi-libc's own <setjmp.h> (zig, newer wasi-sdk) without exception handling turned on.
        if line.contains("Setjmp/longjmp support requires Exception handling support") {
            let at = line
                .split(": error")
                .next()
                .and_then(|_| {
                    lines[..i].iter().rev().find_map(|l| {
                        l.strip_prefix("In file included from ")
                            .and_then(|o| o.trim().strip_suffix(':'))
                    })
                })
                .and_then(split_file_line);
            push(with_place(
                Diagnostic::new(
                    "WF3009",
                    "<setjmp.h> needs WebAssembly exception handling, and the build did not turn it on (`-mllvm -wasm-enable-sjlj -mexception-handling`)",
                    super::c::SETJMP_FIX,
                ),
                at,
            ));
        }
        // clang: "call to undeclared function 'socket'" (C99+), older: "implicit declaration of
        // function 'socket' is invalid in C99".
        if let Some(name) = between(line, "call to undeclared function '", "'")
            .or_else(|| between(line, "implicit declaration of function '", "'"))
            && let Some(d) = super::c::missing_function(name, source_place(line))
        {
            push(d);
        }
        // tmpnam's buffer size, which wasi-libc leaves out with tmpnam itself.
        if between(line, "use of undeclared identifier '", "'") == Some("L_tmpnam") {
            push(with_place(
                Diagnostic::new(
                    "WF3008",
                    "`L_tmpnam` (the buffer size for tmpnam) is not defined: WASI has no system temporary folder, so wasi-libc has no tmpnam",
                    "keep the tmpnam code out of the WASI build (`#ifndef __wasi__`); or give it a size and a stub that fails at run time: `[c] defines = [\"L_tmpnam=20\"]` and `[c] stubs = [\"tmpnam\"]`",
                ),
                source_place(line),
            ));
        }
        // "tmpnam is not defined on WASI": a warning now, an undefined symbol at the link.
        if let Some(name) = between(line, "warning: '", "' is deprecated: ")
            && line.contains("is not defined on WASI")
            && let Some(d) = super::c::missing_function(name, source_place(line))
        {
            push(d);
        }
        // wasm-ld: "unable to find library -lreadline"; zig: `unable to find dynamic system
        // library "readline"`.
        if let Some(lib) = line
            .split("unable to find library -l")
            .nth(1)
            .or_else(|| between(line, "system library \"", "\""))
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            push(Diagnostic::new(
                "WF3010",
                format!(
                    "the link asks for `-l{lib}`, which the WASI sysroot does not have (a library of the host, not built for WebAssembly)"
                ),
                format!(
                    "build {lib} for WebAssembly and point the link at it (`-L`), or leave it out of the WASI build: for Make, override the variable that adds `-l{lib}` (e.g. `wasmforge build -- MYLIBS=`); for CMake, turn off the option that needs it"
                ),
            ));
        }
        // wasm-ld: "error: main.o: undefined symbol: socket".
        if let Some(symbol) = line
            .split("undefined symbol: ")
            .nth(1)
            .map(str::trim)
            .filter(|_| line.contains("error"))
        {
            if let Some(d) = super::c::missing_function(symbol, None) {
                push(d);
            } else if let Some(emulation) = super::c::emulation_for_symbol(symbol) {
                push(Diagnostic::new(
                    "WF3005",
                    format!(
                        "`{symbol}` is only emulated on WASI and the `{}` emulation is off",
                        emulation.name()
                    ),
                    format!(
                        "add \"{}\" to `[c] emulate` in wasmforge.toml (or remove the key: all emulations are on by default); {}",
                        emulation.name(),
                        emulation.meaning()
                    ),
                ));
            } else if [
                "__wasm_setjmp",
                "__wasm_setjmp_test",
                "__wasm_longjmp",
                "__c_longjmp",
            ]
            .contains(&symbol)
            {
                push(Diagnostic::new(
                    "WF3009",
                    format!("`{symbol}` (the setjmp/longjmp runtime) is missing at the link"),
                    super::c::SETJMP_FIX,
                ));
            }
        }
        if line.contains("libclang_rt.builtins-wasm32.a") && line.contains("cannot open")
            || BUILTIN_SYMBOLS
                .iter()
                .any(|s| line.ends_with(&format!("undefined symbol: {s}")))
        {
            push(Diagnostic::new(
                "WF3004",
                "the compiler-rt builtins for wasm32 (libclang_rt.builtins-wasm32.a) are missing for this clang",
                "Debian/Ubuntu: `apt-get install libclang-rt-NN-dev-wasm32` for your clang-NN; wasi-sdk and zig ship it",
            ));
        }
        if line.contains("Executable \"wasm-ld\" doesn't exist") {
            push(Diagnostic::new(
                "WF3002",
                "clang found no wasm-ld to link WebAssembly",
                "install lld for your LLVM (Debian: `apt-get install lld-NN`)",
            ));
        }
        // ---- Go
        if line.contains("unsupported GOOS/GOARCH pair wasip1/wasm") {
            push(Diagnostic::new(
                "WF2002",
                "this Go does not have the wasip1 port (Go 1.21 or newer has it)",
                "install Go 1.21 or newer and put it first on PATH",
            ));
        }
        if line.contains("-buildmode=c-shared not supported on wasip1/wasm") {
            push(Diagnostic::new(
                "WF2003",
                "this Go cannot build wasip1 libraries (-buildmode=c-shared needs Go 1.24 or newer)",
                "install Go 1.24 or newer, or build a command",
            ));
        }
        if line.contains("cgo: unknown ptrSize for $GOARCH \"wasm\"") {
            push(Diagnostic::new(
                "WF2007",
                "CGO_ENABLED=1 asks for cgo, which cannot target WebAssembly",
                "unset CGO_ENABLED (or set CGO_ENABLED=0)",
            ));
        }
        if let Some(flag) = line
            .strip_suffix(" is not supported on wasip1/wasm")
            .or_else(|| line.strip_suffix(" not supported on wasip1/wasm"))
            && flag != "-buildmode=c-shared"
        {
            push(Diagnostic::new(
                "WF2007",
                format!(
                    "`{flag}` (from GOFLAGS or the command line) is not supported on wasip1/wasm"
                ),
                format!(
                    "remove `{flag}` from GOFLAGS (`go env -u GOFLAGS` if it was set with `go env -w`)"
                ),
            ));
        }
        if let Some(wanted) = between(line, "go.mod requires go >= ", " (running go ") {
            let running = between(line, "(running go ", ";").unwrap_or("this go");
            push(Diagnostic::new(
                "WF2009",
                format!("go.mod requires go {wanted} or newer, and the installed go is {running}"),
                format!(
                    "install Go {wanted} or newer and put it first on PATH, or lower the `go` line of go.mod"
                ),
            ));
        }
        if let Some(wanted) = between(line, "go: download go", ":") {
            push(Diagnostic::new(
                "WF2009",
                format!(
                    "go.mod requires go {wanted}, and go could not download it (no network access to the Go proxy)"
                ),
                format!(
                    "install Go {wanted} or newer and put it first on PATH, or lower the `go` line of go.mod"
                ),
            ));
        }
        if let Some(window) = between(line, "requires go version ", ", got go") {
            push(Diagnostic::new(
                "WF2006",
                format!(
                    "TinyGo supports Go {window} only: {}",
                    line.rsplit(", got ").next().unwrap_or("")
                ),
                format!(
                    "put a Go in {window} first on PATH, or install a TinyGo that supports your Go"
                ),
            ));
        }
    }
    found
}

/// Symbols clang's builtins library provides that C code needs on wasm32.
const BUILTIN_SYMBOLS: &[&str] = &[
    "__multi3",
    "__divti3",
    "__udivti3",
    "__modti3",
    "__umodti3",
    "__lshrti3",
    "__ashlti3",
    "__ashrti3",
    "__floattidf",
    "__floattisf",
    "__fixdfti",
    "__fixsfti",
    "__extenddftf2",
    "__trunctfdf2",
    "__addtf3",
    "__multf3",
    "__divtf3",
    "__subtf3",
];

/// The text between `start` and the next `end` in `line`.
fn between<'t>(line: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = line.find(start)? + start.len();
    let len = line[from..].find(end)?;
    Some(&line[from..from + len])
}

/// Compilers colour their output on a terminal; patterns are matched on the plain text.
fn strip_ansi(text: &str) -> String {
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
fn split_file_line(text: &str) -> Option<(PathBuf, Option<u32>)> {
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
fn source_place(line: &str) -> Option<(PathBuf, Option<u32>)> {
    let head = line.split(": ").next()?;
    let (file, line_no) = split_file_line(head)?;
    (file.extension().is_some_and(|e| e == "c" || e == "h")).then_some((file, line_no))
}

/// For a rustc error at line `i`, the ` --> …/NAME-VERSION/src/…:L:C` line after it: the crate
/// ("getrandom 0.2.17") and the place.
fn crate_at(
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

fn with_place(d: Diagnostic, place: Option<(PathBuf, Option<u32>)>) -> Diagnostic {
    match place {
        Some((file, line)) => d.at(file, line),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/stderr")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn codes(name: &str, ctx: &Context<'_>) -> Vec<Diagnostic> {
        diagnose(&recorded(name), ctx)
    }

    fn rust(triple: &str) -> Context<'static> {
        Context {
            toolchain: Some("nightly-x86_64-unknown-linux-gnu"),
            triple: Box::leak(triple.to_string().into_boxed_str()),
        }
    }

    #[test]
    fn rust_target_missing_names_the_toolchain_in_the_fix() {
        let found = codes("rust-target-missing.txt", &rust("wasm32-wasip1"));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "WF1001");
        assert_eq!(
            found[0].fix.commands,
            ["rustup target add wasm32-wasip1 --toolchain nightly-x86_64-unknown-linux-gnu"]
        );
        assert!(found[0].fix.safe);
    }

    #[test]
    fn removed_wasm32_wasi_name() {
        let found = codes("rust-wasm32-wasi.txt", &rust("wasm32-wasi"));
        assert_eq!(
            found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
            ["WF1004"]
        );
    }

    #[test]
    fn getrandom_both_versions_name_crate_version_and_place() {
        let found = codes("rust-getrandom02.txt", &rust("wasm32-unknown-unknown"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "WF1007");
        assert!(
            found[0].message.contains("getrandom 0.2.17"),
            "{}",
            found[0].message
        );
        let at = found[0].location.as_ref().expect("location");
        assert!(
            at.file.ends_with("getrandom-0.2.17/src/lib.rs") && at.line == Some(346),
            "{at:?}"
        );
        let found = codes("rust-getrandom03.txt", &rust("wasm32-unknown-unknown"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "WF1008");
        assert!(found[0].message.contains("getrandom 0.3.4"));
        assert!(found[0].fix.text.contains("getrandom_backend=\"wasm_js\""));
    }

    #[test]
    fn tokio_full_and_rust_version() {
        let found = codes("rust-tokio-full.txt", &rust("wasm32-wasip1"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "WF1009");
        assert!(
            found[0].message.starts_with("tokio 1.54.1"),
            "{}",
            found[0].message
        );
        let found = codes("rust-rust-version.txt", &rust("wasm32-wasip1"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "WF1006");
        assert_eq!(
            found[0].message,
            "package `rv@0.1.0` requires rustc 1.99, the toolchain has 1.95.0"
        );
    }

    #[test]
    fn cc_rs_without_a_compiler_names_the_crate() {
        let found = codes("rust-cc-no-clang.txt", &rust("wasm32-wasip1"));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "WF1011");
        assert!(
            found[0].message.contains("`ccsys v0.1.0"),
            "{}",
            found[0].message
        );
        assert!(found[0].fix.text.contains("CC_wasm32_wasip1"));
    }

    #[test]
    fn c_host_header_fallthrough_names_the_real_header_and_include_site() {
        let found = codes("c-pthread-fallthrough.txt", &Context::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "WF3007");
        assert!(
            found[0]
                .message
                .starts_with("`pthread.h` is not part of WASI preview 1"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("bits/endian.h"));
        assert_eq!(
            found[0].location.as_ref().map(|l| (l.file.clone(), l.line)),
            Some((PathBuf::from("pthread_h.c"), Some(1)))
        );
    }

    #[test]
    fn c_emulated_signal_gives_define_and_library() {
        let found = codes("c-signal.txt", &Context::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "WF3005");
        assert!(found[0].message.contains("`signal.h`"));
        assert!(
            found[0].fix.text.contains("\"_WASI_EMULATED_SIGNAL\"")
                && found[0].fix.text.contains("\"wasi-emulated-signal\""),
            "{}",
            found[0].fix.text
        );
    }

    #[test]
    fn c_missing_builtins_both_ways() {
        for file in ["c-builtins-missing.txt", "c-multi3.txt"] {
            let found = codes(file, &Context::default());
            assert_eq!(
                found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
                ["WF3004"],
                "{file}"
            );
        }
    }

    /// The functions recognised in recorded clang-16 and zig output, with the place.
    fn wf3008(file: &str) -> Vec<String> {
        codes(file, &Context::default())
            .iter()
            .filter(|d| d.code == "WF3008")
            .map(|d| d.message.split('`').nth(1).unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn c_calls_to_functions_wasi_lacks_before_and_after_the_link() {
        let all = [
            "socket",
            "fork",
            "execvp",
            "popen",
            "dlopen",
            "getpwnam",
            "pthread_create",
        ];
        // clang 16: "call to undeclared function 'socket'" (an error since C99).
        assert_eq!(wf3008("c-undeclared-clang16.txt"), all);
        let found = codes("c-undeclared-clang16.txt", &Context::default());
        let at = found[0].location.as_ref().expect("place");
        assert_eq!(
            (at.file.as_path(), at.line),
            (Path::new("calls.c"), Some(5))
        );
        assert!(found[0].fix.text.contains("#ifndef __wasi__"));
        assert!(
            found[0].fix.text.contains("wasip2"),
            "sockets: {}",
            found[0].fix.text
        );
        assert_eq!(wf3008("c-undeclared-zig.txt"), all);
        // wasm-ld: "undefined symbol: socket" (zig's libc has dlopen and pthread_create stubs).
        assert_eq!(wf3008("c-undefined-symbol-clang16.txt"), all);
        assert_eq!(
            wf3008("c-undefined-symbol-zig.txt"),
            ["socket", "fork", "execvp", "popen", "getpwnam"]
        );
        // Declared by wasi-libc but not defined: the deprecation warning and the link both say it.
        let found = codes("c-declared-undefined-clang16.txt", &Context::default());
        let names: Vec<&str> = found
            .iter()
            .map(|d| d.message.split('`').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(names, ["tmpfile", "tmpnam", "system"], "{found:#?}");
        assert!(found.iter().all(|d| d.fix.text.contains("[c] stubs")));
    }

    #[test]
    fn c_setjmp_and_missing_libraries() {
        for file in ["c-setjmp-clang16.txt", "c-setjmp-zig.txt"] {
            let found = codes(file, &Context::default());
            assert_eq!(
                found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
                ["WF3009"],
                "{file}: {found:#?}"
            );
            assert!(found[0].fix.text.contains("zig"), "{}", found[0].fix.text);
        }
        for file in ["c-lib-missing-clang16.txt", "c-lib-missing-zig.txt"] {
            let found = codes(file, &Context::default());
            assert_eq!(found.len(), 1, "{file}: {found:#?}");
            assert_eq!(found[0].code, "WF3010");
            assert!(
                found[0].message.contains("`-lreadline`"),
                "{}",
                found[0].message
            );
        }
    }

    #[test]
    fn go_mod_newer_than_the_installed_go() {
        for file in ["go-mod-newer.txt", "go-mod-newer-local.txt"] {
            let found = codes(file, &Context::default());
            assert_eq!(found.len(), 1, "{file}: {found:#?}");
            assert_eq!(found[0].code, "WF2009");
            assert!(found[0].message.contains("1.99"), "{}", found[0].message);
        }
    }

    #[test]
    fn go_failures() {
        let go = Context {
            toolchain: None,
            triple: "wasm32-wasip1",
        };
        for (file, code) in [
            ("go-119-wasip1.txt", "WF2002"),
            ("go-119-c-shared.txt", "WF2003"),
            ("go-cgo-enabled.txt", "WF2007"),
            ("go-goflags-race.txt", "WF2007"),
        ] {
            let found = codes(file, &go);
            assert_eq!(
                found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
                [code],
                "{file}"
            );
        }
        // "build constraints exclude all Go files" has many causes: the pre-flight cgo check
        // (WF2004) says it instead; the matcher does not guess.
        assert!(codes("go-cgo.txt", &go).is_empty());
    }

    #[test]
    fn tinygo_window_message() {
        // TinyGo cannot be installed here; the line follows TinyGo's message format
        // ("requires go version %d.%d through %d.%d, got go%d.%d").
        let found = diagnose(
            "error: requires go version 1.19 through 1.23, got go1.27",
            &Context::default(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "WF2006");
        assert!(
            found[0].message.contains("1.19 through 1.23") && found[0].message.contains("go1.27")
        );
    }

    #[test]
    fn colours_do_not_hide_a_match() {
        let text = "\u{1b}[0m\u{1b}[1m\u{1b}[38;5;9merror\u{1b}[0m: Only features sync,macros,io-util,rt,time are supported on wasm.";
        assert_eq!(diagnose(text, &rust("wasm32-wasip1"))[0].code, "WF1009");
    }

    #[test]
    fn healthy_output_and_noise_give_nothing() {
        let noise = "   Compiling r1 v0.1.0\nwarning: unused variable: `x`\nerror[E0308]: mismatched types\n";
        assert!(diagnose(noise, &rust("wasm32-wasip1")).is_empty());
        assert!(diagnose("", &Context::default()).is_empty());
    }
}
