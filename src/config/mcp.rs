use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::traffic::HeaderModifier;
use super::policy::RoutePolicies;
use super::route::GatewayRefs;
use super::surface::{self, Surface};

/// The gateway's rule for MCP target names: lowercase DNS labels separated by dots.
pub const TARGET_NAME_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// One or more MCP servers behind a route, seen by clients as one MCP server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpBackend {
    /// The MCP servers. With several, tool and prompt names are prefixed `<target>_<name>`.
    pub targets: Vec<McpTarget>,
    /// `stateful` (default) keeps an MCP session per client; `stateless` serves each request
    /// on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_mode: Option<StatefulMode>,
    /// When to prefix tool and prompt names with the target name: `conditional` (default: only
    /// with several targets), `always` or `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_mode: Option<PrefixMode>,
    /// What happens when a target fails: `failClosed` (default) fails the request, `failOpen`
    /// serves the targets that work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// Reject requests whose `Origin` or `Host` could come from DNS rebinding.
    #[schemars(extend("x-agw-releases" = ["main"]))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_rebinding_protection: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StatefulMode {
    #[default]
    Stateful,
    Stateless,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PrefixMode {
    #[default]
    Conditional,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FailureMode {
    #[default]
    FailClosed,
    FailOpen,
}

/// One MCP server: exactly one of `stdio`, `mcp` (Streamable HTTP), `sse` or `openapi`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["stdio"]}, {"required": ["mcp"]}, {"required": ["sse"]}, {"required": ["openapi"]}
]))]
pub struct McpTarget {
    /// Lowercase letters, digits, `-` and `.` (a DNS name); used to prefix tool names.
    #[schemars(length(max = 253), example = &"everything")]
    pub name: String,
    /// A local process speaking MCP on stdin/stdout, one per client session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio: Option<StdioTarget>,
    /// A remote MCP server speaking Streamable HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<HttpTarget>,
    /// A remote MCP server speaking the older HTTP+SSE transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<HttpTarget>,
    /// A REST API described by OpenAPI, exposed as MCP tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<OpenApiTarget>,
    /// Policies for the connection to this target (not allowed on `stdio` targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<TargetPolicies>>,
}

impl McpTarget {
    pub fn kind(&self) -> &'static str {
        if self.stdio.is_some() {
            "stdio"
        } else if self.mcp.is_some() {
            "mcp"
        } else if self.sse.is_some() {
            "sse"
        } else {
            "openapi"
        }
    }
}

/// Run a command and speak MCP over its stdin/stdout.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StdioTarget {
    /// The program to run, looked up on the gateway's PATH.
    #[schemars(example = &"npx")]
    pub cmd: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Extra environment variables for the process.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    /// Start the process with an empty environment (plus `env`).
    #[serde(default, rename = "clear_env", skip_serializing_if = "Option::is_none")]
    pub clear_env: Option<bool>,
}

/// One of three forms: `{host: URL}`, `{host, port, path}` (all three), or `{backend, path}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpTarget {
    /// A URL (`https://mcp.example.com/mcp`), or a host name when `port` and `path` are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"http://localhost:3001/mcp")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port: Option<u32>,
    /// The MCP endpoint path (default `/mcp` for Streamable HTTP, `/sse` for SSE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The name of a top-level `backends` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

/// An OpenAPI-described REST API exposed as MCP tools.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenApiTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The OpenAPI document: `{file: PATH}`, `{url: URL}` or inline.
    pub schema: Surface<surface::FileInlineOrRemote>,
}

/// Policies allowed on a target's connection.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetPolicies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifier>,
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
    pub http: Option<Surface<surface::HTTP>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Surface<surface::TCP>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_tunnel: Option<Surface<surface::Tunnel>>,
}

/// The top-level `mcp:` shorthand: one MCP backend on its own port (3000, every path) or
/// attached to gateways (`/mcp`, `/sse` and `/.well-known` prefixes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpShorthand {
    /// Gateways to attach to (instead of a port of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<GatewayRefs>,
    /// Deprecated: the port to listen on (default 3000). Prefer `gateways`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<RoutePolicies>>,
    pub targets: Vec<McpTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_mode: Option<StatefulMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_mode: Option<PrefixMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    #[schemars(extend("x-agw-releases" = ["main"]))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_rebinding_protection: Option<bool>,
}

impl McpShorthand {
    /// The MCP backend the shorthand stands for.
    pub fn backend(&self) -> McpBackend {
        McpBackend {
            targets: self.targets.clone(),
            stateful_mode: self.stateful_mode,
            prefix_mode: self.prefix_mode,
            failure_mode: self.failure_mode,
            dns_rebinding_protection: self.dns_rebinding_protection,
        }
    }
}
