//! Route-level policies. The ones agw's rules read are typed; the rest are described from the
//! gateway's published schema (`Surface`) and kept as written.

pub mod auth;
pub mod authz;
pub mod cors;
pub mod traffic;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::surface::{self, Surface};
pub use auth::{JwtAuth, McpAuthentication};
pub use authz::Authorization;
pub use cors::Cors;
pub use traffic::{
    Body, DirectResponse, HeaderModifier, LocalRateLimit, LocalRateLimits, RequestRedirect,
    Timeout, UrlRewrite,
};

/// Policies of a route (also of the `mcp:` shorthand and of top-level `policies`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutePolicies {
    /// Validate OAuth access tokens of MCP clients and publish protected resource metadata
    /// (RFC 9728) so clients can discover how to get one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_authentication: Option<McpAuthentication>,
    /// Validate JWTs on plain HTTP traffic. Shares one slot with `mcpAuthentication`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_auth: Option<JwtAuth>,
    /// Allow or deny MCP tools, prompts and resources with CEL rules over `jwt.*` and `mcp.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_authorization: Option<Authorization>,
    /// Allow or deny HTTP requests with CEL rules over `request.*`, `jwt.*`, `source.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Answer CORS preflights and add CORS headers (runs before authentication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// Headers to add, set or remove on the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifier>,
    /// Headers to add, set or remove on the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderModifier>,
    /// Answer with a redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RequestRedirect>,
    /// Rewrite the path or authority before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<UrlRewrite>,
    /// Answer directly with a fixed response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponse>,
    /// Time limits for the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Token-bucket rate limits kept in the gateway process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_rate_limit: Option<LocalRateLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_mirror: Option<Surface<surface::RequestMirror>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<Surface<surface::A2aPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<Surface<surface::Policy>>,
    #[serde(
        default,
        rename = "backendTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub backend_tls: Option<Surface<surface::LocalBackendTLS>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_tunnel: Option<Surface<surface::Tunnel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_auth: Option<Surface<surface::BackendAuthCompat>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_rate_limit: Option<Surface<surface::LocalExplicitOrConditionalRemoteRateLimit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Surface<surface::LocalOidcConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<Surface<surface::LocalBasicAuth>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Surface<surface::LocalAPIKeys>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_authz: Option<Surface<surface::LocalExplicitOrConditionalExtAuthz>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_proc: Option<Surface<surface::LocalExplicitOrConditionalExtProc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<Surface<surface::Buffer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_guardrails: Option<Surface<surface::McpGuardrails>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformations:
        Option<Surface<surface::LocalExplicitOrConditionalLocalTransformationConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<Surface<surface::Csrf>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Surface<surface::RetryPolicy>>,
    /// Fault injection: delay requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Surface<surface::DelayPolicy>>,
}

/// An entry of the top-level `policies` list: one policy attached to a target.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetedPolicy {
    pub name: Surface<surface::ResourceName>,
    /// What the policy attaches to (a gateway, listener, route or backend).
    pub target: Surface<surface::PolicyTarget>,
    /// `gateway` runs before routing, `route` (default) after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PolicyPhase>,
    pub policy: RoutePolicies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PolicyPhase {
    Gateway,
    Route,
}

#[cfg(test)]
mod tests {
    #[test]
    fn unset_policies_are_not_written_back() {
        // policies/not-one-policy counts the keys a targeted policy writes back
        let empty = serde_json::to_value(super::RoutePolicies::default()).unwrap();
        assert_eq!(empty, serde_json::json!({}));
    }
}
