//! The run host: runs core modules (WASI preview 1) and components (WASI 0.2) in embedded
//! Wasmtime. Nothing is granted unless asked: no files, no environment, no sockets. Limits
//! (time, fuel, memory, tables) stop the guest with a message naming the limit, and compiled
//! code is cached on disk so a second run starts in milliseconds.

pub mod cache;
mod component;
mod core;
pub mod grants;
pub mod http;
pub mod limits;
pub mod tail;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, Module};

pub use self::cache::CacheEvent;
pub use self::grants::Grants;
pub use self::limits::Limits;

/// Everything `run` needs to know about one run.
#[derive(Debug)]
pub struct RunRequest {
    /// argv[0] for the guest (the file name).
    pub program: String,
    /// The file as the user named it (for hints).
    pub path: String,
    /// Guest arguments, or the function arguments with `invoke`.
    pub args: Vec<String>,
    /// Call this export instead of running the command.
    pub invoke: Option<String>,
    pub grants: Grants,
    pub limits: Limits,
    /// Use the compiled-code cache.
    pub cache: bool,
    /// Accept ahead-of-time compiled code (`.cwasm`), which is trusted as it is.
    pub allow_precompiled: bool,
    /// The guest's stdout and stderr pass through these (their last KiB kept for `run`'s notes).
    pub tails: tail::Tails,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A core module exited (returned from `_start` = 0, or `proc_exit(code)`).
    Exited(i32),
    /// A component's `wasi:cli/run` returned ok (true) or err (false).
    ComponentResult(bool),
    /// `--invoke` returned these values (already formatted).
    Returned(Vec<String>),
    /// The guest trapped.
    Trapped {
        message: String,
        backtrace: Option<String>,
        /// What to do about it, when the trap says more than itself (ran out of stack).
        hint: Option<String>,
    },
    /// `--timeout` elapsed.
    TimedOut(Duration),
    /// `--fuel` ran out.
    OutOfFuel(u64),
    /// `--max-memory` or `--max-table-elements` was hit; the message names it.
    LimitHit(String),
}

/// How long each phase took.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub load: Duration,
    pub cache: Option<CacheEvent>,
    pub instantiate: Duration,
    pub run: Duration,
}

/// The engine for a run: fuel and epoch interruption only when a limit needs them, since both
/// change the generated code (and so the cache key).
pub fn engine(limits: &Limits) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    // C's setjmp/longjmp (and C++ exceptions) compile to Wasm exception handling.
    config.wasm_exceptions(true);
    config.consume_fuel(limits.fuel.is_some());
    config.epoch_interruption(limits.timeout.is_some());
    config.max_wasm_stack(limits.wasm_stack());
    // Wasmtime checks the Wasm stack against the async one even for a synchronous run.
    config.async_stack_size(limits.wasm_stack().saturating_add(1 << 20).max(2 << 20));
    Engine::new(&config)
        .map_err(|e| anyhow::Error::from(e).context("could not set up the Wasmtime engine"))
}

/// Which compiler makes the guest's machine code (`run --compiler`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Compiler {
    /// The cache's Cranelift code when there is some; else Winch now and Cranelift in the
    /// background for the next run (Cranelift when Winch lacks what the run needs)
    #[default]
    Auto,
    /// Cranelift, the optimizing compiler: slower to compile, faster code
    Cranelift,
    /// Winch, the baseline compiler: compiles several times faster, slower code
    Winch,
}

/// The Wasm stack a Winch-compiled guest gets: four times Wasmtime's default (see below).
pub const WINCH_STACK: usize = 4 * 512 * 1024;

/// Winch's stack: four times what Cranelift's code gets (at least [`WINCH_STACK`]).
fn winch_stack(limits: &Limits) -> usize {
    limits.wasm_stack().saturating_mul(4).max(WINCH_STACK)
}

/// The native stack a run may need beyond the main thread's 8 MiB: a guest given a larger
/// Wasm stack (`--max-wasm-stack`) runs on a thread of its own with room for it, or it would
/// overflow the process's stack (a crash) before Wasmtime's limit (a trap) is reached.
fn native_stack_needed(limits: &Limits) -> Option<usize> {
    let wasm = winch_stack(limits);
    (wasm > WINCH_STACK).then(|| wasm.saturating_add(8 << 20))
}

