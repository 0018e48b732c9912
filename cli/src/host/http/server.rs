//! One request, from its head to the last byte of its response.
//!
//! A request takes a concurrency slot (waiting in a bounded queue when all are busy), gets a
//! fresh instance in a task of its own, and is logged once, when its response has ended — with
//! what really happened: a guest that fails after it has sent its head is a failure (the
//! response is cut, so the client sees an incomplete body), a client that leaves stops its
//! guest, a request cut by the server's shutdown is said to be abandoned.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use super::conn::ConnState;
use super::{AccessLog, App, Hooks, INTERNAL_SUFFIX, Internal, Route, Service, Settings, State};
use crate::host::limits::{StoreLimiter, format_duration};
use crate::host::{HostError, error_text};
use crate::output::{self, DIM, untrusted};

/// How often a running guest yields its thread (and checks its --timeout).
const TICK: Duration = Duration::from_millis(10);

/// Held by every connection and guest task; the server has stopped when all are dropped.
pub(super) type Tracker = mpsc::Sender<()>;

/// The server: what is served (one component, or an app's services, each swappable), the
/// settings and the concurrency gate.
pub struct Server {
    engine: Engine,
    services: Vec<Arc<Service>>,
    /// Serving an app: routes, service names in the log, in-process calls.
    is_app: bool,
    /// The longest chain of in-process calls (508 past it).
    max_call_depth: u32,
    pub(super) settings: Settings,
    /// A permit per concurrent request from a client.
    permits: Arc<Semaphore>,
    /// Requests waiting for a permit.
    queued: AtomicUsize,
    /// Requests between their head and the end of their response.
    pub(super) in_flight: AtomicUsize,
    /// Set when the server stops without waiting for the requests in flight: why (they are
    /// logged as abandoned, not as left by their clients).
    pub(super) abandoning: OnceLock<String>,
    /// Itself, for the in-process calls its guests make.
    me: Weak<Server>,
    /// Whether the engine counts fuel (some service has a `--fuel` limit).
    fuel: bool,
}

impl Server {
    /// A server for one component, with `settings`' grants and limits, on every path.
    pub fn new(engine: Engine, app: App, settings: Settings) -> Arc<Server> {
        let service = Service::new(
            "",
            Route::default(),
            Vec::new(),
            settings.grants.clone(),
            settings.allow_http.clone(),
            settings.limits.clone(),
            app,
        );
        Server::with_services(engine, vec![Arc::new(service)], false, 0, settings)
    }

    /// A server for an app's services (routed by their routes; `settings`' grants and limits
    /// are not used: each service has its own).
    pub fn new_app(
        engine: Engine,
        services: Vec<Service>,
        max_call_depth: u32,
        settings: Settings,
    ) -> Arc<Server> {
        let services = services.into_iter().map(Arc::new).collect();
        Server::with_services(engine, services, true, max_call_depth, settings)
    }

