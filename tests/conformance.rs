//! agw's schema against the gateway's own: the JSON schema agentgateway publishes for its local
//! configuration file (generated from its Rust types), for every release agw judges. The two are
//! walked side by side from the root; at every object both reach, the property names, the keys
//! every variant requires, the enum values and the value types must agree, except for the short
//! list of deviations below, each with its reason.
//!
//! The gateway's schemas are read from `$AGW_UPSTREAM_DIR` (`ci/test.sh` sets it); adding a
//! release is: drop its schema there, regenerate `src/config/surface/generated.rs` with
//! `tools/gen_surface.py`, run this test and follow what it lists.

mod common;

use common::upstream::{agw_schema, upstream_schemas};

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

/// `(release, pointer pattern, kind, reason)`: the differences agw keeps on purpose. `*` in a
/// release matches every release; the pattern matches the end of the path.
const DEVIATIONS: &[(&str, &str, &str, &str)] = &[
    ("*", "/gateways/*", "required", "agw requires `port`: the gateway's loader refuses a gateway without one (\"gateways.NAME.port is required\")"),
    ("*", "/mcpAuthentication", "required", "agw reports a missing `audiences` or `resourceMetadata` with its own rules (auth/audiences-missing, auth/resource-metadata-missing), which carry the Okta hint and a fix, instead of a schema error that would stop every other check"),
    ("*", "/path", "enum", "`invalid` is the gateway's internal marker for a match it could not convert; no file needs to write it"),
    ("*", "/path", "types", "the same `invalid` marker (a string)"),
    ("*", "/value", "enum", "the same `invalid` marker, in header and query matches"),
    ("*", "/value", "types", "the same `invalid` marker (a string)"),
    ("*", "/authority", "enum", "`auto` and `none` are accepted as any keyword string: agw's model keeps the written word for the runtime"),
    ("*", "/processors/[]", "props", "the gateway nests a tagged choice inside a tagged choice here; agw describes the same keys one level down, and the walk compares them there"),
    ("*", "/metadata", "types", "free-form values: agw accepts any object where the gateway accepts any value of an API key's metadata"),
];

fn deviation(release: &str, path: &str, kind: &str) -> Option<&'static str> {
    DEVIATIONS
        .iter()
        .find(|(r, p, k, _)| (*r == "*" || *r == release) && *k == kind && path.ends_with(p))
        .map(|d| d.3)
}

struct Walk<'a> {
    upstream: &'a Value,
    agw: &'a Value,
    seen: HashSet<(String, String)>,
    diffs: Vec<(String, &'static str, Vec<String>, Vec<String>)>,
}

/// A schema node with `$ref`s resolved, as the alternatives it allows (`oneOf`/`anyOf`, with
/// the properties around them and `allOf` parts merged in); `null` alternatives are dropped,
/// since optional keys are written differently on both sides and mean the same.
fn variants(root: &Value, node: &Value, depth: usize) -> Vec<Map<String, Value>> {
    let mut node = node.as_object().cloned().unwrap_or_default();
    let mut hops = 0;
    while let Some(Value::String(r)) = node.get("$ref").cloned() {
        hops += 1;
        if hops > 64 {
            break;
        }
        let name = r.rsplit('/').next().unwrap_or_default();
        let defs = root.get("$defs").or_else(|| root.get("definitions"));
        let mut target = defs
            .and_then(|d| d.get(name))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        node.remove("$ref");
        for (k, v) in node {
            target.entry(k).or_insert(v);
        }
        node = target;
    }
    if depth > 16 {
        return vec![node];
    }
    let mut base = node.clone();
    for k in ["oneOf", "anyOf", "allOf"] {
        base.remove(k);
    }
    if let Some(Value::Array(parts)) = node.get("allOf") {
        for part in parts {
            for v in variants(root, part, depth + 1) {
                merge(&mut base, &v);
            }
        }
    }
    let alts = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array);
    let out = match alts {
        Some(alts) => alts
            .iter()
            .flat_map(|a| variants(root, a, depth + 1))
            .map(|v| {
                let mut m = base.clone();
                merge(&mut m, &v);
                for (k, x) in v {
                    if k != "properties" && k != "required" {
                        m.insert(k, x);
                    }
                }
                m
            })
            .collect(),
        None => vec![base],
    };
    out.into_iter().filter(|v| types(v) != ["null"]).collect()
}

fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    if let Some(Value::Object(p)) = from.get("properties") {
        let props = into
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            for (k, v) in p {
                props.entry(k.clone()).or_insert(v.clone());
            }
        }
    }
    if let Some(Value::Array(r)) = from.get("required") {
        let req = into
            .entry("required")
            .or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(req) = req {
            for x in r {
                if !req.contains(x) {
                    req.push(x.clone());
                }
            }
        }
    }
}

fn types(v: &Map<String, Value>) -> Vec<String> {
    match v.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        Some(_) => vec!["any".into()],
        None if v.contains_key("properties") => vec!["object".into()],
        None if v.contains_key("enum") || v.contains_key("const") => vec![],
        None => vec!["any".into()],
    }
}

fn is_object(v: &Map<String, Value>) -> bool {
    types(v).iter().any(|t| t == "object") || v.contains_key("properties")
}

fn enum_values(vs: &[Map<String, Value>]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in vs {
        if let Some(Value::Array(e)) = v.get("enum") {
            out.extend(e.iter().filter(|x| !x.is_null()).map(|x| x.to_string()));
        }
        if let Some(c) = v.get("const") {
            out.insert(c.to_string());
        }
    }
    out
}

