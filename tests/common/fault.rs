//! A scriptable HTTP/1.1 server on loopback for what real servers will not do on demand:
//! HTML error pages, 500s, garbage bodies, huge bodies, redirect loops, a server that accepts and
//! never answers, a slow drip. Threads and std only; stops when dropped.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What one path answers.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Status, content type, body.
    Respond(u16, &'static str, String),
    /// Status and JSON body, with an optional `Cache-Control`.
    Json(u16, serde_json::Value, Option<&'static str>),
    /// A redirect to another path of this server (or any URL).
    Redirect(String),
    /// Accept the connection, read the request, never answer (until the server stops or 60 s).
    Hang,
    /// Send headers promising a JSON body, then one byte every `interval`.
    Drip(Duration),
    /// A JSON-typed body of this many bytes.
    Huge(usize),
}

pub struct FaultServer {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Behavior>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    open: Arc<AtomicUsize>,
}

impl FaultServer {
    pub fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Behavior>>> = Default::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Default::default();
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(0));
        let (r, h, s, o) = (routes.clone(), hits.clone(), stop.clone(), open.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, h, s, o) = (r.clone(), h.clone(), s.clone(), o.clone());
                o.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    let _ = serve(conn, &r, &h, &s);
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        FaultServer {
            addr,
            routes,
            hits,
            stop,
            open,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, b: Behavior) -> &Self {
        self.routes.lock().unwrap().insert(path.to_string(), b);
        self
    }

    /// How many requests a path received.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        let until = Instant::now() + Duration::from_secs(2);
        while self.open.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &Mutex<HashMap<String, Behavior>>,
    hits: &Mutex<HashMap<String, usize>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let behavior = routes.lock().unwrap().get(&path).cloned();
    let reply = |conn: &mut TcpStream, status: u16, ctype: &str, extra: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes())?;
        conn.write_all(body)
    };
    match behavior {
        None => reply(
            &mut conn,
            404,
            "text/html",
            "",
            b"<html><body>Not Found</body></html>",
        ),
        Some(Behavior::Respond(status, ctype, body)) => {
            reply(&mut conn, status, ctype, "", body.as_bytes())
        }
        Some(Behavior::Json(status, v, cc)) => {
            let extra = cc
                .map(|c| format!("cache-control: {c}\r\n"))
                .unwrap_or_default();
            reply(
                &mut conn,
                status,
                "application/json",
                &extra,
                v.to_string().as_bytes(),
            )
        }
        Some(Behavior::Redirect(to)) => reply(
            &mut conn,
            302,
            "text/plain",
            &format!("location: {to}\r\n"),
            b"",
        ),
        Some(Behavior::Hang) => {
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                thread::sleep(Duration::from_millis(20));
            }
            Ok(())
        }
        Some(Behavior::Drip(every)) => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\nconnection: close\r\n\r\n",
            )?;
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                conn.write_all(b" ")?;
                thread::sleep(every);
            }
            Ok(())
        }
        Some(Behavior::Huge(n)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {n}\r\nconnection: close\r\n\r\n"
            );
            conn.write_all(head.as_bytes())?;
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < n && !stop.load(Ordering::SeqCst) {
                let k = block.len().min(n - sent);
                conn.write_all(&block[..k])?;
                sent += k;
            }
            Ok(())
        }
    }
}
