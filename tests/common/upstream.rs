//! The gateway's published schemas, read from `$AGW_UPSTREAM_DIR`, and agw's view of them.

use serde_json::Value;

use super::partners;

/// `(release label, schema)` for every `config.schema.*.json` (`v1.4.1` -> `1.4.1`,
/// `main-75b4e6ce` -> `main`); empty when the data is missing (which fails under
/// `AGW_REQUIRE_PARTNERS=1`).
pub fn upstream_schemas() -> Vec<(String, Value)> {
    let Some(dir) = partners::data_dir("AGW_UPSTREAM_DIR") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("upstream dir").flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name
            .strip_prefix("config.schema.")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let release = match rest.strip_prefix('v') {
            Some(v) => v.to_string(),
            None => rest.split('-').next().unwrap_or(rest).to_string(),
        };
        let text = std::fs::read_to_string(e.path()).expect("read schema");
        out.push((
            release,
            serde_json::from_str(&text).expect("gateway schema is JSON"),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        !out.is_empty(),
        "no config.schema.*.json in {}",
        dir.display()
    );
    out
}

/// agw's schema as `release` accepts it (the union restricted by `x-agw-releases`).
pub fn agw_schema(release: &str) -> Value {
    agw::schema::published(release_of(release), agw::schema::Draft::Draft2020_12)
}

pub fn release_of(label: &str) -> agw::config::release::Release {
    agw::config::release::Release::from_label(label).unwrap_or_else(|| {
        panic!("the gateway schema of release {label} is not one agw judges: add it to config::release::Release")
    })
}
