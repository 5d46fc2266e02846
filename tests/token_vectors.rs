//! The signature layer against Project Wycheproof's JSON Web Signature / Key / Crypto vectors
//! and the RFC 7520 (JOSE cookbook) examples, read from `$AGW_VECTORS_DIR`.
//!
//! agw is stricter than a general JOSE library on purpose; the cases where that changes the
//! expected result are listed below, each with its reason, and the test fails if such a case
//! stops differing (so the list cannot rot).

use std::collections::BTreeMap;
mod common;

use std::path::{Path, PathBuf};

use agw::oidc::jwks::{Key, KeySet};
use agw::token::jws::{self, FormatError};
use serde_json::{Map, Value};

/// (file, tcId, why agw's answer differs from the vector's `result`).
const POLICY_DEPENDENT: &[(&str, u64, &str)] = &[
    // json_web_signature_test.json
    ("sig", 1, "HS256: HMAC is never accepted (a shared secret anyone with the key config could sign with)"),
    ("sig", 346, "header PS384, key `alg` PS256: the key's alg pins the algorithm"),
    ("sig", 350, "header PS384, key `alg` PS256: the key's alg pins the algorithm"),
    ("sig", 347, "ES512 on P-521 (key alg `ES521`): the gateway verifies P-256 and P-384 only"),
    ("sig", 351, "ES512 on P-521 (key alg `ES521`): the gateway verifies P-256 and P-384 only"),
    ("sig", 348, "HS256 (RFC 7520 figure 35): HMAC is never accepted"),
    ("sig", 352, "HS256 (RFC 7520 figure 35): HMAC is never accepted"),
    ("sig", 357, "HS256: HMAC is never accepted"),
    ("sig", 358, "HS256: HMAC is never accepted"),
    ("sig", 359, "HS256: HMAC is never accepted"),
    ("sig", 372, "a stray `?` in the header: agw's strict base64url decoder rejects it"),
    ("sig", 373, "a stray `?` in the payload: agw's strict base64url decoder rejects it"),
    ("sig", 376, "HS256: HMAC is never accepted"),
    ("sig", 377, "HS256: HMAC is never accepted"),
    // json_web_key_test.json
    ("key", 2, "HS256 key set: HMAC is never accepted"),
    ("key", 13, "HS256: HMAC is never accepted"),
    ("key", 14, "HS384: HMAC is never accepted"),
    ("key", 15, "HS512: HMAC is never accepted"),
    // json_web_crypto_test.json
    ("crypto", 1, "HS256: HMAC is never accepted"),
    ("crypto", 48, "HS256 key set: HMAC is never accepted"),
    ("crypto", 50, "a JWE (encrypted token): the gateway reads signed tokens only"),
    ("crypto", 67, "a JWE (encrypted token): the gateway reads signed tokens only"),
];

/// HMAC cases where only strict base64url parsing differs from the vector; for every other
/// HMAC case the parse layer plus a plain HMAC check must agree with the vector.
const STRICT_BASE64: &[u64] = &[372, 373];

/// Signature-file cases whose token is byte for byte the one of #357 (`valid`) yet marked
/// `invalid` (the padding they describe is not in the data). agw rejects them anyway (HMAC);
/// only the HMAC cross-check of the parser cannot agree with both answers.
const INCONSISTENT_IN_DATA: &[u64] = &[367, 370];

fn vectors_dir() -> Option<PathBuf> {
    common::partners::data_dir("AGW_VECTORS_DIR")
}

