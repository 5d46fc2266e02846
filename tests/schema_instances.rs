//! Instances generated from the gateway's own schema, release by release: every instance the
//! gateway's schema accepts, agw's schema (restricted to that release) accepts and agw's typed
//! model reads; every schema-level mutation of one (an unknown key, a value of the wrong type,
//! a required key dropped) that the gateway's schema rejects, agw rejects too.
//!
//! The generator is a seeded random walk of the schema (deterministic, so a failure is
//! reproducible from its seed): optional keys are included at random, one `oneOf`/`anyOf`
//! branch is chosen, strings come from a small pool of plausible values. Instances the gateway's
//! schema rejects (a pattern the pool does not fit) are dropped, so each generated file is one
//! the gateway's deserializer accepts.

mod common;

use common::upstream::{release_of, upstream_schemas};
use serde_json::{Map, Value};

/// Instances tried per release, and how many must pass the gateway's schema for the run to mean
/// something.
const TRIES: u64 = 1500;
const MIN_ACCEPTED: usize = 300;

/// xorshift64*: small, seeded, and good enough to pick branches.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const STRINGS: &[&str] = &[
    "example",
    "localhost:8080",
    "127.0.0.1:3000",
    "https://example.com/oauth2/default",
    "/mcp",
    "10s",
    "api://default",
    "true",
    "x-request-id",
    "everything",
];

struct Gen<'a> {
    root: &'a Value,
    rng: Rng,
}

impl Gen<'_> {
    fn resolve(&self, node: &Value) -> Value {
        let mut node = node;
        for _ in 0..32 {
            let target = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.root.pointer(r.trim_start_matches('#')));
            match target {
                Some(t) => node = t,
                None => break,
            }
        }
        node.clone()
    }

    fn value(&mut self, node: &Value, depth: usize) -> Value {
        let node = self.resolve(node);
        if let Some(c) = node.get("const") {
            return c.clone();
        }
        if let Some(Value::Array(e)) = node.get("enum") {
            return e[self.rng.below(e.len())].clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(alts)) = node.get(key) {
                // null (an unset optional value) now and then; a real value mostly
                let real: Vec<&Value> = alts
                    .iter()
                    .filter(|a| self.resolve(a).get("type") != Some(&"null".into()))
                    .collect();
                let alts: Vec<&Value> = if real.is_empty() || self.rng.chance(10) {
                    alts.iter().collect()
                } else {
                    real
                };
                let alt = alts[self.rng.below(alts.len())].clone();
                let mut v = self.value(&alt, depth + 1);
                // properties written beside the choice apply to every branch
                if node.get("properties").is_some() {
                    let mut base = node.clone();
                    if let Some(o) = base.as_object_mut() {
                        o.remove(key);
                    }
                    if let (Value::Object(extra), Value::Object(into)) =
                        (self.value(&base, depth + 1), &mut v)
                    {
                        for (k, x) in extra {
                            into.entry(k).or_insert(x);
                        }
                    }
                }
                return v;
            }
        }
        if let Some(Value::Array(parts)) = node.get("allOf") {
            let mut out = Map::new();
            for p in parts.clone() {
                if let Value::Object(o) = self.value(&p, depth + 1) {
                    out.extend(o);
                }
            }
            return Value::Object(out);
        }
        let ty = match node.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => {
                let mut ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                if ts.len() > 1 && !self.rng.chance(10) {
                    ts.retain(|t| *t != "null");
                }
                ts[self.rng.below(ts.len())].to_string()
            }
            _ if node.get("properties").is_some() => "object".into(),
            _ => "string".into(),
        };
        match ty.as_str() {
            "object" => self.object(&node, depth),
            "array" => {
                let n = if depth > 5 { 0 } else { 1 + self.rng.below(2) };
                let n = n.max(node.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize);
                let items = node.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array((0..n).map(|_| self.value(&items, depth + 1)).collect())
            }
            "string" => Value::from(STRINGS[self.rng.below(STRINGS.len())]),
            "integer" => {
                let min = node.get("minimum").and_then(Value::as_i64).unwrap_or(0);
                Value::from(min.max(0) + self.rng.below(200) as i64 + 1)
            }
            "number" => Value::from(0.5 + self.rng.below(10) as f64),
            "boolean" => Value::Bool(self.rng.chance(50)),
            _ => Value::Null,
        }
    }

    fn object(&mut self, node: &Value, depth: usize) -> Value {
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = Map::new();
        if let Some(Value::Object(props)) = node.get("properties") {
            let optional = if depth > 4 { 5 } else { 35 };
            for (k, s) in props {
                if required.contains(&k.as_str()) || self.rng.chance(optional) {
                    let v = self.value(s, depth + 1);
                    out.insert(k.clone(), v);
                }
            }
        }
        if let Some(extra @ Value::Object(_)) = node.get("additionalProperties") {
            if depth < 5 && out.is_empty() {
                let v = self.value(extra, depth + 1);
                out.insert(format!("k{}", self.rng.below(100)), v);
            }
        }
        Value::Object(out)
    }
}

/// What agw's schema refuses on purpose (the deviations of tests/conformance.rs): what the
/// gateway's loader refuses after reading (a gateway without `port`; a bind without one, unless
/// it is `mode: internal`), and the gateway's internal `invalid` marker of a match.
fn loader_refuses(v: &Value) -> bool {
    let no_port = |x: &Value| x.get("port").is_none_or(Value::is_null);
    let gateways = v
        .get("gateways")
        .and_then(Value::as_object)
        .is_some_and(|gs| gs.values().any(no_port));
    let binds = v.get("binds").and_then(Value::as_array).is_some_and(|bs| {
        bs.iter()
            .any(|b| no_port(b) && b.get("mode") != Some(&"internal".into()))
    });
    gateways || binds || has_invalid_marker(v)
}