/// The engine for Winch: the run's epoch setting; no fuel (Winch cannot count it) and only the
/// proposals Winch compiles.
pub fn winch_engine(limits: &Limits) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.strategy(wasmtime::Strategy::Winch);
    // Winch keeps every value in its stack frame: about three times Cranelift's frame for the
    // same function. With Wasmtime's default 512 KiB, a guest that recurses deeply but finitely
    // (cJSON's nesting tests) ran out of stack on its first, Winch-compiled run and passed on
    // every cached, Cranelift-compiled one. Four times the stack keeps the depth a guest reaches
    // at least Cranelift's (the run is on the main thread, whose stack is 8 MiB).
    config.max_wasm_stack(winch_stack(limits));
    config.async_stack_size(winch_stack(limits).saturating_add(1 << 20));
    config.epoch_interruption(limits.timeout.is_some());
    Engine::new(&config)
        .map_err(|e| anyhow::Error::from(e).context("could not set up Wasmtime's Winch compiler"))
}

/// Why this run cannot use Winch, if it cannot: a limit it cannot enforce, or a proposal the
/// module uses that it does not compile (it only partly compiles SIMD).
pub fn winch_blocker(bytes: &[u8], limits: &Limits) -> Option<String> {
    use wasmforge_build::wasm::features as f;
    if limits.fuel.is_some() {
        return Some("--fuel needs Cranelift (Winch cannot count fuel)".into());
    }
    if !cfg!(target_arch = "x86_64") {
        return Some("Winch compiles for x86-64 only here".into());
    }
    let used = match f::detect(bytes) {
        Ok(used) => used,
        Err(_) => return Some("its features could not be read".into()),
    };
    let lacking: Vec<&str> = used
        .iter()
        .copied()
        .filter(|name| {
            [
                f::EXCEPTION_HANDLING,
                f::EXNREF,
                f::TAIL_CALL,
                f::GC,
                f::SIMD,
                f::RELAXED_SIMD,
                f::STACK_SWITCHING,
                f::WIDE_ARITHMETIC,
                f::OTHER,
                "unknown",
            ]
            .contains(name)
        })
        .collect();
    (!lacking.is_empty()).then(|| {
        format!(
            "the module uses {}, which Winch does not compile",
            lacking.join(", ")
        )
    })
}

/// How `run` loaded the code: the engine it belongs to (Cranelift's or Winch's), the code, what
/// the cache did, and why Cranelift was chosen when Winch was not.
pub struct RunCode {
    pub engine: Engine,
    pub loaded: Loaded,
    pub event: CacheEvent,
    pub note: Option<String>,
}

