//! The parts of the gateway's configuration that agw's rules and runtime do not read, described
//! from the gateway's own published schema (`generated.rs`, made by `tools/gen_surface.py`), so
//! that every key of every section is known and a typo anywhere is caught with the closest key.
//!
//! A [`Surface`] value keeps what the file says, as written; its schema is the one of the
//! gateway definition it names.

#[rustfmt::skip]
mod generated;

pub use generated::*;

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A section the gateway reads and agw checks only against the schema of `T`.
pub struct Surface<T> {
    pub value: serde_json::Value,
    shape: PhantomData<fn() -> T>,
}

impl<T> Surface<T> {
    pub fn new(value: serde_json::Value) -> Self {
        Self {
            value,
            shape: PhantomData,
        }
    }
}

impl<T> Clone for Surface<T> {
    fn clone(&self) -> Self {
        Self::new(self.value.clone())
    }
}

impl<T> Default for Surface<T> {
    fn default() -> Self {
        Self::new(serde_json::Value::Null)
    }
}

impl<T> PartialEq for Surface<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::fmt::Debug for Surface<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> Serialize for Surface<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Surface<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Self::new)
    }
}

impl<T: JsonSchema> JsonSchema for Surface<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}

/// The schema annotation of a value the gateway compiles as a CEL expression when it loads the
/// file.
pub const CEL_KEY: &str = "x-agw-cel";

/// A CEL expression in a section agw keeps as written (the gateway's `Expression`): a string,
/// marked [`CEL_KEY`] so that `check` finds every one and parses it as the gateway would.
pub struct CelExpression;

impl JsonSchema for CelExpression {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Expression".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A CEL expression, compiled when the gateway loads the file.",
            CEL_KEY: true,
        })
    }
}
