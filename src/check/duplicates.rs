//! A key written twice in one mapping. The gateway reads YAML by writing it out as JSON, where
//! both entries survive, and then deserializes: a mapping with fixed keys (a struct) refuses the
//! second one ("duplicate field"), a free-form map (gateway names, environment variables,
//! header values) keeps the last one (agentgateway `core/src/serdes.rs`, `yamlviajson`). agw
//! keeps the last value too, and says which of the two the gateway does.

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::source::yaml::DuplicateKey;

pub fn findings(duplicates: &[DuplicateKey], schema: &Value) -> Vec<Diagnostic> {
    duplicates
        .iter()
        .map(|d| {
            let parent = d.ptr.rsplit_once('/').map_or("", |(p, _)| p);
            let k = &d.key;
            let map = crate::schema::node_at(schema, parent).is_some_and(is_free_map);
            // (rule, what the gateway does, the label of the repeat, of the first, the way out)
            let (rule, does, again, first, help) = if map {
                (
                    "yaml/duplicate-map-key",
                    "the gateway keeps the last one and ignores the first".to_string(),
                    "this one is used",
                    "ignored",
                    "delete the entry you do not mean (agw, like the gateway, reads the last)",
                )
            } else {
                (
                    "yaml/duplicate-key",
                    format!("the gateway refuses the file (duplicate field `{k}`)"),
                    "repeated here",
                    "first defined here",
                    "keep one of them",
                )
            };
            Diagnostic::new(rule, format!("duplicate key `{k}`: {does}"))
                .at(d.again, again)
                .label(d.first, first)
                .help(help)
        })
        .collect()
}

/// A mapping whose keys are names the user chooses, not fields: the schema gives its values'
/// schema (`additionalProperties`) and no fixed `properties`.
fn is_free_map(node: &Value) -> bool {
    let no_fields = node
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(|p| p.is_empty());
    let values = node
        .get("additionalProperties")
        .is_none_or(|a| a != &Value::Bool(false));
    no_fields && values && node.get("oneOf").is_none() && node.get("anyOf").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn dup(ptr: &str) -> DuplicateKey {
        DuplicateKey {
            ptr: ptr.into(),
            key: ptr.rsplit('/').next().unwrap().into(),
            first: Span::new(0, 1),
            again: Span::new(5, 6),
        }
    }

    #[test]
    fn a_struct_refuses_and_a_map_keeps_the_last() {
        let schema = crate::check::schema_stage::schema();
        let found = findings(
            &[
                dup("/binds/0/port"),
                dup("/gateways/edge"),
                dup("/routes/0/backends/0/mcp/targets/0/stdio/env/TOKEN"),
            ],
            schema,
        );
        let rules: Vec<&str> = found.iter().map(|d| d.rule).collect();
        assert_eq!(
            rules,
            [
                "yaml/duplicate-key",
                "yaml/duplicate-map-key",
                "yaml/duplicate-map-key"
            ]
        );
    }
}
