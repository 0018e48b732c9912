//! `wasmforge run`: run a module or component in the embedded Wasmtime sandbox.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use wasmforge_build::{BuildOptions, Profile};

use super::flags::{GrantArgs, LimitArgs, TargetArgs};
use crate::cli::Format;
use crate::exit::{ExitStatus, GuestStopped};
use crate::host::grants::AddrPattern;
use crate::host::limits::{EXIT_FUEL, EXIT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP, format_duration};
use crate::host::{self, Outcome, RunRequest, Timings};
use crate::output::{Ctx, DIM};
use crate::reporter::TermReporter;

/// Run a WebAssembly module or component in a sandbox
///
/// Runs a core module under WASI preview 1 or a component under WASI 0.2 (`wasi:cli/run`), told
/// apart by their bytes. TARGET can be a .wasm file, a project folder (built first, like
/// `cargo run`), an OCI reference (pulled into the cache first), or with --allow-precompiled a
/// .cwasm from `wasmforge precompile`.
///
/// The guest starts with nothing: no files, no environment variables, no network. Grant each
/// with --dir, --env, --allow-tcp. stdin is inherited unless --inherit-stdin=false.
/// Arguments after TARGET go to the guest; put `--` before them when they look like options.
///
/// Exit codes: a core module's own exit code (0–255); 0/1 for a component (ok/err of
/// wasi:cli/run); 134 trap, 124 --timeout, 125 --fuel exhausted, 123 --max-memory or
/// --max-table-elements hit; 1 when the guest cannot be linked (an import run lacks).
///
/// Examples:
///   wasmforge run hello.wasm
///   wasmforge run examples/hello-rust -- Ada
///   wasmforge run ghcr.io/acme/hello:1.0
///   wasmforge run --dir ./data::/data --env LEVEL=2 tool.wasm /data/in.txt
///   wasmforge run --invoke add lib.wasm 2 40
///   wasmforge run --invoke 'greet' component.wasm '"world"'
///   wasmforge run --timeout 2s --fuel 100000000 --max-memory 64MiB untrusted.wasm
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A .wasm file, a project folder, an OCI reference, or a .cwasm (with --allow-precompiled)
    #[arg(value_name = "TARGET")]
    target: PathBuf,

    /// Arguments for the guest (or for the function with --invoke)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,

    /// Call this exported function instead of running the command; ARGS are its arguments
    /// (numbers for core modules, WAVE values for components)
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    #[command(flatten)]
    grants: GrantArgs,

    /// Give the guest this process's stdin
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    inherit_stdin: bool,

    /// Allow TCP to/from addresses matching PATTERN (components only), e.g. 127.0.0.1:8080, *:443
    #[arg(long = "allow-tcp", value_name = "PATTERN")]
    allow_tcp: Vec<AddrPattern>,

    /// Allow UDP to/from addresses matching PATTERN (components only)
    #[arg(long = "allow-udp", value_name = "PATTERN")]
    allow_udp: Vec<AddrPattern>,

    #[command(flatten)]
    limits: LimitArgs,

    /// Compile afresh instead of using (and filling) the compiled-code cache
    #[arg(long)]
    no_cache: bool,

    /// Which compiler: auto (the cache's Cranelift code; with nothing cached, Winch now and
    /// Cranelift in the background for the next run), cranelift, or winch
    #[arg(long, value_enum, default_value_t = host::Compiler::Auto, value_name = "COMPILER")]
    compiler: host::Compiler,

    /// Print how long loading (compile or cache load), instantiating and running took
    #[arg(long)]
    timings: bool,

    /// Accept ahead-of-time compiled code (.cwasm), which is trusted as it is
    #[arg(long)]
    allow_precompiled: bool,

    /// With a project folder: what to build
    #[command(flatten)]
    build_target: TargetArgs,

    /// With a project folder: build with the release profile
    #[arg(short, long)]
    release: bool,

    /// With a project folder: the binary to run
    #[arg(long, value_name = "NAME")]
    bin: Option<String>,

    /// With a project folder: the package to run
    #[arg(short, long = "package", value_name = "SPEC")]
    package: Option<String>,

    /// (For `dev`.) End with the process PID: the run is killed when it dies (Linux)
    #[arg(long, value_name = "PID", hide = true)]
    die_with_parent: Option<u32>,

    /// (For `test`: `go test -exec`.) The current folder is the package's: grant it read-only at
    /// its path and tell Go's runtime it is the working folder (PWD), as `go test` runs a
    /// native test binary in it
    #[arg(long, hide = true)]
    go_test_exec: bool,

    /// (For `test`: CTest's emulator.) The current folder is the test's working folder: grant
    /// it read-write at its path and as the guest's current folder; a test launcher given as
    /// TARGET runs the module beside it
    #[arg(long, hide = true)]
    ctest_exec: bool,
}

