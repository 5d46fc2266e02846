//! CORS and traffic policies: what the gateway refuses at start-up (a rate limit bucket smaller
//! than its refill) and what silently does something else than meant.

use super::util::duration_nanos;
use super::Ctx;
use crate::config::mcp::StatefulMode;
use crate::config::policy::Cors;
use crate::config::RoutePolicies;
use crate::diag::Diagnostic;

crate::rules! {
    POLICIES_DIRECT_RESPONSE_STATUS {
        id: "policies/direct-response-status",
        severity: Error,
        summary: "`directResponse` without `status`",
        why: "A direct response needs the HTTP status to answer with; the gateway refuses the file without it (agentgateway `http/filters.rs`, `DirectResponse`).",
        gateway: "",
        example: "directResponse:\n  body: maintenance",
        use_instead: "directResponse:\n  body: maintenance\n  status: 503",
    }

    POLICIES_NOT_ONE_POLICY {
        id: "policies/not-one-policy",
        severity: Error,
        summary: "an entry of the top-level `policies` list with no policy, or with several",
        why: "Each entry of the top-level `policies` list attaches one policy to its `target`; the gateway refuses the file when `policy` holds none or more than one: \"'policies' must contain exactly 1 policy\" (agentgateway `types/local.rs`, targeted policies).",
        gateway: "",
        example: "policies:\n- name: {name: edge, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n    timeout: {requestTimeout: 30s}",
        use_instead: "policies:\n- name: {name: edge-cors, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n- name: {name: edge-timeout, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    timeout: {requestTimeout: 30s}",
    }

    POLICIES_TARGET_LISTENER_AND_PORT {
        id: "policies/target-listener-and-port",
        severity: Error,
        summary: "a `policies` entry whose gateway target sets both `listenerName` and `port`",
        why: "A gateway target attaches a policy to a whole gateway, to one of its listeners (`listenerName`) or to the listeners of a port (`port`); the gateway refuses both at once (\"gateway policy target cannot set both listener_name and port\", agentgateway `types/agent.rs`, `ListenerTarget::validate`).",
        gateway: "",
        example: "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api, port: 3000}",
        use_instead: "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api}",
    }

    POLICIES_CONDITIONAL_ENTRIES {
        id: "policies/conditional-entries",
        severity: Error,
        summary: "a `conditional` policy list that is empty, too long, or has its fallback before the end",
        why: "`localRateLimit`, `remoteRateLimit`, `transformations`, `extAuthz`, `extProc` and `directResponse` take a `{conditional: [...]}` form whose entries are tried in order. The gateway refuses the file when the list is empty, has more than 64 entries, or has an entry without `condition` (the fallback) anywhere but last (agentgateway `types/local.rs`, `validate_local_conditional_policies`).",
        gateway: "",
        example: "directResponse:\n  conditional:\n  - status: 503\n  - condition: request.path == \"/ready\"\n    status: 200",
        use_instead: "directResponse:\n  conditional:\n  - condition: request.path == \"/ready\"\n    status: 200\n  - status: 503",
    }

    POLICIES_CONDITIONAL_BACKEND_TARGET {
        id: "policies/conditional-backend-target",
        severity: Error,
        summary: "conditional `transformations` or `extAuthz` in a policy that targets a backend",
        why: "A policy attached to a backend runs after the backend is chosen; the gateway refuses the `{conditional: [...]}` form of `transformations` and `extAuthz` there (\"conditional transformations are not supported on backend-targeted policies\", agentgateway `types/local.rs`, `split_policies_for_target`).",
        gateway: "",
        example: "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    conditional:\n    - condition: request.path == \"/v1\"\n      request: {set: {x-version: \"'1'\"}}",
        use_instead: "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    request: {set: {x-version: \"'1'\"}}",
    }

    CORS_INVALID_NAME {
        id: "cors/invalid-name",
        severity: Error,
        summary: "a CORS header or method name that is not valid HTTP",
        why: "The gateway parses `allowHeaders` and `exposeHeaders` as header names and `allowMethods` as methods when it loads the file, and refuses one that is not (agentgateway `http/cors.rs`). A `*` entry makes the list a wildcard.",
        gateway: "",
        example: "cors:\n  allowHeaders: [\"content-type, mcp-session-id\"]",
        use_instead: "cors:\n  allowHeaders: [content-type, mcp-session-id]",
    }

    RATELIMIT_MAX_BELOW_FILL {
        id: "ratelimit/max-below-fill",
        severity: Error,
        summary: "a local rate limit whose bucket is smaller than one refill",
        why: "`localRateLimit` is a token bucket of `maxTokens`, refilled with `tokensPerFill` every `fillInterval`. The gateway refuses a bucket smaller than one refill (\"max tokens cannot be less than the refill amount\").",
        gateway: "",
        example: "localRateLimit:\n- maxTokens: 5\n  tokensPerFill: 10\n  fillInterval: 1s",
        use_instead: "localRateLimit:\n- maxTokens: 10\n  tokensPerFill: 10\n  fillInterval: 1s",
    }

    TIMEOUT_BACKEND_EXCEEDS_REQUEST {
        id: "timeout/backend-exceeds-request",
        severity: Warning,
        summary: "a backend timeout longer than the request timeout",
        why: "`requestTimeout` bounds the whole request, retries included; `backendRequestTimeout` bounds one attempt. A per-attempt timeout longer than the whole never fires.",
        gateway: "",
        example: "timeout:\n  requestTimeout: 10s\n  backendRequestTimeout: 30s",
        use_instead: "timeout:\n  requestTimeout: 30s\n  backendRequestTimeout: 10s",
    }

    CORS_CREDENTIALS_ANY_ORIGIN {
        id: "cors/credentials-any-origin",
        severity: Warning,
        summary: "CORS allows credentials from any origin",
        why: "With `allowCredentials: true` and `allowOrigins: [\"*\"]` the gateway answers every site with that site's own origin and `Access-Control-Allow-Credentials: true`, so any web page a user visits can send requests with the user's cookies or HTTP credentials and read the answers. List the origins that need credentials.",
        gateway: "",
        example: "cors:\n  allowOrigins: [\"*\"]\n  allowCredentials: true",
        use_instead: "cors:\n  allowOrigins: [\"https://app.acme.com\"]\n  allowCredentials: true",
    }

    CORS_MCP_HEADERS {
        id: "cors/mcp-headers",
        severity: Note,
        summary: "CORS on an MCP route misses headers MCP clients need",
        why: "Browser-based MCP clients (for example the MCP Inspector) send `content-type`, `mcp-protocol-version` and, after initialize, `mcp-session-id` (and `authorization` with a token), and must read `mcp-session-id` from the answer. A CORS policy that does not allow and expose them makes those clients fail, while other clients work.",
        gateway: "",
        example: "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type]",
        use_instead: "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type, mcp-protocol-version, mcp-session-id, authorization]\n  exposeHeaders: [mcp-session-id]",
    }
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        rate_limits(ctx, &site.ptr, site.policies);
        timeouts(ctx, &site.ptr, site.policies);
        if let Some(c) = &site.policies.cors {
            credentials(ctx, &format!("{}/cors", site.ptr), c);
            cors_names(ctx, &format!("{}/cors", site.ptr), c);
        }
        if let Some(d) = &site.policies.direct_response {
            if d.status.is_none() && d.conditional.is_none() {
                let ptr = format!("{}/directResponse", site.ptr);
                ctx.push(
                    Diagnostic::new(
                        &POLICIES_DIRECT_RESPONSE_STATUS,
                        "`directResponse` has no `status`: the gateway refuses the file (missing field `status`)",
                    )
                    .at(ctx.key(&ptr), "no `status`")
                    .help("add the HTTP status to answer with, e.g. `status: 200`"),
                );
            }
        }
    }
    mcp_cors(ctx);
    conditional_entries(ctx);
    for (i, tp) in ctx.cfg.policies.iter().enumerate() {
        // the typed policy as the file writes it, once for the three checks of an entry
        let Ok(policy) = serde_json::to_value(&tp.policy) else {
            continue;
        };
        one_policy(ctx, i, &policy);
        if tp.target.value.get("backend").is_some() {
            conditional_on_backend(ctx, i, &policy);
        }
        if let Some(g) = tp.target.value.get("gateway") {
            gateway_target(ctx, i, g);
        }
    }
}

