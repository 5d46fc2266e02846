//! JSON Web Key Sets: parsing with precise errors, and the keys agw verifies with.
//!
//! A set is refused as a whole when it cannot be trusted (not JSON, no `keys`, a key without
//! `kid`, two keys with one `kid`, private key material). A single key that cannot verify
//! signatures (an encryption key, an unsupported type or algorithm, a weak RSA modulus, a point
//! off its curve) is kept out of the set with the reason, so a token naming it gets that reason.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

/// The algorithms agw accepts: asymmetric only; HMAC and `none` never. The RSA ones come first
/// (`KeyType::algorithms`).
pub const SUPPORTED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Members that only a private (or secret) key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The type of a key, with what matters for choosing an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa { bits: usize },
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyType {
    /// The algorithms a key of this type signs with.
    pub fn algorithms(self) -> &'static [Algorithm] {
        match self {
            KeyType::Rsa { .. } => &SUPPORTED_ALGORITHMS[..6],
            KeyType::EcP256 => &[Algorithm::ES256],
            KeyType::EcP384 => &[Algorithm::ES384],
            KeyType::Ed25519 => &[Algorithm::EdDSA],
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            KeyType::EcP256 => f.write_str("EC P-256"),
            KeyType::EcP384 => f.write_str("EC P-384"),
            KeyType::Ed25519 => f.write_str("OKP Ed25519"),
        }
    }
}

/// One verification key of a set.
pub struct Key {
    pub kid: String,
    pub key_type: KeyType,
    /// The key's `alg`, when it declares one: then it is the only algorithm allowed.
    pub alg: Option<Algorithm>,
    decoding: DecodingKey,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("key_type", &self.key_type)
            .field("alg", &self.alg)
            .finish()
    }
}

impl Key {
    /// The algorithms a token signed with this key may use: the key's own `alg` when present,
    /// else those its type allows.
    pub fn allowed_algorithms(&self) -> Vec<Algorithm> {
        match self.alg {
            Some(a) => vec![a],
            None => self.key_type.algorithms().to_vec(),
        }
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Parses one JWK (a JSON object). `Err` carries the reason the key cannot be used.
    pub fn from_jwk(obj: &Map<String, Value>) -> Result<Key, String> {
        let kid = match obj.get("kid") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err("`kid` is not a string".into()),
            None => return Err("the key has no `kid`".into()),
        };
        for m in PRIVATE_MEMBERS {
            if obj.contains_key(*m) {
                return Err(format!(
                    "the key contains the private member `{m}`; a JWKS must publish public keys only"
                ));
            }
        }
        let kty = match obj.get("kty") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err("`kty` is not a string".into()),
            None => return Err("the key has no `kty`".into()),
        };
        for_signatures(obj)?;
        let alg = match obj.get("alg") {
            None => None,
            Some(Value::String(a)) => Some(parse_alg(a)?),
            Some(other) => return Err(format!("`alg` is not a string: {other}")),
        };
        let member = |name: &str| b64_member(obj, kty, name);
        let crv = || obj.get("crv").and_then(Value::as_str).unwrap_or("");
        let (key_type, decoding) = match kty {
            "RSA" => rsa_key(&member("n")?, &member("e")?)?,
            "EC" => ec_key(crv(), member)?,
            "OKP" => okp_key(crv(), member)?,
            "oct" => {
                return Err(
                    "a symmetric (`oct`) key: HMAC algorithms are never accepted, and a JWKS \
                     must not publish shared secrets"
                        .into(),
                )
            }
            other => return Err(format!("key type `{other}` is not supported")),
        };
        if let Some(a) = alg {
            if !key_type.algorithms().contains(&a) {
                return Err(format!("`alg` {a:?} does not fit a {key_type} key"));
            }
        }
        Ok(Key {
            kid,
            key_type,
            alg,
            decoding,
        })
    }
}

/// A key whose `use` or `key_ops` says it is not for verifying signatures is refused.
fn for_signatures(obj: &Map<String, Value>) -> Result<(), String> {
    if let Some(u) = obj.get("use") {
        if u != "sig" {
            return Err(format!(
                "`use` is {u}: not a signature key (only `sig` keys verify tokens)"
            ));
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let ok = ops
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o == "verify"));
        if !ok {
            return Err(format!("`key_ops` is {ops}: it does not allow `verify`"));
        }
    }
    Ok(())
}

/// The base64url member `name` of a `kty` key, decoded.
fn b64_member(obj: &Map<String, Value>, kty: &str, name: &str) -> Result<Vec<u8>, String> {
    match obj.get(name) {
        Some(Value::String(s)) => URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|e| format!("`{name}` is not base64url: {e}")),
        Some(_) => Err(format!("`{name}` is not a string")),
        None => Err(format!("a {kty} key needs `{name}`")),
    }
}

