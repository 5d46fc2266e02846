//! Authentication and token rules: `mcpAuthentication` and `jwtAuth`, where they sit, what they
//! accept, and whether MCP clients can discover how to get a token.

pub(crate) mod claims;
pub(crate) mod oidc;

use std::collections::HashSet;

use super::util::{self, served_paths, WK_AUTH_SERVER, WK_RESOURCE};
use super::Ctx;
use crate::config::policy::auth::{
    AuthMode, AuthorizationLocation, Jwks, JwtAuth, JwtValidationOptions, McpAuthentication,
    Provider,
};
use crate::config::route::RouteMatch;
use crate::config::routing::{path_matches, prefix_matches, regex_covers};
use crate::config::topology::Topology;
use crate::config::url::{is_local_host, parse_url, Url};
use crate::config::walk::{PolicySite, RouteSite};
use crate::config::{Config, GatewayPolicies, RoutePolicies};
use crate::diag::fix::Fix;
use crate::diag::Diagnostic;

crate::rules! {
    AUTH_AUDIENCES_MISSING {
        id: "auth/audiences-missing",
        severity: Error,
        summary: "`mcpAuthentication` without `audiences`",
        why: "The gateway refuses a file whose `mcpAuthentication` has no `audiences` (\"missing field `audiences`\"; agentgateway `types/agent.rs`, `McpAuthentication`, since 1.2): without it the token's `aud` claim would not be checked, and an access token the issuer minted for any other API would be accepted. Add the audience your authorization server puts in tokens for this gateway. For an Okta custom authorization server `.../oauth2/default` it is `api://default` unless you changed it (offered as a fix to confirm, with --unsafe-fixes).",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]",
    }

    AUTH_AUDIENCES_EMPTY {
        id: "auth/audiences-empty",
        severity: Warning,
        summary: "`audiences: []`",
        why: "An empty list loads, but no audience is checked: an access token the issuer minted for any other API is accepted here too. List the audience your authorization server puts in tokens for this gateway.",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: []",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]",
    }

    AUTH_RESOURCE_METADATA_MISSING {
        id: "auth/resource-metadata-missing",
        severity: Error,
        summary: "`mcpAuthentication` without `resourceMetadata`",
        why: "The gateway refuses a file whose `mcpAuthentication` has no `resourceMetadata` (\"missing field `resourceMetadata`\"; agentgateway `types/agent.rs`, `McpAuthentication`). It is the OAuth protected resource metadata (RFC 9728) the gateway serves under `/.well-known/oauth-protected-resource`, which MCP clients read to find the authorization server; the gateway adds `resource` and `authorization_servers` itself, so `{}` is the least it accepts.",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]\n  resourceMetadata:\n    resource: https://gateway.example.com/mcp",
    }

    AUTH_MODE_NOT_STRICT {
        id: "auth/mode-not-strict",
        severity: Warning,
        summary: "`mcpAuthentication` lets requests without a valid token through",
        why: "With `mode: optional` a request without a token reaches the MCP server unauthenticated; with `mode: permissive` even a request with an invalid token does. MCP clients learn that they need a token from the 401 answer, so with these modes they never ask for one. Keep `strict` (the default) unless `mcpAuthorization` rules deny what anonymous callers must not do.",
        gateway: "",
        example: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  mode: optional",
        use_instead: "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  mode: strict",
    }

    AUTH_JWKS_URL_UNDERIVABLE {
        id: "auth/jwks-url-underivable",
        severity: Error,
        summary: "no `jwks`, and no key set URL can be derived from the issuer",
        why: "Without `jwks` the gateway derives the URL of the signing keys from the issuer and `provider`. For `provider: entra` it needs the tenant from the issuer's path (`https://login.microsoftonline.com/<tenant>/v2.0`); an issuer without one has no key set, and the file does not load. Write the tenant into the issuer, or give `jwks.url`.",
        gateway: "The gateway refuses the file: \"Entra issuer URL ... has no tenant path segment\" (agentgateway `crates/agentgateway/src/http/oauth.rs`, `entra_endpoints`, called by `LocalMcpAuthentication::derived_jwks_url` in `crates/agentgateway/src/types/agent.rs`).",
        example: "mcpAuthentication:\n  issuer: https://login.microsoftonline.com/\n  provider: {entra: {}}",
        use_instead: "mcpAuthentication:\n  issuer: https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0\n  provider: {entra: {}}",
    }

    AUTH_JWT_AND_MCP_AUTH {
        id: "auth/jwt-and-mcp-auth",
        severity: Error,
        summary: "`jwtAuth` and `mcpAuthentication` on one route",
        why: "Both policies fill the same authentication slot of a route; the gateway keeps only one of them, so half of what you wrote does not apply. For MCP clients keep `mcpAuthentication`: it validates the same tokens and also publishes the protected resource metadata that clients need to find the authorization server.",
        gateway: "",
        example: "policies:\n  jwtAuth:\n    issuer: https://acme.okta.com/oauth2/default\n    jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
        use_instead: "policies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default\n    audiences: [api://default]\n    jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}",
    }

    AUTH_GATEWAY_JWT_STRIPS_TOKEN {
        id: "auth/gateway-jwt-strips-token",
        severity: Error,
        summary: "a listener's `jwtAuth` removes the token a route's `mcpAuthentication` needs",
        why: "Policies of a listener or gateway run before routing. A `jwtAuth` there validates the bearer token and then removes it from the request, so the `mcpAuthentication` of a route behind it finds no token and answers 401 to every request. Validate MCP tokens in one place: drop the listener-level `jwtAuth`, or move it onto the routes that need it. (When the two read the token from different places, they do not collide and agw says nothing.)",
        gateway: "",
        example: "binds:\n- port: 3000\n  listeners:\n  - policies:\n      jwtAuth: {issuer: https://idp.example.com, jwks: {url: https://idp.example.com/keys}}\n    routes:\n    - policies:\n        mcpAuthentication: {issuer: https://idp.example.com, audiences: [mcp]}",
        use_instead: "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentication: {issuer: https://idp.example.com, audiences: [mcp]}",
    }

    AUTH_JWT_OPTIONAL_DEFAULT {
        id: "auth/jwt-optional-default",
        severity: Note,
        summary: "`jwtAuth` without `mode` is optional",
        why: "Unlike `mcpAuthentication`, `jwtAuth` defaults to `mode: optional`: a request without a token passes and only an invalid token is rejected. That is often intended (authorization rules then decide), but it surprises people who expect authentication to be required. Write the mode you mean.",
        gateway: "",
        example: "jwtAuth:\n  issuer: https://idp.example.com\n  jwks: {url: https://idp.example.com/keys}",
        use_instead: "jwtAuth:\n  mode: strict\n  issuer: https://idp.example.com\n  jwks: {url: https://idp.example.com/keys}",
    }

    AUTH_INSECURE_HTTP {
        id: "auth/insecure-http",
        severity: Warning,
        summary: "an issuer or JWKS URL over plain HTTP off this machine",
        why: "The gateway fetches signing keys from the JWKS URL (or from the issuer when no JWKS is given). Over plain HTTP anyone on the network path can replace the keys and mint tokens the gateway accepts. `http://localhost` and loopback addresses are fine for development and are not reported.",
        gateway: "",
        example: "issuer: http://auth.acme.com/realms/mcp\njwks:\n  url: http://auth.acme.com/realms/mcp/protocol/openid-connect/certs",
        use_instead: "issuer: https://auth.acme.com/realms/mcp\njwks:\n  url: https://auth.acme.com/realms/mcp/protocol/openid-connect/certs",
    }

    AUTH_JWKS_ORIGIN {
        id: "auth/jwks-origin",
        severity: Warning,
        summary: "the JWKS URL is on another origin than the issuer",
        why: "Keys for an issuer are published by the issuer itself (its discovery document names them in `jwks_uri`). A JWKS on another scheme, host or port usually means a copy-paste from another environment or tenant, and whoever controls that origin can mint tokens the gateway accepts for this issuer. Google's issuers, whose keys live on googleapis.com, are known and not reported.",
        gateway: "",
        example: "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://staging-acme.okta.com/oauth2/default/v1/keys",
        use_instead: "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys",
    }

    AUTH_REQUIRED_CLAIMS {
        id: "auth/required-claims",
        severity: Warning,
        summary: "`requiredClaims` that do not do what they say",
        why: "`jwtValidationOptions.requiredClaims` replaces the default `[exp]`, and the gateway only understands `exp`, `nbf`, `aud`, `iss` and `sub` there: any other name is silently ignored, and a list without `exp` accepts tokens that never expire. Require other claims with an authorization rule (`has(jwt.groups)`).",
        gateway: "",
        example: "jwtValidationOptions:\n  requiredClaims: [groups]",
        use_instead: "jwtValidationOptions:\n  requiredClaims: [exp, sub]\n# and in mcpAuthorization: 'has(jwt.groups)'",
    }

    AUTH_METADATA_PATH_MISSING {
        id: "auth/metadata-path-missing",
        severity: Warning,
        summary: "clients cannot reach the OAuth discovery paths of a protected route",
        why: "An MCP client that gets a 401 fetches `/.well-known/oauth-protected-resource<MCP path>` to learn which authorization server issues tokens, and with a `provider` also `/.well-known/oauth-authorization-server<MCP path>`. The gateway answers these from the route's `mcpAuthentication`, but only if the route (or another protected route on the same listener) matches those paths. Without them clients cannot discover how to log in.",
        gateway: "",
        example: "matches:\n- path:\n    exact: /mcp\npolicies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
        use_instead: "matches:\n- path:\n    exact: /mcp\n- path:\n    exact: /.well-known/oauth-protected-resource/mcp\npolicies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
    }

    AUTH_RESOURCE_PATH_MISMATCH {
        id: "auth/resource-path-mismatch",
        severity: Warning,
        summary: "`resourceMetadata.resource` names another path than the route serves",
        why: "The protected resource metadata says which URL it describes (`resource`). MCP clients compare it with the URL they connected to and reject metadata for another resource (RFC 9728), and the gateway derives the metadata URL from it. Its path must be the route's MCP endpoint path.",
        gateway: "",
        example: "matches:\n- path: {exact: /mcp}\npolicies:\n  mcpAuthentication:\n    resourceMetadata:\n      resource: https://gateway.acme.com/api/mcp",
        use_instead: "matches:\n- path: {exact: /mcp}\npolicies:\n  mcpAuthentication:\n    resourceMetadata:\n      resource: https://gateway.acme.com/mcp",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    Mcp,
    Jwt,
}

