//! `agw serve` end to end, with real partners on loopback: the official MCP server as a stdio
//! and a Streamable HTTP target, the official TypeScript MCP client, and a real authorization
//! server. One binary, a module a concern; the lifecycle of the process is here. A missing
//! partner (node, the packages of tests/js) fails a test under `AGW_REQUIRE_PARTNERS=1` and is
//! reported as skipped otherwise.

mod common;
mod serve_support;

#[path = "serve/auth.rs"]
mod auth;
#[path = "serve/connections.rs"]
mod connections;
#[path = "serve/hardening.rs"]
mod hardening;
#[path = "serve/mcp.rs"]
mod mcp;
#[path = "serve/reload.rs"]
mod reload;
#[path = "serve/routing.rs"]
mod routing;
#[path = "serve/sessions.rs"]
mod sessions;

use std::time::Duration;

use serve_support::*;

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
