//! Structure and references: names that must resolve (`backend:`, `gateways:`) and names that
//! must be unique (routes, backends, listeners).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::util::ptr_token;
use super::Ctx;
use crate::check::schema_stage::closest;
use crate::config::mcp::McpBackend;
use crate::diag::Diagnostic;

pub fn check(ctx: &mut Ctx) {
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
            "refs/unknown-backend",
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
                "refs/unknown-gateway",
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
        let Some(l) = listener else { continue };
        if g.listeners.is_empty() {
            continue;
        }
        let names: Vec<&str> = g
            .listeners
            .iter()
            .filter_map(|l| l.name.as_deref())
            .collect();
        if names.contains(&l) {
            continue;
        }
        let mut d = Diagnostic::new(
            "refs/unknown-gateway",
            format!("`{r}`: gateway `{gw}` has no listener named `{l}`"),
        )
        .at(ctx.value(&ptr), "unknown listener")
        .label(
            ctx.key(&format!("/gateways/{}", ptr_token(gw))),
            format!("gateway `{gw}`"),
        );
        d = match closest(l, names.iter().copied()) {
            Some(c) => d.help(format!("did you mean `{gw}/{c}`?")),
            None if names.is_empty() => d.help(format!(
                "give one of the listeners of `{gw}` the name `{l}`"
            )),
            None => d.help(format!("the listeners of `{gw}` are: {}", names.join(", "))),
        };
        ctx.push(d);
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
                "names/duplicate-route",
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
                "names/duplicate-backend",
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
                    "names/duplicate-listener",
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