    fn with_services(
        engine: Engine,
        services: Vec<Arc<Service>>,
        is_app: bool,
        max_call_depth: u32,
        settings: Settings,
    ) -> Arc<Server> {
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
        Arc::new_cyclic(|me| Server {
            engine,
            is_app,
            max_call_depth,
            settings,
            permits,
            queued: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            abandoning: OnceLock::new(),
            me: me.clone(),
            fuel: services.iter().any(|s| s.limits.fuel.is_some()),
            services,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The services, in the order given.
    pub fn services(&self) -> &[Arc<Service>] {
        &self.services
    }

    /// Serves `app` from the next request on (the first service); requests in flight finish
    /// on the old one.
    pub fn swap(&self, app: App) {
        self.services[0].swap(app);
    }

    /// What is being served (for the announcement).
    pub fn label(&self) -> String {
        if self.is_app {
            format!("an app of {} services", self.services.len())
        } else {
            self.services[0].current().label.clone()
        }
    }

    /// [`Server::check`] for every service being served.
    pub async fn check_current(&self) -> anyhow::Result<()> {
        for service in &self.services {
            self.check(service, &service.current()).await.map_err(|e| {
                if self.is_app {
                    e.context(format!("service `{}`", service.name))
                } else {
                    e
                }
            })?;
        }
        Ok(())
    }

    fn store(&self, service: &Arc<Service>, app: &App, depth: u32) -> anyhow::Result<Store<State>> {
        let wasi = service
            .grants
            .builder(
                std::slice::from_ref(&app.argv0),
                crate::host::grants::Blocking::OffTheExecutor,
            )?
            .build();
        let limits = &service.limits;
        let state = State {
            wasi,
            http: WasiHttpCtx::new(),
            table: wasmtime::component::ResourceTable::new(),
            limiter: StoreLimiter::new(limits),
            hooks: Hooks {
                allow: Arc::clone(&service.allow_http),
                internal: self.is_app.then(|| Internal {
                    server: self.me.clone(),
                    caller: Arc::clone(service),
                    depth,
                }),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // The engine counts fuel when any service has a limit; the others get all there is.
        if self.fuel {
            store.set_fuel(limits.fuel.unwrap_or(u64::MAX))?;
            // Guests share the runtime's threads: a long computation lets others run.
            store.fuel_async_yield_interval(Some(100_000))?;
        }
        // At each tick the guest yields (other requests, the timeout's timer and the accept
        // loop run), and past its --timeout it traps. (A deadline past the clock's range is
        // no deadline: --timeout is bounded well below that anyway.)
        let deadline = limits.timeout.and_then(|t| Instant::now().checked_add(t));
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

    /// Instantiates a service's component once, as a request would: a component that cannot
    /// be instantiated (a pool too small for it, a start function that traps) is refused
    /// before the server listens, or before `dev` swaps it in. It takes a slot like a request
    /// (the pool has one instance per slot).
    pub async fn check(&self, service: &Arc<Service>, app: &App) -> anyhow::Result<()> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| anyhow::anyhow!("the server is shutting down"))?;
        let mut slot = Slot {
            store: self.store(service, app, 0)?,
            _permit: Some(permit),
        };
        app.pre
            .instantiate_async(&mut slot.store)
            .await
            .map_err(|e| HostError::instantiation("component", e))?;
        Ok(())
    }

    /// The service a request from a client goes to (the most specific route that matches).
    fn route(&self, host: &str, path: &str) -> Option<&Arc<Service>> {
        if !self.is_app {
            return self.services.first();
        }
        self.services
            .iter()
            .filter_map(|s| s.route.matches(host, path).map(|score| (score, s)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, s)| s)
    }

    /// Handles one request: never fails (a failure is a 5xx response); logged once, when its
    /// response has ended (or was cut).
    pub(super) async fn handle(
        self: Arc<Self>,
        request: hyper::Request<Incoming>,
        conn: Arc<ConnState>,
        tracker: Tracker,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Infallible> {
        // The path alone: a query string may carry tokens that do not belong in a log.
        let path = request.uri().path().to_string();
        let host = request_host(&request);
        let service = self.route(&host, &path).cloned();
        let log = RequestLog::new(
            Arc::clone(&self),
            Some(conn),
            request.method().as_str(),
            &path,
            Who {
                service: service
                    .as_ref()
                    .filter(|_| self.is_app)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                caller: None,
            },
        );
        let Some(service) = service else {
            let failure = Failure {
                status: http::StatusCode::NOT_FOUND,
                message: format!("no service's route matches `{host}{path}`"),
                retry_after: false,
            };
            log.finish(Some(failure.status), Some(&failure.message));
            return Ok(failure.response());
        };
        let permit = match self.acquire().await {
            Ok(permit) => permit,
            Err(failure) => {
                log.finish(Some(failure.status), Some(&failure.message));
                return Ok(failure.response());
            }
        };
        let request = if self.is_app {
            for_service(&service.route, request)
        } else {
            request
        };
        let (method, path) = (log.method.clone(), log.path.clone());
        match Arc::clone(&self)
            .start(
                &service,
                request,
                0,
                Some(tracker),
                Some(permit),
                &method,
                &path,
            )
            .await
        {
            Ok(answer) => Ok(log.respond(answer)),
            Err(failure) => {
                log.finish(Some(failure.status), Some(&failure.message));
                Ok(failure.response())
            }
        }
    }

    /// An in-process call from one of the app's services (`http://NAME.internal/…`): to the
    /// service NAME when the caller may call it (else 403) and the chain is not too deep (else
    /// 508); logged like a request from a client, with the caller's name.
    pub(super) async fn call_service(
        self: Arc<Self>,
        from: &Internal,
        name: &str,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
    ) -> http::Response<wasmtime_wasi_http::WasiBody> {
        let caller = &from.caller;
        let path = request.uri().path().to_string();
        let log = RequestLog::new(
            Arc::clone(&self),
            None,
            request.method().as_str(),
            &path,
            Who {
                service: name.to_string(),
                caller: Some(caller.name.clone()),
            },
        );
        let refuse = |log: RequestLog, status: http::StatusCode, message: String| {
            let failure = Failure {
                status,
                message,
                retry_after: false,
            };
            log.finish(Some(failure.status), Some(&failure.message));
            // The caller is a service of the same app: its author is told why, in the body.
            failure.response_saying(&failure.message)
        };
        let Some(service) = self.services.iter().find(|s| s.name == name).cloned() else {
            let known: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
            return refuse(
                log,
                http::StatusCode::NOT_FOUND,
                format!(
                    "`{}` called `{name}{INTERNAL_SUFFIX}`, but the app has no service `{name}` (it has: {})",
                    caller.name,
                    known.join(", ")
                ),
            );
        };
        if !caller.calls.iter().any(|c| c == name) {
            return refuse(
                log,
                http::StatusCode::FORBIDDEN,
                format!(
                    "`{}` may not call `{name}`: add \"{name}\" to its `calls` in wasmforge.toml",
                    caller.name
                ),
            );
        }
        let depth = from.depth + 1;
        if depth > self.max_call_depth {
            return refuse(
                log,
                http::StatusCode::LOOP_DETECTED,
                format!(
                    "the call from `{}` to `{name}` would be call {depth} of one chain, past the \
                     app's bound of {} (`[app] max-call-depth` in wasmforge.toml)",
                    caller.name, self.max_call_depth
                ),
            );
        }
        let (mut parts, body) = request.into_parts();
        // The callee sees the request as a client's: its path and query, with its host.
        if let Some(path) = parts.uri.path_and_query().cloned() {
            let mut uri = http::uri::Parts::default();
            uri.path_and_query = Some(path);
            if let Ok(uri) = http::Uri::from_parts(uri) {
                parts.uri = uri;
            }
        }
        if let Ok(host) = http::HeaderValue::from_str(&format!("{name}{INTERNAL_SUFFIX}")) {
            parts.headers.insert(http::header::HOST, host);
        }
        let request = hyper::Request::from_parts(parts, body);
        let (method, path) = (log.method.clone(), log.path.clone());
        match Arc::clone(&self)
            .start(&service, request, depth, None, None, &method, &path)
            .await
        {
            Ok(answer) => log.respond(answer),
            Err(failure) => {
                log.finish(Some(failure.status), Some(&failure.message));
                failure.response()
            }
        }
    }

    /// A concurrency slot: at once when one is free; else a place in the wait queue (fair:
    /// first come, first served), or 503 when the queue is full too.
    async fn acquire(&self) -> Result<OwnedSemaphorePermit, Failure> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => {
                return Err(Failure::internal("the server is stopping"));
            }
            Err(TryAcquireError::NoPermits) => {}
        }
        let waiting = Waiting::enter(&self.queued);
        if waiting.ahead >= self.settings.max_queued as usize {
            return Err(Failure {
                status: http::StatusCode::SERVICE_UNAVAILABLE,
                message: format!(
                    "the wait queue is full: {} requests running (--max-concurrency) and {} waiting (--max-queued)",
                    self.settings.max_concurrency, self.settings.max_queued
                ),
                retry_after: true,
            });
        }
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Failure::internal("the server is stopping"))?;
        drop(waiting);
        Ok(permit)
    }

    /// Starts `service`'s guest on a request; once it has sent its response's head, the
    /// answer (the guest goes on writing the body in its task).
    #[allow(clippy::too_many_arguments)]
    async fn start<B>(
        self: Arc<Self>,
        service: &Arc<Service>,
        request: hyper::Request<B>,
        depth: u32,
        tracker: Option<Tracker>,
        permit: Option<OwnedSemaphorePermit>,
        method: &str,
        path: &str,
    ) -> Result<Answer, Failure>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let app = service.current();
        let mut slot = Slot {
            store: self
                .store(service, &app, depth)
                .map_err(|e| Failure::internal(format!("{e:#}")))?,
            _permit: permit,
        };
        let store = &mut slot.store;
        let (sender, receiver) = oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| Failure {
                status: http::StatusCode::BAD_REQUEST,
                message: error_text(&e),
                retry_after: false,
            })?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|e| Failure::internal(error_text(&e)))?;
        let timeout = service.limits.timeout;
        let fuel = service.limits.fuel;
        let shared = Arc::new(Shared::default());
        let outcome = Arc::clone(&shared);
        let (method, path) = (method.to_string(), path.to_string());
        let server = Arc::clone(&self);
        // The guest runs in a task of its own: it may go on writing the body after it has
        // sent the response's head, and it holds its slot until it is done. Whoever holds the
        // task (this future until the head, then the response body) stops it when dropped:
        // the guest then ends at its next epoch tick and frees its slot.
        let task = AbortOnDrop(Some(tokio::spawn(async move {
            let _tracker = tracker;
            let store = &mut slot.store;
            let call = async {
                let proxy = app.pre.instantiate_async(&mut *store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut *store, incoming, out)
                    .await
            };
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, call).await {
                    Ok(result) => result,
                    Err(_) => Err(Trap::Interrupt.into()),
                },
                None => call.await,
            };
            let result = result
                .map_err(|err| classify(&err, store.data().limiter.hit.clone(), timeout, fuel));
            // Told before the store goes: dropping it ends the response body, which must
            // know by then whether the guest failed.
            if let Some(late) = outcome.settle(result.clone()) {
                server.log_late(&method, &path, &late);
            }
            // The store (the pool's slot) first, then the permit: a request let in by the
            // permit finds the slot free.
            drop(slot);
            result
        })));
        let mut task = task;
        match receiver.await {
            Ok(Ok(response)) => Ok(Answer {
                response,
                task,
                shared,
            }),
            Ok(Err(code)) => Err(Failure::internal(format!(
                "the component answered with an error: {code:?}"
            ))),
            // The guest ended without a response: its task says why.
            Err(_) => Err(match task.0.as_mut() {
                Some(handle) => match handle.await {
                    Ok(Ok(())) => Failure::internal(
                        "the component returned without setting a response (`response-outparam.set`)",
                    ),
                    Ok(Err(failure)) => failure,
                    Err(join) => Failure::internal(format!("the request's task failed: {join}")),
                },
                None => Failure::internal("the request's task was lost"),
            }),
        }
    }

    /// A guest that failed after its response had ended: the client got all of it, but the
    /// failure is still worth a line.
    fn log_late(&self, method: &str, path: &str, failure: &Failure) {
        let message = format!(
            "{} {}: after its response was complete, {}",
            untrusted(method),
            untrusted(path),
            untrusted(&failure.message)
        );
        match self.settings.log {
            AccessLog::Json => super::json_line(&serde_json::json!({
                "event": "late-failure",
                "method": method,
                "path": path,
                "error": failure.message,
            })),
            AccessLog::Text | AccessLog::Off => {
                anstream::eprintln!("{}warning{:#}: {message}", output::WARN, output::WARN)
            }
        }
    }

    /// One line of the access log. `status` is `None` when no response was sent.
    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        status: Option<http::StatusCode>,
        took: Duration,
        error: Option<&str>,
    ) {
        let code = status.map_or_else(|| "-".to_string(), |s| s.as_u16().to_string());
        // In an app, the service first: `users GET /users/7`, `db ← users GET /rows`.
        // A callee's name may come from a guest (`http://NAME.internal/`).
        let by = match (&who.service, &who.caller) {
            (service, _) if service.is_empty() => String::new(),
            (service, None) => format!("{} ", untrusted(service)),
            (service, Some(caller)) => format!("{} \u{2190} {caller} ", untrusted(service)),
        };
        match self.settings.log {
            AccessLog::Off => {
                if let Some(error) = error {
                    anstream::eprintln!(
                        "{}error{:#}: {by}{} {} {code}: {}",
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
                        "{by}{} {} {code} {ms:.1}ms {}error{:#}: {}",
                        untrusted(method),
                        untrusted(path),
                        output::ERROR,
                        output::ERROR,
                        untrusted(error)
                    ),
                    None => anstream::eprintln!(
                        "{by}{} {} {code} {DIM}{ms:.1}ms{DIM:#}",
                        untrusted(method),
                        untrusted(path),
                    ),
                }
            }
            AccessLog::Json => {
                let mut line = serde_json::json!({
                    "event": "request",
                    "method": method,
                    "path": path,
                    "status": status.map(|s| s.as_u16()),
                    "ms": (took.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
                    "error": error,
                });
                if !who.service.is_empty() {
                    line["service"] = who.service.clone().into();
                    line["caller"] = who.caller.clone().into();
                }
                super::json_line(&line);
            }
        }
    }
}

