//! `urlRewrite` (the path and authority a request is forwarded with) and `requestRedirect`
//! (an answer pointing elsewhere), with the gateway's semantics: a path is replaced whole
//! (`full`) or in the part the route's `pathPrefix` matched (`prefix`); an authority whole
//! (`full`), by host (keeping the port), by port (keeping the host), by the backend's (`auto`)
//! or not at all (`none`).

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::body::{self, Body};
use crate::config::policy::traffic::{AuthorityRewrite, PathRewrite, RequestRedirect, UrlRewrite};

/// `path` rewritten by `rw`; `matched_prefix` is the `pathPrefix` that selected the route
/// (`None` when an exact or regex path did: a prefix rewrite leaves the path alone then).
pub fn path(path: &str, rw: &PathRewrite, matched_prefix: Option<&str>) -> String {
    if let Some(full) = &rw.full {
        return full.clone();
    }
    let (Some(replacement), Some(matched)) = (&rw.prefix, matched_prefix) else {
        return path.to_string();
    };
    let m = matched.trim_end_matches('/');
    let Some(rest) = path.strip_prefix(m) else {
        return path.to_string();
    };
    if rest.is_empty() {
        return if replacement.is_empty() {
            "/".to_string()
        } else {
            replacement.clone()
        };
    }
    let out = format!("{}{rest}", replacement.trim_end_matches('/'));
    if out.starts_with('/') {
        out
    } else {
        format!("/{out}")
    }
}

/// `host[:port]` split (IPv6 literals in brackets).
fn split_authority(a: &str) -> (&str, Option<&str>) {
    if a.starts_with('[') {
        return match a.find(']') {
            Some(i) => (&a[..=i], a[i + 1..].strip_prefix(':')),
            None => (a, None),
        };
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (a, None),
    }
}

/// The authority after `rw`, or `None` to leave it as it is. `current` is the request's
/// `Host`; `backend` the authority the request goes to, if any.
pub fn authority(current: &str, rw: &AuthorityRewrite, backend: Option<&str>) -> Option<String> {
    match rw {
        AuthorityRewrite::Keyword(k) if k == "auto" => backend.map(str::to_string),
        AuthorityRewrite::Keyword(_) => None,
        AuthorityRewrite::Parts(p) => {
            let (host, port) = split_authority(current);
            if let Some(full) = &p.full {
                Some(full.clone())
            } else if let Some(h) = &p.host {
                Some(match port {
                    Some(port) => format!("{h}:{port}"),
                    None => h.clone(),
                })
            } else {
                p.port.map(|port| format!("{host}:{port}"))
            }
        }
    }
}

fn host_of(parts: &Parts) -> String {
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// Applies `urlRewrite` to a request about to be forwarded to `backend`.
pub fn apply(parts: &mut Parts, rw: &UrlRewrite, matched_prefix: Option<&str>, backend: &str) {
    if let Some(p) = &rw.path {
        let new_path = path(parts.uri.path(), p, matched_prefix);
        let pq = match parts.uri.query() {
            Some(q) => format!("{new_path}?{q}"),
            None => new_path,
        };
        let mut up = std::mem::take(&mut parts.uri).into_parts();
        up.path_and_query = pq.parse().ok().or(up.path_and_query);
        if let Ok(u) = http::Uri::from_parts(up) {
            parts.uri = u;
        }
    }
    if let Some(a) = &rw.authority {
        if let Some(v) = authority(&host_of(parts), a, Some(backend))
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            parts.headers.insert(header::HOST, v);
        }
    }
}

/// The answer of `requestRedirect`: a 3xx (302 unless `status` says otherwise) whose
/// `Location` is the request's URL with the parts the policy names replaced.
pub fn redirect(
    rr: &RequestRedirect,
    parts: &Parts,
    matched_prefix: Option<&str>,
) -> Response<Body> {
    let base = super::wellknown::request_base(parts);
    let scheme = rr
        .scheme
        .clone()
        .unwrap_or_else(|| base.split("://").next().unwrap_or("http").to_string());
    let current = host_of(parts);
    let host = rr
        .authority
        .as_ref()
        .and_then(|a| authority(&current, a, None))
        .unwrap_or(current);
    let p = match &rr.path {
        Some(rw) => path(parts.uri.path(), rw, matched_prefix),
        None => parts.uri.path().to_string(),
    };
    let mut location = format!("{scheme}://{host}{p}");
    if let Some(q) = parts.uri.query() {
        location.push('?');
        location.push_str(q);
    }
    let status = rr
        .status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .filter(StatusCode::is_redirection)
        .unwrap_or(StatusCode::FOUND);
    let mut r = Response::new(body::empty());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::policy::traffic::AuthorityParts;

    fn prefix(p: &str) -> PathRewrite {
        PathRewrite {
            full: None,
            prefix: Some(p.into()),
        }
    }

    #[test]
    fn prefix_replacement_as_the_gateway_api_says() {
        let cases = [
            ("/api/items", "/api", "/v2", "/v2/items"),
            ("/api", "/api", "/v2", "/v2"),
            ("/api/", "/api", "/v2", "/v2/"),
            ("/api/items", "/api", "/", "/items"),
            ("/api", "/api", "/", "/"),
            ("/api/items", "/api/", "/v2/", "/v2/items"),
            ("/items", "/", "/base", "/base/items"),
        ];
        for (p, matched, repl, want) in cases {
            assert_eq!(
                path(p, &prefix(repl), Some(matched)),
                want,
                "{p} {matched} {repl}"
            );
        }
        // not matched by a prefix: left alone; full: replaced
        assert_eq!(path("/x", &prefix("/v2"), None), "/x");
        let full = PathRewrite {
            full: Some("/fixed".into()),
            prefix: None,
        };
        assert_eq!(path("/anything/at/all", &full, Some("/anything")), "/fixed");
    }

    #[test]
    fn authority_rewrites() {
        let parts = |full: Option<&str>, host: Option<&str>, port: Option<u32>| {
            AuthorityRewrite::Parts(AuthorityParts {
                full: full.map(Into::into),
                host: host.map(Into::into),
                port,
            })
        };
        let b = Some("10.0.0.1:8080");
        assert_eq!(
            authority(
                "a.example:3000",
                &parts(Some("api.internal"), None, None),
                b
            )
            .as_deref(),
            Some("api.internal")
        );
        assert_eq!(
            authority(
                "a.example:3000",
                &parts(None, Some("api.internal"), None),
                b
            )
            .as_deref(),
            Some("api.internal:3000")
        );
        assert_eq!(
            authority("[::1]:3000", &parts(None, None, Some(9000)), b).as_deref(),
            Some("[::1]:9000")
        );
        assert_eq!(
            authority("a.example", &AuthorityRewrite::Keyword("auto".into()), b).as_deref(),
            b
        );
        assert_eq!(
            authority("a.example", &AuthorityRewrite::Keyword("none".into()), b),
            None
        );
    }
}
