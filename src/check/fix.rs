//! `agw check --fix`: applies the fixes that findings carry, one at a time, each proven by checking
//! the file again: a fix whose finding does not go away, or that adds an error, is not applied and
//! is reported. A fix never edits text that came from an environment variable (`${VAR}`): the
//! value is not in the file. Everything outside the edited spans stays byte for byte as written.

use super::{check_bytes, CheckOptions};
use crate::diag::fix::{apply, Applicability};
use crate::diag::{Diagnostic, Severity};
use crate::source;

/// Enough for every fix of a real file; a bound so that fixes that undo each other cannot loop.
const MAX_FIXES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub rule: &'static str,
    pub title: String,
    /// The edits, on the text as it was when this fix was applied (after the ones before it).
    pub edits: Vec<crate::diag::fix::Edit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub rule: &'static str,
    pub title: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub text: String,
    pub applied: Vec<Applied>,
    pub refused: Vec<Refused>,
}

/// Whether `d` has a fix that this run may apply.
pub fn eligible(d: &Diagnostic, unsafe_fixes: bool) -> bool {
    d.fix.as_ref().is_some_and(|f| {
        f.applicability == Applicability::Safe
            || (unsafe_fixes && f.applicability == Applicability::Unsafe)
    })
}

/// The errors of `after` that `before` could have had: while the schema stage fails, the semantic
/// rules do not run, so the errors a fix lets them find were there all along, not added by it.
fn errors_after(before: &super::Loaded, after: &super::Loaded) -> usize {
    if before.config.is_some() {
        return after.report.count(Severity::Error);
    }
    let early = ["yaml", "schema", "env"];
    after
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && early.contains(&d.rule.family()))
        .count()
}

pub fn fix(name: &str, text: &str, opts: &CheckOptions, unsafe_fixes: bool) -> Outcome {
    let mut text = text.to_string();
    let mut applied = Vec::new();
    let mut refused: Vec<Refused> = Vec::new();
    let mut checked = check_bytes(name, text.clone().into_bytes(), opts);
    'rounds: while applied.len() < MAX_FIXES {
        let references = source::env::expand(&text, &opts.env).references();
        for d in checked
            .report
            .diagnostics
            .iter()
            .filter(|d| eligible(d, unsafe_fixes))
        {
            let f = d.fix.as_ref().expect("eligible fixes have a fix");
            let seen = |r: &Refused| r.rule == d.rule.id && r.title == f.title;
            if refused.iter().any(seen) {
                continue;
            }
            let refuse = |reason: &str| Refused {
                rule: d.rule.id,
                title: f.title.clone(),
                reason: reason.to_string(),
            };
            let touches_env = f.edits.iter().any(|e| {
                references
                    .iter()
                    .any(|r| e.span.start < r.end && r.start < e.span.end.max(e.span.start + 1))
            });
            if touches_env {
                refused.push(refuse(
                    "it would edit text that comes from an environment variable",
                ));
                continue;
            }
            let edits: Vec<_> = f.edits.iter().collect();
            let candidate = apply(&text, &edits);
            let after = check_bytes(name, candidate.clone().into_bytes(), opts);
            let errors_allowed =
                checked.report.count(Severity::Error) - usize::from(d.severity == Severity::Error);
            if after.count_rule(d.rule.id) >= checked.count_rule(d.rule.id) {
                refused.push(refuse("the finding was still there after applying it"));
            } else if errors_after(&checked, &after) > errors_allowed {
                refused.push(refuse("it would add an error"));
            } else {
                applied.push(Applied {
                    rule: d.rule.id,
                    title: f.title.clone(),
                    edits: f.edits.clone(),
                });
                text = candidate;
                checked = after;
                // offsets have moved: take the next fix from the new check
                continue 'rounds;
            }
        }
        break;
    }
    Outcome {
        text,
        applied,
        refused,
    }
}
