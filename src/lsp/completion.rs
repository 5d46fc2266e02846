//! Completion of keys and enum values at the cursor, from the schema the model generates (the
//! published one of the judged release, so a key of another release is not offered).
//!
//! A document being typed is seldom valid YAML, so the place of the cursor is read from the
//! lines above it by their indentation, as a person reads it, not from a parse: `- ` items and
//! `key:` lines open blocks, a line less indented closes them.

use serde_json::Value;

use crate::config::release::{PerRelease, Release};
use crate::schema::{self, Draft};

/// One completion: `text` replaces the document's `replace` byte range.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub label: String,
    pub kind: Kind,
    /// The value's type, or the key's, for the list.
    pub detail: Option<String>,
    pub documentation: Option<String>,
    pub text: String,
    pub replace: (usize, usize),
    pub deprecated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    Value,
}

/// The completions at byte `offset` of `text`, judged as `release`.
pub fn complete(text: &str, offset: usize, release: Release) -> Vec<Item> {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let Some(at) = Cursor::read(text, offset) else {
        return Vec::new();
    };
    let root = published(release);
    let mut ptr: String = at
        .path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => crate::source::yaml::push_token("", k),
            Seg::Item => "/0".to_string(),
        })
        .collect();
    match at.slot {
        Slot::Key => {
            let Some(node) = schema::node_at(root, &ptr) else {
                return Vec::new();
            };
            schema::properties(root, node)
                .into_iter()
                .filter(|(k, _)| !at.siblings.iter().any(|s| s == k))
                .map(|(k, v)| key_item(root, k, v, at.column, (at.start, offset)))
                .collect()
        }
        Slot::Value(key) => {
            ptr = crate::source::yaml::push_token(&ptr, &key);
            let Some(node) = schema::node_at(root, &ptr) else {
                return Vec::new();
            };
            schema::allowed_values(root, node)
                .into_iter()
                .filter(|v| !v.is_null())
                .map(|v| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    Item {
                        label: text.clone(),
                        kind: Kind::Value,
                        detail: None,
                        documentation: None,
                        text,
                        replace: (at.start, offset),
                        deprecated: false,
                    }
                })
                .collect()
        }
    }
}

fn published(release: Release) -> &'static Value {
    static S: PerRelease<Value> = PerRelease::new();
    S.get(release, || schema::published(release, Draft::Draft07))
}

fn key_item(root: &Value, key: &str, node: &Value, column: usize, replace: (usize, usize)) -> Item {
    let indent = " ".repeat(column);
    let (detail, text) = if is_object(root, node) {
        ("object", format!("{key}:\n{indent}  "))
    } else if let Some(items) = node.get("items") {
        if is_object(root, schema::resolve(root, items)) {
            ("list", format!("{key}:\n{indent}- "))
        } else {
            ("list", format!("{key}: "))
        }
    } else {
        let values = schema::allowed_values(root, node);
        if values.iter().any(|v| !v.is_null()) {
            ("value", format!("{key}: "))
        } else {
            (type_name(node).unwrap_or("value"), format!("{key}: "))
        }
    };
    Item {
        label: key.to_string(),
        kind: Kind::Key,
        detail: Some(detail.to_string()),
        documentation: node
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        text,
        replace,
        deprecated: node.get("deprecated") == Some(&Value::Bool(true)),
    }
}

/// Whether the node is a mapping of named keys (not a map of user names, not a choice that
/// also allows a scalar).
fn is_object(root: &Value, node: &Value) -> bool {
    let node = schema::resolve(root, node);
    if node.get("properties").is_some() {
        return true;
    }
    let alts: Vec<&Value> = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .map(|a| schema::resolve(root, a))
        .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
        .collect();
    !alts.is_empty() && alts.iter().all(|a| is_object(root, a))
}

fn type_name(node: &Value) -> Option<&str> {
    match node.get("type")? {
        Value::String(s) => Some(s),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Item,
}

#[derive(Debug, PartialEq)]
enum Slot {
    Key,
    /// The value of this key, on the cursor's line.
    Value(String),
}

/// Where the cursor is: the path of the block it is in, and what it is typing there.
#[derive(Debug)]
struct Cursor {
    path: Vec<Seg>,
    slot: Slot,
    /// Where the word being typed starts.
    start: usize,
    /// The column of a key typed here.
    column: usize,
    /// The keys the mapping already has (no use offering them again).
    siblings: Vec<String>,
}

/// A line's structure: the columns of its `- ` markers, and its key, if any.
struct Line<'t> {
    items: Vec<usize>,
    /// The column where the rest (a key or a scalar) starts.
    column: usize,
    key: Option<String>,
    /// What follows the key's `:` (or the whole rest, without a key).
    rest: &'t str,
}

