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

/// The report for people.
pub fn human(r: &Report, style: Style) -> String {
    const WIDTH: usize = 100;
    let paint = Paint(style.color);
    let v = r.verdict;
    let mut out = String::new();
    // header line
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
    out.push_str(&wrap_items("token ", &items, WIDTH));
    if let Some(c) = &v.claims {
        let order = ["iss", "sub", "cid", "client_id", "aud", "scp", "scope"];
        let mut items: Vec<String> = order
            .iter()
            .filter_map(|k| c.get(*k).map(|val| format!("{k}={}", short(val))))
            .collect();
        for (k, val) in c {
            if order.contains(&k.as_str()) || ["exp", "iat", "nbf"].contains(&k.as_str()) {
                continue;
            }
            items.push(format!("{}={}", safe(k), short(val)));
        }
        for k in ["exp", "nbf", "iat"] {
            if let Some(val) = c.get(k) {
                items.push(time_claim(k, val, v.now));
            }
        }
        out.push_str(&wrap_items("claims", &items, WIDTH));
        if !v.signature_verified {
            out.push_str("       (unverified: the signature was not verified)\n");
        }
    }
    let mut pol = format!("policy {}", r.policy.origin);
    if let Some(route) = &r.route {
        pol.push_str(&format!("\n       for {route}"));
    }
    out.push_str(&pol);
    out.push('\n');
    for n in &r.notes {
        out.push_str(&format!("       {n}\n"));
    }
    out.push('\n');
    let name_w = 11;
    let body_indent = 2 + 4 + 2 + name_w + 1;
    let mut line = |outcome: Outcome, name: &str, msg: &str| {
        let msg = safe(msg);
        let text = wrap_text(&msg, WIDTH - body_indent, WIDTH, body_indent);
        out.push_str(&format!(
            "  {}  {:<name_w$} {}\n",
            paint.outcome(outcome),
            name,
            text
        ));
    };
    for c in &v.checks {
        line(c.outcome, c.name, &c.message);
    }
    if let Some(a) = &r.authz {
        line(
            if a.allowed {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            "authz",
            &a.reason,
        );
        for e in &a.rules {
            let res = match &e.result {
                RuleResult::Matched => "matched".to_string(),
                RuleResult::NotMatched => "no match".to_string(),
                RuleResult::Error(m) => format!("error: {m}"),
            };
            let msg = format!("rule {} {} {}: {res}", e.index, e.kind, e.expression);
            let text = wrap_text(&safe(&msg), WIDTH - body_indent, WIDTH, body_indent);
            out.push_str(&format!("  {:4}  {:<name_w$} {}\n", "", "", text));
        }
    }
    out.push('\n');
    let d = r.decision();
    let verdict_line = match &d {
        Decision::Accepted => {
            let what = match (&r.authz, r.policy.mode, v.token_valid) {
                (Some(_), _, _) => "the gateway would accept this token and allow the call",
                (None, crate::config::policy::auth::AuthMode::Strict, _) => {
                    "the gateway would accept this token"
                }
                (None, _, true) => "the gateway would accept this token",
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
    };
    out.push_str(&wrap_text(&verdict_line, WIDTH, WIDTH, 0));
    out.push('\n');
    out
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
