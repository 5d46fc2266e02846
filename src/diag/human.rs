//! The default output: code frames with labels (miette), then a one-line summary per file.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{Diagnostic, FileReport, Severity};

/// Adapts one of our diagnostics to miette for rendering only.
struct View<'a> {
    d: &'a Diagnostic,
    src: &'a NamedSource<String>,
    len: usize,
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}
impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}
impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.rule))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut parts: Vec<String> = self.d.notes.iter().map(|n| format!("= {n}")).collect();
        if let Some(h) = &self.d.help {
            parts.push(h.clone());
        }
        if parts.is_empty() {
            None
        } else {
            Some(Box::new(parts.join("\n")))
        }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.d.labels.is_empty() {
            None
        } else {
            Some(self.src)
        }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.d.labels.is_empty() {
            return None;
        }
        let len = self.len;
        Some(Box::new(self.d.labels.iter().enumerate().map(
            move |(i, l)| {
                let start = l.span.start.min(len);
                let width = l.span.len().min(len - start);
                let span = SourceSpan::new(start.into(), width);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(l.text.clone(), span)
                } else {
                    LabeledSpan::new_with_span(l.text.clone(), span)
                }
            },
        )))
    }
}

/// Renders every report; `color` decides ANSI styling.
pub fn render(reports: &[FileReport], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .with_width(100);
    let mut out = String::new();
    for r in reports {
        let src = NamedSource::new(r.source.name.clone(), r.source.text.to_string());
        let len = r.source.text.len();
        for d in &r.diagnostics {
            let view = View { d, src: &src, len };
            let mut s = String::new();
            if handler.render_report(&mut s, &view).is_err() {
                s = format!("{}[{}]: {}\n", d.severity.as_str(), d.rule, d.message);
            }
            out.push_str(&s);
            out.push('\n');
        }
        out.push_str(&summary_line(r));
        out.push('\n');
    }
    out
}

/// `config.yaml: 1 error, 1 warning (checked in 3 ms)`
pub fn summary_line(r: &FileReport) -> String {
    let e = r.count(Severity::Error);
    let w = r.count(Severity::Warning);
    let n = r.count(Severity::Note);
    let mut parts = Vec::new();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if e > 0 {
        parts.push(plural(e, "error"));
    }
    if w > 0 {
        parts.push(plural(w, "warning"));
    }
    if n > 0 {
        parts.push(plural(n, "note"));
    }
    let what = if parts.is_empty() {
        "ok".to_string()
    } else {
        parts.join(", ")
    };
    format!(
        "{}: {} (checked in {} ms)",
        r.source.name,
        what,
        r.elapsed.as_millis()
    )
}
