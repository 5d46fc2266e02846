use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::auth::JwtAuth;
use super::route::Route;
use super::unchecked::Unchecked;

/// Accepts connections on a bind (or gateway) for one hostname and protocol.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Listener {
    /// A name for the listener (`gateways: NAME/LISTENER` refers to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The hostname this listener serves; `*.example.com` wildcards are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"mcp.example.com")]
    pub hostname: Option<String>,
    /// The protocol spoken on the listener. Default `HTTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ListenerProtocol>,
    /// Server TLS settings; required for `HTTPS` (and `TLS` termination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// HTTP routes (for `HTTP` and `HTTPS` listeners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
    /// TCP routes (for `TCP` and `TLS` listeners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_routes: Option<Unchecked>,
    /// Policies that run for every request on this listener, before routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<GatewayPolicies>,
}

impl Listener {
    pub fn protocol(&self) -> ListenerProtocol {
        self.protocol.unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(clippy::upper_case_acronyms)]
pub enum ListenerProtocol {
    #[default]
    HTTP,
    HTTPS,
    TLS,
    TCP,
    HBONE,
}

/// Certificates and versions for terminating TLS.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(transform = tls_version_aliases)]
pub struct ServerTls {
    /// PEM certificate chain file (relative to the gateway's working directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// PEM private key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// PEM CA bundle to verify client certificates (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Optional cipher suite allow-list, in order of preference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher_suites: Option<Vec<String>>,
    #[serde(
        default,
        rename = "minTLSVersion",
        alias = "minTlsVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_tls_version: Option<TlsVersion>,
    #[serde(
        default,
        rename = "maxTLSVersion",
        alias = "maxTlsVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_tls_version: Option<TlsVersion>,
    /// Key exchange groups allowed for negotiating TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exchange_groups: Option<Vec<String>>,
    /// How certificates are obtained, for example `dynamicCa` to mint them from a CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Use SPIFFE workload certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiffe: Option<Unchecked>,
}

/// The gateway also accepts `minTlsVersion`/`maxTlsVersion`; serde's aliases do not reach the
/// schema, so they are added here.
fn tls_version_aliases(schema: &mut schemars::Schema) {
    let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for (canonical, alias) in [
        ("minTLSVersion", "minTlsVersion"),
        ("maxTLSVersion", "maxTlsVersion"),
    ] {
        if let Some(v) = props.get(canonical).cloned() {
            let mut v = v;
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "description".into(),
                    format!("Same as `{canonical}`.").into(),
                );
            }
            props.insert(alias.into(), v);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum TlsVersion {
    TLS_V1_0,
    TLS_V1_1,
    TLS_V1_2,
    TLS_V1_3,
}

/// Policies that run before routing (listener or gateway level).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayPolicies {
    /// Validate JWTs on every request of the listener. Note: a validated token is removed from
    /// the request, so a route's `mcpAuthentication` will not see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_auth: Option<JwtAuth>,
    /// Browser sign-in with the OIDC authorization code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_authz: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_proc: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformations: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<Unchecked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Unchecked>,
}

/// A named gateway: a port with listeners; top-level `routes` attach to it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gateway {
    #[schemars(range(min = 0, max = 65535), example = 3000)]
    pub port: u32,
    /// Protocol when the gateway has no explicit listeners. Default `HTTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ListenerProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// Listeners of this gateway; routes select one with `gateways: NAME/LISTENER`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<Listener>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<GatewayPolicies>,
}
