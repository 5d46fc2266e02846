//! Enumerates the places of a config that rules and the runtime look at, each with its JSON
//! pointer so that findings can be shown at the right line.

use std::borrow::Cow;

use super::listener::Listener;
use super::policy::RoutePolicies;
use super::route::{GatewayRefs, Route};
use super::Config;

/// Where a route lives.
#[derive(Debug, Clone)]
pub enum RouteHome<'a> {
    /// `binds[i].listeners[j].routes[k]`
    Bind {
        port: Option<u32>,
        listener: &'a Listener,
    },
    /// top-level `routes[k]`, attached to gateways by name.
    Gateways(Vec<&'a str>),
}

/// One route with its pointer (`/binds/0/listeners/0/routes/2`).
#[derive(Debug, Clone)]
pub struct RouteSite<'a> {
    pub ptr: String,
    pub route: Cow<'a, Route>,
    pub home: RouteHome<'a>,
}

/// Every route of the file, in file order. The `mcp:` shorthand is not a route.
pub fn routes(cfg: &Config) -> Vec<RouteSite<'_>> {
    let mut out = Vec::new();
    for (bi, bind) in cfg.binds.iter().enumerate() {
        for (li, listener) in bind.listeners.iter().enumerate() {
            for (ri, route) in listener.routes.iter().flatten().enumerate() {
                out.push(RouteSite {
                    ptr: format!("/binds/{bi}/listeners/{li}/routes/{ri}"),
                    route: Cow::Borrowed(route),
                    home: RouteHome::Bind {
                        port: bind.port,
                        listener,
                    },
                });
            }
        }
    }
    for (ri, route) in cfg.routes.iter().enumerate() {
        out.push(RouteSite {
            ptr: format!("/routes/{ri}"),
            route: Cow::Owned(route.as_route()),
            home: RouteHome::Gateways(
                route
                    .gateways
                    .as_ref()
                    .map(GatewayRefs::refs)
                    .unwrap_or_default(),
            ),
        });
    }
    out
}

/// One `policies` block of route level, with its pointer and the route pointer it belongs to
/// (`None` for the `mcp:` shorthand and for top-level `policies[]`).
#[derive(Debug, Clone)]
pub struct PolicySite<'a> {
    pub ptr: String,
    pub policies: &'a RoutePolicies,
    pub route_ptr: Option<String>,
}

pub fn route_policies(cfg: &Config) -> Vec<PolicySite<'_>> {
    let mut out = Vec::new();
    for (bi, bind) in cfg.binds.iter().enumerate() {
        for (li, listener) in bind.listeners.iter().enumerate() {
            for (ri, route) in listener.routes.iter().flatten().enumerate() {
                if let Some(p) = &route.policies {
                    let route_ptr = format!("/binds/{bi}/listeners/{li}/routes/{ri}");
                    out.push(PolicySite {
                        ptr: format!("{route_ptr}/policies"),
                        policies: p,
                        route_ptr: Some(route_ptr),
                    });
                }
            }
        }
    }
    for (ri, route) in cfg.routes.iter().enumerate() {
        if let Some(p) = &route.policies {
            out.push(PolicySite {
                ptr: format!("/routes/{ri}/policies"),
                policies: p,
                route_ptr: Some(format!("/routes/{ri}")),
            });
        }
    }
    if let Some(p) = cfg.mcp.as_ref().and_then(|m| m.policies.as_ref()) {
        out.push(PolicySite {
            ptr: "/mcp/policies".into(),
            policies: p,
            route_ptr: None,
        });
    }
    for (pi, tp) in cfg.policies.iter().enumerate() {
        out.push(PolicySite {
            ptr: format!("/policies/{pi}/policy"),
            policies: &tp.policy,
            route_ptr: None,
        });
    }
    out
}
