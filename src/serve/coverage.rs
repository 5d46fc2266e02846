//! What of a file the runtime does not apply, said at start-up and on every reload so that
//! nothing is ignored silently. A policy that decides who may pass (`apiKey`, `basicAuth`,
//! `extAuthz`, ...) and that the runtime cannot apply makes its route refuse every request
//! (501): serving the route without it would let in callers the gateway turns away.

use serde_json::Value;

use crate::config::policy::traffic::RateLimitKind;
use crate::config::{Config, GatewayPolicies, RoutePolicies};

/// Route policies the runtime applies (as written in the file).
const APPLIED: &[&str] = &[
    "mcpAuthentication",
    "jwtAuth",
    "mcpAuthorization",
    "authorization",
    "cors",
    "requestHeaderModifier",
    "responseHeaderModifier",
    "requestRedirect",
    "urlRewrite",
    "directResponse",
    "timeout",
    "localRateLimit",
];

/// Policies that turn requests away; not applied, they make their route or listener refuse.
const GUARDS: &[&str] = &["basicAuth", "apiKey", "extAuthz", "oidc", "csrf"];

/// What one policy block has that the runtime does not apply.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Gaps {
    /// Not applied; requests are served without them.
    pub ignored: Vec<String>,
    /// Not applied, and requests are refused because of them.
    pub guards: Vec<String>,
}

impl Gaps {
    pub fn is_empty(&self) -> bool {
        self.ignored.is_empty() && self.guards.is_empty()
    }

    /// The log line for a route or listener named `what`.
    pub fn describe(&self, what: &str) -> Option<String> {
        let list = |v: &[String]| {
            v.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (self.guards.is_empty(), self.ignored.is_empty()) {
            (true, true) => None,
            (true, false) => Some(format!(
                "{what}: {} not applied by `agw serve`; its requests are served without",
                list(&self.ignored)
            )),
            (false, ignored_empty) => {
                let mut s = format!(
                    "{what}: {} not applied by `agw serve`; its requests are refused (501) rather than let through without",
                    list(&self.guards)
                );
                if !ignored_empty {
                    s.push_str(&format!(" (also not applied: {})", list(&self.ignored)));
                }
                Some(s)
            }
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The policies of a route.
pub fn route(p: &RoutePolicies) -> Gaps {
    let mut g = Gaps::default();
    for k in keys(&serde_json::to_value(p).unwrap_or(Value::Null)) {
        if GUARDS.contains(&k.as_str()) {
            g.guards.push(k);
        } else if !APPLIED.contains(&k.as_str()) {
            g.ignored.push(k);
        }
    }
    if p.timeout
        .as_ref()
        .is_some_and(|t| t.backend_request_timeout.is_some())
    {
        g.ignored.push("timeout.backendRequestTimeout".into());
    }
    if p.local_rate_limit
        .iter()
        .flat_map(|l| l.buckets())
        .any(|l| l.kind == Some(RateLimitKind::Tokens))
    {
        g.ignored.push("localRateLimit (type: tokens)".into());
    }
    if let Some(d) = &p.direct_response {
        if d.body_expression.is_some() {
            g.ignored.push("directResponse.bodyExpression".into());
        }
        if d.conditional.is_some() {
            g.ignored.push("directResponse.conditional".into());
        }
    }
    g
}

/// The policies of a listener or gateway (only `jwtAuth` is applied).
pub fn gateway(p: &GatewayPolicies) -> Gaps {
    let mut g = Gaps::default();
    for k in keys(&serde_json::to_value(p).unwrap_or(Value::Null)) {
        if GUARDS.contains(&k.as_str()) {
            g.guards.push(k);
        } else if k != "jwtAuth" {
            g.ignored.push(k);
        }
    }
    g
}

/// The policies of a route's backend (`backends[].policies`) or of a named backend: none is
/// applied; `mcpAuthorization` there turns calls away.
pub fn backend(p: &Value) -> Gaps {
    let mut g = Gaps::default();
    for k in keys(p) {
        if k == "mcpAuthorization" {
            g.guards.push(format!("backend {k}"));
        } else {
            g.ignored.push(format!("backend {k}"));
        }
    }
    g
}

/// The policies of an MCP target (only `requestHeaderModifier` of a remote target is
/// applied).
pub fn target(name: &str, p: &Value) -> Vec<String> {
    keys(p)
        .into_iter()
        .filter(|k| k != "requestHeaderModifier")
        .map(|k| format!("target `{name}` {k}"))
        .collect()
}

/// Parts of the file outside routes that the runtime does not serve. Top-level `policies`
/// attach to routes by reference, which the runtime does not resolve: one that decides who may
/// pass is an error (the file is not served without it), the others are warnings.
pub fn file(cfg: &Config) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, tp) in cfg.policies.iter().enumerate() {
        let g = route(&tp.policy);
        let all: Vec<String> = keys(&serde_json::to_value(&tp.policy).unwrap_or(Value::Null));
        let deciding: Vec<&String> = all
            .iter()
            .filter(|k| {
                GUARDS.contains(&k.as_str())
                    || matches!(
                        k.as_str(),
                        "mcpAuthentication" | "jwtAuth" | "mcpAuthorization" | "authorization"
                    )
            })
            .collect();
        if !deciding.is_empty() {
            return Err(format!(
                "/policies/{i}: `agw serve` does not apply top-level `policies` (attached by target), and this one decides who may pass ({}); refusing to serve the file without it (put the policy on the route)",
                deciding
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !all.is_empty() || !g.is_empty() {
            out.push(format!(
                "/policies/{i}: top-level `policies` (attached by target) are not applied by `agw serve`: {}",
                all.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let sections: [(&str, bool); 5] = [
        ("frontendPolicies", cfg.frontend_policies.is_some()),
        ("routeGroups", !cfg.route_groups.is_empty()),
        ("tcpRoutes", !cfg.tcp_routes.is_empty()),
        ("llm", cfg.llm.is_some()),
        ("ui", cfg.ui.is_some()),
    ];
    for (name, present) in sections {
        if present {
            out.push(format!("`{name}` is not served by `agw serve`"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(v: Value) -> RoutePolicies {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn applied_policies_leave_no_gap() {
        let p = policies(serde_json::json!({
            "cors": {"allowOrigins": ["*"]},
            "urlRewrite": {"path": {"prefix": "/v2"}},
            "timeout": {"requestTimeout": "1s"},
        }));
        assert!(route(&p).is_empty(), "{:?}", route(&p));
    }

    #[test]
    fn ignored_and_guarding_policies_are_named() {
        let p = policies(serde_json::json!({
            "retry": {"attempts": 2},
            "apiKey": {"keys": []},
            "timeout": {"backendRequestTimeout": "1s"},
        }));
        let g = route(&p);
        assert_eq!(g.guards, vec!["apiKey"]);
        assert_eq!(g.ignored, vec!["retry", "timeout.backendRequestTimeout"]);
        let text = g.describe("route `r`").unwrap();
        assert!(text.contains("`apiKey` not applied"), "{text}");
        assert!(text.contains("refused (501)"), "{text}");
    }
}