fn has_invalid_marker(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.iter().any(|(k, x)| {
            ((k == "path" || k == "value") && x == "invalid") || has_invalid_marker(x)
        }),
        Value::Array(a) => a.iter().any(has_invalid_marker),
        _ => false,
    }
}

/// Where the gateway's schema says less than its deserializer checks, and agw's schema says
/// what the deserializer refuses: a duration is a string to the schema, but one that is not a
/// duration is refused; a redirect's `status` is a number to the schema, but an HTTP status code
/// (100 to 999) to the deserializer.
fn deserializer_refuses(d: &agw::diag::Diagnostic) -> bool {
    d.message.ends_with("is not a duration")
        || (d.message.starts_with("`status` is ")
            && (d.message.ends_with("at least 100") || d.message.ends_with("at most 999")))
}

/// What agw reports with a rule of its own rather than at the schema stage (deviations of
/// tests/conformance.rs): a missing `audiences` or `resourceMetadata` of `mcpAuthentication`, and
/// an MCP target that is none of the forms `{host}`, `{host, port, path}`, `{backend, path}`.
fn reported_by_rule(mutant: &Value, what: &str, release: agw::config::release::Release) -> bool {
    let target_form = ["host", "port", "path", "backend"]
        .iter()
        .any(|k| what.ends_with(&format!("/{k} dropped")));
    let rule = if what.ends_with("mcpAuthentication/audiences dropped") {
        "auth/audiences-missing"
    } else if what.ends_with("mcpAuthentication/resourceMetadata dropped") {
        "auth/resource-metadata-missing"
    } else if what.contains("/targets/") && target_form {
        "mcp/host-form"
    } else {
        return false;
    };
    let opts = agw::check::CheckOptions {
        release,
        ..Default::default()
    };
    let text = serde_json::to_vec(mutant).unwrap();
    agw::check::check_bytes("mutant.yaml", text, &opts).count_rule(rule) > 0
}

/// Every object of an instance, by JSON pointer.
fn objects(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            out.push(at.clone());
            for (k, x) in o {
                objects(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                objects(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A schema-level mutation of `v`: an unknown key, a key's value replaced by one of another
/// type, or a key dropped.
fn mutate(v: &Value, rng: &mut Rng) -> (Value, String) {
    let mut m = v.clone();
    let mut places = Vec::new();
    objects(&m, String::new(), &mut places);
    let at = places[rng.below(places.len())].clone();
    let obj = m
        .pointer_mut(&at)
        .and_then(Value::as_object_mut)
        .expect("an object");
    let keys: Vec<String> = obj.keys().cloned().collect();
    let what = match rng.below(3) {
        0 | 1 if !keys.is_empty() => {
            let k = &keys[rng.below(keys.len())];
            if rng.chance(50) {
                let swapped = match &obj[k] {
                    Value::String(_) => Value::from(7),
                    Value::Number(_) | Value::Bool(_) => Value::from(vec!["x"]),
                    _ => Value::from("x"),
                };
                obj.insert(k.clone(), swapped);
                format!("{at}/{k} given another type")
            } else {
                obj.remove(k);
                format!("{at}/{k} dropped")
            }
        }
        _ => {
            obj.insert("unknownKeyX".into(), Value::from(1));
            format!("{at}/unknownKeyX added")
        }
    };
    (m, what)
}

#[test]
fn agw_accepts_what_the_gateways_schema_accepts_and_rejects_its_mutations() {
    let schemas = upstream_schemas();
    for (label, upstream) in &schemas {
        let release = release_of(label);
        let gateway = jsonschema::options()
            .build(upstream)
            .expect("the gateway's schema compiles");
        let (mut accepted, mut mutations) = (0, 0);
        let mut failures = Vec::new();
        for seed in 1..=TRIES {
            let mut g = Gen {
                root: upstream,
                rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            };
            let instance = g.value(upstream, 0);
            if !gateway.is_valid(&instance) || loader_refuses(&instance) {
                continue;
            }
            accepted += 1;
            let found = agw::check::schema_stage::validate(&instance, &Default::default(), release);
            if !found.is_empty() && found.iter().all(deserializer_refuses) {
                continue;
            }
            if let Some(d) = found.first() {
                failures.push(format!(
                    "{label} seed {seed}: the gateway's schema accepts it, agw says `{}`: {}\n{}",
                    d.rule,
                    d.message,
                    serde_json::to_string(&instance).unwrap()
                ));
                continue;
            }
            if let Err(e) = serde_json::from_value::<agw::config::Config>(instance.clone()) {
                failures.push(format!(
                    "{label} seed {seed}: agw's schema accepts it, its typed model does not: {e}\n{}",
                    serde_json::to_string(&instance).unwrap()
                ));
                continue;
            }
            let (mutant, what) = mutate(&instance, &mut g.rng);
            if gateway.is_valid(&mutant) {
                continue;
            }
            mutations += 1;
            if agw::check::schema_stage::validate(&mutant, &Default::default(), release).is_empty()
                && !reported_by_rule(&mutant, &what, release)
            {
                failures.push(format!(
                    "{label} seed {seed}: {what}: the gateway's schema rejects it, agw accepts it\n{}",
                    serde_json::to_string(&mutant).unwrap()
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {accepted} instances disagree:\n{}",
            failures.len(),
            failures
                .iter()
                .take(15)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            accepted >= MIN_ACCEPTED && mutations >= MIN_ACCEPTED / 2,
            "{label}: only {accepted} instances (and {mutations} rejected mutations) out of {TRIES}: the generator no longer fits the gateway's schema"
        );
    }
}
