//! Ports and listeners: one owner per port, protocols that can share a port, TLS where the
//! protocol needs it and nowhere else.

use std::collections::HashMap;

use super::util::ptr_token;
use super::Ctx;
use crate::config::listener::TlsMode;
use crate::config::url::split_host_port;
use crate::config::{BindMode, Gateway, GatewayProtocol, Listener, ListenerProtocol, ServerTls};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;

crate::rules! {
    PORTS_CONFLICT {
        id: "ports/conflict",
        severity: Error,
        summary: "two binds, gateways or shorthands use one port",
        why: "Each bind, gateway and shorthand (`mcp:` listens on 3000 unless it has `port` or `gateways`) opens its own socket; two on one port make the gateway fail at start-up with \"address in use\". Put the listeners under one bind, or give each its own port. Explicit admin, stats and readiness addresses in `config` count too.",
        gateway: "",
        example: "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  targets: [{name: a, stdio: {cmd: my-server}}]",
        use_instead: "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  port: 3001\n  targets: [{name: a, stdio: {cmd: my-server}}]",
    }

    PORTS_PROTOCOL_MIX {
        id: "ports/protocol-mix",
        severity: Error,
        summary: "listeners on one port mix protocols that cannot share it",
        why: "Listeners on one port are told apart by TLS SNI or the HTTP Host header. Plain HTTP and plain TCP cannot be told apart, and neither can TLS and plaintext, so the gateway refuses such a bind. HTTPS and TLS listeners can share a port (by SNI).",
        gateway: "",
        example: "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n  - protocol: HTTP",
        use_instead: "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n- port: 8080\n  listeners:\n  - protocol: HTTP",
    }

    LISTENERS_HTTPS_WITHOUT_TLS {
        id: "listeners/https-without-tls",
        severity: Error,
        summary: "an HTTPS listener without `tls`",
        why: "An HTTPS listener terminates TLS and needs a certificate and its key. Add `tls` with `cert` and `key`, or use `protocol: HTTP` when TLS is terminated in front of the gateway.",
        gateway: "",
        example: "- protocol: HTTPS\n  routes: []",
        use_instead: "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
    }

    LISTENERS_HTTP_WITH_TLS {
        id: "listeners/http-with-tls",
        severity: Warning,
        summary: "a plain HTTP listener of a bind with `tls`",
        why: "On a listener under `binds`, `tls` with protocol HTTP (the default there) is ignored: the gateway starts and serves plaintext (agentgateway `types/local.rs`, the listener conversion reads `tls` only for HTTPS and TLS). Most often `protocol: HTTPS` was forgotten, and clients that connect with TLS fail.",
        gateway: "",
        example: "- tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
        use_instead: "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
    }

    GATEWAYS_PROTOCOL_TLS {
        id: "gateways/protocol-tls",
        severity: Error,
        summary: "a gateway's protocol and `tls` disagree",
        why: "A gateway, or a listener of a gateway, is HTTPS when it has `tls` and no `protocol`, and HTTP without `tls`. The gateway refuses `protocol: HTTP` or `TCP` with `tls`, and `protocol: HTTPS` without it (agentgateway `types/local.rs`, `effective_gateway_protocol`).",
        gateway: "",
        example: "gateways:\n  public:\n    port: 8443\n    protocol: HTTP\n    tls: {cert: cert.pem, key: key.pem}",
        use_instead: "gateways:\n  public:\n    port: 8443\n    tls: {cert: cert.pem, key: key.pem}",
    }

    GATEWAYS_LISTENERS_AND_OWN_SETTINGS {
        id: "gateways/listeners-and-own-settings",
        severity: Error,
        summary: "a gateway with `listeners` also sets protocol, tls or a policy",
        why: "With `listeners`, a gateway sets only `port`; protocol, TLS and policies belong to each listener. The gateway refuses the file: \"cannot set protocol, tls, or policy fields when listeners are configured\" (agentgateway `types/local.rs`).",
        gateway: "",
        example: "gateways:\n  public:\n    port: 3000\n    cors: {allowOrigins: ['*']}\n    listeners:\n    - name: api",
        use_instead: "gateways:\n  public:\n    port: 3000\n    listeners:\n    - name: api\n      cors: {allowOrigins: ['*']}",
    }

    LISTENERS_ROUTES_AND_TCP_ROUTES {
        id: "listeners/routes-and-tcp-routes",
        severity: Error,
        summary: "HTTP routes and TCP routes mixed up on a listener",
        why: "An HTTP or HTTPS listener takes `routes`; a TCP or TLS listener takes `tcpRoutes`. A listener with both, or with the kind its protocol does not use, has routes that never see traffic.",
        gateway: "",
        example: "- protocol: TCP\n  routes:\n  - backends: [{host: 127.0.0.1:5432}]",
        use_instead: "- protocol: TCP\n  tcpRoutes:\n  - backends: [{host: 127.0.0.1:5432}]",
    }

    LISTENERS_TLS_CERT_KEY {
        id: "listeners/tls-cert-key",
        severity: Error,
        summary: "`tls` with a certificate but no key, or a key but no certificate",
        why: "Serving TLS needs the certificate chain and its private key together.",
        gateway: "",
        example: "tls:\n  cert: certs/cert.pem",
        use_instead: "tls:\n  cert: certs/cert.pem\n  key: certs/key.pem",
    }

    LISTENERS_MISSING_ROUTES {
        id: "listeners/missing-routes",
        severity: Error,
        summary: "a listener of a bind without `routes` (or `tcpRoutes`)",
        why: "A listener under `binds` needs `routes` when its protocol is HTTP (the default) or HTTPS, and `tcpRoutes` when it is TCP or TLS; the gateway refuses the file otherwise: \"protocol HTTP requires 'routes'\" (agentgateway `types/local.rs`, `convert_listener`).",
        gateway: "",
        example: "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP",
        use_instead: "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP\n    routes: []",
    }

    LISTENERS_TLS_SPIFFE_EXCLUSIVE {
        id: "listeners/tls-spiffe-exclusive",
        severity: Error,
        summary: "server `tls` with `spiffe` and certificate files or TLS settings beside it",
        why: "With `spiffe`, the listener's identity and TLS profile come from the SPIFFE Workload API. The gateway refuses `cert`, `key`, `root`, a `mode` other than `static`, `cipherSuites`, `minTLSVersion`, `maxTLSVersion` or `keyExchangeGroups` beside it rather than ignore them (agentgateway `types/local.rs`, `into_server_tls_config_with_resources`).",
        gateway: "",
        example: "tls:\n  spiffe: {}\n  cert: certs/cert.pem",
        use_instead: "tls:\n  spiffe: {}",
    }

    LISTENERS_TLS_ROOT_DYNAMIC_CA {
        id: "listeners/tls-root-dynamic-ca",
        severity: Error,
        summary: "server `tls` with `mode: dynamicCa` and a client CA `root`",
        why: "In `dynamicCa` mode the gateway mints leaf certificates from the CA in `cert`/`key`; it does not support verifying client certificates there and refuses a `root` (\"tls.root is not supported with tls.mode=dynamicCa\", agentgateway `types/local.rs`).",
        gateway: "",
        example: "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem\n  root: ca/clients.pem",
        use_instead: "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem",
    }

    PORTS_WILDCARD_BINDS {
        id: "ports/wildcard-binds",
        severity: Error,
        summary: "more than one internal bind without a port",
        why: "An internal bind without a port (or with port 0) is the wildcard fallback that serves any destination port in process. The gateway allows one, since lookups would resolve a second one ambiguously, and refuses the file otherwise (agentgateway `types/local.rs`, `validate_local_listener_ports`). An internal bind with a port takes part in the port uniqueness check (`ports/conflict`).",
        gateway: "",
        example: "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  listeners: [...]",
        use_instead: "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  port: 9000\n  listeners: [...]",
    }
}

