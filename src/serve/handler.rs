//! One request through the gateway's pipeline: route, CORS, authentication, authorization,
//! header modifiers, backend; then one log line.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use super::auth::{AuthCtx, AuthKind, Identity, Outcome};
use super::body::{self, Body, RequestBody};
use super::router;
use super::runtime::{Backend, RouteCtx};
use super::{mcp, proxy, wellknown, Shared};
use crate::config::policy::auth::AuthMode;

/// What the request log line reports beyond method, path and status.
#[derive(Default)]
pub struct ReqLog {
    pub route: Option<String>,
    pub identity: Option<Identity>,
    /// Why the request was refused, when it was (never the token).
    pub note: Option<String>,
}

pub async fn handle(
    shared: Arc<Shared>,
    port: u16,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut log = ReqLog::default();
    shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(&shared.in_flight);
    let resp = dispatch(&shared, port, req, &mut log).await;
    if let Some(LogNote(n)) = resp.extensions().get::<LogNote>() {
        log.note = Some(n.to_string());
    }
    // milliseconds with microsecond precision (a number in JSON logs)
    let latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let id = log.identity.as_ref();
    tracing::info!(
        target: "agw::request",
        method = %method,
        path = %path,
        route = %log.route.as_deref().unwrap_or("-"),
        status = resp.status().as_u16(),
        latency_ms,
        sub = %id.and_then(|i| i.claim_str("sub")).unwrap_or("-"),
        cid = %id.and_then(|i| i.client_id()).unwrap_or("-"),
        note = %log.note.as_deref().unwrap_or("-"),
    );
    Ok(resp)
}

/// A note for the request log line, left on a response by code that has no [`ReqLog`].
#[derive(Clone, Copy)]
pub struct LogNote(pub &'static str);

/// The answer to a request whose body could not be read, with the reason for the log.
pub fn body_failed(e: body::BodyError, max: usize) -> Response<Body> {
    let mut r = e.response(max);
    r.extensions_mut().insert(LogNote(note_of(e)));
    r
}

pub fn note_of(e: body::BodyError) -> &'static str {
    match e {
        body::BodyError::TooLarge => "request body too large",
        body::BodyError::TimedOut => "request body timed out",
        body::BodyError::Aborted => "the client aborted the request body",
    }
}

/// Counts a request as in flight until dropped (also when the client goes away).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn host_of(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
}

async fn dispatch(
    shared: &Arc<Shared>,
    port: u16,
    req: Request<Incoming>,
    log: &mut ReqLog,
) -> Response<Body> {
    let rt = shared.runtime.load_full();
    let (parts, body) = req.into_parts();
    let body = RequestBody::new(
        body,
        shared.limits.max_body_bytes,
        shared.limits.body_timeout,
    );
    let headers: Vec<(String, String)>;
    let query: Vec<(String, String)>;
    let route = {
        headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        query = super::auth::query_pairs(parts.uri.query().unwrap_or("")).collect();
        let r = router::Request {
            host: host_of(&parts),
            path: parts.uri.path(),
            method: parts.method.as_str(),
            headers: &headers,
            query: &query,
        };
        rt.select(port, &r).map(|(route, auth)| {
            let prefix = matched_prefix(&route, &r);
            (route, auth, prefix)
        })
    };
    let Some((route, listener_auth, prefix)) = route else {
        return body::json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "not_found", "error_description": "no route matches this request"}),
        );
    };
    log.route = Some(route.label.clone());
    if let Some(why) = &route.refused {
        log.note = Some(format!("not applied by agw serve: {why}"));
        return body::json(
            StatusCode::NOT_IMPLEMENTED,
            &serde_json::json!({"error": "not_implemented", "error_description": format!("agw serve does not apply {why} of this route, and refuses its requests rather than let them through without")}),
        );
    }
    let origin = parts.headers.get(header::ORIGIN).cloned();
    if let Some(c) = &route.cors {
        if let Some(r) = c.preflight(&parts.method, &parts.headers) {
            return r;
        }
    }
    for rl in &route.rate_limits {
        if let Err(wait) = rl.take() {
            log.note = Some("localRateLimit".into());
            let mut r = body::json(
                StatusCode::TOO_MANY_REQUESTS,
                &serde_json::json!({"error": "rate_limited", "error_description": "the route's localRateLimit is exhausted"}),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("{}", wait.ceil().max(1.0) as u64)) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            if let Some(c) = &route.cors {
                c.apply(origin.as_ref(), r.headers_mut());
            }
            return r;
        }
    }
    let fut = through_route(
        shared,
        &route,
        listener_auth.as_deref(),
        prefix.as_deref(),
        parts,
        body,
        log,
    );
    let mut resp = match route.request_timeout {
        None => fut.await,
        Some(limit) => match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => body::json(
                StatusCode::GATEWAY_TIMEOUT,
                &serde_json::json!({"error": "timeout", "error_description": "the route's requestTimeout passed"}),
            ),
        },
    };
    if let Some(m) = &route.policies.response_header_modifier {
        if let Err(e) = m.apply(resp.headers_mut()) {
            return invalid_header(&e);
        }
    }
    if let Some(c) = &route.cors {
        c.apply(origin.as_ref(), resp.headers_mut());
    }
    resp
}

