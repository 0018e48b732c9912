//! The containerd shim: `wasmforge` answering to the name `containerd-shim-wasmforge-v1` (the
//! runtime `io.containerd.wasmforge.v1`), on runwasi's `containerd-shim-wasm` library.
//!
//! runwasi's library speaks containerd's shim protocol, reads the image's Wasm layers and makes
//! the container (namespaces, cgroup, mounts: youki's libcontainer). In the container's process
//! it calls [`Sandbox::run_wasi`], which runs the program exactly as `wasmforge run` (or, for a
//! `wasi:http` component, `wasmforge serve`) would, with the container's spec as the grants:
//!
//! - args and env are the process's (`ctr run IMAGE ID ARGS…`, `--env`);
//! - every folder mounted into the container is granted at its path (read-only mounts read-only),
//!   and nothing else: not the image's root folder, not /proc, /sys or /dev;
//! - the working folder is the guest's `.` (when it lies in a mount) and its `PWD`;
//! - the container's memory limit becomes `--max-memory` (less room for the host itself), so a
//!   guest that asks for too much is stopped with `run`'s message instead of killed by the kernel.
//!
//! Code is compiled outside the container, in the shim, through the compiled-code cache `run`
//! uses; runwasi keeps the result in containerd's content store, so later containers of the same
//! image only map it.

use std::hash::Hash;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Parser as _;
use containerd_shim_wasm::sandbox::Sandbox;
use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source, WasmLayer};
use containerd_shim_wasm::shim::{Cli as _, Compiler, Config, Shim, Version, version};

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;
use crate::host::{self, Limits};
use crate::output::Ctx;

use crate::commands::containerd::{DEFAULT_LISTEN, LISTEN_VAR, SHIM_BINARY as BINARY};

/// Set in the shim's environment: the shim starts itself again by its real path (`wasmforge`),
/// and that process must still act as the shim.
const MARK: &str = "WASMFORGE_CONTAINERD_SHIM";

/// Layer types read from a Wasm image (architecture `wasm`): the CNCF Wasm artifact's, and the
/// gzipped tar layer of a one-layer image (`push --layout image`), whose module is compiled ahead.
const LAYER_TYPES: &[&str] = &[
    "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
    wasmforge_registry::manifest::WASM_LAYER,
    wasmforge_registry::manifest::IMAGE_LAYER,
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/// Whether this process is the shim: started by that name, or started again by the shim.
pub fn invoked() -> bool {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    if Path::new(&argv0).file_name().and_then(|n| n.to_str()) == Some(BINARY) {
        mark_environment();
        return true;
    }
    // containerd's own flags are Go style (`-namespace`, `-id`, `-address`); none of
    // wasmforge's commands starts with one.
    std::env::var_os(MARK).is_some_and(|v| v == "1")
        && args
            .next()
            .is_some_and(|a| a.to_string_lossy().starts_with('-'))
}

#[expect(
    unsafe_code,
    reason = "setting a variable is unsafe once threads exist; this runs first thing in main"
)]
fn mark_environment() {
    // SAFETY: called first thing in main, before any thread exists.
    unsafe { std::env::set_var(MARK, "1") };
}

/// Runs the shim (containerd's `start`, `delete`, the ttrpc server); does not return.
pub fn main() -> ! {
    WasmforgeShim::run(Config {
        default_log_level: "info".into(),
        ..Config::default()
    });
    std::process::exit(0)
}

struct WasmforgeShim;

impl Shim for WasmforgeShim {
    fn name() -> &'static str {
        "wasmforge"
    }

    fn version() -> Version {
        version!()
    }

    type Sandbox = WasmforgeSandbox;

    #[allow(refining_impl_trait)]
    async fn compiler() -> Option<CacheCompiler> {
        Some(CacheCompiler)
    }

    fn supported_layers_types() -> &'static [&'static str] {
        LAYER_TYPES
    }
}

/// Compiles in the shim (outside the container) through `run`'s compiled-code cache.
struct CacheCompiler;

impl Compiler for CacheCompiler {
    fn cache_key(&self) -> impl Hash {
        (env!("CARGO_PKG_VERSION"), BUILD_ID.as_str(), CPU.as_str())
    }

