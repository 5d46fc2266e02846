//! Authentication and authorization for the runtime: where the token is, how it is removed,
//! and the adapter to the verifier, the JWKS cache and the CEL evaluation that `verify-token`
//! uses too.
//!
//! Everything that decides whether a token is valid, or whether a rule allows a call, lives in
//! `token/` and `oidc/` (one implementation of each rule); this module only adapts the
//! runtime's request to them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, AUTHORIZATION, COOKIE};
use http::request::Parts;
use serde_json::{Map, Value};

use crate::config::policy::auth::{AuthMode, AuthorizationLocation, JwtAuth, McpAuthentication};
use crate::config::policy::authz::AuthzRule;
use crate::config::RoutePolicies;
use crate::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksSource};
use crate::token::{self, PolicyOptions};

pub use crate::token::McpCall;

/// Options of the shared verifier.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Least time between two refetches forced by unknown `kid`s, per key set.
    pub refetch_cooldown: Duration,
}

/// The verifier shared by every route and kept across reloads (its JWKS cache survives them).
pub struct Verifier {
    opts: VerifierOptions,
    cache: Arc<JwksCache>,
}

impl Verifier {
    pub fn new(opts: VerifierOptions) -> Result<Verifier, String> {
        let client = HttpClient::new(HttpOptions::default()).map_err(|e| e.to_string())?;
        let cache = JwksCache::new(
            client,
            CachePolicy {
                refetch_cooldown: opts.refetch_cooldown,
                ..CachePolicy::default()
            },
        );
        Ok(Verifier {
            opts,
            cache: Arc::new(cache),
        })
    }

    pub fn options(&self) -> &VerifierOptions {
        &self.opts
    }

    /// Verifies `token` for `ctx` exactly as `verify-token` does (the runtime's fast path of
    /// the same checks). With several `jwtAuth` providers, the first that accepts wins.
    pub async fn verify(&self, ctx: &AuthCtx, token: &str) -> Outcome {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut refused = Vec::new();
        for p in &ctx.policies {
            match token::verify::accept(token, p, &self.cache, now).await {
                Ok(claims) => {
                    return Outcome::Valid(Identity {
                        claims: Arc::new(claims),
                    })
                }
                Err(token::verify::Refused(check)) => refused.push(check),
            }
        }
        Outcome::Invalid(format!(
            "token refused ({} check failed; `agw verify-token` tells why)",
            refused.join(", ")
        ))
    }

    /// Forgets what was read from a JWKS file, so that the next token reads it again.
    pub fn file_changed(&self, path: &Path) {
        self.cache.forget(&JwksSource::File(path.to_path_buf()));
    }
}

/// What the verifier found.
#[derive(Debug, Clone)]
pub enum Outcome {
    Valid(Identity),
    /// The token is there but would be refused; the reason is for the log (never the token).
    Invalid(String),
}

/// The caller of a request with a valid token.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub claims: Arc<Map<String, Value>>,
}

impl Identity {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Okta puts the client id in `cid`; RFC 9068 tokens in `client_id`.
    pub fn client_id(&self) -> Option<&str> {
        self.claim_str("cid")
            .or_else(|| self.claim_str("client_id"))
    }

    /// Who this caller is, for owning MCP sessions: issuer, subject and client.
    pub fn owner(&self) -> Owner {
        let s = |v: Option<&str>| v.map(str::to_string);
        Owner {
            iss: s(self.claim_str("iss")),
            sub: s(self.claim_str("sub")),
            client: s(self.client_id()),
        }
    }
}

/// The caller an MCP session belongs to: the issuer, `sub` and client id of the token that
/// opened it. Only the same caller may use or end the session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub client: Option<String>,
}

/// Which policy authenticates a route.
#[derive(Debug, Clone)]
pub enum AuthKind {
    Mcp(Box<McpAuthentication>),
    Jwt(Box<JwtAuth>),
}

/// Where the token is read from.
#[derive(Debug, Clone)]
pub enum Location {
    Header {
        name: HeaderName,
        prefix: String,
    },
    Query(String),
    Cookie(String),
    /// A CEL expression; not evaluated by the runtime (no token is found).
    Expression(String),
}

/// A route's authentication, ready to apply.
#[derive(Debug)]
pub struct AuthCtx {
    pub kind: AuthKind,
    pub mode: AuthMode,
    pub location: Location,
    /// JSON pointer of the policy, for logs.
    pub origin: String,
    /// What a token must satisfy (one per `jwtAuth` provider).
    policies: Vec<token::Policy>,
    jwks_files: Vec<PathBuf>,
}

