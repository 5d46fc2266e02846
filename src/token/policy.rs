//! Builds a verification [`Policy`] from the configuration, the way the gateway reads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::verify::Policy;
use crate::config::policy::auth::{
    derived_jwks_url, AuthMode, Jwks, JwtAuth, JwtValidationOptions, McpAuthentication, Provider,
};
use crate::oidc::JwksSource;

/// What the configuration does not say.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Relative JWKS files are read from here (the gateway's working directory is unknown).
    pub root: PathBuf,
    pub leeway: Duration,
    /// Scopes to enforce on top of the gateway's checks.
    pub required_scopes: Vec<String>,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        PolicyOptions {
            root: PathBuf::from("."),
            leeway: Duration::from_secs(60),
            required_scopes: Vec::new(),
        }
    }
}

/// Where the keys are: the configured `jwks`, or (`derived`) the URL the gateway derives when
/// `jwks` is omitted. Returns the source and whether it was derived.
pub fn jwks_source(jwks: Option<&Jwks>, derived: &str, root: &Path) -> (JwksSource, bool) {
    match jwks {
        Some(Jwks::Inline(text)) => (JwksSource::Inline(Arc::from(text.as_str())), false),
        Some(Jwks::File(f)) => (
            JwksSource::File(crate::config::resolve_path(root, &f.file)),
            false,
        ),
        Some(Jwks::Url(u)) => (JwksSource::Url(u.url.clone()), false),
        None => (JwksSource::Url(derived.to_string()), true),
    }
}

fn required_claims(o: Option<&JwtValidationOptions>) -> Vec<String> {
    o.and_then(|o| o.required_claims.clone())
        .unwrap_or_else(|| vec!["exp".into()])
}

/// The policy of an `mcpAuthentication` block.
pub fn from_mcp_authentication(
    a: &McpAuthentication,
    origin: &str,
    opts: &PolicyOptions,
) -> Policy {
    // An issuer without a derivable URL is refused when the file is checked
    // (auth/jwks-url-underivable), so no verdict is given with the placeholder.
    let derived = a.derived_jwks_url().unwrap_or_default();
    let (jwks, derived) = jwks_source(a.jwks.as_ref(), &derived, &opts.root);
    let scopes_supported = a
        .resource_metadata
        .as_ref()
        .map(|m| m.scopes_supported())
        .unwrap_or_default();
    let mut p = Policy::new(a.issuer.clone(), jwks);
    p.audiences = a.audiences.clone().unwrap_or_default();
    p.jwks_derived = derived;
    p.required_claims = required_claims(a.jwt_validation_options.as_ref());
    p.leeway = opts.leeway;
    p.mode = a.mode();
    p.scopes_supported = scopes_supported;
    p.required_scopes = opts.required_scopes.clone();
    p.origin = format!("mcpAuthentication at {origin}");
    p
}

/// The policies of a `jwtAuth` block, one per provider (the gateway picks the provider whose
/// key set holds the token's `kid`).
pub fn from_jwt_auth(j: &JwtAuth, origin: &str, opts: &PolicyOptions) -> Vec<Policy> {
    let mode = j.mode();
    let mut out = Vec::new();
    let mut add = |issuer: &str,
                   audiences: &Option<Vec<String>>,
                   jwks: Option<&Jwks>,
                   jvo: Option<&JwtValidationOptions>,
                   origin: String| {
        // the schema requires `jwks` here; without a provider the derivation cannot fail
        let fallback = derived_jwks_url(issuer, None).unwrap_or_default();
        let (src, derived) = jwks_source(jwks, &fallback, &opts.root);
        let mut p = Policy::new(issuer, src);
        p.audiences = audiences.clone().unwrap_or_default();
        p.jwks_derived = derived;
        p.required_claims = required_claims(jvo.or(j.jwt_validation_options.as_ref()));
        p.leeway = opts.leeway;
        p.mode = mode;
        p.required_scopes = opts.required_scopes.clone();
        p.origin = origin;
        out.push(p);
    };
    if let Some(issuer) = &j.issuer {
        add(
            issuer,
            &j.audiences,
            j.jwks.as_ref(),
            None,
            format!("jwtAuth at {origin}"),
        );
    }
    for (i, pr) in j.providers.iter().flatten().enumerate() {
        add(
            &pr.issuer,
            &pr.audiences,
            Some(&pr.jwks),
            pr.jwt_validation_options.as_ref(),
            format!("jwtAuth at {origin}/providers/{i}"),
        );
    }
    out
}

