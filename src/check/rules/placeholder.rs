//! Placeholder values copied from documentation (`your-org`, `YOUR_CLIENT_ID`, `<tenant-id>`,
//! `example.com`) in the places where a real value decides who gets in or where requests go.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::util::ptr_token;
use super::Ctx;
use crate::config::policy::auth::Jwks;
use crate::config::url::{parse_url, split_host_port};
use crate::diag::Diagnostic;

crate::rules! {
    PLACEHOLDER_VALUE {
        id: "placeholder/value",
        severity: Warning,
        summary: "a placeholder from documentation was left in",
        why: "Values such as `your-org`, `YOUR_CLIENT_ID`, `<tenant-id>` or hosts under `example.com` come from examples. In an issuer, audience, JWKS URL, resource metadata, client credentials, target or backend address they make the gateway trust or call something that is not yours. Replace them, or take them from the environment with `${NAME}`.",
        gateway: "",
        example: "issuer: https://your-org.okta.com/oauth2/default",
        use_instead: "issuer: https://acme.okta.com/oauth2/default",
    }
}

/// Reports `value` when it holds a placeholder; `ptr` is built only then.
fn value(ctx: &mut Ctx, ptr: impl FnOnce() -> String, v: &str, what: &str) {
    let Some((a, z, why)) = placeholder(v) else {
        return;
    };
    let ptr = ptr();
    let shown = &v[a..z];
    ctx.push(
        Diagnostic::new(
            &PLACEHOLDER_VALUE,
            format!("the {what} `{v}` contains `{shown}`, a placeholder from documentation"),
        )
        .at(ctx.inner(&ptr, v, a, z), why)
        .help(format!(
            "replace `{shown}` with your real value (or take it from the environment: `${{NAME}}`)"
        )),
    );
}

pub fn check(ctx: &mut Ctx) {
    let cfg = ctx.cfg;
    let auth = ctx.auth.clone();
    for a in auth.iter() {
        value(ctx, || format!("{}/issuer", a.ptr), a.issuer, "issuer");
        for (i, aud) in a.audiences.iter().flat_map(|x| x.iter()).enumerate() {
            value(ctx, || format!("{}/audiences/{i}", a.ptr), aud, "audience");
        }
        if let Some(Jwks::Url(u)) = a.jwks {
            value(ctx, || format!("{}/jwks/url", a.ptr), &u.url, "JWKS URL");
        }
    }
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        let Some(m) = &site.policies.mcp_authentication else {
            continue;
        };
        let ptr = format!("{}/mcpAuthentication", site.ptr);
        if let Some(c) = &m.client_id {
            value(ctx, || format!("{ptr}/clientId"), c, "client id");
        }
        if let Some(c) = &m.client_secret {
            value(ctx, || format!("{ptr}/clientSecret"), c, "client secret");
        }
        let mut meta = Vec::new();
        for (k, v) in m.resource_metadata.iter().flat_map(|r| r.iter()) {
            strings(&mut meta, k, None, v);
        }
        for (k, i, v) in meta {
            let at = || match i {
                Some(i) => format!("{ptr}/resourceMetadata/{}/{i}", ptr_token(k)),
                None => format!("{ptr}/resourceMetadata/{}", ptr_token(k)),
            };
            value(ctx, at, v, "resource metadata value");
        }
    }
    let backends = ctx.mcp.clone();
    for (ptr, b) in backends.iter() {
        for (ti, t) in b.targets.iter().enumerate() {
            for (kind, h) in [("mcp", &t.mcp), ("sse", &t.sse)] {
                if let Some(host) = h.as_ref().and_then(|h| h.host.as_ref()) {
                    value(
                        ctx,
                        || format!("{ptr}/targets/{ti}/{kind}/host"),
                        host,
                        "target host",
                    );
                }
            }
            if let Some(host) = t.openapi.as_ref().and_then(|o| o.host.as_ref()) {
                value(
                    ctx,
                    || format!("{ptr}/targets/{ti}/openapi/host"),
                    host,
                    "target host",
                );
            }
            if let Some(s) = &t.stdio {
                for (i, a) in s.args.iter().enumerate() {
                    value(
                        ctx,
                        || format!("{ptr}/targets/{ti}/stdio/args/{i}"),
                        a,
                        "argument",
                    );
                }
                for (k, v) in &s.env {
                    value(
                        ctx,
                        || format!("{ptr}/targets/{ti}/stdio/env/{}", ptr_token(k)),
                        v,
                        "environment value",
                    );
                }
            }
        }
    }
    let topology = ctx.topology.clone();
    let routes = &topology.sites;
    for site in routes.iter() {
        for (i, b) in site.route.backends.iter().enumerate() {
            if let Some(h) = &b.host {
                value(
                    ctx,
                    || format!("{}/backends/{i}/host", site.ptr),
                    h,
                    "backend host",
                );
            }
        }
    }
    for (i, b) in cfg.backends.iter().enumerate() {
        if let Some(h) = &b.host {
            value(ctx, || format!("/backends/{i}/host"), h, "backend host");
        }
    }
}

