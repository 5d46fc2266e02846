//! The signature layer: strict parsing of a compact JWS and verification of its signature with
//! a key whose type (and `alg`, when the key has one) pins the algorithm.
//!
//! Parsing is strict on purpose: exactly three segments, base64url without padding, whitespace
//! or stray characters, canonical trailing bits, a header that is a JSON object without
//! duplicate members. A lenient decoder that skips a stray character accepts a token the issuer
//! never signed in that form.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::Deserializer as _;
use serde_json::{Map, Value};

use crate::oidc::jwks::{parse_alg, Key};

/// The largest token agw reads; real access tokens are a few kilobytes, and most servers refuse
/// request headers above 8-16 KiB anyway.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Header members agw never follows to find a key.
pub const IGNORED_KEY_HEADERS: &[&str] = &["jku", "x5u", "jwk", "x5c"];

/// A compact JWS, decoded.
#[derive(Debug, Clone)]
pub struct Compact<'a> {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
    /// `BASE64URL(header) . BASE64URL(payload)`: the bytes that are signed.
    pub signing_input: &'a str,
    /// The third segment as sent.
    pub signature_b64: &'a str,
    pub signature: Vec<u8>,
}

/// Why a text is not a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("no token")]
    Empty,
    #[error("the token is {len} bytes; agw refuses tokens over {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("this is a JWS in JSON serialization; access tokens use the compact form `header.payload.signature`")]
    JsonSerialization,
    #[error("{found} segments; a signed token has 3 (`header.payload.signature`){}", if *found == 5 { ": 5 is an encrypted token (JWE), which the gateway cannot read" } else { "" })]
    Segments { found: usize },
    #[error("the {part} is empty")]
    EmptySegment { part: &'static str },
    #[error("the {part} is not base64url without padding: {reason}")]
    Base64 { part: &'static str, reason: String },
    #[error("the header is not a JSON object: {reason}")]
    Header { reason: String },
}

/// Splits and decodes a compact JWS, refusing anything irregular.
pub fn parse_compact(token: &str, max_len: usize) -> Result<Compact<'_>, FormatError> {
    if token.is_empty() {
        return Err(FormatError::Empty);
    }
    if token.len() > max_len {
        return Err(FormatError::TooLarge {
            len: token.len(),
            max: max_len,
        });
    }
    if token.starts_with('{') {
        return Err(FormatError::JsonSerialization);
    }
    let found = token.split('.').count();
    if found != 3 {
        return Err(FormatError::Segments { found });
    }
    let mut parts = token.splitn(3, '.');
    let (h, p, s) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    if h.is_empty() {
        return Err(FormatError::EmptySegment { part: "header" });
    }
    if s.is_empty() {
        return Err(FormatError::EmptySegment { part: "signature" });
    }
    let header_bytes = b64("header", h)?;
    let payload = b64("payload", p)?;
    let signature = b64("signature", s)?;
    let header = object_without_duplicates(&header_bytes)
        .map_err(|reason| FormatError::Header { reason })?;
    Ok(Compact {
        header,
        payload,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature_b64: s,
        signature,
    })
}

fn b64(part: &'static str, s: &str) -> Result<Vec<u8>, FormatError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|e| FormatError::Base64 {
        part,
        reason: match e {
            base64::DecodeError::InvalidByte(at, b) => {
                format!("character {:?} at offset {at}", b as char)
            }
            base64::DecodeError::InvalidPadding => "padding (`=`) is not allowed".into(),
            base64::DecodeError::InvalidLastSymbol(at, _) => {
                format!("non-canonical last character at offset {at}")
            }
            other => other.to_string(),
        },
    })
}

/// A decoded JSON object (a header or a claims set).
pub type JsonObject = Map<String, Value>;

/// Best effort, for display only: the header and claims of a token that did not parse as a whole
/// (each segment decoded on its own).
pub fn decode_for_display(token: &str) -> (Option<JsonObject>, Option<JsonObject>) {
    if token.len() > MAX_TOKEN_BYTES || token.starts_with('{') {
        return (None, None);
    }
    let mut parts = token.split('.');
    let mut part = || {
        parts
            .next()
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| object_without_duplicates(&b).ok())
    };
    let header = part();
    let claims = part();
    (header, claims)
}

