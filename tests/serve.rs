//! `agw serve` end to end, with real partners on loopback: the official MCP server as a stdio
//! and a Streamable HTTP target, the official TypeScript MCP client, and a real authorization
//! server. Skipped (with a message) when node or the packages of tests/js are missing.

mod common;
mod serve_support;

#[path = "serve/connections.rs"]
mod connections;
#[path = "serve/hardening.rs"]
mod hardening;
#[path = "serve/reload.rs"]
mod reload;
#[path = "serve/sessions.rs"]
mod sessions;

use std::time::Duration;

use serde_json::{json, Value};
use serve_support::*;

fn stdio_route(js: &std::path::Path, matches: &str, policies: &str) -> String {
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

fn bind(port: u16, routes: &str) -> String {
    format!("binds:\n- port: {port}\n  listeners:\n  - routes:\n{routes}")
}

#[test]
fn refuses_a_file_with_errors_and_prints_the_check_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - backends:\n      - mcp:\n          targets:\n          - name: tools\n            stdio: {cmd: x}\n            polices: {}\n",
    )
    .unwrap();
    let (code, out, err) = run_bounded(
        std::process::Command::new(env!("CARGO_BIN_EXE_agw"))
            .arg("serve")
            .arg(&f)
            .env("NO_COLOR", "1"),
        Duration::from_secs(20),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("polices"), "{err}");
    assert!(err.contains("does not pass `agw check`"), "{err}");
}

#[test]
fn stdio_target_with_the_official_client_and_request_log() {
    let Some(js) = js_dir("stdio_target_with_the_official_client_and_request_log") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(&bind(port, &stdio_route(&js, "", "")), port, &[]);
    let (code, out, err) = client_static(&js, &agw.url("/mcp"), "unused");
    assert_eq!(code, 0, "{out}\n{err}\n{}", agw.log.all());
    assert!(out.contains("tools: echo,"), "{out}");
    assert!(
        out.contains(r#"echo: [{"type":"text","text":"Echo: hi"}]"#),
        "{out}"
    );
    let line = agw
        .log
        .wait(
            &[
                "agw::request",
                "method=POST",
                "path=/mcp",
                "status=200",
                "route=mcp",
            ],
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("no request line:\n{}", agw.log.all()));
    assert!(line.contains("latency_ms="), "{line}");
    // the session was ended by the client: its child is stopped
    assert!(
        agw.log
            .wait(&["MCP server `tools` exited"], Duration::from_secs(10))
            .is_some(),
        "{}",
        agw.log.all()
    );
}

#[test]
fn streamable_http_status_cases() {
    let Some(js) = js_dir("streamable_http_status_cases") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(&bind(port, &stdio_route(&js, "", "")), port, &[]);
    let url = agw.url("/mcp");
    let init = Some(initialize_body());
    // 406: Accept without text/event-stream
    let r = http(
        "POST",
        &url,
        &[("accept", "application/json"), JSON_CT],
        init,
    );
    assert_eq!(r.status, 406, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], -32000);
    // 415: not JSON
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, ("content-type", "text/plain")],
        init,
    );
    assert_eq!(r.status, 415);
    // 400: no session id on a non-initialize request
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let r = http("POST", &url, &[MCP_ACCEPT, JSON_CT], Some(list));
    assert_eq!(r.status, 400, "{}", r.body);
    // 400: not JSON at all
    let r = http("POST", &url, &[MCP_ACCEPT, JSON_CT], Some("{nope"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32700);
    // 404: unknown session
    let r = rpc(&url, "no-such-session", &[], list);
    assert_eq!(r.status, 404, "{}", r.body);
    // 405: other methods
    let r = http("PUT", &url, &[], None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), "GET, POST, DELETE");

    let sid = open_session(&url, &[]);
    let r = rpc(&url, &sid, &[], list);
    assert_eq!(r.status, 200);
    let tools = r.message()["result"]["tools"].as_array().unwrap().len();
    assert!(tools > 5, "{}", r.body);
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"get-sum","arguments":{"a":2,"b":3}}}"#,
    );
    let m = r.message();
    assert_eq!(m["id"], "s");
    assert!(m.to_string().contains('5'), "{m}");
    // GET without an SSE Accept is 406; DELETE ends the session; then 404
    let r = http("GET", &url, &[("mcp-session-id", &sid)], None);
    assert_eq!(r.status, 406);
    let r = http("DELETE", &url, &[("mcp-session-id", &sid)], None);
    assert_eq!(r.status, 200);
    let r = rpc(&url, &sid, &[], list);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("ended the session"), "{}", r.body);
}

