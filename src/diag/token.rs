//! A `verify-token` report for people (one line per check) and for scripts (JSON). The token
//! itself is never printed: only a short prefix. Claim values come from the token, so they are
//! escaped before they reach a terminal.

use serde_json::{json, Map, Value};

use super::Style;
use crate::token::authz::RuleResult;
use crate::token::report::{Decision, Report};
use crate::token::verify::{human_duration, Outcome};

/// Escapes control characters so that a claim cannot drive the terminal.
fn safe(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    } else {
        s.to_string()
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    let s = safe(&s);
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(63).collect::<String>())
    } else {
        s
    }
}

fn time_claim(name: &str, v: &Value, now: i64) -> String {
    let Some(t) = v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)) else {
        return format!("{name}={}", short(v));
    };
    let d = t - now;
    match name {
        "exp" if d >= 0 => format!("exp in {}", human_duration(d as u64)),
        "exp" => format!("exp {} ago", human_duration((-d) as u64)),
        _ if d > 0 => format!("{name} in {}", human_duration(d as u64)),
        _ => format!("{name} {} ago", human_duration((-d) as u64)),
    }
}

/// Lays out `items` after a label, wrapping at `width`.
fn wrap_items(label: &str, items: &[String], width: usize) -> String {
    let indent = " ".repeat(label.chars().count() + 1);
    let mut out = String::new();
    let mut line = format!("{label} ");
    let mut first = true;
    for it in items {
        if !first && line.chars().count() + 2 + it.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
            first = true;
        }
        if !first {
            line.push_str("  ");
        }
        line.push_str(it);
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Wraps `text` at `width`, continuation lines indented by `indent` spaces.
fn wrap_text(text: &str, first_width: usize, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut limit = first_width;
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > limit {
            out.push_str(&line);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line.clear();
            limit = width.saturating_sub(indent);
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

struct Paint(bool);

impl Paint {
    fn outcome(&self, o: Outcome) -> String {
        let (word, code) = match o {
            Outcome::Pass => ("pass", "32"),
            Outcome::Fail => ("FAIL", "1;31"),
            Outcome::Skip => ("skip", "2"),
            Outcome::Note => ("note", "36"),
        };
        if self.0 {
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        if self.0 {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

const WIDTH: usize = 100;
const NAME_WIDTH: usize = 11;
/// Where a check's message starts: two spaces, the outcome, two spaces, the name, one space.
const BODY_INDENT: usize = 2 + 4 + 2 + NAME_WIDTH + 1;

/// The report for people.
pub fn human(r: &Report, style: Style) -> String {
    let paint = Paint(style.color);
    let mut out = String::new();
    out.push_str(&token_lines(r));
    out.push_str(&policy_lines(r));
    out.push('\n');
    out.push_str(&check_lines(r, &paint));
    out.push('\n');
    out.push_str(&wrap_text(&verdict_line(r, &paint), WIDTH, WIDTH, 0));
    out.push('\n');
    out
}

/// The token's header and claims, the times relative to now.
fn token_lines(r: &Report) -> String {
    let v = r.verdict;
    let mut items = Vec::new();
    if let Some(h) = &v.header {
        if let Some(a) = h.get("alg") {
            items.push(short(a));
        }
        for (k, val) in h {
            if k != "alg" {
                items.push(format!("{k}={}", short(val)));
            }
        }
    }
    items.push(format!("({}, {} bytes)", v.token_prefix, v.token_bytes));
    let mut out = wrap_items("token ", &items, WIDTH);
    let Some(c) = &v.claims else {
        return out;
    };
    let order = ["iss", "sub", "cid", "client_id", "aud", "scp", "scope"];
    let times = ["exp", "nbf", "iat"];
    let mut items: Vec<String> = order
        .iter()
        .filter_map(|k| c.get(*k).map(|val| format!("{k}={}", short(val))))
        .collect();
    for (k, val) in c {
        if !order.contains(&k.as_str()) && !times.contains(&k.as_str()) {
            items.push(format!("{}={}", safe(k), short(val)));
        }
    }
    for k in times {
        if let Some(val) = c.get(k) {
            items.push(time_claim(k, val, v.now));
        }
    }
    out.push_str(&wrap_items("claims", &items, WIDTH));
    if !v.signature_verified {
        out.push_str("       (unverified: the signature was not verified)\n");
    }
    out
}

/// Which policy judged the token, for which route, and the notes on how it was found.
fn policy_lines(r: &Report) -> String {
    let mut out = format!("policy {}\n", r.policy.origin);
    if let Some(route) = &r.route {
        out.push_str(&format!("       for {route}\n"));
    }
    for n in &r.notes {
        out.push_str(&format!("       {n}\n"));
    }
    out
}

/// One line per check, then the authorization rules one by one.
fn check_lines(r: &Report, paint: &Paint) -> String {
    let mut out = String::new();
    let mut line = |outcome: Option<Outcome>, name: &str, msg: &str| {
        let text = wrap_text(&safe(msg), WIDTH - BODY_INDENT, WIDTH, BODY_INDENT);
        let outcome = outcome.map_or_else(|| " ".repeat(4), |o| paint.outcome(o));
        out.push_str(&format!("  {outcome}  {name:<NAME_WIDTH$} {text}\n"));
    };
    for c in &r.verdict.checks {
        line(Some(c.outcome), c.name, &c.message);
    }
    if let Some(a) = &r.authz {
        let outcome = if a.allowed {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        line(Some(outcome), "authz", &a.reason);
        for e in &a.rules {
            let res = match &e.result {
                RuleResult::Matched => "matched".to_string(),
                RuleResult::NotMatched => "no match".to_string(),
                RuleResult::Error(m) => format!("error: {m}"),
            };
            let msg = format!("rule {} {} {}: {res}", e.index, e.kind, e.expression);
            line(None, "", &msg);
        }
    }
    out
}

/// What the gateway would do, in one sentence, with the exit code.
fn verdict_line(r: &Report, paint: &Paint) -> String {
    match &r.decision() {
        Decision::Accepted => {
            let what = match (&r.authz, r.policy.mode, r.verdict.token_valid) {
                (Some(_), _, _) => "the gateway would accept this token and allow the call",
                (None, crate::config::policy::auth::AuthMode::Strict, _) | (None, _, true) => {
                    "the gateway would accept this token"
                }
                (None, _, false) => {
                    "the gateway would let the request through, although the token is not valid"
                }
            };
            format!("{}: {what}. Exit 0.", paint.bold("ACCEPTED"))
        }
        Decision::Rejected {
            status: 0, check, ..
        } => format!(
            "{}: the gateway itself would accept the token, but it fails your {check} requirement. Exit 1.",
            paint.bold("REJECTED")
        ),
        Decision::Rejected {
            status,
            jsonrpc_error: Some(e),
            ..
        } => format!(
            "{}: the gateway would answer HTTP {status} with the JSON-RPC error {} `{}` (it does not say that authorization denied the call). Exit 1.",
            paint.bold("REJECTED"),
            e["code"],
            safe(e["message"].as_str().unwrap_or_default())
        ),
        Decision::Rejected { status, check, .. } => format!(
            "{}: the gateway would answer {status} ({check}). Exit 1.",
            paint.bold("REJECTED")
        ),
        Decision::Undecided { reason } => format!(
            "{}: agw cannot decide: {}. Exit 2.",
            paint.bold("UNDECIDED"),
            safe(reason)
        ),
    }
}

/// The report for scripts.
pub fn json(r: &Report, _: Style) -> String {
    let v = r.verdict;
    let d = r.decision();
    let mut obj = Map::new();
    obj.insert(
        "decision".into(),
        serde_json::to_value(&d).unwrap_or(Value::Null),
    );
    obj.insert("exit_code".into(), json!(d.exit_code()));
    obj.insert(
        "token".into(),
        json!({"prefix": v.token_prefix, "bytes": v.token_bytes}),
    );
    obj.insert("header".into(), json!(v.header));
    obj.insert("claims".into(), json!(v.claims));
    obj.insert("signature_verified".into(), json!(v.signature_verified));
    obj.insert("token_valid".into(), json!(v.token_valid));
    obj.insert("gateway_accepts".into(), json!(v.gateway_accepts));
    obj.insert("checks".into(), json!(v.checks));
    obj.insert(
        "policy".into(),
        json!({
            "origin": r.policy.origin,
            "route": r.route,
            "issuer": r.policy.issuer,
            "audiences": r.policy.audiences,
            "jwks": r.policy.jwks.to_string(),
            "jwks_derived": r.policy.jwks_derived,
            "required_claims": r.policy.required_claims,
            "leeway_seconds": r.policy.leeway.as_secs(),
            "mode": format!("{:?}", r.policy.mode).to_lowercase(),
            "scopes_supported": r.policy.scopes_supported,
            "required_scopes": r.policy.required_scopes,
        }),
    );
    if let Some(a) = &r.authz {
        obj.insert("authz".into(), json!(a));
    }
    if !r.notes.is_empty() {
        obj.insert("notes".into(), json!(r.notes));
    }
    obj.insert("now".into(), json!(v.now));
    let mut s = serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(safe("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(safe("plain"), "plain");
    }

    #[test]
    fn wrapping() {
        let s = wrap_text("aaa bbb ccc", 7, 10, 2);
        assert_eq!(s, "aaa bbb\n  ccc");
    }
}
