//! Listeners: TLS where the protocol needs it and nowhere else, and routes of the listener's
//! kind.

use super::ports::proto_name;
use super::Ctx;
use crate::config::listener::TlsMode;
use crate::config::{Listener, ListenerProtocol, ServerTls};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;
use crate::source::Span;

crate::rules! {
    LISTENERS_HTTPS_WITHOUT_TLS {
        id: "listeners/https-without-tls",
        severity: Error,
        summary: "an HTTPS listener without `tls`",
        why: "An HTTPS listener terminates TLS and needs a certificate and its key; without them the gateway does not load the file. Add `tls` with `cert` and `key`, or use `protocol: HTTP` when TLS is terminated in front of the gateway.",
        gateway: "The gateway refuses an HTTPS listener without `tls`: \"HTTPS listener requires 'tls'\" (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_listener`).",
        example: "- protocol: HTTPS\n  routes: []",
        use_instead: "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
    }

    LISTENERS_HTTP_WITH_TLS {
        id: "listeners/http-with-tls",
        severity: Warning,
        summary: "a plain HTTP listener of a bind with `tls`",
        why: "A `tls` block on a plain HTTP listener does nothing: the port serves plaintext, and clients that connect with TLS fail. Most often `protocol: HTTPS` was forgotten; set it, or remove `tls`.",
        gateway: "On a listener under `binds`, protocol HTTP is the default and does not read `tls`: the gateway accepts the file, ignores `tls` and serves plaintext (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_listener` reads `tls` only for HTTPS and TLS).",
        example: "- tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
        use_instead: "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
    }

    LISTENERS_ROUTES_AND_TCP_ROUTES {
        id: "listeners/routes-and-tcp-routes",
        severity: Error,
        summary: "HTTP routes and TCP routes mixed up on a listener",
        why: "An HTTP or HTTPS listener takes `routes`; a TCP or TLS listener takes `tcpRoutes`. A listener with both, or with only the kind its protocol does not use, stops the gateway from loading the file. Split the routes into two listeners, or fix the protocol.",
        gateway: "The gateway refuses a listener with both (\"only 'routes' or 'tcpRoutes' may be set\"), and one with only the other kind as a listener without routes (\"protocol HTTP requires 'routes'\", \"protocol TCP requires 'tcpRoutes'\") (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_listener`).",
        example: "- protocol: TCP\n  routes:\n  - backends: [{host: 127.0.0.1:5432}]",
        use_instead: "- protocol: TCP\n  tcpRoutes:\n  - backends: [{host: 127.0.0.1:5432}]",
    }

    LISTENERS_TLS_CERT_KEY {
        id: "listeners/tls-cert-key",
        severity: Error,
        summary: "`tls` with a certificate but no key, or a key but no certificate",
        why: "Serving TLS needs the certificate chain and its private key together; with one of them missing the gateway does not load the file. Add the missing one.",
        gateway: "The gateway refuses a server `tls` without `cert` (\"tls requires 'cert' (or 'spiffe')\") or without `key` (\"tls requires 'key' (or 'spiffe')\") when it builds the listener's TLS (agentgateway `crates/agentgateway/src/types/local.rs`, `into_server_tls_config_with_resources`; it is not read on a plain HTTP or TCP listener).",
        example: "tls:\n  cert: certs/cert.pem",
        use_instead: "tls:\n  cert: certs/cert.pem\n  key: certs/key.pem",
    }

    LISTENERS_MISSING_ROUTES {
        id: "listeners/missing-routes",
        severity: Error,
        summary: "a listener of a bind without `routes` (or `tcpRoutes`)",
        why: "A listener under `binds` needs `routes` when its protocol is HTTP (the default) or HTTPS, and `tcpRoutes` when it is TCP or TLS; without them the gateway does not load the file. An empty list (`routes: []`) is enough.",
        gateway: "The gateway refuses the file: \"protocol HTTP requires 'routes'\" (and likewise for HTTPS, TLS and TCP) (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_listener`).",
        example: "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP",
        use_instead: "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP\n    routes: []",
    }

    LISTENERS_TLS_SPIFFE_EXCLUSIVE {
        id: "listeners/tls-spiffe-exclusive",
        severity: Error,
        summary: "server `tls` with `spiffe` and certificate files or TLS settings beside it",
        why: "With `spiffe`, the listener's identity and TLS profile come from the SPIFFE Workload API, so certificate files and TLS settings beside it cannot apply; the gateway does not load such a file. Remove them, or remove `spiffe` to serve certificate files.",
        gateway: "The gateway refuses `cert`, `key` or `root` beside `spiffe` (\"'spiffe' is mutually exclusive with 'cert'/'key'/'root'\"), a `mode` other than `static`, and `cipherSuites`, `minTLSVersion`, `maxTLSVersion` or `keyExchangeGroups`, rather than ignore them (agentgateway `crates/agentgateway/src/types/local.rs`, `into_server_tls_config_with_resources`).",
        example: "tls:\n  spiffe: {}\n  cert: certs/cert.pem",
        use_instead: "tls:\n  spiffe: {}",
    }

    LISTENERS_TLS_ROOT_DYNAMIC_CA {
        id: "listeners/tls-root-dynamic-ca",
        severity: Error,
        summary: "server `tls` with `mode: dynamicCa` and a client CA `root`",
        why: "In `dynamicCa` mode the gateway mints leaf certificates from the CA in `cert`/`key` and cannot verify client certificates, so a client CA `root` stops it from loading the file. Remove `root`, or use `mode: static` to verify client certificates.",
        gateway: "The gateway refuses a `root` in `dynamicCa` mode: \"tls.root is not supported with tls.mode=dynamicCa\" (agentgateway `crates/agentgateway/src/types/local.rs`, `into_server_tls_config_with_resources`).",
        example: "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem\n  root: ca/clients.pem",
        use_instead: "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem",
    }
}