#[test]
fn challenge_metadata_and_cors() {
    let Some(js) = js_dir("challenge_metadata_and_cors") else {
        return;
    };
    let port = free_port();
    let matches = "      matches:\n      - path: {exact: /mcp}\n      - path: {exact: /.well-known/oauth-protected-resource/mcp}\n";
    let policies = r#"      policies:
        cors:
          allowOrigins: ["http://app.example"]
          allowHeaders: [authorization, content-type, mcp-protocol-version]
          allowMethods: [GET, POST, DELETE]
          exposeHeaders: [Mcp-Session-Id]
          maxAge: 1m30s
        mcpAuthentication:
          issuer: http://127.0.0.1:9/oauth2/default
          audiences: [api://default]
          jwks:
            url: http://127.0.0.1:9/oauth2/default/v1/keys
          resourceMetadata:
            scopesSupported: [mcp:tools]
            bearerMethodsSupported: [header]
"#;
    let agw = Agw::start(&bind(port, &stdio_route(&js, matches, policies)), port, &[]);
    let url = agw.url("/mcp");
    let base = format!("http://127.0.0.1:{port}");

    // no token: 401, exact body and challenge, no error= parameter; CORS headers too
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT, ("origin", "http://app.example")],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.json(),
        json!({"error":"unauthorized","error_description":"JWT token required"})
    );
    assert_eq!(
        r.header("www-authenticate"),
        format!("Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\"")
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        "http://app.example"
    );
    assert_eq!(r.header("access-control-expose-headers"), "Mcp-Session-Id");

    // a bad token: 401 with error="invalid_token"; X-Forwarded-Proto changes the base
    let r = http(
        "POST",
        &url,
        &[
            MCP_ACCEPT,
            JSON_CT,
            ("authorization", "Bearer not.a.token"),
            ("x-forwarded-proto", "https"),
        ],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        format!("Bearer resource_metadata=\"https://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\"")
    );
    assert!(!agw.log.all().contains("not.a.token"));

    // protected resource metadata, without a token
    let r = http(
        "GET",
        &agw.url("/.well-known/oauth-protected-resource/mcp"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    assert_eq!(doc["resource"], format!("{base}/mcp"));
    assert_eq!(
        doc["authorization_servers"],
        json!(["http://127.0.0.1:9/oauth2/default"])
    );
    assert_eq!(doc["mcp_protocol_version"], "2025-06-18");
    assert_eq!(doc["resource_type"], "mcp-server");
    assert_eq!(doc["scopes_supported"], json!(["mcp:tools"]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert_eq!(r.header("access-control-allow-origin"), "*");
    assert_eq!(r.header("access-control-allow-methods"), "GET, OPTIONS");
    assert_eq!(r.header("access-control-allow-headers"), "content-type");

    // preflight answered directly (before authentication)
    let r = http(
        "OPTIONS",
        &url,
        &[
            ("origin", "http://app.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "authorization"),
        ],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        "http://app.example"
    );
    assert_eq!(r.header("access-control-allow-methods"), "GET,POST,DELETE");
    assert_eq!(
        r.header("access-control-allow-headers"),
        "authorization,content-type,mcp-protocol-version"
    );
    assert_eq!(r.header("access-control-max-age"), "90");
    // an origin not allowed gets no CORS headers
    let r = http(
        "OPTIONS",
        &url,
        &[
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(r.header("access-control-allow-origin"), "");
    // a path no route matches
    let r = http("GET", &agw.url("/other"), &[], None);
    assert_eq!(r.status, 404);
}

#[test]
fn authorization_server_metadata_and_registration_for_okta() {
    let Some(js) = js_dir("authorization_server_metadata_and_registration_for_okta") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/oidc-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}/oauth2/default", asrv.port);
    let port = free_port();
    let matches = "      matches:\n      - path: {pathPrefix: /mcp}\n      - path: {pathPrefix: /.well-known}\n";
    let policies = format!(
        r#"      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: ["api://default"]
          provider:
            okta: {{}}
          jwks:
            url: {issuer}/v1/keys
          clientId: agw-public-client
          resourceMetadata: {{}}
"#
    );
    let agw = Agw::start(
        &bind(port, &stdio_route(&js, matches, &policies)),
        port,
        &[],
    );
    let base = format!("http://127.0.0.1:{port}");
    // with a provider, the gateway names itself as the authorization server
    let prm = http(
        "GET",
        &agw.url("/.well-known/oauth-protected-resource/mcp"),
        &[],
        None,
    )
    .json();
    assert_eq!(prm["authorization_servers"], json!([format!("{base}/mcp")]));
    let r = http(
        "GET",
        &agw.url("/.well-known/oauth-authorization-server/mcp"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}\n{}", r.body, agw.log.all());
    let doc = r.json();
    assert_eq!(doc["issuer"], base);
    assert_eq!(doc["token_endpoint"], format!("{issuer}/v1/token"));
    let ae = doc["authorization_endpoint"].as_str().unwrap();
    assert!(ae.ends_with("?audience=api%3A%2F%2Fdefault"), "{ae}");
    assert_eq!(
        doc["registration_endpoint"],
        format!("{base}/.well-known/oauth-authorization-server/mcp/client-registration")
    );
    // the registration short-circuit hands out the configured client
    let r = http(
        "POST",
        doc["registration_endpoint"].as_str().unwrap(),
        &[JSON_CT],
        Some(r#"{"redirect_uris":["http://localhost:5173/cb"],"client_name":"x"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = r.json();
    assert_eq!(reg["client_id"], "agw-public-client");
    assert_eq!(reg["redirect_uris"], json!(["http://localhost:5173/cb"]));
    assert_eq!(r.header("access-control-allow-origin"), "*");
}

#[test]
fn child_killed_mid_session_ends_it_with_a_clear_error() {
    let Some(js) = js_dir("child_killed_mid_session_ends_it_with_a_clear_error") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(&bind(port, &stdio_route(&js, "", "")), port, &[]);
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    let line = agw
        .log
        .wait(&["started MCP server", &sid[..8]], Duration::from_secs(5))
        .unwrap();
    let pid: u32 = line
        .split("pid=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(alive(pid));
    // a long call in flight when the child dies gets a JSON-RPC error
    let url2 = url.clone();
    let sid2 = sid.clone();
    let inflight = std::thread::spawn(move || {
        rpc(
            &url2,
            &sid2,
            &[],
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":30,"steps":3}}}"#,
        )
    });
    std::thread::sleep(Duration::from_millis(700));
    signal(pid, "-KILL");
    let r = inflight.join().unwrap();
    let m = r.message();
    assert_eq!(m["id"], 7, "{}", r.body);
    let msg = m["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("MCP server `tools` exited"), "{}", r.body);
    assert!(msg.contains("signal 9"), "{msg}");
    // later requests learn the session is gone, and why
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#,
    );
    assert_eq!(r.status, 404);
    assert!(r.body.contains("exited"), "{}", r.body);
    // a new session works
    let sid3 = open_session(&url, &[]);
    assert_ne!(sid3, sid);
}

#[test]
fn reload_applies_good_versions_and_keeps_serving_on_a_broken_one() {
    let port = free_port();
    let cfg = |body: &str| {
        format!(
            "binds:\n- port: {port}\n  listeners:\n  - routes:\n    - policies:\n        directResponse:\n          body: {body}\n          status: 200\n"
        )
    };
    let agw = Agw::start(&cfg("v1"), port, &[]);
    assert_eq!(http("GET", &agw.url("/"), &[], None).body, "v1");
    // broken: an unknown key; the old version keeps serving, the diagnostics are logged
    std::fs::write(
        agw.config_path(),
        cfg("v2").replace("directResponse", "directRespons"),
    )
    .unwrap();
    assert!(
        agw.log
            .wait(&["reload refused"], Duration::from_secs(10))
            .is_some(),
        "{}",
        agw.log.all()
    );
    assert!(agw.log.all().contains("directRespons"), "{}", agw.log.all());
    assert_eq!(http("GET", &agw.url("/"), &[], None).body, "v1");
    // good again: the new version goes live without a restart
    std::fs::write(agw.config_path(), cfg("v3")).unwrap();
    assert!(agw
        .log
        .wait(&["configuration reloaded"], Duration::from_secs(10))
        .is_some());
    assert_eq!(http("GET", &agw.url("/"), &[], None).body, "v3");
    // a new port: listened on; the old one closed
    let other = free_port();
    std::fs::write(
        agw.config_path(),
        cfg("v4").replace(&format!("port: {port}"), &format!("port: {other}")),
    )
    .unwrap();
    assert!(
        agw.log
            .wait(
                &["configuration reloaded", "generation=3"],
                Duration::from_secs(10)
            )
            .is_some(),
        "{}",
        agw.log.all()
    );
    assert_eq!(
        http("GET", &format!("http://127.0.0.1:{other}/"), &[], None).body,
        "v4"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_target_that_cannot_start_is_reported_to_the_client() {
    let port = free_port();
    let cfg = bind(
        port,
        "    - backends:\n      - mcp:\n          targets:\n          - name: tools\n            stdio: {cmd: /nonexistent/mcp-server}\n",
    );
    let agw = Agw::start(&cfg, port, &[]);
    let r = http(
        "POST",
        &agw.url("/mcp"),
        &[MCP_ACCEPT, JSON_CT],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 502, "{}", r.body);
    let m = r.json();
    assert_eq!(m["id"], 1);
    let msg = m["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("cannot start `/nonexistent/mcp-server` for target `tools`"),
        "{msg}"
    );
}

#[test]
fn sigterm_drains_and_stops_child_processes() {
    let Some(js) = js_dir("sigterm_drains_and_stops_child_processes") else {
        return;
    };
    let port = free_port();
    let mut agw = Agw::start(&bind(port, &stdio_route(&js, "", "")), port, &[]);
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    let line = agw
        .log
        .wait(&["started MCP server", &sid[..8]], Duration::from_secs(5))
        .unwrap();
    let pid: u32 = line
        .split("pid=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // a call in flight when SIGTERM arrives is answered before the child is stopped
    let (u2, s2) = (url.clone(), sid.clone());
    let call = std::thread::spawn(move || {
        rpc(
            &u2,
            &s2,
            &[],
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":2,"steps":2}}}"#,
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        agw.terminate(Duration::from_secs(15)),
        Some(0),
        "{}",
        agw.log.all()
    );
    let r = call.join().unwrap();
    let m = r.message();
    assert!(
        m["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("completed"),
        "{}",
        r.body
    );
    for _ in 0..50 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "child {pid} still running");
    assert!(agw.log.all().contains("stopped"));
}

#[test]
fn remote_target_and_two_targets_multiplexed() {
    let Some(js) = js_dir("remote_target_and_two_targets_multiplexed") else {
        return;
    };
    let remote = Node::start(
        &js,
        &[&everything(&js), "streamableHttp"],
        "listening on port",
    );
    let port = free_port();
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - routes:
    - name: one
      matches: [{{path: {{exact: /one}}}}]
      backends:
      - mcp:
          targets:
          - name: remote
            mcp:
              host: http://127.0.0.1:{rport}/mcp
    - name: both
      matches: [{{path: {{exact: /both}}}}]
      backends:
      - mcp:
          targets:
          - name: local
            stdio: {{cmd: {cmd}, args: [stdio]}}
          - name: remote
            mcp:
              host: http://127.0.0.1:{rport}/mcp
"#,
        rport = remote.port,
        cmd = everything(&js)
    );
    let agw = Agw::start(&cfg, port, &[]);
    // one remote target, through the official client
    let (code, out, err) = client_static(&js, &agw.url("/one"), "unused");
    assert_eq!(code, 0, "{out}\n{err}\n{}", agw.log.all());
    assert!(out.contains("Echo: hi"), "{out}");

    // two targets: names prefixed, calls routed by prefix
    let url = agw.url("/both");
    let sid = open_session(&url, &[]);
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    );
    let names: Vec<String> = r.message()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"local_echo".to_string()), "{names:?}");
    assert!(names.contains(&"remote_echo".to_string()), "{names:?}");
    assert!(!names.contains(&"echo".to_string()));
    for t in ["local", "remote"] {
        let r = rpc(
            &url,
            &sid,
            &[],
            &format!(
                r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"{t}_echo","arguments":{{"message":"via {t}"}}}}}}"#
            ),
        );
        let m = r.message();
        assert_eq!(
            m["result"]["content"][0]["text"],
            format!("Echo: via {t}"),
            "{m}"
        );
    }
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nobody_echo","arguments":{}}}"#,
    );
    assert_eq!(r.message()["error"]["code"], -32602);
    let r = http("DELETE", &url, &[("mcp-session-id", &sid)], None);
    assert_eq!(r.status, 200);
}

#[test]
fn plain_http_backend_is_proxied() {
    let Some(js) = js_dir("plain_http_backend_is_proxied") else {
        return;
    };
    let upstream = Node::start(
        &js,
        &[
            "node",
            "-e",
            "require('http').createServer((q,s)=>{s.setHeader('x-seen-auth', q.headers.authorization||'none');s.end(JSON.stringify({path:q.url,method:q.method,host:q.headers.host,x:q.headers['x-added']||''}))}).listen(process.env.PORT,'127.0.0.1',()=>console.log('ready'))",
        ],
        "ready",
    );
    let port = free_port();
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - routes:
    - name: rest
      matches: [{{path: {{pathPrefix: /api}}}}]
      policies:
        requestHeaderModifier:
          set: {{x-added: "yes"}}
        responseHeaderModifier:
          set: {{x-gateway: agw}}
      backends:
      - host: 127.0.0.1:{up}
"#,
        up = upstream.port
    );
    let agw = Agw::start(&cfg, port, &[]);
    let r = http("POST", &agw.url("/api/items?q=1"), &[], Some("{}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = r.json();
    assert_eq!(v["path"], "/api/items?q=1");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["x"], "yes");
    assert_eq!(r.header("x-gateway"), "agw");
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["kid"].as_str().unwrap_or_default().to_string()
}

#[test]
fn oidc_provider_tokens_static_and_discovery_flow_and_authorization() {
    let Some(js) = js_dir("oidc_provider_tokens_static_and_discovery_flow_and_authorization")
    else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/oidc-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}/oauth2/default", asrv.port);
    let rest = Node::start(
        &js,
        &[
            "node",
            "-e",
            "require('http').createServer((q,s)=>{s.end(JSON.stringify({auth:q.headers.authorization||'none'}))}).listen(process.env.PORT,'127.0.0.1',()=>console.log('ready'))",
        ],
        "ready",
    );
    let port = free_port();
    let audience = format!("http://127.0.0.1:{port}/mcp");
    let auth = format!(
        r#"        mcpAuthentication:
          issuer: {issuer}
          audiences: ["{audience}"]
          jwks:
            url: {issuer}/v1/keys
          resourceMetadata:
            scopesSupported: [mcp:tools]
"#
    );
    let policies = format!(
        "      policies:\n{auth}        mcpAuthorization:\n          rules:\n          - 'mcp.tool.name == \"echo\" || mcp.tool.name == \"get-sum\"'\n          - deny: 'mcp.tool.name == \"get-sum\" && !jwt.scope.contains(\"mcp:admin\")'\n"
    );
    let matches = "      matches:\n      - path: {exact: /mcp}\n      - path: {exact: /.well-known/oauth-protected-resource/mcp}\n";
    let cfg = format!(
        "{}    - name: rest\n      matches:\n      - path: {{pathPrefix: /api}}\n      policies:\n{auth}      backends:\n      - host: 127.0.0.1:{rest}\n",
        bind(port, &stdio_route(&js, matches, &policies)),
        rest = rest.port
    );
    let agw = Agw::start(&cfg, port, &[]);
    let url = agw.url("/mcp");
    let rs = oidc_token(&issuer, "agw-rs", &[("resource", &audience)]);

    // the official client with a static token: only the allowed tool is listed, and echo works
    let (code, out, err) = client_static(&js, &url, &rs);
    assert_eq!(code, 0, "{out}\n{err}\n{}", agw.log.all());
    assert!(out.contains("tools: echo\n"), "{out}");
    assert!(out.contains("Echo: hi"), "{out}");
    let line = agw
        .log
        .wait(
            &["agw::request", "status=200", "cid=agw-rs"],
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(!line.contains(&rs), "the token was logged");
    assert!(!agw.log.all().contains(&rs[20..]), "the token was logged");

    // the whole discovery flow: 401, metadata, client-credentials token, retry
    let (code, out, err) = run_bounded(
        std::process::Command::new("node")
            .args(["partners/client-cc.mjs", &url])
            .env("ISSUER", &issuer)
            .current_dir(&js),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{out}\n{err}\n{}", agw.log.all());
    assert!(out.contains("-> 401"), "{out}");
    assert!(out.contains("oauth-protected-resource/mcp -> 200"), "{out}");
    assert!(out.contains("tools: 1"), "{out}");

    // a denied call is refused, an allowed one answered (ES256 token this time)
    let es = oidc_token(
        &issuer,
        "agw-es",
        &[
            ("resource", &audience),
            ("client_id", "agw-es"),
            ("client_secret", "agw-secret"),
        ],
    );
    let bearer = format!("Bearer {es}");
    let sid = open_session(&url, &[("authorization", &bearer)]);
    let r = rpc(
        &url,
        &sid,
        &[("authorization", &bearer)],
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get-env","arguments":{}}}"#,
    );
    // the gateway's answer to a denied call: 400, and an error that does not say why
    assert_eq!(r.status, 400, "{}", r.body);
    let m = r.message();
    assert_eq!(m["error"]["code"], -32602, "{m}");
    assert_eq!(m["error"]["message"], "Unknown tool: get-env", "{m}");
    let r = rpc(
        &url,
        &sid,
        &[("authorization", &bearer)],
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get-sum","arguments":{"a":1,"b":2}}}"#,
    );
    assert!(
        r.message()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Unknown tool"),
        "{}",
        r.body
    );
    let r = rpc(
        &url,
        &sid,
        &[("authorization", &bearer)],
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"es"}}}"#,
    );
    assert_eq!(
        r.message()["result"]["content"][0]["text"],
        "Echo: es",
        "{}",
        r.body
    );

    // a token for another audience: 401 with error="invalid_token"
    let other = oidc_token(
        &issuer,
        "agw-rs",
        &[("resource", "https://other.example/api")],
    );
    let r = http(
        "POST",
        &url,
        &[
            MCP_ACCEPT,
            JSON_CT,
            ("authorization", &format!("Bearer {other}")),
        ],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .ends_with(", error=\"invalid_token\""));

    // a plain HTTP backend behind the same policy never sees the validated token
    let r = http(
        "GET",
        &agw.url("/api/x"),
        &[("authorization", &format!("Bearer {rs}"))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["auth"], "none");
    let r = http("GET", &agw.url("/api/x"), &[], None);
    assert_eq!(r.status, 401);
}

#[test]
fn expired_and_wrong_issuer_tokens_and_key_rotation_while_serving() {
    let Some(js) = js_dir("expired_and_wrong_issuer_tokens_and_key_rotation_while_serving") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let token = |bad: &str| {
        let body = if bad.is_empty() {
            "grant_type=client_credentials&scope=mcp%3Atools".to_string()
        } else {
            format!("grant_type=client_credentials&scope=mcp%3Atools&bad={bad}")
        };
        let r = http(
            "POST",
            &format!("{issuer}/token"),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&body),
        );
        r.json()["access_token"].as_str().unwrap().to_string()
    };
    let port = free_port();
    let policies = format!(
        r#"      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: ["http://127.0.0.1:8080/mcp"]
          jwks:
            url: {issuer}/jwks
          resourceMetadata: {{}}
"#
    );
    let agw = Agw::start(
        &bind(port, &stdio_route(&js, "", &policies)),
        port,
        &["--jwks-refetch-cooldown", "200ms"],
    );
    let url = agw.url("/mcp");
    let init = |t: &str| {
        http(
            "POST",
            &url,
            &[
                MCP_ACCEPT,
                JSON_CT,
                ("authorization", &format!("Bearer {t}")),
            ],
            Some(initialize_body()),
        )
    };
    let r = init(&token(""));
    assert_eq!(r.status, 200, "{}\n{}", r.body, agw.log.all());
    // the mock's expired token is exactly on the 60 s leeway; two seconds later it is past it
    let expired = token("expired");
    std::thread::sleep(Duration::from_millis(2100));
    for (bad, t) in [("expired", expired), ("wrong_iss", token("wrong_iss"))] {
        let r = init(&t);
        assert_eq!(r.status, 401, "{bad}");
        assert!(
            r.header("www-authenticate")
                .contains("error=\"invalid_token\""),
            "{bad}"
        );
    }
    // rotation at the issuer: tokens signed with the new key work without a restart
    signal(asrv.child.id(), "-USR2");
    let line = asrv
        .out
        .wait(&["rotated, new kid"], Duration::from_secs(20))
        .expect("rotation");
    let new_kid = line.rsplit(' ').next().unwrap().to_string();
    let fresh = (0..12)
        .map(|_| token(""))
        .find(|t| kid_of(t) == new_kid)
        .expect("a token signed with the new key");
    let r = init(&fresh);
    assert_eq!(r.status, 200, "{}\n{}", r.body, agw.log.all());
}

#[test]
fn limits_sessions_body_size_and_idle_timeout() {
    let Some(js) = js_dir("limits_sessions_body_size_and_idle_timeout") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(
        &bind(port, &stdio_route(&js, "", "")),
        port,
        &[
            "--max-sessions",
            "1",
            "--max-body-bytes",
            "2048",
            "--session-idle-timeout",
            "1500ms",
        ],
    );
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    // a second session is refused while the first is open
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("--max-sessions"), "{}", r.body);
    // a body over the limit
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{}"}}}}}}"#,
        "x".repeat(4096)
    );
    let r = rpc(&url, &sid, &[], &big);
    assert_eq!(r.status, 413, "{}", r.body);
    // idle: the session ends and its child stops; a new one can start
    assert!(
        agw.log
            .wait(&["idle", &sid[..8]], Duration::from_secs(10))
            .is_some(),
        "{}",
        agw.log.all()
    );
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
    );
    assert_eq!(r.status, 404);
    assert!(r.body.contains("idle"), "{}", r.body);
    assert!(agw
        .log
        .wait(&["MCP server `tools` exited"], Duration::from_secs(10))
        .is_some());
    open_session(&url, &[]);
}

