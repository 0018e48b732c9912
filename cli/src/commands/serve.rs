//! `wasmforge serve`: serve a `wasi:http/proxy` component on a local address.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmforge_build::{BuildOptions, Profile, Target};

use super::flags::{GrantArgs, HttpArgs, LimitArgs, TargetArgs};
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::http::{self, AccessLog, App, Server, Settings, Signals};
use crate::host::{self, HostError, limits};
use crate::output::Ctx;
use crate::reporter::TermReporter;

/// Serve an HTTP component (WASI 0.2 `wasi:http/proxy`) on a local address
///
/// TARGET is a component (.wasm), a project folder (built first, release, for wasip2 unless
/// its wasmforge.toml names a target), or an OCI reference (pulled first). Each request gets a
/// fresh instance of the component, with nothing granted unless asked: no files, no
/// environment variables, no outgoing HTTP.
///
/// A folder whose wasmforge.toml lists `[[app.service]]` (or a pushed app's reference) is an
/// app: every service built and served here, each on its route (the prefix removed) with its
/// own grants and limits; a service calls another at http://NAME.internal/ in-process, when its
/// `calls` allow it (else 403; a chain past `[app] max-call-depth` gets 508).
///
/// Limits apply to each request: one that runs past --timeout gets 504, one that uses all its
/// --fuel or passes --max-memory (or traps) gets 500; the server stays up. A guest that fails
/// after it has sent its response's head has its response cut (the client sees an incomplete
/// body) and is logged as the failure it is. Up to --max-concurrency requests run at once, up
/// to --max-queued more wait for a slot, and past that a request gets 503 with Retry-After.
///
/// Clients cannot hold the server: a request head must arrive within --header-timeout, an idle
/// connection is closed after --idle-timeout, and open connections are limited by the file-
/// descriptor limit (past it, 503). A request whose client leaves is stopped.
///
/// One line per request is logged on stderr when its response has ended (JSON Lines on stdout
/// with --format json) unless --quiet (then only the URL is printed, on stdout). Ctrl-C, SIGTERM
/// or SIGHUP stops accepting, closes idle connections, and gives the requests in flight
/// --shutdown-timeout to finish: exit 0 when they all did, 1 when some were abandoned at its end,
/// 130 when a second signal abandoned them.
///
/// Examples:
///   wasmforge serve                              the project in this folder, on 127.0.0.1:8080
///   wasmforge serve app.wasm --addr 127.0.0.1:0  any free port (printed)
///   wasmforge serve ghcr.io/acme/api:1.0 --allow-http api.github.com --env TOKEN=…
///   wasmforge serve app.wasm --timeout 2s --max-memory 64MiB --max-concurrency 16
///   wasmforge serve shop                         an app: its services on one address
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A component (.wasm), a project or app folder, or an OCI reference
    #[arg(value_name = "TARGET", default_value = ".")]
    target: PathBuf,

    #[command(flatten)]
    serve: ServeArgs,

    /// With a project folder: what to build
    #[command(flatten)]
    build_target: TargetArgs,

    /// With a project folder: build with the dev profile instead of release
    #[arg(long)]
    debug: bool,

    /// With a project folder: the binary to serve
    #[arg(long, value_name = "NAME")]
    bin: Option<String>,

    /// With a project folder: the package to serve
    #[arg(short, long = "package", value_name = "SPEC")]
    package: Option<String>,
}

/// The options `serve` and `dev` share: where, how many, grants and limits.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed when serving)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,

    /// Requests handled at once (an instance each; at most 10000, and what the address space
    /// holds); more wait for a free slot
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrency: u32,

    /// Requests that may wait for a slot (at most 100000); past them a request gets 503 with
    /// Retry-After
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub max_queued: u32,

    #[command(flatten)]
    pub grants: GrantArgs,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Close a connection whose client takes longer than this to send a request's head (at
    /// most 1h)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = limits::parse_server_wait)]
    pub header_timeout: Duration,

    /// Close a connection that has had no request for this long (at most 1h)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = limits::parse_server_wait)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, how long requests in flight may take to finish before they are
    /// abandoned (at most 1h)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = limits::parse_server_wait)]
    pub shutdown_timeout: Duration,

    /// Compile afresh instead of using (and filling) the compiled-code cache
    #[arg(long)]
    pub no_cache: bool,
}

