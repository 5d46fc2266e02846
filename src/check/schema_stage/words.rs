//! How findings of the schema stage name things: places (`route policies`), values, types and
//! the closest word to a misspelt one.

use jsonschema::error::TypeKind;
use serde_json::Value;

/// The closest candidate to a misspelt word, if one is close enough to be a likely typo.
pub fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase().replace(['_', '-'], "");
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let cl = c.to_ascii_lowercase();
        if cl == lower {
            return Some(c);
        }
        // One edit away is a typo even in a short word (`uri` for `url`).
        if lower.len() >= 3 && strsim::levenshtein(&lower, &cl) <= 1 {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &cl);
        if score > best.map_or(0.0, |b| b.1) {
            best = Some((c, score));
        }
    }
    best.filter(|b| b.1 >= 0.84).map(|b| b.0)
}

/// A human name for the object at a pointer: "route policies", "`mcpAuthentication`", ...
pub fn describe(ptr: &str) -> String {
    let segs: Vec<&str> = ptr.split('/').skip(1).collect();
    let Some(last) = segs.last() else {
        return "the top level".into();
    };
    let prev = segs.len().checked_sub(2).map(|i| segs[i]);
    let llm = segs.first() == Some(&"llm");
    if last.parse::<usize>().is_ok() {
        return match prev {
            Some("binds") => "bind",
            Some("listeners") => "listener",
            Some("routes") => "route",
            Some("targets") if segs.contains(&"mcp") => "MCP target",
            Some("models") if llm => "LLM model",
            Some("providers") if llm => "LLM provider",
            Some("virtualModels") if llm => "virtual model",
            Some("backends") => "backend",
            Some("matches") => "route match",
            Some("rules") => "authorization rule",
            Some("policies") => "policy entry",
            Some("headers") | Some("query") => "match condition",
            Some("localRateLimit") => "rate limit",
            Some("providers") if segs.contains(&"jwtAuth") => "JWT provider",
            Some(p) => return format!("an item of `{p}`"),
            None => "item",
        }
        .into();
    }
    if *last == "policies" {
        let owner = segs.len().checked_sub(3).map(|i| segs[i]);
        return match (owner, prev) {
            (Some("routes"), _) => "route policies".into(),
            (Some("listeners"), _) => "listener policies".into(),
            (Some("targets"), _) => "MCP target policies".into(),
            (Some("backends"), _) => "backend policies".into(),
            (_, Some("mcp")) => "`mcp` policies".into(),
            (Some("gateways"), _) => "gateway policies".into(),
            _ => "`policies`".into(),
        };
    }
    if *last == "policy" {
        return "policy".into();
    }
    if prev == Some("gateways") && segs.len() == 2 {
        return format!("gateway `{last}`");
    }
    format!("`{}`", last.replace("~1", "/").replace("~0", "~"))
}

/// A name for the value at a pointer: "`port`", "route match path", ...
pub(super) fn describe_value(ptr: &str) -> String {
    let segs: Vec<&str> = ptr.split('/').skip(1).collect();
    match segs.last() {
        None => "the top level".into(),
        Some(l) if l.parse::<usize>().is_ok() => describe(ptr),
        Some(l) => format!("`{}`", l.replace("~1", "/").replace("~0", "~")),
    }
}

pub(super) fn type_names(kind: &TypeKind) -> String {
    let one = |t: &jsonschema::JsonType| -> &'static str {
        use jsonschema::JsonType::*;
        match t {
            Array => "a list",
            Boolean => "`true` or `false`",
            Integer => "a whole number",
            Null => "empty",
            Number => "a number",
            Object => "a mapping",
            String => "a string",
        }
    };
    match kind {
        TypeKind::Single(t) => one(t).to_string(),
        TypeKind::Multiple(ts) => {
            let names: Vec<&str> = ts
                .iter()
                .filter(|t| !matches!(t, jsonschema::JsonType::Null))
                .map(|t| one(&t))
                .collect();
            names.join(" or ")
        }
    }
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (an empty value)",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

pub(super) fn found_text(v: &Value, t: &str) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string `{s}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("`{b}`"),
        _ => t.to_string(),
    }
}

pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn type_hint(v: &Value, expected: &str) -> Option<String> {
    match v {
        Value::String(s) if expected.contains("true") => {
            let l = s.to_ascii_lowercase();
            let b = match l.as_str() {
                "yes" | "on" | "y" => Some("true"),
                "no" | "off" | "n" => Some("false"),
                _ => None,
            }?;
            Some(format!("YAML 1.2 reads `{s}` as a string; write `{b}`"))
        }
        Value::String(s) if expected == "a list" => {
            let items: Vec<String> = if s.contains(',') {
                s.split(',').map(|x| x.trim().to_string()).collect()
            } else {
                s.split_whitespace().map(String::from).collect()
            };
            let items: Vec<String> = items.iter().map(|i| flow_item(i)).collect();
            Some(format!("write a list: `[{}]`", items.join(", ")))
        }
        Value::String(s) if expected.contains("number") && s.trim().parse::<f64>().is_ok() => {
            Some(format!("remove the quotes: `{}`", s.trim()))
        }
        Value::Null if expected == "a list" => Some("write `[]` for an empty list".into()),
        Value::Null if expected == "a mapping" => Some("write `{}` for an empty mapping".into()),
        Value::Object(_) if expected == "a list" => {
            Some("start each item with `- ` to make a list".into())
        }
        Value::Array(a) if expected == "a mapping" && a.len() == 1 => {
            Some("remove the `- `: this takes a mapping, not a list".into())
        }
        Value::Number(_) | Value::Bool(_) if expected == "a string" => {
            Some("quote the value to make it a string".into())
        }
        _ => None,
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// One item of a YAML flow list, quoted when YAML would read it otherwise.
pub(super) fn flow_item(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !s.starts_with(['-', ':'])
        && !s.is_empty();
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\\\""))
    }
}

pub(super) fn first_sentence(s: &str) -> String {
    let s = s.split("\n\n").next().unwrap_or(s).replace('\n', " ");
    match s.find(". ") {
        Some(i) => s[..i].to_string(),
        None => s.trim_end_matches('.').to_string(),
    }
}

/// A DNS-style rendering of a name, to suggest in place of an invalid target name.
pub(super) fn dns_name(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() {
        "tools".into()
    } else {
        out
    }
}
