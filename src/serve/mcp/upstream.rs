//! The connections of one session to its MCP targets: a child process speaking JSON-RPC lines
//! on stdin/stdout, or a remote Streamable HTTP server.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use http::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::task::JoinHandle;

use crate::config::mcp::{HttpTarget, McpTarget, StdioTarget};

/// The longest line a child may write (one JSON-RPC message).
const MAX_LINE: usize = 16 * 1024 * 1024;

pub enum Upstream {
    Stdio(StdioConn),
    Remote(RemoteConn),
    /// The target could not be started; the reason is reported on initialize.
    Failed(String),
    /// The target could not be started for lack of a resource (file descriptors, processes,
    /// memory): the client is told to retry later.
    Exhausted(String),
}

impl Upstream {
    /// Sends one message. Errors mean the target is gone.
    pub async fn send(&self, msg: &Value) -> Result<(), String> {
        match self {
            Upstream::Stdio(c) => c.send(msg).await,
            Upstream::Remote(c) => {
                c.send(msg.clone());
                Ok(())
            }
            Upstream::Failed(e) | Upstream::Exhausted(e) => Err(e.clone()),
        }
    }

    /// Stops the target: the child is terminated, the remote session deleted.
    pub fn close(&self) {
        match self {
            Upstream::Stdio(c) => c.close(),
            Upstream::Remote(c) => c.close(),
            Upstream::Failed(_) | Upstream::Exhausted(_) => {}
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match self {
            Upstream::Stdio(c) => c.pid,
            _ => None,
        }
    }
}

/// What a connection reports to its session, with the index of its target.
pub enum UpstreamEvent {
    /// A message the target wrote.
    Message(usize, Value),
    /// The connection ended on its own (the child exited, the remote session expired), and why.
    Ended(usize, String),
}

/// A connection's way of reporting to its session. Unbounded, because reporting happens where a
/// connection cannot wait (the remote side reports from synchronous code), and the session's
/// side never waits either, so the queue is emptied as fast as it fills.
#[derive(Clone)]
pub struct Reporter {
    idx: usize,
    events: mpsc::UnboundedSender<UpstreamEvent>,
}

impl Reporter {
    pub fn new(idx: usize, events: mpsc::UnboundedSender<UpstreamEvent>) -> Reporter {
        Reporter { idx, events }
    }

    // A send fails only once the session has stopped listening, when nothing is to be done.
    fn message(&self, msg: Value) {
        let _ = self.events.send(UpstreamEvent::Message(self.idx, msg));
    }

