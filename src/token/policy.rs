//! Builds a verification [`Policy`] from the configuration, the way the gateway reads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::verify::Policy;
use crate::config::policy::auth::{
    AuthMode, Jwks, JwtAuth, JwtValidationOptions, McpAuthentication,
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

/// The JWKS URL the gateway derives from an issuer when `jwks` is omitted.
pub fn derived_jwks_url(issuer: &str) -> String {
    format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
}

/// Where the keys are: the configured `jwks`, or the location derived from the issuer.
/// Returns the source and whether it was derived.
pub fn jwks_source(jwks: Option<&Jwks>, issuer: &str, root: &Path) -> (JwksSource, bool) {
    match jwks {
        Some(Jwks::Inline(text)) => (JwksSource::Inline(Arc::from(text.as_str())), false),
        Some(Jwks::File(f)) => {
            let p = Path::new(&f.file);
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                root.join(p)
            };
            (JwksSource::File(p), false)
        }
        Some(Jwks::Url(u)) => (JwksSource::Url(u.url.clone()), false),
        None => (JwksSource::Url(derived_jwks_url(issuer)), true),
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
    let (jwks, derived) = jwks_source(a.jwks.as_ref(), &a.issuer, &opts.root);
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
        let (src, derived) = jwks_source(jwks, issuer, &opts.root);
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
    mode: AuthMode,
    opts: &PolicyOptions,
) -> Policy {
    let (src, derived) = match jwks {
        Some(j) if j.starts_with("http://") || j.starts_with("https://") => {
            (JwksSource::Url(j.to_string()), false)
        }
        Some(j) if j.trim_start().starts_with('{') => (JwksSource::Inline(Arc::from(j)), false),
        Some(j) => (JwksSource::File(PathBuf::from(j)), false),
        None => (JwksSource::Url(derived_jwks_url(issuer)), true),
    };
    let mut p = Policy::new(issuer, src);
    p.audiences = audiences.to_vec();
    p.jwks_derived = derived;
    p.leeway = opts.leeway;
    p.mode = mode;
    p.required_scopes = opts.required_scopes.clone();
    p.origin = "command-line flags".into();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_url() {
        assert_eq!(
            derived_jwks_url("https://a.okta.com/oauth2/default"),
            "https://a.okta.com/oauth2/default/.well-known/jwks.json"
        );
        assert_eq!(
            derived_jwks_url("https://x.example/"),
            "https://x.example/.well-known/jwks.json"
        );
    }
}
