//! References that must resolve: `backend:` names, `gateways:` references, and the kind of
//! listener a reference reaches.

use std::collections::HashSet;

use serde_json::Value;

use super::util::ptr_token;
use super::Ctx;
use crate::check::schema_stage::closest;
use crate::config::mcp::McpBackend;
use crate::config::{Gateway, ListenerProtocol};
use crate::diag::Diagnostic;

crate::rules! {
    REFS_UNKNOWN_BACKEND {
        id: "refs/unknown-backend",
        severity: Error,
        summary: "`backend: NAME` names no entry of `backends`",
        why: "A route backend or an MCP target can refer to an entry of the top-level `backends` list by name. A name that matches no entry starts fine and then fails every request that reaches it. Fix the name; agw suggests the closest one.",
        gateway: "The gateway keeps `backend: NAME` as a reference and does not look the name up when it loads the file (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_route`, and `McpBackendHost::process` for MCP targets). A request that reaches it fails with \"backend does not exist\", answered with status 500 (agentgateway `crates/agentgateway/src/proxy/mod.rs`, `ProxyError::BackendDoesNotExist`).",
        example: "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: biling",
        use_instead: "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: billing",
    }

    REFS_UNKNOWN_GATEWAY {
        id: "refs/unknown-gateway",
        severity: Error,
        summary: "`gateways:` names a gateway or listener that does not exist",
        why: "Top-level `routes`, `tcpRoutes`, and the `mcp:`, `llm:` and `ui:` sections attach to gateways by name (`NAME`) or to one listener (`NAME/LISTENER`). A name that matches nothing stops the gateway from loading the file. Fix the name, or add the gateway or listener it means.",
        gateway: "The gateway resolves every reference when it loads the file and refuses one that names no gateway and no `NAME/LISTENER`: \"unknown gateway reference REF\" (agentgateway `crates/agentgateway/src/types/local.rs`, `resolve_gateway_references`, called from `convert` for `routes` and `tcpRoutes` and from `convert_attached_llm`, `convert_attached_mcp` and `convert_attached_ui`).",
        example: "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: pubic\n  backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: public\n  backends: [{host: 127.0.0.1:8080}]",
    }

    REFS_ROUTE_WITHOUT_GATEWAYS {
        id: "refs/route-without-gateways",
        severity: Error,
        summary: "a top-level route without `gateways`",
        why: "Top-level `routes` attach to gateways by name. A route without `gateways` is served only when there is a gateway named `default` with an HTTP listener; otherwise the file does not load. Set `gateways`, or name the gateway `default`.",
        gateway: "Before converting, the gateway adds the gateway `default` to every top-level route without `gateways` when that gateway has an HTTP listener (`tcpRoutes`: a TCP or TLS one). A route still without `gateways` is refused: \"routes.NAME must set gateways\" (agentgateway `crates/agentgateway/src/types/local.rs`, `apply_implicit_default_gateway` and `convert`).",
        example: "gateways:\n  web: {port: 3000}\nroutes:\n- backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]",
    }

    REFS_GATEWAY_KIND {
        id: "refs/gateway-kind",
        severity: Error,
        summary: "a route attached to a gateway without a listener of its kind",
        why: "HTTP routes (and the `mcp:` and `llm:` shorthands) need an HTTP or HTTPS listener; `tcpRoutes` need a TCP or TLS one. A reference that reaches no listener of the right kind stops the gateway from loading the file. Attach the route to another gateway or listener, or change the listener's protocol.",
        gateway: "The gateway refuses a reference that reaches no listener of the route's kind: \"gateway reference REF has no HTTP listeners\" (or \"no TCP listeners\") (agentgateway `crates/agentgateway/src/types/local.rs`, `resolve_gateway_references`).",
        example: "gateways:\n  db: {port: 5432, protocol: TCP}\nroutes:\n- gateways: db\n  backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]",
    }
}

pub fn check(ctx: &mut Ctx) {
    routes_without_gateways(ctx);
    unknown_backends(ctx);
    unknown_gateways(ctx);
}

