//! Authentication and token rules.

use super::Ctx;
use crate::config::walk;
use crate::diag::Diagnostic;

pub fn check(ctx: &mut Ctx) {
    for site in walk::route_policies(ctx.cfg) {
        let Some(auth) = &site.policies.mcp_authentication else {
            continue;
        };
        let ptr = format!("{}/mcpAuthentication", site.ptr);
        audiences(ctx, &ptr, auth.audiences.as_deref(), &auth.issuer);
    }
}

fn audiences(ctx: &mut Ctx, ptr: &str, audiences: Option<&[String]>, issuer: &str) {
    let why = format!("tokens that `{issuer}` minted for any other API will be accepted here");
    let d = match audiences {
        None => Diagnostic::new(
            "auth/audiences-missing",
            "`mcpAuthentication` has no `audiences`: the token's `aud` claim is not checked",
        )
        .at(ctx.key(ptr), "no `audiences` here")
        .note(format!(
            "{why}; current gateway releases refuse a file without `audiences`"
        )),
        Some([]) => Diagnostic::new(
            "auth/audiences-missing",
            "`audiences` is empty: the token's `aud` claim is not checked",
        )
        .at(ctx.value(&format!("{ptr}/audiences")), "empty list")
        .note(why),
        Some(_) => return,
    };
    let hint = if issuer.contains(".okta.com") || issuer.contains(".oktapreview.com") {
        "add `audiences: [api://default]` (the audience of Okta's `default` server; use your authorization server's Audience setting)"
    } else {
        "add `audiences:` with the `aud` value your authorization server puts in tokens for this gateway"
    };
    ctx.push(d.help(hint));
}
