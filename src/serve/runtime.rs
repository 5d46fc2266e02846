//! The runtime built from a checked [`Config`]: for every port, its listeners and their routes,
//! each route with its policies made ready to apply. Immutable; a reload builds a new one and
//! swaps it in whole.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::mcp::{McpBackend, PrefixMode, StatefulMode};
use crate::config::policy::auth::AuthMode;
use crate::config::policy::authz::AuthzRule;
use crate::config::route::{PathMatch, RouteMatch};
use crate::config::topology;
use crate::config::{Config, ListenerProtocol, Route, RoutePolicies};

use super::auth::AuthCtx;
use super::cors::CorsCtx;
use super::router;

/// Warnings of one kind logged one by one; the rest are counted in one line.
pub const MAX_WARNINGS: usize = 50;

/// Everything one version of the file serves.
pub struct Runtime {
    pub generation: u64,
    pub ports: BTreeMap<u16, PortTable>,
    /// Files the config reads at run time (JWKS `file:`); a change reloads.
    pub watched: Vec<PathBuf>,
    /// The top-level `backends` (remote MCP targets may name one).
    pub backends: Arc<Vec<crate::config::NamedBackend>>,
    /// What of the file is not served, for the log (`HTTPS listener on port 8443`).
    pub skipped: Vec<String>,
}

/// The listeners sharing one port.
#[derive(Default)]
pub struct PortTable {
    pub listeners: Vec<ListenerTable>,
}

pub struct ListenerTable {
    pub hostname: Option<String>,
    /// A listener- or gateway-level `jwtAuth`: runs before routing, for every route.
    pub auth: Option<Arc<AuthCtx>>,
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
    /// `localRateLimit` (request buckets), shared by every request of the route.
    pub rate_limits: Vec<RateLimit>,
    /// `timeout.requestTimeout`
    pub request_timeout: Option<std::time::Duration>,
    pub backend: Backend,
    /// Policies that turn requests away and that the runtime does not apply (the route's, its
    /// backends' or its listener's): every request is refused (501).
    pub refused: Option<String>,
}

/// A token bucket: `max_tokens` capacity, `per_fill` tokens every `every`.
pub struct RateLimit {
    max_tokens: f64,
    per_sec: f64,
    state: std::sync::Mutex<(f64, std::time::Instant)>,
}

impl RateLimit {
    fn new(l: &crate::config::policy::LocalRateLimit) -> Option<RateLimit> {
        use crate::config::policy::traffic::RateLimitKind;
        if l.kind == Some(RateLimitKind::Tokens) {
            return None; // LLM tokens: nothing to count here
        }
        let every = crate::config::parse_duration(&l.fill_interval)?;
        if every.is_zero() {
            return None;
        }
        Some(RateLimit {
            max_tokens: l.max_tokens as f64,
            per_sec: l.tokens_per_fill as f64 / every.as_secs_f64(),
            state: std::sync::Mutex::new((l.max_tokens as f64, std::time::Instant::now())),
        })
    }

