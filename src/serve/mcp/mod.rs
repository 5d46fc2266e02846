//! MCP Streamable HTTP towards clients (POST, GET stream, DELETE, session ids), relayed to the
//! route's targets through [`session::Session`].

pub mod session;
pub mod upstream;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::auth::{AuthCtx, Identity, Owner};
use super::body::{self, sse_event, Body, ChannelBody, RequestBody};
use super::runtime::{auth_fingerprint, McpCtx, RouteCtx, Runtime};
use super::{Limits, Shared};
use session::Session;

pub const SESSION_HEADER: &str = "mcp-session-id";

pub fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

pub fn rpc_result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn http_error(status: StatusCode, code: i64, message: &str) -> Response<Body> {
    body::json(status, &rpc_error(Value::Null, code, message))
}

/// The open sessions, and the reasons of recently ended ones (so that a client learns why).
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// Ended sessions: id, owner, reason.
    ended: Mutex<VecDeque<(String, Option<Owner>, String)>>,
    pub children: Arc<Semaphore>,
    max_children: usize,
    /// One permit per session that may be open; taken before a session starts.
    slots: Arc<Semaphore>,
    max_sessions: usize,
    per_owner: Arc<Mutex<HashMap<Owner, usize>>>,
    max_per_owner: usize,
}

const TOMBSTONES: usize = 1024;

/// A place among the open sessions, taken before a session starts (so that the limits hold
/// however many callers initialize at once) and given back when the session ends.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    owner: Option<Owner>,
    per_owner: Arc<Mutex<HashMap<Owner, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(o) = &self.owner else { return };
        let mut counts = self.per_owner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(o) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(o);
            }
        }
    }
}

/// The first characters of a session id: enough to follow a session through the log, too few
/// to use it.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

