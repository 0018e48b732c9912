//! The HTTP host: serves a `wasi:http/proxy` component (WASI 0.2) with wasmtime-wasi-http on
//! hyper and tokio, as Wasmtime's own `serve` does. Each request gets a fresh instance of a
//! pre-instantiated component from the pooling allocator, with `run`'s grants and its own
//! limits: a request that runs too long (504), runs out of fuel or memory, or traps (500) fails
//! alone and the server stays up. The component being served can be swapped while serving
//! (`dev`): requests in flight finish on the one they started on.
//!
//! - `server.rs`: one request, from its head to the end of its response body (the concurrency
//!   slot, the wait queue, the guest's task, failures after the head, the access log);
//! - `conn.rs`: connections (timeouts for slow and idle clients, the connection limit, accept
//!   errors) and shutdown.

mod conn;
mod server;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::grants::{Grants, HostPattern};
use super::limits::{Limits, StoreLimiter};
use super::{HostError, error_text};
use crate::output::{self, untrusted};

pub use conn::{Signals, Stopped, connection_limit, serve};
pub use server::Server;

/// The longest chain of in-process calls when `[app] max-call-depth` says nothing.
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 8;

/// The limits an engine serving all of `services` must allow: fuel when one counts it, the
/// largest stack, and memories as large as the largest (none when one has no limit).
pub fn widest_limits<'a>(all: impl IntoIterator<Item = &'a Limits>) -> Limits {
    let mut widest: Option<Limits> = None;
    for limits in all {
        let Some(w) = widest.as_mut() else {
            widest = Some(limits.clone());
            continue;
        };
        w.fuel = w.fuel.max(limits.fuel);
        w.max_wasm_stack = w.max_wasm_stack.max(limits.max_wasm_stack);
        w.max_memory = w.max_memory.zip(limits.max_memory).map(|(a, b)| a.max(b));
    }
    widest.unwrap_or_default()
}

/// The export every `wasi:http/proxy` component has (0.2.x).
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2";

/// How requests are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLog {
    Off,
    /// A line per request on stderr.
    Text,
    /// A JSON object per request on stdout (JSON Lines).
    Json,
}

/// What each request's instance gets, and how the server behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    pub grants: Grants,
    /// Hosts the guest may send HTTP requests to.
    pub allow_http: Vec<HostPattern>,
    pub limits: Limits,
    /// Requests handled at once (instances alive at once); more wait their turn.
    pub max_concurrency: u32,
    /// Requests that may wait for a slot; past them, 503 with `Retry-After`.
    pub max_queued: u32,
    /// How long a client may take to send a request's head once it has started it.
    pub header_timeout: Duration,
    /// How long a connection may stay open with no request.
    pub idle_timeout: Duration,
    /// How long requests in flight may take to finish once the server is asked to stop.
    pub shutdown_timeout: Duration,
    /// Connections open at once ([`connection_limit`]); past them, 503.
    pub max_connections: usize,
    pub log: AccessLog,
}

/// The engine for serving: the pooling allocator with a slot for each concurrent request, epoch
/// interruption always (a guest that computes without pause still yields its thread to the other
/// requests and to the server itself), fuel only when `--fuel` needs it.
///
/// The pool reserves address space for every slot up front; a `--max-concurrency` whose slots
/// do not fit in this process's address space is refused with the figures (a usage error).
///
/// `per_request`: the instances one request may hold at once (an app's chain of in-process
/// calls; 1 for a single component).
pub fn engine(limits: &Limits, max_concurrency: u32, per_request: u32) -> anyhow::Result<Engine> {
    let per_request = per_request.max(1);
    match pooled_engine(limits, max_concurrency.saturating_mul(per_request)) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            let text = error_text(&err);
            if max_concurrency > 1
                && (text.contains("mmap") || text.contains("reserve"))
                && let Some(refusal) = address_space_refusal(limits, max_concurrency, per_request)
            {
                return Err(refusal);
            }
            Err(anyhow::Error::from(err).context("could not set up the Wasmtime engine"))
        }
    }
}