/// Parses a JSON object, refusing duplicate member names (RFC 7515 §4: a duplicate `alg` could
/// mean one thing to the verifier and another to the issuer).
pub fn object_without_duplicates(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    struct NoDups;
    impl<'de> Visitor<'de> for NoDups {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(k) = m.next_key::<String>()? {
                if out.contains_key(&k) {
                    return Err(A::Error::custom(format!("duplicate member `{k}`")));
                }
                let v: Value = m.next_value()?;
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let map = de.deserialize_map(NoDups).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(map)
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the header has no `alg`")]
    AlgMissing,
    #[error("`alg` is not a string")]
    AlgNotString,
    /// `none`, HMAC or an unsupported algorithm.
    #[error("{0}")]
    AlgRefused(String),
    #[error("the token says {alg:?} but key `{kid}` ({key_type}) allows only {}{}", allowed.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", "), if *pinned { " (its `alg`)" } else { "" })]
    AlgNotAllowed {
        alg: Algorithm,
        kid: String,
        key_type: String,
        allowed: Vec<Algorithm>,
        pinned: bool,
    },
    #[error("the signature does not verify with key `{kid}`")]
    Invalid { kid: String },
    #[error("the key cannot be used: {0}")]
    Key(String),
}

/// The header's `alg`, if it names an algorithm agw accepts at all.
pub fn header_algorithm(header: &Map<String, Value>) -> Result<Algorithm, SignatureError> {
    match header.get("alg") {
        None => Err(SignatureError::AlgMissing),
        Some(Value::String(s)) => parse_alg(s).map_err(SignatureError::AlgRefused),
        Some(_) => Err(SignatureError::AlgNotString),
    }
}

/// The algorithm the token may be verified with: the header's, if the key allows it. The key
/// chooses; a token never picks an algorithm its key does not allow.
pub fn pinned_algorithm(
    header: &Map<String, Value>,
    key: &Key,
) -> Result<Algorithm, SignatureError> {
    let alg = header_algorithm(header)?;
    let allowed = key.allowed_algorithms();
    if allowed.contains(&alg) {
        Ok(alg)
    } else {
        Err(SignatureError::AlgNotAllowed {
            alg,
            kid: key.kid.clone(),
            key_type: key.key_type.to_string(),
            allowed,
            pinned: key.alg.is_some(),
        })
    }
}

/// Verifies the signature of `c` with `key`, the algorithm pinned by the key.
pub fn verify_signature(c: &Compact<'_>, key: &Key) -> Result<Algorithm, SignatureError> {
    let alg = pinned_algorithm(&c.header, key)?;
    match jsonwebtoken::crypto::verify(
        c.signature_b64,
        c.signing_input.as_bytes(),
        key.decoding_key(),
        alg,
    ) {
        Ok(true) => Ok(alg),
        Ok(false) => Err(SignatureError::Invalid {
            kid: key.kid.clone(),
        }),
        Err(e) => Err(SignatureError::Key(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_base64() {
        assert_eq!(parse_compact("", 100).unwrap_err(), FormatError::Empty);
        assert_eq!(
            parse_compact("a.b", 100).unwrap_err(),
            FormatError::Segments { found: 2 }
        );
        assert!(parse_compact("a.b.c.d.e", 100)
            .unwrap_err()
            .to_string()
            .contains("JWE"));
        assert!(matches!(
            parse_compact("eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", 100).unwrap_err(),
            FormatError::Base64 {
                part: "payload",
                ..
            }
        ));
        assert!(matches!(
            parse_compact("eyJhbGciOiJSUzI1NiJ9.e30.AA AA", 100).unwrap_err(),
            FormatError::Base64 {
                part: "signature",
                ..
            }
        ));
        assert!(matches!(
            parse_compact(&"a".repeat(200), 100).unwrap_err(),
            FormatError::TooLarge { .. }
        ));
        // {"alg":"RS256","alg":"none"}
        let dup = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","alg":"none"}"#);
        let err = parse_compact(&format!("{dup}.e30.AAAA"), 1000).unwrap_err();
        assert!(err.to_string().contains("duplicate member `alg`"), "{err}");
        let arr = URL_SAFE_NO_PAD.encode(b"[1]");
        assert!(matches!(
            parse_compact(&format!("{arr}.e30.AAAA"), 1000).unwrap_err(),
            FormatError::Header { .. }
        ));
    }

    #[test]
    fn refused_algorithms() {
        let h = |alg: &str| {
            let mut m = Map::new();
            m.insert("alg".into(), Value::String(alg.into()));
            m
        };
        assert!(matches!(
            header_algorithm(&h("none")),
            Err(SignatureError::AlgRefused(_))
        ));
        assert!(matches!(
            header_algorithm(&h("HS256")),
            Err(SignatureError::AlgRefused(_))
        ));
        assert_eq!(header_algorithm(&h("ES256")), Ok(Algorithm::ES256));
        assert_eq!(
            header_algorithm(&Map::new()),
            Err(SignatureError::AlgMissing)
        );
    }
}