    async fn compile(&self, layers: &[WasmLayer]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        Ok(layers
            .iter()
            .map(|layer| match precompile_layer(layer) {
                Ok(code) => code,
                Err(err) => {
                    log::warn!(
                        "wasmforge: not compiled ahead ({err:#}); the container compiles it"
                    );
                    None
                }
            })
            .collect())
    }
}

/// The host CPU's features Cranelift compiles for (what Wasmtime's compatibility check reads
/// besides the engine's settings, which are this binary's): read without making an engine, so a
/// shim that compiles nothing never loads the compiler.
static CPU: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    #[allow(unused_mut)]
    let mut features = vec![std::env::consts::ARCH.to_string()];
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! detect {
            ($($f:tt),*) => {
                $(if std::arch::is_x86_feature_detected!($f) { features.push($f.to_string()); })*
            };
        }
        detect!(
            "sse3",
            "ssse3",
            "sse4.1",
            "sse4.2",
            "popcnt",
            "avx",
            "avx2",
            "bmi1",
            "bmi2",
            "lzcnt",
            "fma",
            "avx512f",
            "avx512vl",
            "avx512dq",
            "avx512vbmi",
            "avx512bitalg",
            "cmpxchg16b"
        );
    }
    features.join(",")
});

/// What identifies this binary's code generation: its own size and modification time (a
/// rebuilt wasmforge compiles again rather than trusting another build's code).
static BUILD_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("{}-{modified}", m.len())
        })
        .unwrap_or_default()
});

/// The code of one layer compiled ahead, framed with where it came from ([`Framed`]); `None`
/// for a layer this shim does not compile ahead (a tar holding more than one module).
fn precompile_layer(layer: &WasmLayer) -> anyhow::Result<Option<Vec<u8>>> {
    let media_type = layer.config.media_type().to_string();
    let (path, bytes) = if is_tar(&media_type) {
        // The image's one module (decompressed within a bound); a layer of several is not
        // compiled ahead: the container reads the one it names from its root.
        let (path, bytes) = wasmforge_registry::manifest::module_in_image_layer(
            &layer.layer,
            "the image",
            MAX_MODULE,
        )?;
        (
            format!("/{}", path.trim_start_matches("./").trim_start_matches('/')),
            bytes,
        )
    } else {
        (String::new(), layer.layer.clone())
    };
    if wasmtime::Engine::detect_precompiled(&bytes).is_some() {
        return Ok(None);
    }
    let label = PathBuf::from(if path.is_empty() { "layer.wasm" } else { &path });
    let bytes = crate::commands::parse_input(&label, bytes)?;
    let http = wasmparser::Parser::is_component(&bytes)
        && wasmforge_build::wasm::inspect::http_handler_export(&bytes).is_some();
    let engine = if http {
        host::http::engine(&Limits::default(), 1, 1)?
    } else {
        host::engine(&Limits::default())?
    };
    let encoding = wasmforge_build::artifact::Encoding::of(&bytes, &label)?;
    let (loaded, event) = host::cache::load_or_compile(&engine, &bytes, encoding, true, &|m| {
        log::warn!("wasmforge: {m}");
    })?;
    log::info!(
        "wasmforge: compiled {} ({})",
        label.display(),
        event.describe()
    );
    let code = match loaded {
        host::Loaded::Module(module) => module.serialize(),
        host::Loaded::Component(component) => component.serialize(),
    }?;
    Ok(Some(Framed { path, http, code }.encode()))
}

/// Code compiled ahead by the shim: the path of the module in the image (empty for a Wasm
/// layer), whether it is an HTTP component, and Wasmtime's code.
struct Framed {
    path: String,
    http: bool,
    code: Vec<u8>,
}

const FRAME_MAGIC: &[u8; 8] = b"wfshim1\0";

impl Framed {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.code.len() + self.path.len() + 13);
        out.extend_from_slice(FRAME_MAGIC);
        out.push(u8::from(self.http));
        out.extend_from_slice(&(self.path.len() as u32).to_le_bytes());
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(&self.code);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Framed> {
        let rest = bytes.strip_prefix(FRAME_MAGIC.as_slice())?;
        let (&http, rest) = rest.split_first()?;
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let path = std::str::from_utf8(rest.get(4..4 + len)?).ok()?.to_string();
        let code = rest.get(4 + len..)?.to_vec();
        wasmtime::Engine::detect_precompiled(&code)?;
        Some(Framed {
            path,
            http: http == 1,
            code,
        })
    }
}

