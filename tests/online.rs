//! `agw check --online` against a real OpenID Connect server (oidc-provider, Okta-shaped paths)
//! and a fault-injection server for what real servers will not do on demand.

mod common;

use std::time::{Duration, Instant};

use common::fault::{Behavior, FaultServer};
use common::procs::{agw, js_dir, NodeServer};
use serde_json::{json, Value};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// An Okta-style route protected by `issuer` and (optionally) a JWKS URL.
fn config(issuer: &str, jwks: Option<&str>, scopes: &[&str]) -> String {
    let jwks = jwks
        .map(|u| format!("          jwks:\n            url: {u}\n"))
        .unwrap_or_default();
    let scopes = scopes
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "binds:
- port: 3000
  listeners:
  - routes:
    - matches:
      - path:
          exact: /mcp
      - path:
          exact: /.well-known/oauth-protected-resource/mcp
      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: [http://127.0.0.1:8080/mcp]
{jwks}          resourceMetadata:
            resource: http://127.0.0.1:3000/mcp
            scopesSupported: [{scopes}]
      backends:
      - host: 127.0.0.1:8080
"
    )
}

/// Runs `agw check --online --format json` on one file; returns the exit code and diagnostics.
fn online(path: &str, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["check", "--online", "--format", "json", "--no-process-env"];
    args.extend_from_slice(extra);
    args.push(path);
    let (code, out, err) = agw(&args, "");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (
        code,
        v["files"][0]["diagnostics"].as_array().unwrap().clone(),
    )
}

fn rules(diags: &[Value]) -> Vec<&str> {
    diags.iter().map(|d| d["rule"].as_str().unwrap()).collect()
}

fn find<'a>(diags: &'a [Value], rule: &str) -> &'a Value {
    diags
        .iter()
        .find(|d| d["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {diags:#?}"))
}

