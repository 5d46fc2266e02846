//! Which route serves a request, with the gateway's precedence (SPEC §2): an exact path before
//! a prefix (longer first) before a regex, then a match with a method, then more header matches,
//! then more query matches; file order breaks ties. `pathPrefix` matches on segment boundaries
//! and a regex must match the whole path.

use super::mcp::McpShorthand;
use super::policy::RoutePolicies;
use super::route::{PathMatch, RouteMatch, ValueMatch};
use super::topology::{self, ListenerAt};
use super::walk::RouteSite;
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

/// Compiled once per pattern, as written; an invalid one is `None`.
fn compiled(r: &str) -> Option<regex::Regex> {
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
    let re = regex::Regex::new(r).ok();
    c.insert(r.to_string(), re.clone());
    re
}

/// Whether a path, header or query regex selects `value`, as the gateway's route matcher decides
/// it (agentgateway `crates/agentgateway/src/http/route.rs`, `matches_request`, and
/// `HeaderValueMatch::matches`): the leftmost match must cover the whole value. This is not
/// `^(?:r)$`: for `/a|/a/b` the leftmost match of `/a/b` is `/a`, so the gateway does not select
/// it.
pub fn regex_covers(re: &regex::Regex, value: &str) -> bool {
    re.find(value)
        .is_some_and(|m| m.start() == 0 && m.end() == value.len())
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
        let re = compiled(r)?;
        return regex_covers(&re, path).then_some((2, 0));
    }
    None
}

/// Whether the path condition of a match (none: any path) selects `path`, the one test of a
/// path that route selection, the rules and the runtime share.
pub fn path_matches(pm: Option<&PathMatch>, path: &str) -> bool {
    path_rank(pm, path).is_some()
}

/// `pathPrefix` on segment boundaries: `/mcp` matches `/mcp`, `/mcp/` and `/mcp/x`, not
/// `/mcpx`. Trailing slashes of both are ignored, as in agentgateway
/// `crates/agentgateway/src/http/route.rs` (`PathMatch::PathPrefix` of the route matcher).
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    path.trim_end_matches('/')
        .strip_prefix(p)
        .is_some_and(|suffix| suffix.is_empty() || suffix.starts_with('/'))
}

fn value_matches(m: &ValueMatch, v: Option<&str>) -> bool {
    let Some(v) = v else { return false };
    if let Some(e) = &m.exact {
        return e == v;
    }
    if let Some(r) = &m.regex {
        return compiled(r).is_some_and(|re| regex_covers(&re, v));
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

/// The host of a `Host` value without its port (`[::1]:3000` -> `::1`, `a.test:80` -> `a.test`).
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(host)
}

/// Hostname matching with `*.example.com` wildcards (one or more labels); a port on `host` is
/// ignored.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = strip_port(host).to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// How well a listener's `hostname` serves `host` (higher wins, 0 never): an exact hostname
/// first, then the longest matching wildcard, then a listener without a hostname. The gateway
/// picks the listener of a port this way before it ranks that listener's routes.
pub fn listener_score(hostname: Option<&str>, host: Option<&str>) -> usize {
    let host = host.map(strip_port);
    match (hostname, host) {
        (None, _) => 1,
        (Some(h), Some(req)) if !h.starts_with("*.") && h.eq_ignore_ascii_case(req) => usize::MAX,
        (Some(h), Some(req)) if h.starts_with("*.") && host_matches(h, req) => 2 + h.len(),
        _ => 0,
    }
}

/// The listener among `listeners` that serves `host`: the best [`listener_score`], the first of
/// equal ones; `None` when no listener serves it. `hostname` says a listener's hostname.
pub fn pick_listener<'l, L>(
    listeners: impl IntoIterator<Item = &'l L>,
    hostname: impl Fn(&L) -> Option<&str>,
    host: Option<&str>,
) -> Option<&'l L> {
    let mut best: Option<(usize, &L)> = None;
    for l in listeners {
        let score = listener_score(hostname(l), host);
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, l));
        }
    }
    best.map(|(_, l)| l)
}

/// Whether a route's `hostnames` admit `host` (no hostnames, or no host: any).
pub fn route_hostnames_match(hostnames: &[String], host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    hostnames.is_empty() || hostnames.iter().any(|h| host_matches(h, host))
}

