//! `--format sarif`: SARIF 2.1.0 for code-scanning tools.

use serde_json::{json, Value};

use super::fix::Fix;
use super::{Diagnostic, FileReport};
use crate::diag::{rule::DOCS_BASE, Rule};

pub fn render(reports: &[FileReport], _: super::Style) -> String {
    // Like other linters' SARIF, the driver lists the rules the results use, each once; a
    // result points at its rule by index.
    let mut used: Vec<&'static Rule> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(|d| d.rule))
        .collect();
    used.sort_unstable_by_key(|r| r.id);
    used.dedup();
    let rules: Vec<Value> = used.iter().map(|r| rule(r)).collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| (r, d)))
        .map(|(r, d)| {
            let mut res = result(r, d);
            if let Some(i) = used.iter().position(|u| *u == d.rule) {
                res["ruleIndex"] = json!(i);
            }
            res
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "agw",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": DOCS_BASE,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// A rule of the driver, with its documentation.
fn rule(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.why},
        "help": {"text": r.text(96), "markdown": r.markdown(3)},
        "defaultConfiguration": {"level": sarif_level(r.severity)},
        "helpUri": r.docs_url(),
    })
}

/// One finding: its region, the other places it names, and its fix.
fn result(r: &FileReport, d: &Diagnostic) -> Value {
    let (line, col) = r.position(d);
    let (end_line, end_col) = d.primary().map_or((line, col), |s| {
        r.source.lines.line_col(&r.source.text, s.end)
    });
    let mut region = json!({"startLine": line, "startColumn": col});
    if (end_line, end_col) > (line, col) {
        region["endLine"] = json!(end_line);
        region["endColumn"] = json!(end_col);
    }
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let mut res = json!({
        "ruleId": d.rule.id,
        "level": sarif_level(d.severity),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&r.source.name)},
                "region": region,
            }
        }],
    });
    let related: Vec<Value> = d
        .labels
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, l)| {
            let (line, col) = r.source.lines.line_col(&r.source.text, l.span.start);
            json!({
                "id": i + 1,
                "message": {"text": l.text.clone().unwrap_or_default()},
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(&r.source.name)},
                    "region": {"startLine": line, "startColumn": col},
                }
            })
        })
        .collect();
    if !related.is_empty() {
        res["relatedLocations"] = json!(related);
    }
    if let Some(f) = &d.fix {
        res["fixes"] = json!([sarif_fix(r, f)]);
    }
    res
}

/// A fix as the replacements it makes in the file.
fn sarif_fix(r: &FileReport, f: &Fix) -> Value {
    let replacements: Vec<Value> = f
        .edits
        .iter()
        .map(|e| {
            let (sl, sc) = r.source.lines.line_col(&r.source.text, e.span.start);
            let (el, ec) = r.source.lines.line_col(&r.source.text, e.span.end);
            json!({
                "deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec},
                "insertedContent": {"text": e.text},
            })
        })
        .collect();
    json!({
        "description": {"text": format!("{} ({})", f.title, f.applicability.how())},
        "artifactChanges": [{
            "artifactLocation": {"uri": uri(&r.source.name)},
            "replacements": replacements,
        }],
    })
}

fn sarif_level(s: super::Severity) -> &'static str {
    match s {
        super::Severity::Error => "error",
        super::Severity::Warning => "warning",
        super::Severity::Note => "note",
    }
}

/// SARIF wants a URI reference; a relative path with forward slashes is one.
fn uri(name: &str) -> String {
    if name == "-" {
        return "stdin".into();
    }
    name.replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20")
}