/// A gateway target names a listener or a port of the gateway, not both ("gateway policy target
/// cannot set both listener_name and port", agentgateway `types/agent.rs`,
/// `ListenerTarget::validate`).
fn gateway_target(ctx: &mut Ctx, i: usize, g: &serde_json::Value) {
    let set = |k: &str| g.get(k).is_some_and(|v| !v.is_null());
    if set("listenerName") && set("port") {
        let at = format!("/policies/{i}/target/gateway");
        ctx.push(
            Diagnostic::new(
                &POLICIES_TARGET_LISTENER_AND_PORT,
                "a gateway target sets both `listenerName` and `port`: the gateway refuses the file",
            )
            .at(ctx.key(&format!("{at}/port")), "one or the other")
            .label(ctx.key(&format!("{at}/listenerName")), "the listener")
            .help("keep `listenerName` to target one listener, or `port` to target the listeners of a port"),
        );
    }
}

/// A policy attached to a backend runs once its backend is chosen, where a condition has no
/// request to choose by: the gateway refuses the conditional form of `transformations` and
/// `extAuthz` there (agentgateway `types/local.rs`, `split_policies_for_target`).
fn conditional_on_backend(ctx: &mut Ctx, i: usize, policy: &serde_json::Value) {
    for (key, refusal) in [
        (
            "transformations",
            "conditional transformations are not supported on backend-targeted policies",
        ),
        (
            "extAuthz",
            "conditional extAuthz is not supported on backend-targeted policies",
        ),
    ] {
        if policy.get(key).and_then(|p| p.get("conditional")).is_none() {
            continue;
        }
        let ptr = format!("/policies/{i}/policy/{key}/conditional");
        ctx.push(
            Diagnostic::new(
                &POLICIES_CONDITIONAL_BACKEND_TARGET,
                format!("conditional `{key}` on a backend target: the gateway refuses the file ({refusal})"),
            )
            .at(ctx.key(&ptr), "conditional")
            .label(ctx.key(&format!("/policies/{i}/target/backend")), "a backend target")
            .help(format!("write `{key}` without `conditional`, or target the route or gateway to choose by request")),
        );
    }
}