fn set<'a>(it: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    it.map(String::from).collect()
}

impl Walk<'_> {
    fn walk(&mut self, path: &str, u: &Value, a: &Value, depth: usize) {
        if depth > 40 || !self.seen.insert((u.to_string(), a.to_string())) {
            return;
        }
        let uv = variants(self.upstream, u, 0);
        let av = variants(self.agw, a, 0);
        let (ue, ae) = (enum_values(&uv), enum_values(&av));
        if ue != ae {
            self.diff(path, "enum", &ue, &ae);
        }
        let flat = |vs: &[Map<String, Value>]| -> BTreeSet<String> {
            vs.iter().flat_map(types).filter(|t| t != "null").collect()
        };
        let (ut, at) = (flat(&uv), flat(&av));
        if ut != at && !at.contains("any") {
            self.diff(path, "types", &ut, &at);
        }
        let uo: Vec<_> = uv.iter().filter(|v| is_object(v)).collect();
        let ao: Vec<_> = av.iter().filter(|v| is_object(v)).collect();
        if !uo.is_empty() && !ao.is_empty() {
            let props = |vs: &[&Map<String, Value>]| {
                let mut m = Map::new();
                for v in vs {
                    if let Some(Value::Object(p)) = v.get("properties") {
                        for (k, s) in p {
                            m.entry(k.clone()).or_insert(s.clone());
                        }
                    }
                }
                m
            };
            let required = |vs: &[&Map<String, Value>]| -> BTreeSet<String> {
                let mut sets = vs.iter().map(|v| {
                    set(v
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str))
                });
                let first = sets.next().unwrap_or_default();
                sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            };
            let (up, ap) = (props(&uo), props(&ao));
            let (uk, ak) = (
                set(up.keys().map(String::as_str)),
                set(ap.keys().map(String::as_str)),
            );
            if uk != ak {
                self.diff(path, "props", &uk, &ak);
            }
            let (ur, ar) = (required(&uo), required(&ao));
            if ur != ar {
                self.diff(path, "required", &ur, &ar);
            }
            for k in uk.intersection(&ak) {
                self.walk(&format!("{path}/{k}"), &up[k], &ap[k], depth + 1);
            }
        }
        for (kind, seg) in [("additionalProperties", "*"), ("items", "[]")] {
            let pick = |vs: &[Map<String, Value>]| {
                vs.iter()
                    .find_map(|v| v.get(kind).filter(|x| x.is_object()).cloned())
            };
            if let (Some(x), Some(y)) = (pick(&uv), pick(&av)) {
                self.walk(&format!("{path}/{seg}"), &x, &y, depth + 1);
            }
        }
    }

    fn diff(&mut self, path: &str, kind: &'static str, u: &BTreeSet<String>, a: &BTreeSet<String>) {
        self.diffs.push((
            path.to_string(),
            kind,
            u.difference(a).cloned().collect(),
            a.difference(u).cloned().collect(),
        ));
    }
}

#[test]
fn agw_schema_matches_the_gateways_schema_of_every_release() {
    let mut report = Vec::new();
    let mut used = HashSet::new();
    for (release, upstream) in upstream_schemas() {
        let agw = agw_schema(&release);
        let mut w = Walk {
            upstream: &upstream,
            agw: &agw,
            seen: HashSet::new(),
            diffs: Vec::new(),
        };
        w.walk("", &upstream, &agw, 0);
        for (path, kind, only_up, only_agw) in w.diffs {
            match deviation(&release, &path, kind) {
                Some(reason) => {
                    used.insert(reason);
                }
                None => report.push(format!(
                    "{release} {path}: {kind} only in the gateway {only_up:?}, only in agw {only_agw:?}"
                )),
            }
        }
    }
    assert!(
        report.is_empty(),
        "agw's schema differs from the gateway's ({} places); fix the model (or tools/gen_surface.py), or add a deviation with its reason:\n{}",
        report.len(),
        report.join("\n")
    );
    assert!(DEVIATIONS.len() <= 20, "the deviation list must stay short");
}

#[test]
fn every_deviation_is_still_needed() {
    let mut needed = HashSet::new();
    let schemas = upstream_schemas();
    if schemas.is_empty() {
        return;
    }
    for (release, upstream) in &schemas {
        let agw = agw_schema(release);
        let mut w = Walk {
            upstream,
            agw: &agw,
            seen: HashSet::new(),
            diffs: Vec::new(),
        };
        w.walk("", upstream, &agw, 0);
        for (path, kind, _, _) in w.diffs {
            if let Some(reason) = deviation(release, &path, kind) {
                needed.insert(reason);
            }
        }
    }
    let stale: Vec<_> = DEVIATIONS
        .iter()
        .filter(|d| !needed.contains(d.3))
        .map(|d| format!("{} {} {}", d.0, d.1, d.2))
        .collect();
    assert!(stale.is_empty(), "deviations no longer needed: {stale:?}");
}

#[test]
fn generated_surface_is_what_the_script_makes_of_the_gateways_schemas() {
    let Some(dir) = common::partners::data_dir("AGW_UPSTREAM_DIR") else {
        return;
    };
    if !common::partners::tool("python3") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("tools/gen_surface.py"))
        .arg(&dir)
        .output()
        .expect("run tools/gen_surface.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(root.join("src/config/surface/generated.rs")).unwrap();
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "src/config/surface/generated.rs is not what tools/gen_surface.py makes of the gateway's schemas: run `tools/gen_surface.py \"$AGW_UPSTREAM_DIR\" > src/config/surface/generated.rs`"
    );
}
