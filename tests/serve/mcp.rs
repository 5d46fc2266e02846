//! The MCP relay end to end, with the official client and the reference server: stdio and
//! Streamable HTTP targets, status codes, a target that dies or cannot start, multiplexing, and
//! notifications and server requests relayed both ways.

use std::time::Duration;

use crate::serve_support::*;

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