    /// Takes a token; `Err(seconds until one is there)` when the bucket is empty.
    pub fn take(&self) -> Result<(), f64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.per_sec;
        s.0 = (s.0 + refill).min(self.max_tokens);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            Err((1.0 - s.0) / self.per_sec)
        }
    }
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
        let mut skipped = super::coverage::file(cfg).map_err(BuildError::Invalid)?;
        let mut b = Builder {
            cfg,
            root,
            watched: Vec::new(),
            listener_guards: Vec::new(),
            notes: Vec::new(),
        };
        let mut ports: BTreeMap<u16, PortTable> = BTreeMap::new();
        let topology = topology::resolve(cfg);
        for l in topology.listeners.iter().filter(|l| !l.internal) {
            let Some(port) = l.port else { continue };
            let port = port_u16(port)?;
            // where findings and log lines name the listener
            let what = match l.gateway {
                Some(g) => format!("gateway `{g}`"),
                None => l.ptr.clone(),
            };
            let proto = l.listener.protocol();
            if proto != ListenerProtocol::HTTP {
                skipped.push(format!(
                    "{what}: {proto:?} listeners are not served by `agw serve` (port {port})"
                ));
                continue;
            }
            b.listener_gaps(l.listener.policies.as_ref(), &what);
            let mut routes = Vec::new();
            for &i in &l.routes {
                let site = &topology.sites[i];
                routes.push(Arc::new(b.route(
                    site.ptr.clone(),
                    site.route.clone().into_owned(),
                    None,
                )?));
            }
            let shorthand = match (l.shorthand, cfg.mcp.as_ref()) {
                (true, Some(m)) => Some(Arc::new(b.shorthand(m, &topology::SHORTHAND_PREFIXES)?)),
                _ => None,
            };
            // a bind listener writes its policies under `policies:`, a gateway flattened
            let origin = match l.gateway {
                Some(_) => format!("{}/jwtAuth", l.ptr),
                None => format!("{}/policies/jwtAuth", l.ptr),
            };
            let auth = b.listener_auth(l.listener.policies.as_ref(), &origin)?;
            ports
                .entry(port)
                .or_default()
                .listeners
                .push(ListenerTable {
                    hostname: l.listener.hostname.clone(),
                    auth,
                    routes,
                    shorthand,
                });
        }
        if let (Some(m), Some(port)) = (cfg.mcp.as_ref(), topology.shorthand_port) {
            b.listener_guards.clear();
            let port = port_u16(port)?;
            let route = b.shorthand(m, &["/"])?;
            ports
                .entry(port)
                .or_default()
                .listeners
                .push(ListenerTable {
                    hostname: None,
                    auth: None,
                    routes: vec![Arc::new(route)],
                    shorthand: None,
                });
        }
        let watched = b.watched;
        skipped.append(&mut b.notes);
        ports.retain(|_, t| !t.listeners.is_empty());
        Ok(Runtime {
            generation,
            ports,
            watched,
            backends: Arc::new(cfg.backends.clone()),
            skipped,
        })
    }

    /// Logs what of the file is not served (listeners, policies), one warning each.
    pub fn log_warnings(&self) {
        for s in self.skipped.iter().take(MAX_WARNINGS) {
            tracing::warn!("{s}");
        }
        if self.skipped.len() > MAX_WARNINGS {
            tracing::warn!(
                "{} more parts of the file are not served or not applied as written (the first {MAX_WARNINGS} are above)",
                self.skipped.len() - MAX_WARNINGS
            );
        }
    }

    /// Every route (by port, listener and label) with the `mode` of the authentication in
    /// front of it (the route's own or its listener's; with both, the stricter), or `None`
    /// when nothing authenticates it.
    pub fn auth_by_route(&self) -> std::collections::HashMap<String, Option<AuthMode>> {
        let mut out = std::collections::HashMap::new();
        for (port, table) in &self.ports {
            for l in &table.listeners {
                let host = l.hostname.as_deref().unwrap_or("*");
                for r in l.routes.iter().chain(l.shorthand.iter()) {
                    let modes = [r.auth.as_ref(), l.auth.as_ref()];
                    // With both, a request passes both: the stricter one decides.
                    let mode = modes
                        .iter()
                        .flatten()
                        .map(|a| a.mode)
                        .min_by_key(|m| match m {
                            AuthMode::Strict => 0,
                            AuthMode::Optional => 1,
                            AuthMode::Permissive => 2,
                        });
                    out.insert(
                        format!("port {port}, host {host}, route `{}`", r.label),
                        mode,
                    );
                }
            }
        }
        out
    }

    /// The [`auth_fingerprint`] of every route, by pointer.
    pub fn auth_fingerprints(&self) -> std::collections::HashMap<&str, u64> {
        let mut out = std::collections::HashMap::new();
        for table in self.ports.values() {
            for l in &table.listeners {
                for r in l.routes.iter().chain(l.shorthand.iter()) {
                    out.insert(r.ptr.as_str(), auth_fingerprint(r, l.auth.as_deref()));
                }
            }
        }
        out
    }

    /// The route serving a request on `port`, after the listener is chosen by hostname, with
    /// the listener's own authentication.
    pub fn select(
        &self,
        port: u16,
        req: &router::Request,
    ) -> Option<(Arc<RouteCtx>, Option<Arc<AuthCtx>>)> {
        let table = self.ports.get(&port)?;
        let listener = router::pick_listener(&table.listeners, req.host)?;
        let route = router::select(&listener.routes, listener.shorthand.as_ref(), req)?;
        Some((route, listener.auth.clone()))
    }
}

/// A summary of everything that decides who may use a route: its authentication and
/// authorization policies and its listener's authentication. Two versions of a route with the
/// same fingerprint admit the same callers.
pub fn auth_fingerprint(route: &RouteCtx, listener: Option<&AuthCtx>) -> u64 {
    use std::hash::{Hash, Hasher};
    let p = &route.policies;
    let text = serde_json::to_string(&(
        &p.mcp_authentication,
        &p.jwt_auth,
        &p.mcp_authorization,
        &p.authorization,
        listener.map(AuthCtx::config_json),
    ))
    .unwrap_or_default();
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn port_u16(p: u32) -> Result<u16, BuildError> {
    u16::try_from(p).map_err(|_| BuildError::Invalid(format!("port {p} is out of range")))
}

struct Builder<'a> {
    cfg: &'a Config,
    root: &'a std::path::Path,
    watched: Vec<PathBuf>,
    /// The guards of the listener whose routes are being built (they refuse every route).
    listener_guards: Vec<String>,
    /// What the runtime does not apply, for the log.
    notes: Vec<String>,
}