/// Whose request a log line is: the service (empty when one component is served) and, for an
/// in-process call, the service that called.
#[derive(Debug, Clone, Default)]
struct Who {
    service: String,
    caller: Option<String>,
}

/// The host a client's request names (`Host`, or the URI's authority), lowercase, without the
/// port.
fn request_host<B>(request: &hyper::Request<B>) -> String {
    let authority = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority.as_str(),
    };
    host.to_ascii_lowercase()
}

/// Headers an app's service gets: the prefix its route removed, and the path as the client
/// sent it (a client's own are replaced, never trusted).
pub const PREFIX_HEADER: &str = "x-forwarded-prefix";
pub const FULL_PATH_HEADER: &str = "x-full-path";

/// A client's request as the service of `route` sees it: the route's prefix removed from the
/// path (`/users/7?x=1` → `/7?x=1`), the prefix and the full path in headers.
fn for_service<B>(route: &Route, request: hyper::Request<B>) -> hyper::Request<B> {
    let (mut parts, body) = request.into_parts();
    parts.headers.remove(PREFIX_HEADER);
    parts.headers.remove(FULL_PATH_HEADER);
    let full = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    if let Some(prefix) = route.prefix.as_deref().filter(|p| *p != "/") {
        let path = route.strip(parts.uri.path()).into_owned();
        let with_query = match parts.uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut uri = parts.uri.clone().into_parts();
        if let Ok(p) = http::uri::PathAndQuery::try_from(with_query.as_str()) {
            uri.path_and_query = Some(p);
            if let Ok(uri) = http::Uri::from_parts(uri) {
                parts.uri = uri;
            }
        }
        if let Ok(value) = http::HeaderValue::from_str(prefix) {
            parts.headers.insert(PREFIX_HEADER, value);
        }
    }
    if let Ok(value) = http::HeaderValue::from_str(&full) {
        parts.headers.insert(FULL_PATH_HEADER, value);
    }
    hyper::Request::from_parts(parts, body)
}

