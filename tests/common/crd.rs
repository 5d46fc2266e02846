//! Validation of Kubernetes manifests against the CustomResourceDefinitions that the gateway's
//! controller and the Gateway API install, for tests of anything that writes manifests.
//!
//! The CRDs are read from `$AGW_UPSTREAM_DIR/crds` (never copied into the repository) and parsed
//! once per test process. A manifest is checked as the API server would check it on create:
//! schema `default`s are applied first, then the structural schema (converted to JSON Schema) and
//! every `x-kubernetes-validations` CEL rule at the node that declares it. One deliberate
//! difference: the API server prunes fields that the schema does not declare, and this validator
//! rejects them instead, because a generator that writes a field the controller never sees has a
//! bug that pruning would hide.
//!
//! Core kinds without a CRD (`v1` Secret, ConfigMap, Service, `apps/v1` Deployment) get only the
//! basic checks of the API server's own validation; any other kind is reported as unknown.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Once, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kube_cel::cel;
use kube_cel::KubeCelExt;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

use super::partners;

/// Rules that the CEL engine here cannot evaluate although the API server can, with the reason,
/// matched on the exact rule text; they are skipped. Every entry must be a proven limitation of
/// the engine, not of a manifest: a rule that does not compile here or calls a function the
/// engine lacks. `Crds::rule_coverage` finds both without data, and also reports an entry that no
/// longer fails, so the list cannot go stale silently. Empty for the CRDs read now: every rule
/// compiles and calls only functions that cel and kube-cel provide.
const ENGINE_LIMITS: &[(&str, &str)] = &[];

/// The CRDs of one directory, parsed once; each schema is compiled the first time a manifest of
/// its kind is validated.
pub struct Crds {
    kinds: Vec<CrdVersion>,
    /// Rules that refer to `oldSelf`: they compare an update with the stored object, and a created
    /// object has none, so they are not evaluated (as on create in the API server).
    transition_rules: Vec<String>,
}

struct CrdVersion {
    group: String,
    version: String,
    kind: String,
    served: bool,
    /// With the status subresource, the API server ignores `status` in a create or update.
    status_subresource: bool,
    /// `openAPIV3Schema` as the CRD writes it (OpenAPI v3 with Kubernetes extensions).
    schema: Value,
    structural: OnceLock<jsonschema::Validator>,
    rules: OnceLock<kube_cel::CompiledSchema>,
}

static CRDS: OnceLock<Crds> = OnceLock::new();
static NOTE: Once = Once::new();