/// Each entry of the top-level `policies` list carries exactly one policy: the gateway refuses the
/// file otherwise ("'policies' must contain exactly 1 policy", agentgateway `types/local.rs`).
fn one_policy(ctx: &mut Ctx, i: usize, policy: &serde_json::Value) {
    let ptr = format!("/policies/{i}/policy");
    let keys: Vec<&String> = match policy {
        serde_json::Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect(),
        _ => return,
    };
    let d = match keys.as_slice() {
        [_] => return,
        [] => Diagnostic::new(
            &POLICIES_NOT_ONE_POLICY,
            "this `policies` entry has no policy: the gateway refuses the file ('policies' must contain exactly 1 policy)",
        )
        .at(ctx.key(&ptr), "empty")
        .help("put one policy under `policy:`, such as `cors:` or `jwtAuth:`, or remove the entry"),
        [first, rest @ ..] => {
            let mut d = Diagnostic::new(
                &POLICIES_NOT_ONE_POLICY,
                format!(
                    "this `policies` entry has {} policies: the gateway refuses the file ('policies' must contain exactly 1 policy)",
                    keys.len()
                ),
            )
            .at(ctx.key(&format!("{ptr}/{}", rest[0])), "a second policy")
            .label(ctx.key(&format!("{ptr}/{first}")), "the first");
            for k in &rest[1..] {
                d = d.label(ctx.key(&format!("{ptr}/{k}")), "another");
            }
            d.help("give each policy an entry of its own, with the same `target` and its own `name`")
        }
    };
    ctx.push(d);
}

/// The policies that take a `{conditional: [...]}` form, and the gateway's limits on the list
/// (agentgateway `types/local.rs`, `validate_local_conditional_policies`): at least one entry, at
/// most 64, and an entry without `condition` (the fallback) only last.
const CONDITIONAL_POLICIES: [&str; 6] = [
    "localRateLimit",
    "remoteRateLimit",
    "transformations",
    "extAuthz",
    "extProc",
    "directResponse",
];
const MAX_CONDITIONAL_ENTRIES: usize = 64;

