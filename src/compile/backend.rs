//! Backends -> `AgentgatewayBackend`s: MCP backends as `spec.mcp` with `static` targets, plain
//! `host:port` upstreams as `spec.static`. A stdio target has no Kubernetes form: it is a finding,
//! or, with `--stdio-as-deployment IMAGE`, a Deployment and a Service that serve MCP over HTTP.

use serde_json::{json, Map, Value};

use super::{names, Compiler, AGW_API};
use crate::config::mcp::{
    FailureMode, McpBackend, McpTarget, PrefixMode, StatefulMode, StdioTarget,
};

crate::rules! {
    K8S_STDIO_TARGET {
        id: "k8s/stdio-target",
        severity: Warning,
        summary: "an MCP stdio target, which a gateway in a cluster cannot run",
        why: "A stdio target is a child process of the local gateway, and a gateway in a cluster has no way to run it, so the target cannot be written. Run the server in its HTTP mode as a Deployment and Service (`agw compile --stdio-as-deployment IMAGE` writes them and points a `static` target at the Service), or keep the local file and run it with the standalone chart.",
        gateway: "An AgentgatewayBackend's MCP targets are `static` hosts or `selector`s of Services, with no stdio form (agentgateway `controller/api/v1alpha1/agentgateway/agentgateway_backend_types.go`, `McpTargetSelector`).",
        example: "targets:\n- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}",
        use_instead: "targets:\n- name: everything\n  mcp: {host: http://everything.default.svc.cluster.local:3001/mcp}",
    }

    K8S_STDIO_AS_DEPLOYMENT {
        id: "k8s/stdio-as-deployment",
        severity: Note,
        summary: "a stdio target compiled to a Deployment and a Service",
        why: "With `--stdio-as-deployment IMAGE`, each stdio target becomes a Deployment running IMAGE (the target's command and arguments, its environment, `PORT=8080`) and a Service on port 8080; the target reaches it as `static` Streamable HTTP at `/mcp`. The image must serve MCP over HTTP there: a server's stdio command does not by itself. Environment values whose names look secret come from a Secret (`NAME-env`) that you create.",
        gateway: "",
        example: "",
        use_instead: "",
    }

    K8S_OPENAPI_TARGET {
        id: "k8s/openapi-target",
        severity: Warning,
        summary: "an OpenAPI target, which AgentgatewayBackend cannot express",
        why: "The local gateway turns an OpenAPI document into MCP tools, but a gateway in a cluster can only be pointed at MCP servers, so the target cannot be written. Serve the API through an MCP server of its own and point a `static` target at it, or keep this target in a local gateway.",
        gateway: "An AgentgatewayBackend's MCP targets are MCP servers, `static` or selected Services, with no OpenAPI form (agentgateway `controller/api/v1alpha1/agentgateway/agentgateway_backend_types.go`, `McpTargetSelector` and `McpTarget`).",
        example: "",
        use_instead: "",
    }
}

/// The port and path a server started by `--stdio-as-deployment` must serve MCP on.
pub const STDIO_HTTP_PORT: u32 = 8080;
const STDIO_HTTP_PATH: &str = "/mcp";