#[test]
fn jwks_file_is_watched_and_rotated_keys_apply_without_restart() {
    let Some(js) = js_dir("jwks_file_is_watched_and_rotated_keys_apply_without_restart") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let jwks = || http("GET", &format!("{issuer}/jwks"), &[], None).body;
    let token = || {
        http(
            "POST",
            &format!("{issuer}/token"),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some("grant_type=client_credentials"),
        )
        .json()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let port = free_port();
    let policies = format!(
        r#"      policies:
        mcpAuthentication:
          issuer: {issuer}
          audiences: ["http://127.0.0.1:8080/mcp"]
          jwks:
            file: keys.json
          resourceMetadata: {{}}
"#
    );
    let cfg = bind(port, &stdio_route(&js, "", &policies));
    // the key file sits beside the config; --root points there
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keys.json"), jwks()).unwrap();
    let root = dir.path().display().to_string();
    let agw = Agw::start(&cfg, port, &["--root", &root]);
    let url = agw.url("/mcp");
    let init = |t: &str| {
        http(
            "POST",
            &url,
            &[
                MCP_ACCEPT,
                JSON_CT,
                ("authorization", &format!("Bearer {t}")),
            ],
            Some(initialize_body()),
        )
        .status
    };
    assert_eq!(init(&token()), 200, "{}", agw.log.all());
    signal(asrv.child.id(), "-USR2");
    let line = asrv
        .out
        .wait(&["rotated, new kid"], Duration::from_secs(20))
        .expect("rotation");
    let new_kid = line.rsplit(' ').next().unwrap().to_string();
    let fresh = (0..12)
        .map(|_| token())
        .find(|t| kid_of(t) == new_kid)
        .expect("a token signed with the new key");
    // the file does not have the new key yet
    assert_eq!(init(&fresh), 401);
    std::fs::write(dir.path().join("keys.json"), jwks()).unwrap();
    let mut ok = false;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        if init(&fresh) == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "{}", agw.log.all());
}

