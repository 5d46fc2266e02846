//! Connections are bounded: in time before the first request (nothing sent, only the HTTP/2
//! preface, headers trickled), when idle, while a body trickles, and in number.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serve_support::*;

/// The HTTP/2 client preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

/// Reads (and discards) until the server closes the connection; false if it is still open
/// after `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

fn served(port: u16, args: &[&str]) -> Agw {
    let cfg = super::reload::direct(port, &[("/", "ok", "")]);
    Agw::start(&cfg, port, args)
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let port = free_port();
    let _agw = served(port, &["--header-read-timeout", "300ms"]);
    let mut s = connect(port);
    assert!(closed_within(&mut s, Duration::from_secs(20)));
}

#[test]
fn an_http2_connection_that_sends_only_its_preface_is_closed() {
    let port = free_port();
    let _agw = served(port, &["--header-read-timeout", "300ms"]);
    let mut s = connect(port);
    s.write_all(H2_PREFACE).unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(20)));
}

#[test]
fn http2_headers_trickled_one_byte_at_a_time_are_cut_off() {
    let port = free_port();
    let _agw = served(port, &["--header-read-timeout", "300ms"]);
    let mut s = connect(port);
    s.write_all(H2_PREFACE).unwrap();
    // a HEADERS frame of 200 bytes (END_HEADERS, stream 1), sent one byte every 50 ms
    s.write_all(&[0, 0, 200, 1, 0x4, 0, 0, 0, 1]).unwrap();
    let mut buf = [0u8; 4096];
    let mut closed = false;
    for _ in 0..200 {
        if s.write_all(&[0x82]).is_err() {
            closed = true;
            break;
        }
        match s.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Err(e) if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                closed = true;
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    assert!(closed, "the connection outlived its trickled header");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let port = free_port();
    let _agw = served(
        port,
        &["--idle-timeout", "1500ms", "--header-read-timeout", "200ms"],
    );
    let mut s = connect(port);
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..100 {
        if let Ok(n) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        if got.ends_with(b"ok") {
            break;
        }
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // kept past the header read timeout (that bounds the first request), closed when idle
    assert!(!closed_within(&mut s, Duration::from_millis(600)));
    assert!(closed_within(&mut s, Duration::from_secs(20)));
}

/// An MCP route (a body is read before any target starts) and a plain HTTP one.
fn body_routes(port: u16, upstream: u16) -> String {
    format!(
        "binds:\n- port: {port}\n  listeners:\n  - routes:\n    - name: mcp\n      matches: [{{path: {{exact: /mcp}}}}]\n      backends:\n      - mcp:\n          targets:\n          - name: t\n            stdio: {{cmd: /nonexistent/server}}\n    - name: rest\n      matches: [{{path: {{pathPrefix: /api}}}}]\n      backends:\n      - host: 127.0.0.1:{upstream}\n"
    )
}

fn post_head(path: &str, len: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\naccept: application/json, text/event-stream\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
    )
}

#[test]
fn a_body_sent_one_byte_at_a_time_gets_408() {
    let port = free_port();
    let agw = Agw::start(
        &body_routes(port, free_port()),
        port,
        &["--body-timeout", "500ms"],
    );
    let mut s = connect(port);
    s.write_all(post_head("/mcp", 400).as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..400 {
        if s.write_all(b" ").is_err() {
            break;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => std::thread::sleep(Duration::from_millis(40)),
        }
        if !got.is_empty() {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "{text}\n{}",
        agw.log.all()
    );
    assert!(agw
        .log
        .wait(
            &["agw::request", "status=408", "timed out"],
            Duration::from_secs(5)
        )
        .is_some());
}

#[test]
fn a_client_that_aborts_its_body_is_logged_as_such_not_as_413() {
    let Some(js) = js_dir("a_client_that_aborts_its_body_is_logged_as_such_not_as_413") else {
        return;
    };
    let upstream = Node::http(&js, "(q,s)=>{q.resume();q.on('end',()=>s.end('done'))}");
    let port = free_port();
    let agw = Agw::start(&body_routes(port, upstream.port), port, &[]);
    for path in ["/mcp", "/api/x"] {
        let mut s = connect(port);
        s.write_all(post_head(path, 1000).as_bytes()).unwrap();
        s.write_all(&[b' '; 10]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(s);
        let line = agw
            .log
            .wait(
                &["agw::request", &format!("path={path}")],
                Duration::from_secs(10),
            )
            .unwrap_or_else(|| panic!("{}", agw.log.all()));
        assert!(
            line.contains("the client aborted the request body"),
            "{line}"
        );
        assert!(!line.contains("status=413"), "{line}");
    }
}

#[test]
fn connections_past_max_connections_get_503_with_retry_after() {
    let port = free_port();
    let agw = served(
        port,
        &["--max-connections", "2", "--header-read-timeout", "60s"],
    );
    // two connections that have each been answered once and stay open (keep-alive); one
    // may be refused while the probe connection of start-up is still being closed
    let keep = || {
        for _ in 0..50 {
            let mut s = connect(port);
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            for _ in 0..100 {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(_) => {}
                }
                if got.ends_with(b"ok") || got.ends_with(b"}") {
                    break;
                }
            }
            if got.starts_with(b"HTTP/1.1 200") {
                return s;
            }
            assert!(
                got.starts_with(b"HTTP/1.1 503"),
                "{}",
                String::from_utf8_lossy(&got)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no place for a connection");
    };
    let a = keep();
    let _b = keep();
    let r = http("GET", &agw.url("/"), &[], None);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("retry-after"), "5");
    assert!(agw
        .log
        .wait(&["--max-connections reached"], Duration::from_secs(5))
        .is_some());
    // a place that frees up is taken again
    drop(a);
    let mut ok = false;
    for _ in 0..50 {
        if http("GET", &agw.url("/"), &[], None).status == 200 {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ok, "{}", agw.log.all());
}
