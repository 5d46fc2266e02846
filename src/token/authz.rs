//! `mcpAuthorization` (and `authorization`) rules evaluated as the gateway does: CEL over
//! `jwt.*` (the claims of a valid token), `mcp.*` (the call) and `request.*`.
//!
//! Semantics: no rules allow everything; a matching `deny` denies; every `require` must hold;
//! then a matching `allow` allows; with no `allow` rules at all, what was not denied is allowed.
//! A rule that fails to evaluate (a missing claim such as `jwt.groups`, a type mismatch) counts
//! as not matching, exactly like the gateway.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::policy::authz::{AuthzRule, RuleKind, MCP_CALL_FIELDS};

/// What the MCP client asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum McpCall {
    Tool {
        name: String,
        target: Option<String>,
    },
    Prompt {
        name: String,
        target: Option<String>,
    },
    Resource {
        uri: String,
        target: Option<String>,
    },
}

impl McpCall {
    /// `tool`, `prompt` or `resource`.
    pub fn kind(&self) -> &'static str {
        match self {
            McpCall::Tool { .. } => "tool",
            McpCall::Prompt { .. } => "prompt",
            McpCall::Resource { .. } => "resource",
        }
    }

    /// `tool echo`, `prompt greet`, `resource file:///x`.
    pub fn describe(&self) -> String {
        match self {
            McpCall::Tool { name, .. } => format!("tool {name}"),
            McpCall::Prompt { name, .. } => format!("prompt {name}"),
            McpCall::Resource { uri, .. } => format!("resource {uri}"),
        }
    }

    /// The value bound to `mcp`: `{tool|prompt|resource: {name, target}}`, the fields
    /// `MCP_CALL_FIELDS` lists. The gateway authorizes a call before it looks at its arguments, so
    /// they are not there (its test `test_rbac_mcp_context_is_identity_only`); a resource's name
    /// is its URI.
    pub fn to_value(&self) -> Value {
        let (name, target) = match self {
            McpCall::Tool { name, target } | McpCall::Prompt { name, target } => (name, target),
            McpCall::Resource { uri, target } => (uri, target),
        };
        let values = [
            Value::String(name.clone()),
            Value::String(target.clone().unwrap_or_default()),
        ];
        let entry: Map<String, Value> = MCP_CALL_FIELDS
            .iter()
            .map(|f| f.to_string())
            .zip(values)
            .collect();
        let mut mcp = Map::new();
        mcp.insert(self.kind().into(), Value::Object(entry));
        Value::Object(mcp)
    }
}

/// The HTTP request, as far as agw knows it (bound to `request`).
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub headers: HashMap<String, String>,
}

impl RequestInfo {
    fn to_value(&self) -> Value {
        serde_json::json!({
            "method": self.method,
            "path": self.path,
            "host": self.host.clone().unwrap_or_default(),
            "headers": self.headers,
        })
    }
}

/// How one rule evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "result", content = "detail")]
pub enum RuleResult {
    Matched,
    NotMatched,
    /// Did not evaluate to a boolean; counts as not matched.
    Error(String),
}

impl RuleResult {
    fn matched(&self) -> bool {
        *self == RuleResult::Matched
    }
}

/// One rule with its result.
#[derive(Debug, Clone, Serialize)]
pub struct RuleEval {
    /// 1-based position in `rules`.
    pub index: usize,
    pub kind: &'static str,
    pub expression: String,
    #[serde(flatten)]
    pub result: RuleResult,
}

/// What the gateway answers an MCP call that `mcpAuthorization` denies: HTTP 400 with a JSON-RPC
/// error `-32602` (invalid params) "Unknown tool: NAME", which does not say that authorization
/// denied it, so that a caller cannot learn which tools exist (agentgateway `mcp::Error::
/// Authorization`, mapped to 400 in `proxy::ProxyError::into_response`).
pub const DENIED_HTTP_STATUS: u16 = 400;
pub const DENIED_JSONRPC_CODE: i64 = -32602;

/// The message of that error; `kind` is `tool`, `prompt` or `resource`, `name` the name (or URI)
/// as the client sent it.
pub fn denied_message(kind: &str, name: &str) -> String {
    format!("Unknown {kind}: {name}")
}

/// The decision and the rule behind it.
#[derive(Debug, Clone, Serialize)]
pub struct AuthzDecision {
    pub allowed: bool,
    /// 1-based index of the deciding rule, if one decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    pub reason: String,
    pub rules: Vec<RuleEval>,
    /// For a denied MCP call, the JSON-RPC error message the gateway answers with (set by the
    /// caller, which knows the name as the client sent it, target prefix included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_as: Option<String>,
}

fn kind_name(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Allow => "allow",
        RuleKind::Deny => "deny",
        RuleKind::Require => "require",
    }
}

/// Evaluates `rules` for `call` with the claims of a valid token (`None`: no valid token).
pub fn evaluate(
    rules: &[AuthzRule],
    claims: Option<&Map<String, Value>>,
    call: &McpCall,
) -> AuthzDecision {
    evaluate_request(rules, claims, call, &RequestInfo::default())
}

