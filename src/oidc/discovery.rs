//! Issuer discovery: OpenID Connect discovery, then RFC 8414 authorization server metadata in
//! its inserted and appended forms, with every attempt remembered for the error message.

use std::time::Duration;

use serde_json::Value;

use super::http::{Fetched, HttpClient, HttpError};

/// The discovery document that answered, and what it says.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The URL that served the document.
    pub url: String,
    /// The document's `issuer`.
    pub issuer: Option<String>,
    pub jwks_uri: Option<String>,
    pub scopes_supported: Option<Vec<String>>,
    pub elapsed: Duration,
    pub document: Value,
}

/// One URL tried, and what it answered.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub url: String,
    pub outcome: AttemptOutcome,
}

#[derive(Debug, Clone)]
pub enum AttemptOutcome {
    Failed(HttpError),
    Status(u16),
    NotJson { content_type: Option<String> },
    NotMetadata,
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            AttemptOutcome::Failed(e) => write!(f, "{e}"),
            AttemptOutcome::Status(s) => write!(f, "{} answered HTTP {s}", self.url),
            AttemptOutcome::NotJson { content_type } => write!(
                f,
                "{} answered {} instead of JSON",
                self.url,
                content_type.as_deref().unwrap_or("no content type")
            ),
            AttemptOutcome::NotMetadata => {
                write!(f, "{} answered JSON without an `issuer`", self.url)
            }
        }
    }
}

/// Where discovery documents of an issuer can be, in the order they are tried.
pub fn candidate_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}/.well-known/openid-configuration")];
    if let Ok(u) = reqwest::Url::parse(trimmed) {
        let path = u.path().trim_end_matches('/');
        if !path.is_empty() {
            let mut inserted = u.clone();
            inserted.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
            urls.push(inserted.to_string());
        }
    }
    urls.push(format!("{trimmed}/.well-known/oauth-authorization-server"));
    urls.dedup();
    urls
}

/// Fetches the first discovery document that answers; on failure, every attempt.
pub async fn discover(client: &HttpClient, issuer: &str) -> Result<Discovery, Vec<Attempt>> {
    let mut attempts = Vec::new();
    for url in candidate_urls(issuer) {
        match client.get(&url, "application/json").await {
            Ok(f) => match document(&f) {
                Ok(d) => return Ok(d),
                Err(outcome) => attempts.push(Attempt { url, outcome }),
            },
            Err(e) => {
                // A host that cannot be reached will not answer the other forms either.
                let unreachable = matches!(
                    e,
                    HttpError::Connect { .. }
                        | HttpError::Timeout { .. }
                        | HttpError::InvalidUrl { .. }
                        | HttpError::Scheme { .. }
                );
                attempts.push(Attempt {
                    url,
                    outcome: AttemptOutcome::Failed(e),
                });
                if unreachable {
                    break;
                }
            }
        }
    }
    Err(attempts)
}

fn document(f: &Fetched) -> Result<Discovery, AttemptOutcome> {
    if f.status != 200 {
        return Err(AttemptOutcome::Status(f.status));
    }
    let v: Value = serde_json::from_slice(&f.body).map_err(|_| AttemptOutcome::NotJson {
        content_type: f.content_type.clone(),
    })?;
    let issuer = v.get("issuer").and_then(Value::as_str).map(String::from);
    if issuer.is_none() {
        return Err(AttemptOutcome::NotMetadata);
    }
    Ok(Discovery {
        url: f.url.clone(),
        issuer,
        jwks_uri: v.get("jwks_uri").and_then(Value::as_str).map(String::from),
        scopes_supported: v
            .get("scopes_supported")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            }),
        elapsed: f.elapsed,
        document: v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_urls_cover_oidc_and_both_rfc8414_forms() {
        assert_eq!(
            candidate_urls("https://acme.okta.com/oauth2/default/"),
            [
                "https://acme.okta.com/oauth2/default/.well-known/openid-configuration",
                "https://acme.okta.com/.well-known/oauth-authorization-server/oauth2/default",
                "https://acme.okta.com/oauth2/default/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(
            candidate_urls("https://login.example.com"),
            [
                "https://login.example.com/.well-known/openid-configuration",
                "https://login.example.com/.well-known/oauth-authorization-server",
            ]
        );
    }
}
