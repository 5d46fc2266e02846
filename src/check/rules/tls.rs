//! TLS certificates and keys read from files: PEM blocks of the kind each field takes.

use std::path::Path;

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
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

/// A PEM file `path` (at `full`) that `files` read for the value at `ptr`: a private key when
/// `want_key`, else certificates.
pub fn pem_file(ctx: &mut Ctx, ptr: &str, path: &str, full: &Path, bytes: &[u8], want_key: bool) {
    if let Err((msg, help)) = pem_problem(&String::from_utf8_lossy(bytes), want_key) {
        ctx.push(
            Diagnostic::new(&TLS_PEM_INVALID, format!("`{path}` {msg}"))
                .at(ctx.value(ptr), "read from here")
                .help(help)
                .note(format!("read {}", full.display())),
        );
    }
}

fn pem_problem(text: &str, want_key: bool) -> Result<(), (String, String)> {
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