/// [`evaluate`] with the HTTP request bound to `request`.
pub fn evaluate_request(
    rules: &[AuthzRule],
    claims: Option<&Map<String, Value>>,
    call: &McpCall,
    request: &RequestInfo,
) -> AuthzDecision {
    evaluate_bound(rules, claims, Some(call), request)
}

/// HTTP `authorization` rules: `jwt.*` and `request.*`, no MCP call bound.
pub fn evaluate_http(
    rules: &[AuthzRule],
    claims: Option<&Map<String, Value>>,
    request: &RequestInfo,
) -> AuthzDecision {
    evaluate_bound(rules, claims, None, request)
}

fn evaluate_bound(
    rules: &[AuthzRule],
    claims: Option<&Map<String, Value>>,
    call: Option<&McpCall>,
    request: &RequestInfo,
) -> AuthzDecision {
    let mut ctx = cel::Context::default();
    let bind = |ctx: &mut cel::Context, name: &str, v: &Value| match cel::to_value(v) {
        Ok(v) => ctx.add_variable_from_value(name, v),
        Err(_) => ctx.add_variable_from_value(name, cel::Value::Null),
    };
    if let Some(c) = claims {
        bind(&mut ctx, "jwt", &Value::Object(c.clone()));
    }
    if let Some(call) = call {
        bind(&mut ctx, "mcp", &call.to_value());
    }
    bind(&mut ctx, "request", &request.to_value());
    let evals: Vec<RuleEval> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| evaluate_rule(i + 1, r, &ctx, claims.is_some()))
        .collect();
    let what = match call {
        Some(c) => c.describe(),
        None => format!("{} {}", request.method, request.path),
    };
    let (allowed, rule, reason) = decide(&evals, &what);
    AuthzDecision {
        allowed,
        rule,
        reason,
        rules: evals,
        denied_as: None,
    }
}

/// One rule against the bound variables; a rule that fails to run is an error, not a match.
fn evaluate_rule(index: usize, r: &AuthzRule, ctx: &cel::Context, have_claims: bool) -> RuleEval {
    let (kind, expr) = r.parts();
    let result = match cel::Program::compile(expr) {
        Err(e) => RuleResult::Error(format!("does not compile: {e}")),
        Ok(p) => match p.execute(ctx) {
            Ok(cel::Value::Bool(true)) => RuleResult::Matched,
            Ok(cel::Value::Bool(false)) => RuleResult::NotMatched,
            Ok(other) => RuleResult::Error(format!("returned {other:?}, not a bool")),
            Err(e) => RuleResult::Error(explain_error(&e, have_claims)),
        },
    };
    RuleEval {
        index,
        kind: kind_name(kind),
        expression: expr.to_string(),
        result,
    }
}

/// The gateway's order: a matching deny denies, a require that does not hold denies, a matching
/// allow allows; with allow rules and none matching the call is denied, without any it is
/// allowed. Returns whether `what` is allowed, the deciding rule and the reason.
fn decide(evals: &[RuleEval], what: &str) -> (bool, Option<usize>, String) {
    let first = |kind: &str, want: bool| {
        evals
            .iter()
            .find(|e| e.kind == kind && e.result.matched() == want)
    };
    if evals.is_empty() {
        return (true, None, format!("{what} allowed: no rules"));
    }
    if let Some(d) = first("deny", true) {
        let reason = format!("{what} denied by rule {}: {}", d.index, d.expression);
        return (false, Some(d.index), reason);
    }
    if let Some(r) = first("require", false) {
        let reason = format!(
            "{what} denied: require rule {} does not hold: {}{}",
            r.index,
            r.expression,
            error_suffix(&r.result)
        );
        return (false, Some(r.index), reason);
    }
    if let Some(a) = first("allow", true) {
        let reason = format!("{what} allowed by rule {}: {}", a.index, a.expression);
        return (true, Some(a.index), reason);
    }
    if !evals.iter().any(|e| e.kind == "allow") {
        let reason = format!("{what} allowed: no deny rule matches and there are no allow rules");
        return (true, None, reason);
    }
    let errors: Vec<String> = evals
        .iter()
        .filter_map(|e| match &e.result {
            RuleResult::Error(msg) => Some(format!("rule {}: {msg}", e.index)),
            _ => None,
        })
        .collect();
    let errors = if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    };
    (
        false,
        None,
        format!("{what} denied: no allow rule matches{errors}"),
    )
}

fn error_suffix(r: &RuleResult) -> String {
    match r {
        RuleResult::Error(e) => format!(" ({e})"),
        _ => String::new(),
    }
}

