//! agw's own check of the manifests it made, before they are written: the rules of the CRDs
//! (structure and `x-kubernetes-validations`) that a compiled file could break. A failure here
//! is agw's fault, not the user's, and is reported as `k8s/invalid-manifest` so that nothing
//! the API server would refuse is ever written. The test suite checks the same manifests
//! against the CRDs themselves.

use std::collections::HashSet;

use serde_json::Value;

use crate::diag::Diagnostic;

crate::rules! {
    K8S_INVALID_MANIFEST {
        id: "k8s/invalid-manifest",
        severity: Error,
        summary: "agw made a manifest that the cluster would refuse",
        why: "Before writing, agw checks its manifests against the rules of the CRDs it can break (unique listeners, one provider with `mcp`, `cacheDuration` of at least 5m, ...). A failure is a bug in agw; nothing is written.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

pub fn manifests(manifests: &[Value]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for m in manifests {
        let kind = m["kind"].as_str().unwrap_or_default();
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let mut p = |msg: String| problems.push(format!("{kind} {name}: {msg}"));
        if !crate::config::is_dns_subdomain(name) {
            p("metadata.name is not a DNS-1123 subdomain".into());
        }
        let spec = &m["spec"];
        match kind {
            "Gateway" => gateway(spec, &mut p),
            "HTTPRoute" => http_route(spec, &mut p),
            "AgentgatewayBackend" => backend(spec, &mut p),
            "AgentgatewayPolicy" => policy(spec, &mut p),
            _ => {}
        }
    }
    problems
        .into_iter()
        .map(|msg| {
            Diagnostic::new(
                &K8S_INVALID_MANIFEST,
                format!("agw made a manifest the cluster would refuse: {msg}"),
            )
            .help("this is a bug in agw: please report it with the file; nothing was written")
        })
        .collect()
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn gateway(spec: &Value, p: &mut impl FnMut(String)) {
    let listeners = items(&spec["listeners"]);
    if listeners.is_empty() || listeners.len() > 64 {
        p(format!("{} listeners (1 to 64)", listeners.len()));
    }
    let mut names = HashSet::new();
    let mut combos = HashSet::new();
    for l in listeners {
        let name = l["name"].as_str().unwrap_or_default();
        if !names.insert(name) {
            p(format!("listener name `{name}` is not unique"));
        }
        if !combos.insert((
            l["port"].as_u64(),
            l["protocol"].as_str(),
            l["hostname"].as_str(),
        )) {
            p(format!(
                "listener `{name}`: port, protocol and hostname are not unique"
            ));
        }
        let protocol = l["protocol"].as_str().unwrap_or_default();
        if matches!(protocol, "HTTP" | "TCP") && !l["tls"].is_null() {
            p(format!("listener `{name}`: tls on {protocol}"));
        }
        if protocol == "TLS" && l["tls"]["mode"].is_null() {
            p(format!("listener `{name}`: TLS without tls.mode"));
        }
    }
}

fn http_route(spec: &Value, p: &mut impl FnMut(String)) {
    if items(&spec["parentRefs"]).len() > 32 {
        p("more than 32 parentRefs".into());
    }
    let rules = items(&spec["rules"]);
    if rules.len() > 16 {
        p("more than 16 rules".into());
    }
    for r in rules {
        let matches = items(&r["matches"]);
        if matches.len() > 64 {
            p(format!("{} matches in a rule (at most 64)", matches.len()));
        }
        for m in matches {
            let path = &m["path"];
            if path["type"] != "RegularExpression"
                && path["value"].as_str().is_some_and(|v| !v.starts_with('/'))
            {
                p("a path that does not start with `/`".into());
            }
        }
    }
}

fn backend(spec: &Value, p: &mut impl FnMut(String)) {
    let kinds = ["ai", "static", "dynamicForwardProxy", "mcp", "aws", "a2a"];
    if kinds.iter().filter(|k| !spec[**k].is_null()).count() != 1 {
        p("not exactly one of ai, static, dynamicForwardProxy, mcp, aws, a2a".into());
    }
    let targets = items(&spec["mcp"]["targets"]);
    if !spec["mcp"].is_null() && (targets.is_empty() || targets.len() > 128) {
        p(format!("{} MCP targets (1 to 128)", targets.len()));
    }
    for t in targets {
        let name = t["name"].as_str().unwrap_or_default();
        if !crate::config::is_dns_subdomain(name) {
            p(format!("target name `{name}` is not a DNS-1123 subdomain"));
        }
        let port = t["static"]["port"].as_u64().unwrap_or_default();
        if !(1..=65535).contains(&port) {
            p(format!("target `{name}`: port {port}"));
        }
    }
}

fn policy(spec: &Value, p: &mut impl FnMut(String)) {
    if spec["traffic"].is_null() && spec["backend"].is_null() && spec["frontend"].is_null() {
        p("none of traffic, frontend, backend".into());
    }
    let jwt = &spec["traffic"]["jwtAuthentication"];
    if !jwt.is_null() {
        let providers = items(&jwt["providers"]);
        if providers.is_empty() || providers.len() > 64 {
            p(format!("{} JWT providers (1 to 64)", providers.len()));
        }
        if !jwt["mcp"].is_null() && (providers.len() != 1 || jwt["mode"] != "Strict") {
            p("jwtAuthentication.mcp requires exactly one provider and mode Strict".into());
        }
        for pr in providers {
            if pr["audiences"].as_array().is_some_and(Vec::is_empty) {
                p("an empty audiences list".into());
            }
            let cache = pr["jwks"]["remote"]["cacheDuration"].as_str();
            if cache
                .is_some_and(|c| crate::config::parse_duration(c).is_none_or(|d| d.as_secs() < 300))
            {
                p("jwks cacheDuration below 5m".into());
            }
        }
    }
    let origins = items(&spec["traffic"]["cors"]["allowOrigins"]);
    if origins.len() > 1 && origins.iter().any(|o| o == "*") {
        p("allowOrigins has `*` beside other origins".into());
    }
    for a in [
        &spec["traffic"]["authorization"],
        &spec["backend"]["mcp"]["authorization"],
    ] {
        if !a.is_null() {
            let n = items(&a["policy"]["matchExpressions"]).len();
            if n == 0 || n > 256 {
                p(format!("{n} authorization expressions (1 to 256)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_the_crds_refuse_is_caught() {
        let bad = json!({"kind": "AgentgatewayPolicy", "metadata": {"name": "p"}, "spec": {"targetRefs": [], "traffic": {
            "jwtAuthentication": {"mode": "Optional", "providers": [{"issuer": "i", "jwks": {"remote": {"url": "u", "cacheDuration": "1m"}}}], "mcp": {}},
            "cors": {"allowOrigins": ["*", "https://a.b"]}}}});
        let found = manifests(&[bad]);
        assert_eq!(found.len(), 3, "{found:#?}");
        let gw = json!({"kind": "Gateway", "metadata": {"name": "Bad_Name"}, "spec": {"listeners": [
            {"name": "a", "port": 80, "protocol": "HTTP", "tls": {}}, {"name": "a", "port": 80, "protocol": "HTTP"}]}});
        assert_eq!(manifests(&[gw]).len(), 4);
    }
}
