//! Route and listener policies -> `AgentgatewayPolicy`s: `traffic` (JWT with its MCP
//! extension, CORS, header modifiers, a direct response, local rate limits) on one policy per
//! route, and
//! `authorization` / `mcpAuthorization` on one policy per action, as the CRD takes one action a
//! policy (the gateway combines every policy that targets the route).

use serde_json::{json, Map, Value};

use super::{Compiler, AGW_API, GATEWAY_API};
use crate::config::okta::{is_okta_issuer, okta_keys_url};
use crate::config::policy::auth::derived_jwks_url;
use crate::config::policy::auth::{
    AuthMode, AuthorizationLocation, Jwks, JwtAuth, McpAuthentication, Provider,
};
use crate::config::policy::authz::{Authorization, RuleKind};
use crate::config::policy::cors::Cors;
use crate::config::policy::traffic::{
    Body, DirectResponse, HeaderModifier, LocalRateLimits, RateLimitKind,
};
use crate::config::RoutePolicies;

crate::rules! {
    K8S_MCP_AUTH_MODE {
        id: "k8s/mcp-auth-mode",
        severity: Warning,
        summary: "`mcpAuthentication` with a mode other than `strict`, which the CRD refuses with `mcp`",
        why: "In the cluster, MCP authentication is always strict, so requests without a valid token that pass locally are refused there. Set `mode: strict` locally too, so that both behave alike.",
        gateway: "The CRD refuses `jwtAuthentication.mcp` with a mode other than `Strict` (\"jwtAuthentication.mcp requires mode Strict\"), so agw writes `Strict` (agentgateway `controller/api/v1alpha1/agentgateway/agentgateway_policy_types.go`, `JWTAuthentication`).",
        example: "mcpAuthentication:\n  mode: optional",
        use_instead: "mcpAuthentication:\n  mode: strict",
    }

    K8S_JWT_VALIDATION_OPTIONS {
        id: "k8s/jwt-validation-options",
        severity: Warning,
        summary: "`jwtValidationOptions`, which `jwtAuthentication` has no field for",
        why: "Claims that `jwtValidationOptions.requiredClaims` requires locally are not required in the cluster, where only the signature, the issuer, the audiences and `exp` are checked. Require them with an authorization rule instead (`has(jwt.sub)`).",
        gateway: "The CRD's JWT providers have only `issuer`, `audiences` and `jwks` (agentgateway `controller/api/v1alpha1/agentgateway/agentgateway_policy_types.go`, `JWTProvider`), so the gateway applies its default `requiredClaims: [exp]` (`crates/agentgateway/src/http/jwt.rs`, `default_required_claims`).",
        example: "jwtValidationOptions:\n  requiredClaims: [sub]",
        use_instead: "authorization:\n  rules:\n  - require: has(jwt.sub)",
    }

    K8S_JWKS_FILE {
        id: "k8s/jwks-file",
        severity: Error,
        summary: "a JWKS file that `agw compile` cannot read",
        why: "A manifest carries the keys of a `jwks: {file}` inline, so the compiler must read the file. It looks under `--root DIR` (default: the current directory), as `agw check` does.",
        gateway: "",
        example: "",
        use_instead: "",
    }

    K8S_JWKS_WRITTEN {
        id: "k8s/jwks-written",
        severity: Note,
        summary: "no `jwks`: the manifest names the JWKS URL",
        why: "The manifest needs the JWKS, so agw writes the URL the local gateway would use (`{issuer}/.well-known/jwks.json`), except for Okta, whose keys are at `{issuer}/v1/keys` (see `okta/jwks-derived`). Write the same `jwks.url` in the local file, so that both agree.",
        gateway: "The CRD requires `jwks` on every JWT provider (agentgateway `controller/api/v1alpha1/agentgateway/agentgateway_policy_types.go`, `JWTProvider`). Without `jwks`, the local gateway derives the URL from the issuer (`crates/agentgateway/src/types/agent.rs`, `LocalMcpAuthentication::derived_jwks_url`).",
        example: "",
        use_instead: "",
    }
}

/// The least `cacheDuration` the CRD allows (`duration(self) >= duration('5m')`).
const JWKS_CACHE: &str = "5m";

