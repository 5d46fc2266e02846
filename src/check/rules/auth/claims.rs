//! Claims an authorization rule reads that tokens may not carry. The expressions come parsed
//! from `cel`, which reads every expression of the file once.

use super::super::cel::{Expression, Ref};
use super::super::Ctx;
use crate::config::policy::authz::RuleKind;
use crate::diag::{Diagnostic, Severity};

crate::rules! {
    AUTH_CLAIM_MAY_BE_ABSENT {
        id: "auth/claim-may-be-absent",
        severity: Note,
        summary: "an authorization rule reads a claim that tokens may not carry",
        why: "Claims such as `groups` or `roles` are in tokens only when the issuer is configured to put them there (Okta: a claim on the authorization server with a filter; it is not in access tokens by default). A rule that reads an absent claim fails: an allow rule then never matches, and a deny rule does not deny (reported as a warning). Check a real token with `agw verify-token`, or guard the claim with `has(jwt.claim)`. With an Okta issuer, every claim outside Okta's standard access token claims is reported.",
        gateway: "",
        example: "mcpAuthorization:\n  rules:\n  - 'jwt.groups.exists(g, g == \"admins\")'",
        use_instead: "mcpAuthorization:\n  rules:\n  - 'has(jwt.groups) && jwt.groups.exists(g, g == \"admins\")'",
    }
}

/// Claims Okta puts in every access token of a custom authorization server.
const OKTA_ACCESS_TOKEN_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "cid",
    "uid",
    "scp",
    "ver",
    "auth_time",
];
/// Claims that most issuers emit only when configured to.
const CONDITIONAL_CLAIMS: &[&str] = &["groups", "roles", "role", "permissions"];

/// `claims`: the unguarded `jwt.*` reads of `e` (`refs`: all its reads, `has(...)` tests
/// included). Each claim is reported once per expression.
pub(in crate::check::rules) fn may_be_absent(
    ctx: &mut Ctx,
    e: &Expression,
    refs: &[Ref],
    claims: &[&Ref],
) {
    let guarded: Vec<&str> = refs
        .iter()
        .filter(|r| r.test && r.path.len() == 2 && r.path[0] == "jwt")
        .map(|r| r.path[1].as_str())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for r in claims {
        let claim = r.path[1].as_str();
        let conditional = if e.okta {
            !OKTA_ACCESS_TOKEN_CLAIMS.contains(&claim) && claim != "rawToken"
        } else {
            CONDITIONAL_CLAIMS.contains(&claim)
        };
        if !conditional || guarded.contains(&claim) || seen.contains(&claim) {
            continue;
        }
        seen.push(claim);
        let (a, z) = r.bytes(&e.text);
        let who = if e.okta {
            "Okta puts it in access tokens only when a claim is configured for it on the authorization server"
        } else {
            "most issuers emit it only when configured to"
        };
        let mut d = Diagnostic::new(
            &AUTH_CLAIM_MAY_BE_ABSENT,
            format!("the rule reads `jwt.{claim}`: {who}"),
        )
        .at(ctx.inner(&e.ptr, &e.text, a, z), "may be absent from tokens")
        .help(format!(
            "check that your tokens carry `{claim}` (`agw verify-token` prints the claims), or guard it: `has(jwt.{claim}) && ...`"
        ));
        if e.kind == RuleKind::Deny {
            d.severity = Severity::Warning;
            d = d.note("in a `deny` rule this matters: a token without the claim makes the rule fail to match, and the request is not denied");
        }
        ctx.push(d);
    }
}
