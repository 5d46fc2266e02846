//! The parts of a URL that the model's judgements compare, read without a URL crate: the
//! file holds URLs as written, `${VAR}`s and all, and a rule must still see their parts.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
