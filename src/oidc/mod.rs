//! Talking to issuers: the HTTP client, JWKS parsing and the shared JWKS cache.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use agw::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksSource};
//! let cache = Arc::new(JwksCache::new(HttpClient::new(HttpOptions::default())?, CachePolicy::default()));
//! let source = JwksSource::Url("https://acme.okta.com/oauth2/default/v1/keys".into());
//! let hit = cache.key_for(&source, "rs256-key-1").await?;
//! println!("{} ({})", hit.key.kid, hit.key.key_type);
//! # Ok(()) }
//! ```

pub mod cache;
pub mod discovery;
pub mod http;
pub mod jwks;

pub use cache::{CachePolicy, FetchInfo, JwksCache, JwksError, JwksSource, KeyHit, Snapshot};
pub use discovery::{discover, Attempt, AttemptOutcome, Discovery};
pub use http::{Fetched, HttpClient, HttpError, HttpOptions};
pub use jwks::{JwksParseError, Key, KeySet, KeyType};