fn conditional_entries(ctx: &mut Ctx) {
    // the typed model keeps most of these policies as written; the document says where they are
    if !ctx.text().contains("conditional") {
        return;
    }
    let mut found = Vec::new();
    super::util::each_entry(ctx.document(), &mut |ptr, k, x| {
        if CONDITIONAL_POLICIES.contains(&k) {
            if let Some(serde_json::Value::Array(entries)) = x.get("conditional") {
                found.push((ptr.to_string(), entries.clone()));
            }
        }
    });
    for (ptr, entries) in found {
        let list = format!("{ptr}/conditional");
        if entries.is_empty() {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    "`conditional` has no entries: the gateway refuses the file (conditional policies must have at least one entry)",
                )
                .at(ctx.key(&list), "empty")
                .help("add an entry (`- condition: ...` with its policy), or write the policy without `conditional`"),
            );
            continue;
        }
        if entries.len() > MAX_CONDITIONAL_ENTRIES {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    format!(
                        "`conditional` has {} entries: the gateway refuses more than {MAX_CONDITIONAL_ENTRIES}",
                        entries.len()
                    ),
                )
                .at(ctx.key(&list), "too many entries")
                .help("merge entries whose policies are the same into one condition"),
            );
        }
        let last = entries.len() - 1;
        if let Some(i) = entries
            .iter()
            .position(|e| e.get("condition").is_none_or(serde_json::Value::is_null))
            .filter(|i| *i != last)
        {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    "a `conditional` entry without `condition` is not the last one: the gateway refuses the file (conditional policy entries without condition must be last)",
                )
                .at(ctx.key(&format!("{list}/{i}")), "the fallback")
                .label(ctx.key(&format!("{list}/{last}")), "entries after it")
                .help("move the entry without `condition` to the end of the list: it is the fallback when no condition matches"),
            );
        }
    }
}

/// The gateway parses CORS `allowHeaders`/`exposeHeaders` as header names and `allowMethods` as
/// methods when it loads the file, and refuses one that is not (agentgateway `http/cors.rs`); a
/// `*` entry makes the list a wildcard, and then the others are not parsed.
fn cors_names(ctx: &mut Ctx, ptr: &str, c: &Cors) {
    let token = super::util::is_http_token;
    for (key, list, what) in [
        ("allowHeaders", &c.allow_headers, "header name"),
        ("exposeHeaders", &c.expose_headers, "header name"),
        ("allowMethods", &c.allow_methods, "method"),
    ] {
        if list.iter().any(|v| v == "*") {
            continue;
        }
        for (i, v) in list.iter().enumerate() {
            if token(v) {
                continue;
            }
            ctx.push(
                Diagnostic::new(
                    &CORS_INVALID_NAME,
                    format!("`{v}` in CORS `{key}` is not a valid HTTP {what}: the gateway refuses the file"),
                )
                .at(ctx.value(&format!("{ptr}/{key}/{i}")), format!("not an HTTP {what}"))
                .help(format!("an HTTP {what} has no spaces, `:`, quotes or other separators; write one {what} per list entry")),
            );
        }
    }
}

fn rate_limits(ctx: &mut Ctx, ptr: &str, p: &RoutePolicies) {
    for (i, rl) in p
        .local_rate_limit
        .iter()
        .flat_map(|l| l.buckets())
        .enumerate()
    {
        if rl.max_tokens >= rl.tokens_per_fill {
            continue;
        }
        let base = format!("{ptr}/localRateLimit/{i}");
        ctx.push(
            Diagnostic::new(
                &RATELIMIT_MAX_BELOW_FILL,
                format!(
                    "`maxTokens: {}` is below `tokensPerFill: {}`: the bucket cannot hold one refill",
                    rl.max_tokens, rl.tokens_per_fill
                ),
            )
            .at(ctx.value(&format!("{base}/maxTokens")), "bucket size")
            .label(ctx.value(&format!("{base}/tokensPerFill")), "added every fill interval")
            .help(format!(
                "raise `maxTokens` to at least {} (the burst you allow), or lower `tokensPerFill`",
                rl.tokens_per_fill
            ))
            .note("the gateway refuses the file: \"max tokens cannot be less than the refill amount\""),
        );
    }
}

fn timeouts(ctx: &mut Ctx, ptr: &str, p: &RoutePolicies) {
    let Some(t) = &p.timeout else { return };
    let (Some(req), Some(be)) = (&t.request_timeout, &t.backend_request_timeout) else {
        return;
    };
    let (Some(r), Some(b)) = (duration_nanos(req), duration_nanos(be)) else {
        return;
    };
    if b <= r {
        return;
    }
    ctx.push(
        Diagnostic::new(
            &TIMEOUT_BACKEND_EXCEEDS_REQUEST,
            format!("`backendRequestTimeout: {be}` is longer than `requestTimeout: {req}`: it never fires"),
        )
        .at(ctx.value(&format!("{ptr}/timeout/backendRequestTimeout")), "per attempt")
        .label(ctx.value(&format!("{ptr}/timeout/requestTimeout")), "whole request, retries included")
        .help(format!("make `backendRequestTimeout` shorter than {req} (so a retry fits), or drop it")),
    );
}

