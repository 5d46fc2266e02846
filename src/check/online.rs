//! `check --online`: proves that every issuer and key set of a file is reachable and right,
//! before deploy. Every distinct URL is fetched once, concurrently; findings are ordinary
//! diagnostics on the `issuer:` or `url:` line.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::config::okta::is_okta_issuer;
use crate::config::policy::auth::{Jwks, JwtAuth, McpAuthentication};
use crate::config::{walk, Config};
use crate::diag::{Diagnostic, Rule};
use crate::oidc::discovery::{discover, Attempt, AttemptOutcome, Discovery};
use crate::oidc::{CachePolicy, HttpClient, HttpError, JwksCache, JwksError, JwksSource, Snapshot};
use crate::source::{PointerIndex, Span};

crate::rules! {
    ONLINE_DISCOVERY {
        id: "online/discovery",
        severity: Warning,
        summary: "the issuer's discovery document cannot be fetched (`--online`)",
        why: "agw fetches `{issuer}/.well-known/openid-configuration`, then the RFC 8414 `/.well-known/oauth-authorization-server` forms. None answered with metadata: the issuer is unreachable from here (DNS, TLS, refused, timed out), or the URL is not an issuer (for Okta: an authorization server that was never created). MCP clients use this document to find where to get tokens.",
        gateway: "",
        example: "issuer: https://acme.okta.com/oauth2/mcp-server   # never created in Okta",
        use_instead: "issuer: https://acme.okta.com/oauth2/default",
    }

    ONLINE_ISSUER_MISMATCH {
        id: "online/issuer-mismatch",
        severity: Error,
        summary: "the discovery document names a different issuer (`--online`)",
        why: "Tokens carry the issuer the authorization server announces in its discovery document. When that differs from the configured one, even by a trailing `/`, every token is rejected. Configure the issuer exactly as the discovery document gives it.",
        gateway: "The gateway requires the token's `iss` claim and compares it with the configured issuer as an exact string (agentgateway `crates/agentgateway/src/http/jwt.rs`, `Provider::from_jwks`, which sets the validation's issuer).",
        example: "issuer: https://acme.okta.com/oauth2/default/",
        use_instead: "issuer: https://acme.okta.com/oauth2/default",
    }

    ONLINE_JWKS {
        id: "online/jwks",
        severity: Error,
        summary: "the key set the gateway will use cannot be fetched or used (`--online`)",
        why: "The gateway verifies every token with the JWKS. agw fetched it: it was unreachable, answered an error or an HTML page, was not a JWKS, or had no usable key, so every token would be rejected. For Okta, keys live at `{issuer}/v1/keys`.",
        gateway: "The gateway loads the key set of `jwks`, or, for `mcpAuthentication` without `jwks`, from a URL derived from the issuer and `provider`: `{issuer}/.well-known/jwks.json` without a provider and for Auth0 and Okta, `{issuer}/protocol/openid-connect/certs` for Keycloak, `{issuer}/jwks/` for Authentik (agentgateway `crates/agentgateway/src/types/agent.rs`, `LocalMcpAuthentication::derived_jwks_url`; `crates/agentgateway/src/http/jwt.rs`, `LocalJwtConfig::try_into`).",
        example: "issuer: https://acme.okta.com/oauth2/default   # no jwks: the derived URL is not served by Okta",
        use_instead: "issuer: https://acme.okta.com/oauth2/default\njwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys",
    }

    ONLINE_JWKS_KEY {
        id: "online/jwks-key",
        severity: Warning,
        summary: "a key of the JWKS cannot verify tokens (`--online`)",
        why: "The key set has a key the gateway cannot use (an unsupported key type or curve, a malformed key, an RSA key under 2048 bits). Tokens signed with it will be rejected, and some of these make the gateway refuse the whole key set. Remove the key, or rotate to a supported one (RSA 2048+, P-256/P-384, Ed25519).",
        gateway: "The gateway builds a decoding key for every key of the set and refuses the whole set when one has no `kid` (\"the key is missing the `kid` attribute\"), an unsupported type (\"uses an unsupported algorithm ... (supported: RSA, EC, OKP[Ed25519])\"), an unsupported OKP curve, or components that do not decode (agentgateway `crates/agentgateway/src/http/jwt.rs`, `Provider::from_jwks`).",
        example: "",
        use_instead: "",
    }

    ONLINE_JWKS_DIFFERS {
        id: "online/jwks-differs",
        severity: Warning,
        summary: "the configured JWKS URL differs from the issuer's `jwks_uri` (`--online`)",
        why: "The issuer's discovery document names where its keys are. A different configured URL works only while it serves the same keys; after a key rotation it may not. Use the issuer's `jwks_uri`.",
        gateway: "",
        example: "jwks:\n  url: https://keys-mirror.example.com/jwks.json",
        use_instead: "jwks:\n  url: https://acme.okta.com/oauth2/default/v1/keys",
    }

    ONLINE_SCOPE_UNKNOWN {
        id: "online/scope-unknown",
        severity: Warning,
        summary: "a scope in `resourceMetadata.scopesSupported` is unknown to the issuer (`--online`)",
        why: "MCP clients read `scopes_supported` from the protected resource metadata and ask the authorization server for those scopes. A scope the server does not know makes the token request fail (Okta answers `invalid_scope`).",
        gateway: "",
        example: "scopesSupported: [agentgateway]   # scope not created in Okta",
        use_instead: "scopesSupported: [agentgateway]   # after adding the scope to the authorization server",
    }

    ONLINE_OK {
        id: "online/ok",
        severity: Note,
        summary: "the issuer and its keys were reached (`--online`)",
        why: "A summary of what `--online` verified for an issuer: how fast discovery answered and which keys the JWKS holds.",
        gateway: "",
        example: "",
        use_instead: "",
    }
}