impl ServeArgs {
    pub fn settings(&self, ctx: &Ctx) -> anyhow::Result<Settings> {
        let grants = self.grants.grants()?;
        // Folders that do not exist are refused here, not at every request.
        grants.builder(&[], crate::host::grants::Blocking::OffTheExecutor)?;
        Ok(Settings {
            grants,
            allow_http: self.http.allow_http.clone(),
            limits: self.limits.limits(),
            max_concurrency: self.max_concurrency,
            max_queued: self.max_queued,
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            shutdown_timeout: self.shutdown_timeout,
            max_connections: 0,
            log: if ctx.format == Format::Json {
                AccessLog::Json
            } else if ctx.quiet {
                AccessLog::Off
            } else {
                AccessLog::Text
            },
        })
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if args.target.is_dir()
        && let Some(app) = super::app::load(&args.target)?
    {
        refuse_project_flags(
            args.build_target.target.is_some(),
            args.bin.is_some(),
            args.package.is_some(),
        )?;
        let profile = if args.debug {
            Profile::Dev
        } else {
            Profile::Release
        };
        let (server, _) = super::app::server(&app, &args.serve, profile, ctx)?;
        return serve_until_stopped(server, &args.serve.addr, ctx, |_| {});
    }
    // What the flags ask for (the address space for the slots, descriptors for connections) is
    // checked before anything is built or pulled.
    let mut settings = args.serve.settings(ctx)?;
    let engine = http::engine(&settings.limits, settings.max_concurrency, 1)?;
    settings.max_connections = http::connection_limit(&settings)?;
    let path = if args.target.is_dir() {
        let profile = if args.debug {
            Profile::Dev
        } else {
            Profile::Release
        };
        let built = build_project(
            &args.target,
            args.build_target.target,
            Some(Target::Wasip2),
            profile,
            args.package.as_deref(),
            args.bin.as_deref(),
            ctx,
        )?;
        built.path
    } else if let Some(reference) = super::run::as_reference(&args.target) {
        match super::run::pull_any_to_cache(&reference, ctx)? {
            super::run::PulledTo::Module(path) => path,
            // An app: every service pulled, digests verified; served as its folder would be.
            super::run::PulledTo::App { config, components } => {
                let (app, asked) =
                    super::app::pulled(&config, &components, &reference.to_string())?;
                for line in &asked {
                    ctx.warning(line);
                }
                let (server, _) = super::app::server(&app, &args.serve, Profile::Release, ctx)?;
                return serve_until_stopped(server, &args.serve.addr, ctx, |_| {});
            }
        }
    } else {
        args.target.clone()
    };
    if !path.exists() {
        return Err(wasmforge_build::Error::NoSuchFile {
            did_you_mean: super::run::did_you_mean(&path),
            path,
        }
        .into());
    }
    let app = load_app(&engine, &path, &settings, !args.serve.no_cache, None, ctx)?;
    let server = Server::new(engine, app, settings);
    serve_until_stopped(server, &args.serve.addr, ctx, |_| {})
}

/// Serves the component `raw` (named by `path`; compiled code accepted) with `args`' settings:
/// the containerd shim's HTTP containers.
pub fn serve_bytes(args: Args, path: &Path, raw: Vec<u8>, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut settings = args.serve.settings(ctx)?;
    let engine = http::engine(&settings.limits, settings.max_concurrency, 1)?;
    settings.max_connections = http::connection_limit(&settings)?;
    let app = load_app_bytes(&engine, path, raw, &settings, false, true, None, ctx)?;
    let server = Server::new(engine, app, settings);
    serve_until_stopped(server, &args.serve.addr, ctx, |_| {})
}

/// `--target`, `--bin` and `-p` choose what a project builds; an app's services are projects of
/// their own (each with its wasmforge.toml).
pub fn refuse_project_flags(target: bool, bin: bool, package: bool) -> anyhow::Result<()> {
    let given: Vec<&str> = [(target, "--target"), (bin, "--bin"), (package, "--package")]
        .into_iter()
        .filter_map(|(set, flag)| set.then_some(flag))
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(crate::exit::UsageError {
        message: format!(
            "{} choose what one project builds, and this folder is an app (`[[app.service]]`)",
            given.join(", ")
        ),
        hint: "set what a service builds in its own project's wasmforge.toml (`[package] target`),                or serve the service's folder alone"
            .into(),
    }
    .into())
}

/// What a project build gave `serve` or `dev`: the artifact and whether it is an HTTP component.
#[derive(Debug)]
pub struct Built {
    pub path: PathBuf,
    pub http: bool,
}

/// Builds a project for serving: for `target`, else the project's, else `default_target` (`serve`:
/// wasip2), and of several artifacts the one HTTP component.
pub fn build_project(
    dir: &Path,
    target: Option<Target>,
    default_target: Option<Target>,
    profile: Profile,
    package: Option<&str>,
    bin: Option<&str>,
    ctx: &Ctx,
) -> anyhow::Result<Built> {
    let mut options = BuildOptions::new(dir);
    let configured = wasmforge_build::lang::load_config(dir)
        .ok()
        .and_then(|c| c.package.target);
    options.target = target.or(configured).or(default_target);
    options.profile = profile;
    options.packages = package.iter().map(|p| p.to_string()).collect();
    options.bins = bin.iter().map(|b| b.to_string()).collect();
    options.color = ctx.color_stderr;
    options.quiet = true;
    let reporter = TermReporter::new(ctx);
    let output = wasmforge_build::build(&options, &reporter)?;
    let mut built: Vec<Built> = output
        .artifacts
        .into_iter()
        .map(|a| Built {
            // A Rust bin on wstd is named `wasi:http/proxy` by the build; a C project's world
            // includes it under a name of its own: the export says it either way.
            http: a
                .world
                .as_deref()
                .is_some_and(|w| w.starts_with("wasi:http/proxy@"))
                || (a.encoding == wasmforge_build::artifact::Encoding::Component
                    && std::fs::read(&a.path).is_ok_and(|bytes| {
                        wasmforge_build::wasm::inspect::http_handler_export(&bytes).is_some()
                    })),
            path: a.path,
        })
        .collect();
    if built.len() > 1 && built.iter().filter(|b| b.http).count() == 1 {
        built.retain(|b| b.http);
    }
    match built.len() {
        1 => Ok(built.remove(0)),
        0 => Err(crate::exit::UsageError {
            message: "the project builds nothing to serve".into(),
            hint: "an HTTP component is a wasip2 binary of the `wasi:http/proxy` world; start one \
                   with `wasmforge new NAME --lang rust --kind http`"
                .into(),
        }
        .into()),
        n => Err(crate::exit::UsageError {
            message: format!(
                "the project builds {n} modules: {}",
                built
                    .iter()
                    .map(|b| format!("`{}`", b.path.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "choose one with --bin NAME or -p PACKAGE".into(),
        }
        .into()),
    }
}

/// Components already loaded, by the sha256 of their bytes: services of an app built from the
/// same component share its compiled code (one mapping, not one per service).
pub type Loaded = std::collections::HashMap<String, wasmtime::component::Component>;

/// Reads, compiles (or loads from the cache, or takes from `loaded`) and links a component for
/// serving.
pub fn load_app(
    engine: &wasmtime::Engine,
    path: &Path,
    settings: &Settings,
    cache: bool,
    loaded: Option<&mut Loaded>,
    ctx: &Ctx,
) -> anyhow::Result<App> {
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("could not read `{}`: {e}", path.display()))?;
    load_app_bytes(engine, path, raw, settings, cache, false, loaded, ctx)
}

/// [`load_app`] for bytes at hand (`path` names them); compiled code is accepted when
/// `allow_precompiled` (the containerd shim's, compiled outside the container).
#[allow(clippy::too_many_arguments)]
pub fn load_app_bytes(
    engine: &wasmtime::Engine,
    path: &Path,
    raw: Vec<u8>,
    settings: &Settings,
    cache: bool,
    allow_precompiled: bool,
    loaded: Option<&mut Loaded>,
    ctx: &Ctx,
) -> anyhow::Result<App> {
    let precompiled = allow_precompiled && wasmtime::Engine::detect_precompiled(&raw).is_some();
    let bytes = if precompiled {
        raw
    } else {
        super::parse_input(path, raw)?
    };
    if let Some(max) = settings.limits.max_memory
        && !precompiled
    {
        limits::check_initial_memory(&bytes, max, path)?;
    }
    let name = path.display().to_string();
    let digest = loaded
        .is_some()
        .then(|| wasmforge_build::files::sha256_hex(&bytes));
    if let (Some(memo), Some(digest)) = (&loaded, &digest)
        && let Some(component) = memo.get(digest)
    {
        return App::new(engine, component, &name);
    }
    let (found, event) = host::load(engine, path, &bytes, cache, allow_precompiled, &|m| {
        ctx.warning(m)
    })?;
    if ctx.verbose > 0 {
        anstream::eprintln!(
            "{}      Loaded {} ({}){:#}",
            crate::output::DIM,
            path.display(),
            event.describe(),
            crate::output::DIM
        );
    }
    match found {
        host::Loaded::Component(component) => {
            let app = App::new(engine, &component, &name)?;
            if let (Some(memo), Some(digest)) = (loaded, digest) {
                memo.insert(digest, component);
            }
            Ok(app)
        }
        host::Loaded::Module(_) => Err(HostError::NotHttp {
            name,
            world: "a core module (WASI preview 1), not a component: HTTP components are WASI 0.2 \
                    components built for wasm32-wasip2"
                .into(),
            command: false,
        }
        .into()),
    }
}

/// Runs the server on a runtime of its own until Ctrl-C or SIGTERM: checks the component
/// instantiates, binds, announces the address, serves, and shuts down gracefully. `started`
/// runs once the server listens (`dev` starts watching there), with the runtime's handle.
pub fn serve_until_stopped(
    server: Arc<Server>,
    addr: &str,
    ctx: &Ctx,
    started: impl FnOnce(&tokio::runtime::Handle),
) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("could not start the async runtime: {e}"))?;
    let handle = runtime.handle().clone();
    let result = runtime.block_on(async {
        let mut signals = Signals::new()?;
        server.check_current().await?;
        let addr = if addr.starts_with(':') {
            format!("127.0.0.1{addr}")
        } else {
            addr.to_string()
        };
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| bind_error(&addr, &e))?;
        let local = listener.local_addr()?;
        let url = format!("http://{local}/");
        announce_listening(ctx, &url, &server);
        started(&handle);
        let stopped = http::serve(Arc::clone(&server), listener, &mut signals).await?;
        Ok(announce_stopped(ctx, &url, &stopped))
    });
    // Whatever a guest left behind in the runtime's blocking pool (a read that never ends) does
    // not hold the exit.
    runtime.shutdown_background();
    result
}

