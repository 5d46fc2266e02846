//! The diagnostic type every stage produces, and the renderers that show it to people and tools.

pub mod fix;
pub mod github;
pub mod human;
pub mod json;
pub mod redact;
pub mod rule;
pub mod sarif;
pub mod token;

use serde::Serialize;

pub use rule::Rule;

/// How a renderer writes: every output format, of findings or of a token's verdict, is a
/// [`Render`] of the same shape, so that commands choose one by format and nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colour, for a terminal that wants it (people's formats only).
    pub color: bool,
}

/// A renderer: what it renders and how, to the text it writes.
pub type Render<T> = fn(&T, Style) -> String;

use crate::source::{SourceFile, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A place in the original text, with an optional caption.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: Option<String>,
}

/// One finding. The first label is the primary place; a diagnostic without labels concerns the
/// whole file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// Text edits that resolve the finding, if agw knows them.
    pub fix: Option<fix::Fix>,
}

impl Diagnostic {
    /// A finding of `rule`, with the rule's default severity.
    pub fn new(rule: &'static Rule, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            severity: rule.severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    pub fn at(mut self, span: Span, text: impl Into<String>) -> Self {
        let text = text.into();
        self.labels.insert(
            0,
            Label {
                span,
                text: (!text.is_empty()).then_some(text),
            },
        );
        self
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        let text = text.into();
        self.labels.push(Label {
            span,
            text: (!text.is_empty()).then_some(text),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_fix(mut self, fix: fix::Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    pub fn primary(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

/// Everything found in one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub source: SourceFile,
    /// The findings shown.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings found but not shown (past the per-rule display cap), by severity. Counts include
    /// them: a file with 300 errors says 300.
    pub hidden: std::collections::BTreeMap<Severity, usize>,
    pub elapsed: std::time::Duration,
}

impl FileReport {
    /// Every finding of this severity, shown or not.
    pub fn count(&self, sev: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == sev)
            .count()
            + self.hidden.get(&sev).copied().unwrap_or(0)
    }

    /// How many findings are counted but not shown.
    pub fn not_shown(&self) -> usize {
        self.hidden.values().sum()
    }

    /// 1-based line and column of a diagnostic's primary place (1:1 for whole-file findings).
    pub fn position(&self, d: &Diagnostic) -> (usize, usize) {
        match d.primary() {
            Some(s) => self.source.lines.line_col(&self.source.text, s.start),
            None => (1, 1),
        }
    }

    /// Sorts by position so output reads top to bottom.
    pub fn sort(&mut self) {
        self.diagnostics
            .sort_by_key(|d| (d.primary().map_or(0, |s| s.start), d.severity));
    }
}

/// One sentence: the message and, where there is one, the hint.
pub fn one_line(d: &Diagnostic) -> String {
    match &d.help {
        Some(h) => format!("{}; {}", d.message, h.replace('\n', " ")),
        None => d.message.clone(),
    }
}
