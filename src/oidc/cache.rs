//! The JWKS cache shared by `verify-token`, `check --online` and the runtime.
//!
//! Keyed by source (URL, file or inline text). A fetched set lives for the response's
//! `Cache-Control: max-age`, clamped between a floor and a ceiling (a default when the issuer says
//! nothing). A token naming an unknown `kid` triggers one refetch, at most once per cooldown per
//! source, so that random kids cannot make agw hammer the issuer; after a key rotation the new key
//! is found on the first token that uses it. When a refresh fails, the last good set keeps serving.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::http::{max_age, HttpClient, HttpError};
use super::jwks::{JwksParseError, Key, KeySet};

/// Where a key set comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JwksSource {
    Url(String),
    File(PathBuf),
    /// The JWKS document itself (a config's inline `jwks:` string).
    Inline(Arc<str>),
}

impl fmt::Display for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksSource::Url(u) => f.write_str(u),
            JwksSource::File(p) => write!(f, "file {}", p.display()),
            JwksSource::Inline(_) => f.write_str("the inline JWKS"),
        }
    }
}

/// How long sets live and how often an unknown `kid` may force a refetch.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// The shortest lifetime, whatever `max-age` says (also applies to `no-cache`).
    pub min_ttl: Duration,
    /// The longest lifetime, whatever `max-age` says.
    pub max_ttl: Duration,
    /// The lifetime when the response has no `max-age` (and for files).
    pub default_ttl: Duration,
    /// The least time between two refetches forced by unknown kids, per source.
    pub refetch_cooldown: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            default_ttl: Duration::from_secs(600),
            refetch_cooldown: Duration::from_secs(30),
        }
    }
}

/// How a set was obtained.
#[derive(Debug, Clone)]
pub struct FetchInfo {
    pub source: JwksSource,
    pub fetched_at: SystemTime,
    /// How long the fetch took.
    pub elapsed: Duration,
    /// How long the set is kept.
    pub ttl: Duration,
    /// The issuer's `max-age`, when it sent one.
    pub max_age: Option<Duration>,
    /// The URL that answered, after redirects.
    pub final_url: Option<String>,
}

/// One fetched set and how it was obtained.
#[derive(Debug)]
pub struct Snapshot {
    pub set: KeySet,
    pub info: FetchInfo,
    /// Set when this is an old set kept because its refresh failed.
    pub refresh_error: Option<String>,
}

/// A key found by [`JwksCache::key_for`].
#[derive(Debug, Clone)]
pub struct KeyHit {
    pub key: Arc<Key>,
    pub snapshot: Arc<Snapshot>,
    /// The key was found only after the unknown `kid` made agw refetch the set.
    pub refetched: bool,
}

/// Why no key could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JwksError {
    #[error("cannot fetch the JWKS: {0}")]
    Http(HttpError),
    #[error("the JWKS at {url} answered HTTP {status}{}", snippet.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        snippet: Option<String>,
    },
    #[error("the JWKS at {url} has content type `{content_type}`, not JSON (application/json or application/jwk-set+json); a login or error page?")]
    ContentType { url: String, content_type: String },
    #[error("cannot read the JWKS file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("the JWKS from {source_name} is refused: {error}")]
    Parse {
        source_name: String,
        error: JwksParseError,
    },
    #[error("no key with kid `{kid}` in {source_name} (it has {}){}", list(known), refetch_note(*refetched, *retry_in))]
    UnknownKid {
        kid: String,
        source_name: String,
        known: Vec<String>,
        refetched: bool,
        retry_in: Option<Duration>,
    },
    #[error("key `{kid}` of {source_name} cannot verify tokens: {reason}")]
    UnusableKey {
        kid: String,
        source_name: String,
        reason: String,
    },
}