fn pooled_engine(limits: &Limits, max_concurrency: u32) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.consume_fuel(limits.fuel.is_some());
    config.epoch_interruption(true);
    if limits.max_wasm_stack.is_some() {
        // Each request runs on a fiber stack of the pool's, which must hold the Wasm stack
        // and the host calls made from it.
        config.max_wasm_stack(limits.wasm_stack());
        config.async_stack_size(limits.wasm_stack().saturating_add(1 << 20));
    }
    let slots = max_concurrency.max(1);
    let mut pool = PoolingAllocationConfig::default();
    // A component holds several core instances (the program, the WASI adapter, shims), a
    // memory or two and a few tables; the totals leave room for that in every slot.
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(16))
        .total_memories(slots.saturating_mul(4))
        .total_tables(slots.saturating_mul(16))
        .total_stacks(slots)
        .total_gc_heaps(slots)
        .table_elements(100_000);
    if let Some(max) = limits.max_memory {
        // A single memory can never be larger than all of them together: the pool reserves no
        // more than that per slot (the store limiter enforces the total, with a message).
        let page = 64 * 1024;
        let rounded = max.div_ceil(page).saturating_mul(page).max(page);
        pool.max_memory_size(usize::try_from(rounded).unwrap_or(usize::MAX));
    }
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// Why `max_concurrency` slots cannot be reserved, with the figures: the most slots that can
/// be reserved here (found by trying: reserving address space costs no memory, and a pool's
/// reservation does not grow in proportion to its slots), and so what each takes of the
/// address space left. `None` where that cannot be measured.
fn address_space_refusal(
    limits: &Limits,
    max_concurrency: u32,
    per_request: u32,
) -> Option<anyhow::Error> {
    pooled_engine(limits, per_request).ok()?;
    let (mut fits, mut over) = (1u32, max_concurrency);
    while over - fits > 1 {
        let middle = fits + (over - fits) / 2;
        if pooled_engine(limits, middle.saturating_mul(per_request)).is_ok() {
            fits = middle;
        } else {
            over = middle;
        }
    }
    // x86-64 and aarch64 Linux give a process 128 TiB (47 bits) unless RLIMIT_AS says less.
    let mut space: u64 = 1 << 47;
    #[cfg(unix)]
    if let Some(limit) = rustix::process::getrlimit(rustix::process::Resource::As).current {
        space = space.min(limit);
    }
    let left = space.saturating_sub(vm_size().unwrap_or(0));
    let per_slot = left / u64::from(fits);
    Some(
        crate::exit::UsageError {
            message: format!(
                "--max-concurrency {max_concurrency} needs more address space than this process \
                 has: each request's slot reserves about {} (its memories, tables and stack), and \
                 {fits} slots fit in the {} left",
                output::human_size(per_slot),
                output::human_size(left),
            ),
            hint: format!(
                "choose --max-concurrency {} or less (a little below the most, for the rest of \
                 the process)",
                fits.saturating_sub(fits / 20).max(1)
            ),
        }
        .into(),
    )
}