impl Compiler<'_> {
    pub(super) fn route_policies(&mut self, p: &RoutePolicies, ptr: &str, route: &str) {
        let target = json!({"group": GATEWAY_API, "kind": "HTTPRoute", "name": route});
        let mut traffic = Map::new();
        if let Some(a) = &p.mcp_authentication {
            let aptr = format!("{ptr}/mcpAuthentication");
            if let Some(v) = self.mcp_authentication(a, &aptr) {
                traffic.insert("jwtAuthentication".into(), v);
            }
        }
        if let Some(j) = &p.jwt_auth {
            let jptr = format!("{ptr}/jwtAuth");
            if traffic.contains_key("jwtAuthentication") {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &jptr,
                    "`jwtAuth` beside `mcpAuthentication`: an AgentgatewayPolicy has one `jwtAuthentication`".into(),
                    "keep `mcpAuthentication` on the MCP route and move `jwtAuth` to the listener",
                );
            } else if let Some(v) = self.jwt_auth(j, &jptr) {
                traffic.insert("jwtAuthentication".into(), v);
            }
        }
        if let Some(c) = &p.cors {
            if let Some(v) = self.cors(c, &format!("{ptr}/cors")) {
                traffic.insert("cors".into(), v);
            }
        }
        let mut modifiers = Map::new();
        for (key, side, m) in [
            (
                "requestHeaderModifier",
                "request",
                &p.request_header_modifier,
            ),
            (
                "responseHeaderModifier",
                "response",
                &p.response_header_modifier,
            ),
        ] {
            if let Some(m) = m {
                self.use_ptr(format!("{ptr}/{key}"));
                if let Some(v) = header_modifier(m) {
                    modifiers.insert(side.into(), v);
                }
            }
        }
        if !modifiers.is_empty() {
            traffic.insert("headerModifiers".into(), Value::Object(modifiers));
        }
        if let Some(d) = &p.direct_response {
            if let Some(v) = self.direct_response(d, &format!("{ptr}/directResponse")) {
                traffic.insert("directResponse".into(), v);
            }
        }
        if let Some(l) = &p.local_rate_limit {
            if let Some(v) = self.local_rate_limit(l, &format!("{ptr}/localRateLimit")) {
                traffic.insert("rateLimit".into(), json!({"local": v}));
            }
        }
        self.push_traffic_policy(route, target.clone(), traffic);
        if let Some(a) = &p.authorization {
            self.authorization(a, &format!("{ptr}/authorization"), route, &target, false);
        }
        if let Some(a) = &p.mcp_authorization {
            self.authorization(a, &format!("{ptr}/mcpAuthorization"), route, &target, true);
        }
    }

    pub(super) fn push_traffic_policy(
        &mut self,
        base: &str,
        target: Value,
        traffic: Map<String, Value>,
    ) {
        if traffic.is_empty() {
            return;
        }
        let name = self.name("AgentgatewayPolicy", Some(base), "policy");
        self.push_policy(&name, target, json!({"traffic": traffic}));
    }

    fn push_policy(&mut self, name: &str, target: Value, body: Value) {
        let mut spec = Map::new();
        spec.insert("targetRefs".into(), json!([target]));
        if let Value::Object(b) = body {
            spec.extend(b);
        }
        let p = json!({
            "apiVersion": format!("{AGW_API}/v1alpha1"),
            "kind": "AgentgatewayPolicy",
            "metadata": self.meta(name),
            "spec": spec,
        });
        self.policies.push(p);
    }

    /// `mcpAuthentication` as `traffic.jwtAuthentication` with `mcp`, which the CRD allows in
    /// `Strict` mode with one provider only.
    fn mcp_authentication(&mut self, a: &McpAuthentication, ptr: &str) -> Option<Value> {
        if a.mode() != AuthMode::Strict {
            self.finding(
                &K8S_MCP_AUTH_MODE,
                &format!("{ptr}/mode"),
                format!("`mode: {}` on `mcpAuthentication`: with `mcp`, `jwtAuthentication` takes `Strict` only", mode_name(a.mode()).to_ascii_lowercase()),
                "written as `mode: Strict`: requests without a valid token are refused in the cluster; use `mode: strict` here too, or keep a local gateway for optional authentication",
            );
        } else {
            self.use_ptr(format!("{ptr}/mode"));
        }
        if a.jwt_validation_options.is_some() {
            self.jwt_options_finding(&format!("{ptr}/jwtValidationOptions"));
        }
        if a.client_secret.is_some() {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &format!("{ptr}/clientSecret"),
                "`clientSecret` has no field in `jwtAuthentication.mcp`".into(),
                "put the secret in a Secret and use `backend.mcp.authentication.clientSecretRef` in an AgentgatewayPolicy of your own",
            );
        }
        let Some(provider) = self.provider(
            &a.issuer,
            a.audiences.as_deref(),
            a.jwks.as_ref(),
            a.provider.as_ref(),
            ptr,
        ) else {
            self.use_ptr(ptr);
            return None;
        };
        self.use_ptr(format!("{ptr}/issuer"));
        let mut mcp = Map::new();
        if let Some(p) = &a.provider {
            self.use_ptr(format!("{ptr}/provider"));
            mcp.insert("provider".into(), json!(provider_name(p)));
        }
        if let Some(rm) = &a.resource_metadata {
            self.use_ptr(format!("{ptr}/resourceMetadata"));
            mcp.insert("resourceMetadata".into(), json!(rm.0));
        }
        if let Some(id) = &a.client_id {
            self.use_ptr(format!("{ptr}/clientId"));
            mcp.insert("clientId".into(), json!(id));
        }
        let mut out = Map::new();
        out.insert("mode".into(), json!("Strict"));
        out.insert("providers".into(), json!([provider]));
        if let Some(l) = &a.authorization_location {
            self.use_ptr(format!("{ptr}/authorizationLocation"));
            out.insert("location".into(), location(l));
        }
        out.insert("mcp".into(), Value::Object(mcp));
        Some(Value::Object(out))
    }

    /// `jwtAuth`, with its mode written out: the local default is `optional`, the CRD's `Strict`.
    pub(super) fn jwt_auth(&mut self, j: &JwtAuth, ptr: &str) -> Option<Value> {
        let mut providers = Vec::new();
        if let Some(list) = &j.providers {
            for (i, p) in list.iter().enumerate() {
                let pptr = format!("{ptr}/providers/{i}");
                if p.jwt_validation_options.is_some() {
                    self.jwt_options_finding(&format!("{pptr}/jwtValidationOptions"));
                }
                if let Some(v) = self.provider(
                    &p.issuer,
                    p.audiences.as_deref(),
                    Some(&p.jwks),
                    None,
                    &pptr,
                ) {
                    self.use_ptr(format!("{pptr}/issuer"));
                    providers.push(v);
                }
            }
            self.use_ptr(format!("{ptr}/providers"));
        } else if let Some(issuer) = &j.issuer {
            if let Some(v) =
                self.provider(issuer, j.audiences.as_deref(), j.jwks.as_ref(), None, ptr)
            {
                self.use_ptr(format!("{ptr}/issuer"));
                providers.push(v);
            }
        }
        if j.jwt_validation_options.is_some() {
            self.jwt_options_finding(&format!("{ptr}/jwtValidationOptions"));
        }
        if providers.is_empty() {
            // the providers' findings say why; the rest of the block goes with them
            self.use_ptr(ptr);
            return None;
        }
        self.use_ptr(format!("{ptr}/mode"));
        let mut out = Map::new();
        out.insert("mode".into(), json!(mode_name(j.mode())));
        out.insert("providers".into(), Value::Array(providers));
        if let Some(l) = &j.location {
            self.use_ptr(format!("{ptr}/location"));
            out.insert("location".into(), location(l));
        }
        Some(Value::Object(out))
    }

    fn jwt_options_finding(&mut self, ptr: &str) {
        self.finding(
            &K8S_JWT_VALIDATION_OPTIONS,
            ptr,
            "`jwtValidationOptions` has no field in `jwtAuthentication`".into(),
            "the gateway then requires only what it requires by default (`exp`) besides issuer and audiences; require other claims with an `authorization` rule (`has(jwt.sub)`)",
        );
    }

    /// One `providers` entry; the JWKS written out: a URL as it is, a file inlined, and none
    /// derived as the gateway derives it (for Okta, where the gateway's guess fails, Okta's
    /// `/v1/keys`).
    fn provider(
        &mut self,
        issuer: &str,
        audiences: Option<&[String]>,
        jwks: Option<&Jwks>,
        provider: Option<&Provider>,
        ptr: &str,
    ) -> Option<Value> {
        let jptr = format!("{ptr}/jwks");
        let jwks = match jwks {
            Some(Jwks::Url(u)) => {
                self.use_ptr(&jptr);
                json!({"remote": {"url": u.url, "cacheDuration": JWKS_CACHE}})
            }
            Some(Jwks::Inline(text)) => {
                self.use_ptr(&jptr);
                json!({"inline": text})
            }
            Some(Jwks::File(f)) => {
                let path = crate::config::resolve_path(&self.opts.root, &f.file);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        self.use_ptr(&jptr);
                        json!({"inline": text.trim()})
                    }
                    Err(e) => {
                        self.finding(
                            &K8S_JWKS_FILE,
                            &jptr,
                            format!("the JWKS file `{}` could not be read ({e}): a manifest carries the keys inline", f.file),
                            "run `agw compile` with `--root` set to the directory the gateway runs in, or give `jwks.url`",
                        );
                        return None;
                    }
                }
            }
            None => {
                let url = if is_okta_issuer(issuer, provider) {
                    okta_keys_url(issuer)
                } else {
                    // a file whose URL cannot be derived does not pass `agw check`, and only a
                    // checked file is compiled
                    derived_jwks_url(issuer, provider).ok()?
                };
                self.report(
                    &K8S_JWKS_WRITTEN,
                    self.key_span(ptr),
                    "JWKS written out",
                    format!("no `jwks`: the manifest names `{url}`, which the CRD requires"),
                    format!("write `jwks: {{url: {url}}}` here too, so that the two files agree"),
                );
                json!({"remote": {"url": url, "cacheDuration": JWKS_CACHE}})
            }
        };
        let mut out = Map::new();
        out.insert("issuer".into(), json!(issuer));
        if let Some(a) = audiences.filter(|a| !a.is_empty()) {
            out.insert("audiences".into(), json!(a));
        }
        self.use_ptr(format!("{ptr}/audiences"));
        out.insert("jwks".into(), jwks);
        Some(Value::Object(out))
    }

    pub(super) fn cors(&mut self, c: &Cors, ptr: &str) -> Option<Value> {
        let mut out = Map::new();
        if let Some(b) = c.allow_credentials {
            out.insert("allowCredentials".into(), json!(b));
        }
        for (key, list) in [
            ("allowHeaders", &c.allow_headers),
            ("allowMethods", &c.allow_methods),
            ("allowOrigins", &c.allow_origins),
            ("exposeHeaders", &c.expose_headers),
        ] {
            if !list.is_empty() {
                let values: Vec<String> = if key == "allowMethods" {
                    list.iter().map(|m| m.to_ascii_uppercase()).collect()
                } else {
                    list.clone()
                };
                out.insert(key.into(), json!(values));
            }
        }
        if let Some(age) = &c.max_age {
            let secs =
                crate::config::parse_duration(age).map(|d| d.as_secs_f64().ceil().max(1.0) as u64);
            match secs {
                Some(s) if s <= i32::MAX as u64 => {
                    out.insert("maxAge".into(), json!(s));
                }
                _ => self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{ptr}/maxAge"),
                    format!("`maxAge: {age}` does not fit the CRD's whole seconds"),
                    "use a duration of at most 68 years",
                ),
            }
        }
        self.use_ptr(ptr);
        Some(Value::Object(out))
    }

    /// A fixed answer. Its `conditional` form and a body of bytes that are not text have no
    /// field.
    fn direct_response(&mut self, d: &DirectResponse, ptr: &str) -> Option<Value> {
        if d.conditional.is_some() {
            return None;
        }
        let status = d.status.unwrap_or(200);
        if !(200..=599).contains(&status) {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &format!("{ptr}/status"),
                format!("a direct response with status {status}: the CRD answers with 200 to 599"),
                "answer with a status from 200 to 599",
            );
            return None;
        }
        let mut out = Map::new();
        out.insert("status".into(), json!(status));
        match &d.body {
            Some(Body::Text(t)) => {
                out.insert("body".into(), json!(t));
            }
            Some(Body::Bytes(b)) => match std::str::from_utf8(b) {
                Ok(t) => {
                    out.insert("body".into(), json!(t));
                }
                Err(_) => return None,
            },
            None => {}
        }
        if let Some(e) = &d.body_expression {
            out.insert("bodyExpression".into(), json!(e));
        }
        if !d.headers.is_empty() {
            let headers: Vec<Value> = d
                .headers
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            out.insert("headers".into(), Value::Array(headers));
        }
        self.use_ptr(ptr);
        Some(Value::Object(out))
    }

    /// One policy per action: `Allow`, `Deny` and `Require` rules of `authorization` (as
    /// `traffic.authorization`) or `mcpAuthorization` (as `backend.mcp.authorization`).
    pub(super) fn authorization(
        &mut self,
        a: &Authorization,
        ptr: &str,
        base: &str,
        target: &Value,
        mcp: bool,
    ) {
        self.use_ptr(ptr);
        for (kind, action) in [
            (RuleKind::Allow, "Allow"),
            (RuleKind::Deny, "Deny"),
            (RuleKind::Require, "Require"),
        ] {
            let rules: Vec<&str> = a
                .rules
                .iter()
                .map(|r| r.parts())
                .filter(|(k, _)| *k == kind)
                .map(|(_, s)| s)
                .collect();
            if rules.is_empty() {
                continue;
            }
            let suffix = format!(
                "{}{}",
                if mcp { "mcp-" } else { "" },
                action.to_ascii_lowercase()
            );
            let name = self.name(
                "AgentgatewayPolicy",
                Some(&format!("{base}-{suffix}")),
                "authorization",
            );
            let authz = json!({"action": action, "policy": {"matchExpressions": rules}});
            let body = if mcp {
                json!({"backend": {"mcp": {"authorization": authz}}})
            } else {
                json!({"traffic": {"authorization": authz}})
            };
            self.push_policy(&name, target.clone(), body);
        }
    }

    /// Token buckets as the CRD's `requests`/`tokens` per `unit` with `burst`: the controller
    /// makes a bucket of `requests + burst` refilled by `requests` each unit, so a bucket maps
    /// when it is refilled once a second, minute or hour.
    fn local_rate_limit(&mut self, l: &LocalRateLimits, ptr: &str) -> Option<Value> {
        let LocalRateLimits::List(buckets) = l else {
            return None;
        };
        let mut out = Vec::new();
        for (i, b) in buckets.iter().enumerate() {
            let unit = match crate::config::parse_duration(&b.fill_interval).map(|d| d.as_millis())
            {
                Some(1000) => "Seconds",
                Some(60_000) => "Minutes",
                Some(3_600_000) => "Hours",
                _ => {
                    self.finding(
                        &super::coverage::K8S_NOT_MAPPED,
                        &format!("{ptr}/{i}/fillInterval"),
                        format!("a bucket refilled every `{}`: the CRD refills once a second, minute or hour", b.fill_interval),
                        "use `fillInterval: 1s`, `1m` or `1h` and scale `tokensPerFill`",
                    );
                    return None;
                }
            };
            if b.tokens_per_fill == 0 || b.max_tokens < b.tokens_per_fill {
                return None;
            }
            let kind = if b.kind == Some(RateLimitKind::Tokens) {
                "tokens"
            } else {
                "requests"
            };
            out.push(json!({kind: b.tokens_per_fill, "unit": unit, "burst": b.max_tokens - b.tokens_per_fill}));
        }
        self.use_ptr(ptr);
        Some(Value::Array(out))
    }
}