/// Loads the code for `run`: from the cache (Cranelift's code), or compiled — with Winch when
/// `compiler` allows it and nothing is cached, starting a background Cranelift compile into the
/// cache for the next run; with Cranelift otherwise. `.cwasm` files are always Cranelift's.
pub fn load_for_run(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
    compiler: Compiler,
    use_cache: bool,
    allow_precompiled: bool,
    reporter: &dyn wasmforge_build::Reporter,
) -> anyhow::Result<RunCode> {
    let warn = &|message: &str| reporter.warning(message);
    let cranelift = engine(limits)?;
    let precompiled = Engine::detect_precompiled(bytes).is_some();
    if compiler == Compiler::Cranelift || precompiled {
        let (loaded, event) = load(&cranelift, path, bytes, use_cache, allow_precompiled, warn)?;
        return Ok(RunCode {
            engine: cranelift,
            loaded,
            event,
            note: None,
        });
    }
    let encoding = wasmforge_build::artifact::Encoding::of(bytes, path)?;
    if compiler == Compiler::Winch && limits.fuel.is_some() {
        bail!(crate::host::HostError::WinchCannot(
            "Winch cannot count fuel (--fuel)".into()
        ));
    }
    // A cache folder others can write is neither read nor filled (said, as Cranelift's path says).
    let use_cache = use_cache
        && wasmforge_build::cache::section_dir(wasmforge_build::cache::Section::Compiled)
            .is_some_and(|dir| cache::trusted(&dir, warn));
    let digest: Option<[u8; 32]> = use_cache.then(|| cache::digest(bytes));
    if compiler == Compiler::Auto
        && let Some(digest) = &digest
        && let Some(loaded) = cache::lookup(&cranelift, digest, encoding)
    {
        return Ok(RunCode {
            engine: cranelift,
            loaded,
            event: CacheEvent::Hit,
            note: None,
        });
    }
    // Asked for by name, Winch is refused up front for what it does not compile, naming it
    // (Winch's own error would be a compile failure deep in its code generator).
    let blocker = winch_blocker(bytes, limits);
    if compiler == Compiler::Winch
        && let Some(reason) = &blocker
    {
        bail!(crate::host::HostError::WinchCannot(reason.clone()));
    }
    let note = match blocker {
        Some(reason) => Some(reason),
        None => {
            let winch = winch_engine(limits)?;
            match cache::compile_with(&winch, bytes, encoding) {
                Ok(loaded) => {
                    let background = compiler == Compiler::Auto && use_cache;
                    if background {
                        cache::warm_in_background(path, limits.timeout.is_some(), reporter);
                    }
                    return Ok(RunCode {
                        engine: winch,
                        loaded,
                        event: if background {
                            CacheEvent::Baseline
                        } else {
                            CacheEvent::BaselineOnly
                        },
                        note: None,
                    });
                }
                Err(err) if compiler == Compiler::Winch => return Err(err),
                Err(err) => Some(format!("Winch could not compile it ({err:#})")),
            }
        }
    };
    let (loaded, event) = match &digest {
        Some(digest) => {
            cache::load_or_compile_hashed(&cranelift, bytes, digest, encoding, true, warn)?
        }
        None => (
            cache::compile_with(&cranelift, bytes, encoding)?,
            CacheEvent::Disabled,
        ),
    };
    Ok(RunCode {
        engine: cranelift,
        loaded,
        event,
        note: note.map(|n| format!("Cranelift: {n}")),
    })
}

/// Loaded code, ready to instantiate.
pub enum Loaded {
    Module(Module),
    Component(Component),
}

/// Compiles (or loads from the cache, or deserializes a trusted `.cwasm`) the bytes of `path`.
pub fn load(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
    use_cache: bool,
    allow_precompiled: bool,
    warn: &dyn Fn(&str),
) -> anyhow::Result<(Loaded, CacheEvent)> {
    if let Some(kind) = Engine::detect_precompiled(bytes) {
        if !allow_precompiled {
            bail!(crate::host::HostError::PrecompiledNotAllowed(
                path.display().to_string()
            ));
        }
        return cache::deserialize_trusted(engine, kind, bytes, path)
            .map(|l| (l, CacheEvent::Precompiled));
    }
    let encoding = wasmforge_build::artifact::Encoding::of(bytes, path)?;
    cache::load_or_compile(engine, bytes, encoding, use_cache, warn)
}

