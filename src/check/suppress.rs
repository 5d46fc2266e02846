//! Silencing and raising rules: `--allow RULE` / `--deny RULE` on the command line, and
//! `# agw: allow RULE[, RULE]` comments in the file, on the line above a finding (or at the end
//! of its line). Applies to every diagnostic except those that mark a file the gateway refuses
//! (YAML syntax, schema errors, unset variables: `Rule::refuses`), which no allow can hide: a file
//! the gateway cannot load is always an error. An allow comment that silences nothing is
//! reported, so that stale ones do not pile up.

use crate::check::catalog;
use crate::check::schema_stage::closest;
use crate::diag::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

crate::rules! {
    SUPPRESS_UNUSED_ALLOW {
        id: "suppress/unused-allow",
        severity: Note,
        summary: "an `# agw: allow` comment that silences nothing",
        why: "`# agw: allow RULE` silences a finding of RULE on the next line (or, at the end of a line, on that line). A comment that matches no finding is stale or misplaced, or names a rule that does not exist; remove or move it.",
        gateway: "",
        example: "# agw: allow okta/jwks-derived\nport: 3000",
        use_instead: "mcpAuthentication:\n  # agw: allow okta/jwks-derived\n  issuer: https://acme.okta.com/oauth2/default",
    }
}

/// Which rules the command line silences or raises to errors. A pattern is a rule id, a family
/// (`okta` or `okta/*`), or `*` for every rule.
#[derive(Debug, Clone, Default)]
pub struct RulePolicy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

fn pattern_matches(pattern: &str, id: &str) -> bool {
    if pattern == "*" || pattern == id {
        return true;
    }
    let family = pattern.strip_suffix("/*").unwrap_or(pattern);
    !family.contains('/') && id.split('/').next() == Some(family)
}

impl RulePolicy {
    /// Checks that every pattern names a rule or a family; the error says what was meant.
    pub fn validate(&self) -> Result<(), String> {
        for p in &self.allow {
            let mut matched = catalog::all().iter().filter(|r| pattern_matches(p, r.id));
            if p != "*" && matched.clone().next().is_some() && matched.all(|r| r.refuses) {
                return Err(format!(
                    "`--allow {p}`: these findings cannot be allowed: the gateway refuses a file that has one, so it stays an error (fix the file instead)"
                ));
            }
        }
        for p in self.allow.iter().chain(&self.deny) {
            if catalog::all().iter().any(|r| pattern_matches(p, r.id)) {
                continue;
            }
            let hint = closest(p, catalog::all().iter().map(|r| r.id))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(format!(
                "no rule `{p}`{hint} (`agw check --list-rules` lists them)"
            ));
        }
        Ok(())
    }

    fn allows(&self, id: &str) -> bool {
        self.allow.iter().any(|p| pattern_matches(p, id))
    }

    fn denies(&self, id: &str) -> bool {
        self.deny.iter().any(|p| pattern_matches(p, id))
    }
}

/// One rule id named in an allow comment.
struct AllowId {
    id: String,
    span: Span,
    used: bool,
    /// It names a finding here that cannot be allowed.
    refused: bool,
}

struct AllowComment {
    /// 0-based line of the comment.
    line: usize,
    /// Nothing but the comment on its line.
    own_line: bool,
    ids: Vec<AllowId>,
}

const MARKER: &str = "agw:";

/// Finds `# agw: allow ...` comments. A `#` starts a comment at the start of a line or after a
/// blank, as in YAML.
fn comments(source: &SourceFile) -> Vec<AllowComment> {
    let text: &str = &source.text;
    let mut out = Vec::new();
    let mut last_line: Option<usize> = None;
    for at in memchr::memmem::find_iter(text.as_bytes(), MARKER.as_bytes()) {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        if last_line == Some(line_start) {
            continue;
        }
        last_line = Some(line_start);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[line_start..line_end];
        let line_no = source.lines.line_col(text, line_start).0 - 1;
        let bytes = line.as_bytes();
        let mut hash = None;
        let mut quote: Option<u8> = None;
        for (i, &b) in bytes.iter().enumerate() {
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if (b == b'"' || b == b'\'')
                    && (i == 0
                        || bytes[i - 1].is_ascii_whitespace()
                        || bytes[i - 1] == b':'
                        || bytes[i - 1] == b'['
                        || bytes[i - 1] == b',') =>
                {
                    quote = Some(b)
                }
                None if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                    hash = Some(i);
                    break;
                }
                None => {}
            }
        }
        let Some(h) = hash else { continue };
        let body = &line[h + 1..];
        let trimmed = body.trim_start();
        let Some(rest) = trimmed.strip_prefix(MARKER) else {
            continue;
        };
        let rest_t = rest.trim_start();
        let Some(list) = rest_t.strip_prefix("allow") else {
            continue;
        };
        if !list.starts_with(char::is_whitespace) {
            continue;
        }
        let list_start = line_start
            + h
            + 1
            + (body.len() - trimmed.len())
            + MARKER.len()
            + (rest.len() - rest_t.len())
            + "allow".len();
        // the ids end where a free-text reason starts (` -- reason` or `: reason`)
        let list_text = list.split(" -- ").next().unwrap_or(list);
        let mut ids = Vec::new();
        let mut pos = 0;
        for part in list_text.split(|c: char| c == ',' || c.is_whitespace()) {
            let at = pos;
            pos += part.len() + 1;
            if part.is_empty() {
                continue;
            }
            if !part.contains('/') && !ids.is_empty() {
                break; // prose after the ids
            }
            let s = list_start + at;
            ids.push(AllowId {
                id: part.to_string(),
                span: Span::new(s, s + part.len()),
                used: false,
                refused: false,
            });
        }
        if ids.is_empty() {
            continue;
        }
        out.push(AllowComment {
            line: line_no,
            own_line: line[..h].trim().is_empty(),
            ids,
        });
    }
    out
}

