//! Small helpers shared by the rule families: URLs, hosts, paths, Okta shapes, and mapping an
//! offset inside a decoded string back to the text the user wrote.

use crate::config::policy::auth::Provider;
use crate::config::route::RouteMatch;

use super::Ctx;

pub const WK_RESOURCE: &str = "/.well-known/oauth-protected-resource";
pub const WK_AUTH_SERVER: &str = "/.well-known/oauth-authorization-server";

/// Maps `decoded[start..end]` to byte offsets in `written`, the text of the same scalar as it
/// appears in the file (with quotes, escapes, indentation of block scalars).
pub fn align(written: &str, decoded: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let end = end.max(start).min(decoded.len());
    let start = start.min(end);
    if written == decoded {
        return Some((start, end));
    }
    let quoted = written.len() >= 2
        && ((written.starts_with('"') && written.ends_with('"'))
            || (written.starts_with('\'') && written.ends_with('\'')));
    if quoted && &written[1..written.len() - 1] == decoded {
        return Some((start + 1, end + 1));
    }
    // Walk both texts: every non-blank decoded character is found, in order, in the written
    // text; blanks (indentation, folded newlines) are skipped on both sides.
    let w = written.as_bytes();
    let mut j = usize::from(quoted);
    let mut a = None;
    let mut last_end = j;
    for (i, c) in decoded.char_indices() {
        if i >= end && a.is_some() {
            break;
        }
        if c.is_whitespace() {
            if i == start {
                a = Some(j);
            }
            continue;
        }
        let mut buf = [0u8; 4];
        let cb = c.encode_utf8(&mut buf).as_bytes();
        loop {
            if j + cb.len() > w.len() {
                return None;
            }
            if &w[j..j + cb.len()] == cb {
                break;
            }
            j += 1;
        }
        if i == start {
            a = Some(j);
        }
        j += cb.len();
        if i < end {
            last_end = j;
        }
    }
    let a = a.unwrap_or(last_end);
    Some((a, last_end.max(a)))
}

/// The parts of an absolute URL that rules compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    /// The path without query or fragment; empty when the URL has none.
    pub path: &'a str,
}