/// The route that serves `req`, or the `mcp:` shorthand when no route does and the shorthand
/// would (every path on its own port; `/mcp`, `/sse` and `/.well-known` when on gateways). On
/// each port the listener is chosen by hostname first ([`listener_score`]), as the gateway and
/// `agw serve` choose it; then the routes of the chosen listeners are ranked.
pub fn select<'a>(cfg: &'a Config, req: &Request) -> Option<Selected<'a>> {
    let t = topology::resolve(cfg);
    // an internal bind is reached only from other binds, never by a client's request
    let all: Vec<&ListenerAt> = t.listeners.iter().filter(|l| !l.internal).collect();
    let chosen: Vec<&ListenerAt> = if req.host.is_none() {
        // without a host (`verify-token` without `--host`) the request may reach any listener
        all
    } else {
        let mut ports: Vec<Option<u32>> = Vec::new();
        for l in &all {
            if !ports.contains(&l.port) {
                ports.push(l.port);
            }
        }
        ports
            .into_iter()
            .filter_map(|p| {
                let on_port = all.iter().copied().filter(|l| l.port == p);
                pick_listener(on_port, |l| l.listener.hostname.as_deref(), req.host)
            })
            .collect()
    };
    let mut best: Option<(Rank, usize)> = None;
    for i in chosen.iter().flat_map(|l| l.routes.iter().copied()) {
        let site = &t.sites[i];
        if !route_hostnames_match(&site.route.hostnames, req.host) {
            continue;
        }
        if let Some(rank) = route_rank(&site.route.effective_matches(), req) {
            if best.is_none_or(|(r, j)| (rank, i) < (r, j)) {
                best = Some((rank, i));
            }
        }
    }
    if let Some((_, i)) = best {
        let site = t.sites.into_iter().nth(i)?;
        return Some(Selected::Route(Box::new(site)));
    }
    let m = cfg.mcp.as_ref()?;
    let ok = m.gateways.is_none()
        || topology::SHORTHAND_PREFIXES
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
        // the leftmost match must cover the path, as in the gateway: `/a` is found first
        let c = cfg(serde_json::json!([
            {"name": "alt", "matches": [{"path": {"regex": "/a|/a/b"}}]},
        ]));
        assert_eq!(name(select_route(&c, None, "/a/b", "GET")), None);
        assert_eq!(
            name(select_route(&c, None, "/a", "GET")).as_deref(),
            Some("alt")
        );
        let re = regex::Regex::new("[a-z]+|[a-z]+-[0-9]").unwrap();
        assert!(regex_covers(&re, "tenant"));
        assert!(!regex_covers(&re, "tenant-1"));
    }

    #[test]
    fn prefixes_and_hosts() {
        assert!(prefix_matches("/mcp", "/mcp"));
        assert!(prefix_matches("/mcp/", "/mcp/x"));
        assert!(!prefix_matches("/mcp", "/mcpx"));
        assert!(prefix_matches("/", "/anything"));
        assert!(prefix_matches("/mcp", "/mcp/"));
        assert!(prefix_matches("/", ""));
        assert!(!prefix_matches("/mcp", "/mcpx/"));
        assert!(host_matches("*.example.com", "a.b.example.com:8080"));
        assert!(!host_matches("*.example.com", "example.com"));
    }

    #[test]
    fn the_listener_is_chosen_by_hostname_before_the_route() {
        // one port, two listeners: without hostname an exact `/mcp`, with `api.example.test` a
        // prefix `/mcp`; the named listener serves its host, whatever the routes' ranks
        let c: Config = serde_json::from_value(serde_json::json!({"binds": [{"port": 3000, "listeners": [
            {"routes": [{"name": "a", "matches": [{"path": {"exact": "/mcp"}}]}]},
            {"hostname": "api.example.test", "routes": [{"name": "b", "matches": [{"path": {"pathPrefix": "/mcp"}}]}]}
        ]}]}))
        .unwrap();
        let sel = |h: Option<&str>| name(select_route(&c, h, "/mcp", "GET"));
        assert_eq!(sel(Some("api.example.test")).as_deref(), Some("b"));
        assert_eq!(sel(Some("API.example.test:3000")).as_deref(), Some("b"));
        assert_eq!(sel(Some("other.test")).as_deref(), Some("a"));
        assert_eq!(
            listener_score(Some("*.example.test"), Some("[::1]:3000")),
            0
        );
        assert_eq!(strip_port("[::1]:3000"), "::1");
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