/// Every `backend: NAME` of the file, with its pointer.
fn backend_refs(ctx: &Ctx) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mcp_refs = |out: &mut Vec<(String, String)>, base: &str, m: &McpBackend| {
        for (ti, t) in m.targets.iter().enumerate() {
            let forms = [
                ("mcp", t.mcp.as_ref().and_then(|h| h.backend.as_ref())),
                ("sse", t.sse.as_ref().and_then(|h| h.backend.as_ref())),
                (
                    "openapi",
                    t.openapi.as_ref().and_then(|h| h.backend.as_ref()),
                ),
            ];
            for (kind, name) in forms {
                if let Some(name) = name {
                    out.push((name.clone(), format!("{base}/targets/{ti}/{kind}/backend")));
                }
            }
        }
    };
    for site in ctx.topology.sites.iter() {
        for (i, b) in site.route.backends.iter().enumerate() {
            if let Some(name) = &b.backend {
                out.push((name.clone(), format!("{}/backends/{i}/backend", site.ptr)));
            }
            if let Some(m) = &b.mcp {
                mcp_refs(&mut out, &format!("{}/backends/{i}/mcp", site.ptr), m);
            }
        }
    }
    if let Some(m) = &ctx.cfg.mcp {
        mcp_refs(&mut out, "/mcp", &m.backend());
    }
    out
}

fn unknown_backends(ctx: &mut Ctx) {
    let names: HashSet<&str> = ctx.cfg.backends.iter().map(|b| b.name.as_str()).collect();
    for (name, ptr) in backend_refs(ctx) {
        if names.contains(name.as_str()) {
            continue;
        }
        let mut d = Diagnostic::new(
            &REFS_UNKNOWN_BACKEND,
            format!("`backend: {name}` names no entry of the top-level `backends` list"),
        )
        .at(ctx.value(&ptr), "no backend has this name");
        d = match closest(&name, names.iter().copied()) {
            Some(c) => d.help(format!("did you mean `{c}`?")),
            None if names.is_empty() => d.help(format!(
                "add it under the top-level `backends:` list:\nbackends:\n- name: {name}\n  host: HOST:PORT"
            )),
            None => {
                let mut known: Vec<&str> = names.iter().copied().collect();
                known.sort_unstable();
                d.help(format!("the file defines: {}", known.join(", ")))
            }
        };
        ctx.push(d.note("the gateway starts anyway and fails every request sent to this backend"));
    }
}

/// `(reference, pointer)` of every `gateways:` reference in the file.
fn gateway_refs(ctx: &Ctx) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut from_value = |v: Option<&Value>, ptr: String| match v {
        Some(Value::String(s)) => out.push((s.clone(), ptr)),
        Some(Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                if let Value::String(s) = x {
                    out.push((s.clone(), format!("{ptr}/{i}")));
                }
            }
        }
        _ => {}
    };
    for (ri, r) in ctx.cfg.routes.iter().enumerate() {
        let v = serde_json::to_value(&r.gateways).ok();
        from_value(v.as_ref(), format!("/routes/{ri}/gateways"));
    }
    if let Some(g) = ctx.cfg.mcp.as_ref().and_then(|m| m.gateways.as_ref()) {
        let v = serde_json::to_value(g).ok();
        from_value(v.as_ref(), "/mcp/gateways".into());
    }
    for (i, r) in ctx.cfg.tcp_routes.iter().enumerate() {
        from_value(r.value.get("gateways"), format!("/tcpRoutes/{i}/gateways"));
    }
    if let Some(llm) = ctx.cfg.llm.as_ref().map(|u| &u.value) {
        from_value(llm.get("gateways"), "/llm/gateways".into());
    }
    out
}

