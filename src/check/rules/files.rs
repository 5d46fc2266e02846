//! Files the configuration references (JWKS, TLS certificates and keys, OpenAPI schemas). The
//! gateway reads them relative to its own working directory, which agw cannot know: agw looks
//! under `--root` (default: the current directory), says so when a file is not there, and checks
//! the content of what it finds. Inline JWKS documents get the same content check.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::util::ptr_token;
use super::Ctx;
use crate::config::policy::auth::Jwks;
use crate::config::ServerTls;
use crate::diag::{Diagnostic, Severity};

crate::rules! {
    FILES_MISSING {
        id: "files/missing",
        severity: Warning,
        summary: "a referenced file is not where agw looked",
        why: "The gateway reads `jwks: {file}`, TLS `cert`/`key`/`root` and OpenAPI schema files relative to its own working directory, which agw cannot know. agw looks under `--root DIR` (default: the current directory). A file it cannot find is a warning, or an error with `--strict-files`.",
        gateway: "",
        example: "",
        use_instead: "",
    }

    JWKS_INVALID {
        id: "jwks/invalid",
        severity: Error,
        summary: "a JWKS that the gateway cannot use",
        why: "A JWKS (inline or in a file) is a JSON document `{\"keys\": [...]}` whose keys each have `kty` and a `kid`: the gateway finds the key for a token by its `kid`, so keys without one are useless. A JWKS holds public keys only.",
        gateway: "",
        example: "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"n\": \"...\", \"e\": \"AQAB\"}]}'",
        use_instead: "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"k1\", \"n\": \"...\", \"e\": \"AQAB\"}]}'",
    }

    TLS_PEM_INVALID {
        id: "tls/pem-invalid",
        severity: Error,
        summary: "a TLS certificate or key file that is not the expected PEM",
        why: "`cert` and `root` take PEM certificates (`-----BEGIN CERTIFICATE-----`), `key` a PEM private key. A truncated block, a DER file or the wrong kind of block makes the gateway fail at start-up.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

const MAX_FILE: u64 = 8 * 1024 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jwks,
    Cert,
    Key,
    Root,
    OpenApi,
}

pub fn check(ctx: &mut Ctx) {
    let mut refs: Vec<(String, String, Kind)> = Vec::new();
    let mut inline: Vec<(String, String)> = Vec::new();
    for a in ctx.auth.iter() {
        match a.jwks {
            Some(Jwks::File(f)) => {
                refs.push((format!("{}/jwks/file", a.ptr), f.file.clone(), Kind::Jwks))
            }
            Some(Jwks::Inline(s)) => inline.push((format!("{}/jwks", a.ptr), s.clone())),
            _ => {}
        }
    }
    let mut tls = |base: String, t: &Option<ServerTls>| {
        let Some(t) = t else { return };
        for (k, v, kind) in [
            ("cert", &t.cert, Kind::Cert),
            ("key", &t.key, Kind::Key),
            ("root", &t.root, Kind::Root),
        ] {
            if let Some(v) = v {
                refs.push((format!("{base}/tls/{k}"), v.clone(), kind));
            }
        }
    };
    for (bi, b) in ctx.cfg.binds.iter().enumerate() {
        for (li, l) in b.listeners.iter().enumerate() {
            tls(format!("/binds/{bi}/listeners/{li}"), &l.tls);
        }
    }
    for (name, g) in &ctx.cfg.gateways {
        let base = format!("/gateways/{}", ptr_token(name));
        tls(base.clone(), &g.tls);
        for (li, l) in g.listeners.iter().enumerate() {
            tls(format!("{base}/listeners/{li}"), &l.tls);
        }
    }
    for (ptr, b) in ctx.mcp.iter() {
        for (ti, t) in b.targets.iter().enumerate() {
            if let Some(Value::String(f)) =
                t.openapi.as_ref().and_then(|o| o.schema.value.get("file"))
            {
                refs.push((
                    format!("{ptr}/targets/{ti}/openapi/schema/file"),
                    f.clone(),
                    Kind::OpenApi,
                ));
            }
        }
    }
    let root = ctx
        .opts
        .root
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    for (ptr, path, kind) in refs {
        if path.contains("agw-unset-") {
            continue;
        }
        let full = if Path::new(&path).is_absolute() {
            PathBuf::from(&path)
        } else {
            root.join(path.strip_prefix("./").unwrap_or(&path))
        };
        match read(&full) {
            Err(why) => missing(ctx, &ptr, &path, &full, &why),
            Ok(bytes) => match kind {
                Kind::Jwks => {
                    let text = String::from_utf8_lossy(&bytes);
                    if let Err((msg, help)) = jwks_problem(&text) {
                        ctx.push(
                            Diagnostic::new(&JWKS_INVALID, format!("the JWKS file `{path}` {msg}"))
                                .at(ctx.value(&ptr), "read from here")
                                .help(help)
                                .note(format!("read {}", full.display())),
                        );
                    }
                }
                Kind::Cert | Kind::Root | Kind::Key => {
                    let text = String::from_utf8_lossy(&bytes);
                    if let Err((msg, help)) = pem_problem(&text, kind) {
                        ctx.push(
                            Diagnostic::new(&TLS_PEM_INVALID, format!("`{path}` {msg}"))
                                .at(ctx.value(&ptr), "read from here")
                                .help(help)
                                .note(format!("read {}", full.display())),
                        );
                    }
                }
                Kind::OpenApi => {}
            },
        }
    }
    for (ptr, text) in inline {
        if let Err((msg, help)) = jwks_problem(&text) {
            ctx.push(
                Diagnostic::new(&JWKS_INVALID, format!("the inline JWKS {msg}"))
                    .at(ctx.value(&ptr), "inline JWKS")
                    .help(help),
            );
        }
    }
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "not found".to_string(),
        _ => e.to_string(),
    })?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    let mut buf = Vec::new();
    f.take(MAX_FILE)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