impl Crds {
    /// The CRDs of `$AGW_UPSTREAM_DIR/crds`; `None` when they are missing (the calling test is
    /// then failed under `AGW_REQUIRE_PARTNERS=1`, or recorded as skipped, and should return).
    pub fn load() -> Option<&'static Crds> {
        let dir = partners::data_dir("AGW_UPSTREAM_DIR")?.join("crds");
        if !dir.is_dir() {
            partners::missing(
                &format!("the CRDs ({} is not a directory)", dir.display()),
                "the shared upstream data should hold crds/",
            );
            return None;
        }
        let crds = CRDS.get_or_init(|| Crds::read(&dir));
        NOTE.call_once(|| crds.print_unchecked());
        Some(crds)
    }

    fn read(dir: &Path) -> Crds {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no CRD files in {}", dir.display());
        let mut kinds = Vec::new();
        let mut transition_rules = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            let (docs, problems) = parse_yaml(&text);
            assert!(
                problems.is_empty(),
                "{}: {}",
                file.display(),
                problems.join("; ")
            );
            for doc in docs
                .into_iter()
                .filter(|d| d["kind"] == "CustomResourceDefinition")
            {
                let spec = &doc["spec"];
                let group = spec["group"].as_str().unwrap_or_default().to_string();
                let kind = spec["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                for v in spec["versions"].as_array().into_iter().flatten() {
                    let version = v["name"].as_str().unwrap_or_default().to_string();
                    let schema = v["schema"]["openAPIV3Schema"].clone();
                    assert!(
                        schema.is_object(),
                        "{}: {kind} {version} has no openAPIV3Schema",
                        file.display()
                    );
                    collect_transition_rules(
                        &schema,
                        &format!("{kind} {group}/{version}"),
                        &mut String::new(),
                        &mut transition_rules,
                    );
                    kinds.push(CrdVersion {
                        group: group.clone(),
                        version,
                        kind: kind.clone(),
                        served: v["served"].as_bool().unwrap_or(false),
                        status_subresource: v["subresources"].get("status").is_some(),
                        schema,
                        structural: OnceLock::new(),
                        rules: OnceLock::new(),
                    });
                }
            }
        }
        Crds {
            kinds,
            transition_rules,
        }
    }

    fn print_unchecked(&self) {
        if self.transition_rules.is_empty() && ENGINE_LIMITS.is_empty() {
            return;
        }
        let mut note = String::from("CRD validation does not check these CEL rules:\n");
        for r in &self.transition_rules {
            note.push_str(&format!("  {r} (uses oldSelf: only on update)\n"));
        }
        for (rule, why) in ENGINE_LIMITS {
            note.push_str(&format!("  `{rule}` ({why})\n"));
        }
        eprint!("{note}");
    }

    /// Every problem of one manifest (an object with apiVersion, kind, metadata and usually
    /// spec), each as `KIND NAME: /json/pointer: message` (the root is written `/`); empty when
    /// the API server would accept it.
    pub fn validate(&self, manifest: &Value) -> Vec<String> {
        let kind = manifest["kind"].as_str().unwrap_or("<no kind>");
        let name = manifest["metadata"]["name"].as_str().unwrap_or("<no name>");
        let mut found = Vec::new();
        self.problems(manifest, &mut found);
        found
            .into_iter()
            .map(|(ptr, msg)| {
                let ptr = if ptr.is_empty() { "/" } else { &ptr };
                format!("{kind} {name}: {ptr}: {msg}")
            })
            .collect()
    }

    /// The problems of every document of a multi-document YAML text (empty documents are
    /// skipped, as kubectl skips them), YAML errors included.
    pub fn validate_yaml(&self, text: &str) -> Vec<String> {
        let (docs, mut problems) = parse_yaml(text);
        for doc in docs.iter().filter(|d| !d.is_null()) {
            problems.extend(self.validate(doc));
        }
        problems
    }

    fn problems(&self, m: &Value, out: &mut Vec<(String, String)>) {
        let Some(obj) = m.as_object() else {
            out.push((String::new(), "a manifest must be a mapping".into()));
            return;
        };
        let (Some(api_version), Some(kind)) = (
            obj.get("apiVersion").and_then(Value::as_str),
            obj.get("kind").and_then(Value::as_str),
        ) else {
            out.push((
                String::new(),
                "apiVersion and kind must both be set (as strings)".into(),
            ));
            return;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        match (group, version, kind) {
            ("", "v1", "Secret") => {
                object_meta(m, NameRule::Subdomain, out);
                secret(obj, out);
                return;
            }
            ("", "v1", "ConfigMap") => {
                object_meta(m, NameRule::Subdomain, out);
                config_map(obj, out);
                return;
            }
            ("", "v1", "Service") => {
                object_meta(m, NameRule::Dns1035Label, out);
                service(obj, out);
                return;
            }
            ("apps", "v1", "Deployment") => {
                object_meta(m, NameRule::Subdomain, out);
                deployment(obj, out);
                return;
            }
            _ => {}
        }
        let same_kind: Vec<&CrdVersion> = self
            .kinds
            .iter()
            .filter(|k| k.group == group && k.kind == kind)
            .collect();
        let Some(crd) = same_kind.iter().find(|k| k.version == version) else {
            let msg = if same_kind.is_empty() {
                format!("no CustomResourceDefinition (nor core kind checked here) for kind {kind} in {api_version}")
            } else {
                let versions: Vec<_> = same_kind.iter().map(|k| k.version.as_str()).collect();
                format!(
                    "{kind} has no version {version} in group {group} (it has {})",
                    versions.join(", ")
                )
            };
            out.push(("/apiVersion".into(), msg));
            return;
        };
        if !crd.served {
            out.push((
                "/apiVersion".into(),
                format!("{api_version} {kind} is not served"),
            ));
        }
        object_meta(m, NameRule::Subdomain, out);
        if crd.status_subresource && obj.contains_key("status") {
            out.push((
                "/status".into(),
                "status is written by the controller: the API server drops it from a manifest"
                    .into(),
            ));
        }

        // The API server defaults before it validates, so both passes see the defaults.
        let defaulted = kube_cel::apply_defaults(&crd.schema, m);
        for e in crd.structural().iter_errors(&defaulted) {
            out.push((e.instance_path().as_str().to_string(), e.to_string()));
        }
        list_map_keys(&crd.schema, &defaulted, &mut String::new(), out);

        let root = kube_cel::RootContext {
            api_version: api_version.to_string(),
            api_group: group.to_string(),
            kind: kind.to_string(),
        };
        let result = VALIDATOR
            .with(|v| v.validate_compiled_with_context(crd.rules(), &defaulted, None, Some(&root)));
        for e in result.err().into_iter().flatten() {
            if uses_old_self(&e.rule) {
                continue;
            }
            let ptr = dotted_to_pointer(&e.field_path);
            match e.kind {
                kube_cel::ErrorKind::ValidationFailure => out.push((ptr, e.message.clone())),
                _ if engine_limit(&e.rule).is_some() => {}
                _ => out.push((
                    ptr,
                    format!("rule `{}` could not be evaluated: {}", e.rule, e.message),
                )),
            }
        }
    }

    /// Rules of every CRD that this engine cannot evaluate (they fail to compile or call a
    /// function it lacks) and that are not in the allow-list of engine limits, and allow-list
    /// entries that no longer fail. Compiles every schema's rules.
    pub fn rule_coverage(&self) -> Vec<String> {
        let mut still_limited = BTreeSet::new();
        let mut out = Vec::new();
        for k in &self.kinds {
            let at = format!("{} {}/{}", k.kind, k.group, k.version);
            coverage(k.rules(), &at, &mut still_limited, &mut out);
        }
        for (rule, _) in ENGINE_LIMITS {
            if !still_limited.contains(rule) {
                out.push(format!(
                    "allow-listed rule `{rule}` is now evaluated: remove it from ENGINE_LIMITS"
                ));
            }
        }
        out
    }

    /// How many versioned kinds and CEL rules were read (for a sanity check of the data).
    pub fn counts(&self) -> (usize, usize) {
        let rules = self
            .kinds
            .iter()
            .map(|k| count_rules(&k.schema))
            .sum::<usize>();
        (self.kinds.len(), rules)
    }
}

