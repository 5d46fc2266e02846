//! The `config` section: the tracing endpoint. agw keeps this section as written; these are what the gateway's
//! loader refuses of it when it reads the file (agentgateway `types/local.rs`,
//! `NormalizedLocalConfig::from` and what it calls).

use serde_json::Value;

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    CONFIG_TRACING_ENDPOINT {
        id: "config/tracing-endpoint",
        severity: Error,
        summary: "a deprecated `config.tracing.otlpEndpoint` the gateway cannot convert",
        why: "The deprecated `config.tracing.otlpEndpoint` must be a URL with the scheme `http`, `https` or `grpc` and a host, or a bare `HOST:PORT`; anything else stops the gateway from loading the file. Fix the endpoint, or move to `frontendPolicies.tracing`.",
        gateway: "The gateway converts the deprecated `config.tracing` into `frontendPolicies.tracing` and refuses an endpoint it cannot convert: \"failed parsing tracing endpoint\", with \"unsupported tracing endpoint scheme\" or \"must include a host\" (agentgateway `crates/agentgateway/src/types/local.rs`, `parse_deprecated_tracing_endpoint`).",
        example: "config:\n  tracing:\n    otlpEndpoint: otel-collector",
        use_instead: "config:\n  tracing:\n    otlpEndpoint: grpc://otel-collector:4317",
    }
}

pub fn check(ctx: &mut Ctx) {
    tracing_endpoint(ctx);
}

/// The deprecated `config.tracing.otlpEndpoint` is a URL with scheme http, https or grpc, or a
/// bare `HOST:PORT`; the gateway refuses anything else when it converts it (agentgateway
/// `types/local.rs`, `parse_deprecated_tracing_endpoint`).
fn tracing_endpoint(ctx: &mut Ctx) {
    let Some(ep) = ctx
        .cfg
        .config
        .as_ref()
        .and_then(|c| c.value.pointer("/tracing/otlpEndpoint"))
        .and_then(Value::as_str)
    else {
        return;
    };
    let problem = match ep.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme, "http" | "https" | "grpc") {
                Some(format!(
                    "has the scheme `{scheme}`, which the gateway does not support"
                ))
            } else if rest.split(['/', '?', '#']).next().is_none_or(str::is_empty) {
                Some("has no host".to_string())
            } else {
                None
            }
        }
        None => match crate::config::url::split_host_port(ep) {
            Some((host, Some(_))) if !host.is_empty() => None,
            _ => Some("is neither a URL nor `HOST:PORT`".to_string()),
        },
    };
    if let Some(problem) = problem {
        ctx.push(
            Diagnostic::new(
                &CONFIG_TRACING_ENDPOINT,
                format!("`config.tracing.otlpEndpoint` {problem}: the gateway refuses the file"),
            )
            .at(ctx.value("/config/tracing/otlpEndpoint"), "not a tracing endpoint")
            .help("write `http://HOST:4318`, `https://HOST`, `grpc://HOST:4317` or `HOST:4317`, or move the tracing settings to `frontendPolicies.tracing`"),
        );
    }
}