/// Runs the code with the request's grants and limits.
pub fn run(
    engine: &Engine,
    loaded: &Loaded,
    req: &RunRequest,
    timings: &mut Timings,
    ctx: &crate::output::Ctx,
) -> anyhow::Result<Outcome> {
    let Some(stack) = native_stack_needed(&req.limits) else {
        return run_here(engine, loaded, req, timings, ctx);
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("guest".into())
            .stack_size(stack)
            .spawn_scoped(scope, || run_here(engine, loaded, req, timings, ctx))
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not start a thread with a {} stack for --max-wasm-stack: {e}",
                    crate::output::human_size(stack as u64)
                )
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn run_here(
    engine: &Engine,
    loaded: &Loaded,
    req: &RunRequest,
    timings: &mut Timings,
    ctx: &crate::output::Ctx,
) -> anyhow::Result<Outcome> {
    let watchdog = req
        .limits
        .timeout
        .map(|timeout| limits::Watchdog::start(engine.clone(), timeout, ctx.clone()));
    // WASI's host calls run on a Tokio runtime: without one entered here, wasmtime-wasi starts
    // its own on first use, sized by reading the cgroup's CPU quota, with a worker per core. One
    // worker is enough for one guest (file I/O goes to Tokio's blocking pool either way), and
    // starts sooner.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let entered = runtime.enter();
    let outcome = match loaded {
        Loaded::Module(module) => core::run(engine, module, req, timings),
        Loaded::Component(component) => component::run(engine, component, req, timings),
    };
    if let Some(watchdog) = watchdog {
        watchdog.finish();
    }
    drop(entered);
    // A guest stopped by a limit may leave a blocking read behind: do not wait for it.
    runtime.shutdown_background();
    outcome
}

/// Errors of the host that come with a hint.
/// Why a wasm32-wasip1-threads module is not run, and what to do (WF7001's explanation).
pub const WASI_THREADS: &str = "the module was built for wasm32-wasip1-threads: it imports \
     `wasi::thread-spawn` (the wasi-threads proposal, which WASI 0.2 did not adopt) and a shared \
     `env::memory`. Wasmtime dropped wasi-threads (its CLI 49 refuses `-S threads`: \"no longer \
     supported\"), so neither wasmforge nor current Wasmtime runs it: build for wasip1 or wasip2 \
     and keep the threads out of the Wasm build (`wasmforge explain WF7001`)";

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "`{0}` is ahead-of-time compiled code (.cwasm), which runs only with --allow-precompiled"
    )]
    PrecompiledNotAllowed(String),
    #[error(
        "`{path}` was compiled by another Wasmtime version or engine configuration, or is damaged"
    )]
    PrecompiledIncompatible {
        path: String,
        #[source]
        source: anyhow::Error,
    },
    #[error("the module imports {}, which `wasmforge run` does not provide", .0.join(", "))]
    UnsupportedImports(Vec<String>),
    #[error("the component imports {}, which `wasmforge run` does not provide", .0.join(", "))]
    UnsupportedComponentImports(Vec<String>),
    #[error("the module has no `_start` export, so it is not a command")]
    NotACommand { exports: Vec<String> },
    #[error("`{name}` is not an HTTP component: it is {world}")]
    NotHttp {
        name: String,
        world: String,
        command: bool,
    },
    #[error(
        "the component is an HTTP component (it exports `wasi:http/incoming-handler`): it answers requests, it is not run as a command"
    )]
    HttpComponent { path: String },
    #[error("the component does not export `wasi:cli/run`, so it is not a command")]
    NotAComponentCommand { exports: Vec<String> },
    #[error("no exported function `{name}`")]
    NoSuchExport { name: String, exports: Vec<String> },
    #[error("`{name}` names more than one exported function: {}", candidates.join(", "))]
    AmbiguousExport {
        name: String,
        candidates: Vec<String>,
    },
    #[error("`{name}` takes {expected} argument(s), {given} given")]
    WrongArgCount {
        name: String,
        expected: usize,
        given: usize,
        signature: String,
    },
    #[error("argument {index} of `{name}` must be {ty}: `{value}` is not")]
    BadArg {
        name: String,
        index: usize,
        ty: String,
        value: String,
    },
    #[error("{0}")]
    NetworkNeedsComponent(String),
    #[error("--compiler winch cannot run this: {0}")]
    WinchCannot(String),
    /// The code needs something of the host that `run` does not provide; the guest never started.
    #[error("the {what} cannot be linked with `wasmforge run`'s host: {message}")]
    Link { what: &'static str, message: String },
    /// The host could not create the instance (before the guest ran).
    #[error("the {what} could not be instantiated: {message}")]
    Instantiate { what: &'static str, message: String },
}

impl HostError {
    /// A linker's refusal of a module or component (`what`).
    pub fn link(what: &'static str, err: wasmtime::Error) -> HostError {
        HostError::Link {
            what,
            message: error_text(&err),
        }
    }

    pub fn instantiation(what: &'static str, err: wasmtime::Error) -> HostError {
        HostError::Instantiate {
            what,
            message: error_text(&err),
        }
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HostError::PrecompiledNotAllowed(_) => "loading compiled code trusts it completely; if you made it with \
                 `wasmforge precompile`, add --allow-precompiled"
                .into(),
            HostError::PrecompiledIncompatible { .. } => {
                "compile it again with this wasmforge: `wasmforge precompile FILE.wasm`, or run the .wasm itself".into()
            }
            HostError::UnsupportedImports(imports)
                if imports.iter().any(|i| i.contains("wasi::thread-spawn")) =>
            {
                WASI_THREADS.into()
            }
            HostError::UnsupportedImports(_) => "`run` provides WASI preview 1 (`wasi_snapshot_preview1`) to core \
                 modules; build for wasip1, or run the module in the host it was made for"
                .into(),
            HostError::UnsupportedComponentImports(_) => "`run` provides WASI 0.2 interfaces (wasi:cli, wasi:clocks, \
                 wasi:filesystem, wasi:io, wasi:random, wasi:sockets) to components"
                .into(),
            HostError::NotACommand { exports } | HostError::NotAComponentCommand { exports } => {
                if exports.is_empty() {
                    "it exports no functions either".into()
                } else {
                    format!("it is a library: call an export with `--invoke NAME [ARGS…]` (exports: {})", exports.join(", "))
                }
            }
            HostError::NotHttp { name, command: true, .. } => format!(
                "run it: `wasmforge run {name}`; `serve` takes a component of the `wasi:http/proxy` world \
                 (start one with `wasmforge new NAME --lang rust --kind http`)"
            ),
            HostError::NotHttp { .. } => "`serve` takes a WASI 0.2 component of the `wasi:http/proxy` world, which \
                 exports `wasi:http/incoming-handler`; start one with `wasmforge new NAME --lang rust --kind http`"
                .into(),
            HostError::HttpComponent { path } => format!("serve it: `wasmforge serve {path}` (or `wasmforge dev` in its project folder)"),
            HostError::NoSuchExport { exports, .. } => format!("exported functions: {}", exports.join(", ")),
            HostError::AmbiguousExport { candidates, .. } => {
                format!("name one in full: --invoke '{}'", candidates[0])
            }
            HostError::WrongArgCount { signature, .. } => format!("signature: {signature}"),
            HostError::BadArg { .. } => "arguments follow the function's parameter types: integers, floats, \
                 and WAVE syntax for component values (e.g. \"text\", [1, 2], some(3))"
                .into(),
            HostError::WinchCannot(_) => "use --compiler cranelift (or auto, which picks it)".into(),
            HostError::NetworkNeedsComponent(_) => "WASI preview 1 has no sockets: build for `--target wasip2` to \
                 use --allow-tcp/--allow-udp"
                .into(),
            HostError::Link { message, .. } => link_hint(message),
            HostError::Instantiate { message, .. } if message.contains("shared memory") => {
                "the module uses threads (a shared memory), and `run` does not provide wasi-threads: \
                 build for wasm32-wasip1 (not wasm32-wasip1-threads) without `+atomics`"
                    .into()
            }
            HostError::Instantiate { .. } => return None,
        })
    }
}