/// One place of the file that names an issuer.
#[derive(Debug, Clone)]
struct AuthSite {
    /// Pointer of the `mcpAuthentication`/`jwtAuth` (or provider) object.
    ptr: String,
    issuer: String,
    keys: SiteKeys,
    /// An Okta authorization server (by host or `provider: okta`), for Okta-specific hints.
    okta: bool,
    scopes: Vec<String>,
}

/// Where a site's keys are, as far as the network is concerned.
#[derive(Debug, Clone)]
enum SiteKeys {
    /// `jwks.url`.
    Configured(String),
    /// No `jwks`: the URL the gateway derives from the issuer and `provider`.
    Derived(String),
    /// A file or inline key set (checked offline), or no URL the gateway can derive (refused
    /// offline): nothing to fetch.
    Offline,
}

impl AuthSite {
    fn jwks_target(&self) -> Option<&str> {
        match &self.keys {
            SiteKeys::Configured(u) | SiteKeys::Derived(u) => Some(u),
            SiteKeys::Offline => None,
        }
    }

    fn jwks_configured(&self) -> bool {
        matches!(self.keys, SiteKeys::Configured(_))
    }
}

/// What every distinct URL of a run answered.
pub struct Probes {
    discoveries: HashMap<String, Result<Discovery, Vec<Attempt>>>,
    jwks: HashMap<String, Result<Snapshot, JwksError>>,
}

/// The sites of every file, so that URLs shared between files are fetched once.
pub fn urls(cfgs: &[&Config]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut issuers = BTreeSet::new();
    let mut jwks = BTreeSet::new();
    for cfg in cfgs {
        for s in sites(cfg) {
            if let Some(t) = s.jwks_target() {
                jwks.insert(t.to_string());
            }
            issuers.insert(s.issuer);
        }
    }
    (issuers, jwks)
}