fn list(kids: &[String]) -> String {
    if kids.is_empty() {
        "no usable keys".into()
    } else {
        kids.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn refetch_note(refetched: bool, retry_in: Option<Duration>) -> String {
    match (refetched, retry_in) {
        (true, _) => "; refetched once, still missing".into(),
        (false, Some(d)) => format!(
            "; not refetched: the last forced refetch was less than the cooldown ago (next in {} s)",
            d.as_secs().max(1)
        ),
        (false, None) => String::new(),
    }
}

impl JwksError {
    /// True when the token is at fault (its `kid` names no usable key); false when agw could
    /// not get a trustworthy key set at all and so cannot decide.
    pub fn is_token_fault(&self) -> bool {
        matches!(
            self,
            JwksError::UnknownKid { .. } | JwksError::UnusableKey { .. }
        )
    }
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<(Arc<Snapshot>, Instant)>>,
    fetch: tokio::sync::Mutex<()>,
    last_forced: Mutex<Option<Instant>>,
}

impl Slot {
    fn current(&self) -> Option<(Arc<Snapshot>, Instant)> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    fn store(&self, snap: Arc<Snapshot>, expires: Instant) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some((snap, expires));
    }
}

/// The shared, async JWKS cache. Create one per process and share it with `Arc`.
pub struct JwksCache {
    client: HttpClient,
    policy: CachePolicy,
    slots: RwLock<HashMap<JwksSource, Arc<Slot>>>,
}

impl JwksCache {
    pub fn new(client: HttpClient, policy: CachePolicy) -> Self {
        JwksCache {
            client,
            policy,
            slots: RwLock::new(HashMap::new()),
        }
    }

    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    fn slot(&self, source: &JwksSource) -> Arc<Slot> {
        if let Some(s) = self
            .slots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)
        {
            return s.clone();
        }
        self.slots
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(source.clone())
            .or_default()
            .clone()
    }

    /// Forgets what is cached for `source` (a JWKS file changed), so that the next use loads
    /// it again.
    pub fn forget(&self, source: &JwksSource) {
        self.slots
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(source);
    }

    /// The current set of `source`, fetched when missing or expired.
    pub async fn key_set(&self, source: &JwksSource) -> Result<Arc<Snapshot>, JwksError> {
        Ok(self.snapshot(source).await?.0)
    }

    /// `(snapshot, fetched by this call)`.
    async fn snapshot(&self, source: &JwksSource) -> Result<(Arc<Snapshot>, bool), JwksError> {
        let slot = self.slot(source);
        if let Some((snap, expires)) = slot.current() {
            if Instant::now() < expires || matches!(source, JwksSource::Inline(_)) {
                return Ok((snap, false));
            }
        }
        let _guard = slot.fetch.lock().await;
        let previous = slot.current();
        if let Some((snap, expires)) = &previous {
            if Instant::now() < *expires {
                return Ok((snap.clone(), false));
            }
        }
        match self.load(source).await {
            Ok(snap) => {
                let snap = Arc::new(snap);
                slot.store(snap.clone(), Instant::now() + snap.info.ttl);
                Ok((snap, true))
            }
            Err(e) => match previous {
                // Keep serving the last good set, and try again after the floor.
                Some((old, _)) => {
                    let kept = Arc::new(Snapshot {
                        set: old.set.clone(),
                        info: old.info.clone(),
                        refresh_error: Some(e.to_string()),
                    });
                    slot.store(kept.clone(), Instant::now() + self.policy.min_ttl);
                    Ok((kept, false))
                }
                None => Err(e),
            },
        }
    }

    /// The key named `kid` in `source`. An unknown `kid` makes the cache refetch the set once
    /// (unless it was just fetched, or a forced refetch of this source happened less than the
    /// cooldown ago), then decide.
    pub async fn key_for(&self, source: &JwksSource, kid: &str) -> Result<KeyHit, JwksError> {
        let (snap, fresh) = self.snapshot(source).await?;
        if let Some(hit) = lookup(&snap, kid, false)? {
            return Ok(hit);
        }
        let unknown = |snap: &Snapshot, refetched, retry_in| JwksError::UnknownKid {
            kid: kid.to_string(),
            source_name: source.to_string(),
            known: snap.set.kids().to_vec(),
            refetched,
            retry_in,
        };
        if fresh || matches!(source, JwksSource::Inline(_)) {
            return Err(unknown(&snap, false, None));
        }
        let slot = self.slot(source);
        {
            let mut last = slot.last_forced.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if let Some(t) = *last {
                let since = now.duration_since(t);
                if since < self.policy.refetch_cooldown {
                    return Err(unknown(
                        &snap,
                        false,
                        Some(self.policy.refetch_cooldown - since),
                    ));
                }
            }
            *last = Some(now);
        }
        let _guard = slot.fetch.lock().await;
        // Another task may have refetched while this one waited.
        let newer = slot
            .current()
            .filter(|(s, _)| !Arc::ptr_eq(s, &snap))
            .map(|(s, _)| s);
        let snap = match newer {
            Some(s) => s,
            None => {
                let s = Arc::new(self.load(source).await?);
                slot.store(s.clone(), Instant::now() + s.info.ttl);
                s
            }
        };
        match lookup(&snap, kid, true)? {
            Some(hit) => Ok(hit),
            None => Err(unknown(&snap, true, None)),
        }
    }

    /// Fetches or reads `source` now, bypassing the cache.
    pub async fn load(&self, source: &JwksSource) -> Result<Snapshot, JwksError> {
        let started = Instant::now();
        let fetched_at = SystemTime::now();
        let (bytes, max_age_v, final_url) = match source {
            JwksSource::Inline(text) => (text.as_bytes().to_vec(), None, None),
            JwksSource::File(path) => {
                let bytes =
                    read_capped(path, self.client.options().max_body_bytes).map_err(|reason| {
                        JwksError::File {
                            path: path.display().to_string(),
                            reason,
                        }
                    })?;
                (bytes, None, None)
            }
            JwksSource::Url(url) => {
                let f = self
                    .client
                    .get(url, "application/jwk-set+json, application/json")
                    .await
                    .map_err(JwksError::Http)?;
                if f.status != 200 {
                    let snippet = std::str::from_utf8(&f.body).ok().and_then(|s| {
                        let s = s.trim();
                        (!s.is_empty()).then(|| s.chars().take(120).collect::<String>())
                    });
                    return Err(JwksError::Status {
                        url: url.clone(),
                        status: f.status,
                        snippet,
                    });
                }
                if let Some(mt) = f.media_type() {
                    if !is_json_media_type(&mt) {
                        return Err(JwksError::ContentType {
                            url: url.clone(),
                            content_type: f.content_type.clone().unwrap_or_default(),
                        });
                    }
                }
                let age = f.cache_control.as_deref().and_then(max_age);
                (f.body, age, Some(f.url))
            }
        };
        let set = KeySet::parse(&bytes).map_err(|error| JwksError::Parse {
            source_name: source.to_string(),
            error,
        })?;
        let ttl = max_age_v.unwrap_or(self.policy.default_ttl).clamp(
            self.policy.min_ttl,
            self.policy.max_ttl.max(self.policy.min_ttl),
        );
        Ok(Snapshot {
            set,
            info: FetchInfo {
                source: source.clone(),
                fetched_at,
                elapsed: started.elapsed(),
                ttl,
                max_age: max_age_v,
                final_url,
            },
            refresh_error: None,
        })
    }
}

fn lookup(snap: &Arc<Snapshot>, kid: &str, refetched: bool) -> Result<Option<KeyHit>, JwksError> {
    if let Some(key) = snap.set.get(kid) {
        return Ok(Some(KeyHit {
            key: key.clone(),
            snapshot: snap.clone(),
            refetched,
        }));
    }
    if let Some(reason) = snap.set.unusable_reason(kid) {
        return Err(JwksError::UnusableKey {
            kid: kid.to_string(),
            source_name: snap.info.source.to_string(),
            reason: reason.to_string(),
        });
    }
    Ok(None)
}

/// `application/json`, `application/jwk-set+json` and other `+json` types.
pub fn is_json_media_type(mt: &str) -> bool {
    mt == "application/json" || mt.ends_with("+json")
}

fn read_capped(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(buf)
}