fn credentials(ctx: &mut Ctx, ptr: &str, c: &Cors) {
    if c.allow_credentials != Some(true) {
        return;
    }
    let Some(i) = c.allow_origins.iter().position(|o| o == "*") else {
        return;
    };
    ctx.push(
        Diagnostic::new(
            &CORS_CREDENTIALS_ANY_ORIGIN,
            "`allowCredentials: true` with `allowOrigins: [\"*\"]`: every website may send credentialed requests and read the answers",
        )
        .at(ctx.value(&format!("{ptr}/allowOrigins/{i}")), "any origin")
        .label(ctx.value(&format!("{ptr}/allowCredentials")), "with cookies and HTTP authentication")
        .help("list the origins that need credentials, for example `allowOrigins: [\"https://app.example.com\"]`, or drop `allowCredentials`")
        .note("the gateway answers with the caller's own `Origin` and `Access-Control-Allow-Credentials: true`, which browsers accept"),
    );
}

fn mcp_cors(ctx: &mut Ctx) {
    let cfg = ctx.cfg;
    let routes = ctx.routes.clone();
    let mut sites: Vec<(String, &RoutePolicies, bool)> = Vec::new();
    for site in routes.iter() {
        let Some(p) = &site.route.policies else {
            continue;
        };
        if p.cors.is_none() {
            continue;
        }
        let mcp: Vec<_> = site
            .route
            .backends
            .iter()
            .filter_map(|b| b.mcp.as_ref())
            .collect();
        if mcp.is_empty() {
            continue;
        }
        let stateful = mcp
            .iter()
            .any(|m| m.stateful_mode.unwrap_or_default() == StatefulMode::Stateful);
        sites.push((format!("{}/policies", site.ptr), p, stateful));
    }
    if let Some(m) = &cfg.mcp {
        if let Some(p) = &m.policies {
            if p.cors.is_some() {
                let stateful = m.stateful_mode.unwrap_or_default() == StatefulMode::Stateful;
                sites.push(("/mcp/policies".into(), p, stateful));
            }
        }
    }
    for (ptr, p, stateful) in sites {
        let Some(c) = &p.cors else { continue };
        if c.allow_origins.is_empty() {
            continue;
        }
        let has =
            |list: &[String], h: &str| list.iter().any(|x| x == "*" || x.eq_ignore_ascii_case(h));
        let mut missing_allow: Vec<&str> = Vec::new();
        for h in ["content-type", "mcp-protocol-version"] {
            if !has(&c.allow_headers, h) {
                missing_allow.push(h);
            }
        }
        if stateful && !has(&c.allow_headers, "mcp-session-id") {
            missing_allow.push("mcp-session-id");
        }
        let authn = p.mcp_authentication.is_some() || p.jwt_auth.is_some();
        if authn && !has(&c.allow_headers, "authorization") {
            missing_allow.push("authorization");
        }
        let missing_expose = stateful && !has(&c.expose_headers, "mcp-session-id");
        if missing_allow.is_empty() && !missing_expose {
            continue;
        }
        let cptr = format!("{ptr}/cors");
        let mut parts = Vec::new();
        if !missing_allow.is_empty() {
            parts.push(format!(
                "`allowHeaders` lacks {}",
                missing_allow
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if missing_expose {
            parts.push("`exposeHeaders` lacks `mcp-session-id`".into());
        }
        let mut help = String::new();
        if !missing_allow.is_empty() {
            let mut all: Vec<String> = c.allow_headers.clone();
            all.extend(missing_allow.iter().map(|s| s.to_string()));
            help.push_str(&format!("allowHeaders: [{}]", all.join(", ")));
        }
        if missing_expose {
            if !help.is_empty() {
                help.push('\n');
            }
            let mut all: Vec<String> = c.expose_headers.clone();
            all.push("mcp-session-id".into());
            help.push_str(&format!("exposeHeaders: [{}]", all.join(", ")));
        }
        let at = if !missing_allow.is_empty() && ctx.has(&format!("{cptr}/allowHeaders")) {
            ctx.key(&format!("{cptr}/allowHeaders"))
        } else if missing_expose && ctx.has(&format!("{cptr}/exposeHeaders")) {
            ctx.key(&format!("{cptr}/exposeHeaders"))
        } else {
            ctx.key(&cptr)
        };
        ctx.push(
            Diagnostic::new(
                &CORS_MCP_HEADERS,
                format!("CORS on an MCP route: {}; browser-based MCP clients will fail", parts.join(" and ")),
            )
            .at(at, "incomplete for MCP")
            .help(help)
            .note("MCP clients send `content-type`, `mcp-protocol-version`, `mcp-session-id` (and `authorization` with a token), and must read `mcp-session-id` from the initialize response"),
        );
    }
}
