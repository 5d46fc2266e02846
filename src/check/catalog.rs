//! Every rule agw can report: a stable id, a default severity, and the text `agw explain`
//! prints. Ids are `family/name` and never change meaning once published.

use crate::diag::Severity;

pub const DOCS_BASE: &str = "https://github.com/agw-dev/agw/blob/main/docs/rules.md";

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub description: &'static str,
    pub bad: &'static str,
    pub good: &'static str,
}

impl Rule {
    /// The anchor of the rule's section in docs/rules.md: the id with `/` as `-`
    /// (`auth/audiences-missing` -> `auth-audiences-missing`).
    pub fn anchor(&self) -> String {
        self.id.replace('/', "-")
    }

    /// The rule's documentation: `DOCS_BASE#anchor`.
    pub fn docs_url(&self) -> String {
        format!("{DOCS_BASE}#{}", self.anchor())
    }

    pub fn help_text(&self) -> String {
        let mut s = format!("{}\n\n{}", self.summary, self.description);
        if !self.bad.is_empty() {
            s.push_str(&format!(
                "\n\nWrong:\n{}\n\nRight:\n{}",
                self.bad, self.good
            ));
        }
        s
    }

    pub fn help_markdown(&self) -> String {
        let mut s = format!("**{}**\n\n{}", self.summary, self.description);
        if !self.bad.is_empty() {
            s.push_str(&format!(
                "\n\nWrong:\n```yaml\n{}\n```\n\nRight:\n```yaml\n{}\n```",
                self.bad, self.good
            ));
        }
        s
    }
}