impl Builder<'_> {
    /// Notes what a listener's policies have that the runtime does not apply; its guards
    /// refuse the routes built next.
    fn listener_gaps(&mut self, p: Option<&crate::config::GatewayPolicies>, what: &str) {
        self.listener_guards.clear();
        let Some(p) = p else { return };
        let g = super::coverage::gateway(p);
        if let Some(line) = g.describe(&format!("{what} (listener policies)")) {
            self.notes.push(line);
        }
        self.listener_guards = g.guards.iter().map(|k| format!("listener {k}")).collect();
    }

    /// What `route` (at `ptr`) has that the runtime does not apply: logged, and the guards
    /// among it (and its listener's) returned.
    fn route_gaps(&mut self, ptr: &str, route: &Route, policies: &RoutePolicies) -> Option<String> {
        use super::coverage;
        let mut g = coverage::route(policies);
        for b in &route.backends {
            let mut of_backend = Vec::new();
            if let Some(p) = &b.policies {
                of_backend.push(serde_json::to_value(p).unwrap_or_default());
            }
            if let Some(nb) = b
                .backend
                .as_ref()
                .and_then(|n| self.cfg.backends.iter().find(|nb| &nb.name == n))
            {
                if let Some(p) = &nb.policies {
                    of_backend.push(serde_json::to_value(p).unwrap_or_default());
                }
            }
            for v in of_backend {
                let bg = coverage::backend(&v);
                g.ignored.extend(bg.ignored);
                g.guards.extend(bg.guards);
            }
            for t in b.mcp.iter().flat_map(|m| m.targets.iter()) {
                if let (Some(p), None) = (&t.policies, &t.stdio) {
                    let v = serde_json::to_value(p).unwrap_or_default();
                    g.ignored.extend(coverage::target(&t.name, &v));
                }
            }
        }
        if let Some(p) = policies
            .url_rewrite
            .as_ref()
            .and_then(|u| u.path.as_ref())
            .and_then(|p| p.prefix.as_ref())
        {
            let unprefixed = route
                .effective_matches()
                .iter()
                .any(|m| m.path.as_ref().is_some_and(|p| p.path_prefix.is_none()));
            if unprefixed {
                g.ignored.push(format!(
                    "urlRewrite.path.prefix `{p}` for requests matched by an exact or regex path"
                ));
            }
        }
        let label = route.name.as_deref().unwrap_or(ptr);
        if let Some(line) = g.describe(&format!("route `{label}` ({ptr})")) {
            self.notes.push(line);
        }
        g.guards.extend(self.listener_guards.iter().cloned());
        (!g.guards.is_empty()).then(|| {
            g.guards
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    fn listener_auth(
        &mut self,
        p: Option<&crate::config::GatewayPolicies>,
        origin: &str,
    ) -> Result<Option<Arc<AuthCtx>>, BuildError> {
        let Some(j) = p.and_then(|p| p.jwt_auth.as_ref()) else {
            return Ok(None);
        };
        let a = AuthCtx::from_jwt_auth(j, origin, self.root).map_err(BuildError::Invalid)?;
        self.watched.extend(a.watched_files());
        Ok(Some(Arc::new(a)))
    }

    fn route(
        &mut self,
        ptr: String,
        route: Route,
        shorthand: Option<&McpBackend>,
    ) -> Result<RouteCtx, BuildError> {
        let policies = route.policies.clone().unwrap_or_default();
        let refused = self.route_gaps(&ptr, &route, &policies);
        let auth = AuthCtx::from_policies(&policies, &ptr, self.root)
            .map_err(BuildError::Invalid)?
            .map(Arc::new);
        if let Some(a) = &auth {
            self.watched.extend(a.watched_files());
        }
        let cors = policies.cors.as_ref().map(CorsCtx::new);
        let rate_limits = policies
            .local_rate_limit
            .iter()
            .flat_map(|l| l.buckets())
            .filter_map(RateLimit::new)
            .collect();
        let request_timeout = policies
            .timeout
            .as_ref()
            .and_then(|t| t.request_timeout.as_deref())
            .and_then(crate::config::parse_duration)
            .filter(|d| !d.is_zero());
        let backend = if let Some(m) = shorthand {
            Backend::Mcp(Arc::new(McpCtx::new(ptr.clone(), m.clone())))
        } else if let Some(m) = route.backends.iter().find_map(|b| b.mcp.as_ref()) {
            Backend::Mcp(Arc::new(McpCtx::new(ptr.clone(), (**m).clone())))
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
                        .and_then(|nb| nb.host.clone())
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
            matches: route.effective_matches().into_owned(),
            label,
            ptr,
            route,
            policies: *policies,
            auth,
            cors,
            rate_limits,
            request_timeout,
            backend,
            refused,
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
