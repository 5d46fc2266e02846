//! What `mcpAuthentication` answers by itself (SPEC §6): the 401 challenge, protected resource
//! metadata (RFC 9728), authorization server metadata proxied from the issuer with the
//! provider's rewrites, and client registration.

use std::time::{Duration, Instant};

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::auth::percent_encode;
use super::body::{self, Body, RequestBody};
use super::Shared;
use crate::config::policy::auth::{McpAuthentication, Provider};

pub const PRM_PREFIX: &str = "/.well-known/oauth-protected-resource";
pub const ASM_PREFIX: &str = "/.well-known/oauth-authorization-server";
const REGISTRATION_SUFFIX: &str = "/client-registration";

/// The MCP protocol version announced in the metadata, as the gateway does.
pub const MCP_PROTOCOL_VERSION: &str = "2025-06-18";

/// The paths `mcpAuthentication` answers itself, without a token.
pub fn is_own_path(path: &str) -> bool {
    path.starts_with(PRM_PREFIX)
        || path.starts_with(ASM_PREFIX)
        || path.ends_with(REGISTRATION_SUFFIX)
}

/// `scheme://authority` of the request (honouring `X-Forwarded-Proto`).
pub fn request_base(parts: &Parts) -> String {
    let scheme = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| s == "http" || s == "https")
        .unwrap_or_else(|| parts.uri.scheme_str().unwrap_or("http").to_string());
    let authority = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("{scheme}://{authority}")
}

/// `scheme://authority` of `resourceMetadata.resource`, if it is a URL.
fn resource_base(auth: &McpAuthentication) -> Option<String> {
    let r = auth.resource_metadata.as_ref()?.resource()?;
    let uri: http::Uri = r.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

/// The 401 of SPEC §6; `invalid` adds RFC 6750's `error="invalid_token"` (a token was there).
pub fn unauthorized(auth: &McpAuthentication, parts: &Parts, invalid: bool) -> Response<Body> {
    let base = resource_base(auth).unwrap_or_else(|| request_base(parts));
    let mut challenge = format!(
        "Bearer resource_metadata=\"{base}{PRM_PREFIX}{}\"",
        parts.uri.path()
    );
    if invalid {
        challenge.push_str(", error=\"invalid_token\"");
    }
    let mut r = body::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "unauthorized", "error_description": "JWT token required"}),
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The 401 of `jwtAuth` (no metadata to point at).
pub fn jwt_unauthorized(invalid: bool) -> Response<Body> {
    let mut r = body::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "unauthorized", "error_description": if invalid { "invalid JWT token" } else { "JWT token required" }}),
    );
    let v = if invalid {
        "Bearer error=\"invalid_token\""
    } else {
        "Bearer"
    };
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
    r
}

fn with_metadata_cors(mut r: Response<Body>, methods: &'static str) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    r
}

/// Answers a well-known or registration request for a route with `mcpAuthentication`.
pub async fn handle(
    shared: &Shared,
    auth: &McpAuthentication,
    parts: Parts,
    body: RequestBody,
) -> Response<Body> {
    let path = parts.uri.path().to_string();
    if path.ends_with(REGISTRATION_SUFFIX) {
        if parts.method == Method::OPTIONS {
            return with_metadata_cors(body::text(StatusCode::OK, ""), "POST, OPTIONS");
        }
        return with_metadata_cors(
            client_registration(shared, auth, &parts, body).await,
            "POST, OPTIONS",
        );
    }
    if parts.method == Method::OPTIONS {
        return with_metadata_cors(body::text(StatusCode::OK, ""), "GET, OPTIONS");
    }
    if let Some(rest) = path.strip_prefix(PRM_PREFIX) {
        let resource = format!("{}{rest}", request_base(&parts));
        let issuer = if auth.provider.is_some() {
            resource.clone()
        } else {
            auth.issuer.clone()
        };
        let doc = protected_resource_metadata(auth, resource, issuer);
        return with_metadata_cors(body::json(StatusCode::OK, &doc), "GET, OPTIONS");
    }
    match authorization_server_metadata(shared, auth, &parts).await {
        Ok(doc) => with_metadata_cors(body::json(StatusCode::OK, &doc), "GET, OPTIONS"),
        Err(e) => {
            tracing::warn!(issuer = %auth.issuer, error = %e, "authorization server metadata unavailable");
            body::json(
                StatusCode::BAD_GATEWAY,
                &json!({"error": "temporarily_unavailable", "error_description": e}),
            )
        }
    }
}

