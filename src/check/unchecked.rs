//! Notes for the parts of a file that agw accepts without checking (schema nodes marked
//! `x-agw-unchecked`): one note per kind of part, at its first place, with a count of the rest.

use indexmap::IndexMap;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::source::yaml::push_token;
use crate::source::PointerIndex;

pub fn notes(schema: &Value, value: &Value, index: &PointerIndex) -> Vec<Diagnostic> {
    let mut found: IndexMap<String, Vec<String>> = IndexMap::new();
    walk(schema, schema, value, String::new(), &mut found, 0);
    found
        .into_iter()
        .map(|(name, ptrs)| {
            let first = &ptrs[0];
            let span = index
                .lookup(first)
                .map(|s| s.key.unwrap_or(s.value))
                .unwrap_or_default();
            let mut d = Diagnostic::new(
                "config/not-checked",
                format!("`{name}` is accepted as written; agw does not check it yet"),
            )
            .at(span, "not checked by agw");
            if ptrs.len() > 1 {
                d = d.note(format!("and {} more place(s) in this file", ptrs.len() - 1));
            }
            d
        })
        .collect()
}

fn walk(
    root: &Value,
    node: &Value,
    value: &Value,
    ptr: String,
    found: &mut IndexMap<String, Vec<String>>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    let node = resolve(root, node);
    if node.get("x-agw-unchecked").is_some() {
        let name = ptr
            .rsplit('/')
            .find(|s| s.parse::<usize>().is_err())
            .unwrap_or("")
            .to_string();
        found.entry(name).or_default().push(ptr);
        return;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = node.get(key).and_then(Value::as_array) {
            for b in branches {
                let b = resolve(root, b);
                if b.get("properties").is_some()
                    || b.get("items").is_some()
                    || b.get("x-agw-unchecked").is_some()
                {
                    walk(root, b, value, ptr.clone(), found, depth + 1);
                }
            }
        }
    }
    match value {
        Value::Object(o) => {
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                for (k, v) in o {
                    if let Some(p) = props.get(k) {
                        walk(root, p, v, push_token(&ptr, k), found, depth + 1);
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = node.get("items") {
                for (i, v) in a.iter().enumerate() {
                    walk(
                        root,
                        items,
                        v,
                        push_token(&ptr, &i.to_string()),
                        found,
                        depth + 1,
                    );
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut cur = node;
    for _ in 0..8 {
        match cur
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(p) => match root.pointer(p) {
                Some(t) => cur = t,
                None => break,
            },
            None => break,
        }
    }
    cur
}