/// This process's virtual memory size in bytes (Linux: `VmSize` of /proc/self/status).
fn vm_size() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line
        .trim_start_matches("VmSize:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// Per-request state: WASI, wasi:http, the resource table and the limiter.
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    limiter: StoreLimiter,
    hooks: Hooks,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Outgoing HTTP goes only to the hosts `--allow-http` names; in an app, a request to
/// `http://NAME.internal/` goes to the service NAME in this process, without a socket, when the
/// caller may call it.
struct Hooks {
    allow: Arc<Vec<HostPattern>>,
    internal: Option<Internal>,
}

/// What an in-process call needs: the server, who calls, and how deep the chain already is.
#[derive(Clone)]
pub(super) struct Internal {
    pub(super) server: std::sync::Weak<Server>,
    pub(super) caller: Arc<Service>,
    /// In-process calls made before this one in the chain (a request from a client: 0).
    pub(super) depth: u32,
}

/// The host part that names a service of the app.
pub const INTERNAL_SUFFIX: &str = ".internal";

/// What `send_request` gives back.
type SendResult = Result<
    (
        http::Response<wasmtime_wasi_http::WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        if let Some(internal) = &self.internal
            && let Some(name) = host.strip_suffix(INTERNAL_SUFFIX)
        {
            let internal = internal.clone();
            let name = name.to_string();
            return Box::new(async move {
                let Some(server) = internal.server.upgrade() else {
                    return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
                };
                let response = server.call_service(&internal, &name, request).await;
                Ok((
                    response,
                    Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
                ))
            });
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        if !self.allow.iter().any(|p| p.matches(&host, port)) {
            anstream::eprintln!(
                "{}warning{:#}: the guest's HTTP request to {}:{port} was refused: grant it with --allow-http {}",
                output::WARN,
                output::WARN,
                untrusted(&host),
                untrusted(&host),
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Where requests reach a service: a path prefix and/or a host. A service with neither is
/// reached only by the app's other services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// `/users` (no trailing slash; `/` matches every path).
    pub prefix: Option<String>,
    /// Lowercase, without a port.
    pub host: Option<String>,
}

impl Route {
    /// Whether a request for `host` and `path` reaches this route, and how specific the match
    /// is (a host and a longer prefix are more specific).
    fn matches(&self, host: &str, path: &str) -> Option<usize> {
        if self.prefix.is_none() && self.host.is_none() {
            return None;
        }
        if let Some(want) = &self.host
            && want != host
        {
            return None;
        }
        let mut score = if self.host.is_some() { 1 << 20 } else { 0 };
        if let Some(prefix) = &self.prefix {
            if prefix != "/" {
                let rest = path.strip_prefix(prefix.as_str())?;
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
            }
            score += prefix.len();
        }
        Some(score)
    }

    /// `path` as the service sees it: the prefix removed (`/users/7` → `/7`, `/users` → `/`).
    fn strip<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.prefix {
            Some(prefix) if prefix != "/" => match path.strip_prefix(prefix.as_str()) {
                Some("") => "/".into(),
                Some(rest) => rest.into(),
                None => path.into(),
            },
            _ => path.into(),
        }
    }

    /// How the route reads in messages: `/users`, `api.example.com/users`, or `(internal)`.
    pub fn describe(&self) -> String {
        match (&self.host, &self.prefix) {
            (None, None) => "(called only by other services)".into(),
            (Some(host), Some(prefix)) => format!("{host}{prefix}"),
            (Some(host), None) => format!("{host} (every path)"),
            (None, Some(prefix)) => prefix.clone(),
        }
    }
}

/// One service being served: a component (swappable, for `dev`), its grants and limits, and in
/// an app its route and the services it may call.
pub struct Service {
    /// Empty when a single component is served.
    pub name: String,
    pub route: Route,
    /// The services it may call in-process.
    pub calls: Vec<String>,
    pub grants: Grants,
    pub allow_http: Arc<Vec<HostPattern>>,
    pub limits: Limits,
    app: std::sync::RwLock<Arc<App>>,
}

impl Service {
    pub fn new(
        name: &str,
        route: Route,
        calls: Vec<String>,
        grants: Grants,
        allow_http: Vec<HostPattern>,
        limits: Limits,
        app: App,
    ) -> Service {
        Service {
            name: name.to_string(),
            route,
            calls,
            grants,
            allow_http: Arc::new(allow_http),
            limits,
            app: std::sync::RwLock::new(Arc::new(app)),
        }
    }

    /// The component being served.
    pub fn current(&self) -> Arc<App> {
        Arc::clone(&self.app.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Serves `app` from the next request on; requests in flight finish on the old one.
    pub fn swap(&self, app: App) {
        *self.app.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(app);
    }
}

/// Whether a component is an HTTP proxy, or else what it is, for the error.
pub fn check_proxy(engine: &Engine, component: &Component, name: &str) -> Result<(), HostError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    if exports.iter().any(|e| e.starts_with(INCOMING_HANDLER)) {
        return Ok(());
    }
    let world = if exports
        .iter()
        .any(|e| e.starts_with("wasi:http/handler@0.3"))
    {
        "a WASI 0.3 HTTP component (`wasi:http/handler@0.3`), which this Wasmtime serves only \
         behind a flag wasmforge does not set"
            .to_string()
    } else if exports.iter().any(|e| e.starts_with("wasi:cli/run@")) {
        "a command (its world exports `wasi:cli/run`, the `wasi:cli/command` world)".to_string()
    } else if exports.is_empty() {
        "a component that exports nothing".to_string()
    } else {
        format!(
            "a component whose world exports {}",
            exports
                .iter()
                .map(|e| format!("`{}`", untrusted(e)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(HostError::NotHttp {
        name: name.to_string(),
        world,
        command: exports.iter().any(|e| e.starts_with("wasi:cli/run@")),
    })
}

/// A component ready to serve: linked against WASI 0.2 and wasi:http, pre-instantiated.
pub struct App {
    pre: ProxyPre<State>,
    /// What is being served (the path as given), for the server's own messages.
    pub label: String,
    /// The guest's `argv[0]`: the file name alone, as `run` gives it (a path would show the
    /// guest where the host keeps it: a home folder, a cache).
    argv0: String,
}

impl App {
    /// `label` names the component in messages; the guest sees only its file name.
    pub fn new(engine: &Engine, component: &Component, label: &str) -> anyhow::Result<App> {
        check_proxy(engine, component, label)?;
        let mut linker: Linker<State> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| HostError::link("component", e))?;
        let pre = ProxyPre::new(pre).map_err(|e| HostError::link("component", e))?;
        let argv0 = std::path::Path::new(label)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(App {
            pre,
            label: label.to_string(),
            argv0,
        })
    }
}

/// Prints one JSON object on a line of its own on stdout.
pub fn json_line(value: &serde_json::Value) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(prefix: Option<&str>, host: Option<&str>) -> Route {
        Route {
            prefix: prefix.map(str::to_string),
            host: host.map(str::to_string),
        }
    }

    #[test]
    fn the_most_specific_route_wins_and_a_prefix_is_a_whole_segment() {
        let root = route(Some("/"), None);
        let users = route(Some("/users"), None);
        let api = route(Some("/users"), Some("api.example.com"));
        let internal = route(None, None);
        assert!(users.matches("x", "/users").is_some());
        assert!(users.matches("x", "/users/7").is_some());
        assert!(users.matches("x", "/usersx").is_none());
        assert!(
            internal.matches("x", "/").is_none(),
            "no route: only other services"
        );
        let best = |host: &str, path: &str| {
            [&root, &users, &api]
                .into_iter()
                .enumerate()
                .filter_map(|(i, r)| r.matches(host, path).map(|s| (s, i)))
                .max()
                .map(|(_, i)| i)
        };
        assert_eq!(best("x", "/users/7"), Some(1));
        assert_eq!(best("api.example.com", "/users/7"), Some(2));
        assert_eq!(best("x", "/other"), Some(0));
        assert_eq!(users.strip("/users/7"), "/7");
        assert_eq!(users.strip("/users"), "/");
        assert_eq!(root.strip("/users"), "/users");
    }

    #[test]
    fn an_engine_allows_what_every_service_needs() {
        let a = Limits {
            fuel: Some(10),
            max_memory: Some(1 << 20),
            ..Default::default()
        };
        let b = Limits {
            max_memory: Some(4 << 20),
            max_wasm_stack: Some(8 << 20),
            ..Default::default()
        };
        let wide = widest_limits([&a, &b]);
        assert_eq!(wide.fuel, Some(10));
        assert_eq!(wide.max_memory, Some(4 << 20));
        assert_eq!(wide.max_wasm_stack, Some(8 << 20));
        let c = Limits::default();
        assert_eq!(
            widest_limits([&a, &c]).max_memory,
            None,
            "one without a limit"
        );
    }
}
