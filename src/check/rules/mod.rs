//! Rules beyond the schema, one file per family. Each rule speaks in JSON pointers; `Ctx` turns
//! them into spans.

mod auth;

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::source::{PointerIndex, Span};

pub struct Ctx<'a> {
    pub cfg: &'a Config,
    index: &'a PointerIndex,
    pub out: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// The span of the key that names the node at `ptr` (its value for list items).
    pub fn key(&self, ptr: &str) -> Span {
        self.index
            .lookup(ptr)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    /// The span of the value at `ptr`.
    pub fn value(&self, ptr: &str) -> Span {
        self.index.lookup(ptr).map(|s| s.value).unwrap_or_default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }
}

pub fn run(cfg: &Config, index: &PointerIndex) -> Vec<Diagnostic> {
    let mut ctx = Ctx {
        cfg,
        index,
        out: Vec::new(),
    };
    auth::check(&mut ctx);
    ctx.out
}