thread_local! {
    // The engine's function table is built per thread: the validator is not shared across the
    // test harness's threads.
    static VALIDATOR: kube_cel::Validator = kube_cel::Validator::new();
    static PROBE: (cel::Context<'static>, RefCell<HashMap<String, bool>>) =
        (cel::Context::default().with_all(), RefCell::default());
}

impl CrdVersion {
    fn structural(&self) -> &jsonschema::Validator {
        self.structural.get_or_init(|| {
            let schema = to_json_schema(&self.schema, Place::Root);
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(true)
                // The schemas' patterns are Go regular expressions (RE2), which `regex` follows.
                .with_pattern_options(jsonschema::PatternOptions::regex())
                .build(&schema)
                .unwrap_or_else(|e| {
                    panic!(
                        "the schema of {} {}/{} does not compile as JSON Schema: {e}",
                        self.kind, self.group, self.version
                    )
                })
        })
    }

    fn rules(&self) -> &kube_cel::CompiledSchema {
        self.rules
            .get_or_init(|| kube_cel::compile_schema(&self.schema))
    }
}

fn engine_limit(rule: &str) -> Option<&'static str> {
    ENGINE_LIMITS
        .iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, why)| *why)
}

fn uses_old_self(rule: &str) -> bool {
    rule.match_indices("oldSelf").any(|(i, _)| {
        let before = rule[..i].chars().next_back();
        let after = rule[i + "oldSelf".len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn count_rules(schema: &Value) -> usize {
    let Some(o) = schema.as_object() else {
        return 0;
    };
    let here = o
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    here + children(o).map(|(_, s)| count_rules(s)).sum::<usize>()
}

/// The sub-schemas of a schema node, each with the pointer token it adds to the data (`None`
/// when the sub-schema applies to the same value, `*` for every element or map value).
fn children(o: &Map<String, Value>) -> impl Iterator<Item = (Option<String>, &Value)> {
    let props = o
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (Some(k.clone()), v));
    let items = o
        .get("items")
        .filter(|i| i.is_object())
        .map(|v| (Some("*".to_string()), v));
    let additional = o
        .get("additionalProperties")
        .filter(|i| i.is_object())
        .map(|v| (Some("*".to_string()), v));
    let junctors = ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .filter_map(|j| o.get(j).and_then(Value::as_array))
        .flatten()
        .map(|v| (None, v));
    props.chain(items).chain(additional).chain(junctors)
}

fn collect_transition_rules(schema: &Value, at: &str, ptr: &mut String, out: &mut Vec<String>) {
    let Some(o) = schema.as_object() else {
        return;
    };
    for r in o
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let rule = r["rule"].as_str().unwrap_or_default();
        if uses_old_self(rule) {
            let p = if ptr.is_empty() { "/" } else { ptr.as_str() };
            out.push(format!("{at} {p}: `{rule}`"));
        }
    }
    for (token, child) in children(o) {
        let len = ptr.len();
        if let Some(t) = token {
            ptr.push('/');
            ptr.push_str(&escape_token(&t));
        }
        collect_transition_rules(child, at, ptr, out);
        ptr.truncate(len);
    }
}

fn coverage(
    node: &kube_cel::CompiledSchema,
    at: &str,
    still_limited: &mut BTreeSet<&'static str>,
    out: &mut Vec<String>,
) {
    for result in &node.validations {
        match result {
            Ok(compiled) => {
                let rule = compiled.rule.rule.as_str();
                let missing = lacking(&compiled.program);
                if missing.is_empty() {
                    continue;
                }
                match ENGINE_LIMITS.iter().find(|(r, _)| *r == rule) {
                    Some((r, _)) => {
                        still_limited.insert(r);
                    }
                    None => out.push(format!(
                        "{at}: rule `{rule}` calls {}, which the CEL engine lacks",
                        missing.join(", ")
                    )),
                }
            }
            Err(e) => {
                let rule = match e {
                    kube_cel::CompilationError::Parse { rule, .. }
                    | kube_cel::CompilationError::MessageExpressionParse { rule, .. } => {
                        rule.as_str()
                    }
                    _ => "",
                };
                match ENGINE_LIMITS.iter().find(|(r, _)| *r == rule) {
                    Some((r, _)) => {
                        still_limited.insert(r);
                    }
                    None => out.push(format!("{at}: {e}")),
                }
            }
        }
    }
    let nested = node
        .properties
        .values()
        .chain(node.items.as_deref())
        .chain(node.additional_properties.as_deref())
        .chain(&node.all_of)
        .chain(&node.one_of)
        .chain(&node.any_of);
    for child in nested {
        coverage(child, at, still_limited, out);
    }
}

/// The functions that a CEL rule calls and the engine lacks; `Err` when the rule does not
/// compile. (A missing function shows only when a call is reached, which depends on the data.)
pub fn missing_functions(rule: &str) -> Result<Vec<String>, String> {
    cel::Program::compile(rule)
        .map(|p| lacking(&p))
        .map_err(|e| e.to_string())
}

fn lacking(program: &cel::Program) -> Vec<String> {
    PROBE.with(|(ctx, known)| {
        let mut known = known.borrow_mut();
        program
            .references()
            .functions()
            .into_iter()
            .filter(|f| {
                !*known
                    .entry(f.to_string())
                    .or_insert_with(|| engine_has(ctx, f))
            })
            .map(str::to_string)
            .collect()
    })
}

/// Whether the engine defines a function of this name: calling it with no arguments fails with
/// "undeclared reference" only when it does not.
fn engine_has(probe: &cel::Context<'_>, name: &str) -> bool {
    let Ok(program) = cel::Program::compile(&format!("{name}()")) else {
        return true;
    };
    !matches!(
        program.execute(probe),
        Err(cel::ExecutionError::UndeclaredReference(ref n)) if n.as_str() == name
    )
}

/// kube-cel reports where a rule failed as `spec.listeners[0].tls`; tests and people read JSON
/// pointers. The schemas' field names are identifiers and no rule sits under a map value (whose
/// keys could hold dots), so splitting at dots is exact for them.
fn dotted_to_pointer(path: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let mut chars = path.chars();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            out.push('/');
            out.push_str(&escape_token(token));
            token.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut token, &mut out),
            '[' => {
                flush(&mut token, &mut out);
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                let inner = inner.trim_matches(|c| c == '\'' || c == '"');
                out.push('/');
                out.push_str(&escape_token(inner));
            }
            c => token.push(c),
        }
    }
    flush(&mut token, &mut out);
    out
}

fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

// OpenAPI v3 (as CRDs write it) to JSON Schema.

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    Field,
    /// Inside allOf/anyOf/oneOf/not: these only add constraints to a value whose fields the
    /// enclosing schema declares, so a branch must not reject the other fields.
    Junctor,
}

const KEPT: &[&str] = &[
    "required",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "format",
];

fn to_json_schema(node: &Value, place: Place) -> Value {
    let Some(n) = node.as_object() else {
        return node.clone();
    };
    let flag = |k: &str| n.get(k).and_then(Value::as_bool) == Some(true);
    let nullable = flag("nullable");
    let preserve = flag("x-kubernetes-preserve-unknown-fields");
    let mut out = Map::new();

    let mut types: Vec<Value> = if flag("x-kubernetes-int-or-string") {
        vec!["integer".into(), "string".into()]
    } else {
        n.get("type").cloned().into_iter().collect()
    };
    if !types.is_empty() {
        if nullable {
            types.push("null".into());
        }
        out.insert(
            "type".into(),
            if types.len() == 1 {
                types.remove(0)
            } else {
                Value::Array(types)
            },
        );
    }
    for k in KEPT {
        if let Some(v) = n.get(*k) {
            out.insert((*k).into(), v.clone());
        }
    }
    if nullable {
        if let Some(Value::Array(e)) = out.get_mut("enum") {
            e.push(Value::Null);
        }
    }
    // OpenAPI v3.0 writes exclusiveness as a flag beside minimum/maximum; JSON Schema as a bound.
    for (flag_key, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match n.get(flag_key) {
            Some(Value::Bool(true)) => {
                if let Some(b) = out.remove(bound) {
                    out.insert(flag_key.into(), b);
                }
            }
            Some(v @ Value::Number(_)) => {
                out.insert(flag_key.into(), v.clone());
            }
            _ => {}
        }
    }
    if n.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
        out.insert("uniqueItems".into(), true.into());
    }

    let inner = if place == Place::Junctor {
        Place::Junctor
    } else {
        Place::Field
    };
    if let Some(props) = n.get("properties").and_then(Value::as_object) {
        let converted = props
            .iter()
            .map(|(k, v)| {
                // ObjectMeta is checked by `object_meta`, as the API server checks it whatever
                // the CRD says; a CRD may only narrow name/generateName here.
                let v = if place == Place::Root && k == "metadata" {
                    let mut m = to_json_schema(v, Place::Junctor);
                    m.as_object_mut().map(|o| o.remove("additionalProperties"));
                    m
                } else {
                    to_json_schema(v, inner)
                };
                (k.clone(), v)
            })
            .collect();
        out.insert("properties".into(), Value::Object(converted));
    }
    match n.get("additionalProperties") {
        Some(a @ Value::Object(_)) => {
            out.insert("additionalProperties".into(), to_json_schema(a, inner));
        }
        Some(b @ Value::Bool(_)) => {
            out.insert("additionalProperties".into(), b.clone());
        }
        // The API server would prune undeclared fields; they are rejected instead (see the
        // module comment). An object without declared fields (a marker such as
        // `passthrough: {}`) keeps none.
        _ if (n.contains_key("properties") || n.get("type") == Some(&Value::from("object")))
            && !preserve
            && place != Place::Junctor =>
        {
            // With `properties` present the error names the unexpected key.
            out.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
            out.insert("additionalProperties".into(), false.into());
        }
        _ => {}
    }
    if let Some(items) = n.get("items") {
        out.insert("items".into(), to_json_schema(items, inner));
    }
    for j in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = n.get(j).and_then(Value::as_array) {
            let b = branches
                .iter()
                .map(|b| to_json_schema(b, Place::Junctor))
                .collect();
            out.insert(j.into(), Value::Array(b));
        }
    }
    if let Some(not) = n.get("not") {
        out.insert("not".into(), to_json_schema(not, Place::Junctor));
    }
    Value::Object(out)
}