impl<'t> Line<'t> {
    fn read(line: &'t str) -> Line<'t> {
        let mut col = line.len() - line.trim_start_matches(' ').len();
        let mut items = Vec::new();
        while line[col..].starts_with('-')
            && line[col + 1..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t')
        {
            items.push(col);
            col += 1;
            col += line[col..].len() - line[col..].trim_start_matches([' ', '\t']).len();
        }
        let rest = &line[col..];
        match split_key(rest) {
            Some((key, after)) => Line {
                items,
                column: col,
                key: Some(key),
                rest: after,
            },
            None => Line {
                items,
                column: col,
                key: None,
                rest,
            },
        }
    }

    /// Nothing but white space or a comment.
    fn is_blank(&self) -> bool {
        self.items.is_empty() && self.key.is_none() && {
            let t = self.rest.trim();
            t.is_empty() || t.starts_with('#')
        }
    }

    fn first_column(&self) -> usize {
        self.items.first().copied().unwrap_or(self.column)
    }
}

/// `key: rest` or `key:` at the end: the key (unquoted) and what follows its colon.
fn split_key(s: &str) -> Option<(String, &str)> {
    if s.starts_with(['#', '{', '[', '&', '*', '!', '|', '>']) {
        return None;
    }
    let (key, after) = if let Some(q) = s.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let close = s[1..].find(q)? + 1;
        let after = s[close + 1..].trim_start_matches([' ', '\t']);
        (s[1..close].to_string(), after.strip_prefix(':')?)
    } else {
        let colon = s
            .match_indices(':')
            .map(|(i, _)| i)
            .find(|&i| s[i + 1..].is_empty() || s[i + 1..].starts_with([' ', '\t']))?;
        if s[..colon].contains(" #") {
            return None;
        }
        (s[..colon].trim_end().to_string(), &s[colon + 1..])
    };
    Some((key, after))
}

/// The blocks open above a line, innermost last: each with its column, and for mappings the
/// keys seen in them.
#[derive(Default)]
struct Blocks {
    open: Vec<(usize, Seg, Vec<String>)>,
    root_keys: Vec<String>,
}

impl Blocks {
    fn item(&mut self, col: usize) {
        while let Some((c, seg, _)) = self.open.last() {
            if *c > col || (*c == col && *seg == Seg::Item) {
                self.open.pop();
            } else {
                break;
            }
        }
        self.open.push((col, Seg::Item, Vec::new()));
    }

    /// Closes the blocks that a key at `col` ends; the keys of the mapping it is in.
    fn close_for_key(&mut self, col: usize) -> &mut Vec<String> {
        while self.open.last().is_some_and(|(c, _, _)| *c >= col) {
            self.open.pop();
        }
        match self.open.last_mut() {
            Some((_, _, keys)) => keys,
            None => &mut self.root_keys,
        }
    }

    fn key(&mut self, col: usize, key: String) {
        self.close_for_key(col).push(key.clone());
        self.open.push((col, Seg::Key(key), Vec::new()));
    }

    fn path(&self) -> Vec<Seg> {
        self.open.iter().map(|(_, s, _)| s.clone()).collect()
    }
}

impl Cursor {
    fn read(text: &str, offset: usize) -> Option<Cursor> {
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let mut blocks = Blocks::default();
        // a block scalar's lines are text, not structure: skipped while more indented than its key
        let mut scalar_above: Option<usize> = None;
        for raw in text[..line_start].lines() {
            let line = Line::read(raw);
            if line.is_blank() {
                continue;
            }
            if let Some(col) = scalar_above {
                if line.first_column() > col {
                    continue;
                }
                scalar_above = None;
            }
            for &c in &line.items {
                blocks.item(c);
            }
            if let Some(k) = line.key {
                blocks.key(line.column, k);
                if value_text(line.rest).starts_with(['|', '>']) {
                    scalar_above = Some(line.column);
                }
            }
        }
        if scalar_above.is_some_and(|col| {
            let l = Line::read(&text[line_start..offset]);
            l.first_column() > col || l.is_blank()
        }) {
            return None;
        }
        let before = &text[line_start..offset];
        let line = Line::read(before);
        if line.rest.trim_start().starts_with('#') && line.key.is_none() {
            return None;
        }
        for &c in &line.items {
            blocks.item(c);
        }
        match line.key {
            Some(key) => {
                let value = line.rest;
                if value.contains(" #") || value.trim_start().starts_with(['{', '[', '"', '\'']) {
                    return None;
                }
                blocks.close_for_key(line.column);
                let start = offset - value.trim_start().len();
                Some(Cursor {
                    path: blocks.path(),
                    slot: Slot::Value(key),
                    start,
                    column: line.column,
                    siblings: Vec::new(),
                })
            }
            None => {
                let word = line.rest;
                if !word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return None;
                }
                let column = line.column;
                let mut siblings = blocks.close_for_key(column).clone();
                siblings.extend(keys_below(text, offset, column));
                Some(Cursor {
                    path: blocks.path(),
                    slot: Slot::Key,
                    start: offset - word.len(),
                    column,
                    siblings,
                })
            }
        }
    }
}