/// One issuer configuration: an `mcpAuthentication`, a single-provider `jwtAuth`, or one entry
/// of `jwtAuth.providers`.
#[derive(Debug, Clone)]
pub struct AuthCfg<'a> {
    pub kind: AuthKind,
    /// Pointer of the object holding `issuer`, `jwks`, `audiences`.
    pub ptr: String,
    pub issuer: &'a str,
    pub jwks: Option<&'a Jwks>,
    pub audiences: Option<&'a [String]>,
    pub provider: Option<&'a Provider>,
    pub options: Option<&'a JwtValidationOptions>,
    /// `issuer` and `jwks.url` parsed once, for the rules that compare them.
    pub iss: Option<Url<'a>>,
    pub keys: Option<Url<'a>>,
    /// The issuer is (most likely) Okta's.
    pub okta: bool,
}

impl<'a> AuthCfg<'a> {
    fn new(
        kind: AuthKind,
        ptr: String,
        issuer: &'a str,
        jwks: Option<&'a Jwks>,
        audiences: Option<&'a [String]>,
        provider: Option<&'a Provider>,
        options: Option<&'a JwtValidationOptions>,
    ) -> Self {
        let iss = parse_url(issuer);
        let keys = match jwks {
            Some(Jwks::Url(u)) => parse_url(&u.url),
            _ => None,
        };
        let okta = crate::config::okta::is_okta_url(iss.as_ref(), provider);
        AuthCfg {
            kind,
            ptr,
            issuer,
            jwks,
            audiences,
            provider,
            options,
            iss,
            keys,
            okta,
        }
    }
}

