//! The cases of the fuzz targets in `fuzz/` (cargo-fuzz), kept in the library so that the seed
//! corpus also runs as an ordinary test (`tests/fuzz_seeds.rs`) and the targets stay
//! one line each. Every case panics when an invariant breaks; anything else is a pass.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::check::{check_bytes, CheckOptions};
use crate::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksSource};
use crate::source::EnvOptions;
use crate::token::verify::{accept, verify_with_cache, Policy};

/// A value the environment gives the loader; it must never be shown.
pub const SECRET: &str = "fuzz-hunter2-secret";

/// The issuer, audience and public key of the token seeds (the private key is not kept).
pub const ISSUER: &str = "https://issuer.fuzz.example";
pub const AUDIENCE: &str = "https://gateway.fuzz.example/mcp";
pub const JWKS: &str = r#"{"keys":[{"kty":"EC","x":"DEzohKdtlpaPfjVbVOp9LDc79im6C3QAe74tt26DlSA","y":"R1WmI5NX_aV7Oh10Fe1db0yRmsCX4krOGbYdL4jPPAE","crv":"P-256","kid":"fuzz-1","alg":"ES256","use":"sig"}]}"#;

/// The loader (text, environment expansion, YAML, schema, model, rules) on any bytes, with
/// secrets in the environment: it never panics, and what `agw serve` logs of its findings
/// never shows a secret.
pub fn config(data: &[u8]) {
    let env = EnvOptions {
        overrides: [
            ("AGW_SECRET", SECRET),
            ("OKTA_CLIENT_SECRET", SECRET),
            ("MODE", "strict"),
            ("PORT", "3000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        use_process_env: false,
        allow_unset: true,
    };
    let opts = CheckOptions {
        env,
        ..Default::default()
    };
    let loaded = check_bytes("fuzz.yaml", data.to_vec(), &opts);
    // The text as written may be shown; a value only the environment holds may not, in any
    // format (what `agw serve` logs of a refused reload is the human one).
    let written = memchr::memmem::find(data, SECRET.as_bytes()).is_some();
    let reports = std::slice::from_ref(&loaded.report);
    for shown in [
        crate::diag::human::render(reports, Default::default()),
        crate::diag::json::render(reports, Default::default()),
        crate::diag::sarif::render(reports, Default::default()),
        crate::diag::github::render(reports, Default::default()),
    ] {
        assert!(
            written || !shown.contains(SECRET),
            "a secret in agw's findings:\n{shown}"
        );
    }
    if let Some(cfg) = &loaded.config {
        // The runtime is built from whatever passed the loader.
        let _ = crate::serve::runtime::Runtime::build(cfg, 1, std::path::Path::new("."));
    }
}

fn token_parts() -> &'static (tokio::runtime::Runtime, JwksCache, Policy) {
    static P: OnceLock<(tokio::runtime::Runtime, JwksCache, Policy)> = OnceLock::new();
    P.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let cache = JwksCache::new(
            HttpClient::new(HttpOptions::default()).expect("an HTTP client"),
            CachePolicy::default(),
        );
        let mut p = Policy::new(ISSUER, JwksSource::Inline(Arc::from(JWKS)));
        p.audiences = vec![AUDIENCE.into()];
        (rt, cache, p)
    })
}

/// The token verifier on any bytes (read as `verify-token` reads them): the report and the
/// runtime's fast path decide the same.
pub fn token(data: &[u8]) {
    let (rt, cache, policy) = token_parts();
    let token = String::from_utf8_lossy(data);
    let now = 1_800_000_000;
    let v = rt.block_on(verify_with_cache(&token, policy, cache, now));
    let fast = rt.block_on(accept(&token, policy, cache, now));
    assert_eq!(
        fast.is_ok(),
        v.token_valid && v.requirements_met,
        "accept() and verify() disagree: {fast:?} vs {:?}",
        v.reason
    );
}

/// The configuration the HTTP front serves: an open route, one protected by a token, an MCP
/// route whose target cannot start (no process is ever started), a rewrite and a redirect.
pub fn front_config() -> String {
    format!(
        r#"binds:
- port: 3000
  listeners:
  - routes:
    - name: protected
      matches: [{{path: {{pathPrefix: /p}}}}]
      policies:
        jwtAuth:
          mode: strict
          issuer: {ISSUER}
          audiences: ["{AUDIENCE}"]
          jwks: '{JWKS}'
        directResponse: {{body: protected-body, status: 200}}
    - name: mcp
      matches: [{{path: {{exact: /mcp}}}}]
      policies:
        cors: {{allowOrigins: ["http://app.example"], allowHeaders: [content-type]}}
      backends:
      - mcp:
          targets:
          - name: t
            stdio: {{cmd: /nonexistent/mcp-server}}
    - name: moved
      matches: [{{path: {{pathPrefix: /moved}}}}]
      policies:
        requestRedirect: {{path: {{prefix: /new}}}}
    - name: open
      policies:
        localRateLimit: [{{maxTokens: 1000000, tokensPerFill: 1000000, fillInterval: 1s}}]
        directResponse: {{body: open-body, status: 200}}
"#
    )
}

fn front() -> &'static (tokio::runtime::Runtime, crate::serve::Front) {
    static F: OnceLock<(tokio::runtime::Runtime, crate::serve::Front)> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let loaded = check_bytes(
            "front.yaml",
            front_config().into_bytes(),
            &CheckOptions::default(),
        );
        assert!(
            !loaded.has_errors(),
            "the front's configuration does not pass check"
        );
        let cfg = loaded.config.expect("a model");
        let limits = crate::serve::Limits {
            header_read_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(200),
            body_timeout: Duration::from_millis(200),
            max_body_bytes: 64 * 1024,
            ..Default::default()
        };
        let f = rt
            .block_on(async { crate::serve::Front::new(&cfg, limits, std::path::Path::new(".")) })
            .expect("the front starts");
        (rt, f)
    })
}

/// A token the seeds carry: the protected route may answer only a request that has it.
pub const GOOD_TOKEN_SIGNATURE: &str =
    "mmDli-k3GODO59ZT0PY0FCDsEIbWKvRTMpeYfql2nBcxl-_ftvjfqR3XqJM5cLiu4n7VuFprXn8EOt3PVHWIOw";

/// The HTTP front (HTTP/1 and HTTP/2, routing, CORS, authentication, the MCP endpoint) on one
/// connection carrying any bytes: it never panics nor hangs, and the protected route never
/// answers without the seeds' valid token. Returns what the server wrote.
pub fn http_front(data: &[u8]) -> Vec<u8> {
    http_front_with(data, Duration::from_millis(5))
}

/// [`http_front`], waiting up to `quiet` for more of the answer before closing.
pub fn http_front_with(data: &[u8], quiet: Duration) -> Vec<u8> {
    let (rt, f) = front();
    let out = rt.block_on(f.exchange(data, quiet, Duration::from_secs(2)));
    let h2 = data.starts_with(b"PRI * HTTP/2.0");
    if !h2 && memchr::memmem::find(&out, b"protected-body").is_some() {
        assert!(
            memchr::memmem::find(data, GOOD_TOKEN_SIGNATURE.as_bytes()).is_some(),
            "the protected route answered without the token"
        );
    }
    out
}