/// Applies the command-line policy and the allow comments of the file.
pub fn apply(source: &SourceFile, diags: Vec<Diagnostic>, policy: &RulePolicy) -> Vec<Diagnostic> {
    let mut allows = comments(source);
    // line -> index in `allows`
    let by_line: std::collections::HashMap<usize, usize> = allows
        .iter()
        .enumerate()
        .map(|(i, c)| (c.line, i))
        .collect();
    let mut out = Vec::with_capacity(diags.len());
    'diag: for mut d in diags {
        let refuses = d.severity == Severity::Error && d.rule.refuses;
        if policy.allows(d.rule.id) && !refuses {
            continue;
        }
        if let (Some(span), false) = (d.primary(), allows.is_empty()) {
            let (line1, _) = source.lines.line_col(&source.text, span.start);
            let line = line1 - 1;
            // a trailing comment on the finding's line, then the comment block right above it
            let mut candidates = Vec::new();
            if let Some(&i) = by_line.get(&line) {
                candidates.push(i);
            }
            let mut l = line;
            while l > 0 {
                l -= 1;
                match by_line.get(&l) {
                    Some(&i) if allows[i].own_line => candidates.push(i),
                    _ => {
                        if !is_comment_line(&source.text, source, l) {
                            break;
                        }
                    }
                }
            }
            for i in candidates {
                if let Some(a) = allows[i]
                    .ids
                    .iter_mut()
                    .find(|a| pattern_matches(&a.id, d.rule.id))
                {
                    if refuses {
                        a.refused = true;
                        continue;
                    }
                    a.used = true;
                    continue 'diag;
                }
            }
        }
        if policy.denies(d.rule.id) {
            d.severity = Severity::Error;
        }
        out.push(d);
    }
    if policy.allows(SUPPRESS_UNUSED_ALLOW.id) {
        return out;
    }
    for c in allows.iter() {
        for a in c.ids.iter().filter(|a| !a.used) {
            let known = catalog::all().iter().any(|r| pattern_matches(&a.id, r.id));
            let mut d = if a.refused {
                Diagnostic::new(
                    &SUPPRESS_UNUSED_ALLOW,
                    format!("`# agw: allow {}` cannot silence this finding", a.id),
                )
                .at(a.span, "the gateway refuses the file with it")
                .help("a file the gateway cannot load is always an error: fix the finding and remove the comment")
            } else if known {
                Diagnostic::new(
                    &SUPPRESS_UNUSED_ALLOW,
                    format!("`# agw: allow {}` silences nothing here", a.id),
                )
                .at(a.span, "no such finding on the next line")
                .help("remove the comment, or move it to the line directly above the finding")
            } else {
                let hint = closest(&a.id, catalog::all().iter().map(|r| r.id))
                    .map(|c| format!("did you mean `{c}`?"))
                    .unwrap_or_else(|| "`agw check --list-rules` lists the rule ids".into());
                Diagnostic::new(
                    &SUPPRESS_UNUSED_ALLOW,
                    format!("`# agw: allow {}` names no rule", a.id),
                )
                .at(a.span, "unknown rule id")
                .help(hint)
            };
            if policy.denies(d.rule.id) {
                d.severity = Severity::Error;
            }
            out.push(d);
        }
    }
    out
}

fn is_comment_line(text: &str, source: &SourceFile, line0: usize) -> bool {
    let start = source.lines.offset_of(text, line0 + 1, 0);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    text[start..end].trim_start().starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments() {
        let t = "a: 1\n  # agw: allow okta/jwks-derived, auth/audiences-missing -- known\nb: 2 # agw: allow ports/conflict\nc: '# agw: allow x/y'\n";
        let c = comments(&SourceFile::new("t.yaml", t));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].ids.len(), 2);
        assert_eq!(
            &t[c[0].ids[1].span.start..c[0].ids[1].span.end],
            "auth/audiences-missing"
        );
        assert!(c[0].own_line);
        assert!(!c[1].own_line);
        assert_eq!(c[1].ids[0].id, "ports/conflict");
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("okta", "okta/jwks-derived"));
        assert!(pattern_matches("okta/*", "okta/jwks-derived"));
        assert!(!pattern_matches("okta/jwks", "okta/jwks-derived"));
        assert!(pattern_matches("*", "env/unset"));
    }
}
