use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::listener::Listener;

/// A port the gateway binds, with the listeners that share it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend(
    "if" = {"properties": {"mode": {"const": "internal"}}, "required": ["mode"]},
    "else" = {"required": ["port"]}
))]
pub struct Bind {
    /// The port to listen on (required unless `mode: internal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535), example = 3000)]
    pub port: Option<u32>,
    /// The listeners on this port; each selects requests by hostname and protocol.
    pub listeners: Vec<Listener>,
    /// How connections arrive on this port: `direct` (default) or a tunnel such as `connect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_protocol: Option<TunnelProtocol>,
    /// `standard` binds a real port; `internal` is reachable only from other binds (for example
    /// as the target of a tunnel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<BindMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BindMode {
    #[default]
    Standard,
    Internal,
}

/// How connections arrive on the bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TunnelProtocol {
    #[default]
    Direct,
    HboneWaypoint,
    HboneGateway,
    Proxy,
    Connect,
}
