//! One MCP session: a client on one side, one connection per target on the other. Requests are
//! relayed with ids of the session's own (responses are matched by id, whatever the target
//! writes first); [`fanout`] routes them to the targets and merges what comes back, and
//! [`authz`] leaves out what `mcpAuthorization` denies.

mod authz;
mod fanout;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use super::rpc_error;
use super::upstream::{self, Reporter, Upstream, UpstreamEvent};
use super::Slot;
use crate::config::mcp::FailureMode;
use crate::serve::auth::Owner;
use crate::serve::runtime::McpCtx;
use crate::serve::Shared;

/// A JSON-RPC error to answer with.
#[derive(Debug, Clone)]
pub struct RpcErr {
    pub code: i64,
    pub message: String,
    /// The HTTP status the error goes out with (200 for most JSON-RPC errors).
    pub http_status: u16,
}

impl RpcErr {
    pub fn new(code: i64, message: impl Into<String>) -> RpcErr {
        RpcErr {
            code,
            message: message.into(),
            http_status: 200,
        }
    }
}

/// Why a session could not start.
#[derive(Debug)]
pub struct StartError {
    pub status: http::StatusCode,
    pub message: String,
}

impl StartError {
    /// Out of a resource (sessions, child processes, file descriptors): 503 with
    /// `Retry-After`.
    fn busy(message: String) -> StartError {
        StartError {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
            message,
        }
    }

    /// The answer to the client's `initialize` (request id `id`).
    pub fn response(&self, id: Value) -> http::Response<crate::serve::body::Body> {
        let mut r = crate::serve::body::json(self.status, &rpc_error(id, -32000, &self.message));
        if self.status == http::StatusCode::SERVICE_UNAVAILABLE {
            crate::serve::body::retry_after(&mut r);
        }
        r
    }
}

/// What admits a new session: its place among the open sessions (none for a stateless
/// request), the caller it belongs to, and the fingerprint of the route's authentication.
pub struct Admission {
    pub slot: Option<Slot>,
    pub owner: Option<Owner>,
    pub fingerprint: u64,
}

struct Pending {
    target: usize,
    client_id: Value,
    progress: Option<Value>,
    /// Where notifications and server requests related to this request go.
    events: Option<mpsc::Sender<Value>>,
    done: oneshot::Sender<Value>,
}

pub struct Session {
    pub id: String,
    /// The start of the id, for the log (the whole id is never logged).
    pub tag: String,
    /// The caller that opened the session; nobody else may use it.
    pub owner: Option<Owner>,
    /// The route's authentication when the session was opened.
    pub fingerprint: u64,
    slot: Mutex<Option<Slot>>,
    pub ctx: Arc<McpCtx>,
    upstreams: Vec<Upstream>,
    names: Vec<String>,
    live: Mutex<Vec<bool>>,
    next_id: AtomicU64,
    next_server_id: AtomicU64,
    pending: Mutex<HashMap<u64, Pending>>,
    server_reqs: Mutex<HashMap<u64, (usize, Value)>>,
    get_stream: Mutex<Option<mpsc::Sender<Bytes>>>,
    last_used: Mutex<Instant>,
    ended: Mutex<Option<String>>,
    owners: Mutex<fanout::Owners>,
    /// Dropped when the session ends, which stops the task that takes the targets' events (a
    /// connection may hold its sender longer, e.g. until its child has exited).
    stop_events: Mutex<Option<oneshot::Sender<()>>>,
}

impl Session {
    /// Starts the targets and relays the client's `initialize` to each. Returns the session and
    /// the (merged) initialize result.
    pub async fn start(
        shared: &Shared,
        ctx: Arc<McpCtx>,
        init_params: Value,
        admission: Admission,
    ) -> Result<(Arc<Session>, Value), StartError> {
        let permits = child_permits(shared, &ctx)?;
        let session = Session::spawn(shared, ctx, permits, admission);
        let results = session
            .initialize_all(init_params, shared.limits.init_timeout)
            .await;
        let result = session.settle(results)?;
        Ok((session, result))
    }

