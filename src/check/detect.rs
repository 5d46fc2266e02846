//! Which YAML files are gateway configurations, for `agw check DIR` (and editors): a file is one
//! when its modeline points at agw's schema, or when its top-level keys are the gateway's. The
//! keys come from the generated schema, so a section added to the model is recognised at once.

use crate::check::schema_stage::{self, closest};

/// Top-level keys that other kinds of YAML file commonly use too (`services:` in Compose files):
/// alone they do not make a file a gateway configuration.
const GENERIC_KEYS: &[&str] = &["config", "services", "workloads", "ui"];

/// Whether `text` looks like a gateway configuration. Cheap: it reads the first line and the keys
/// that start at column 0, without parsing.
pub fn is_gateway_config(text: &str) -> bool {
    if text.lines().take(5).any(names_agw_schema) {
        return true;
    }
    let known: Vec<&str> = schema_stage::schema()["properties"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut strong = false;
    for key in top_level_keys(text) {
        if known.contains(&key) {
            strong |= !GENERIC_KEYS.contains(&key);
        } else if closest(key, known.iter().copied()).is_none() {
            // a key no gateway section is close to: some other kind of file
            return false;
        }
    }
    strong
}

fn names_agw_schema(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with('#') && l.contains("yaml-language-server:") && l.contains("agw-config")
}

/// Keys of the top-level mapping: lines that start with a plain or quoted key and a `:`.
fn top_level_keys(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let first = line.chars().next()?;
        if first.is_whitespace() || matches!(first, '#' | '-' | '%' | '{' | '[' | '}' | ']') {
            return None;
        }
        let (key, _) = line.split_once(':')?;
        let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
        (!key.is_empty() && !key.contains(' ')).then_some(key)
    })
}

#[cfg(test)]
mod tests {
    use super::is_gateway_config;

    #[test]
    fn gateway_files_are_recognised() {
        assert!(is_gateway_config("binds:\n- port: 3000\n"));
        assert!(is_gateway_config("# comment\nmcp:\n  port: 3000\n"));
        assert!(is_gateway_config("config: {}\nbinds: []\n"));
        // a typo of a section still makes it one (check reports the typo)
        assert!(is_gateway_config("bind:\n- port: 3000\nbackends: []\n"));
        assert!(is_gateway_config(
            "# yaml-language-server: $schema=https://example.test/agw-config.schema.json\n{}\n"
        ));
    }

    #[test]
    fn other_yaml_is_not() {
        assert!(!is_gateway_config(
            "services:\n  gateway:\n    image: agentgateway\n"
        ));
        assert!(!is_gateway_config(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
        ));
        assert!(!is_gateway_config("name: ci\non: [push]\njobs:\n  a: {}\n"));
        assert!(!is_gateway_config("- a\n- b\n"));
        assert!(!is_gateway_config(""));
    }
}
