//! Every rule agw can report: a stable id, a default severity, and the text `agw explain`
//! prints. Ids are `family/name` and never change meaning once published.

use crate::diag::Severity;

pub const DOCS_BASE: &str = "https://github.com/agw-dev/agw/blob/main/docs/rules.md";

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// The gateway refuses a file with this finding (it does not start, or does not load the
    /// change): such a finding cannot be allowed, by flag or by comment.
    pub refuses: bool,
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

    /// `error`, `warning`, `note`, or `error, refuses` for a finding that marks a file the
    /// gateway refuses.
    pub fn severity_text(&self) -> &'static str {
        if self.refuses {
            "error, refuses"
        } else {
            self.severity.as_str()
        }
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

/// A rule's severity token: `Error`, `Warning`, `Note`, or `Refuses` (an error that marks a file
/// the gateway refuses).
macro_rules! severity {
    (Refuses) => {
        (Severity::Error, true)
    };
    ($sev:ident) => {
        (Severity::$sev, false)
    };
}

macro_rules! rules {
    ($( $id:literal, $sev:ident, $summary:literal, $desc:literal, $bad:literal, $good:literal; )*) => {
        pub static RULES: &[Rule] = &[
            $( Rule {
                id: $id,
                severity: severity!($sev).0,
                refuses: severity!($sev).1,
                summary: $summary,
                description: $desc,
                bad: $bad,
                good: $good,
            }, )*
        ];
    };
}

/// Whether a finding of `id` marks a file the gateway refuses (uncatalogued ids do, so that they
/// cannot hide).
pub fn refuses(id: &str) -> bool {
    get(id).is_none_or(|r| r.refuses)
}

