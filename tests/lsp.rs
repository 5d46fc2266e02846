//! `agw lsp` driven over the Language Server Protocol, as an editor drives it: initialize,
//! didOpen, didChange, hover, code action, configuration, malformed requests, shutdown. Every
//! position is checked against `agw check`'s own.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::{agw, fixture};
use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(init_options: Value, position_encodings: Option<Value>) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_agw"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || loop {
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming,
            next_id: 0,
        };
        let mut caps = json!({});
        if let Some(e) = position_encodings {
            caps = json!({"general": {"positionEncodings": e}});
        }
        let r = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": caps, "initializationOptions": init_options}),
        );
        assert!(r["result"]["capabilities"]["hoverProvider"] == true, "{r}");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id)
    }

    /// The next message that `pred` accepts; others (diagnostics of other files) are dropped.
    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self
                .incoming
                .recv_timeout(Duration::from_secs(30))
                .expect("agw lsp answers");
            if pred(&m) {
                return m;
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        self.diagnostics(uri)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri_of(path: &str) -> String {
    format!("file://{path}")
}

fn codes(d: &[Value]) -> Vec<&str> {
    d.iter().map(|x| x["code"].as_str().unwrap()).collect()
}

/// The Okta example gives the findings `agw check` gives, at the same places; a code action
/// allows one, and its diagnostic goes away.
#[test]
fn diagnostics_match_agw_check_and_an_allow_action_removes_one() {
    let path = fixture("okta/config.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = uri_of(&path);
    let mut c = Client::start(json!({"processEnv": false}), None);
    let diags = c.open(&uri, &text);
    let r = agw(&["check", "--format", "json", "--no-process-env", &path]);
    let cli: Value = serde_json::from_str(&r.stdout).unwrap();
    let cli = cli["files"][0]["diagnostics"].as_array().unwrap().clone();
    assert_eq!(diags.len(), cli.len(), "{diags:#?}");
    for (l, k) in diags.iter().zip(&cli) {
        assert_eq!(l["code"], k["rule"]);
        assert_eq!(l["range"]["start"]["line"], k["line"].as_u64().unwrap() - 1);
        assert_eq!(
            l["range"]["start"]["character"],
            k["column"].as_u64().unwrap() - 1
        );
        assert_eq!(l["source"], "agw");
        let rule = k["rule"].as_str().unwrap();
        let href = l["codeDescription"]["href"].as_str().unwrap();
        assert!(
            href.ends_with(&format!("#{}", rule.replace('/', "-"))),
            "{href}"
        );
    }
    // a quick fix on the first placeholder: an allow comment above its line
    let placeholder = diags
        .iter()
        .find(|d| d["code"] == "placeholder/value")
        .unwrap()
        .clone();
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": placeholder["range"], "context": {"diagnostics": [placeholder]}}),
    );
    let actions = r["result"].as_array().unwrap();
    let action = actions
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("placeholder/value"))
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(action["kind"], "quickfix");
    let edit = &action["edit"]["changes"][&uri][0];
    assert_eq!(edit["range"]["start"]["character"], 0);
    let line = edit["range"]["start"]["line"].as_u64().unwrap() as usize;
    let mut lines: Vec<&str> = text.lines().collect();
    let inserted = edit["newText"]
        .as_str()
        .unwrap()
        .trim_end_matches('\n')
        .to_string();
    assert!(
        inserted.ends_with("# agw: allow placeholder/value"),
        "{inserted}"
    );
    lines.insert(line, &inserted);
    let fixed = lines.join("\n") + "\n";
    let after = c.change(&uri, 2, &fixed);
    assert_eq!(after.len(), diags.len() - 1, "{after:#?}");
    assert!(
        !codes(&after).contains(&"suppress/unused-allow"),
        "{after:#?}"
    );
    // hover: the finding's rule, and a key from the schema
    let audiences = diags
        .iter()
        .find(|d| d["code"] == "auth/audiences-missing")
        .map(|d| d["range"]["start"].clone());
    if let Some(pos) = audiences {
        let h = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": pos}),
        );
        let md = h["result"]["contents"]["value"].as_str().unwrap();
        assert!(md.contains("auth/audiences-missing"), "{md}");
    }
    let mode_line = fixed
        .lines()
        .position(|l| l.trim_start().starts_with("mode:"))
        .unwrap();
    let col = fixed.lines().nth(mode_line).unwrap().find("mode").unwrap() + 1;
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": mode_line, "character": col}}),
    );
    let md = h["result"]["contents"]["value"].as_str().unwrap();
    assert!(md.contains("`strict`"), "{md}");
    let r = c.request("shutdown", Value::Null);
    assert!(r["result"].is_null(), "{r}");
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success());
}