fn from_jwt<'a>(out: &mut Vec<AuthCfg<'a>>, ptr: &str, j: &'a JwtAuth) {
    if let Some(issuer) = &j.issuer {
        out.push(AuthCfg::new(
            AuthKind::Jwt,
            ptr.to_string(),
            issuer,
            j.jwks.as_ref(),
            j.audiences.as_deref(),
            None,
            j.jwt_validation_options.as_ref(),
        ));
    }
    for (i, p) in j.providers.iter().flatten().enumerate() {
        out.push(AuthCfg::new(
            AuthKind::Jwt,
            format!("{ptr}/providers/{i}"),
            &p.issuer,
            Some(&p.jwks),
            p.audiences.as_deref(),
            None,
            p.jwt_validation_options.as_ref(),
        ));
    }
}

fn from_mcp<'a>(ptr: &str, m: &'a McpAuthentication) -> AuthCfg<'a> {
    AuthCfg::new(
        AuthKind::Mcp,
        ptr.to_string(),
        &m.issuer,
        m.jwks.as_ref(),
        m.audiences.as_deref(),
        m.provider.as_ref(),
        m.jwt_validation_options.as_ref(),
    )
}

/// Every `jwtAuth` of gateway level (listeners of binds and gateways, gateways themselves).
pub fn gateway_jwt<'a>(cfg: &'a Config) -> Vec<(String, &'a JwtAuth)> {
    let mut out = Vec::new();
    let mut push = |ptr: String, p: Option<&'a GatewayPolicies>| {
        if let Some(j) = p.and_then(|p| p.jwt_auth.as_ref()) {
            out.push((format!("{ptr}/jwtAuth"), j));
        }
    };
    for (bi, b) in cfg.binds.iter().enumerate() {
        for (li, l) in b.listeners.iter().enumerate() {
            push(
                format!("/binds/{bi}/listeners/{li}/policies"),
                l.policies.as_ref(),
            );
        }
    }
    // A gateway's policies are keys of the gateway and of its listeners.
    for (name, g) in &cfg.gateways {
        let base = format!("/gateways/{}", util::ptr_token(name));
        push(base.clone(), Some(&g.policies));
        for (li, l) in g.listeners.iter().enumerate() {
            push(format!("{base}/listeners/{li}"), Some(&l.policies));
        }
    }
    out
}

