//! The published JSON schema, generated from `config/` so that editors and `check` can never
//! disagree: one per gateway release agw judges, each in two drafts (draft-07 for editors, since
//! yaml-language-server does not support 2020-12 keywords, and 2020-12 for tools that prefer
//! it).

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::config::release::{self, Release, Unknown};
use crate::config::Config;

/// The editor schema file of the default release, in the repository's `schema/` directory
/// ([`file_name`] gives every other).
pub const DRAFT07_FILE: &str = "agw-config.schema.json";

/// Every release's keys at once, each key or variant that one release lacks tagged with
/// `x-agw-releases`: what `check` validates with, restricted to the judged release.
pub const ALL_RELEASES_FILE: &str = "agw-config.all-releases.schema.json";

/// The base of the stable URL editors point at: `{BASE}/v{version}/schema/{file}`.
pub const PUBLISHED_BASE: &str = "https://raw.githubusercontent.com/agw-dev/agw";

/// The two JSON schema drafts agw publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// For editors: yaml-language-server does not support 2020-12 keywords.
    Draft07,
    /// For tools that prefer it.
    Draft2020_12,
}

impl Draft {
    fn settings(self) -> SchemaSettings {
        match self {
            Draft::Draft07 => SchemaSettings::draft07(),
            Draft::Draft2020_12 => SchemaSettings::draft2020_12(),
        }
    }
}

/// The schema file name of `release` in `draft`.
pub fn file_name(release: Release, draft: Draft) -> String {
    let suffix = match draft {
        Draft::Draft07 => "schema.json",
        Draft::Draft2020_12 => "2020-12.schema.json",
    };
    if release == Release::default() {
        format!("agw-config.{suffix}")
    } else {
        format!("agw-config.gateway-{}.{suffix}", release.label())
    }
}

/// The schema of every release at once: keys and variants of one release only carry
/// `x-agw-releases`.
pub fn union(draft: Draft) -> Value {
    draft
        .settings()
        .into_generator()
        .into_root_schema_for::<Config>()
        .to_value()
}

/// What `release` accepts, as published for editors: keys of other releases are left out.
pub fn published(release: Release, draft: Draft) -> Value {
    let mut v = union(draft);
    release::restrict(&mut v, release, Unknown::Drop);
    if let Value::Object(o) = &mut v {
        o.insert(
            "$id".into(),
            Value::String(format!(
                "{PUBLISHED_BASE}/v{}/schema/{}",
                env!("CARGO_PKG_VERSION"),
                file_name(release, draft)
            )),
        );
    }
    v
}

/// The files `agw schema` writes: name and pretty JSON text, the default release's draft-07
/// schema first.
pub fn files() -> Vec<(String, String)> {
    let pretty = |v: Value| {
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    };
    let mut releases = Release::ALL.to_vec();
    releases.sort_by_key(|r| *r != Release::default());
    let mut out: Vec<(String, String)> = releases
        .into_iter()
        .flat_map(|r| {
            [Draft::Draft07, Draft::Draft2020_12]
                .map(|d| (file_name(r, d), pretty(published(r, d))))
        })
        .collect();
    out.push((ALL_RELEASES_FILE.to_string(), pretty(union(Draft::Draft07))));
    out
}

/// The stable URL of the draft-07 schema of `release` for this version of agw:
/// `{PUBLISHED_BASE}/v{version}/schema/{file}`, the repository's `schema/` directory at the
/// release tag.
pub fn published_url(release: Release) -> String {
    format!(
        "{PUBLISHED_BASE}/v{}/schema/{}",
        env!("CARGO_PKG_VERSION"),
        file_name(release, Draft::Draft07)
    )
}

/// The editor modeline pointing at `schema`, a URL or a path (yaml-language-server resolves a
/// relative path against the YAML file's directory).
pub fn modeline_for(schema: &str) -> String {
    format!("# yaml-language-server: $schema={schema}")
}

/// The schema node that describes the value at the JSON pointer `ptr` of a file, following
/// `$ref`s, properties, list items, the branches of a choice and map values.
pub fn node_at<'s>(root: &'s Value, ptr: &str) -> Option<&'s Value> {
    let mut node = resolve(root, root);
    for seg in ptr.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = child(root, node, &seg)?;
    }
    Some(node)
}

/// The values a node allows, when it is a choice of constants (`enum`, `const` branches, through
/// `$ref`s and nested choices), in schema order and without repeats; `true` and `false` for a
/// boolean.
pub fn allowed_values(root: &Value, node: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    collect_values(root, node, &mut out, 0);
    out
}

fn collect_values(root: &Value, node: &Value, out: &mut Vec<Value>, depth: usize) {
    let node = resolve(root, node);
    if depth > 16 {
        return;
    }
    let mut add = |v: &Value| {
        if !out.contains(v) {
            out.push(v.clone());
        }
    };
    node.get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .for_each(&mut add);
    if let Some(c) = node.get("const") {
        add(c);
    }
    if node.get("type").and_then(Value::as_str) == Some("boolean") {
        add(&Value::Bool(true));
        add(&Value::Bool(false));
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(k).and_then(Value::as_array).into_iter().flatten() {
            collect_values(root, alt, out, depth + 1);
        }
    }
}

/// The keys a node's object may have, with their schemas: its `properties` and those of every
/// branch of a choice, in schema order and without repeats. A key a release refuses (`false`)
/// is not one of them.
pub fn properties<'s>(root: &'s Value, node: &'s Value) -> Vec<(&'s str, &'s Value)> {
    let mut out = Vec::new();
    collect_properties(root, node, &mut out, 0);
    out
}

fn collect_properties<'s>(
    root: &'s Value,
    node: &'s Value,
    out: &mut Vec<(&'s str, &'s Value)>,
    depth: usize,
) {
    let node = resolve(root, node);
    if depth > 16 {
        return;
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            if v != &Value::Bool(false) && !out.iter().any(|(seen, _)| *seen == k.as_str()) {
                out.push((k.as_str(), resolve(root, v)));
            }
        }
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(k).and_then(Value::as_array).into_iter().flatten() {
            collect_properties(root, alt, out, depth + 1);
        }
    }
}

/// `node` with its `$ref`s followed.
pub fn resolve<'s>(root: &'s Value, mut node: &'s Value) -> &'s Value {
    for _ in 0..32 {
        let Some(r) = node.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(path) = r.strip_prefix('#') else {
            break;
        };
        match root.pointer(path) {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

fn child<'s>(root: &'s Value, node: &'s Value, seg: &str) -> Option<&'s Value> {
    let node = resolve(root, node);
    if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
        return Some(resolve(root, p));
    }
    if seg.parse::<usize>().is_ok() {
        if let Some(items) = node.get("items") {
            return Some(resolve(root, items));
        }
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(found) = node
            .get(k)
            .and_then(Value::as_array)
            .and_then(|alts| alts.iter().find_map(|a| child(root, a, seg)))
        {
            return Some(found);
        }
    }
    node.get("additionalProperties")
        .filter(|a| a.is_object())
        .map(|a| resolve(root, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_release_keeps_the_published_file_name() {
        assert_eq!(file_name(Release::default(), Draft::Draft07), DRAFT07_FILE);
    }
}