impl Compiler<'_> {
    /// The AgentgatewayBackend of an MCP backend, or `None` when none of its targets maps.
    pub(super) fn mcp_backend(&mut self, m: &McpBackend, ptr: &str, route: &str) -> Option<String> {
        let name = self.name("AgentgatewayBackend", Some(route), "mcp");
        let mut targets = Vec::new();
        for (i, t) in m.targets.iter().enumerate() {
            let tptr = format!("{ptr}/targets/{i}");
            if let Some(v) = self.mcp_target(t, &tptr, &name) {
                targets.push(v);
            }
        }
        let mut mcp = Map::new();
        let modes = [
            (
                "prefixMode",
                "prefixMode",
                m.prefix_mode.map(|p| match p {
                    PrefixMode::Always => "Always",
                    PrefixMode::Conditional => "Conditional",
                    PrefixMode::Never => "Never",
                }),
            ),
            (
                "failureMode",
                "failureMode",
                m.failure_mode.map(|f| match f {
                    FailureMode::FailClosed => "FailClosed",
                    FailureMode::FailOpen => "FailOpen",
                }),
            ),
            (
                "statefulMode",
                "sessionRouting",
                m.stateful_mode.map(|s| match s {
                    StatefulMode::Stateful => "Stateful",
                    StatefulMode::Stateless => "Stateless",
                }),
            ),
        ];
        for (local, crd, value) in modes {
            if let Some(v) = value {
                self.use_ptr(format!("{ptr}/{local}"));
                mcp.insert(crd.into(), json!(v));
            }
        }
        if m.dns_rebinding_protection.is_some() {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &format!("{ptr}/dnsRebindingProtection"),
                "`dnsRebindingProtection` has no field in AgentgatewayBackend".into(),
                "in a cluster the Gateway's hostnames and the HTTPRoute's `hostnames` decide which Host headers reach the backend; set them instead",
            );
        }
        self.use_ptr(format!("{ptr}/targets"));
        if targets.is_empty() {
            return None;
        }
        mcp.insert("targets".into(), Value::Array(targets));
        self.push_backend(&name, json!({"mcp": mcp}));
        Some(name)
    }

    fn push_backend(&mut self, name: &str, spec: Value) {
        let b = json!({
            "apiVersion": format!("{AGW_API}/v1alpha1"),
            "kind": "AgentgatewayBackend",
            "metadata": self.meta(name),
            "spec": spec,
        });
        self.backends.push(b);
    }

    fn mcp_target(&mut self, t: &McpTarget, ptr: &str, backend: &str) -> Option<Value> {
        self.use_ptr(format!("{ptr}/name"));
        let name = if crate::config::is_dns_subdomain(&t.name) {
            t.name.clone()
        } else {
            let to = names::label(&t.name).unwrap_or_else(|| "target".into());
            self.note_renamed(&format!("{ptr}/name"), &t.name, &to);
            to
        };
        let (http, protocol, key) = if let Some(h) = &t.mcp {
            (h, "StreamableHTTP", "mcp")
        } else if let Some(h) = &t.sse {
            (h, "SSE", "sse")
        } else if let Some(s) = &t.stdio {
            return self.stdio_target(s, &name, &format!("{ptr}/stdio"), backend);
        } else {
            self.finding(
                &K8S_OPENAPI_TARGET,
                &format!("{ptr}/openapi"),
                format!("the OpenAPI target `{}` has no AgentgatewayBackend form", t.name),
                "serve the API through an MCP server of its own (a Deployment and Service), and point a `static` target at it; or keep this target in a local gateway",
            );
            return None;
        };
        let tptr = format!("{ptr}/{key}");
        if let Some(b) = &http.backend {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                &format!("{tptr}/backend"),
                format!("the target `{}` reaches its server through the backend `{b}`, which an MCP target's `static` form cannot name", t.name),
                "give the target the server's `host`, `port` and `path`",
            );
            return None;
        }
        let endpoint = Endpoint::of(http.host.as_deref()?, http.port, http.path.as_deref())?;
        self.use_ptr(tptr);
        let mut fields = json!({"host": endpoint.host, "port": endpoint.port, "path": endpoint.path.unwrap_or_else(|| default_path(protocol).into()), "protocol": protocol});
        let mut policies = Map::new();
        if endpoint.tls {
            policies.insert("tls".into(), json!({"sni": endpoint.host}));
        }
        let auth = t.policies.as_ref().and_then(|p| p.backend_auth.as_ref());
        if let Some(auth) = auth {
            let aptr = format!("{ptr}/policies/backendAuth");
            if let Some(v) = self.backend_auth(&auth.value, &aptr, &format!("{backend}-{name}")) {
                policies.insert("auth".into(), v);
            }
        }
        if !policies.is_empty() {
            fields["policies"] = Value::Object(policies);
        }
        Some(json!({"name": name, "static": fields}))
    }

    /// A target's `backendAuth`: a key becomes a reference to a Secret (named after the target,
    /// with the key under `Authorization`, where the controller reads it), never the key itself.
    fn backend_auth(&mut self, auth: &Value, ptr: &str, owner: &str) -> Option<Value> {
        if auth.get("passthrough").is_some() {
            self.use_ptr(ptr);
            return Some(json!({"passthrough": {}}));
        }
        let key = auth.get("key")?;
        let secret =
            names::label(&format!("{owner}-auth")).unwrap_or_else(|| "backend-auth".into());
        let from = match key.get("file").and_then(Value::as_str) {
            Some(file) => format!("--from-file=Authorization={file}"),
            None => "--from-literal=Authorization=...".to_string(),
        };
        self.use_ptr(ptr);
        self.secrets.push(format!(
            "kubectl create secret generic {secret} {from} -n {}",
            self.opts.namespace
        ));
        Some(json!({"secretRef": {"name": secret}}))
    }

    fn stdio_target(
        &mut self,
        s: &StdioTarget,
        name: &str,
        ptr: &str,
        backend: &str,
    ) -> Option<Value> {
        let Some(image) = self.opts.stdio_image.clone() else {
            self.finding(
                &K8S_STDIO_TARGET,
                ptr,
                format!("the stdio target `{name}` runs `{}` as a child process of the gateway; an AgentgatewayBackend has no stdio target", s.cmd),
                "run the server in its HTTP mode as a Deployment and Service (`agw compile --stdio-as-deployment IMAGE` writes them), or keep the local file and run it with the standalone chart",
            );
            return None;
        };
        self.use_ptr(ptr);
        let app = self.name(
            "Deployment",
            Some(&format!("{backend}-{name}")),
            "mcp-server",
        );
        let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/managed-by": "agw"});
        let mut env = vec![json!({"name": "PORT", "value": STDIO_HTTP_PORT.to_string()})];
        let secret_name = format!("{app}-env");
        let mut secret_keys = Vec::new();
        for (k, v) in &s.env {
            if looks_secret(k) {
                secret_keys.push(k.clone());
                env.push(json!({"name": k, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": k}}}));
            } else {
                env.push(json!({"name": k, "value": v}));
            }
        }
        if !secret_keys.is_empty() {
            let literals: Vec<String> = secret_keys
                .iter()
                .map(|k| format!("--from-literal={k}=..."))
                .collect();
            self.secrets.push(format!(
                "kubectl create secret generic {secret_name} {} -n {}",
                literals.join(" "),
                self.opts.namespace
            ));
        }
        let mut container = json!({
            "name": "mcp",
            "image": image,
            "command": [s.cmd],
            "env": env,
            "ports": [{"name": "http", "containerPort": STDIO_HTTP_PORT}],
        });
        if !s.args.is_empty() {
            container["args"] = json!(s.args);
        }
        self.workloads.push(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app, "namespace": self.opts.namespace, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }));
        self.workloads.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": app, "namespace": self.opts.namespace, "labels": labels},
            "spec": {
                "selector": {"app.kubernetes.io/name": app},
                "ports": [{"name": "http", "port": STDIO_HTTP_PORT, "targetPort": "http"}],
            },
        }));
        self.report(
            &K8S_STDIO_AS_DEPLOYMENT,
            self.key_span(ptr),
            "runs in its own pod",
            format!("the stdio target `{name}` becomes the Deployment and Service `{app}`, running `{image}`"),
            format!(
                "the image must serve MCP over Streamable HTTP on port {STDIO_HTTP_PORT} (it gets `PORT={STDIO_HTTP_PORT}`) at `{STDIO_HTTP_PATH}`: the stdio command itself does not"
            ),
        );
        Some(json!({"name": name, "static": {
            "host": format!("{app}.{}.svc.cluster.local", self.opts.namespace),
            "port": STDIO_HTTP_PORT,
            "path": STDIO_HTTP_PATH,
            "protocol": "StreamableHTTP",
        }}))
    }

    /// A plain upstream, `host:port`.
    pub(super) fn static_backend(&mut self, host: &str, ptr: &str, route: &str) -> Option<String> {
        let Some((h, port)) = host
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u32>().ok()?)))
        else {
            self.finding(
                &super::coverage::K8S_NOT_MAPPED,
                ptr,
                format!("the backend `{host}` is not `host:port`"),
                "write the upstream as `host:port`",
            );
            return None;
        };
        self.use_ptr(ptr);
        let name = self.name("AgentgatewayBackend", Some(route), "backend");
        let h = h.trim_start_matches('[').trim_end_matches(']');
        self.push_backend(&name, json!({"static": {"host": h, "port": port}}));
        Some(name)
    }

    /// A top-level `backends` entry, compiled once however many routes use it.
    pub(super) fn named_backend(&mut self, name: &str, ptr: &str) -> Option<String> {
        self.use_ptr(ptr);
        if let Some(done) = self.named_backends.get(name) {
            return done.clone();
        }
        let found = self
            .cfg
            .backends
            .iter()
            .enumerate()
            .find(|(_, b)| b.name == name);
        let compiled = match found {
            Some((i, b)) => {
                let bptr = format!("/backends/{i}");
                self.use_ptr(format!("{bptr}/name"));
                if let Some(m) = &b.mcp {
                    self.mcp_backend(m, &format!("{bptr}/mcp"), name)
                } else if let Some(h) = &b.host {
                    self.static_backend(h, &format!("{bptr}/host"), name)
                } else {
                    None
                }
            }
            None => None,
        };
        self.named_backends
            .insert(name.to_string(), compiled.clone());
        compiled
    }
}

