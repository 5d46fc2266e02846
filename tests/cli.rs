//! `agw check` and `agw schema` as a user runs them: exit codes, formats, inputs, environment.

mod common;

use common::procs::js_dir;
use common::{agw, agw_in, agw_stdin, repo};
use serde_json::Value;

const OKTA: &str = "fixtures/okta/config.yaml";
const TYPO: &[u8] = b"binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation:\n          issuer: https://acme.okta.com/oauth2/default\n      backends:\n      - host: 127.0.0.1:8080\n";

#[test]
fn okta_example_passes_with_the_audience_warning() {
    let r = agw(&["check", OKTA]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("warning[auth/audiences-missing]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("{OKTA}:19:9")), "{}", r.stdout);
    assert!(
        r.stdout.contains("warning[placeholder/value]"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("error["), "{}", r.stdout);
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
}

#[test]
fn deny_warnings_turns_warnings_into_a_failure() {
    assert_eq!(agw(&["check", "--deny-warnings", OKTA]).code, 1);
}

#[test]
fn errors_exit_1_and_missing_files_exit_2() {
    let r = agw_stdin(&["check", "-"], Some(TYPO));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error[schema/unknown-key]"));
    assert!(r.stdout.contains("did you mean `mcpAuthentication`?"));
    assert!(r.stdout.contains("-:6:9"), "{}", r.stdout);

    let r = agw(&["check", "does/not/exist.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read does/not/exist.yaml"),
        "{}",
        r.stderr
    );

    let r = agw(&["check", "nothing-matches-*.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no file matches"), "{}", r.stderr);

    // Unknown flags are usage errors: exit 2 from the argument parser.
    assert_eq!(agw(&["check", "--no-such-flag", OKTA]).code, 2);
}

#[test]
fn several_files_and_globs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "binds: []\n").unwrap();
    std::fs::write(dir.path().join("b.yaml"), TYPO).unwrap();
    let r = agw_in(dir.path(), &["check", "--format", "json", "*.yaml"], None);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["a.yaml", "b.yaml"]);
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn json_format_has_positions_rules_and_hints() {
    let r = agw_stdin(&["check", "--format", "json", "-"], Some(TYPO));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["rule"], "schema/unknown-key");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(9))
    );
    assert_eq!(d["help"], "did you mean `mcpAuthentication`?");
}

#[test]
fn github_format_is_one_annotation_per_finding() {
    let r = agw_stdin(&["check", "--format", "github", "-"], Some(TYPO));
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(
        lines[0].starts_with(
            "::error file=-,line=6,col=9,title=schema/unknown-key::unknown key `mcpAuthentcation`"
        ),
        "{}",
        lines[0]
    );
}

#[test]
fn sarif_format_is_valid_sarif_2_1_0() {
    let r = agw(&["check", "--format", "sarif", OKTA]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let res = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "auth/audiences-missing")
        .unwrap();
    assert_eq!(res["ruleId"], "auth/audiences-missing");
    assert_eq!(res["level"], "warning");
    let region = &res["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(19), Some(9))
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules
        .iter()
        .any(|r| r["id"] == "auth/audiences-missing" && r["help"]["text"].is_string()));

    let Some(js) = js_dir("sarif_format") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sarif");
    std::fs::write(&path, &r.stdout).unwrap();
    let out = std::process::Command::new("node")
        .arg(js.join("sarif-check.mjs"))
        .arg(&path)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "SARIF validation failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn environment_values_from_flags_files_and_placeholders() {
    let cfg = b"binds:\n- port: ${PORT}\n  listeners: []\n";
    let r = agw_stdin(&["check", "--no-process-env", "-"], Some(cfg));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error[env/unset]"), "{}", r.stdout);
    assert!(r.stdout.contains("-:2:9"), "{}", r.stdout);

    let r = agw_stdin(
        &["check", "--no-process-env", "-e", "PORT=3000", "-"],
        Some(cfg),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);

    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("ci.env");
    std::fs::write(&env, "# values for lint\nPORT=3001\n").unwrap();
    let env = env.display().to_string();
    let r = agw_stdin(
        &["check", "--no-process-env", "--env-file", &env, "-"],
        Some(cfg),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);

    // A placeholder cannot be a port: the type error still points at the reference.
    let r = agw_stdin(
        &["check", "--no-process-env", "--allow-unset-env", "-"],
        Some(cfg),
    );
    assert!(r.stdout.contains("warning[env/unset]"), "{}", r.stdout);

    let r = agw_stdin(
        &["check", "--no-process-env", "--allow-unset-env", "-"],
        Some(b"binds: []\nllm:\n  models: [{name: x, provider: openAI, params: {apiKey: $KEY}}]\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn colour_follows_the_flag() {
    let r = agw(&["check", "--color", "always", OKTA]);
    assert!(r.stdout.contains('\u{1b}'));
    let r = agw(&["check", "--color", "never", OKTA]);
    assert!(!r.stdout.contains('\u{1b}'));
}

#[test]
fn committed_schema_matches_the_model() {
    for (name, text) in agw::schema::files() {
        let path = repo().join("schema").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "schema/{name} differs from the one generated from src/config: run `cargo run -- schema` and commit"
        );
    }
}

#[test]
fn schema_command_writes_files_and_prints_modeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let r = agw(&["schema", "--out", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(agw::schema::DRAFT07_FILE)).unwrap(),
    )
    .unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    let r = agw(&["schema", "--print-modeline"]);
    assert!(r.stdout.starts_with("# yaml-language-server: $schema="));
}

#[test]
fn explain_and_list_rules() {
    let r = agw(&["explain", "auth/audiences-missing"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Wrong:") && r.stdout.contains("Right:"));
    let r = agw(&["explain", "auth/audience-missing"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `auth/audiences-missing`?"),
        "{}",
        r.stderr
    );
    let r = agw(&["check", "--list-rules"]);
    assert!(r
        .stdout
        .lines()
        .any(|l| l.starts_with("schema/unknown-key")));
}

#[test]
fn real_configuration_corpus_has_no_errors() {
    let Some(dir) = common::partners::data_dir("AGW_CORPUS_DIR") else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(p.display().to_string());
            }
        }
    }
    assert!(files.len() >= 20, "corpus looks incomplete: {files:?}");
    let mut args = vec!["check", "--allow-unset-env", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let r = agw(&args);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut bad = Vec::new();
    for f in v["files"].as_array().unwrap() {
        for d in f["diagnostics"].as_array().unwrap() {
            if d["severity"] == "error" {
                bad.push(format!(
                    "{}:{}: {} {}",
                    f["file"], d["line"], d["rule"], d["message"]
                ));
            }
        }
    }
    assert!(bad.is_empty(), "errors on valid files:\n{}", bad.join("\n"));
    assert_eq!(r.code, 0);
}
