//! Hostile and broken tokens fail closed, each with a precise reason; good tokens pass.

mod common;

use std::sync::Arc;

use agw::config::policy::auth::AuthMode;
use agw::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksSource};
use agw::token::verify::{accept, verify_with_cache, Outcome, Policy, Verdict};
use common::*;
use serde_json::json;

fn policy(jwks: &str) -> Policy {
    let mut p = Policy::new(ISSUER, JwksSource::Inline(Arc::from(jwks)));
    p.audiences = vec![AUDIENCE.into()];
    p
}

fn run(token: &str, p: &Policy) -> Verdict {
    let cache = JwksCache::new(
        HttpClient::new(HttpOptions::default()).unwrap(),
        CachePolicy::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = now();
    let v = rt.block_on(verify_with_cache(token, p, &cache, t));
    // the runtime's fast path must decide the same
    let fast = rt.block_on(accept(token, p, &cache, t));
    assert_eq!(
        fast.is_ok(),
        v.token_valid && v.requirements_met,
        "accept() and verify() disagree: {fast:?} vs {:?}",
        v.reason
    );
    v
}

fn assert_rejected(v: &Verdict, check: &str, contains: &str) {
    assert!(!v.token_valid, "accepted: {:#?}", v.checks);
    assert!(!v.gateway_accepts);
    let (name, reason) = v.reason.clone().expect("a reason");
    assert_eq!(name, check, "reason: {reason}");
    assert!(
        reason.contains(contains),
        "reason `{reason}` lacks `{contains}`"
    );
}

#[test]
fn good_tokens_of_every_key_type_pass() {
    for (key, alg) in [
        (TestKey::rsa("r1"), "RS256"),
        (TestKey::rsa("r2"), "PS256"),
        (TestKey::rsa("r3"), "RS512"),
        (TestKey::ec256("e1"), "ES256"),
        (TestKey::ec384("e2"), "ES384"),
        (TestKey::ed25519("d1"), "EdDSA"),
    ] {
        let set = jwks(&[&key], false);
        let t = key.token_with(json!({"alg": alg}), &good_claims());
        let v = run(&t, &policy(&set));
        assert!(v.token_valid, "{alg}: {:#?}", v.checks);
        assert!(v.gateway_accepts);
        assert!(v.signature_verified);
    }
}

#[test]
fn alg_none_is_refused() {
    let k = TestKey::rsa("k1");
    let set = jwks(&[&k], true);
    let h = b64(json!({"alg": "none", "kid": "k1"}).to_string().as_bytes());
    let c = b64(good_claims().to_string().as_bytes());
    for t in [format!("{h}.{c}."), format!("{h}.{c}.AAAA")] {
        let v = run(&t, &policy(&set));
        if t.ends_with('.') {
            assert_rejected(&v, "format", "unsigned (`alg: none`)");
        } else {
            assert_rejected(&v, "algorithm", "unsigned");
        }
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let k = TestKey::rsa("k1");
    let set = jwks(&[&k], false);
    // the classic confusion: the public JWK's text used as the HMAC secret
    let secret = k.jwk(None).to_string();
    let t = hs256_token(
        secret.as_bytes(),
        json!({"alg": "HS256", "kid": "k1"}),
        &good_claims(),
    );
    let v = run(&t, &policy(&set));
    assert_rejected(&v, "algorithm", "HMAC");
    assert_eq!(v.check("signature").unwrap().outcome, Outcome::Skip);
}

#[test]
fn unknown_and_missing_kid() {
    let k = TestKey::rsa("k1");
    let other = TestKey::rsa("k2");
    let set = jwks(&[&k], false);
    let v = run(&other.token(&good_claims()), &policy(&set));
    assert_rejected(&v, "key", "no key with kid `k2`");
    assert!(v.reason.unwrap().1.contains("`k1`"));
    assert!(v.undecided.is_none());

    // token_with adds a kid when absent, so build this one by hand
    let header = b64(json!({"alg": "RS256", "typ": "JWT"}).to_string().as_bytes());
    let claims = b64(good_claims().to_string().as_bytes());
    let input = format!("{header}.{claims}");
    let t = format!("{input}.{}", b64(&k.sign("RS256", input.as_bytes())));
    let v = run(&t, &policy(&set));
    assert_rejected(&v, "key", "no `kid`");
}

#[test]
fn crit_header_is_refused() {
    let k = TestKey::ec256("k1");
    let set = jwks(&[&k], false);
    let t = k.token_with(json!({"crit": ["exp"], "exp": 1}), &good_claims());
    let v = run(&t, &policy(&set));
    assert!(v.signature_verified);
    assert_rejected(&v, "header", "critical");
}

#[test]
fn key_location_headers_are_ignored_and_said_so() {
    let k = TestKey::ec256("k1");
    let attacker = TestKey::ec256("k1");
    let set = jwks(&[&k], false);
    // an attacker's token pointing at its own keys: jku, x5u and an embedded jwk
    let t = attacker.token_with(
        json!({"jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert",
               "jwk": attacker.jwk(None), "x5c": ["MIIB"]}),
        &good_claims(),
    );
    let v = run(&t, &policy(&set));
    assert_rejected(&v, "signature", "does not verify");
    let notes: Vec<_> = v
        .checks
        .iter()
        .filter(|c| c.name == "header" && c.outcome == Outcome::Note)
        .collect();
    assert_eq!(notes.len(), 4, "{notes:#?}");
    assert!(notes[0].message.contains("ignored"));
    // the same headers on a genuine token: still accepted, with the notes
    let t = k.token_with(json!({"jku": "https://evil.example/jwks"}), &good_claims());
    let v = run(&t, &policy(&set));
    assert!(v.token_valid);
}

#[test]
fn malformed_tokens() {
    let k = TestKey::rsa("k1");
    let set = jwks(&[&k], false);
    let p = policy(&set);
    let good = k.token(&good_claims());
    let parts: Vec<&str> = good.split('.').collect();
    assert_rejected(&run("a.b", &p), "format", "2 segments");
    assert_rejected(&run(&format!("{good}.x.y"), &p), "format", "JWE");
    assert_rejected(&run(&format!("{good}.x"), &p), "format", "4 segments");
    // padding, stray characters, whitespace inside
    assert_rejected(
        &run(&format!("{}=.{}.{}", parts[0], parts[1], parts[2]), &p),
        "format",
        "header is not base64url",
    );
    assert_rejected(
        &run(&format!("{}.{}?.{}", parts[0], parts[1], parts[2]), &p),
        "format",
        "payload is not base64url",
    );
    assert_rejected(
        &run(&format!("{}.{}.{} x", parts[0], parts[1], parts[2]), &p),
        "format",
        "signature is not base64url",
    );
    // JSON serialization
    assert_rejected(
        &run(r#"{"payload":"e30"}"#, &p),
        "format",
        "JSON serialization",
    );
    // oversized
    let huge = k.token(&json!({"iss": ISSUER, "pad": "x".repeat(20_000)}));
    assert_rejected(&run(&huge, &p), "format", "refuses tokens over");
    // payload not JSON
    let header = b64(json!({"alg": "RS256", "kid": "k1"}).to_string().as_bytes());
    let input = format!("{header}.{}", b64(b"not json"));
    let t = format!("{input}.{}", b64(&k.sign("RS256", input.as_bytes())));
    assert_rejected(&run(&t, &p), "claims", "not a JSON object");
    // a tampered payload
    let evil = b64(
        json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now() + 99999, "sub": "admin"})
            .to_string()
            .as_bytes(),
    );
    assert_rejected(
        &run(&format!("{}.{evil}.{}", parts[0], parts[2]), &p),
        "signature",
        "does not verify",
    );
}

#[test]
fn algorithm_is_pinned_by_the_key() {
    let k = TestKey::rsa("k1");
    // the key says RS256; a PS256 token signed with the same key is refused
    let set = jwks(&[&k], true);
    let t = k.token_with(json!({"alg": "PS256"}), &good_claims());
    assert_rejected(&run(&t, &policy(&set)), "algorithm", "allows only RS256");
    // without `alg` on the key, RSA allows PS256
    let set = jwks(&[&k], false);
    assert!(run(&t, &policy(&set)).token_valid);
    // an EC P-256 key never verifies ES384
    let e = TestKey::ec256("e1");
    let set = jwks(&[&e], false);
    let header = b64(json!({"alg": "ES384", "kid": "e1"}).to_string().as_bytes());
    let input = format!("{header}.{}", b64(good_claims().to_string().as_bytes()));
    let t = format!("{input}.{}", b64(&e.sign("ES256", input.as_bytes())));
    assert_rejected(&run(&t, &policy(&set)), "algorithm", "allows only ES256");
}

#[test]
fn claims_checks() {
    let k = TestKey::ec256("k1");
    let set = jwks(&[&k], false);
    let p = policy(&set);
    let n = now();
    let with = |patch: serde_json::Value| {
        let mut c = good_claims();
        for (key, val) in patch.as_object().unwrap() {
            if val.is_null() {
                c.as_object_mut().unwrap().remove(key);
            } else {
                c[key] = val.clone();
            }
        }
        k.token(&c)
    };
    assert_rejected(
        &run(&with(json!({"exp": n - 3600})), &p),
        "expiry",
        "expired 1h0m",
    );
    // within leeway
    assert!(run(&with(json!({"exp": n - 30})), &p).token_valid);
    assert_rejected(&run(&with(json!({"exp": null})), &p), "expiry", "no `exp`");
    assert_rejected(
        &run(&with(json!({"exp": "soon"})), &p),
        "expiry",
        "not a number",
    );
    assert_rejected(
        &run(&with(json!({"nbf": n + 600})), &p),
        "not-before",
        "not valid for another",
    );
    assert_rejected(
        &run(&with(json!({"iat": n + 600})), &p),
        "issued-at",
        "in the future",
    );
    assert_rejected(
        &run(&with(json!({"iss": format!("{ISSUER}/")})), &p),
        "issuer",
        "trailing `/`",
    );
    assert_rejected(&run(&with(json!({"iss": null})), &p), "issuer", "no `iss`");
    assert_rejected(
        &run(&with(json!({"aud": "api://default"})), &p),
        "audience",
        "api://default",
    );
    assert!(run(&with(json!({"aud": ["x", AUDIENCE]})), &p).token_valid);
    assert_rejected(
        &run(&with(json!({"aud": null})), &p),
        "audience",
        "no `aud`",
    );
    // no audiences configured: skipped, with the risk said
    let mut open = p.clone();
    open.audiences.clear();
    let v = run(&with(json!({"aud": "anything"})), &open);
    assert!(v.token_valid);
    assert_eq!(v.check("audience").unwrap().outcome, Outcome::Skip);
    // required claims
    let mut req = p.clone();
    req.required_claims = vec!["exp".into(), "sub".into(), "groups".into()];
    let v = run(&with(json!({"sub": null})), &req);
    assert_rejected(&v, "required", "missing sub");
    assert!(v.check("required").unwrap().message.contains("ignored"));
}

#[test]
fn modes_and_scopes() {
    let k = TestKey::ec256("k1");
    let set = jwks(&[&k], false);
    let mut p = policy(&set);
    let expired = k.token(&json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now() - 3600}));
    p.mode = AuthMode::Optional;
    assert!(!run(&expired, &p).gateway_accepts);
    assert!(run("", &p).gateway_accepts);
    p.mode = AuthMode::Permissive;
    let v = run(&expired, &p);
    assert!(v.gateway_accepts && !v.token_valid);
    p.mode = AuthMode::Strict;
    assert!(!run("", &p).gateway_accepts);

    // scopes: a note by default; enforced with required_scopes
    let good = k.token(&good_claims());
    p.scopes_supported = vec!["mcp:tools".into(), "mcp:admin".into()];
    let v = run(&good, &p);
    let s = v.check("scopes").unwrap();
    assert_eq!(s.outcome, Outcome::Note);
    assert!(
        s.message.contains("does not enforce scopes"),
        "{}",
        s.message
    );
    assert!(s.message.contains("lacks mcp:admin"), "{}", s.message);
    p.required_scopes = vec!["mcp:admin".into()];
    let v = run(&good, &p);
    assert!(v.token_valid && v.gateway_accepts && !v.requirements_met);
    let scope_token = k.token(
        &json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60, "scope": "mcp:admin openid"}),
    );
    assert!(run(&scope_token, &p).requirements_met);
}

#[test]
fn unusable_keys_give_their_reason() {
    let k = TestKey::rsa("k1");
    let mut jwk = k.jwk(Some("RS256"));
    jwk["use"] = json!("enc");
    let set = json!({"keys": [jwk]}).to_string();
    let v = run(&k.token(&good_claims()), &policy(&set));
    assert_rejected(&v, "key", "not a signature key");
    // a JWKS with private material cannot be trusted at all: agw cannot decide
    let mut jwk = k.jwk(None);
    jwk["d"] = json!("AAAA");
    let set = json!({"keys": [jwk]}).to_string();
    let v = run(&k.token(&good_claims()), &policy(&set));
    assert!(v
        .undecided
        .as_deref()
        .unwrap()
        .contains("private member `d`"));
}
