//! JWKS documents, inline or read from a file: a key set the gateway can find keys in.

use std::path::Path;

use serde_json::Value;

use super::Ctx;
use crate::config::policy::auth::Jwks;
use crate::diag::Diagnostic;

crate::rules! {
    JWKS_INVALID {
        id: "jwks/invalid",
        severity: Error,
        summary: "a JWKS that the gateway cannot use",
        why: "A JWKS (inline or in a file) is a JSON document `{\"keys\": [...]}` whose keys each have `kty` and a `kid`: the gateway finds the key for a token by its `kid`, so keys without one are useless. A JWKS holds public keys only.",
        gateway: "",
        example: "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"n\": \"...\", \"e\": \"AQAB\"}]}'",
        use_instead: "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"k1\", \"n\": \"...\", \"e\": \"AQAB\"}]}'",
    }
}

/// The inline JWKS documents.
pub fn check(ctx: &mut Ctx) {
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        let Some(Jwks::Inline(text)) = a.jwks else {
            continue;
        };
        if let Err((msg, help)) = problem(text) {
            let ptr = format!("{}/jwks", a.ptr);
            ctx.push(
                Diagnostic::new(&JWKS_INVALID, format!("the inline JWKS {msg}"))
                    .at(ctx.value(&ptr), "inline JWKS")
                    .help(help),
            );
        }
    }
}

/// A JWKS file `path` (at `full`) that `files` read for the value at `ptr`.
pub fn file(ctx: &mut Ctx, ptr: &str, path: &str, full: &Path, bytes: &[u8]) {
    if let Err((msg, help)) = problem(&String::from_utf8_lossy(bytes)) {
        ctx.push(
            Diagnostic::new(&JWKS_INVALID, format!("the JWKS file `{path}` {msg}"))
                .at(ctx.value(ptr), "read from here")
                .help(help)
                .note(format!("read {}", full.display())),
        );
    }
}

/// What makes `text` unusable as a JWKS, with the fix.
fn problem(text: &str) -> Result<(), (String, String)> {
    let v: Value = serde_json::from_str(text.trim()).map_err(|e| {
        (
            format!("is not JSON: {e}"),
            "a JWKS is a JSON document `{\"keys\": [...]}`; a PEM public key is not accepted here"
                .to_string(),
        )
    })?;
    let keys = match v.get("keys") {
        Some(Value::Array(k)) => k,
        _ if v.get("kty").is_some() => {
            return Err((
                "is a single JWK, not a key set".into(),
                "wrap it: `{\"keys\": [ ...the key... ]}`".into(),
            ))
        }
        _ => {
            return Err((
                "has no `keys` list".into(),
                "a JWKS is `{\"keys\": [...]}`".into(),
            ))
        }
    };
    if keys.is_empty() {
        return Err((
            "has no keys".into(),
            "add the issuer's public signing keys".into(),
        ));
    }
    for (i, k) in keys.iter().enumerate() {
        if k.get("kty").and_then(Value::as_str).is_none() {
            return Err((
                format!("key {} has no `kty`", i + 1),
                "every JWK needs `kty` (RSA, EC or OKP)".into(),
            ));
        }
        if k.get("kid").and_then(Value::as_str).is_none() {
            return Err((
                format!("key {} has no `kid`", i + 1),
                "the gateway finds the key by the token's `kid` header and ignores keys without one; add `\"kid\": \"...\"` matching your tokens".into(),
            ));
        }
        if k.get("d").is_some() {
            return Err((
                format!("key {} is a private key (it has `d`)", i + 1),
                "publish only the public part of the key; remove `d` (and `p`, `q`, `dp`, `dq`, `qi`)".into(),
            ));
        }
    }
    Ok(())
}