/// TARGET as an OCI reference: `oci:DIR[:TAG]`, or something with a `/` that is not a file
/// here and does not look like one (`ghcr.io/acme/app:1.0`, `localhost:5000/app`).
/// A TARGET that names no file is a registry reference only when it says so: `oci:DIR`, or a
/// first component that is a registry host (`ghcr.io/…`, `localhost:5000/…`, `docker.io/…` —
/// Docker Hub must be spelled out) and is not a folder here. `build/app` (meant
/// `build/app.wasm`) is a missing file, never a pull from Docker Hub run with your grants.
///
/// Whatever looks like a path is one, whether or not it exists: a name ending in `.wasm`,
/// `.wat` or `.cwasm`, or starting with `./`, `../`, `/` or `~` (`site.dev/dist/app.wasm` is a
/// missing file, never a pull from the real domain `site.dev`).
pub(crate) fn as_reference(target: &std::path::Path) -> Option<wasmforge_registry::Ref> {
    if target.exists() {
        return None;
    }
    let text = target.to_str()?;
    if looks_like_path(text) {
        return None;
    }
    if text.starts_with("oci:") {
        return wasmforge_registry::Ref::parse(text).ok();
    }
    let (first, rest) = text.split_once('/')?;
    let host = first.contains('.') || first.contains(':') || first == "localhost";
    if !host || rest.is_empty() || std::path::Path::new(first).exists() {
        return None;
    }
    wasmforge_registry::Ref::parse(text).ok()
}