    fn ended(&self, reason: String) {
        let _ = self.events.send(UpstreamEvent::Ended(self.idx, reason));
    }
}

/// Starts the connection to `target` for a session (`session_tag` names it in the log).
pub fn start(
    target: &McpTarget,
    reporter: Reporter,
    session_tag: &str,
    permit: Option<OwnedSemaphorePermit>,
    http: &reqwest::Client,
    cfg_backends: &[crate::config::NamedBackend],
) -> Upstream {
    if let Some(s) = &target.stdio {
        return match StdioConn::spawn(s, &target.name, reporter, session_tag, permit) {
            Ok(c) => Upstream::Stdio(c),
            Err(e) => e,
        };
    }
    if let Some(m) = &target.mcp {
        return match remote_url(m, cfg_backends) {
            Ok(url) => {
                let mut headers = HeaderMap::new();
                if let Some(hm) = target
                    .policies
                    .as_ref()
                    .and_then(|p| p.request_header_modifier.as_ref())
                {
                    if let Err(e) = hm.apply(&mut headers) {
                        return Upstream::Failed(format!(
                            "target `{}`: requestHeaderModifier: {e}",
                            target.name
                        ));
                    }
                }
                Upstream::Remote(RemoteConn::new(
                    url,
                    http.clone(),
                    headers,
                    reporter,
                    target.name.clone(),
                ))
            }
            Err(e) => Upstream::Failed(e),
        };
    }
    Upstream::Failed(format!(
        "target `{}`: {} targets are not supported by `agw serve` (stdio and mcp are)",
        target.name,
        target.kind()
    ))
}

/// The URL of a Streamable HTTP target, from any of its three forms.
pub fn remote_url(
    t: &HttpTarget,
    backends: &[crate::config::NamedBackend],
) -> Result<String, String> {
    let path = t.path.clone().unwrap_or_else(|| "/mcp".into());
    if let Some(name) = &t.backend {
        let b = backends
            .iter()
            .find(|b| &b.name == name)
            .ok_or_else(|| format!("no backend named `{name}`"))?;
        let host = b
            .host
            .as_deref()
            .ok_or_else(|| format!("backend `{name}` is not a `host:` backend"))?;
        return Ok(format!("http://{host}{path}"));
    }
    let host = t.host.as_deref().ok_or("the target has no host")?;
    if host.starts_with("http://") || host.starts_with("https://") {
        let uri: http::Uri = host.parse().map_err(|e| format!("`{host}`: {e}"))?;
        if uri.path() == "/" && !host.ends_with('/') {
            return Ok(format!("{host}{path}"));
        }
        return Ok(host.to_string());
    }
    match t.port {
        Some(port) => Ok(format!("http://{host}:{port}{path}")),
        None => Ok(format!("http://{host}{path}")),
    }
}

// ---------------------------------------------------------------------------------------------
// stdio

pub struct StdioConn {
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    pub pid: Option<u32>,
    exited: Arc<AtomicBool>,
}

impl StdioConn {
    fn spawn(
        t: &StdioTarget,
        name: &str,
        reporter: Reporter,
        session_tag: &str,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<StdioConn, Upstream> {
        let mut cmd = Command::new(&t.cmd);
        cmd.args(&t.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        if t.clear_env == Some(true) {
            cmd.env_clear();
        }
        cmd.envs(&t.env);
        let mut child = cmd.spawn().map_err(|e| {
            let msg = format!("cannot start `{}` for target `{name}`: {e}", t.cmd);
            if out_of_resources(&e) {
                Upstream::Exhausted(msg)
            } else {
                Upstream::Failed(msg)
            }
        })?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let exited = Arc::new(AtomicBool::new(false));
        tracing::info!(session = %session_tag, mcp_target = %name, pid = pid.unwrap_or(0), cmd = %t.cmd, "started MCP server");

        let sid = session_tag.to_string();
        let tname = name.to_string();
        tokio::spawn(log_stderr(stderr, sid, tname));

        let sid = session_tag.to_string();
        let tname = name.to_string();
        let exited2 = exited.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::with_capacity(64 * 1024, stdout);
            let mut buf = Vec::with_capacity(4096);
            let mut overlong = false;
            loop {
                buf.clear();
                let n = match (&mut reader)
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(session = %sid, mcp_target = %tname, error = %e, "reading the MCP server failed");
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                if buf.len() > MAX_LINE {
                    overlong = true;
                    break;
                }
                let line = trim_line(&buf);
                if line.is_empty() {
                    continue;
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(msg) => reporter.message(msg),
                    Err(_) => {
                        tracing::warn!(session = %sid, mcp_target = %tname, line = %String::from_utf8_lossy(&line[..line.len().min(200)]), "the MCP server wrote a line that is not JSON-RPC on stdout");
                    }
                }
            }
            let status = child.wait().await;
            exited2.store(true, Ordering::SeqCst);
            drop(permit);
            let reason = match status {
                _ if overlong => {
                    format!("MCP server `{tname}` wrote a message larger than {MAX_LINE} bytes")
                }
                Ok(s) => format!("MCP server `{tname}` exited ({})", describe_status(s)),
                Err(e) => format!("MCP server `{tname}` could not be waited for: {e}"),
            };
            tracing::info!(session = %sid, mcp_target = %tname, "{reason}");
            reporter.ended(reason);
        });
        Ok(StdioConn {
            stdin: tokio::sync::Mutex::new(stdin),
            pid,
            exited,
        })
    }

    async fn send(&self, msg: &Value) -> Result<(), String> {
        let mut line = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        line.push(b'\n');
        let mut g = self.stdin.lock().await;
        let Some(stdin) = g.as_mut() else {
            return Err("the MCP server has stopped".into());
        };
        stdin
            .write_all(&line)
            .await
            .map_err(|e| format!("cannot write to the MCP server: {e}"))?;
        stdin
            .flush()
            .await
            .map_err(|e| format!("cannot write to the MCP server: {e}"))
    }

    /// Closes stdin, then SIGTERM to the process group, then SIGKILL two seconds later.
    fn close(&self) {
        if let Ok(mut g) = self.stdin.try_lock() {
            g.take();
        }
        let Some(pid) = self.pid else { return };
        let exited = self.exited.clone();
        if exited.load(Ordering::SeqCst) {
            return;
        }
        signal_group(pid, libc::SIGTERM);
        tokio::spawn(async move {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if exited.load(Ordering::SeqCst) {
                    return;
                }
            }
            signal_group(pid, libc::SIGKILL);
        });
    }
}

/// Whether starting a process failed for lack of a resource that frees up again (file
/// descriptors, processes, memory) rather than because of the command.
fn out_of_resources(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::EAGAIN | libc::ENOMEM)
    )
}

fn signal_group(pid: u32, sig: i32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: kill(2) with a negative pid signals the process group that `process_group(0)`
    // created for the child; it touches no memory.
    unsafe {
        libc::kill(-pid, sig);
    }
}

/// The longest piece of a child's stderr logged as one line (a longer line is logged in pieces).
const MAX_STDERR_LINE: usize = 16 * 1024;

