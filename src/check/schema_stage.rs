//! Validation against the published schema, with every error turned into a diagnostic at the
//! exact key or value, in the user's own terms: the closest valid key for a typo, the one branch
//! the user most likely meant for a `oneOf`, the allowed values for an enum.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::config::release::{self, PerRelease, Release, Unknown};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;
use crate::schema::{self, Draft};
use crate::source::yaml::push_token;
use crate::source::{PointerIndex, Span};

const MAX_ERRORS: usize = 2000;

/// Files with fewer nodes than this get a validator pruned to their keys (see `validate`).
const PRUNE_BELOW_NODES: usize = 20_000;

/// The draft-07 schema of every release at once, which findings consult to say which release
/// knows a key that the judged one does not. It is the file `agw schema` writes (a test keeps it
/// equal to the model): reading it costs a fraction of generating it, on every run.
fn union() -> &'static Value {
    static U: OnceLock<Value> = OnceLock::new();
    U.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../schema/agw-config.all-releases.schema.json"
        ))
        .unwrap_or_else(|_| schema::union(Draft::Draft07))
    })
}

/// What one release accepts, and its validator once a run needs the whole of it.
struct Judged {
    /// `None` when the release accepts the whole union (nothing is tagged for other releases).
    restricted: Option<Value>,
    validator: OnceLock<Validator>,
    /// Whether a file has been validated as this release yet.
    used: std::sync::atomic::AtomicBool,
}

impl Judged {
    fn schema(&self) -> &Value {
        self.restricted.as_ref().unwrap_or_else(|| union())
    }
}

fn judged(release: Release) -> &'static Judged {
    static J: PerRelease<Judged> = PerRelease::new();
    J.get(release, || {
        let restricted = release::excludes_any(union(), release).then(|| {
            let mut schema = union().clone();
            release::restrict(&mut schema, release, Unknown::Refuse);
            schema
        });
        Judged {
            restricted,
            validator: OnceLock::new(),
            used: Default::default(),
        }
    })
}

fn compile(schema: &Value) -> Validator {
    jsonschema::options()
        .build(schema)
        .expect("the generated schema compiles")
}

/// The draft-07 schema `check` validates with for the default release (what is published, with
/// the keys of other releases refused rather than left out).
pub fn schema() -> &'static Value {
    judged(Release::default()).schema()
}

/// Validates `value` as `release` would; returns diagnostics in document order.
pub fn validate(value: &Value, index: &PointerIndex, release: Release) -> Vec<Diagnostic> {
    let j = judged(release);
    // Compiling the whole schema costs more than checking a small file. The first file of a run
    // gets a validator of only the keys it uses (the schema of a key the file never writes cannot
    // report anything); later files, as in an editor session, share one of the whole schema, and
    // so does a large file, for which listing its keys would cost more than it saves.
    let pruned;
    let validator = match j.validator.get() {
        Some(v) => v,
        None if index.len() < PRUNE_BELOW_NODES
            && !j.used.swap(true, std::sync::atomic::Ordering::Relaxed) =>
        {
            let mut keys = std::collections::HashSet::new();
            keys_of(value, &mut keys);
            pruned = compile(&prune(j.schema(), &keys));
            &pruned
        }
        None => j.validator.get_or_init(|| compile(j.schema())),
    };
    report(value, index, release, validator)
}

/// The findings of `validator` (compiled from `judged(release)`'s schema, whole or pruned) on
/// `value`.
fn report(
    value: &Value,
    index: &PointerIndex,
    release: Release,
    validator: &Validator,
) -> Vec<Diagnostic> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    let j = judged(release);
    let mut m = Mapper {
        root: j.schema(),
        release,
        index,
        out: Vec::new(),
        suggested: Default::default(),
        required: Vec::new(),
    };
    // A file with thousands of mistakes is not a file anyone will fix one by one; bounding the
    // work keeps a hostile input cheap. The per-rule cap in `check` says what was left out.
    for e in validator.iter_errors(value).take(MAX_ERRORS) {
        m.map(&e);
    }
    let explained: std::collections::HashSet<usize> = m
        .required
        .iter()
        .filter(|(_, obj, prop)| m.suggested.contains(&(obj.clone(), prop.clone())))
        .map(|(i, ..)| *i)
        .collect();
    let mut i = 0;
    m.out.retain(|_| {
        i += 1;
        !explained.contains(&(i - 1))
    });
    let mut seen = std::collections::HashSet::new();
    m.out.retain(|d| {
        seen.insert((
            d.rule,
            d.primary().map(|s| (s.start, s.end)),
            d.message.clone(),
        ))
    });
    m.out
}

