//! Hover text: on a finding, its rule's explanation; on an `# agw: allow RULE` comment, that rule;
//! on a key, what the key means and its allowed values, from the generated schema (the same model
//! `agw check` validates with).

use serde_json::Value;

use crate::check::catalog;
use crate::check::schema_stage;
use crate::diag::Rule;
use crate::source::{self, PointerIndex};

/// The rule named in an `# agw: allow` comment under `offset`.
pub fn allow_comment_rule(text: &str, offset: usize) -> Option<&'static Rule> {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[start..end];
    let marker = line.find("# agw: allow")?;
    let list_at = start + marker + "# agw: allow".len();
    if offset < list_at {
        return None;
    }
    // the id under the cursor: the run of id characters around it
    let is_id = |c: char| c.is_ascii_alphanumeric() || c == '/' || c == '-';
    let from = text[..offset]
        .rfind(|c: char| !is_id(c))
        .map_or(0, |i| i + 1);
    let to = text[offset..]
        .find(|c: char| !is_id(c))
        .map_or(end, |i| offset + i);
    catalog::get(&text[from..to])
}

/// The markdown of a rule.
pub fn rule_markdown(r: &Rule) -> String {
    format!(
        "**`{}`** ({})\n\n{}",
        r.id,
        r.severity_text(),
        r.markdown(4)
    )
}

/// What the key under `offset` means, from the schema.
pub fn key_markdown(
    text: &str,
    offset: usize,
    opts: &crate::check::CheckOptions,
) -> Option<String> {
    let expanded = source::env::expand(text, &opts.env);
    let parsed = source::yaml::parse(&expanded, &opts.limits);
    let value = parsed.value?;
    let ptr = key_at(&value, &parsed.index, "", offset)?;
    let node = crate::schema::node_at(schema_stage::schema(), &ptr)?;
    let key = ptr.rsplit('/').next().unwrap_or_default();
    let mut md = format!("**`{key}`**");
    if let Some(d) = node.get("description").and_then(Value::as_str) {
        md.push_str(&format!("\n\n{d}"));
    }
    let values: Vec<String> = crate::schema::allowed_values(schema_stage::schema(), node)
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )
        })
        .collect();
    if !values.is_empty() {
        md.push_str(&format!("\n\nAllowed values: {}", values.join(", ")));
    }
    Some(md)
}

/// The pointer of the mapping key whose span holds `offset`.
fn key_at(v: &Value, index: &PointerIndex, ptr: &str, offset: usize) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, child)| {
            let p = source::yaml::push_token(ptr, k);
            let spans = index.get(&p)?;
            if spans
                .key
                .is_some_and(|s| s.start <= offset && offset <= s.end)
            {
                return Some(p);
            }
            let inside = spans.value.start <= offset && offset <= spans.value.end;
            inside.then(|| key_at(child, index, &p, offset)).flatten()
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, child)| {
            let p = format!("{ptr}/{i}");
            let spans = index.get(&p)?;
            let inside = spans.value.start <= offset && offset <= spans.value.end;
            inside.then(|| key_at(child, index, &p, offset)).flatten()
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_explained_from_the_schema() {
        let t = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentication:\n          mode: strict\n";
        let opts = crate::check::CheckOptions::default();
        let md = key_markdown(t, t.find("mode").unwrap() + 1, &opts).unwrap();
        assert!(md.starts_with("**`mode`**"), "{md}");
        assert!(
            md.contains("`strict`") && md.contains("`permissive`"),
            "{md}"
        );
        assert!(key_markdown(t, t.find("3000").unwrap(), &opts).is_none());
    }

    #[test]
    fn allow_comments_name_their_rule() {
        let t = "a: 1 # agw: allow okta/jwks-derived, auth/audiences-missing\n";
        let at = t.find("audiences-missing").unwrap() + 3;
        assert_eq!(
            allow_comment_rule(t, at).unwrap().id,
            "auth/audiences-missing"
        );
        assert!(allow_comment_rule(t, 1).is_none());
    }
}
