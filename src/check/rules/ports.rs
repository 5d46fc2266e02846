//! Ports: one owner per port, binds that overlap, and protocols that can share a port.

use std::collections::HashMap;

use super::util::ptr_token;
use super::Ctx;
use crate::config::url::split_host_port;
use crate::config::{BindMode, Listener, ListenerProtocol};
use crate::diag::Diagnostic;
use crate::source::Span;

crate::rules! {
    PORTS_CONFLICT {
        id: "ports/conflict",
        severity: Error,
        summary: "two binds, gateways or shorthands use one port",
        why: "Each bind, gateway and shorthand (`mcp:` listens on 3000 and `llm:` on 4000 unless they have `port` or `gateways`) opens its own socket, so two of them on one port keep the gateway from starting. Put the listeners under one bind, or give each its own port. Explicit admin, stats and readiness addresses in `config` count too.",
        gateway: "The gateway refuses the file when binds, gateways and the `llm:` and `mcp:` shorthands share a port: \"port P is configured by both A and B; binds, llm, and mcp must use unique ports\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`). The admin, stats and readiness addresses of `config` are not part of that check; they are sockets of their own, and two sockets on one port cannot both be bound when the gateway starts.",
        example: "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  targets: [{name: a, stdio: {cmd: my-server}}]",
        use_instead: "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  port: 3001\n  targets: [{name: a, stdio: {cmd: my-server}}]",
    }

    PORTS_PROTOCOL_MIX {
        id: "ports/protocol-mix",
        severity: Error,
        summary: "listeners on one port mix protocols that cannot share it",
        why: "Listeners on one port are told apart by TLS SNI or the HTTP Host header. Plain HTTP and plain TCP cannot be told apart, and neither can TLS and plaintext, so some of the listeners cannot work. HTTPS and TLS listeners can share a port (by SNI). Give the listeners that differ a port of their own.",
        gateway: "Under `gateways`, the gateway refuses such listeners: \"gateway listeners on port P cannot mix HTTP and TCP protocols\" and \"... cannot mix TLS and plaintext\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`). Under `binds` it accepts the file and gives the whole port one protocol: TLS when any listener is HTTPS or TLS, else TCP when any is TCP, else HTTP (agentgateway `crates/agentgateway/src/types/local.rs`, `detect_bind_protocol`); listeners of another kind do not get the traffic they expect.",
        example: "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n  - protocol: HTTP",
        use_instead: "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n- port: 8080\n  listeners:\n  - protocol: HTTP",
    }

    PORTS_WILDCARD_BINDS {
        id: "ports/wildcard-binds",
        severity: Error,
        summary: "more than one internal bind without a port",
        why: "An internal bind without a port (or with port 0) is the wildcard fallback that serves any destination port in process, and there can be only one: a second one stops the gateway from loading the file. Give all but one of them a port. An internal bind with a port takes part in the port uniqueness check (`ports/conflict`).",
        gateway: "The gateway allows one wildcard bind, since lookups would resolve a second one ambiguously, and refuses the file otherwise: \"at most one wildcard bind (an internal bind without a numeric port) is allowed\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`).",
        example: "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  listeners: [...]",
        use_instead: "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  port: 9000\n  listeners: [...]",
    }
}

pub fn check(ctx: &mut Ctx) {
    conflicts(ctx);
    let cfg = ctx.cfg;
    for (bi, b) in cfg.binds.iter().enumerate() {
        protocol_mix(
            ctx,
            &format!("/binds/{bi}"),
            &b.listeners,
            ListenerProtocol::HTTP,
        );
    }
}

struct PortOwner {
    what: String,
    /// Pointer whose value span is labelled.
    ptr: String,
    /// Whether the port was written (else it is a default).
    written: bool,
}

impl PortOwner {
    fn at(what: String, ptr: String) -> PortOwner {
        PortOwner {
            what,
            ptr,
            written: true,
        }
    }

    /// A shorthand section (`mcp`, `llm`) whose port is `{section}/port` when written, and
    /// its default otherwise.
    fn shorthand(section: &str, written: bool) -> PortOwner {
        PortOwner {
            what: format!("the `{section}:` shorthand"),
            ptr: if written {
                format!("/{section}/port")
            } else {
                format!("/{section}")
            },
            written,
        }
    }

    fn span(&self, ctx: &Ctx) -> Span {
        if self.written {
            ctx.value(&self.ptr)
        } else {
            ctx.key(&self.ptr)
        }
    }

    fn label(&self, port: u32) -> String {
        if self.written {
            format!("{} listens on {port}", self.what)
        } else {
            format!("{} listens on {port} by default", self.what)
        }
    }
}