/// The strings of a resource metadata value: `(key, index in a list, text)`.
fn strings<'v>(
    out: &mut Vec<(&'v str, Option<usize>, &'v str)>,
    key: &'v str,
    i: Option<usize>,
    v: &'v Value,
) {
    match v {
        Value::String(s) => out.push((key, i, s)),
        Value::Array(a) if i.is_none() => {
            for (i, x) in a.iter().enumerate() {
                strings(out, key, Some(i), x);
            }
        }
        _ => {}
    }
}

/// Every kind of placeholder in one pattern, so that the common case (no placeholder) costs one
/// scan of the value.
fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(?P<angle><[a-z0-9_. -]+>)|(?P<your>(?-u:\b)your[-_][a-z0-9_-]*)|(?P<word>(?-u:\b)(?:changeme|change[-_]me|replace[-_]?me|yourdomain|yourorg|yourcompany|yourtenant|todo|tbd|fixme|x{3,})(?-u:\b))|(?P<ex>example)",
        )
        .expect("placeholder pattern")
    })
}

/// The byte range of a placeholder in `s`, with why it is one.
pub fn placeholder(s: &str) -> Option<(usize, usize, &'static str)> {
    if s.len() < 3 || !pattern().is_match(s) || s.contains("agw-unset-") {
        // nothing like a placeholder, or a variable checked with --allow-unset-env (env/unset
        // speaks about that one)
        return None;
    }
    for c in pattern().captures_iter(s) {
        if let Some(m) = c.name("angle") {
            return Some((m.start(), m.end(), "a placeholder in angle brackets"));
        }
        if let Some(m) = c.name("your").or_else(|| c.name("word")) {
            return Some((m.start(), m.end(), "copied from an example"));
        }
        if c.name("ex").is_some() {
            if let Some(r) = reserved_host(s) {
                return Some(r);
            }
        }
    }
    None
}

/// `example.com` and friends (RFC 2606 names, reserved for documentation) as the host.
fn reserved_host(s: &str) -> Option<(usize, usize, &'static str)> {
    let host = match parse_url(s) {
        Some(u) => u.host,
        None if !s.contains(' ') && s.contains('.') => split_host_port(s)?.0,
        None => return None,
    };
    let hb = host.as_bytes();
    let under = |d: &str| {
        let n = d.len();
        hb.len() >= n
            && hb[hb.len() - n..].eq_ignore_ascii_case(d.as_bytes())
            && (hb.len() == n || hb[hb.len() - n - 1] == b'.')
    };
    let reserved = ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| under(d))
        || (under("example") && hb.len() > "example".len());
    if !reserved {
        return None;
    }
    let a = s.find(host).unwrap_or(0);
    Some((a, a + host.len(), "a domain reserved for documentation"))
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn finds_placeholders() {
        let p = |s: &str| placeholder(s).map(|(a, z, _)| s[a..z].to_string());
        assert_eq!(
            p("https://your-org.okta.com/oauth2/default").as_deref(),
            Some("your-org")
        );
        assert_eq!(p("YOUR_CLIENT_ID").as_deref(), Some("YOUR_CLIENT_ID"));
        assert_eq!(
            p("https://login.microsoftonline.com/<tenant-id>/v2.0").as_deref(),
            Some("<tenant-id>")
        );
        assert_eq!(
            p("https://gateway.example.com/mcp").as_deref(),
            Some("gateway.example.com")
        );
        assert_eq!(p("api://default"), None);
        assert_eq!(p("https://acme.okta.com/oauth2/default"), None);
        assert_eq!(p("http://localhost:3000/mcp"), None);
        assert_eq!(p("https://agw-unset-OKTA_DOMAIN"), None);
        assert_eq!(p("-y"), None);
        assert_eq!(p("@modelcontextprotocol/server-everything"), None);
        assert_eq!(p("yourself"), None);
    }
}