/// A value without its comment.
fn value_text(rest: &str) -> &str {
    rest.split(" #").next().unwrap_or_default().trim()
}

/// The keys at `column` in the lines after the cursor's, up to the end of the block.
fn keys_below(text: &str, offset: usize, column: usize) -> Vec<String> {
    let next = text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1);
    let mut out = Vec::new();
    for raw in text[next..].lines() {
        let line = Line::read(raw);
        if line.is_blank() {
            continue;
        }
        if line.first_column() < column {
            break;
        }
        if line.items.is_empty() && line.column == column {
            if let Some(k) = line.key {
                out.push(k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> (String, usize) {
        let i = text.find('|').expect("a | marks the cursor");
        (text.replacen('|', "", 1), i)
    }

    fn labels(text: &str) -> Vec<String> {
        let (t, i) = at(text);
        complete(&t, i, Release::default())
            .into_iter()
            .map(|c| c.label)
            .collect()
    }

    #[test]
    fn top_level_keys() {
        let l = labels("binds: []\n|");
        assert!(l.contains(&"mcp".to_string()), "{l:?}");
        assert!(!l.contains(&"binds".to_string()), "already there: {l:?}");
    }

    #[test]
    fn keys_of_a_policy_block_under_list_items() {
        let t = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAu|\n      backends: []\n";
        let (text, i) = at(t);
        let items = complete(&text, i, Release::default());
        let auth = items
            .iter()
            .find(|c| c.label == "mcpAuthentication")
            .unwrap_or_else(|| panic!("{items:?}"));
        assert_eq!(auth.replace, (i - "mcpAu".len(), i));
        assert_eq!(auth.text, "mcpAuthentication:\n          ");
        assert!(auth.documentation.is_some());
        // the route's keys are not the policy's
        assert!(!items.iter().any(|c| c.label == "backends"));
    }

    #[test]
    fn keys_of_a_list_item_after_its_dash() {
        let l = labels("binds:\n- port: 3000\n  listeners:\n  - |\n");
        assert!(l.contains(&"routes".to_string()), "{l:?}");
        assert!(l.contains(&"hostname".to_string()), "{l:?}");
        let l = labels("binds:\n- port: 3000\n  |\n");
        assert!(l.contains(&"listeners".to_string()), "{l:?}");
        assert!(!l.contains(&"port".to_string()), "{l:?}");
    }

    #[test]
    fn enum_values_of_a_key() {
        let t = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentication:\n          mode: st|\n";
        let (text, i) = at(t);
        let items = complete(&text, i, Release::default());
        let l: Vec<_> = items.iter().map(|c| c.label.as_str()).collect();
        assert!(l.contains(&"strict") && l.contains(&"permissive"), "{l:?}");
        assert!(items.iter().all(|c| c.replace == (i - 2, i)));
        let l = labels("binds:\n- port: 3000\n  listeners:\n  - protocol: |\n");
        assert!(l.contains(&"HTTPS".to_string()), "{l:?}");
    }

    #[test]
    fn nothing_inside_comments_block_scalars_or_flow_values() {
        assert!(labels("binds: [] # mc|\n").is_empty());
        assert!(labels("config:\n  x: |\n    mc|\n").is_empty());
        assert!(labels("binds: [{p|}]\n").is_empty());
    }

    #[test]
    fn a_key_of_another_release_is_not_offered() {
        let (t, i) = at("config:\n  |\n");
        let keys = |r| -> Vec<String> { complete(&t, i, r).into_iter().map(|c| c.label).collect() };
        // `config.sensitiveHeaders` is on the main line only
        assert!(keys(Release::Main).contains(&"sensitiveHeaders".to_string()));
        let old = keys(Release::V1_4_1);
        assert!(!old.contains(&"sensitiveHeaders".to_string()), "{old:?}");
        assert!(old.contains(&"logging".to_string()), "{old:?}");
    }

    #[test]
    fn half_typed_and_odd_text_does_not_panic() {
        for t in [
            "",
            "-",
            "- ",
            ":",
            "a: b: c",
            "\"unterminated: x",
            "é: ü\n  ö",
            "\t- x:\n\t|",
        ] {
            for i in 0..=t.len() {
                let _ = complete(t, i, Release::default());
            }
        }
    }
}
