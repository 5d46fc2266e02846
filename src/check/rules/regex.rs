//! Regexes of route matches (path, header and query values) must compile with Rust's `regex`,
//! the engine the gateway uses; an error points at the offending character.

use regex_syntax::ast::parse::Parser;
use regex_syntax::hir::translate::Translator;

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    REGEX_INVALID {
        id: "regex/invalid",
        severity: Error,
        summary: "a regex of a route match does not compile",
        why: "A path, header or query regex that does not compile stops the gateway from loading the file. The syntax is Rust's `regex`: look-around and back-references are not supported, and a pattern must match the whole value.",
        gateway: "The gateway compiles path, header and query regexes with the Rust `regex` crate when it loads the file and refuses one that does not compile (agentgateway `crates/agentgateway/src/types/agent.rs`, `PathMatch`, `HeaderValueMatch` and `QueryValueMatch`, read with `serde_regex`); a match must span the whole value (`HeaderValueMatch::matches`, `crates/agentgateway/src/http/route.rs`).",
        example: "path:\n  regex: /mcp/(a|b",
        use_instead: "path:\n  regex: /mcp/(a|b)",
    }
}

pub fn check(ctx: &mut Ctx) {
    let mut found: Vec<(String, String, &'static str)> = Vec::new();
    for site in ctx.topology.sites.iter() {
        for (mi, m) in site.route.matches.iter().flatten().enumerate() {
            let base = format!("{}/matches/{mi}", site.ptr);
            if let Some(r) = m.path.as_ref().and_then(|p| p.regex.as_ref()) {
                found.push((format!("{base}/path/regex"), r.clone(), "path"));
            }
            for (kind, list) in [("headers", &m.headers), ("query", &m.query)] {
                for (i, h) in list.iter().enumerate() {
                    if let Some(r) = &h.value.regex {
                        let what = if kind == "headers" { "header" } else { "query" };
                        found.push((format!("{base}/{kind}/{i}/value/regex"), r.clone(), what));
                    }
                }
            }
        }
    }
    for (ptr, pattern, what) in found {
        check_one(ctx, &ptr, &pattern, what);
    }
}

fn check_one(ctx: &mut Ctx, ptr: &str, pattern: &str, what: &str) {
    let (kind, start, end) = match Parser::new().parse(pattern) {
        Ok(ast) => match Translator::new().translate(pattern, &ast) {
            Ok(_) => return,
            Err(e) => (
                e.kind().to_string(),
                e.span().start.offset,
                e.span().end.offset,
            ),
        },
        Err(e) => (
            e.kind().to_string(),
            e.span().start.offset,
            e.span().end.offset,
        ),
    };
    let start = start.min(pattern.len());
    let end = end.max(start).min(pattern.len());
    let offending = pattern[start..].chars().next();
    let (shown_end, name) = match offending {
        Some(c) => {
            let e = if end > start {
                end
            } else {
                start + c.len_utf8()
            };
            (
                e,
                format!(
                    " at `{c}` (character {})",
                    pattern[..start].chars().count() + 1
                ),
            )
        }
        None => (start, " at the end of the pattern".to_string()),
    };
    let span = if shown_end > start {
        ctx.inner(ptr, pattern, start, shown_end)
    } else {
        let last = pattern.char_indices().last().map_or(0, |(i, _)| i);
        ctx.inner(ptr, pattern, last, pattern.len())
    };
    let mut d = Diagnostic::new(
        &REGEX_INVALID,
        format!("the {what} regex `{pattern}` does not compile: {kind}{name}"),
    )
    .at(span, kind.clone());
    d = d.help(regex_hint(&kind, pattern));
    ctx.push(d.note("the gateway uses Rust `regex` syntax: no look-around, no back-references"));
}

fn regex_hint(kind: &str, pattern: &str) -> String {
    if kind.contains("unclosed group") {
        return "close the group with `)`, or escape a literal parenthesis as `\\(`".into();
    }
    if kind.contains("unclosed character class") {
        return "close the class with `]`, or escape a literal bracket as `\\[`".into();
    }
    if kind.contains("look-around") || pattern.contains("(?=") || pattern.contains("(?!") {
        return "look-ahead and look-behind are not supported; match the positive form, or split the route".into();
    }
    if kind.contains("backreference") {
        return "back-references are not supported".into();
    }
    if kind.contains("repetition") {
        return "a repetition (`*`, `+`, `?`, `{n,m}`) needs something before it; escape a literal one with `\\`".into();
    }
    if kind.contains("escape") {
        return "remove the backslash, or escape a literal backslash as `\\\\`".into();
    }
    "fix the pattern; test it with `agw check` until it compiles".into()
}