impl Url<'_> {
    pub fn origin(&self) -> String {
        let scheme = self.scheme.to_ascii_lowercase();
        let port = self.port.or(match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        });
        match port {
            Some(p) => format!("{scheme}://{}:{p}", self.host.to_ascii_lowercase()),
            None => format!("{scheme}://{}", self.host.to_ascii_lowercase()),
        }
    }

    /// Same scheme, host and port (default ports filled in), without allocating.
    pub fn same_origin(&self, other: &Url) -> bool {
        let port = |u: &Url| {
            u.port.or(if u.scheme.eq_ignore_ascii_case("http") {
                Some(80)
            } else if u.scheme.eq_ignore_ascii_case("https") {
                Some(443)
            } else {
                None
            })
        };
        self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.host.eq_ignore_ascii_case(other.host)
            && port(self) == port(other)
    }

    /// `scheme://host[:port]` as written.
    pub fn origin_text(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

pub fn parse_url(s: &str) -> Option<Url<'_>> {
    let sep = s.as_bytes().windows(3).position(|w| w == b"://")?;
    let (scheme, rest) = (&s[..sep], &s[sep + 3..]);
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(authority)?;
    let tail = &rest[auth_end..];
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    Some(Url {
        scheme,
        host,
        port,
        path: &tail[..path_end],
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`. `None` when the port is not a number.
pub fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &s[..close + 2];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h, Some(p.parse().ok()?))),
        Some(_) => Some((s, None)),
        None => Some((s, None)),
    }
}

/// Loopback names and addresses, where plain HTTP does not leave the machine.
pub fn is_local_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.ends_with(".localhost")
        || h.starts_with("127.")
        || h == "::1"
        || h == "0:0:0:0:0:0:0:1"
}

pub fn is_okta_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    [
        ".okta.com",
        ".oktapreview.com",
        ".okta-emea.com",
        ".okta-gov.com",
    ]
    .iter()
    .any(|d| h.ends_with(d))
}

/// The id of an Okta custom authorization server in an issuer path (`/oauth2/default`).
pub fn okta_custom_server(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/oauth2/")?;
    let id = rest.strip_suffix('/').unwrap_or(rest);
    if id.is_empty() || id.contains('/') || matches!(id, "v1" | "v2" | "v2.0") {
        return None;
    }
    Some(id)
}

/// Whether an issuer is an Okta authorization server: `provider: okta`, or a host of Okta's own
/// domains. An `/oauth2/{server}` path alone is not enough: other servers use that shape too (and
/// a local test issuer often does), and Okta's rules would then judge them wrongly. An Okta custom
/// domain is recognised with `provider: okta`.
pub fn is_okta_issuer(issuer: &str, provider: Option<&Provider>) -> bool {
    is_okta_url(parse_url(issuer).as_ref(), provider)
}

/// [`is_okta_issuer`] for an issuer already parsed.
pub fn is_okta_url(u: Option<&Url>, provider: Option<&Provider>) -> bool {
    if matches!(provider, Some(Provider::Okta(_))) {
        return true;
    }
    if provider.is_some() {
        return false;
    }
    let Some(u) = u else {
        return false;
    };
    is_okta_host(u.host)
}

/// Whether one match of a route selects `path` (looking at the path condition only).
pub fn match_covers(ctx: &mut Ctx, m: &RouteMatch, path: &str) -> bool {
    let Some(p) = &m.path else { return true };
    if let Some(e) = &p.exact {
        return e == path;
    }
    if let Some(prefix) = &p.path_prefix {
        return prefix_covers(prefix, path);
    }
    if let Some(r) = &p.regex {
        return ctx.regex(r).is_some_and(|re| re.is_match(path));
    }
    true
}

/// `pathPrefix` semantics: whole segments (`/mcp` matches `/mcp` and `/mcp/x`, not `/mcpx`).
pub fn prefix_covers(prefix: &str, path: &str) -> bool {
    if prefix == "/" || prefix.is_empty() {
        return true;
    }
    let p = prefix.strip_suffix('/').unwrap_or(prefix);
    path == p || (path.starts_with(p) && path[p.len()..].starts_with('/'))
}

/// The MCP endpoint paths a route serves: its exact and prefix paths outside `/.well-known/`.
/// Regex matches are left out (there is no single path to name).
pub fn served_paths(matches: &[RouteMatch]) -> Vec<String> {
    let mut out = Vec::new();
    for m in matches {
        let Some(p) = &m.path else {
            out.push("/".to_string());
            continue;
        };
        let path = if let Some(e) = &p.exact {
            e.clone()
        } else if let Some(pre) = &p.path_prefix {
            if pre.len() > 1 {
                pre.trim_end_matches('/').to_string()
            } else {
                pre.clone()
            }
        } else {
            continue;
        };
        if path.starts_with("/.well-known/") || out.contains(&path) {
            continue;
        }
        out.push(path);
    }
    out
}

/// Parses a Go-style duration (`1m30s`, `500ms`) into nanoseconds.
pub fn duration_nanos(s: &str) -> Option<u128> {
    crate::config::parse_duration(s).map(|d| d.as_nanos())
}

/// The JSON-pointer escaping of one token.
/// An HTTP token (RFC 9110): what a header name or a method is made of.
pub fn is_http_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Calls `f(pointer, key, value)` for every entry of every mapping in `v`, depth first in the
/// document's order: the one walk of the rules that look for a shape anywhere in a file.
pub fn each_entry(v: &serde_json::Value, f: &mut impl FnMut(&str, &str, &serde_json::Value)) {
    fn walk(
        v: &serde_json::Value,
        at: &mut String,
        f: &mut impl FnMut(&str, &str, &serde_json::Value),
    ) {
        let len = at.len();
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    at.push('/');
                    at.push_str(&ptr_token(k));
                    f(at, k, x);
                    walk(x, at, f);
                    at.truncate(len);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push('/');
                    at.push_str(&i.to_string());
                    walk(x, at, f);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(v, &mut String::new(), f);
}

pub fn ptr_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_plain_quoted_and_block() {
        assert_eq!(align("a && b", "a && b", 2, 4), Some((2, 4)));
        assert_eq!(align("'a && b'", "a && b", 5, 6), Some((6, 7)));
        // a block scalar: `|` header, newline, indentation
        let written = "|\n    jwt.sub == \"x\" &&\n    y\n";
        let decoded = "jwt.sub == \"x\" &&\ny\n";
        let (a, z) = align(written, decoded, 18, 19).unwrap();
        assert_eq!(&written[a..z], "y");
        // escapes in double quotes
        let written = r#""a == \"b\" (""#;
        let decoded = "a == \"b\" (";
        let (a, z) = align(written, decoded, 9, 10).unwrap();
        assert_eq!(&written[a..z], "(");
    }

    #[test]
    fn urls() {
        let u = parse_url("https://acme.okta.com/oauth2/default?x=1").unwrap();
        assert_eq!(u.host, "acme.okta.com");
        assert_eq!(u.path, "/oauth2/default");
        assert_eq!(u.origin(), "https://acme.okta.com:443");
        let u = parse_url("http://[::1]:9000").unwrap();
        assert_eq!(u.host, "[::1]");
        assert_eq!(u.port, Some(9000));
        assert!(is_local_host(u.host));
        assert!(parse_url("acme.okta.com").is_none());
    }

    #[test]
    fn okta_shapes() {
        assert!(is_okta_issuer("https://acme.okta.com/oauth2/default", None));
        // a custom domain is Okta only when the file says so
        assert!(!is_okta_issuer(
            "https://login.acme.com/oauth2/aus1a2b3c",
            None
        ));
        assert!(is_okta_issuer(
            "https://login.acme.com/oauth2/aus1a2b3c",
            Some(&Provider::Okta(Default::default()))
        ));
        assert!(!is_okta_issuer(
            "http://127.0.0.1:8089/oauth2/default/",
            None
        ));
        assert!(is_okta_issuer("https://acme.okta.com", None));
        assert!(!is_okta_issuer(
            "https://login.microsoftonline.com/t/oauth2/v2.0",
            None
        ));
        assert!(!is_okta_issuer("http://localhost:9000", None));
    }

    #[test]
    fn prefixes_and_durations() {
        assert!(prefix_covers("/mcp", "/mcp/x"));
        assert!(!prefix_covers("/mcp", "/mcpx"));
        assert!(prefix_covers("/", "/anything"));
        assert_eq!(duration_nanos("1m30s"), Some(90_000_000_000));
        assert_eq!(duration_nanos("500ms"), Some(500_000_000));
        assert_eq!(duration_nanos("x"), None);
    }
}