const EMOJI: &str =
    "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - {name: \"é😀\", nope: 1}\n";

/// Columns are counted in the negotiated encoding: UTF-16 units by default, UTF-8 bytes when
/// the client offers them.
#[test]
fn positions_follow_the_negotiated_encoding() {
    let col_bytes = EMOJI.lines().nth(4).unwrap().find("nope").unwrap();
    let col_utf16 = EMOJI.lines().nth(4).unwrap()[..col_bytes]
        .encode_utf16()
        .count();
    assert_ne!(col_bytes, col_utf16);
    for (offered, expect) in [
        (None, col_utf16),
        (Some(json!(["utf-8", "utf-16"])), col_bytes),
    ] {
        let mut c = Client::start(json!({}), offered);
        let d = c.open("file:///tmp/emoji.yaml", EMOJI);
        let unknown = d
            .iter()
            .find(|x| x["code"] == "schema/unknown-key")
            .unwrap();
        assert_eq!(unknown["range"]["start"]["line"], 4);
        assert_eq!(unknown["range"]["start"]["character"], expect, "{unknown}");
    }
}

/// Other YAML gets nothing; a half-typed file gets findings, never a crash; malformed requests
/// get errors and the server goes on; settings apply to open documents.
#[test]
fn robust_and_configurable() {
    let mut c = Client::start(json!({"processEnv": false}), None);
    assert!(c
        .open(
            "file:///tmp/compose.yaml",
            "services:\n  gw:\n    image: agentgateway\n"
        )
        .is_empty());
    let uri = "file:///tmp/half.yaml";
    let d = c.open(uri, "binds:\n- port: 30\n  listeners:\n  - rou");
    assert!(!d.is_empty());
    for (i, t) in [
        "binds:\n- port: [",
        "binds:\n\t- x",
        "mcp: {targets: [{name: a, stdio: {cmd:",
        "",
    ]
    .iter()
    .enumerate()
    {
        c.change(uri, 2 + i as i32, t);
    }
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request("textDocument/definition", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // an unset variable is an error; given in the settings, it is gone
    let env_uri = "file:///tmp/env.yaml";
    let text = "binds:\n- port: ${GW_PORT}\n  listeners:\n  - routes:\n    - backends:\n      - host: 127.0.0.1:80\n";
    assert_eq!(codes(&c.open(env_uri, text)), ["env/unset"]);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"agw": {"env": {"GW_PORT": "3000"}, "processEnv": false}}}),
    );
    let d = c.diagnostics(env_uri);
    assert!(d.is_empty(), "{d:#?}");
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "agw.nothing", "arguments": []}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
}

/// A real editor: headless Neovim opens the Okta example, shows agw's diagnostics, applies the
/// allow action of a placeholder finding, and the diagnostic goes away; then the fix of the
/// missing `audiences`, and that finding goes away.
#[test]
fn neovim_shows_the_findings_and_applies_a_code_action() {
    if !common::partners::tool("nvim") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("config.yaml");
    std::fs::copy(fixture("okta/config.yaml"), &file).unwrap();
    let out = tmp.path().join("nvim.out");
    let script = common::repo().join("tests/editors/nvim-agw.lua");
    let mut cmd = Command::new("nvim");
    cmd.args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .current_dir(tmp.path())
        .env("AGW_BIN", env!("CARGO_BIN_EXE_agw"))
        .env("AGW_FILE", &file)
        .env("AGW_NVIM_OUT", &out);
    let (code, _, err) = common::procs::run_bounded(&mut cmd, "", Duration::from_secs(90));
    let seen = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(code, 0, "{seen}{err}");
    let r = agw(&[
        "check",
        "--format",
        "json",
        "--no-process-env",
        &file.display().to_string(),
    ]);
    let cli: Value = serde_json::from_str(&r.stdout).unwrap();
    let cli = cli["files"][0]["diagnostics"].as_array().unwrap().clone();
    for d in &cli {
        let line = format!(
            "diag {}:{} {}",
            d["line"].as_u64().unwrap() - 1,
            d["column"].as_u64().unwrap() - 1,
            d["rule"].as_str().unwrap()
        );
        assert!(seen.contains(&line), "{line} not in:\n{seen}");
    }
    assert!(
        seen.contains("action Allow `placeholder/value` here"),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("after {}\n", cli.len() - 1)),
        "{seen}"
    );
    assert!(seen.contains("# agw: allow placeholder/value"), "{seen}");
    // the fix of the missing audiences, applied from the editor, removes that finding
    assert!(
        seen.contains("action Fix (unsafe, review it): add `audiences: [api://default]`"),
        "{seen}"
    );
    assert!(seen.contains("audiences fixed"), "{seen}");
    assert!(
        seen.contains("line           audiences: [api://default]"),
        "{seen}"
    );
}