rules! {
    "env/unset", Refuses,
    "an environment variable the file uses is not set",
    "The gateway expands `$VAR`, `${VAR}` and `${VAR:-default}` over the whole file before parsing it, comments included, and refuses to start when a variable is not set. Give the value with `-e NAME=VALUE` or `--env-file FILE`, add a default with `${NAME:-default}`, or pass `--allow-unset-env` in a lint step that has no secrets (the finding becomes a warning).",
    "apiKey: $OPENAI_API_KEY   # not set where the gateway runs",
    "apiKey: ${OPENAI_API_KEY:-}   # or set OPENAI_API_KEY";

    "yaml/syntax", Refuses,
    "the file is not valid YAML",
    "The YAML parser stopped here. Common causes: tabs used for indentation, a value containing `: ` that is not quoted, a list item at the wrong indentation.",
    "routes:\n\t- name: a",
    "routes:\n  - name: a";

    "yaml/encoding", Refuses,
    "the file is not UTF-8 text",
    "The gateway reads configuration as UTF-8 text. A byte that is not UTF-8, or a NUL byte, usually means the file was saved in another encoding or is not a text file.",
    "", "";

    "yaml/limit", Refuses,
    "the input exceeds a safety limit",
    "agw bounds what one file may cost: its size, its nesting depth, the size of one value and the number of nodes after expanding aliases. Real configurations are far below these limits; hitting one usually means generated or hostile input (for example an alias bomb).",
    "", "";

    "yaml/duplicate-key", Error,
    "a mapping of fixed keys repeats a key",
    "The gateway reads the YAML file as JSON and then its fields; a mapping with fixed keys (a listener, a policy, a route) that has one twice is refused (\"duplicate field\", agentgateway `core/src/serdes.rs`). Only one of them can be meant; keep it and delete the other.",
    "policies:\n  cors: {}\n  cors: {allowOrigins: ['*']}",
    "policies:\n  cors: {allowOrigins: ['*']}";

    "yaml/duplicate-map-key", Warning,
    "a free-form map repeats a key",
    "In a map whose keys you choose (the names of `gateways`, an `env` of a stdio target, header values) the gateway keeps the last entry of a repeated key and silently ignores the earlier one (agentgateway `core/src/serdes.rs`: the YAML is written out as JSON, where the last entry wins). agw reads the last one too, and warns because the ignored entry is usually a mistake.",
    "env:\n  LOG_LEVEL: debug\n  LOG_LEVEL: info",
    "env:\n  LOG_LEVEL: info";

    "yaml/multiple-documents", Refuses,
    "the file holds more than one YAML document",
    "The gateway reads one YAML document per file. A `---` line starts a second document, which would be ignored or refused.",
    "binds: []\n---\nbinds: []",
    "binds: []";

    "yaml/empty", Warning,
    "the file has no configuration",
    "The file is empty or holds only comments. The gateway would start with nothing to serve.",
    "", "";

    "schema/unknown-key", Refuses,
    "a key the gateway does not know",
    "Every object of the gateway configuration rejects keys it does not know, so a typo stops the gateway at start-up. The hint names the closest valid key.",
    "policies:\n  mcpAuthentcation:\n    issuer: https://acme.okta.com/oauth2/default",
    "policies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default";

    "schema/type", Refuses,
    "a value has the wrong type",
    "The gateway expects another kind of value here (a string, a number, a list, a mapping). YAML 1.2 reads `yes`, `no`, `on` and `off` as strings: write `true` or `false` for booleans.",
    "port: \"3000x\"",
    "port: 3000";

    "schema/required", Refuses,
    "a required key is missing",
    "This object cannot work without the named key.",
    "mcpAuthentication:\n  mode: strict",
    "mcpAuthentication:\n  mode: strict\n  issuer: https://acme.okta.com/oauth2/default";

    "schema/enum", Refuses,
    "a value is not one of the allowed values",
    "This key takes one of a fixed set of values; the hint lists them and the closest one.",
    "mode: strcit",
    "mode: strict";

    "schema/one-of", Refuses,
    "the keys of an object do not form one of its allowed shapes",
    "Some objects take exactly one of several keys (a route backend is one of `host`, `backend`, `mcp`, ...; a path match is one of `exact`, `pathPrefix`, `regex`). Either none was given, or several were.",
    "path:\n  exact: /mcp\n  pathPrefix: /mcp",
    "path:\n  exact: /mcp";

    "schema/value", Refuses,
    "a value is outside what the gateway accepts",
    "The value breaks a constraint: a number out of range, a string that does not have the required form (durations like `30s`, MCP target names in lowercase DNS style), a list that is too short.",
    "port: 70000",
    "port: 8080";

    "auth/oidc-cookie-secret", Warning,
    "an `oidc` policy while `OIDC_COOKIE_SECRET` is not set",
    "Browser sign-in (`oidc`) keeps its session in cookies encrypted with a key the gateway reads from its environment, `OIDC_COOKIE_SECRET`, not from the file. The gateway refuses a file with an `oidc` policy when the variable is not set (\"OIDC_COOKIE_SECRET is required when oidc is configured\", agentgateway `types/local.rs`). agw looks the variable up in the environment it checks with (`-e`, `--env-file`, the process): a warning, since the gateway's environment may differ.",
    "# gateway started without OIDC_COOKIE_SECRET\npolicies:\n  oidc: {issuer: ..., clientId: ..., clientSecret: ..., redirectURI: ...}",
    "# OIDC_COOKIE_SECRET=$(openssl rand -hex 32) agentgateway -f config.yaml\npolicies:\n  oidc: {issuer: ..., clientId: ..., clientSecret: ..., redirectURI: ...}";

    "auth/audiences-missing", Error,
    "`mcpAuthentication` without `audiences`",
    "The gateway refuses a file whose `mcpAuthentication` has no `audiences` (\"missing field `audiences`\"; agentgateway `types/agent.rs`, `McpAuthentication`, since 1.2): without it the token's `aud` claim would not be checked, and an access token the issuer minted for any other API would be accepted. Add the audience your authorization server puts in tokens for this gateway. For an Okta custom authorization server `.../oauth2/default` it is `api://default` unless you changed it (offered as a fix to confirm, with --unsafe-fixes).",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]";

    "auth/audiences-empty", Warning,
    "`audiences: []`",
    "An empty list loads, but no audience is checked: an access token the issuer minted for any other API is accepted here too. List the audience your authorization server puts in tokens for this gateway.",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: []",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]";

    "auth/resource-metadata-missing", Error,
    "`mcpAuthentication` without `resourceMetadata`",
    "The gateway refuses a file whose `mcpAuthentication` has no `resourceMetadata` (\"missing field `resourceMetadata`\"; agentgateway `types/agent.rs`, `McpAuthentication`). It is the OAuth protected resource metadata (RFC 9728) the gateway serves under `/.well-known/oauth-protected-resource`, which MCP clients read to find the authorization server; the gateway adds `resource` and `authorization_servers` itself, so `{}` is the least it accepts.",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  audiences: [api://default]\n  resourceMetadata:\n    resource: https://gateway.example.com/mcp";

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

    "auth/mode-not-strict", Warning,
    "`mcpAuthentication` lets requests without a valid token through",
    "With `mode: optional` a request without a token reaches the MCP server unauthenticated; with `mode: permissive` even a request with an invalid token does. MCP clients learn that they need a token from the 401 answer, so with these modes they never ask for one. Keep `strict` (the default) unless `mcpAuthorization` rules deny what anonymous callers must not do.",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  mode: optional",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  mode: strict";

    "auth/jwt-and-mcp-auth", Error,
    "`jwtAuth` and `mcpAuthentication` on one route",
    "Both policies fill the same authentication slot of a route; the gateway keeps only one of them, so half of what you wrote does not apply. For MCP clients keep `mcpAuthentication`: it validates the same tokens and also publishes the protected resource metadata that clients need to find the authorization server.",
    "policies:\n  jwtAuth:\n    issuer: https://acme.okta.com/oauth2/default\n    jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
    "policies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default\n    audiences: [api://default]\n    jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}";

    "auth/gateway-jwt-strips-token", Error,
    "a listener's `jwtAuth` removes the token a route's `mcpAuthentication` needs",
    "Policies of a listener or gateway run before routing. A `jwtAuth` there validates the bearer token and then removes it from the request, so the `mcpAuthentication` of a route behind it finds no token and answers 401 to every request. Validate MCP tokens in one place: drop the listener-level `jwtAuth`, or move it onto the routes that need it. (When the two read the token from different places, they do not collide and agw says nothing.)",
    "binds:\n- port: 3000\n  listeners:\n  - policies:\n      jwtAuth: {issuer: https://idp.example.com, jwks: {url: https://idp.example.com/keys}}\n    routes:\n    - policies:\n        mcpAuthentication: {issuer: https://idp.example.com, audiences: [mcp]}",
    "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentication: {issuer: https://idp.example.com, audiences: [mcp]}";

    "auth/jwt-optional-default", Note,
    "`jwtAuth` without `mode` is optional",
    "Unlike `mcpAuthentication`, `jwtAuth` defaults to `mode: optional`: a request without a token passes and only an invalid token is rejected. That is often intended (authorization rules then decide), but it surprises people who expect authentication to be required. Write the mode you mean.",
    "jwtAuth:\n  issuer: https://idp.example.com\n  jwks: {url: https://idp.example.com/keys}",
    "jwtAuth:\n  mode: strict\n  issuer: https://idp.example.com\n  jwks: {url: https://idp.example.com/keys}";

    "auth/insecure-http", Warning,
    "an issuer or JWKS URL over plain HTTP off this machine",
    "The gateway fetches signing keys from the JWKS URL (or from the issuer when no JWKS is given). Over plain HTTP anyone on the network path can replace the keys and mint tokens the gateway accepts. `http://localhost` and loopback addresses are fine for development and are not reported.",
    "issuer: http://auth.acme.com/realms/mcp\njwks:\n  url: http://auth.acme.com/realms/mcp/protocol/openid-connect/certs",
    "issuer: https://auth.acme.com/realms/mcp\njwks:\n  url: https://auth.acme.com/realms/mcp/protocol/openid-connect/certs";

    "auth/jwks-origin", Warning,
    "the JWKS URL is on another origin than the issuer",
    "Keys for an issuer are published by the issuer itself (its discovery document names them in `jwks_uri`). A JWKS on another scheme, host or port usually means a copy-paste from another environment or tenant, and whoever controls that origin can mint tokens the gateway accepts for this issuer. Google's issuers, whose keys live on googleapis.com, are known and not reported.",
    "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://staging-acme.okta.com/oauth2/default/v1/keys",
    "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys";

    "auth/required-claims", Warning,
    "`requiredClaims` that do not do what they say",
    "`jwtValidationOptions.requiredClaims` replaces the default `[exp]`, and the gateway only understands `exp`, `nbf`, `aud`, `iss` and `sub` there: any other name is silently ignored, and a list without `exp` accepts tokens that never expire. Require other claims with an authorization rule (`has(jwt.groups)`).",
    "jwtValidationOptions:\n  requiredClaims: [groups]",
    "jwtValidationOptions:\n  requiredClaims: [exp, sub]\n# and in mcpAuthorization: 'has(jwt.groups)'";

    "auth/metadata-path-missing", Warning,
    "clients cannot reach the OAuth discovery paths of a protected route",
    "An MCP client that gets a 401 fetches `/.well-known/oauth-protected-resource<MCP path>` to learn which authorization server issues tokens, and with a `provider` also `/.well-known/oauth-authorization-server<MCP path>`. The gateway answers these from the route's `mcpAuthentication`, but only if the route (or another protected route on the same listener) matches those paths. Without them clients cannot discover how to log in.",
    "matches:\n- path:\n    exact: /mcp\npolicies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default",
    "matches:\n- path:\n    exact: /mcp\n- path:\n    exact: /.well-known/oauth-protected-resource/mcp\npolicies:\n  mcpAuthentication:\n    issuer: https://acme.okta.com/oauth2/default";

    "auth/resource-path-mismatch", Warning,
    "`resourceMetadata.resource` names another path than the route serves",
    "The protected resource metadata says which URL it describes (`resource`). MCP clients compare it with the URL they connected to and reject metadata for another resource (RFC 9728), and the gateway derives the metadata URL from it. Its path must be the route's MCP endpoint path.",
    "matches:\n- path: {exact: /mcp}\npolicies:\n  mcpAuthentication:\n    resourceMetadata:\n      resource: https://gateway.acme.com/api/mcp",
    "matches:\n- path: {exact: /mcp}\npolicies:\n  mcpAuthentication:\n    resourceMetadata:\n      resource: https://gateway.acme.com/mcp";

    "auth/claim-may-be-absent", Note,
    "an authorization rule reads a claim that tokens may not carry",
    "Claims such as `groups` or `roles` are in tokens only when the issuer is configured to put them there (Okta: a claim on the authorization server with a filter; it is not in access tokens by default). A rule that reads an absent claim fails: an allow rule then never matches, and a deny rule does not deny (reported as a warning). Check a real token with `agw verify-token`, or guard the claim with `has(jwt.claim)`. With an Okta issuer, every claim outside Okta's standard access token claims is reported.",
    "mcpAuthorization:\n  rules:\n  - 'jwt.groups.exists(g, g == \"admins\")'",
    "mcpAuthorization:\n  rules:\n  - 'has(jwt.groups) && jwt.groups.exists(g, g == \"admins\")'";

    "okta/jwks-derived", Warning,
    "an Okta issuer without `jwks`",
    "Without `jwks` the gateway fetches keys from `{issuer}/.well-known/jwks.json`. Okta does not serve that path: its keys are at `{issuer}/v1/keys` (for the org server `https://ORG.okta.com/oauth2/v1/keys`), so every token would be rejected. Give the URL explicitly.",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default\n  jwks:\n    url: https://acme.okta.com/oauth2/default/v1/keys";

    "okta/jwks-url", Warning,
    "the JWKS URL is not where Okta serves this issuer's keys",
    "Okta serves the keys of an authorization server at `{issuer}/v1/keys`. Another path on the same host (`/.well-known/jwks.json`, or the keys of another authorization server) fails to fetch or holds keys that do not verify this issuer's tokens.",
    "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/.well-known/jwks.json",
    "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys";

    "okta/org-authorization-server", Warning,
    "the issuer is Okta's org authorization server",
    "Access tokens of the org authorization server (`https://ORG.okta.com`, no `/oauth2/...`) are meant for Okta's own APIs: Okta does not publish keys to verify them, so the gateway rejects every one. Use a custom authorization server such as `default` (`https://ORG.okta.com/oauth2/default`). ID tokens of the org server can be verified, which is why `jwtAuth` is not reported.",
    "mcpAuthentication:\n  issuer: https://acme.okta.com",
    "mcpAuthentication:\n  issuer: https://acme.okta.com/oauth2/default";

    "okta/issuer-trailing-slash", Error,
    "an Okta issuer ending with `/`",
    "The gateway compares the token's `iss` claim with `issuer` character for character. Okta's tokens carry the issuer without a trailing slash (`https://acme.okta.com/oauth2/default`), so an issuer written with one rejects every token.",
    "issuer: https://acme.okta.com/oauth2/default/",
    "issuer: https://acme.okta.com/oauth2/default";

    "auth0/issuer-trailing-slash", Warning,
    "an Auth0 issuer without its trailing `/`",
    "Auth0 tokens carry `iss: https://TENANT.auth0.com/`, with a trailing slash, and the gateway compares `iss` with `issuer` exactly. Write the issuer as Auth0's discovery document names it.",
    "issuer: https://acme.us.auth0.com",
    "issuer: https://acme.us.auth0.com/";

    "okta/scope-claim", Warning,
    "a rule reads Okta scopes the wrong way",
    "Okta access tokens carry their scopes in `scp`, a list; there is no `scope` claim. `jwt.scope` is therefore always absent, and `jwt.scp == \"x\"` compares a list with a string and is never true. Test a scope with `\"x\" in jwt.scp`.",
    "mcpAuthorization:\n  rules:\n  - 'jwt.scope == \"mcp:tools\"'",
    "mcpAuthorization:\n  rules:\n  - '\"mcp:tools\" in jwt.scp'";

    "placeholder/value", Warning,
    "a placeholder from documentation was left in",
    "Values such as `your-org`, `YOUR_CLIENT_ID`, `<tenant-id>` or hosts under `example.com` come from examples. In an issuer, audience, JWKS URL, resource metadata, client credentials, target or backend address they make the gateway trust or call something that is not yours. Replace them, or take them from the environment with `${NAME}`.",
    "issuer: https://your-org.okta.com/oauth2/default",
    "issuer: https://acme.okta.com/oauth2/default";

    "ports/conflict", Error,
    "two binds, gateways or shorthands use one port",
    "Each bind, gateway and shorthand (`mcp:` listens on 3000 unless it has `port` or `gateways`) opens its own socket; two on one port make the gateway fail at start-up with \"address in use\". Put the listeners under one bind, or give each its own port. Explicit admin, stats and readiness addresses in `config` count too.",
    "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  targets: [{name: a, stdio: {cmd: my-server}}]",
    "binds:\n- port: 3000\n  listeners: [{routes: []}]\nmcp:\n  port: 3001\n  targets: [{name: a, stdio: {cmd: my-server}}]";

    "ports/protocol-mix", Error,
    "listeners on one port mix protocols that cannot share it",
    "Listeners on one port are told apart by TLS SNI or the HTTP Host header. Plain HTTP and plain TCP cannot be told apart, and neither can TLS and plaintext, so the gateway refuses such a bind. HTTPS and TLS listeners can share a port (by SNI).",
    "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n  - protocol: HTTP",
    "binds:\n- port: 8443\n  listeners:\n  - protocol: HTTPS\n    tls: {cert: cert.pem, key: key.pem}\n- port: 8080\n  listeners:\n  - protocol: HTTP";

    "listeners/https-without-tls", Error,
    "an HTTPS listener without `tls`",
    "An HTTPS listener terminates TLS and needs a certificate and its key. Add `tls` with `cert` and `key`, or use `protocol: HTTP` when TLS is terminated in front of the gateway.",
    "- protocol: HTTPS\n  routes: []",
    "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []";

    "listeners/http-with-tls", Warning,
    "a plain HTTP listener of a bind with `tls`",
    "On a listener under `binds`, `tls` with protocol HTTP (the default there) is ignored: the gateway starts and serves plaintext (agentgateway `types/local.rs`, the listener conversion reads `tls` only for HTTPS and TLS). Most often `protocol: HTTPS` was forgotten, and clients that connect with TLS fail.",
    "- tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []",
    "- protocol: HTTPS\n  tls:\n    cert: certs/cert.pem\n    key: certs/key.pem\n  routes: []";

    "gateways/protocol-tls", Error,
    "a gateway's protocol and `tls` disagree",
    "A gateway, or a listener of a gateway, is HTTPS when it has `tls` and no `protocol`, and HTTP without `tls`. The gateway refuses `protocol: HTTP` or `TCP` with `tls`, and `protocol: HTTPS` without it (agentgateway `types/local.rs`, `effective_gateway_protocol`).",
    "gateways:\n  public:\n    port: 8443\n    protocol: HTTP\n    tls: {cert: cert.pem, key: key.pem}",
    "gateways:\n  public:\n    port: 8443\n    tls: {cert: cert.pem, key: key.pem}";

    "gateways/listeners-and-own-settings", Error,
    "a gateway with `listeners` also sets protocol, tls or a policy",
    "With `listeners`, a gateway sets only `port`; protocol, TLS and policies belong to each listener. The gateway refuses the file: \"cannot set protocol, tls, or policy fields when listeners are configured\" (agentgateway `types/local.rs`).",
    "gateways:\n  public:\n    port: 3000\n    cors: {allowOrigins: ['*']}\n    listeners:\n    - name: api",
    "gateways:\n  public:\n    port: 3000\n    listeners:\n    - name: api\n      cors: {allowOrigins: ['*']}";

    "listeners/routes-and-tcp-routes", Error,
    "HTTP routes and TCP routes mixed up on a listener",
    "An HTTP or HTTPS listener takes `routes`; a TCP or TLS listener takes `tcpRoutes`. A listener with both, or with the kind its protocol does not use, has routes that never see traffic.",
    "- protocol: TCP\n  routes:\n  - backends: [{host: 127.0.0.1:5432}]",
    "- protocol: TCP\n  tcpRoutes:\n  - backends: [{host: 127.0.0.1:5432}]";

    "listeners/tls-cert-key", Error,
    "`tls` with a certificate but no key, or a key but no certificate",
    "Serving TLS needs the certificate chain and its private key together.",
    "tls:\n  cert: certs/cert.pem",
    "tls:\n  cert: certs/cert.pem\n  key: certs/key.pem";

    "listeners/missing-routes", Error,
    "a listener of a bind without `routes` (or `tcpRoutes`)",
    "A listener under `binds` needs `routes` when its protocol is HTTP (the default) or HTTPS, and `tcpRoutes` when it is TCP or TLS; the gateway refuses the file otherwise: \"protocol HTTP requires 'routes'\" (agentgateway `types/local.rs`, `convert_listener`).",
    "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP",
    "binds:\n- port: 3000\n  listeners:\n  - protocol: HTTP\n    routes: []";

    "policies/direct-response-status", Error,
    "`directResponse` without `status`",
    "A direct response needs the HTTP status to answer with; the gateway refuses the file without it (agentgateway `http/filters.rs`, `DirectResponse`).",
    "directResponse:\n  body: maintenance",
    "directResponse:\n  body: maintenance\n  status: 503";

    "policies/not-one-policy", Error,
    "an entry of the top-level `policies` list with no policy, or with several",
    "Each entry of the top-level `policies` list attaches one policy to its `target`; the gateway refuses the file when `policy` holds none or more than one: \"'policies' must contain exactly 1 policy\" (agentgateway `types/local.rs`, targeted policies).",
    "policies:\n- name: {name: edge, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n    timeout: {requestTimeout: 30s}",
    "policies:\n- name: {name: edge-cors, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n- name: {name: edge-timeout, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    timeout: {requestTimeout: 30s}";

    "policies/target-listener-and-port", Error,
    "a `policies` entry whose gateway target sets both `listenerName` and `port`",
    "A gateway target attaches a policy to a whole gateway, to one of its listeners (`listenerName`) or to the listeners of a port (`port`); the gateway refuses both at once (\"gateway policy target cannot set both listener_name and port\", agentgateway `types/agent.rs`, `ListenerTarget::validate`).",
    "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api, port: 3000}",
    "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api}";

    "policies/conditional-entries", Error,
    "a `conditional` policy list that is empty, too long, or has its fallback before the end",
    "`localRateLimit`, `remoteRateLimit`, `transformations`, `extAuthz`, `extProc` and `directResponse` take a `{conditional: [...]}` form whose entries are tried in order. The gateway refuses the file when the list is empty, has more than 64 entries, or has an entry without `condition` (the fallback) anywhere but last (agentgateway `types/local.rs`, `validate_local_conditional_policies`).",
    "directResponse:\n  conditional:\n  - status: 503\n  - condition: request.path == \"/ready\"\n    status: 200",
    "directResponse:\n  conditional:\n  - condition: request.path == \"/ready\"\n    status: 200\n  - status: 503";

    "listeners/tls-spiffe-exclusive", Error,
    "server `tls` with `spiffe` and certificate files or TLS settings beside it",
    "With `spiffe`, the listener's identity and TLS profile come from the SPIFFE Workload API. The gateway refuses `cert`, `key`, `root`, a `mode` other than `static`, `cipherSuites`, `minTLSVersion`, `maxTLSVersion` or `keyExchangeGroups` beside it rather than ignore them (agentgateway `types/local.rs`, `into_server_tls_config_with_resources`).",
    "tls:\n  spiffe: {}\n  cert: certs/cert.pem",
    "tls:\n  spiffe: {}";

    "listeners/tls-root-dynamic-ca", Error,
    "server `tls` with `mode: dynamicCa` and a client CA `root`",
    "In `dynamicCa` mode the gateway mints leaf certificates from the CA in `cert`/`key`; it does not support verifying client certificates there and refuses a `root` (\"tls.root is not supported with tls.mode=dynamicCa\", agentgateway `types/local.rs`).",
    "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem\n  root: ca/clients.pem",
    "tls:\n  mode: dynamicCa\n  cert: ca/cert.pem\n  key: ca/key.pem";

    "ui/gateways-missing", Error,
    "`ui` attached to no gateway",
    "The admin UI's routes attach to the gateways `ui.gateways` names, or, without it, to the gateway named `default` when that gateway has an HTTP listener. With neither, the gateway refuses the file: \"ui.gateways must be set\" (agentgateway `types/local.rs`).",
    "gateways:\n  edge: {port: 8080}\nui: {}",
    "gateways:\n  edge: {port: 8080}\nui:\n  gateways: edge";

    "llm/gateways-and-port", Error,
    "`llm` with `gateways` and its own `port` or `tls`",
    "`llm.gateways` serves the LLM routes on the named gateways' listeners, with their ports and TLS; the gateway refuses `llm.port` or `llm.tls` beside it: \"llm.gateways cannot be used with llm.port or llm.tls\" (agentgateway `types/local.rs`).",
    "llm:\n  gateways: default\n  port: 4000",
    "llm:\n  gateways: default";

    "mcp/reference-with-policies", Error,
    "an MCP target that refers to a named backend and has `policies`",
    "A target written `backend: NAME` takes its connection (TLS, auth, timeouts) from that entry of `backends`; the gateway refuses target `policies` beside the reference: \"cannot use backend reference when policies are defined for an MCP target\" (agentgateway `types/local.rs`, `process_mcp_backend`).",
    "targets:\n- name: tools\n  mcp: {backend: tools-api, path: /mcp}\n  policies:\n    backendTLS: {}",
    "backends:\n- name: tools-api\n  host: tools.internal:443\n  policies:\n    backendTLS: {}\n...\n  targets:\n  - name: tools\n    mcp: {backend: tools-api, path: /mcp}";

    "policies/conditional-backend-target", Error,
    "conditional `transformations` or `extAuthz` in a policy that targets a backend",
    "A policy attached to a backend runs after the backend is chosen; the gateway refuses the `{conditional: [...]}` form of `transformations` and `extAuthz` there (\"conditional transformations are not supported on backend-targeted policies\", agentgateway `types/local.rs`, `split_policies_for_target`).",
    "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    conditional:\n    - condition: request.path == \"/v1\"\n      request: {set: {x-version: \"'1'\"}}",
    "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    request: {set: {x-version: \"'1'\"}}";

    "ports/wildcard-binds", Error,
    "more than one internal bind without a port",
    "An internal bind without a port (or with port 0) is the wildcard fallback that serves any destination port in process. The gateway allows one, since lookups would resolve a second one ambiguously, and refuses the file otherwise (agentgateway `types/local.rs`, `validate_local_listener_ports`). An internal bind with a port takes part in the port uniqueness check (`ports/conflict`).",
    "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  listeners: [...]",
    "binds:\n- mode: internal\n  listeners: [...]\n- mode: internal\n  port: 9000\n  listeners: [...]";

    "frontend/deprecated-config", Error,
    "a deprecated `config.logging` or `config.tracing` beside the `frontendPolicies` that replaces it",
    "`config.logging` (its `filter` and `fields`) and `config.tracing` are the deprecated forms of `frontendPolicies.accessLog` and `frontendPolicies.tracing`. The gateway converts the old form into the new one, and refuses the file when both are set (\"cannot use deprecated config.tracing together with frontendPolicies.tracing\", agentgateway `types/local.rs`, `merge_deprecated_frontend_policies`).",
    "config:\n  tracing: {otlpEndpoint: http://otel:4317}\nfrontendPolicies:\n  tracing: {host: otel:4317}",
    "frontendPolicies:\n  tracing: {host: otel:4317}";

    "config/tracing-endpoint", Error,
    "a deprecated `config.tracing.otlpEndpoint` the gateway cannot convert",
    "The gateway converts the deprecated `config.tracing` into `frontendPolicies.tracing`; its `otlpEndpoint` must be a URL with the scheme `http`, `https` or `grpc` and a host, or a bare `HOST:PORT`, or the gateway refuses the file (\"unsupported tracing endpoint scheme\", agentgateway `types/local.rs`, `parse_deprecated_tracing_endpoint`).",
    "config:\n  tracing:\n    otlpEndpoint: otel-collector",
    "config:\n  tracing:\n    otlpEndpoint: grpc://otel-collector:4317";

    "frontend/network-ext-authz-protocol", Error,
    "`frontendPolicies.networkExtAuthz` without the HTTP protocol",
    "The network-level external authorization of `frontendPolicies` calls its service over HTTP only; its `protocol` defaults to gRPC, so it must be written `protocol: {http: {}}`, or the gateway refuses the file (\"frontendPolicies.networkExtAuthz only supports protocol.http\", agentgateway `types/local.rs`).",
    "frontendPolicies:\n  networkExtAuthz:\n    host: authz.internal:9000",
    "frontendPolicies:\n  networkExtAuthz:\n    host: authz.internal:9000\n    protocol: {http: {}}";

    "llm/model-name", Error,
    "an LLM model name with a wildcard in the middle, or with more than one",
    "`llm.models[].name` is the model name clients request, or a pattern with one `*` at its beginning or end (`gpt-4o*`, `*-mini`, or `*` alone). The gateway refuses any other wildcard (\"model name wildcard must be either at the beginning or the end\", agentgateway `types/local.rs`, `validate_llm_model_pattern`).",
    "models:\n- name: gpt-*-mini",
    "models:\n- name: gpt-4o*";

    "llm/model-id", Error,
    "an empty or repeated LLM model `id`",
    "A model's `id` must be unique among `llm.models` and not empty; the gateway refuses the file otherwise (\"llm.models contains duplicate model id\", agentgateway `types/local.rs`).",
    "models:\n- name: fast\n  id: chat\n- name: smart\n  id: chat",
    "models:\n- name: fast\n  id: chat-fast\n- name: smart\n  id: chat-smart";

    "llm/provider-name", Error,
    "two `llm.providers` with one name",
    "Models refer to shared providers by name, so names are unique; the gateway refuses the file otherwise (\"llm.providers contains duplicate provider names\", agentgateway `types/local.rs`).",
    "providers:\n- name: shared\n  provider: openAI\n- name: shared\n  provider: anthropic",
    "providers:\n- name: shared-openai\n  provider: openAI\n- name: shared-anthropic\n  provider: anthropic";

    "llm/provider-reference", Error,
    "an LLM model's provider reference that the gateway cannot resolve",
    "`provider: {reference: NAME}` takes the provider and its `params` from the entry of `llm.providers` with that name. The gateway refuses the file when no provider has the name (\"references unknown provider\"), when that provider itself refers to another, or when the model sets other `params` than `model` beside the reference (\"can only set params.model\"; agentgateway `types/local.rs`, `apply_provider_reference`).",
    "providers:\n- name: shared\n  provider: openAI\nmodels:\n- name: gpt-4o\n  provider: {reference: shraed}",
    "providers:\n- name: shared\n  provider: openAI\nmodels:\n- name: gpt-4o\n  provider: {reference: shared}";

    "llm/custom-provider", Error,
    "a custom LLM provider without `formats` or without a base URL",
    "A `custom` provider is any server that speaks one of the API formats the gateway knows; it needs the formats it speaks and the server's `params.baseUrl` (on the model, or on the provider it refers to). The gateway refuses the file without either (\"custom provider ... requires params.baseUrl\", agentgateway `types/local.rs`).",
    "models:\n- name: local\n  provider:\n    custom:\n      formats: [{type: completions}]",
    "models:\n- name: local\n  provider:\n    custom:\n      formats: [{type: completions}]\n  params:\n    baseUrl: http://llm.internal:8000/v1";

    "llm/base-url", Error,
    "an LLM `params.baseUrl` that is not a plain base URL",
    "The gateway splits a model's `baseUrl` into the host, port and path prefix it sends to; it refuses one that is not a URL, that has user info, a query or a fragment, or that gives no port for a scheme without a known default port (anything but http, https, ws, wss and ftp; agentgateway `types/local.rs`, `apply_base_url`).",
    "params:\n  baseUrl: https://proxy.internal/v1?tenant=acme",
    "params:\n  baseUrl: https://proxy.internal/v1";

    "llm/virtual-model-routing", Error,
    "a virtual model without exactly one routing strategy, without targets, or with its conditional fallback before the end",
    "`llm.virtualModels[].routing` sets one of `weighted`, `failover` and `conditional`, with at least one target; a conditional target without `when` is the fallback and must be last. The gateway refuses the file otherwise (agentgateway `types/local.rs`, `LocalLLMVirtualModel::routing_strategy`).",
    "routing:\n  weighted:\n    targets: [{model: gpt-4o}]\n  failover:\n    targets: [{model: gpt-4o, priority: 1}]",
    "routing:\n  weighted:\n    targets: [{model: gpt-4o}]";

    "llm/virtual-model-target", Error,
    "a virtual model target that matches no entry of `llm.models`",
    "Each target of a virtual model names a model of `llm.models`: its name, or a name one of its wildcard patterns matches. The gateway refuses the file otherwise (\"virtual model target ... does not match any llm.models entry\", agentgateway `types/local.rs`, `validate_virtual_models`).",
    "models:\n- name: gpt-4o*\nvirtualModels:\n- name: default\n  routing:\n    weighted:\n      targets: [{model: claude-sonnet}]",
    "models:\n- name: gpt-4o*\nvirtualModels:\n- name: default\n  routing:\n    weighted:\n      targets: [{model: gpt-4o-mini}]";

    "headers/invalid-name", Error,
    "a header match, credential location or header modifier whose header name (or value) is not valid HTTP",
    "The gateway parses the `name` of a header match (an HTTP header, or one of the pseudo-headers `:method`, `:scheme`, `:authority`, `:path`, `:status`) and the header of a credential `location: {header: {name}}` as HTTP header names when it loads the file, and refuses one that is not (agentgateway `http/mod.rs`, `HeaderOrPseudo`; `http/auth/mod.rs`, `AuthorizationLocation`). The names and values of `requestHeaderModifier` and `responseHeaderModifier` are parsed when a request passes (`http/filters.rs`, `HeaderModifier::apply`): an invalid one fails every request the modifier applies to.",
    "matches:\n- headers:\n  - name: \"x tenant\"\n    value: {exact: acme}",
    "matches:\n- headers:\n  - name: x-tenant\n    value: {exact: acme}";

    "cors/invalid-name", Error,
    "a CORS header or method name that is not valid HTTP",
    "The gateway parses `allowHeaders` and `exposeHeaders` as header names and `allowMethods` as methods when it loads the file, and refuses one that is not (agentgateway `http/cors.rs`). A `*` entry makes the list a wildcard.",
    "cors:\n  allowHeaders: [\"content-type, mcp-session-id\"]",
    "cors:\n  allowHeaders: [content-type, mcp-session-id]";

    "refs/unknown-backend", Error,
    "`backend: NAME` names no entry of `backends`",
    "A route backend or an MCP target can refer to an entry of the top-level `backends` list by name. The gateway does not check the name when it loads the file; requests then fail at run time. agw checks it and suggests the closest name.",
    "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: biling",
    "backends:\n- name: billing\n  host: 10.0.0.5:8080\nroutes:\n- gateways: default\n  backends:\n  - backend: billing";

    "refs/unknown-gateway", Error,
    "`gateways:` names a gateway or listener that does not exist",
    "Top-level `routes`, `tcpRoutes`, and the `mcp:` and `llm:` shorthands attach to gateways by name (`NAME`) or to one listener (`NAME/LISTENER`). A name that matches nothing leaves the route unattached.",
    "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: pubic\n  backends: [{host: 127.0.0.1:8080}]",
    "gateways:\n  public: {port: 3000}\nroutes:\n- gateways: public\n  backends: [{host: 127.0.0.1:8080}]";

    "refs/route-without-gateways", Error,
    "a top-level route without `gateways`",
    "Top-level `routes` attach to gateways by name. A route without `gateways` joins the gateway named `default` when it has an HTTP listener; otherwise the gateway refuses the file: \"routes.NAME must set gateways\" (agentgateway `types/local.rs`, `apply_implicit_default_gateway` and `convert`).",
    "gateways:\n  web: {port: 3000}\nroutes:\n- backends: [{host: 127.0.0.1:8080}]",
    "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]";

    "refs/gateway-kind", Error,
    "a route attached to a gateway without a listener of its kind",
    "HTTP routes (and the `mcp:` and `llm:` shorthands) need an HTTP or HTTPS listener; `tcpRoutes` need a TCP or TLS one. The gateway refuses a reference that reaches none: \"gateway reference REF has no HTTP listeners\" (agentgateway `types/local.rs`, `resolve_gateway_references`).",
    "gateways:\n  db: {port: 5432, protocol: TCP}\nroutes:\n- gateways: db\n  backends: [{host: 127.0.0.1:8080}]",
    "gateways:\n  web: {port: 3000}\nroutes:\n- gateways: web\n  backends: [{host: 127.0.0.1:8080}]";

    "backends/host-port", Error,
    "a backend `host:` that is not `HOST:PORT`",
    "The gateway reads a backend's `host` as `HOST:PORT`, split at the first `:` (or `unix:/PATH` for a socket), and refuses anything else: a missing port (\"invalid host:port\"), a URL with a scheme, an IPv6 literal, a port over 65535 (agentgateway `types/agent.rs`, `Target`). MCP targets are different: they take a URL (`mcp/host-form`).",
    "backends:\n- host: https://api.internal",
    "backends:\n- host: api.internal:443";

    "backends/inference-routing-scope", Error,
    "`inferenceRouting` anywhere but on a `service:` route backend",
    "Inference routing picks one endpoint among a service's, so the gateway accepts `inferenceRouting` only in the `policies` of a route backend written `service: {name, port}`; on another route backend, on an entry of `backends` or on an AI provider it refuses the file (\"inferenceRouting is only supported on service route backends\", agentgateway `types/local.rs`, `validate_inference_routing_scope`).",
    "backends:\n- name: llm\n  host: vllm.internal:8000\n  policies:\n    inferenceRouting: {...}",
    "routes:\n- backends:\n  - service: {name: default/vllm, port: 8000}\n    policies:\n      inferenceRouting: {...}";

    "names/duplicate-route", Warning,
    "two routes on one listener share a name",
    "Route names identify routes in metrics, logs, targeted policies and the admin UI. Two routes with one name on the same listener (or gateway) are indistinguishable there, and a policy that targets the name applies to the wrong one or both.",
    "routes:\n- name: api\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api\n  matches: [{path: {pathPrefix: /v2}}]",
    "routes:\n- name: api-v1\n  matches: [{path: {pathPrefix: /v1}}]\n- name: api-v2\n  matches: [{path: {pathPrefix: /v2}}]";

    "names/duplicate-backend", Error,
    "two entries of `backends` share a name",
    "`backend: NAME` references are resolved by name; with two entries of one name, one of them is unreachable and references may go to the wrong host.",
    "backends:\n- name: api\n  host: 10.0.0.1:80\n- name: api\n  host: 10.0.0.2:80",
    "backends:\n- name: api-a\n  host: 10.0.0.1:80\n- name: api-b\n  host: 10.0.0.2:80";

    "names/duplicate-listener", Warning,
    "two listeners of one bind or gateway share a name",
    "`gateways: NAME/LISTENER` and targeted policies select a listener by name; with two of one name the selection is ambiguous.",
    "listeners:\n- name: web\n  hostname: a.acme.com\n- name: web\n  hostname: b.acme.com",
    "listeners:\n- name: web-a\n  hostname: a.acme.com\n- name: web-b\n  hostname: b.acme.com";

    "names/duplicate-target", Error,
    "two targets of one MCP backend share a name",
    "With several targets the gateway prefixes tool and prompt names with the target name (`<target>_<tool>`) and routes calls back by that prefix; two targets of one name make their tools collide.",
    "targets:\n- name: tools\n  stdio: {cmd: server-a}\n- name: tools\n  stdio: {cmd: server-b}",
    "targets:\n- name: tools-a\n  stdio: {cmd: server-a}\n- name: tools-b\n  stdio: {cmd: server-b}";

    "mcp/host-form", Error,
    "a remote MCP target mixes or misses its address forms",
    "An `mcp`, `sse` or `openapi` target gives its server in exactly one form: `host: URL` (http or https, path included), or `host`, `port` and `path` together (host is then a bare name), or `backend: NAME` with `path`. Mixing them, leaving a part out, or using another URL scheme makes the gateway refuse the file.",
    "mcp:\n  host: http://localhost:3001\n  path: /mcp",
    "mcp:\n  host: http://localhost:3001/mcp";

    "mcp/target-name", Error,
    "an MCP target name the gateway refuses",
    "The gateway checks every MCP target name against the Gateway API SectionName pattern: lowercase letters, digits, `-` and `.`, each part starting and ending with a letter or digit, at most 253 characters (agentgateway `types/agent.rs`, called from `as_backends` in `types/local.rs`). `my_tools`, `Tools` and `tools-` are refused; `_` is also the delimiter the gateway puts between a target and its tool names.",
    "mcp:\n  targets:\n  - name: my_tools\n    stdio: {cmd: my-server}",
    "mcp:\n  targets:\n  - name: my-tools\n    stdio: {cmd: my-server}";

    "mcp/stdio-policies", Error,
    "`policies` on a stdio target",
    "Target policies shape the connection to a remote server (headers, backend TLS, backend authentication). A stdio target is a local process with no such connection, and the gateway refuses the combination. Authorization (`mcpAuthorization`) belongs on the route.",
    "- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}\n  policies:\n    requestHeaderModifier: {set: {x-a: b}}",
    "- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}";

    "mcp/stdio-inherits-secrets", Warning,
    "a stdio target inherits the secrets the file reads from the environment",
    "Unless a stdio target says `clear_env: true`, the gateway starts its process with the gateway's whole environment. When the file reads secrets from there (`clientSecret: ${OKTA_CLIENT_SECRET}`, an `apiKey`, a password or token), every such process gets them too, and an MCP server can read, log or send on anything in its environment. Set `clear_env: true` and pass what the server needs under `env:`. A secret the target's own `env:` names is passed on purpose and does not count.",
    "mcpAuthentication:\n  clientSecret: ${OKTA_CLIENT_SECRET}\n# ...\ntargets:\n- name: tools\n  stdio: {cmd: my-mcp-server}",
    "mcpAuthentication:\n  clientSecret: ${OKTA_CLIENT_SECRET}\n# ...\ntargets:\n- name: tools\n  stdio: {cmd: my-mcp-server, clear_env: true, env: {HOME: /srv/tools}}";

    "mcp/npx-without-yes", Warning,
    "a stdio target runs `npx` without `-y`",
    "npx asks for confirmation before it installs a package that is not installed yet. Under the gateway the process's standard input is the MCP stream, not a terminal, so the question cannot be answered and the target fails to start (it works only where the package happens to be installed already). Pass `-y` (or `--yes`) before the package name, or install the package and run its binary.",
    "stdio:\n  cmd: npx\n  args: [\"@modelcontextprotocol/server-everything\"]",
    "stdio:\n  cmd: npx\n  args: [\"-y\", \"@modelcontextprotocol/server-everything\"]";

    "mcp/shorthand-port-and-gateways", Error,
    "the `mcp:` shorthand has both `port` and `gateways`",
    "The shorthand either listens on a port of its own (`port`, deprecated, default 3000) or attaches to gateways and serves `/mcp`, `/sse` and `/.well-known` on their ports. Both at once is refused.",
    "mcp:\n  port: 3000\n  gateways: public\n  targets: [{name: a, stdio: {cmd: server}}]",
    "mcp:\n  gateways: public\n  targets: [{name: a, stdio: {cmd: server}}]";

    "cel/syntax", Error,
    "a CEL expression does not compile",
    "Authorization rules (`mcpAuthorization`, `authorization`), token location expressions, `bodyExpression`, conditions of conditional policies, transformation values and every other value the gateway's schema types `Expression` are CEL. The gateway compiles them at start-up and refuses the file when one does not parse. The finding points at the place in the expression where parsing failed. CEL writes `==`, `&&`, `||`, `in`, and strings in quotes.",
    "rules:\n- 'mcp.tool.name == \"echo\" &&'",
    "rules:\n- 'mcp.tool.name == \"echo\" && jwt.sub == \"alice\"'";

    "cel/unknown-field", Warning,
    "an `mcpAuthorization` rule reads an MCP field that does not exist",
    "MCP authorization rules see `mcp.tool`, `mcp.prompt`, `mcp.resource` and `mcp.task`, each with `name` (a resource's URI) and `target`. The gateway authorizes a call before it reads the call, so `mcp.tool.arguments` is never set (its test `test_rbac_mcp_context_is_identity_only`, agentgateway `mcp/rbac.rs`): a rule that reads it, or a misspelt field, is an error when the rule runs, so the rule never matches: an allow rule allows nothing, a deny rule denies nothing, and a require rule denies every call (then the finding is an error).",
    "rules:\n- 'mcp.tool.nmae == \"echo\"'",
    "rules:\n- 'mcp.tool.name == \"echo\"'";

    "regex/invalid", Error,
    "a regex of a route match does not compile",
    "Path, header and query regexes use Rust's `regex` syntax and must match the whole value. The gateway refuses a pattern that does not compile; look-around and back-references are not supported.",
    "path:\n  regex: /mcp/(a|b",
    "path:\n  regex: /mcp/(a|b)";

    "ratelimit/max-below-fill", Error,
    "a local rate limit whose bucket is smaller than one refill",
    "`localRateLimit` is a token bucket of `maxTokens`, refilled with `tokensPerFill` every `fillInterval`. The gateway refuses a bucket smaller than one refill (\"max tokens cannot be less than the refill amount\").",
    "localRateLimit:\n- maxTokens: 5\n  tokensPerFill: 10\n  fillInterval: 1s",
    "localRateLimit:\n- maxTokens: 10\n  tokensPerFill: 10\n  fillInterval: 1s";

    "timeout/backend-exceeds-request", Warning,
    "a backend timeout longer than the request timeout",
    "`requestTimeout` bounds the whole request, retries included; `backendRequestTimeout` bounds one attempt. A per-attempt timeout longer than the whole never fires.",
    "timeout:\n  requestTimeout: 10s\n  backendRequestTimeout: 30s",
    "timeout:\n  requestTimeout: 30s\n  backendRequestTimeout: 10s";

    "cors/credentials-any-origin", Warning,
    "CORS allows credentials from any origin",
    "With `allowCredentials: true` and `allowOrigins: [\"*\"]` the gateway answers every site with that site's own origin and `Access-Control-Allow-Credentials: true`, so any web page a user visits can send requests with the user's cookies or HTTP credentials and read the answers. List the origins that need credentials.",
    "cors:\n  allowOrigins: [\"*\"]\n  allowCredentials: true",
    "cors:\n  allowOrigins: [\"https://app.acme.com\"]\n  allowCredentials: true";

    "cors/mcp-headers", Note,
    "CORS on an MCP route misses headers MCP clients need",
    "Browser-based MCP clients (for example the MCP Inspector) send `content-type`, `mcp-protocol-version` and, after initialize, `mcp-session-id` (and `authorization` with a token), and must read `mcp-session-id` from the answer. A CORS policy that does not allow and expose them makes those clients fail, while other clients work.",
    "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type]",
    "cors:\n  allowOrigins: ['*']\n  allowHeaders: [content-type, mcp-protocol-version, mcp-session-id, authorization]\n  exposeHeaders: [mcp-session-id]";

    "files/missing", Warning,
    "a referenced file is not where agw looked",
    "The gateway reads `jwks: {file}`, TLS `cert`/`key`/`root` and OpenAPI schema files relative to its own working directory, which agw cannot know. agw looks under `--root DIR` (default: the current directory). A file it cannot find is a warning, or an error with `--strict-files`.",
    "", "";

    "jwks/invalid", Error,
    "a JWKS that the gateway cannot use",
    "A JWKS (inline or in a file) is a JSON document `{\"keys\": [...]}` whose keys each have `kty` and a `kid`: the gateway finds the key for a token by its `kid`, so keys without one are useless. A JWKS holds public keys only.",
    "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"n\": \"...\", \"e\": \"AQAB\"}]}'",
    "jwks: '{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"k1\", \"n\": \"...\", \"e\": \"AQAB\"}]}'";

    "tls/pem-invalid", Error,
    "a TLS certificate or key file that is not the expected PEM",
    "`cert` and `root` take PEM certificates (`-----BEGIN CERTIFICATE-----`), `key` a PEM private key. A truncated block, a DER file or the wrong kind of block makes the gateway fail at start-up.",
    "", "";

    "k8s/not-mapped", Warning,
    "a part of the file that `agw compile --to kubernetes` cannot express",
    "The Kubernetes resources agentgateway's controller reads (Gateway, HTTPRoute, AgentgatewayBackend, AgentgatewayPolicy) have no field for this part of the local file, or agw does not write it yet. The compile is lossy: it exits 1 unless `--allow-lossy`, so that nothing is dropped without a word. The finding names the part and the way out (a resource of your own, or keeping a local gateway for it); README.md has the table of every construct and what it becomes.",
    "", "";

    "k8s/stdio-target", Warning,
    "an MCP stdio target, which a gateway in a cluster cannot run",
    "A stdio target is a child process of the local gateway. An AgentgatewayBackend's MCP targets are `static` hosts or selected Services, with no stdio form, so the target cannot be written. Run the server in its HTTP mode as a Deployment and Service (`agw compile --stdio-as-deployment IMAGE` writes them and points a `static` target at the Service), or keep the local file and run it with the standalone chart.",
    "targets:\n- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}",
    "targets:\n- name: everything\n  mcp: {host: http://everything.default.svc.cluster.local:3001/mcp}";

    "k8s/stdio-as-deployment", Note,
    "a stdio target compiled to a Deployment and a Service",
    "With `--stdio-as-deployment IMAGE`, each stdio target becomes a Deployment running IMAGE (the target's command and arguments, its environment, `PORT=8080`) and a Service on port 8080; the target reaches it as `static` Streamable HTTP at `/mcp`. The image must serve MCP over HTTP there: a server's stdio command does not by itself. Environment values whose names look secret come from a Secret (`NAME-env`) that you create.",
    "", "";

    "k8s/openapi-target", Warning,
    "an OpenAPI target, which AgentgatewayBackend cannot express",
    "The local gateway turns an OpenAPI document into MCP tools; an AgentgatewayBackend's MCP targets are MCP servers (`static` or selected Services) only. Serve the API through an MCP server of its own and point a `static` target at it, or keep this target in a local gateway.",
    "", "";

    "k8s/mcp-auth-mode", Warning,
    "`mcpAuthentication` with a mode other than `strict`, which the CRD refuses with `mcp`",
    "In the CRD, `jwtAuthentication.mcp` requires `mode: Strict` (`jwtAuthentication.mcp requires mode Strict`). agw writes `Strict`, so requests without a valid token that pass locally are refused in the cluster.",
    "mcpAuthentication:\n  mode: optional",
    "mcpAuthentication:\n  mode: strict";

    "k8s/jwt-validation-options", Warning,
    "`jwtValidationOptions`, which `jwtAuthentication` has no field for",
    "The CRD's providers carry no validation options, so the gateway applies its default (`requiredClaims: [exp]`) besides the signature, the issuer and the audiences; other claims that `jwtValidationOptions.requiredClaims` requires locally are not required in the cluster. Require them with an authorization rule instead (`has(jwt.sub)`).",
    "jwtValidationOptions:\n  requiredClaims: [sub]",
    "authorization:\n  rules:\n  - require: has(jwt.sub)";

    "k8s/jwks-file", Error,
    "a JWKS file that `agw compile` cannot read",
    "A manifest carries the keys of a `jwks: {file}` inline, so the compiler must read the file. It looks under `--root DIR` (default: the current directory), as `agw check` does.",
    "", "";

    "k8s/jwks-written", Note,
    "no `jwks`: the manifest names the JWKS URL",
    "The CRD requires the JWKS. agw writes the URL the local gateway would use (`{issuer}/.well-known/jwks.json`), except for Okta, whose keys are at `{issuer}/v1/keys` (see `okta/jwks-derived`). Write the same `jwks.url` in the local file, so that both agree.",
    "", "";

    "k8s/renamed", Note,
    "a name that Kubernetes takes in another spelling",
    "Kubernetes names are lowercase DNS labels, so agw writes `My_Route` as `my-route`. A renamed MCP target changes the prefix of its tool names (`my-target_echo`), which clients see; rename it in the local file too.",
    "", "";

    "k8s/secret-value", Error,
    "a value from the environment that looks secret would be written into a manifest",
    "Manifests end up in Git. A value that came from an environment variable whose name looks secret (`*_TOKEN`, `*_SECRET`, `*_API_KEY`, passwords) is never written in plain text: put it in a Secret and refer to it.",
    "", "";

    "k8s/invalid-manifest", Error,
    "agw made a manifest that the cluster would refuse",
    "Before writing, agw checks its manifests against the rules of the CRDs it can break (unique listeners, one provider with `mcp`, `cacheDuration` of at least 5m, ...). A failure is a bug in agw; nothing is written.",
    "", "";

    "suppress/unused-allow", Note,
    "an `# agw: allow` comment that silences nothing",
    "`# agw: allow RULE` silences a finding of RULE on the next line (or, at the end of a line, on that line). A comment that matches no finding is stale or misplaced, or names a rule that does not exist; remove or move it.",
    "# agw: allow okta/jwks-derived\nport: 3000",
    "mcpAuthentication:\n  # agw: allow okta/jwks-derived\n  issuer: https://acme.okta.com/oauth2/default";
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