struct Mapper<'a> {
    root: &'a Value,
    release: Release,
    index: &'a PointerIndex,
    out: Vec<Diagnostic>,
    /// (object pointer, key) pairs that an unknown-key hint suggests.
    suggested: std::collections::HashSet<(String, String)>,
    /// (index in `out`, object pointer, key) of every missing-key finding.
    required: Vec<(usize, String, String)>,
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

    fn map(&mut self, e: &ValidationError) {
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
                let parent_path = schema_path
                    .strip_suffix("/additionalProperties")
                    .unwrap_or(&schema_path);
                let known: Vec<String> = self
                    .schema_at(parent_path)
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                for key in unexpected.iter().take(MAX_ERRORS / 10) {
                    self.unknown_key(&ptr, key, &known);
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
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                let what = describe(&ptr);
                let desc = self
                    .schema_at(
                        schema_path
                            .strip_suffix("/required")
                            .unwrap_or(&schema_path),
                    )
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(prop))
                    .map(|p| self.object_schema(p))
                    .and_then(|p| p.get("description"))
                    .and_then(Value::as_str)
                    .map(first_sentence);
                let mut d = Diagnostic::new(
                    "schema/required",
                    format!("{what} is missing the required key `{prop}`"),
                )
                .at(self.key_span(&ptr), format!("needs `{prop}`"));
                self.required
                    .push((self.out.len(), ptr.clone(), prop.to_string()));
                d = d.help(match desc {
                    Some(desc) => format!("add `{prop}:` ({desc})"),
                    None => format!("add `{prop}:`"),
                });
                self.out.push(d);
            }
            ValidationErrorKind::Type { kind } => {
                let expected = type_names(kind);
                let found = json_type(instance);
                let mut d = Diagnostic::new(
                    "schema/type",
                    format!(
                        "{} must be {}, found {}",
                        describe_value(&ptr),
                        expected,
                        found_text(instance, found)
                    ),
                )
                .at(self.value_span(&ptr), format!("expected {expected}"));
                let keys = self
                    .schema_at(parent(&schema_path))
                    .and_then(|n| n.get("properties"))
                    .and_then(Value::as_object);
                // `provider: okta` for `provider: {okta: {}}`: the string names one of the keys.
                let as_key = match (instance.as_ref(), keys) {
                    (Value::String(s), Some(k)) if !ptr.is_empty() && is_identifier(s) => {
                        closest(s, k.keys().map(String::as_str))
                    }
                    _ => None,
                };
                let duration = self
                    .schema_at(parent(&schema_path))
                    .and_then(|n| n.get("pattern"))
                    .and_then(Value::as_str)
                    == Some(crate::config::DURATION_PATTERN);
                let groups = self
                    .schema_at(parent(&schema_path))
                    .and_then(required_groups)
                    .filter(|g| g.iter().all(|k| k.len() == 1));
                if let Some(k) = as_key {
                    d = d.help(format!("write it as a mapping: `{{{k}: {{}}}}`"));
                } else if let (Some(g), Value::String(v)) = (groups, instance.as_ref()) {
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
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(value_text).collect())
                    .unwrap_or_default();
                self.enum_error(&ptr, instance, &opts);
            }
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                let node = self.schema_at(parent(&schema_path));
                if let Some(opts) = node.and_then(|n| self.const_values(n, 0)) {
                    self.enum_error(&ptr, instance, &opts);
                    return;
                }
                if let Some(groups) = node.and_then(required_groups) {
                    self.exactly_one(&ptr, instance, &groups);
                    return;
                }
                match best_branch(context, &ptr, |e| self.near_misses(e)) {
                    Some(branch) => {
                        for be in branch {
                            self.map(be);
                        }
                    }
                    None => self.out.push(
                        Diagnostic::new(
                            "schema/one-of",
                            format!("{} does not have any accepted form", describe_value(&ptr)),
                        )
                        .at(self.value_span(&ptr), "here"),
                    ),
                }
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => {
                let node = self.schema_at(parent(&schema_path));
                if let Some(groups) = node.and_then(required_groups) {
                    self.exactly_one(&ptr, instance, &groups);
                } else {
                    self.out.push(
                        Diagnostic::new(
                            "schema/one-of",
                            format!(
                                "{} matches more than one accepted form",
                                describe_value(&ptr)
                            ),
                        )
                        .at(self.value_span(&ptr), "ambiguous"),
                    );
                }
            }
            ValidationErrorKind::Pattern { pattern } => {
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
                    Diagnostic::new("schema/value", format!("{}: {msg}", describe_value(&ptr)))
                        .at(self.value_span(&ptr), "wrong form")
                        .help(help),
                );
            }
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
                        "schema/value",
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
                    Diagnostic::new("schema/value", format!("{}: {}", describe_value(&ptr), e))
                        .at(self.value_span(&ptr), "here"),
                );
            }
        }
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
                "schema/unknown-key",
                format!("{what} is not known to gateway release {judged}, which refuses the file"),
            )
            .at(span, label)
            .help(help),
        );
    }

    fn enum_error(&mut self, ptr: &str, instance: &Value, opts: &[String]) {
        let got = value_text(instance);
        let mut d = Diagnostic::new(
            "schema/enum",
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
        let mut d = Diagnostic::new(
            "schema/unknown-key",
            format!("unknown key `{key}` in {ctx}"),
        )
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
                "schema/one-of",
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
                Diagnostic::new("schema/one-of", format!("{what} needs one of {forms}"))
                    .at(self.key_span(ptr), "incomplete")
                    .help(help),
            );
        }
    }
}

