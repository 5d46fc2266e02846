//! Gateways: a gateway with `listeners` sets nothing else of its own, and its protocol agrees
//! with its TLS.

use super::listeners::server_tls;
use super::ports::protocol_mix;
use super::util::ptr_token;
use super::Ctx;
use crate::config::{Gateway, GatewayProtocol, ListenerProtocol, ServerTls};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;

crate::rules! {
    GATEWAYS_PROTOCOL_TLS {
        id: "gateways/protocol-tls",
        severity: Error,
        summary: "a gateway's protocol and `tls` disagree",
        why: "A gateway, or a listener of a gateway, is HTTPS when it has `tls` and no `protocol`, and HTTP without `tls`. A `protocol` that contradicts its `tls` stops the gateway from loading the file. Drop `protocol`, or make it agree with `tls`.",
        gateway: "The gateway refuses `protocol: HTTP` or `TCP` with `tls` (\"protocol HTTP cannot set tls\", \"protocol TCP cannot set tls\") and `protocol: HTTPS` without it (\"protocol HTTPS requires tls\") (agentgateway `crates/agentgateway/src/types/local.rs`, `effective_gateway_protocol`).",
        example: "gateways:\n  public:\n    port: 8443\n    protocol: HTTP\n    tls: {cert: cert.pem, key: key.pem}",
        use_instead: "gateways:\n  public:\n    port: 8443\n    tls: {cert: cert.pem, key: key.pem}",
    }

    GATEWAYS_LISTENERS_AND_OWN_SETTINGS {
        id: "gateways/listeners-and-own-settings",
        severity: Error,
        summary: "a gateway with `listeners` also sets protocol, tls or a policy",
        why: "With `listeners`, a gateway sets only `port`; protocol, TLS and policies belong to each listener, and setting them on the gateway stops it from loading the file. Move them onto the listeners.",
        gateway: "The gateway refuses the file: \"gateways.NAME cannot set protocol, tls, or policy fields when listeners are configured\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`).",
        example: "gateways:\n  public:\n    port: 3000\n    cors: {allowOrigins: ['*']}\n    listeners:\n    - name: api",
        use_instead: "gateways:\n  public:\n    port: 3000\n    listeners:\n    - name: api\n      cors: {allowOrigins: ['*']}",
    }
}

pub fn check(ctx: &mut Ctx) {
    for (name, g) in &ctx.cfg.gateways {
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