fn explain_error(e: &cel::ExecutionError, have_claims: bool) -> String {
    match e {
        cel::ExecutionError::NoSuchKey(k) => format!(
            "no such key `{k}` (treated as no match, as the gateway does; a missing claim such as \
             `groups` is not emitted unless the issuer is configured to)"
        ),
        cel::ExecutionError::UndeclaredReference(r) if r.as_str() == "jwt" && !have_claims => {
            "no `jwt`: there is no valid token, so no claims (treated as no match)".into()
        }
        other => format!("{other} (treated as no match)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::policy::authz::ExplicitRule;

    fn allow(s: &str) -> AuthzRule {
        AuthzRule::Allow(s.into())
    }
    fn deny(s: &str) -> AuthzRule {
        AuthzRule::Explicit(ExplicitRule {
            deny: Some(s.into()),
            ..Default::default()
        })
    }
    fn require(s: &str) -> AuthzRule {
        AuthzRule::Explicit(ExplicitRule {
            require: Some(s.into()),
            ..Default::default()
        })
    }
    fn tool(n: &str) -> McpCall {
        McpCall::Tool {
            name: n.into(),
            target: Some("everything".into()),
        }
    }
    fn claims(j: &str) -> Map<String, Value> {
        serde_json::from_str(j).unwrap()
    }

    #[test]
    fn no_rules_allow_everything() {
        let d = evaluate(&[], None, &tool("echo"));
        assert!(d.allowed);
    }

    #[test]
    fn allow_rules_are_or() {
        let rules = [
            allow(r#"mcp.tool.name == "add""#),
            allow(r#"mcp.tool.name == "echo""#),
        ];
        let d = evaluate(&rules, None, &tool("echo"));
        assert!(d.allowed);
        assert_eq!(d.rule, Some(2));
        assert!(!evaluate(&rules, None, &tool("rm")).allowed);
    }

    #[test]
    fn okta_scopes_and_missing_claims() {
        let c = claims(r#"{"sub":"x","scp":["agentgateway","mcp:tools"]}"#);
        let rules = [allow(r#""mcp:tools" in jwt.scp"#)];
        assert!(evaluate(&rules, Some(&c), &tool("echo")).allowed);
        // jwt.groups is not there: no match, no crash
        let rules = [allow(r#""admins" in jwt.groups"#)];
        let d = evaluate(&rules, Some(&c), &tool("echo"));
        assert!(!d.allowed);
        assert!(matches!(d.rules[0].result, RuleResult::Error(_)));
        assert!(d.reason.contains("no allow rule matches"), "{}", d.reason);
        // no token at all
        let rules = [allow(r#"jwt.sub == "x""#)];
        assert!(!evaluate(&rules, None, &tool("echo")).allowed);
    }

    #[test]
    fn deny_and_require() {
        let c = claims(r#"{"sub":"bob","scp":["read"]}"#);
        let rules = [allow("true"), deny(r#"mcp.tool.name == "rm""#)];
        assert!(evaluate(&rules, Some(&c), &tool("echo")).allowed);
        let d = evaluate(&rules, Some(&c), &tool("rm"));
        assert!(!d.allowed);
        assert_eq!(d.rule, Some(2));
        let rules = [allow("true"), require(r#""write" in jwt.scp"#)];
        let d = evaluate(&rules, Some(&c), &tool("echo"));
        assert!(!d.allowed);
        assert!(d.reason.contains("require rule 2"));
        // only deny rules: denylist semantics
        let rules = [deny(r#"mcp.tool.name == "rm""#)];
        assert!(evaluate(&rules, Some(&c), &tool("echo")).allowed);
    }

    #[test]
    fn prompts_and_resources() {
        let rules = [allow(r#"mcp.prompt.name == "greet""#)];
        let p = McpCall::Prompt {
            name: "greet".into(),
            target: None,
        };
        assert!(evaluate(&rules, None, &p).allowed);
        let rules = [allow(r#"mcp.resource.name.startsWith("file:///pub/")"#)];
        let r = McpCall::Resource {
            uri: "file:///pub/a".into(),
            target: None,
        };
        assert!(evaluate(&rules, None, &r).allowed);
    }
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn numeric_claims_compare_with_literals() {
        let c: Map<String, Value> =
            serde_json::from_str(r#"{"exp": 1800000000, "level": 3, "ratio": 0.5, "neg": -2}"#)
                .unwrap();
        let call = McpCall::Tool {
            name: "x".into(),
            target: None,
        };
        for rule in [
            "jwt.exp > 100",
            "jwt.level == 3",
            "jwt.level >= 3 && jwt.neg < 0",
            "jwt.ratio < 1.0",
        ] {
            let d = evaluate(&[AuthzRule::Allow(rule.into())], Some(&c), &call);
            assert!(d.allowed, "{rule}: {:?}", d.rules[0].result);
        }
        // identity and the call's name only, as the gateway sees them: a rule on the arguments
        // never matches
        let d = evaluate(
            &[AuthzRule::Allow("mcp.tool.arguments.n == 5".into())],
            Some(&c),
            &call,
        );
        assert!(!d.allowed);
        let d = evaluate(
            &[AuthzRule::Allow("!has(mcp.tool.arguments)".into())],
            Some(&c),
            &call,
        );
        assert!(d.allowed, "{:?}", d.rules[0].result);
    }
}
