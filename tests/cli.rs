//! `agw check` and `agw schema` as a user runs them: exit codes, formats, inputs, environment.

mod common;

use common::procs::js_dir;
use common::{agw, agw_in, agw_stdin, repo};
use serde_json::Value;

const OKTA: &str = "fixtures/okta/config.yaml";
const TYPO: &[u8] = b"binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation:\n          issuer: https://acme.okta.com/oauth2/default\n      backends:\n      - host: 127.0.0.1:8080\n";

#[test]
fn okta_example_as_published_is_refused_for_its_missing_audiences() {
    let r = agw(&["check", OKTA]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("error[auth/audiences-missing]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("{OKTA}:19:9")), "{}", r.stdout);
    assert!(
        r.stdout.contains("warning[placeholder/value]"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("error[").count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("api://default"),
        "the Okta hint: {}",
        r.stdout
    );
    let fixed = agw(&["check", "fixtures/okta/config-fixed.yaml"]);
    assert_eq!(fixed.code, 0, "{}{}", fixed.stdout, fixed.stderr);
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
    assert_eq!(res["level"], "error");
    let region = &res["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(19), Some(9))
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules
        .iter()
        .any(|r| r["id"] == "auth/audiences-missing" && r["help"]["text"].is_string()));

    // the npx finding carries its fix (validated with the rest against the SARIF schema below)
    let fixed = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "mcp/npx-without-yes")
        .unwrap();
    let replacement = &fixed["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "\"-y\", ");
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
        let path = repo().join("schema").join(&name);
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
    for section in [
        "What it finds:",
        "Why it matters:",
        "Example:",
        "Use instead:",
    ] {
        assert!(r.stdout.contains(section), "{section}\n{}", r.stdout);
    }
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

// ---- first minutes of a new user -----------------------------------------------------------------

/// `agw ... | head -1`: the reader goes away; agw ends quietly (no panic, no backtrace, not 101).
#[test]
fn a_closed_pipe_ends_agw_quietly() {
    let bin = env!("CARGO_BIN_EXE_agw");
    for args in [
        "schema --stdout",
        "check --list-rules",
        "explain auth/audiences-missing",
        "check fixtures/okta/config.yaml fixtures/okta/config.yaml fixtures/okta/config.yaml",
    ] {
        let script =
            format!("'{bin}' {args} | head -c 1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"");
        let o = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(repo())
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args}: {stderr}"
        );
        assert!(!stdout.contains("status=101"), "{args}: {stdout}");
    }
}

const REFUSED: &str = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation: {}\n      backends:\n      - host: 127.0.0.1:8080\n";

/// A file the gateway cannot load stays an error whatever is allowed.
#[test]
fn allow_cannot_hide_a_file_the_gateway_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("config.yaml");
    std::fs::write(&f, REFUSED).unwrap();
    let f = f.display().to_string();
    let r = agw(&["check", "--allow", "*", &f]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("error[schema/unknown-key]"),
        "{}",
        r.stdout
    );
    let r = agw(&["check", "--allow", "schema", &f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be allowed"), "{}", r.stderr);
    let r = agw(&["check", "--allow", "yaml/syntax", &f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // YAML syntax too
    std::fs::write(tmp.path().join("broken.yaml"), "binds:\n- port: [3000\n").unwrap();
    let b = tmp.path().join("broken.yaml").display().to_string();
    let r = agw(&["check", "--allow", "*", &b]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("error[yaml/syntax]"), "{}", r.stdout);
    // and an allow comment says it cannot silence it
    let commented = REFUSED.replace(
        "        mcpAuthentcation",
        "        # agw: allow schema/unknown-key\n        mcpAuthentcation",
    );
    std::fs::write(tmp.path().join("commented.yaml"), commented).unwrap();
    let c = tmp.path().join("commented.yaml").display().to_string();
    let r = agw(&["check", &c]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("error[schema/unknown-key]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("cannot silence this finding"),
        "{}",
        r.stdout
    );
    // a rule the gateway does not refuse for is still allowed
    let r = agw(&[
        "check",
        "--allow",
        "okta,placeholder,auth,mcp",
        "fixtures/okta/config.yaml",
    ]);
    assert!(!r.stdout.contains("warning["), "{}", r.stdout);
}

/// The summary counts every finding, also those past the per-rule display cap.
#[test]
fn summary_counts_findings_that_are_not_shown() {
    let mut text = String::from("binds:\n- port: 3000\n  listeners:\n  - routes:\n");
    for i in 0..300 {
        text.push_str(&format!(
            "    - name: r{i}\n      nope{i}: 1\n      backends:\n      - host: 127.0.0.1:8080\n"
        ));
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("many.yaml");
    std::fs::write(&f, text).unwrap();
    let f = f.display().to_string();
    let r = agw(&["check", &f]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(": 300 errors, 250 not shown"),
        "{}",
        r.stdout.lines().last().unwrap_or("")
    );
    let r = agw(&["check", "--format", "json", &f]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["files"][0]["errors"], 300);
    assert_eq!(v["files"][0]["not_shown"], 250);
    assert_eq!(v["files"][0]["diagnostics"].as_array().unwrap().len(), 50);
    assert_eq!(v["summary"]["errors"], 300);
}

/// `agw check DIR` checks the gateway files under it and leaves other YAML alone.
#[test]
fn a_directory_is_walked_for_gateway_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("gateway/prod")).unwrap();
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::create_dir_all(d.join("node_modules/x")).unwrap();
    std::fs::write(d.join("gateway/prod/config.yaml"), REFUSED).unwrap();
    std::fs::write(d.join("gateway/ok.yml"), "mcp:\n  port: 3000\n  targets:\n  - name: everything\n    stdio:\n      cmd: mcp-server-everything\n").unwrap();
    std::fs::write(
        d.join("docker-compose.yaml"),
        "services:\n  gw:\n    image: agentgateway\n",
    )
    .unwrap();
    std::fs::write(d.join("workflow.yaml"), "on: [push]\njobs: {}\n").unwrap();
    std::fs::write(d.join(".git/config.yaml"), REFUSED).unwrap();
    std::fs::write(d.join("node_modules/x/c.yaml"), REFUSED).unwrap();
    let r = agw_in(d, &["check", "."], None);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("gateway/prod/config.yaml: 1 error"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("gateway/ok.yml: ok"), "{}", r.stdout);
    for other in ["docker-compose", "workflow", ".git", "node_modules"] {
        assert!(!r.stdout.contains(other), "{other}: {}", r.stdout);
    }
    std::fs::create_dir_all(d.join("empty")).unwrap();
    std::fs::write(d.join("empty/compose.yaml"), "services: {}\n").unwrap();
    let r = agw_in(d, &["check", "empty"], None);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no gateway configuration under empty"),
        "{}",
        r.stderr
    );
}

// ---- no secret in any output ----------------------------------------------------------------------

/// Secrets in environment values, put where findings quote values (a wrong type, an unknown key,
/// an issuer, a JWKS URL, npx arguments, a host), and credentials written in URLs: none of them
/// appears in any output format, given by `-e` or by the process environment.
#[test]
fn no_value_from_the_environment_and_no_url_credential_in_any_format() {
    const SECRET: &str = "hunter2-s3cr3t-value";
    let files = [
        "binds:\n- port: ${S}\n  listeners:\n  - routes:\n    - backends:\n      - host: 127.0.0.1:80\n",
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        ${S}: {}\n      backends:\n      - host: 127.0.0.1:80\n",
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentication:\n          issuer: https://${S}.okta.com/oauth2/default/\n          jwks:\n            url: https://u:${S}@idp.test/keys\n      backends:\n      - host: 127.0.0.1:80\n",
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - backends:\n      - mcp:\n          targets:\n          - name: t\n            stdio:\n              cmd: npx\n              args: [\"@modelcontextprotocol/server-everything\", \"--token\", \"${S}\"]\n",
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - backends:\n      - host: ${S}\n",
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        jwtAuth:\n          issuer: https://user:hunter2-s3cr3t-value@idp.test\n          jwks:\n            url: https://user:hunter2-s3cr3t-value@idp.test/keys\n      backends:\n      - host: 127.0.0.1:80\n",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_agw");
    for (i, text) in files.iter().enumerate() {
        let f = tmp.path().join(format!("c{i}.yaml"));
        std::fs::write(&f, text).unwrap();
        let f = f.display().to_string();
        for format in ["human", "json", "sarif", "github"] {
            for by_flag in [true, false] {
                let mut cmd = std::process::Command::new(bin);
                cmd.args(["check", "--format", format, "--online", "--timeout", "1"])
                    .current_dir(tmp.path())
                    .env("HTTPS_PROXY", "http://127.0.0.1:9")
                    .env("NO_COLOR", "1");
                if by_flag {
                    cmd.args(["-e", &format!("S={SECRET}")]).env_remove("S");
                } else {
                    cmd.env("S", SECRET);
                }
                let o = cmd.arg(&f).output().unwrap();
                let out = String::from_utf8_lossy(&o.stdout);
                let err = String::from_utf8_lossy(&o.stderr);
                assert!(
                    !out.contains(SECRET) && !err.contains(SECRET),
                    "file {i}, {format}, by flag {by_flag}:\n{out}{err}"
                );
                assert!(o.status.code().is_some_and(|c| c <= 1), "{out}{err}");
            }
        }
    }
}

#[test]
fn gateway_version_judges_keys_as_that_release() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gw.yaml");
    std::fs::write(
        &file,
        "mcp:\n  port: 3000\n  dnsRebindingProtection: true\n  targets:\n  - name: everything\n    stdio:\n      cmd: npx\n      args: [\"-y\", \"@modelcontextprotocol/server-everything\"]\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let r = agw(&["check", "--color", "never", &path]);
    assert_eq!(r.code, 0, "main knows dnsRebindingProtection: {}", r.stdout);
    let r = agw(&[
        "check",
        "--color",
        "never",
        "--format",
        "json",
        "--gateway-version",
        "1.4.1",
        &path,
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["rule"], "schema/unknown-key");
    assert_eq!(d["line"], 3, "{d}");
    assert!(
        d["message"].as_str().unwrap().contains("release 1.4.1"),
        "{d}"
    );
    assert!(d["help"].as_str().unwrap().contains("release main"), "{d}");
    let r = agw(&["check", "--gateway-version", "2.0", &path]);
    assert_eq!(r.code, 2, "an unknown release is a usage error");
}

#[test]
fn schema_and_version_name_the_releases() {
    let main = agw(&["schema", "--stdout"]);
    let old = agw(&["schema", "--stdout", "--gateway-version", "1.4.1"]);
    assert!(main.stdout.contains("dnsRebindingProtection"));
    assert!(!old.stdout.contains("dnsRebindingProtection"));
    assert!(old.stdout.contains("agw-config.gateway-1.4.1.schema.json"));
    let r = agw(&["schema", "--print-modeline", "--gateway-version", "1.4.1"]);
    assert!(
        r.stdout
            .trim_end()
            .ends_with("/agw-config.gateway-1.4.1.schema.json"),
        "{}",
        r.stdout
    );
    let r = agw(&["--version"]);
    assert!(
        r.stdout.contains("1.4.1") && r.stdout.contains("main"),
        "{}",
        r.stdout
    );
}
