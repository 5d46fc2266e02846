//! agw's findings as LSP diagnostics: the rule id as `code`, its documentation as
//! `codeDescription`, the other labels as related information.

use std::str::FromStr;

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Uri,
};

use super::position::Lines;
use crate::diag::{Diagnostic, Severity};

pub fn diagnostic(uri: &Uri, text: &str, lines: &Lines, d: &Diagnostic) -> lsp_types::Diagnostic {
    let range = match d.primary() {
        Some(s) => lines.range(text, s.start, s.end),
        None => lines.range(text, 0, 0),
    };
    let mut message = d.message.clone();
    if let Some(label) = d.labels.first().and_then(|l| l.text.as_deref()) {
        message.push_str(&format!(" ({label})"));
    }
    for n in &d.notes {
        message.push_str(&format!("\n= {n}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .map(|l| DiagnosticRelatedInformation {
            location: Location {
                uri: uri.clone(),
                range: lines.range(text, l.span.start, l.span.end),
            },
            message: l.text.clone().unwrap_or_else(|| "here".into()),
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.rule.id.to_string())),
        code_description: Uri::from_str(&d.rule.docs_url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("agw".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}