/// Every issuer configuration of the file.
pub fn auth_configs<'a>(cfg: &'a Config, sites: &[PolicySite<'a>]) -> Vec<AuthCfg<'a>> {
    let mut out = Vec::new();
    for site in sites {
        if let Some(m) = &site.policies.mcp_authentication {
            out.push(from_mcp(&format!("{}/mcpAuthentication", site.ptr), m));
        }
        if let Some(j) = &site.policies.jwt_auth {
            from_jwt(&mut out, &format!("{}/jwtAuth", site.ptr), j);
        }
    }
    for (ptr, j) in gateway_jwt(cfg) {
        from_jwt(&mut out, &ptr, j);
    }
    out
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        let p = site.policies;
        if let Some(auth) = &p.mcp_authentication {
            let ptr = format!("{}/mcpAuthentication", site.ptr);
            audiences(ctx, &ptr, auth.audiences.as_deref(), &auth.issuer);
            resource_metadata(ctx, &ptr, auth);
            mode(ctx, &ptr, auth);
            jwks_derivable(ctx, &ptr, auth);
            if p.jwt_auth.is_some() {
                both(ctx, &site.ptr);
            }
        }
        if let Some(j) = &p.jwt_auth {
            jwt_default_mode(ctx, &format!("{}/jwtAuth", site.ptr), j, p);
        }
    }
    for (ptr, j) in gateway_jwt(ctx.cfg) {
        jwt_default_mode(ctx, &ptr, j, &RoutePolicies::default());
    }
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        insecure(ctx, a);
        jwks_origin(ctx, a);
        required_claims(ctx, a);
    }
    strips_token(ctx);
    discovery(ctx);
}

/// agentgateway's `McpAuthentication` (`types/agent.rs`) has `audiences` and
/// `resourceMetadata` as plain fields without a default: a file without them does not load
/// ("missing field `audiences`"), in 1.4.1 and on the main line.
fn audiences(ctx: &mut Ctx, ptr: &str, audiences: Option<&[String]>, issuer: &str) {
    let why = format!("tokens that `{issuer}` minted for any other API would be accepted here");
    let okta = crate::config::okta::is_okta_issuer(issuer, None);
    let d = match audiences {
        None => {
            let mut d = Diagnostic::new(
                &AUTH_AUDIENCES_MISSING,
                "`mcpAuthentication` has no `audiences`: the gateway refuses the file (missing field `audiences`)",
            )
            .at(ctx.key(ptr), "no `audiences` here");
            if okta && issuer.trim_end_matches('/').ends_with("/oauth2/default") {
                if let Some(edit) =
                    ctx.insert_after(&format!("{ptr}/issuer"), "audiences: [api://default]")
                {
                    d = d.with_fix(Fix::unsafe_(
                        "add `audiences: [api://default]` (the default audience of Okta's `default` authorization server)",
                        edit,
                    ));
                }
            }
            d
        }
        Some([]) => Diagnostic::new(
            &AUTH_AUDIENCES_EMPTY,
            "`audiences` is empty: the token's `aud` claim is not checked",
        )
        .at(ctx.value(&format!("{ptr}/audiences")), "empty list")
        .note(why),
        Some(_) => return,
    };
    let hint = if okta {
        "add `audiences: [api://default]` (the audience of Okta's `default` server; use your authorization server's Audience setting)"
    } else {
        "add `audiences:` with the `aud` value your authorization server puts in tokens for this gateway"
    };
    ctx.push(d.help(hint));
}

fn resource_metadata(ctx: &mut Ctx, ptr: &str, auth: &McpAuthentication) {
    if auth.resource_metadata.is_some() {
        return;
    }
    let mut d = Diagnostic::new(
        &AUTH_RESOURCE_METADATA_MISSING,
        "`mcpAuthentication` has no `resourceMetadata`: the gateway refuses the file (missing field `resourceMetadata`)",
    )
    .at(ctx.key(ptr), "no `resourceMetadata` here")
    .note("the gateway publishes it as the OAuth protected resource metadata (RFC 9728) that MCP clients read to find the authorization server")
    .help("add `resourceMetadata:` with at least `resource: https://YOUR-GATEWAY/mcp` (and `scopesSupported`, `bearerMethodsSupported` as your clients need); `resourceMetadata: {}` is the least the gateway accepts");
    if let Some(edit) = ctx.insert_after(&format!("{ptr}/issuer"), "resourceMetadata: {}") {
        d = d.with_fix(Fix::unsafe_("add an empty `resourceMetadata: {}`", edit));
    }
    ctx.push(d);
}

fn mode(ctx: &mut Ctx, ptr: &str, auth: &McpAuthentication) {
    let (what, effect) = match auth.mode {
        Some(AuthMode::Optional) => (
            "optional",
            "requests without a token reach the MCP server unauthenticated",
        ),
        Some(AuthMode::Permissive) => (
            "permissive",
            "every request reaches the MCP server, with a missing or even an invalid token",
        ),
        _ => return,
    };
    ctx.push(
        Diagnostic::new(
            &AUTH_MODE_NOT_STRICT,
            format!("`mcpAuthentication` has `mode: {what}`: {effect}"),
        )
        .at(ctx.value(&format!("{ptr}/mode")), format!("mode {what}"))
        .help("use `mode: strict` (the default) unless `mcpAuthorization` rules deny what anonymous callers must not do")
        .note("MCP clients discover authentication from a 401; with this mode they are never asked for a token"),
    );
}

