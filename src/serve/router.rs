//! Picks the listener by hostname, then the route by the precedence of SPEC §2 as
//! `config::routing` ranks it (the same ranking `verify-token --route` uses).

use std::sync::Arc;

use super::runtime::{ListenerTable, RouteCtx};
use crate::config::routing;

/// The parts of a request that select a listener and a route (shared with `verify-token`).
pub use crate::config::routing::Request;

/// The listener for `host`: an exact hostname first, then the longest matching wildcard, then
/// one without a hostname.
pub fn pick_listener<'t>(
    listeners: &'t [ListenerTable],
    host: Option<&str>,
) -> Option<&'t ListenerTable> {
    let host = host.map(strip_port);
    let mut best: Option<(usize, &ListenerTable)> = None;
    for l in listeners {
        let score = match (&l.hostname, host) {
            (None, _) => 1,
            (Some(h), Some(req)) if !h.starts_with("*.") && h.eq_ignore_ascii_case(req) => {
                usize::MAX
            }
            (Some(h), Some(req)) if h.starts_with("*.") && host_matches(h, req) => 2 + h.len(),
            _ => 0,
        };
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, l));
        }
    }
    best.map(|(_, l)| l)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| &h[1..]).unwrap_or(host);
    }
    host.rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(host)
}

/// Hostname matching with `*.example.com` wildcards (one or more labels).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    routing::host_matches(pattern, strip_port(host))
}

/// The route for `req` among a listener's routes, or the attached shorthand when none matches.
pub fn select(
    routes: &[Arc<RouteCtx>],
    shorthand: Option<&Arc<RouteCtx>>,
    req: &Request,
) -> Option<Arc<RouteCtx>> {
    let r = req;
    let mut best: Option<(routing::Rank, usize)> = None;
    for (i, rc) in routes.iter().enumerate() {
        if let Some(host) = req.host {
            if !rc.route.hostnames.is_empty()
                && !rc.route.hostnames.iter().any(|h| host_matches(h, host))
            {
                continue;
            }
        }
        if let Some(rank) = routing::route_rank(&rc.matches, r) {
            if best.as_ref().is_none_or(|(b, _)| rank < *b) {
                best = Some((rank, i));
            }
        }
    }
    if let Some((_, i)) = best {
        return Some(routes[i].clone());
    }
    let sh = shorthand?;
    routing::route_rank(&sh.matches, r).map(|_| sh.clone())
}
