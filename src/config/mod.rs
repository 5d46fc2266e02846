//! The typed configuration model: the single source of truth for the published schema, the
//! checker and the runtime. Types carry no positions; positions come from the pointer index of
//! `source/`.

pub mod backend;
pub mod bind;
pub mod listener;
pub mod mcp;
pub mod okta;
pub mod policy;
pub mod release;
pub mod route;
pub mod routing;
pub mod surface;
pub mod topology;
pub mod url;
pub mod walk;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use backend::{BackendPolicies, NamedBackend, RouteBackend};
pub use bind::{Bind, BindMode, TunnelProtocol};
pub use listener::{
    Gateway, GatewayListener, GatewayPolicies, GatewayProtocol, Listener, ListenerProtocol,
    ServerTls,
};
pub use mcp::{McpBackend, McpShorthand, McpTarget};
pub use policy::RoutePolicies;
pub use route::{GatewayRefs, Route, RouteMatch, TopLevelRoute};
pub use surface::Surface;

/// An agentgateway configuration file (the local, file-based configuration).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "agentgateway configuration (checked by agw)")]
pub struct Config {
    /// Process-wide settings (admin, stats and readiness addresses, logging, tracing, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Surface<surface::RawConfig>>,
    /// Ports to listen on, each with its listeners and their routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binds: Vec<Bind>,
    /// Named gateways (a port with listeners) that top-level `routes` attach to.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub gateways: IndexMap<String, Gateway>,
    /// Routes attached to `gateways` by name (`gateways: name` or `name/listener`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<TopLevelRoute>,
    /// TCP routes attached to gateways.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tcp_routes: Vec<Surface<surface::LocalAttachedTCPRoute>>,
    /// Named backends that routes reference with `backend: NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<NamedBackend>,
    /// Policies attached to gateways, routes or backends by target (advanced; most files use the
    /// inline `policies` of a route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<policy::TargetedPolicy>,
    /// Shorthand for one MCP backend served on its own port (3000 unless `port` or `gateways`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpShorthand>,
    /// LLM gateway shorthand (models, providers, virtual models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<Surface<surface::LocalLLMConfig>>,
    /// The admin UI's own policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<Surface<surface::LocalUIConfig>>,
    /// Policies applied to every incoming connection and request (access logs, tracing, HTTP
    /// limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_policies: Option<Surface<surface::LocalFrontendPolicies>>,
    /// Groups of routes that routes can delegate to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_groups: Vec<Surface<surface::LocalRouteGroup>>,
    /// Workloads known to the gateway (service-mesh use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Services that `service:` backends reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Config {
    /// Whether the file has a gateway named `default` with an HTTP (or HTTPS) listener, which
    /// sections without `gateways` attach to.
    pub fn default_gateway_serves_http(&self) -> bool {
        self.gateways.get(route::DEFAULT_GATEWAY).is_some_and(|g| {
            g.effective_listeners().iter().any(|l| {
                matches!(
                    l.protocol(),
                    ListenerProtocol::HTTP | ListenerProtocol::HTTPS
                )
            })
        })
    }

    /// What the gateway's loader does before it reads the file's parts: top-level routes and the
    /// `mcp:` shorthand without `gateways` (and, for the shorthand, without `port`) attach to the
    /// gateway named `default` when it has an HTTP listener (agentgateway `types/local.rs`,
    /// `apply_implicit_default_gateway`). A route left without gateways is refused by the gateway
    /// (`refs/route-without-gateways`).
    pub fn apply_implicit_default_gateway(&mut self) {
        if !self.default_gateway_serves_http() {
            return;
        }
        for r in &mut self.routes {
            r.gateways.get_or_insert_with(GatewayRefs::implicit_default);
        }
        if let Some(m) = &mut self.mcp {
            if m.gateways.is_none() && m.port.is_none() {
                m.gateways = Some(GatewayRefs::implicit_default());
            }
        }
    }
}

/// Whether `name` is a DNS-1123 subdomain: dot-separated labels of lowercase letters, digits
/// and `-`, none starting or ending with `-`, 253 bytes at most. The gateway takes MCP target
/// names in this form, and Kubernetes takes resource names in it.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A Go-style duration as the gateway reads it (`500ms`, `30s`, `1m30s`, `2h`, what
/// [`DURATION_PATTERN`] describes): the one parser of the file's durations, the command line's
/// and the runtime's.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * seconds;
        rest = &rest[unit_len..];
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

/// Go-style duration, as the gateway parses it (`500ms`, `30s`, `1m30s`, `2h`).
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

pub(crate) fn duration_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let _ = g;
    schemars::json_schema!({
        "type": "string",
        "pattern": DURATION_PATTERN,
        "description": "A duration such as `500ms`, `30s`, `1m30s` or `2h`.",
        "examples": ["30s", "1m30s"],
    })
}

/// An optional duration, which the gateway also accepts as `null` (not set).
pub(crate) fn optional_duration_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut s = duration_schema(g);
    s.insert("type".into(), serde_json::json!(["string", "null"]));
    s
}

/// A file path as the configuration writes it (certificates, key sets, OpenAPI schemas), read
/// from `root` unless it is absolute.
pub fn resolve_path(root: &std::path::Path, path: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(path.strip_prefix("./").unwrap_or(path));
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations_parse_as_the_gateway_writes_them() {
        let d = super::parse_duration;
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(d("250us"), Some(Duration::from_micros(250)));
        for bad in ["", "10", "s", "1d", "1.2.3s", " 1s", "-1s"] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }
}