/// Logs what a child writes on stderr, line by line, until the child closes it. Bytes, not
/// text: a line that is not UTF-8 is logged lossily, and the pipe stays open (a child whose
/// stderr closes dies on its next write).
async fn log_stderr(stderr: tokio::process::ChildStderr, session: String, name: String) {
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::with_capacity(1024);
    let mut errors = 0;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_STDERR_LINE as u64)
            .read_until(b'\n', &mut buf)
            .await;
        match read {
            Ok(0) => return,
            Ok(_) => {
                errors = 0;
                let line = String::from_utf8_lossy(trim_line(&buf));
                tracing::info!(target: "agw::child", session = %session, mcp_target = %name, "{line}");
            }
            Err(e) => {
                errors += 1;
                if errors > 100 {
                    tracing::warn!(session = %session, mcp_target = %name, error = %e, "cannot read the MCP server's stderr any more");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn trim_line(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && matches!(b[start], b' ' | b'\t') {
        start += 1;
    }
    &b[start..end]
}

fn describe_status(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Streamable HTTP

pub struct RemoteConn {
    inner: Arc<RemoteInner>,
}

struct RemoteInner {
    url: String,
    client: reqwest::Client,
    headers: HeaderMap,
    reporter: Reporter,
    name: String,
    session_id: Mutex<Option<HeaderValue>>,
    protocol_version: Mutex<Option<HeaderValue>>,
    get_stream: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

const MCP_SESSION_ID: &str = "mcp-session-id";
const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";

impl RemoteConn {
    fn new(
        url: String,
        client: reqwest::Client,
        headers: HeaderMap,
        reporter: Reporter,
        name: String,
    ) -> RemoteConn {
        RemoteConn {
            inner: Arc::new(RemoteInner {
                url,
                client,
                headers,
                reporter,
                name,
                session_id: Mutex::new(None),
                protocol_version: Mutex::new(None),
                get_stream: Mutex::new(None),
                closed: AtomicBool::new(false),
            }),
        }
    }

    fn send(&self, msg: Value) {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.post(msg).await });
    }

    fn close(&self) {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(h) = self.inner.get_stream.lock().unwrap().take() {
            h.abort();
        }
        let sid = self.inner.session_id.lock().unwrap().clone();
        if let Some(sid) = sid {
            let inner = self.inner.clone();
            tokio::spawn(async move {
                let _ = inner
                    .client
                    .delete(&inner.url)
                    .headers(inner.headers.clone())
                    .header(MCP_SESSION_ID, sid)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
            });
        }
    }
}

impl RemoteInner {
    fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .request(method, &self.url)
            .headers(self.headers.clone());
        if let Some(sid) = self.session_id.lock().unwrap().clone() {
            rb = rb.header(MCP_SESSION_ID, sid);
        }
        if let Some(v) = self.protocol_version.lock().unwrap().clone() {
            rb = rb.header(MCP_PROTOCOL_VERSION, v);
        }
        rb
    }

    /// Answers a request that could not be delivered with a JSON-RPC error.
    fn fail(&self, msg: &Value, text: String) {
        tracing::warn!(mcp_target = %self.name, url = %crate::diag::redact::mask_url_credentials(&self.url), "{text}");
        if let (Some(id), Some(_)) = (msg.get("id"), msg.get("method")) {
            self.reporter
                .message(super::rpc_error(id.clone(), -32000, &text));
        }
    }

    async fn post(self: Arc<Self>, msg: Value) {
        let is_init = msg.get("method").and_then(Value::as_str) == Some("initialize");
        let is_initialized =
            msg.get("method").and_then(Value::as_str) == Some("notifications/initialized");
        let body = serde_json::to_vec(&msg).unwrap_or_default();
        let resp = self
            .request(reqwest::Method::POST)
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .timeout(Duration::from_secs(300))
            .body(body)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return self.fail(
                    &msg,
                    format!(
                        "MCP server `{}` unreachable: {}",
                        self.name,
                        e.without_url()
                    ),
                );
            }
        };
        let status = resp.status();
        if is_init {
            if let Some(sid) = resp.headers().get(MCP_SESSION_ID) {
                *self.session_id.lock().unwrap() = Some(sid.clone());
            }
        }
        if status == reqwest::StatusCode::NOT_FOUND && self.session_id.lock().unwrap().is_some() {
            let reason = format!("MCP server `{}` ended its session (HTTP 404)", self.name);
            self.fail(&msg, reason.clone());
            self.reporter.ended(reason);
            return;
        }
        if !status.is_success() {
            return self.fail(
                &msg,
                format!(
                    "MCP server `{}` answered HTTP {}",
                    self.name,
                    status.as_u16()
                ),
            );
        }
        if is_initialized {
            self.clone().open_get_stream();
        }
        if status == reqwest::StatusCode::ACCEPTED {
            return;
        }
        let ct = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            let answered = self.read_sse(resp, is_init).await;
            if !answered && msg.get("id").is_some() && msg.get("method").is_some() {
                self.fail(
                    &msg,
                    format!(
                        "MCP server `{}` closed the stream without an answer",
                        self.name
                    ),
                );
            }
            return;
        }
        match read_all(resp, 64 * 1024 * 1024).await {
            Ok(b) if b.is_empty() => {}
            Ok(b) => match serde_json::from_slice::<Value>(&b) {
                Ok(Value::Array(msgs)) => msgs
                    .into_iter()
                    .for_each(|m| self.note_and_deliver(m, is_init)),
                Ok(m) => self.note_and_deliver(m, is_init),
                Err(e) => self.fail(
                    &msg,
                    format!("MCP server `{}` answered invalid JSON: {e}", self.name),
                ),
            },
            Err(e) => self.fail(&msg, format!("MCP server `{}`: {e}", self.name)),
        }
    }

    fn note_and_deliver(&self, m: Value, is_init: bool) {
        if is_init {
            if let Some(v) = m
                .pointer("/result/protocolVersion")
                .and_then(Value::as_str)
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                *self.protocol_version.lock().unwrap() = Some(v);
            }
        }
        self.reporter.message(m);
    }

    /// Reads SSE events until the stream ends; true when a response was among them.
    async fn read_sse(&self, mut resp: reqwest::Response, is_init: bool) -> bool {
        let mut buf = BytesMut::new();
        let mut answered = false;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => buf.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(mcp_target = %self.name, error = %e.without_url(), "SSE stream ended");
                    break;
                }
            }
            while let Some(ev) = next_event(&mut buf) {
                if let Ok(m) = serde_json::from_str::<Value>(&ev) {
                    if m.get("method").is_none() && m.get("id").is_some() {
                        answered = true;
                    }
                    self.note_and_deliver(m, is_init);
                }
            }
            if buf.len() > 64 * 1024 * 1024 {
                break;
            }
        }
        answered
    }

    fn open_get_stream(self: Arc<Self>) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        let h = tokio::spawn(async move {
            let resp = me
                .request(reqwest::Method::GET)
                .header(ACCEPT, "text/event-stream")
                .send()
                .await;
            if let Ok(r) = resp {
                if r.status().is_success() {
                    me.read_sse(r, false).await;
                }
            }
        });
        *self.get_stream.lock().unwrap() = Some(h);
    }
}

