//! The HTTP host: serves a `wasi:http/proxy` component (WASI 0.2) with wasmtime-wasi-http on
//! hyper and tokio, as Wasmtime's own `serve` does. Each request gets a fresh instance of a
//! pre-instantiated component from the pooling allocator, with `run`'s grants and its own
//! limits: a request that runs too long (504), runs out of fuel or memory, or traps (500) fails
//! alone and the server stays up. The component being served can be swapped while serving
//! (`dev`): requests in flight finish on the one they started on.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::grants::{Grants, HostPattern};
use super::limits::{Limits, StoreLimiter, format_duration};
use super::{HostError, error_text};
use crate::output::{self, DIM, untrusted};

/// How often a running guest yields its thread (and checks its --timeout).
const TICK: Duration = Duration::from_millis(10);

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
    pub log: AccessLog,
}

/// The engine for serving: the pooling allocator with a slot for each concurrent request, epoch
/// interruption always (a guest that computes without pause still yields its thread to the other
/// requests and to the server itself), fuel only when `--fuel` needs it.
pub fn engine(limits: &Limits, max_concurrency: u32) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.consume_fuel(limits.fuel.is_some());
    config.epoch_interruption(true);
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
        .map_err(|e| anyhow::Error::from(e).context("could not set up the Wasmtime engine"))
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

/// Outgoing HTTP goes only to the hosts `--allow-http` names.
struct Hooks {
    allow: Arc<Vec<HostPattern>>,
}

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        drop(fut);
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().to_string();
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
    /// What is being served (the file name), for the guest's argv.
    pub label: String,
}

impl App {
    pub fn new(engine: &Engine, component: &Component, label: &str) -> anyhow::Result<App> {
        check_proxy(engine, component, label)?;
        let mut linker: Linker<State> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| HostError::link("component", e))?;
        let pre = ProxyPre::new(pre).map_err(|e| HostError::link("component", e))?;
        Ok(App {
            pre,
            label: label.to_string(),
        })
    }
}

/// The guest's task, stopped when dropped while still held: it then ends at its next epoch
/// tick (guests yield at every one) and frees its concurrency slot, instead of running on for
/// a client that is gone until it ends or hits its limits.
struct AbortOnDrop(Option<tokio::task::JoinHandle<Result<(), Failure>>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Logs a request whose client went away before its response (hyper dropped its future), with
/// status 499 as nginx does ("client closed request"): no response was sent.
struct Unanswered<'a> {
    server: &'a Server,
    method: &'a str,
    path: &'a str,
    started: Instant,
    armed: bool,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if self.armed {
            let status = http::StatusCode::from_u16(499).expect("499 is a valid status code");
            self.server.log(
                self.method,
                self.path,
                status,
                self.started.elapsed(),
                Some(
                    "the client closed the connection before the response; the request was stopped",
                ),
            );
        }
    }
}

/// Why a request failed on the host's side, and the status the client gets.
#[derive(Debug)]
struct Failure {
    status: http::StatusCode,
    /// For the server's log (the client gets the status's text).
    message: String,
}

