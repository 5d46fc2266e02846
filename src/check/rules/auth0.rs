//! Auth0's specifics: the exact form of its issuer.

use super::auth::AuthCfg;
use super::Ctx;
use crate::config::policy::auth::Provider;
use crate::diag::Diagnostic;

crate::rules! {
    AUTH0_ISSUER_TRAILING_SLASH {
        id: "auth0/issuer-trailing-slash",
        severity: Warning,
        summary: "an Auth0 issuer without its trailing `/`",
        why: "Auth0 tokens carry `iss: https://TENANT.auth0.com/`, with a trailing slash, and the gateway compares `iss` with `issuer` exactly. Write the issuer as Auth0's discovery document names it.",
        gateway: "",
        example: "issuer: https://acme.us.auth0.com",
        use_instead: "issuer: https://acme.us.auth0.com/",
    }
}

pub fn check(ctx: &mut Ctx) {
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        issuer_trailing_slash(ctx, a);
    }
}

fn issuer_trailing_slash(ctx: &mut Ctx, a: &AuthCfg) {
    let Some(u) = &a.iss else { return };
    let is_auth0 = matches!(a.provider, Some(Provider::Auth0(_)))
        || u.host.to_ascii_lowercase().ends_with(".auth0.com");
    if !is_auth0 || a.issuer.ends_with('/') || !u.path.is_empty() {
        return;
    }
    ctx.push(
        Diagnostic::new(
            &AUTH0_ISSUER_TRAILING_SLASH,
            format!(
                "issuer `{}` has no trailing `/`, but Auth0 tokens carry `{}/`",
                a.issuer, a.issuer
            ),
        )
        .at(
            ctx.value(&format!("{}/issuer", a.ptr)),
            "Auth0's `iss` ends with `/`",
        )
        .help(format!("write `issuer: {}/`", a.issuer))
        .note("the gateway compares `iss` with `issuer` exactly"),
    );
}