/// What `dispatch` hands on once the guest has sent its response's head.
struct Answer {
    response: hyper::Response<HyperOutgoingBody>,
    task: AbortOnDrop,
    shared: Arc<Shared>,
}

/// A request's place in the wait queue: counted while it waits, and no longer once it has a
/// slot or its client has left.
struct Waiting<'a> {
    queued: &'a AtomicUsize,
    /// How many were waiting before this one.
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn enter(queued: &'a AtomicUsize) -> Waiting<'a> {
        Waiting {
            ahead: queued.fetch_add(1, Ordering::SeqCst),
            queued,
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request's instance and its concurrency slot. The store goes first — fields are dropped in
/// the order they are declared —: the pooling allocator's slot is free only once the store is
/// dropped, and a waiting request let in by the permit before that would find the pool full
/// ("maximum concurrent limit reached"). Keep `store` first.
struct Slot {
    store: Store<State>,
    /// A request from a client holds one; an in-process call runs under its caller's.
    _permit: Option<OwnedSemaphorePermit>,
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

/// What the guest's task and the response body know of each other: how the guest ended (set
/// before its store is dropped) and whether the body had already ended by then.
#[derive(Default)]
struct Shared(Mutex<(Option<Result<(), Failure>>, bool)>);

impl Shared {
    /// The guest's task ended with `result`. Returns the failure when the response had already
    /// ended whole (nobody else will report it).
    fn settle(&self, result: Result<(), Failure>) -> Option<Failure> {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        state.0 = Some(result.clone());
        match (&result, state.1) {
            (Err(failure), true) => Some(failure.clone()),
            _ => None,
        }
    }

    /// The response body has ended: the guest's failure, if it has failed already (then the
    /// body is incomplete); else the response is whole.
    fn body_ended(&self) -> Option<Failure> {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &state.0 {
            Some(Err(failure)) => Some(failure.clone()),
            _ => {
                state.1 = true;
                None
            }
        }
    }
}

/// The response body as the client gets it: the guest's body, ended with an error (hyper then
/// closes the connection without the last chunk, so the client sees an incomplete body) when
/// the guest failed before finishing it. The request is logged when it ends; dropped before
/// that (the client left, or the server stopped), it stops the guest.
struct GuardedBody {
    inner: HyperOutgoingBody,
    task: AbortOnDrop,
    shared: Arc<Shared>,
    log: Option<RequestLog>,
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, wasmtime_wasi_http::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(error))) => {
                let why = match this.shared.body_ended() {
                    Some(failure) => failure.message,
                    None => format!("the response body failed: {error:?}"),
                };
                if let Some(log) = this.log.take() {
                    log.cut(&why);
                }
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => match this.shared.body_ended() {
                Some(failure) => {
                    if let Some(log) = this.log.take() {
                        log.cut(&failure.message);
                    }
                    Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseIncomplete)))
                }
                None => {
                    if let Some(log) = this.log.take() {
                        let status = log.status;
                        log.finish(status, None);
                    }
                    // The response is whole: a guest still running after it goes on to its
                    // end (or its limits) on its own.
                    this.task.0 = None;
                    Poll::Ready(None)
                }
            },
        }
    }
}

