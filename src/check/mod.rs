//! The validation pipeline: text -> env expansion -> positioned YAML -> schema -> typed config ->
//! rules. Each stage adds to one list of diagnostics, and later stages run on whatever the earlier
//! ones could parse, so one run shows every problem.

pub mod catalog;
pub mod detect;
mod duplicates;
pub mod fix;
pub mod load;
pub mod online;
pub mod rules;
pub mod schema_stage;
pub mod suppress;

use std::time::Instant;

use crate::config::Config;
use crate::diag::{Diagnostic, FileReport, Severity};
use crate::source::{self, EnvOptions, Limits, PointerIndex, SourceFile, Span};

crate::rules! {
    ENV_UNSET {
        id: "env/unset",
        severity: Refuses,
        summary: "an environment variable the file uses is not set",
        why: "The gateway expands `$VAR`, `${VAR}` and `${VAR:-default}` over the whole file, comments included, and refuses to start when a variable is not set. Give the value with `-e NAME=VALUE` or `--env-file FILE`, add a default with `${NAME:-default}`, or pass `--allow-unset-env` in a lint step that has no secrets (the finding becomes a warning).",
        gateway: "The gateway runs `shellexpand::full` over the whole text before parsing it (only the `# yaml-language-server: $schema` comment is spared) and fails on a variable that is not set (agentgateway `crates/agentgateway/src/config.rs`, `parse_config`; agentgateway `crates/agentgateway/src/types/local.rs`, `NormalizedLocalConfig::from`).",
        example: "apiKey: $OPENAI_API_KEY   # not set where the gateway runs",
        use_instead: "apiKey: ${OPENAI_API_KEY:-}   # or set OPENAI_API_KEY",
    }

    YAML_SYNTAX {
        id: "yaml/syntax",
        severity: Refuses,
        summary: "the file is not valid YAML",
        why: "The YAML parser stopped here. Common causes: tabs used for indentation, a value containing `: ` that is not quoted, a list item at the wrong indentation.",
        gateway: "The gateway parses the file with serde_yaml 0.9 (libyaml) and refuses one that does not parse (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "routes:\n\t- name: a",
        use_instead: "routes:\n  - name: a",
    }

    YAML_ENCODING {
        id: "yaml/encoding",
        severity: Refuses,
        summary: "the file is not UTF-8 text",
        why: "The file must be UTF-8 text. A byte that is not UTF-8, or a NUL byte, usually means the file was saved in another encoding or is not a text file.",
        gateway: "The gateway reads the file into a string and refuses bytes that are not UTF-8 (agentgateway `crates/agentgateway-app/src/lib.rs`, `read_config_contents`, with `read_to_string`).",
        example: "",
        use_instead: "",
    }

    YAML_LIMIT {
        id: "yaml/limit",
        severity: Refuses,
        summary: "the input exceeds a safety limit",
        why: "agw bounds what one file may cost: its size, its nesting depth, the size of one value and the number of nodes after expanding aliases. Real configurations are far below these limits; hitting one usually means generated or hostile input (for example an alias bomb).",
        gateway: "The limits are agw's own. The gateway's YAML reader, serde_yaml 0.9, has limits of its own: it refuses nesting deeper than 128 (\"recursion limit exceeded\") and alias expansion beyond 100 times the document's events (\"repetition limit exceeded\").",
        example: "",
        use_instead: "",
    }

    YAML_MULTIPLE_DOCUMENTS {
        id: "yaml/multiple-documents",
        severity: Refuses,
        summary: "the file holds more than one YAML document",
        why: "The gateway reads one YAML document per file. A `---` line starts a second document, and the file does not load. Keep one document, or split it into files.",
        gateway: "The gateway's YAML reader, serde_yaml 0.9, refuses a file with more than one document: \"deserializing from YAML containing more than one document is not supported\" (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "binds: []\n---\nbinds: []",
        use_instead: "binds: []",
    }

    YAML_EMPTY {
        id: "yaml/empty",
        severity: Warning,
        summary: "the file has no configuration",
        why: "The file is empty or holds only comments, so there is nothing to serve, and the gateway does not start with it. Write the configuration, or `{}` for an empty one.",
        gateway: "serde_yaml 0.9 reads an empty document as null, and the gateway refuses null where it expects its configuration, a mapping (\"invalid config\", \"invalid type: null\"; agentgateway `crates/agentgateway/src/config.rs`, `parse_config`).",
        example: "",
        use_instead: "",
    }
}

/// What a check run may use and how strict it is.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub env: EnvOptions,
    pub limits: Limits,
    /// Where referenced files are looked up, and how strictly.
    pub rules: rules::RuleOptions,
    /// Rules silenced or raised to errors on the command line.
    pub policy: suppress::RulePolicy,
    /// The gateway release the file is judged as.
    pub release: crate::config::release::Release,
}

