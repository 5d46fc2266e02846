//! Manifests as YAML text: block style, keys in the order the compiler built them, and a
//! scalar quoted whenever a YAML reader could take it for something else (a number, a boolean,
//! null, a comment, a mapping), so that the text means exactly the JSON value it was made from.

use serde_json::Value;

/// One YAML document per manifest, each starting with `---`.
pub fn documents(manifests: &[Value]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n");
        node(&mut out, m, 0);
    }
    out
}

fn node(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                pad(out, indent);
                out.push_str(&scalar_text(k));
                out.push(':');
                value_after_key(out, child, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                pad(out, indent);
                out.push('-');
                item_after_dash(out, item, indent);
            }
        }
        other => {
            pad(out, indent);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            node(out, v, indent + 2);
        }
        // a list under a key at the key's own indentation, as kubectl writes it
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            node(out, v, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn item_after_dash(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            // the first key on the dash's line, the others under it
            let mut first = true;
            for (k, child) in m {
                if first {
                    out.push(' ');
                    first = false;
                } else {
                    pad(out, indent + 2);
                }
                out.push_str(&scalar_text(k));
                out.push(':');
                value_after_key(out, child, indent + 2);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            node(out, v, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_text(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string as a plain scalar when that reads back as the same string, else double-quoted
/// (JSON's escapes are YAML's).
fn scalar_text(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.contains(['\n', '\r', '\t']) || s.chars().any(char::is_control) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // what a YAML 1.1 or 1.2 reader would take for another type
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return false;
    }
    let numeric = s
        .chars()
        .all(|c| c.is_ascii_digit() || "+-._eExXoOabcdefABCDEF:".contains(c))
        && s.chars().any(|c| c.is_ascii_digit());
    !(numeric || lower.starts_with(".inf") || lower == ".nan")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What agw's own YAML reader makes of the text: the same JSON value.
    fn read_back(text: &str) -> Value {
        let limits = crate::source::Limits::default();
        let env = crate::source::EnvOptions::default();
        let expanded = crate::source::env::expand(text, &env);
        crate::source::yaml::parse(&expanded, &limits)
            .value
            .expect("parses")
    }

    #[test]
    fn text_reads_back_as_the_same_value() {
        let v = json!({
            "apiVersion": "v1",
            "metadata": {"name": "x", "labels": {"a.b/c": "1"}},
            "spec": {
                "list": [{"name": "a", "port": 80, "nested": [1, 2]}, "plain", [true, null]],
                "empty": {}, "none": [],
                "tricky": ["true", "123", "0x1F", "1e3", "", " lead", "a: b", "#c", "- d", "x #y",
                            "multi\nline", "yes", "~", "*", "'q'", "é", "https://a.b/c?d=e#f", "5m"],
            }
        });
        let text = documents(std::slice::from_ref(&v));
        let body = text.strip_prefix("---\n").unwrap();
        assert_eq!(read_back(body), v, "{text}");
    }

    #[test]
    fn layout_is_what_kubectl_users_read() {
        let v = json!({"spec": {"rules": [{"matches": [{"path": {"type": "Exact", "value": "/mcp"}}]}]}});
        assert_eq!(
            documents(&[v]),
            "---\nspec:\n  rules:\n  - matches:\n    - path:\n        type: Exact\n        value: /mcp\n"
        );
    }
}