pub fn check(ctx: &mut Ctx) {
    conflicts(ctx);
    let cfg = ctx.cfg;
    for (bi, b) in cfg.binds.iter().enumerate() {
        let base = format!("/binds/{bi}");
        protocol_mix(ctx, &base, &b.listeners, ListenerProtocol::HTTP);
        for (i, l) in b.listeners.iter().enumerate() {
            listener(ctx, &format!("{base}/listeners/{i}"), l);
        }
    }
    for (name, g) in &cfg.gateways {
        gateway(ctx, &format!("/gateways/{}", ptr_token(name)), g);
    }
}

/// A gateway as agentgateway's loader judges it (`types/local.rs`, the gateway loop of the
/// port checks and `effective_gateway_protocol`): with `listeners`, the gateway itself sets only
/// `port`; each listener (or the gateway, without listeners) gets HTTPS when it has `tls` and no
/// `protocol`, and HTTP or TCP with `tls`, or HTTPS without it, is refused.
fn gateway(ctx: &mut Ctx, base: &str, g: &Gateway) {
    if !g.listeners.is_empty() {
        let own = ["protocol", "tls"]
            .into_iter()
            .chain(GATEWAY_POLICY_KEYS)
            .map(|k| format!("{base}/{k}"))
            .find(|p| ctx.has(p));
        if let Some(p) = own {
            let key = p.rsplit('/').next().unwrap_or_default().to_string();
            ctx.push(
                Diagnostic::new(
                    &GATEWAYS_LISTENERS_AND_OWN_SETTINGS,
                    format!("a gateway with `listeners` also sets `{key}`: the gateway refuses it"),
                )
                .at(ctx.key(&p), "set on the gateway")
                .label(ctx.key(&format!("{base}/listeners")), "listeners are configured")
                .help(format!(
                    "with `listeners`, a gateway sets only `port`; move `{key}` into each listener that needs it"
                )),
            );
        }
        protocol_mix(ctx, base, &g.effective_listeners(), ListenerProtocol::HTTP);
        for (i, l) in g.listeners.iter().enumerate() {
            gateway_protocol(
                ctx,
                &format!("{base}/listeners/{i}"),
                l.protocol,
                l.tls.as_ref(),
            );
        }
    } else {
        gateway_protocol(ctx, base, g.protocol, g.tls.as_ref());
    }
}