fn missing(ctx: &mut Ctx, ptr: &str, path: &str, full: &Path, why: &str) {
    let strict = ctx.opts.strict_files;
    let mut d = Diagnostic::new(
        &FILES_MISSING,
        format!("`{path}`: {why} (looked at {})", full.display()),
    )
    .at(ctx.value(ptr), "referenced file")
    .help("the gateway resolves the path against its own working directory; run agw with `--root DIR` set to that directory to check the file")
    .note(if strict {
        "an error because of `--strict-files`"
    } else {
        "a warning because agw cannot know the gateway's working directory; `--strict-files` makes it an error"
    });
    if strict {
        d.severity = Severity::Error;
    }
    ctx.push(d);
}

type Problem = (String, String);

pub fn jwks_problem(text: &str) -> Result<(), Problem> {
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

fn pem_problem(text: &str, kind: Kind) -> Result<(), Problem> {
    let mut labels = Vec::new();
    let mut lines = text.lines().map(str::trim).enumerate();
    while let Some((_, line)) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for (n, l) in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            if l.contains(':') {
                continue; // RFC 1421 headers of legacy encrypted keys
            }
            if !l
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
            {
                return Err((
                    format!("has a broken `{label}` block: line {} is not base64", n + 1),
                    "re-export the file; a PEM body has only base64 characters".into(),
                ));
            }
            body.push_str(l);
        }
        if !closed {
            return Err((
                format!("has a `{label}` block without its END line"),
                "the file is truncated; re-export it".into(),
            ));
        }
        if body.is_empty() || !body.len().is_multiple_of(4) {
            return Err((
                format!("has a `{label}` block whose base64 body is truncated"),
                "re-export the file".into(),
            ));
        }
        labels.push(label.to_string());
    }
    if labels.is_empty() {
        return Err((
            "is not a PEM file (no `-----BEGIN ...-----` line)".into(),
            "the gateway reads PEM; convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`".into(),
        ));
    }
    let want_key = kind == Kind::Key;
    let is_key = |l: &String| l.ends_with("PRIVATE KEY");
    if want_key && !labels.iter().any(is_key) {
        return Err((
            format!("holds {} but no private key", labels.join(", ")),
            "`key` is the private key of the certificate (`-----BEGIN PRIVATE KEY-----`)".into(),
        ));
    }
    if !want_key && !labels.iter().any(|l| l == "CERTIFICATE") {
        return Err((
            format!("holds {} but no certificate", labels.join(", ")),
            "`cert` and `root` take certificates (`-----BEGIN CERTIFICATE-----`); the private key goes in `key`".into(),
        ));
    }
    Ok(())
}
