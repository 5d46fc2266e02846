//! Parts of the gateway's configuration that agw accepts as written without checking them yet.
//! A valid gateway file must never be rejected for using them; `check` says they were skipped.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unchecked(pub serde_json::Value);

impl JsonSchema for Unchecked {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Unchecked".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Accepted as written: agw does not check this part of the configuration yet.",
            "x-agw-unchecked": true,
        })
    }
}