/// The policy keys of a gateway or gateway listener.
const GATEWAY_POLICY_KEYS: [&str; 9] = [
    "jwtAuth",
    "oidc",
    "authorization",
    "extAuthz",
    "extProc",
    "cors",
    "transformations",
    "basicAuth",
    "apiKey",
];

fn gateway_protocol(
    ctx: &mut Ctx,
    ptr: &str,
    written: Option<GatewayProtocol>,
    tls: Option<&ServerTls>,
) {
    let protocol = GatewayProtocol::effective(written, tls.is_some());
    let problem = match protocol {
        GatewayProtocol::HTTP if tls.is_some() => Some("protocol HTTP cannot set tls"),
        GatewayProtocol::TCP if tls.is_some() => Some("protocol TCP cannot set tls"),
        GatewayProtocol::HTTPS if tls.is_none() => Some("protocol HTTPS requires tls"),
        _ => None,
    };
    if let Some(problem) = problem {
        let help = if tls.is_some() {
            "remove `protocol` (with `tls` it is HTTPS), or set `protocol: HTTPS` or `TLS`; remove `tls` to serve plaintext"
        } else {
            "add the certificate and key:\ntls:\n  cert: certs/cert.pem\n  key: certs/key.pem\nor use `protocol: HTTP` behind a TLS-terminating proxy"
        };
        let at = format!("{ptr}/protocol");
        let mut d = Diagnostic::new(
            &GATEWAYS_PROTOCOL_TLS,
            format!("{problem}: the gateway refuses this gateway"),
        )
        .at(ctx.value(&at), format!("protocol {protocol:?}"))
        .help(help);
        if protocol == GatewayProtocol::HTTP && tls.is_some() {
            d = d.with_fix(Fix::safe(
                "set `protocol: HTTPS`",
                Fix::replace(ctx.value(&at), "HTTPS"),
            ));
        }
        ctx.push(d);
    }
    if let Some(tls) = tls {
        server_tls(ctx, &format!("{ptr}/tls"), tls);
    }
}

struct PortOwner {
    what: String,
    /// Pointer whose value span is labelled.
    ptr: String,
    /// Whether the port was written (else it is a default).
    written: bool,
}

