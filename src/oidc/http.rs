//! The one HTTP client agw uses to talk to issuers: rustls with the system's roots, proxy
//! variables honoured, a connect and a total timeout, a redirect limit and a cap on the size of
//! every response body (enforced while streaming, so a huge answer is never held in memory).

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ACCEPT, CACHE_CONTROL, CONTENT_TYPE};

/// Limits for every request the client makes.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time to establish the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for the whole exchange, body included.
    pub timeout: Duration,
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How many redirects are followed.
    pub max_redirects: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            max_redirects: 3,
        }
    }
}

/// Why a fetch failed, in words a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("`{url}` is not a valid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("`{url}`: only http and https URLs can be fetched")]
    Scheme { url: String },
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url} answered with more than {limit} bytes; refused")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {reason}")]
    Other { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A response read in full (within the size cap).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Fetched {
    /// The media type without parameters, lowercased (`application/json`).
    pub fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// A shareable HTTP client (cheap to clone).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    opts: HttpOptions,
}

impl HttpClient {
    pub fn new(opts: HttpOptions) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::limited(opts.max_redirects))
            .user_agent(concat!("agw/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(HttpClient { inner, opts })
    }

    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// GETs `url` asking for `accept`, and reads the body up to the size cap. Any status is
    /// returned as is: the caller decides what a 404 means.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Fetched, HttpError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| HttpError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HttpError::Scheme {
                url: url.to_string(),
            });
        }
        let started = Instant::now();
        let mut resp = self
            .inner
            .get(parsed)
            .header(ACCEPT, accept)
            .send()
            .await
            .map_err(|e| self.classify(url, e))?;
        let status = resp.status().as_u16();
        let final_url = resp.url().to_string();
        let headers: HeaderMap = resp.headers().clone();
        let limit = self.opts.max_body_bytes;
        if let Some(len) = resp.content_length() {
            if len > limit as u64 {
                return Err(HttpError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(url, e))? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let text = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Fetched {
            url: final_url,
            status,
            content_type: text(CONTENT_TYPE),
            cache_control: text(CACHE_CONTROL),
            body,
            elapsed: started.elapsed(),
        })
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> HttpError {
        let url = url.to_string();
        if e.is_timeout() {
            HttpError::Timeout {
                url,
                secs: self.opts.timeout.as_secs().max(1),
            }
        } else if e.is_redirect() {
            HttpError::TooManyRedirects {
                url,
                limit: self.opts.max_redirects,
            }
        } else if e.is_connect() {
            HttpError::Connect {
                url,
                reason: root_cause(&e),
            }
        } else {
            HttpError::Other {
                url,
                reason: root_cause(&e),
            }
        }
    }
}

/// The innermost error message (reqwest's outer ones only say "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `max-age` of a `Cache-Control` header, unless `no-store`/`no-cache` forbid caching
/// (then `Some(0)`).
pub fn max_age(cache_control: &str) -> Option<Duration> {
    let mut age = None;
    for part in cache_control.split(',') {
        let part = part.trim().to_ascii_lowercase();
        if part == "no-store" || part == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(v) = part.strip_prefix("max-age=") {
            if let Ok(secs) = v.trim_matches('"').parse::<u64>() {
                age = Some(Duration::from_secs(secs));
            }
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
