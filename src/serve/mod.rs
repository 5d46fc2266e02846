//! The minimal runtime behind `agw serve`: every port of a checked file, its routes and their
//! policies in the gateway's order (CORS, authentication, authorization, header changes, the
//! backend), MCP backends relayed to stdio and Streamable HTTP targets, and reload on change.

pub mod auth;
pub mod body;
pub mod cors;
pub mod coverage;
mod handler;
pub mod mcp;
mod proxy;
pub mod reload;
pub mod rewrite;
pub mod router;
pub mod runtime;
pub mod wellknown;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::check::CheckOptions;
use crate::config::Config;
use auth::{Verifier, VerifierOptions};
use runtime::Runtime;

/// Limits of the runtime.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// Time a connection has to send its first request's headers (and HTTP/1 each request's).
    pub header_read_timeout: Duration,
    /// A connection with no request in progress for this long is closed.
    pub idle_timeout: Duration,
    /// Time a request body has to arrive whole, from its headers.
    pub body_timeout: Duration,
    /// HTTP/2 pings this often, and a peer that does not answer one within it is dropped.
    pub http2_keep_alive: Duration,
    /// Connections open at once; past it a connection gets 503 and is closed.
    pub max_connections: usize,
    pub max_sessions: usize,
    /// Sessions one caller (issuer, subject, client) may have open at once.
    pub max_sessions_per_identity: usize,
    pub max_children: usize,
    pub session_idle_timeout: Duration,
    pub init_timeout: Duration,
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            http2_keep_alive: Duration::from_secs(20),
            max_connections: 1024,
            max_sessions: 256,
            max_sessions_per_identity: 16,
            max_children: 256,
            session_idle_timeout: Duration::from_secs(900),
            init_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// File descriptors agw keeps for itself (listeners, clients, the runtime) before any session.
const BASE_FDS: u64 = 32;

/// File descriptors one child process costs agw (its stdin, stdout and stderr pipes), with one
/// to spare.
const FDS_PER_CHILD: u64 = 4;

impl Limits {
    /// Lowers the limits that cost file descriptors so that `open_files` is enough for all of
    /// them at once: past them a client gets 503, never "Too many open files".
    pub fn fit_open_files(&mut self, open_files: u64) {
        let avail = open_files.saturating_sub(BASE_FDS);
        let need = self.max_connections as u64 + FDS_PER_CHILD * self.max_children as u64;
        if need <= avail {
            return;
        }
        let connections = (self.max_connections as u64).min(avail / 2) as usize;
        if self.max_connections > connections {
            tracing::warn!(
                open_files,
                "--max-connections lowered from {} to {connections} to fit the open files limit",
                self.max_connections
            );
            self.max_connections = connections;
        }
        let children = ((avail - connections as u64) / FDS_PER_CHILD) as usize;
        if self.max_children > children {
            tracing::warn!(
                open_files,
                "--max-children lowered from {} to {children} to fit the open files limit",
                self.max_children
            );
            self.max_children = children;
        }
        if self.max_sessions > children {
            tracing::warn!(
                open_files,
                "--max-sessions lowered from {} to {children} to fit the open files limit",
                self.max_sessions
            );
            self.max_sessions = children;
        }
    }
}

/// Raises the soft limit of open files to the hard limit, and says so. Returns the limit now
/// in force.
fn raise_open_files_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct passed, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        tracing::warn!("cannot read the open files limit");
        return None;
    }
    let before = lim.rlim_cur;
    // An unlimited hard limit is not a number the kernel takes for the soft one.
    let target = if lim.rlim_max == libc::RLIM_INFINITY {
        before.max(1 << 20)
    } else {
        lim.rlim_max
    };
    if target > before {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            tracing::info!(
                from = before,
                to = target,
                "raised the open files limit to the hard limit"
            );
            return Some(target);
        }
        tracing::warn!(limit = before, "cannot raise the open files limit");
        return Some(before);
    }
    tracing::info!(limit = before, "open files limit");
    Some(before)
}

/// What `agw serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub file: PathBuf,
    pub listen: IpAddr,
    pub check: CheckOptions,
    pub root: PathBuf,
    /// When a changed file is loaded.
    pub reload: reload::Mode,
    /// How often the file is looked at (`reload::Mode::Watch`).
    pub reload_interval: Duration,
    /// How long a changed file must stay unchanged before it is read.
    pub reload_settle: Duration,
    pub limits: Limits,
    pub verifier: VerifierOptions,
}