/// A finding's fix is a quick fix (preferred when safe), and `source.fixAll.agw` applies every
/// safe fix at once; applying it removes those findings.
#[test]
fn fixes_are_code_actions_and_fix_all_applies_them() {
    let text = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation:\n          issuer: https://acme.okta.com/oauth2/default\n          jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}\n          audiences: [api://default]\n          resourceMetadata: {resource: 'http://localhost:3000/mcp'}\n      backends:\n      - mcp:\n          targets:\n          - name: e\n            stdio: {cmd: npx, args: ['@modelcontextprotocol/server-everything']}\n";
    let uri = "file:///tmp/fixable.yaml";
    let mut c = Client::start(json!({"processEnv": false}), None);
    let d = c.open(uri, text);
    assert_eq!(codes(&d), ["schema/unknown-key"], "{d:#?}");
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}});
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": []}}),
    );
    let actions = r["result"].as_array().unwrap().clone();
    let quick = actions
        .iter()
        .find(|a| a["title"] == "Fix: rename `mcpAuthentcation` to `mcpAuthentication`")
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(quick["isPreferred"], true);
    let all = actions
        .iter()
        .find(|a| a["kind"] == "source.fixAll.agw")
        .unwrap_or_else(|| panic!("{actions:#?}"));
    // the key typo and, once it is fixed, the npx finding the rules can then see
    assert_eq!(all["title"], "Fix all safe agw findings (2)", "{all}");
    let fixed = all["edit"]["changes"][uri][0]["newText"].as_str().unwrap();
    assert!(
        fixed.contains("mcpAuthentication:") && fixed.contains("args: ['-y', '@"),
        "{fixed}"
    );
    let after = c.change(uri, 2, fixed);
    assert!(after.is_empty(), "{after:#?}");
}

/// Completion offers the keys the model allows at the cursor (not those the mapping already
/// has) and the values of an enum, each replacing exactly the word typed; a YAML file that is
/// not a gateway configuration gets nothing.
#[test]
fn completion_offers_keys_and_enum_values() {
    let mut c = Client::start(json!({}), None);
    let uri = "file:///tmp/complete.yaml";
    let text = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - name: \"é\"\n      policies:\n        mcpAuthentication:\n          mode: st\n          iss\n      backends: []\n";
    c.open(uri, text);
    let items = |c: &mut Client, line: u32, character: u32| -> Vec<Value> {
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        r["result"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{r}"))
    };
    let keys = items(&mut c, 8, 13);
    let issuer = keys
        .iter()
        .find(|i| i["label"] == "issuer")
        .unwrap_or_else(|| panic!("{keys:#?}"));
    assert_eq!(
        issuer["textEdit"]["range"],
        json!({"start": {"line": 8, "character": 10}, "end": {"line": 8, "character": 13}})
    );
    assert_eq!(issuer["textEdit"]["newText"], "issuer: ");
    assert!(issuer["documentation"]["value"].as_str().is_some());
    assert!(
        !keys.iter().any(|i| i["label"] == "mode"),
        "`mode` is already there"
    );
    let values = items(&mut c, 7, 18);
    let labels: Vec<&str> = values.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"strict"), "{labels:?}");
    assert_eq!(
        values[0]["textEdit"]["range"]["start"],
        json!({"line": 7, "character": 16})
    );
    // the route's own keys: `name` (above) and `backends` (below) are there already
    let route = items(&mut c, 5, 6);
    let labels: Vec<&str> = route.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"matches"), "{labels:?}");
    assert!(!labels.contains(&"backends"), "{labels:?}");
    let other = "file:///tmp/other.yaml";
    c.open(other, "apiVersion: v1\nkind: ConfigMap\n");
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": other}, "position": {"line": 1, "character": 0}}),
    );
    assert!(r["result"].is_null(), "{r}");
}
