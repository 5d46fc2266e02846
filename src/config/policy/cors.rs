use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Cross-origin resource sharing: answers preflights and adds `Access-Control-*` headers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// Request headers browsers may send, for MCP at least `mcp-protocol-version` and
    /// `content-type` (and `authorization` for bearer tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Origins allowed, or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    /// Response headers scripts may read; MCP clients need `Mcp-Session-Id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// How long browsers may cache a preflight answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::config::optional_duration_schema")]
    pub max_age: Option<String>,
}
