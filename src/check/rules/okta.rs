//! Okta's specifics: where its keys live, which of its authorization servers can be verified
//! locally, the exact form of its issuer, and how its tokens carry scopes.

use super::auth::{AuthCfg, AuthKind};
use super::cel::{Expression, Ref};
use super::Ctx;
use crate::config::okta::{is_okta_host, okta_keys_url};
use crate::config::policy::auth::{derived_jwks_url, Jwks, Provider};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;

crate::rules! {
    OKTA_SCOPE_CLAIM {
        id: "okta/scope-claim",
        severity: Warning,
        summary: "a rule reads Okta scopes the wrong way",
        why: "Okta access tokens carry their scopes in `scp`, a list; there is no `scope` claim. `jwt.scope` is therefore always absent, and `jwt.scp == \"x\"` compares a list with a string and is never true. Test a scope with `\"x\" in jwt.scp`.",
        gateway: "",
        example: "mcpAuthorization:\n  rules:\n  - 'jwt.scope == \"mcp:tools\"'",
        use_instead: "mcpAuthorization:\n  rules:\n  - '\"mcp:tools\" in jwt.scp'",
    }
    OKTA_JWKS_DERIVED {
        id: "okta/jwks-derived",
        severity: Warning,
        summary: "an Okta issuer without `jwks`",
        why: "Without `jwks` the gateway fetches keys from `{issuer}/.well-known/jwks.json`. Okta does not serve that path: its keys are at `{issuer}/v1/keys` (for the org server `https://ORG.okta.com/oauth2/v1/keys`), so every token would be rejected. Give the URL explicitly.",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  jwks:\n    url: https://acme.okta.com/oauth2/default/v1/keys",
    }

    OKTA_JWKS_URL {
        id: "okta/jwks-url",
        severity: Warning,
        summary: "the JWKS URL is not where Okta serves this issuer's keys",
        why: "Okta serves the keys of an authorization server at `{issuer}/v1/keys`. Another path on the same host (`/.well-known/jwks.json`, or the keys of another authorization server) fails to fetch or holds keys that do not verify this issuer's tokens.",
        gateway: "",
        example: "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/.well-known/jwks.json",
        use_instead: "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys",
    }

    OKTA_ORG_AUTHORIZATION_SERVER {
        id: "okta/org-authorization-server",
        severity: Warning,
        summary: "the issuer is Okta's org authorization server",
        why: "Access tokens of the org authorization server (`https://ORG.okta.com`, no `/oauth2/...`) are meant for Okta's own APIs: Okta does not publish keys to verify them, so the gateway rejects every one. Use a custom authorization server such as `default` (`https://ORG.okta.com/oauth2/default`). ID tokens of the org server can be verified, which is why `jwtAuth` is not reported.",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
    }

    OKTA_ISSUER_TRAILING_SLASH {
        id: "okta/issuer-trailing-slash",
        severity: Error,
        summary: "an Okta issuer ending with `/`",
        why: "The gateway compares the token's `iss` claim with `issuer` character for character. Okta's tokens carry the issuer without a trailing slash (`https://acme.okta.com/oauth2/default`), so an issuer written with one rejects every token.",
        gateway: "",
        example: "issuer: https://acme.okta.com/oauth2/default/",
        use_instead: "issuer: https://acme.okta.com/oauth2/default",
    }
}

pub fn check(ctx: &mut Ctx) {
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        if a.okta {
            trailing_slash(ctx, a);
            jwks(ctx, a);
            org_server(ctx, a);
        }
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
            &OKTA_ISSUER_TRAILING_SLASH,
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
            let Ok(derived) = derived_jwks_url(a.issuer, a.provider) else {
                return;
            };
            let why = if matches!(a.provider, Some(Provider::Okta(_))) {
                "`provider: okta`"
            } else {
                "an Okta issuer"
            };
            let mut d = Diagnostic::new(&OKTA_JWKS_DERIVED, format!("no `jwks` for {why}"))
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
                    &OKTA_JWKS_URL,
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
            &OKTA_ORG_AUTHORIZATION_SERVER,
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

/// A read of Okta's scopes the wrong way (`jwt.scope`, or the list `jwt.scp` compared with a
/// string) in `e`, an expression of a policy block with an Okta issuer; whether it was one.
pub(super) fn scope_read(ctx: &mut Ctx, e: &Expression, r: &Ref) -> bool {
    let message = match r.path[1].as_str() {
        "scope" => "Okta access tokens have no `scope` claim: their scopes are the list `scp`",
        "scp" if r.path.len() == 2 && r.eq_string => {
            "`jwt.scp` is a list in Okta tokens: comparing it with a string is never true"
        }
        _ => return false,
    };
    let label = if r.path[1] == "scope" {
        "always absent in Okta tokens"
    } else {
        "a list of scopes"
    };
    let (a, z) = r.bytes(&e.text);
    ctx.push(
        Diagnostic::new(&OKTA_SCOPE_CLAIM, message)
            .at(ctx.inner(&e.ptr, &e.text, a, z), label)
            .help("test a scope with `\"SCOPE\" in jwt.scp`"),
    );
    true
}
