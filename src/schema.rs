//! The published JSON schema, generated from `config/` so that editors and `check` can never
//! disagree. Two flavours: draft-07 for editors (yaml-language-server does not support 2020-12
//! keywords) and 2020-12 for tools that prefer it.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::config::Config;

/// Where the schema files live in the repository, and their names.
pub const DRAFT07_FILE: &str = "agw-config.schema.json";
pub const DRAFT2020_FILE: &str = "agw-config.2020-12.schema.json";

/// The base of the stable URL editors point at: `{BASE}/v{version}/schema/{file}`.
pub const PUBLISHED_BASE: &str = "https://raw.githubusercontent.com/agw-dev/agw";

pub fn draft07() -> Value {
    generate(SchemaSettings::draft07())
}

pub fn draft2020_12() -> Value {
    generate(SchemaSettings::draft2020_12())
}

fn generate(settings: SchemaSettings) -> Value {
    let schema = settings.into_generator().into_root_schema_for::<Config>();
    let mut v = schema.to_value();
    if let Value::Object(o) = &mut v {
        o.insert(
            "$id".into(),
            Value::String(format!(
                "{PUBLISHED_BASE}/v{}/schema/{}",
                env!("CARGO_PKG_VERSION"),
                if o.get("$schema")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains("draft-07"))
                {
                    DRAFT07_FILE
                } else {
                    DRAFT2020_FILE
                }
            )),
        );
    }
    v
}

/// The files `agw schema` writes: name and pretty JSON text.
pub fn files() -> Vec<(&'static str, String)> {
    let pretty = |v: Value| {
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    };
    vec![
        (DRAFT07_FILE, pretty(draft07())),
        (DRAFT2020_FILE, pretty(draft2020_12())),
    ]
}

/// The stable URL of the draft-07 schema of this version: `{PUBLISHED_BASE}/v{version}/schema/{file}`,
/// the repository's `schema/` directory at the release tag.
pub fn published_url() -> String {
    format!(
        "{PUBLISHED_BASE}/v{}/schema/{DRAFT07_FILE}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The editor modeline for this version, pointing at the published schema.
pub fn modeline() -> String {
    modeline_for(&published_url())
}

/// The editor modeline pointing at `schema`, a URL or a path (yaml-language-server resolves a
/// relative path against the YAML file's directory).
pub fn modeline_for(schema: &str) -> String {
    format!("# yaml-language-server: $schema={schema}")
}
