//! Picks the listener by hostname, then the route by the precedence of SPEC §2 as
//! `config::routing` ranks it (the same ranking `verify-token --route` uses).

use std::sync::Arc;

use super::runtime::{ListenerTable, RouteCtx};
use crate::config::routing;

/// The parts of a request that select a listener and a route (shared with `verify-token`).
pub use crate::config::routing::Request;

/// The listener for `host`, as `config::routing::pick_listener` picks it.
pub fn pick_listener<'t>(
    listeners: &'t [ListenerTable],
    host: Option<&str>,
) -> Option<&'t ListenerTable> {
    routing::pick_listener(listeners, |l| l.hostname.as_deref(), host)
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
        if !routing::route_hostnames_match(&rc.route.hostnames, req.host) {
            continue;
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
