//! Kubernetes names: DNS-1123 labels made from the names of the local file, unique per kind.

use std::collections::HashSet;

/// The longest name agw makes: a DNS label (63), so that every name is also a valid
/// `sectionName` and Service name.
const MAX: usize = 63;

/// `name` as a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with an
/// alphanumeric; `None` when nothing of it is left.
pub fn label(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(MAX);
    let out = out.trim_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// Hands out names that are unique within one kind: the second `api` is `api-2`.
#[derive(Default)]
pub struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// A unique label made from `wanted`, or from `fallback` when `wanted` has no usable letter.
    pub fn take(&mut self, wanted: Option<&str>, fallback: &str) -> String {
        let base = wanted
            .and_then(label)
            .or_else(|| label(fallback))
            .unwrap_or_else(|| "agw".into());
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            let suffix = format!("-{n}");
            let keep = base.len().min(MAX - suffix.len());
            name = format!("{}{suffix}", base[..keep].trim_end_matches('-'));
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_dns_names() {
        assert_eq!(label("My_Route 1").as_deref(), Some("my-route-1"));
        assert_eq!(label("--x--").as_deref(), Some("x"));
        assert_eq!(label("ü"), None);
        assert_eq!(label(&"a".repeat(100)).unwrap().len(), 63);
        assert!(crate::config::is_dns_subdomain("everything.v1"));
        assert!(!crate::config::is_dns_subdomain("Everything"));
        assert!(!crate::config::is_dns_subdomain("a_b"));
    }

    #[test]
    fn names_are_unique_per_kind() {
        let mut u = Unique::default();
        assert_eq!(u.take(Some("api"), "route"), "api");
        assert_eq!(u.take(Some("API"), "route"), "api-2");
        assert_eq!(u.take(None, "route"), "route");
        assert_eq!(u.take(Some("!!"), "route"), "route-2");
        let long = "b".repeat(63);
        assert_eq!(u.take(Some(&long), "x"), long);
        assert_eq!(u.take(Some(&long), "x").len(), 63);
    }
}
