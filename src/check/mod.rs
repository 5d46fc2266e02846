//! The validation pipeline: text -> env expansion -> positioned YAML -> schema -> typed config ->
//! rules. Each stage adds to one list of diagnostics, and later stages run on whatever the earlier
//! ones could parse, so one run shows every problem.

pub mod catalog;
pub mod rules;
pub mod schema_stage;
pub mod suppress;
pub mod unchecked;

use std::time::Instant;

use serde_json::Value;

use crate::config::Config;
use crate::diag::{Diagnostic, FileReport, Severity};
use crate::source::{self, EnvOptions, Limits, PointerIndex, SourceFile, Span};

/// What a check run may use and how strict it is.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub env: EnvOptions,
    pub limits: Limits,
    /// Where referenced files are looked up, and how strictly.
    pub rules: rules::RuleOptions,
    /// Rules silenced or raised to errors on the command line.
    pub policy: suppress::RulePolicy,
}

/// A file taken through every stage it could pass.
#[derive(Debug)]
pub struct Loaded {
    pub report: FileReport,
    /// The typed config, present when the file parsed and matched the schema.
    pub config: Option<Config>,
    pub value: Option<Value>,
    pub index: PointerIndex,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.report.count(Severity::Error) > 0
    }
}

/// Runs the whole pipeline over one file's bytes.
pub fn check_bytes(name: &str, bytes: Vec<u8>, opts: &CheckOptions) -> Loaded {
    let started = Instant::now();
    let text = match source::decode(bytes, &opts.limits) {
        Ok(t) => t,
        Err((shown, e)) => {
            let src = SourceFile::new(name, shown);
            let rule = if e.message.contains("larger than") {
                "yaml/limit"
            } else {
                "yaml/encoding"
            };
            let d = Diagnostic::new(rule, e.message)
                .at(Span::new(e.offset, e.offset + 1), "here")
                .help(e.help);
            return finish(
                src,
                vec![d],
                None,
                None,
                PointerIndex::default(),
                started,
                opts,
            );
        }
    };
    let src = SourceFile::new(name, text);
    let expanded = source::env::expand(&src.text, &opts.env);
    let mut diags: Vec<Diagnostic> = expanded
        .unset
        .iter()
        .map(|u| {
            let mut d = Diagnostic::new(
                "env/unset",
                format!("environment variable `{}` is not set", u.name),
            )
            .at(
                u.span,
                if u.in_comment {
                    "in a comment, but the gateway expands variables there too"
                } else {
                    "not set"
                },
            )
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
        .collect();
    let parsed = source::yaml::parse(&expanded, &opts.limits);
    diags.extend(parsed.diagnostics);
    let index = parsed.index;
    let Some(value) = parsed.value else {
        return finish(src, diags, None, None, index, started, opts);
    };
    if value.is_null() {
        diags.push(
            Diagnostic::new("yaml/empty", "the file has no configuration")
                .help("start with `binds:` (or the `mcp:` shorthand); see `agw schema --print-modeline` for editor completion"),
        );
        return finish(src, diags, None, Some(value), index, started, opts);
    }
    let schema_diags = schema_stage::validate(&value, &index);
    let schema_ok = schema_diags.is_empty();
    diags.extend(schema_diags);
    diags.extend(unchecked::notes(schema_stage::schema(), &value, &index));
    let config = if schema_ok {
        match serde_json::from_value::<Config>(value.clone()) {
            Ok(c) => Some(c),
            Err(e) => {
                diags.push(Diagnostic::new(
                    "schema/type",
                    format!("the configuration does not fit the gateway's model: {e}"),
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(cfg) = &config {
        diags.extend(rules::run(cfg, &index, &src.text, &opts.rules));
    }
    finish(src, diags, config, Some(value), index, started, opts)
}

fn finish(
    source: SourceFile,
    diagnostics: Vec<Diagnostic>,
    config: Option<Config>,
    value: Option<Value>,
    index: PointerIndex,
    started: Instant,
    opts: &CheckOptions,
) -> Loaded {
    let diagnostics = suppress::apply(&source, diagnostics, &opts.policy);
    let mut report = FileReport {
        source,
        diagnostics,
        elapsed: started.elapsed(),
    };
    report.sort();
    Loaded {
        report,
        config,
        value,
        index,
    }
}