fn jwks_derivable(ctx: &mut Ctx, ptr: &str, auth: &McpAuthentication) {
    let Err(why) = auth
        .jwks
        .is_none()
        .then(|| auth.derived_jwks_url())
        .transpose()
    else {
        return;
    };
    ctx.push(
        Diagnostic::new(
            &AUTH_JWKS_URL_UNDERIVABLE,
            format!("{why}: the gateway cannot derive the key set URL and refuses the file"),
        )
        .at(ctx.value(&format!("{ptr}/issuer")), "no key set URL")
        .help("write the issuer with its tenant, or give `jwks: {url: ...}`"),
    );
}

fn both(ctx: &mut Ctx, ptr: &str) {
    ctx.push(
        Diagnostic::new(
            &AUTH_JWT_AND_MCP_AUTH,
            "one policy block has both `jwtAuth` and `mcpAuthentication`",
        )
        .at(ctx.key(&format!("{ptr}/jwtAuth")), "`jwtAuth` here")
        .label(ctx.key(&format!("{ptr}/mcpAuthentication")), "and `mcpAuthentication` here")
        .help("both fill the same authentication slot of a route; for MCP clients keep `mcpAuthentication` (it also publishes the metadata clients need) and remove `jwtAuth`"),
    );
}

fn jwt_default_mode(ctx: &mut Ctx, ptr: &str, j: &JwtAuth, block: &RoutePolicies) {
    if j.mode.is_some() {
        return;
    }
    let rules = block.authorization.is_some() || block.mcp_authorization.is_some();
    let mut d = Diagnostic::new(
        &AUTH_JWT_OPTIONAL_DEFAULT,
        "`jwtAuth` has no `mode`: it defaults to `optional`, so requests without a token pass it",
    )
    .at(ctx.key(ptr), "optional by default")
    .help("write `mode: strict` to reject requests without a token, or `mode: optional` to make the choice visible");
    if rules {
        d = d.note("authorization rules in this block still see `jwt` as empty for such requests");
    }
    ctx.push(d);
}

fn insecure(ctx: &mut Ctx, a: &AuthCfg) {
    let mut check = |field: &str, ptr: String, url: &str, u: Option<&Url>| {
        let Some(u) = u else { return };
        if !u.scheme.eq_ignore_ascii_case("http") || is_local_host(u.host) {
            return;
        }
        let https = format!("https{}", &url[u.scheme.len()..]);
        ctx.push(
            Diagnostic::new(
                &AUTH_INSECURE_HTTP,
                format!("the {field} `{url}` uses plain `http://` off this machine"),
            )
            .at(ctx.inner(&ptr, url, 0, u.scheme.len() + 3), "plain HTTP")
            .help(format!("use `{https}`"))
            .note(if field == "issuer" {
                "an issuer is also where keys and metadata are fetched from; over plain HTTP anyone on the path can swap the keys and mint tokens the gateway accepts"
            } else {
                "keys fetched over plain HTTP can be swapped by anyone on the path, who can then mint tokens the gateway accepts"
            }),
        );
    };
    if a.iss
        .as_ref()
        .is_some_and(|u| u.scheme.eq_ignore_ascii_case("http"))
    {
        check(
            "issuer",
            format!("{}/issuer", a.ptr),
            a.issuer,
            a.iss.as_ref(),
        );
    }
    if let Some(Jwks::Url(u)) = a.jwks {
        if a.keys
            .as_ref()
            .is_some_and(|k| k.scheme.eq_ignore_ascii_case("http"))
        {
            check(
                "JWKS URL",
                format!("{}/jwks/url", a.ptr),
                &u.url,
                a.keys.as_ref(),
            );
        }
    }
}

fn jwks_origin(ctx: &mut Ctx, a: &AuthCfg) {
    let Some(Jwks::Url(j)) = a.jwks else { return };
    let (Some(iss), Some(keys)) = (&a.iss, &a.keys) else {
        return;
    };
    if iss.same_origin(keys) {
        return;
    }
    // Google publishes the keys of accounts.google.com and securetoken.google.com on
    // www.googleapis.com.
    let ih = iss.host.to_ascii_lowercase();
    let kh = keys.host.to_ascii_lowercase();
    if (ih.ends_with("google.com")) && kh.ends_with("googleapis.com") {
        return;
    }
    ctx.push(
        Diagnostic::new(
            &AUTH_JWKS_ORIGIN,
            format!(
                "the JWKS `{}` is not served by the issuer `{}`",
                j.url, a.issuer
            ),
        )
        .at(
            ctx.inner(&format!("{}/jwks/url", a.ptr), &j.url, 0, keys.origin_text().len()),
            format!("keys from {}", keys.origin_text()),
        )
        .label(
            ctx.value(&format!("{}/issuer", a.ptr)),
            format!("issuer at {}", iss.origin_text()),
        )
        .help("take the `jwks_uri` from the issuer's discovery document (`<issuer>/.well-known/openid-configuration`); keys from another origin let whoever controls it mint tokens for this issuer")
        .note("a copy-paste from another environment (staging keys, a different tenant) looks exactly like this"),
    );
}

