//! Header names the gateway parses when it loads the file, and refuses when they are not HTTP
//! header names: the names of header matches (`HeaderOrPseudo`, agentgateway `http/mod.rs`,
//! which also takes the pseudo-headers `:method`, `:scheme`, `:authority`, `:path` and
//! `:status`) and the header of a credential location (`AuthorizationLocation::Header`,
//! `http/auth/mod.rs`). The names and values of a header modifier are parsed when a request
//! passes through it (`http/filters.rs`, `HeaderModifier::apply`), and an invalid one fails every
//! such request. CORS lists have their own rule (`cors/invalid-name`).

use serde_json::Value;

use super::util::{each_entry, is_http_token, ptr_token};
use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    HEADERS_INVALID_NAME {
        id: "headers/invalid-name",
        severity: Error,
        summary: "a header match, credential location or header modifier whose header name (or value) is not valid HTTP",
        why: "A header name (or value) that is not valid HTTP either stops the gateway from loading the file (header matches, credential locations) or fails every request a header modifier applies to. Fix the name or value.",
        gateway: "The gateway parses the `name` of a header match (an HTTP header, or one of the pseudo-headers `:method`, `:scheme`, `:authority`, `:path`, `:status`) and the header of a credential `location: {header: {name}}` as HTTP header names when it loads the file, and refuses one that is not (agentgateway `crates/agentgateway/src/http/mod.rs`, `HeaderOrPseudo`; `crates/agentgateway/src/http/auth/mod.rs`, `AuthorizationLocation`). The names and values of `requestHeaderModifier` and `responseHeaderModifier` are parsed when a request passes, and an invalid one is an error for that request (`crates/agentgateway/src/http/filters.rs`, `HeaderModifier::apply`).",
        example: "matches:\n- headers:\n  - name: \"x tenant\"\n    value: {exact: acme}",
        use_instead: "matches:\n- headers:\n  - name: x-tenant\n    value: {exact: acme}",
    }
}

const PSEUDO_HEADERS: [&str; 5] = [":method", ":scheme", ":authority", ":path", ":status"];

pub fn check(ctx: &mut Ctx) {
    let mut bad: Vec<(String, String, &'static str)> = Vec::new();
    let mut modifiers: Vec<(String, String, bool)> = Vec::new();
    for site in ctx.topology.sites.iter() {
        for (mi, m) in site.route.matches.iter().flatten().enumerate() {
            for (hi, h) in m.headers.iter().enumerate() {
                if !is_http_token(&h.name) && !PSEUDO_HEADERS.contains(&h.name.as_str()) {
                    let ptr = format!("{}/matches/{mi}/headers/{hi}/name", site.ptr);
                    bad.push((ptr, h.name.clone(), "a header match"));
                }
            }
        }
    }
    if ctx.text().contains("eader") {
        each_entry(ctx.document(), &mut |ptr, k, x| {
            if k == "location" || k == "authorizationLocation" {
                if let Some(name) = x.pointer("/header/name").and_then(Value::as_str) {
                    if !is_http_token(name) {
                        let at = format!("{ptr}/header/name");
                        bad.push((at, name.to_string(), "a credential location"));
                    }
                }
            }
            if k == "requestHeaderModifier" || k == "responseHeaderModifier" {
                modifier(x, ptr, &mut modifiers);
            }
        });
    }
    for (ptr, text, is_value) in modifiers {
        let (what, label) = if is_value {
            (format!("the value `{text}`"), "not a header value")
        } else {
            (format!("`{text}`"), "not a header name")
        };
        ctx.push(
            Diagnostic::new(
                &HEADERS_INVALID_NAME,
                format!("{what} in a header modifier is not valid HTTP: every request it applies to fails in the gateway"),
            )
            .at(if is_value { ctx.value(&ptr) } else { ctx.key(&ptr) }, label)
            .help("a header name is one word of letters, digits and `-`; a value has no line breaks or control characters"),
        );
    }
    for (ptr, name, what) in bad {
        ctx.push(
            Diagnostic::new(
                &HEADERS_INVALID_NAME,
                format!("`{name}` in {what} is not a valid HTTP header name: the gateway refuses the file"),
            )
            .at(ctx.value(&ptr), "not a header name")
            .help("a header name is one word of letters, digits and `-` (no spaces, `:` or quotes), such as `x-api-key`"),
        );
    }
}

/// Every invalid name or value of a header modifier (`true`: a value).
fn modifier(m: &Value, ptr: &str, out: &mut Vec<(String, String, bool)>) {
    for key in ["add", "set"] {
        for (name, value) in m.get(key).and_then(Value::as_object).into_iter().flatten() {
            let at = format!("{ptr}/{key}/{}", ptr_token(name));
            if !is_http_token(name) {
                out.push((at.clone(), name.clone(), false));
            }
            let text = value.as_str().unwrap_or_default();
            if http::HeaderValue::from_str(text).is_err() {
                out.push((at, text.to_string(), true));
            }
        }
    }
    for (i, name) in m
        .get("remove")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = name.as_str().unwrap_or_default();
        if !is_http_token(name) {
            out.push((format!("{ptr}/remove/{i}"), name.to_string(), false));
        }
    }
}
