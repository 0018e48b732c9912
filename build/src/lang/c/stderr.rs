//! C's failures in compiler and linker output (clang, wasm-ld, zig), one line at a time.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::stderr::{
    Context, Line, Rule, between, source_place, split_file_line, with_place,
};

/// C's rules, each a small function of one line of compiler output, tried in
/// this order.
pub(crate) const RULES: &[Rule] = &[
    host_header,
    wf3005,
    wf3009,
    undeclared_function,
    unknown_standard_type,
    wf3008,
    deprecated_not_on_wasi,
    wf3010,
    undefined_symbol,
    wf3004,
    wf3002,
];

fn host_header(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
    } = *at;
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
        let mut d = if STANDARD_HEADERS.contains(&first) {
            // A header every WASI sysroot has came from the host: the compile did not use the
            // sysroot at all (a target the toolchain does not map to it, a missing --sysroot).
            Diagnostic::new(
                "WF3003",
                format!(
                    "the compile did not use the WASI sysroot: <{first}>, which WASI has, came from the host's {host_header}{included_at}"
                ),
                "compile with the toolchain's own target and sysroot: clang 16 takes `--target=wasm32-wasi` (it does not know `wasm32-wasip1`) and finds Debian's WASI headers through it; other toolchains take `--sysroot=DIR`. For `cc`-based build scripts wasmforge sets `CC_<target>` and `CFLAGS_<target>` itself",
            )
            .about(first)
        } else if first == "setjmp.h" {
            Diagnostic::new(
                "WF3009",
                format!(
                    "<setjmp.h>{included_at}: setjmp/longjmp need WebAssembly exception handling, and this toolchain has neither the header nor its runtime (clang fell back to the host's {host_header})"
                ),
                super::checks::SETJMP_FIX,
            )
        } else {
            Diagnostic::new(
                "WF3007",
                format!(
                    "`{first}` is not part of WASI preview 1{}: clang fell back to the host's {host_header} and failed on its `{header}`{included_at}",
                    super::checks::why_unavailable(first)
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default()
                ),
                format!(
                    "guard `#include <{first}>` and the code using it with `#ifndef __wasi__`, or use a WASI replacement; `wasmforge explain WF3006` lists what WASI lacks"
                ),
            )
            .about(first)
        };
        if let Some((file, line_no)) = origin.as_deref().and_then(split_file_line) {
            d = d.at(file, line_no);
        }
        push(d);
    }
}

/// Headers of the C standard library every WASI sysroot has (C11's, less `<setjmp.h>`,
/// `<signal.h>` and `<threads.h>`, which WASI preview 1 lacks or only emulates).
const STANDARD_HEADERS: &[&str] = &[
    "assert.h",
    "complex.h",
    "ctype.h",
    "errno.h",
    "fenv.h",
    "float.h",
    "inttypes.h",
    "iso646.h",
    "limits.h",
    "locale.h",
    "math.h",
    "stdalign.h",
    "stdarg.h",
    "stdatomic.h",
    "stdbool.h",
    "stddef.h",
    "stdint.h",
    "stdio.h",
    "stdlib.h",
    "stdnoreturn.h",
    "string.h",
    "tgmath.h",
    "time.h",
    "uchar.h",
    "wchar.h",
    "wctype.h",
];

fn wf3005(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
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
}

/// wasi-libc's own <setjmp.h> (zig, newer wasi-sdk) without exception handling turned on.
fn wf3009(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
    } = *at;
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
                super::checks::SETJMP_FIX,
            ),
            at,
        ));
    }
}

/// clang: "call to undeclared function 'socket'" (C99+), older: "implicit declaration of
/// function 'socket' is invalid in C99".
fn undeclared_function(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(name) = between(line, "call to undeclared function '", "'")
        .or_else(|| between(line, "implicit declaration of function '", "'"))
    {
        // The sysroot decides afterwards whether WASI lacks it (`refine_diagnosis`).
        push(super::checks::missing_candidate(name, source_place(line)));
    }
}

/// "unknown type name 'FILE'": a type of a standard header the file never includes (glibc's
/// headers pull it in through others).
fn unknown_standard_type(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(name) = between(line, "unknown type name '", "'")
        && let Some(header) = super::checks::header_of_type(name)
    {
        push(with_place(
            Diagnostic::new(
                "WF3015",
                format!(
                    "`{name}` is defined by <{header}>, which the file does not include (the host's headers bring it in through another one; wasi-libc's do not)"
                ),
                super::checks::include_fix(header),
            )
            .about(header),
            source_place(line),
        ));
    }
}

/// tmpnam's buffer size, which wasi-libc leaves out with tmpnam itself.
fn wf3008(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
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
}

/// "tmpnam is not defined on WASI": a warning now, an undefined symbol at the link.
fn deprecated_not_on_wasi(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(name) = between(line, "warning: '", "' is deprecated: ")
        && line.contains("is not defined on WASI")
        && let Some(d) = super::checks::missing_function(name, source_place(line))
    {
        push(d);
    }
}

/// wasm-ld: "unable to find library -lreadline"; zig: `unable to find dynamic system
/// library "readline"`.
fn wf3010(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
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
}

/// wasm-ld: "error: main.o: undefined symbol: socket".
fn undefined_symbol(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(symbol) = line
        .split("undefined symbol: ")
        .nth(1)
        .map(str::trim)
        .filter(|_| line.contains("error"))
    {
        if let Some(emulation) = super::checks::emulation_for_symbol(symbol) {
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
                super::checks::SETJMP_FIX,
            ));
        } else if !BUILTIN_SYMBOLS.contains(&symbol) {
            push(super::checks::missing_candidate(symbol, None));
        }
    }
}

fn wf3004(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
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
}

fn wf3002(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if line.contains("Executable \"wasm-ld\" doesn't exist") {
        push(Diagnostic::new(
            "WF3002",
            "clang found no wasm-ld to link WebAssembly",
            "install lld for your LLVM (Debian: `apt-get install lld-NN`)",
        ));
    }
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
