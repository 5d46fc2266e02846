//! CEL expressions: authorization rules, token locations and computed bodies must compile, and
//! what they read must exist: MCP fields here, claims in `auth::claims` and Okta's scopes in
//! `okta`, from the same parse.

use std::borrow::Cow;
use std::collections::HashMap;

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, SourceInfo};
use cel::parser::Parser;

use super::Ctx;
use crate::config::okta::is_okta_issuer;
use crate::config::policy::authz::{
    Authorization, AuthzRule, RuleKind, MCP_CALL_FIELDS, MCP_CALL_KINDS,
};
use crate::config::RoutePolicies;
use crate::diag::{Diagnostic, Severity};

crate::rules! {
    CEL_SYNTAX {
        id: "cel/syntax",
        severity: Error,
        summary: "a CEL expression does not compile",
        why: "Authorization rules (`mcpAuthorization`, `authorization`), token location expressions, `bodyExpression`, conditions of conditional policies, transformation values and every other value the gateway's schema types `Expression` are CEL. The gateway compiles them at start-up and refuses the file when one does not parse. The finding points at the place in the expression where parsing failed. CEL writes `==`, `&&`, `||`, `in`, and strings in quotes.",
        gateway: "",
        example: "rules:\n- 'mcp.tool.name == \"echo\" &&'",
        use_instead: "rules:\n- 'mcp.tool.name == \"echo\" && jwt.sub == \"alice\"'",
    }

    CEL_UNKNOWN_FIELD {
        id: "cel/unknown-field",
        severity: Warning,
        summary: "an `mcpAuthorization` rule reads an MCP field that does not exist",
        why: "MCP authorization rules see `mcp.tool`, `mcp.prompt`, `mcp.resource` and `mcp.task`, each with `name` (a resource's URI) and `target`. The gateway authorizes a call before it reads the call, so `mcp.tool.arguments` is never set (its test `test_rbac_mcp_context_is_identity_only`, agentgateway `mcp/rbac.rs`): a rule that reads it, or a misspelt field, is an error when the rule runs, so the rule never matches: an allow rule allows nothing, a deny rule denies nothing, and a require rule denies every call (then the finding is an error).",
        gateway: "",
        example: "rules:\n- 'mcp.tool.nmae == \"echo\"'",
        use_instead: "rules:\n- 'mcp.tool.name == \"echo\"'",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Where {
    McpAuthz,
    HttpAuthz,
    Location,
    Body,
    /// Any other expression the gateway compiles (conditions, transformations, ...).
    Other,
}

/// An expression of the file, where it is and what it is for.
pub(super) struct Expression {
    pub(super) ptr: String,
    pub(super) text: String,
    pub(super) place: Where,
    pub(super) kind: RuleKind,
    /// The issuer of the same policy block is Okta's.
    pub(super) okta: bool,
}

pub fn check(ctx: &mut Ctx) {
    // the typed parts' expressions, then the surface's (the typed parts carry no CEL mark, so the
    // two never name one expression twice)
    let mut exprs = expressions(ctx);
    exprs.extend(ctx.surface_cel.iter().map(|(ptr, text)| Expression {
        ptr: ptr.clone(),
        text: text.clone(),
        place: Where::Other,
        kind: RuleKind::Allow,
        okta: false,
    }));
    // Large files repeat the same rules on many routes, often differing only in string
    // literals (`jwt.sub == "svc-17"`). Parse each distinct shape once (literals blanked to the
    // same length, so every offset stays valid) and spread the shapes over the cores.
    let shapes: Vec<Cow<str>> = exprs.iter().map(|e| shape(&e.text)).collect();
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for sh in &shapes {
        seen.entry(sh.as_ref()).or_insert_with(|| {
            distinct.push(sh.as_ref());
            distinct.len() - 1
        });
    }
    let parsed = parse_all(&distinct);
    for (e, sh) in exprs.iter().zip(&shapes) {
        match &parsed[seen[sh.as_ref()]] {
            Err(_) if matches!(sh, Cow::Owned(_)) => {
                // report from the text as written, so messages quote the user's tokens
                match parse_one(&e.text) {
                    Err(errors) => syntax(ctx, e, &errors),
                    Ok(refs) => semantics(ctx, e, &refs),
                }
            }
            Err(errors) => syntax(ctx, e, errors),
            Ok(refs) => semantics(ctx, e, refs),
        }
    }
}

/// The expression with the content of every plain string literal replaced by `a`s, one per
/// character. Literals with escapes or line breaks are kept, since their content can be an
/// error; anything the scanner does not understand ends the blanking.
fn shape(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let q = b[i];
        if q != b'"' && q != b'\'' {
            i += 1;
            continue;
        }
        let triple = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
        let open = if triple { 3 } else { 1 };
        let start = i + open;
        let mut j = start;
        let mut end = None;
        while j < b.len() {
            if b[j] == b'\\' {
                break;
            }
            if b[j] == q && (!triple || (b.len() >= j + 3 && b[j + 1] == q && b[j + 2] == q)) {
                end = Some(j);
                break;
            }
            if b[j] == b'\n' && !triple {
                break;
            }
            j += 1;
        }
        let Some(end) = end else { break };
        let content = &text[start..end];
        // an index key (`jwt["groups"]`) names a field: keep it
        let is_key = text[..i].trim_end().ends_with('[');
        if !is_key && !content.is_empty() && !content.bytes().all(|c| c == b'a') {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.extend(std::iter::repeat_n('a', content.chars().count()));
            copied = end;
        }
        i = end + open;
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// A parse error, as position and message.
struct SyntaxError {
    pos: (isize, isize),
    msg: String,
}

type Parsed = Result<Vec<Ref>, Vec<SyntaxError>>;

fn parse_one(text: &str) -> Parsed {
    match Parser::new().parse_with_source_info(text) {
        Err(errs) => Err(errs
            .errors
            .into_iter()
            .map(|e| SyntaxError {
                pos: e.pos,
                msg: e.msg,
            })
            .collect()),
        Ok((ast, info)) => {
            let mut refs = Vec::new();
            collect(&ast, &info, &mut refs);
            Ok(refs)
        }
    }
}

fn parse_all(texts: &[&str]) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || texts.len() < 256 {
        return texts.iter().map(|t| parse_one(t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|t| parse_one(t)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn okta_block(p: &RoutePolicies) -> bool {
    if let Some(m) = &p.mcp_authentication {
        return is_okta_issuer(&m.issuer, m.provider.as_ref());
    }
    if let Some(j) = &p.jwt_auth {
        return j.issuer.as_deref().is_some_and(|i| is_okta_issuer(i, None))
            || j.providers
                .iter()
                .flatten()
                .any(|p| is_okta_issuer(&p.issuer, None));
    }
    false
}

fn rules_of(out: &mut Vec<Expression>, ptr: &str, a: &Authorization, place: Where, okta: bool) {
    for (i, r) in a.rules.iter().enumerate() {
        let (kind, text) = r.parts();
        let p = match r {
            AuthzRule::Allow(_) => format!("{ptr}/rules/{i}"),
            AuthzRule::Explicit(_) => {
                let k = match kind {
                    RuleKind::Allow => "allow",
                    RuleKind::Deny => "deny",
                    RuleKind::Require => "require",
                };
                format!("{ptr}/rules/{i}/{k}")
            }
        };
        out.push(Expression {
            ptr: p,
            text: text.to_string(),
            place,
            kind,
            okta,
        });
    }
}

impl Expression {
    /// An expression that is not an authorization rule (a token location, a response body).
    fn other(ptr: String, text: &str, place: Where) -> Self {
        Expression {
            ptr,
            text: text.to_string(),
            place,
            kind: RuleKind::Allow,
            okta: false,
        }
    }
}

/// Every CEL expression of the file, with its pointer and what it is evaluated against.
fn expressions(ctx: &Ctx) -> Vec<Expression> {
    let mut out = Vec::new();
    for site in ctx.sites.iter() {
        policy_expressions(&mut out, &site.ptr, site.policies);
    }
    for site in ctx.topology.sites.iter() {
        let okta = site.route.policies.as_deref().is_some_and(okta_block);
        for (i, b) in site.route.backends.iter().enumerate() {
            if let Some(a) = b
                .policies
                .as_ref()
                .and_then(|p| p.mcp_authorization.as_ref())
            {
                let ptr = format!("{}/backends/{i}/policies/mcpAuthorization", site.ptr);
                rules_of(&mut out, &ptr, a, Where::McpAuthz, okta);
            }
        }
    }
    for (i, b) in ctx.cfg.backends.iter().enumerate() {
        if let Some(a) = b
            .policies
            .as_ref()
            .and_then(|p| p.mcp_authorization.as_ref())
        {
            let ptr = format!("/backends/{i}/policies/mcpAuthorization");
            rules_of(&mut out, &ptr, a, Where::McpAuthz, false);
        }
    }
    for (ptr, j) in super::auth::gateway_jwt(ctx.cfg) {
        if let Some(e) = j.location.as_ref().and_then(|l| l.expression.as_deref()) {
            let ptr = format!("{ptr}/location/expression");
            out.push(Expression::other(ptr, e, Where::Location));
        }
    }
    out
}

/// The expressions of one route's policies: its authorization rules, where its tokens are read
/// from, and its response body.
fn policy_expressions(out: &mut Vec<Expression>, ptr: &str, p: &RoutePolicies) {
    let okta = okta_block(p);
    if let Some(a) = &p.mcp_authorization {
        rules_of(
            out,
            &format!("{ptr}/mcpAuthorization"),
            a,
            Where::McpAuthz,
            okta,
        );
    }
    if let Some(a) = &p.authorization {
        rules_of(
            out,
            &format!("{ptr}/authorization"),
            a,
            Where::HttpAuthz,
            okta,
        );
    }
    let locations = [
        (
            "mcpAuthentication/authorizationLocation",
            p.mcp_authentication
                .as_ref()
                .and_then(|m| m.authorization_location.as_ref()),
        ),
        (
            "jwtAuth/location",
            p.jwt_auth.as_ref().and_then(|j| j.location.as_ref()),
        ),
    ];
    for (at, l) in locations {
        if let Some(e) = l.and_then(|l| l.expression.as_deref()) {
            let ptr = format!("{ptr}/{at}/expression");
            out.push(Expression::other(ptr, e, Where::Location));
        }
    }
    let body = p
        .direct_response
        .as_ref()
        .and_then(|d| d.body_expression.as_deref());
    if let Some(e) = body {
        let ptr = format!("{ptr}/directResponse/bodyExpression");
        out.push(Expression::other(ptr, e, Where::Body));
    }
}

/// Byte offset of a character index.
fn byte_at(s: &str, char_idx: usize) -> usize {
    s.char_indices().nth(char_idx).map_or(s.len(), |(i, _)| i)
}

/// Byte offset of a 1-based line and 1-based character column, as the CEL parser reports.
fn offset_of(s: &str, line: isize, col: isize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match s[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return s.len(),
        }
    }
    let line_text = &s[start..];
    start + byte_at(line_text, (col.max(1) - 1) as usize)
}

/// Turns the parser's message into a sentence: the token lists of ANTLR are long and say little.
fn explain(msg: &str) -> String {
    let m = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
    let token = |s: &str| -> Option<String> {
        let a = s.find('\'')?;
        let b = s[a + 1..].find('\'')? + a + 1;
        Some(s[a + 1..b].to_string())
    };
    if m.starts_with("mismatched input '<EOF>'")
        || m.contains("at '<EOF>'") && !m.starts_with("missing")
    {
        return "the expression ends too early".into();
    }
    if let Some(rest) = m.strip_prefix("missing ") {
        if let Some(t) = token(rest) {
            return format!("missing `{t}`");
        }
    }
    if m.starts_with("extraneous input") || m.starts_with("mismatched input") {
        if let Some(t) = token(m) {
            return format!("unexpected `{t}`");
        }
    }
    if let Some(rest) = m.strip_prefix("token recognition error at: ") {
        return format!("unexpected character `{}`", rest.trim_matches('\'').trim());
    }
    if m.starts_with("no viable alternative") {
        if let Some(t) = token(m) {
            return format!("cannot make sense of `{t}`");
        }
    }
    m.to_string()
}

fn place_name(p: Where) -> &'static str {
    match p {
        Where::McpAuthz => "`mcpAuthorization` rule",
        Where::HttpAuthz => "`authorization` rule",
        Where::Location => "token location expression",
        Where::Body => "`bodyExpression`",
        Where::Other => "CEL expression",
    }
}

fn syntax(ctx: &mut Ctx, e: &Expression, errors: &[SyntaxError]) {
    let Some(first) = errors.iter().find(|x| x.pos.0 > 0).or(errors.first()) else {
        return;
    };
    let text = &e.text;
    let what = explain(&first.msg);
    let at_end = first.msg.contains("<EOF>");
    let (a, z) = if at_end {
        let t = text.trim_end().len();
        (t, t)
    } else {
        let a = offset_of(text, first.pos.0, first.pos.1);
        let z = text[a..]
            .char_indices()
            .nth(1)
            .map_or(text.len(), |(i, _)| a + i);
        // widen to the whole offending token when it is a word or an operator run
        let tok_end = text[a..]
            .find(|c: char| c.is_whitespace() || "()[]{},".contains(c))
            .map_or(text.len(), |i| a + i);
        (a, if tok_end > z { tok_end } else { z })
    };
    let span = if at_end && a > 0 {
        // point at the last character written
        let last = text[..a].char_indices().last().map_or(0, |(i, _)| i);
        ctx.inner(&e.ptr, text, last, a)
    } else {
        ctx.inner(&e.ptr, text, a, z)
    };
    let label = if at_end {
        "the expression stops here".to_string()
    } else {
        what.clone()
    };
    let mut d = Diagnostic::new(
        &CEL_SYNTAX,
        format!("{} does not compile: {what}", place_name(e.place)),
    )
    .at(span, label)
    .help(hint(text, &what));
    if errors.len() > 1 {
        d = d.note(format!(
            "the parser reported {} more problem(s) after this one; fix this first",
            errors.len() - 1
        ));
    }
    ctx.push(d);
}

fn hint(text: &str, what: &str) -> String {
    let opens = text.matches('(').count();
    let closes = text.matches(')').count();
    if opens > closes {
        return format!(
            "{} `(` not closed; CEL needs balanced parentheses",
            opens - closes
        );
    }
    if text.contains(" = ") && !text.contains("==") {
        return "compare with `==`, not `=`".into();
    }
    if text.contains(" and ") || text.contains(" or ") {
        return "CEL writes `&&` and `||`, not `and` and `or`".into();
    }
    if what.contains("ends too early") {
        return "complete the expression: an operator at the end needs a right-hand side".into();
    }
    if text.contains('\'') && text.matches('\'').count() % 2 == 1
        || text.matches('"').count() % 2 == 1
    {
        return "a string literal is not closed".into();
    }
    "CEL syntax: `jwt.sub == \"alice\" && mcp.tool.name in [\"echo\", \"add\"]`".into()
}

/// A field chain read from a variable: `jwt.groups`, `mcp.tool.name`, `jwt["groups"]`.
pub(super) struct Ref {
    /// The variable and its fields; at least two.
    pub(super) path: Vec<String>,
    /// Character range of the whole chain in the expression.
    chars: (usize, usize),
    /// Inside `has(...)`.
    pub(super) test: bool,
    /// Compared with `==`/`!=` against a string literal.
    pub(super) eq_string: bool,
}

impl Ref {
    /// The byte range of the chain in `text`, the expression it was read from.
    pub(super) fn bytes(&self, text: &str) -> (usize, usize) {
        (byte_at(text, self.chars.0), byte_at(text, self.chars.1))
    }
}

fn chain(e: &IdedExpr, info: &SourceInfo) -> Option<(Vec<String>, usize, usize, bool)> {
    match &e.expr {
        Expr::Ident(name) => {
            let (s, t) = info.offset_for(e.id)?;
            Some((vec![name.clone()], s as usize, t as usize + 1, false))
        }
        Expr::Select(sel) => {
            let (mut path, s, _, _) = chain(&sel.operand, info)?;
            let (dot, _) = info.offset_for(e.id)?;
            path.push(sel.field.clone());
            Some((
                path,
                s,
                dot as usize + 1 + sel.field.chars().count(),
                sel.test,
            ))
        }
        Expr::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
            let (mut path, s, _, _) = chain(&c.args[0], info)?;
            let Expr::Literal(LiteralValue::String(k)) = &c.args[1].expr else {
                return None;
            };
            let (_, t) = info.offset_for(c.args[1].id)?;
            path.push(k.to_string());
            Some((path, s, t as usize + 2, false))
        }
        _ => None,
    }
}

fn collect(e: &IdedExpr, info: &SourceInfo, out: &mut Vec<Ref>) {
    if let Some((path, s, t, test)) = chain(e, info) {
        if path.len() > 1 {
            out.push(Ref {
                path,
                chars: (s, t),
                test,
                eq_string: false,
            });
            return;
        }
    }
    match &e.expr {
        Expr::Call(c) => {
            let eq = matches!(c.func_name.as_str(), "_==_" | "_!=_");
            let n = out.len();
            if let Some(t) = &c.target {
                collect(t, info, out);
            }
            for a in &c.args {
                collect(a, info, out);
            }
            if eq
                && c.args
                    .iter()
                    .any(|a| matches!(a.expr, Expr::Literal(LiteralValue::String(_))))
            {
                for r in &mut out[n..] {
                    r.eq_string = true;
                }
            }
        }
        Expr::Select(s) => collect(&s.operand, info, out),
        Expr::Comprehension(c) => {
            collect(&c.iter_range, info, out);
            collect(&c.accu_init, info, out);
            collect(&c.loop_cond, info, out);
            collect(&c.loop_step, info, out);
            collect(&c.result, info, out);
        }
        Expr::List(l) => {
            for x in &l.elements {
                collect(x, info, out);
            }
        }
        Expr::Map(m) => {
            for en in &m.entries {
                if let EntryExpr::MapEntry(me) = &en.expr {
                    collect(&me.key, info, out);
                    collect(&me.value, info, out);
                }
            }
        }
        Expr::Struct(s) => {
            for en in &s.entries {
                match &en.expr {
                    EntryExpr::StructField(f) => collect(&f.value, info, out),
                    EntryExpr::MapEntry(me) => collect(&me.value, info, out),
                }
            }
        }
        _ => {}
    }
}

fn semantics(ctx: &mut Ctx, e: &Expression, refs: &[Ref]) {
    // the variables of other expressions (requests, responses, backends) are not checked yet
    if e.place == Where::Other {
        return;
    }
    let mut claims = Vec::new();
    for r in refs {
        if r.path[0] == "mcp" && e.place == Where::McpAuthz {
            mcp_field(ctx, e, r, r.bytes(&e.text));
        }
        if r.path[0] == "jwt" && !r.test && !(e.okta && super::okta::scope_read(ctx, e, r)) {
            claims.push(r);
        }
    }
    super::auth::claims::may_be_absent(ctx, e, refs, &claims);
}

fn mcp_field(ctx: &mut Ctx, e: &Expression, r: &Ref, (a, _): (usize, usize)) {
    let first = r.path[1].as_str();
    let (bad, known): (&str, &[&str]) = if MCP_CALL_KINDS.contains(&first) {
        let Some(second) = r.path.get(2) else { return };
        if MCP_CALL_FIELDS.contains(&second.as_str()) {
            return;
        }
        (second, &MCP_CALL_FIELDS)
    } else {
        (first, &MCP_CALL_KINDS)
    };
    // locate the bad segment in the text of the chain
    let chain_text: String = e.text[a..].chars().take(r.chars.1 - r.chars.0).collect();
    let seg_start = chain_text.rfind(&format!(".{bad}")).map_or(0, |i| i + 1);
    let s = a + seg_start;
    let prefix = r.path[..r.path.iter().position(|p| p == bad).unwrap_or(1)].join(".");
    let listed = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = ctx.inner(&e.ptr, &e.text, s, s + bad.len());
    // the call's arguments (and a resource's `uri`, which is its `name`) are fields users expect
    let expected = MCP_CALL_KINDS.contains(&first) && matches!(bad, "arguments" | "uri");
    let mut d = if expected {
        let consequence = match e.kind {
            RuleKind::Deny => "this deny rule never denies anything",
            RuleKind::Require => "this require rule never passes, so every call is denied",
            RuleKind::Allow => "this allow rule never allows anything",
        };
        Diagnostic::new(
            &CEL_UNKNOWN_FIELD,
            format!(
                "`{prefix}.{bad}` is never set: the gateway authorizes an MCP call on the caller's identity and the call's {listed} only, so {consequence}"
            ),
        )
        .at(at, "not visible to mcpAuthorization")
        .help(if bad == "uri" {
            format!("a resource's URI is its name: write `{prefix}.name`")
        } else {
            "decide on the tool's name (`mcp.tool.name`), its target and the token's claims; to judge arguments, use a guardrail (`mcpGuardrails`) or the MCP server itself".to_string()
        })
        .note("the gateway binds `mcp.tool`, `mcp.prompt` and `mcp.resource` with `name` and `target` before the call is read (its test `test_rbac_mcp_context_is_identity_only`)")
    } else {
        let suggestion = crate::check::schema_stage::closest(bad, known.iter().copied());
        let d = Diagnostic::new(
            &CEL_UNKNOWN_FIELD,
            format!("`{prefix}.{bad}` does not exist: `{prefix}` has {listed}"),
        )
        .at(at, "unknown field");
        match suggestion {
            Some(c) => d.help(format!("did you mean `{prefix}.{c}`?")),
            None => d.help(format!("use one of: {}", known.join(", "))),
        }
        .note("reading a field that does not exist is an error at request time, so the rule never matches")
    };
    if e.kind == RuleKind::Require && expected {
        d.severity = Severity::Error;
    }
    ctx.push(d);
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shapes_blank_literals_and_keep_offsets() {
        let t = r#"jwt.sub == "svc-12" && 'é' in jwt.scp"#;
        assert_eq!(shape(t), r#"jwt.sub == "aaaaaa" && 'a' in jwt.scp"#);
        let escaped = r#"jwt.sub == "a\"b""#;
        assert_eq!(shape(escaped), escaped);
        assert_eq!(shape("x == '''multi\nline'''"), "x == '''aaaaaaaaaa'''");
        assert_eq!(shape("x == \"open"), "x == \"open");
        assert_eq!(shape(r#"jwt["groups"] == "x""#), r#"jwt["groups"] == "a""#);
    }
}
