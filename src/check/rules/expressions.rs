//! Where the CEL expressions are in the sections agw keeps as written: every value whose schema
//! is the gateway's `Expression` (marked `x-agw-cel`). The gateway compiles each one when it
//! loads the file and refuses one that does not parse, so `cel/syntax` must see them all.
//!
//! The schema is reduced once to shapes (properties, list items and map values, with `$ref`s
//! and unions resolved, and whether an expression can lie below), so that the walk over a
//! large file only enters the subtrees that can hold one.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::util::ptr_token;
use crate::config::surface::CEL_KEY;

#[derive(Default)]
struct Shape {
    cel: bool,
    /// An expression can lie at or below this node.
    reaches: bool,
    props: HashMap<String, usize>,
    items: Option<usize>,
    values: Option<usize>,
}

struct Shapes {
    all: Vec<Shape>,
    root: usize,
}

fn shapes() -> &'static Shapes {
    static S: OnceLock<Shapes> = OnceLock::new();
    S.get_or_init(|| {
        let schema = crate::check::schema_stage::schema();
        let mut b = Builder {
            root: schema,
            all: Vec::new(),
            by_ref: HashMap::new(),
        };
        let root = b.build(schema, 0);
        b.settle();
        Shapes { all: b.all, root }
    })
}

struct Builder<'a> {
    root: &'a Value,
    all: Vec<Shape>,
    by_ref: HashMap<String, usize>,
}

impl Builder<'_> {
    fn build(&mut self, node: &Value, depth: usize) -> usize {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(&id) = self.by_ref.get(r) {
                return id;
            }
            let id = self.new_shape();
            self.by_ref.insert(r.to_string(), id);
            if let Some(t) = r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
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
        if node.get(CEL_KEY).is_some() {
            self.all[id].cel = true;
            return;
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                let child = self.build(p, depth);
                self.all[id].props.insert(k.clone(), child);
            }
        }
        if let Some(items) = node.get("items").filter(|i| i.is_object()) {
            let child = self.build(items, depth);
            self.all[id].items = Some(child);
        }
        if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
            let child = self.build(values, depth);
            self.all[id].values = Some(child);
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

    /// A union's branches add their properties, items and values to the node's own.
    fn merge(&mut self, into: usize, from: usize) {
        if into == from {
            return;
        }
        let (cel, props, items, values) = {
            let f = &self.all[from];
            (f.cel, f.props.clone(), f.items, f.values)
        };
        let t = &mut self.all[into];
        t.cel |= cel;
        for (k, v) in props {
            t.props.entry(k).or_insert(v);
        }
        t.items = t.items.or(items);
        t.values = t.values.or(values);
    }

    /// Marks every shape from which an expression can be reached.
    fn settle(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.all.len() {
                if self.all[i].reaches {
                    continue;
                }
                let s = &self.all[i];
                let reaches = |c: &usize| self.all[*c].reaches;
                let r = s.cel
                    || s.props.values().any(reaches)
                    || s.items.as_ref().is_some_and(reaches)
                    || s.values.as_ref().is_some_and(reaches);
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

/// Every CEL expression of the sections agw keeps as written in the file's tree `document`, with
/// its pointer. `check` walks the parsed file once, before the typed model takes it apart.
pub fn surface_expressions(document: &Value) -> Vec<(String, String)> {
    let shapes = shapes();
    let mut out = Vec::new();
    walk(shapes, shapes.root, document, &mut Vec::new(), &mut out);
    out
}

/// One step of the path to the node being walked; the pointer is written out only for a hit.
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer(path: &[Step]) -> String {
    let mut out = String::new();
    for s in path {
        out.push('/');
        match s {
            Step::Key(k) => out.push_str(&ptr_token(k)),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

fn walk<'v>(
    shapes: &Shapes,
    id: usize,
    value: &'v Value,
    path: &mut Vec<Step<'v>>,
    out: &mut Vec<(String, String)>,
) {
    let shape = &shapes.all[id];
    if shape.cel {
        if let Value::String(s) = value {
            out.push((pointer(path), s.clone()));
        }
        return;
    }
    let enter = |c: Option<usize>| c.filter(|&c| shapes.all[c].reaches);
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                if let Some(c) = enter(shape.props.get(k).copied().or(shape.values)) {
                    path.push(Step::Key(k));
                    walk(shapes, c, v, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(a) => {
            if let Some(c) = enter(shape.items) {
                for (i, v) in a.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(shapes, c, v, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}