fn conflicts(ctx: &mut Ctx) {
    let mut owners: Vec<(u32, PortOwner)> = Vec::new();
    let wildcards = bind_owners(ctx, &mut owners);
    for (name, g) in &ctx.cfg.gateways {
        owners.push((
            g.port,
            PortOwner::at(
                format!("gateway `{name}`"),
                format!("/gateways/{}/port", ptr_token(name)),
            ),
        ));
    }
    shorthand_owners(ctx, &mut owners);
    admin_owners(ctx, &mut owners);
    let mut first: HashMap<u32, usize> = HashMap::new();
    for (i, (port, _)) in owners.iter().enumerate() {
        if *port == 0 {
            continue;
        }
        match first.get(port) {
            Some(&f) => report_conflict(ctx, *port, &owners[f].1, &owners[i].1),
            None => {
                first.insert(*port, i);
            }
        }
    }
    wildcard_binds(ctx, &wildcards);
}

/// The ports of `binds`; returns the internal binds without a port. Such a bind is the
/// wildcard fallback, which opens no socket; an internal bind with a port takes part in the
/// uniqueness check like any other (agentgateway `types/local.rs`,
/// `validate_local_listener_ports`).
fn bind_owners(ctx: &Ctx, owners: &mut Vec<(u32, PortOwner)>) -> Vec<usize> {
    let mut wildcards = Vec::new();
    for (bi, b) in ctx.cfg.binds.iter().enumerate() {
        if b.mode == Some(BindMode::Internal) && b.port.unwrap_or(0) == 0 {
            wildcards.push(bi);
        } else if let Some(p) = b.port {
            owners.push((
                p,
                PortOwner::at(format!("bind {}", bi + 1), format!("/binds/{bi}/port")),
            ));
        }
    }
    wildcards
}

fn shorthand_owners(ctx: &Ctx, owners: &mut Vec<(u32, PortOwner)>) {
    if let (Some(m), Some(port)) = (&ctx.cfg.mcp, ctx.topology.shorthand_port) {
        owners.push((port, PortOwner::shorthand("mcp", m.port.is_some())));
    }
    if let Some(llm) = ctx.cfg.llm.as_ref().map(|u| &u.value) {
        // Likewise the `llm:` shorthand on 4000, unless it names gateways or, with no port or
        // TLS of its own, joins the gateway `default`.
        let port = llm.get("port").and_then(|v| v.as_u64());
        let joins_default = ctx.cfg.default_gateway_serves_http()
            && port.is_none()
            && llm.get("tls").is_none_or(|t| t.is_null());
        if !super::util::has_gateways(llm) && !joins_default {
            owners.push((
                port.map_or(4000, |p| p as u32),
                PortOwner::shorthand("llm", port.is_some()),
            ));
        }
    }
}

fn admin_owners(ctx: &Ctx, owners: &mut Vec<(u32, PortOwner)>) {
    let Some(cfg) = ctx.cfg.config.as_ref().map(|u| &u.value) else {
        return;
    };
    for key in ["adminAddr", "statsAddr", "readinessAddr"] {
        let addr = cfg.get(key).and_then(|v| v.as_str());
        if let Some((_, Some(p))) = addr.and_then(split_host_port) {
            owners.push((
                u32::from(p),
                PortOwner::at(format!("`config.{key}`"), format!("/config/{key}")),
            ));
        }
    }
}

/// `b` asks for the port `a` already has.
fn report_conflict(ctx: &mut Ctx, port: u32, a: &PortOwner, b: &PortOwner) {
    let mut d = Diagnostic::new(
        &PORTS_CONFLICT,
        format!("port {port} is used twice: by {} and by {}", a.what, b.what),
    )
    .at(b.span(ctx), b.label(port))
    .label(a.span(ctx), a.label(port))
    .help(format!(
        "the gateway cannot bind port {port} twice and refuses to start; give one of them another port, or put both sets of listeners under one bind"
    ));
    for (section, default) in [("mcp", 3000), ("llm", 4000)] {
        if !b.written && b.what.contains(section) {
            d = d.note(format!("the `{section}:` shorthand listens on {default} unless it has `port:` or `gateways:` (or there is a gateway named `default`)"));
        }
    }
    ctx.push(d);
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

pub(super) fn proto_name(p: ListenerProtocol) -> &'static str {
    match p {
        ListenerProtocol::HTTP => "HTTP",
        ListenerProtocol::HTTPS => "HTTPS",
        ListenerProtocol::TLS => "TLS",
        ListenerProtocol::TCP => "TCP",
        ListenerProtocol::HBONE => "HBONE",
    }
}

pub(super) fn protocol_mix(
    ctx: &mut Ctx,
    base: &str,
    listeners: &[Listener],
    default: ListenerProtocol,
) {
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