fn required_claims(ctx: &mut Ctx, a: &AuthCfg) {
    let Some(claims) = a.options.and_then(|o| o.required_claims.as_ref()) else {
        return;
    };
    let ptr = format!("{}/jwtValidationOptions/requiredClaims", a.ptr);
    for (i, c) in claims.iter().enumerate() {
        if matches!(c.as_str(), "exp" | "nbf" | "aud" | "iss" | "sub") {
            continue;
        }
        ctx.push(
            Diagnostic::new(
                &AUTH_REQUIRED_CLAIMS,
                format!("`requiredClaims` lists `{c}`, which the gateway does not check"),
            )
            .at(ctx.value(&format!("{ptr}/{i}")), "ignored")
            .help(format!(
                "only `exp`, `nbf`, `aud`, `iss` and `sub` can be required; to require `{c}`, add an authorization rule such as `has(jwt.{c})`"
            )),
        );
    }
    if !claims.iter().any(|c| c == "exp") {
        ctx.push(
            Diagnostic::new(
                &AUTH_REQUIRED_CLAIMS,
                "`requiredClaims` does not list `exp`: tokens without an expiry are accepted forever",
            )
            .at(ctx.key(&ptr), "replaces the default `[exp]`")
            .help("add `exp` to the list"),
        );
    }
}

/// The place a token is read from, for comparing two policies.
fn location_key(l: Option<&AuthorizationLocation>) -> String {
    match l {
        None => "header:authorization".into(),
        Some(l) => {
            if let Some(h) = &l.header {
                format!("header:{}", h.name.to_ascii_lowercase())
            } else if let Some(q) = &l.query_parameter {
                format!("query:{}", q.name)
            } else if let Some(c) = &l.cookie {
                format!("cookie:{}", c.name)
            } else {
                format!("expr:{}", l.expression.clone().unwrap_or_default())
            }
        }
    }
}

/// `auth/gateway-jwt-strips-token`: an `mcpAuthentication` behind a listener's `jwtAuth` (of a
/// bind's listener, a gateway or a gateway's listener) that reads the token from the same place,
/// validates it and removes it first. Where a route is served comes from the topology; a route
/// on several such listeners is reported once, at the first.
fn strips_token(ctx: &mut Ctx) {
    let topology = ctx.topology.clone();
    // (mcpAuthentication, jwtAuth) pointers
    let mut found: Vec<(String, String)> = Vec::new();
    let shorthand_auth = ctx
        .cfg
        .mcp
        .as_ref()
        .and_then(|m| m.policies.as_ref()?.mcp_authentication.as_ref());
    for l in &topology.listeners {
        let Some(j) = l
            .listener
            .policies
            .as_ref()
            .and_then(|p| p.jwt_auth.as_ref())
        else {
            continue;
        };
        let jptr = match l.gateway {
            None => format!("{}/policies/jwtAuth", l.ptr),
            Some(_) => format!("{}/jwtAuth", l.ptr),
        };
        let routes = l
            .routes
            .iter()
            .map(|&i| &topology.sites[i])
            .filter_map(|r| {
                Some((
                    format!("{}/policies/mcpAuthentication", r.ptr),
                    mcp_auth(r)?,
                ))
            });
        let shorthand = shorthand_auth
            .filter(|_| l.shorthand)
            .map(|m| ("/mcp/policies/mcpAuthentication".to_string(), m));
        for (mptr, m) in routes.chain(shorthand) {
            let same_place = location_key(m.authorization_location.as_ref())
                == location_key(j.location.as_ref());
            if same_place && !found.iter().any(|(f, _)| *f == mptr) {
                found.push((mptr, jptr.clone()));
            }
        }
    }
    for (mptr, jptr) in found {
        ctx.push(
            Diagnostic::new(
                &AUTH_GATEWAY_JWT_STRIPS_TOKEN,
                "a gateway-level `jwtAuth` removes the token before this route's `mcpAuthentication` sees it",
            )
            .at(ctx.key(&mptr), "finds no token: every request gets 401")
            .label(ctx.key(&jptr), "validates the token first and strips it from the request")
            .help("validate MCP tokens in one place: remove the listener's `jwtAuth`, or move it onto the non-MCP routes that need it"),
        );
    }
}

/// What one scope (listener or gateway reference) serves on routes with `mcpAuthentication`,
/// for answering "is this path matched?" without comparing every route with every other.
#[derive(Default)]
struct Served {
    exact: HashSet<String>,
    prefixes: HashSet<String>,
    regexes: Vec<String>,
    all: bool,
}