fn load(dir: &Path, rel: &str) -> Value {
    let p = dir.join(rel);
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn with_kid(v: &Value) -> Map<String, Value> {
    let mut m = v.as_object().cloned().unwrap_or_default();
    m.entry("kid")
        .or_insert_with(|| Value::String("vector".into()));
    m
}

/// agw's answer for one compact JWS with this key material (a JWK, a JWKS, or nothing usable).
fn agw_accepts(token: &str, public: Option<&Value>) -> Result<(), String> {
    let c = jws::parse_compact(token, jws::MAX_TOKEN_BYTES).map_err(|e| e.to_string())?;
    let public = public.ok_or("no public key (a symmetric key set): HMAC is never accepted")?;
    let key: std::sync::Arc<Key> = if public.get("keys").is_some() {
        let set = KeySet::parse(public.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let kid = c
            .header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or("no kid")?;
        match set.get(kid) {
            Some(k) => k.clone(),
            None => {
                return Err(set
                    .unusable_reason(kid)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("unknown kid {kid}")))
            }
        }
    } else {
        std::sync::Arc::new(Key::from_jwk(&with_kid(public))?)
    };
    jws::verify_signature(&c, &key)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A plain HMAC check behind agw's strict parser, to test the parser on the HMAC vectors.
fn strict_parse_then_hmac(token: &str, private: &Value) -> bool {
    let Ok(c) = jws::parse_compact(token, jws::MAX_TOKEN_BYTES) else {
        return false;
    };
    let keys: Vec<&Value> = match private.get("keys").and_then(Value::as_array) {
        Some(k) => k.iter().collect(),
        None => vec![private],
    };
    let kid = c.header.get("kid").and_then(Value::as_str);
    let Some(k) = keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == kid)
        .and_then(|k| k.get("k").and_then(Value::as_str))
    else {
        return false;
    };
    use base64::Engine;
    let Ok(secret) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(k) else {
        return false;
    };
    let alg = match c.header.get("alg").and_then(Value::as_str) {
        Some("HS256") => aws_lc_rs::hmac::HMAC_SHA256,
        Some("HS384") => aws_lc_rs::hmac::HMAC_SHA384,
        Some("HS512") => aws_lc_rs::hmac::HMAC_SHA512,
        _ => return false,
    };
    let key = aws_lc_rs::hmac::Key::new(alg, &secret);
    aws_lc_rs::hmac::verify(&key, c.signing_input.as_bytes(), &c.signature).is_ok()
}

struct Tally {
    agree: usize,
    expected_differences: BTreeMap<(String, u64), String>,
    unexpected: Vec<String>,
}

fn run_file(dir: &Path, file: &str, tag: &str, t: &mut Tally) {
    let doc = load(dir, file);
    for g in doc["testGroups"].as_array().unwrap() {
        let public = g.get("public");
        for case in g["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let valid = case["result"] == "valid";
            let token = match (case.get("jws"), case.get("jwe")) {
                (Some(Value::String(s)), _) | (_, Some(Value::String(s))) => s.clone(),
                (Some(other), _) | (_, Some(other)) => other.to_string(), // JSON serialization
                _ => continue,
            };
            let got = agw_accepts(&token, public);
            let listed = POLICY_DEPENDENT
                .iter()
                .find(|(f, i, _)| *f == tag && *i == id);
            match (got.is_ok() == valid, listed) {
                (true, None) => t.agree += 1,
                (false, Some((_, _, why))) => {
                    t.expected_differences
                        .insert((tag.into(), id), why.to_string());
                }
                (true, Some(_)) => t.unexpected.push(format!(
                    "{tag} #{id}: listed as policy-dependent but agw now agrees with the vector"
                )),
                (false, None) => t.unexpected.push(format!(
                    "{tag} #{id} ({}): vector says {}, agw says {:?}",
                    case["comment"], case["result"], got
                )),
            }
            // For symmetric groups, check the strict parser through a plain HMAC.
            if public.is_none() && case.get("jws").is_some_and(Value::is_string) {
                if let Some(private) = g.get("private") {
                    let hmac_ok = strict_parse_then_hmac(&token, private);
                    let expect = valid && !(tag == "sig" && STRICT_BASE64.contains(&id));
                    // keys that are too short, empty or mixed sets are key-policy questions
                    let key_policy =
                        !valid && (tag == "key" || g["comment"] == "jws_mixedSymmetryKeyset");
                    let inconsistent = tag == "sig" && INCONSISTENT_IN_DATA.contains(&id);
                    if hmac_ok != expect && !key_policy && !inconsistent {
                        t.unexpected.push(format!(
                            "{tag} #{id} ({}): strict parse + HMAC says {hmac_ok}, vector says {}",
                            case["comment"], case["result"]
                        ));
                    }
                }
            }
        }
    }
}

#[test]
fn wycheproof_vectors() {
    let Some(dir) = vectors_dir() else { return };
    let mut t = Tally {
        agree: 0,
        expected_differences: BTreeMap::new(),
        unexpected: Vec::new(),
    };
    run_file(
        &dir,
        "wycheproof/json_web_signature_test.json",
        "sig",
        &mut t,
    );
    run_file(&dir, "wycheproof/json_web_key_test.json", "key", &mut t);
    run_file(
        &dir,
        "wycheproof/json_web_crypto_test.json",
        "crypto",
        &mut t,
    );
    println!(
        "wycheproof: {} cases agree, {} policy-dependent as listed",
        t.agree,
        t.expected_differences.len()
    );
    for ((f, id), why) in &t.expected_differences {
        println!("  {f} #{id}: {why}");
    }
    assert!(t.unexpected.is_empty(), "{}", t.unexpected.join("\n"));
    assert_eq!(
        t.expected_differences.len(),
        POLICY_DEPENDENT.len(),
        "a listed case was not found"
    );
    assert!(t.agree > 450, "only {} cases ran", t.agree);
}

fn public_part(key: &Value) -> Value {
    let mut k = key.as_object().cloned().unwrap();
    for m in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        k.remove(m);
    }
    Value::Object(k)
}

