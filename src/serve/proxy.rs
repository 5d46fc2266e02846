//! Plain HTTP backends (`host:` and named `backend:`): the request is forwarded as it is (less
//! hop-by-hop headers and the validated token), the answer streamed back.

use std::sync::atomic::{AtomicU64, Ordering};

use http::header::{self, HeaderMap, HeaderName};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::BodyExt;

use super::body::{self, Body, RequestBody};
use super::runtime::HttpUpstream;
use super::Shared;
use crate::config::policy::traffic::UrlRewrite;

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(n);
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Picks an upstream by weight (a deterministic rotation).
fn pick(ups: &[HttpUpstream]) -> Option<&HttpUpstream> {
    let total: u64 = ups.iter().map(|u| u.weight).sum();
    if total == 0 {
        return ups.first();
    }
    let mut n = NEXT.fetch_add(1, Ordering::Relaxed) % total;
    for u in ups {
        if n < u.weight {
            return Some(u);
        }
        n -= u.weight;
    }
    ups.first()
}

/// Forwards a request to one of `ups`, after the route's `urlRewrite` (`matched_prefix` is
/// the `pathPrefix` that selected the route).
pub async fn forward(
    shared: &Shared,
    ups: &[HttpUpstream],
    rewrite: Option<&UrlRewrite>,
    matched_prefix: Option<&str>,
    mut parts: Parts,
    body: RequestBody,
) -> Response<Body> {
    let Some(up) = pick(ups) else {
        return body::text(StatusCode::SERVICE_UNAVAILABLE, "no upstream");
    };
    if let Some(rw) = rewrite {
        super::rewrite::apply(&mut parts, rw, matched_prefix, &up.authority);
    }
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("http://{}{pq}", up.authority);
    strip_hop_by_hop(&mut parts.headers);
    let failure = body.failure();
    let req = shared
        .proxy
        .request(parts.method.clone(), &url)
        .headers(parts.headers)
        .body(reqwest::Body::wrap(body));
    match req.send().await {
        Ok(resp) => {
            let resp: http::Response<reqwest::Body> = resp.into();
            let (mut p, b) = resp.into_parts();
            strip_hop_by_hop(&mut p.headers);
            Response::from_parts(p, b.map_err(|e| e.into()).boxed_unsync())
        }
        Err(e) => {
            let why = *failure.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(why) = why {
                return super::handler::body_failed(why, shared.limits.max_body_bytes);
            }
            let status = if e.is_timeout() {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            // the URL holds the request's path and query: not for the log
            tracing::warn!(upstream = %up.authority, error = %e.without_url(), "upstream request failed");
            body::text(status, "upstream unavailable")
        }
    }
}
