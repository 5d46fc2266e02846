//! What a rule is: a stable id, a default severity, and its documentation in fixed sections.
//! Each rule is a `static` declared with [`rules!`] beside the code that reports it, and a
//! finding holds a reference to it, so a finding of a rule that does not exist cannot compile.
//! `check::catalog` lists them all; the text of a rule has one renderer for `agw explain`,
//! docs/rules.md, SARIF and the editor ([`Rule::text`], [`Rule::markdown`]).

use super::Severity;

pub const DOCS_BASE: &str = "https://github.com/agw-dev/agw/blob/main/docs/rules.md";

#[derive(Debug)]
pub struct Rule {
    /// `family/name`; it never changes meaning once published.
    pub id: &'static str,
    pub severity: Severity,
    /// The gateway refuses a file with this finding (it does not start, or does not load the
    /// change): such a finding cannot be allowed, by flag or by comment.
    pub refuses: bool,
    /// What it finds, in one line.
    pub summary: &'static str,
    /// Why it matters to someone running the gateway.
    pub why: &'static str,
    /// What the gateway does with such a file, and the code of the gateway the rule mirrors;
    /// empty for advice of agw's own.
    pub gateway: &'static str,
    /// A file that has the problem, and the same file without it (both empty, or neither).
    pub example: &'static str,
    pub use_instead: &'static str,
}

/// Rules are one value each; two are the same rule when their ids are.
impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.id == other.id
    }
}

impl Eq for Rule {}

impl std::hash::Hash for Rule {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// A rule prints as its id, as in `error[auth/audiences-missing]`.
impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl Rule {
    /// The part of the id before the `/`.
    pub fn family(&self) -> &'static str {
        self.id.split('/').next().unwrap_or(self.id)
    }

    /// The anchor of the rule's section in docs/rules.md: the id with `/` as `-`
    /// (`auth/audiences-missing` -> `auth-audiences-missing`).
    pub fn anchor(&self) -> String {
        self.id.replace('/', "-")
    }

    /// The rule's documentation: `DOCS_BASE#anchor`.
    pub fn docs_url(&self) -> String {
        format!("{DOCS_BASE}#{}", self.anchor())
    }

    /// `error`, `warning`, `note`, or `error, refuses` for a finding that marks a file the
    /// gateway refuses.
    pub fn severity_text(&self) -> &'static str {
        if self.refuses {
            "error, refuses"
        } else {
            self.severity.as_str()
        }
    }

    /// The prose sections of the documentation, in order, without the empty ones.
    fn prose(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        [
            ("What it finds", self.summary),
            ("Why it matters", self.why),
            ("What the gateway does", self.gateway),
        ]
        .into_iter()
        .filter(|(_, body)| !body.is_empty())
    }

    /// The example sections, when the rule has examples.
    fn examples(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        [("Example", self.example), ("Use instead", self.use_instead)]
            .into_iter()
            .filter(|(_, body)| !body.is_empty())
    }

    /// The documentation as plain text for a terminal, prose wrapped at `width` and the examples
    /// indented.
    pub fn text(&self, width: usize) -> String {
        let prose = self
            .prose()
            .map(|(heading, body)| format!("{heading}:\n{}", wrap(body, width)));
        let examples = self
            .examples()
            .map(|(heading, body)| format!("{heading}:\n{}", indent(body)));
        prose.chain(examples).collect::<Vec<_>>().join("\n\n")
    }

    /// The documentation as markdown, its section headings at `level` (`###` for 3).
    pub fn markdown(&self, level: usize) -> String {
        let hashes = "#".repeat(level);
        let prose = self
            .prose()
            .map(|(heading, body)| format!("{hashes} {heading}\n\n{body}"));
        let examples = self
            .examples()
            .map(|(heading, body)| format!("{hashes} {heading}\n\n```yaml\n{body}\n```"));
        prose.chain(examples).collect::<Vec<_>>().join("\n\n")
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrap(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in s.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    out.push_str(&line);
    out
}

/// A rule's severity token: `Error`, `Warning`, `Note`, or `Refuses` (an error that marks a file
/// the gateway refuses).
#[doc(hidden)]
#[macro_export]
macro_rules! rule_level {
    (Refuses) => {
        ($crate::diag::Severity::Error, true)
    };
    ($sev:ident) => {
        ($crate::diag::Severity::$sev, false)
    };
}

/// Declares the rules of a file: one `static` each, named after its id (`auth/audiences-missing`
/// is `AUTH_AUDIENCES_MISSING`), and `RULES`, the list of them that `check::catalog` reads, so
/// that a rule cannot be declared and left out of the catalogue.
#[macro_export]
macro_rules! rules {
    ($(
        $name:ident {
            id: $id:literal,
            severity: $sev:ident,
            summary: $summary:literal,
            why: $why:literal,
            gateway: $gateway:literal,
            example: $example:literal,
            use_instead: $use_instead:literal $(,)?
        }
    )*) => {
        $(
            pub static $name: $crate::diag::Rule = $crate::diag::Rule {
                id: $id,
                severity: $crate::rule_level!($sev).0,
                refuses: $crate::rule_level!($sev).1,
                summary: $summary,
                why: $why,
                gateway: $gateway,
                example: $example,
                use_instead: $use_instead,
            };
        )*
        /// The rules this file declares.
        pub static RULES: &[&$crate::diag::Rule] = &[$(&$name),*];
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::rules! {
        DEMO_RULE {
            id: "demo/rule",
            severity: Refuses,
            summary: "a demonstration",
            why: "It shows every section.",
            gateway: "The gateway refuses it.",
            example: "a: 1",
            use_instead: "a: 2",
        }
    }

    #[test]
    fn sections_render_in_order_in_both_forms() {
        assert_eq!(RULES, &[&DEMO_RULE]);
        assert!(DEMO_RULE.refuses && DEMO_RULE.severity == Severity::Error);
        assert_eq!(DEMO_RULE.family(), "demo");
        let text = DEMO_RULE.text(80);
        assert_eq!(
            text,
            "What it finds:\na demonstration\n\nWhy it matters:\nIt shows every section.\n\n\
             What the gateway does:\nThe gateway refuses it.\n\nExample:\n    a: 1\n\nUse instead:\n    a: 2"
        );
        let md = DEMO_RULE.markdown(4);
        assert!(md.starts_with("#### What it finds\n\na demonstration\n\n#### Why it matters"));
        assert!(md.ends_with("#### Use instead\n\n```yaml\na: 2\n```"));
    }
}
