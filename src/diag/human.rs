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
        Some(Box::new(self.d.rule.id))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'b>)
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
        let text = self.src.inner().as_str();
        Some(Box::new(self.d.labels.iter().enumerate().map(
            move |(i, l)| {
                let start = l.span.start.min(len);
                // A label over a whole multi-line block reads badly; its first line says where.
                let first_line = text[start..].find('\n').unwrap_or(len - start);
                let width = l.span.len().min(len - start).min(first_line.max(1));
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
pub fn render(reports: &[FileReport], style: super::Style) -> String {
    let color = style.color;
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
        let src = NamedSource::new(
            r.source.name.clone(),
            super::redact::source_for_display(&r.source.text).into_owned(),
        );
        let len = r.source.text.len();
        for d in &r.diagnostics {
            let view = View { d, src: &src, len };
            let mut body = String::new();
            if handler.render_report(&mut body, &view).is_err() {
                body.clear();
            }
            out.push_str(&header(d, color));
            let mut notes = d.notes.clone();
            if let Some(f) = &d.fix {
                notes.push(format!("fix: {} ({})", f.title, f.applicability.how()));
            }
            out.push_str(&frame_and_help(&body, &notes));
            out.push('\n');
        }
        out.push_str(&summary_line(r));
        out.push('\n');
    }
    out
}

/// `warning[auth/audiences-missing]: message`, the first line of every diagnostic.
fn header(d: &Diagnostic, color: bool) -> String {
    let sev = d.severity.as_str();
    if !color {
        return format!("{sev}[{}]: {}\n", d.rule.id, d.message);
    }
    let code = match d.severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Note => "1;36",
    };
    format!(
        "\x1b[{code}m{sev}[{}]\x1b[0m\x1b[1m: {}\x1b[0m\n",
        d.rule.id, d.message
    )
}

/// miette's report minus its own heading (the code and the message, which `header` prints in
/// the compiler-like form), with our notes placed before the help.
fn frame_and_help(body: &str, notes: &[String]) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            l.contains("╭─[") || l.trim_start().starts_with("help:") || l.contains("help:")
        })
        .unwrap_or(lines.len());
    let help_at = lines
        .iter()
        .position(|l| l.contains("help:"))
        .unwrap_or(lines.len())
        .max(start);
    let mut out = String::new();
    for l in &lines[start..help_at] {
        out.push_str(l);
        out.push('\n');
    }
    for n in notes {
        out.push_str(&format!("  = {n}\n"));
    }
    for l in &lines[help_at..] {
        out.push_str(l);
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
    let hidden = r.not_shown();
    if hidden > 0 {
        parts.push(format!("{hidden} not shown"));
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
