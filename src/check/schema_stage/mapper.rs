//! A validation error as a finding in the user's terms: the closest valid key for a typo, the
//! one branch of a `oneOf` the user most likely meant, the allowed values of an enum, the release
//! that knows a key.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;

use super::words::*;
use super::{schema, union, MAX_ERRORS};
use crate::config::release::{self, Release};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;
use crate::source::yaml::push_token;
use crate::source::{PointerIndex, Span};

crate::rules! {
    SCHEMA_UNKNOWN_KEY {
        id: "schema/unknown-key",
        severity: Refuses,
        summary: "a key the gateway does not know",
        why: "A key the gateway does not know, usually a typo, stops it at start-up. The hint names the closest valid key.",
        gateway: "The gateway's configuration types reject keys they do not know (`deny_unknown_fields`, in the `schema_de!` attributes of agentgateway `crates/core/src/serdes.rs`): the file is refused with \"unknown field\" and the path of the key.",
        example: "policies:\n  mcpAuthentcation:\n    issuer: https://acme.okta.com/oauth2/default",
        use_instead: "policies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
    }

    SCHEMA_TYPE {
        id: "schema/type",
        severity: Refuses,
        summary: "a value has the wrong type",
        why: "The gateway expects another kind of value here (a string, a number, a list, a mapping), and does not load the file. YAML 1.2 reads `yes`, `no`, `on` and `off` as strings: write `true` or `false` for booleans.",
        gateway: "The gateway reads the file with serde_yaml 0.9 (YAML 1.2) into its configuration types and refuses a value of the wrong kind (\"invalid type\") with its path (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "port: \"3000x\"",
        use_instead: "port: 3000",
    }

    SCHEMA_REQUIRED {
        id: "schema/required",
        severity: Refuses,
        summary: "a required key is missing",
        why: "This object cannot work without the named key, and the gateway does not load the file without it. Add it.",
        gateway: "The gateway refuses the file (\"missing field\") with the path of the object (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "mcpAuthentication:\n  mode: strict",
        use_instead: "mcpAuthentication:\n  mode: strict\n  issuer: https://acme.okta.com/oauth2/default",
    }

    SCHEMA_ENUM {
        id: "schema/enum",
        severity: Refuses,
        summary: "a value is not one of the allowed values",
        why: "This key takes one of a fixed set of values, and any other stops the gateway from loading the file; the hint lists them and the closest one.",
        gateway: "The gateway refuses the file (\"unknown variant\") with the path of the value (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "mode: strcit",
        use_instead: "mode: strict",
    }

    SCHEMA_ONE_OF {
        id: "schema/one-of",
        severity: Refuses,
        summary: "the keys of an object do not form one of its allowed shapes",
        why: "Some objects take exactly one of several keys (a route backend is one of `host`, `backend`, `mcp`, ...; a path match is one of `exact`, `pathPrefix`, `regex`). Either none was given, or several were, and the gateway does not load the file. Keep exactly one.",
        gateway: "The gateway reads such objects as one of several forms and refuses one that fits none of them (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`, into the types of `crates/agentgateway/src/types/local.rs`).",
        example: "path:\n  exact: /mcp\n  pathPrefix: /mcp",
        use_instead: "path:\n  exact: /mcp",
    }

    SCHEMA_VALUE {
        id: "schema/value",
        severity: Refuses,
        summary: "a value is outside what the gateway accepts",
        why: "The value breaks a constraint: a number out of range, a string that does not have the required form (durations like `30s`, MCP target names in lowercase DNS style), a list that is too short. The gateway does not load the file.",
        gateway: "The gateway refuses the file when it reads the value into its configuration types (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`) or checks it just after.",
        example: "port: 70000",
        use_instead: "port: 8080",
    }
}

pub(super) struct Mapper<'a> {
    pub(super) root: &'a Value,
    pub(super) release: Release,
    pub(super) index: &'a PointerIndex,
    pub(super) out: Vec<Diagnostic>,
    /// (object pointer, key) pairs that an unknown-key hint suggests.
    pub(super) suggested: std::collections::HashSet<(String, String)>,
    /// (index in `out`, object pointer, key) of every missing-key finding.
    pub(super) required: Vec<(usize, String, String)>,
}

impl<'a> Mapper<'a> {
    fn key_span(&self, ptr: &str) -> Span {
        self.index
            .lookup(ptr)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    fn value_span(&self, ptr: &str) -> Span {
        self.index.lookup(ptr).map(|s| s.value).unwrap_or_default()
    }

    /// The schema node an error's schema path leads to, following `$ref`s.
    fn schema_at(&self, path: &str) -> Option<&'a Value> {
        pointer(self.root, path)
    }

