use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::backend::RouteBackend;
use super::policy::RoutePolicies;

/// Selects requests by hostname, path, method, headers and query, then applies policies and
/// sends them to backends.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    /// Hostnames this route serves; `*.example.com` wildcards are allowed. Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Conditions, any of which selects the route (fields within one match must all hold).
    /// Default: one match with `pathPrefix: /`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<RouteMatch>>,
    /// Policies applied to requests on this route, in the gateway's order: CORS, authentication,
    /// authorization, header changes, then the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<RoutePolicies>>,
    /// Where requests go. A route without backends must answer itself (`directResponse`,
    /// `requestRedirect`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<RouteBackend>,
}

impl Route {
    /// The matches in force: the written ones (borrowed), or the gateway's default
    /// `pathPrefix: /`.
    pub fn effective_matches(&self) -> std::borrow::Cow<'_, [RouteMatch]> {
        match &self.matches {
            Some(m) => std::borrow::Cow::Borrowed(m.as_slice()),
            None => std::borrow::Cow::Owned(vec![RouteMatch {
                path: Some(PathMatch {
                    path_prefix: Some("/".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
        }
    }
}

/// A route in the top-level `routes` list, attached to named gateways.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopLevelRoute {
    /// The gateway (`NAME`) or listener (`NAME/LISTENER`) to attach to, or a list of them.
    /// Without it, the route attaches to the gateway named `default` when that gateway has an
    /// HTTP listener (the gateway refuses the file otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<GatewayRefs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<RouteMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Box<RoutePolicies>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<RouteBackend>,
}

impl TopLevelRoute {
    pub fn as_route(&self) -> Route {
        Route {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            rule_name: self.rule_name.clone(),
            hostnames: self.hostnames.clone(),
            matches: self.matches.clone(),
            policies: self.policies.clone(),
            backends: self.backends.clone(),
        }
    }
}

/// `gateways: default`, `gateways: default/listener`, or a list of those.
/// The name of the gateway that top-level routes, `tcpRoutes` and the `mcp:`/`llm:`/`ui:`
/// sections without `gateways` attach to (agentgateway `apply_implicit_default_gateway`).
pub const DEFAULT_GATEWAY: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum GatewayRefs {
    One(String),
    Many(Vec<String>),
}

impl GatewayRefs {
    /// The gateway named `default`, which unattached routes and shorthands join.
    pub fn implicit_default() -> GatewayRefs {
        GatewayRefs::One(DEFAULT_GATEWAY.into())
    }

    pub fn refs(&self) -> Vec<&str> {
        match self {
            GatewayRefs::One(s) => vec![s.as_str()],
            GatewayRefs::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One way a request can select the route.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// HTTP method, such as `GET` or `POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ValueMatchEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<ValueMatchEntry>,
}

/// Exactly one of `exact`, `pathPrefix` or `regex`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["exact"]}, {"required": ["pathPrefix"]}, {"required": ["regex"]}
]))]
pub struct PathMatch {
    /// The whole path, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/mcp")]
    pub exact: Option<String>,
    /// A path prefix on segment boundaries: `/mcp` matches `/mcp` and `/mcp/x`, not `/mcpx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/mcp")]
    pub path_prefix: Option<String>,
    /// A Rust `regex` whose leftmost match must cover the whole path, as the gateway matches it:
    /// write the longer alternative first (`/a/b|/a`, not `/a|/a/b`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// A header or query parameter condition.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueMatchEntry {
    pub name: String,
    pub value: ValueMatch,
}

/// Exactly one of `exact` or `regex`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["exact"]}, {"required": ["regex"]}]))]
pub struct ValueMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}