/// Fetches every issuer's discovery document and every key set, all at once.
pub async fn probe(
    client: &HttpClient,
    issuers: BTreeSet<String>,
    jwks: BTreeSet<String>,
) -> Probes {
    let cache = JwksCache::new(client.clone(), CachePolicy::default());
    let discoveries = futures_join(issuers.into_iter().map(|i| {
        let client = client.clone();
        async move {
            let d = discover(&client, &i).await;
            (i, d)
        }
    }))
    .await;
    let mut probes = Probes {
        discoveries: discoveries.into_iter().collect(),
        jwks: HashMap::new(),
    };
    // The key sets the discovery documents recommend are probed too, to compare.
    let mut all_jwks = jwks;
    for d in probes.discoveries.values().flatten() {
        if let Some(u) = &d.jwks_uri {
            all_jwks.insert(u.clone());
        }
    }
    let cache = Arc::new(cache);
    let sets = futures_join(all_jwks.into_iter().map(|u| {
        let cache = cache.clone();
        async move {
            let r = cache.load(&JwksSource::Url(u.clone())).await;
            (u, r)
        }
    }))
    .await;
    probes.jwks = sets.into_iter().collect();
    probes
}

async fn futures_join<T: Send + 'static>(
    futs: impl Iterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

/// The diagnostics of one file, from the run's probes.
pub fn diagnose(cfg: &Config, index: &PointerIndex, probes: &Probes) -> Vec<Diagnostic> {
    let at = |ptr: &str| index.lookup(ptr).map(|s| s.value).unwrap_or_default();
    let mut out = Vec::new();
    let mut reported_issuers = std::collections::HashSet::new();
    for site in sites(cfg) {
        let issuer_span = at(&format!("{}/issuer", site.ptr));
        let disc = probes.discoveries.get(&site.issuer);
        // One report per issuer and file; later sites repeat the same facts.
        let first = reported_issuers.insert(site.issuer.clone());
        let discovery = match disc {
            Some(Ok(d)) => Some(d),
            Some(Err(attempts)) => {
                if first {
                    out.push(discovery_failed(&site, issuer_span, attempts));
                }
                None
            }
            None => None,
        };
        if let (Some(d), true) = (discovery, first) {
            if let Some(found) = &d.issuer {
                if found != &site.issuer {
                    out.push(issuer_mismatch(&site.issuer, found, issuer_span, d));
                }
            }
            out.extend(scopes(&site, d, index));
        }
        // The key set the gateway will use.
        let Some(target) = site.jwks_target() else {
            continue;
        };
        let jwks_span = if site.jwks_configured() {
            at(&format!("{}/jwks/url", site.ptr))
        } else {
            issuer_span
        };
        match probes.jwks.get(target) {
            Some(Ok(snap)) => {
                out.extend(unusable_keys(target, snap, jwks_span));
                if let Some(d) = discovery {
                    if let Some(rec) = &d.jwks_uri {
                        if rec != target && site.jwks_configured() {
                            out.push(
                                Diagnostic::new(
                                    &ONLINE_JWKS_DIFFERS,
                                    "the configured JWKS URL is not the one the issuer publishes",
                                )
                                .at(jwks_span, "configured")
                                .note(format!("configured: {target}"))
                                .note(format!("discovery says: {rec}"))
                                .help(format!(
                                    "unless you mirror the keys on purpose, use `url: {rec}`"
                                )),
                            );
                        }
                    }
                }
                if first {
                    out.push(ok_note(&site, discovery, target, snap, issuer_span));
                }
            }
            Some(Err(e)) => out.push(jwks_failed(&site, target, e, jwks_span, discovery, probes)),
            None => {}
        }
    }
    out
}

