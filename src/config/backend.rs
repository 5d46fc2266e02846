use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mcp::McpBackend;
use super::policy::authz::Authorization;
use super::policy::traffic::{HeaderModifier, RequestRedirect};
use super::unchecked::Unchecked;

/// Where a route sends requests: exactly one of `host`, `backend`, `service`, `mcp`, `ai`,
/// `aws` or `dynamic`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["host"]}, {"required": ["backend"]}, {"required": ["service"]},
    {"required": ["mcp"]}, {"required": ["ai"]}, {"required": ["aws"]}, {"required": ["dynamic"]}
]))]
pub struct RouteBackend {
    /// `host:port` of a plain HTTP upstream (the port is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"127.0.0.1:8080")]
    pub host: Option<String>,
    /// The name of an entry in the top-level `backends` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// A service from the top-level `services` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// An MCP backend: one or more MCP servers behind this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<Box<McpBackend>>,
    /// An LLM provider backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<Unchecked>,
    /// An AWS service backend (for example Bedrock AgentCore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Unchecked>,
    /// Forward to the destination the request itself names (egress proxying).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<Unchecked>,
    /// Share of traffic among the route's backends. Default 1.
    #[serde(default = "default_weight")]
    #[schemars(range(min = 0))]
    pub weight: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<BackendPolicies>>,
}

fn default_weight() -> u64 {
    1
}

impl RouteBackend {
    /// The kind of backend, as its key is written.
    pub fn kind(&self) -> &'static str {
        if self.host.is_some() {
            "host"
        } else if self.backend.is_some() {
            "backend"
        } else if self.service.is_some() {
            "service"
        } else if self.mcp.is_some() {
            "mcp"
        } else if self.ai.is_some() {
            "ai"
        } else if self.aws.is_some() {
            "aws"
        } else {
            "dynamic"
        }
    }
}

/// `service: {name: NAMESPACE/HOSTNAME, port: N}`
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceRef {
    /// `namespace/hostname` of the service.
    pub name: String,
    #[schemars(range(min = 0, max = 65535))]
    pub port: u32,
}

/// An entry of the top-level `backends` list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedBackend {
    /// The name routes use in `backend: NAME`.
    pub name: String,
    /// `host:port` of the upstream.
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<BackendPolicies>>,
}

/// Policies applied when talking to one backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendPolicies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderModifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RequestRedirect>,
    /// MCP authorization rules for this backend (CEL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformations: Option<Unchecked>,
    #[serde(
        default,
        rename = "backendTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub backend_tls: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_auth: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_tunnel: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_routing: Option<Unchecked>,
}