/// The RFC 9728 document: computed fields first, then `resourceMetadata` in snake_case, which
/// overrides them.
pub fn protected_resource_metadata(
    auth: &McpAuthentication,
    resource: String,
    authorization_server: String,
) -> Value {
    let mut m = Map::new();
    m.insert("resource".into(), Value::String(resource));
    m.insert(
        "authorization_servers".into(),
        json!([authorization_server]),
    );
    m.insert(
        "mcp_protocol_version".into(),
        Value::String(MCP_PROTOCOL_VERSION.into()),
    );
    m.insert("resource_type".into(), Value::String("mcp-server".into()));
    if let Some(extra) = &auth.resource_metadata {
        let mut entries: Vec<_> = extra.iter().collect();
        entries.sort_by_key(|(k, _)| *k);
        for (k, v) in entries {
            m.insert(snake_case(k), v.clone());
        }
    }
    Value::Object(m)
}

/// `scopesSupported` -> `scopes_supported` (snake_case stays as it is).
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn uses_oidc_discovery(p: Option<&Provider>) -> bool {
    matches!(
        p,
        Some(
            Provider::Okta(_)
                | Provider::Keycloak(_)
                | Provider::Descope(_)
                | Provider::Authentik(_)
        )
    )
}

/// Where the issuer publishes its metadata.
pub fn metadata_url(auth: &McpAuthentication) -> String {
    let issuer = auth.issuer.trim_end_matches('/');
    if uses_oidc_discovery(auth.provider.as_ref()) {
        return format!("{issuer}/.well-known/openid-configuration");
    }
    // RFC 8414: the well-known segment goes between the origin and the issuer's path.
    match issuer.parse::<http::Uri>() {
        Ok(u) if u.scheme().is_some() && u.authority().is_some() => format!(
            "{}://{}{ASM_PREFIX}{}",
            u.scheme_str().unwrap_or("https"),
            u.authority().map(|a| a.as_str()).unwrap_or(""),
            u.path().trim_end_matches('/')
        ),
        _ => format!("{issuer}{ASM_PREFIX}"),
    }
}

const METADATA_TTL: Duration = Duration::from_secs(300);

async fn authorization_server_metadata(
    shared: &Shared,
    auth: &McpAuthentication,
    parts: &Parts,
) -> Result<Value, String> {
    let url = metadata_url(auth);
    let cached = shared
        .metadata_cache
        .lock()
        .unwrap()
        .get(&url)
        .filter(|(at, _)| at.elapsed() < METADATA_TTL)
        .map(|(_, v)| v.clone());
    let mut doc = match cached {
        Some(v) => v,
        None => {
            let v = shared.fetch_json(&url).await?;
            let mut c = shared.metadata_cache.lock().unwrap();
            if c.len() > 64 {
                c.clear();
            }
            c.insert(url.clone(), (Instant::now(), v.clone()));
            v
        }
    };
    let current = format!("{}{}", request_base(parts), parts.uri.path());
    let gateway = current
        .split_once("/.well-known/")
        .map(|(b, _)| b.to_string())
        .unwrap_or_else(|| current.clone());
    let Some(obj) = doc.as_object_mut() else {
        return Err(format!(
            "{} did not answer with a JSON object",
            crate::diag::redact::mask_url_credentials(&url)
        ));
    };
    let audience = auth.audiences.as_ref().and_then(|a| a.first());
    let add_audience = |obj: &mut Map<String, Value>| {
        if let (Some(aud), Some(Value::String(ae))) =
            (audience, obj.get_mut("authorization_endpoint"))
        {
            let sep = if ae.contains('?') { '&' } else { '?' };
            ae.push_str(&format!("{sep}audience={}", percent_encode(aud)));
        }
    };
    let registration = format!("{current}{REGISTRATION_SUFFIX}");
    match auth.provider.as_ref() {
        Some(Provider::Okta(_)) => {
            add_audience(obj);
            if obj.contains_key("registration_endpoint") || auth.client_id.is_some() {
                obj.insert("registration_endpoint".into(), Value::String(registration));
            }
            if obj.contains_key("issuer") {
                obj.insert("issuer".into(), Value::String(gateway));
            }
        }
        Some(Provider::Auth0(_)) => add_audience(obj),
        Some(Provider::Keycloak(_) | Provider::Descope(_)) => {
            if obj.contains_key("registration_endpoint") || auth.client_id.is_some() {
                obj.insert("registration_endpoint".into(), Value::String(registration));
            }
        }
        _ => {
            if auth.client_id.is_some() {
                obj.insert("registration_endpoint".into(), Value::String(registration));
            }
        }
    }
    Ok(doc)
}