fn sites(cfg: &Config) -> Vec<AuthSite> {
    let mut out = Vec::new();
    for ps in walk::route_policies(cfg) {
        if let Some(a) = &ps.policies.mcp_authentication {
            out.push(mcp_site(format!("{}/mcpAuthentication", ps.ptr), a));
        }
        if let Some(j) = &ps.policies.jwt_auth {
            jwt_sites(format!("{}/jwtAuth", ps.ptr), j, &mut out);
        }
    }
    for (bi, b) in cfg.binds.iter().enumerate() {
        for (li, l) in b.listeners.iter().enumerate() {
            if let Some(j) = l.policies.as_ref().and_then(|p| p.jwt_auth.as_ref()) {
                jwt_sites(
                    format!("/binds/{bi}/listeners/{li}/policies/jwtAuth"),
                    j,
                    &mut out,
                );
            }
        }
    }
    // Only URLs can be probed; file and inline key sets are checked offline.
    out.retain(|s| s.issuer.starts_with("http://") || s.issuer.starts_with("https://"));
    out
}

/// The keys of a site; `derived` is the URL the gateway derives when `jwks` is omitted.
fn site_keys(j: Option<&Jwks>, derived: impl FnOnce() -> Option<String>) -> SiteKeys {
    match j {
        None => derived().map_or(SiteKeys::Offline, SiteKeys::Derived),
        Some(Jwks::Url(u)) => SiteKeys::Configured(u.url.clone()),
        Some(_) => SiteKeys::Offline,
    }
}

fn mcp_site(ptr: String, a: &McpAuthentication) -> AuthSite {
    let scopes = a
        .resource_metadata
        .as_ref()
        .map(|m| m.scopes_supported())
        .unwrap_or_default();
    AuthSite {
        ptr,
        issuer: a.issuer.clone(),
        // A file or inline key set is not fetched: probe only the issuer then.
        keys: site_keys(a.jwks.as_ref(), || a.derived_jwks_url().ok()),
        okta: is_okta_issuer(&a.issuer, a.provider.as_ref()),
        scopes,
    }
}

fn jwt_sites(ptr: String, j: &JwtAuth, out: &mut Vec<AuthSite>) {
    let mut push = |ptr: String, issuer: &str, jwks: Option<&Jwks>| {
        // `jwtAuth` derives no URL: the schema requires its `jwks`
        let keys = site_keys(jwks, || None);
        if !matches!(keys, SiteKeys::Offline) {
            out.push(AuthSite {
                ptr,
                issuer: issuer.to_string(),
                keys,
                okta: is_okta_issuer(issuer, None),
                scopes: Vec::new(),
            });
        }
    };
    if let Some(i) = &j.issuer {
        push(ptr.clone(), i, j.jwks.as_ref());
    }
    for (pi, p) in j.providers.iter().flatten().enumerate() {
        push(format!("{ptr}/providers/{pi}"), &p.issuer, Some(&p.jwks));
    }
}