/// An RSA public key from its modulus and exponent, refused when weak or malformed.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<(KeyType, DecodingKey), String> {
    let n = strip_zeros(n);
    let e = strip_zeros(e);
    let bits = bit_len(n);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA modulus has {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b % 2 == 0) {
        return Err("the RSA public exponent is not a small odd number".into());
    }
    let e_val = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if e_val < 3 {
        return Err(format!("the RSA public exponent {e_val} is insecure"));
    }
    if n.last().is_some_and(|b| b % 2 == 0) {
        return Err("the RSA modulus is even".into());
    }
    if roca_fingerprint(n) {
        return Err(
            "the RSA modulus has the ROCA fingerprint (CVE-2017-15361): the key is \
             factorable; replace it"
                .into(),
        );
    }
    // PKCS#1 DER: jsonwebtoken hands it to aws-lc-rs as is, which verifies faster than
    // rebuilding the key from its components on every token.
    Ok((
        KeyType::Rsa { bits },
        DecodingKey::from_rsa_der(&rsa_public_key_der(n, e)),
    ))
}

/// An EC public key of curve `crv`, its point checked to be on the curve.
fn ec_key(
    crv: &str,
    member: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<(KeyType, DecodingKey), String> {
    let (kt, len, lc_alg): (
        _,
        _,
        &'static aws_lc_rs::signature::EcdsaVerificationAlgorithm,
    ) = match crv {
        "P-256" => (
            KeyType::EcP256,
            32,
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        ),
        "P-384" => (
            KeyType::EcP384,
            48,
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
        ),
        "" => return Err("an EC key needs `crv`".into()),
        other => {
            return Err(format!(
                "curve `{other}` is not supported (the gateway verifies P-256 and P-384)"
            ))
        }
    };
    let x = member("x")?;
    let y = member("y")?;
    if x.len() != len || y.len() != len {
        return Err(format!(
            "`x` and `y` of a {crv} key must be {len} bytes (got {} and {})",
            x.len(),
            y.len()
        ));
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    if aws_lc_rs::signature::ParsedPublicKey::new(lc_alg, &point).is_err() {
        return Err(format!("the point (x, y) is not on the curve {crv}"));
    }
    Ok((kt, DecodingKey::from_ec_der(&point)))
}

/// An OKP public key: Ed25519 only.
fn okp_key(
    crv: &str,
    member: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<(KeyType, DecodingKey), String> {
    if crv != "Ed25519" {
        return Err(format!(
            "OKP curve `{crv}` is not supported (only Ed25519 signs tokens)"
        ));
    }
    let x = member("x")?;
    if x.len() != 32 {
        return Err(format!(
            "`x` of an Ed25519 key must be 32 bytes (got {})",
            x.len()
        ));
    }
    Ok((KeyType::Ed25519, DecodingKey::from_ed_der(&x)))
}

/// Parses an algorithm name, refusing everything but the supported asymmetric ones.
pub fn parse_alg(name: &str) -> Result<Algorithm, String> {
    if name.eq_ignore_ascii_case("none") {
        return Err(format!("algorithm `{name}` means unsigned; never accepted"));
    }
    if matches!(name, "HS256" | "HS384" | "HS512") {
        return Err(format!(
            "{name} is HMAC (a shared secret); never accepted, since anyone holding the public \
             key could sign with it"
        ));
    }
    match name.parse::<Algorithm>() {
        Ok(a) if SUPPORTED_ALGORITHMS.contains(&a) => Ok(a),
        _ => Err(format!(
            "algorithm `{name}` is not supported (RS256/384/512, PS256/384/512, ES256, ES384, EdDSA)"
        )),
    }
}

/// A key of the set that cannot be used, and why.
#[derive(Debug, Clone)]
pub struct UnusableKey {
    pub kid: Option<String>,
    pub reason: String,
}

/// A parsed JWKS: usable keys by `kid`, and the unusable ones with their reasons.
#[derive(Debug, Default, Clone)]
pub struct KeySet {
    keys: HashMap<String, Arc<Key>>,
    order: Vec<String>,
    unusable: Vec<UnusableKey>,
}

/// Why a JWKS document as a whole is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a JWKS: expected an object with a `keys` array")]
    NoKeys,
    #[error("key #{index} has no `kid`; the gateway requires one on every key")]
    MissingKid { index: usize },
    #[error("two keys have the kid `{kid}`; a token naming it would be ambiguous")]
    DuplicateKid { kid: String },
    #[error(
        "key `{kid}` contains the private member `{member}`; a JWKS must publish public keys only"
    )]
    PrivateKey { kid: String, member: String },
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(bytes: &[u8]) -> Result<KeySet, JwksParseError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| JwksParseError::NotJson(e.to_string()))?;
        let keys = v
            .as_object()
            .and_then(|o| o.get("keys"))
            .and_then(Value::as_array)
            .ok_or(JwksParseError::NoKeys)?;
        let mut set = KeySet::default();
        let mut seen = std::collections::HashSet::new();
        for (index, k) in keys.iter().enumerate() {
            let Some(obj) = k.as_object() else {
                set.unusable.push(UnusableKey {
                    kid: None,
                    reason: format!("key #{index} is not a JSON object"),
                });
                continue;
            };
            let Some(kid) = obj.get("kid").and_then(Value::as_str) else {
                return Err(JwksParseError::MissingKid { index });
            };
            if !seen.insert(kid.to_string()) {
                return Err(JwksParseError::DuplicateKid {
                    kid: kid.to_string(),
                });
            }
            if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
                return Err(JwksParseError::PrivateKey {
                    kid: kid.to_string(),
                    member: m.to_string(),
                });
            }
            match Key::from_jwk(obj) {
                Ok(key) => {
                    set.order.push(key.kid.clone());
                    set.keys.insert(key.kid.clone(), Arc::new(key));
                }
                Err(reason) => set.unusable.push(UnusableKey {
                    kid: Some(kid.to_string()),
                    reason,
                }),
            }
        }
        Ok(set)
    }

    /// The usable key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<Key>> {
        self.keys.get(kid)
    }

    /// The reason the key with this `kid` was kept out, if it was.
    pub fn unusable_reason(&self, kid: &str) -> Option<&str> {
        self.unusable
            .iter()
            .find(|u| u.kid.as_deref() == Some(kid))
            .map(|u| u.reason.as_str())
    }

    /// Usable kids, in document order.
    pub fn kids(&self) -> &[String] {
        &self.order
    }

    pub fn unusable(&self) -> &[UnusableKey] {
        &self.unusable
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1).
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, l: usize) {
        if l < 0x80 {
            out.push(l as u8);
        } else {
            let bytes: Vec<u8> = l
                .to_be_bytes()
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
    }
    fn int(out: &mut Vec<u8>, v: &[u8]) {
        let pad = v.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    int(&mut body, n);
    int(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 8);
    out.push(0x30);
    len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

fn bit_len(n: &[u8]) -> usize {
    let n = strip_zeros(n);
    match n.first() {
        None => 0,
        Some(b) => (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
    }
}

/// The ROCA test (Nemec et al., CCS 2017): moduli made by the vulnerable Infineon library are
/// congruent, modulo each of these small primes, to a power of 65537.
fn roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: &[u32] = &[
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let r = n
            .iter()
            .fold(0u32, |acc, b| (acc * 256 + u32::from(*b)) % p);
        let g = 65537 % p;
        let mut x = 1u32;
        for _ in 0..p {
            if x == r {
                return true;
            }
            x = x * g % p;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_level_errors() {
        assert!(matches!(
            KeySet::parse(b"nope"),
            Err(JwksParseError::NotJson(_))
        ));
        assert_eq!(KeySet::parse(b"{}").unwrap_err(), JwksParseError::NoKeys);
        assert_eq!(
            KeySet::parse(br#"{"keys":[{"kty":"RSA"}]}"#).unwrap_err(),
            JwksParseError::MissingKid { index: 0 }
        );
        assert!(matches!(
            KeySet::parse(
                br#"{"keys":[{"kid":"a","kty":"oct","k":"AA"},{"kid":"a","kty":"oct","k":"AA"}]}"#
            ),
            Err(JwksParseError::DuplicateKid { .. })
        ));
        assert!(matches!(
            KeySet::parse(
                br#"{"keys":[{"kid":"a","kty":"EC","crv":"P-256","x":"","y":"","d":"AA"}]}"#
            ),
            Err(JwksParseError::PrivateKey { .. })
        ));
    }

    #[test]
    fn unusable_keys_keep_their_reason() {
        let set = KeySet::parse(
            br#"{"keys":[{"kid":"s","kty":"oct","k":"AAAA"},{"kid":"x","kty":"XYZ"},
                {"kid":"e","kty":"EC","crv":"P-521","x":"AA","y":"AA"},
                {"kid":"u","kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}"#,
        )
        .unwrap();
        assert!(set.is_empty());
        assert!(set.unusable_reason("s").unwrap().contains("HMAC"));
        assert!(set.unusable_reason("x").unwrap().contains("XYZ"));
        assert!(set.unusable_reason("e").unwrap().contains("P-521"));
        assert!(set.unusable_reason("u").unwrap().contains("enc"));
    }

    #[test]
    fn algorithm_names() {
        assert!(parse_alg("none").unwrap_err().contains("unsigned"));
        assert!(parse_alg("NONE").is_err());
        assert!(parse_alg("HS256").unwrap_err().contains("HMAC"));
        assert!(parse_alg("ES512").unwrap_err().contains("not supported"));
        assert_eq!(parse_alg("PS384").unwrap(), Algorithm::PS384);
    }

    #[test]
    fn rsa_der() {
        // SEQUENCE { INTEGER 0x00 0x80, INTEGER 3 }
        assert_eq!(
            rsa_public_key_der(&[0x80], &[3]),
            vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x03]
        );
        let big = vec![0xC1; 256];
        let der = rsa_public_key_der(&big, &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0A]);
    }

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[]), 0);
    }
}
