//! `wasmforge serve`: serve a `wasi:http/proxy` component on a local address.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmforge_build::{BuildOptions, Profile, Target};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::grants::HostPattern;
use crate::host::http::{self, AccessLog, App, Server, Settings, Signals};
use crate::host::{self, HostError, Limits, limits};
use crate::output::Ctx;
use crate::reporter::TermReporter;

/// Serve an HTTP component (WASI 0.2 `wasi:http/proxy`) on a local address
///
/// TARGET is a component (.wasm), a project folder (built first, release, for wasip2 unless
/// its wasmforge.toml names a target), or an OCI reference (pulled first). Each request gets a
/// fresh instance of the component, with nothing granted unless asked: no files, no
/// environment variables, no outgoing HTTP.
///
/// Limits apply to each request: one that runs past --timeout gets 504, one that uses all its
/// --fuel or passes --max-memory (or traps) gets 500; the server stays up. Up to
/// --max-concurrency requests run at once, the rest wait. One line per request is logged on
/// stderr (JSON Lines on stdout with --format json) unless --quiet (then only the URL is printed,
/// on stdout). Ctrl-C or SIGTERM stops accepting, lets the requests in flight finish, and exits 0
/// (a second one exits at once, 130).
///
/// Examples:
///   wasmforge serve                              the project in this folder, on 127.0.0.1:8080
///   wasmforge serve app.wasm --addr 127.0.0.1:0  any free port (printed)
///   wasmforge serve ghcr.io/acme/api:1.0 --allow-http api.github.com --env TOKEN=…
///   wasmforge serve app.wasm --timeout 2s --max-memory 64MiB --max-concurrency 16
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A component (.wasm), a project folder, or an OCI reference
    #[arg(value_name = "TARGET", default_value = ".")]
    target: PathBuf,

    #[command(flatten)]
    serve: ServeArgs,

    /// With a project folder: the target to build for (default: wasmforge.toml's, else wasip2)
    #[arg(short = 't', long = "target", value_name = "TARGET", env = "WASMFORGE_TARGET", value_parser = super::run::parse_target)]
    build_target: Option<Target>,

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

    /// Requests handled at once (an instance each); more wait for a free slot
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrency: u32,

    /// Grant a host folder read-write to every request, at GUEST (default: the same path)
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,

    /// Grant a host folder read-only
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    pub dirs_ro: Vec<String>,

    /// Set an environment variable for the guest
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::run::parse_env)]
    pub env: Vec<(String, String)>,

    /// Pass this host environment variable through to the guest
    #[arg(long = "env-inherit", value_name = "KEY")]
    pub env_inherit: Vec<String>,

    /// Allow outgoing HTTP requests to hosts matching PATTERN: api.example.com, *.example.com,
    /// 127.0.0.1:8080, * (anywhere)
    #[arg(long = "allow-http", value_name = "PATTERN")]
    pub allow_http: Vec<HostPattern>,

    /// Stop a request after this long (e.g. 500ms, 10s): it gets 504
    #[arg(long, value_name = "DURATION", value_parser = limits::parse_duration)]
    pub timeout: Option<Duration>,

    /// Stop a request after it has used this much fuel (roughly, Wasm instructions): it gets 500
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// Most linear memory a request's instance may have (e.g. 64MiB): past it, 500
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_size)]
    pub max_memory: Option<u64>,

    /// Compile afresh instead of using (and filling) the compiled-code cache
    #[arg(long)]
    pub no_cache: bool,
}

impl ServeArgs {
    pub fn settings(&self, ctx: &Ctx) -> anyhow::Result<Settings> {
        let grants = super::run::grants(&self.dirs, &self.dirs_ro, &self.env, &self.env_inherit)?;
        // Folders that do not exist are refused here, not at every request.
        grants.builder(&[])?;
        Ok(Settings {
            grants,
            allow_http: self.allow_http.clone(),
            limits: Limits {
                timeout: self.timeout,
                fuel: self.fuel,
                max_memory: self.max_memory,
                max_table_elements: None,
            },
            max_concurrency: self.max_concurrency,
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
    let path = if args.target.is_dir() {
        let profile = if args.debug {
            Profile::Dev
        } else {
            Profile::Release
        };
        let built = build_project(
            &args.target,
            args.build_target,
            Some(Target::Wasip2),
            profile,
            args.package.as_deref(),
            args.bin.as_deref(),
            ctx,
        )?;
        built.path
    } else if let Some(reference) = super::run::as_reference(&args.target) {
        super::run::pull_to_cache(&reference, ctx)?
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
    let settings = args.serve.settings(ctx)?;
    let engine = http::engine(&settings.limits, settings.max_concurrency)?;
    let app = load_app(&engine, &path, !args.serve.no_cache, ctx)?;
    let server = Server::new(engine, app, settings);
    serve_until_stopped(server, &args.serve.addr, ctx, |_| {})
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
    let configured = wasmforge_build::config::Config::load(dir)
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
        0 => Err(wasmforge_build::Error::BadUsage {
            message: "the project builds nothing to serve".into(),
            hint: "an HTTP component is a wasip2 binary of the `wasi:http/proxy` world; start one \
                   with `wasmforge new NAME --lang rust --kind http`"
                .into(),
        }
        .into()),
        n => Err(wasmforge_build::Error::BadUsage {
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

/// Reads, compiles (or loads from the cache) and links a component for serving.
pub fn load_app(
    engine: &wasmtime::Engine,
    path: &Path,
    cache: bool,
    ctx: &Ctx,
) -> anyhow::Result<App> {
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("could not read `{}`: {e}", path.display()))?;
    let bytes = super::parse_input(path, raw)?;
    let (loaded, event) = host::load(engine, path, &bytes, cache, false, &|m| ctx.warning(m))?;
    if ctx.verbose > 0 {
        anstream::eprintln!(
            "{}      Loaded {} ({}){:#}",
            crate::output::DIM,
            path.display(),
            event.describe(),
            crate::output::DIM
        );
    }
    let name = path.display().to_string();
    match loaded {
        host::Loaded::Component(component) => App::new(engine, &component, &name),
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
    runtime.block_on(async {
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
        announce(ctx, "listening", &format!("http://{local}/"), &server);
        started(&handle);
        let clean = http::serve(Arc::clone(&server), listener, &mut signals).await?;
        announce(ctx, "stopped", &format!("http://{local}/"), &server);
        Ok(if clean {
            ExitStatus::Success
        } else {
            ExitStatus::Code(130)
        })
    })
}

fn announce(ctx: &Ctx, event: &str, url: &str, server: &Server) {
    if ctx.format == Format::Json {
        http::json_line(&serde_json::json!({ "event": event, "url": url }));
    } else if event == "listening" && ctx.quiet {
        // Quiet, but where it listens is still said (with port 0 nothing else tells): the URL
        // alone, on stdout.
        println!("{url}");
    } else if event == "listening" {
        ctx.status(
            "Serving",
            &format!("{url} ({}) · Ctrl-C to stop", server.label()),
        );
    } else {
        ctx.status("Stopped", &format!("{url} (requests in flight finished)"));
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
    wasmforge_build::Error::BadUsage {
        message: format!("could not listen on `{addr}`: {err}"),
        hint: hint.into(),
    }
    .into()
}
