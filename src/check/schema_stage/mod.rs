//! Validation against the published schema, with every error turned into a diagnostic at the
//! exact key or value, in the user's own terms: the closest valid key for a typo, the one branch
//! the user most likely meant for a `oneOf`, the allowed values for an enum.

pub(crate) mod mapper;
mod prune;
mod words;

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::config::release::{self, PerRelease, Release, Unknown};
use crate::diag::Diagnostic;
use crate::schema::{self, Draft};
use crate::source::PointerIndex;

use mapper::Mapper;
use prune::{keys_of, prune};
pub use words::{closest, describe};

pub(super) const MAX_ERRORS: usize = 2000;

/// Files with fewer nodes than this get a validator pruned to their keys (see `validate`).
const PRUNE_BELOW_NODES: usize = 20_000;

/// The draft-07 schema of every release at once, which findings consult to say which release
/// knows a key that the judged one does not. It is the file `agw schema` writes (a test keeps it
/// equal to the model): reading it costs a fraction of generating it, on every run.
pub(super) fn union() -> &'static Value {
    static U: OnceLock<Value> = OnceLock::new();
    U.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../../schema/agw-config.all-releases.schema.json"
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
            d.rule.id,
            d.primary().map(|s| (s.start, s.end)),
            d.message.clone(),
        ))
    });
    m.out
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
                            .map(|d| format!("{} {}", d.rule.id, d.message))
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