fn conflicts(ctx: &mut Ctx) {
    let mut owners: Vec<(u32, PortOwner)> = Vec::new();
    // An internal bind without a port (or with port 0) is the wildcard fallback, which opens no
    // socket; an internal bind with a port takes part in the uniqueness check like any other
    // (agentgateway `types/local.rs`, `validate_local_listener_ports`).
    let mut wildcards = Vec::new();
    for (bi, b) in ctx.cfg.binds.iter().enumerate() {
        if b.mode == Some(BindMode::Internal) && b.port.unwrap_or(0) == 0 {
            wildcards.push(bi);
            continue;
        }
        if let Some(p) = b.port {
            owners.push((
                p,
                PortOwner {
                    what: format!("bind {}", bi + 1),
                    ptr: format!("/binds/{bi}/port"),
                    written: true,
                },
            ));
        }
    }
    for (name, g) in &ctx.cfg.gateways {
        owners.push((
            g.port,
            PortOwner {
                what: format!("gateway `{name}`"),
                ptr: format!("/gateways/{}/port", ptr_token(name)),
                written: true,
            },
        ));
    }
    if let Some(m) = &ctx.cfg.mcp {
        // Without `gateways` (the gateway `default` is filled in when it serves HTTP), the
        // shorthand listens on its own port, 3000 unless set.
        if m.gateways.is_none() {
            let written = m.port.is_some();
            owners.push((
                m.port.unwrap_or(3000),
                PortOwner {
                    what: "the `mcp:` shorthand".into(),
                    ptr: if written {
                        "/mcp/port".into()
                    } else {
                        "/mcp".into()
                    },
                    written,
                },
            ));
        }
    }
    if let Some(llm) = ctx.cfg.llm.as_ref().map(|u| &u.value) {
        // Likewise the `llm:` shorthand on 4000, unless it names gateways or, with no port or
        // TLS of its own, joins the gateway `default`.
        let port = llm.get("port").and_then(|v| v.as_u64());
        let joins_default = ctx.cfg.default_gateway_serves_http()
            && port.is_none()
            && llm.get("tls").is_none_or(|t| t.is_null());
        if !super::sections::has_gateways(llm) && !joins_default {
            owners.push((
                port.map_or(4000, |p| p as u32),
                PortOwner {
                    what: "the `llm:` shorthand".into(),
                    ptr: if port.is_some() {
                        "/llm/port".into()
                    } else {
                        "/llm".into()
                    },
                    written: port.is_some(),
                },
            ));
        }
    }
    if let Some(cfg) = ctx.cfg.config.as_ref().map(|u| &u.value) {
        for key in ["adminAddr", "statsAddr", "readinessAddr"] {
            let Some(addr) = cfg.get(key).and_then(|v| v.as_str()) else {
                continue;
            };
            if let Some((_, Some(p))) = split_host_port(addr) {
                owners.push((
                    u32::from(p),
                    PortOwner {
                        what: format!("`config.{key}`"),
                        ptr: format!("/config/{key}"),
                        written: true,
                    },
                ));
            }
        }
    }
    let mut first: HashMap<u32, usize> = HashMap::new();
    let mut found = Vec::new();
    for (i, (port, _)) in owners.iter().enumerate() {
        if *port == 0 {
            continue;
        }
        match first.get(port) {
            Some(&f) => found.push((f, i)),
            None => {
                first.insert(*port, i);
            }
        }
    }
    for (f, i) in found {
        let (port, a) = &owners[f];
        let (_, b) = &owners[i];
        let label = |o: &PortOwner| {
            if o.written {
                format!("{} listens on {port}", o.what)
            } else {
                format!("{} listens on {port} by default", o.what)
            }
        };
        let (span_a, span_b) = (
            if a.written {
                ctx.value(&a.ptr)
            } else {
                ctx.key(&a.ptr)
            },
            if b.written {
                ctx.value(&b.ptr)
            } else {
                ctx.key(&b.ptr)
            },
        );
        let mut d = Diagnostic::new(
            &PORTS_CONFLICT,
            format!("port {port} is used twice: by {} and by {}", a.what, b.what),
        )
        .at(span_b, label(b))
        .label(span_a, label(a))
        .help(format!(
            "the gateway cannot bind port {port} twice and refuses to start; give one of them another port, or put both sets of listeners under one bind"
        ));
        if !b.written && b.what.contains("mcp") {
            d = d.note("the `mcp:` shorthand listens on 3000 unless it has `port:` or `gateways:` (or there is a gateway named `default`)");
        }
        if !b.written && b.what.contains("llm") {
            d = d.note("the `llm:` shorthand listens on 4000 unless it has `port:` or `gateways:` (or there is a gateway named `default`)");
        }
        ctx.push(d);
    }
    wildcard_binds(ctx, &wildcards);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    PlainHttp,
    PlainTcp,
    Tls,
}