    /// Connects to every target (`permits` holds a child-process permit for each stdio one)
    /// and starts taking their events.
    fn spawn(
        shared: &Shared,
        ctx: Arc<McpCtx>,
        permits: Vec<Option<OwnedSemaphorePermit>>,
        admission: Admission,
    ) -> Arc<Session> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tag = super::short_id(&id).to_string();
        let backends = shared.runtime.load().backends.clone();
        let (events, inbox) = mpsc::unbounded_channel();
        let upstreams: Vec<Upstream> = ctx
            .backend
            .targets
            .iter()
            .zip(permits)
            .enumerate()
            .map(|(i, (t, permit))| {
                let reporter = Reporter::new(i, events.clone());
                upstream::start(t, reporter, &tag, permit, &shared.http, &backends)
            })
            .collect();
        let (stop_events, stopped) = oneshot::channel();
        let session = Arc::new(Session {
            names: ctx.backend.targets.iter().map(|t| t.name.clone()).collect(),
            live: Mutex::new(vec![true; upstreams.len()]),
            upstreams,
            id,
            tag,
            owner: admission.owner,
            fingerprint: admission.fingerprint,
            slot: Mutex::new(admission.slot),
            ctx,
            next_id: AtomicU64::new(1),
            next_server_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            server_reqs: Mutex::new(HashMap::new()),
            get_stream: Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
            ended: Mutex::new(None),
            owners: Mutex::new(fanout::Owners::default()),
            stop_events: Mutex::new(Some(stop_events)),
        });
        tokio::spawn(take_events(Arc::downgrade(&session), inbox, stopped));
        session
    }

    /// Relays the client's `initialize` to every target at once; each answers with its result
    /// or with why it could not start.
    async fn initialize_all(
        self: &Arc<Self>,
        params: Value,
        timeout: Duration,
    ) -> Vec<Result<Value, String>> {
        let inits = (0..self.upstreams.len()).map(|i| self.initialize(i, params.clone(), timeout));
        join_all(inits).await
    }

    async fn initialize(
        self: &Arc<Self>,
        idx: usize,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, String> {
        if let Upstream::Failed(e) | Upstream::Exhausted(e) = &self.upstreams[idx] {
            return Err(e.clone());
        }
        let name = &self.names[idx];
        match tokio::time::timeout(timeout, self.call(idx, "initialize", params, None)).await {
            Err(_) => Err(format!(
                "MCP server `{name}` did not answer initialize within {} s",
                timeout.as_secs()
            )),
            Ok(Err(e)) => Err(e.message),
            Ok(Ok(msg)) => match msg.get("result") {
                Some(r) => Ok(r.clone()),
                None => Err(format!(
                    "MCP server `{name}` refused initialize: {}",
                    msg.pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                )),
            },
        }
    }

    /// Stops the targets that did not initialize, and decides from the others whether the
    /// session is served (all of them, or with `failOpen` any of them) and with what
    /// initialize result.
    fn settle(&self, results: Vec<Result<Value, String>>) -> Result<Value, StartError> {
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(v) => ok.push((i, v)),
                Err(e) => {
                    self.live.lock().unwrap()[i] = false;
                    self.upstreams[i].close();
                    errors.push(e)
                }
            }
        }
        if ok.is_empty() || (!errors.is_empty() && !self.fail_open()) {
            let message = errors.join("; ");
            self.end(&message);
            let exhausted = self
                .upstreams
                .iter()
                .any(|u| matches!(u, Upstream::Exhausted(_)));
            if exhausted {
                return Err(StartError::busy(message));
            }
            return Err(StartError {
                status: http::StatusCode::BAD_GATEWAY,
                message,
            });
        }
        for e in &errors {
            tracing::warn!(session = %self.tag, "failOpen: serving without a target: {e}");
        }
        Ok(if self.upstreams.len() == 1 {
            ok.pop().map(|(_, v)| v).unwrap_or(Value::Null)
        } else {
            fanout::merge_initialize(&ok)
        })
    }

    fn fail_open(&self) -> bool {
        self.ctx.backend.failure_mode == Some(FailureMode::FailOpen)
    }

    pub fn touch(&self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }

    pub fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap().elapsed()
    }

    pub fn busy(&self) -> bool {
        !self.pending.lock().unwrap().is_empty()
    }

    pub fn ended(&self) -> Option<String> {
        self.ended.lock().unwrap().clone()
    }

    pub fn pids(&self) -> Vec<u32> {
        self.upstreams.iter().filter_map(Upstream::pid).collect()
    }

    /// Ends the session: pending requests get a JSON-RPC error, streams close, targets stop.
    pub fn end(&self, reason: &str) {
        {
            let mut e = self.ended.lock().unwrap();
            if e.is_some() {
                return;
            }
            *e = Some(reason.to_string());
        }
        let pending: Vec<(u64, Pending)> = self.pending.lock().unwrap().drain().collect();
        for (n, p) in pending {
            let _ = p.done.send(rpc_error(
                json!(n),
                -32000,
                &format!("{reason}; the MCP session has ended, initialize a new one"),
            ));
        }
        self.get_stream.lock().unwrap().take();
        for u in &self.upstreams {
            u.close();
        }
        self.stop_events.lock().unwrap().take();
        self.slot.lock().unwrap().take();
    }

    /// Ends the server-to-client stream, if one is open; true if one was.
    pub fn close_stream(&self) -> bool {
        self.get_stream
            .lock()
            .unwrap()
            .take()
            .is_some_and(|tx| !tx.is_closed())
    }

    /// Opens the server-to-client stream (GET). `None` if one is already open.
    pub fn open_stream(&self) -> Option<mpsc::Receiver<Bytes>> {
        let mut g = self.get_stream.lock().unwrap();
        if g.as_ref().is_some_and(|tx| !tx.is_closed()) {
            return None;
        }
        let (tx, rx) = mpsc::channel(256);
        *g = Some(tx);
        Some(rx)
    }

    // -- events of targets ---------------------------------------------------------------------

    /// A target's connection ended on its own (the child exited, the remote session expired).
    fn upstream_ended(&self, idx: usize, reason: String) {
        if self.ended().is_some() {
            return;
        }
        tracing::warn!(session = %self.tag, mcp_target = %self.names[idx], "{reason}; ending the session");
        self.end(&reason);
    }

    fn on_message(&self, idx: usize, mut msg: Value) {
        let method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
        let id = msg.get("id").cloned();
        match (method, id) {
            (None, Some(id)) => {
                let Some(n) = id.as_u64() else { return };
                let p = self.pending.lock().unwrap().remove(&n);
                if let Some(p) = p {
                    let _ = p.done.send(msg);
                }
            }
            (Some(_), Some(id)) => {
                let n = self.next_server_id.fetch_add(1, Ordering::Relaxed);
                self.server_reqs.lock().unwrap().insert(n, (idx, id));
                msg["id"] = json!(n);
                self.deliver(idx, msg, None, true);
            }
            (Some(m), None) => {
                let token = (m == "notifications/progress")
                    .then(|| msg.pointer("/params/progressToken").cloned())
                    .flatten();
                let related = m == "notifications/message";
                self.deliver(idx, msg, token, related);
            }
            (None, None) => {}
        }
    }

    /// Sends a message from a target to the client: on the stream of the request it belongs to
    /// when that is known, else on the GET stream, else on the stream of the target's only
    /// request in flight; otherwise it is dropped.
    fn deliver(&self, idx: usize, msg: Value, progress: Option<Value>, related: bool) {
        let pending = self.pending.lock().unwrap();
        if let Some(tok) = &progress {
            if let Some(tx) = pending
                .values()
                .find(|p| p.progress.as_ref() == Some(tok))
                .and_then(|p| p.events.as_ref())
            {
                let _ = tx.try_send(msg);
                return;
            }
        }
        let mut of_target = pending
            .values()
            .filter(|p| p.target == idx)
            .filter_map(|p| p.events.as_ref());
        let only = match (of_target.next(), of_target.next()) {
            (Some(tx), None) => Some(tx.clone()),
            _ => None,
        };
        drop(pending);
        if related {
            if let Some(tx) = &only {
                let _ = tx.try_send(msg);
                return;
            }
        }
        let stream = self.get_stream.lock().unwrap().clone();
        if let Some(s) = stream.filter(|s| !s.is_closed()) {
            let _ = s.try_send(crate::serve::body::sse_event(&msg));
            return;
        }
        if let Some(tx) = only {
            let _ = tx.try_send(msg);
        }
    }
}