/// Whether `text` can only be a path: a WebAssembly file name, or a relative, absolute or
/// home-relative path.
pub(crate) fn looks_like_path(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [".wasm", ".wat", ".cwasm"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || ["./", "../", "/", "~"]
            .iter()
            .any(|start| text.starts_with(start))
        || text == "."
        || text == ".."
}

/// A file beside a missing one that was probably meant (`app` → `app.wasm`, `app.wasn` →
/// `app.wasm`).
pub(crate) fn did_you_mean(missing: &std::path::Path) -> Option<std::path::PathBuf> {
    let parent = missing
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = missing.file_name()?.to_str()?;
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_stem().and_then(|s| s.to_str()) == Some(stem)
                && p.extension()
                    .is_some_and(|e| e == "wasm" || e == "wat" || e == "cwasm")
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Pulls the module at `reference` into the cache, named by its digest, and returns the path.
pub(crate) fn pull_to_cache(
    reference: &wasmforge_registry::Ref,
    ctx: &Ctx,
) -> anyhow::Result<std::path::PathBuf> {
    match pull_any_to_cache(reference, ctx)? {
        PulledTo::Module(path) => Ok(path),
        PulledTo::App { components, .. } => Err(wasmforge_registry::Error::IsApp {
            reference: reference.to_string(),
            services: components.len(),
        }
        .into()),
    }
}

/// What a pull left in the cache.
pub(crate) enum PulledTo {
    Module(std::path::PathBuf),
    /// An app: its config and its components' files, in order.
    App {
        config: Vec<u8>,
        components: Vec<std::path::PathBuf>,
    },
}

/// Pulls what `reference` holds (a module, or an app's components) into the cache, each file
/// named by its digest.
pub(crate) fn pull_any_to_cache(
    reference: &wasmforge_registry::Ref,
    ctx: &Ctx,
) -> anyhow::Result<PulledTo> {
    use wasmforge_registry::{Pulled, Ref, layout, remote};
    let (pulled, report) = match reference {
        Ref::Layout { dir, tag, digest } => layout::pull_any(
            dir,
            tag,
            digest.as_deref(),
            wasmforge_registry::DEFAULT_MAX_SIZE,
        )?,
        Ref::Registry(r) => {
            let auth = wasmforge_registry::auth::lookup(r.registry())?.auth;
            let options = remote::Options {
                auth,
                ..Default::default()
            };
            remote::pull_any(r, &options)?
        }
    };
    ctx.status(
        "Pulled",
        &format!("{} ({})", report.reference, report.digest),
    );
    let dir = wasmforge_build::cache::section_dir(wasmforge_build::cache::Section::Oci)
        .ok_or_else(|| {
            anyhow::anyhow!("no cache folder for pulled modules (set WASMFORGE_CACHE_DIR)")
        })?;
    // A file already there is reused only while it still is the module of that digest.
    let keep = |wasm: &[u8]| -> anyhow::Result<std::path::PathBuf> {
        let sha256 = wasmforge_build::files::sha256_hex(wasm);
        let path = dir.join(format!("{sha256}.wasm"));
        let current = std::fs::read(&path)
            .is_ok_and(|bytes| wasmforge_build::files::sha256_hex(&bytes) == sha256);
        if !current {
            wasmforge_build::cache::write_private(&path, wasm)
                .with_context(|| format!("could not write `{}`", path.display()))?;
        }
        Ok(path)
    };
    match pulled {
        Pulled::Module(wasm) => Ok(PulledTo::Module(keep(&wasm)?)),
        Pulled::App { config, components } => Ok(PulledTo::App {
            config,
            components: components
                .iter()
                .map(|c| keep(c))
                .collect::<anyhow::Result<_>>()?,
        }),
    }
}

/// `dev` runs commands as children that must not outlive it, even when it is killed: the
/// kernel sends this process SIGKILL when its parent dies (Linux). A parent already gone
/// (before the request was made) means nothing should run.
fn die_with(parent: u32) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Pid, Signal, getppid, set_parent_process_death_signal};
        set_parent_process_death_signal(Some(Signal::KILL))
            .map_err(|e| anyhow::anyhow!("could not tie the run to its parent process: {e}"))?;
        let now = Pid::as_raw(getppid());
        if u32::try_from(now).ok() != Some(parent) {
            bail!("the process that started this run ({parent}) has ended");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    Ok(())
}

/// The target `wasmforge test` runs a Make project's test programs for (`wasip2`: each as a
/// component).
pub const TEST_TARGET_VAR: &str = "WASMFORGE_TEST_TARGET";

/// The time-zone database of the host, for Go's tests (`ZONEINFO`).
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A CMake test build's executable is a launcher script of its module, `NAME.wasm` beside it
/// (see `wasmforge test`); CTest's emulator is given the launcher.
fn test_launcher_module(path: &Path) -> PathBuf {
    let mark = wasmforge_build::lang::c::TEST_LAUNCHER_MARK.as_bytes();
    let mut head = vec![0; mark.len()];
    let is_launcher = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == mark;
    if is_launcher {
        let mut module = path.as_os_str().to_owned();
        module.push(".wasm");
        PathBuf::from(module)
    } else {
        path.to_owned()
    }
}

pub fn run(mut args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if args.ctest_exec
        && let Some(runner) = super::flags::RunnerArgs::from_env()?
    {
        // `wasmforge test`'s grants and limits, given through the environment (see RunnerArgs).
        args.grants.extend(runner.grants);
        args.limits.fill_from(runner.limits);
    }
    if let Some(parent) = args.die_with_parent {
        die_with(parent)?;
    }
    let path = if args.target.is_dir() {
        build_project(&args, ctx)?
    } else if let Some(reference) = as_reference(&args.target) {
        pull_to_cache(&reference, ctx)?
    } else if args.ctest_exec {
        test_launcher_module(&args.target)
    } else {
        args.target.clone()
    };
    if !path.exists() {
        return Err(wasmforge_build::Error::NoSuchFile {
            did_you_mean: did_you_mean(&path),
            path,
        }
        .into());
    }
    if path.is_dir() {
        bail!(
            "`{}` is a folder without a buildable project",
            path.display()
        );
    }
    let raw = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("could not read `{}`: {e}", path.display()))?;
    run_bytes(args, path, raw, ctx)
}

