use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::surface::{self, Surface};

/// Headers to add (appending), set (replacing) or remove.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderModifier {
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub add: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl HeaderModifier {
    /// Applies the modifier as the gateway does (agentgateway `http/filters.rs`,
    /// `HeaderModifier::apply`): `add` appends, then `set` replaces, then `remove` deletes. A
    /// name or value that is not valid HTTP fails the request there, so it is an error here.
    pub fn apply(&self, h: &mut http::HeaderMap) -> Result<(), String> {
        let name = |k: &str| {
            http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("`{k}` is not a valid header name"))
        };
        let value = |k: &str, v: &str| {
            http::HeaderValue::from_str(v)
                .map_err(|_| format!("the value of header `{k}` is not a valid header value"))
        };
        for (k, v) in &self.add {
            h.append(name(k)?, value(k, v)?);
        }
        for (k, v) in &self.set {
            h.insert(name(k)?, value(k, v)?);
        }
        for k in &self.remove {
            h.remove(name(k)?);
        }
        Ok(())
    }
}

/// Time limits for a request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timeout {
    /// The whole request, including retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::config::optional_duration_schema")]
    pub request_timeout: Option<String>,
    /// Each attempt at the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::config::optional_duration_schema")]
    pub backend_request_timeout: Option<String>,
}

/// A token bucket: `maxTokens` capacity, refilled by `tokensPerFill` every `fillInterval`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalRateLimit {
    #[serde(default)]
    pub max_tokens: u64,
    #[serde(default)]
    pub tokens_per_fill: u64,
    #[schemars(schema_with = "crate::config::duration_schema")]
    pub fill_interval: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<RateLimitKind>,
}

/// `localRateLimit`: a list of buckets, or `conditional:` entries chosen per request by CEL.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum LocalRateLimits {
    Conditional(ConditionalRateLimits),
    List(Vec<LocalRateLimit>),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionalRateLimits {
    pub conditional: Vec<Surface<surface::LocalConditionalPolicyRateLimitSpec>>,
}

impl LocalRateLimits {
    /// The unconditional buckets (the conditional form is chosen per request).
    pub fn buckets(&self) -> &[LocalRateLimit] {
        match self {
            LocalRateLimits::List(l) => l,
            LocalRateLimits::Conditional(_) => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RateLimitKind {
    Requests,
    Tokens,
}

/// A fixed response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// A CEL expression computing the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub status: Option<u32>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Responses chosen by CEL `condition`; an entry without a condition is the fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Vec<Surface<surface::LocalConditionalPolicyDirectResponse>>>,
}

/// Answer with a redirect.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestRedirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<AuthorityRewrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathRewrite>,
    /// The status of the redirect answer (usually 301, 302, 307 or 308). The gateway reads it as
    /// an HTTP status code, which is 100 to 999.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 999))]
    pub status: Option<u32>,
}

/// Rewrite the path or authority before forwarding.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UrlRewrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<AuthorityRewrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathRewrite>,
}

/// A keyword such as `none`, or `{full}` / `{host, port}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AuthorityRewrite {
    Keyword(String),
    Parts(AuthorityParts),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorityParts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port: Option<u32>,
}

/// Exactly one of `full` or `prefix`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["full"]}, {"required": ["prefix"]}]))]
pub struct PathRewrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A response body: text, or bytes as a list of numbers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Body {
    Text(String),
    Bytes(Vec<u8>),
}

impl Body {
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Bytes(b) => b.clone(),
        }
    }
}

#[cfg(test)]
mod header_modifier_tests {
    use super::HeaderModifier;

    fn modifier(v: serde_json::Value) -> HeaderModifier {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn add_then_set_then_remove_as_the_gateway_applies_them() {
        let mut h = http::HeaderMap::new();
        h.insert("x-old", "1".parse().unwrap());
        let m = modifier(serde_json::json!({
            "add": {"x-a": "added", "x-b": "b"},
            "set": {"x-a": "set"},
            "remove": ["x-old"]
        }));
        m.apply(&mut h).unwrap();
        assert_eq!(
            h.get_all("x-a").iter().count(),
            1,
            "set replaces what add appended"
        );
        assert_eq!(h["x-a"], "set");
        assert_eq!(h["x-b"], "b");
        assert!(h.get("x-old").is_none());
    }

    #[test]
    fn an_invalid_name_or_value_fails() {
        let mut h = http::HeaderMap::new();
        let e = modifier(serde_json::json!({"set": {"x tenant": "a"}}))
            .apply(&mut h)
            .unwrap_err();
        assert!(e.contains("`x tenant`"), "{e}");
        let e = modifier(serde_json::json!({"add": {"x-a": "line\nbreak"}}))
            .apply(&mut h)
            .unwrap_err();
        assert!(e.contains("value"), "{e}");
    }
}