pub fn check(ctx: &mut Ctx) {
    let cfg = ctx.cfg;
    for (bi, b) in cfg.binds.iter().enumerate() {
        for (i, l) in b.listeners.iter().enumerate() {
            listener(ctx, &format!("/binds/{bi}/listeners/{i}"), l);
        }
    }
}

fn listener(ctx: &mut Ctx, ptr: &str, l: &Listener) {
    listener_tls(ctx, ptr, l);
    listener_routes(ctx, ptr, l);
}

/// The listener's `protocol` value, or the listener itself when the protocol is the default.
fn proto_span(ctx: &Ctx, ptr: &str) -> Span {
    let pp = format!("{ptr}/protocol");
    if ctx.has(&pp) {
        ctx.value(&pp)
    } else {
        ctx.value(ptr)
    }
}

/// `tls` that an HTTPS listener lacks or an HTTP listener ignores, and the `tls` block itself.
fn listener_tls(ctx: &mut Ctx, ptr: &str, l: &Listener) {
    let p = l.protocol();
    if p == ListenerProtocol::HTTPS && l.tls.is_none() {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_HTTPS_WITHOUT_TLS,
                "an HTTPS listener has no `tls`: it has no certificate to serve",
            )
            .at(proto_span(ctx, ptr), "HTTPS needs `tls`")
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
            d = d.label(proto_span(ctx, ptr), "protocol HTTP");
            Some(Fix::replace(proto_span(ctx, ptr), "HTTPS"))
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
}

/// The routes of the listener's kind: `routes` for HTTP and HTTPS, `tcpRoutes` for TCP and TLS.
fn listener_routes(ctx: &mut Ctx, ptr: &str, l: &Listener) {
    let p = l.protocol();
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
                "a listener has both `routes` and `tcpRoutes`: the gateway refuses the file",
            )
            .at(ctx.key(&format!("{ptr}/tcpRoutes")), "TCP routes")
            .label(ctx.key(&format!("{ptr}/routes")), "HTTP routes")
            .help("an HTTP or HTTPS listener takes `routes`, a TCP or TLS listener takes `tcpRoutes`; split them into two listeners"),
        );
    } else if has_routes && matches!(p, ListenerProtocol::TCP | ListenerProtocol::TLS) {
        ctx.push(
            Diagnostic::new(
                &LISTENERS_ROUTES_AND_TCP_ROUTES,
                format!(
                    "a {} listener has HTTP `routes` and no `tcpRoutes`: the gateway refuses the file",
                    proto_name(p)
                ),
            )
            .at(ctx.key(&format!("{ptr}/routes")), "HTTP routes")
            .label(proto_span(ctx, ptr), format!("protocol {}", proto_name(p)))
            .help("use `tcpRoutes` on a TCP/TLS listener, or `protocol: HTTP`/`HTTPS` for HTTP routes"),
        );
    } else if has_tcp && matches!(p, ListenerProtocol::HTTP | ListenerProtocol::HTTPS) {
        let mut d = Diagnostic::new(
            &LISTENERS_ROUTES_AND_TCP_ROUTES,
            format!(
                "an {} listener has `tcpRoutes` and no `routes`: the gateway refuses the file",
                proto_name(p)
            ),
        )
        .at(ctx.key(&format!("{ptr}/tcpRoutes")), "TCP routes");
        if l.protocol.is_some() {
            d = d.label(proto_span(ctx, ptr), format!("protocol {}", proto_name(p)));
        } else {
            d = d.note("`protocol` defaults to HTTP");
        }
        ctx.push(d.help("set `protocol: TCP` (or `TLS`) for TCP routes"));
    }
}

/// What the gateway refuses of a server `tls` block when it loads the file (agentgateway
/// `types/local.rs`, `into_server_tls_config_with_resources`).
pub(super) fn server_tls(ctx: &mut Ctx, ptr: &str, tls: &ServerTls) {
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