impl AuthCtx {
    /// The route's `mcpAuthentication` or `jwtAuth`, if it has one (`check` refuses both).
    pub fn from_policies(
        p: &RoutePolicies,
        route_ptr: &str,
        root: &Path,
    ) -> Result<Option<AuthCtx>, String> {
        let popts = PolicyOptions {
            root: root.to_path_buf(),
            ..PolicyOptions::default()
        };
        if let Some(m) = &p.mcp_authentication {
            let origin = format!("{route_ptr}/policies/mcpAuthentication");
            return Ok(Some(AuthCtx {
                mode: m.mode(),
                location: location(m.authorization_location.as_ref())?,
                policies: vec![token::from_mcp_authentication(m, &origin, &popts)],
                origin,
                jwks_files: jwks_file(m.jwks.as_ref(), root).into_iter().collect(),
                kind: AuthKind::Mcp(Box::new(m.clone())),
            }));
        }
        if let Some(j) = &p.jwt_auth {
            return AuthCtx::from_jwt_auth(j, &format!("{route_ptr}/policies/jwtAuth"), root)
                .map(Some);
        }
        Ok(None)
    }

    /// A `jwtAuth` block (of a route, or of a listener or gateway: then it runs before routing).
    pub fn from_jwt_auth(j: &JwtAuth, origin: &str, root: &Path) -> Result<AuthCtx, String> {
        let popts = PolicyOptions {
            root: root.to_path_buf(),
            ..PolicyOptions::default()
        };
        let mut files: Vec<PathBuf> = jwks_file(j.jwks.as_ref(), root).into_iter().collect();
        for pr in j.providers.iter().flatten() {
            files.extend(jwks_file(Some(&pr.jwks), root));
        }
        Ok(AuthCtx {
            mode: j.mode(),
            location: location(j.location.as_ref())?,
            policies: token::from_jwt_auth(j, origin, &popts),
            origin: origin.to_string(),
            jwks_files: files,
            kind: AuthKind::Jwt(Box::new(j.clone())),
        })
    }

    pub fn mcp(&self) -> Option<&McpAuthentication> {
        match &self.kind {
            AuthKind::Mcp(m) => Some(m),
            AuthKind::Jwt(_) => None,
        }
    }

    /// The policy as configured (for comparing two versions of a route).
    pub fn config_json(&self) -> Value {
        let v = match &self.kind {
            AuthKind::Mcp(m) => serde_json::to_value(m),
            AuthKind::Jwt(j) => serde_json::to_value(j),
        };
        v.unwrap_or(Value::Null)
    }

    pub fn watched_files(&self) -> Vec<PathBuf> {
        self.jwks_files.clone()
    }

    /// The token of a request, if it carries one where the policy looks.
    pub fn extract(&self, parts: &Parts) -> Option<String> {
        match &self.location {
            Location::Header { name, prefix } => {
                let v = parts.headers.get(name)?.to_str().ok()?;
                let t = strip_prefix_ci(v, prefix)?.trim();
                (!t.is_empty()).then(|| t.to_string())
            }
            Location::Query(name) => parts
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .find(|kv| holds_token(query_key(kv), name))
                .map(|kv| percent_decode(kv.split_once('=').map_or("", |(_, v)| v)))
                .filter(|v| !v.is_empty()),
            Location::Cookie(name) => parts
                .headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .find(|c| holds_token(cookie_name(c), name))
                .and_then(|c| c.split_once('='))
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            Location::Expression(_) => None,
        }
    }

    /// Removes the token from the request before it goes upstream.
    pub fn strip(&self, parts: &mut Parts) {
        match &self.location {
            Location::Header { name, .. } => {
                parts.headers.remove(name);
            }
            Location::Query(name) => {
                let Some(q) = parts.uri.query() else { return };
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|kv| !kv.is_empty() && !holds_token(query_key(kv), name))
                    .collect();
                let path = parts.uri.path();
                let pq = if kept.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}?{}", kept.join("&"))
                };
                let mut up = std::mem::take(&mut parts.uri).into_parts();
                up.path_and_query = pq.parse().ok();
                if let Ok(u) = http::Uri::from_parts(up) {
                    parts.uri = u;
                }
            }
            Location::Cookie(name) => {
                let kept: Vec<String> = parts
                    .headers
                    .get_all(COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && !holds_token(cookie_name(c), name))
                    .map(str::to_string)
                    .collect();
                parts.headers.remove(COOKIE);
                if !kept.is_empty() {
                    if let Ok(v) = kept.join("; ").parse() {
                        parts.headers.insert(COOKIE, v);
                    }
                }
            }
            Location::Expression(_) => {}
        }
    }
}

/// The name of a query pair as sent (`access%5Ftoken` in `access%5Ftoken=T`).
fn query_key(pair: &str) -> &str {
    pair.split_once('=').map_or(pair, |(k, _)| k)
}

/// The name of a cookie as sent (`session` in ` session=abc`).
fn cookie_name(cookie: &str) -> &str {
    let c = cookie.trim();
    c.split_once('=').map_or(c, |(k, _)| k).trim()
}

/// Whether the raw name of a query parameter or cookie is the one that holds the token. Finding
/// the token and removing it before the request goes upstream both ask this one function, so
/// that a name the lookup accepts (`access%5Ftoken` for `access_token`) is also removed.
fn holds_token(raw_name: &str, name: &str) -> bool {
    raw_name == name || (raw_name.contains(['%', '+']) && percent_decode(raw_name) == name)
}