/// `x-kubernetes-list-type: map` lists must not hold two items with the same keys (the API
/// server's "Duplicate value"); JSON Schema cannot say that.
fn list_map_keys(schema: &Value, value: &Value, ptr: &mut String, out: &mut Vec<(String, String)>) {
    let Some(o) = schema.as_object() else {
        return;
    };
    if let (Some("map"), Some(items)) = (
        o.get("x-kubernetes-list-type").and_then(Value::as_str),
        value.as_array(),
    ) {
        let keys: Vec<&str> = o
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut seen = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let key: Vec<&Value> = keys.iter().map(|k| &item[*k]).collect();
            let shown = serde_json::to_string(&key).unwrap_or_default();
            if let Some(first) = seen.insert(shown.clone(), i) {
                out.push((
                    format!("{ptr}/{i}"),
                    format!(
                        "duplicate entry: item {first} has the same {} {shown}",
                        keys.join(", ")
                    ),
                ));
            }
        }
    }
    let len = ptr.len();
    match value {
        Value::Object(obj) => {
            let props = o.get("properties").and_then(Value::as_object);
            let additional = o.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in obj {
                if let Some(s) = props.and_then(|p| p.get(k)).or(additional) {
                    ptr.push('/');
                    ptr.push_str(&escape_token(k));
                    list_map_keys(s, v, ptr, out);
                    ptr.truncate(len);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = o.get("items") {
                for (i, v) in items.iter().enumerate() {
                    ptr.push_str(&format!("/{i}"));
                    list_map_keys(s, v, ptr, out);
                    ptr.truncate(len);
                }
            }
        }
        _ => {}
    }
}

// The API server's own checks of metadata and of the core kinds used next to the CRDs.

#[derive(Clone, Copy)]
enum NameRule {
    Subdomain,
    Dns1035Label,
}

fn dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns1123_label)
}