    fn deref(&self, node: &'a Value) -> Option<&'a Value> {
        let r = node.get("$ref")?.as_str()?;
        let ptr = r.strip_prefix('#')?;
        self.root.pointer(ptr)
    }

    /// Resolves a node that is only a `$ref` (or an `anyOf` of a `$ref` and null, the form of an
    /// optional field) to the object schema behind it.
    fn object_schema(&self, node: &'a Value) -> &'a Value {
        let mut cur = node;
        for _ in 0..8 {
            if let Some(t) = self.deref(cur) {
                cur = t;
                continue;
            }
            if let Some(branches) = cur.get("anyOf").and_then(Value::as_array) {
                if let Some(b) = branches
                    .iter()
                    .find(|b| b.get("type") != Some(&Value::from("null")))
                {
                    cur = b;
                    continue;
                }
            }
            break;
        }
        cur
    }

    pub(super) fn map(&mut self, e: &ValidationError) {
        let ptr = e.instance_path().as_str().to_string();
        let schema_path = e.schema_path().as_str().to_string();
        let instance = e.instance();
        let object_only = matches!(
            e.kind(),
            ValidationErrorKind::Required { .. }
                | ValidationErrorKind::AdditionalProperties { .. }
                | ValidationErrorKind::OneOfMultipleValid { .. }
        );
        if object_only && !instance.is_object() {
            // Reported as a type error of the same value.
            return;
        }
        match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                self.unknown_keys(&ptr, &schema_path, unexpected)
            }
            ValidationErrorKind::Required { property } => {
                self.missing(&ptr, &schema_path, property)
            }
            ValidationErrorKind::Type { kind } => {
                self.wrong_type(&ptr, &schema_path, instance, kind)
            }
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(value_text).collect())
                    .unwrap_or_default();
                self.enum_error(&ptr, instance, &opts);
            }
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                self.no_branch(&ptr, &schema_path, instance, context)
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => {
                self.many_branches(&ptr, &schema_path, instance)
            }
            ValidationErrorKind::Pattern { pattern } => self.wrong_form(&ptr, instance, pattern),
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let bound = match e.kind() {
                    ValidationErrorKind::Minimum { .. } => "at least",
                    ValidationErrorKind::Maximum { .. } => "at most",
                    ValidationErrorKind::ExclusiveMinimum { .. } => "more than",
                    _ => "less than",
                };
                self.out.push(
                    Diagnostic::new(
                        &SCHEMA_VALUE,
                        format!(
                            "{} is {}, but must be {bound} {limit}",
                            describe_value(&ptr),
                            value_text(instance)
                        ),
                    )
                    .at(self.value_span(&ptr), "out of range"),
                );
            }
            ValidationErrorKind::FalseSchema => self.other_release(&ptr, &schema_path),
            _ => {
                self.out.push(
                    Diagnostic::new(&SCHEMA_VALUE, format!("{}: {}", describe_value(&ptr), e))
                        .at(self.value_span(&ptr), "here"),
                );
            }
        }
    }

    /// Keys the schema does not know: each with the closest known one, or where it belongs.
    fn unknown_keys(&mut self, ptr: &str, schema_path: &str, unexpected: &[String]) {
        let parent_path = schema_path
            .strip_suffix("/additionalProperties")
            .unwrap_or(schema_path);
        let known: Vec<String> = self
            .schema_at(parent_path)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for key in unexpected.iter().take(MAX_ERRORS / 10) {
            self.unknown_key(ptr, key, &known);
        }
        if unexpected.len() > MAX_ERRORS / 10 {
            if let Some(last) = self.out.last_mut() {
                last.notes.push(format!(
                    "{} more unknown keys in this mapping were not examined",
                    unexpected.len() - MAX_ERRORS / 10
                ));
            }
        }
    }

    /// A required key that is not there, with what it is for.
    fn missing(&mut self, ptr: &str, schema_path: &str, property: &Value) {
        let prop = property.as_str().unwrap_or_default();
        let what = describe(ptr);
        let desc = self
            .schema_at(schema_path.strip_suffix("/required").unwrap_or(schema_path))
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(prop))
            .map(|p| self.object_schema(p))
            .and_then(|p| p.get("description"))
            .and_then(Value::as_str)
            .map(first_sentence);
        let mut d = Diagnostic::new(
            &SCHEMA_REQUIRED,
            format!("{what} is missing the required key `{prop}`"),
        )
        .at(self.key_span(ptr), format!("needs `{prop}`"));
        self.required
            .push((self.out.len(), ptr.to_string(), prop.to_string()));
        d = d.help(match desc {
            Some(desc) => format!("add `{prop}:` ({desc})"),
            None => format!("add `{prop}:`"),
        });
        self.out.push(d);
    }

    /// A value of the wrong type, with the form the user most likely meant.
    fn wrong_type(&mut self, ptr: &str, schema_path: &str, instance: &Value, kind: &TypeKind) {
        let expected = type_names(kind);
        let found = json_type(instance);
        let mut d = Diagnostic::new(
            &SCHEMA_TYPE,
            format!(
                "{} must be {}, found {}",
                describe_value(ptr),
                expected,
                found_text(instance, found)
            ),
        )
        .at(self.value_span(ptr), format!("expected {expected}"));
        let keys = self
            .schema_at(parent(schema_path))
            .and_then(|n| n.get("properties"))
            .and_then(Value::as_object);
        // `provider: okta` for `provider: {okta: {}}`: the string names one of the keys.
        let as_key = match (instance, keys) {
            (Value::String(s), Some(k)) if !ptr.is_empty() && is_identifier(s) => {
                closest(s, k.keys().map(String::as_str))
            }
            _ => None,
        };
        let duration = self
            .schema_at(parent(schema_path))
            .and_then(|n| n.get("pattern"))
            .and_then(Value::as_str)
            == Some(crate::config::DURATION_PATTERN);
        let groups = self
            .schema_at(parent(schema_path))
            .and_then(required_groups)
            .filter(|g| g.iter().all(|k| k.len() == 1));
        if let Some(k) = as_key {
            d = d.help(format!("write it as a mapping: `{{{k}: {{}}}}`"));
        } else if let (Some(g), Value::String(v)) = (groups, instance) {
            let forms: Vec<String> = g
                .iter()
                .map(|k| format!("`{{{}: {}}}`", k[0], flow_item(v)))
                .collect();
            d = d.help(format!("write a mapping: {}", forms.join(" or ")));
        } else if duration {
            d = d.help(format!(
                "durations are strings with a unit: `{}s`, `{}ms` or `{}m`",
                value_text(instance),
                value_text(instance),
                value_text(instance)
            ));
        } else if let Some(h) = type_hint(instance, &expected) {
            d = d.help(h);
        }
        self.out.push(d);
    }

    /// A value that fits none of the accepted forms: the form it is closest to speaks.
    fn no_branch(
        &mut self,
        ptr: &str,
        schema_path: &str,
        instance: &Value,
        context: &[Vec<ValidationError<'static>>],
    ) {
        let node = self.schema_at(parent(schema_path));
        if let Some(opts) = node.and_then(|n| self.const_values(n, 0)) {
            self.enum_error(ptr, instance, &opts);
            return;
        }
        if let Some(groups) = node.and_then(required_groups) {
            self.exactly_one(ptr, instance, &groups);
            return;
        }
        match best_branch(context, ptr, |e| self.near_misses(e)) {
            Some(branch) => {
                for be in branch {
                    self.map(be);
                }
            }
            None => self.out.push(
                Diagnostic::new(
                    &SCHEMA_ONE_OF,
                    format!("{} does not have any accepted form", describe_value(ptr)),
                )
                .at(self.value_span(ptr), "here"),
            ),
        }
    }

    /// A value that fits more than one accepted form.
    fn many_branches(&mut self, ptr: &str, schema_path: &str, instance: &Value) {
        let node = self.schema_at(parent(schema_path));
        if let Some(groups) = node.and_then(required_groups) {
            self.exactly_one(ptr, instance, &groups);
        } else {
            self.out.push(
                Diagnostic::new(
                    &SCHEMA_ONE_OF,
                    format!(
                        "{} matches more than one accepted form",
                        describe_value(ptr)
                    ),
                )
                .at(self.value_span(ptr), "ambiguous"),
            );
        }
    }

    /// A string that does not have the required form (a duration, a target name, a pattern).
    fn wrong_form(&mut self, ptr: &str, instance: &Value, pattern: &str) {
        let got = value_text(instance);
        let (msg, help) = if pattern == crate::config::DURATION_PATTERN {
            (
                format!("`{got}` is not a duration"),
                "write a duration such as `500ms`, `30s`, `1m30s` or `2h`".to_string(),
            )
        } else if pattern == crate::config::mcp::TARGET_NAME_PATTERN {
            (
                format!("`{got}` is not a valid MCP target name"),
                format!(
                    "use lowercase letters, digits, `-` and `.` (a DNS name), for example `{}`",
                    dns_name(&got)
                ),
            )
        } else {
            (
                format!("`{got}` does not have the required form"),
                format!("the value must match `{pattern}`"),
            )
        };
        self.out.push(
            Diagnostic::new(&SCHEMA_VALUE, format!("{}: {msg}", describe_value(ptr)))
                .at(self.value_span(ptr), "wrong form")
                .help(help),
        );
    }

    /// A key or form that only other releases know (the `false` schemas of [`Unknown::Refuse`]).
    fn other_release(&mut self, ptr: &str, schema_path: &str) {
        let knowing = pointer(union(), schema_path)
            .and_then(release::releases_of)
            .unwrap_or_default();
        let judged = self.release.label();
        let (what, span, label) = match schema_path.rsplit_once("/properties/") {
            Some((_, key)) if !key.contains('/') => {
                let key = key.replace("~1", "/").replace("~0", "~");
                (
                    format!("`{key}` in {}", describe(parent_pointer(ptr))),
                    self.key_span(ptr),
                    format!("not known to gateway release {judged}"),
                )
            }
            _ => (
                describe_value(ptr),
                self.value_span(ptr),
                format!("a form gateway release {judged} does not have"),
            ),
        };
        let help = match knowing.as_slice() {
            [] => "remove it".to_string(),
            rs => format!(
                "it is known to gateway release {}: upgrade the gateway (and check with `--gateway-version {}`), or remove it",
                release::names(rs),
                rs[rs.len() - 1].label()
            ),
        };
        self.out.push(
            Diagnostic::new(
                &SCHEMA_UNKNOWN_KEY,
                format!("{what} is not known to gateway release {judged}, which refuses the file"),
            )
            .at(span, label)
            .help(help),
        );
    }

    fn enum_error(&mut self, ptr: &str, instance: &Value, opts: &[String]) {
        let got = value_text(instance);
        let mut d = Diagnostic::new(
            &SCHEMA_ENUM,
            format!(
                "{} is `{}`, not one of the allowed values",
                describe_value(ptr),
                got
            ),
        )
        .at(self.value_span(ptr), "not an allowed value");
        let list = opts
            .iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(", ");
        d = match closest(&got, opts.iter().map(String::as_str)) {
            Some(c) => d.help(format!("did you mean `{c}`? allowed: {list}")),
            None => d.help(format!("allowed: {list}")),
        };
        self.out.push(d);
    }

    /// The allowed values of a union that is really an enum (a `oneOf` of documented `const`s,
    /// possibly made optional with a `null` branch).
    fn const_values(&self, node: &'a Value, depth: usize) -> Option<Vec<String>> {
        if depth > 4 {
            return None;
        }
        let node = self.deref(node).unwrap_or(node);
        if let Some(e) = node.get("enum").and_then(Value::as_array) {
            return Some(e.iter().filter(|v| !v.is_null()).map(value_text).collect());
        }
        if let Some(c) = node.get("const") {
            return Some(vec![value_text(c)]);
        }
        let branches = node
            .get("oneOf")
            .or_else(|| node.get("anyOf"))
            .and_then(Value::as_array)?;
        let mut out = Vec::new();
        for b in branches {
            if b.get("type") == Some(&Value::from("null")) {
                continue;
            }
            out.extend(self.const_values(b, depth + 1)?);
        }
        (!out.is_empty()).then_some(out)
    }

    /// How many unknown keys of an error are likely typos of a key of its schema: a branch
    /// where `uri` is close to `url` is the one the user meant.
    fn near_misses(&self, e: &ValidationError) -> usize {
        let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() else {
            return 0;
        };
        let sp = e.schema_path().as_str();
        let known: Vec<&str> = self
            .schema_at(parent(sp))
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        unexpected
            .iter()
            .filter(|k| closest(k, known.iter().copied()).is_some())
            .count()
    }

    fn unknown_key(&mut self, ptr: &str, key: &str, known: &[String]) {
        let key_ptr = push_token(ptr, key);
        let span = self.key_span(&key_ptr);
        let ctx = describe(ptr);
        let mut d = Diagnostic::new(&SCHEMA_UNKNOWN_KEY, format!("unknown key `{key}` in {ctx}"))
            .at(span, format!("not a key of {ctx}"));
        let synonym = SYNONYMS
            .iter()
            .find(|(alias, real)| *alias == key && known.iter().any(|k| k == real))
            .map(|(_, real)| *real);
        let homes = homes(key, known);
        if key == "<<" {
            d = d.help("the gateway's YAML reader does not apply merge keys, so `<<` is an unknown key there: write the keys out, or use the anchor as the whole value (`name: *anchor`)");
        } else if key == "mcpAuthorization" && ptr.contains("/targets/") {
            d = d.help("`mcpAuthorization` is not allowed on an MCP target: move it to the policies of the route (or of the `mcp:` shorthand)");
        } else if let Some(c) = synonym {
            self.suggested.insert((ptr.to_string(), c.to_string()));
            d = d
                .help(format!("the gateway calls this `{c}`"))
                .with_fix(Fix::safe(
                    format!("rename `{key}` to `{c}`"),
                    Fix::replace(span, c),
                ));
        } else if !homes.is_empty() {
            d = d.help(format!(
                "`{key}` is a key of {}, not of {ctx}: move it there",
                homes.join(", ")
            ));
        } else if let Some(c) = closest(key, known.iter().map(String::as_str)) {
            self.suggested.insert((ptr.to_string(), c.to_string()));
            // a typo (two edits or fewer) of exactly one key is certainly that key; anything
            // else is a guess
            let typo_of = |k: &str| {
                strsim::levenshtein(&key.to_ascii_lowercase(), &k.to_ascii_lowercase()) <= 2
            };
            let typos = known.iter().filter(|k| typo_of(k)).count();
            let title = format!("rename `{key}` to `{c}`");
            let fix = if typos == 1 && typo_of(c) {
                Fix::safe(title, Fix::replace(span, c))
            } else {
                Fix::unsafe_(title, Fix::replace(span, c))
            };
            d = d.help(format!("did you mean `{c}`?")).with_fix(fix);
        } else if !known.is_empty() {
            let mut list: Vec<&str> = known.iter().map(String::as_str).collect();
            list.sort_unstable();
            d = d.help(format!(
                "valid keys here: {}",
                list.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.out.push(d);
    }

    fn exactly_one(&mut self, ptr: &str, instance: &Value, groups: &[Vec<String>]) {
        let present: Vec<&Vec<String>> = groups
            .iter()
            .filter(|g| g.iter().all(|k| instance.get(k).is_some()))
            .collect();
        let forms = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let what = describe_value(ptr);
        if present.len() > 1 {
            let names: Vec<&str> = present.iter().map(|g| g[0].as_str()).collect();
            let mut d = Diagnostic::new(
                &SCHEMA_ONE_OF,
                format!(
                    "{what} sets {}; only one of them is allowed",
                    names
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            for (i, n) in names.iter().enumerate() {
                let sp = self.key_span(&push_token(ptr, n));
                d = if i == 0 {
                    d.at(sp, "this one")
                } else {
                    d.label(sp, "and this one")
                };
            }
            self.out
                .push(d.help(format!("keep exactly one of {forms}")));
        } else {
            // The partial group the user started (some keys of a multi-key form) is the one meant.
            let started = groups
                .iter()
                .find(|g| g.iter().any(|k| instance.get(k).is_some()));
            let help = match started {
                Some(g) => format!(
                    "add {}",
                    g.iter()
                        .filter(|k| instance.get(k.as_str()).is_none())
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                None => format!("add one of {forms}"),
            };
            for k in groups.iter().flatten() {
                self.required
                    .push((self.out.len(), ptr.to_string(), k.clone()));
            }
            self.out.push(
                Diagnostic::new(&SCHEMA_ONE_OF, format!("{what} needs one of {forms}"))
                    .at(self.key_span(ptr), "incomplete")
                    .help(help),
            );
        }
    }
}

/// Words other MCP and gateway configs use for the same thing.
pub(super) const SYNONYMS: &[(&str, &str)] = &[
    ("command", "cmd"),
    ("arguments", "args"),
    ("environment", "env"),
    ("url", "host"),
    ("uri", "url"),
    ("audience", "audiences"),
    ("scopes", "scopesSupported"),
    ("clearEnv", "clear_env"),
];

/// Where else in the model a key exists, as places a user recognises; empty when the key is
/// unknown everywhere (a typo, not a misplaced key) or is known here under another spelling.
pub(super) fn homes(key: &str, known_here: &[String]) -> Vec<&'static str> {
    static HOMES: OnceLock<std::collections::HashMap<String, Vec<&'static str>>> = OnceLock::new();
    let map = HOMES.get_or_init(|| {
        let mut m: std::collections::HashMap<String, Vec<&'static str>> = Default::default();
        let defs = schema().get("definitions").and_then(Value::as_object);
        let root = std::iter::once(("Config", schema()));
        let all = root.chain(defs.into_iter().flatten().map(|(k, v)| (k.as_str(), v)));
        for (name, def) in all {
            let Some(place) = place_name(name) else {
                continue;
            };
            for k in def
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|p| p.0)
            {
                let v = m.entry(k.clone()).or_default();
                if !v.contains(&place) {
                    v.push(place);
                }
            }
        }
        m
    });
    if known_here.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        return Vec::new();
    }
    map.get(key).cloned().unwrap_or_default()
}

pub(super) fn place_name(definition: &str) -> Option<&'static str> {
    Some(match definition {
        "Config" => "the top level",
        "Bind" => "a bind (`binds:` item)",
        "Listener" => "a listener (`listeners:` item)",
        "Route" => "a route (`routes:` item)",
        "RouteMatch" => "a route match (`matches:` item)",
        "PathMatch" => "a match `path:` (for example `path: {pathPrefix: /mcp}`)",
        "RoutePolicies" => "route `policies`",
        "GatewayPolicies" => "listener `policies`",
        "RouteBackend" => "a route backend (`backends:` item)",
        "BackendPolicies" => "backend `policies`",
        "McpBackend" => "an `mcp:` backend",
        "McpTarget" => "an MCP target (`targets:` item)",
        "StdioTarget" => "a `stdio:` target",
        "HttpTarget" => "an `mcp:` or `sse:` target",
        "McpAuthentication" => "`mcpAuthentication`",
        "JwtAuth" => "`jwtAuth`",
        "Cors" => "`cors`",
        "Gateway" => "a gateway (`gateways:` entry)",
        _ => return None,
    })
}

/// The node at a schema path (`$ref` segments are followed in `root`).
pub(super) fn pointer<'v>(root: &'v Value, schema_path: &str) -> Option<&'v Value> {
    let mut cur = root;
    for seg in schema_path.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            let r = cur.get("$ref")?.as_str()?;
            cur = root.pointer(r.strip_prefix('#')?)?;
            continue;
        }
        cur = match cur {
            Value::Object(o) => o.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The pointer of the object that holds the value at `ptr`.
pub(super) fn parent_pointer(ptr: &str) -> &str {
    ptr.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The schema path of the object that holds the keyword an error names.
pub(super) fn parent(schema_path: &str) -> &str {
    schema_path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// For a `oneOf`/`anyOf` whose branches only require keys (the "exactly one of" idiom), the key
/// groups; `None` for any other union.
pub(super) fn required_groups(node: &Value) -> Option<Vec<Vec<String>>> {
    let branches = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)?;
    let mut groups = Vec::new();
    for b in branches {
        let o = b.as_object()?;
        if o.len() != 1 {
            return None;
        }
        let req = o.get("required")?.as_array()?;
        groups.push(
            req.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        );
    }
    Some(groups)
}

/// The branch the user most likely meant: one whose shape (type) fits, with the fewest and
/// deepest errors.
pub(super) fn best_branch<'e>(
    context: &'e [Vec<ValidationError<'static>>],
    ptr: &str,
    near_misses: impl Fn(&ValidationError) -> usize,
) -> Option<&'e Vec<ValidationError<'static>>> {
    // An optional value's `null` branch is never what the user meant.
    let only_null = |b: &Vec<ValidationError<'static>>| {
        b.iter().all(|e| {
            matches!(
                e.kind(),
                ValidationErrorKind::Type {
                    kind: TypeKind::Single(jsonschema::JsonType::Null)
                }
            )
        })
    };
    context.iter().filter(|b| !b.is_empty()).min_by_key(|b| {
        let null_branch = only_null(b);
        let type_miss = b.iter().any(|e| {
            e.instance_path().as_str() == ptr
                && matches!(e.kind(), ValidationErrorKind::Type { .. })
        });
        let depth: usize = b
            .iter()
            .map(|e| e.instance_path().as_str().matches('/').count())
            .max()
            .unwrap_or(0);
        let near: usize = b.iter().map(&near_misses).sum();
        (
            null_branch,
            type_miss,
            b.len().saturating_sub(2 * near),
            usize::MAX - depth,
        )
    })
}