/// At most one wildcard bind: lookups would resolve a second one ambiguously, so the gateway
/// refuses the file.
fn wildcard_binds(ctx: &mut Ctx, wildcards: &[usize]) {
    let [first, rest @ ..] = wildcards else {
        return;
    };
    for bi in rest {
        ctx.push(
            Diagnostic::new(
                &PORTS_WILDCARD_BINDS,
                format!(
                    "{} internal binds without a port: the gateway allows at most one wildcard bind and refuses the file",
                    wildcards.len()
                ),
            )
            .at(ctx.key(&format!("/binds/{bi}")), "a second wildcard bind")
            .label(ctx.key(&format!("/binds/{first}")), "the first")
            .help("give this internal bind a `port:` of its own, or merge its listeners into the first one"),
        );
    }
}

fn family(p: ListenerProtocol) -> Option<Family> {
    match p {
        ListenerProtocol::HTTP => Some(Family::PlainHttp),
        ListenerProtocol::TCP => Some(Family::PlainTcp),
        ListenerProtocol::HTTPS | ListenerProtocol::TLS => Some(Family::Tls),
        ListenerProtocol::HBONE => None,
    }
}

fn proto_name(p: ListenerProtocol) -> &'static str {
    match p {
        ListenerProtocol::HTTP => "HTTP",
        ListenerProtocol::HTTPS => "HTTPS",
        ListenerProtocol::TLS => "TLS",
        ListenerProtocol::TCP => "TCP",
        ListenerProtocol::HBONE => "HBONE",
    }
}

fn protocol_mix(ctx: &mut Ctx, base: &str, listeners: &[Listener], default: ListenerProtocol) {
    let mut first: HashMap<u8, (usize, ListenerProtocol)> = HashMap::new();
    for (i, l) in listeners.iter().enumerate() {
        let p = l.protocol.unwrap_or(default);
        let Some(f) = family(p) else { continue };
        first.entry(f as u8).or_insert((i, p));
    }
    let pairs = [
        (
            Family::PlainHttp,
            Family::PlainTcp,
            "plain HTTP and plain TCP cannot be told apart on one port",
        ),
        (
            Family::Tls,
            Family::PlainHttp,
            "TLS and plaintext cannot share a port",
        ),
        (
            Family::Tls,
            Family::PlainTcp,
            "TLS and plaintext cannot share a port",
        ),
    ];
    for (x, y, why) in pairs {
        let (Some(&(i, pi)), Some(&(j, pj))) = (first.get(&(x as u8)), first.get(&(y as u8)))
        else {
            continue;
        };
        let (a, b) = if i < j {
            ((i, pi), (j, pj))
        } else {
            ((j, pj), (i, pi))
        };
        let span = |ctx: &Ctx, idx: usize| {
            let p = format!("{base}/listeners/{idx}/protocol");
            if ctx.has(&p) {
                ctx.value(&p)
            } else {
                ctx.value(&format!("{base}/listeners/{idx}"))
            }
        };
        let implicit = |l: &Listener| {
            if l.protocol.is_none() {
                " (the default)"
            } else {
                ""
            }
        };
        ctx.push(
            Diagnostic::new(
                &PORTS_PROTOCOL_MIX,
                format!(
                    "listeners on one port mix {} and {}: {why}",
                    proto_name(a.1),
                    proto_name(b.1)
                ),
            )
            .at(
                span(ctx, b.0),
                format!("{}{}", proto_name(b.1), implicit(&listeners[b.0])),
            )
            .label(
                span(ctx, a.0),
                format!("{}{}", proto_name(a.1), implicit(&listeners[a.0])),
            )
            .help("put these listeners on separate ports (a bind or gateway each)"),
        );
    }
}