fn unknown_gateways(ctx: &mut Ctx) {
    let refs = gateway_refs(ctx);
    if refs.is_empty() {
        return;
    }
    let gateways = &ctx.cfg.gateways;
    for (r, ptr) in refs {
        let (gw, listener) = match r.split_once('/') {
            Some((g, l)) if !l.contains('/') => (g, Some(l)),
            Some(_) => continue,
            None => (r.as_str(), None),
        };
        let Some(g) = gateways.get(gw) else {
            let mut d = Diagnostic::new(
                &REFS_UNKNOWN_GATEWAY,
                format!("`{r}` names no gateway: the file defines no gateway `{gw}`"),
            )
            .at(ctx.value(&ptr), "unknown gateway");
            d = match closest(gw, gateways.keys().map(String::as_str)) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None if gateways.is_empty() => d.help(format!(
                    "define it under the top-level `gateways:` map:\ngateways:\n  {gw}:\n    port: 3000"
                )),
                None => d.help(format!(
                    "the file defines: {}",
                    gateways.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            };
            ctx.push(d);
            continue;
        };
        // A listener without a name is `listener<index>` (agentgateway `types/local.rs`).
        let names: Vec<String> = g
            .listeners
            .iter()
            .enumerate()
            .map(|(i, l)| l.name.clone().unwrap_or_else(|| format!("listener{i}")))
            .collect();
        let Some(l) = listener else {
            route_kind(ctx, &r, &ptr, g, None);
            continue;
        };
        if g.listeners.is_empty() {
            continue;
        }
        if let Some(i) = names.iter().position(|n| n == l) {
            route_kind(ctx, &r, &ptr, g, Some(i));
            continue;
        }
        let mut d = Diagnostic::new(
            &REFS_UNKNOWN_GATEWAY,
            format!("`{r}`: gateway `{gw}` has no listener named `{l}`"),
        )
        .at(ctx.value(&ptr), "unknown listener")
        .label(
            ctx.key(&format!("/gateways/{}", ptr_token(gw))),
            format!("gateway `{gw}`"),
        );
        d = match closest(l, names.iter().map(String::as_str)) {
            Some(c) => d.help(format!("did you mean `{gw}/{c}`?")),
            None if names.is_empty() => d.help(format!(
                "give one of the listeners of `{gw}` the name `{l}`"
            )),
            None => d.help(format!("the listeners of `{gw}` are: {}", names.join(", "))),
        };
        ctx.push(d);
    }
}

/// A reference from an HTTP route (or the `mcp:`/`llm:` shorthands) must reach an HTTP or HTTPS
/// listener, one from `tcpRoutes` a TCP or TLS one: agentgateway `resolve_gateway_references`
/// refuses the file with "gateway reference REF has no HTTP listeners" otherwise.
fn route_kind(ctx: &mut Ctx, r: &str, ptr: &str, g: &Gateway, listener: Option<usize>) {
    let tcp = ptr.starts_with("/tcpRoutes/");
    let listeners = g.effective_listeners();
    let reached = listeners
        .iter()
        .enumerate()
        .filter(|(i, _)| listener.is_none_or(|l| l == *i))
        .any(|(_, l)| {
            let is_tcp = matches!(l.protocol(), ListenerProtocol::TCP | ListenerProtocol::TLS);
            is_tcp == tcp
        });
    if reached {
        return;
    }
    let (kind, other) = if tcp {
        ("TCP", "HTTP")
    } else {
        ("HTTP", "TCP")
    };
    ctx.push(
        Diagnostic::new(
            &REFS_GATEWAY_KIND,
            format!("`{r}` has no {kind} listener: the gateway refuses the file"),
        )
        .at(ctx.value(ptr), format!("needs an {kind} listener"))
        .help(format!(
            "attach {} to a gateway or listener with protocol {}, or change the listener's protocol; {other} listeners take {}",
            if tcp { "a TCP route" } else { "an HTTP route" },
            if tcp { "TCP or TLS" } else { "HTTP or HTTPS (the default)" },
            if tcp { "`routes`" } else { "`tcpRoutes`" },
        )),
    );
}

/// Top-level routes without `gateways` join the gateway named `default` (see
/// `Config::apply_implicit_default_gateway`); without one, the gateway refuses the file:
/// "routes.NAME must set gateways".
fn routes_without_gateways(ctx: &mut Ctx) {
    for (ri, r) in ctx.cfg.routes.iter().enumerate() {
        if r.gateways.is_some() {
            continue;
        }
        let ptr = format!("/routes/{ri}");
        let default_note = match ctx.cfg.gateways.get(crate::config::route::DEFAULT_GATEWAY) {
            Some(_) => "the gateway named `default` has no HTTP listener to take it",
            None => "a route without `gateways` joins the gateway named `default`, and the file has none",
        };
        ctx.push(
            Diagnostic::new(
                &REFS_ROUTE_WITHOUT_GATEWAYS,
                "a top-level route has no `gateways`: the gateway refuses the file",
            )
            .at(ctx.value(&ptr), "no `gateways`")
            .note(default_note)
            .help(match ctx.cfg.gateways.keys().next() {
                Some(g) => format!("add `gateways: {g}` (or name a gateway `default`)"),
                None => "define a gateway and attach the route to it:\ngateways:\n  default:\n    port: 3000".into(),
            }),
        );
    }
}
