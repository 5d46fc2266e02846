//! Token verification as the gateway does it, and a little further (SPEC §5): every check gets a
//! line with its outcome, the expected and the actual value, and the verdict names the check that
//! decided.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::jws::{self, Compact, FormatError, SignatureError, IGNORED_KEY_HEADERS};
use crate::config::policy::auth::AuthMode;
use crate::oidc::{JwksCache, JwksError, JwksSource, KeyHit};

/// What a route requires of a token.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Compared with `iss` exactly.
    pub issuer: String,
    /// Accepted `aud` values; empty: the audience is not checked.
    pub audiences: Vec<String>,
    pub jwks: JwksSource,
    /// The JWKS location was derived from the issuer (no `jwks:` in the config).
    pub jwks_derived: bool,
    /// Claims that must be present (`jwtValidationOptions.requiredClaims`, default `[exp]`).
    pub required_claims: Vec<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    pub mode: AuthMode,
    /// `resourceMetadata.scopesSupported`, for comparison only.
    pub scopes_supported: Vec<String>,
    /// Scopes the user asked agw to enforce (`--require-scope`); the gateway enforces none.
    pub required_scopes: Vec<String>,
    pub max_token_bytes: usize,
    /// Where the policy comes from, for the report (`mcpAuthentication at /binds/0/...`).
    pub origin: String,
}

