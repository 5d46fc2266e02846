//! Browser sign-in (`oidc` policies) needs a key the gateway reads from its environment, not from
//! the file: `OIDC_COOKIE_SECRET` encrypts the session cookies, and the gateway refuses a file
//! with an `oidc` policy when it is not set ("OIDC_COOKIE_SECRET is required when oidc is
//! configured", agentgateway `types/local.rs`, `split_policies_for_target`; read in `config.rs`).

use serde_json::Value;

use super::util::ptr_token;
use super::Ctx;
use crate::diag::Diagnostic;

pub fn check(ctx: &mut Ctx) {
    if ctx.opts.gateway_env.oidc_cookie_secret || !ctx.text().contains("oidc") {
        return;
    }
    let mut found = Vec::new();
    policies(ctx.document(), String::new(), &mut found);
    let Some(first) = found.first() else { return };
    let mut d = Diagnostic::new(
        "auth/oidc-cookie-secret",
        "an `oidc` policy needs `OIDC_COOKIE_SECRET` in the gateway's environment, and it is not set here: without it the gateway refuses the file",
    )
    .at(ctx.key(first), "needs OIDC_COOKIE_SECRET");
    for ptr in found.iter().skip(1).take(4) {
        d = d.label(ctx.key(ptr), "also");
    }
    ctx.push(
        d.help("start the gateway with `OIDC_COOKIE_SECRET` set to a random key (for example `openssl rand -hex 32`); check with `-e OIDC_COOKIE_SECRET=...` or `--env-file` to confirm")
            .note("the variable is read by the gateway process, not from the file; agw looks it up in the environment it checks with"),
    );
}

/// Every `oidc` policy in the document: an `oidc` mapping outside the process settings.
fn policies(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if at.is_empty() && (k == "config" || k == "llm") {
                    continue;
                }
                let ptr = format!("{at}/{}", ptr_token(k));
                if k == "oidc" && x.is_object() {
                    out.push(ptr.clone());
                }
                policies(x, ptr, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                policies(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
