use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::auth::JwtAuth;
use super::policy::{Authorization, Cors};
use super::route::Route;
use super::surface::{self, Surface};

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
    pub tcp_routes: Option<Vec<Surface<surface::LocalTCPRoute>>>,
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
// release 1.4.1 has no `spiffe`, so it requires the certificate and key files
#[schemars(extend("x-agw-required" = {"1.4.1": ["cert", "key"]}))]
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
    pub mode: Option<TlsMode>,
    /// Use SPIFFE workload certificates.
    #[schemars(extend("x-agw-releases" = ["main"]))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiffe: Option<Surface<surface::LocalSpiffeConfig>>,
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

/// How the listener gets its certificate: the files (`static`) or issued per hostname by the
/// gateway's CA (`dynamicCa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TlsMode {
    Static,
    DynamicCa,
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
    pub oidc: Option<Surface<surface::LocalOidcConfig>>,
    /// CEL rules that allow or deny each request before routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_authz: Option<Surface<surface::LocalExplicitOrConditionalExtAuthz>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_proc: Option<Surface<surface::LocalExplicitOrConditionalExtProc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformations:
        Option<Surface<surface::LocalExplicitOrConditionalLocalTransformationConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<Surface<surface::LocalBasicAuth>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Surface<surface::LocalAPIKeys>>,
}

impl GatewayPolicies {
    pub fn is_empty(&self) -> bool {
        self.jwt_auth.is_none()
            && self.oidc.is_none()
            && self.authorization.is_none()
            && self.ext_authz.is_none()
            && self.ext_proc.is_none()
            && self.cors.is_none()
            && self.transformations.is_none()
            && self.basic_auth.is_none()
            && self.api_key.is_none()
    }
}

/// The protocol of a gateway or gateway listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(clippy::upper_case_acronyms)]
pub enum GatewayProtocol {
    HTTP,
    HTTPS,
    TCP,
    TLS,
}

impl GatewayProtocol {
    /// The protocol the gateway uses: as written, else HTTPS with `tls` and HTTP without
    /// (agentgateway `effective_gateway_protocol`).
    pub fn effective(written: Option<GatewayProtocol>, tls: bool) -> GatewayProtocol {
        written.unwrap_or(if tls {
            GatewayProtocol::HTTPS
        } else {
            GatewayProtocol::HTTP
        })
    }

    pub fn as_listener(self) -> ListenerProtocol {
        match self {
            GatewayProtocol::HTTP => ListenerProtocol::HTTP,
            GatewayProtocol::HTTPS => ListenerProtocol::HTTPS,
            GatewayProtocol::TCP => ListenerProtocol::TCP,
            GatewayProtocol::TLS => ListenerProtocol::TLS,
        }
    }
}

/// A named gateway: a port with listeners; top-level `routes` attach to it. Without
/// `listeners`, the gateway is one listener: its own `protocol`, `tls` and policies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gateway {
    /// The port to listen on (the gateway refuses a gateway without one).
    #[schemars(range(min = 0, max = 65535), example = 3000)]
    pub port: u32,
    /// `HTTP`, `HTTPS`, `TCP` or `TLS`; default HTTPS with `tls`, else HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<GatewayProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// Listeners of this gateway; routes select one with `gateways: NAME/LISTENER`. With
    /// listeners, the gateway itself sets only `port`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<GatewayListener>,
    /// Policies of the gateway's one listener, written as keys of the gateway.
    #[serde(flatten)]
    pub policies: GatewayPolicies,
}

/// A listener of a named gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayListener {
    /// The name `gateways: GATEWAY/NAME` selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hostname (or wildcard) this listener serves; unset serves every hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `HTTP`, `HTTPS`, `TCP` or `TLS`; default HTTPS with `tls`, else HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<GatewayProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
    /// Policies of this listener, written as keys of the listener.
    #[serde(flatten)]
    pub policies: GatewayPolicies,
}

impl Gateway {
    /// The gateway's listeners as the gateway builds them: its own one when it has none.
    pub fn effective_listeners(&self) -> Vec<Listener> {
        if self.listeners.is_empty() {
            return vec![Listener {
                protocol: Some(
                    GatewayProtocol::effective(self.protocol, self.tls.is_some()).as_listener(),
                ),
                tls: self.tls.clone(),
                policies: Some(self.policies.clone()),
                ..Default::default()
            }];
        }
        self.listeners
            .iter()
            .map(|l| Listener {
                name: l.name.clone(),
                hostname: l.hostname.clone(),
                protocol: Some(
                    GatewayProtocol::effective(l.protocol, l.tls.is_some()).as_listener(),
                ),
                tls: l.tls.clone(),
                policies: Some(l.policies.clone()),
                ..Default::default()
            })
            .collect()
    }
}