impl Sessions {
    pub fn new(limits: &Limits) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            ended: Mutex::new(VecDeque::new()),
            children: Arc::new(Semaphore::new(limits.max_children)),
            max_children: limits.max_children,
            slots: Arc::new(Semaphore::new(limits.max_sessions)),
            max_sessions: limits.max_sessions,
            per_owner: Arc::new(Mutex::new(HashMap::new())),
            max_per_owner: limits.max_sessions_per_identity,
        }
    }

    pub fn count(&self) -> usize {
        self.map.lock().unwrap().len()
    }

    /// Takes a place for a new session of `owner` (`None`: a caller without a token, counted
    /// only against the global limit), or says which limit is reached.
    pub fn reserve(&self, owner: Option<&Owner>) -> Result<Slot, String> {
        let permit = self.slots.clone().try_acquire_owned().map_err(|_| {
            format!(
                "too many MCP sessions (at most {}); close one or raise --max-sessions",
                self.max_sessions
            )
        })?;
        if let Some(o) = owner {
            let mut counts = self.per_owner.lock().unwrap();
            let n = counts.entry(o.clone()).or_default();
            if *n >= self.max_per_owner {
                return Err(format!(
                    "too many MCP sessions for this caller (at most {}); close one or raise --max-sessions-per-identity",
                    self.max_per_owner
                ));
            }
            *n += 1;
        }
        Ok(Slot {
            _permit: permit,
            owner: owner.cloned(),
            per_owner: self.per_owner.clone(),
        })
    }

    fn insert(&self, s: Arc<Session>) {
        self.map.lock().unwrap().insert(s.id.clone(), s);
    }

    /// The live session `id` if it was opened on `route_ptr` by `owner`, or why there is none
    /// (a session of another route or caller is as unknown as one that never existed).
    fn get(
        &self,
        id: &str,
        route_ptr: &str,
        owner: Option<&Owner>,
    ) -> Result<Arc<Session>, Option<String>> {
        let s = self.map.lock().unwrap().get(id).cloned();
        match s {
            Some(s) if s.ctx.route_ptr != route_ptr || s.owner.as_ref() != owner => Err(None),
            Some(s) => match s.ended() {
                None => Ok(s),
                Some(reason) => {
                    self.remove(id, &reason);
                    Err(Some(reason))
                }
            },
            None => Err(self
                .ended
                .lock()
                .unwrap()
                .iter()
                .find(|(i, o, _)| i == id && o.as_ref() == owner)
                .map(|(_, _, r)| r.clone())),
        }
    }

    fn remove(&self, id: &str, reason: &str) {
        let Some(s) = self.map.lock().unwrap().remove(id) else {
            return;
        };
        s.end(reason);
        let mut t = self.ended.lock().unwrap();
        t.push_back((id.to_string(), s.owner.clone(), reason.to_string()));
        while t.len() > TOMBSTONES {
            t.pop_front();
        }
    }

    /// After a reload: a session whose route is gone ends; one whose route now admits other
    /// callers loses its server-to-client stream (the client opens it again, through the new
    /// policies). Requests are judged by the route as it is now anyway.
    pub fn reloaded(&self, rt: &Runtime) {
        let prints = rt.auth_fingerprints();
        let all: Vec<Arc<Session>> = self.map.lock().unwrap().values().cloned().collect();
        for s in all {
            match prints.get(s.ctx.route_ptr.as_str()) {
                None => {
                    tracing::info!(session = %s.tag, "the session's route is not in the new configuration; ending it");
                    self.remove(&s.id, "its route is not in the reloaded configuration");
                }
                Some(p) if *p != s.fingerprint => {
                    if s.close_stream() {
                        tracing::info!(session = %s.tag, "the route's authentication changed; the session's stream is closed (reopening it goes through the new policies)");
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// Whether a session waits for a target's answer.
    pub fn any_busy(&self) -> bool {
        self.map.lock().unwrap().values().any(|s| s.busy())
    }

    /// Ends every session (shutdown).
    pub async fn close_all(&self, reason: &str) {
        let all: Vec<Arc<Session>> = self.map.lock().unwrap().drain().map(|(_, s)| s).collect();
        for s in all {
            s.end(reason);
        }
    }

    /// Waits until every child process has exited (bounded).
    pub async fn wait_children(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.children.available_permits() < self.max_children
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Process ids of the children of a session (for tests and diagnostics).
    pub fn pids(&self, id: &str) -> Vec<u32> {
        self.map
            .lock()
            .unwrap()
            .get(id)
            .map(|s| s.pids())
            .unwrap_or_default()
    }
}

/// Ends sessions that have been idle too long, and forgets ended ones.
pub async fn reaper(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let idle = shared.limits.session_idle_timeout;
    let every = (idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = super::stopped(&mut shutdown) => return,
            _ = tokio::time::sleep(every) => {}
        }
        let all: Vec<Arc<Session>> = shared
            .sessions
            .map
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect();
        for s in all {
            if let Some(reason) = s.ended() {
                shared.sessions.remove(&s.id, &reason);
            } else if !s.busy() && s.idle_for() >= idle {
                let reason = format!("the session was idle for {} s", idle.as_secs());
                tracing::info!(session = %s.tag, "{reason}; ending it");
                shared.sessions.remove(&s.id, &reason);
            }
        }
    }
}

fn accepts(parts: &Parts, what: &str) -> bool {
    parts
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.split(';').next().unwrap_or("").trim();
            t.eq_ignore_ascii_case(what)
        })
}

fn session_id(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
}

/// Serves one request of the MCP endpoint. `identity` is the caller's (from the route's or
/// the listener's authentication); a session belongs to the caller that opened it.
pub async fn handle(
    shared: &Arc<Shared>,
    route: &Arc<RouteCtx>,
    listener_auth: Option<&AuthCtx>,
    ctx: &Arc<McpCtx>,
    parts: Parts,
    body: RequestBody,
    identity: Option<Identity>,
) -> Response<Body> {
    if ctx.backend.dns_rebinding_protection == Some(true) && !origin_allowed(&parts) {
        return http_error(
            StatusCode::FORBIDDEN,
            -32000,
            "Forbidden: the Origin is neither this host nor a loopback address (dnsRebindingProtection)",
        );
    }
    let owner = identity.as_ref().map(Identity::owner);
    let caller = Caller {
        owner: owner.as_ref(),
        fingerprint: auth_fingerprint(route, listener_auth),
    };
    match parts.method {
        Method::POST => post(shared, route, ctx, parts, body, identity.clone(), caller).await,
        Method::GET => get(shared, ctx, &parts, caller),
        Method::DELETE => delete(shared, ctx, &parts, caller),
        _ => {
            let mut r = http_error(
                StatusCode::METHOD_NOT_ALLOWED,
                -32000,
                "Method not allowed: the MCP endpoint takes POST, GET and DELETE",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            r
        }
    }
}

/// DNS rebinding protection: a browser `Origin` must name this host or a loopback address.
fn origin_allowed(parts: &Parts) -> bool {
    let Some(origin) = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let host_of = |authority: &str| -> String {
        let a = authority.rsplit('@').next().unwrap_or(authority);
        if let Some(rest) = a.strip_prefix('[') {
            return rest.split(']').next().unwrap_or("").to_ascii_lowercase();
        }
        a.split(':').next().unwrap_or("").to_ascii_lowercase()
    };
    let Some(o) = origin
        .split("://")
        .nth(1)
        .map(|r| host_of(r.split('/').next().unwrap_or("")))
    else {
        return false;
    };
    if matches!(o.as_str(), "localhost" | "127.0.0.1" | "::1") {
        return true;
    }
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| host_of(h) == o)
}

/// Who makes a request on a session, and what admitted them.
#[derive(Clone, Copy)]
struct Caller<'a> {
    owner: Option<&'a Owner>,
    fingerprint: u64,
}

fn unknown_session(reason: Option<String>) -> Response<Body> {
    let msg = match reason {
        Some(r) => format!("Session not found: {r}; initialize a new session"),
        None => "Session not found; initialize a new session".to_string(),
    };
    http_error(StatusCode::NOT_FOUND, -32001, &msg)
}

fn missing_session() -> Response<Body> {
    http_error(
        StatusCode::BAD_REQUEST,
        -32000,
        "Bad Request: the Mcp-Session-Id header is required (initialize first)",
    )
}

async fn post(
    shared: &Arc<Shared>,
    route: &Arc<RouteCtx>,
    ctx: &Arc<McpCtx>,
    parts: Parts,
    body: RequestBody,
    identity: Option<Identity>,
    caller: Caller<'_>,
) -> Response<Body> {
    let msg = match read_message(shared, &parts, body).await {
        Ok(m) => m,
        Err(refused) => return refused,
    };
    if ctx.stateless {
        return stateless(shared, route, ctx, &parts, msg, identity).await;
    }
    let method = msg.get("method").and_then(Value::as_str);
    let is_request = method.is_some() && msg.get("id").is_some();
    if method == Some("initialize") {
        if !is_request {
            return http_error(
                StatusCode::BAD_REQUEST,
                -32600,
                "Invalid Request: initialize must have an id",
            );
        }
        return initialize(shared, route, ctx, &msg, caller).await;
    }
    let Some(sid) = session_id(&parts) else {
        return missing_session();
    };
    let session = match shared.sessions.get(sid, &route.ptr, caller.owner) {
        Ok(s) => s,
        Err(reason) => return unknown_session(reason),
    };
    session.touch();
    if !is_request {
        session.client_message(msg).await;
        let mut r = Response::new(body::empty());
        *r.status_mut() = StatusCode::ACCEPTED;
        return r;
    }
    let (tx, rx) = mpsc::channel(64);
    let fut = Box::pin(
        session
            .clone()
            .client_request(msg, route.clone(), identity, tx),
    );
    let r = reply(fut, rx).await;
    session.touch();
    r
}

/// The JSON-RPC message a POST carries, or the answer that refuses the POST.
async fn read_message(
    shared: &Shared,
    parts: &Parts,
    body: RequestBody,
) -> Result<Value, Response<Body>> {
    if let Some((status, text)) = media_type_refusal(parts) {
        return Err(http_error(status, -32000, text));
    }
    let bytes = body
        .bytes()
        .await
        .map_err(|e| body_error(&shared.limits, e))?;
    let msg: Value = serde_json::from_slice(&bytes).map_err(|e| {
        http_error(
            StatusCode::BAD_REQUEST,
            -32700,
            &format!("Parse error: {e}"),
        )
    })?;
    if !msg.is_object() || msg.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let text = if msg.is_array() {
            "Invalid Request: JSON-RPC batches are not supported"
        } else {
            "Invalid Request: not a JSON-RPC 2.0 message"
        };
        return Err(http_error(StatusCode::BAD_REQUEST, -32600, text));
    }
    Ok(msg)
}