/// Takes a child-process permit for each stdio target, before any is started, so that a
/// session either gets all its children or starts none.
fn child_permits(
    shared: &Shared,
    ctx: &McpCtx,
) -> Result<Vec<Option<OwnedSemaphorePermit>>, StartError> {
    ctx.backend
        .targets
        .iter()
        .map(|t| {
            if t.stdio.is_none() {
                return Ok(None);
            }
            match shared.sessions.children.clone().try_acquire_owned() {
                Ok(p) => Ok(Some(p)),
                Err(_) => Err(StartError::busy(format!(
                    "too many child processes (at most {}); close a session or raise --max-children",
                    shared.limits.max_children
                ))),
            }
        })
        .collect()
}

/// The session's one consumer of its targets' events, so that it sees each target's messages
/// in the order the target wrote them. It holds the session weakly: a session whose start was
/// abandoned is dropped without being ended, and must not be kept alive by its own task.
async fn take_events(
    session: Weak<Session>,
    mut inbox: mpsc::UnboundedReceiver<UpstreamEvent>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let event = tokio::select! {
            biased;
            _ = &mut stopped => return,
            event = inbox.recv() => event,
        };
        let (Some(event), Some(s)) = (event, session.upgrade()) else {
            return;
        };
        match event {
            UpstreamEvent::Message(idx, msg) => s.on_message(idx, msg),
            UpstreamEvent::Ended(idx, reason) => s.upstream_ended(idx, reason),
        }
    }
}
