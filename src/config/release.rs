//! The gateway releases agw judges a file as. agw's schema is the union of their schemas; a key
//! or a variant that only some of them know carries `x-agw-releases` (written by
//! `tools/gen_surface.py` for generated types, by hand on the hand-written ones), and
//! [`restrict`] turns the union into what one release accepts. The conformance test compares
//! that, release by release, with the schema the gateway publishes.

use serde_json::Value;

/// The schema annotation that lists the releases knowing a key or variant (absent: all of them).
pub const RELEASES_KEY: &str = "x-agw-releases";

/// The schema annotation of an object whose required keys differ by release: `{release: [key]}`
/// lists keys that release requires beyond the union's `required`.
pub const REQUIRED_KEY: &str = "x-agw-required";

/// A gateway release agw judges files as, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Release {
    /// agentgateway v1.4.1 (29 July 2026).
    V1_4_1,
    /// The agentgateway main line at commit 75b4e6ce (v1.4.1-206, 21 August 2026), the newest
    /// the gateway's examples and documentation are written for.
    #[default]
    Main,
}

impl Release {
    pub const ALL: [Release; 2] = [Release::V1_4_1, Release::Main];

    /// The name used on the command line and in `x-agw-releases`.
    pub fn label(self) -> &'static str {
        match self {
            Release::V1_4_1 => "1.4.1",
            Release::Main => "main",
        }
    }

    /// The release with its date, for `--version` and messages.
    pub fn describe(self) -> &'static str {
        match self {
            Release::V1_4_1 => "1.4.1 (29 July 2026)",
            Release::Main => "main (commit 75b4e6ce, 21 August 2026)",
        }
    }

    pub fn from_label(label: &str) -> Option<Release> {
        Release::ALL.into_iter().find(|r| r.label() == label)
    }

    /// Every label, for a command line's list of choices.
    pub fn labels() -> [&'static str; 2] {
        Release::ALL.map(Release::label)
    }

    /// The place of the release in [`Release::ALL`].
    pub fn index(self) -> usize {
        Release::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }
}

/// One value per release, made the first time it is asked for: what depends on the release and
/// costs to build (a restricted schema, a validator).
pub struct PerRelease<T>([std::sync::OnceLock<T>; Release::ALL.len()]);

impl<T> PerRelease<T> {
    pub const fn new() -> Self {
        PerRelease([const { std::sync::OnceLock::new() }; Release::ALL.len()])
    }

    pub fn get(&self, release: Release, init: impl FnOnce() -> T) -> &T {
        self.0[release.index()].get_or_init(init)
    }
}

impl<T> Default for PerRelease<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The releases a schema node is tagged with, or `None` when every release knows it.
pub fn releases_of(node: &Value) -> Option<Vec<Release>> {
    let tags = node.get(RELEASES_KEY)?.as_array()?;
    Some(
        tags.iter()
            .filter_map(Value::as_str)
            .filter_map(Release::from_label)
            .collect(),
    )
}

/// The names of `releases`, joined for a message: "main" or "1.4.1 and main".
pub fn names(releases: &[Release]) -> String {
    let labels: Vec<&str> = releases.iter().map(|r| r.label()).collect();
    labels.join(" and ")
}

/// How [`restrict`] treats what a release does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Removed: the schema editors get, which offers only the release's own keys.
    Drop,
    /// Replaced by the `false` schema, which keeps every schema path of the union valid, so
    /// that a finding can look up in the union which releases know the key.
    Refuse,
}

/// Whether anything in `schema` is tagged for releases other than `release` (when nothing is,
/// [`restrict`] would change nothing).
pub fn excludes_any(schema: &Value, release: Release) -> bool {
    match schema {
        Value::Object(o) => {
            releases_of(schema).is_some_and(|rs| !rs.contains(&release))
                || o.get(REQUIRED_KEY)
                    .is_some_and(|r| r.get(release.label()).is_some())
                || o.values().any(|v| excludes_any(v, release))
        }
        Value::Array(a) => a.iter().any(|v| excludes_any(v, release)),
        _ => false,
    }
}

/// The union schema as `release` sees it: properties and `oneOf`/`anyOf` variants tagged for
/// other releases are dropped or refused (see [`Unknown`]).
pub fn restrict(schema: &mut Value, release: Release, unknown: Unknown) {
    let excluded = |v: &Value| releases_of(v).is_some_and(|rs| !rs.contains(&release));
    let Value::Object(o) = schema else {
        if let Value::Array(items) = schema {
            for v in items {
                restrict(v, release, unknown);
            }
        }
        return;
    };
    let more: Vec<Value> = o
        .get(REQUIRED_KEY)
        .and_then(|r| r.get(release.label()))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !more.is_empty() {
        let req = o
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(req) = req {
            for k in more {
                if !req.contains(&k) {
                    req.push(k);
                }
            }
        }
    }
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        let gone: Vec<String> = props
            .iter()
            .filter(|(_, v)| excluded(v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            match unknown {
                Unknown::Drop => {
                    props.shift_remove(k);
                }
                Unknown::Refuse => {
                    props.insert(k.clone(), Value::Bool(false));
                }
            }
        }
        if let Some(Value::Array(req)) = o.get_mut("required") {
            req.retain(|r| r.as_str().is_none_or(|r| !gone.iter().any(|g| g == r)));
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = o.get_mut(key) {
            match unknown {
                Unknown::Drop => alts.retain(|a| !excluded(a)),
                Unknown::Refuse => {
                    for a in alts.iter_mut().filter(|a| excluded(a)) {
                        *a = Value::Bool(false);
                    }
                }
            }
        }
    }
    for (_, v) in o.iter_mut() {
        restrict(v, release, unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn union() -> Value {
        json!({
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string", "x-agw-releases": ["main"]}
            },
            "required": ["a", "b"],
            "oneOf": [{"const": "x"}, {"const": "y", "x-agw-releases": ["1.4.1"]}]
        })
    }

    #[test]
    fn drop_removes_what_the_release_lacks() {
        let mut s = union();
        restrict(&mut s, Release::V1_4_1, Unknown::Drop);
        assert_eq!(s["properties"].as_object().unwrap().len(), 1);
        assert_eq!(s["required"], json!(["a"]));
        assert_eq!(s["oneOf"].as_array().unwrap().len(), 2);
        let mut s = union();
        restrict(&mut s, Release::Main, Unknown::Drop);
        assert_eq!(s["properties"].as_object().unwrap().len(), 2);
        assert_eq!(s["oneOf"], json!([{"const": "x"}]));
    }

    #[test]
    fn the_version_text_names_every_release() {
        for r in Release::ALL {
            let named = r.describe().trim_end_matches(')');
            assert!(crate::LONG_VERSION.contains(named), "{named}");
        }
    }

    #[test]
    fn excludes_any_finds_tags_of_other_releases() {
        assert!(excludes_any(&union(), Release::V1_4_1));
        assert!(excludes_any(&union(), Release::Main));
        let only_main = json!({"properties": {"b": {"x-agw-releases": ["main"]}}});
        assert!(!excludes_any(&only_main, Release::Main));
        assert!(excludes_any(&only_main, Release::V1_4_1));
    }

    #[test]
    fn refuse_keeps_paths() {
        let mut s = union();
        restrict(&mut s, Release::Main, Unknown::Refuse);
        assert_eq!(s["oneOf"][1], json!(false));
        assert_eq!(s["properties"]["b"]["type"], "string");
    }
}
