//! Identity-provider specifics, Okta first: where its keys live, which of its authorization
//! servers can be verified locally, and the exact form of its issuer. Auth0's issuer form is
//! here too.

use super::auth::{AuthCfg, AuthKind};
use super::util::{is_okta_host, okta_custom_server, parse_url};
use super::Ctx;
use crate::config::policy::auth::{Jwks, Provider};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;

pub fn check(ctx: &mut Ctx) {
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        if a.okta {
            trailing_slash(ctx, a);
            jwks(ctx, a);
            org_server(ctx, a);
        }
        auth0(ctx, a);
    }
}

/// Where Okta serves the keys of this issuer.
pub fn okta_keys_url(issuer: &str) -> String {
    let trimmed = issuer.trim_end_matches('/');
    match parse_url(trimmed) {
        Some(u) if okta_custom_server(u.path).is_none() => {
            format!("{}/oauth2/v1/keys", u.origin_text())
        }
        _ => format!("{trimmed}/v1/keys"),
    }
}

fn trailing_slash(ctx: &mut Ctx, a: &AuthCfg) {
    if !a.issuer.ends_with('/') || a.iss.is_none() {
        return;
    }
    let trimmed = a.issuer.trim_end_matches('/');
    let ptr = format!("{}/issuer", a.ptr);
    let tail = trimmed.rsplit('/').next().unwrap_or(trimmed);
    ctx.push(
        Diagnostic::new(
            "okta/issuer-trailing-slash",
            format!(
                "issuer `{}` ends with `/`, but Okta tokens carry `.../{tail}` without it",
                a.issuer
            ),
        )
        .at(
            ctx.inner(&ptr, a.issuer, trimmed.len(), a.issuer.len()),
            "this `/` is not in the tokens' `iss`",
        )
        .help(format!("write `issuer: {trimmed}`"))
        .note("the gateway compares `iss` with `issuer` exactly, so every token is rejected")
        .with_fix(Fix::safe(
            "remove the trailing `/` of the issuer",
            Fix::replace(ctx.inner(&ptr, a.issuer, trimmed.len(), a.issuer.len()), ""),
        )),
    );
}

fn jwks(ctx: &mut Ctx, a: &AuthCfg) {
    let keys = okta_keys_url(a.issuer);
    match a.jwks {
        None if a.kind == AuthKind::Mcp => {
            let derived = format!("{}/.well-known/jwks.json", a.issuer.trim_end_matches('/'));
            let why = if matches!(a.provider, Some(Provider::Okta(_))) {
                "`provider: okta`"
            } else {
                "an Okta issuer"
            };
            let mut d = Diagnostic::new("okta/jwks-derived", format!("no `jwks` for {why}"))
                .at(
                    ctx.value(&format!("{}/issuer", a.ptr)),
                    format!("the gateway would fetch {derived}"),
                )
                .help(format!(
                    "Okta serves keys at {keys}; add\njwks:\n  url: {keys}"
                ))
                .note("without it the key fetch fails and every token is rejected");
            let block = format!("jwks:\n  url: {keys}");
            if let Some(edit) = ctx.insert_after(&format!("{}/issuer", a.ptr), &block) {
                d = d.with_fix(Fix::unsafe_(format!("add `jwks.url: {keys}`"), edit));
            }
            ctx.push(d);
        }
        Some(Jwks::Url(j)) => {
            let (Some(got), Some(iss)) = (&a.keys, &a.iss) else {
                return;
            };
            if !got.same_origin(iss) {
                return; // auth/jwks-origin speaks about that
            }
            let want_path = &keys[keys.find("://").map_or(0, |i| i + 3)..];
            let want_path = want_path.find('/').map_or("", |i| &want_path[i..]);
            if got.path.trim_end_matches('/') == want_path {
                return;
            }
            ctx.push(
                Diagnostic::new(
                    "okta/jwks-url",
                    format!(
                        "`{}` is not where Okta serves the keys of `{}`",
                        j.url, a.issuer
                    ),
                )
                .at(
                    ctx.value(&format!("{}/jwks/url", a.ptr)),
                    format!("Okta serves them at {keys}"),
                )
                .help(format!("write `url: {keys}`"))
                .note(if got.path.ends_with("/.well-known/jwks.json") {
                    "Okta has no `/.well-known/jwks.json`; its discovery document names `/v1/keys`"
                } else {
                    "keys of another authorization server do not verify this issuer's tokens"
                })
                .with_fix(Fix::unsafe_(
                    format!("write `url: {keys}`"),
                    Fix::replace(ctx.value(&format!("{}/jwks/url", a.ptr)), keys.clone()),
                )),
            );
        }
        _ => {}
    }
}

fn org_server(ctx: &mut Ctx, a: &AuthCfg) {
    if a.kind != AuthKind::Mcp {
        return; // ID tokens of the org server can be verified; jwtAuth may mean those
    }
    let Some(u) = &a.iss else { return };
    if !is_okta_host(u.host) || !(u.path.is_empty() || u.path == "/") {
        return;
    }
    ctx.push(
        Diagnostic::new(
            "okta/org-authorization-server",
            format!("issuer `{}` is Okta's org authorization server: its access tokens cannot be verified outside Okta", a.issuer),
        )
        .at(ctx.value(&format!("{}/issuer", a.ptr)), "org authorization server")
        .help(format!(
            "use a custom authorization server, for example `issuer: {}/oauth2/default` (Security > API > Authorization Servers)",
            a.issuer.trim_end_matches('/')
        ))
        .note("Okta signs org access tokens with keys it does not publish for validation; the gateway rejects every one of them"),
    );
}

fn auth0(ctx: &mut Ctx, a: &AuthCfg) {
    let Some(u) = &a.iss else { return };
    let is_auth0 = matches!(a.provider, Some(Provider::Auth0(_)))
        || u.host.to_ascii_lowercase().ends_with(".auth0.com");
    if !is_auth0 || a.issuer.ends_with('/') || !u.path.is_empty() {
        return;
    }
    ctx.push(
        Diagnostic::new(
            "auth0/issuer-trailing-slash",
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
