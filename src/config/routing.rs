//! Which route serves a request, with the gateway's precedence (SPEC §2): an exact path before
//! a prefix (longer first) before a regex, then a match with a method, then more header matches,
//! then more query matches; file order breaks ties. `pathPrefix` matches on segment boundaries
//! and a regex must match the whole path.

use super::mcp::McpShorthand;
use super::policy::RoutePolicies;
use super::route::{PathMatch, RouteMatch, ValueMatch};
use super::walk::{routes, RouteHome, RouteSite};
use super::Config;

/// The parts of a request that select a route.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// The `Host` (a port is ignored); `None` matches any hostname.
    pub host: Option<&'a str>,
    pub path: &'a str,
    pub method: &'a str,
    pub headers: &'a [(String, String)],
    /// Query parameters, decoded.
    pub query: &'a [(String, String)],
}

/// Where a request lands.
#[derive(Debug, Clone)]
pub enum Selected<'a> {
    Route(Box<RouteSite<'a>>),
    /// The top-level `mcp:` shorthand.
    Shorthand(&'a McpShorthand),
}

impl Selected<'_> {
    pub fn policies(&self) -> Option<&RoutePolicies> {
        match self {
            Selected::Route(r) => r.route.policies.as_deref(),
            Selected::Shorthand(m) => m.policies.as_deref(),
        }
    }

    /// JSON pointer of the route (or `/mcp`).
    pub fn ptr(&self) -> String {
        match self {
            Selected::Route(r) => r.ptr.clone(),
            Selected::Shorthand(_) => "/mcp".into(),
        }
    }

    /// A short name for people: the route's name, or its pointer.
    pub fn label(&self) -> String {
        match self {
            Selected::Route(r) => match &r.route.name {
                Some(n) => format!("route `{n}` at {}", r.ptr),
                None => format!("route {}", r.ptr),
            },
            Selected::Shorthand(_) => "the `mcp:` shorthand".into(),
        }
    }

    /// The MCP target names behind this route, in order.
    pub fn mcp_targets(&self) -> Vec<String> {
        match self {
            Selected::Route(r) => r
                .route
                .backends
                .iter()
                .filter_map(|b| b.mcp.as_ref())
                .flat_map(|m| m.targets.iter().map(|t| t.name.clone()))
                .collect(),
            Selected::Shorthand(m) => m.targets.iter().map(|t| t.name.clone()).collect(),
        }
    }
}

/// The rank of a match that applies (lower wins).
pub type Rank = (u8, usize, u8, usize, usize);

/// The best rank among a route's `matches` for `req`, or `None` when none applies (the
/// runtime ranks the routes of one listener with it).
pub fn route_rank(matches: &[RouteMatch], req: &Request) -> Option<Rank> {
    matches.iter().filter_map(|m| match_rank(m, req)).min()
}

/// The match of `matches` that selects `req` (the best ranked one), e.g. for the prefix a
/// `urlRewrite` replaces.
pub fn best_match<'m>(matches: &'m [RouteMatch], req: &Request) -> Option<&'m RouteMatch> {
    matches
        .iter()
        .filter_map(|m| match_rank(m, req).map(|r| (r, m)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, m)| m)
}

/// Compiled once per pattern (anchored to match the whole value); an invalid one is `None`.
fn whole_match_regex(r: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = c.get(r) {
        return re.clone();
    }
    if c.len() > 4096 {
        c.clear();
    }
    let re = regex::Regex::new(&format!("^(?:{r})$")).ok();
    c.insert(r.to_string(), re.clone());
    re
}

fn path_rank(pm: Option<&PathMatch>, path: &str) -> Option<(u8, usize)> {
    let Some(pm) = pm else {
        return Some((1, usize::MAX - 1)); // no path condition: like `pathPrefix: /`
    };
    if let Some(e) = &pm.exact {
        return (e == path).then_some((0, 0));
    }
    if let Some(p) = &pm.path_prefix {
        return prefix_matches(p, path).then_some((1, usize::MAX - p.len()));
    }
    if let Some(r) = &pm.regex {
        let re = whole_match_regex(r)?;
        return re.is_match(path).then_some((2, 0));
    }
    None
}

/// `pathPrefix` on segment boundaries: `/mcp` matches `/mcp` and `/mcp/x`, not `/mcpx`.
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        return path.starts_with('/') || path.is_empty();
    }
    path == p || (path.starts_with(p) && path[p.len()..].starts_with('/'))
}

fn value_matches(m: &ValueMatch, v: Option<&str>) -> bool {
    let Some(v) = v else { return false };
    if let Some(e) = &m.exact {
        return e == v;
    }
    if let Some(r) = &m.regex {
        return whole_match_regex(r).is_some_and(|re| re.is_match(v));
    }
    false
}