/// Runs the module or component `raw` (read from `path`, or given by the containerd shim with
/// the entrypoint's path) as `run` runs a file.
pub fn run_bytes(args: Args, path: PathBuf, raw: Vec<u8>, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    // Compiled code (.cwasm) is handled by the loader; everything else must be WebAssembly.
    let mut bytes = if wasmtime::Engine::detect_precompiled(&raw).is_some() {
        raw
    } else {
        super::parse_input(&path, raw)?
    };
    // A Make project's test programs are linked as preview 1 modules; `wasmforge test
    // --target wasip2` runs each as the command component a wasip2 build makes of it.
    if args.ctest_exec
        && std::env::var(TEST_TARGET_VAR).as_deref() == Ok("wasip2")
        && wasmparser::Parser::is_core_wasm(&bytes)
    {
        bytes = wasmforge_build::componentize::command_component(&bytes, &path)?;
    }

    let mut grants = args.grants.grants()?;
    grants.inherit_stdin = args.inherit_stdin;
    if args.go_test_exec {
        let cwd = std::env::current_dir()?.display().to_string();
        grants
            .dirs
            .push(host::grants::DirGrant::parse(&cwd, true).map_err(anyhow::Error::msg)?);
        grants.env.push(("PWD".into(), cwd));
        // The time-zone database, as a native test finds it (time.LoadLocation): public data,
        // read-only. Go's wasip1 port looks nowhere by itself but $ZONEINFO.
        if Path::new(ZONEINFO).is_dir() && !grants.env.iter().any(|(k, _)| k == "ZONEINFO") {
            grants
                .dirs
                .push(host::grants::DirGrant::parse(ZONEINFO, true).map_err(anyhow::Error::msg)?);
            grants.env.push(("ZONEINFO".into(), ZONEINFO.into()));
        }
        grants.inherit_stdin = false;
    }
    if args.ctest_exec {
        let cwd = std::env::current_dir()?.display().to_string();
        for spec in [cwd.clone(), format!("{cwd}::.")] {
            grants
                .dirs
                .push(host::grants::DirGrant::parse(&spec, false).map_err(anyhow::Error::msg)?);
        }
        grants.inherit_stdin = false;
    }
    grants.tcp = args.allow_tcp.clone();
    grants.udp = args.allow_udp.clone();
    let limits = args.limits.limits();
    let program = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let req = RunRequest {
        program,
        path: path.display().to_string(),
        args: args.args.clone(),
        invoke: args.invoke.clone(),
        grants,
        limits,
        cache: !args.no_cache,
        allow_precompiled: args.allow_precompiled,
        tails: host::tail::Tails::default(),
    };

    let mut timings = Timings::default();
    let started = Instant::now();
    let code = host::load_for_run(
        &path,
        &bytes,
        &req.limits,
        args.compiler,
        req.cache,
        req.allow_precompiled,
        &TermReporter::new(ctx),
    )?;
    let event = code.event;
    timings.load = started.elapsed();
    timings.cache = Some(event);
    if ctx.verbose > 0 {
        anstream::eprintln!(
            "{DIM}      Loaded {} ({}){DIM:#}",
            path.display(),
            event.describe()
        );
        if let Some(note) = &code.note {
            anstream::eprintln!("{DIM}    Compiler {note}{DIM:#}");
        }
    }
    let outcome = host::run(&code.engine, &code.loaded, &req, &mut timings, ctx)?;
    // A guest that uses files, given none, that failed: its error is likely about a path.
    let failed = matches!(outcome, Outcome::Exited(c) if c != 0)
        || matches!(outcome, Outcome::ComponentResult(false));
    let failed = failed || matches!(outcome, Outcome::Trapped { .. });
    if failed && !ctx.quiet && !req.grants.wants_network() && imports(&bytes, "wasi:sockets/") {
        anstream::eprintln!(
            "{DIM}note[{SOCKET_NOTE}]: the guest uses sockets and none was granted, so every connect, bind and listen is refused: if it failed on one, grant the address with `--allow-tcp HOST:PORT` (`--allow-udp` for UDP; `*:443` for any host){DIM:#}"
        );
    }
    if failed && !ctx.quiet && opens_files(&bytes) {
        if let Some(note) = path_note(&req.tails.text(), &req.grants.dirs) {
            anstream::eprintln!("{DIM}note[{PATH_NOTE}]: {note}{DIM:#}");
        } else if req.grants.dirs.is_empty() {
            anstream::eprintln!(
                "{DIM}note[{PATH_NOTE}]: no folder was granted, so the guest sees no files at all: if it failed on a path, grant the folder with `--dir PATH` (`--dir-ro PATH` to read only; `--dir HOST::GUEST` to name it inside){DIM:#}"
            );
        }
    }
    if args.timings {
        anstream::eprintln!(
            "{DIM}timings: load {:.2?} ({}), instantiate {:.2?}, run {:.2?}{DIM:#}",
            timings.load,
            event.describe(),
            timings.instantiate,
            timings.run
        );
    }
    finish(outcome, ctx)
}

