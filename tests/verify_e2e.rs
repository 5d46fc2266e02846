//! End to end against real authorization servers (oidc-provider and oauth2-mock-server from
//! tests/js), and a differential test against jose's jwtVerify. Skipped, with a message, when
//! node or the packages are missing. Every process is bounded in time and killed by pid.

mod common;

use std::sync::Arc;
use std::time::Duration;

use agw::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksSource};
use agw::token::verify::{accept, verify_with_cache, Policy, Verdict};
use common::procs::{agw, header_of, js_dir, post_form, run_bounded, NodeServer};
use common::*;
use serde_json::{json, Value};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn config(issuer: &str, audience: &str, jwks: Option<&str>, rules: &[&str]) -> String {
    let jwks = jwks
        .map(|u| format!("          jwks:\n            url: {u}\n"))
        .unwrap_or_default();
    let rules = if rules.is_empty() {
        String::new()
    } else {
        format!(
            "        mcpAuthorization:\n          rules:\n{}",
            rules
                .iter()
                .map(|r| format!("          - '{r}'\n"))
                .collect::<String>()
        )
    };
    format!(
        r#"binds:
- port: 3000
  listeners:
  - routes:
    - name: mcp
      matches:
      - path: {{exact: /mcp}}
      - path: {{exact: /.well-known/oauth-protected-resource/mcp}}
      backends:
      - mcp:
          targets:
          - name: everything
            stdio: {{cmd: mcp-server-everything, args: [stdio]}}
      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: [{audience}]
{jwks}          resourceMetadata:
            resource: {audience}
            scopesSupported: [mcp:tools]
{rules}"#
    )
}

fn decision(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// jose's answers for these cases: name -> accepted.
fn jose(js: &std::path::Path, spec: Value) -> Vec<(String, bool, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "spec.json", &spec.to_string());
    let (code, out, err) = run_bounded(
        std::process::Command::new("node")
            .arg("jose-verify.mjs")
            .arg(&path)
            .current_dir(js),
        "",
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "jose-verify failed: {err}");
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_string(),
                v["ok"].as_bool().unwrap(),
                v["error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn oidc_provider_rs256_es256_and_audiences() {
    let Some(js) = js_dir("oidc_provider_rs256_es256_and_audiences") else {
        return;
    };
    let srv = NodeServer::start(&js, "partners/oidc-as.mjs", "issuer");
    let issuer = format!("http://127.0.0.1:{}/oauth2/default", srv.port);
    let audience = "http://127.0.0.1:8080/mcp";
    let token_url = format!("{issuer}/v1/token");
    let rs = post_form(
        &token_url,
        &[("grant_type", "client_credentials"), ("scope", "mcp:tools")],
        Some(("agw-rs", "agw-secret")),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let es = post_form(
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "mcp:tools"),
            ("client_id", "agw-es"),
            ("client_secret", "agw-secret"),
        ],
        None,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong_aud = post_form(
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "mcp:tools"),
            ("resource", "https://other.example/api"),
        ],
        Some(("agw-rs", "agw-secret")),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(header_of(&rs)["alg"], "RS256");
    assert_eq!(header_of(&es)["alg"], "ES256");

    let dir = tempfile::tempdir().unwrap();
    let keys = format!("{issuer}/v1/keys");
    let cfg = write(
        &dir,
        "gw.yaml",
        &config(&issuer, audience, Some(&keys), &[]),
    );

    for (name, token) in [("RS256", &rs), ("ES256", &es)] {
        let (code, out, err) = agw(
            &["verify-token", "--config", &cfg, "--route", "/mcp"],
            token,
        );
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("pass  signature"), "{out}");
        assert!(
            out.contains(&format!("{name}, pinned by the key's `alg`")),
            "{out}"
        );
        assert!(out.contains("ACCEPTED"), "{out}");
        assert!(
            !out.contains(token.as_str()),
            "the token must never be printed whole"
        );
    }
    let (code, out, _) = agw(
        &["verify-token", "--config", &cfg, "--format", "json"],
        &wrong_aud,
    );
    assert_eq!(code, 1, "{out}");
    let d = decision(&out);
    assert_eq!(d["decision"]["decision"], "rejected");
    assert_eq!(d["decision"]["check"], "audience");
    assert_eq!(d["decision"]["status"], 401);

    // The Okta trap: without `jwks`, the gateway derives {issuer}/.well-known/jwks.json, which
    // this issuer (like Okta) does not serve. agw cannot decide: exit 2, with the reason.
    let derived = write(&dir, "derived.yaml", &config(&issuer, audience, None, &[]));
    let (code, out, err) = agw(&["verify-token", "--config", &derived], &rs);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(".well-known/jwks.json"), "{out}");
    assert!(out.contains("HTTP 404"), "{out}");

    // An unreachable JWKS: exit 2 as well.
    let dead = format!("http://127.0.0.1:{}/keys", common::procs::free_port());
    let unreachable = write(
        &dir,
        "dead.yaml",
        &config(&issuer, audience, Some(&dead), &[]),
    );
    let (code, out, _) = agw(&["verify-token", "--config", &unreachable], &rs);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("UNDECIDED"), "{out}");

    // Differential: jose with the issuer's remote JWKS agrees on the real tokens.
    let answers = jose(
        &js,
        json!({"jwks_url": keys, "issuer": issuer, "audience": [audience], "leeway": 60,
               "cases": [{"name": "rs", "token": rs}, {"name": "es", "token": es},
                         {"name": "wrong_aud", "token": wrong_aud}]}),
    );
    let by: std::collections::HashMap<_, _> =
        answers.iter().map(|(n, ok, _)| (n.as_str(), *ok)).collect();
    assert!(by["rs"]);
    assert!(by["es"]);
    assert!(!by["wrong_aud"]);
}

