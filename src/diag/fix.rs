//! Fixes: text edits on the file as written (byte ranges and their replacements), so that applying
//! one keeps every comment, quote, anchor and indentation that it does not touch.

use serde::Serialize;

use crate::source::Span;

/// How sure a fix is of what the user meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Certainly what was meant (a typo with one close key, an Okta issuer's trailing `/`):
    /// `agw check --fix` applies it.
    Safe,
    /// A likely guess that the user must confirm: only with `--unsafe-fixes`.
    Unsafe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Fix {
    /// What the fix does, for people: "replace `mcpAuthentcation` with `mcpAuthentication`".
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Applicability {
    /// What a user types to apply a fix of this kind.
    pub fn how(self) -> &'static str {
        match self {
            Applicability::Safe => "fixable with --fix",
            Applicability::Unsafe => "fixable with --fix --unsafe-fixes",
        }
    }
}

impl Fix {
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix {
            title: title.into(),
            applicability: Applicability::Safe,
            edits,
        }
    }

    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix {
            title: title.into(),
            applicability: Applicability::Unsafe,
            edits,
        }
    }

    /// One edit: `span` becomes `text`.
    pub fn replace(span: Span, text: impl Into<String>) -> Vec<Edit> {
        vec![Edit {
            span,
            text: text.into(),
        }]
    }

    /// Whether two fixes touch overlapping text (then only one of them is applied in a round).
    pub fn overlaps(&self, other: &Fix) -> bool {
        self.edits.iter().any(|a| {
            other.edits.iter().any(|b| {
                a.span.start < b.span.end.max(b.span.start + 1)
                    && b.span.start < a.span.end.max(a.span.start + 1)
            })
        })
    }
}

/// `text` with `edits` applied (they must not overlap). A quoted scalar that an edit replaces
/// with a bare one keeps its quotes, so that a fix never changes the quoting style.
pub fn apply(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in sorted {
        out.push_str(&text[at..e.span.start]);
        let old = &text[e.span.start..e.span.end];
        match old.chars().next().filter(|q| *q == '"' || *q == '\'') {
            Some(q) if old.len() >= 2 && old.ends_with(q) && !e.text.contains(q) => {
                out.push(q);
                out.push_str(&e.text);
                out.push(q);
            }
            _ => out.push_str(&e.text),
        }
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}