/// Builds the project folder like `cargo run` and returns the artifact to run.
fn build_project(args: &Args, ctx: &Ctx) -> anyhow::Result<PathBuf> {
    let mut options = BuildOptions::new(&args.target);
    options.target = args.build_target.target;
    options.profile = if args.release {
        Profile::Release
    } else {
        Profile::Dev
    };
    options.packages = args.package.iter().cloned().collect();
    options.bins = args.bin.iter().cloned().collect();
    options.color = ctx.color_stderr;
    options.quiet = true;
    let reporter = TermReporter::new(ctx);
    let output = wasmforge_build::build(&options, &reporter)?;
    let mut artifacts = output.artifacts;
    if args.invoke.is_none() {
        artifacts.retain(|a| a.kind == wasmforge_build::ArtifactKind::Command);
    }
    match artifacts.len() {
        1 => Ok(artifacts.remove(0).path),
        0 => Err(crate::exit::UsageError {
            message: "the project builds no command to run".into(),
            hint: "call a library's export with `--invoke NAME`".into(),
        }
        .into()),
        _ => {
            let choices: Vec<String> = artifacts
                .iter()
                .map(|a| match a.kind {
                    wasmforge_build::ArtifactKind::Command => format!("--bin {}", a.name),
                    wasmforge_build::ArtifactKind::Library => format!("-p {}", a.package),
                })
                .collect();
            let has_library = artifacts
                .iter()
                .any(|a| a.kind == wasmforge_build::ArtifactKind::Library);
            Err(crate::exit::UsageError {
                message: format!(
                    "the project builds {} modules: {}",
                    artifacts.len(),
                    artifacts
                        .iter()
                        .map(|a| format!(
                            "`{}` ({}, package `{}`)",
                            a.name,
                            a.kind.name(),
                            a.package
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint: format!(
                    "choose one: {}{}",
                    choices.join(", "),
                    if has_library {
                        " (a library is chosen by its package)"
                    } else {
                        ""
                    }
                ),
            }
            .into())
        }
    }
}

/// A backtrace frame without the compiler's crate hashes, as Rust's own backtraces print them:
/// `std[a88812da5ee6ad9e]::panicking::begin_panic` → `std::panicking::begin_panic`, and the
/// legacy `::h0123456789abcdef` suffix dropped.
fn without_crate_hashes(frame: &str) -> String {
    let is_hex = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = String::with_capacity(frame.len());
    let mut rest = frame;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if is_hex(&after[..close]) => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // Legacy mangling: `path::name::h0123456789abcdef`, at the end of the name.
    let mut cleaned = String::with_capacity(out.len());
    let mut words = out.split("::h").peekable();
    if let Some(first) = words.next() {
        cleaned.push_str(first);
    }
    for word in words {
        let hash_end = word
            .char_indices()
            .take_while(|(_, c)| c.is_ascii_hexdigit())
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        let ends_name = word[hash_end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if hash_end == 16 && ends_name {
            cleaned.push_str(&word[hash_end..]);
        } else {
            cleaned.push_str("::h");
            cleaned.push_str(word);
        }
    }
    cleaned
}

/// The code of the note on a path outside every grant.
const PATH_NOTE: &str = "WF7002";

/// The code of the note on sockets when none was granted.
const SOCKET_NOTE: &str = "WF7003";

/// Whether a component imports an interface whose name starts with `prefix`.
fn imports(bytes: &[u8], prefix: &str) -> bool {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ComponentImportSection(imports)) => {
                if imports
                    .into_iter()
                    .flatten()
                    .any(|i| i.name.name.starts_with(prefix))
                {
                    return true;
                }
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Words programs print when a file operation failed.
const FAILED_ON_A_PATH: &[&str] = &[
    "No such file",
    "not found",
    "annot open",
    "ould not open",
    "ailed to open",
    "ailed to read",
    "Permission denied",
    "Capabilities insufficient",
    "not permitted",
    "I/O error",
    "rror",
];

/// The paths a guest's last words name where they say something failed, last first: tokens in
/// backticks or quotes, or words that start with `/`, `./` or `../` (`cat: /x: No such file`).
fn failed_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in text
        .lines()
        .filter(|l| FAILED_ON_A_PATH.iter().any(|w| l.contains(w)))
    {
        let mut found = Vec::new();
        for quote in ['`', '\'', '"'] {
            let parts: Vec<&str> = line.split(quote).collect();
            for inside in parts
                .iter()
                .skip(1)
                .step_by(2)
                .take(parts.len().saturating_sub(1) / 2)
            {
                found.push(inside.to_string());
            }
        }
        for word in line.split_whitespace() {
            let word = word
                .trim_end_matches([':', ',', ';', '.', ')'])
                .trim_start_matches('(');
            if word.starts_with('/') || word.starts_with("./") || word.starts_with("../") {
                found.push(word.to_string());
            }
        }
        for path in found {
            let looks_like_a_path = !path.is_empty()
                && !path.contains(char::is_whitespace)
                && (path.starts_with('/')
                    || path.starts_with("./")
                    || path.starts_with("../")
                    || path.contains('/'));
            if looks_like_a_path && !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    paths.reverse();
    paths
}

/// For a guest that failed: a path it named that no granted folder holds, and the grant that
/// would (WF7002). `None` when it named none, or every one it named is granted.
fn path_note(said: &str, dirs: &[crate::host::grants::DirGrant]) -> Option<String> {
    let granted = |path: &str| {
        let p = std::path::Path::new(path);
        dirs.iter().any(|d| {
            let g = std::path::Path::new(&d.guest);
            d.guest == "." && p.is_relative() || p.starts_with(g)
        })
    };
    let path = failed_paths(said).into_iter().find(|p| !granted(p))?;
    let shown = wasmforge_build::text::Untrusted(&path);
    let as_given = std::path::Path::new(&path);
    if as_given.is_relative() {
        return Some(format!(
            "the guest failed on `{shown}`, a path relative to its current folder, and that folder is not granted: `--dir .` grants the current folder (`--dir-ro .` to read only)"
        ));
    }
    // Guest paths are host paths unless `--dir HOST::GUEST` says else: a path that is on this
    // machine is granted as it is (its folder); one that is not needs a host folder shown there.
    let untrusted = |p: &std::path::Path| {
        let text = p.display().to_string();
        wasmforge_build::diagnostics::shell_line(&[
            wasmforge_build::text::Untrusted(&text).to_string()
        ])
    };
    let none = if dirs.is_empty() {
        "no folder was granted, so it sees no files at all"
    } else {
        "no granted folder holds it"
    };
    Some(if as_given.is_dir() || as_given.is_file() {
        let folder = if as_given.is_dir() {
            as_given
        } else {
            as_given.parent().unwrap_or(as_given)
        };
        let folder = untrusted(folder);
        format!(
            "the guest failed on `{shown}`, and {none}: `--dir-ro {folder}` grants that folder to read (`--dir {folder}` to write too)"
        )
    } else {
        let folder = untrusted(as_given.parent().unwrap_or(as_given));
        format!(
            "the guest failed on `{shown}`, and {none}; it is not on this machine either: `--dir HOST_FOLDER::{folder}` shows a host folder there (`--dir-ro` to read only)"
        )
    })
}

/// Whether a module or component opens files by path (imports `path_open`, or WASI 0.2's
/// preopens): what a `--dir` grant is for.
fn opens_files(bytes: &[u8]) -> bool {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ImportSection(imports)) => {
                for import in imports.into_imports().flatten() {
                    if import.module == "wasi_snapshot_preview1" && import.name == "path_open" {
                        return true;
                    }
                }
            }
            Ok(Payload::ComponentImportSection(imports)) => {
                for import in imports.into_iter().flatten() {
                    if import.name.name.starts_with("wasi:filesystem/preopens") {
                        return true;
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// How every WF7001 hint begins.
const UNSUPPORTED_PREFIX: &str = "the guest tried to ";

/// What a trap's frames show the guest tried and WASI does not have (a Rust program's standard
/// library panics with "Unsupported", and the panic ends in a trap): the way out.
fn unsupported_in(backtrace: &str) -> Option<String> {
    let frames: Vec<String> = backtrace.lines().map(without_crate_hashes).collect();
    let called = |path: &str, calls: &[&str]| {
        frames
            .iter()
            .any(|f| f.contains(path) && calls.iter().any(|c| f.contains(c)))
    };
    if called("std::thread::", &["spawn"]) {
        Some(
            "the guest tried to start a thread, and WASI 0.1 and 0.2 have none (Rust's `thread::spawn` fails with `Unsupported`): run the work on the main thread — many programs have a single-threaded option (`-j1`, `--threads 1`) — or keep the threaded code out of the Wasm build (`#[cfg(not(target_os = \"wasi\"))]`); `wasm32-wasip1-threads` is not a way out here: wasmforge neither builds nor runs it (`wasmforge explain WF7001` says why)".into(),
        )
    } else if called("std::process::", &["spawn", "output", "status", "Command"]) {
        Some(
            "the guest tried to start a process, and WASI has no processes: keep that code out of the Wasm build (`#[cfg(not(target_os = \"wasi\"))]`), or have the host run the other program".into(),
        )
    } else if called("std::net::", &["connect", "bind"]) {
        Some(
            "the guest tried to open a socket: a wasip1 module cannot (WASI 0.1 has no socket calls); build for wasip2 and grant the address (`--allow-tcp HOST:PORT`)".into(),
        )
    } else {
        None
    }
}

/// Reports how the guest ended and picks the exit status. A guest wasmforge stopped (a trap or
/// a limit) is an error like any other: text on stderr, and the JSON error document.
fn finish(outcome: Outcome, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let stopped = |code: u8, message: String, backtrace: Option<String>, hint: Option<String>| {
        // A hint read from the frames is a coded note (WF7001); the host's own hints are not.
        let explain = hint
            .as_deref()
            .is_some_and(|h| h.starts_with(UNSUPPORTED_PREFIX))
            .then_some("WF7001");
        Err(GuestStopped {
            code,
            hint,
            explain,
            message,
            backtrace: backtrace
                .iter()
                .flat_map(|b| b.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.ends_with("backtrace:"))
                .map(without_crate_hashes)
                .collect(),
        }
        .into())
    };
    match outcome {
        // As a native program's: 0–255 as they are; anything else is a failure (1), not the
        // low byte (256 would read as success).
        Outcome::Exited(code) => Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1))),
        Outcome::ComponentResult(ok) => Ok(if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }),
        Outcome::Returned(values) => {
            let mut out = std::io::stdout().lock();
            match ctx.format {
                Format::Json => {
                    serde_json::to_writer_pretty(
                        &mut out,
                        &serde_json::json!({ "results": values }),
                    )?;
                    writeln!(out)?;
                }
                Format::Human => {
                    for value in &values {
                        writeln!(out, "{value}")?;
                    }
                }
            }
            out.flush()?;
            Ok(ExitStatus::Success)
        }
        Outcome::Trapped {
            message,
            backtrace,
            hint,
        } => {
            let hint = hint.or_else(|| backtrace.as_deref().and_then(unsupported_in));
            stopped(
                EXIT_TRAP,
                format!("the guest trapped: {message}"),
                backtrace,
                hint,
            )
        }
        Outcome::TimedOut(limit) => stopped(
            EXIT_TIMEOUT,
            format!(
                "the guest ran longer than --timeout {} and was stopped",
                format_duration(limit)
            ),
            None,
            None,
        ),
        Outcome::OutOfFuel(fuel) => stopped(
            EXIT_FUEL,
            format!("the guest used all its fuel (--fuel {fuel}) and was stopped"),
            None,
            None,
        ),
        Outcome::LimitHit(message) => stopped(
            EXIT_LIMIT,
            format!("{message}; the guest was stopped"),
            None,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::without_crate_hashes;

    #[test]
    fn backtrace_frames_lose_their_crate_hashes() {
        assert_eq!(
            without_crate_hashes(
                "3: 0x1f2e - std[a88812da5ee6ad9e]::panicking::begin_panic::<&str>"
            ),
            "3: 0x1f2e - std::panicking::begin_panic::<&str>"
        );
        assert_eq!(
            without_crate_hashes("5: 0x10 - app::main::h0123456789abcdef"),
            "5: 0x10 - app::main"
        );
        // What is not a hash stays.
        assert_eq!(
            without_crate_hashes("7: 0x1 - <[u8]>::len, hash::hasher"),
            "7: 0x1 - <[u8]>::len, hash::hasher"
        );
        assert_eq!(
            without_crate_hashes("1: 0x2 - alloc[0123456789abcdef]::vec::Vec<u8>"),
            "1: 0x2 - alloc::vec::Vec<u8>"
        );
    }
}
