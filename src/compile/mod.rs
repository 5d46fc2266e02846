//! `agw compile --to kubernetes`: a checked local file as the resources agentgateway's
//! controller reads (Gateway API `Gateway` and `HTTPRoute`, `AgentgatewayBackend`,
//! `AgentgatewayPolicy`).
//!
//! Every part of the file that the compiler turns into a resource is marked as used; a part
//! that is neither used nor named by a specific finding gets `k8s/not-mapped` at its key, so
//! nothing is dropped without a word. The shapes written follow the CRDs of the controller at
//! the gateway's main line (`controller/api/v1alpha1/agentgateway/*_types.go`) and Gateway API
//! v1, and the translations it makes (`controller/pkg/agentgateway/plugins`): a local rate limit
//! becomes `requests` per `unit` with `burst` as the controller turns them back into a bucket.

pub(crate) mod backend;
pub(crate) mod coverage;
pub mod emit;
mod filters;
pub(crate) mod gateway;
pub mod names;
pub(crate) mod policy;
mod route;
pub mod verify;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::config::Config;
use crate::diag::{Diagnostic, Rule};
use crate::source::{PointerIndex, Span};

crate::rules! {
    K8S_SECRET_VALUE {
        id: "k8s/secret-value",
        severity: Error,
        summary: "a value from the environment that looks secret would be written into a manifest",
        why: "Manifests end up in Git. A value that came from an environment variable whose name looks secret (`*_TOKEN`, `*_SECRET`, `*_API_KEY`, passwords) is never written in plain text: put it in a Secret and refer to it.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

pub const GATEWAY_API: &str = "gateway.networking.k8s.io";
pub const AGW_API: &str = "agentgateway.dev";

/// What the command line says about the target cluster.
#[derive(Debug, Clone)]
pub struct Options {
    pub namespace: String,
    pub gateway_class: String,
    /// The name of the Gateway made of `binds` (default: from the file name).
    pub name: String,
    /// Where relative files (JWKS, certificates) are read from, as for `agw check`.
    pub root: PathBuf,
    /// Run stdio MCP servers as a Deployment of this image, serving MCP over HTTP.
    pub stdio_image: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: "default".into(),
            gateway_class: "agentgateway".into(),
            name: "agentgateway".into(),
            root: PathBuf::from("."),
            stdio_image: None,
        }
    }
}

/// The manifests, in a stable order, and what could not be expressed.
#[derive(Debug, Default)]
pub struct Compiled {
    pub manifests: Vec<Value>,
    pub findings: Vec<Diagnostic>,
    /// Secrets to create before applying (TLS keys are never written into a manifest).
    pub secrets: Vec<String>,
}

struct Compiler<'a> {
    cfg: &'a Config,
    index: &'a PointerIndex,
    opts: &'a Options,
    used: BTreeSet<String>,
    findings: Vec<Diagnostic>,
    gateways: Vec<Value>,
    routes: Vec<Value>,
    backends: Vec<Value>,
    policies: Vec<Value>,
    workloads: Vec<Value>,
    secrets: Vec<String>,
    names: HashMap<&'static str, names::Unique>,
    /// Named top-level backends already compiled: local name -> AgentgatewayBackend name.
    named_backends: HashMap<String, Option<String>>,
}

pub fn compile(cfg: &Config, index: &PointerIndex, opts: &Options) -> Compiled {
    let mut c = Compiler {
        cfg,
        index,
        opts,
        used: BTreeSet::new(),
        findings: Vec::new(),
        gateways: Vec::new(),
        routes: Vec::new(),
        backends: Vec::new(),
        policies: Vec::new(),
        workloads: Vec::new(),
        secrets: Vec::new(),
        names: HashMap::new(),
        named_backends: HashMap::new(),
    };
    let topology = crate::config::topology::resolve(cfg);
    let parents = c.gateways(&topology);
    c.routes_of(&topology, &parents);
    c.shorthand(&topology, &parents);
    c.report_unused();
    let mut manifests = Vec::new();
    manifests.append(&mut c.gateways);
    manifests.append(&mut c.routes);
    manifests.append(&mut c.backends);
    manifests.append(&mut c.policies);
    manifests.append(&mut c.workloads);
    let mut findings = c.findings;
    findings.extend(verify::manifests(&manifests));
    Compiled {
        manifests,
        findings,
        secrets: c.secrets,
    }
}