/// A file taken through every stage it could pass.
#[derive(Debug)]
pub struct Loaded {
    pub report: FileReport,
    /// The typed config, present when the file parsed and matched the schema.
    pub config: Option<Config>,
    pub index: PointerIndex,
    /// Every finding before suppression and caps.
    found: Vec<Diagnostic>,
    /// What findings must not show (values from the environment, URL credentials).
    redactions: crate::diag::redact::Redactions,
    /// Findings per rule after suppression, shown or not.
    per_rule: std::collections::HashMap<&'static str, usize>,
}

impl Loaded {
    /// How many findings of `rule` the file has (after suppression, shown or not).
    pub fn count_rule(&self, rule: &str) -> usize {
        self.per_rule.get(rule).copied().unwrap_or(0)
    }

    pub fn has_errors(&self) -> bool {
        self.report.count(Severity::Error) > 0
    }

    /// The report alone, for a command that ends after printing it: the model and the index are
    /// left to the end of the process, since freeing a large file's tree node by node only adds
    /// to the run's time.
    pub fn into_report(self) -> FileReport {
        let Loaded {
            report,
            config,
            index,
            found,
            ..
        } = self;
        std::mem::forget((config, index, found));
        report
    }
}

/// Runs the whole pipeline over one file's bytes.
pub fn check_bytes(name: &str, bytes: Vec<u8>, opts: &CheckOptions) -> Loaded {
    let started = Instant::now();
    let text = match source::decode(bytes, &opts.limits) {
        Ok(t) => t,
        Err((shown, e)) => {
            let src = SourceFile::new(name, shown);
            let d = decode_finding(e);
            let index = PointerIndex::default();
            return finish(src, vec![d], None, index, started, opts, Default::default());
        }
    };
    let src = SourceFile::new(name, text);
    let expanded = source::env::expand(&src.text, &opts.env);
    let redactions = crate::diag::redact::Redactions::new(expanded.env_values(&src.text));
    let mut diags = unset_findings(&expanded.unset, opts);
    let parsed = source::yaml::parse(&expanded, &opts.limits);
    diags.extend(parsed.issues.into_iter().map(yaml_finding));
    diags.extend(duplicates::findings(
        &parsed.duplicates,
        schema_stage::schema(),
    ));
    let index = parsed.index;
    let Some(value) = parsed.value else {
        return finish(src, diags, None, index, started, opts, redactions);
    };
    if value.is_null() {
        diags.push(
            Diagnostic::new(&YAML_EMPTY, "the file has no configuration")
                .help("start with `binds:` (or the `mcp:` shorthand); see `agw schema --print-modeline` for editor completion"),
        );
        return finish(src, diags, None, index, started, opts, redactions);
    }
    let mut schema_diags = schema_stage::validate(&value, &index, opts.release);
    let schema_ok = schema_diags.is_empty();
    // A value that is an unset variable's placeholder is already reported as `env/unset`; a
    // second finding about the placeholder's type would only mislead.
    schema_diags.retain(|d| {
        !d.primary().is_some_and(|p| {
            expanded
                .unset
                .iter()
                .any(|u| p.start >= u.span.start && p.start < u.span.end.max(u.span.start + 1))
        })
    });
    diags.extend(schema_diags);
    if !schema_ok {
        return finish(src, diags, None, index, started, opts, redactions);
    }
    let surface_cel = rules::expressions::surface_expressions(&value);
    let Some(config) = typed(value, &mut diags) else {
        return finish(src, diags, None, index, started, opts, redactions);
    };
    let mut rule_opts = opts.rules.clone();
    rule_opts.gateway_env.oidc_cookie_secret = opts
        .env
        .lookup("OIDC_COOKIE_SECRET")
        .is_some_and(|v| !v.trim().is_empty());
    diags.extend(rules::run(
        &config,
        &index,
        &src.text,
        &surface_cel,
        &rule_opts,
    ));
    finish(src, diags, Some(config), index, started, opts, redactions)
}

/// A file that cannot be read as text (too large, not UTF-8, a NUL byte) as its rule's finding.
fn decode_finding(e: source::DecodeError) -> Diagnostic {
    let rule = match e.kind {
        source::DecodeErrorKind::TooLarge => &YAML_LIMIT,
        source::DecodeErrorKind::Encoding => &YAML_ENCODING,
    };
    Diagnostic::new(rule, e.message)
        .at(Span::new(e.offset, e.offset + 1), "here")
        .help(e.help)
}

/// One `env/unset` finding per variable the file names that has no value (a warning with
/// `--allow-unset`, which checks the file with a placeholder).
fn unset_findings(unset: &[source::env::UnsetVar], opts: &CheckOptions) -> Vec<Diagnostic> {
    unset
        .iter()
        .map(|u| {
            let label = if u.in_comment {
                "in a comment, but the gateway expands variables there too"
            } else {
                "not set"
            };
            let mut d = Diagnostic::new(
                &ENV_UNSET,
                format!("environment variable `{}` is not set", u.name),
            )
            .at(u.span, label)
            .help(format!(
                "set it with `-e {0}=VALUE` or `--env-file FILE`, or give a default: `${{{0}:-VALUE}}`",
                u.name
            ));
            if opts.env.allow_unset {
                d.severity = Severity::Warning;
                d = d.note(format!("checked with the placeholder `agw-unset-{}`", u.name));
            }
            d
        })
        .collect()
}

