//! Browser sign-in (`oidc` policies) needs a key the gateway reads from its environment, not from
//! the file: `OIDC_COOKIE_SECRET` encrypts the session cookies, and the gateway refuses a file
//! with an `oidc` policy when it is not set ("OIDC_COOKIE_SECRET is required when oidc is
//! configured", agentgateway `types/local.rs`, `split_policies_for_target`; read in `config.rs`).

use super::super::util::each_entry;
use super::super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    AUTH_OIDC_COOKIE_SECRET {
        id: "auth/oidc-cookie-secret",
        severity: Warning,
        summary: "an `oidc` policy while `OIDC_COOKIE_SECRET` is not set",
        why: "Browser sign-in (`oidc`) keeps its session in cookies encrypted with a key the gateway reads from its environment, `OIDC_COOKIE_SECRET`, not from the file. The gateway refuses a file with an `oidc` policy when the variable is not set (\"OIDC_COOKIE_SECRET is required when oidc is configured\", agentgateway `types/local.rs`). agw looks the variable up in the environment it checks with (`-e`, `--env-file`, the process): a warning, since the gateway's environment may differ.",
        gateway: "",
        example: "# gateway started without OIDC_COOKIE_SECRET\npolicies:\n  oidc: {issuer: ..., clientId: ..., clientSecret: ..., redirectURI: ...}",
        use_instead: "# OIDC_COOKIE_SECRET=$(openssl rand -hex 32) agentgateway -f config.yaml\npolicies:\n  oidc: {issuer: ..., clientId: ..., clientSecret: ..., redirectURI: ...}",
    }
}

pub fn check(ctx: &mut Ctx) {
    if ctx.opts.gateway_env.oidc_cookie_secret || !ctx.text().contains("oidc") {
        return;
    }
    // an `oidc` mapping outside the process settings is a policy
    let mut found = Vec::new();
    each_entry(ctx.document(), &mut |ptr, k, x| {
        let settings = ptr.starts_with("/config/") || ptr.starts_with("/llm/");
        if k == "oidc" && x.is_object() && !settings {
            found.push(ptr.to_string());
        }
    });
    let Some(first) = found.first() else { return };
    let mut d = Diagnostic::new(
        &AUTH_OIDC_COOKIE_SECRET,
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
