//! External processes for tests: bounded in time, stopped by pid when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// `tests/js` with its packages installed (`npm ci` leaves `node_modules/.package-lock.json`),
/// or `None` with a message saying that `test` is skipped.
pub fn js_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("AGW_JS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js"));
    let ok = dir.join("node_modules/.package-lock.json").is_file()
        && Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        Some(dir)
    } else {
        let _ = test;
        super::partners::missing(
            &format!("node or the packages of {}", dir.display()),
            "run `bash ci/install-test-deps.sh`",
        );
        None
    }
}

/// A port that was free a moment ago.
/// A port that was free a moment ago and that no other test of this process has been given:
/// tests run in parallel, and two of them handed the same port would take each other's server
/// for their own (one binds, the other's connection succeeds until the first one stops).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A node server from `tests/js`, killed (by its pid) when dropped.
pub struct NodeServer {
    pub child: Child,
    pub port: u16,
    pub lines: Receiver<String>,
}

impl NodeServer {
    /// Starts `node script` with `PORT` set, and waits (bounded) for a stdout line starting with
    /// `ready_prefix`.
    pub fn start(js: &Path, script: &str, ready_prefix: &str) -> NodeServer {
        let port = free_port();
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(js)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let server = NodeServer {
            child,
            port,
            lines: rx,
        };
        server
            .wait_line(ready_prefix, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{script} did not start within 30 s"));
        server
    }

    /// The next stdout line starting with `prefix`, within `timeout`.
    pub fn wait_line(&self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Some(l),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command with `stdin`, killing it after `timeout`. Returns (exit code, stdout, stderr).
pub fn run_bounded(cmd: &mut Command, stdin: &str, timeout: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(stdin.as_bytes());
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (code, o.join().unwrap(), e.join().unwrap())
}

/// `agw ARGS` with the token on standard input.
pub fn agw(args: &[&str], stdin: &str) -> (i32, String, String) {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_agw")).args(args),
        stdin,
        Duration::from_secs(60),
    )
}

/// A form POST to `url` (bounded); returns the JSON answer.
pub fn post_form(
    url: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut req = client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.expect("token request");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    })
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The decoded header of a compact token.
pub fn header_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}
