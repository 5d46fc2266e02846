use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Validates OAuth access tokens (JWTs) of MCP clients and publishes the protected resource
/// metadata that tells clients where to get one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpAuthentication {
    /// The token issuer, compared with the token's `iss` claim exactly (a trailing `/` matters).
    /// For Okta: `https://YOUR-ORG.okta.com/oauth2/default` (a custom authorization server).
    #[schemars(example = &"https://your-org.okta.com/oauth2/default")]
    pub issuer: String,
    /// Accepted `aud` values; the token must carry at least one. Without it, tokens minted for
    /// any API of the issuer are accepted (and current gateway releases refuse the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// Identity-provider adaptations for discovery (`okta: {}`, `keycloak: {}`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// Extra protected resource metadata (RFC 9728), written in camelCase and published in
    /// snake_case: `resource`, `scopesSupported`, `bearerMethodsSupported`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_metadata: Option<ResourceMetadata>,
    /// Where the signing keys are. Default: `{issuer}/.well-known/jwks.json`, which is wrong
    /// for Okta (`{issuer}/v1/keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// `strict` (default) requires a valid token; `optional` lets requests without a token
    /// through; `permissive` lets everything through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<AuthMode>,
    /// Where the token is read from. Default: the `Authorization: Bearer` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_location: Option<AuthorizationLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_validation_options: Option<JwtValidationOptions>,
    /// A pre-registered client id handed to clients that try dynamic client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The secret of `clientId`, injected into token requests proxied to the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl McpAuthentication {
    pub fn mode(&self) -> AuthMode {
        self.mode.unwrap_or(AuthMode::Strict)
    }

    /// The key set URL the gateway reads when `jwks` is omitted.
    pub fn derived_jwks_url(&self) -> Result<String, String> {
        derived_jwks_url(&self.issuer, self.provider.as_ref())
    }
}

/// The key set URL derived from an issuer and `provider`, as the gateway derives it: appended
/// to the issuer as written (a trailing `/` included), at the provider's own path for Keycloak,
/// Authentik, Descope's agentic issuers and Entra (agentgateway
/// `crates/agentgateway/src/types/agent.rs`, `LocalMcpAuthentication::derived_jwks_url`;
/// `crates/agentgateway/src/http/oauth.rs`, `entra_endpoints`). An Entra issuer without a
/// tenant has none, and the gateway refuses the file.
pub fn derived_jwks_url(issuer: &str, provider: Option<&Provider>) -> Result<String, String> {
    let url = crate::config::url::parse_url(issuer);
    Ok(match provider {
        None | Some(Provider::Auth0(_) | Provider::Okta(_)) => {
            format!("{issuer}/.well-known/jwks.json")
        }
        Some(Provider::Descope(_)) => {
            let segments: Vec<&str> = url
                .as_ref()
                .map(|u| u.path.trim_start_matches('/').split('/').collect())
                .unwrap_or_default();
            match (&url, segments.as_slice()) {
                (Some(u), ["v1", "apps", "agentic", project, _, ..]) => {
                    format!("{}://{}/{project}/.well-known/jwks.json", u.scheme, u.host)
                }
                _ => format!("{issuer}/.well-known/jwks.json"),
            }
        }
        Some(Provider::Keycloak(_)) => format!("{issuer}/protocol/openid-connect/certs"),
        Some(Provider::Authentik(_)) => format!("{}/jwks/", issuer.trim_end_matches('/')),
        Some(Provider::Entra(_)) => {
            let u = url.ok_or_else(|| format!("the Entra issuer `{issuer}` is not a URL"))?;
            let tenant = u.path.split('/').find(|s| !s.is_empty()).ok_or_else(|| {
                format!("the Entra issuer `{issuer}` has no tenant (expected https://login.microsoftonline.com/<tenant>/v2.0 or https://sts.windows.net/<tenant>/)")
            })?;
            // v1 tokens come from sts.windows.net; the keys live on the login host
            let host = if u.host.eq_ignore_ascii_case("sts.windows.net") {
                "login.microsoftonline.com"
            } else {
                u.host
            };
            format!("https://{host}/{tenant}/discovery/v2.0/keys")
        }
    })
}

/// How strictly tokens are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AuthMode {
    /// Missing or invalid tokens are rejected.
    Strict,
    /// Missing tokens pass; invalid ones are rejected.
    Optional,
    /// Everything passes; valid tokens are still decoded for authorization rules.
    Permissive,
}

/// `okta: {}`, `keycloak: {}`, `auth0: {}`, `descope: {}`, `authentik: {}` or `entra: {}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Provider {
    Okta(Empty),
    Keycloak(Empty),
    Auth0(Empty),
    Descope(Empty),
    Authentik(Empty),
    Entra(Empty),
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Okta(_) => "okta",
            Provider::Keycloak(_) => "keycloak",
            Provider::Auth0(_) => "auth0",
            Provider::Descope(_) => "descope",
            Provider::Authentik(_) => "authentik",
            Provider::Entra(_) => "entra",
        }
    }
}

/// An empty object, `{}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// The key set: inline JSON text, `{file: PATH}` or `{url: URL}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Jwks {
    /// A JWKS document inline, as a JSON string.
    Inline(String),
    File(JwksFile),
    Url(JwksUrl),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwksFile {
    /// Path of a JWKS file, relative to the gateway's working directory.
    pub file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwksUrl {
    /// URL of the JWKS. For Okta: `{issuer}/v1/keys`.
    #[schemars(example = &"https://your-org.okta.com/oauth2/default/v1/keys")]
    pub url: String,
}

/// Exactly one of `header`, `queryParameter`, `cookie` or `expression`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["header"]}, {"required": ["queryParameter"]},
    {"required": ["cookie"]}, {"required": ["expression"]}
]))]
pub struct AuthorizationLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_parameter: Option<NamedLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<NamedLocation>,
    /// A CEL expression that yields the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderLocation {
    #[schemars(example = &"Authorization")]
    pub name: String,
    /// Text before the token, `Bearer ` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedLocation {
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtValidationOptions {
    /// Claims that must be present. Default `[exp]`; only `exp`, `nbf`, `aud`, `iss` and `sub`
    /// have an effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_claims: Option<Vec<String>>,
}

/// JWT validation for plain HTTP traffic: one provider inline, or several in `providers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["issuer", "jwks"]}, {"required": ["providers"]}
]))]
pub struct JwtAuth {
    /// `optional` (default here), `strict` or `permissive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<AuthMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<AuthorizationLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_validation_options: Option<JwtValidationOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<JwtProvider>>,
}

impl JwtAuth {
    pub fn mode(&self) -> AuthMode {
        self.mode.unwrap_or(AuthMode::Optional)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtProvider {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    pub jwks: Jwks,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_validation_options: Option<JwtValidationOptions>,
}

/// The extra OAuth protected resource metadata of `mcpAuthentication` (RFC 9728), as written
/// (camelCase keys, which the gateway publishes in snake_case). The fields agw reads have one
/// accessor each, so every reader agrees on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ResourceMetadata(pub IndexMap<String, serde_json::Value>);

impl ResourceMetadata {
    /// `resource`: the protected resource's URL.
    pub fn resource(&self) -> Option<&str> {
        self.0.get("resource").and_then(serde_json::Value::as_str)
    }

    /// `scopesSupported` (or `scopes_supported`): the scopes clients may ask for.
    pub fn scopes_supported(&self) -> Vec<String> {
        self.0
            .get("scopesSupported")
            .or_else(|| self.0.get("scopes_supported"))
            .and_then(serde_json::Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every entry, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &serde_json::Value)> {
        self.0.iter()
    }
}