fn dns1035_label(s: &str) -> bool {
    dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` of at most `max` characters.
fn qualified_part(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name.
fn qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => dns1123_subdomain(prefix) && qualified_part(name, 63),
        None => qualified_part(s, 63),
    }
}

const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

fn object_meta(m: &Value, rule: NameRule, out: &mut Vec<(String, String)>) {
    let Some(meta) = m.get("metadata").and_then(Value::as_object) else {
        out.push(("/metadata".into(), "metadata must be a mapping".into()));
        return;
    };
    for k in meta.keys().filter(|k| !OBJECT_META.contains(&k.as_str())) {
        out.push((
            format!("/metadata/{}", escape_token(k)),
            format!("unknown field `{k}` of ObjectMeta"),
        ));
    }
    match meta.get("name") {
        Some(Value::String(name)) => {
            let (ok, what) = match rule {
                NameRule::Subdomain => (dns1123_subdomain(name), "a DNS-1123 subdomain"),
                NameRule::Dns1035Label => (dns1035_label(name), "a DNS-1035 label"),
            };
            if !ok {
                out.push((
                    "/metadata/name".into(),
                    format!("`{name}` is not {what} (lower case letters, digits, '-' and '.')"),
                ));
            }
        }
        Some(_) => out.push(("/metadata/name".into(), "name must be a string".into())),
        None if meta.contains_key("generateName") => {}
        None => out.push(("/metadata".into(), "name is required".into())),
    }
    if let Some(ns) = meta.get("namespace") {
        if !ns.as_str().is_some_and(dns1123_label) {
            out.push((
                "/metadata/namespace".into(),
                format!("{ns} is not a DNS-1123 label"),
            ));
        }
    }
    for (field, values_are_labels) in [("labels", true), ("annotations", false)] {
        let Some(map) = meta.get(field) else { continue };
        let Some(map) = map.as_object() else {
            out.push((
                format!("/metadata/{field}"),
                format!("{field} must be a mapping of strings"),
            ));
            continue;
        };
        for (k, v) in map {
            let at = format!("/metadata/{field}/{}", escape_token(k));
            if !qualified_name(k) {
                out.push((at.clone(), format!("`{k}` is not a qualified name")));
            }
            match v.as_str() {
                None => out.push((at, format!("{field} values must be strings, not {v}"))),
                Some(s) if values_are_labels && !s.is_empty() && !qualified_part(s, 63) => {
                    out.push((at, format!("`{s}` is not a valid label value")))
                }
                Some(_) => {}
            }
        }
    }
}

fn unknown_top_level(obj: &Map<String, Value>, allowed: &[&str], out: &mut Vec<(String, String)>) {
    for k in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        out.push((
            format!("/{}", escape_token(k)),
            format!("unknown field `{k}`"),
        ));
    }
}

/// A Secret or ConfigMap key: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.` or `..`.
fn config_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Checks a map of keys to strings; `base64` when the values are encoded bytes. Returns the
/// keys and the decoded size.
fn string_map<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
    base64: bool,
    out: &mut Vec<(String, String)>,
) -> (Vec<&'a str>, usize) {
    let Some(v) = obj.get(field) else {
        return (Vec::new(), 0);
    };
    let Some(map) = v.as_object() else {
        out.push((format!("/{field}"), format!("{field} must be a mapping")));
        return (Vec::new(), 0);
    };
    let mut size = 0;
    for (k, v) in map {
        let at = format!("/{field}/{}", escape_token(k));
        if !config_key(k) {
            out.push((
                at.clone(),
                format!("`{k}` is not a valid key (letters, digits, '-', '_' and '.')"),
            ));
        }
        match v.as_str() {
            None => out.push((at, format!("values must be strings, not {v}"))),
            Some(s) if base64 => match STANDARD.decode(s) {
                Ok(bytes) => size += bytes.len(),
                Err(e) => out.push((at, format!("not valid base64: {e}"))),
            },
            Some(s) => size += s.len(),
        }
    }
    (map.keys().map(String::as_str).collect(), size)
}

const MAX_DATA_BYTES: usize = 1024 * 1024;

fn secret(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    unknown_top_level(
        obj,
        &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "stringData",
            "type",
            "immutable",
        ],
        out,
    );
    let (data, data_size) = string_map(obj, "data", true, out);
    let (string_data, string_size) = string_map(obj, "stringData", false, out);
    if data_size + string_size > MAX_DATA_BYTES {
        out.push((
            String::new(),
            format!("the data of a Secret must be at most {MAX_DATA_BYTES} bytes"),
        ));
    }
    if let Some(v) = obj.get("immutable").filter(|v| !v.is_boolean()) {
        out.push(("/immutable".into(), format!("must be a boolean, not {v}")));
    }
    let ty = match obj.get("type") {
        None => "Opaque",
        Some(Value::String(t)) if !t.is_empty() => t.as_str(),
        Some(v) => {
            out.push((
                "/type".into(),
                format!("must be a non-empty string, not {v}"),
            ));
            return;
        }
    };
    let has = |k: &str| data.contains(&k) || string_data.contains(&k);
    let needs: &[&[&str]] = match ty {
        "kubernetes.io/tls" => &[&["tls.crt"], &["tls.key"]],
        "kubernetes.io/basic-auth" => &[&["username", "password"]],
        "kubernetes.io/ssh-auth" => &[&["ssh-privatekey"]],
        "kubernetes.io/dockerconfigjson" => &[&[".dockerconfigjson"]],
        "kubernetes.io/dockercfg" => &[&[".dockercfg"]],
        _ => &[],
    };
    for any_of in needs {
        if !any_of.iter().any(|k| has(k)) {
            out.push((
                "/data".into(),
                format!(
                    "a Secret of type {ty} needs the key {}",
                    any_of.join(" or ")
                ),
            ));
        }
    }
}