fn announce_listening(ctx: &Ctx, url: &str, server: &Server) {
    if ctx.format == Format::Json {
        http::json_line(&serde_json::json!({ "event": "listening", "url": url }));
    } else if ctx.quiet {
        // Quiet, but where it listens is still said (with port 0 nothing else tells): the URL
        // alone, on stdout.
        println!("{url}");
    } else {
        ctx.status(
            "Serving",
            &format!("{url} ({}) · Ctrl-C to stop", server.label()),
        );
    }
}

/// Says how the server stopped — that requests were abandoned when they were — and picks the
/// exit status: 0 when every request in flight finished, 130 after a second signal, 1 when
/// `--shutdown-timeout` cut requests.
fn announce_stopped(ctx: &Ctx, url: &str, stopped: &http::Stopped) -> ExitStatus {
    match stopped {
        http::Stopped::Clean => {
            if ctx.format == Format::Json {
                http::json_line(
                    &serde_json::json!({ "event": "stopped", "url": url, "abandoned": 0 }),
                );
            } else {
                ctx.status("Stopped", &format!("{url} (requests in flight finished)"));
            }
            ExitStatus::Success
        }
        http::Stopped::Abandoned(abandoned) => {
            let what = match abandoned.requests {
                0 => "guests still running after their responses were stopped".to_string(),
                1 => "1 request in flight was abandoned".to_string(),
                n => format!("{n} requests in flight were abandoned"),
            };
            if ctx.format == Format::Json {
                http::json_line(&serde_json::json!({
                    "event": "stopped",
                    "url": url,
                    "abandoned": abandoned.requests,
                    "reason": abandoned.why,
                }));
            } else {
                ctx.warning(&format!("stopped {url}: {what} ({})", abandoned.why));
            }
            if abandoned.second_signal {
                ExitStatus::Code(130)
            } else {
                ExitStatus::Failure
            }
        }
    }
}

fn bind_error(addr: &str, err: &std::io::Error) -> anyhow::Error {
    let hint = match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another process listens there; choose another port with --addr 127.0.0.1:PORT \
             (port 0 picks a free one)"
        }
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need privileges; use a port above 1024, e.g. --addr 127.0.0.1:8080"
        }
        _ => "give an address of this machine as HOST:PORT, e.g. --addr 127.0.0.1:8080",
    };
    crate::exit::UsageError {
        message: format!("could not listen on `{addr}`: {err}"),
        hint: hint.into(),
    }
    .into()
}