/// Why a POST is refused for its media types, if it is: it must accept both JSON and SSE
/// answers, and send JSON.
fn media_type_refusal(parts: &Parts) -> Option<(StatusCode, &'static str)> {
    if !(accepts(parts, "application/json") && accepts(parts, "text/event-stream")) {
        return Some((
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        ));
    }
    let json_ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !json_ct {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: the body must be application/json",
        ));
    }
    None
}

/// The answer to a request body that could not be read, noted for the access log.
fn body_error(limits: &Limits, e: body::BodyError) -> Response<Body> {
    let (status, text) = match e {
        body::BodyError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} bytes",
                limits.max_body_bytes
            ),
        ),
        body::BodyError::TimedOut => (
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive within --body-timeout".to_string(),
        ),
        body::BodyError::Aborted => (
            StatusCode::BAD_REQUEST,
            "the request body was not sent whole".to_string(),
        ),
    };
    let mut r = http_error(status, -32000, &text);
    r.extensions_mut()
        .insert(super::handler::LogNote(super::handler::note_of(e)));
    r
}

/// Opens a session for the client's `initialize` (a request, with an id) and answers with
/// the targets' initialize result and the session's id.
async fn initialize(
    shared: &Arc<Shared>,
    route: &RouteCtx,
    ctx: &Arc<McpCtx>,
    msg: &Value,
    caller: Caller<'_>,
) -> Response<Body> {
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let params = msg.get("params").cloned().unwrap_or(json!({}));
    let slot = match shared.sessions.reserve(caller.owner) {
        Ok(s) => s,
        Err(why) => {
            let mut r = body::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &rpc_error(id, -32000, &why),
            );
            body::retry_after(&mut r);
            return r;
        }
    };
    let admission = session::Admission {
        slot: Some(slot),
        owner: caller.owner.cloned(),
        fingerprint: caller.fingerprint,
    };
    match Session::start(shared, ctx.clone(), params, admission).await {
        Ok((session, result)) => {
            shared.sessions.insert(session.clone());
            tracing::info!(session = %session.tag, route = %route.label, "MCP session started");
            let mut r = body::json(StatusCode::OK, &rpc_result(id, result));
            if let Ok(v) = HeaderValue::from_str(&session.id) {
                r.headers_mut().insert(SESSION_HEADER, v);
            }
            r
        }
        Err(e) => e.response(id),
    }
}