impl Served {
    fn add(&mut self, matches: &[RouteMatch]) {
        for m in matches {
            match &m.path {
                None => self.all = true,
                Some(p) => {
                    if let Some(e) = &p.exact {
                        self.exact.insert(e.clone());
                    } else if let Some(pre) = &p.path_prefix {
                        if pre == "/" || pre.is_empty() {
                            self.all = true;
                        } else {
                            self.prefixes.insert(pre.trim_end_matches('/').to_string());
                        }
                    } else if let Some(r) = &p.regex {
                        self.regexes.push(r.clone());
                    }
                }
            }
        }
    }

    fn covers(&self, ctx: &mut Ctx, path: &str) -> bool {
        if self.all || self.exact.contains(path) {
            return true;
        }
        let mut end = path.len();
        loop {
            let prefix = &path[..end];
            if !prefix.is_empty() && self.prefixes.contains(prefix) {
                return true;
            }
            match prefix.rfind('/') {
                Some(i) if i > 0 => end = i,
                _ => break,
            }
        }
        self.regexes
            .iter()
            .any(|r| ctx.regex(r).is_some_and(|re| regex_covers(re, path)))
    }
}

/// What routes with `mcpAuthentication` serve on each listener of the topology, and the
/// listeners each route is served on. Built on first use: only when some route does not match
/// its own discovery paths.
struct Scopes<'t, 'a> {
    topology: &'t Topology<'a>,
    built: Option<(Vec<Served>, Vec<Vec<usize>>)>,
}

impl Scopes<'_, '_> {
    /// Whether a route with `mcpAuthentication` on a listener that serves the route `site`
    /// (an index into the topology's sites) matches `path`.
    fn cover(&mut self, ctx: &mut Ctx, site: usize, path: &str) -> bool {
        let t = self.topology;
        let (served, on) = self.built.get_or_insert_with(|| {
            let mut on = vec![Vec::new(); t.sites.len()];
            let mut served: Vec<Served> = t.listeners.iter().map(|_| Served::default()).collect();
            for (li, l) in t.listeners.iter().enumerate() {
                for &ri in &l.routes {
                    on[ri].push(li);
                    if mcp_auth(&t.sites[ri]).is_some() {
                        served[li].add(&t.sites[ri].route.effective_matches());
                    }
                }
            }
            (served, on)
        });
        on[site].iter().any(|&li| served[li].covers(ctx, path))
    }
}

fn mcp_auth<'r>(r: &'r RouteSite) -> Option<&'r McpAuthentication> {
    r.route
        .policies
        .as_ref()
        .and_then(|p| p.mcp_authentication.as_ref())
}

fn discovery(ctx: &mut Ctx) {
    let topology = ctx.topology.clone();
    let routes = &topology.sites;
    let mut scopes = Scopes {
        topology: &topology,
        built: None,
    };
    for (i, r) in routes.iter().enumerate() {
        let Some(auth) = mcp_auth(r) else {
            continue;
        };
        let matches = r.route.effective_matches();
        let paths = served_paths(&matches);
        let mut missing: Vec<String> = Vec::new();
        for p in &paths {
            let suffix = if p == "/" { "" } else { p.as_str() };
            let mut needed = vec![format!("{WK_RESOURCE}{suffix}")];
            if auth.provider.is_some() {
                needed.push(format!("{WK_AUTH_SERVER}{suffix}"));
            }
            for n in needed {
                let covered = matches.iter().any(|m| path_matches(m.path.as_ref(), &n))
                    || scopes.cover(ctx, i, &n);
                if !covered && !missing.contains(&n) {
                    missing.push(n);
                }
            }
        }
        let mptr = format!("{}/policies/mcpAuthentication", r.ptr);
        if !missing.is_empty() {
            report_missing_paths(ctx, r, auth, &paths, &missing);
        }
        resource_path(ctx, &mptr, auth, &r.ptr, &matches, &paths);
    }
    // The shorthand attached to gateways matches `/mcp`, `/sse` and `/.well-known` prefixes.
    if let Some(sh) = &ctx.cfg.mcp {
        if let (Some(_), Some(auth)) = (
            shorthand_gateways(ctx),
            sh.policies
                .as_ref()
                .and_then(|p| p.mcp_authentication.as_ref()),
        ) {
            shorthand_resource(ctx, auth);
        }
    }
}

