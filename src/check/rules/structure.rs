//! Structure and references: names that must resolve (`backend:`, `gateways:`) and names that
//! must be unique (routes, backends, listeners).

use std::collections::{HashMap, HashSet};

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
        why: "A route backend or an MCP target can refer to an entry of the top-level `backends` list by name. The gateway does not check the name when it loads the file; requests then fail at run time. agw checks it and suggests the closest name.",
        gateway: "",
        example: "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: biling",
        use_instead: "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: billing",
    }

    REFS_UNKNOWN_GATEWAY {
        id: "refs/unknown-gateway",
        severity: Error,
        summary: "`gateways:` names a gateway or listener that does not exist",
        why: "Top-level `routes`, `tcpRoutes`, and the `mcp:` and `llm:` shorthands attach to gateways by name (`NAME`) or to one listener (`NAME/LISTENER`). A name that matches nothing leaves the route unattached.",
        gateway: "",
        example: "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: pubic\n  backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: public\n  backends: [{host: 127.0.0.1:8080}]",
    }

    REFS_ROUTE_WITHOUT_GATEWAYS {
        id: "refs/route-without-gateways",
        severity: Error,
        summary: "a top-level route without `gateways`",
        why: "Top-level `routes` attach to gateways by name. A route without `gateways` joins the gateway named `default` when it has an HTTP listener; otherwise the gateway refuses the file: \"routes.NAME must set gateways\" (agentgateway `types/local.rs`, `apply_implicit_default_gateway` and `convert`).",
        gateway: "",
        example: "gateways:\n  web: {port: 3000}\nroutes:\n- backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]",
    }

    REFS_GATEWAY_KIND {
        id: "refs/gateway-kind",
        severity: Error,
        summary: "a route attached to a gateway without a listener of its kind",
        why: "HTTP routes (and the `mcp:` and `llm:` shorthands) need an HTTP or HTTPS listener; `tcpRoutes` need a TCP or TLS one. The gateway refuses a reference that reaches none: \"gateway reference REF has no HTTP listeners\" (agentgateway `types/local.rs`, `resolve_gateway_references`).",
        gateway: "",
        example: "gateways:\n  db: {port: 5432, protocol: TCP}\nroutes:\n- gateways: db\n  backends: [{host: 127.0.0.1:8080}]",
        use_instead: "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]",
    }

    BACKENDS_HOST_PORT {
        id: "backends/host-port",
        severity: Error,
        summary: "a backend `host:` that is not `HOST:PORT`",
        why: "The gateway reads a backend's `host` as `HOST:PORT`, split at the first `:` (or `unix:/PATH` for a socket), and refuses anything else: a missing port (\"invalid host:port\"), a URL with a scheme, an IPv6 literal, a port over 65535 (agentgateway `types/agent.rs`, `Target`). MCP targets are different: they take a URL (`mcp/host-form`).",
        gateway: "",
        example: "backends:\n- host: https://api.internal",
        use_instead: "backends:\n- host: api.internal:443",
    }

    BACKENDS_INFERENCE_ROUTING_SCOPE {
        id: "backends/inference-routing-scope",
        severity: Error,
        summary: "`inferenceRouting` anywhere but on a `service:` route backend",
        why: "Inference routing picks one endpoint among a service's, so the gateway accepts `inferenceRouting` only in the `policies` of a route backend written `service: {name, port}`; on another route backend, on an entry of `backends` or on an AI provider it refuses the file (\"inferenceRouting is only supported on service route backends\", agentgateway `types/local.rs`, `validate_inference_routing_scope`).",
        gateway: "",
        example: "backends:\n- name: llm\n  host: vllm.internal:8000\n  policies:\n    inferenceRouting: {...}",
        use_instead: "routes:\n- backends:\n  - service: {name: default/vllm, port: 8000}\n    policies:\n      inferenceRouting: {...}",
    }

    NAMES_DUPLICATE_ROUTE {
        id: "names/duplicate-route",
        severity: Warning,
        summary: "two routes on one listener share a name",
        why: "Route names identify routes in metrics, logs, targeted policies and the admin UI. Two routes with one name on the same listener (or gateway) are indistinguishable there, and a policy that targets the name applies to the wrong one or both.",
        gateway: "",
        example: "routes:\n- name: api\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api\n  matches: [{path: {pathPrefix: /v2}}]",
        use_instead: "routes:\n- name: api-v1\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api-v2\n  matches: [{path: {pathPrefix: /v2}}]",
    }

    NAMES_DUPLICATE_BACKEND {
        id: "names/duplicate-backend",
        severity: Error,
        summary: "two entries of `backends` share a name",
        why: "`backend: NAME` references are resolved by name; with two entries of one name, one of them is unreachable and references may go to the wrong host.",
        gateway: "",
        example: "backends:\n- name: api\n  host: 10.0.0.1:80\n- name: api\n  host: 10.0.0.2:80",
        use_instead: "backends:\n- name: api-a\n  host: 10.0.0.1:80\n- name: api-b\n  host: 10.0.0.2:80",
    }

    NAMES_DUPLICATE_LISTENER {
        id: "names/duplicate-listener",
        severity: Warning,
        summary: "two listeners of one bind or gateway share a name",
        why: "`gateways: NAME/LISTENER` and targeted policies select a listener by name; with two of one name the selection is ambiguous.",
        gateway: "",
        example: "listeners:\n- name: web\n  hostname: a.acme.com\n- name: web\n  hostname: b.acme.com",
        use_instead: "listeners:\n- name: web-a\n  hostname: a.acme.com\n- name: web-b\n  hostname: b.acme.com",
    }
}

