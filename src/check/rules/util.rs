//! Small helpers shared by the rule families: URLs, hosts, paths, Okta shapes, and mapping an
//! offset inside a decoded string back to the text the user wrote.

use serde_json::Value;

use crate::config::route::RouteMatch;

pub const WK_RESOURCE: &str = "/.well-known/oauth-protected-resource";
pub const WK_AUTH_SERVER: &str = "/.well-known/oauth-authorization-server";

/// Maps `decoded[start..end]` to byte offsets in `written`, the text of the same scalar as it
/// appears in the file (with quotes, escapes, indentation of block scalars).
pub fn align(written: &str, decoded: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let end = end.max(start).min(decoded.len());
    let start = start.min(end);
    if written == decoded {
        return Some((start, end));
    }
    let quoted = written.len() >= 2
        && ((written.starts_with('"') && written.ends_with('"'))
            || (written.starts_with('\'') && written.ends_with('\'')));
    if quoted && &written[1..written.len() - 1] == decoded {
        return Some((start + 1, end + 1));
    }
    // Walk both texts: every non-blank decoded character is found, in order, in the written
    // text; blanks (indentation, folded newlines) are skipped on both sides.
    let w = written.as_bytes();
    let mut j = usize::from(quoted);
    let mut a = None;
    let mut last_end = j;
    for (i, c) in decoded.char_indices() {
        if i >= end && a.is_some() {
            break;
        }
        if c.is_whitespace() {
            if i == start {
                a = Some(j);
            }
            continue;
        }
        let mut buf = [0u8; 4];
        let cb = c.encode_utf8(&mut buf).as_bytes();
        loop {
            if j + cb.len() > w.len() {
                return None;
            }
            if &w[j..j + cb.len()] == cb {
                break;
            }
            j += 1;
        }
        if i == start {
            a = Some(j);
        }
        j += cb.len();
        if i < end {
            last_end = j;
        }
    }
    let a = a.unwrap_or(last_end);
    Some((a, last_end.max(a)))
}

/// The MCP endpoint paths a route serves: its exact and prefix paths outside `/.well-known/`.
/// Regex matches are left out (there is no single path to name).
pub fn served_paths(matches: &[RouteMatch]) -> Vec<String> {
    let mut out = Vec::new();
    for m in matches {
        let Some(p) = &m.path else {
            out.push("/".to_string());
            continue;
        };
        let path = if let Some(e) = &p.exact {
            e.clone()
        } else if let Some(pre) = &p.path_prefix {
            if pre.len() > 1 {
                pre.trim_end_matches('/').to_string()
            } else {
                pre.clone()
            }
        } else {
            continue;
        };
        if path.starts_with("/.well-known/") || out.contains(&path) {
            continue;
        }
        out.push(path);
    }
    out
}

/// Parses a Go-style duration (`1m30s`, `500ms`) into nanoseconds.
pub fn duration_nanos(s: &str) -> Option<u128> {
    crate::config::parse_duration(s).map(|d| d.as_nanos())
}

/// The JSON-pointer escaping of one token.
/// An HTTP token (RFC 9110): what a header name or a method is made of.
pub fn is_http_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Calls `f(pointer, key, value)` for every entry of every mapping in `v`, depth first in the
/// document's order: the one walk of the rules that look for a shape anywhere in a file.
pub fn each_entry(v: &serde_json::Value, f: &mut impl FnMut(&str, &str, &serde_json::Value)) {
    fn walk(
        v: &serde_json::Value,
        at: &mut String,
        f: &mut impl FnMut(&str, &str, &serde_json::Value),
    ) {
        let len = at.len();
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    at.push('/');
                    at.push_str(&ptr_token(k));
                    f(at, k, x);
                    walk(x, at, f);
                    at.truncate(len);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push('/');
                    at.push_str(&i.to_string());
                    walk(x, at, f);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(v, &mut String::new(), f);
}

pub fn ptr_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Whether a section (`ui`, `llm`) names gateways: `gateways:` with a name or a non-empty list.
pub fn has_gateways(section: &Value) -> bool {
    match section.get("gateways") {
        Some(Value::String(_)) => true,
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_plain_quoted_and_block() {
        assert_eq!(align("a && b", "a && b", 2, 4), Some((2, 4)));
        assert_eq!(align("'a && b'", "a && b", 5, 6), Some((6, 7)));
        // a block scalar: `|` header, newline, indentation
        let written = "|\n    jwt.sub == \"x\" &&\n    y\n";
        let decoded = "jwt.sub == \"x\" &&\ny\n";
        let (a, z) = align(written, decoded, 18, 19).unwrap();
        assert_eq!(&written[a..z], "y");
        // escapes in double quotes
        let written = r#""a == \"b\" (""#;
        let decoded = "a == \"b\" (";
        let (a, z) = align(written, decoded, 9, 10).unwrap();
        assert_eq!(&written[a..z], "(");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_nanos("1m30s"), Some(90_000_000_000));
        assert_eq!(duration_nanos("500ms"), Some(500_000_000));
        assert_eq!(duration_nanos("x"), None);
    }
}
