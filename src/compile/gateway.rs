//! Ports and listeners -> `Gateway` resources: `binds` (and the `mcp:` shorthand's own port)
//! become one Gateway, each entry of `gateways` one more. TLS certificates are referred to as
//! `kubernetes.io/tls` Secrets that the user creates; their keys are never written out.

use serde_json::{json, Map, Value};

use super::{names, Compiler, GATEWAY_API};
use crate::config::listener::{GatewayPolicies, Listener, ListenerProtocol, ServerTls};
use crate::config::topology::Topology;

crate::rules! {
    K8S_RENAMED {
        id: "k8s/renamed",
        severity: Note,
        summary: "a name that Kubernetes takes in another spelling",
        why: "Kubernetes names are lowercase DNS labels, so agw writes `My_Route` as `my-route`. A renamed MCP target changes the prefix of its tool names (`my-target_echo`), which clients see; rename it in the local file too.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

/// Where a route attaches: a Gateway, and one of its listeners unless it is all of them.
#[derive(Debug, Clone)]
pub struct Parent {
    pub gateway: String,
    pub section: Option<String>,
}

impl Parent {
    pub fn reference(&self) -> Value {
        let mut r = json!({"group": GATEWAY_API, "kind": "Gateway", "name": self.gateway});
        if let Some(s) = &self.section {
            r["sectionName"] = json!(s);
        }
        r
    }
}

/// The parents of the file's listeners, in the order of [`Topology::listeners`].
#[derive(Debug, Default)]
pub struct Parents {
    /// The Gateway listener each listener of the topology became, if it did.
    pub by_listener: Vec<Option<Parent>>,
    /// The listener the `mcp:` shorthand has on a port of its own.
    pub shorthand: Option<Parent>,
}

impl Compiler<'_> {
    pub(super) fn gateways(&mut self, t: &Topology) -> Parents {
        let mut parents = Parents {
            by_listener: vec![None; t.listeners.len()],
            shorthand: None,
        };
        // binds (and the shorthand's own port) are one Gateway; an internal bind serves no
        // client, and is left to the findings
        let main = self.opts.name.clone();
        let mut listeners = Vec::new();
        let mut sections = names::Unique::default();
        for (i, l) in t.listeners.iter().enumerate() {
            let (None, false, Some(port)) = (l.gateway, l.internal, l.port) else {
                continue;
            };
            if let Some((bind, _)) = l.ptr.rsplit_once("/listeners/") {
                self.use_ptr(format!("{bind}/port"));
            }
            let at = Place {
                gateway: &main,
                ptr: &l.ptr,
                port,
            };
            parents.by_listener[i] = self.attach(&at, &l.listener, &mut sections, &mut listeners);
        }
        if let Some(port) = t.shorthand_port {
            self.use_ptr("/mcp/port");
            let section = sections.take(Some(&format!("mcp-{port}")), "mcp");
            listeners.push(json!({"name": section, "port": port, "protocol": "HTTP"}));
            parents.shorthand = Some(Parent {
                gateway: main.clone(),
                section: Some(section),
            });
        }
        if !listeners.is_empty() {
            let name = self.name("Gateway", Some(&main), "agentgateway");
            self.push_gateway(&name, listeners);
        }
        for (key, g) in &self.cfg.gateways {
            let name = self.name("Gateway", Some(key), "gateway");
            self.use_ptr(format!(
                "{}/port",
                crate::source::yaml::push_token("/gateways", key)
            ));
            let mut sections = names::Unique::default();
            let mut listeners = Vec::new();
            for (i, l) in t.listeners.iter().enumerate() {
                if l.gateway != Some(key.as_str()) {
                    continue;
                }
                let at = Place {
                    gateway: &name,
                    ptr: &l.ptr,
                    port: g.port,
                };
                parents.by_listener[i] =
                    self.attach(&at, &l.listener, &mut sections, &mut listeners);
            }
            if !listeners.is_empty() {
                self.push_gateway(&name, listeners);
            }
        }
        parents
    }

    /// One local listener as a listener of its Gateway (pushed on `listeners`), with its
    /// policies; the parent its routes attach to.
    fn attach(
        &mut self,
        at: &Place,
        l: &Listener,
        sections: &mut names::Unique,
        listeners: &mut Vec<Value>,
    ) -> Option<Parent> {
        let (listener, section) = self.listener(at.gateway, sections, l, at.ptr, at.port)?;
        listeners.push(listener);
        let parent = Parent {
            gateway: at.gateway.to_string(),
            section: Some(section),
        };
        if let Some(p) = &l.policies {
            self.gateway_policies(p, &format!("{}/policies", at.ptr), &parent);
        }
        Some(parent)
    }

    fn push_gateway(&mut self, name: &str, listeners: Vec<Value>) {
        let g = json!({
            "apiVersion": format!("{GATEWAY_API}/v1"),
            "kind": "Gateway",
            "metadata": self.meta(name),
            "spec": {"gatewayClassName": self.opts.gateway_class, "listeners": listeners},
        });
        self.gateways.push(g);
    }

    /// One Gateway listener, and its section name.
    fn listener(
        &mut self,
        gateway: &str,
        sections: &mut names::Unique,
        l: &Listener,
        lptr: &str,
        port: u32,
    ) -> Option<(Value, String)> {
        let protocol = match l.protocol() {
            ListenerProtocol::HTTP => "HTTP",
            ListenerProtocol::HTTPS => "HTTPS",
            ListenerProtocol::TLS => "TLS",
            ListenerProtocol::TCP => "TCP",
            ListenerProtocol::HBONE => {
                self.finding(
                    &super::coverage::K8S_NOT_MAPPED,
                    &format!("{lptr}/protocol"),
                    "an HBONE listener has no Gateway API listener".into(),
                    "leave this listener out of the compiled file, or keep a local gateway for it",
                );
                return None;
            }
        };
        if !(1..=65535).contains(&port) {
            return None;
        }
        self.use_ptr(format!("{lptr}/protocol"));
        let fallback = format!("{}-{port}", protocol.to_ascii_lowercase());
        let section = sections.take(l.name.as_deref(), &fallback);
        self.use_ptr(format!("{lptr}/name"));
        if l.name.as_deref().is_some_and(|n| n != section) {
            self.note_renamed(
                &format!("{lptr}/name"),
                l.name.as_deref().unwrap_or_default(),
                &section,
            );
        }
        let mut out = Map::new();
        out.insert("name".into(), json!(section));
        if let Some(h) = &l.hostname {
            self.use_ptr(format!("{lptr}/hostname"));
            if h != "*" && protocol != "TCP" {
                if is_gateway_hostname(h) {
                    out.insert("hostname".into(), json!(h));
                } else {
                    self.finding(
                        &super::coverage::K8S_NOT_MAPPED,
                        &format!("{lptr}/hostname"),
                        format!("hostname `{h}` is not a Gateway API hostname (lowercase DNS name, `*.` at most in front)"),
                        "write the hostname in lowercase, without a port",
                    );
                }
            }
        }
        out.insert("port".into(), json!(port));
        out.insert("protocol".into(), json!(protocol));
        match &l.tls {
            Some(tls) if matches!(protocol, "HTTPS" | "TLS") => {
                if let Some(t) = self.tls(gateway, &section, tls, &format!("{lptr}/tls")) {
                    out.insert("tls".into(), t);
                }
            }
            // a TLS listener without certificates reads the SNI and passes the stream on
            None if protocol == "TLS" => {
                out.insert("tls".into(), json!({"mode": "Passthrough"}));
            }
            _ => {}
        }
        Some((Value::Object(out), section))
    }

    fn tls(&mut self, gateway: &str, section: &str, tls: &ServerTls, ptr: &str) -> Option<Value> {
        let (Some(cert), Some(key)) = (&tls.cert, &tls.key) else {
            return None;
        };
        self.use_ptr(format!("{ptr}/cert"));
        self.use_ptr(format!("{ptr}/key"));
        let secret =
            names::label(&format!("{gateway}-{section}-tls")).unwrap_or_else(|| "tls".into());
        self.secrets.push(format!(
            "kubectl create secret tls {secret} --cert={cert} --key={key} -n {}",
            self.opts.namespace
        ));
        Some(json!({"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": secret}]}))
    }

    /// The policies of a listener (or of a gateway without listeners).
    fn gateway_policies(&mut self, p: &GatewayPolicies, ptr: &str, parent: &Parent) {
        let target = parent_target(parent);
        let base = format!(
            "{}-{}",
            parent.gateway,
            parent.section.as_deref().unwrap_or("all")
        );
        let mut traffic = Map::new();
        if let Some(j) = &p.jwt_auth {
            if let Some(v) = self.jwt_auth(j, &format!("{ptr}/jwtAuth")) {
                traffic.insert("jwtAuthentication".into(), v);
            }
        }
        if let Some(c) = &p.cors {
            if let Some(v) = self.cors(c, &format!("{ptr}/cors")) {
                traffic.insert("cors".into(), v);
            }
        }
        self.push_traffic_policy(&base, target.clone(), traffic);
        if let Some(a) = &p.authorization {
            self.authorization(a, &format!("{ptr}/authorization"), &base, &target, false);
        }
    }

    /// A name written for a resource that Kubernetes does not take as it is.
    pub(super) fn note_renamed(&mut self, ptr: &str, from: &str, to: &str) {
        let span = self.index.lookup(ptr).map(|s| s.value).unwrap_or_default();
        self.report(
            &K8S_RENAMED,
            span,
            "renamed",
            format!(
                "`{from}` is written `{to}` in Kubernetes, whose names are lowercase DNS labels"
            ),
            format!("name it `{to}` in the local file too, so that both agree"),
        );
    }
}

/// Where a local listener goes: its Gateway, its pointer and its port.
struct Place<'a> {
    gateway: &'a str,
    ptr: &'a str,
    port: u32,
}

/// A policy target for a parent: the Gateway, and its listener when there is one.
pub fn parent_target(parent: &Parent) -> Value {
    let mut t = json!({"group": GATEWAY_API, "kind": "Gateway", "name": parent.gateway});
    if let Some(s) = &parent.section {
        t["sectionName"] = json!(s);
    }
    t
}

fn is_gateway_hostname(h: &str) -> bool {
    let rest = h.strip_prefix("*.").unwrap_or(h);
    h.len() <= 253 && !rest.contains('*') && crate::config::is_dns_subdomain(rest)
}