#[test]
fn listener_jwt_auth_runs_before_routing_and_strips_the_token() {
    let Some(js) = js_dir("listener_jwt_auth_runs_before_routing_and_strips_the_token") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let rest = Node::start(
        &js,
        &[
            "node",
            "-e",
            "require('http').createServer((q,s)=>{s.end(JSON.stringify({auth:q.headers.authorization||'none'}))}).listen(process.env.PORT,'127.0.0.1',()=>console.log('ready'))",
        ],
        "ready",
    );
    let port = free_port();
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - policies:
      jwtAuth:
        mode: strict
        issuer: {issuer}
        audiences: ["http://127.0.0.1:8080/mcp"]
        jwks:
          url: {issuer}/jwks
    routes:
    - name: rest
      matches: [{{path: {{pathPrefix: /api}}}}]
      backends:
      - host: 127.0.0.1:{rest}
- port: {tls_port}
  listeners:
  - hostname: "*.https.example"
    protocol: HTTPS
    tls: {{cert: missing.pem, key: missing.pem}}
    routes: []
"#,
        rest = rest.port,
        tls_port = free_port()
    );
    let agw = Agw::start(&cfg, port, &[]);
    let r = http("GET", &agw.url("/api/x"), &[], None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), "Bearer");
    let t = http(
        "POST",
        &format!("{issuer}/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some("grant_type=client_credentials"),
    )
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http(
        "GET",
        &agw.url("/api/x"),
        &[("authorization", &format!("Bearer {t}"))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["auth"], "none");
    let r = http(
        "GET",
        &agw.url("/api/x"),
        &[("authorization", "Bearer bad.token.here")],
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        "Bearer error=\"invalid_token\""
    );
    assert!(
        agw.log.all().contains("HTTPS listeners are not served"),
        "{}",
        agw.log.all()
    );
}

#[test]
fn listeners_by_hostname_gateways_shorthand_and_http_authorization() {
    let Some(js) = js_dir("listeners_by_hostname_gateways_shorthand_and_http_authorization") else {
        return;
    };
    let (p1, p2) = (free_port(), free_port());
    let cfg = format!(
        r#"binds:
- port: {p1}
  listeners:
  - hostname: a.example
    routes:
    - policies: {{directResponse: {{body: a, status: 200}}}}
  - hostname: "*.b.example"
    routes:
    - policies: {{directResponse: {{body: b, status: 200}}}}
  - routes:
    - name: guarded
      matches: [{{path: {{pathPrefix: /guarded}}}}]
      policies:
        authorization:
          rules: ['request.method == "GET"']
        directResponse: {{body: ok, status: 200}}
    - name: exact
      matches: [{{path: {{exact: /x}}}}]
      policies: {{directResponse: {{body: exact, status: 200}}}}
    - name: prefix
      matches: [{{path: {{pathPrefix: /x}}}}, {{path: {{regex: "/r[0-9]+"}}}}]
      policies: {{directResponse: {{body: prefix, status: 200}}}}
    - name: post
      matches: [{{path: {{pathPrefix: /x}}, method: POST}}]
      policies: {{directResponse: {{body: post, status: 200}}}}
gateways:
  main:
    port: {p2}
routes:
- gateways: main
  name: api
  matches: [{{path: {{pathPrefix: /api}}}}]
  policies: {{directResponse: {{body: api, status: 200}}}}
mcp:
  gateways: main
  statefulMode: stateless
  targets:
  - name: tools
    stdio: {{cmd: {cmd}, args: [stdio]}}
"#,
        cmd = everything(&js)
    );
    let agw = Agw::start(&cfg, p1, &[]);
    let get = |port: u16, path: &str, host: &str, method: &str| {
        http(
            method,
            &format!("http://127.0.0.1:{port}{path}"),
            &[("host", host)],
            None,
        )
    };
    assert_eq!(get(p1, "/", "a.example", "GET").body, "a");
    assert_eq!(get(p1, "/", "x.b.example:8080", "GET").body, "b");
    assert_eq!(get(p1, "/x", "other", "GET").body, "exact");
    assert_eq!(get(p1, "/x/y", "other", "GET").body, "prefix");
    assert_eq!(get(p1, "/x/y", "other", "POST").body, "post");
    assert_eq!(get(p1, "/r12", "other", "GET").body, "prefix");
    assert_eq!(get(p1, "/guarded", "other", "GET").status, 200);
    assert_eq!(get(p1, "/guarded", "other", "POST").status, 403);
    assert_eq!(get(p1, "/nothing", "other", "GET").status, 404);
    // the gateway port: a top-level route, and the shorthand on /mcp (stateless: no session id)
    assert_eq!(get(p2, "/api/v1", "gw", "GET").body, "api");
    let url = format!("http://127.0.0.1:{p2}/mcp");
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 200, "{}\n{}", r.body, agw.log.all());
    assert_eq!(r.header("mcp-session-id"), "");
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT],
        Some(
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"message":"stateless"}}}"#,
        ),
    );
    assert_eq!(
        r.message()["result"]["content"][0]["text"],
        "Echo: stateless",
        "{}",
        r.body
    );
    assert_eq!(get(p2, "/elsewhere", "gw", "GET").status, 404);
}