fn listener(ctx: &mut Ctx, ptr: &str, l: &Listener) {
    let p = l.protocol();
    let proto_span = |ctx: &Ctx| {
        let pp = format!("{ptr}/protocol");
        if ctx.has(&pp) {
            ctx.value(&pp)
        } else {
            ctx.value(ptr)
        }
    };
    if p == ListenerProtocol::HTTPS && l.tls.is_none() {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_HTTPS_WITHOUT_TLS,
                "an HTTPS listener has no `tls`: it has no certificate to serve",
            )
            .at(proto_span(ctx), "HTTPS needs `tls`")
            .help("add the certificate and key:\ntls:\n  cert: certs/cert.pem\n  key: certs/key.pem\nor use `protocol: HTTP` behind a TLS-terminating proxy"),
        );
    }
    if p == ListenerProtocol::HTTP && l.tls.is_some() {
        let mut d = Diagnostic::new(
            &LISTENERS_HTTP_WITH_TLS,
            "a plain HTTP listener has `tls`: the gateway ignores it and serves plaintext",
        )
        .at(
            ctx.key(&format!("{ptr}/tls")),
            "TLS settings on an HTTP listener",
        );
        let fix = if l.protocol.is_some() {
            d = d.label(proto_span(ctx), "protocol HTTP");
            Some(Fix::replace(proto_span(ctx), "HTTPS"))
        } else {
            d = d.note("`protocol` defaults to HTTP");
            ctx.insert_after(&format!("{ptr}/tls"), "protocol: HTTPS")
        };
        if let Some(edit) = fix {
            d = d.with_fix(Fix::safe("set `protocol: HTTPS`", edit));
        }
        ctx.push(d.help("set `protocol: HTTPS` to terminate TLS here, or remove `tls`"));
    }
    if let Some(tls) = &l.tls {
        server_tls(ctx, &format!("{ptr}/tls"), tls);
    }
    let has_routes = l.routes.is_some();
    let has_tcp = l.tcp_routes.is_some();
    // agentgateway `convert_listener`: "protocol HTTP requires 'routes'" (TCP/TLS: `tcpRoutes`).
    let tcp_protocol = matches!(p, ListenerProtocol::TCP | ListenerProtocol::TLS);
    if p != ListenerProtocol::HBONE && !has_routes && !has_tcp {
        let need = if tcp_protocol { "tcpRoutes" } else { "routes" };
        ctx.push(
            Diagnostic::new(
                &LISTENERS_MISSING_ROUTES,
                format!(
                    "{} {} listener has no `{need}`: the gateway refuses the file",
                    if tcp_protocol { "a" } else { "an" },
                    proto_name(p)
                ),
            )
            .at(ctx.value(ptr), format!("no `{need}`"))
            .help(format!(
                "add `{need}:` (an empty list `{need}: []` is accepted)"
            )),
        );
    }
    if has_routes && has_tcp {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_ROUTES_AND_TCP_ROUTES,
                "a listener has both `routes` and `tcpRoutes`",
            )
            .at(ctx.key(&format!("{ptr}/tcpRoutes")), "TCP routes")
            .label(ctx.key(&format!("{ptr}/routes")), "HTTP routes")
            .help("an HTTP or HTTPS listener takes `routes`, a TCP or TLS listener takes `tcpRoutes`; split them into two listeners"),
        );
    } else if has_routes && matches!(p, ListenerProtocol::TCP | ListenerProtocol::TLS) {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_ROUTES_AND_TCP_ROUTES,
                format!("a {} listener has HTTP `routes`: they are never used", proto_name(p)),
            )
            .at(ctx.key(&format!("{ptr}/routes")), "HTTP routes")
            .label(proto_span(ctx), format!("protocol {}", proto_name(p)))
            .help("use `tcpRoutes` on a TCP/TLS listener, or `protocol: HTTP`/`HTTPS` for HTTP routes"),
        );
    } else if has_tcp && matches!(p, ListenerProtocol::HTTP | ListenerProtocol::HTTPS) {
        let mut d = Diagnostic::new(
            &LISTENERS_ROUTES_AND_TCP_ROUTES,
            format!(
                "an {} listener has `tcpRoutes`: they are never used",
                proto_name(p)
            ),
        )
        .at(ctx.key(&format!("{ptr}/tcpRoutes")), "TCP routes");
        if l.protocol.is_some() {
            d = d.label(proto_span(ctx), format!("protocol {}", proto_name(p)));
        } else {
            d = d.note("`protocol` defaults to HTTP");
        }
        ctx.push(d.help("set `protocol: TCP` (or `TLS`) for TCP routes"));
    }
}