impl Compiler<'_> {
    /// A unique name for a resource of `kind`.
    fn name(&mut self, kind: &'static str, wanted: Option<&str>, fallback: &str) -> String {
        self.names.entry(kind).or_default().take(wanted, fallback)
    }

    fn meta(&self, name: &str) -> Value {
        json!({"name": name, "namespace": self.opts.namespace})
    }

    /// Marks the node at `ptr` (and everything under it) as expressed by a manifest or a finding.
    fn use_ptr(&mut self, ptr: impl Into<String>) {
        self.used.insert(ptr.into());
    }

    fn has(&self, ptr: &str) -> bool {
        self.index.get(ptr).is_some()
    }

    fn key_span(&self, ptr: &str) -> Span {
        self.index
            .lookup(ptr)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    /// A finding at the key of `ptr`, which it accounts for.
    fn finding(&mut self, rule: &'static Rule, ptr: &str, message: String, help: &str) {
        self.use_ptr(ptr);
        self.report(rule, self.key_span(ptr), "here", message, help.to_string());
    }

    fn report(
        &mut self,
        rule: &'static Rule,
        span: Span,
        label: &str,
        message: String,
        help: String,
    ) {
        let d = Diagnostic::new(rule, message).at(span, label).help(help);
        self.findings.push(d);
    }
}

/// `agw compile` output: a comment naming the source and agw's version, the secrets to create,
/// then one YAML document per manifest.
pub fn render(compiled: &Compiled, source: &str) -> String {
    let mut out = format!(
        "# Generated by agw {} from {source} (agw compile --to kubernetes); regenerate instead of editing.\n",
        env!("CARGO_PKG_VERSION")
    );
    for s in &compiled.secrets {
        out.push_str(&format!("# Create first: {s}\n"));
    }
    out.push_str(&emit::documents(&compiled.manifests));
    out
}

/// A Go-style duration as the CRDs take it (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`): `90s` becomes
/// `1m30s`; `None` for what that cannot write (below a millisecond, or more than 99999 hours).
pub fn k8s_duration(d: std::time::Duration) -> Option<String> {
    let ms = d.as_millis();
    if ms == 0 || !d.as_nanos().is_multiple_of(1_000_000) {
        return None;
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    if h > 99_999 {
        return None;
    }
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    Some(out)
}

/// Values from the environment whose variables look secret and that the rendered manifests
/// would carry: each a `k8s/secret-value` finding at the reference, so that nothing is written.
pub fn secret_leaks(
    rendered: &str,
    text: &str,
    env: &crate::source::EnvOptions,
) -> Vec<Diagnostic> {
    let expanded = crate::source::env::expand(text, env);
    let mut out = Vec::new();
    for (value, reference) in expanded.env_values(text) {
        if value.len() < 4 || !backend::looks_secret(&reference) || !rendered.contains(&value) {
            continue;
        }
        let start = text.find(&reference).unwrap_or_default();
        out.push(
            Diagnostic::new(
                &K8S_SECRET_VALUE,
                format!("the value of `{reference}` looks secret and would be written into a manifest"),
            )
            .at(Span::new(start, start + reference.len()), "from the environment")
            .help("put it in a Secret and refer to it from a resource of your own; agw writes no secret in plain text"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_are_written_as_the_crds_take_them() {
        assert_eq!(
            k8s_duration(Duration::from_secs(90)).as_deref(),
            Some("1m30s")
        );
        assert_eq!(
            k8s_duration(Duration::from_millis(1500)).as_deref(),
            Some("1s500ms")
        );
        assert_eq!(
            k8s_duration(Duration::from_secs(7200)).as_deref(),
            Some("2h")
        );
        assert_eq!(k8s_duration(Duration::from_micros(10)), None);
        assert_eq!(k8s_duration(Duration::ZERO), None);
    }
}