/// Dynamic client registration: with `clientId`, a fixed answer naming that client (the
/// gateway's short-circuit); otherwise forwarded to the provider's registration endpoint.
async fn client_registration(
    shared: &Shared,
    auth: &McpAuthentication,
    parts: &Parts,
    body: RequestBody,
) -> Response<Body> {
    let bytes = match body.bytes().await {
        Ok(b) => b,
        Err(e) => return super::handler::body_failed(e, shared.limits.max_body_bytes),
    };
    if let Some(client_id) = &auth.client_id {
        let redirect_uris = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("redirect_uris").filter(|r| r.is_array()).cloned())
            .unwrap_or_else(|| json!([]));
        return body::json(
            StatusCode::CREATED,
            &json!({
                "client_id": client_id,
                "client_id_issued_at": 0,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": redirect_uris,
            }),
        );
    }
    let issuer = auth.issuer.trim_end_matches('/');
    let origin = issuer
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| Some(format!("{}://{}", u.scheme_str()?, u.authority()?)))
        .unwrap_or_else(|| issuer.to_string());
    let url = match auth.provider.as_ref() {
        Some(Provider::Okta(_)) => format!("{origin}/oauth2/v1/clients"),
        Some(Provider::Descope(_)) => {
            let path = issuer.strip_prefix(&origin).unwrap_or("");
            let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            if seg.len() >= 5 && seg[0] == "v1" && seg[1] == "apps" && seg[2] == "agentic" {
                format!("{origin}/v1/mgmt/mcp/client/{}/{}/register", seg[3], seg[4])
            } else {
                return body::json(
                    StatusCode::BAD_GATEWAY,
                    &json!({"error": "invalid_client_metadata", "error_description": "Descope registration needs an agentic issuer URL"}),
                );
            }
        }
        _ => format!("{issuer}/clients-registrations/openid-connect"),
    };
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/json"));
    match shared.post_bytes(&url, ct, bytes).await {
        Ok((status, ct, body)) => {
            let mut r = Response::new(body::full(body));
            *r.status_mut() = status;
            if let Some(ct) = ct {
                r.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            r
        }
        Err(e) => body::json(
            StatusCode::BAD_GATEWAY,
            &json!({"error": "temporarily_unavailable", "error_description": e}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(v: Value) -> McpAuthentication {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn metadata_urls() {
        let a = auth(
            json!({"issuer": "https://acme.okta.com/oauth2/default", "provider": {"okta": {}}}),
        );
        assert_eq!(
            metadata_url(&a),
            "https://acme.okta.com/oauth2/default/.well-known/openid-configuration"
        );
        let a = auth(json!({"issuer": "http://127.0.0.1:4000/oauth2/default"}));
        assert_eq!(
            metadata_url(&a),
            "http://127.0.0.1:4000/.well-known/oauth-authorization-server/oauth2/default"
        );
    }

    #[test]
    fn prm_document() {
        let a = auth(json!({
            "issuer": "https://acme.okta.com/oauth2/default",
            "resourceMetadata": {"resource": "https://gw.example/mcp", "scopesSupported": ["a"], "bearerMethodsSupported": ["header"]}
        }));
        let d = protected_resource_metadata(&a, "http://x/mcp".into(), a.issuer.clone());
        assert_eq!(d["resource"], "https://gw.example/mcp");
        assert_eq!(
            d["authorization_servers"],
            json!(["https://acme.okta.com/oauth2/default"])
        );
        assert_eq!(d["scopes_supported"], json!(["a"]));
        assert_eq!(d["bearer_methods_supported"], json!(["header"]));
        assert_eq!(d["resource_type"], "mcp-server");
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "resource");
    }

    #[test]
    fn snake() {
        assert_eq!(snake_case("scopesSupported"), "scopes_supported");
        assert_eq!(snake_case("resource"), "resource");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }
}
