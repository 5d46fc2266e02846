//! CORS: header names the gateway refuses, credentials with any origin, and the headers MCP
//! clients in a browser need.

use super::Ctx;
use crate::config::mcp::StatefulMode;
use crate::config::policy::Cors;
use crate::config::RoutePolicies;
use crate::diag::Diagnostic;

crate::rules! {
    CORS_INVALID_NAME {
        id: "cors/invalid-name",
        severity: Error,
        summary: "a CORS header or method name that is not valid HTTP",
        why: "A CORS header or method name that is not valid HTTP stops the gateway from loading the file. Fix the name, or use `*` to allow any.",
        gateway: "The gateway parses `allowHeaders` and `exposeHeaders` as header names and `allowMethods` as methods when it loads the file, and refuses one that is not; a list with a `*` entry is a wildcard and its other entries are not parsed (agentgateway `crates/agentgateway/src/http/cors.rs`, `TryFrom<CorsSerde> for Cors`).",
        example: "cors:\n  allowHeaders: [\"content-type, mcp-session-id\"]",
        use_instead: "cors:\n  allowHeaders: [content-type, mcp-session-id]",
    }

    CORS_CREDENTIALS_ANY_ORIGIN {
        id: "cors/credentials-any-origin",
        severity: Warning,
        summary: "CORS allows credentials from any origin",
        why: "With credentials allowed for any origin, any web page a user visits can send requests with the user's cookies or HTTP credentials and read the answers. List the origins that need credentials.",
        gateway: "The gateway accepts the file. With `allowOrigins: [\"*\"]` it answers every request that has an `Origin` with that origin in `Access-Control-Allow-Origin`, and with `allowCredentials: true` it adds `Access-Control-Allow-Credentials: true` (agentgateway `crates/agentgateway/src/http/cors.rs`, `Cors::apply`).",
        example: "cors:\n  allowOrigins: [\"*\"]\n  allowCredentials: true",
        use_instead: "cors:\n  allowOrigins: [\"https://app.acme.com\"]\n  allowCredentials: true",
    }

    CORS_MCP_HEADERS {
        id: "cors/mcp-headers",
        severity: Note,
        summary: "CORS on an MCP route misses headers MCP clients need",
        why: "Browser-based MCP clients (for example the MCP Inspector) send `content-type`, `mcp-protocol-version` and, after initialize, `mcp-session-id` (and `authorization` with a token), and must read `mcp-session-id` from the answer. A CORS policy that does not allow and expose them makes those clients fail, while other clients work. Add them to `allowHeaders` and `exposeHeaders`.",
        gateway: "The gateway accepts the file and answers preflight and CORS requests with the headers the policy lists, nothing more (agentgateway `crates/agentgateway/src/http/cors.rs`, `Cors::apply`); only its OAuth metadata endpoints add CORS headers of their own (`crates/agentgateway/src/mcp/auth.rs`).",
        example: "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type]",
        use_instead: "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type, mcp-protocol-version, mcp-session-id, authorization]\n  exposeHeaders: [mcp-session-id]",
    }
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        if let Some(c) = &site.policies.cors {
            credentials(ctx, &format!("{}/cors", site.ptr), c);
            cors_names(ctx, &format!("{}/cors", site.ptr), c);
        }
    }
    mcp_cors(ctx);
}

/// The gateway parses CORS `allowHeaders`/`exposeHeaders` as header names and `allowMethods` as
/// methods when it loads the file, and refuses one that is not (agentgateway `http/cors.rs`); a
/// `*` entry makes the list a wildcard, and then the others are not parsed.
fn cors_names(ctx: &mut Ctx, ptr: &str, c: &Cors) {
    let token = super::util::is_http_token;
    for (key, list, what) in [
        ("allowHeaders", &c.allow_headers, "header name"),
        ("exposeHeaders", &c.expose_headers, "header name"),
        ("allowMethods", &c.allow_methods, "method"),
    ] {
        if list.iter().any(|v| v == "*") {
            continue;
        }
        for (i, v) in list.iter().enumerate() {
            if token(v) {
                continue;
            }
            ctx.push(
                Diagnostic::new(
                    &CORS_INVALID_NAME,
                    format!("`{v}` in CORS `{key}` is not a valid HTTP {what}: the gateway refuses the file"),
                )
                .at(ctx.value(&format!("{ptr}/{key}/{i}")), format!("not an HTTP {what}"))
                .help(format!("an HTTP {what} has no spaces, `:`, quotes or other separators; write one {what} per list entry")),
            );
        }
    }
}