/// A Wasmtime error as one line: its message and causes. Wasmtime quotes the module's own
/// names (an import's, an export's), so the text is escaped: a name with a newline cannot start
/// a line of its own.
pub(crate) fn error_text(err: &wasmtime::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    wasmforge_build::text::escape(&text).into_owned()
}

/// Names a module or component chose, escaped for messages.
pub(crate) fn escaped(names: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    names
        .into_iter()
        .map(|n| wasmforge_build::text::escape(n.as_ref()).into_owned())
        .collect()
}

/// What would provide what the linker missed.
fn link_hint(message: &str) -> String {
    if message.contains("wasi:http/") {
        "wasi:http is the interface of HTTP servers and clients: a `wasi:http/proxy` component is \
         served (`wasmforge serve FILE`), not run as a command"
            .into()
    } else if message.contains("component imports") {
        "`run` provides the WASI 0.2 command world: wasi:cli, wasi:clocks, wasi:filesystem, \
         wasi:io, wasi:random and wasi:sockets (0.2.0 and later 0.2.x); anything else must be \
         composed in or provided by another host"
            .into()
    } else if message.contains("incompatible import type") {
        "the module declares a WASI preview 1 function with another signature than WASI's: it was \
         built against another ABI or a hand-written import; rebuild it for wasm32-wasip1"
            .into()
    } else {
        "`run` provides WASI preview 1 (`wasi_snapshot_preview1`) as Wasmtime implements it; this \
         function is not part of it, so the module was made for another host or WASI version"
            .into()
    }
}

/// Times a closure into `slot`.
fn timed<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    *slot = start.elapsed();
    value
}