fn is_tar(media_type: &str) -> bool {
    media_type.contains(".tar") || media_type.ends_with("tar")
}

/// The most a module read from a layer or the container's root may be (untrusted sizes).
const MAX_MODULE: u64 = wasmforge_registry::DEFAULT_MAX_SIZE;

#[derive(Default)]
struct WasmforgeSandbox;

impl Sandbox for WasmforgeSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> anyhow::Result<i32> {
        // What stops the program before it starts is said on the container's stderr (where
        // `ctr run` and `kubectl logs` show it), not only in containerd's log; exit 1 as `run`.
        let container = Container::read(ctx);
        let program = match container.program(ctx) {
            Ok(program) => program,
            Err(err) => return Ok(report(&err)),
        };
        // The runtime runwasi calls this on must not be the one the guest's host runs on
        // (wasmtime-wasi blocks on its own): the guest gets a thread of its own.
        let code = std::thread::Builder::new()
            .name("guest".into())
            .spawn(move || run_in_container(&container, program))?
            .join()
            .unwrap_or(101);
        Ok(code)
    }

    async fn can_handle(&self, _ctx: &impl RuntimeContext) -> anyhow::Result<()> {
        // Whatever is wrong is said by `run_wasi` on the container's stderr, as `run` says it.
        Ok(())
    }
}

/// What the container's process sees: its spec's args and env, its working folder, the folders
/// mounted into it, and its memory limit.
#[derive(Debug)]
struct Container {
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: PathBuf,
    mounts: Vec<Mount>,
    memory_limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    path: PathBuf,
    read_only: bool,
}

/// The program a container runs.
struct Program {
    /// The entrypoint as named (`/hello.wasm`): the guest's argv[0] and the name in messages.
    path: PathBuf,
    bytes: Vec<u8>,
    http: bool,
    /// `IMAGE ID /app.wasm#func`: call this export instead.
    invoke: Option<String>,
}

impl Container {
    fn read(ctx: &impl RuntimeContext) -> Container {
        let env = ctx
            .envs()
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Container {
            args: ctx.args().to_vec(),
            env,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            mounts: mounts(&mountinfo, |p| p.is_dir()),
            memory_limit: memory_limit(),
        }
    }