pub fn get(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The default severity of a rule; an uncatalogued id is an error so that it cannot hide.
pub fn default_severity(id: &str) -> Severity {
    get(id).map_or(Severity::Error, |r| r.severity)
}

macro_rules! rules {
    ($( $id:literal, $sev:ident, $summary:literal, $desc:literal, $bad:literal, $good:literal; )*) => {
        pub static RULES: &[Rule] = &[
            $( Rule { id: $id, severity: Severity::$sev, summary: $summary, description: $desc, bad: $bad, good: $good }, )*
        ];
    };
}

rules! {
    "env/unset", Error,
    "an environment variable the file uses is not set",
    "The gateway expands `$VAR`, `${VAR}` and `${VAR:-default}` over the whole file before parsing it, comments included, and refuses to start when a variable is not set. Give the value with `-e NAME=VALUE` or `--env-file FILE`, add a default with `${NAME:-default}`, or pass `--allow-unset-env` in a lint step that has no secrets (the finding becomes a warning).",
    "apiKey: $OPENAI_API_KEY   # not set where the gateway runs",
    "apiKey: ${OPENAI_API_KEY:-}   # or set OPENAI_API_KEY";

    "yaml/syntax", Error,
    "the file is not valid YAML",
    "The YAML parser stopped here. Common causes: tabs used for indentation, a value containing `: ` that is not quoted, a list item at the wrong indentation.",
    "routes:\n\t- name: a",
    "routes:\n  - name: a";

    "yaml/encoding", Error,
    "the file is not UTF-8 text",
    "The gateway reads configuration as UTF-8 text. A byte that is not UTF-8, or a NUL byte, usually means the file was saved in another encoding or is not a text file.",
    "", "";

    "yaml/limit", Error,
    "the input exceeds a safety limit",
    "agw bounds what one file may cost: its size, its nesting depth, the size of one value and the number of nodes after expanding aliases. Real configurations are far below these limits; hitting one usually means generated or hostile input (for example an alias bomb).",
    "", "";

    "yaml/duplicate-key", Error,
    "a mapping repeats a key",
    "The gateway refuses a mapping that has the same key twice. Only one of them can be meant; keep it and delete the other.",
    "policies:\n  cors: {}\n  cors: {allowOrigins: ['*']}",
    "policies:\n  cors: {allowOrigins: ['*']}";

    "yaml/multiple-documents", Error,
    "the file holds more than one YAML document",
    "The gateway reads one YAML document per file. A `---` line starts a second document, which would be ignored or refused.",
    "binds: []\n---\nbinds: []",
    "binds: []";

    "yaml/empty", Warning,
    "the file has no configuration",
    "The file is empty or holds only comments. The gateway would start with nothing to serve.",
    "", "";

    "schema/unknown-key", Error,
    "a key the gateway does not know",
    "Every object of the gateway configuration rejects keys it does not know, so a typo stops the gateway at start-up. The hint names the closest valid key.",
    "policies:\n  mcpAuthentcation:\n    issuer: https://acme.okta.com/oauth2/default",
    "policies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default";

    "schema/type", Error,
    "a value has the wrong type",
    "The gateway expects another kind of value here (a string, a number, a list, a mapping). YAML 1.2 reads `yes`, `no`, `on` and `off` as strings: write `true` or `false` for booleans.",
    "port: \"3000x\"",
    "port: 3000";

    "schema/required", Error,
    "a required key is missing",
    "This object cannot work without the named key.",
    "mcpAuthentication:\n  mode: strict",
    "mcpAuthentication:\n  mode: strict\n  issuer: https://acme.okta.com/oauth2/default";

    "schema/enum", Error,
    "a value is not one of the allowed values",
    "This key takes one of a fixed set of values; the hint lists them and the closest one.",
    "mode: strcit",
    "mode: strict";

    "schema/one-of", Error,
    "the keys of an object do not form one of its allowed shapes",
    "Some objects take exactly one of several keys (a route backend is one of `host`, `backend`, `mcp`, ...; a path match is one of `exact`, `pathPrefix`, `regex`). Either none was given, or several were.",
    "path:\n  exact: /mcp\n  pathPrefix: /mcp",
    "path:\n  exact: /mcp";

    "schema/value", Error,
    "a value is outside what the gateway accepts",
    "The value breaks a constraint: a number out of range, a string that does not have the required form (durations like `30s`, MCP target names in lowercase DNS style), a list that is too short.",
    "port: 70000",
    "port: 8080";

    "config/not-checked", Note,
    "a part of the file that agw accepts without checking",
    "agw models the parts of the gateway configuration that matter for MCP and OAuth in depth. Other sections and policies (LLM routing, rate-limit servers, external authorization, ...) are accepted as written and not checked yet; the gateway itself still validates them at start-up.",
    "", "";

    "auth/audiences-missing", Warning,
    "`mcpAuthentication` without `audiences`",
    "Without `audiences` the gateway does not check the token's `aud` claim, so an access token the issuer minted for any other API is accepted here too. Current gateway releases refuse the file for this reason. Add the audience your authorization server puts in tokens for this gateway (for Okta's `default` server it is `api://default` unless you changed it).",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]";

    "online/discovery", Warning,
    "the issuer's discovery document cannot be fetched (`--online`)",
    "agw fetches `{issuer}/.well-known/openid-configuration`, then the RFC 8414 `/.well-known/oauth-authorization-server` forms. None answered with metadata: the issuer is unreachable from here (DNS, TLS, refused, timed out), or the URL is not an issuer (for Okta: an authorization server that was never created). MCP clients use this document to find where to get tokens.",
    "issuer: https://acme.okta.com/oauth2/mcp-server   # never created in Okta",
    "issuer: https://acme.okta.com/oauth2/default";

    "online/issuer-mismatch", Error,
    "the discovery document names a different issuer (`--online`)",
    "The gateway compares the token's `iss` with the configured issuer exactly. Tokens carry the value the authorization server announces in its discovery document; when that differs from the configured one, even by a trailing `/`, every token is rejected.",
    "issuer: https://acme.okta.com/oauth2/default/",
    "issuer: https://acme.okta.com/oauth2/default";

    "online/jwks", Error,
    "the key set the gateway will use cannot be fetched or used (`--online`)",
    "The gateway loads the JWKS (the configured `jwks.url`, or `{issuer}/.well-known/jwks.json` when none is set) to verify every token. agw fetched it: it was unreachable, answered an error or an HTML page, was not a JWKS, or had no usable key, so every token would be rejected. For Okta, keys live at `{issuer}/v1/keys`.",
    "issuer: https://acme.okta.com/oauth2/default   # no jwks: the derived URL is not served by Okta",
    "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys";

    "online/jwks-key", Warning,
    "a key of the JWKS cannot verify tokens (`--online`)",
    "The key set has a key the gateway cannot use (an unsupported key type or algorithm, an RSA key under 2048 bits, a malformed key). Tokens signed with it will be rejected.",
    "", "";

    "online/jwks-differs", Warning,
    "the configured JWKS URL differs from the issuer's `jwks_uri` (`--online`)",
    "The issuer's discovery document names where its keys are. A different configured URL works only while it serves the same keys; after a key rotation it may not.",
    "jwks:\n  url: https://keys-mirror.example.com/jwks.json",
    "jwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys";

    "online/scope-unknown", Warning,
    "a scope in `resourceMetadata.scopesSupported` is unknown to the issuer (`--online`)",
    "MCP clients read `scopes_supported` from the protected resource metadata and ask the authorization server for those scopes. A scope the server does not know makes the token request fail (Okta answers `invalid_scope`).",
    "scopesSupported: [agentgateway]   # scope not created in Okta",
    "scopesSupported: [agentgateway]   # after adding the scope to the authorization server";

    "online/ok", Note,
    "the issuer and its keys were reached (`--online`)",
    "A summary of what `--online` verified for an issuer: how fast discovery answered and which keys the JWKS holds.",
    "", "";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(r.id.contains('/'), "{}", r.id);
            assert!(!r.description.is_empty());
            assert_eq!(r.bad.is_empty(), r.good.is_empty(), "{}", r.id);
        }
    }
}
