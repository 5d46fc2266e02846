//! Environment-variable expansion over the whole text, as the gateway does before parsing:
//! `$VAR`, `${VAR}` and `${VAR:-default}`. Every substitution is remembered so that positions in
//! the expanded text map back to the original.

use std::collections::HashMap;

use super::Span;

/// Where variable values come from, and what to do when one is missing.
#[derive(Debug, Clone, Default)]
pub struct EnvOptions {
    /// Values given with `-e KEY=VALUE` or `--env-file`; they win over the process environment.
    pub overrides: HashMap<String, String>,
    /// Read the process environment for variables not in `overrides`.
    pub use_process_env: bool,
    /// Substitute a placeholder for an unset variable instead of failing.
    pub allow_unset: bool,
}

impl EnvOptions {
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.overrides.get(name) {
            return Some(v.clone());
        }
        if self.use_process_env {
            return std::env::var(name).ok();
        }
        None
    }

    /// Parses a dotenv-style file: `KEY=VALUE` lines, `#` comments, optional `export `, optional
    /// single or double quotes around the value.
    pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!(
                    "line {}: expected KEY=VALUE, found `{}`",
                    i + 1,
                    raw
                ));
            };
            let k = k.trim();
            if !is_var_name(k) {
                return Err(format!("line {}: `{}` is not a variable name", i + 1, k));
            }
            let v = v.trim();
            let v = if v.len() >= 2
                && ((v.starts_with('"') && v.ends_with('"'))
                    || (v.starts_with('\'') && v.ends_with('\'')))
            {
                &v[1..v.len() - 1]
            } else {
                v
            };
            out.push((k.to_string(), v.to_string()));
        }
        Ok(out)
    }
}

fn is_var_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One `$...` reference that was replaced.
#[derive(Debug, Clone)]
struct Substitution {
    expanded: Span,
    original: Span,
    /// The value came from the environment (not from a `:-` default written in the file).
    from_env: bool,
}

/// A variable that had no value.
#[derive(Debug, Clone)]
pub struct UnsetVar {
    pub name: String,
    pub span: Span,
    /// Inside a YAML comment: still fatal for the gateway, which expands before parsing.
    pub in_comment: bool,
}

/// The text after expansion, with the map back to original offsets.
#[derive(Debug, Clone)]
pub struct Expanded<'a> {
    /// Borrowed from the original when nothing was substituted (the common case).
    pub text: std::borrow::Cow<'a, str>,
    subs: Vec<Substitution>,
    pub unset: Vec<UnsetVar>,
}

impl Expanded<'_> {
    /// The `$VAR` references of the original text, as written.
    pub fn references(&self) -> Vec<Span> {
        self.subs.iter().map(|s| s.original).collect()
    }

    /// Every value that came from the environment, with the reference it replaced as written
    /// (`${GW_PORT}`), for showing findings without the values: `original` is the text before
    /// expansion.
    pub fn env_values(&self, original: &str) -> Vec<(String, String)> {
        self.subs
            .iter()
            .filter(|s| s.from_env)
            .map(|s| {
                (
                    self.text[s.expanded.start..s.expanded.end].to_string(),
                    original[s.original.start..s.original.end].to_string(),
                )
            })
            .collect()
    }

    /// Maps a byte offset of the expanded text to the original text. An offset inside a
    /// substituted value maps to the start of the `$VAR` reference.
    pub fn to_original(&self, offset: usize) -> usize {
        if self.subs.is_empty() {
            return offset;
        }
        let idx = self.subs.partition_point(|s| s.expanded.start <= offset);
        if idx == 0 {
            return offset;
        }
        let s = &self.subs[idx - 1];
        if offset < s.expanded.end {
            s.original.start
        } else {
            s.original.end + (offset - s.expanded.end)
        }
    }

    pub fn span_to_original(&self, span: Span) -> Span {
        let start = self.to_original(span.start);
        let end = self.to_original(span.end);
        if end <= start {
            // The span lies inside one substituted value: show the whole reference.
            let s = self
                .subs
                .iter()
                .find(|s| s.original.start == start)
                .map(|s| s.original.end)
                .unwrap_or(start);
            return Span::new(start, s);
        }
        Span::new(start, end)
    }
}

const MODELINE: &str = "# yaml-language-server: ";

