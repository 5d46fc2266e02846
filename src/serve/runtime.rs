//! The runtime built from a checked [`Config`]: for every port, its listeners and their routes,
//! each route with its policies made ready to apply. Immutable; a reload builds a new one and
//! swaps it in whole.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::mcp::{McpBackend, PrefixMode, StatefulMode};
use crate::config::policy::authz::AuthzRule;
use crate::config::route::{PathMatch, RouteMatch};
use crate::config::{Config, Listener, Route, RoutePolicies};

use super::auth::AuthCtx;
use super::cors::CorsCtx;
use super::router;

/// Everything one version of the file serves.
pub struct Runtime {
    pub generation: u64,
    pub ports: BTreeMap<u16, PortTable>,
    /// Files the config reads at run time (JWKS `file:`); a change reloads.
    pub watched: Vec<PathBuf>,
    /// The top-level `backends` (remote MCP targets may name one).
    pub backends: Arc<Vec<crate::config::NamedBackend>>,
}

/// The listeners sharing one port.
#[derive(Default)]
pub struct PortTable {
    pub listeners: Vec<ListenerTable>,
}

pub struct ListenerTable {
    pub hostname: Option<String>,
    pub routes: Vec<Arc<RouteCtx>>,
    /// The `mcp:` shorthand attached to this listener's gateway (matches `/mcp`, `/sse` and
    /// `/.well-known` when no route does).
    pub shorthand: Option<Arc<RouteCtx>>,
}

/// One route, ready to serve.
pub struct RouteCtx {
    /// JSON pointer of the route in the file (`/binds/0/listeners/0/routes/1`, `/mcp`).
    pub ptr: String,
    /// The route's name, or its pointer.
    pub label: String,
    pub route: Route,
    pub matches: Vec<RouteMatch>,
    pub policies: RoutePolicies,
    pub auth: Option<Arc<AuthCtx>>,
    pub cors: Option<CorsCtx>,
    pub backend: Backend,
}

impl RouteCtx {
    pub fn mcp_authz(&self) -> &[AuthzRule] {
        self.policies
            .mcp_authorization
            .as_ref()
            .map(|a| a.rules.as_slice())
            .unwrap_or(&[])
    }
}

/// Where a route's requests go.
pub enum Backend {
    Mcp(Arc<McpCtx>),
    /// Plain HTTP upstreams (`host:` or a named `backend:`), by weight.
    Http(Vec<HttpUpstream>),
    /// Nothing to forward to: a policy answers, or 404.
    None,
}

pub struct HttpUpstream {
    /// `host:port`
    pub authority: String,
    pub weight: u64,
}

/// An MCP backend: its targets and how they are combined.
pub struct McpCtx {
    pub route_ptr: String,
    pub backend: McpBackend,
    /// Tool and prompt names carry `<target>_` prefixes.
    pub prefix: bool,
    pub stateless: bool,
}

impl McpCtx {
    fn new(route_ptr: String, backend: McpBackend) -> McpCtx {
        let prefix = match backend.prefix_mode.unwrap_or_default() {
            PrefixMode::Always => true,
            PrefixMode::Never => false,
            PrefixMode::Conditional => backend.targets.len() > 1,
        };
        let stateless = backend.stateful_mode == Some(StatefulMode::Stateless);
        McpCtx {
            route_ptr,
            backend,
            prefix,
            stateless,
        }
    }
}

/// Why a runtime could not be built from a config that passed `check`.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Invalid(String),
}