fn config_map(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    unknown_top_level(
        obj,
        &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "binaryData",
            "immutable",
        ],
        out,
    );
    let (data, a) = string_map(obj, "data", false, out);
    let (binary, b) = string_map(obj, "binaryData", true, out);
    for k in data.iter().filter(|k| binary.contains(k)) {
        out.push((
            format!("/binaryData/{}", escape_token(k)),
            format!("key `{k}` is also in data"),
        ));
    }
    if a + b > MAX_DATA_BYTES {
        out.push((
            String::new(),
            format!("the data of a ConfigMap must be at most {MAX_DATA_BYTES} bytes"),
        ));
    }
}

fn port_number(v: &Value) -> bool {
    v.as_i64().is_some_and(|p| (1..=65535).contains(&p))
}

fn service(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    unknown_top_level(
        obj,
        &["apiVersion", "kind", "metadata", "spec", "status"],
        out,
    );
    let Some(spec) = obj.get("spec").and_then(Value::as_object) else {
        out.push(("/spec".into(), "spec is required (a mapping)".into()));
        return;
    };
    let ty = spec
        .get("type")
        .map_or(Some("ClusterIP"), Value::as_str)
        .unwrap_or("");
    if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&ty) {
        out.push((
            "/spec/type".into(),
            format!(
                "{} is not one of ClusterIP, NodePort, LoadBalancer, ExternalName",
                spec["type"]
            ),
        ));
    }
    if ty == "ExternalName" {
        if !spec
            .get("externalName")
            .and_then(Value::as_str)
            .is_some_and(dns1123_subdomain)
        {
            out.push((
                "/spec/externalName".into(),
                "an ExternalName Service needs externalName, a DNS name".into(),
            ));
        }
        return;
    }
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty());
    let Some(ports) = ports else {
        out.push(("/spec/ports".into(), "at least one port is required".into()));
        return;
    };
    for (i, p) in ports.iter().enumerate() {
        let at = format!("/spec/ports/{i}");
        if !p.get("port").is_some_and(port_number) {
            out.push((
                format!("{at}/port"),
                "port is required, from 1 to 65535".into(),
            ));
        }
        if let Some(proto) = p.get("protocol") {
            if !proto
                .as_str()
                .is_some_and(|s| ["TCP", "UDP", "SCTP"].contains(&s))
            {
                out.push((
                    format!("{at}/protocol"),
                    format!("{proto} is not one of TCP, UDP, SCTP"),
                ));
            }
        }
        match p.get("name") {
            Some(n) if !n.as_str().is_some_and(dns1123_label) => {
                out.push((format!("{at}/name"), format!("{n} is not a DNS-1123 label")))
            }
            None if ports.len() > 1 => out.push((
                format!("{at}/name"),
                "every port needs a name when there are several".into(),
            )),
            _ => {}
        }
        if let Some(t) = p.get("targetPort") {
            let ok = port_number(t)
                || t.as_str()
                    .is_some_and(|s| dns1123_label(s) && s.len() <= 15);
            if !ok {
                out.push((
                    format!("{at}/targetPort"),
                    format!("{t} is neither a port number nor a port name"),
                ));
            }
        }
    }
}

fn deployment(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    unknown_top_level(
        obj,
        &["apiVersion", "kind", "metadata", "spec", "status"],
        out,
    );
    let Some(spec) = obj.get("spec").and_then(Value::as_object) else {
        out.push(("/spec".into(), "spec is required (a mapping)".into()));
        return;
    };
    if let Some(r) = spec.get("replicas") {
        if r.as_i64().is_none_or(|r| r < 0) {
            out.push((
                "/spec/replicas".into(),
                format!("{r} is not a non-negative integer"),
            ));
        }
    }
    let selector = spec.get("selector").and_then(Value::as_object);
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        out.push((
            "/spec/selector".into(),
            "a non-empty selector is required".into(),
        ));
        return;
    };
    let Some(template) = spec.get("template").and_then(Value::as_object) else {
        out.push(("/spec/template".into(), "template is required".into()));
        return;
    };
    let labels = &template.get("metadata").unwrap_or(&Value::Null)["labels"];
    for (k, v) in selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if labels.get(k) != Some(v) {
            out.push((
                "/spec/template/metadata/labels".into(),
                format!("`selector` does not match template `labels`: {k}={v} is missing"),
            ));
        }
    }
    let containers = template
        .get("spec")
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    let Some(containers) = containers else {
        out.push((
            "/spec/template/spec/containers".into(),
            "at least one container is required".into(),
        ));
        return;
    };
    for (i, c) in containers.iter().enumerate() {
        let at = format!("/spec/template/spec/containers/{i}");
        if !c
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(dns1123_label)
        {
            out.push((
                format!("{at}/name"),
                "name is required, a DNS-1123 label".into(),
            ));
        }
        if c.get("image")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            out.push((format!("{at}/image"), "image is required".into()));
        }
    }
}

// YAML, read as kubectl reads it.

