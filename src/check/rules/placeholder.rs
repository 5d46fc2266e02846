//! Placeholder values copied from documentation (`your-org`, `YOUR_CLIENT_ID`, `<tenant-id>`,
//! `example.com`) in the places where a real value decides who gets in or where requests go.

use serde_json::Value;

use super::auth::auth_configs;
use super::mcp::mcp_backends;
use super::util::{parse_url, split_host_port};
use super::Ctx;
use crate::config::walk;
use crate::diag::Diagnostic;

pub fn check(ctx: &mut Ctx) {
    let mut values: Vec<(String, String, &'static str)> = Vec::new();
    for a in auth_configs(ctx) {
        values.push((format!("{}/issuer", a.ptr), a.issuer.to_string(), "issuer"));
        for (i, aud) in a.audiences.iter().flat_map(|x| x.iter()).enumerate() {
            values.push((format!("{}/audiences/{i}", a.ptr), aud.clone(), "audience"));
        }
        if let Some(crate::config::policy::auth::Jwks::Url(u)) = a.jwks {
            values.push((format!("{}/jwks/url", a.ptr), u.url.clone(), "JWKS URL"));
        }
    }
    for site in walk::route_policies(ctx.cfg) {
        let Some(m) = &site.policies.mcp_authentication else {
            continue;
        };
        let ptr = format!("{}/mcpAuthentication", site.ptr);
        if let Some(c) = &m.client_id {
            values.push((format!("{ptr}/clientId"), c.clone(), "client id"));
        }
        if let Some(c) = &m.client_secret {
            values.push((format!("{ptr}/clientSecret"), c.clone(), "client secret"));
        }
        for (k, v) in m.resource_metadata.iter().flatten() {
            strings(&mut values, &format!("{ptr}/resourceMetadata/{k}"), v);
        }
    }
    for (ptr, b) in mcp_backends(ctx) {
        for (ti, t) in b.targets.iter().enumerate() {
            let tptr = format!("{ptr}/targets/{ti}");
            for (kind, h) in [("mcp", &t.mcp), ("sse", &t.sse)] {
                if let Some(host) = h.as_ref().and_then(|h| h.host.as_ref()) {
                    values.push((format!("{tptr}/{kind}/host"), host.clone(), "target host"));
                }
            }
            if let Some(host) = t.openapi.as_ref().and_then(|o| o.host.as_ref()) {
                values.push((format!("{tptr}/openapi/host"), host.clone(), "target host"));
            }
            if let Some(s) = &t.stdio {
                for (i, a) in s.args.iter().enumerate() {
                    values.push((format!("{tptr}/stdio/args/{i}"), a.clone(), "argument"));
                }
                for (k, v) in &s.env {
                    values.push((
                        format!("{tptr}/stdio/env/{}", super::util::ptr_token(k)),
                        v.clone(),
                        "environment value",
                    ));
                }
            }
        }
    }
    for site in walk::routes(ctx.cfg) {
        for (i, b) in site.route.backends.iter().enumerate() {
            if let Some(h) = &b.host {
                values.push((
                    format!("{}/backends/{i}/host", site.ptr),
                    h.clone(),
                    "backend host",
                ));
            }
        }
    }
    for (i, b) in ctx.cfg.backends.iter().enumerate() {
        values.push((
            format!("/backends/{i}/host"),
            b.host.clone(),
            "backend host",
        ));
    }
    for (ptr, v, what) in values {
        if let Some((a, z, why)) = placeholder(&v) {
            let shown = &v[a..z];
            ctx.push(
                Diagnostic::new(
                    "placeholder/value",
                    format!("the {what} `{v}` contains `{shown}`, a placeholder from documentation"),
                )
                .at(ctx.inner(&ptr, &v, a, z), why)
                .help(format!("replace `{shown}` with your real value (or take it from the environment: `${{NAME}}`)")),
            );
        }
    }
}

fn strings(out: &mut Vec<(String, String, &'static str)>, ptr: &str, v: &Value) {
    match v {
        Value::String(s) => out.push((ptr.to_string(), s.clone(), "resource metadata value")),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(out, &format!("{ptr}/{i}"), x);
            }
        }
        _ => {}
    }
}

const WORDS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replaceme",
    "replace_me",
    "yourdomain",
    "yourorg",
    "yourcompany",
    "yourtenant",
    "todo",
    "tbd",
    "fixme",
];

/// The byte range of a placeholder in `s`, with why it is one.
pub fn placeholder(s: &str) -> Option<(usize, usize, &'static str)> {
    if s.starts_with("agw-unset-") || s.contains("://agw-unset-") {
        return None; // a variable checked with --allow-unset-env; env/unset speaks about it
    }
    let lower = s.to_ascii_lowercase();
    let b = lower.as_bytes();
    let word_start = |i: usize| i == 0 || !b[i - 1].is_ascii_alphanumeric();
    // <tenant-id>
    if let Some(a) = s.find('<') {
        if let Some(len) = s[a + 1..].find('>') {
            let inner = &s[a + 1..a + 1 + len];
            if !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c))
            {
                return Some((a, a + len + 2, "a placeholder in angle brackets"));
            }
        }
    }
    // your-org, YOUR_CLIENT_ID
    let mut from = 0;
    while let Some(i) = lower[from..].find("your") {
        let i = from + i;
        let after = b.get(i + 4).copied();
        if word_start(i) && matches!(after, Some(b'-') | Some(b'_')) {
            let end = lower[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .map_or(s.len(), |e| i + e);
            return Some((i, end, "copied from an example"));
        }
        from = i + 4;
    }
    for w in WORDS {
        let mut from = 0;
        while let Some(i) = lower[from..].find(w) {
            let i = from + i;
            let end = i + w.len();
            let word_end = end == b.len() || !b[end].is_ascii_alphanumeric();
            if word_start(i) && word_end {
                return Some((i, end, "copied from an example"));
            }
            from = end;
        }
    }
    // XXXX
    if let Some(i) = lower.find("xxx") {
        if word_start(i) {
            let end = lower[i..].find(|c| c != 'x').map_or(s.len(), |e| i + e);
            if end == s.len() || !b[end].is_ascii_alphanumeric() {
                return Some((i, end, "copied from an example"));
            }
        }
    }
    // example.com and friends (RFC 2606 names, reserved for documentation)
    let host = match parse_url(s) {
        Some(u) => Some(u.host),
        None if !s.contains(' ') && s.contains('.') => split_host_port(s).map(|(h, _)| h),
        None => None,
    };
    if let Some(h) = host {
        let hl = h.to_ascii_lowercase();
        for d in ["example.com", "example.org", "example.net"] {
            if hl == d || hl.ends_with(&format!(".{d}")) {
                let a = lower.find(&hl).unwrap_or(0);
                return Some((a, a + hl.len(), "a domain reserved for documentation"));
            }
        }
        if hl.ends_with(".example") {
            let a = lower.find(&hl).unwrap_or(0);
            return Some((a, a + hl.len(), "a domain reserved for documentation"));
        }
    }
    None
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
