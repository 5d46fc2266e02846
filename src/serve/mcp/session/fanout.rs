//! The client's side of a session: requests relayed to the target their name designates, or to
//! every target with the answers merged into one server's (names prefixed by target when the
//! backend says so), and the client's notifications and answers passed on.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::authz::Authz;
use super::{Pending, RpcErr, Session};
use crate::serve::auth::Identity;
use crate::serve::mcp::{rpc_error, rpc_result};
use crate::serve::runtime::RouteCtx;

/// What a request on a session asks for, by kind of name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Tool,
    Prompt,
    Resource,
}

impl Kind {
    /// The word for it in answers to the client.
    pub(super) fn word(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Prompt => "prompt",
            Kind::Resource => "resource",
        }
    }
}

/// The target that listed each name, for routing calls by a name without a prefix.
#[derive(Default)]
pub(super) struct Owners {
    tools: HashMap<String, usize>,
    prompts: HashMap<String, usize>,
    resources: HashMap<String, usize>,
}

impl Owners {
    fn of(&mut self, kind: Kind) -> &mut HashMap<String, usize> {
        match kind {
            Kind::Tool => &mut self.tools,
            Kind::Prompt => &mut self.prompts,
            Kind::Resource => &mut self.resources,
        }
    }
}

enum Answer {
    /// A result made by agw.
    Result(Value),
    /// A target's response message, passed on as it is (its id is replaced).
    Msg(Value),
}

impl Session {
    /// Sends `method` to target `idx` and waits for its answer (the whole response message).
    pub(super) async fn call(
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

    /// Sends `method` to each of `targets` at once; the answers come in the order of `targets`.
    async fn call_all(
        self: &Arc<Self>,
        targets: Vec<usize>,
        method: &str,
        params: Value,
    ) -> Vec<(usize, Result<Value, RpcErr>)> {
        let calls = targets.into_iter().map(|i| {
            let params = params.clone();
            async move { (i, self.call(i, method, params, None).await) }
        });
        join_all(calls).await
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

    /// The target that listed `name` (the first one when none did).
    fn owner_of(&self, kind: Kind, name: &str) -> usize {
        if self.upstreams.len() == 1 {
            return 0;
        }
        let mut owners = self.owners.lock().unwrap();
        owners.of(kind).get(name).copied().unwrap_or(0)
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
            session: &self.tag,
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
                self.call_all(self.live_targets(), &method, params).await;
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
        let single = self.upstreams.len() == 1;
        let params = if single {
            params
        } else {
            without_cursor(params)
        };
        let answers = self.call_all(self.live_targets(), method, params).await;
        let mut items = Vec::new();
        let mut extra = Map::new();
        for (i, answer) in answers {
            let msg = match answer {
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
                return Err(target_error(&self.names[i], &msg));
            };
            if single {
                // One target's list goes out as that target's, with its other fields
                // (a cursor among them).
                extra = fields_besides(result, key);
            }
            items.extend(self.listed_items(i, result, key, kind, authz));
        }
        let mut out = Map::new();
        out.insert(key.into(), Value::Array(items));
        out.extend(extra);
        Ok(Answer::Result(Value::Object(out)))
    }

    /// The items of target `idx`'s list result under `key` that `mcpAuthorization` shows, named
    /// as the client sees them; each one's target is remembered for the calls that follow.
    fn listed_items(
        &self,
        idx: usize,
        result: &Value,
        key: &str,
        kind: Kind,
        authz: &Authz<'_>,
    ) -> Vec<Value> {
        let name_field = match (kind, key) {
            (Kind::Resource, "resources") => "uri",
            (Kind::Resource, _) => "uriTemplate",
            _ => "name",
        };
        let target = &self.names[idx];
        let mut kept = Vec::new();
        for mut item in result
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(name) = item
                .get(name_field)
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            if !authz.shows(kind, &name, target) {
                continue;
            }
            self.owners
                .lock()
                .unwrap()
                .of(kind)
                .insert(name.clone(), idx);
            if self.ctx.prefix && kind != Kind::Resource {
                item["name"] = json!(format!("{target}_{name}"));
            }
            kept.push(item);
        }
        kept
    }

    /// The target and the target's own name for a (possibly prefixed) tool or prompt name.
    fn resolve(&self, kind: Kind, name: &str) -> Result<(usize, String), RpcErr> {
        if self.ctx.prefix {
            if let Some((t, n)) = name.split_once('_') {
                if let Some(i) = self.names.iter().position(|x| x == t) {
                    return Ok((i, n.to_string()));
                }
            }
            return Err(RpcErr::new(
                -32602,
                format!("Unknown {}: {name}", kind.word()),
            ));
        }
        Ok((self.owner_of(kind, name), name.to_string()))
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
        authz.admit(method, kind, &name, &own, &self.names[idx])?;
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
        let idx = self.owner_of(Kind::Resource, &uri);
        authz.admit(method, Kind::Resource, &uri, &uri, &self.names[idx])?;
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
            self.owner_of(Kind::Resource, uri)
        };
        self.call_as(idx, "completion/complete", params, Some(events), client_id)
            .await
            .map(Answer::Msg)
    }
}

/// A cursor belongs to one target; merged lists are not paginated.
fn without_cursor(mut params: Value) -> Value {
    if let Some(o) = params.as_object_mut() {
        o.remove("cursor");
    }
    params
}

/// The fields of a list result other than the list itself.
fn fields_besides(result: &Value, key: &str) -> Map<String, Value> {
    result
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != key)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A target's error answer to a list, as the error of the merged list.
fn target_error(target: &str, msg: &Value) -> RpcErr {
    let why = msg
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("error");
    RpcErr::new(
        msg.pointer("/error/code")
            .and_then(Value::as_i64)
            .unwrap_or(-32603),
        format!("target `{target}`: {why}"),
    )
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
pub(super) fn merge_initialize(results: &[(usize, Value)]) -> Value {
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