/// The response to a client request, with the HTTP status it goes out with when it is the only
/// message (an SSE stream is already 200).
type Pending = Pin<Box<dyn Future<Output = (Value, u16)> + Send>>;

/// The answer to one request: plain JSON when the response comes first, an SSE stream when
/// notifications or requests of the target come before it.
async fn reply(mut fut: Pending, mut rx: mpsc::Receiver<Value>) -> Response<Body> {
    let first = tokio::select! {
        biased;
        fin = &mut fut => {
            let mut early = Vec::new();
            while let Ok(m) = rx.try_recv() {
                early.push(m);
            }
            let (fin, status) = fin;
            if early.is_empty() {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                return body::json(status, &fin);
            }
            early.push(fin);
            let (btx, brx) = mpsc::channel(early.len());
            for m in &early {
                let _ = btx.try_send(sse_event(m));
            }
            return sse_response(brx);
        }
        Some(m) = rx.recv() => m,
    };
    let (btx, brx) = mpsc::channel::<Bytes>(64);
    let _ = btx.try_send(sse_event(&first));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                (fin, _) = &mut fut => {
                    while let Ok(m) = rx.try_recv() {
                        if btx.send(sse_event(&m)).await.is_err() {
                            return;
                        }
                    }
                    let _ = btx.send(sse_event(&fin)).await;
                    return;
                }
                m = rx.recv() => match m {
                    Some(m) => {
                        if btx.send(sse_event(&m)).await.is_err() {
                            return; // the client went away; dropping the request cancels it
                        }
                    }
                    None => {
                        let (fin, _) = fut.await;
                        let _ = btx.send(sse_event(&fin)).await;
                        return;
                    }
                },
            }
        }
    });
    sse_response(brx)
}