    fn program(&self, ctx: &impl RuntimeContext) -> anyhow::Result<Program> {
        let entry = ctx.entrypoint();
        let arg0 = self.args.first().map(String::as_str).unwrap_or("");
        let (named, func) = match arg0.split_once('#') {
            Some((path, func)) => (path, Some(func.to_string())),
            None => (arg0, None),
        };
        let invoke = func.filter(|f| !f.is_empty() && f != "_start");
        let named = (!named.is_empty()).then(|| self.absolute(Path::new(named)));
        let from_file = |named: &Option<PathBuf>| -> anyhow::Result<Program> {
            let Some(path) = named.clone() else {
                bail!(
                    "the container names no program: give the module's path as the command (`ctr run IMAGE ID /app.wasm ARGS…`) or set the image's entrypoint"
                );
            };
            let bytes = read_bounded(&path)?;
            let http = is_http(&bytes);
            Ok(Program {
                path,
                bytes,
                http,
                invoke: invoke.clone(),
            })
        };
        match entry.source {
            Source::File(_) => from_file(&named),
            Source::Oci([layer]) => {
                if layer.precompiled
                    && let Some(framed) = Framed::decode(&layer.layer)
                {
                    let compiled_from =
                        (!framed.path.is_empty()).then(|| PathBuf::from(&framed.path));
                    // A tar's module is used compiled only when it is the one the container runs.
                    if compiled_from.is_none() || named.is_none() || compiled_from == named {
                        return Ok(Program {
                            path: named.or(compiled_from).unwrap_or_else(|| title(layer)),
                            bytes: framed.code,
                            http: framed.http,
                            invoke,
                        });
                    }
                    return from_file(&named);
                }
                if is_tar(layer.config.media_type().as_ref()) {
                    // Unpacked into the container's root folder by containerd.
                    return from_file(&named);
                }
                let bytes = layer.layer.clone();
                let http = is_http(&bytes);
                Ok(Program {
                    path: named.unwrap_or_else(|| title(layer)),
                    bytes,
                    http,
                    invoke,
                })
            }
            Source::Oci(layers) => bail!(
                "the image has {} Wasm layers: wasmforge runs one module or component per container (an app of several services is served with `wasmforge serve`)",
                layers.len()
            ),
        }
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        }
    }

    /// The grants and limits as `run`/`serve` flags.
    fn flags(&self) -> anyhow::Result<Vec<String>> {
        let mut flags = Vec::new();
        for mount in &self.mounts {
            let path = mount.path.to_str().context("a mount's path is not UTF-8")?;
            if path.contains("::") {
                bail!(
                    "the mount `{path}` has `::` in its path, which wasmforge's grants cannot name"
                );
            }
            flags.push(if mount.read_only { "--dir-ro" } else { "--dir" }.to_string());
            flags.push(format!("{path}::{path}"));
        }
        // The working folder: the guest's `.` when it lies in a mount, and its PWD.
        if self.cwd != Path::new("/")
            && let Some(mount) = self
                .mounts
                .iter()
                .filter(|m| self.cwd.starts_with(&m.path))
                .max_by_key(|m| m.path.as_os_str().len())
            && let Some(cwd) = self.cwd.to_str()
            && !cwd.contains("::")
        {
            flags.push(if mount.read_only { "--dir-ro" } else { "--dir" }.to_string());
            flags.push(format!("{cwd}::."));
        }
        let mut has_pwd = false;
        for (key, value) in &self.env {
            if key == LISTEN_VAR {
                continue;
            }
            has_pwd |= key == "PWD";
            flags.push("--env".into());
            flags.push(format!("{key}={value}"));
        }
        if !has_pwd && let Some(cwd) = self.cwd.to_str() {
            flags.push("--env".into());
            flags.push(format!("PWD={cwd}"));
        }
        if let Some(max) = self.memory_limit.map(guest_memory) {
            flags.push("--max-memory".into());
            flags.push(max.to_string());
        }
        Ok(flags)
    }

    fn listen(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == LISTEN_VAR)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
    }
}

/// The layer's title annotation as a path, else `/module.wasm`.
fn title(layer: &WasmLayer) -> PathBuf {
    let name = layer
        .config
        .annotations()
        .as_ref()
        .and_then(|a| a.get("org.opencontainers.image.title"))
        .filter(|t| !t.is_empty() && !t.contains('/'))
        .cloned()
        .unwrap_or_else(|| "module.wasm".into());
    PathBuf::from("/").join(name)
}

fn is_http(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
        && wasmforge_build::wasm::inspect::http_handler_export(bytes).is_some()
}

fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| {
        anyhow::anyhow!(
            "could not read the container's program `{}`: {e}",
            path.display()
        )
    })?;
    Ok(wasmforge_registry::read_bounded(
        file,
        MAX_MODULE,
        &path.display().to_string(),
    )?)
}

/// The folders mounted into the container, from `/proc/self/mountinfo`: everything but the root
/// folder and the kernel's own (/proc, /sys, /dev), directories only (not the single files a
/// runtime mounts, such as /etc/resolv.conf). A folder mounted twice counts as its last mount.
fn mounts(mountinfo: &str, is_dir: impl Fn(&Path) -> bool) -> Vec<Mount> {
    let mut found: Vec<Mount> = Vec::new();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(point), Some(options)) = (fields.get(4), fields.get(5)) else {
            continue;
        };
        let fstype = fields
            .iter()
            .position(|f| *f == "-")
            .and_then(|i| fields.get(i + 1))
            .copied()
            .unwrap_or("");
        let path = PathBuf::from(unescape_mountinfo(point));
        if path == Path::new("/")
            || ["/proc", "/sys", "/dev"]
                .iter()
                .any(|system| path.starts_with(system))
            // The runtime's own scratch folder (containerd's default spec mounts a tmpfs there).
            || (path == Path::new("/run") && fstype == "tmpfs")
            || !is_dir(&path)
        {
            continue;
        }
        let read_only = options.split(',').any(|o| o == "ro");
        found.retain(|m| m.path != path);
        found.push(Mount { path, read_only });
    }
    found
}