/// What the gateway refuses of a server `tls` block when it loads the file (agentgateway
/// `types/local.rs`, `into_server_tls_config_with_resources`).
fn server_tls(ctx: &mut Ctx, ptr: &str, tls: &ServerTls) {
    if tls.spiffe.is_some() {
        spiffe_exclusive(ctx, ptr, tls);
        return;
    }
    if tls.mode == Some(TlsMode::DynamicCa) && tls.root.is_some() {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_TLS_ROOT_DYNAMIC_CA,
                "`tls.root` (client certificate verification) is not supported with `mode: dynamicCa`: the gateway refuses the file",
            )
            .at(ctx.key(&format!("{ptr}/root")), "not with dynamicCa")
            .label(ctx.value(&format!("{ptr}/mode")), "mode dynamicCa")
            .help("remove `root`, or use `mode: static` with a certificate and key to verify client certificates"),
        );
    }
    cert_key(ctx, ptr, tls);
}

/// SPIFFE takes its identity and TLS profile from the Workload API; the gateway refuses a file
/// with certificate files or TLS settings beside it rather than ignore them.
fn spiffe_exclusive(ctx: &mut Ctx, ptr: &str, tls: &ServerTls) {
    let beside = [
        ("cert", tls.cert.is_some()),
        ("key", tls.key.is_some()),
        ("root", tls.root.is_some()),
        ("mode", tls.mode.is_some_and(|m| m != TlsMode::Static)),
        ("cipherSuites", tls.cipher_suites.is_some()),
        ("minTLSVersion", tls.min_tls_version.is_some()),
        ("maxTLSVersion", tls.max_tls_version.is_some()),
        ("keyExchangeGroups", tls.key_exchange_groups.is_some()),
    ];
    for (key, _) in beside.iter().filter(|(_, set)| *set) {
        let at = format!("{ptr}/{key}");
        let at = if ctx.has(&at) {
            at
        } else {
            format!("{ptr}/{}", key.replace("TLS", "Tls"))
        };
        ctx.push(
            Diagnostic::new(
                &LISTENERS_TLS_SPIFFE_EXCLUSIVE,
                format!("`tls` sets both `spiffe` and `{key}`: the gateway refuses the file"),
            )
            .at(ctx.key(&at), "not beside `spiffe`")
            .label(ctx.key(&format!("{ptr}/spiffe")), "SPIFFE brings its own identity")
            .help(format!(
                "remove `{key}` (SPIFFE certificates come from the Workload API), or remove `spiffe` to serve certificate files"
            )),
        );
    }
}

fn cert_key(ctx: &mut Ctx, ptr: &str, tls: &ServerTls) {
    let (present, missing) = match (&tls.cert, &tls.key) {
        (Some(_), None) => ("cert", "key"),
        (None, Some(_)) => ("key", "cert"),
        _ => return,
    };
    ctx.push(
        Diagnostic::new(
            &LISTENERS_TLS_CERT_KEY,
            format!("`tls` has a `{present}` but no `{missing}`"),
        )
        .at(ctx.key(&format!("{ptr}/{present}")), format!("`{missing}` missing beside this"))
        .help(format!(
            "a server certificate needs both the certificate chain (`cert`) and its private key (`key`); add `{missing}:`"
        )),
    );
}
