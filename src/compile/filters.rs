//! The route policies that Gateway API itself has a place for, on the `HTTPRoute`'s rule:
//! `urlRewrite` and `requestRedirect` as filters, `timeout` as the rule's `timeouts`.

use serde_json::{json, Map, Value};

use super::{k8s_duration, Compiler};
use crate::config::policy::traffic::{AuthorityRewrite, PathRewrite, Timeout};
use crate::config::RoutePolicies;

/// The status codes a Gateway API redirect takes.
const REDIRECT_CODES: [u32; 5] = [301, 302, 303, 307, 308];

impl Compiler<'_> {
    /// `filters` and `timeouts` of the route's rule, for the policies at `ptr`; `prefix_only`
    /// says whether the rule has exactly one `PathPrefix` match, which a prefix rewrite needs.
    pub(super) fn rule_extras(
        &mut self,
        p: &RoutePolicies,
        ptr: &str,
        prefix_only: bool,
    ) -> Map<String, Value> {
        let mut extras = Map::new();
        let mut filters = Vec::new();
        if let Some(r) = &p.url_rewrite {
            let rptr = format!("{ptr}/urlRewrite");
            let mut f = Map::new();
            let host = self.authority_host(r.authority.as_ref(), &rptr);
            let path = self.path_modifier(r.path.as_ref(), &rptr, prefix_only);
            // what maps is written; what does not has its finding
            if let Some(h) = host.flatten() {
                f.insert("hostname".into(), json!(h));
            }
            if let Some(p) = path.flatten() {
                f.insert("path".into(), p);
            }
            self.use_ptr(rptr);
            if !f.is_empty() {
                filters.push(json!({"type": "URLRewrite", "urlRewrite": f}));
            }
        }
        if let Some(r) = &p.request_redirect {
            let rptr = format!("{ptr}/requestRedirect");
            let mut f = Map::new();
            let host = self.authority_host(r.authority.as_ref(), &rptr);
            let path = self.path_modifier(r.path.as_ref(), &rptr, prefix_only);
            let status = r.status.unwrap_or(302);
            let scheme = r.scheme.as_deref().map(str::to_ascii_lowercase);
            if !REDIRECT_CODES.contains(&status) {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{rptr}/status"),
                    format!("a redirect with status {status}: Gateway API redirects with 301, 302, 303, 307 or 308"),
                    "use one of those status codes",
                );
            } else if scheme
                .as_deref()
                .is_some_and(|s| s != "http" && s != "https")
            {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{rptr}/scheme"),
                    "a redirect to a scheme other than http or https".into(),
                    "redirect to `http` or `https`",
                );
            } else if let (Some(host), Some(path)) = (host, path) {
                // a redirect elsewhere than asked is worse than none: all of it maps, or nothing
                if let Some(s) = scheme {
                    f.insert("scheme".into(), json!(s));
                }
                if let Some(h) = host {
                    f.insert("hostname".into(), json!(h));
                }
                if let Some(p) = path {
                    f.insert("path".into(), p);
                }
                f.insert("statusCode".into(), json!(status));
                filters.push(json!({"type": "RequestRedirect", "requestRedirect": f}));
            }
            self.use_ptr(rptr);
        }
        if !filters.is_empty() {
            extras.insert("filters".into(), Value::Array(filters));
        }
        if let Some(t) = &p.timeout {
            if let Some(v) = self.timeouts(t, &format!("{ptr}/timeout")) {
                extras.insert("timeouts".into(), v);
            }
        }
        extras
    }

    /// The host a rewrite or redirect sets: `Some(None)` for none, `None` when it cannot be
    /// expressed (a finding says why).
    fn authority_host(
        &mut self,
        a: Option<&AuthorityRewrite>,
        ptr: &str,
    ) -> Option<Option<String>> {
        let aptr = format!("{ptr}/authority");
        let parts = match a {
            None => return Some(None),
            Some(AuthorityRewrite::Parts(p)) => p,
            Some(AuthorityRewrite::Keyword(k)) => {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &aptr,
                    format!("`authority: {k}` has no Gateway API form"),
                    "give the host to rewrite to: `authority: {host: NAME}`",
                );
                return None;
            }
        };
        let (host, port) = match (&parts.full, &parts.host) {
            (Some(full), _) => match full.rsplit_once(':') {
                Some((h, p)) if p.parse::<u32>().is_ok() => (h.to_string(), Some(p.to_string())),
                _ => (full.clone(), None),
            },
            (None, Some(h)) => (h.clone(), parts.port.map(|p| p.to_string())),
            (None, None) => (String::new(), parts.port.map(|p| p.to_string())),
        };
        if port.is_some() || !crate::config::is_dns_subdomain(&host) {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &aptr,
                "an authority with a port, or a host that is not a lowercase DNS name: Gateway API rewrites the host name only".into(),
                "rewrite the host alone (`authority: {host: NAME}`); the backend's port is the one of its backendRef",
            );
            return None;
        }
        Some(Some(host))
    }

    /// The path a rewrite or redirect sets: `Some(None)` for none.
    fn path_modifier(
        &mut self,
        p: Option<&PathRewrite>,
        ptr: &str,
        prefix_only: bool,
    ) -> Option<Option<Value>> {
        let Some(p) = p else { return Some(None) };
        match (&p.full, &p.prefix) {
            (Some(full), _) => Some(Some(
                json!({"type": "ReplaceFullPath", "replaceFullPath": full}),
            )),
            (None, Some(prefix)) if prefix_only => Some(Some(
                json!({"type": "ReplacePrefixMatch", "replacePrefixMatch": prefix}),
            )),
            (None, Some(_)) => {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{ptr}/path/prefix"),
                    "a prefix rewrite on a route without exactly one `pathPrefix` match: Gateway API replaces the prefix of a single PathPrefix match".into(),
                    "give the route one `pathPrefix` match, or rewrite the full path",
                );
                None
            }
            (None, None) => Some(None),
        }
    }

    /// `timeout` as the rule's `timeouts`: `requestTimeout` is `request`,
    /// `backendRequestTimeout` is `backendRequest`.
    fn timeouts(&mut self, t: &Timeout, ptr: &str) -> Option<Value> {
        let mut out = Map::new();
        for (local, crd, value) in [
            ("requestTimeout", "request", &t.request_timeout),
            (
                "backendRequestTimeout",
                "backendRequest",
                &t.backend_request_timeout,
            ),
        ] {
            let Some(v) = value else { continue };
            let tptr = format!("{ptr}/{local}");
            match crate::config::parse_duration(v).and_then(k8s_duration) {
                Some(d) => {
                    self.use_ptr(tptr);
                    out.insert(crd.into(), json!(d));
                }
                None => self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &tptr,
                    format!("the timeout `{v}` cannot be written in whole milliseconds"),
                    "use a timeout of at least 1ms in whole milliseconds",
                ),
            }
        }
        let parsed = |k: &str| {
            out.get(k)
                .and_then(Value::as_str)
                .and_then(crate::config::parse_duration)
        };
        if let (Some(request), Some(backend)) = (parsed("request"), parsed("backendRequest")) {
            if backend > request {
                out.remove("backendRequest");
                self.report(
                    &super::coverage::K8S_NOT_MAPPED,
                    self.key_span(&format!("{ptr}/backendRequestTimeout")),
                    "here",
                    "`backendRequestTimeout` is longer than `requestTimeout`, which an HTTPRoute refuses (and which never fires)".into(),
                    "make it shorter than `requestTimeout`, or remove it".into(),
                );
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}