fn location(l: Option<&AuthorizationLocation>) -> Result<Location, String> {
    let Some(l) = l else {
        return Ok(Location::Header {
            name: AUTHORIZATION,
            prefix: "Bearer ".into(),
        });
    };
    if let Some(h) = &l.header {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| format!("`{}` is not a valid header name", h.name))?;
        return Ok(Location::Header {
            name,
            prefix: h.prefix.clone().unwrap_or_else(|| "Bearer ".into()),
        });
    }
    if let Some(q) = &l.query_parameter {
        return Ok(Location::Query(q.name.clone()));
    }
    if let Some(c) = &l.cookie {
        return Ok(Location::Cookie(c.name.clone()));
    }
    Ok(Location::Expression(
        l.expression.clone().unwrap_or_default(),
    ))
}

fn strip_prefix_ci<'a>(v: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(v);
    }
    let head = v.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        return Some(&v[prefix.len()..]);
    }
    // `Bearer` followed by any amount of whitespace.
    let p = prefix.trim_end();
    let head = v.get(..p.len())?;
    (head.eq_ignore_ascii_case(p) && v[p.len()..].starts_with([' ', '\t'])).then(|| &v[p.len()..])
}

/// `a=1&b=x%20y` as decoded pairs.
pub fn query_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|s| !s.is_empty()).map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k), percent_decode(v))
    })
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `rules` allow `call` for the caller (`None`: no valid token), with the evaluation
/// `verify-token --tool` uses.
pub fn authorize(rules: &[AuthzRule], identity: Option<&Identity>, call: &McpCall) -> Decision {
    if rules.is_empty() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let d = token::evaluate(rules, identity.map(|i| i.claims.as_ref()), call);
    Decision {
        allowed: d.allowed,
        reason: d.reason,
    }
}

/// Whether the HTTP `authorization` rules allow a request.
pub fn authorize_request(
    rules: &[AuthzRule],
    identity: Option<&Identity>,
    parts: &Parts,
) -> Decision {
    if rules.is_empty() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let request = token::RequestInfo {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        host: parts
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        headers: parts
            .headers
            .iter()
            .filter(|(k, _)| *k != AUTHORIZATION)
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    };
    let d = token::evaluate_http(rules, identity.map(|i| i.claims.as_ref()), &request);
    Decision {
        allowed: d.allowed,
        reason: d.reason,
    }
}

/// The outcome of `mcpAuthorization`.
#[derive(Debug, Clone)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// The key set file a policy reads (watched for changes), if its keys are in a file.
fn jwks_file(j: Option<&crate::config::policy::auth::Jwks>, root: &Path) -> Option<PathBuf> {
    match j? {
        crate::config::policy::auth::Jwks::File(f) => {
            Some(crate::config::resolve_path(root, &f.file))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_encode("api://default"), "api%3A%2F%2Fdefault");
        assert_eq!(percent_decode("api%3A%2F%2Fdefault"), "api://default");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }

    fn parts(uri: &str, cookie: Option<&str>) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        if let Some(c) = cookie {
            b = b.header(COOKIE, c);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn ctx(location: Location) -> AuthCtx {
        AuthCtx {
            kind: AuthKind::Jwt(Box::new(
                serde_json::from_value(serde_json::json!({"issuer": "https://i.example"})).unwrap(),
            )),
            mode: AuthMode::Strict,
            location,
            origin: String::new(),
            policies: Vec::new(),
            jwks_files: Vec::new(),
        }
    }

    #[test]
    fn a_query_token_that_is_found_is_also_removed() {
        let a = ctx(Location::Query("access_token".into()));
        for q in [
            "access_token=T&x=1",
            "x=1&access%5Ftoken=T",
            "access%5ftoken=T&x=1",
            "x=1&access%5Ftoken=T&access_token=U",
        ] {
            let mut p = parts(&format!("/api?{q}"), None);
            assert_eq!(a.extract(&p).as_deref(), Some("T"), "{q}");
            a.strip(&mut p);
            assert_eq!(p.uri.to_string(), "/api?x=1", "{q}");
            assert_eq!(a.extract(&p), None, "{q}");
        }
    }

    #[test]
    fn a_cookie_token_that_is_found_is_also_removed() {
        let a = ctx(Location::Cookie("tok".into()));
        let mut p = parts("/", Some("a=1; tok=T ; b=2"));
        assert_eq!(a.extract(&p).as_deref(), Some("T"));
        a.strip(&mut p);
        assert_eq!(p.headers.get(COOKIE).unwrap(), "a=1; b=2");
        assert_eq!(a.extract(&p), None);
    }

    #[test]
    fn bearer_prefix() {
        assert_eq!(strip_prefix_ci("Bearer abc", "Bearer "), Some("abc"));
        assert_eq!(strip_prefix_ci("bearer abc", "Bearer "), Some("abc"));
        assert_eq!(strip_prefix_ci("Basic abc", "Bearer "), None);
    }
}
