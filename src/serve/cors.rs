//! CORS as the gateway applies it: before authentication, so that a 401 still carries the
//! headers; preflights are answered directly.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use super::body::{self, Body};
use crate::config::policy::Cors;

pub struct CorsCtx {
    origins: Vec<String>,
    any_origin: bool,
    credentials: bool,
    allow_headers: Option<HeaderValue>,
    allow_methods: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

fn joined(v: &[String]) -> Option<HeaderValue> {
    (!v.is_empty())
        .then(|| HeaderValue::from_str(&v.join(",")).ok())
        .flatten()
}

impl CorsCtx {
    pub fn new(c: &Cors) -> CorsCtx {
        CorsCtx {
            any_origin: c.allow_origins.iter().any(|o| o == "*"),
            origins: c
                .allow_origins
                .iter()
                .map(|o| o.to_ascii_lowercase())
                .collect(),
            credentials: c.allow_credentials.unwrap_or(false),
            allow_headers: joined(&c.allow_headers),
            allow_methods: joined(&c.allow_methods),
            expose_headers: joined(&c.expose_headers),
            max_age: c
                .max_age
                .as_deref()
                .and_then(crate::config::parse_duration)
                .and_then(|d| HeaderValue::from_str(&d.as_secs().to_string()).ok()),
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        if self.any_origin {
            return true;
        }
        let o = origin.to_ascii_lowercase();
        self.origins.iter().any(|p| glob(p, &o))
    }

    /// `Access-Control-Allow-Origin` for `origin`, when it is allowed.
    fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        let o = origin.to_str().ok()?;
        if !self.origin_allowed(o) {
            return None;
        }
        if self.any_origin && !self.credentials {
            Some(HeaderValue::from_static("*"))
        } else {
            Some(origin.clone())
        }
    }

    /// The answer to a preflight, when the request is one.
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<Response<Body>> {
        if method != Method::OPTIONS || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let origin = headers.get(header::ORIGIN)?;
        let mut r = Response::new(body::empty());
        *r.status_mut() = StatusCode::OK;
        let Some(allow) = self.allow_origin(origin) else {
            return Some(r);
        };
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if self.credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.allow_methods {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v.clone());
        }
        if let Some(v) = &self.allow_headers {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
        }
        if let Some(v) = &self.max_age {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, v.clone());
        }
        if !self.any_origin || self.credentials {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        Some(r)
    }

    /// Adds the CORS headers of a simple (non-preflight) response.
    pub fn apply(&self, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
        let Some(allow) = origin.and_then(|o| self.allow_origin(o)) else {
            return;
        };
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if self.credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.expose_headers {
            h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
        if !self.any_origin || self.credentials {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// `*` matches any run of characters (`http://localhost:*`).
fn glob(pattern: &str, s: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == s;
    };
    let Some(mut s) = s.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return s.ends_with(part);
        }
        match s.find(part) {
            Some(at) => s = &s[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("http://localhost:*", "http://localhost:5173"));
        assert!(!glob("http://localhost:*", "http://evil:5173"));
        assert!(glob("https://*.example.com", "https://a.example.com"));
        assert!(glob("https://app.example.com", "https://app.example.com"));
    }
}
