use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CEL rules; a request is allowed when an `allow` rule matches and no `deny` rule does, and
/// every `require` rule holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authorization {
    pub rules: Vec<AuthzRule>,
}

/// A CEL expression (an allow rule), or `{allow|deny|require: CEL}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AuthzRule {
    #[schemars(example = &"mcp.tool.name == \"echo\"")]
    Allow(String),
    Explicit(ExplicitRule),
}

/// Exactly one of `allow`, `deny` or `require`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["allow"]}, {"required": ["deny"]}, {"required": ["require"]}]))]
pub struct ExplicitRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Allow,
    Deny,
    Require,
}

impl AuthzRule {
    /// The rule's kind and CEL text.
    pub fn parts(&self) -> (RuleKind, &str) {
        match self {
            AuthzRule::Allow(s) => (RuleKind::Allow, s),
            AuthzRule::Explicit(e) => match (&e.allow, &e.deny, &e.require) {
                (Some(s), _, _) => (RuleKind::Allow, s),
                (_, Some(s), _) => (RuleKind::Deny, s),
                (_, _, Some(s)) => (RuleKind::Require, s),
                _ => (RuleKind::Allow, ""),
            },
        }
    }
}

/// The kinds of MCP call an `mcpAuthorization` rule sees (`mcp.tool`, ...), and the fields each
/// has: the gateway binds the call's name (a resource's URI) and target, and nothing of its
/// arguments (agentgateway `mcp/rbac.rs`, `ResourceId`). Read by the evaluator and by the
/// `cel/unknown-field` rule.
pub const MCP_CALL_KINDS: [&str; 4] = ["tool", "prompt", "resource", "task"];
pub const MCP_CALL_FIELDS: [&str; 2] = ["name", "target"];
