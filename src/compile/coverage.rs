//! What the compiler did not express: every part of the file that no manifest and no finding
//! accounts for gets `k8s/not-mapped` at its key, the whole part at once (one finding for an
//! `llm:` block, not one per key in it).

use serde_json::Value;

use super::Compiler;

crate::rules! {
    K8S_NOT_MAPPED {
        id: "k8s/not-mapped",
        severity: Warning,
        summary: "a part of the file that `agw compile --to kubernetes` cannot express",
        why: "The Kubernetes resources agentgateway's controller reads (Gateway, HTTPRoute, AgentgatewayBackend, AgentgatewayPolicy) have no field for this part of the local file, or agw does not write it yet. The compile is lossy: it exits 1 unless `--allow-lossy`, so that nothing is dropped without a word. The finding names the part and the way out (a resource of your own, or keeping a local gateway for it); README.md has the table of every construct and what it becomes.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

impl Compiler<'_> {
    pub(super) fn report_unused(&mut self) {
        let doc = serde_json::to_value(self.cfg).unwrap_or_default();
        let mut unused = Vec::new();
        self.walk(&doc, "", &mut unused);
        for ptr in unused {
            let key = ptr
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace("~1", "/")
                .replace("~0", "~");
            let what = if key.parse::<usize>().is_ok() {
                "this entry".to_string()
            } else {
                format!("`{key}`")
            };
            self.finding(
                &K8S_NOT_MAPPED,
                &ptr,
                format!("{what} has no Kubernetes form that agw writes"),
                "configure it on the cluster's side (an AgentgatewayPolicy or AgentgatewayParameters of your own, or the Helm values), or keep it in a local gateway; README.md has the table of what maps",
            );
        }
    }

    /// The pointers under `ptr` that are written in the file, not used, and have nothing used
    /// below them.
    fn walk(&self, v: &Value, ptr: &str, out: &mut Vec<String>) {
        if self.covered(ptr) {
            return;
        }
        let below = format!("{ptr}/");
        let used_below = self
            .used
            .range(below.clone()..)
            .next()
            .is_some_and(|u| u.starts_with(&below));
        // a `policies` block is a list of separate policies: each is reported by its own key
        let grouping = ptr.ends_with("/policies") && v.is_object();
        if !used_below && !grouping {
            if !ptr.is_empty() && self.has(ptr) && !is_empty(v) {
                out.push(ptr.to_string());
            }
            if !ptr.is_empty() {
                return;
            }
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    self.walk(child, &crate::source::yaml::push_token(ptr, k), out);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    self.walk(child, &format!("{ptr}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    /// Whether `ptr` or a node above it is used.
    fn covered(&self, ptr: &str) -> bool {
        ptr.match_indices('/')
            .map(|(i, _)| &ptr[..i])
            .chain(std::iter::once(ptr))
            .any(|p| !p.is_empty() && self.used.contains(p))
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