/// Expands every variable reference in `text`.
pub fn expand<'a>(text: &'a str, opts: &EnvOptions) -> Expanded<'a> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut subs = Vec::new();
    let mut unset = Vec::new();
    let mut copied = 0;
    let mut next = 0;
    // Jump from `$` to `$`: most files have none, and a large file should cost a scan.
    while let Some(found) = memchr::memchr(b'$', &bytes[next..]) {
        let i = next + found;
        next = i + 1;
        let line_start = memchr::memrchr(b'\n', &bytes[..i]).map_or(0, |n| n + 1);
        // The editor modeline's `$schema` is not a variable (the gateway strips it too).
        if text[line_start..i].ends_with(MODELINE) {
            continue;
        }
        // `$$` is the gateway's escape for a literal `$` (shellexpand), e.g. in bcrypt hashes.
        let escape = bytes.get(i + 1) == Some(&b'$');
        let reference = if escape {
            Reference {
                name: "",
                default: Some("$"),
                len: 2,
            }
        } else {
            match parse_reference(&text[i..]) {
                Some(r) => r,
                None => continue,
            }
        };
        let mut from_env = !escape;
        // A default applies only when the variable is unset: shellexpand, which the gateway
        // uses, keeps a variable that is set to the empty string.
        let found = if escape {
            None
        } else {
            opts.lookup(reference.name)
        };
        let value = match found {
            Some(v) => v,
            None => match reference.default {
                Some(d) => {
                    from_env = false;
                    d.to_string()
                }
                None => {
                    let in_comment = in_comment(&text[line_start..i]);
                    unset.push(UnsetVar {
                        name: reference.name.to_string(),
                        span: Span::new(i, i + reference.len),
                        in_comment,
                    });
                    from_env = false;
                    if opts.allow_unset {
                        format!("agw-unset-{}", reference.name)
                    } else {
                        // Leave the reference as written; the run fails on `unset` anyway.
                        text[i..i + reference.len].to_string()
                    }
                }
            },
        };
        if out.capacity() == 0 {
            out.reserve(text.len() + 64);
        }
        out.push_str(&text[copied..i]);
        let start = out.len();
        out.push_str(&value);
        subs.push(Substitution {
            expanded: Span::new(start, out.len()),
            original: Span::new(i, i + reference.len),
            from_env,
        });
        next = i + reference.len;
        copied = next;
    }
    if subs.is_empty() {
        return Expanded {
            text: std::borrow::Cow::Borrowed(text),
            subs,
            unset,
        };
    }
    out.push_str(&text[copied..]);
    Expanded {
        text: std::borrow::Cow::Owned(out),
        subs,
        unset,
    }
}

struct Reference<'a> {
    name: &'a str,
    default: Option<&'a str>,
    len: usize,
}

fn parse_reference(s: &str) -> Option<Reference<'_>> {
    let rest = &s[1..];
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner.find('}')?;
        let body = &inner[..close];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        if !is_var_name(name) {
            return None;
        }
        return Some(Reference {
            name,
            default,
            len: 2 + close + 1,
        });
    }
    let n = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if n == 0 {
        return None;
    }
    Some(Reference {
        name: &rest[..n],
        default: None,
        len: 1 + n,
    })
}

/// Whether the text before a position on its line opens a YAML comment (a `#` at the start or
/// after white space, outside quotes).
fn in_comment(line_prefix: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for c in line_prefix.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => return true,
            None => {}
        }
        prev = c;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> EnvOptions {
        EnvOptions {
            overrides: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn expands_all_forms_and_maps_back() {
        let t = "a: $A\nb: ${B}\nc: ${C:-dflt}\nd: x";
        let e = expand(t, &opts(&[("A", "one"), ("B", "twotwo")]));
        assert_eq!(e.text, "a: one\nb: twotwo\nc: dflt\nd: x");
        assert!(e.unset.is_empty());
        let d_exp = e.text.find("d:").unwrap();
        assert_eq!(e.to_original(d_exp), t.find("d:").unwrap());
        // inside a substituted value -> start of the reference
        assert_eq!(
            e.to_original(e.text.find("twotwo").unwrap() + 2),
            t.find("${B}").unwrap()
        );
    }

    #[test]
    fn unset_is_reported_with_position_even_in_comments() {
        let t = "# uses $SECRET\nk: v\nport: ${PORT}\n";
        let e = expand(t, &opts(&[]));
        assert_eq!(e.unset.len(), 2);
        assert!(e.unset[0].in_comment);
        assert_eq!(&t[e.unset[1].span.start..e.unset[1].span.end], "${PORT}");
    }

    #[test]
    fn modeline_and_lone_dollars_are_left_alone() {
        let t = "# yaml-language-server: $schema=x.json\nr: '^/a$'\nm: $ 5\n";
        let e = expand(t, &opts(&[]));
        assert!(e.unset.is_empty());
        assert_eq!(e.text, t);
    }

    #[test]
    fn allow_unset_substitutes_a_placeholder() {
        let mut o = opts(&[]);
        o.allow_unset = true;
        let e = expand("k: $NOPE\n", &o);
        assert_eq!(e.text, "k: agw-unset-NOPE\n");
        assert_eq!(e.unset.len(), 1);
    }

    #[test]
    fn env_file_parsing() {
        let v = EnvOptions::parse_env_file("# c\nexport A=1\nB=\"two words\"\n\nC='x'\n").unwrap();
        assert_eq!(v[1], ("B".into(), "two words".into()));
        assert!(EnvOptions::parse_env_file("nonsense").is_err());
    }
}