#[test]
fn rate_limit_request_timeout_and_dns_rebinding_protection() {
    let Some(js) = js_dir("rate_limit_request_timeout_and_dns_rebinding_protection") else {
        return;
    };
    let slow = Node::start(
        &js,
        &[
            "node",
            "-e",
            "require('http').createServer((q,s)=>setTimeout(()=>s.end('late'),3000)).listen(process.env.PORT,'127.0.0.1',()=>console.log('ready'))",
        ],
        "ready",
    );
    let port = free_port();
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - routes:
    - name: limited
      matches: [{{path: {{exact: /limited}}}}]
      policies:
        localRateLimit:
        - {{maxTokens: 2, tokensPerFill: 1, fillInterval: 1h}}
        directResponse: {{body: ok, status: 200}}
    - name: slow
      matches: [{{path: {{exact: /slow}}}}]
      policies:
        timeout: {{requestTimeout: 300ms}}
      backends:
      - host: 127.0.0.1:{slow}
    - name: mcp
      matches: [{{path: {{exact: /mcp}}}}]
      backends:
      - mcp:
          dnsRebindingProtection: true
          targets:
          - name: tools
            stdio: {{cmd: {cmd}, args: [stdio]}}
"#,
        slow = slow.port,
        cmd = everything(&js)
    );
    let agw = Agw::start(&cfg, port, &[]);
    let statuses: Vec<u16> = (0..3)
        .map(|_| http("GET", &agw.url("/limited"), &[], None).status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 429]);
    let r = http("GET", &agw.url("/limited"), &[], None);
    assert!(r.header("retry-after").parse::<u64>().unwrap() > 0);
    let started = std::time::Instant::now();
    let r = http("GET", &agw.url("/slow"), &[], None);
    assert_eq!(r.status, 504);
    assert!(started.elapsed() < Duration::from_secs(2));
    let url = agw.url("/mcp");
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT, ("origin", "http://evil.example")],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT, ("origin", "http://localhost:5173")],
        Some(initialize_body()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn progress_notifications_and_server_requests_are_relayed() {
    let Some(js) = js_dir("progress_notifications_and_server_requests_are_relayed") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(&bind(port, &stdio_route(&js, "", "")), port, &[]);
    let url = agw.url("/mcp");
    // a client that can sample (server-everything offers its sampling tool only then)
    let r = http(
        "POST",
        &url,
        &[MCP_ACCEPT, JSON_CT],
        Some(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},"clientInfo":{"name":"agw-test","version":"0"}}}"#,
        ),
    );
    let sid = r.header("mcp-session-id").to_string();
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(r.status, 202);
    // progress for a request arrives on that request's SSE stream, then the result
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":1,"steps":2},"_meta":{"progressToken":"p1"}}}"#,
    );
    assert!(r.header("content-type").starts_with("text/event-stream"));
    assert_eq!(
        r.body.matches("notifications/progress").count(),
        2,
        "{}",
        r.body
    );
    assert!(r.body.contains("\"progressToken\":\"p1\""));
    assert_eq!(r.message()["id"], 5);
    // a request of the server (sampling) reaches the client, and the client's answer the server
    let (u2, s2) = (url.clone(), sid.clone());
    let call = std::thread::spawn(move || {
        rpc(
            &u2,
            &s2,
            &[],
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"trigger-sampling-request","arguments":{"prompt":"hello","maxTokens":10}}}"#,
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":1,"result":{"role":"assistant","content":{"type":"text","text":"sampled!"},"model":"m"}}"#,
    );
    assert_eq!(r.status, 202);
    let r = call.join().unwrap();
    assert!(r.body.contains("sampling/createMessage"), "{}", r.body);
    let m = r.message();
    assert_eq!(m["id"], 6);
    assert!(m.to_string().contains("sampled!"), "{m}");
}