/// Where an HTTP target's server is.
struct Endpoint {
    host: String,
    port: u32,
    path: Option<String>,
    tls: bool,
}

impl Endpoint {
    /// `{host: URL}` or `{host, port, path}`.
    fn of(host: &str, port: Option<u32>, path: Option<&str>) -> Option<Endpoint> {
        if let Some((scheme, rest)) = host.split_once("://") {
            let tls = scheme.eq_ignore_ascii_case("https");
            let (authority, path_part) = match rest.find('/') {
                Some(i) => (&rest[..i], Some(rest[i..].to_string())),
                None => (rest, None),
            };
            let (h, p) = crate::config::url::split_host_port(authority)?;
            let p = p.map_or(if tls { 443 } else { 80 }, u32::from);
            return Some(Endpoint {
                host: h.trim_start_matches('[').trim_end_matches(']').to_string(),
                port: port.unwrap_or(p),
                path: path.map(str::to_string).or(path_part),
                tls,
            });
        }
        Some(Endpoint {
            host: host.to_string(),
            port: port?,
            path: path.map(str::to_string),
            tls: false,
        })
    }
}

fn default_path(protocol: &str) -> &'static str {
    if protocol == "SSE" {
        "/sse"
    } else {
        "/mcp"
    }
}

/// An environment variable or key whose value should live in a Secret.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "PRIVATE",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_of_urls_and_parts() {
        let e = Endpoint::of("https://mcp.example.com/v1/mcp", None, None).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_deref(), e.tls),
            ("mcp.example.com", 443, Some("/v1/mcp"), true)
        );
        let e = Endpoint::of("http://localhost:3001/mcp", None, None).unwrap();
        assert_eq!((e.host.as_str(), e.port), ("localhost", 3001));
        let e = Endpoint::of("http://[::1]:8080", None, None).unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path), ("::1", 8080, None));
        let e = Endpoint::of("https://[::1]/mcp", None, None).unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 443));
        let e = Endpoint::of("svc.ns", Some(9000), Some("/mcp")).unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("svc.ns", 9000, false));
        assert!(Endpoint::of("svc.ns", None, None).is_none());
    }

    #[test]
    fn secret_names() {
        assert!(looks_secret("GITHUB_TOKEN"));
        assert!(looks_secret("openai_api_key"));
        assert!(!looks_secret("LOG_LEVEL"));
    }
}
