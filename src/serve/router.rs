//! Picks the listener by hostname and the route by the precedence of SPEC §2.

use std::sync::Arc;

use super::runtime::{ListenerTable, RouteCtx};

/// The parts of a request that select a listener and a route.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// The `Host` (any port is ignored).
    pub host: Option<&'a str>,
    pub path: &'a str,
    pub method: &'a str,
    pub headers: &'a [(String, String)],
    /// Query parameters, decoded.
    pub query: &'a [(String, String)],
}

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
    shared::host_matches(pattern, strip_port(host))
}

/// The route for `req` among a listener's routes, or the attached shorthand when none matches.
pub fn select(
    routes: &[Arc<RouteCtx>],
    shorthand: Option<&Arc<RouteCtx>>,
    req: &Request,
) -> Option<Arc<RouteCtx>> {
    let r = req;
    let mut best: Option<(shared::Rank, usize)> = None;
    for (i, rc) in routes.iter().enumerate() {
        if let Some(host) = req.host {
            if !rc.route.hostnames.is_empty()
                && !rc.route.hostnames.iter().any(|h| host_matches(h, host))
            {
                continue;
            }
        }
        if let Some(rank) = shared::route_rank(&rc.matches, r) {
            if best.as_ref().is_none_or(|(b, _)| rank < *b) {
                best = Some((rank, i));
            }
        }
    }
    if let Some((_, i)) = best {
        return Some(routes[i].clone());
    }
    let sh = shorthand?;
    shared::route_rank(&sh.matches, r).map(|_| sh.clone())
}

/// Stand-in for the shared route precedence of `config::routing` (arrives with the token
/// branch); replaced by it on merge so that `verify-token` and `serve` agree.
mod shared {
    use crate::config::route::{RouteMatch, ValueMatch};

    pub use super::Request;

    /// Lower wins: path kind, prefix length, method, header and query counts.
    pub type Rank = (u8, usize, u8, usize, usize);

    pub fn host_matches(pattern: &str, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => pattern == host,
        }
    }

    fn prefix_matches(prefix: &str, path: &str) -> bool {
        let p = prefix.trim_end_matches('/');
        p.is_empty() || path == p || (path.starts_with(p) && path[p.len()..].starts_with('/'))
    }

    fn value_ok(m: &ValueMatch, v: Option<&str>) -> bool {
        matches!((&m.exact, v), (Some(e), Some(v)) if e == v)
    }

    pub fn route_rank(matches: &[RouteMatch], req: &Request) -> Option<Rank> {
        matches
            .iter()
            .filter_map(|m| {
                let (kind, len) = match &m.path {
                    None => (1, usize::MAX - 1),
                    Some(p) => {
                        if let Some(e) = &p.exact {
                            if e != req.path {
                                return None;
                            }
                            (0, 0)
                        } else if let Some(pre) = &p.path_prefix {
                            if !prefix_matches(pre, req.path) {
                                return None;
                            }
                            (1, usize::MAX - pre.len())
                        } else {
                            return None;
                        }
                    }
                };
                if m.method
                    .as_ref()
                    .is_some_and(|x| !x.eq_ignore_ascii_case(req.method))
                {
                    return None;
                }
                for h in &m.headers {
                    let v = req
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&h.name));
                    if !value_ok(&h.value, v.map(|(_, v)| v.as_str())) {
                        return None;
                    }
                }
                for q in &m.query {
                    let v = req.query.iter().find(|(k, _)| *k == q.name);
                    if !value_ok(&q.value, v.map(|(_, v)| v.as_str())) {
                        return None;
                    }
                }
                Some((
                    kind,
                    len,
                    u8::from(m.method.is_none()),
                    usize::MAX - m.headers.len(),
                    usize::MAX - m.query.len(),
                ))
            })
            .min()
    }
}
