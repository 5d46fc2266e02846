//! One MCP session: a client on one side, one connection per target on the other. Requests are
//! relayed with ids of the session's own (responses are matched by id, whatever the target
//! writes first), list results are merged, prefixed and filtered by `mcpAuthorization`, and
//! calls are routed to the target their name designates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::upstream::{self, Upstream};
use super::Slot;
use super::{rpc_error, rpc_result};
use crate::config::mcp::FailureMode;
use crate::serve::auth::{authorize, Identity, McpCall, Owner};
use crate::serve::runtime::{McpCtx, RouteCtx};
use crate::serve::Shared;
use crate::token::authz;

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

    /// A call that `mcpAuthorization` denies, answered as the gateway answers it: HTTP 400 with
    /// `Unknown tool: NAME`, which does not say that authorization denied it.
    pub fn denied(kind: &str, name: &str) -> RpcErr {
        RpcErr {
            code: authz::DENIED_JSONRPC_CODE,
            message: authz::denied_message(kind, name),
            http_status: authz::DENIED_HTTP_STATUS,
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

#[derive(Default)]
struct Owners {
    tools: HashMap<String, usize>,
    prompts: HashMap<String, usize>,
    resources: HashMap<String, usize>,
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
    owners: Mutex<Owners>,
}

/// What a request on a session asks for, by kind of name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tool,
    Prompt,
    Resource,
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
        let mut permits = Vec::new();
        for t in &ctx.backend.targets {
            if t.stdio.is_some() {
                match shared.sessions.children.clone().try_acquire_owned() {
                    Ok(p) => permits.push(Some(p)),
                    Err(_) => {
                        return Err(StartError::busy(format!(
                            "too many child processes (at most {}); close a session or raise --max-children",
                            shared.limits.max_children
                        )))
                    }
                }
            } else {
                permits.push(None);
            }
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tag = super::short_id(&id).to_string();
        let backends = shared.runtime.load().backends.clone();
        let session = Arc::new_cyclic(|weak| {
            let upstreams: Vec<Upstream> = ctx
                .backend
                .targets
                .iter()
                .zip(permits)
                .enumerate()
                .map(|(i, (t, permit))| {
                    upstream::start(t, i, weak.clone(), &tag, permit, &shared.http, &backends)
                })
                .collect();
            Session {
                names: ctx.backend.targets.iter().map(|t| t.name.clone()).collect(),
                live: Mutex::new(vec![true; upstreams.len()]),
                upstreams,
                id: id.clone(),
                tag: tag.clone(),
                owner: admission.owner,
                fingerprint: admission.fingerprint,
                slot: Mutex::new(admission.slot),
                ctx: ctx.clone(),
                next_id: AtomicU64::new(1),
                next_server_id: AtomicU64::new(1),
                pending: Mutex::new(HashMap::new()),
                server_reqs: Mutex::new(HashMap::new()),
                get_stream: Mutex::new(None),
                last_used: Mutex::new(Instant::now()),
                ended: Mutex::new(None),
                owners: Mutex::new(Owners::default()),
            }
        });
        let timeout = shared.limits.init_timeout;
        let inits = (0..session.upstreams.len()).map(|i| {
            let s = session.clone();
            let params = init_params.clone();
            async move {
                match &s.upstreams[i] {
                    Upstream::Failed(e) | Upstream::Exhausted(e) => return Err(e.clone()),
                    _ => {}
                }
                match tokio::time::timeout(timeout, s.call(i, "initialize", params, None)).await {
                    Err(_) => Err(format!(
                        "MCP server `{}` did not answer initialize within {} s",
                        s.names[i],
                        timeout.as_secs()
                    )),
                    Ok(Err(e)) => Err(e.message),
                    Ok(Ok(msg)) => match msg.get("result") {
                        Some(r) => Ok(r.clone()),
                        None => Err(format!(
                            "MCP server `{}` refused initialize: {}",
                            s.names[i],
                            msg.pointer("/error/message")
                                .and_then(Value::as_str)
                                .unwrap_or("no reason given")
                        )),
                    },
                }
            }
        });
        let results = join_all(inits).await;
        let fail_open = session.ctx.backend.failure_mode == Some(FailureMode::FailOpen);
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(v) => ok.push((i, v)),
                Err(e) => {
                    session.live.lock().unwrap()[i] = false;
                    session.upstreams[i].close();
                    errors.push(e)
                }
            }
        }
        if ok.is_empty() || (!errors.is_empty() && !fail_open) {
            let message = errors.join("; ");
            session.end(&message);
            let exhausted = session
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
            tracing::warn!(session = %session.tag, "failOpen: serving without a target: {e}");
        }
        let result = if session.upstreams.len() == 1 {
            ok.pop().map(|(_, v)| v).unwrap_or(Value::Null)
        } else {
            merge_initialize(&ok)
        };
        Ok((session, result))
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

    /// A target's connection ended on its own (the child exited, the remote session expired).
    pub fn upstream_ended(&self, idx: usize, reason: String) {
        if self.ended().is_some() {
            return;
        }
        tracing::warn!(session = %self.tag, mcp_target = %self.names[idx], "{reason}; ending the session");
        self.end(&reason);
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

    // -- messages from targets -----------------------------------------------------------------

    pub fn on_message(&self, idx: usize, mut msg: Value) {
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

    // -- messages from the client --------------------------------------------------------------

    /// Sends `method` to target `idx` and waits for its answer (the whole response message).
    async fn call(
        self: &Arc<Self>,
        idx: usize,
        method: &str,
        params: Value,
        events: Option<mpsc::Sender<Value>>,
    ) -> Result<Value, RpcErr> {
        self.call_as(idx, method, params, events, Value::Null).await
    }

    async fn call_as(
        self: &Arc<Self>,
        idx: usize,
        method: &str,
        params: Value,
        events: Option<mpsc::Sender<Value>>,
        client_id: Value,
    ) -> Result<Value, RpcErr> {
        if let Some(reason) = self.ended() {
            return Err(RpcErr::new(
                -32000,
                format!("{reason}; the MCP session has ended"),
            ));
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let progress = params.pointer("/_meta/progressToken").cloned();
        self.pending.lock().unwrap().insert(
            n,
            Pending {
                target: idx,
                client_id,
                progress,
                events,
                done: tx,
            },
        );
        let mut guard = PendingGuard {
            session: self.clone(),
            n,
            target: idx,
            armed: true,
        };
        let mut msg = Map::new();
        msg.insert("jsonrpc".into(), json!("2.0"));
        msg.insert("id".into(), json!(n));
        msg.insert("method".into(), json!(method));
        if !params.is_null() {
            msg.insert("params".into(), params);
        }
        if let Err(e) = self.upstreams[idx].send(&Value::Object(msg)).await {
            guard.armed = false;
            self.pending.lock().unwrap().remove(&n);
            return Err(RpcErr::new(
                -32000,
                format!("MCP server `{}`: {e}", self.names[idx]),
            ));
        }
        let r = rx.await;
        guard.armed = false;
        r.map_err(|_| RpcErr::new(-32000, "the MCP session has ended"))
    }

    fn live_targets(&self) -> Vec<usize> {
        self.live
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, l)| **l)
            .map(|(i, _)| i)
            .collect()
    }

    /// A notification or a response from the client.
    pub async fn client_message(self: &Arc<Self>, mut msg: Value) {
        let method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
        match method {
            None => {
                // The client's answer to a request of a target.
                let Some(n) = msg.get("id").and_then(Value::as_u64) else {
                    return;
                };
                let Some((idx, orig)) = self.server_reqs.lock().unwrap().remove(&n) else {
                    return;
                };
                msg["id"] = orig;
                let _ = self.upstreams[idx].send(&msg).await;
            }
            Some(m) if m == "notifications/cancelled" => {
                let rid = msg
                    .pointer("/params/requestId")
                    .cloned()
                    .unwrap_or(Value::Null);
                let found = self
                    .pending
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(_, p)| p.client_id == rid)
                    .map(|(n, p)| (*n, p.target));
                if let Some((n, idx)) = found {
                    msg["params"]["requestId"] = json!(n);
                    let _ = self.upstreams[idx].send(&msg).await;
                }
            }
            Some(_) => {
                for idx in self.live_targets() {
                    let _ = self.upstreams[idx].send(&msg).await;
                }
            }
        }
    }

    /// A request from the client; returns the response to send (with the client's id).
    /// Related notifications go to `events` meanwhile.
    pub async fn client_request(
        self: Arc<Self>,
        msg: Value,
        route: Arc<RouteCtx>,
        identity: Option<Identity>,
        events: mpsc::Sender<Value>,
    ) -> (Value, u16) {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let authz = Authz {
            route: &route,
            identity: identity.as_ref(),
        };
        let answer = match method.as_str() {
            "ping" => Ok(Answer::Result(json!({}))),
            "tools/list" => {
                self.list(&method, "tools", Kind::Tool, params, &authz)
                    .await
            }
            "prompts/list" => {
                self.list(&method, "prompts", Kind::Prompt, params, &authz)
                    .await
            }
            "resources/list" => {
                self.list(&method, "resources", Kind::Resource, params, &authz)
                    .await
            }
            "resources/templates/list" => {
                self.list(&method, "resourceTemplates", Kind::Resource, params, &authz)
                    .await
            }
            "tools/call" | "prompts/get" => {
                let kind = if method == "tools/call" {
                    Kind::Tool
                } else {
                    Kind::Prompt
                };
                self.named_call(&method, kind, params, &authz, events, id.clone())
                    .await
            }
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                self.resource_call(&method, params, &authz, events, id.clone())
                    .await
            }
            "completion/complete" => self.complete(params, events, id.clone()).await,
            "logging/setLevel" => {
                let calls = self
                    .live_targets()
                    .into_iter()
                    .map(|i| {
                        let s = self.clone();
                        let p = params.clone();
                        async move { s.call(i, "logging/setLevel", p, None).await }
                    })
                    .collect::<Vec<_>>();
                join_all(calls).await;
                Ok(Answer::Result(json!({})))
            }
            _ => {
                let live = self.live_targets();
                if live.len() == 1 {
                    self.call_as(live[0], &method, params, Some(events), id.clone())
                        .await
                        .map(Answer::Msg)
                } else {
                    Err(RpcErr::new(
                        -32601,
                        format!("Method not found: `{method}` cannot be routed to one of several targets"),
                    ))
                }
            }
        };
        match answer {
            Ok(Answer::Result(r)) => (rpc_result(id, r), 200),
            Ok(Answer::Msg(mut m)) => {
                m["id"] = id;
                (m, 200)
            }
            Err(e) => (rpc_error(id, e.code, &e.message), e.http_status),
        }
    }

    fn fail_open(&self) -> bool {
        self.ctx.backend.failure_mode == Some(FailureMode::FailOpen)
    }

    /// `tools/list` and friends: every target asked, the answers merged, names prefixed, and
    /// what `mcpAuthorization` denies left out.
    async fn list(
        self: &Arc<Self>,
        method: &str,
        key: &str,
        kind: Kind,
        params: Value,
        authz: &Authz<'_>,
    ) -> Result<Answer, RpcErr> {
        let live = self.live_targets();
        let single = self.upstreams.len() == 1;
        let params = if single {
            params
        } else {
            // A cursor belongs to one target; merged lists are not paginated.
            let mut p = params;
            if let Some(o) = p.as_object_mut() {
                o.remove("cursor");
            }
            p
        };
        let calls = live
            .iter()
            .map(|&i| {
                let s = self.clone();
                let p = params.clone();
                let m = method.to_string();
                async move { (i, s.call(i, &m, p, None).await) }
            })
            .collect::<Vec<_>>();
        let results = join_all(calls).await;
        let mut items = Vec::new();
        let mut extra = Map::new();
        for (i, r) in results {
            let msg = match r {
                Ok(m) => m,
                Err(e) if self.fail_open() => {
                    tracing::warn!(session = %self.tag, "failOpen: {}", e.message);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(result) = msg.get("result") else {
                if self.fail_open() {
                    continue;
                }
                if single {
                    return Ok(Answer::Msg(msg));
                }
                let why = msg
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("error");
                return Err(RpcErr::new(
                    msg.pointer("/error/code")
                        .and_then(Value::as_i64)
                        .unwrap_or(-32603),
                    format!("target `{}`: {why}", self.names[i]),
                ));
            };
            if single {
                if let Some(o) = result.as_object() {
                    for (k, v) in o {
                        if k != key {
                            extra.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            let target = &self.names[i];
            for mut item in result
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let name_field = if kind == Kind::Resource {
                    if key == "resources" {
                        "uri"
                    } else {
                        "uriTemplate"
                    }
                } else {
                    "name"
                };
                let Some(name) = item
                    .get(name_field)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    continue;
                };
                let call = match kind {
                    Kind::Tool => McpCall::Tool {
                        name: name.clone(),
                        target: Some(target.clone()),
                    },
                    Kind::Prompt => McpCall::Prompt {
                        name: name.clone(),
                        target: Some(target.clone()),
                    },
                    Kind::Resource => McpCall::Resource {
                        uri: name.clone(),
                        target: Some(target.clone()),
                    },
                };
                if !authorize(authz.route.mcp_authz(), authz.identity, &call).allowed {
                    continue;
                }
                {
                    let mut o = self.owners.lock().unwrap();
                    match kind {
                        Kind::Tool => o.tools.insert(name.clone(), i),
                        Kind::Prompt => o.prompts.insert(name.clone(), i),
                        Kind::Resource => o.resources.insert(name.clone(), i),
                    };
                }
                if self.ctx.prefix && kind != Kind::Resource {
                    item["name"] = json!(format!("{target}_{name}"));
                }
                items.push(item);
            }
        }
        let mut out = Map::new();
        out.insert(key.into(), Value::Array(items));
        out.extend(extra);
        Ok(Answer::Result(Value::Object(out)))
    }

    /// The target and the target's own name for a (possibly prefixed) tool or prompt name.
    fn resolve(&self, kind: Kind, name: &str) -> Result<(usize, String), RpcErr> {
        let what = if kind == Kind::Tool { "tool" } else { "prompt" };
        if self.ctx.prefix {
            if let Some((t, n)) = name.split_once('_') {
                if let Some(i) = self.names.iter().position(|x| x == t) {
                    return Ok((i, n.to_string()));
                }
            }
            return Err(RpcErr::new(-32602, format!("Unknown {what}: {name}")));
        }
        if self.upstreams.len() == 1 {
            return Ok((0, name.to_string()));
        }
        let o = self.owners.lock().unwrap();
        let map = if kind == Kind::Tool {
            &o.tools
        } else {
            &o.prompts
        };
        Ok((map.get(name).copied().unwrap_or(0), name.to_string()))
    }

    async fn named_call(
        self: &Arc<Self>,
        method: &str,
        kind: Kind,
        mut params: Value,
        authz: &Authz<'_>,
        events: mpsc::Sender<Value>,
        client_id: Value,
    ) -> Result<Answer, RpcErr> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcErr::new(-32602, "Invalid params: `name` is required"))?
            .to_string();
        let (idx, own) = self.resolve(kind, &name)?;
        let target = self.names[idx].clone();
        let call = if kind == Kind::Tool {
            McpCall::Tool {
                name: own.clone(),
                target: Some(target),
            }
        } else {
            McpCall::Prompt {
                name: own.clone(),
                target: Some(target),
            }
        };
        let d = authorize(authz.route.mcp_authz(), authz.identity, &call);
        if !d.allowed {
            tracing::info!(session = %self.tag, "{method} {name} denied: {}", d.reason);
            let what = if kind == Kind::Tool { "tool" } else { "prompt" };
            return Err(RpcErr::denied(what, &name));
        }
        params["name"] = json!(own);
        self.call_as(idx, method, params, Some(events), client_id)
            .await
            .map(Answer::Msg)
    }

    async fn resource_call(
        self: &Arc<Self>,
        method: &str,
        params: Value,
        authz: &Authz<'_>,
        events: mpsc::Sender<Value>,
        client_id: Value,
    ) -> Result<Answer, RpcErr> {
        let uri = params
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcErr::new(-32602, "Invalid params: `uri` is required"))?
            .to_string();
        let idx = if self.upstreams.len() == 1 {
            0
        } else {
            self.owners
                .lock()
                .unwrap()
                .resources
                .get(&uri)
                .copied()
                .unwrap_or(0)
        };
        let call = McpCall::Resource {
            uri: uri.clone(),
            target: Some(self.names[idx].clone()),
        };
        let d = authorize(authz.route.mcp_authz(), authz.identity, &call);
        if !d.allowed {
            tracing::info!(session = %self.tag, "{method} {uri} denied: {}", d.reason);
            return Err(RpcErr::denied("resource", &uri));
        }
        self.call_as(idx, method, params, Some(events), client_id)
            .await
            .map(Answer::Msg)
    }

    async fn complete(
        self: &Arc<Self>,
        mut params: Value,
        events: mpsc::Sender<Value>,
        client_id: Value,
    ) -> Result<Answer, RpcErr> {
        let kind = params
            .pointer("/ref/type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let idx = if kind == "ref/prompt" {
            let name = params
                .pointer("/ref/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let (idx, own) = self.resolve(Kind::Prompt, &name)?;
            params["ref"]["name"] = json!(own);
            idx
        } else {
            let uri = params
                .pointer("/ref/uri")
                .and_then(Value::as_str)
                .unwrap_or("");
            self.owners
                .lock()
                .unwrap()
                .resources
                .get(uri)
                .copied()
                .unwrap_or(0)
        };
        self.call_as(idx, "completion/complete", params, Some(events), client_id)
            .await
            .map(Answer::Msg)
    }
}

struct Authz<'a> {
    route: &'a RouteCtx,
    identity: Option<&'a Identity>,
}