async fn through_route(
    shared: &Arc<Shared>,
    route: &Arc<RouteCtx>,
    listener_auth: Option<&AuthCtx>,
    matched_prefix: Option<&str>,
    mut parts: Parts,
    body: RequestBody,
    log: &mut ReqLog,
) -> Response<Body> {
    let own_path = route
        .auth
        .as_ref()
        .and_then(|a| a.mcp())
        .filter(|_| wellknown::is_own_path(parts.uri.path()));
    if let Some(m) = own_path {
        return wellknown::handle(shared, m, parts, body).await;
    }
    let identity = match authenticate(shared, route, listener_auth, &mut parts, log).await {
        Ok(identity) => identity,
        Err(refusal) => return refusal,
    };
    if let Some(authz) = &route.policies.authorization {
        let d = super::auth::authorize_request(&authz.rules, identity.as_ref(), &parts);
        if !d.allowed {
            log.note = Some(d.reason);
            return body::json(
                StatusCode::FORBIDDEN,
                &serde_json::json!({"error": "forbidden", "error_description": "denied by the route's authorization rules"}),
            );
        }
    }
    if let Some(m) = &route.policies.request_header_modifier {
        if let Err(e) = m.apply(&mut parts.headers) {
            return invalid_header(&e);
        }
    }
    if let Some(rr) = &route.policies.request_redirect {
        return super::rewrite::redirect(rr, &parts, matched_prefix);
    }
    if let Some(d) = &route.policies.direct_response {
        return direct_response(d);
    }
    match &route.backend {
        Backend::Mcp(ctx) => {
            mcp::handle(shared, route, listener_auth, ctx, parts, body, identity).await
        }
        Backend::Http(ups) => {
            let rewrite = route.policies.url_rewrite.as_ref();
            proxy::forward(shared, ups, rewrite, matched_prefix, parts, body).await
        }
        Backend::None => body::json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "not_found", "error_description": "the route has no backend"}),
        ),
    }
}

/// The listener's `jwtAuth` first, for every route, then the route's own authentication: the
/// caller's identity (each validated token is removed from the request), or the gateway's refusal.
async fn authenticate(
    shared: &Arc<Shared>,
    route: &RouteCtx,
    listener_auth: Option<&AuthCtx>,
    parts: &mut Parts,
    log: &mut ReqLog,
) -> Result<Option<Identity>, Response<Body>> {
    let mut identity = None;
    if let Some(a) = listener_auth {
        identity = run_auth(shared, a, parts, log, Some("listener jwtAuth"))
            .await
            .map_err(wellknown::jwt_unauthorized)?;
    }
    let Some(a) = &route.auth else {
        return Ok(identity);
    };
    if let (Some(m), Some(_)) = (a.mcp(), &identity) {
        // As the gateway: the token was already validated and removed before routing.
        log.note = Some("mcpAuthentication after a listener jwtAuth that removed the token".into());
        return Err(wellknown::unauthorized(m, parts, true));
    }
    match run_auth(shared, a, parts, log, None).await {
        Ok(found) => Ok(found.or(identity)),
        Err(invalid) => Err(match &a.kind {
            AuthKind::Mcp(m) => wellknown::unauthorized(m, parts, invalid),
            AuthKind::Jwt(_) => wellknown::jwt_unauthorized(invalid),
        }),
    }
}

/// One authentication policy on the request: the identity of a valid token (then removed from the
/// request), `None` when the policy lets the request through without one, or `Err(invalid)` when
/// the gateway refuses it (`invalid`: a token was sent and is not valid). `label` names a policy
/// other than the route's in the log.
async fn run_auth(
    shared: &Arc<Shared>,
    a: &AuthCtx,
    parts: &mut Parts,
    log: &mut ReqLog,
    label: Option<&str>,
) -> Result<Option<Identity>, bool> {
    let Some(token) = a.extract(parts) else {
        if a.mode != AuthMode::Strict {
            return Ok(None);
        }
        log.note = Some(label.map_or_else(|| "no token".into(), |l| format!("no token ({l})")));
        return Err(false);
    };
    match shared.verifier.verify(a, &token).await {
        Outcome::Valid(id) => {
            a.strip(parts);
            log.identity = Some(id.clone());
            Ok(Some(id))
        }
        Outcome::Invalid(reason) if a.mode == AuthMode::Permissive => {
            log.note = Some(format!("permissive: {reason}"));
            Ok(None)
        }
        Outcome::Invalid(reason) => {
            log.note = Some(label.map_or_else(|| reason.clone(), |l| format!("{l}: {reason}")));
            Err(true)
        }
    }
}

/// The route's `directResponse`: its status, headers and body, without a backend.
fn direct_response(d: &crate::config::policy::DirectResponse) -> Response<Body> {
    let status = d
        .status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let content = d
        .body
        .as_ref()
        .map(crate::config::policy::Body::to_bytes)
        .unwrap_or_default();
    let mut resp = Response::new(body::full(content));
    *resp.status_mut() = status;
    for (k, v) in &d.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// The `pathPrefix` of the match that selected `route` (no path condition counts as `/`), for
/// rewrites that replace it.
fn matched_prefix(route: &RouteCtx, req: &router::Request) -> Option<String> {
    let m = crate::config::routing::best_match(&route.matches, req)?;
    match &m.path {
        None => Some("/".into()),
        Some(p) => p.path_prefix.clone(),
    }
}

/// The answer to a request whose header modifier cannot be applied (the gateway fails it too).
fn invalid_header(why: &str) -> Response<Body> {
    body::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &serde_json::json!({"error": "invalid_header_modifier", "error_description": why}),
    )
}
