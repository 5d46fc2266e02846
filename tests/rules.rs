//! The semantic rules of `agw check`, run through the library on fixtures.
//!
//! Every rule has a folder `fixtures/rules/<family>-<name>/` with `fires.yaml`, which must produce
//! exactly the findings its `# expect: LINE:COLUMN SEVERITY` lines list (and no others of that
//! rule), and `near-miss.yaml`, which looks alike but must not produce that rule at all. Both
//! start with `# rule: ID` and must pass the schema, so that the rules really ran on them.

mod common;

use std::path::{Path, PathBuf};

use agw::check::catalog;
use agw::check::rules::RuleOptions;
use agw::check::suppress::RulePolicy;
use agw::check::{check_bytes, CheckOptions, Loaded};
use agw::diag::Severity;
use agw::source::EnvOptions;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn opts(root: &Path) -> CheckOptions {
    CheckOptions {
        env: EnvOptions {
            allow_unset: true,
            use_process_env: false,
            ..Default::default()
        },
        rules: RuleOptions {
            root: Some(root.to_path_buf()),
            strict_files: false,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn run_with(path: &Path, o: &CheckOptions) -> Loaded {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_bytes(&path.display().to_string(), bytes, o)
}

fn run(path: &Path) -> Loaded {
    run_with(path, &opts(path.parent().unwrap()))
}

fn check_text(text: &str, o: &CheckOptions) -> Loaded {
    check_bytes("test.yaml", text.as_bytes().to_vec(), o)
}

/// `(line, column, rule, severity)` of every finding.
fn findings(l: &Loaded) -> Vec<(usize, usize, String, Severity)> {
    l.report
        .diagnostics
        .iter()
        .map(|d| {
            let (line, col) = l.report.position(d);
            (line, col, d.rule.id.to_string(), d.severity)
        })
        .collect()
}

fn severity(s: &str) -> Severity {
    match s {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "note" => Severity::Note,
        other => panic!("unknown severity `{other}`"),
    }
}

fn header_rule(text: &str, path: &Path) -> String {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# rule: "))
        .unwrap_or_else(|| panic!("{}: first line must be `# rule: ID`", path.display()))
        .trim()
        .to_string()
}

fn assert_reached_rules(l: &Loaded, path: &Path) {
    let early: Vec<_> = findings(l)
        .into_iter()
        .filter(|f| f.2.starts_with("schema/") || f.2.starts_with("yaml/"))
        .collect();
    assert!(
        early.is_empty(),
        "{}: the fixture must pass the schema, got {early:?}",
        path.display()
    );
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/rules"))
        .expect("fixtures/rules")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_rule_fires_exactly_where_expected_and_not_on_its_near_miss() {
    let mut failures = Vec::new();
    for dir in fixture_dirs() {
        let fires = dir.join("fires.yaml");
        let text = std::fs::read_to_string(&fires).unwrap();
        let rule = header_rule(&text, &fires);
        assert!(
            catalog::get(&rule).is_some(),
            "{}: unknown rule {rule}",
            fires.display()
        );
        let mut expected: Vec<(usize, usize, Severity)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|e| {
                let (pos, sev) = e.trim().split_once(' ').expect("`LINE:COL SEVERITY`");
                let (line, col) = pos.split_once(':').expect("`LINE:COL`");
                (
                    line.parse().unwrap(),
                    col.parse().unwrap(),
                    severity(sev.trim()),
                )
            })
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: no `# expect:` line",
            fires.display()
        );
        expected.sort();
        let l = run(&fires);
        assert_reached_rules(&l, &fires);
        let mut got: Vec<(usize, usize, Severity)> = findings(&l)
            .into_iter()
            .filter(|f| f.2 == rule)
            .map(|f| (f.0, f.1, f.3))
            .collect();
        got.sort();
        if got != expected {
            failures.push(format!(
                "{}: expected {rule} at {expected:?}, got {got:?}",
                fires.display()
            ));
        }

        let near = dir.join("near-miss.yaml");
        let text = std::fs::read_to_string(&near).unwrap();
        assert_eq!(header_rule(&text, &near), rule, "{}", near.display());
        let l = run(&near);
        assert_reached_rules(&l, &near);
        let hits: Vec<_> = findings(&l).into_iter().filter(|f| f.2 == rule).collect();
        if !hits.is_empty() {
            failures.push(format!(
                "{}: must not fire {rule}, got {hits:?}",
                near.display()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Rules whose fixtures live elsewhere (the loader and the schema stage have their own suites).
/// Rules tested by other suites: the loader's (tests/fixtures.rs) and the network ones
/// (tests/online.rs, against a real issuer and a fault-injection server).
const COVERED_ELSEWHERE: &[&str] = &["env/", "yaml/", "schema/", "online/", "k8s/"];

#[test]
fn every_semantic_rule_has_fixtures() {
    let dirs: Vec<String> = fixture_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut missing = Vec::new();
    for r in catalog::all() {
        if COVERED_ELSEWHERE.iter().any(|p| r.id.starts_with(p)) {
            continue;
        }
        let dir = r.id.replace('/', "-");
        if !dirs.contains(&dir) {
            missing.push(r.id);
        }
    }
    assert!(
        missing.is_empty(),
        "rules without fixtures/rules/<id>: {missing:?}"
    );
}

#[test]
fn every_rule_explains_itself() {
    for r in catalog::all() {
        assert!(!r.summary.is_empty(), "{}", r.id);
        let help = r.text(96);
        assert!(help.starts_with("What it finds:"), "{}", r.id);
        assert!(help.contains("Why it matters:"), "{}", r.id);
        if COVERED_ELSEWHERE.iter().any(|p| r.id.starts_with(p)) {
            continue;
        }
        assert!(r.why.len() > 60, "{}: why too short", r.id);
        if !matches!(r.id, "files/missing" | "tls/pem-invalid") {
            assert!(
                !r.example.is_empty() && !r.use_instead.is_empty(),
                "{}: needs a wrong and a right example",
                r.id
            );
            assert!(help.contains("Use instead:"), "{}", r.id);
        }
    }
}

#[test]
fn the_okta_seed_is_refused_for_its_audiences_only() {
    let seed = repo().join("fixtures/okta/config.yaml");
    let l = run(&seed);
    let f = findings(&l);
    assert_eq!(l.report.count(Severity::Error), 1, "{f:?}");
    assert!(
        f.iter()
            .any(|x| x.2 == "auth/audiences-missing" && x.0 == 19 && x.3 == Severity::Error),
        "{f:?}"
    );
    let warned = |rule: &str, line: usize| {
        f.iter()
            .any(|x| x.2 == rule && x.0 == line && x.3 == Severity::Warning)
    };
    assert!(warned("placeholder/value", 21), "issuer: {f:?}");
    assert!(warned("placeholder/value", 23), "jwks url: {f:?}");
    assert!(warned("placeholder/value", 25), "resource: {f:?}");
    assert!(warned("mcp/npx-without-yes", 12), "{f:?}");
}

#[test]
fn corpus_of_real_configurations_gives_no_error() {
    let Some(dir) = common::partners::data_dir("AGW_CORPUS_DIR") else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no YAML file in the corpus");
    let cwd = std::env::current_dir().unwrap();
    let mut errors = Vec::new();
    for f in &files {
        let l = run_with(f, &opts(&cwd));
        for (d, (line, col, rule, sev)) in l.report.diagnostics.iter().zip(findings(&l)) {
            if sev == Severity::Error {
                errors.push(format!(
                    "{}:{line}:{col} {rule}: {}",
                    f.display(),
                    d.message
                ));
            } else if sev == Severity::Warning && rule != "env/unset" {
                println!("{}:{line}:{col} warning {rule}: {}", f.display(), d.message);
            }
        }
    }
    println!("corpus: {} files checked", files.len());
    assert!(
        errors.is_empty(),
        "errors on valid configurations:\n{}",
        errors.join("\n")
    );
}

const TWO_BINDS: &str = "binds:\n- port: 3000\n  listeners:\n  - routes: []\n- port: 3000\n  listeners:\n  - routes: []\n";

#[test]
fn an_allow_comment_above_silences_the_finding() {
    let o = opts(&repo());
    let l = check_text(TWO_BINDS, &o);
    assert_eq!(
        findings(&l)
            .iter()
            .filter(|f| f.2 == "ports/conflict")
            .count(),
        1
    );

    let text = "binds:\n- port: 3000\n  listeners:\n  - routes: []\n# agw: allow ports/conflict -- migrating\n- port: 3000\n  listeners:\n  - routes: []\n";
    let l = check_text(text, &o);
    assert!(findings(&l).is_empty(), "{:?}", findings(&l));

    // a trailing comment on the finding's own line
    let text = "binds:\n- port: 3000\n  listeners:\n  - routes: []\n- port: 3000  # agw: allow ports/conflict\n  listeners:\n  - routes: []\n";
    let l = check_text(text, &o);
    assert!(findings(&l).is_empty(), "{:?}", findings(&l));

    // several ids, and a family
    let text = "binds:\n- port: 3000\n  listeners:\n  - routes: []\n# agw: allow names/duplicate-route, ports/*\n- port: 3000\n  listeners:\n  - routes: []\n";
    let l = check_text(text, &o);
    let f = findings(&l);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].2, "suppress/unused-allow");
    assert_eq!((f[0].0, f[0].3), (5, Severity::Note));
}

#[test]
fn an_allow_comment_that_silences_nothing_is_a_note() {
    let o = opts(&repo());
    let text = "# agw: allow ports/conflict\nbinds:\n- port: 3000\n  listeners:\n  - routes: []\n# agw: allow okta/jwks-dervied\n";
    let l = check_text(text, &o);
    let f = findings(&l);
    assert_eq!(
        f.iter()
            .map(|x| (x.0, x.1, x.2.as_str(), x.3))
            .collect::<Vec<_>>(),
        vec![
            (1, 14, "suppress/unused-allow", Severity::Note),
            (6, 14, "suppress/unused-allow", Severity::Note)
        ]
    );
    let unknown = &l.report.diagnostics[1];
    assert!(
        unknown.message.contains("names no rule"),
        "{}",
        unknown.message
    );
    assert!(unknown
        .help
        .as_deref()
        .unwrap_or("")
        .contains("okta/jwks-derived"));
}

/// The gateway refuses a file with an unknown key: no comment can make agw pass it, and the
/// comment is reported as unable to.
#[test]
fn allow_comments_cannot_hide_a_finding_the_gateway_refuses() {
    let o = opts(&repo());
    let text = "binds:\n- port: 3000\n  # agw: allow schema/unknown-key\n  listners: []\n";
    let l = check_text(text, &o);
    assert_eq!(
        findings(&l)
            .iter()
            .map(|x| (x.0, x.1, x.2.as_str(), x.3))
            .collect::<Vec<_>>(),
        vec![
            (3, 16, "suppress/unused-allow", Severity::Note),
            (4, 3, "schema/unknown-key", Severity::Error)
        ]
    );
    assert!(l.report.diagnostics[0]
        .message
        .contains("cannot silence this finding"));
}

#[test]
fn command_line_allow_and_deny() {
    let mut o = opts(&repo());
    o.policy = RulePolicy {
        allow: vec!["ports/conflict".into()],
        deny: vec![],
    };
    assert!(findings(&check_text(TWO_BINDS, &o)).is_empty());

    let seed = std::fs::read_to_string(repo().join("fixtures/okta/config.yaml")).unwrap();
    o.policy = RulePolicy {
        allow: vec!["placeholder/*".into()],
        deny: vec!["auth/audiences-missing".into()],
    };
    let f = findings(&check_text(&seed, &o));
    assert!(!f.iter().any(|x| x.2 == "placeholder/value"), "{f:?}");
    assert!(
        f.iter()
            .any(|x| x.2 == "auth/audiences-missing" && x.3 == Severity::Error),
        "{f:?}"
    );

    let bad = RulePolicy {
        allow: vec!["okta/jwks-dervied".into()],
        deny: vec![],
    };
    let err = bad.validate().unwrap_err();
    assert!(err.contains("okta/jwks-derived"), "{err}");
}

#[test]
fn strict_files_turns_a_missing_file_into_an_error() {
    let dir = repo().join("fixtures/rules/files-missing");
    let mut o = opts(&dir);
    o.rules.strict_files = true;
    let l = run_with(&dir.join("fires.yaml"), &o);
    assert!(findings(&l)
        .iter()
        .any(|f| f.2 == "files/missing" && f.3 == Severity::Error));
}

#[test]
fn sarif_lists_each_rule_it_uses_once_with_its_help() {
    let l = run(&repo().join("fixtures/rules/ports-conflict/fires.yaml"));
    let out = agw::diag::sarif::render(&[l.report], Default::default());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let mut used: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    used.sort_unstable();
    used.dedup();
    let listed: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(listed, used);
    for r in rules {
        let text = r["help"]["text"].as_str().unwrap_or_default();
        assert!(text.len() > 40, "{}", r["id"]);
    }
    for result in v["runs"][0]["results"].as_array().unwrap() {
        let i = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], result["ruleId"]);
    }
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "ports/conflict");
    assert!(result["relatedLocations"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}

#[test]
fn rules_scale_linearly_with_routes() {
    // 5,000 routes with names, paths and MCP auth: pairwise rules must go through hash maps.
    let mut text = String::from("binds:\n- port: 3000\n  listeners:\n  - routes:\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "    - name: r{i}\n      matches:\n      - path: {{exact: /mcp{i}}}\n      - path: {{exact: /.well-known/oauth-protected-resource/mcp{i}}}\n      policies:\n        mcpAuthentication:\n          issuer: https://acme.okta.com/oauth2/default\n          audiences: [api://default]\n          resourceMetadata: {{}}\n          jwks: {{url: https://acme.okta.com/oauth2/default/v1/keys}}\n        mcpAuthorization:\n          rules: ['mcp.tool.name == \"echo\"']\n      backends:\n      - mcp:\n          targets:\n          - name: t\n            mcp: {{host: http://127.0.0.1:8080/mcp}}\n"
        ));
    }
    let o = opts(&repo());
    let started = std::time::Instant::now();
    let l = check_text(&text, &o);
    let took = started.elapsed();
    assert_eq!(
        l.report.count(Severity::Error),
        0,
        "{:?}",
        &findings(&l)[..5.min(findings(&l).len())]
    );
    assert!(took.as_secs() < 60, "5,000 routes took {took:?}");
}

/// The `mcp:` shorthand without `gateways` has a port of its own, beside any gateway that is not
/// `default` (agentgateway `types/local.rs`): its route serves every path, so no `resource`
/// path can miss it.
#[test]
fn a_shorthand_beside_other_gateways_serves_its_own_port() {
    let text = "gateways:\n  public:\n    port: 8080\nroutes:\n- gateways: public\n  backends:\n  - host: api.internal:80\nmcp:\n  policies:\n    mcpAuthentication:\n      issuer: https://idp.example.test\n      audiences: [mcp]\n      jwks: {url: https://idp.example.test/keys}\n      resourceMetadata: {resource: 'https://gw.example.test/tools'}\n  targets:\n  - name: remote\n    mcp: {host: 'http://mcp.internal:8080/mcp'}\n";
    let l = check_text(text, &opts(&repo()));
    assert_eq!(
        l.count_rule("auth/resource-path-mismatch"),
        0,
        "{:?}",
        findings(&l)
    );
    let attached = text
        .replace("  public:", "  default:")
        .replace("gateways: public", "gateways: default");
    let l = check_text(&attached, &opts(&repo()));
    assert_eq!(
        l.count_rule("auth/resource-path-mismatch"),
        1,
        "{:?}",
        findings(&l)
    );
}

/// A rule family has one home: the rules declared in `src/check/rules/FAMILY.rs` (or the folder
/// `FAMILY/`) are of that family, and no other file there declares one of them.
#[test]
fn rule_files_are_named_after_their_family() {
    let dir = repo().join("src/check/rules");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                files.push(f.unwrap().path());
            }
        } else {
            files.push(p);
        }
    }
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&dir).unwrap();
        let family = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let Some(id) = line.trim().strip_prefix("id: \"") else {
                continue;
            };
            if !id.starts_with(&format!("{family}/")) {
                wrong.push(format!("{}: {}", rel.display(), id.trim_end_matches("\",")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "rules outside their family's file: {wrong:?}"
    );
}
