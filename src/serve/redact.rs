//! What `agw serve` logs about a file shows the text as written: a value that came from the
//! environment is shown as the reference that produced it (`${VAR}`), wherever it appears in
//! a rendered diagnostic (messages quote values after expansion).

use crate::source::EnvOptions;

/// Values shorter than this are left alone: a port or a flag is no secret, and replacing
/// every `1` would garble the text.
const MIN_SECRET_LEN: usize = 4;

/// `url` with the password of its user information masked (`https://user:***@host/`), for
/// logs and messages.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let user = rest[..at].split(':').next().unwrap_or("");
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// The variables `text` refers to (`$VAR`, `${VAR}`, `${VAR:-default}`), in order of first
/// appearance.
pub fn referenced_vars(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'$', &b[i..]) {
        let at = i + found + 1;
        i = at;
        let braced = b.get(at) == Some(&b'{');
        let start = if braced { at + 1 } else { at };
        let len = b[start.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if len == 0 {
            continue;
        }
        let name = &text[start..start + len];
        if !out.contains(&name) {
            out.push(name);
        }
        i = start + len;
    }
    out
}

/// `rendered` with every value that `source` takes from the environment replaced by
/// `${NAME}`. Longer values first, so that a value containing another is replaced whole.
pub fn env_values(rendered: &str, source: &str, env: &EnvOptions) -> String {
    let mut values: Vec<(String, &str)> = referenced_vars(source)
        .into_iter()
        .filter_map(|name| env.lookup(name).map(|v| (v, name)))
        .filter(|(v, _)| v.len() >= MIN_SECRET_LEN)
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.0.len()));
    let mut out = rendered.to_string();
    for (value, name) in values {
        if out.contains(&value) {
            out = out.replace(&value, &format!("${{{name}}}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvOptions {
        EnvOptions {
            overrides: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            url("https://u:p@h.example/x?a=b@c"),
            "https://u:***@h.example/x?a=b@c"
        );
        assert_eq!(url("http://h.example/a@b"), "http://h.example/a@b");
        assert_eq!(url("http://tok@h.example"), "http://tok:***@h.example");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn finds_every_reference_form() {
        assert_eq!(
            referenced_vars("a: $A\nb: ${B_2}\nc: ${C:-x} $$ $ d$"),
            vec!["A", "B_2", "C"]
        );
    }

    #[test]
    fn replaces_expanded_values_by_their_reference() {
        let e = env(&[("MODE", "okta-client-hunter2"), ("PORT", "80")]);
        let out = env_values(
            "unknown variant `okta-client-hunter2` at port 80",
            "mode: ${MODE}\nport: $PORT\n",
            &e,
        );
        assert_eq!(out, "unknown variant `${MODE}` at port 80");
    }

    #[test]
    fn longer_values_go_first() {
        let e = env(&[("A", "secret"), ("B", "secret-and-more")]);
        let out = env_values("x secret-and-more y secret", "$A $B", &e);
        assert_eq!(out, "x ${B} y ${A}");
    }
}
