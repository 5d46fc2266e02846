//! Notes for the parts of a file that agw accepts without checking (schema nodes marked
//! `x-agw-unchecked`): one note per kind of part, at its first place, with a count of the rest.
//!
//! The schema is first reduced to "shapes" (properties and items, with `$ref`s and unions
//! resolved, and whether anything unchecked can lie below), so that the walk over a large file
//! touches only the subtrees that can hold an unchecked part.

use std::collections::HashMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::source::yaml::push_token;
use crate::source::PointerIndex;

#[derive(Default)]
struct Shape {
    unchecked: bool,
    /// Something unchecked can lie at or below this node.
    reaches: bool,
    props: HashMap<String, usize>,
    items: Option<usize>,
}

struct Shapes {
    all: Vec<Shape>,
    root: usize,
}

fn shapes() -> &'static Shapes {
    static S: OnceLock<Shapes> = OnceLock::new();
    S.get_or_init(|| {
        let schema = super::schema_stage::schema();
        let mut b = ShapeBuilder {
            root: schema,
            all: Vec::new(),
            by_ref: HashMap::new(),
        };
        let root = b.build(schema, 0);
        b.settle();
        Shapes { all: b.all, root }
    })
}

struct ShapeBuilder<'a> {
    root: &'a Value,
    all: Vec<Shape>,
    by_ref: HashMap<String, usize>,
}

impl ShapeBuilder<'_> {
    fn build(&mut self, node: &Value, depth: usize) -> usize {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(&id) = self.by_ref.get(r) {
                return id;
            }
            let id = self.new_shape();
            self.by_ref.insert(r.to_string(), id);
            let target = r.strip_prefix('#').and_then(|p| self.root.pointer(p));
            if let Some(t) = target {
                self.fill(id, t, depth + 1);
            }
            return id;
        }
        let id = self.new_shape();
        self.fill(id, node, depth + 1);
        id
    }

    fn new_shape(&mut self) -> usize {
        self.all.push(Shape::default());
        self.all.len() - 1
    }

    fn fill(&mut self, id: usize, node: &Value, depth: usize) {
        if depth > 64 {
            return;
        }
        if node.get("x-agw-unchecked").is_some() {
            self.all[id].unchecked = true;
            return;
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                let child = self.build(p, depth);
                self.all[id].props.insert(k.clone(), child);
            }
        }
        if let Some(items) = node.get("items") {
            let child = self.build(items, depth);
            self.all[id].items = Some(child);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for b in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let inner = self.build(b, depth);
                self.merge(id, inner);
            }
        }
    }

    /// A union's branches add their properties and items to the node's own.
    fn merge(&mut self, into: usize, from: usize) {
        if into == from {
            return;
        }
        let (unchecked, props, items) = {
            let f = &self.all[from];
            (f.unchecked, f.props.clone(), f.items)
        };
        let t = &mut self.all[into];
        t.unchecked |= unchecked;
        for (k, v) in props {
            t.props.entry(k).or_insert(v);
        }
        if t.items.is_none() {
            t.items = items;
        }
    }

    /// Marks every shape from which an unchecked shape can be reached.
    fn settle(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.all.len() {
                if self.all[i].reaches {
                    continue;
                }
                let s = &self.all[i];
                let r = s.unchecked
                    || s.props.values().any(|&c| self.all[c].reaches)
                    || s.items.is_some_and(|c| self.all[c].reaches);
                if r {
                    self.all[i].reaches = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

pub fn notes(value: &Value, index: &PointerIndex) -> Vec<Diagnostic> {
    let shapes = shapes();
    let mut found: IndexMap<String, Vec<String>> = IndexMap::new();
    walk(shapes, shapes.root, value, String::new(), &mut found);
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
    shapes: &Shapes,
    id: usize,
    value: &Value,
    ptr: String,
    found: &mut IndexMap<String, Vec<String>>,
) {
    let shape = &shapes.all[id];
    if !shape.reaches {
        return;
    }
    if shape.unchecked {
        let name = ptr
            .rsplit('/')
            .find(|s| s.parse::<usize>().is_err())
            .unwrap_or("")
            .to_string();
        found.entry(name).or_default().push(ptr);
        return;
    }
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                if let Some(&c) = shape.props.get(k) {
                    if shapes.all[c].reaches {
                        walk(shapes, c, v, push_token(&ptr, k), found);
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(c) = shape.items.filter(|&c| shapes.all[c].reaches) {
                for (i, v) in a.iter().enumerate() {
                    walk(shapes, c, v, push_token(&ptr, &i.to_string()), found);
                }
            }
        }
        _ => {}
    }
}