/// `auth/metadata-path-missing`: the discovery paths no route of the scope matches, with the
/// matches to add.
fn report_missing_paths(
    ctx: &mut Ctx,
    r: &RouteSite,
    auth: &McpAuthentication,
    paths: &[String],
    missing: &[String],
) {
    let at = if r.route.matches.is_some() {
        ctx.key(&format!("{}/matches", r.ptr))
    } else {
        ctx.value(&r.ptr)
    };
    let add = missing
        .iter()
        .map(|m| format!("- path:\n    exact: {m}"))
        .collect::<Vec<_>>()
        .join("\n");
    let list = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let protected = paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mptr = format!("{}/policies/mcpAuthentication", r.ptr);
    let mut d = Diagnostic::new(
        &AUTH_METADATA_PATH_MISSING,
        format!("the route protects {protected} with `mcpAuthentication` but does not match {list}: clients cannot discover how to get a token"),
    )
    .at(at, "no match for the discovery path")
    .label(ctx.key(&mptr), "answers 401 and points clients to the metadata")
    .help(format!("add to `matches`:\n{add}"));
    let items: Vec<String> = missing
        .iter()
        .map(|m| format!("path:\n  exact: {m}"))
        .collect();
    if let Some(edit) = ctx.append_items(&format!("{}/matches", r.ptr), &items) {
        d = d.with_fix(Fix::safe(format!("add the matches of {list}"), edit));
    }
    if let Some(p) = &auth.provider {
        d = d.note(format!(
            "with `provider: {}` the gateway also serves the authorization server metadata under `{WK_AUTH_SERVER}`",
            p.name()
        ));
    }
    ctx.push(d);
}

/// The gateways the `mcp:` shorthand attaches to: its `gateways` (which the implicit `default`
/// gateway has filled in when it serves HTTP and the shorthand names neither gateways nor a
/// port). `None` when it listens on a port of its own, as the gateway's loader gives it then
/// (`types/local.rs`: `mcp_config.gateways.is_empty()` -> `convert_mcp_config`), whatever other
/// gateways the file has.
pub fn shorthand_gateways(ctx: &Ctx) -> Option<Vec<String>> {
    let g = ctx.cfg.mcp.as_ref()?.gateways.as_ref()?;
    Some(g.refs().into_iter().map(String::from).collect())
}

fn resource_value(auth: &McpAuthentication) -> Option<&str> {
    auth.resource_metadata.as_ref()?.resource()
}

fn resource_path(
    ctx: &mut Ctx,
    mptr: &str,
    auth: &McpAuthentication,
    route_ptr: &str,
    matches: &[RouteMatch],
    paths: &[String],
) {
    let Some(resource) = resource_value(auth) else {
        return;
    };
    let Some(u) = parse_url(resource) else { return };
    let path = if u.path.is_empty() { "/" } else { u.path };
    let served: Vec<&RouteMatch> = matches
        .iter()
        .filter(|m| {
            !m.path.as_ref().is_some_and(|p| {
                p.exact
                    .as_deref()
                    .or(p.path_prefix.as_deref())
                    .is_some_and(|s| s.starts_with("/.well-known/"))
            })
        })
        .collect();
    if served.is_empty() || served.iter().any(|m| path_matches(m.path.as_ref(), path)) {
        return;
    }
    let rptr = format!("{mptr}/resourceMetadata/resource");
    let start = resource
        .find("://")
        .and_then(|i| resource[i + 3..].find('/').map(|j| i + 3 + j));
    let span = match start {
        Some(s) if !u.path.is_empty() => ctx.inner(&rptr, resource, s, s + u.path.len()),
        _ => ctx.value(&rptr),
    };
    let expected = paths.first().cloned().unwrap_or_else(|| "/mcp".into());
    let fixed = format!("{}{}", u.origin_text(), expected);
    let at = if ctx.has(&format!("{route_ptr}/matches")) {
        ctx.key(&format!("{route_ptr}/matches"))
    } else {
        ctx.value(route_ptr)
    };
    let whole = ctx.value(&rptr);
    ctx.push(
        Diagnostic::new(
            &AUTH_RESOURCE_PATH_MISMATCH,
            format!(
                "`resource` is `{resource}`, but the route serves MCP at {}",
                paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            ),
        )
        .at(span, format!("path `{path}`"))
        .label(at, "the route's paths")
        .help(format!("write `resource: {fixed}`: MCP clients check that the metadata names the URL they connect to, and reject it otherwise"))
        .note("the gateway also derives the protected-resource metadata URL from this path")
        .with_fix(Fix::unsafe_(
            format!("write `resource: {fixed}`"),
            Fix::replace(whole, fixed.clone()),
        )),
    );
}

fn shorthand_resource(ctx: &mut Ctx, auth: &McpAuthentication) {
    let Some(resource) = resource_value(auth) else {
        return;
    };
    let Some(u) = parse_url(resource) else { return };
    let path = if u.path.is_empty() { "/" } else { u.path };
    if prefix_matches("/mcp", path) || prefix_matches("/sse", path) {
        return;
    }
    let rptr = "/mcp/policies/mcpAuthentication/resourceMetadata/resource";
    ctx.push(
        Diagnostic::new(
            &AUTH_RESOURCE_PATH_MISMATCH,
            format!("`resource` is `{resource}`, but the `mcp:` shorthand attached to gateways serves MCP at `/mcp` and `/sse`"),
        )
        .at(ctx.value(rptr), format!("path `{path}`"))
        .help(format!("write `resource: {}/mcp`", u.origin_text())),
    );
}
