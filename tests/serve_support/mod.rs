//! Processes for the `agw serve` tests: agw itself, node partners and the MCP client, each
//! bounded in time and stopped by pid when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::common::procs::{free_port, js_dir};

/// The MCP server the tests put behind agw (installed by the test script, not fetched).
pub fn everything(js: &Path) -> String {
    js.join("node_modules/.bin/mcp-server-everything")
        .display()
        .to_string()
}

fn wait_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Lines of a child's output, collected by a thread.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn follow(&self, r: impl std::io::Read + Send + 'static) {
        let me = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                me.0.lock().unwrap().push(line);
            }
        });
    }

    pub fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits (bounded) for a line containing every one of `parts`.
    pub fn wait(&self, parts: &[&str], within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return Some(l.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `agw serve` on a config file, stopped (SIGKILL by pid) when dropped.
pub struct Agw {
    pub child: Child,
    pub port: u16,
    pub log: Lines,
    pub dir: tempfile::TempDir,
}

impl Agw {
    /// Writes `config` and serves it; waits until `port` answers.
    pub fn start(config: &str, port: u16, args: &[&str]) -> Agw {
        Agw::start_with(config, port, args, &[])
    }

    /// [`Agw::start`] with variables added to agw's environment.
    pub fn start_with(config: &str, port: u16, args: &[&str], env: &[(&str, &str)]) -> Agw {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agw"));
        cmd.envs(env.iter().copied());
        Agw::start_cmd(cmd, config, port, args)
    }

    /// [`Agw::start`] under `sh -c 'ulimit -n SOFT ...'`: agw starts with a soft limit of
    /// `soft` open files (and, if given, a hard limit of `hard`).
    pub fn start_ulimit(
        config: &str,
        port: u16,
        args: &[&str],
        soft: u64,
        hard: Option<u64>,
    ) -> Agw {
        let mut script = format!("ulimit -S -n {soft} && ");
        if let Some(h) = hard {
            script.push_str(&format!("ulimit -H -n {h} && "));
        }
        script.push_str("exec \"$0\" \"$@\"");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script, env!("CARGO_BIN_EXE_agw")]);
        Agw::start_cmd(cmd, config, port, args)
    }

    fn start_cmd(mut cmd: Command, config: &str, port: u16, args: &[&str]) -> Agw {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, config).unwrap();
        let mut child = cmd
            .arg("serve")
            .arg(&file)
            .args(["--reload-interval", "100ms"])
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("AGW_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("agw serve starts");
        let log = Lines::default();
        log.follow(child.stderr.take().unwrap());
        let mut agw = Agw {
            child,
            port,
            log,
            dir,
        };
        assert!(
            wait_port(port, Duration::from_secs(20)),
            "agw serve did not listen on {port}:\n{}",
            agw.log.all()
        );
        // a port that something else holds answers too: the server must be this one, alive
        if let Ok(Some(status)) = agw.child.try_wait() {
            panic!(
                "agw serve exited ({status}) instead of serving on {port}:\n{}",
                agw.log.all()
            );
        }
        agw
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Replaces the served file by writing a new one beside it and renaming it into place.
    pub fn replace_config(&self, text: &str) {
        let tmp = self.dir.path().join("config.yaml.new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.config_path()).unwrap();
    }

    /// The resident memory of agw, in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Waits (bounded) until a request to `path` answers `body`.
    pub fn wait_body(&self, path: &str, body: &str, tries: usize) -> bool {
        for _ in 0..tries {
            if http("GET", &self.url(path), &[], None).body == body {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Sends SIGTERM and waits (bounded) for the exit code.
    pub fn terminate(&mut self, within: Duration) -> Option<i32> {
        signal(self.child.id(), "-TERM");
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Agw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
}

pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// A node process from `tests/js`, killed by pid when dropped.
pub struct Node {
    pub child: Child,
    pub port: u16,
    pub out: Lines,
}

impl Node {
    /// A plain HTTP server on loopback whose request handler is the JavaScript `handler`
    /// (`(q,s)=>s.end('ok')`).
    pub fn http(js: &Path, handler: &str) -> Node {
        let script = format!(
            "require('http').createServer({handler}).listen(process.env.PORT,'127.0.0.1',()=>console.log('ready'))"
        );
        Node::start(js, &["node", "-e", &script], "ready")
    }

    /// `node ARGS` in `js` with `PORT` set; waits for a stdout line containing `ready`.
    pub fn start(js: &Path, args: &[&str], ready: &str) -> Node {
        Node::start_env(js, args, ready, &[])
    }

    pub fn start_env(js: &Path, args: &[&str], ready: &str, env: &[(&str, &str)]) -> Node {
        let port = free_port();
        let mut child = Command::new(args[0])
            .args(&args[1..])
            .current_dir(js)
            .env("PORT", port.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node");
        let out = Lines::default();
        out.follow(child.stdout.take().unwrap());
        out.follow(child.stderr.take().unwrap());
        let n = Node { child, port, out };
        assert!(
            n.out.wait(&[ready], Duration::from_secs(30)).is_some(),
            "{args:?} did not start:\n{}",
            n.out.all()
        );
        n
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to its end, killing it after `within`. Returns (code, stdout, stderr).
pub fn run_bounded(cmd: &mut Command, within: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = Lines::default();
    let err = Lines::default();
    out.follow(child.stdout.take().unwrap());
    err.follow(child.stderr.take().unwrap());
    let deadline = Instant::now() + within;
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    (code, out.all(), err.all())
}

/// The official TypeScript MCP client with a static bearer token.
pub fn client_static(js: &Path, url: &str, token: &str) -> (i32, String, String) {
    run_bounded(
        Command::new("node")
            .args(["partners/client-static.mjs", url, token])
            .current_dir(js),
        Duration::from_secs(60),
    )
}

/// One HTTP exchange (bounded); returns status, headers (lowercase names) and body.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The JSON-RPC message of a JSON or single-event SSE answer.
    pub fn message(&self) -> Value {
        if self.header("content-type").starts_with("text/event-stream") {
            let data = self
                .body
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .next_back()
                .unwrap_or("null");
            return serde_json::from_str(data).unwrap();
        }
        self.json()
    }
}

pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    exchange(method, url, headers, body, true)
}

/// [`http`] without following redirects.
pub fn http_no_redirect(method: &str, url: &str) -> Reply {
    exchange(method, url, &[], None, false)
}

fn exchange(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    follow: bool,
) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let redirects = if follow {
            reqwest::redirect::Policy::default()
        } else {
            reqwest::redirect::Policy::none()
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(redirects)
            .build()
            .unwrap();
        let mut rb = client.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.body(b.to_string());
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    })
}

pub const MCP_ACCEPT: (&str, &str) = ("accept", "application/json, text/event-stream");
pub const JSON_CT: (&str, &str) = ("content-type", "application/json");

pub fn initialize_body() -> &'static str {
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"agw-test","version":"0"}}}"#
}

/// Initializes an MCP session over raw HTTP; returns the session id.
pub fn open_session(url: &str, extra: &[(&str, &str)]) -> String {
    let mut h = vec![MCP_ACCEPT, JSON_CT];
    h.extend_from_slice(extra);
    let r = http("POST", url, &h, Some(initialize_body()));
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").to_string();
    assert!(!sid.is_empty());
    let mut h2 = h.clone();
    h2.push(("mcp-session-id", &sid));
    let r = http(
        "POST",
        url,
        &h2,
        Some(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    sid
}

/// A `tools/call` or other request on a session.
pub fn rpc(url: &str, sid: &str, extra: &[(&str, &str)], body: &str) -> Reply {
    let mut h = vec![MCP_ACCEPT, JSON_CT, ("mcp-session-id", sid)];
    h.extend_from_slice(extra);
    http("POST", url, &h, Some(body))
}

/// A client-credentials token from the oidc-provider partner.
pub fn oidc_token(issuer: &str, client: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![("grant_type", "client_credentials"), ("scope", "mcp:tools")];
    form.extend_from_slice(extra);
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    // client_secret_basic, unless the form carries the secret (client_secret_post)
    let basic = base64_basic(client, "agw-secret");
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if !extra.iter().any(|(k, _)| *k == "client_secret") {
        headers.push(("authorization", &basic));
    }
    let r = http("POST", &format!("{issuer}/v1/token"), &headers, Some(&body));
    assert_eq!(r.status, 200, "token: {}", r.body);
    r.json()["access_token"].as_str().unwrap().to_string()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn base64_basic(user: &str, pass: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{pass}");
    let b = input.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= n {
                out.push(T[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// The route of the reference MCP server as a stdio target, with `matches` and `policies` lines.
pub fn stdio_route(js: &std::path::Path, matches: &str, policies: &str) -> String {
    format!(
        r#"    - name: mcp
{matches}      backends:
      - mcp:
          targets:
          - name: tools
            stdio:
              cmd: {cmd}
              args: [stdio]
{policies}"#,
        cmd = everything(js)
    )
}

/// A bind on `port` with one listener and `routes`.
pub fn bind(port: u16, routes: &str) -> String {
    format!("binds:\n- port: {port}\n  listeners:\n  - routes:\n{routes}")
}
