//! The minimal runtime behind `agw serve`: every port of a checked file, its routes and their
//! policies in the gateway's order (CORS, authentication, authorization, header changes, the
//! backend), MCP backends relayed to stdio and Streamable HTTP targets, and reload on change.

pub mod auth;
pub mod body;
pub mod cors;
mod handler;
pub mod mcp;
mod proxy;
pub mod router;
pub mod runtime;
pub mod wellknown;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::check::{check_bytes, CheckOptions};
use crate::config::Config;
use auth::{Verifier, VerifierOptions};
use runtime::Runtime;

/// Limits of the runtime.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub header_read_timeout: Duration,
    pub max_sessions: usize,
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
            max_sessions: 256,
            max_children: 256,
            session_idle_timeout: Duration::from_secs(900),
            init_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// What `agw serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub file: PathBuf,
    pub listen: IpAddr,
    pub check: CheckOptions,
    pub root: PathBuf,
    /// How often to look for changes; `None`: never reload.
    pub reload_interval: Option<Duration>,
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
    generation: AtomicU64,
}

/// The largest metadata or registration answer read from an issuer.
const MAX_ISSUER_BODY: usize = 1024 * 1024;

impl Shared {
    /// GETs a JSON document from an issuer (bounded in time and size).
    pub async fn fetch_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        let status = resp.status();
        let bytes = read_capped(resp, MAX_ISSUER_BODY)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url} answered HTTP {}", status.as_u16()));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{url} did not answer JSON: {e}"))
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
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = resp.status();
        let ct = resp.headers().get(http::header::CONTENT_TYPE).cloned();
        let bytes = read_capped(resp, MAX_ISSUER_BODY)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok((status, ct, bytes))
    }
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Bytes, String> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if buf.len() + chunk.len() > cap {
            return Err(format!("answer larger than {cap} bytes; refused"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Serves `first` (a file that passed `check`) until SIGTERM or SIGINT.
pub async fn serve(opts: ServeOptions, first: Config) -> Result<(), String> {
    let verifier = Verifier::new(opts.verifier.clone())?;
    let rt = Runtime::build(&first, 1, &opts.root).map_err(|e| e.to_string())?;
    for s in &rt.skipped {
        tracing::warn!("{s}");
    }
    if rt.ports.is_empty() {
        return Err("the file has no HTTP listener that `agw serve` can serve".into());
    }
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
    let shared = Arc::new(Shared {
        runtime: ArcSwap::from_pointee(rt),
        sessions: mcp::Sessions::new(&opts.limits),
        limits: opts.limits.clone(),
        verifier,
        http,
        proxy,
        metadata_cache: Mutex::new(HashMap::new()),
        in_flight: std::sync::atomic::AtomicUsize::new(0),
        generation: AtomicU64::new(1),
    });
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
    // Without reload, the accept loops live as long as this holder.
    let mut _ports_holder = None;
    let watcher = match opts.reload_interval {
        Some(every) => {
            let shared = shared.clone();
            let opts = opts.clone();
            let shutdown = shutdown_rx.clone();
            Some(tokio::spawn(async move {
                watch_loop(shared, opts, every, ports, shutdown).await
            }))
        }
        None => {
            _ports_holder = Some(ports);
            None
        }
    };
    wait_for_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = shutdown_tx.send(true);
    if let Some(w) = watcher {
        let _ = w.await;
    }
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
struct Ports {
    listen: IpAddr,
    running: HashMap<u16, watch::Sender<bool>>,
    shared: Arc<Shared>,
    tracker: TaskTracker,
    shutdown: watch::Receiver<bool>,
}

impl Ports {
    /// Listens on every port of `wanted` not yet listened on and stops the others. Binding
    /// happens before anything is stopped, so a failure leaves things as they were.
    async fn sync(&mut self, wanted: &[u16]) -> Result<(), String> {
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
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout);
    let builder = Arc::new(builder);
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = stopped(&mut shutdown) => break,
            r = listener.accept() => match r {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let builder = builder.clone();
                    let conn_shutdown = shutdown.clone();
                    tracker.spawn(serve_connection(shared, builder, stream, port, conn_shutdown));
                }
                Err(e) => {
                    tracing::warn!(port, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    builder: Arc<hyper_util::server::conn::auto::Builder<TokioExecutor>>,
    stream: tokio::net::TcpStream,
    port: u16,
    mut shutdown: watch::Receiver<bool>,
) {
    let svc = service_fn(move |req| handler::handle(shared.clone(), port, req));
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// What a watched file looked like: modification time and size, or absent.
type Stamp = Vec<Option<(SystemTime, u64)>>;

fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        })
        .collect()
}

fn watched_paths(file: &Path, rt: &Runtime) -> Vec<PathBuf> {
    let mut v = vec![file.to_path_buf()];
    v.extend(rt.watched.iter().cloned());
    v.sort();
    v.dedup();
    v
}

async fn watch_loop(
    shared: Arc<Shared>,
    opts: ServeOptions,
    every: Duration,
    mut ports: Ports,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut paths = watched_paths(&opts.file, &shared.runtime.load());
    let mut last = stamp(&paths);
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => return,
            _ = tokio::time::sleep(every) => {}
        }
        let now = stamp(&paths);
        if now == last {
            continue;
        }
        for (i, p) in paths.iter().enumerate() {
            if now.get(i) != last.get(i) && p != &opts.file {
                shared.verifier.file_changed(p);
            }
        }
        reload(&shared, &opts, &mut ports).await;
        paths = watched_paths(&opts.file, &shared.runtime.load());
        last = stamp(&paths);
    }
}

/// Loads the file again; the new version goes live only if it passes `check` and its ports
/// can be bound. Otherwise the last good one keeps serving.
async fn reload(shared: &Arc<Shared>, opts: &ServeOptions, ports: &mut Ports) {
    let name = opts.file.display().to_string();
    let bytes = match crate::commands::read_config(&opts.file, &opts.check) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(file = %name, error = %e, "reload failed; the previous configuration keeps serving");
            return;
        }
    };
    let loaded = check_bytes(&name, bytes, &opts.check);
    if loaded.has_errors() || loaded.config.is_none() {
        let text = crate::diag::human::render(std::slice::from_ref(&loaded.report), false);
        tracing::error!(file = %name, "reload refused: the file does not pass `agw check`; the previous configuration keeps serving\n{text}");
        return;
    }
    let cfg = loaded.config.unwrap();
    let generation = shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
    let rt = match Runtime::build(&cfg, generation, &opts.root) {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(file = %name, error = %e, "reload refused; the previous configuration keeps serving");
            return;
        }
    };
    for s in &rt.skipped {
        tracing::warn!("{s}");
    }
    let wanted: Vec<u16> = rt.ports.keys().copied().collect();
    if let Err(e) = ports.sync(&wanted).await {
        tracing::error!(file = %name, error = %e, "reload refused; the previous configuration keeps serving");
        return;
    }
    shared.runtime.store(Arc::new(rt));
    shared.metadata_cache.lock().unwrap().clear();
    tracing::info!(file = %name, generation, "configuration reloaded");
}
