//! Backends: the `host:` form of a backend, and where `inferenceRouting` may be set.

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    BACKENDS_HOST_PORT {
        id: "backends/host-port",
        severity: Error,
        summary: "a backend `host:` that is not `HOST:PORT`",
        why: "A backend `host` needs the port as well as the host; a URL, a bare host name or an IPv6 literal in brackets stops the gateway from loading the file. Write `HOST:PORT` (or `unix:/PATH` for a socket). MCP targets are different: they take a URL (`mcp/host-form`).",
        gateway: "The gateway reads a backend's `host` as `HOST:PORT`, split at the first `:` with the rest parsed as a port number (or `unix:/PATH` for a socket), and refuses anything else: a missing port (\"invalid host:port\"), a URL with a scheme, an IPv6 literal, a port over 65535 (agentgateway `crates/agentgateway/src/types/agent.rs`, `Target`, its `TryFrom<&str>`).",
        example: "backends:\n- host: https://api.internal",
        use_instead: "backends:\n- host: api.internal:443",
    }

    BACKENDS_INFERENCE_ROUTING_SCOPE {
        id: "backends/inference-routing-scope",
        severity: Error,
        summary: "`inferenceRouting` anywhere but on a `service:` route backend",
        why: "Inference routing picks one endpoint among a service's, so it only works on a route backend written `service: {name, port}`. Anywhere else it stops the gateway from loading the file. Move `inferenceRouting` into the `policies` of such a route backend.",
        gateway: "The gateway accepts `inferenceRouting` only in the `policies` of a route backend written `service: {name, port}`; on another route backend, on an entry of `backends` or on an AI provider it refuses the file (\"inferenceRouting is only supported on service route backends\", ending \", not named backends\" or \", not AI provider policies\" for those; agentgateway `crates/agentgateway/src/types/local.rs`, `validate_inference_routing_scope`).",
        example: "backends:\n- name: llm\n  host: vllm.internal:8000\n  policies:\n    inferenceRouting: {...}",
        use_instead: "routes:\n- backends:\n  - service: {name: default/vllm, port: 8000}\n    policies:\n      inferenceRouting: {...}",
    }
}

pub fn check(ctx: &mut Ctx) {
    backend_hosts(ctx);
    inference_routing_scope(ctx);
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
    for site in ctx.topology.sites.iter() {
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
    for site in ctx.topology.sites.iter() {
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