enum Answer {
    /// A result made by agw.
    Result(Value),
    /// A target's response message, passed on as it is (its id is replaced).
    Msg(Value),
}

/// Removes a pending request whose caller went away, and tells the target.
struct PendingGuard {
    session: Arc<Session>,
    n: u64,
    target: usize,
    armed: bool,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if self
            .session
            .pending
            .lock()
            .unwrap()
            .remove(&self.n)
            .is_none()
        {
            return;
        }
        let s = self.session.clone();
        let (n, idx) = (self.n, self.target);
        tokio::spawn(async move {
            let msg = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                             "params": {"requestId": n, "reason": "the client went away"}});
            let _ = s.upstreams[idx].send(&msg).await;
        });
    }
}

/// The initialize result of several targets as one server.
fn merge_initialize(results: &[(usize, Value)]) -> Value {
    let mut caps = Map::new();
    let mut instructions = Vec::new();
    let mut version = None;
    for (_, r) in results {
        if version.is_none() {
            version = r.get("protocolVersion").cloned();
        }
        if let Some(c) = r.get("capabilities").and_then(Value::as_object) {
            for (k, v) in c {
                match (caps.get_mut(k), v) {
                    (Some(Value::Object(have)), Value::Object(add)) => {
                        for (kk, vv) in add {
                            have.entry(kk.clone()).or_insert(vv.clone());
                        }
                    }
                    (None, _) => {
                        caps.insert(k.clone(), v.clone());
                    }
                    _ => {}
                }
            }
        }
        if let Some(i) = r.get("instructions").and_then(Value::as_str) {
            instructions.push(i.to_string());
        }
    }
    let mut out = json!({
        "protocolVersion": version.unwrap_or(json!("2025-06-18")),
        "capabilities": caps,
        "serverInfo": {"name": "agw", "version": env!("CARGO_PKG_VERSION")},
    });
    if !instructions.is_empty() {
        out["instructions"] = json!(instructions.join("\n\n"));
    }
    out
}
