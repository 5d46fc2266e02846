//! Files the configuration references (JWKS, TLS certificates and keys, OpenAPI schemas). The
//! gateway reads them relative to its own working directory, which agw cannot know: agw looks
//! under `--root` (default: the current directory), says so when a file is not there, and checks
//! the content of what it finds (`jwks.rs`, `tls.rs`).

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
    for a in ctx.auth.iter() {
        if let Some(Jwks::File(f)) = a.jwks {
            refs.push((format!("{}/jwks/file", a.ptr), f.file.clone(), Kind::Jwks));
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
        let full = crate::config::resolve_path(&root, &path);
        match read(&full) {
            Err(why) => missing(ctx, &ptr, &path, &full, &why),
            Ok(bytes) => match kind {
                Kind::Jwks => super::jwks::file(ctx, &ptr, &path, &full, &bytes),
                Kind::Cert | Kind::Root => {
                    super::tls::pem_file(ctx, &ptr, &path, &full, &bytes, false)
                }
                Kind::Key => super::tls::pem_file(ctx, &ptr, &path, &full, &bytes, true),
                Kind::OpenApi => {}
            },
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