impl Policy {
    /// A policy with the gateway's defaults: `exp` required, 60 s leeway, strict.
    pub fn new(issuer: impl Into<String>, jwks: JwksSource) -> Self {
        Policy {
            issuer: issuer.into(),
            audiences: Vec::new(),
            jwks,
            jwks_derived: false,
            required_claims: vec!["exp".into()],
            leeway: Duration::from_secs(60),
            mode: AuthMode::Strict,
            scopes_supported: Vec::new(),
            required_scopes: Vec::new(),
            max_token_bytes: jws::MAX_TOKEN_BYTES,
            origin: String::new(),
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    Note,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    /// What the policy wants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the token has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// One sentence for people.
    pub message: String,
    /// Lower decides first when several checks fail.
    #[serde(skip)]
    pub rank: u8,
}

/// Everything agw found out about a token.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The first characters of the token, never the whole of it.
    pub token_prefix: String,
    pub token_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    pub checks: Vec<Check>,
    /// The signature verified with a key of the configured set.
    pub signature_verified: bool,
    /// Every check the gateway makes passed.
    pub token_valid: bool,
    /// The gateway would let the request through (the mode applied to validity).
    pub gateway_accepts: bool,
    /// The checks agw adds on request (`--require-scope`) passed.
    pub requirements_met: bool,
    /// agw could not decide (the key set could not be fetched or was refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecided: Option<String>,
    /// The check that decided a rejection, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<(String, String)>,
    /// Where the key came from, when one was found.
    #[serde(skip)]
    pub key: Option<KeyHit>,
    /// The clock used, in seconds since the epoch.
    pub now: i64,
}

impl Verdict {
    /// The claims as the gateway binds them to `jwt.*`: only for a valid token.
    pub fn authz_claims(&self) -> Option<&Map<String, Value>> {
        if self.token_valid {
            self.claims.as_ref()
        } else {
            None
        }
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Shows at most the first 12 characters of a token.
pub fn token_prefix(token: &str) -> String {
    let prefix: String = token.chars().take(12).collect();
    if token.chars().count() > 12 {
        format!("{prefix}…")
    } else {
        prefix
    }
}

struct Builder {
    checks: Vec<Check>,
}

impl Builder {
    fn push(
        &mut self,
        rank: u8,
        name: &'static str,
        outcome: Outcome,
        expected: Option<String>,
        actual: Option<String>,
        message: impl Into<String>,
    ) {
        self.checks.push(Check {
            name,
            outcome,
            expected,
            actual,
            message: message.into(),
            rank,
        });
    }
}

/// Verifies `token` against `policy`, with the JWKS cache resolving the key.
pub async fn verify_with_cache(
    token: &str,
    policy: &Policy,
    cache: &JwksCache,
    now: i64,
) -> Verdict {
    let token = token.trim();
    let parsed = jws::parse_compact(token, policy.max_token_bytes);
    let kid = parsed
        .as_ref()
        .ok()
        .and_then(|c| c.header.get("kid"))
        .and_then(Value::as_str);
    let mut resolved = match kid {
        Some(k) => Some(cache.key_for(&policy.jwks, k).await),
        None => None,
    };
    verify_parsed(token, parsed, policy, now, &mut |kid| {
        resolved.take().unwrap_or_else(|| {
            Err(JwksError::UnknownKid {
                kid: kid.to_string(),
                source_name: policy.jwks.to_string(),
                known: Vec::new(),
                refetched: false,
                retry_in: None,
            })
        })
    })
}

/// The `kid` of a token's header, if it parses (only the header segment is decoded).
pub fn peek_kid(token: &str, max: usize) -> Option<String> {
    use base64::Engine;
    let token = token.trim();
    if token.len() > max {
        return None;
    }
    let h = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .ok()?;
    #[derive(serde::Deserialize)]
    struct Kid {
        kid: Option<String>,
    }
    serde_json::from_slice::<Kid>(&bytes).ok()?.kid
}

/// Verifies `token` against `policy` at time `now` (seconds since the epoch). `resolve` is
/// called at most once, with the token's `kid`.
pub fn verify(
    token: &str,
    policy: &Policy,
    now: i64,
    resolve: &mut dyn FnMut(&str) -> Result<KeyHit, JwksError>,
) -> Verdict {
    let token = token.trim();
    verify_parsed(
        token,
        jws::parse_compact(token, policy.max_token_bytes),
        policy,
        now,
        resolve,
    )
}

fn verify_parsed(
    token: &str,
    parsed: Result<Compact<'_>, FormatError>,
    policy: &Policy,
    now: i64,
    resolve: &mut dyn FnMut(&str) -> Result<KeyHit, JwksError>,
) -> Verdict {
    let mut b = Builder {
        checks: Vec::with_capacity(16),
    };
    let mut v = Verdict {
        token_prefix: token_prefix(token),
        token_bytes: token.len(),
        header: None,
        claims: None,
        checks: Vec::new(),
        signature_verified: false,
        token_valid: false,
        gateway_accepts: false,
        requirements_met: true,
        undecided: None,
        reason: None,
        key: None,
        now,
    };
    let compact = match parsed {
        Ok(c) => Some(c),
        Err(e) => {
            let missing = e == FormatError::Empty;
            let (header, claims) = jws::decode_for_display(token);
            let unsigned = header
                .as_ref()
                .and_then(|h| h.get("alg"))
                .and_then(Value::as_str)
                .is_some_and(|a| a.eq_ignore_ascii_case("none"));
            let message = if unsigned {
                format!("{e}: the token is unsigned (`alg: none`); never accepted")
            } else {
                e.to_string()
            };
            b.push(
                0,
                "format",
                Outcome::Fail,
                Some("header.payload.signature".into()),
                None,
                message,
            );
            v.header = header;
            v.claims = claims;
            if missing {
                // No token at all: the mode decides.
                v.checks = b.checks;
                finish(&mut v, policy, true);
                return v;
            }
            None
        }
    };
    if let Some(mut c) = compact {
        b.push(
            0,
            "format",
            Outcome::Pass,
            None,
            None,
            format!("compact JWS, {} bytes", token.len()),
        );
        inspect_header(&mut b, &c.header);
        check_signature(&mut b, &mut v, &c, policy, resolve);
        v.header = Some(std::mem::take(&mut c.header));
        match jws::object_without_duplicates(&c.payload) {
            Ok(claims) => {
                check_claims(&mut b, &claims, policy, now);
                v.claims = Some(claims);
            }
            Err(e) => b.push(
                1,
                "claims",
                Outcome::Fail,
                Some("a JSON object".into()),
                None,
                format!("the payload is not a JSON object of claims: {e}"),
            ),
        }
    }
    v.checks = b.checks;
    finish(&mut v, policy, false);
    v
}

fn inspect_header(b: &mut Builder, header: &Map<String, Value>) {
    if let Some(crit) = header.get("crit") {
        b.push(
            1,
            "header",
            Outcome::Fail,
            Some("no `crit`".into()),
            Some(crit.to_string()),
            format!(
                "the header marks {crit} as critical; agw understands no critical extensions, so \
                 it must reject the token (RFC 7515 §4.1.11)"
            ),
        );
    }
    for name in IGNORED_KEY_HEADERS {
        if let Some(val) = header.get(*name) {
            let shown = match val {
                Value::String(s) => s.chars().take(60).collect::<String>(),
                Value::Object(_) => "an embedded key".into(),
                Value::Array(a) => format!("{} certificate(s)", a.len()),
                other => other.to_string(),
            };
            b.push(
                9,
                "header",
                Outcome::Note,
                None,
                Some(format!("{name}: {shown}")),
                format!(
                    "`{name}` ignored: keys come only from the configured JWKS, never from the token"
                ),
            );
        }
    }
}

fn check_signature(
    b: &mut Builder,
    v: &mut Verdict,
    c: &Compact<'_>,
    policy: &Policy,
    resolve: &mut dyn FnMut(&str) -> Result<KeyHit, JwksError>,
) {
    // The header's algorithm on its own: `none` and HMAC are refused whatever the key.
    let header_alg = jws::header_algorithm(&c.header);
    let hit = header_kid(b, c).and_then(|kid| find_key(b, v, policy, &kid, resolve));
    check_algorithm(b, c, &header_alg, hit.as_ref());
    match (&header_alg, &hit) {
        (Ok(_), Some(hit)) => check_key_signature(b, v, c, hit),
        _ => b.push(
            5,
            "signature",
            Outcome::Skip,
            None,
            None,
            "not checked: no usable key and algorithm",
        ),
    }
    v.key = hit;
}

/// The header's `kid`, which chooses the key.
fn header_kid(b: &mut Builder, c: &Compact<'_>) -> Option<String> {
    match c.header.get("kid") {
        Some(Value::String(k)) => Some(k.clone()),
        Some(other) => {
            b.push(
                3,
                "key",
                Outcome::Fail,
                Some("a string `kid`".into()),
                Some(other.to_string()),
                "the header's `kid` is not a string",
            );
            None
        }
        None => {
            b.push(
                3,
                "key",
                Outcome::Fail,
                Some("a `kid` in the header".into()),
                Some("none".into()),
                "the token header has no `kid`; the gateway requires one to choose the key",
            );
            None
        }
    }
}

/// The key of `kid` in the route's JWKS.
fn find_key(
    b: &mut Builder,
    v: &mut Verdict,
    policy: &Policy,
    kid: &str,
    resolve: &mut dyn FnMut(&str) -> Result<KeyHit, JwksError>,
) -> Option<KeyHit> {
    match resolve(kid) {
        Ok(hit) => {
            let msg = key_found(&hit, policy, kid);
            b.push(3, "key", Outcome::Pass, None, Some(kid.to_string()), msg);
            Some(hit)
        }
        Err(e) => {
            let rank = if e.is_token_fault() { 3 } else { 2 };
            if !e.is_token_fault() {
                v.undecided = Some(e.to_string());
            }
            b.push(
                rank,
                "key",
                Outcome::Fail,
                Some(format!("a key of {}", policy.jwks)),
                Some(kid.to_string()),
                e.to_string(),
            );
            None
        }
    }
}

/// Where the key of `kid` was found, and how fresh the set is.
fn key_found(hit: &KeyHit, policy: &Policy, kid: &str) -> String {
    let age = hit.snapshot.info.fetched_at.elapsed().unwrap_or_default();
    let mut msg = format!(
        "kid {kid} ({}) found in {}",
        hit.key.key_type, hit.snapshot.info.source
    );
    if matches!(hit.snapshot.info.source, JwksSource::Url(_)) {
        if age.as_secs() >= 1 {
            msg.push_str(&format!(" (cached {} ago)", human_duration(age.as_secs())));
        } else {
            msg.push_str(&format!(
                " (fetched in {} ms)",
                hit.snapshot.info.elapsed.as_millis()
            ));
        }
    }
    if hit.refetched {
        msg.push_str("; the kid was unknown, so the JWKS was fetched again and it is there now (key rotation)");
    }
    if policy.jwks_derived {
        msg.push_str("; the JWKS location was derived from the issuer");
    }
    msg
}

/// The token's algorithm: allowed at all, and allowed by the key.
fn check_algorithm(
    b: &mut Builder,
    c: &Compact<'_>,
    header_alg: &Result<jsonwebtoken::Algorithm, SignatureError>,
    hit: Option<&KeyHit>,
) {
    match (header_alg, hit) {
        (Err(e), _) => b.push(
            2,
            "algorithm",
            Outcome::Fail,
            Some("RS*/PS*/ES256/ES384/EdDSA".into()),
            c.header.get("alg").map(|a| a.to_string()),
            e.to_string(),
        ),
        (Ok(alg), None) => b.push(
            4,
            "algorithm",
            Outcome::Skip,
            None,
            Some(format!("{alg:?}")),
            format!("{alg:?}; no key to pin it"),
        ),
        (Ok(_), Some(hit)) => match jws::pinned_algorithm(&c.header, &hit.key) {
            Ok(alg) => b.push(
                4,
                "algorithm",
                Outcome::Pass,
                None,
                Some(format!("{alg:?}")),
                if hit.key.alg.is_some() {
                    format!("{alg:?}, pinned by the key's `alg`")
                } else {
                    format!("{alg:?}, allowed by the key type ({})", hit.key.key_type)
                },
            ),
            Err(e) => b.push(
                4,
                "algorithm",
                Outcome::Fail,
                Some(
                    hit.key
                        .allowed_algorithms()
                        .iter()
                        .map(|a| format!("{a:?}"))
                        .collect::<Vec<_>>()
                        .join("|"),
                ),
                c.header.get("alg").map(|a| a.to_string()),
                e.to_string(),
            ),
        },
    }
}

/// The signature, checked with the key found.
fn check_key_signature(b: &mut Builder, v: &mut Verdict, c: &Compact<'_>, hit: &KeyHit) {
    match jws::verify_signature(c, &hit.key) {
        Ok(_) => {
            v.signature_verified = true;
            b.push(5, "signature", Outcome::Pass, None, None, "valid");
        }
        Err(SignatureError::AlgNotAllowed { .. }) => b.push(
            5,
            "signature",
            Outcome::Skip,
            None,
            None,
            "not checked: the algorithm is not allowed",
        ),
        Err(e) => b.push(5, "signature", Outcome::Fail, None, None, e.to_string()),
    }
}
/// Reads a NumericDate (seconds; fractions allowed).
fn numeric_date(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
}

/// What one claim check decides, without words: the fast path ([`accept`]) stops at the first
/// `Fail`, the report ([`check_claims`]) puts each decision into a line.
type Decide = fn(&Map<String, Value>, &Policy, i64) -> Outcome;

/// The words for a decision: what the route wants, what the token has, and the line's text.
type Describe = fn(Outcome, &Map<String, Value>, &Policy, i64) -> Described;
type Described = (Option<String>, Option<String>, String);

/// Every claim check, in the order of the report (with its rank there): its name, its decision
/// and its words. Both [`verify`] and [`accept`] read this table, so they cannot disagree.
const CLAIM_CHECKS: [(u8, &str, Decide, Describe); 7] = [
    (6, "issuer", decide_issuer, describe_issuer),
    (7, "audience", decide_audience, describe_audience),
    (8, "expiry", decide_expiry, describe_expiry),
    (9, "not-before", decide_not_before, describe_not_before),
    (10, "issued-at", decide_issued_at, describe_issued_at),
    (11, "required", decide_required, describe_required),
    (12, "scopes", decide_scopes, describe_scopes),
];

fn check_claims(b: &mut Builder, claims: &Map<String, Value>, policy: &Policy, now: i64) {
    for (rank, name, decide, describe) in CLAIM_CHECKS {
        let outcome = decide(claims, policy, now);
        let (expected, actual, message) = describe(outcome, claims, policy, now);
        b.push(rank, name, outcome, expected, actual, message);
    }
}

fn leeway(policy: &Policy) -> i64 {
    policy.leeway.as_secs() as i64
}

fn pass_or_fail(ok: bool) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

fn decide_issuer(claims: &Map<String, Value>, policy: &Policy, _: i64) -> Outcome {
    pass_or_fail(claims.get("iss").and_then(Value::as_str) == Some(policy.issuer.as_str()))
}

fn describe_issuer(_: Outcome, claims: &Map<String, Value>, policy: &Policy, _: i64) -> Described {
    let want = Some(policy.issuer.clone());
    match claims.get("iss") {
        Some(Value::String(iss)) if *iss == policy.issuer => (want, Some(iss.clone()), iss.clone()),
        Some(Value::String(iss)) => {
            let hint = if iss.trim_end_matches('/') == policy.issuer.trim_end_matches('/') {
                " (they differ only in a trailing `/`, which matters)"
            } else {
                ""
            };
            let msg = format!("token has {iss}; route expects {}{hint}", policy.issuer);
            (want, Some(iss.clone()), msg)
        }
        other => {
            let what = if other.is_some() {
                "a non-string `iss`"
            } else {
                "no `iss`"
            };
            let msg = format!("the token has {what}; route expects {}", policy.issuer);
            (want, other.map(|v| v.to_string()), msg)
        }
    }
}

/// The token's audiences: `aud` as a string or a list (of which strings count).
fn token_audiences(claims: &Map<String, Value>) -> Option<Vec<String>> {
    match claims.get("aud") {
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

fn decide_audience(claims: &Map<String, Value>, policy: &Policy, _: i64) -> Outcome {
    if policy.audiences.is_empty() {
        return Outcome::Skip;
    }
    pass_or_fail(
        token_audiences(claims)
            .is_some_and(|auds| auds.iter().any(|a| policy.audiences.contains(a))),
    )
}

fn describe_audience(
    outcome: Outcome,
    claims: &Map<String, Value>,
    policy: &Policy,
    _: i64,
) -> Described {
    let shown = token_audiences(claims).map(|a| format!("[{}]", a.join(", ")));
    if outcome == Outcome::Skip {
        let msg = format!(
            "not checked: the route lists no audiences (token has {}); tokens minted for any \
             API of this issuer pass",
            shown.as_deref().unwrap_or("none")
        );
        return (None, shown, msg);
    }
    let want = format!("[{}]", policy.audiences.join(", "));
    let msg = match (&shown, outcome) {
        (Some(s), Outcome::Pass) => {
            format!(
                "token has {s}; route accepts {}",
                format_list(&policy.audiences)
            )
        }
        (Some(s), _) => format!("token has {s}; route accepts {want}"),
        (None, _) => format!("token has no `aud`; route accepts {want}"),
    };
    (Some(want), shown, msg)
}

fn decide_expiry(claims: &Map<String, Value>, policy: &Policy, now: i64) -> Outcome {
    match claims.get("exp") {
        Some(e) => pass_or_fail(numeric_date(e).is_some_and(|exp| exp + leeway(policy) >= now)),
        None if policy.required_claims.iter().any(|c| c == "exp") => Outcome::Fail,
        None => Outcome::Skip,
    }
}

fn describe_expiry(
    outcome: Outcome,
    claims: &Map<String, Value>,
    policy: &Policy,
    now: i64,
) -> Described {
    let leeway = leeway(policy);
    let exp = match claim_date(claims, "exp") {
        Ok(exp) => exp,
        Err(described) => return described,
    };
    let Some(exp) = exp else {
        return if outcome == Outcome::Fail {
            let msg = "the token has no `exp`, which is required (the token would never expire)";
            (Some("an `exp` claim".into()), None, msg.into())
        } else {
            (
                None,
                None,
                "no `exp` claim (not required by this route)".into(),
            )
        };
    };
    let msg = if outcome == Outcome::Fail {
        let msg = format!(
            "expired {} ago (leeway {leeway}s)",
            human_duration((now - exp) as u64)
        );
        return (
            Some(format!("exp >= now - {leeway}s")),
            Some(exp.to_string()),
            msg,
        );
    } else if exp >= now {
        format!(
            "valid for {} (leeway {leeway}s)",
            human_duration((exp - now) as u64)
        )
    } else {
        format!(
            "expired {} ago, within the leeway of {leeway}s",
            human_duration((now - exp) as u64)
        )
    };
    (None, Some(exp.to_string()), msg)
}

/// The date of a time claim: `Ok(None)` when the token has none, `Err` with the description of a
/// value that is not a number of seconds.
fn claim_date(claims: &Map<String, Value>, claim: &str) -> Result<Option<i64>, Described> {
    let Some(v) = claims.get(claim) else {
        return Ok(None);
    };
    match numeric_date(v) {
        Some(t) => Ok(Some(t)),
        None => {
            let msg = format!("`{claim}` is not a number of seconds");
            Err((Some("a NumericDate".into()), Some(v.to_string()), msg))
        }
    }
}

/// `nbf` and `iat`: absent, or a date no later than now (with the leeway).
fn decide_not_later(
    claim: &str,
    claims: &Map<String, Value>,
    policy: &Policy,
    now: i64,
) -> Outcome {
    match claims.get(claim) {
        None => Outcome::Skip,
        Some(v) => pass_or_fail(numeric_date(v).is_some_and(|t| t <= now + leeway(policy))),
    }
}

// not-before: the gateway only checks presence; agw checks the time
fn decide_not_before(claims: &Map<String, Value>, policy: &Policy, now: i64) -> Outcome {
    decide_not_later("nbf", claims, policy, now)
}

// issued-at in the future: agw goes further than the gateway
fn decide_issued_at(claims: &Map<String, Value>, policy: &Policy, now: i64) -> Outcome {
    decide_not_later("iat", claims, policy, now)
}

/// The words of a `nbf` or `iat` decision: past, within the leeway, or too far ahead.
struct DateWords {
    claim: &'static str,
    absent: &'static str,
    past: fn(String) -> String,
    ahead_within: fn(String, i64) -> String,
    ahead: fn(String, i64) -> String,
}

fn describe_date(
    w: &DateWords,
    outcome: Outcome,
    claims: &Map<String, Value>,
    policy: &Policy,
    now: i64,
) -> Described {
    let leeway = leeway(policy);
    let t = match claim_date(claims, w.claim) {
        Ok(Some(t)) => t,
        Ok(None) => return (None, None, w.absent.into()),
        Err(described) => return described,
    };
    if outcome == Outcome::Fail {
        let msg = (w.ahead)(human_duration((t - now) as u64), leeway);
        return (
            Some(format!("{} <= now + {leeway}s", w.claim)),
            Some(t.to_string()),
            msg,
        );
    }
    let msg = if t <= now {
        (w.past)(human_duration((now - t) as u64))
    } else {
        (w.ahead_within)(human_duration((t - now) as u64), leeway)
    };
    (None, Some(t.to_string()), msg)
}

const NOT_BEFORE: DateWords = DateWords {
    claim: "nbf",
    absent: "no nbf claim",
    past: |d| format!("valid since {d} ago"),
    ahead_within: |d, l| format!("valid in {d}, within the leeway of {l}s"),
    ahead: |d, l| format!("not valid for another {d} (leeway {l}s)"),
};

const ISSUED_AT: DateWords = DateWords {
    claim: "iat",
    absent: "no iat claim",
    past: |d| format!("issued {d} ago"),
    ahead_within: |d, l| format!("issued {d} in the future, within the leeway of {l}s"),
    ahead: |d, _| format!("issued {d} in the future: the issuer's clock or the token is wrong"),
};

fn describe_not_before(o: Outcome, c: &Map<String, Value>, p: &Policy, now: i64) -> Described {
    describe_date(&NOT_BEFORE, o, c, p, now)
}

fn describe_issued_at(o: Outcome, c: &Map<String, Value>, p: &Policy, now: i64) -> Described {
    describe_date(&ISSUED_AT, o, c, p, now)
}

/// The claims the gateway can require (`jwtValidationOptions.requiredClaims`); others are
/// ignored by it.
const MEANINGFUL: &[&str] = &["exp", "nbf", "aud", "iss", "sub"];

/// The required claims the gateway honours, and those it ignores.
fn required_claims(policy: &Policy) -> (Vec<&str>, Vec<&str>) {
    policy
        .required_claims
        .iter()
        .map(String::as_str)
        .partition(|c| MEANINGFUL.contains(c))
}

fn decide_required(claims: &Map<String, Value>, policy: &Policy, _: i64) -> Outcome {
    let (known, _) = required_claims(policy);
    if known.is_empty() {
        return Outcome::Skip;
    }
    pass_or_fail(known.iter().all(|c| claims.contains_key(*c)))
}

fn describe_required(
    _: Outcome,
    claims: &Map<String, Value>,
    policy: &Policy,
    _: i64,
) -> Described {
    let (known, ignored) = required_claims(policy);
    let missing: Vec<&str> = known
        .iter()
        .copied()
        .filter(|c| !claims.contains_key(*c))
        .collect();
    let mut msg = if missing.is_empty() {
        format!("[{}] present", known.join(", "))
    } else {
        format!("missing {}", missing.join(", "))
    };
    if !ignored.is_empty() {
        msg.push_str(&format!(
            "; [{}] ignored (the gateway honours only exp, nbf, aud, iss, sub)",
            ignored.join(", ")
        ));
    }
    (Some(format!("[{}]", known.join(", "))), None, msg)
}

/// `--require-scope`: every required scope held. Without it, a note: the gateway does not
/// enforce scopes.
fn decide_scopes(claims: &Map<String, Value>, policy: &Policy, _: i64) -> Outcome {
    if policy.required_scopes.is_empty() {
        return Outcome::Note;
    }
    let have = token_scopes(claims).map(|s| s.0).unwrap_or_default();
    pass_or_fail(policy.required_scopes.iter().all(|s| have.contains(s)))
}

fn describe_scopes(
    outcome: Outcome,
    claims: &Map<String, Value>,
    policy: &Policy,
    _: i64,
) -> Described {
    let scopes = token_scopes(claims);
    let shown = match &scopes {
        Some((list, _)) => format_list(list),
        None => "no scp or scope claim".into(),
    };
    if outcome != Outcome::Note {
        let required = format_list(&policy.required_scopes);
        let msg = if outcome == Outcome::Pass {
            format!(
                "token has {shown}; --require-scope {required} satisfied (the gateway itself does not enforce scopes)"
            )
        } else {
            let have = scopes.as_ref().map(|s| s.0.clone()).unwrap_or_default();
            let missing: Vec<&str> = policy
                .required_scopes
                .iter()
                .filter(|s| !have.contains(s))
                .map(String::as_str)
                .collect();
            format!(
                "token has {shown}; --require-scope wants {required} (missing {}); the gateway itself \
                 does not enforce scopes",
                missing.join(", ")
            )
        };
        return (Some(required), Some(shown), msg);
    }
    let example = match (&scopes, policy.scopes_supported.first()) {
        (Some((_, "scope")), Some(s)) => format!("'\"{s}\" in jwt.scope.split(\" \")'"),
        (_, Some(s)) => format!("'\"{s}\" in jwt.scp'"),
        (Some((l, "scope")), None) if !l.is_empty() => {
            format!("'\"{}\" in jwt.scope.split(\" \")'", l[0])
        }
        (Some((l, _)), None) if !l.is_empty() => format!("'\"{}\" in jwt.scp'", l[0]),
        _ => "'\"mcp:tools\" in jwt.scp'".into(),
    };
    let advertised = if policy.scopes_supported.is_empty() {
        "resourceMetadata advertises none".to_string()
    } else {
        let not_held: Vec<&str> = policy
            .scopes_supported
            .iter()
            .filter(|s| !scopes.as_ref().is_some_and(|(l, _)| l.contains(s)))
            .map(String::as_str)
            .collect();
        let mut s = format!(
            "resourceMetadata advertises {}",
            format_list(&policy.scopes_supported)
        );
        if !not_held.is_empty() {
            s.push_str(&format!(" (token lacks {})", not_held.join(", ")));
        }
        s
    };
    let msg = format!(
        "token has {shown}; {advertised}; the gateway does not enforce scopes (use \
         mcpAuthorization, e.g. {example}, or --require-scope to check here)"
    );
    (
        (!policy.scopes_supported.is_empty()).then(|| format_list(&policy.scopes_supported)),
        Some(shown),
        msg,
    )
}

/// The token's scopes: Okta's `scp` (a list) and the standard `scope` (space-separated), with
/// the claim they came from.
pub fn token_scopes(claims: &Map<String, Value>) -> Option<(Vec<String>, &'static str)> {
    let read = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    match (claims.get("scp"), claims.get("scope")) {
        (Some(scp), Some(scope)) => {
            let mut l = read(scp);
            for s in read(scope) {
                if !l.contains(&s) {
                    l.push(s);
                }
            }
            Some((l, "scp"))
        }
        (Some(scp), None) => Some((read(scp), "scp")),
        (None, Some(scope)) => Some((read(scope), "scope")),
        (None, None) => None,
    }
}

fn format_list(l: &[String]) -> String {
    format!("[{}]", l.join(", "))
}

/// `54m12s`, `2h3m`, `3d4h`, `42s`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86400,
        secs % 86400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn finish(v: &mut Verdict, policy: &Policy, missing_token: bool) {
    let failed = |c: &&Check| c.outcome == Outcome::Fail && c.name != "scopes";
    let mut decisive = v.checks.iter().filter(failed).min_by_key(|c| c.rank);
    if v.undecided.is_some() {
        // The key set could not be had, but a check that needs no key (issuer, audience,
        // expiry, format) already fails: the gateway rejects this token whatever its keys say.
        let needs_no_key = |c: &&Check| !matches!(c.name, "key" | "signature" | "algorithm");
        if let Some(c) = v
            .checks
            .iter()
            .filter(failed)
            .filter(needs_no_key)
            .min_by_key(|c| c.rank)
        {
            decisive = Some(c);
            v.undecided = None;
        }
    }
    v.token_valid = !missing_token && decisive.is_none() && v.signature_verified;
    v.requirements_met = !v
        .checks
        .iter()
        .any(|c| c.outcome == Outcome::Fail && c.name == "scopes");
    v.reason = decisive
        .map(|c| (c.name.to_string(), c.message.clone()))
        .or_else(|| {
            (!v.requirements_met).then(|| {
                let c = v.check("scopes").expect("scopes failed");
                (c.name.to_string(), c.message.clone())
            })
        });
    v.gateway_accepts = match policy.mode {
        AuthMode::Strict => v.token_valid,
        AuthMode::Optional => v.token_valid || missing_token,
        AuthMode::Permissive => true,
    };
    let (outcome, msg) = match (policy.mode, v.token_valid, missing_token) {
        (AuthMode::Strict, true, _) => (Outcome::Note, "strict: a valid token is required, and this one is valid".to_string()),
        (AuthMode::Strict, false, true) => (Outcome::Fail, "strict: a request without a token gets 401".to_string()),
        (AuthMode::Strict, false, false) => (Outcome::Note, "strict: an invalid token gets 401".to_string()),
        (AuthMode::Optional, true, _) => (Outcome::Note, "optional: requests without a token also pass (warning: unauthenticated requests reach the server)".to_string()),
        (AuthMode::Optional, false, true) => (Outcome::Note, "optional: a request without a token passes (unauthenticated requests reach the server)".to_string()),
        (AuthMode::Optional, false, false) => (Outcome::Note, "optional: requests without a token pass, but an invalid token gets 401".to_string()),
        (AuthMode::Permissive, valid, _) => (Outcome::Note, format!(
            "permissive: every request passes{}",
            if valid { "; the claims reach authorization rules" } else { ", but without a valid token no claims reach authorization rules" }
        )),
    };
    v.checks.push(Check {
        name: "mode",
        outcome,
        expected: None,
        actual: Some(
            match policy.mode {
                AuthMode::Strict => "strict",
                AuthMode::Optional => "optional",
                AuthMode::Permissive => "permissive",
            }
            .into(),
        ),
        message: msg,
        rank: 20,
    });
    if missing_token && v.reason.is_none() && !v.gateway_accepts {
        v.reason = Some(("format".into(), "no token".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(3252), "54m12s");
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(7380), "2h3m");
        assert_eq!(human_duration(90000), "1d1h");
    }

    #[test]
    fn prefix_never_whole() {
        assert_eq!(token_prefix("eyJhbGciOiJSUzI1NiJ9.x.y"), "eyJhbGciOiJS…");
        assert_eq!(token_prefix("short"), "short");
    }

    #[test]
    fn scopes_from_scp_and_scope() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"scp":["a","b"],"scope":"b c"}"#).unwrap();
        assert_eq!(token_scopes(&m).unwrap().0, vec!["a", "b", "c"]);
        let m: Map<String, Value> = serde_json::from_str(r#"{"scope":"x y"}"#).unwrap();
        assert_eq!(
            token_scopes(&m).unwrap(),
            (vec!["x".into(), "y".into()], "scope")
        );
        assert!(token_scopes(&Map::new()).is_none());
    }
}

/// Why [`accept`] refused a token: the name of the failing check (the same names as
/// [`Verdict::checks`]); [`verify`] says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// The runtime's hot path: the same decision as [`verify`] for a present token (`token_valid`
/// and `requirements_met`), without building the report. Returns the claims of an accepted
/// token. The mode is the caller's business (a missing token, `optional`, `permissive`).
pub async fn accept(
    token: &str,
    policy: &Policy,
    cache: &JwksCache,
    now: i64,
) -> Result<Map<String, Value>, Refused> {
    let token = token.trim();
    let c = jws::parse_compact(token, policy.max_token_bytes).map_err(|_| Refused("format"))?;
    if c.header.contains_key("crit") {
        return Err(Refused("header"));
    }
    jws::header_algorithm(&c.header).map_err(|_| Refused("algorithm"))?;
    let kid = match c.header.get("kid") {
        Some(Value::String(k)) => k,
        _ => return Err(Refused("key")),
    };
    let hit = cache
        .key_for(&policy.jwks, kid)
        .await
        .map_err(|_| Refused("key"))?;
    match jws::verify_signature(&c, &hit.key) {
        Ok(_) => {}
        Err(SignatureError::AlgNotAllowed { .. }) => return Err(Refused("algorithm")),
        Err(_) => return Err(Refused("signature")),
    }
    let claims = jws::object_without_duplicates(&c.payload).map_err(|_| Refused("claims"))?;
    accept_claims(&claims, policy, now)?;
    Ok(claims)
}

/// The claim checks of [`verify`], without the report: the first that fails.
fn accept_claims(claims: &Map<String, Value>, policy: &Policy, now: i64) -> Result<(), Refused> {
    match CLAIM_CHECKS
        .iter()
        .find(|(_, _, decide, _)| decide(claims, policy, now) == Outcome::Fail)
    {
        Some((_, name, _, _)) => Err(Refused(name)),
        None => Ok(()),
    }
}