#[test]
fn real_issuer_right_config_passes_and_mistakes_are_caught() {
    let Some(js) = js_dir("real_issuer") else {
        return;
    };
    let as_ = NodeServer::start(&js, "partners/oidc-as.mjs", "issuer");
    let issuer = format!("http://127.0.0.1:{}/oauth2/default", as_.port);
    let dir = tempfile::tempdir().unwrap();

    // Right: exact issuer, Okta's key path, scopes the server knows.
    let good = write(
        &dir,
        "good.yaml",
        &config(&issuer, Some(&format!("{issuer}/v1/keys")), &["mcp:tools"]),
    );
    let (code, d) = online(&good, &[]);
    assert_eq!(code, 0, "{d:#?}");
    assert!(!d.iter().any(|x| x["severity"] == "error"), "{d:#?}");
    let ok = find(&d, "online/ok");
    assert!(
        ok["message"].as_str().unwrap().contains("rs256-key-1"),
        "{ok}"
    );
    assert_eq!(ok["line"], 12);

    // A trailing slash: every token would be rejected.
    let slash = write(
        &dir,
        "slash.yaml",
        &config(
            &format!("{issuer}/"),
            Some(&format!("{issuer}/v1/keys")),
            &["mcp:tools"],
        ),
    );
    let (code, d) = online(&slash, &[]);
    assert_eq!(code, 1);
    let m = find(&d, "online/issuer-mismatch");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("configured one ends with `/`"),
        "{m}"
    );
    assert_eq!(
        (m["line"].as_u64(), m["column"].as_u64()),
        (Some(12), Some(19))
    );
    assert!(
        m["help"]
            .as_str()
            .unwrap()
            .contains(&format!("issuer: {issuer}")),
        "{m}"
    );
    // A local issuer with Okta's path shape is not Okta: no Okta rule judges it.
    assert!(!rules(&d).iter().any(|r| r.starts_with("okta/")), "{d:#?}");

    // Declared Okta (`provider: okta`, as for an Okta custom domain): the static rule and the
    // network check see the same `/`; one finding says so, with the discovery document's evidence.
    let declared = write(
        &dir,
        "declared.yaml",
        &config(
            &format!("{issuer}/"),
            Some(&format!("{issuer}/v1/keys")),
            &["mcp:tools"],
        )
        .replace(
            "          audiences:",
            "          provider:\n            okta: {}\n          audiences:",
        ),
    );
    let (code, d) = online(&declared, &[]);
    assert_eq!(code, 1);
    let on_issuer = |d: &[Value]| -> Vec<String> {
        d.iter()
            .filter(|x| x["line"] == 12 && x["severity"] == "error")
            .map(|x| x["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(on_issuer(&d), ["online/issuer-mismatch"], "{d:#?}");
    // without --online the static rule reports it
    let r = agw(
        &["check", "--format", "json", "--no-process-env", &declared],
        "",
    );
    let v: Value = serde_json::from_str(&r.1).unwrap();
    let static_rules = rules(v["files"][0]["diagnostics"].as_array().unwrap());
    assert!(
        static_rules.contains(&"okta/issuer-trailing-slash"),
        "{static_rules:?}"
    );

    // No jwks: the gateway derives `.well-known/jwks.json`, which this (Okta-shaped) server
    // does not serve; the hint names the URL the issuer publishes.
    let derived = write(
        &dir,
        "derived.yaml",
        &config(&issuer, None, &["mcp:tools", "agentgateway"]),
    );
    let (code, d) = online(&derived, &[]);
    assert_eq!(code, 1);
    let j = find(&d, "online/jwks");
    assert!(j["message"].as_str().unwrap().contains("derived"), "{j}");
    assert!(
        j["help"]
            .as_str()
            .unwrap()
            .contains(&format!("{issuer}/v1/keys")),
        "{j}"
    );
    // `agentgateway` is not a scope of this server.
    let s = find(&d, "online/scope-unknown");
    assert!(
        s["message"].as_str().unwrap().contains("`agentgateway`"),
        "{s}"
    );
    assert_eq!(s["line"], 16);
}

#[test]
fn every_fault_has_its_own_diagnostic_and_the_run_stays_bounded() {
    let f = FaultServer::start();
    let keyless = json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]});
    let dup = json!({"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "a", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        {"kty": "EC", "crv": "P-256", "kid": "a", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    ]});
    let cases: Vec<(&str, Behavior, &str)> = vec![
        (
            "/html404",
            Behavior::Respond(404, "text/html", "<html>Not Found</html>".into()),
            "HTTP 404",
        ),
        (
            "/err500",
            Behavior::Respond(500, "application/json", "{}".into()),
            "HTTP 500",
        ),
        (
            "/html200",
            Behavior::Respond(200, "text/html", "<html>login</html>".into()),
            "not JSON",
        ),
        (
            "/garbage",
            Behavior::Respond(200, "application/json", "{not json".into()),
            "not a usable JWKS",
        ),
        ("/nokid", Behavior::Json(200, keyless, None), "no `kid`"),
        (
            "/dupkid",
            Behavior::Json(200, dup, None),
            "two keys have the kid",
        ),
        ("/huge", Behavior::Huge(50 * 1024 * 1024), "more than"),
        ("/loop", Behavior::Redirect("/loop".into()), "redirect"),
        ("/hang", Behavior::Hang, "did not answer within 1 s"),
        (
            "/drip",
            Behavior::Drip(Duration::from_millis(200)),
            "did not answer within 1 s",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    for (path, behavior, expect) in cases {
        f.route(path, behavior);
        let issuer = f.url(&format!("/issuer{path}"));
        let cfg = write(
            &dir,
            "fault.yaml",
            &config(&issuer, Some(&f.url(path)), &[]),
        );
        let (code, d) = online(&cfg, &["--timeout", "1", "--connect-timeout", "1"]);
        assert_eq!(code, 1, "{path}: {d:#?}");
        let j = find(&d, "online/jwks");
        assert!(
            j["message"].as_str().unwrap().contains(expect),
            "{path}: expected `{expect}` in {j}"
        );
        assert_eq!(j["line"], 15, "{path}: the finding is on the `url:` line");
        // The issuer itself has no discovery document here: a warning with every attempt.
        let disc = find(&d, "online/discovery");
        assert_eq!(disc["severity"], "warning");
    }
    // Ten faults, each bounded by the 1 s timeouts: far below a minute even on a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn unreachable_hosts_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = common::procs::free_port();
    let issuer = format!("http://127.0.0.1:{port}/oauth2/default");
    let cfg = write(
        &dir,
        "down.yaml",
        &config(&issuer, Some(&format!("{issuer}/v1/keys")), &[]),
    );
    let (code, d) = online(&cfg, &["--timeout", "2", "--connect-timeout", "1"]);
    assert_eq!(code, 1);
    assert!(
        find(&d, "online/discovery")["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{d:#?}"
    );
    assert!(
        find(&d, "online/jwks")["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{d:#?}"
    );
}

#[test]
fn each_distinct_url_is_fetched_once_and_plain_check_stays_offline() {
    let f = FaultServer::start();
    let doc = |name: &str| json!({"issuer": f.url(&format!("/{name}")), "jwks_uri": f.url(&format!("/{name}/keys")), "scopes_supported": ["mcp"]});
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
    for name in ["a", "b", "c"] {
        f.route(
            &format!("/{name}/.well-known/openid-configuration"),
            Behavior::Json(200, doc(name), None),
        );
        f.route(
            &format!("/{name}/keys"),
            Behavior::Json(200, jwks.clone(), Some("max-age=300")),
        );
    }
    // 50 routes over 3 issuers.
    let mut text = String::from("binds:\n- port: 3000\n  listeners:\n  - routes:\n");
    for i in 0..50 {
        let name = ["a", "b", "c"][i % 3];
        text.push_str(&format!(
            "    - matches: [{{path: {{exact: /r{i}/mcp}}}}]
      policies:
        mcpAuthentication:
          issuer: {}
          audiences: [x]
          resourceMetadata: {{}}
          jwks: {{url: {}}}
      backends: [{{host: 127.0.0.1:8080}}]
",
            f.url(&format!("/{name}")),
            f.url(&format!("/{name}/keys"))
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(&dir, "many.yaml", &text);

    let (code, out, _) = agw(&["check", "--no-process-env", "--format", "json", &cfg], "");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        f.hits("/a/.well-known/openid-configuration"),
        0,
        "check without --online touched the network"
    );

    let (code, d) = online(&cfg, &[]);
    assert_eq!(code, 0, "{d:#?}");
    for name in ["a", "b", "c"] {
        assert_eq!(
            f.hits(&format!("/{name}/.well-known/openid-configuration")),
            1,
            "{name}"
        );
        assert_eq!(f.hits(&format!("/{name}/keys")), 1, "{name}");
    }
    assert_eq!(rules(&d).iter().filter(|r| **r == "online/ok").count(), 3);
}

#[test]
fn the_derived_key_set_follows_the_provider_and_a_local_key_set_is_not_fetched() {
    let f = FaultServer::start();
    let issuer = f.url("/realms/r");
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
    f.route(
        "/realms/r/.well-known/openid-configuration",
        Behavior::Json(
            200,
            json!({"issuer": issuer, "jwks_uri": f.url("/realms/r/protocol/openid-connect/certs")}),
            None,
        ),
    );
    f.route(
        "/realms/r/protocol/openid-connect/certs",
        Behavior::Json(200, jwks.clone(), None),
    );
    let dir = tempfile::tempdir().unwrap();
    let with = |extra: &str| {
        format!(
            "binds:
- port: 3000
  listeners:
  - routes:
    - matches: [{{path: {{exact: /mcp}}}}]
      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: [x]
          resourceMetadata: {{}}
{extra}      backends: [{{host: 127.0.0.1:8080}}]
"
        )
    };

    // Keycloak's keys are at {issuer}/protocol/openid-connect/certs, not /.well-known/jwks.json
    let cfg = write(
        &dir,
        "keycloak.yaml",
        &with("          provider: {keycloak: {}}\n"),
    );
    let (code, d) = online(&cfg, &[]);
    assert_eq!(code, 0, "{d:#?}");
    assert_eq!(f.hits("/realms/r/protocol/openid-connect/certs"), 1);
    assert_eq!(f.hits("/realms/r/.well-known/jwks.json"), 0);
    assert!(rules(&d).contains(&"online/ok"), "{d:#?}");

    // A key set from a file is read offline: no derived URL is probed, and nothing is reported
    // about one.
    std::fs::write(dir.path().join("keys.json"), jwks.to_string()).unwrap();
    let keys = dir.path().join("keys.json").display().to_string();
    let cfg = write(
        &dir,
        "file.yaml",
        &with(&format!("          jwks: {{file: {keys}}}\n")),
    );
    let (code, d) = online(&cfg, &[]);
    assert_eq!(code, 0, "{d:#?}");
    assert_eq!(f.hits("/realms/r/.well-known/jwks.json"), 0);
    assert!(!rules(&d).contains(&"online/jwks"), "{d:#?}");
}
