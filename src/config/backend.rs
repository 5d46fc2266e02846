use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mcp::McpBackend;
use super::policy::authz::Authorization;
use super::policy::traffic::{HeaderModifier, RequestRedirect};
use super::surface::{self, Surface};

/// Where a route sends requests: exactly one of `host`, `backend`, `service`, `mcp`, `ai`,
/// `aws` or `dynamic`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["host"]}, {"required": ["backend"]}, {"required": ["service"]},
    {"required": ["mcp"]}, {"required": ["ai"]}, {"required": ["aws"]}, {"required": ["dynamic"]},
    {"required": ["internal"]}, {"required": ["routeGroup"]}, {"required": ["invalid"]}
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
    pub ai: Option<Surface<surface::LocalAIBackend>>,
    /// An AWS service backend (for example Bedrock AgentCore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Surface<surface::LocalAwsBackend>>,
    /// Forward to the destination the request itself names (egress proxying).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<DynamicBackend>,
    /// Route to the gateway's in-process admin service (`forward`, or an admin path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<Surface<surface::InternalBackend>>,
    /// Delegate to the routes of a `routeGroups` entry, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_group: Option<String>,
    /// A backend that always fails (the gateway's placeholder for a reference it could not
    /// resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<()>,
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
        } else if self.dynamic.is_some() {
            "dynamic"
        } else if self.internal.is_some() {
            "internal"
        } else if self.route_group.is_some() {
            "routeGroup"
        } else {
            "invalid"
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

/// `dynamic: {target: EXPRESSION}`: the upstream chosen per request by a CEL expression.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DynamicBackend {
    #[schemars(extend("x-agw-releases" = ["main"]))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// An entry of the top-level `backends` list: a name and exactly one kind of upstream.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["host"]}, {"required": ["internal"]}, {"required": ["mcp"]},
    {"required": ["ai"]}, {"required": ["aws"]}
]))]
pub struct NamedBackend {
    /// The name routes use in `backend: NAME`.
    pub name: String,
    /// `host:port` of the upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<Surface<surface::InternalBackend>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<Box<McpBackend>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<Surface<surface::LocalAIBackend>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Surface<surface::LocalAwsBackend>>,
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
    pub transformations: Option<Surface<surface::LocalTransformationConfig>>,
    #[serde(
        default,
        rename = "backendTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub backend_tls: Option<Surface<surface::LocalBackendTLS>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_auth: Option<Surface<surface::BackendAuthCompat>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_tunnel: Option<Surface<surface::Tunnel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Surface<surface::HTTP>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Surface<surface::TCP>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Surface<surface::LocalHealthPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<Surface<surface::A2aPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<Surface<surface::Policy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_routing: Option<Surface<surface::InferenceRouting>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_authz: Option<Surface<surface::ExtAuthz>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_guardrails: Option<Surface<surface::McpGuardrails>>,
    #[schemars(extend("x-agw-releases" = ["main"]))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<Surface<surface::SessionAffinityPolicy>>,
}