#[test]
fn mock_server_okta_shaped_expired_wrong_issuer() {
    let Some(js) = js_dir("mock_server_okta_shaped_expired_wrong_issuer") else {
        return;
    };
    let srv = NodeServer::start(&js, "partners/mock-as.mjs", "issuer");
    let issuer = format!("http://127.0.0.1:{}", srv.port);
    let audience = "http://127.0.0.1:8080/mcp";
    let token = |extra: &[(&str, &str)]| {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", "0oa-okta-app"),
        ];
        form.extend_from_slice(extra);
        post_form(&format!("{issuer}/token"), &form, None)["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        &dir,
        "gw.yaml",
        &config(
            &issuer,
            audience,
            Some(&format!("{issuer}/jwks")),
            &[r#""mcp:tools" in jwt.scp"#],
        ),
    );
    let good = token(&[("scope", "mcp:tools agentgateway")]);
    let (code, out, err) = agw(&["verify-token", "--config", &cfg, "--tool", "echo"], &good);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cid=0oa-okta-app"), "{out}");
    assert!(out.contains("scp=[mcp:tools, agentgateway]"), "{out}");
    assert!(out.contains("tool echo allowed by rule 1"), "{out}");

    // the same token without the scope the rule needs: the call is denied (400, JSON-RPC error)
    let narrow = token(&[("scope", "agentgateway")]);
    let (code, out, _) = agw(
        &[
            "verify-token",
            "--config",
            &cfg,
            "--tool",
            "echo",
            "--format",
            "json",
        ],
        &narrow,
    );
    assert_eq!(code, 1, "{out}");
    let d = decision(&out);
    assert_eq!(d["decision"]["status"], 400);
    assert_eq!(
        d["decision"]["jsonrpc_error"]["message"],
        "Unknown tool: echo"
    );
    assert_eq!(d["authz"]["allowed"], false);

    // --require-scope: agw enforces what the gateway does not
    let (code, out, _) = agw(
        &[
            "verify-token",
            "--config",
            &cfg,
            "--require-scope",
            "mcp:admin",
        ],
        &good,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--require-scope wants [mcp:admin]"), "{out}");

    // The mock's "expired" token has exp = now - 60: exactly on the gateway's 60 s leeway, which
    // it still accepts (jsonwebtoken rejects only exp < now - leeway). Two seconds later it is
    // expired for everyone.
    let expired = token(&[("bad", "expired")]);
    std::thread::sleep(Duration::from_secs(2));
    let (code, out, _) = agw(&["verify-token", "--config", &cfg], &expired);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  expiry"), "{out}");

    let wrong = token(&[("bad", "wrong_iss")]);
    let (code, out, _) = agw(&["verify-token", "--config", &cfg], &wrong);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  issuer"), "{out}");
    assert!(out.contains("http://evil.example"), "{out}");

    // jose agrees on all four
    let answers = jose(
        &js,
        json!({"jwks_url": format!("{issuer}/jwks"), "issuer": issuer, "audience": [audience],
               "cases": [{"name": "good", "token": good}, {"name": "narrow", "token": narrow},
                         {"name": "expired", "token": expired}, {"name": "wrong", "token": wrong}]}),
    );
    let oks: Vec<bool> = answers.iter().map(|a| a.1).collect();
    assert_eq!(oks, vec![true, true, false, false], "{answers:?}");
}

#[test]
fn key_rotation_while_the_verifier_runs() {
    let Some(js) = js_dir("key_rotation_while_the_verifier_runs") else {
        return;
    };
    let srv = NodeServer::start(&js, "partners/mock-as.mjs", "issuer");
    let issuer = format!("http://127.0.0.1:{}", srv.port);
    let token = || {
        post_form(
            &format!("{issuer}/token"),
            &[("grant_type", "client_credentials"), ("scope", "mcp:tools")],
            None,
        )["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cache = JwksCache::new(
        HttpClient::new(HttpOptions::default()).unwrap(),
        CachePolicy {
            refetch_cooldown: Duration::from_millis(1500),
            ..Default::default()
        },
    );
    let mut policy = Policy::new(issuer.clone(), JwksSource::Url(format!("{issuer}/jwks")));
    policy.audiences = vec!["http://127.0.0.1:8080/mcp".into()];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let verify = |t: &str| -> Verdict { rt.block_on(verify_with_cache(t, &policy, &cache, now())) };

    let before = token();
    let v = verify(&before);
    assert!(v.token_valid, "{:#?}", v.checks);

    // rotate: the issuer adds a key; tokens signed with it name a kid the cache has not seen
    let status = std::process::Command::new("kill")
        .args(["-USR2", &srv.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let line = srv
        .wait_line("rotated, new kid", Duration::from_secs(20))
        .expect("rotation");
    let new_kid = line.rsplit(' ').next().unwrap().to_string();
    let after = (0..6)
        .map(|_| token())
        .find(|t| header_of(t)["kid"] == new_kid.as_str())
        .expect("a token signed with the new key");
    let v = verify(&after);
    assert!(v.token_valid, "{:#?}", v.checks);
    let key = v.check("key").unwrap();
    assert!(key.message.contains("fetched again"), "{}", key.message);
    assert!(v.key.as_ref().unwrap().refetched);

    // random kids: one refetch, then the cooldown holds further ones back
    let forged = TestKey::rsa("random-kid-1");
    let mut claims = good_claims();
    claims["iss"] = json!(issuer);
    let f1 = forged.token(&claims);
    let f2 = TestKey::rsa("random-kid-2").token(&claims);
    std::thread::sleep(Duration::from_millis(1600));
    let v = verify(&f1);
    assert!(
        v.reason
            .as_ref()
            .unwrap()
            .1
            .contains("refetched once, still missing"),
        "{:?}",
        v.reason
    );
    let v = verify(&f2);
    assert!(
        v.reason.as_ref().unwrap().1.contains("cooldown"),
        "{:?}",
        v.reason
    );
    assert!(v.undecided.is_none());
}

/// One corpus, two verifiers: agw and jose must agree, except where agw goes further on
/// purpose (each listed with its reason).
#[test]
fn differential_against_jose() {
    let Some(js) = js_dir("differential_against_jose") else {
        return;
    };
    let rsa = TestKey::rsa("rsa-1");
    let rsa_pinned = TestKey::rsa("rsa-pinned");
    let ec = TestKey::ec256("ec-1");
    let ec384 = TestKey::ec384("ec-2");
    let ed = TestKey::ed25519("ed-1");
    let mut set: Vec<Value> = vec![
        rsa.jwk(None),
        rsa_pinned.jwk(Some("RS256")),
        ec.jwk(Some("ES256")),
        ec384.jwk(None),
        ed.jwk(Some("EdDSA")),
    ];
    set.iter_mut().for_each(|k| {
        k.as_object_mut().unwrap().remove("use");
    });
    let jwks_doc = json!({"keys": set});
    let n = now();
    let good = good_claims();
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let b = |v: &Value| b64(v.to_string().as_bytes());
    let mut cases: Vec<(&str, String)> = vec![
        ("rs256", rsa.token(&good)),
        ("rs384", rsa.token_with(json!({"alg": "RS384"}), &good)),
        ("ps256", rsa.token_with(json!({"alg": "PS256"}), &good)),
        ("ps512", rsa.token_with(json!({"alg": "PS512"}), &good)),
        (
            "ps256_on_rs256_pinned_key",
            rsa_pinned.token_with(json!({"alg": "PS256"}), &good),
        ),
        ("es256", ec.token(&good)),
        ("es384", ec384.token(&good)),
        ("eddsa", ed.token(&good)),
        ("expired", ec.token(&with(json!({"exp": n - 3600})))),
        ("expired_in_leeway", ec.token(&with(json!({"exp": n - 30})))),
        ("nbf_future", ec.token(&with(json!({"nbf": n + 600})))),
        ("nbf_in_leeway", ec.token(&with(json!({"nbf": n + 30})))),
        ("no_exp", ec.token(&with(json!({"exp": null})))),
        ("exp_string", ec.token(&with(json!({"exp": "tomorrow"})))),
        (
            "wrong_iss",
            ec.token(&with(json!({"iss": "https://evil.example"}))),
        ),
        (
            "iss_trailing_slash",
            ec.token(&with(json!({"iss": format!("{ISSUER}/")}))),
        ),
        (
            "wrong_aud",
            ec.token(&with(json!({"aud": "api://default"}))),
        ),
        ("aud_list", ec.token(&with(json!({"aud": ["x", AUDIENCE]})))),
        ("no_aud", ec.token(&with(json!({"aud": null})))),
        ("unknown_kid", TestKey::ec256("nope").token(&good)),
        ("wrong_key_same_kid", TestKey::ec256("ec-1").token(&good)),
        (
            "crit",
            ec.token_with(json!({"crit": ["urn:x"], "urn:x": 1}), &good),
        ),
        (
            "jku_ignored",
            ec.token_with(json!({"jku": "https://evil.example/k"}), &good),
        ),
        (
            "hs256_public_key",
            hs256_token(
                rsa.jwk(None).to_string().as_bytes(),
                json!({"alg": "HS256", "kid": "rsa-1"}),
                &good,
            ),
        ),
        (
            "alg_none",
            format!(
                "{}.{}.",
                b(&json!({"alg": "none", "kid": "ec-1"})),
                b(&good)
            ),
        ),
        ("es384_on_p256", {
            let input = format!(
                "{}.{}",
                b(&json!({"alg": "ES384", "kid": "ec-1"})),
                b(&good)
            );
            format!("{input}.{}", b64(&ec.sign("ES256", input.as_bytes())))
        }),
        ("tampered", {
            let t = ec.token(&good);
            let p: Vec<&str> = t.split('.').collect();
            format!("{}.{}.{}", p[0], b(&with(json!({"sub": "admin"}))), p[2])
        }),
        ("two_segments", "a.b".into()),
        ("iat_future", ec.token(&with(json!({"iat": n + 3600})))),
        ("no_kid", {
            let input = format!("{}.{}", b(&json!({"alg": "ES256"})), b(&good));
            format!("{input}.{}", b64(&ec.sign("ES256", input.as_bytes())))
        }),
        (
            "oversized",
            ec.token(&with(json!({"pad": "x".repeat(20_000)}))),
        ),
    ];
    cases.push(("duplicate_header_member", {
        let raw = r#"{"alg":"ES256","kid":"ec-1","kid":"ec-1"}"#;
        let input = format!("{}.{}", b64(raw.as_bytes()), b(&good));
        format!("{input}.{}", b64(&ec.sign("ES256", input.as_bytes())))
    }));
    // Where agw goes further than a general JOSE library, on purpose.
    let expected_divergence: &[(&str, &str)] = &[
        (
            "iat_future",
            "agw rejects tokens issued in the future (SPEC 5: agw goes further)",
        ),
        (
            "no_kid",
            "the gateway requires a kid; jose picks the only key that fits",
        ),
        ("oversized", "agw refuses tokens over 16 KiB"),
        (
            "duplicate_header_member",
            "agw refuses duplicate header members (RFC 7515 4)",
        ),
    ];

    let answers = jose(
        &js,
        json!({"jwks": jwks_doc, "issuer": ISSUER, "audience": [AUDIENCE], "leeway": 60,
               "cases": cases.iter().map(|(n, t)| json!({"name": n, "token": t})).collect::<Vec<_>>()}),
    );
    assert_eq!(answers.len(), cases.len());
    let mut policy = Policy::new(ISSUER, JwksSource::Inline(Arc::from(jwks_doc.to_string())));
    policy.audiences = vec![AUDIENCE.into()];
    let cache = JwksCache::new(
        HttpClient::new(HttpOptions::default()).unwrap(),
        CachePolicy::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut report = Vec::new();
    let mut bad = Vec::new();
    for ((name, token), (jname, jose_ok, jerr)) in cases.iter().zip(&answers) {
        assert_eq!(name, jname);
        let t = now();
        let v = rt.block_on(verify_with_cache(token, &policy, &cache, t));
        let agw_ok = v.gateway_accepts;
        let fast = rt.block_on(accept(token, &policy, &cache, t));
        assert_eq!(
            fast.is_ok(),
            agw_ok,
            "{name}: accept() and verify() disagree"
        );
        let listed = expected_divergence.iter().find(|(n, _)| n == name);
        report.push(format!(
            "{name:<28} agw={} jose={}{}",
            if agw_ok { "accept" } else { "reject" },
            if *jose_ok { "accept" } else { "reject" },
            listed
                .map(|(_, w)| format!("  (differs on purpose: {w})"))
                .unwrap_or_default()
        ));
        match (agw_ok == *jose_ok, listed) {
            (true, None) => {}
            (false, Some(_)) => assert!(!agw_ok, "{name}: agw must be the stricter one"),
            (true, Some(_)) => bad.push(format!("{name}: listed as divergent but both agree")),
            (false, None) => bad.push(format!(
                "{name}: agw {} ({:?}), jose {} ({jerr})",
                agw_ok, v.reason, jose_ok
            )),
        }
    }
    println!("{}", report.join("\n"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