/// The network stage over checked files: every distinct issuer and key set of every file,
/// fetched once, all at the same time; each file gets the findings about what it names.
pub fn run(
    loaded: &mut [crate::check::Loaded],
    opts: &crate::check::CheckOptions,
    http: crate::oidc::HttpOptions,
) -> Result<(), String> {
    let client = crate::oidc::HttpClient::new(http).map_err(|e| e.to_string())?;
    let cfgs: Vec<&Config> = loaded.iter().filter_map(|l| l.config.as_ref()).collect();
    let (issuers, jwks) = urls(&cfgs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    let probes = rt.block_on(probe(&client, issuers, jwks));
    for l in loaded.iter_mut() {
        if let Some(cfg) = &l.config {
            let found = diagnose(cfg, &l.index, &probes);
            l.extend(found, opts);
        }
    }
    Ok(())
}

/// Whether the network finding `online` is the same problem as the static finding `offline`
/// (on the same line), told with evidence, so that only the network one is shown.
pub fn supersedes(online: &Rule, offline: &Rule) -> bool {
    use crate::check::rules::auth0::AUTH0_ISSUER_TRAILING_SLASH;
    use crate::check::rules::okta::{OKTA_ISSUER_TRAILING_SLASH, OKTA_JWKS_DERIVED, OKTA_JWKS_URL};
    let same: &[(&Rule, &[&Rule])] = &[
        (
            &ONLINE_ISSUER_MISMATCH,
            &[&OKTA_ISSUER_TRAILING_SLASH, &AUTH0_ISSUER_TRAILING_SLASH],
        ),
        (&ONLINE_JWKS, &[&OKTA_JWKS_DERIVED, &OKTA_JWKS_URL]),
        (&ONLINE_JWKS_DIFFERS, &[&OKTA_JWKS_DERIVED, &OKTA_JWKS_URL]),
    ];
    same.iter()
        .any(|(on, offs)| *on == online && offs.contains(&offline))
}

/// A few words for why a request failed, by kind (DNS, TLS, refused, timeout, ...).
pub fn failure_kind(e: &HttpError) -> &'static str {
    match e {
        HttpError::Timeout { .. } => "timed out",
        HttpError::TooLarge { .. } => "answer too large",
        HttpError::TooManyRedirects { .. } => "redirect loop",
        HttpError::Connect { reason, .. } => {
            let r = reason.to_ascii_lowercase();
            if r.contains("dns")
                || r.contains("lookup")
                || r.contains("resolve")
                || r.contains("name or service")
            {
                "DNS failure"
            } else if r.contains("certificate")
                || r.contains("tls")
                || r.contains("handshake")
                || r.contains("ssl")
            {
                "TLS failure"
            } else if r.contains("refused") {
                "connection refused"
            } else {
                "unreachable"
            }
        }
        _ => "request failed",
    }
}

fn discovery_failed(site: &AuthSite, span: Span, attempts: &[Attempt]) -> Diagnostic {
    let okta = site.okta;
    let all_404 = attempts
        .iter()
        .all(|a| matches!(a.outcome, AttemptOutcome::Status(404)));
    let kind = attempts
        .iter()
        .find_map(|a| match &a.outcome {
            AttemptOutcome::Failed(e) => Some(failure_kind(e)),
            _ => None,
        })
        .unwrap_or(if all_404 {
            "not found"
        } else {
            "no discovery document"
        });
    let mut d = Diagnostic::new(
        &ONLINE_DISCOVERY,
        format!("cannot discover issuer `{}`: {kind}", site.issuer),
    )
    .at(span, kind);
    for a in attempts {
        d = d.note(a.to_string());
    }
    let help = if okta && all_404 && site.issuer.contains("/oauth2/") {
        let server = site
            .issuer
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("");
        format!("Okta has no authorization server `{server}` here: create it (Security > API > Authorization Servers) or use `/oauth2/default`")
    } else if all_404 {
        "check the issuer: it must be the exact `iss` of your tokens, and its discovery document must be served".to_string()
    } else {
        "check that the issuer is reachable from where the gateway runs (proxy variables are honoured)".to_string()
    };
    d.help(help)
}

fn issuer_mismatch(configured: &str, found: &str, span: Span, d: &Discovery) -> Diagnostic {
    let slash = match (configured.ends_with('/'), found.ends_with('/')) {
        (true, false) => " (the configured one ends with `/`)",
        (false, true) => " (the discovery one ends with `/`)",
        _ => "",
    };
    Diagnostic::new(
        &ONLINE_ISSUER_MISMATCH,
        format!("the issuer's discovery document names a different issuer{slash}"),
    )
    .at(span, "configured")
    .note(format!("configured: {configured}"))
    .note(format!(
        "discovery says: {found}  (fetched from {} in {} ms)",
        d.url,
        d.elapsed.as_millis()
    ))
    .help(format!(
        "tokens carry the discovery value in `iss` and the gateway compares exactly: write `issuer: {found}`"
    ))
}