/// mountinfo writes space, tab, newline and backslash as `\ooo` octal escapes.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value =
                (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The container's memory limit, from its cgroup (v2 `memory.max`, v1
/// `memory.limit_in_bytes`), read where the container sees its cgroup folder.
fn memory_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut candidates: Vec<PathBuf> = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            candidates.push(Path::new("/sys/fs/cgroup").join(path).join("memory.max"));
            candidates.push(PathBuf::from("/sys/fs/cgroup/memory.max"));
        } else if controllers.split(',').any(|c| c == "memory") {
            candidates.push(
                Path::new("/sys/fs/cgroup/memory")
                    .join(path)
                    .join("memory.limit_in_bytes"),
            );
            candidates.push(PathBuf::from("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
        }
    }
    candidates
        .iter()
        .find_map(|p| parse_limit(&std::fs::read_to_string(p).ok()?))
}

/// A cgroup memory limit: `max` and v1's "no limit" (a page-rounded 2^63) are none.
fn parse_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < 1 << 62).then_some(value)
}

/// What the guest may have of a container's memory: the host (Wasmtime, the compiled code,
/// buffers) needs some of it, or the kernel would kill the container before `--max-memory`
/// stops the guest with a message. A quarter is kept, at least 16 MiB and at most 64 MiB.
fn guest_memory(limit: u64) -> u64 {
    let room = (limit / 4).clamp(16 << 20, 64 << 20);
    limit.saturating_sub(room).max(limit / 2)
}

/// Runs the program as `run` (or `serve`) would; returns the process's exit code.
fn run_in_container(container: &Container, program: Program) -> i32 {
    let mut argv: Vec<String> = vec!["wasmforge".into()];
    let flags = match container.flags() {
        Ok(flags) => flags,
        Err(err) => return report(&err),
    };
    let path = program.path.display().to_string();
    // No cache inside the container: its folder is not the host's (the shim compiled ahead
    // through the host's), and nothing may be written into the container's root.
    if program.http {
        argv.extend([
            "serve".to_string(),
            "--no-cache".into(),
            "--addr".into(),
            container.listen(),
        ]);
        argv.extend(flags);
        argv.push(path.clone());
    } else {
        argv.extend([
            "run".to_string(),
            "--no-cache".into(),
            "--allow-precompiled".into(),
        ]);
        if let Some(func) = &program.invoke {
            argv.extend(["--invoke".to_string(), func.clone()]);
        }
        argv.extend(flags);
        argv.push(path.clone());
        argv.extend(container.args.iter().skip(1).cloned());
    }
    // The equivalent command line, for containerd's log: without the env's values (secrets).
    let shown: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, a)| match a.split_once('=') {
            Some((key, _)) if i > 0 && argv[i - 1] == "--env" => format!("{key}=…"),
            _ => a.clone(),
        })
        .collect();
    log::info!("wasmforge: {}", shown.join(" "));
    // From here on only warnings reach containerd's log: the libraries' info events (a line per
    // WASI call) would slow the guest down and fill the log.
    log::set_max_level(log::LevelFilter::Warn);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return i32::from(ExitStatus::Usage.code());
        }
    };
    let ctx = Ctx::new(&cli.global);
    if !program.http {
        stop_on_signals();
    }
    let result = match cli.command {
        Command::Run(args) => {
            crate::commands::run::run_bytes(args, program.path, program.bytes, &ctx)
        }
        Command::Serve(args) => {
            crate::commands::serve::serve_bytes(args, &program.path, program.bytes, &ctx)
        }
        _ => unreachable!("the shim builds a run or serve command line"),
    };
    let status = match result {
        Ok(status) => status,
        Err(err) => crate::output::report_error(&ctx, &err),
    };
    i32::from(status.code())
}

fn report(err: &anyhow::Error) -> i32 {
    eprintln!("error: {err:#}");
    1
}