pub fn check(ctx: &mut Ctx) {
    routes_without_gateways(ctx);
    backend_hosts(ctx);
    inference_routing_scope(ctx);
    unknown_backends(ctx);
    unknown_gateways(ctx);
    duplicate_routes(ctx);
    duplicate_backends(ctx);
    duplicate_listeners(ctx);
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
    for site in ctx.routes.iter() {
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

/// A backend `host:` is `HOST:PORT` split at the first `:` (or `unix:/PATH`), as agentgateway's
/// `inferenceRouting` chooses an endpoint among a service's: the gateway refuses it anywhere but
/// in the policies of a `service:` route backend (agentgateway `types/local.rs`,
/// `validate_inference_routing_scope`): on another route backend, on a named backend, or on an
/// AI provider.
fn inference_routing_scope(ctx: &mut Ctx) {
    let mut found: Vec<(String, &'static str)> = Vec::new();
    let ai_providers =
        |ai: &serde_json::Value, base: String, found: &mut Vec<(String, &'static str)>| {
            let at = "/policies/inferenceRouting";
            if ai.pointer(at).is_some() {
                found.push((format!("{base}{at}"), "an AI provider"));
            }
            let groups = ai.get("groups").and_then(serde_json::Value::as_array);
            for (gi, g) in groups.into_iter().flatten().enumerate() {
                let providers = g.get("providers").and_then(serde_json::Value::as_array);
                for (pi, p) in providers.into_iter().flatten().enumerate() {
                    if p.pointer(at).is_some() {
                        found.push((
                            format!("{base}/groups/{gi}/providers/{pi}{at}"),
                            "an AI provider",
                        ));
                    }
                }
            }
        };
    for site in ctx.routes.iter() {
        for (i, b) in site.route.backends.iter().enumerate() {
            let base = format!("{}/backends/{i}", site.ptr);
            let set = b
                .policies
                .as_ref()
                .is_some_and(|p| p.inference_routing.is_some());
            if set && b.service.is_none() {
                found.push((
                    format!("{base}/policies/inferenceRouting"),
                    "a route backend that is not a `service:`",
                ));
            }
            if let Some(ai) = &b.ai {
                ai_providers(&ai.value, format!("{base}/ai"), &mut found);
            }
        }
    }
    for (i, b) in ctx.cfg.backends.iter().enumerate() {
        if b.policies
            .as_ref()
            .is_some_and(|p| p.inference_routing.is_some())
        {
            found.push((
                format!("/backends/{i}/policies/inferenceRouting"),
                "a named backend",
            ));
        }
        if let Some(ai) = &b.ai {
            ai_providers(&ai.value, format!("/backends/{i}/ai"), &mut found);
        }
    }
    for (ptr, place) in found {
        ctx.push(
            Diagnostic::new(
                &BACKENDS_INFERENCE_ROUTING_SCOPE,
                format!("`inferenceRouting` on {place}: the gateway accepts it only in the policies of a `service:` route backend, and refuses the file"),
            )
            .at(ctx.key(&ptr), "not here")
            .help("move `inferenceRouting` to the `policies` of the route backend that names the service (`- service: {name: ..., port: ...}`)"),
        );
    }
}

/// `Target` parses it (`types/agent.rs`): no port, a scheme, an IPv6 literal or a port that is
/// not a number up to 65535 make the gateway refuse the file.
fn backend_hosts(ctx: &mut Ctx) {
    let mut found = Vec::new();
    for site in ctx.routes.iter() {
        for (i, b) in site.route.backends.iter().enumerate() {
            if let Some(h) = &b.host {
                found.push((format!("{}/backends/{i}/host", site.ptr), h.clone()));
            }
        }
    }
    for (i, b) in ctx.cfg.backends.iter().enumerate() {
        if let Some(h) = &b.host {
            found.push((format!("/backends/{i}/host"), h.clone()));
        }
    }
    for (ptr, host) in found {
        let Some(problem) = host_port_problem(&host) else {
            continue;
        };
        let help = if let Some(rest) = host.split_once("://").map(|(_, r)| r) {
            let authority = rest.split('/').next().unwrap_or(rest);
            let port = if host.starts_with("https") { 443 } else { 80 };
            if authority.contains(':') {
                format!("write the address without scheme or path: `host: {authority}`")
            } else {
                format!("write the address without scheme or path: `host: {authority}:{port}`")
            }
        } else if host.starts_with('[') {
            "the gateway splits `host` at its first `:`, so an IPv6 literal cannot be written here; use a hostname that resolves to it".to_string()
        } else if !host.contains(':') {
            format!("add the port: `host: {host}:80` (or `:443` with `backendTLS`)")
        } else {
            "the port must be a number from 0 to 65535".to_string()
        };
        ctx.push(
            Diagnostic::new(
                &BACKENDS_HOST_PORT,
                format!("backend host `{host}` is not `HOST:PORT`: the gateway refuses the file ({problem})"),
            )
            .at(ctx.value(&ptr), "not HOST:PORT")
            .help(help),
        );
    }
}

fn host_port_problem(host: &str) -> Option<&'static str> {
    if host.starts_with("unix:") {
        return None;
    }
    match host.split_once(':') {
        None => Some("invalid host:port"),
        Some((_, port)) if port.parse::<u16>().is_err() => {
            Some("the port is not a number up to 65535")
        }
        Some(_) => None,
    }
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

/// Where a route's name must be unique: one listener of a bind, or one gateway reference.
#[derive(Hash, PartialEq, Eq)]
enum Scope<'a> {
    Listener(usize, usize),
    Gateway(&'a str),
}

fn duplicate_routes(ctx: &mut Ctx) {
    let cfg = ctx.cfg;
    // scope + namespace + name -> pointer of the first route
    let mut seen: HashMap<(Scope, &str, &str), String> = HashMap::new();
    let mut found = Vec::new();
    for (bi, bind) in cfg.binds.iter().enumerate() {
        for (li, l) in bind.listeners.iter().enumerate() {
            for (ri, r) in l.routes.iter().flatten().enumerate() {
                let Some(name) = &r.name else { continue };
                let key = (
                    Scope::Listener(bi, li),
                    r.namespace.as_deref().unwrap_or(""),
                    name.as_str(),
                );
                let ptr = || format!("/binds/{bi}/listeners/{li}/routes/{ri}");
                match seen.get(&key) {
                    Some(first) => found.push((name.clone(), ptr(), first.clone(), None)),
                    None => {
                        seen.insert(key, ptr());
                    }
                }
            }
        }
    }
    for (ri, r) in cfg.routes.iter().enumerate() {
        let Some(name) = &r.name else { continue };
        let ptr = format!("/routes/{ri}");
        for g in r.gateways.iter().flat_map(|g| g.refs()) {
            let key = (
                Scope::Gateway(g),
                r.namespace.as_deref().unwrap_or(""),
                name.as_str(),
            );
            match seen.get(&key) {
                Some(first) => {
                    found.push((
                        name.clone(),
                        ptr.clone(),
                        first.clone(),
                        Some(g.to_string()),
                    ));
                    break;
                }
                None => {
                    seen.insert(key, ptr.clone());
                }
            }
        }
    }
    for (name, ptr, first, gw) in found {
        let scope = match gw {
            Some(g) => format!("on `{g}`"),
            None => "on this listener".to_string(),
        };
        ctx.push(
            Diagnostic::new(
                &NAMES_DUPLICATE_ROUTE,
                format!("two routes {scope} are named `{name}`"),
            )
            .at(ctx.value(&format!("{ptr}/name")), "second route with this name")
            .label(ctx.value(&format!("{first}/name")), "first route with this name")
            .help(format!(
                "give each route its own name (for example `{name}-2`); metrics, logs and targeted policies tell routes apart by name"
            )),
        );
    }
}

fn duplicate_backends(ctx: &mut Ctx) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut found = Vec::new();
    for (i, b) in ctx.cfg.backends.iter().enumerate() {
        if let Some(&first) = seen.get(b.name.as_str()) {
            found.push((b.name.clone(), i, first));
        } else {
            seen.insert(&b.name, i);
        }
    }
    for (name, i, first) in found {
        ctx.push(
            Diagnostic::new(
                &NAMES_DUPLICATE_BACKEND,
                format!("two entries of `backends` are named `{name}`"),
            )
            .at(
                ctx.value(&format!("/backends/{i}/name")),
                "second backend with this name",
            )
            .label(
                ctx.value(&format!("/backends/{first}/name")),
                "first backend with this name",
            )
            .help(format!(
                "rename one of them and update the `backend: {name}` references that mean it"
            )),
        );
    }
}

fn duplicate_listeners(ctx: &mut Ctx) {
    let mut scopes: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for (bi, b) in ctx.cfg.binds.iter().enumerate() {
        scopes.push((
            format!("/binds/{bi}"),
            b.listeners.iter().map(|l| l.name.clone()).collect(),
        ));
    }
    for (name, g) in &ctx.cfg.gateways {
        scopes.push((
            format!("/gateways/{}", ptr_token(name)),
            g.listeners.iter().map(|l| l.name.clone()).collect(),
        ));
    }
    for (base, names) in scopes {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            let Some(n) = n else { continue };
            if let Some(&first) = seen.get(n.as_str()) {
                let d = Diagnostic::new(
                    &NAMES_DUPLICATE_LISTENER,
                    format!("two listeners on one port are named `{n}`"),
                )
                .at(
                    ctx.value(&format!("{base}/listeners/{i}/name")),
                    "second listener with this name",
                )
                .label(
                    ctx.value(&format!("{base}/listeners/{first}/name")),
                    "first listener with this name",
                )
                .help("give each listener its own name; `gateways: NAME/LISTENER` and policies select listeners by name");
                ctx.push(d);
            } else {
                seen.insert(n, i);
            }
        }
    }
}