#[test]
fn rfc7520_cookbook() {
    let Some(dir) = vectors_dir() else { return };
    // (file, accepted by agw, why)
    let cases = [
        ("jws_4_1.rsa_v15_signature.json", true, "RS256"),
        (
            "jws_4_2.rsa-pss_signature.json",
            true,
            "PS384 with a key without `alg`",
        ),
        (
            "jws_4_3.ecdsa_signature.json",
            false,
            "ES512 on P-521: not supported by the gateway",
        ),
        (
            "jws_4_4.hmac-sha2_integrity_protection.json",
            false,
            "HS256: HMAC never accepted",
        ),
        (
            "jws_4_5.signature_with_detached_content.json",
            false,
            "detached payload: a token always carries its claims",
        ),
    ];
    for (file, accepted, why) in cases {
        let doc = load(&dir, &format!("jose-cookbook/{file}"));
        let compact = doc["output"]["compact"].as_str().unwrap();
        let key = public_part(&doc["input"]["key"]);
        let got = agw_accepts(compact, Some(&key));
        assert_eq!(got.is_ok(), accepted, "{file} ({why}): {got:?}");
        if accepted {
            // and a flipped payload byte breaks it
            let mut parts: Vec<String> = compact.split('.').map(str::to_string).collect();
            let flip = if parts[1].starts_with('S') { "T" } else { "S" };
            parts[1].replace_range(0..1, flip);
            assert!(
                agw_accepts(&parts.join("."), Some(&key)).is_err(),
                "{file} tampered"
            );
        }
    }
    // JSON serializations (flattened and general) are refused: access tokens are compact.
    for file in [
        "jws_4_1.rsa_v15_signature.json",
        "jws_4_6.protecting_specific_header_fields.json",
        "jws_4_7.protecting_content_only.json",
        "jws_4_8.multiple_signatures.json",
    ] {
        let doc = load(&dir, &format!("jose-cookbook/{file}"));
        for form in ["json", "json_flat"] {
            if let Some(j) = doc["output"].get(form) {
                let err = jws::parse_compact(&j.to_string(), 1 << 20).unwrap_err();
                assert_eq!(err, FormatError::JsonSerialization, "{file} {form}");
            }
        }
    }
}
