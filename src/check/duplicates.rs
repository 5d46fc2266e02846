//! A key written twice in one mapping. The gateway reads YAML by writing it out as JSON, where
//! both entries survive, and then deserializes: a mapping with fixed keys (a struct) refuses the
//! second one ("duplicate field"), a free-form map (gateway names, environment variables,
//! header values) keeps the last one (agentgateway `core/src/serdes.rs`, `yamlviajson`). agw
//! keeps the last value too, and says which of the two the gateway does.

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::source::yaml::DuplicateKey;

crate::rules! {
    YAML_DUPLICATE_KEY {
        id: "yaml/duplicate-key",
        severity: Error,
        summary: "a mapping of fixed keys repeats a key",
        why: "A mapping with fixed keys (a listener, a policy, a route) that has one of them twice stops the gateway from loading the file. Only one of them can be meant; keep it and delete the other.",
        gateway: "The gateway transcodes the YAML to JSON, repeated keys included, and then reads its types from that; a type with fixed fields refuses a repeated one (\"duplicate field\") (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "policies:\n  cors: {}\n  cors: {allowOrigins: ['*']}",
        use_instead: "policies:\n  cors: {allowOrigins: ['*']}",
    }

    YAML_DUPLICATE_MAP_KEY {
        id: "yaml/duplicate-map-key",
        severity: Warning,
        summary: "a free-form map repeats a key",
        why: "In a map whose keys you choose (the names of `gateways`, an `env` of a stdio target, header values) a repeated key silently drops the earlier entry. agw reads the last one too, and warns because the ignored entry is usually a mistake.",
        gateway: "The gateway accepts the file: the YAML is transcoded to JSON and read from there, and a map keeps the last entry of a repeated key (agentgateway `crates/core/src/serdes.rs`, `yamlviajson::from_str`).",
        example: "env:\n  LOG_LEVEL: debug\n  LOG_LEVEL: info",
        use_instead: "env:\n  LOG_LEVEL: info",
    }
}

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
                    &YAML_DUPLICATE_MAP_KEY,
                    "the gateway keeps the last one and ignores the first".to_string(),
                    "this one is used",
                    "ignored",
                    "delete the entry you do not mean (agw, like the gateway, reads the last)",
                )
            } else {
                (
                    &YAML_DUPLICATE_KEY,
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
        let rules: Vec<&str> = found.iter().map(|d| d.rule.id).collect();
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