/// A request's line in the access log, written once: when its response has ended, or — if it
/// is dropped before that — saying why it did not (its client left, or the server abandoned
/// it). It also counts the request as in flight, for its connection and for shutdown.
struct RequestLog {
    server: Arc<Server>,
    conn: Option<Arc<ConnState>>,
    method: String,
    path: String,
    who: Who,
    started: Instant,
    /// The status answered, once the head is handed to hyper.
    status: Option<http::StatusCode>,
    /// The connection's bytes written when it was: more since means the head went out.
    head_mark: u64,
    done: bool,
}

impl RequestLog {
    /// `conn`: the client's connection (none for an in-process call); `who`: the service (and
    /// its caller) in an app's log, empty otherwise.
    fn new(
        server: Arc<Server>,
        conn: Option<Arc<ConnState>>,
        method: &str,
        path: &str,
        who: Who,
    ) -> RequestLog {
        if let Some(conn) = &conn {
            server.in_flight.fetch_add(1, Ordering::SeqCst);
            conn.request_started();
        }
        RequestLog {
            server,
            conn,
            method: method.to_string(),
            path: path.to_string(),
            who,
            started: Instant::now(),
            status: None,
            head_mark: 0,
            done: false,
        }
    }

    /// The guest has answered: its response, whose body logs the request when it ends.
    fn respond(mut self, answer: Answer) -> hyper::Response<HyperOutgoingBody> {
        let (parts, body) = answer.response.into_parts();
        self.answered(parts.status);
        let body = GuardedBody {
            inner: body,
            task: answer.task,
            shared: answer.shared,
            log: Some(self),
        };
        hyper::Response::from_parts(parts, body.boxed_unsync())
    }

