//! Findings show the file as written, never what it expanded to: a value that came from the
//! environment (`port: ${GW_PORT}` with a secret in `GW_PORT`) is shown as its reference, and the
//! credentials of a URL (`https://user:pass@host`) are masked, in every output format (SARIF is
//! uploaded to code scanning, GitHub annotations are public on a pull request). The code frames
//! already quote the original text; this covers the messages, hints, notes and labels, which
//! quote values of the parsed (expanded) document.

use super::Diagnostic;

/// Values shorter than this are left alone: a one-character value (`1`) would match inside
/// unrelated words and numbers of a message, and reveals nothing.
const MIN_VALUE_LEN: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct Redactions {
    /// (expanded value, reference as written), longest value first.
    env: Vec<(String, String)>,
}

impl Redactions {
    pub fn new(mut env: Vec<(String, String)>) -> Self {
        env.retain(|(v, _)| v.len() >= MIN_VALUE_LEN);
        env.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        env.dedup_by(|a, b| a.0 == b.0);
        Redactions { env }
    }

    pub fn apply(&self, d: &mut Diagnostic) {
        redact(&mut d.message, self);
        if let Some(h) = &mut d.help {
            redact(h, self);
        }
        for n in &mut d.notes {
            redact(n, self);
        }
        for l in &mut d.labels {
            if let Some(t) = &mut l.text {
                redact(t, self);
            }
        }
    }

    /// `s` with every environment value replaced by its reference and URL credentials masked.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (value, reference) in &self.env {
            out = replace_whole(&out, value, reference);
        }
        mask_url_credentials(&out)
    }
}

fn redact(s: &mut String, r: &Redactions) {
    let red = r.text(s);
    if red != *s {
        *s = red;
    }
}

/// Replaces `value` where it is not part of a longer word or number.
fn replace_whole(s: &str, value: &str, with: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(value) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + value.len()..].chars().next();
        let starts_word = value.chars().next().is_some_and(|c| c.is_alphanumeric());
        let ends_word = value
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric());
        let inside = (starts_word && word(before)) || (ends_word && word(after));
        out.push_str(&rest[..i]);
        out.push_str(if inside { value } else { with });
        rest = &rest[i + value.len()..];
    }
    out.push_str(rest);
    out
}

/// The file's text for code frames: the credentials of every URL replaced by as many `*` as they
/// have bytes, so that every offset into the text still points at the same place.
pub fn source_for_display(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let authority_end = text[start..]
            .find(|c: char| matches!(c, '/' | '?' | '#' | '`' | '\'' | '"') || c.is_whitespace())
            .map_or(text.len(), |e| start + e);
        if let Some(at) = text[start..authority_end].rfind('@') {
            out.replace_range(start..start + at, &"*".repeat(at));
        }
        from = start;
    }
    std::borrow::Cow::Owned(out)
}

/// `scheme://user:password@host` -> `scheme://***@host`.
pub fn mask_url_credentials(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '`' | '\'' | '"') || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_their_references() {
        let r = Redactions::new(vec![
            ("hunter2secret".into(), "${GW_PORT}".into()),
            ("3000".into(), "$P".into()),
            ("7".into(), "$ONE".into()),
        ]);
        assert_eq!(
            r.text("found the string `hunter2secret`, expected a number"),
            "found the string `${GW_PORT}`, expected a number"
        );
        assert_eq!(r.text("port 3000 and 30001"), "port $P and 30001");
        assert_eq!(r.text("line 7"), "line 7");
    }

    #[test]
    fn url_credentials_are_masked() {
        assert_eq!(
            mask_url_credentials("issuer `https://user:pa ss@idp.test/x` and http://tok@h:1/"),
            "issuer `https://user:pa ss@idp.test/x` and http://***@h:1/"
        );
        assert_eq!(
            mask_url_credentials("https://user:pass@idp.test/x"),
            "https://***@idp.test/x"
        );
        assert_eq!(
            mask_url_credentials("https://idp.test/a@b"),
            "https://idp.test/a@b"
        );
    }

    #[test]
    fn code_frames_keep_their_offsets() {
        let t = "url: https://user:pässword@idp.test/x\nother: a@b\n";
        let shown = source_for_display(t);
        assert_eq!(shown.len(), t.len());
        assert!(
            !shown.contains("pässword") && !shown.contains("user"),
            "{shown}"
        );
        assert!(
            shown.contains("@idp.test/x") && shown.contains("other: a@b"),
            "{shown}"
        );
    }
}