fn credentials(ctx: &mut Ctx, ptr: &str, c: &Cors) {
    if c.allow_credentials != Some(true) {
        return;
    }
    let Some(i) = c.allow_origins.iter().position(|o| o == "*") else {
        return;
    };
    ctx.push(
        Diagnostic::new(
            &CORS_CREDENTIALS_ANY_ORIGIN,
            "`allowCredentials: true` with `allowOrigins: [\"*\"]`: every website may send credentialed requests and read the answers",
        )
        .at(ctx.value(&format!("{ptr}/allowOrigins/{i}")), "any origin")
        .label(ctx.value(&format!("{ptr}/allowCredentials")), "with cookies and HTTP authentication")
        .help("list the origins that need credentials, for example `allowOrigins: [\"https://app.example.com\"]`, or drop `allowCredentials`")
        .note("the gateway answers with the caller's own `Origin` and `Access-Control-Allow-Credentials: true`, which browsers accept"),
    );
}

fn mcp_cors(ctx: &mut Ctx) {
    let cfg = ctx.cfg;
    let topology = ctx.topology.clone();
    let routes = &topology.sites;
    let mut sites: Vec<(String, &RoutePolicies, bool)> = Vec::new();
    for site in routes.iter() {
        let Some(p) = &site.route.policies else {
            continue;
        };
        if p.cors.is_none() {
            continue;
        }
        let mcp: Vec<_> = site
            .route
            .backends
            .iter()
            .filter_map(|b| b.mcp.as_ref())
            .collect();
        if mcp.is_empty() {
            continue;
        }
        let stateful = mcp
            .iter()
            .any(|m| m.stateful_mode.unwrap_or_default() == StatefulMode::Stateful);
        sites.push((format!("{}/policies", site.ptr), p, stateful));
    }
    if let Some(m) = &cfg.mcp {
        if let Some(p) = &m.policies {
            if p.cors.is_some() {
                let stateful = m.stateful_mode.unwrap_or_default() == StatefulMode::Stateful;
                sites.push(("/mcp/policies".into(), p, stateful));
            }
        }
    }
    for (ptr, p, stateful) in sites {
        mcp_site_cors(ctx, &ptr, p, stateful);
    }
}

/// The headers an MCP client sends and reads that one route's CORS policy leaves out.
fn mcp_site_cors(ctx: &mut Ctx, ptr: &str, p: &RoutePolicies, stateful: bool) {
    let Some(c) = &p.cors else { return };
    if c.allow_origins.is_empty() {
        return;
    }
    let has = |list: &[String], h: &str| list.iter().any(|x| x == "*" || x.eq_ignore_ascii_case(h));
    let mut missing_allow: Vec<&str> = Vec::new();
    for h in ["content-type", "mcp-protocol-version"] {
        if !has(&c.allow_headers, h) {
            missing_allow.push(h);
        }
    }
    if stateful && !has(&c.allow_headers, "mcp-session-id") {
        missing_allow.push("mcp-session-id");
    }
    let authn = p.mcp_authentication.is_some() || p.jwt_auth.is_some();
    if authn && !has(&c.allow_headers, "authorization") {
        missing_allow.push("authorization");
    }
    let missing_expose = stateful && !has(&c.expose_headers, "mcp-session-id");
    if missing_allow.is_empty() && !missing_expose {
        return;
    }
    let cptr = format!("{ptr}/cors");
    let mut parts = Vec::new();
    let mut help = Vec::new();
    if !missing_allow.is_empty() {
        let quoted: Vec<String> = missing_allow.iter().map(|h| format!("`{h}`")).collect();
        parts.push(format!("`allowHeaders` lacks {}", quoted.join(", ")));
        let mut all: Vec<String> = c.allow_headers.clone();
        all.extend(missing_allow.iter().map(|s| s.to_string()));
        help.push(format!("allowHeaders: [{}]", all.join(", ")));
    }
    if missing_expose {
        parts.push("`exposeHeaders` lacks `mcp-session-id`".into());
        let mut all: Vec<String> = c.expose_headers.clone();
        all.push("mcp-session-id".into());
        help.push(format!("exposeHeaders: [{}]", all.join(", ")));
    }
    let at = if !missing_allow.is_empty() && ctx.has(&format!("{cptr}/allowHeaders")) {
        ctx.key(&format!("{cptr}/allowHeaders"))
    } else if missing_expose && ctx.has(&format!("{cptr}/exposeHeaders")) {
        ctx.key(&format!("{cptr}/exposeHeaders"))
    } else {
        ctx.key(&cptr)
    };
    ctx.push(
        Diagnostic::new(
            &CORS_MCP_HEADERS,
            format!("CORS on an MCP route: {}; browser-based MCP clients will fail", parts.join(" and ")),
        )
        .at(at, "incomplete for MCP")
        .help(help.join("\n"))
        .note("MCP clients send `content-type`, `mcp-protocol-version`, `mcp-session-id` (and `authorization` with a token), and must read `mcp-session-id` from the initialize response"),
    );
}