    /// The response with `status` is handed to hyper.
    fn answered(&mut self, status: http::StatusCode) {
        self.status = Some(status);
        self.head_mark = self.written();
    }

    /// The status the client has received: none until bytes of the response went out (a
    /// failure right after the head can close the connection before hyper writes it).
    fn sent(&self) -> Option<http::StatusCode> {
        match &self.conn {
            Some(_) => self.status.filter(|_| self.written() > self.head_mark),
            // The caller holds the response as soon as it is answered.
            None => self.status,
        }
    }

    fn written(&self) -> u64 {
        self.conn.as_ref().map_or(0, |c| c.written())
    }

    /// Logs a response the server cut (the connection is closed without the body's end) and
    /// why: after its head, or before anything of it went out.
    fn cut(self, why: &str) {
        match self.sent() {
            Some(status) => self.finish(
                Some(status),
                Some(&format!("the response was cut after its head: {why}")),
            ),
            None => self.finish(
                None,
                Some(&format!(
                    "the connection was closed before the response went out: {why}"
                )),
            ),
        }
    }

    /// Logs the request as it ended: with `status` and `error`.
    fn finish(mut self, status: Option<http::StatusCode>, error: Option<&str>) {
        self.done = true;
        self.server.log(
            &self.who,
            &self.method,
            &self.path,
            status,
            self.started.elapsed(),
            error,
        );
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.done {
            let sent = self.sent();
            let message = if let Some(why) = self.server.abandoning.get() {
                format!("abandoned: {why}; the request was stopped")
            } else if self.conn.is_none() {
                "the calling service dropped the response; the request was stopped".to_string()
            } else if sent.is_none() {
                "the client closed the connection before the response; the request was stopped"
                    .to_string()
            } else {
                "the client closed the connection during the response; the request was stopped"
                    .to_string()
            };
            // No response was sent: 499 as nginx logs it ("client closed request"), or nothing
            // when the server itself gave up on the request.
            let status = match (sent, self.server.abandoning.get()) {
                (Some(status), _) => Some(status),
                (None, Some(_)) => None,
                (None, None) => http::StatusCode::from_u16(499).ok(),
            };
            self.server.log(
                &self.who,
                &self.method,
                &self.path,
                status,
                self.started.elapsed(),
                Some(&message),
            );
        }
        if let Some(conn) = &self.conn {
            self.server.in_flight.fetch_sub(1, Ordering::SeqCst);
            conn.request_ended();
        }
    }
}

