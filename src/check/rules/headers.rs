//! Header names the gateway parses when it loads the file, and refuses when they are not HTTP
//! header names: the names of header matches (`HeaderOrPseudo`, agentgateway `http/mod.rs`,
//! which also takes the pseudo-headers `:method`, `:scheme`, `:authority`, `:path` and
//! `:status`) and the header of a credential location (`AuthorizationLocation::Header`,
//! `http/auth/mod.rs`). CORS lists have their own rule (`cors/invalid-name`).

use serde_json::Value;

use super::util::{is_http_token, ptr_token};
use super::Ctx;
use crate::diag::Diagnostic;

const PSEUDO_HEADERS: [&str; 5] = [":method", ":scheme", ":authority", ":path", ":status"];

pub fn check(ctx: &mut Ctx) {
    let mut bad: Vec<(String, String, &'static str)> = Vec::new();
    for site in ctx.routes.iter() {
        for (mi, m) in site.route.matches.iter().flatten().enumerate() {
            for (hi, h) in m.headers.iter().enumerate() {
                if !is_http_token(&h.name) && !PSEUDO_HEADERS.contains(&h.name.as_str()) {
                    let ptr = format!("{}/matches/{mi}/headers/{hi}/name", site.ptr);
                    bad.push((ptr, h.name.clone(), "a header match"));
                }
            }
        }
    }
    if ctx.text().contains("header") {
        locations(ctx.document(), String::new(), &mut bad);
    }
    for (ptr, name, what) in bad {
        ctx.push(
            Diagnostic::new(
                "headers/invalid-name",
                format!("`{name}` in {what} is not a valid HTTP header name: the gateway refuses the file"),
            )
            .at(ctx.value(&ptr), "not a header name")
            .help("a header name is one word of letters, digits and `-` (no spaces, `:` or quotes), such as `x-api-key`"),
        );
    }
}

/// Every `{header: {name: NAME}}` credential location in `v` whose name is not a header name.
fn locations(v: &Value, at: String, out: &mut Vec<(String, String, &'static str)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let ptr = format!("{at}/{}", ptr_token(k));
                if k == "location" || k == "authorizationLocation" {
                    if let Some(name) = x.pointer("/header/name").and_then(Value::as_str) {
                        if !is_http_token(name) {
                            out.push((
                                format!("{ptr}/header/name"),
                                name.to_string(),
                                "a credential location",
                            ));
                        }
                    }
                }
                locations(x, ptr, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                locations(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
