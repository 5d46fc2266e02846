//! Regexes of route matches (path, header and query values) must compile with Rust's `regex`,
//! the engine the gateway uses; an error points at the offending character. A literal
//! alternative that an earlier one shadows can never be selected, since the gateway takes the
//! leftmost match and requires it to cover the whole value.

use regex_syntax::ast::parse::Parser;
use regex_syntax::ast::Ast;
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
    REGEX_ALTERNATIVE_SHADOWED {
        id: "regex/alternative-shadowed",
        severity: Warning,
        summary: "an alternative of a route match regex can never be selected",
        why: "In `/mcp|/mcp/admin` the engine tries the alternatives from the left and stops at the first that matches: for `/mcp/admin` it finds `/mcp`, which does not cover the whole path, so the route is not selected for `/mcp/admin` at all. Put the longer alternative first.",
        gateway: "The gateway selects a path, header or query regex when its leftmost match starts at the beginning of the value and ends at its end (agentgateway `crates/agentgateway/src/http/route.rs`, `matches_request`; `HeaderValueMatch::matches` in `crates/agentgateway/src/types/agent.rs`). Rust's `regex` prefers the earlier alternative, so a literal alternative that begins with an earlier one never covers its value.",
        example: "path:\n  regex: /mcp|/mcp/admin",
        use_instead: "path:\n  regex: /mcp/admin|/mcp",
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
        shadowed_alternatives(ctx, &ptr, &pattern, what);
    }
}

/// The text of an alternative made of literal characters only.
fn literal(ast: &Ast) -> Option<String> {
    match ast {
        Ast::Literal(l) => Some(l.c.to_string()),
        Ast::Concat(c) => c.asts.iter().map(literal).collect(),
        _ => None,
    }
}

/// `regex/alternative-shadowed`: at the top level of the pattern, a literal alternative that
/// begins with an earlier literal alternative.
fn shadowed_alternatives(ctx: &mut Ctx, ptr: &str, pattern: &str, what: &str) {
    let Ok(ast) = Parser::new().parse(pattern) else {
        return;
    };
    let Ast::Alternation(alt) = &ast else {
        return;
    };
    let literals: Vec<Option<String>> = alt.asts.iter().map(literal).collect();
    for (j, later) in literals.iter().enumerate() {
        let Some(later) = later else { continue };
        let earlier = literals[..j].iter().position(|e| {
            e.as_ref()
                .is_some_and(|e| later.len() > e.len() && later.starts_with(e.as_str()))
        });
        let Some(i) = earlier else { continue };
        let mut written: Vec<&str> = alt
            .asts
            .iter()
            .map(|a| &pattern[a.span().start.offset..a.span().end.offset])
            .collect();
        let (earlier, later) = (written[i], written[j]);
        let moved = written.remove(j);
        written.insert(i, moved);
        let span = alt.asts[j].span();
        ctx.push(
            Diagnostic::new(
                &REGEX_ALTERNATIVE_SHADOWED,
                format!("the {what} regex `{pattern}` never selects `{later}`: the earlier alternative `{earlier}` matches first and does not cover it"),
            )
            .at(ctx.inner(ptr, pattern, span.start.offset, span.end.offset), "never selected")
            .help(format!("put the longer alternative first: `{}`", written.join("|"))),
        );
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
