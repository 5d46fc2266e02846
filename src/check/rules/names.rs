//! Names that must be unique: routes where they are served, backends, the listeners of a bind,
//! and the targets of an MCP backend.

use std::collections::HashMap;

use super::util::ptr_token;
use super::Ctx;
use crate::config::mcp::McpBackend;
use crate::diag::Diagnostic;

crate::rules! {
    NAMES_DUPLICATE_ROUTE {
        id: "names/duplicate-route",
        severity: Warning,
        summary: "two routes on one listener share a name",
        why: "Route names identify routes in metrics, logs, targeted policies and the admin UI, and they also identify the route inside the gateway: of two routes with one name on the same listener (or gateway), only the later one is served. Give each route its own name.",
        gateway: "The gateway accepts the file. It keys a route by its listener, namespace and name (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_route`), and inserting a route whose key is already present replaces the earlier one (agentgateway `crates/agentgateway/src/types/agent.rs`, `RouteSet::insert`): the earlier route serves no traffic.",
        example: "routes:\n- name: api\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api\n  matches: [{path: {pathPrefix: /v2}}]",
        use_instead: "routes:\n- name: api-v1\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api-v2\n  matches: [{path: {pathPrefix: /v2}}]",
    }

    NAMES_DUPLICATE_BACKEND {
        id: "names/duplicate-backend",
        severity: Error,
        summary: "two entries of `backends` share a name",
        why: "`backend: NAME` references are resolved by name; with two entries of one name, only one of them is used and references may go to the wrong host. Rename one of them and update the references that mean it.",
        gateway: "The gateway accepts the file. It stores backends by name, in the order of the file, so the later entry of a name replaces the earlier one (agentgateway `crates/agentgateway/src/store/binds.rs`, `insert_backend`).",
        example: "backends:\n- name: api\n  host: 10.0.0.1:80\n- name: api\n  host: 10.0.0.2:80",
        use_instead: "backends:\n- name: api-a\n  host: 10.0.0.1:80\n- name: api-b\n  host: 10.0.0.2:80",
    }

    NAMES_DUPLICATE_LISTENER {
        id: "names/duplicate-listener",
        severity: Warning,
        summary: "two listeners of one bind or gateway share a name",
        why: "`gateways: NAME/LISTENER` and targeted policies select a listener by name; with two of one name the selection is ambiguous, and one listener's settings are lost. Give each listener its own name.",
        gateway: "The gateway accepts the file. It keys a listener by its bind (or gateway) and its name (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_listener` and `convert_gateway_listener`), and a bind's listener set keeps one listener per key (agentgateway `crates/agentgateway/src/types/agent.rs`, `ListenerSet::insert`): the later listener replaces the earlier one, whose hostname, protocol and TLS are gone.",
        example: "listeners:\n- name: web\n  hostname: a.acme.com\n- name: web\n  hostname: b.acme.com",
        use_instead: "listeners:\n- name: web-a\n  hostname: a.acme.com\n- name: web-b\n  hostname: b.acme.com",
    }

    NAMES_DUPLICATE_TARGET {
        id: "names/duplicate-target",
        severity: Error,
        summary: "two targets of one MCP backend share a name",
        why: "With several targets, tool and prompt names carry the target name (`<target>_<tool>`) so that calls can be routed back. Two targets of one name cannot be told apart, and one of them is never used. Give each target its own name.",
        gateway: "The gateway accepts the file. It keeps one upstream connection per target name (agentgateway `crates/agentgateway/src/mcp/upstream/mod.rs`, `UpstreamGroup::setup_connections`), so the later target of a name replaces the earlier one, whose tools are never listed or called. Names are prefixed with the target name and `_` when there is more than one target (`crates/agentgateway/src/mcp/handler.rs`, `resource_name`).",
        example: "targets:\n- name: tools\n  stdio: {cmd: server-a}\n- name: tools\n  stdio: {cmd: server-b}",
        use_instead: "targets:\n- name: tools-a\n  stdio: {cmd: server-a}\n- name: tools-b\n  stdio: {cmd: server-b}",
    }
}

pub fn check(ctx: &mut Ctx) {
    duplicate_routes(ctx);
    duplicate_backends(ctx);
    duplicate_listeners(ctx);
    let backends = ctx.mcp.clone();
    for (ptr, backend) in backends.iter() {
        duplicate_targets(ctx, ptr, backend);
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

fn duplicate_targets(ctx: &mut Ctx, ptr: &str, b: &McpBackend) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut found = Vec::new();
    for (i, t) in b.targets.iter().enumerate() {
        match seen.get(t.name.as_str()) {
            Some(&f) => found.push((t.name.clone(), i, f)),
            None => {
                seen.insert(&t.name, i);
            }
        }
    }
    for (name, i, f) in found {
        ctx.push(
            Diagnostic::new(
                &NAMES_DUPLICATE_TARGET,
                format!("two targets of one MCP backend are named `{name}`"),
            )
            .at(ctx.value(&format!("{ptr}/targets/{i}/name")), "second target with this name")
            .label(ctx.value(&format!("{ptr}/targets/{f}/name")), "first target with this name")
            .help("give each target its own name: the gateway prefixes tool and prompt names with it (`<target>_<tool>`) and routes calls back by it"),
        );
    }
}