/// A policy given on the command line (`--issuer`, `--audience`, `--jwks`).
pub fn from_flags(
    issuer: &str,
    audiences: &[String],
    jwks: Option<&str>,
    provider: Option<&Provider>,
    mode: AuthMode,
    opts: &PolicyOptions,
) -> Result<Policy, String> {
    let (src, derived) = match jwks {
        Some(j) if j.starts_with("http://") || j.starts_with("https://") => {
            (JwksSource::Url(j.to_string()), false)
        }
        Some(j) if j.trim_start().starts_with('{') => (JwksSource::Inline(Arc::from(j)), false),
        Some(j) => (JwksSource::File(PathBuf::from(j)), false),
        None => {
            let url = derived_jwks_url(issuer, provider)
                .map_err(|why| format!("{why}; give the key set with --jwks URL|FILE"))?;
            (JwksSource::Url(url), true)
        }
    };
    let mut p = Policy::new(issuer, src);
    p.audiences = audiences.to_vec();
    p.jwks_derived = derived;
    p.leeway = opts.leeway;
    p.mode = mode;
    p.required_scopes = opts.required_scopes.clone();
    p.origin = "command-line flags".into();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::policy::auth::{Empty, Provider};

    #[test]
    fn derived_url_follows_the_provider() {
        let d = |issuer: &str, p: Option<Provider>| derived_jwks_url(issuer, p.as_ref());
        assert_eq!(
            d("https://a.okta.com/oauth2/default", None).unwrap(),
            "https://a.okta.com/oauth2/default/.well-known/jwks.json"
        );
        // appended as written: the gateway does not trim a trailing `/`
        assert_eq!(
            d("https://x.example/", Some(Provider::Okta(Empty {}))).unwrap(),
            "https://x.example//.well-known/jwks.json"
        );
        assert_eq!(
            d(
                "https://kc.example/realms/r",
                Some(Provider::Keycloak(Empty {}))
            )
            .unwrap(),
            "https://kc.example/realms/r/protocol/openid-connect/certs"
        );
        assert_eq!(
            d(
                "https://ak.example/application/o/app/",
                Some(Provider::Authentik(Empty {}))
            )
            .unwrap(),
            "https://ak.example/application/o/app/jwks/"
        );
        assert_eq!(
            d(
                "https://api.descope.com/v1/apps/agentic/P123/S456",
                Some(Provider::Descope(Empty {}))
            )
            .unwrap(),
            "https://api.descope.com/P123/.well-known/jwks.json"
        );
        assert_eq!(
            d(
                "https://api.descope.com/P123",
                Some(Provider::Descope(Empty {}))
            )
            .unwrap(),
            "https://api.descope.com/P123/.well-known/jwks.json"
        );
        assert_eq!(
            d(
                "https://sts.windows.net/T1/",
                Some(Provider::Entra(Empty {}))
            )
            .unwrap(),
            "https://login.microsoftonline.com/T1/discovery/v2.0/keys"
        );
        assert_eq!(
            d(
                "https://login.microsoftonline.us/T2/v2.0",
                Some(Provider::Entra(Empty {}))
            )
            .unwrap(),
            "https://login.microsoftonline.us/T2/discovery/v2.0/keys"
        );
        assert!(d(
            "https://login.microsoftonline.com/",
            Some(Provider::Entra(Empty {}))
        )
        .is_err());
    }
}