/// State shared by every connection.
pub struct Shared {
    pub runtime: ArcSwap<Runtime>,
    pub limits: Limits,
    pub verifier: Verifier,
    pub sessions: mcp::Sessions,
    /// Talks to issuers and remote MCP targets.
    pub http: reqwest::Client,
    /// Forwards plain HTTP backends (no redirects followed).
    pub proxy: reqwest::Client,
    pub metadata_cache: Mutex<HashMap<String, (Instant, Value)>>,
    /// Requests being handled (until their response starts).
    pub in_flight: std::sync::atomic::AtomicUsize,
    /// One permit per connection that may be open.
    connections: Arc<Semaphore>,
    /// Connections refused past the limit, and when that was last logged.
    refused: AtomicU64,
    refusal_logged: Mutex<Option<Instant>>,
    /// Refused connections being answered 503 (bounded: past it they are just closed).
    refusing: Arc<Semaphore>,
    pub(crate) generation: AtomicU64,
}

/// The largest metadata or registration answer read from an issuer.
const MAX_ISSUER_BODY: usize = 1024 * 1024;

impl Shared {
    /// The state of a runtime `rt` about to be served.
    fn new(limits: Limits, verifier: Verifier, rt: Runtime) -> Result<Arc<Shared>, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let proxy = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Arc::new(Shared {
            runtime: ArcSwap::from_pointee(rt),
            sessions: mcp::Sessions::new(&limits),
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            limits,
            verifier,
            http,
            proxy,
            metadata_cache: Mutex::new(HashMap::new()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            refusal_logged: Mutex::new(None),
            refusing: Arc::new(Semaphore::new(REFUSING)),
            generation: AtomicU64::new(1),
        }))
    }

    /// GETs a JSON document from an issuer (bounded in time and size).
    pub async fn fetch_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot fetch {}: {}",
                    crate::diag::redact::mask_url_credentials(url),
                    e.without_url()
                )
            })?;
        let status = resp.status();
        let bytes = read_capped(resp, MAX_ISSUER_BODY)
            .await
            .map_err(|e| format!("{}: {e}", crate::diag::redact::mask_url_credentials(url)))?;
        if !status.is_success() {
            return Err(format!(
                "{} answered HTTP {}",
                crate::diag::redact::mask_url_credentials(url),
                status.as_u16()
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{} did not answer JSON: {e}",
                crate::diag::redact::mask_url_credentials(url)
            )
        })
    }

    /// POSTs `body` to an issuer; returns the status, content type and body.
    pub async fn post_bytes(
        &self,
        url: &str,
        content_type: HeaderValue,
        body: Bytes,
    ) -> Result<(http::StatusCode, Option<HeaderValue>, Bytes), String> {
        let resp = self
            .http
            .post(url)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot reach {}: {}",
                    crate::diag::redact::mask_url_credentials(url),
                    e.without_url()
                )
            })?;
        let status = resp.status();
        let ct = resp.headers().get(http::header::CONTENT_TYPE).cloned();
        let bytes = read_capped(resp, MAX_ISSUER_BODY)
            .await
            .map_err(|e| format!("{}: {e}", crate::diag::redact::mask_url_credentials(url)))?;
        Ok((status, ct, bytes))
    }
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Bytes, String> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if buf.len() + chunk.len() > cap {
            return Err(format!("answer larger than {cap} bytes; refused"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Serves `first` (the model of the file's version `version`, which passed `check`) until
/// SIGTERM or SIGINT.
pub async fn serve(
    opts: ServeOptions,
    first: Config,
    version: reload::Version,
) -> Result<(), String> {
    let mut opts = opts;
    if let Some(n) = raise_open_files_limit() {
        opts.limits.fit_open_files(n);
    }
    let verifier = Verifier::new(opts.verifier.clone())?;
    let rt = Runtime::build(&first, 1, &opts.root).map_err(|e| e.to_string())?;
    drop(first);
    rt.log_warnings();
    if rt.ports.is_empty() {
        return Err("the file has no HTTP listener that `agw serve` can serve".into());
    }
    let shared = Shared::new(opts.limits.clone(), verifier, rt)?;
    let hup = reload::sighup();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let tracker = TaskTracker::new();
    let mut ports = Ports {
        listen: opts.listen,
        running: HashMap::new(),
        shared: shared.clone(),
        tracker: tracker.clone(),
        shutdown: shutdown_rx.clone(),
    };
    let wanted: Vec<u16> = shared.runtime.load().ports.keys().copied().collect();
    ports.sync(&wanted).await?;
    let reaper = tokio::spawn(mcp::reaper(shared.clone(), shutdown_rx.clone()));
    let reloader = reload::Reloader::new(shared.clone(), opts.clone(), ports, version);
    release_memory();
    let watcher =
        tokio::spawn(reloader.run(opts.reload, opts.reload_interval, hup, shutdown_rx.clone()));
    wait_for_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = shutdown_tx.send(true);
    let _ = watcher.await;
    let _ = reaper.await;
    // In-flight requests finish (connections stop taking new ones); then sessions close, which
    // ends their streams and stops their child processes.
    let deadline = tokio::time::Instant::now() + opts.limits.drain_timeout;
    while (shared.in_flight.load(Ordering::SeqCst) > 0 || shared.sessions.any_busy())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if tokio::time::Instant::now() >= deadline {
        tracing::warn!("drain timeout reached; ending the requests still in flight");
    }
    shared
        .sessions
        .close_all("the gateway is shutting down")
        .await;
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(2), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("closing the remaining connections");
    }
    shared.sessions.wait_children(Duration::from_secs(5)).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves once the flag is set (or its sender is gone).
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The accept loops, one per port, started and stopped as configurations come and go.
pub(crate) struct Ports {
    listen: IpAddr,
    running: HashMap<u16, watch::Sender<bool>>,
    shared: Arc<Shared>,
    tracker: TaskTracker,
    shutdown: watch::Receiver<bool>,
}

impl Ports {
    /// Listens on every port of `wanted` not yet listened on and stops the others. Binding
    /// happens before anything is stopped, so a failure leaves things as they were.
    pub(crate) async fn sync(&mut self, wanted: &[u16]) -> Result<(), String> {
        let mut fresh = Vec::new();
        for &port in wanted {
            if self.running.contains_key(&port) {
                continue;
            }
            let addr = SocketAddr::new(self.listen, port);
            match TcpListener::bind(addr).await {
                Ok(l) => fresh.push((port, l)),
                Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
            }
        }
        let stale: Vec<u16> = self
            .running
            .keys()
            .filter(|p| !wanted.contains(p))
            .copied()
            .collect();
        for port in stale {
            if let Some(tx) = self.running.remove(&port) {
                let _ = tx.send(true);
                tracing::info!(port, "stopped listening");
            }
        }
        for (port, listener) in fresh {
            let local = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            tracing::info!(address = %local, "listening");
            let (tx, rx) = watch::channel(false);
            self.running.insert(port, tx);
            let shared = self.shared.clone();
            let tracker = self.tracker.clone();
            let shutdown = self.shutdown.clone();
            tokio::spawn(accept_loop(shared, listener, port, rx, shutdown, tracker));
        }
        Ok(())
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    port: u16,
    mut stop: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    tracker: TaskTracker,
) {
    let builder = Arc::new(conn_builder(&shared.limits));
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = stopped(&mut shutdown) => break,
            r = listener.accept() => match r {
                Ok((stream, _peer)) => {
                    let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
                        refuse(&shared, stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let builder = builder.clone();
                    let conn_shutdown = shutdown.clone();
                    tracker.spawn(serve_connection(shared, builder, stream, port, conn_shutdown, permit));
                }
                Err(e) => {
                    tracing::warn!(port, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// How connections are read: HTTP/1 and HTTP/2, with the limits in time.
fn conn_builder(limits: &Limits) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // hyper's timer runs from the end of one request to the head of the next, keep-alive
    // wait included: it bounds a later request's headers by the idle timeout. The first
    // request's headers are bounded by the connection's watchdog (`serve_connection`).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout.max(limits.header_read_timeout));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.http2_keep_alive))
        .keep_alive_timeout(limits.http2_keep_alive)
        .max_concurrent_streams(MAX_STREAMS);
    builder
}

/// Streams one HTTP/2 connection may have open at once.
const MAX_STREAMS: u32 = 100;

/// Refused connections answered at once; past it they are closed without an answer.
const REFUSING: usize = 64;

/// What a connection past `--max-connections` is told before it is closed.
fn busy_response() -> Vec<u8> {
    let body = r#"{"error":"unavailable","error_description":"too many connections; try again in a few seconds"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body::RETRY_AFTER_SECS,
        body.len()
    )
    .into_bytes()
}

/// Answers a connection past `--max-connections` with 503 and closes it (bounded in time).
fn refuse(shared: &Arc<Shared>, stream: tokio::net::TcpStream) {
    let n = shared.refused.fetch_add(1, Ordering::Relaxed) + 1;
    {
        let mut last = shared.refusal_logged.lock().unwrap();
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            tracing::warn!(
                refused = n,
                limit = shared.limits.max_connections,
                "connection refused with 503: --max-connections reached"
            );
        }
    }
    let Ok(permit) = shared.refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let mut buf = [0u8; 4096];
        let short = Duration::from_millis(200);
        let _ = tokio::time::timeout(short, stream.read(&mut buf)).await;
        let _ = tokio::time::timeout(short, stream.write_all(&busy_response())).await;
        let _ = stream.shutdown().await;
        // What the client still sends is read, so that closing does not reset the connection
        // before the client has read the answer.
        let _ = tokio::time::timeout(short, async {
            while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        })
        .await;
    });
}

/// What the watchdog of a connection knows: requests in progress (until their response body
/// is done), whether it has had one, and since when it has none.
struct ConnState {
    active: AtomicUsize,
    served: AtomicBool,
    idle_since: Mutex<Instant>,
}

/// Counts a request of a connection as in progress while it lives.
struct Active(Arc<ConnState>);

impl Active {
    fn new(s: &Arc<ConnState>) -> Active {
        s.served.store(true, Ordering::SeqCst);
        s.active.fetch_add(1, Ordering::SeqCst);
        Active(s.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in progress until it is done.
struct Tracked {
    inner: body::Body,
    _active: Active,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = body::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, body::BoxError>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves one connection until it ends, shutdown, or it has had no request in progress for
/// too long: `--header-read-timeout` before its first request (this covers a connection that
/// sends nothing, only the HTTP/2 preface, or trickles its first headers), `--idle-timeout`
/// after one.
async fn serve_connection<IO>(
    shared: Arc<Shared>,
    builder: Arc<hyper_util::server::conn::auto::Builder<TokioExecutor>>,
    stream: IO,
    port: u16,
    mut shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(ConnState {
        active: AtomicUsize::new(0),
        served: AtomicBool::new(false),
        idle_since: Mutex::new(Instant::now()),
    });
    let (first, idle) = (
        shared.limits.header_read_timeout,
        shared.limits.idle_timeout,
    );
    let st = state.clone();
    let svc = service_fn(move |req| {
        let active = Active::new(&st);
        let shared = shared.clone();
        async move {
            let resp = handler::handle(shared, port, req).await?;
            Ok::<_, std::convert::Infallible>(resp.map(|b| {
                http_body_util::BodyExt::boxed_unsync(Tracked {
                    inner: b,
                    _active: active,
                })
            }))
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    loop {
        let limit = if state.served.load(Ordering::SeqCst) {
            idle
        } else {
            first
        };
        let tick = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stopped(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
                return;
            }
            _ = tokio::time::sleep(tick) => {
                let quiet = state.active.load(Ordering::SeqCst) == 0
                    && state.idle_since.lock().unwrap().elapsed() >= limit;
                if quiet {
                    // Nothing in progress: dropping the connection closes it.
                    return;
                }
            }
        }
    }
}

/// The runtime of one configuration served over in-memory connections, without binding a
/// port: for tests and fuzzing of the HTTP front (the same connection handling, routing and
/// policies as `agw serve`).
pub struct Front {
    shared: Arc<Shared>,
    port: u16,
    builder: Arc<hyper_util::server::conn::auto::Builder<TokioExecutor>>,
    _shutdown: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
}

impl Front {
    /// The front of `cfg` (its first port), with `limits`. Call inside a Tokio runtime.
    pub fn new(cfg: &Config, limits: Limits, root: &std::path::Path) -> Result<Front, String> {
        let rt = Runtime::build(cfg, 1, root).map_err(|e| e.to_string())?;
        let port = *rt
            .ports
            .keys()
            .next()
            .ok_or("the file has no HTTP listener")?;
        let verifier = Verifier::new(VerifierOptions {
            refetch_cooldown: Duration::from_secs(30),
        })?;
        let mut builder = conn_builder(&limits);
        // The client closes its side once it has sent everything; the answer still comes.
        builder.http1().half_close(true);
        let builder = Arc::new(builder);
        let shared = Shared::new(limits, verifier, rt)?;
        let (tx, rx) = watch::channel(false);
        Ok(Front {
            shared,
            port,
            builder,
            _shutdown: tx,
            shutdown: rx,
        })
    }

    /// Serves one connection whose client sends `input`, reads until the server has been quiet
    /// for `quiet` (an HTTP/2 server ends the connection as soon as its peer closes), and then
    /// closes its side. Returns what the server wrote until it closed the connection, or until
    /// `within` passed.
    pub async fn exchange(&self, input: &[u8], quiet: Duration, within: Duration) -> Vec<u8> {
        let Ok(permit) = self.shared.connections.clone().try_acquire_owned() else {
            return busy_response();
        };
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let conn = tokio::spawn(serve_connection(
            self.shared.clone(),
            self.builder.clone(),
            server,
            self.port,
            self.shutdown.clone(),
            permit,
        ));
        let mut out = Vec::new();
        let talk = async {
            let _ = client.write_all(input).await;
            let mut buf = [0u8; 16 * 1024];
            loop {
                match tokio::time::timeout(quiet, client.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return,
                    Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
            let _ = client.shutdown().await;
            let _ = client.read_to_end(&mut out).await;
        };
        let _ = tokio::time::timeout(within, talk).await;
        conn.abort();
        out
    }
}

/// Gives memory freed by an old configuration back to the system (the allocator keeps freed
/// pages otherwise), once requests still holding it are likely done.
pub(crate) fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = tokio::task::spawn_blocking(|| {
            // SAFETY: malloc_trim only returns free pages of the allocator to the kernel.
            unsafe { libc::malloc_trim(0) };
        })
        .await;
    });
}