fn header_modifier(m: &HeaderModifier) -> Option<Value> {
    let mut out = Map::new();
    let pairs = |map: &indexmap::IndexMap<String, String>| -> Value {
        Value::Array(
            map.iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect(),
        )
    };
    if !m.add.is_empty() {
        out.insert("add".into(), pairs(&m.add));
    }
    if !m.set.is_empty() {
        out.insert("set".into(), pairs(&m.set));
    }
    if !m.remove.is_empty() {
        out.insert("remove".into(), json!(m.remove));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn location(l: &AuthorizationLocation) -> Value {
    if let Some(h) = &l.header {
        let mut v = json!({"header": {"name": h.name}});
        if let Some(p) = &h.prefix {
            v["header"]["prefix"] = json!(p);
        }
        v
    } else if let Some(q) = &l.query_parameter {
        json!({"queryParameter": {"name": q.name}})
    } else if let Some(c) = &l.cookie {
        json!({"cookie": {"name": c.name}})
    } else {
        json!({"expression": l.expression.clone().unwrap_or_default()})
    }
}

fn mode_name(m: AuthMode) -> &'static str {
    match m {
        AuthMode::Strict => "Strict",
        AuthMode::Optional => "Optional",
        AuthMode::Permissive => "Permissive",
    }
}

fn provider_name(p: &Provider) -> &'static str {
    match p {
        Provider::Okta(_) => "Okta",
        Provider::Keycloak(_) => "Keycloak",
        Provider::Auth0(_) => "Auth0",
        Provider::Descope(_) => "Descope",
        Provider::Authentik(_) => "Authentik",
        Provider::Entra(_) => "Entra",
    }
}
