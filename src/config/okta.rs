//! Okta's URL shapes: its domains, its custom authorization servers and where it serves keys.

use super::policy::auth::Provider;
use super::url::{parse_url, Url};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::policy::auth::Provider;

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
}
