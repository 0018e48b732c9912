//! Connections and shutdown: what keeps slow, idle or numerous clients from holding the server.
//!
//! - A client that has started a request's head must finish it within `--header-timeout` (a new
//!   connection counts as started); a connection with no request in flight is closed after
//!   `--idle-timeout`. Either way the connection is simply closed: no request was read.
//! - Open connections are limited by the file-descriptor limit (raised to its hard limit first,
//!   less what the instances may need): past it a client gets 503 at once and the connection is
//!   closed, instead of waiting for a descriptor that never comes.
//! - Accepting fails when the process is out of descriptors anyway (other files): the loop
//!   backs off, doubling its pause up to a second, and says so once per run of failures.
//! - Ctrl-C, SIGTERM or SIGHUP stops accepting and closes every connection with no request in
//!   flight; requests in flight have `--shutdown-timeout` to finish. A second signal, or that
//!   time passing, abandons them (they are logged as abandoned, and the stop says how many).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

use super::Settings;
use super::server::{self, Server};
use crate::host::limits::format_duration;
use crate::output;

/// What one connection is doing, for its timeouts and for shutdown.
pub(in crate::host::http) struct ConnState {
    /// The origin of the millisecond counts below.
    clock: Instant,
    /// Requests of this connection between their head and the end of their response.
    busy: AtomicUsize,
    /// When the connection last had no request in flight (ms since `clock`, plus one).
    idle_since: AtomicU64,
    /// When the first byte of the next request's head arrived (0: none yet). A new connection
    /// counts as having started one: it opened to send a request.
    head_started: AtomicU64,
    /// Bytes written to the client so far.
    written: AtomicU64,
    changed: Notify,
}