/// The documents of a YAML text as JSON values, with the problems found: syntax errors (the
/// documents before one are kept), keys written twice in one mapping, values JSON cannot hold.
/// Plain scalars resolve as in YAML 1.1, as kubectl's YAML reader does (`yes`, `on` and `off` are
/// booleans there), so a generated manifest is read as the cluster would read it.
pub fn parse_yaml(text: &str) -> (Vec<Value>, Vec<String>) {
    enum Frame {
        Map(Map<String, Value>, Option<String>, usize),
        Seq(Vec<Value>, usize),
    }
    let mut docs = Vec::new();
    let mut problems = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut root: Option<Value> = None;
    let mut in_doc = false;
    let doc_no = |docs: &Vec<Value>| docs.len() + 1;

    for item in Parser::new_from_str(text) {
        let (event, span) = match item {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                problems.push(format!(
                    "YAML: line {} column {}: {}",
                    m.line(),
                    m.col() + 1,
                    e.info()
                ));
                return (docs, problems);
            }
        };
        let line = span.start.line();
        let value = match event {
            Event::DocumentStart(_) => {
                in_doc = true;
                root = None;
                continue;
            }
            Event::DocumentEnd => {
                if in_doc {
                    docs.push(root.take().unwrap_or(Value::Null));
                }
                in_doc = false;
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Map::new(), None, anchor));
                continue;
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (value, anchor) = match stack.pop() {
                    Some(Frame::Map(m, _, a)) => (Value::Object(m), a),
                    Some(Frame::Seq(s, a)) => (Value::Array(s), a),
                    None => continue,
                };
                if anchor > 0 {
                    anchors.insert(anchor, value.clone());
                }
                value
            }
            Event::Scalar(v, style, anchor, tag) => {
                let tag = tag.map(|t| t.suffix.clone());
                let value = match scalar(&v, style, tag.as_deref()) {
                    Ok(value) => value,
                    Err(msg) => {
                        problems.push(format!(
                            "YAML document {}: line {line}: {msg}",
                            doc_no(&docs)
                        ));
                        Value::Null
                    }
                };
                if anchor > 0 {
                    anchors.insert(anchor, value.clone());
                }
                value
            }
            Event::Alias(id) => anchors.get(&id).cloned().unwrap_or(Value::Null),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map(map, key, _)) => match key.take() {
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => "null".into(),
                        Value::Bool(_) | Value::Number(_) => value.to_string(),
                        _ => {
                            problems.push(format!(
                                "YAML document {}: line {line}: a mapping key must be a scalar",
                                doc_no(&docs)
                            ));
                            value.to_string()
                        }
                    };
                    *key = Some(k);
                }
                Some(k) => {
                    if map.contains_key(&k) {
                        problems.push(format!(
                            "YAML document {}: line {line}: key `{k}` is written twice in one mapping",
                            doc_no(&docs)
                        ));
                    }
                    map.insert(k, value);
                }
            },
        }
    }
    (docs, problems)
}

fn scalar(v: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Value, String> {
    match tag {
        Some("str") => return Ok(Value::String(v.into())),
        Some("null") => return Ok(Value::Null),
        Some("binary") => return Ok(Value::String(v.split_whitespace().collect())),
        None if style != ScalarStyle::Plain => return Ok(Value::String(v.into())),
        _ => {}
    }
    Ok(match v {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => {
            return Err(format!("`{v}` is a float that JSON cannot hold"));
        }
        _ => number(v).unwrap_or_else(|| Value::String(v.into())),
    })
}

/// A plain scalar as a number the way YAML 1.1 readers take it: Go's integer syntax (with
/// `0x`, `0o`, `0b` and leading-zero octal, underscores ignored), else a decimal float.
fn number(v: &str) -> Option<Value> {
    let first = v.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    let plain: String = v.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match plain.as_bytes()[0] {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) {
        if let Ok(u) = u64::from_str_radix(digits, radix) {
            if !neg {
                return Some(Value::Number(u.into()));
            }
            if let Ok(i) = i64::try_from(u) {
                return Some(Value::Number((-i).into()));
            }
            if u == 1 << 63 {
                return Some(Value::Number(i64::MIN.into()));
            }
        }
    }
    if is_float(body) {
        return plain
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    None
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, without the sign.
fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    if int == 0 && frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Evaluates one CEL expression with `self` bound to `value`, in the same engine and with the
/// same Kubernetes functions as the CRD rules (for tests of the engine itself).
pub fn eval(expr: &str, value: &Value) -> Result<bool, String> {
    let schema = serde_json::json!({
        "x-kubernetes-validations": [{"rule": expr, "message": "false"}]
    });
    match VALIDATOR.with(|v| v.validate(&schema, value, None)) {
        Ok(()) => Ok(true),
        Err(errs) => match errs.first() {
            Some(e) if e.kind == kube_cel::ErrorKind::ValidationFailure => Ok(false),
            Some(e) => Err(e.message.clone()),
            None => Ok(true),
        },
    }
}