async fn read_all(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    while let Some(c) = resp
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if buf.len() + c.len() > cap {
            return Err(format!("answer larger than {cap} bytes"));
        }
        buf.extend_from_slice(&c);
    }
    Ok(buf)
}

/// Takes one complete SSE event from `buf` and returns its data (only `message` events).
fn next_event(buf: &mut BytesMut) -> Option<String> {
    loop {
        let text = &buf[..];
        let (end, sep) = find_blank_line(text)?;
        let raw = String::from_utf8_lossy(&text[..end]).into_owned();
        buf.advance(end + sep);
        let mut event = "message".to_string();
        let mut data = Vec::new();
        for line in raw.lines() {
            if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            }
        }
        if event == "message" && !data.is_empty() {
            return Some(data.join("\n"));
        }
    }
}

fn find_blank_line(b: &[u8]) -> Option<(usize, usize)> {
    (0..b.len()).find_map(|i| {
        if b[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else if b[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events() {
        let mut b = BytesMut::from(&b"event: message\ndata: {\"a\":1}\n\n: ping\n\nevent: message\r\ndata: {\"b\":2}\r\n\r\npartial"[..]);
        assert_eq!(next_event(&mut b).as_deref(), Some("{\"a\":1}"));
        assert_eq!(next_event(&mut b).as_deref(), Some("{\"b\":2}"));
        assert_eq!(next_event(&mut b), None);
        assert_eq!(&b[..], b"partial");
    }

    #[test]
    fn urls() {
        let t = |v: serde_json::Value| serde_json::from_value::<HttpTarget>(v).unwrap();
        assert_eq!(
            remote_url(
                &t(serde_json::json!({"host": "http://127.0.0.1:3001/mcp"})),
                &[]
            )
            .unwrap(),
            "http://127.0.0.1:3001/mcp"
        );
        assert_eq!(
            remote_url(
                &t(serde_json::json!({"host": "http://127.0.0.1:3001"})),
                &[]
            )
            .unwrap(),
            "http://127.0.0.1:3001/mcp"
        );
        assert_eq!(
            remote_url(
                &t(serde_json::json!({"host": "localhost", "port": 8080, "path": "/x"})),
                &[]
            )
            .unwrap(),
            "http://localhost:8080/x"
        );
    }
}
