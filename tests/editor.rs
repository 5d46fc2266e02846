//! The editor path: the real yaml-language-server, driven headless over stdio with the
//! published schema, agrees with `agw check` on where a mistake is, and is silent on valid files.

mod common;

use common::procs::js_dir;
use common::{agw, repo};
use serde_json::Value;

fn lsp(file: &str) -> Option<Vec<Value>> {
    lsp_path(&repo().join(file))
}

fn lsp_path(path: &std::path::Path) -> Option<Vec<Value>> {
    let js = js_dir("editor")?;
    let schema = repo().join("schema").join(agw::schema::DRAFT07_FILE);
    let out = std::process::Command::new("node")
        .arg(js.join("lsp-check.mjs"))
        .arg(&schema)
        .arg(path)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "lsp-check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap())
}

#[test]
fn editor_reports_a_typo_on_the_same_line_as_check() {
    let file = "fixtures/editor/typo.yaml";
    let Some(diags) = lsp(file) else { return };
    let r = agw(&["check", "--format", "json", file]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let ours = &v["files"][0]["diagnostics"][0];
    assert_eq!(ours["rule"], "schema/unknown-key");
    let line = ours["line"].as_u64().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["line"].as_u64() == Some(line) && d["severity"] == 1),
        "editor diagnostics {diags:?} do not include an error on line {line}"
    );
}

#[test]
fn editor_is_silent_on_valid_files() {
    let Some(diags) = lsp("fixtures/editor/valid.yaml") else {
        return;
    };
    assert!(diags.iter().all(|d| d["severity"] != 1), "{diags:?}");
}

#[test]
fn a_local_modeline_selects_the_published_schema() {
    // The Okta example as a user edits it, with its first line pointing at agw's schema file.
    let text = std::fs::read_to_string(repo().join("fixtures/okta/config.yaml")).unwrap();
    let schema = repo().join("schema").join(agw::schema::DRAFT07_FILE);
    let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let valid = dir.path().join("okta.yaml");
    std::fs::write(
        &valid,
        format!(
            "# yaml-language-server: $schema={}\n{body}",
            schema.display()
        ),
    )
    .unwrap();
    let Some(diags) = lsp_path(&valid) else {
        return;
    };
    assert!(diags.iter().all(|d| d["severity"] != 1), "{diags:?}");

    let typo = dir.path().join("typo.yaml");
    std::fs::write(
        &typo,
        format!(
            "# yaml-language-server: $schema={}\n{}",
            schema.display(),
            body.replace("issuer:", "isuer:")
        ),
    )
    .unwrap();
    let Some(diags) = lsp_path(&typo) else { return };
    // `isuer` sits on line 21 of the example (line 1 is the modeline).
    assert!(
        diags.iter().any(|d| d["line"] == 21 && d["severity"] == 1),
        "{diags:?}"
    );
}