fn scopes(site: &AuthSite, d: &Discovery, index: &PointerIndex) -> Vec<Diagnostic> {
    let Some(supported) = &d.scopes_supported else {
        return Vec::new();
    };
    site.scopes
        .iter()
        .enumerate()
        .filter(|(_, s)| !supported.contains(s))
        .map(|(i, s)| {
            let ptr = format!("{}/resourceMetadata/scopesSupported/{i}", site.ptr);
            let span = index.lookup(&ptr).map(|n| n.value).unwrap_or_default();
            Diagnostic::new(
                &ONLINE_SCOPE_UNKNOWN,
                format!("scope `{s}` is not in the issuer's `scopes_supported`"),
            )
            .at(span, "unknown to the issuer")
            .note(format!("the issuer supports: {}", supported.join(", ")))
            .help("clients asking for this scope will be refused a token: create the scope on the authorization server, or remove it here")
        })
        .collect()
}

fn unusable_keys(url: &str, snap: &Snapshot, span: Span) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = snap
        .set
        .unusable()
        .iter()
        .map(|k| {
            Diagnostic::new(
                &ONLINE_JWKS_KEY,
                format!(
                    "key {} of {url} cannot verify tokens: {}",
                    k.kid.as_deref().map(|k| format!("`{k}`")).unwrap_or_else(|| "without kid".into()),
                    k.reason
                ),
            )
            .at(span, "this key set")
            .help("tokens signed with this key will be rejected; rotate to a supported key type (RSA 2048+, P-256/P-384, Ed25519)")
        })
        .collect();
    if snap.set.is_empty() {
        out.push(
            Diagnostic::new(&ONLINE_JWKS, format!("the JWKS at {url} has no usable key"))
                .at(span, "no usable key")
                .help(
                    "the gateway would reject every token; check that this is the issuer's key set",
                ),
        );
    }
    out
}

fn jwks_failed(
    site: &AuthSite,
    url: &str,
    e: &JwksError,
    span: Span,
    discovery: Option<&Discovery>,
    probes: &Probes,
) -> Diagnostic {
    let kind = match e {
        JwksError::Http(h) => failure_kind(h).to_string(),
        JwksError::Status { status, .. } => format!("HTTP {status}"),
        JwksError::ContentType { .. } => "not JSON".into(),
        JwksError::Parse { .. } => "not a usable JWKS".into(),
        _ => "unusable".into(),
    };
    let derived = matches!(site.keys, SiteKeys::Derived(_));
    let message = if derived {
        format!("the JWKS derived from the issuer is unusable ({kind}): {e}")
    } else {
        format!("the JWKS cannot be used ({kind}): {e}")
    };
    let mut d = Diagnostic::new(&ONLINE_JWKS, message).at(span, kind);
    let published = discovery
        .and_then(|d| d.jwks_uri.as_deref())
        .filter(|u| *u != url && matches!(probes.jwks.get(*u), Some(Ok(_))));
    if let Some(u) = published {
        d = d.help(format!(
            "the issuer publishes its keys at {u}; add\n  jwks:\n    url: {u}"
        ));
    } else if derived && site.okta {
        d = d.help(format!(
            "Okta serves keys at {}/v1/keys; add `jwks: {{url: ...}}`",
            site.issuer.trim_end_matches('/')
        ));
    } else {
        d = d.help(
            "the gateway loads this key set to verify every token: fix the URL or the server",
        );
    }
    d
}

fn ok_note(
    site: &AuthSite,
    discovery: Option<&Discovery>,
    url: &str,
    snap: &Snapshot,
    span: Span,
) -> Diagnostic {
    let kids = snap.set.kids().join(", ");
    let disc = discovery
        .map(|d| format!("discovery answered in {} ms; ", d.elapsed.as_millis()))
        .unwrap_or_default();
    Diagnostic::new(
        &ONLINE_OK,
        format!(
            "issuer `{}` checked: {disc}{} usable key(s) at {url} ({kids}) in {} ms",
            site.issuer,
            snap.set.len(),
            snap.info.elapsed.as_millis()
        ),
    )
    .at(span, "reachable")
}