/// Words other MCP and gateway configs use for the same thing.
const SYNONYMS: &[(&str, &str)] = &[
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
fn homes(key: &str, known_here: &[String]) -> Vec<&'static str> {
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

fn place_name(definition: &str) -> Option<&'static str> {
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

/// The schema path of the object that holds the keyword an error names.
/// Every key of every mapping in `v`.
fn keys_of<'v>(v: &'v Value, out: &mut std::collections::HashSet<&'v str>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                out.insert(k);
                keys_of(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

/// `schema` with the subschema of every property whose name is not in `keys` replaced by `true`:
/// nothing can be validated against it, and every schema path stays as it was, so findings are
/// looked up in the whole schema.
fn prune(schema: &Value, keys: &std::collections::HashSet<&str>) -> Value {
    match schema {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("properties", Value::Object(props)) => Value::Object(
                            props
                                .iter()
                                .map(|(name, sub)| {
                                    let sub = if keys.contains(name.as_str()) {
                                        prune(sub, keys)
                                    } else {
                                        Value::Bool(true)
                                    };
                                    (name.clone(), sub)
                                })
                                .collect(),
                        ),
                        _ => prune(v, keys),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| prune(x, keys)).collect()),
        other => other.clone(),
    }
}

/// The node at a schema path (`$ref` segments are followed in `root`).
fn pointer<'v>(root: &'v Value, schema_path: &str) -> Option<&'v Value> {
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
fn parent_pointer(ptr: &str) -> &str {
    ptr.rsplit_once('/').map_or("", |(p, _)| p)
}

