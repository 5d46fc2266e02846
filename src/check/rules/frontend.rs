//! The `frontendPolicies` section: deprecated keys and the ext-authz protocol. agw keeps this section as written; these are what the gateway's
//! loader refuses of it when it reads the file (agentgateway `types/local.rs`,
//! `NormalizedLocalConfig::from` and what it calls).

use serde_json::Value;

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    FRONTEND_DEPRECATED_CONFIG {
        id: "frontend/deprecated-config",
        severity: Error,
        summary: "a deprecated `config.logging` or `config.tracing` beside the `frontendPolicies` that replaces it",
        why: "`config.logging` (its `filter` and `fields`) and `config.tracing` are the deprecated forms of `frontendPolicies.accessLog` and `frontendPolicies.tracing`. Both forms at once stop the gateway from loading the file. Keep the `frontendPolicies` form.",
        gateway: "The gateway converts the old form into the new one, and refuses the file when both are set: \"cannot use deprecated config.tracing together with frontendPolicies.tracing\" (and \"cannot use deprecated config.logging together with frontendPolicies.accessLog\") (agentgateway `crates/agentgateway/src/types/local.rs`, `merge_deprecated_frontend_policies`).",
        example: "config:\n  tracing: {otlpEndpoint: http://otel:4317}\nfrontendPolicies:\n  tracing: {host: otel:4317}",
        use_instead: "frontendPolicies:\n  tracing: {host: otel:4317}",
    }

    FRONTEND_NETWORK_EXT_AUTHZ_PROTOCOL {
        id: "frontend/network-ext-authz-protocol",
        severity: Error,
        summary: "`frontendPolicies.networkExtAuthz` without the HTTP protocol",
        why: "The network-level external authorization of `frontendPolicies` calls its service over HTTP only, and its `protocol` defaults to gRPC; without `protocol: {http: {}}` the gateway does not load the file.",
        gateway: "The gateway refuses any protocol but HTTP: \"frontendPolicies.networkExtAuthz only supports protocol.http\" (agentgateway `crates/agentgateway/src/types/local.rs`, `split_frontend_policies`); an unset protocol is gRPC (agentgateway `crates/agentgateway/src/http/ext_authz.rs`, `Protocol`'s `Default`).",
        example: "frontendPolicies:\n  networkExtAuthz:\n    host: authz.internal:9000",
        use_instead: "frontendPolicies:\n  networkExtAuthz:\n    host: authz.internal:9000\n    protocol: {http: {}}",
    }
}

pub fn check(ctx: &mut Ctx) {
    frontend_policies(ctx);
}

/// Whether `v` holds a value that counts as set: not null, not an empty list or mapping.
fn is_set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// `frontendPolicies` beside the deprecated `config.logging`/`config.tracing` it replaces, and a
/// network `extAuthz` that does not speak HTTP (agentgateway `types/local.rs`,
/// `merge_deprecated_frontend_policies` and the frontend policy conversion).
fn frontend_policies(ctx: &mut Ctx) {
    let Some(front) = &ctx.cfg.frontend_policies else {
        return;
    };
    let front = &front.value;
    let config = ctx.cfg.config.as_ref().map(|c| &c.value);
    let logging = config.and_then(|c| c.get("logging"));
    let old_log = is_set(logging.and_then(|l| l.get("filter")))
        || is_set(logging.and_then(|l| l.pointer("/fields/add")))
        || is_set(logging.and_then(|l| l.pointer("/fields/remove")));
    let conflicts = [
        (old_log, "/config/logging", "accessLog", "config.logging"),
        (
            config.is_some_and(|c| is_set(c.get("tracing"))),
            "/config/tracing",
            "tracing",
            "config.tracing",
        ),
    ];
    for (old, old_ptr, new, old_name) in conflicts {
        if old && is_set(front.get(new)) {
            ctx.push(
                Diagnostic::new(
                    &FRONTEND_DEPRECATED_CONFIG,
                    format!("`{old_name}` is the deprecated form of `frontendPolicies.{new}`, and both are set: the gateway refuses the file"),
                )
                .at(ctx.key(old_ptr), "deprecated")
                .label(ctx.key(&format!("/frontendPolicies/{new}")), "its replacement")
                .help(format!("move what `{old_name}` sets into `frontendPolicies.{new}` and remove it")),
            );
        }
    }
    if let Some(ext) = front.get("networkExtAuthz").filter(|v| !v.is_null()) {
        if ext.pointer("/protocol/http").is_none() {
            let at = if ctx.has("/frontendPolicies/networkExtAuthz/protocol") {
                ctx.key("/frontendPolicies/networkExtAuthz/protocol")
            } else {
                ctx.key("/frontendPolicies/networkExtAuthz")
            };
            ctx.push(
                Diagnostic::new(
                    &FRONTEND_NETWORK_EXT_AUTHZ_PROTOCOL,
                    "`frontendPolicies.networkExtAuthz` supports only `protocol: {http: ...}` (the default is gRPC): the gateway refuses the file",
                )
                .at(at, "not HTTP")
                .help("set `protocol: {http: {}}` and point it at an HTTP authorization service"),
            );
        }
    }
}
