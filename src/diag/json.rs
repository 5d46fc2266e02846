//! `--format json`: one object per run, stable field names for scripts.

use serde::Serialize;

use super::{FileReport, Severity};

#[derive(Serialize)]
struct Out<'a> {
    version: u32,
    files: Vec<FileOut<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct FileOut<'a> {
    file: &'a str,
    errors: usize,
    warnings: usize,
    notes: usize,
    /// Counted in errors/warnings/notes but left out of `diagnostics` (the per-rule cap).
    not_shown: usize,
    diagnostics: Vec<DiagOut<'a>>,
}

#[derive(Serialize)]
struct DiagOut<'a> {
    rule: &'a str,
    severity: Severity,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: &'a Vec<String>,
    labels: Vec<LabelOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixOut<'a>>,
}

#[derive(Serialize)]
struct FixOut<'a> {
    title: &'a str,
    applicability: super::fix::Applicability,
    edits: Vec<EditOut<'a>>,
}

#[derive(Serialize)]
struct EditOut<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    text: &'a str,
}

#[derive(Serialize)]
struct LabelOut<'a> {
    line: usize,
    column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

pub fn render(reports: &[FileReport], _: super::Style) -> String {
    let files: Vec<FileOut> = reports
        .iter()
        .map(|r| {
            let text = &r.source.text;
            let lines = &r.source.lines;
            FileOut {
                file: &r.source.name,
                errors: r.count(Severity::Error),
                warnings: r.count(Severity::Warning),
                notes: r.count(Severity::Note),
                not_shown: r.not_shown(),
                diagnostics: r
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let (line, column) = r.position(d);
                        let (end_line, end_column) = d
                            .primary()
                            .map_or((line, column), |s| lines.line_col(text, s.end));
                        DiagOut {
                            rule: d.rule.id,
                            severity: d.severity,
                            message: &d.message,
                            line,
                            column,
                            end_line,
                            end_column,
                            help: d.help.as_deref(),
                            notes: &d.notes,
                            labels: d
                                .labels
                                .iter()
                                .map(|l| {
                                    let (line, column) = lines.line_col(text, l.span.start);
                                    LabelOut {
                                        line,
                                        column,
                                        text: l.text.as_deref(),
                                    }
                                })
                                .collect(),
                            fix: d.fix.as_ref().map(|f| FixOut {
                                title: &f.title,
                                applicability: f.applicability,
                                edits: f
                                    .edits
                                    .iter()
                                    .map(|e| {
                                        let (line, column) = lines.line_col(text, e.span.start);
                                        let (end_line, end_column) =
                                            lines.line_col(text, e.span.end);
                                        EditOut {
                                            line,
                                            column,
                                            end_line,
                                            end_column,
                                            text: &e.text,
                                        }
                                    })
                                    .collect(),
                            }),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let summary = Summary {
        errors: files.iter().map(|f| f.errors).sum(),
        warnings: files.iter().map(|f| f.warnings).sum(),
        notes: files.iter().map(|f| f.notes).sum(),
    };
    let mut s = serde_json::to_string_pretty(&Out {
        version: 1,
        files,
        summary,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}