fn parent(schema_path: &str) -> &str {
    schema_path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// For a `oneOf`/`anyOf` whose branches only require keys (the "exactly one of" idiom), the key
/// groups; `None` for any other union.
fn required_groups(node: &Value) -> Option<Vec<Vec<String>>> {
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
fn best_branch<'e>(
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

/// The closest candidate to a misspelt word, if one is close enough to be a likely typo.
pub fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase().replace(['_', '-'], "");
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let cl = c.to_ascii_lowercase();
        if cl == lower {
            return Some(c);
        }
        // One edit away is a typo even in a short word (`uri` for `url`).
        if lower.len() >= 3 && strsim::levenshtein(&lower, &cl) <= 1 {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &cl);
        if score > best.map_or(0.0, |b| b.1) {
            best = Some((c, score));
        }
    }
    best.filter(|b| b.1 >= 0.84).map(|b| b.0)
}

/// A human name for the object at a pointer: "route policies", "`mcpAuthentication`", ...
pub fn describe(ptr: &str) -> String {
    let segs: Vec<&str> = ptr.split('/').skip(1).collect();
    let Some(last) = segs.last() else {
        return "the top level".into();
    };
    let prev = segs.len().checked_sub(2).map(|i| segs[i]);
    let llm = segs.first() == Some(&"llm");
    if last.parse::<usize>().is_ok() {
        return match prev {
            Some("binds") => "bind",
            Some("listeners") => "listener",
            Some("routes") => "route",
            Some("targets") if segs.contains(&"mcp") => "MCP target",
            Some("models") if llm => "LLM model",
            Some("providers") if llm => "LLM provider",
            Some("virtualModels") if llm => "virtual model",
            Some("backends") => "backend",
            Some("matches") => "route match",
            Some("rules") => "authorization rule",
            Some("policies") => "policy entry",
            Some("headers") | Some("query") => "match condition",
            Some("localRateLimit") => "rate limit",
            Some("providers") if segs.contains(&"jwtAuth") => "JWT provider",
            Some(p) => return format!("an item of `{p}`"),
            None => "item",
        }
        .into();
    }
    if *last == "policies" {
        let owner = segs.len().checked_sub(3).map(|i| segs[i]);
        return match (owner, prev) {
            (Some("routes"), _) => "route policies".into(),
            (Some("listeners"), _) => "listener policies".into(),
            (Some("targets"), _) => "MCP target policies".into(),
            (Some("backends"), _) => "backend policies".into(),
            (_, Some("mcp")) => "`mcp` policies".into(),
            (Some("gateways"), _) => "gateway policies".into(),
            _ => "`policies`".into(),
        };
    }
    if *last == "policy" {
        return "policy".into();
    }
    if prev == Some("gateways") && segs.len() == 2 {
        return format!("gateway `{last}`");
    }
    format!("`{}`", last.replace("~1", "/").replace("~0", "~"))
}

/// A name for the value at a pointer: "`port`", "route match path", ...
fn describe_value(ptr: &str) -> String {
    let segs: Vec<&str> = ptr.split('/').skip(1).collect();
    match segs.last() {
        None => "the top level".into(),
        Some(l) if l.parse::<usize>().is_ok() => describe(ptr),
        Some(l) => format!("`{}`", l.replace("~1", "/").replace("~0", "~")),
    }
}