fn match_rank(m: &RouteMatch, req: &Request) -> Option<Rank> {
    let (kind, len) = path_rank(m.path.as_ref(), req.path)?;
    if let Some(method) = &m.method {
        if !method.eq_ignore_ascii_case(req.method) {
            return None;
        }
    }
    for h in &m.headers {
        let v = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&h.name))
            .map(|(_, v)| v.as_str());
        if !value_matches(&h.value, v) {
            return None;
        }
    }
    for q in &m.query {
        let v = req
            .query
            .iter()
            .find(|(k, _)| *k == q.name)
            .map(|(_, v)| v.as_str());
        if !value_matches(&q.value, v) {
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
}

/// Hostname matching with `*.example.com` wildcards (one or more labels).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

fn hosts_ok(site: &RouteSite, host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    if let RouteHome::Bind { listener, .. } = &site.home {
        if let Some(h) = &listener.hostname {
            if !host_matches(h, host) {
                return false;
            }
        }
    }
    site.route.hostnames.is_empty() || site.route.hostnames.iter().any(|h| host_matches(h, host))
}

/// The route that serves `req`, or the `mcp:` shorthand when no route does and the shorthand
/// would (every path on its own port; `/mcp`, `/sse` and `/.well-known` when on gateways).
pub fn select<'a>(cfg: &'a Config, req: &Request) -> Option<Selected<'a>> {
    let mut best: Option<(Rank, usize, RouteSite<'a>)> = None;
    for (i, site) in routes(cfg).into_iter().enumerate() {
        if !hosts_ok(&site, req.host) {
            continue;
        }
        let rank = route_rank(&site.route.effective_matches(), req);
        if let Some(rank) = rank {
            if best.as_ref().is_none_or(|(r, j, _)| (rank, i) < (*r, *j)) {
                best = Some((rank, i, site));
            }
        }
    }
    if let Some((_, _, site)) = best {
        return Some(Selected::Route(Box::new(site)));
    }
    let m = cfg.mcp.as_ref()?;
    let ok = m.gateways.is_none()
        || ["/mcp", "/sse", "/.well-known"]
            .iter()
            .any(|p| prefix_matches(p, req.path));
    ok.then_some(Selected::Shorthand(m))
}

/// The route serving `host`, `path` and `method` (no header or query conditions).
pub fn select_route<'a>(
    cfg: &'a Config,
    host: Option<&str>,
    path: &str,
    method: &str,
) -> Option<Selected<'a>> {
    select(
        cfg,
        &Request {
            host,
            path,
            method,
            ..Default::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml_routes: serde_json::Value) -> Config {
        serde_json::from_value(serde_json::json!({
            "binds": [{"port": 3000, "listeners": [{"routes": yaml_routes}]}]
        }))
        .unwrap()
    }

    fn name(s: Option<Selected>) -> Option<String> {
        match s? {
            Selected::Route(r) => r.route.name.clone(),
            Selected::Shorthand(_) => Some("shorthand".into()),
        }
    }

    #[test]
    fn precedence() {
        let c = cfg(serde_json::json!([
            {"name": "root", "backends": []},
            {"name": "regex", "matches": [{"path": {"regex": "/mcp/.*"}}]},
            {"name": "prefix", "matches": [{"path": {"pathPrefix": "/mcp"}}]},
            {"name": "longer", "matches": [{"path": {"pathPrefix": "/mcp/admin"}}]},
            {"name": "exact", "matches": [{"path": {"exact": "/mcp"}}]},
            {"name": "post", "matches": [{"path": {"pathPrefix": "/mcp"}, "method": "POST"}]},
        ]));
        let sel = |p: &str, m: &str| name(select_route(&c, None, p, m));
        assert_eq!(sel("/mcp", "GET").as_deref(), Some("exact"));
        assert_eq!(sel("/mcp/x", "GET").as_deref(), Some("prefix"));
        assert_eq!(sel("/mcp/x", "POST").as_deref(), Some("post"));
        assert_eq!(sel("/mcp/admin/y", "GET").as_deref(), Some("longer"));
        assert_eq!(sel("/mcpx", "GET").as_deref(), Some("root"));
        assert_eq!(sel("/other", "GET").as_deref(), Some("root"));
    }

    #[test]
    fn regex_must_match_whole_path() {
        let c = cfg(serde_json::json!([
            {"name": "re", "matches": [{"path": {"regex": "/a[0-9]"}}]},
        ]));
        assert_eq!(
            name(select_route(&c, None, "/a1", "GET")).as_deref(),
            Some("re")
        );
        assert_eq!(name(select_route(&c, None, "/a1/x", "GET")), None);
    }

    #[test]
    fn prefixes_and_hosts() {
        assert!(prefix_matches("/mcp", "/mcp"));
        assert!(prefix_matches("/mcp/", "/mcp/x"));
        assert!(!prefix_matches("/mcp", "/mcpx"));
        assert!(prefix_matches("/", "/anything"));
        assert!(host_matches("*.example.com", "a.b.example.com:8080"));
        assert!(!host_matches("*.example.com", "example.com"));
    }

    #[test]
    fn shorthand() {
        let c: Config = serde_json::from_value(serde_json::json!({
            "mcp": {"targets": [{"name": "t", "stdio": {"cmd": "x"}}]}
        }))
        .unwrap();
        assert_eq!(
            name(select_route(&c, None, "/anything", "POST")).as_deref(),
            Some("shorthand")
        );
    }
}