/// Why a request failed on the host's side, and the status the client gets.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    status: http::StatusCode,
    /// For the server's log (the client gets the status's text).
    message: String,
    /// 503 from a full queue: the client may try again in a moment.
    retry_after: bool,
}

impl Failure {
    fn internal(message: impl Into<String>) -> Failure {
        Failure {
            status: http::StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            retry_after: false,
        }
    }

    fn response(&self) -> hyper::Response<HyperOutgoingBody> {
        self.response_saying("")
    }

    /// The response, its body saying `why` after the status (nothing when empty).
    fn response_saying(&self, why: &str) -> hyper::Response<HyperOutgoingBody> {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        let body = Full::new(Bytes::from(format!(
            "{} {reason}{why}\n",
            self.status.as_u16()
        )))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
        let mut response = hyper::Response::new(body);
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.retry_after {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
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
            retry_after: false,
        },
        Some(Trap::OutOfFuel) => Failure::internal(format!(
            "the request used all its fuel (--fuel {}) and was stopped",
            fuel.unwrap_or_default()
        )),
        Some(trap) => Failure::internal(format!("the guest trapped: {trap}")),
        None => Failure::internal(format!("the guest failed: {}", error_text(err))),
    }
}

/// Whether the server is stopping without waiting (for [`RequestLog`]'s lines).
pub(super) fn abandon(server: &Server, why: String) {
    let _ = server.abandoning.set(why);
}