impl Runtime {
    /// Builds the runtime for `cfg`. `root` resolves relative files (a JWKS `file:`).
    pub fn build(
        cfg: &Config,
        generation: u64,
        root: &std::path::Path,
    ) -> Result<Runtime, BuildError> {
        let mut b = Builder {
            cfg,
            root,
            watched: Vec::new(),
        };
        let mut ports: BTreeMap<u16, PortTable> = BTreeMap::new();
        for (bi, bind) in cfg.binds.iter().enumerate() {
            if bind.mode == Some(crate::config::BindMode::Internal) {
                continue;
            }
            let Some(port) = bind.port else { continue };
            let port = port_u16(port)?;
            let table = ports.entry(port).or_default();
            for (li, listener) in bind.listeners.iter().enumerate() {
                let mut routes = Vec::new();
                for (ri, route) in listener.routes.iter().flatten().enumerate() {
                    let ptr = format!("/binds/{bi}/listeners/{li}/routes/{ri}");
                    routes.push(Arc::new(b.route(ptr, route.clone(), None)?));
                }
                table.listeners.push(ListenerTable {
                    hostname: listener.hostname.clone(),
                    routes,
                    shorthand: None,
                });
            }
        }
        for (gname, gw) in &cfg.gateways {
            let port = port_u16(gw.port)?;
            let implicit = [Listener::default()];
            let listeners: &[Listener] = if gw.listeners.is_empty() {
                &implicit
            } else {
                &gw.listeners
            };
            let mut tables = Vec::new();
            for listener in listeners {
                let mut routes = Vec::new();
                for (ri, tr) in cfg.routes.iter().enumerate() {
                    let attached = tr.gateways.refs().iter().any(|r| match r.split_once('/') {
                        Some((g, l)) => g == gname && listener.name.as_deref() == Some(l),
                        None => *r == gname,
                    });
                    if attached {
                        routes.push(Arc::new(b.route(
                            format!("/routes/{ri}"),
                            tr.as_route(),
                            None,
                        )?));
                    }
                }
                let shorthand = match cfg.mcp.as_ref() {
                    Some(m)
                        if m.gateways.as_ref().is_some_and(|g| {
                            g.refs().iter().any(|r| match r.split_once('/') {
                                Some((g, l)) => g == gname && listener.name.as_deref() == Some(l),
                                None => *r == gname,
                            })
                        }) =>
                    {
                        let prefixes = ["/mcp", "/sse", "/.well-known"];
                        Some(Arc::new(b.shorthand(m, &prefixes)?))
                    }
                    _ => None,
                };
                tables.push(ListenerTable {
                    hostname: listener.hostname.clone(),
                    routes,
                    shorthand,
                });
            }
            ports.entry(port).or_default().listeners.extend(tables);
        }
        if let Some(m) = cfg.mcp.as_ref().filter(|m| m.gateways.is_none()) {
            let port = port_u16(m.port.unwrap_or(3000))?;
            let route = b.shorthand(m, &["/"])?;
            ports
                .entry(port)
                .or_default()
                .listeners
                .push(ListenerTable {
                    hostname: None,
                    routes: vec![Arc::new(route)],
                    shorthand: None,
                });
        }
        let watched = b.watched;
        Ok(Runtime {
            generation,
            ports,
            watched,
            backends: Arc::new(cfg.backends.clone()),
        })
    }

    /// The route serving a request on `port`, after the listener is chosen by hostname.
    pub fn select(&self, port: u16, req: &router::Request) -> Option<Arc<RouteCtx>> {
        let table = self.ports.get(&port)?;
        let listener = router::pick_listener(&table.listeners, req.host)?;
        router::select(&listener.routes, listener.shorthand.as_ref(), req)
    }
}

fn port_u16(p: u32) -> Result<u16, BuildError> {
    u16::try_from(p).map_err(|_| BuildError::Invalid(format!("port {p} is out of range")))
}

struct Builder<'a> {
    cfg: &'a Config,
    root: &'a std::path::Path,
    watched: Vec<PathBuf>,
}

impl Builder<'_> {
    fn route(
        &mut self,
        ptr: String,
        route: Route,
        shorthand: Option<&McpBackend>,
    ) -> Result<RouteCtx, BuildError> {
        let policies = route.policies.clone().unwrap_or_default();
        let auth = AuthCtx::from_policies(&policies, &ptr, self.root)
            .map_err(BuildError::Invalid)?
            .map(Arc::new);
        if let Some(a) = &auth {
            self.watched.extend(a.watched_files());
        }
        let cors = policies.cors.as_ref().map(CorsCtx::new);
        let backend = if let Some(m) = shorthand {
            Backend::Mcp(Arc::new(McpCtx::new(ptr.clone(), m.clone())))
        } else if let Some(m) = route.backends.iter().find_map(|b| b.mcp.as_ref()) {
            Backend::Mcp(Arc::new(McpCtx::new(ptr.clone(), m.clone())))
        } else {
            let mut ups = Vec::new();
            for b in &route.backends {
                let authority = if let Some(h) = &b.host {
                    Some(h.clone())
                } else if let Some(name) = &b.backend {
                    self.cfg
                        .backends
                        .iter()
                        .find(|nb| &nb.name == name)
                        .map(|nb| nb.host.clone())
                } else {
                    None
                };
                if let Some(authority) = authority {
                    ups.push(HttpUpstream {
                        authority,
                        weight: b.weight,
                    });
                }
            }
            if ups.is_empty() {
                Backend::None
            } else {
                Backend::Http(ups)
            }
        };
        let label = match &route.name {
            Some(n) => n.clone(),
            None => ptr.clone(),
        };
        Ok(RouteCtx {
            matches: route.effective_matches(),
            label,
            ptr,
            route,
            policies,
            auth,
            cors,
            backend,
        })
    }

    fn shorthand(
        &mut self,
        m: &crate::config::McpShorthand,
        prefixes: &[&str],
    ) -> Result<RouteCtx, BuildError> {
        let route = Route {
            name: Some("mcp".into()),
            matches: Some(
                prefixes
                    .iter()
                    .map(|p| RouteMatch {
                        path: Some(PathMatch {
                            path_prefix: Some((*p).into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
            policies: m.policies.clone(),
            ..Default::default()
        };
        let backend = m.backend();
        let mut ctx = self.route("/mcp".into(), route, Some(&backend))?;
        ctx.label = "mcp".into();
        Ok(ctx)
    }
}