impl ConnState {
    fn new() -> Arc<ConnState> {
        Arc::new(ConnState {
            clock: Instant::now(),
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(1),
            head_started: AtomicU64::new(1),
            written: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Bytes written to the client so far.
    pub(in crate::host::http) fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// A request's head has been read: its handling begins.
    pub(in crate::host::http) fn request_started(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.head_started.store(0, Ordering::SeqCst);
    }

    /// A request's response has ended (or was cut).
    pub(in crate::host::http) fn request_ended(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle_since.store(self.now(), Ordering::SeqCst);
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: with no request in flight they begin the next request's head.
    fn bytes_read(&self) {
        if self.busy.load(Ordering::SeqCst) == 0
            && self
                .head_started
                .compare_exchange(0, self.now(), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// Resolves when the connection should be closed: a head begun `header` ago and still not
    /// whole, no request for `idle`, or — `stopping` — no request in flight now.
    async fn expired(&self, header: Duration, idle: Duration, stopping: bool) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        loop {
            let notified = self.changed.notified();
            let deadline = if self.busy.load(Ordering::SeqCst) > 0 {
                None
            } else if stopping {
                return;
            } else {
                match self.head_started.load(Ordering::SeqCst) {
                    0 => Some(
                        self.idle_since
                            .load(Ordering::SeqCst)
                            .saturating_add(ms(idle)),
                    ),
                    started => Some(started.saturating_add(ms(header))),
                }
            };
            match deadline {
                None => notified.await,
                Some(at) => {
                    let now = self.now();
                    if now >= at {
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(at - now)) => {}
                        () = notified => {}
                    }
                }
            }
        }
    }
}

/// A connection's socket, telling its [`ConnState`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    state: Arc<ConnState>,
}

impl Watched {
    fn count(&self, poll: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = poll {
            self.state.written.fetch_add(*n as u64, Ordering::SeqCst);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.state.bytes_read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.count(&poll);
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.count(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// How many connections may be open at once: the file-descriptor limit (the soft one, raised to
/// the hard one first, as Go's runtime does) less what the rest of the process needs — a few
/// dozen of its own, and for every concurrent request its granted folders and an outgoing
/// socket.
pub fn connection_limit(settings: &Settings) -> anyhow::Result<usize> {
    const CAP: u64 = 1 << 20;
    #[cfg(unix)]
    let soft = {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let hard = limit.maximum.unwrap_or(CAP).min(CAP);
        let mut soft = limit.current.unwrap_or(CAP).min(CAP);
        if soft < hard
            && setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(hard),
                    maximum: limit.maximum,
                },
            )
            .is_ok()
        {
            soft = hard;
        }
        soft
    };
    #[cfg(not(unix))]
    let soft = CAP;
    let per_request = 1 + settings.grants.dirs.len() as u64;
    let reserve = 64 + u64::from(settings.max_concurrency) * per_request;
    let limit = soft.saturating_sub(reserve);
    if limit < 4 {
        return Err(crate::exit::UsageError {
            message: format!(
                "the file-descriptor limit ({soft}) leaves no room for connections: \
                 --max-concurrency {} may need {reserve} descriptors for its requests' instances",
                settings.max_concurrency
            ),
            hint: "raise the limit (`ulimit -n 65536`) or lower --max-concurrency".into(),
        }
        .into());
    }
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Ctrl-C, SIGTERM and SIGHUP, listened to from before the server announces itself (a signal
/// after that never kills the process half-way).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must be called inside the runtime.
    pub fn new() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            #[cfg(unix)]
            term: signal(SignalKind::terminate())?,
            #[cfg(unix)]
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How serving ended.
#[derive(Debug)]
pub enum Stopped {
    /// Every request in flight finished.
    Clean,
    /// Requests were still in flight when the server stopped.
    Abandoned(Abandoned),
}

#[derive(Debug)]
pub struct Abandoned {
    /// Requests whose responses had not ended.
    pub requests: usize,
    /// Why the server did not wait for them.
    pub why: String,
    /// A second signal (rather than `--shutdown-timeout`) ended the wait.
    pub second_signal: bool,
}

/// The 503 a client gets when the server is at its connection limit.
const TOO_MANY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\n\
content-type: text/plain; charset=utf-8\r\ncontent-length: 24\r\n\r\n503 Service Unavailable\n";

/// Serves until Ctrl-C, SIGTERM or SIGHUP, with at most `max_connections` open, then stops
/// accepting, closes idle connections, and gives the requests in flight `--shutdown-timeout`.
pub async fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    signals: &mut Signals,
) -> anyhow::Result<Stopped> {
    let max_connections = server.settings.max_connections.max(1);
    let (tracker, mut finished) = mpsc::channel::<()>(1);
    let (stop, stopped) = watch::channel(false);
    let connections = Arc::new(Semaphore::new(max_connections));
    // Refusals at the limit take a descriptor each for a moment: a few at a time.
    let refusals = Arc::new(Semaphore::new(16));
    let mut tasks = JoinSet::new();
    let mut refused = Refused::default();
    let mut failures = 0u64;
    let mut pause = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = signals.next() => break,
        };
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _peer)) => {
                if failures > 0 {
                    output_warning(&format!(
                        "accepting connections works again (it failed {failures} times)"
                    ));
                    failures = 0;
                    pause = Duration::ZERO;
                }
                stream
            }
            Err(err) => {
                // Out of file descriptors and the like: back off, keep serving.
                failures += 1;
                if failures == 1 {
                    output_warning(&format!(
                        "accepting a connection failed: {err}; retrying with pauses of up to 1s (said again when it works)"
                    ));
                }
                pause = (pause * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                tokio::select! {
                    () = tokio::time::sleep(pause) => continue,
                    () = signals.next() => break,
                }
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            refused.note(max_connections);
            if let Ok(turn) = Arc::clone(&refusals).try_acquire_owned() {
                tasks.spawn(async move {
                    let _turn = turn;
                    let mut stream = stream;
                    let _ = tokio::time::timeout(Duration::from_secs(1), async {
                        let _ = stream.write_all(TOO_MANY).await;
                        let _ = stream.shutdown().await;
                    })
                    .await;
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let server = Arc::clone(&server);
        let tracker = tracker.clone();
        let mut stopped = stopped.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let state = ConnState::new();
            let settings = &server.settings;
            let (header, idle) = (settings.header_timeout, settings.idle_timeout);
            let io = TokioIo::new(Watched {
                stream,
                state: Arc::clone(&state),
            });
            let for_requests = Arc::clone(&state);
            let handler = Arc::clone(&server);
            let requests = tracker.clone();
            let service = hyper::service::service_fn(move |request| {
                Arc::clone(&handler).handle(request, Arc::clone(&for_requests), requests.clone())
            });
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, service);
            tokio::pin!(connection);
            let mut stopping = *stopped.borrow();
            if stopping {
                connection.as_mut().graceful_shutdown();
            }
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    // Dropping the connection closes it.
                    () = state.expired(header, idle, stopping) => break,
                    _ = stopped.changed(), if !stopping => {
                        // The request in flight (if any) finishes, then the connection closes.
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(tracker);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(tracker);
    let grace = server.settings.shutdown_timeout;
    let (why, second_signal) = tokio::select! {
        _ = finished.recv() => return Ok(Stopped::Clean),
        () = signals.next() => ("a second signal stopped the server".to_string(), true),
        () = tokio::time::sleep(grace) => (
            format!("the server stopped after --shutdown-timeout {}", format_duration(grace)),
            false,
        ),
    };
    let requests = server.in_flight.load(Ordering::SeqCst);
    server::abandon(&server, why.clone());
    // Dropping a connection drops its request, which logs itself as abandoned and stops its
    // guest at its next epoch tick.
    tasks.abort_all();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    Ok(Stopped::Abandoned(Abandoned {
        requests,
        why,
        second_signal,
    }))
}

/// Connections refused at the limit: said at the first, then at most every ten seconds with a
/// count.
#[derive(Default)]
struct Refused {
    count: u64,
    said: Option<Instant>,
}

impl Refused {
    fn note(&mut self, limit: usize) {
        self.count += 1;
        match self.said {
            None => {
                output_warning(&format!(
                    "refusing connections with 503: {limit} are open, the most the \
                     file-descriptor limit allows (raise it with `ulimit -n`)"
                ));
                self.said = Some(Instant::now());
                self.count = 0;
            }
            Some(at) if at.elapsed() >= Duration::from_secs(10) => {
                output_warning(&format!(
                    "{} more connection(s) refused with 503 in the last {}s ({limit} open)",
                    self.count,
                    at.elapsed().as_secs()
                ));
                self.said = Some(Instant::now());
                self.count = 0;
            }
            Some(_) => {}
        }
    }
}

fn output_warning(message: &str) {
    anstream::eprintln!("{}warning{:#}: {message}", output::WARN, output::WARN);
}