/// The container's process is its PID namespace's first, which the kernel sends no signal its
/// program does not handle: SIGTERM and SIGINT (`ctr task kill`) end a running guest as they end
/// a native program (exit 128 + the signal).
fn stop_on_signals() {
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                let code = tokio::select! {
                    _ = term.recv() => 128 + 15,
                    _ = int.recv() => 128 + 2,
                };
                std::process::exit(code);
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 0:21 / / rw,relatime - overlay overlay rw
23 22 0:22 / /proc rw,nosuid - proc proc rw
24 22 0:23 / /dev rw,nosuid - tmpfs tmpfs rw
25 24 0:24 / /dev/pts rw - devpts devpts rw
26 22 0:25 / /sys ro - sysfs sysfs ro
27 26 0:26 / /sys/fs/cgroup ro - cgroup cgroup ro
28 22 0:27 / /run rw,nosuid - tmpfs tmpfs rw
30 22 8:1 /srv/data /data rw,relatime - ext4 /dev/vda rw
31 22 8:1 /srv/conf /etc/app ro,relatime - ext4 /dev/vda rw
32 22 8:1 /srv/odd /with\\040space rw - ext4 /dev/vda rw
33 22 8:1 /etc/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw
34 22 8:1 /srv/data2 /data ro - ext4 /dev/vda rw
";

    #[test]
    fn mounts_are_the_folders_mounted_in_not_the_kernels() {
        let found = mounts(MOUNTINFO, |p| p != Path::new("/etc/resolv.conf"));
        assert_eq!(
            found,
            vec![
                Mount {
                    path: "/etc/app".into(),
                    read_only: true
                },
                Mount {
                    path: "/with space".into(),
                    read_only: false
                },
                // Mounted twice: the last mount is the one seen.
                Mount {
                    path: "/data".into(),
                    read_only: true
                },
            ]
        );
    }

    #[test]
    fn the_spec_becomes_runs_flags() {
        let container = Container {
            args: vec!["/app.wasm".into(), "x".into()],
            env: vec![
                ("TOKEN".into(), "s3cret=yes".into()),
                (LISTEN_VAR.into(), "127.0.0.1:9000".into()),
            ],
            cwd: PathBuf::from("/data/work"),
            mounts: vec![
                Mount {
                    path: "/data".into(),
                    read_only: true,
                },
                Mount {
                    path: "/scratch".into(),
                    read_only: false,
                },
            ],
            memory_limit: Some(64 << 20),
        };
        let flags = container.flags().expect("flags");
        assert_eq!(
            flags,
            [
                "--dir-ro",
                "/data::/data",
                "--dir",
                "/scratch::/scratch",
                "--dir-ro",
                "/data/work::.",
                "--env",
                "TOKEN=s3cret=yes",
                "--env",
                "PWD=/data/work",
                "--max-memory",
                "50331648",
            ]
        );
        assert_eq!(container.listen(), "127.0.0.1:9000");
    }

    #[test]
    fn cgroup_limits_and_the_guests_share() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("67108864\n"), Some(64 << 20));
        assert_eq!(guest_memory(64 << 20), 48 << 20);
        assert_eq!(guest_memory(1 << 30), (1 << 30) - (64 << 20));
        assert_eq!(guest_memory(20 << 20), 10 << 20);
    }

    #[test]
    fn framed_code_round_trips_and_refuses_anything_else() {
        let engine = host::engine(&Limits::default()).expect("engine");
        let code = engine
            .precompile_module(&wat::parse_str("(module)").expect("wat"))
            .expect("compile");
        let framed = Framed {
            path: "/hello.wasm".into(),
            http: false,
            code: code.clone(),
        }
        .encode();
        let back = Framed::decode(&framed).expect("decodes");
        assert_eq!(
            (back.path.as_str(), back.http, back.code),
            ("/hello.wasm", false, code)
        );
        assert!(Framed::decode(b"\0asm\x01\0\0\0").is_none());
        // The frame's payload must be Wasmtime's code.
        let mut bad = FRAME_MAGIC.to_vec();
        bad.extend_from_slice(&[0, 0, 0, 0, 0]);
        bad.extend_from_slice(b"\0asm\x01\0\0\0");
        assert!(Framed::decode(&bad).is_none());
    }
}