fn sse_response(rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let mut r = Response::new(ChannelBody::new(rx, None).boxed());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn get(shared: &Arc<Shared>, ctx: &Arc<McpCtx>, parts: &Parts, caller: Caller) -> Response<Body> {
    if ctx.stateless {
        return http_error(
            StatusCode::METHOD_NOT_ALLOWED,
            -32000,
            "Method not allowed: a stateless MCP backend has no server-to-client stream",
        );
    }
    if !accepts(parts, "text/event-stream") {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            -32000,
            "Not Acceptable: the client must accept text/event-stream",
        );
    }
    let Some(sid) = session_id(parts) else {
        return missing_session();
    };
    let session = match shared.sessions.get(sid, &ctx.route_ptr, caller.owner) {
        Ok(s) => s,
        Err(reason) => return unknown_session(reason),
    };
    session.touch();
    match session.open_stream() {
        Some(rx) => sse_response(rx),
        None => http_error(
            StatusCode::CONFLICT,
            -32000,
            "Conflict: this session already has a server-to-client stream",
        ),
    }
}

fn delete(
    shared: &Arc<Shared>,
    ctx: &Arc<McpCtx>,
    parts: &Parts,
    caller: Caller,
) -> Response<Body> {
    if ctx.stateless {
        return http_error(
            StatusCode::METHOD_NOT_ALLOWED,
            -32000,
            "Method not allowed: a stateless MCP backend has no sessions",
        );
    }
    let Some(sid) = session_id(parts) else {
        return missing_session();
    };
    match shared.sessions.get(sid, &ctx.route_ptr, caller.owner) {
        Ok(s) => {
            shared
                .sessions
                .remove(&s.id, "the client ended the session");
            tracing::info!(session = %s.tag, "MCP session ended by the client");
            Response::new(body::empty())
        }
        Err(reason) => unknown_session(reason),
    }
}

/// `statefulMode: stateless`: every request gets its own short-lived connection to the
/// targets, and no session id is issued.
async fn stateless(
    shared: &Arc<Shared>,
    route: &Arc<RouteCtx>,
    ctx: &Arc<McpCtx>,
    parts: &Parts,
    msg: Value,
    identity: Option<Identity>,
) -> Response<Body> {
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let id = msg.get("id").cloned();
    let Some(id) = id.filter(|_| !method.is_empty()) else {
        let mut r = Response::new(body::empty());
        *r.status_mut() = StatusCode::ACCEPTED;
        return r;
    };
    let version = parts
        .headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(super::wellknown::MCP_PROTOCOL_VERSION)
        .to_string();
    let init_params = if method == "initialize" {
        msg.get("params").cloned().unwrap_or(json!({}))
    } else {
        json!({"protocolVersion": version, "capabilities": {},
               "clientInfo": {"name": "agw", "version": env!("CARGO_PKG_VERSION")}})
    };
    let admission = session::Admission {
        slot: None,
        owner: identity.as_ref().map(Identity::owner),
        fingerprint: 0,
    };
    let (session, result) = match Session::start(shared, ctx.clone(), init_params, admission).await
    {
        Ok(x) => x,
        Err(e) => return e.response(id),
    };
    if method == "initialize" {
        session.end("stateless request done");
        return body::json(StatusCode::OK, &rpc_result(id, result));
    }
    session
        .client_message(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let (tx, rx) = mpsc::channel(64);
    let s2 = session.clone();
    let route = route.clone();
    let fut: Pending = Box::pin(async move {
        let out = s2.clone().client_request(msg, route, identity, tx).await;
        s2.end("stateless request done");
        out
    });
    reply(fut, rx).await
}