impl Failure {
    fn internal(message: impl Into<String>) -> Failure {
        Failure {
            status: http::StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }

    fn response(&self) -> hyper::Response<HyperOutgoingBody> {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let body = Full::new(Bytes::from(format!("{} {reason}\n", self.status.as_u16())))
            .map_err(|never: Infallible| match never {})
            .boxed_unsync();
        let mut response = hyper::Response::new(body);
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// The server: the component being served (swappable), the settings and the concurrency gate.
pub struct Server {
    engine: Engine,
    app: RwLock<Arc<App>>,
    settings: Settings,
    /// `settings.allow_http`, shared by every request's hooks.
    allow_http: Arc<Vec<HostPattern>>,
    permits: Arc<Semaphore>,
}

/// Held by every connection and request task; the server has stopped when all are dropped.
type Tracker = mpsc::Sender<()>;

impl Server {
    pub fn new(engine: Engine, app: App, settings: Settings) -> Arc<Server> {
        let permits = Arc::new(Semaphore::new(settings.max_concurrency.max(1) as usize));
        // The epoch's clock: at every tick a running guest yields to the runtime (so a guest
        // that spins cannot take the server's threads) and checks its --timeout.
        let weak = engine.weak();
        std::thread::spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        });
        Arc::new(Server {
            engine,
            app: RwLock::new(Arc::new(app)),
            allow_http: Arc::new(settings.allow_http.clone()),
            settings,
            permits,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Serves `app` from the next request on; requests in flight finish on the old one.
    pub fn swap(&self, app: App) {
        let app = Arc::new(app);
        *self.app.write().unwrap_or_else(|p| p.into_inner()) = app;
    }

    /// What is being served (for the announcement).
    pub fn label(&self) -> String {
        self.current().label.clone()
    }

    /// [`Server::check`] for the component being served.
    pub async fn check_current(&self) -> anyhow::Result<()> {
        self.check(&self.current()).await
    }

    fn current(&self) -> Arc<App> {
        Arc::clone(&self.app.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn store(&self, app: &App) -> anyhow::Result<Store<State>> {
        let wasi = self
            .settings
            .grants
            .builder(std::slice::from_ref(&app.label))?
            .build();
        let state = State {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limiter: StoreLimiter::new(&self.settings.limits),
            hooks: Hooks {
                allow: Arc::clone(&self.allow_http),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if let Some(fuel) = self.settings.limits.fuel {
            store.set_fuel(fuel)?;
            // Guests share the runtime's threads: a long computation lets others run.
            store.fuel_async_yield_interval(Some(100_000))?;
        }
        // At each tick the guest yields (other requests, the timeout's timer and the accept
        // loop run), and past its --timeout it traps.
        let deadline = self.settings.limits.timeout.map(|t| Instant::now() + t);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                Err(Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok(store)
    }

    /// Instantiates the component once, as a request would: a component that cannot be
    /// instantiated (a pool too small for it, a start function that traps) is refused before
    /// the server listens, or before `dev` swaps it in.
    pub async fn check(&self, app: &App) -> anyhow::Result<()> {
        let mut store = self.store(app)?;
        app.pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::instantiation("component", e))?;
        Ok(())
    }

    /// Handles one request: never fails (a failure is a 5xx response), logs one line.
    async fn handle(
        self: Arc<Self>,
        request: hyper::Request<Incoming>,
        tracker: Tracker,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Infallible> {
        let started = Instant::now();
        let method = request.method().clone();
        // The path alone: a query string may carry tokens that do not belong in a log.
        let path = request.uri().path().to_string();
        // Hyper drops this future when the client goes away before the response: logged then.
        let mut unanswered = Unanswered {
            server: &self,
            method: method.as_str(),
            path: &path,
            started,
            armed: true,
        };
        let (response, error) = match Arc::clone(&self).dispatch(request, tracker).await {
            Ok(response) => (response, None),
            Err(failure) => (failure.response(), Some(failure.message)),
        };
        unanswered.armed = false;
        self.log(
            method.as_str(),
            &path,
            response.status(),
            started.elapsed(),
            error.as_deref(),
        );
        Ok(response)
    }

    async fn dispatch(
        self: Arc<Self>,
        request: hyper::Request<Incoming>,
        tracker: Tracker,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Failure> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Failure::internal("the server is shutting down"))?;
        let app = self.current();
        let mut store = self
            .store(&app)
            .map_err(|e| Failure::internal(format!("{e:#}")))?;
        let (sender, receiver) = oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| Failure {
                status: http::StatusCode::BAD_REQUEST,
                message: error_text(&e),
            })?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|e| Failure::internal(error_text(&e)))?;
        let timeout = self.settings.limits.timeout;
        let fuel = self.settings.limits.fuel;
        // The guest runs in a task of its own: it may go on writing the body after it has
        // sent the response's head, and it holds its concurrency slot until it is done. Until
        // the head is sent, the task is stopped if this future is dropped (the client left).
        let mut task = AbortOnDrop(Some(tokio::spawn(async move {
            let _slot = permit;
            let _tracker = tracker;
            let call = async {
                let proxy = app.pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, out)
                    .await
            };
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, call).await {
                    Ok(result) => result,
                    Err(_) => Err(Trap::Interrupt.into()),
                },
                None => call.await,
            };
            result.map_err(|err| classify(&err, store.data().limiter.hit.clone(), timeout, fuel))
        })));
        let answer = receiver.await;
        if answer.is_ok() {
            // The head is on its way: the guest goes on with the body, on its own.
            task.0 = None;
        }
        match answer {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(Failure::internal(format!(
                "the component answered with an error: {code:?}"
            ))),
            // The guest ended without a response: its task says why.
            Err(_) => Err(match task.0.as_mut().expect("the task is kept").await {
                Ok(Ok(())) => Failure::internal(
                    "the component returned without setting a response (`response-outparam.set`)",
                ),
                Ok(Err(failure)) => failure,
                Err(join) => Failure::internal(format!("the request's task failed: {join}")),
            }),
        }
    }

    fn log(
        &self,
        method: &str,
        path: &str,
        status: http::StatusCode,
        took: Duration,
        error: Option<&str>,
    ) {
        match self.settings.log {
            AccessLog::Off => {
                if let Some(error) = error {
                    anstream::eprintln!(
                        "{}error{:#}: {} {}: {}",
                        output::ERROR,
                        output::ERROR,
                        untrusted(method),
                        untrusted(path),
                        untrusted(error)
                    );
                }
            }
            AccessLog::Text => {
                let ms = took.as_secs_f64() * 1000.0;
                match error {
                    Some(error) => anstream::eprintln!(
                        "{} {} {} {ms:.1}ms {}error{:#}: {}",
                        untrusted(method),
                        untrusted(path),
                        status.as_u16(),
                        output::ERROR,
                        output::ERROR,
                        untrusted(error)
                    ),
                    None => anstream::eprintln!(
                        "{} {} {} {DIM}{ms:.1}ms{DIM:#}",
                        untrusted(method),
                        untrusted(path),
                        status.as_u16()
                    ),
                }
            }
            AccessLog::Json => {
                let line = serde_json::json!({
                    "event": "request",
                    "method": method,
                    "path": path,
                    "status": status.as_u16(),
                    "ms": (took.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
                    "error": error,
                });
                json_line(&line);
            }
        }
    }
}

/// Prints one JSON object on a line of its own on stdout.
pub fn json_line(value: &serde_json::Value) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// A guest's failure as a status and a message naming the limit or the trap.
fn classify(
    err: &wasmtime::Error,
    limit_hit: Option<String>,
    timeout: Option<Duration>,
    fuel: Option<u64>,
) -> Failure {
    if let Some(message) = limit_hit {
        return Failure::internal(format!("{message}; the request was stopped"));
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure {
            status: http::StatusCode::GATEWAY_TIMEOUT,
            message: format!(
                "the request ran longer than --timeout {} and was stopped",
                timeout.map(format_duration).unwrap_or_default()
            ),
        },
        Some(Trap::OutOfFuel) => Failure::internal(format!(
            "the request used all its fuel (--fuel {}) and was stopped",
            fuel.unwrap_or_default()
        )),
        Some(trap) => Failure::internal(format!("the guest trapped: {trap}")),
        None => Failure::internal(format!("the guest failed: {}", error_text(err))),
    }
}

/// Ctrl-C and SIGTERM, listened to from before the server announces itself (a signal after
/// that never kills the process half-way).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must be called inside the runtime.
    pub fn new() -> anyhow::Result<Signals> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    pub async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting, lets the requests in flight finish and
/// returns. A second signal while they finish returns at once with `false`.
pub async fn serve(
    server: Arc<Server>,
    listener: tokio::net::TcpListener,
    signals: &mut Signals,
) -> anyhow::Result<bool> {
    let (tracker, mut finished) = mpsc::channel::<()>(1);
    let (stop, stopped) = watch::channel(false);
    loop {
        let (stream, _peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    anstream::eprintln!("{}warning{:#}: accepting a connection failed: {err}", output::WARN, output::WARN);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = signals.next() => break,
        };
        let _ = stream.set_nodelay(true);
        let server = Arc::clone(&server);
        let tracker = tracker.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let requests = tracker.clone();
            let service = hyper::service::service_fn(move |request| {
                Arc::clone(&server).handle(request, requests.clone())
            });
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopped.changed() => {
                    // Finishes the request being answered, then closes.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(tracker);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(tracker);
    tokio::select! {
        _ = finished.recv() => Ok(true),
        () = signals.next() => Ok(false),
    }
}
