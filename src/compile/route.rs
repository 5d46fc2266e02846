//! Routes -> `HTTPRoute`s: one per local route, attached to the Gateway listener it lived on
//! (`parentRefs` with `sectionName`), its matches as Gateway API matches and its backends as
//! references to the `AgentgatewayBackend`s made of them.

use serde_json::{json, Map, Value};

use super::gateway::{Parent, Parents};
use super::{Compiler, AGW_API, GATEWAY_API};
use crate::config::route::{Route, RouteMatch, ValueMatchEntry};
use crate::config::topology::{self, Topology};
use crate::config::walk::RouteHome;
use crate::config::RouteBackend;

/// The methods an `HTTPRoute` match takes.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

impl Compiler<'_> {
    pub(super) fn routes_of(&mut self, t: &Topology, parents: &Parents) {
        let mut refs: Vec<Vec<Parent>> = vec![Vec::new(); t.sites.len()];
        for (l, parent) in t.listeners.iter().zip(&parents.by_listener) {
            let Some(p) = parent else { continue };
            for &i in &l.routes {
                refs[i].push(p.clone());
            }
        }
        for (site, refs) in t.sites.iter().zip(refs) {
            if let RouteHome::Gateways(_) = site.home {
                self.use_ptr(format!("{}/gateways", site.ptr));
            }
            if refs.is_empty() {
                continue;
            }
            let fallback = format!("route-{}", self.routes.len() + 1);
            self.http_route(&site.route, &site.ptr, &refs, &fallback);
        }
    }

    /// The `mcp:` shorthand, as the gateway's loader makes it (`convert_mcp_config`): on a port
    /// of its own a route of every path; attached to gateways a route of `/mcp`, `/sse` and
    /// `/.well-known`.
    pub(super) fn shorthand(&mut self, t: &Topology, parents: &Parents) {
        let Some(sh) = &self.cfg.mcp else { return };
        let (refs, prefixes): (Vec<Parent>, &[&str]) = match &parents.shorthand {
            Some(own) => (vec![own.clone()], &["/"]),
            None => {
                self.use_ptr("/mcp/gateways");
                let refs = t
                    .listeners
                    .iter()
                    .zip(&parents.by_listener)
                    .filter(|(l, _)| l.shorthand)
                    .filter_map(|(_, p)| p.clone())
                    .collect();
                (refs, &topology::SHORTHAND_PREFIXES)
            }
        };
        if refs.is_empty() {
            return;
        }
        let name = self.name("HTTPRoute", Some("mcp"), "mcp");
        let backend = self.mcp_backend(&sh.backend(), "/mcp", &name);
        let matches: Vec<Value> = prefixes
            .iter()
            .map(|p| json!({"path": {"type": "PathPrefix", "value": p}}))
            .collect();
        let mut rule = json!({"matches": matches});
        if let Some(b) = backend {
            rule["backendRefs"] = json!([backend_ref(&b, None)]);
        }
        self.push_route(&name, &refs, &[], rule);
        if let Some(p) = &sh.policies {
            self.route_policies(p, "/mcp/policies", &name);
        }
    }

    fn http_route(&mut self, route: &Route, ptr: &str, refs: &[Parent], fallback: &str) {
        self.use_ptr(format!("{ptr}/name"));
        let name = self.name("HTTPRoute", route.name.as_deref(), fallback);
        if let Some(n) = &route.name {
            if *n != name {
                self.note_renamed(&format!("{ptr}/name"), n, &name);
            }
        }
        let mut matches = Vec::new();
        for (i, m) in route.effective_matches().iter().enumerate() {
            let mptr = format!("{ptr}/matches/{i}");
            if let Some(v) = self.route_match(m, &mptr) {
                matches.push(v);
            }
        }
        self.use_ptr(format!("{ptr}/matches"));
        if matches.is_empty() {
            // an HTTPRoute rule without matches matches every request: never widen a route
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                ptr,
                "none of the route's matches has a Gateway API form, so the route is left out"
                    .into(),
                "see the findings of its matches",
            );
            return;
        }
        let effective = route.effective_matches();
        let prefix_only = effective.len() == 1
            && effective[0]
                .path
                .as_ref()
                .is_some_and(|p| p.path_prefix.is_some());
        let mut rule = Map::new();
        rule.insert("matches".into(), Value::Array(matches));
        if let Some(p) = &route.policies {
            rule.extend(self.rule_extras(p, &format!("{ptr}/policies"), prefix_only));
        }
        let redirects = rule
            .get("filters")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|f| f["type"] == "RequestRedirect"));
        if redirects && !route.backends.is_empty() {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &format!("{ptr}/backends"),
                "the route redirects, so its backends are never reached; an HTTPRoute refuses backendRefs beside a redirect".into(),
                "remove the backends of a route that redirects",
            );
        } else {
            let mut backend_refs = Vec::new();
            for (i, b) in route.backends.iter().enumerate() {
                let bptr = format!("{ptr}/backends/{i}");
                if let Some(r) = self.route_backend(b, &bptr, &name) {
                    backend_refs.push(r);
                }
            }
            if !backend_refs.is_empty() {
                rule.insert("backendRefs".into(), Value::Array(backend_refs));
            }
        }
        let hostnames: Vec<&str> = route.hostnames.iter().map(String::as_str).collect();
        self.use_ptr(format!("{ptr}/hostnames"));
        self.push_route(&name, refs, &hostnames, Value::Object(rule));
        if let Some(p) = &route.policies {
            self.route_policies(p, &format!("{ptr}/policies"), &name);
        }
    }

    fn push_route(&mut self, name: &str, refs: &[Parent], hostnames: &[&str], rule: Value) {
        let mut spec = Map::new();
        spec.insert(
            "parentRefs".into(),
            Value::Array(refs.iter().map(Parent::reference).collect()),
        );
        if !hostnames.is_empty() {
            spec.insert("hostnames".into(), json!(hostnames));
        }
        spec.insert("rules".into(), json!([rule]));
        let r = json!({
            "apiVersion": format!("{GATEWAY_API}/v1"),
            "kind": "HTTPRoute",
            "metadata": self.meta(name),
            "spec": spec,
        });
        self.routes.push(r);
    }

    fn route_match(&mut self, m: &RouteMatch, ptr: &str) -> Option<Value> {
        let mut out = Map::new();
        if let Some(p) = &m.path {
            let (kind, value, key) = if let Some(v) = &p.exact {
                ("Exact", v, "exact")
            } else if let Some(v) = &p.path_prefix {
                ("PathPrefix", v, "pathPrefix")
            } else if let Some(v) = &p.regex {
                ("RegularExpression", v, "regex")
            } else {
                return None;
            };
            let vptr = format!("{ptr}/path/{key}");
            if kind != "RegularExpression" && !value.starts_with('/') {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &vptr,
                    format!(
                        "the path `{value}` does not start with `/`, which Gateway API requires"
                    ),
                    "start the path with `/`",
                );
                return None;
            }
            self.use_ptr(format!("{ptr}/path"));
            out.insert("path".into(), json!({"type": kind, "value": value}));
        }
        if let Some(method) = &m.method {
            let upper = method.to_ascii_uppercase();
            if METHODS.contains(&upper.as_str()) {
                self.use_ptr(format!("{ptr}/method"));
                out.insert("method".into(), json!(upper));
            } else {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{ptr}/method"),
                    format!("an HTTPRoute cannot match the method `{method}`"),
                    "Gateway API matches GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH",
                );
                return None;
            }
        }
        for (key, out_key, list) in [
            ("headers", "headers", &m.headers),
            ("query", "queryParams", &m.query),
        ] {
            if list.is_empty() {
                continue;
            }
            self.use_ptr(format!("{ptr}/{key}"));
            out.insert(
                out_key.into(),
                Value::Array(list.iter().map(value_match).collect()),
            );
        }
        Some(Value::Object(out))
    }

    /// A `backendRef` for one local backend, compiling what it names.
    fn route_backend(&mut self, b: &RouteBackend, ptr: &str, route: &str) -> Option<Value> {
        let weight = (b.weight != 1).then_some(b.weight);
        self.use_ptr(format!("{ptr}/weight"));
        if let Some(m) = &b.mcp {
            let name = self.mcp_backend(m, &format!("{ptr}/mcp"), route)?;
            return Some(backend_ref(&name, weight));
        }
        if let Some(h) = &b.host {
            let name = self.static_backend(h, &format!("{ptr}/host"), route)?;
            return Some(backend_ref(&name, weight));
        }
        if let Some(n) = &b.backend {
            let name = self.named_backend(n, &format!("{ptr}/backend"))?;
            return Some(backend_ref(&name, weight));
        }
        None
    }
}

pub fn backend_ref(name: &str, weight: Option<u64>) -> Value {
    let mut r = json!({"group": AGW_API, "kind": "AgentgatewayBackend", "name": name});
    if let Some(w) = weight {
        r["weight"] = json!(w);
    }
    r
}

fn value_match(e: &ValueMatchEntry) -> Value {
    match (&e.value.exact, &e.value.regex) {
        (_, Some(r)) => json!({"type": "RegularExpression", "name": e.name, "value": r}),
        (exact, None) => {
            json!({"type": "Exact", "name": e.name, "value": exact.clone().unwrap_or_default()})
        }
    }
}