/// The typed model of a file that matched the schema, with the gateway's implicit defaults, or
/// the finding of why it does not fit the model. Consuming the value moves its strings into the model instead of copying them, which keeps the
/// peak memory of a large file to one tree.
fn typed(value: serde_json::Value, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    match <Config as serde::Deserialize>::deserialize(value) {
        Ok(mut c) => {
            c.apply_implicit_default_gateway();
            Some(c)
        }
        Err(e) => {
            diags.push(Diagnostic::new(
                &crate::check::schema_stage::mapper::SCHEMA_TYPE,
                format!("the configuration does not fit the gateway's model: {e}"),
            ));
            None
        }
    }
}

/// A problem of the YAML text as the finding of its rule.
fn yaml_finding(i: source::yaml::Issue) -> Diagnostic {
    use source::yaml::IssueKind;
    let rule = match i.kind {
        IssueKind::Syntax => &YAML_SYNTAX,
        IssueKind::Limit => &YAML_LIMIT,
        IssueKind::MultipleDocuments => &YAML_MULTIPLE_DOCUMENTS,
    };
    let mut d = Diagnostic::new(rule, i.message).at(i.span, i.label);
    if !i.help.is_empty() {
        d = d.help(i.help);
    }
    if let Some(n) = i.note {
        d = d.note(n);
    }
    d
}

fn finish(
    source: SourceFile,
    diagnostics: Vec<Diagnostic>,
    config: Option<Config>,
    index: PointerIndex,
    started: Instant,
    opts: &CheckOptions,
    redactions: crate::diag::redact::Redactions,
) -> Loaded {
    let mut loaded = Loaded {
        report: FileReport {
            source,
            diagnostics: Vec::new(),
            hidden: Default::default(),
            elapsed: started.elapsed(),
        },
        config,
        index,
        found: diagnostics,
        redactions,
        per_rule: Default::default(),
    };
    loaded.publish(opts);
    loaded
}

impl Loaded {
    /// Adds findings of a later stage (`--online`), so that suppression and caps see every
    /// finding of the file at once. A finding that confirms an earlier one with evidence (the
    /// issuer's discovery document names the issuer without the `/` that a static rule flagged)
    /// replaces it: one finding per problem.
    pub fn extend(&mut self, more: Vec<Diagnostic>, opts: &CheckOptions) {
        let src = &self.report.source;
        let line = |d: &Diagnostic| {
            d.primary()
                .map(|s| src.lines.line_col(&src.text, s.start).0)
        };
        self.found.retain(|old| {
            !more
                .iter()
                .any(|new| online::supersedes(new.rule, old.rule) && line(new) == line(old))
        });
        self.found.extend(more);
        self.publish(opts);
    }

    fn publish(&mut self, opts: &CheckOptions) {
        let shown = suppress::apply(&self.report.source, self.found.clone(), &opts.policy);
        let (mut shown, hidden, per_rule) = cap_per_rule(shown);
        self.per_rule = per_rule;
        for d in &mut shown {
            self.redactions.apply(d);
        }
        self.report.diagnostics = shown;
        self.report.hidden = hidden;
        self.report.sort();
    }
}

/// At most this many findings of one rule are shown per file; the rest are counted (in the
/// summary, and in a note on the last one shown).
const MAX_PER_RULE: usize = 50;

type Hidden = std::collections::BTreeMap<Severity, usize>;

fn cap_per_rule(
    diags: Vec<Diagnostic>,
) -> (
    Vec<Diagnostic>,
    Hidden,
    std::collections::HashMap<&'static str, usize>,
) {
    let mut counts: std::collections::HashMap<&'static str, usize> = Default::default();
    let mut out = Vec::with_capacity(diags.len().min(1000));
    let mut by_severity = Hidden::new();
    for d in diags {
        let n = counts.entry(d.rule.id).or_default();
        *n += 1;
        if *n <= MAX_PER_RULE {
            out.push(d);
        } else {
            *by_severity.entry(d.severity).or_default() += 1;
        }
    }
    let mut hidden: Vec<(&'static str, usize)> = counts
        .iter()
        .map(|(r, n)| (*r, *n))
        .filter(|(_, n)| *n > MAX_PER_RULE)
        .map(|(r, n)| (r, n - MAX_PER_RULE))
        .collect();
    hidden.sort();
    for (rule, n) in hidden {
        if let Some(last) = out.iter_mut().rev().find(|d| d.rule.id == rule) {
            last.notes.push(format!(
                "{n} more `{rule}` finding(s) in this file are not shown"
            ));
        }
    }
    (out, by_severity, counts)
}
