//! The file resolved once into what the gateway serves: every listener of `binds` and
//! `gateways`, with its port, the routes attached to it (a bind listener's own routes, the
//! top-level routes that name its gateway or `gateway/listener`) and whether the `mcp:`
//! shorthand is attached there; and the port the shorthand has of its own. Route selection
//! (`config::routing::select`, for `verify-token` and `--online`), the runtime's tables
//! (`serve::runtime`) and `agw compile` read this, so that they cannot disagree on where a route
//! is served. As the gateway's loader (`types/local.rs`) resolves it: top-level routes and the
//! shorthand attach by gateway reference only (the implicit `default` gateway is filled in by
//! [`Config::apply_implicit_default_gateway`]), and a shorthand without gateways listens on its
//! own port, 3000 unless `port`.

use std::borrow::Cow;

use super::listener::Listener;
use super::walk::{routes, RouteHome, RouteSite};
use super::{BindMode, Config};

/// The port the gateway gives the `mcp:` shorthand without `port` or `gateways`.
pub const SHORTHAND_PORT: u32 = 3000;

/// The prefixes the shorthand serves when it is attached to gateways (`mcp_matches`); on a port
/// of its own it serves every path.
pub const SHORTHAND_PREFIXES: [&str; 3] = ["/mcp", "/sse", "/.well-known"];

/// One listener as the gateway serves it.
#[derive(Debug, Clone)]
pub struct ListenerAt<'a> {
    pub port: Option<u32>,
    /// Where its keys are written: `/binds/0/listeners/1`, `/gateways/NAME/listeners/0`, or
    /// `/gateways/NAME` for a gateway without listeners.
    pub ptr: String,
    /// The `gateways` entry it belongs to; `None` for a bind's listener.
    pub gateway: Option<&'a str>,
    /// The listener (for a gateway, its effective listener: protocol and policies filled in).
    pub listener: Cow<'a, Listener>,
    /// An internal bind's listener: reached from other binds only, never by a client.
    pub internal: bool,
    /// Indexes into [`Topology::sites`] of the routes it serves, in file order.
    pub routes: Vec<usize>,
    /// Whether the `mcp:` shorthand is attached here (serving [`SHORTHAND_PREFIXES`]).
    pub shorthand: bool,
}

/// The resolved file.
#[derive(Debug, Clone)]
pub struct Topology<'a> {
    /// Every route of the file, in file order (`config::walk::routes`).
    pub sites: Vec<RouteSite<'a>>,
    pub listeners: Vec<ListenerAt<'a>>,
    /// The port of the shorthand when it is not attached to gateways.
    pub shorthand_port: Option<u32>,
}

/// Whether a gateway reference (`NAME` or `NAME/LISTENER`) names the listener `listener` of the
/// gateway `gateway`.
pub fn names_listener(reference: &str, gateway: &str, listener: Option<&str>) -> bool {
    match reference.split_once('/') {
        Some((g, l)) => g == gateway && listener == Some(l),
        None => reference == gateway,
    }
}

pub fn resolve(cfg: &Config) -> Topology<'_> {
    let sites = routes(cfg);
    let mut listeners = Vec::new();
    let mut of_listener: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, site) in sites.iter().enumerate() {
        if let (RouteHome::Bind { .. }, Some((listener, _))) =
            (&site.home, site.ptr.rsplit_once("/routes/"))
        {
            of_listener.entry(listener).or_default().push(i);
        }
    }
    for (bi, bind) in cfg.binds.iter().enumerate() {
        for (li, listener) in bind.listeners.iter().enumerate() {
            let ptr = format!("/binds/{bi}/listeners/{li}");
            let routes = of_listener.remove(ptr.as_str()).unwrap_or_default();
            listeners.push(ListenerAt {
                port: bind.port,
                ptr,
                gateway: None,
                listener: Cow::Borrowed(listener),
                internal: bind.mode == Some(BindMode::Internal),
                routes,
                shorthand: false,
            });
        }
    }
    let shorthand_refs: Vec<&str> = cfg
        .mcp
        .as_ref()
        .and_then(|m| m.gateways.as_ref())
        .map(|g| g.refs())
        .unwrap_or_default();
    for (gname, gw) in &cfg.gateways {
        let gptr = crate::source::yaml::push_token("/gateways", gname);
        for (li, listener) in gw.effective_listeners().into_iter().enumerate() {
            let name = listener.name.clone();
            let attached = |refs: &[&str]| {
                refs.iter()
                    .any(|r| names_listener(r, gname, name.as_deref()))
            };
            let routes = (0..sites.len())
                .filter(|&i| match &sites[i].home {
                    RouteHome::Gateways(refs) => attached(refs),
                    RouteHome::Bind { .. } => false,
                })
                .collect();
            let shorthand = attached(&shorthand_refs);
            listeners.push(ListenerAt {
                port: Some(gw.port),
                ptr: if gw.listeners.is_empty() {
                    gptr.clone()
                } else {
                    format!("{gptr}/listeners/{li}")
                },
                gateway: Some(gname),
                listener: Cow::Owned(listener),
                internal: false,
                routes,
                shorthand,
            });
        }
    }
    let shorthand_port = cfg
        .mcp
        .as_ref()
        .filter(|m| m.gateways.is_none())
        .map(|m| m.port.unwrap_or(SHORTHAND_PORT));
    Topology {
        sites,
        listeners,
        shorthand_port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: serde_json::Value) -> Config {
        let mut c: Config = serde_json::from_value(v).unwrap();
        c.apply_implicit_default_gateway();
        c
    }

    #[test]
    fn routes_attach_by_reference_and_the_shorthand_by_its_gateways() {
        let c = cfg(serde_json::json!({
            "binds": [{"port": 3000, "listeners": [{"routes": [{"name": "a"}]}]}],
            "gateways": {"pub": {"port": 8080, "listeners": [{"name": "one"}, {"name": "two"}]}},
            "routes": [{"name": "all", "gateways": "pub"}, {"name": "two", "gateways": "pub/two"}],
            "mcp": {"gateways": "pub/one", "targets": []}
        }));
        let t = resolve(&c);
        let names = |l: &ListenerAt| -> Vec<String> {
            l.routes
                .iter()
                .map(|&i| t.sites[i].route.name.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(t.listeners.len(), 3);
        assert_eq!(names(&t.listeners[0]), ["a"]);
        assert_eq!(t.listeners[1].ptr, "/gateways/pub/listeners/0");
        assert_eq!(names(&t.listeners[1]), ["all"]);
        assert_eq!(names(&t.listeners[2]), ["all", "two"]);
        assert!(t.listeners[1].shorthand && !t.listeners[2].shorthand);
        assert_eq!(t.shorthand_port, None);
    }

    #[test]
    fn a_shorthand_without_gateways_has_its_own_port_beside_other_gateways() {
        let c = cfg(serde_json::json!({
            "gateways": {"pub": {"port": 8080}},
            "mcp": {"targets": []}
        }));
        let t = resolve(&c);
        assert_eq!(t.shorthand_port, Some(SHORTHAND_PORT));
        assert!(!t.listeners[0].shorthand);
        let c = cfg(serde_json::json!({
            "gateways": {"default": {"port": 8080}},
            "mcp": {"targets": []}
        }));
        let t = resolve(&c);
        assert_eq!(t.shorthand_port, None);
        assert!(t.listeners[0].shorthand);
        assert_eq!(t.listeners[0].ptr, "/gateways/default");
    }
}