fn type_names(kind: &TypeKind) -> String {
    let one = |t: &jsonschema::JsonType| -> &'static str {
        use jsonschema::JsonType::*;
        match t {
            Array => "a list",
            Boolean => "`true` or `false`",
            Integer => "a whole number",
            Null => "empty",
            Number => "a number",
            Object => "a mapping",
            String => "a string",
        }
    };
    match kind {
        TypeKind::Single(t) => one(t).to_string(),
        TypeKind::Multiple(ts) => {
            let names: Vec<&str> = ts
                .iter()
                .filter(|t| !matches!(t, jsonschema::JsonType::Null))
                .map(|t| one(&t))
                .collect();
            names.join(" or ")
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (an empty value)",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn found_text(v: &Value, t: &str) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string `{s}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("`{b}`"),
        _ => t.to_string(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn type_hint(v: &Value, expected: &str) -> Option<String> {
    match v {
        Value::String(s) if expected.contains("true") => {
            let l = s.to_ascii_lowercase();
            let b = match l.as_str() {
                "yes" | "on" | "y" => Some("true"),
                "no" | "off" | "n" => Some("false"),
                _ => None,
            }?;
            Some(format!("YAML 1.2 reads `{s}` as a string; write `{b}`"))
        }
        Value::String(s) if expected == "a list" => {
            let items: Vec<String> = if s.contains(',') {
                s.split(',').map(|x| x.trim().to_string()).collect()
            } else {
                s.split_whitespace().map(String::from).collect()
            };
            let items: Vec<String> = items.iter().map(|i| flow_item(i)).collect();
            Some(format!("write a list: `[{}]`", items.join(", ")))
        }
        Value::String(s) if expected.contains("number") && s.trim().parse::<f64>().is_ok() => {
            Some(format!("remove the quotes: `{}`", s.trim()))
        }
        Value::Null if expected == "a list" => Some("write `[]` for an empty list".into()),
        Value::Null if expected == "a mapping" => Some("write `{}` for an empty mapping".into()),
        Value::Object(_) if expected == "a list" => {
            Some("start each item with `- ` to make a list".into())
        }
        Value::Array(a) if expected == "a mapping" && a.len() == 1 => {
            Some("remove the `- `: this takes a mapping, not a list".into())
        }
        Value::Number(_) | Value::Bool(_) if expected == "a string" => {
            Some("quote the value to make it a string".into())
        }
        _ => None,
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// One item of a YAML flow list, quoted when YAML would read it otherwise.
fn flow_item(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !s.starts_with(['-', ':'])
        && !s.is_empty();
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\\\""))
    }
}

fn first_sentence(s: &str) -> String {
    let s = s.split("\n\n").next().unwrap_or(s).replace('\n', " ");
    match s.find(". ") {
        Some(i) => s[..i].to_string(),
        None => s.trim_end_matches('.').to_string(),
    }
}

/// A DNS-style rendering of a name, to suggest in place of an invalid target name.
fn dns_name(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() {
        "tools".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pruned_validator_gives_the_verdict_of_the_whole_schema() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut compared = 0;
        for kind in ["valid", "invalid"] {
            for e in std::fs::read_dir(format!("{dir}/{kind}"))
                .unwrap()
                .flatten()
            {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "yaml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let expanded =
                    crate::source::env::expand(&text, &crate::source::EnvOptions::default());
                let parsed = crate::source::yaml::parse(&expanded, &Default::default());
                let Some(value) = parsed.value else { continue };
                for release in Release::ALL {
                    let j = judged(release);
                    let mut keys = std::collections::HashSet::new();
                    keys_of(&value, &mut keys);
                    let pruned = compile(&prune(j.schema(), &keys));
                    let whole = j.validator.get_or_init(|| compile(j.schema()));
                    let a = report(&value, &parsed.index, release, &pruned);
                    let b = report(&value, &parsed.index, release, whole);
                    let show = |d: &[Diagnostic]| {
                        d.iter()
                            .map(|d| format!("{} {}", d.rule, d.message))
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(show(&a), show(&b), "{}", path.display());
                    compared += 1;
                }
            }
        }
        assert!(compared > 40, "{compared}");
    }

    use super::*;

    #[test]
    fn closest_finds_typos_and_case() {
        let c = ["mcpAuthentication", "mcpAuthorization", "cors"];
        assert_eq!(
            closest("mcpAuthentcation", c.iter().copied()),
            Some("mcpAuthentication")
        );
        assert_eq!(
            closest("MCPAUTHORIZATION", c.iter().copied()),
            Some("mcpAuthorization")
        );
        assert_eq!(closest("zzz", c.iter().copied()), None);
        assert_eq!(
            closest("path_prefix", ["pathPrefix", "exact"].iter().copied()),
            Some("pathPrefix")
        );
    }

    #[test]
    fn describes_places() {
        assert_eq!(
            describe("/binds/0/listeners/0/routes/1/policies"),
            "route policies"
        );
        assert_eq!(describe("/binds/0"), "bind");
        assert_eq!(describe(""), "the top level");
        assert_eq!(describe("/mcp/policies"), "`mcp` policies");
        assert_eq!(describe("/a/mcpAuthentication"), "`mcpAuthentication`");
    }
}
