//! The JWKS cache against a scripted local HTTP server: status and content type checks, the size
//! cap, Cache-Control max-age with its floor, one refetch on an unknown kid, then the cooldown.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agw::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache, JwksError, JwksSource};
use common::{jwks, TestKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers next: status, content type, cache-control, body.
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    cache_control: Option<&'static str>,
    body: String,
}

struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
    answer: Arc<Mutex<Answer>>,
}

async fn serve(initial: Answer) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(Mutex::new(initial));
    let (h, a) = (hits.clone(), answer.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            h.fetch_add(1, Ordering::SeqCst);
            let ans = a.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let mut head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    ans.status,
                    ans.content_type,
                    ans.body.len()
                );
                if let Some(cc) = ans.cache_control {
                    head.push_str(&format!("cache-control: {cc}\r\n"));
                }
                head.push_str("\r\n");
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(ans.body.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Server { url, hits, answer }
}

fn cache(cooldown: Duration) -> JwksCache {
    JwksCache::new(
        HttpClient::new(HttpOptions {
            max_body_bytes: 64 * 1024,
            timeout: Duration::from_secs(5),
            ..Default::default()
        })
        .unwrap(),
        CachePolicy {
            refetch_cooldown: cooldown,
            ..Default::default()
        },
    )
}

fn ok(body: String) -> Answer {
    Answer {
        status: 200,
        content_type: "application/jwk-set+json",
        cache_control: Some("public, max-age=5"),
        body,
    }
}

#[tokio::test]
async fn status_content_type_and_size_are_checked() {
    let k = TestKey::ec256("a");
    let s = serve(Answer {
        status: 404,
        content_type: "text/html",
        cache_control: None,
        body: "<h1>Not found</h1>".into(),
    })
    .await;
    let src = JwksSource::Url(s.url.clone());
    let e = cache(Duration::ZERO).key_for(&src, "a").await.unwrap_err();
    assert!(matches!(e, JwksError::Status { status: 404, .. }), "{e}");
    assert!(!e.is_token_fault());

    *s.answer.lock().unwrap() = Answer {
        status: 200,
        content_type: "text/html; charset=utf-8",
        cache_control: None,
        body: jwks(&[&k], false),
    };
    let e = cache(Duration::ZERO).key_for(&src, "a").await.unwrap_err();
    assert!(e.to_string().contains("not JSON"), "{e}");

    *s.answer.lock().unwrap() = ok(format!(
        "{{\"keys\":[], \"pad\":\"{}\"}}",
        "x".repeat(100_000)
    ));
    let e = cache(Duration::ZERO).key_for(&src, "a").await.unwrap_err();
    assert!(e.to_string().contains("more than 65536 bytes"), "{e}");

    *s.answer.lock().unwrap() = ok(jwks(&[&k], false));
    let hit = cache(Duration::ZERO).key_for(&src, "a").await.unwrap();
    assert_eq!(hit.key.kid, "a");
    // max-age=5 is below the floor of 60 s
    assert_eq!(hit.snapshot.info.max_age, Some(Duration::from_secs(5)));
    assert_eq!(hit.snapshot.info.ttl, Duration::from_secs(60));
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_cools_down() {
    let a = TestKey::ec256("a");
    let b = TestKey::ec256("b");
    let s = serve(ok(jwks(&[&a], false))).await;
    let src = JwksSource::Url(s.url.clone());
    let c = cache(Duration::from_millis(300));
    c.key_for(&src, "a").await.unwrap();
    c.key_for(&src, "a").await.unwrap();
    assert_eq!(
        s.hits.load(Ordering::SeqCst),
        1,
        "a warm cache does not fetch"
    );

    // rotation: the issuer now also serves b
    *s.answer.lock().unwrap() = ok(jwks(&[&a, &b], false));
    let hit = c.key_for(&src, "b").await.unwrap();
    assert!(hit.refetched);
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);

    // random kids: the first unknown one may refetch only after the cooldown...
    let e = c.key_for(&src, "zz1").await.unwrap_err();
    assert!(e.to_string().contains("cooldown"), "{e}");
    assert!(e.is_token_fault());
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let e = c.key_for(&src, "zz2").await.unwrap_err();
    assert!(
        e.to_string().contains("refetched once, still missing"),
        "{e}"
    );
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
    // ...and a burst of them costs nothing more
    for i in 0..20 {
        assert!(c.key_for(&src, &format!("r{i}")).await.is_err());
    }
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn files_and_inline_sets() {
    let k = TestKey::rsa("f");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("jwks.json");
    std::fs::write(&p, jwks(&[&k], true)).unwrap();
    let c = cache(Duration::ZERO);
    let hit = c.key_for(&JwksSource::File(p), "f").await.unwrap();
    assert_eq!(hit.key.alg, Some(jsonwebtoken::Algorithm::RS256));
    let e = c
        .key_for(&JwksSource::File(dir.path().join("missing.json")), "f")
        .await
        .unwrap_err();
    assert!(matches!(e, JwksError::File { .. }), "{e}");
    let inline = JwksSource::Inline(Arc::from(jwks(&[&k], false)));
    assert!(c.key_for(&inline, "f").await.is_ok());
    let e = c.key_for(&inline, "g").await.unwrap_err();
    assert!(e.to_string().contains("no key with kid `g`"), "{e}");
}
