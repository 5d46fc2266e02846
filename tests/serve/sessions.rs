//! MCP sessions belong to the caller that opened them; session limits hold under concurrency
//! and per caller; running out of anything answers 503 with `Retry-After`.

use std::time::Duration;

use crate::serve_support::*;

/// A token of the mock issuer whose client id (`cid`) is `client`.
fn token_for(issuer: &str, client: &str) -> String {
    http(
        "POST",
        &format!("{issuer}/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(&format!("grant_type=client_credentials&client_id={client}")),
    )
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn mock_auth(issuer: &str) -> String {
    format!(
        "      policies:\n        mcpAuthentication:\n          issuer: {issuer}\n          audiences: [\"http://127.0.0.1:8080/mcp\"]\n          jwks: {{url: {issuer}/jwks}}\n          resourceMetadata: {{}}\n"
    )
}

const LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

#[test]
fn a_session_answers_only_the_caller_that_opened_it() {
    let Some(js) = js_dir("a_session_answers_only_the_caller_that_opened_it") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let port = free_port();
    let cfg = super::bind(port, &super::stdio_route(&js, "", &mock_auth(&issuer)));
    let agw = Agw::start(&cfg, port, &[]);
    let url = agw.url("/mcp");
    let alice = format!("Bearer {}", token_for(&issuer, "alice"));
    let mallory = format!("Bearer {}", token_for(&issuer, "mallory"));
    let sid = open_session(&url, &[("authorization", &alice)]);
    assert_eq!(
        rpc(&url, &sid, &[("authorization", &alice)], LIST).status,
        200
    );
    // another caller with a valid token: as if the session did not exist
    let r = rpc(&url, &sid, &[("authorization", &mallory)], LIST);
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], -32001);
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"#;
    assert_eq!(
        rpc(&url, &sid, &[("authorization", &mallory)], call).status,
        404
    );
    let r = http(
        "GET",
        &url,
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &sid),
            ("authorization", &mallory),
        ],
        None,
    );
    assert_eq!(r.status, 404);
    let r = http(
        "DELETE",
        &url,
        &[("mcp-session-id", &sid), ("authorization", &mallory)],
        None,
    );
    assert_eq!(r.status, 404);
    // the owner still has it, and ends it; the other caller learns nothing about why
    assert_eq!(
        rpc(&url, &sid, &[("authorization", &alice)], LIST).status,
        200
    );
    let r = http(
        "DELETE",
        &url,
        &[("mcp-session-id", &sid), ("authorization", &alice)],
        None,
    );
    assert_eq!(r.status, 200);
    let r = rpc(&url, &sid, &[("authorization", &mallory)], LIST);
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("ended"), "{}", r.body);
    let r = rpc(&url, &sid, &[("authorization", &alice)], LIST);
    assert!(r.body.contains("ended the session"), "{}", r.body);
    // the session id is never written to the log whole
    let log = agw.log.all();
    assert!(log.contains(&sid[..8]), "{log}");
    assert!(!log.contains(&sid), "the session id was logged:\n{log}");
}

#[test]
fn a_session_of_one_route_is_unknown_on_another() {
    let Some(js) = js_dir("a_session_of_one_route_is_unknown_on_another") else {
        return;
    };
    let port = free_port();
    let routes = format!(
        "{}{}",
        super::stdio_route(&js, "      matches: [{path: {exact: /a}}]\n", ""),
        super::stdio_route(&js, "      matches: [{path: {exact: /b}}]\n", "")
            .replace("name: mcp", "name: other")
    );
    let agw = Agw::start(&super::bind(port, &routes), port, &[]);
    let sid = open_session(&agw.url("/a"), &[]);
    assert_eq!(rpc(&agw.url("/a"), &sid, &[], LIST).status, 200);
    assert_eq!(rpc(&agw.url("/b"), &sid, &[], LIST).status, 404);
}

/// A stdio MCP server that answers `initialize` and then reads until its stdin closes: the
/// smallest real process for tests of limits, where the server's abilities do not matter and
/// fifty Node.js servers would not fit the machine.
fn stub_server(dir: &std::path::Path) -> String {
    let path = dir.join("stub-mcp.sh");
    std::fs::write(
        &path,
        r#"read -r line
printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"stub","version":"0"}}}'
exec cat >/dev/null
"#,
    )
    .unwrap();
    format!(
        "    - name: mcp\n      backends:\n      - mcp:\n          targets:\n          - name: stub\n            stdio: {{cmd: sh, args: [{}]}}\n",
        path.display()
    )
}

fn initialize(url: &str) -> Reply {
    http("POST", url, &[MCP_ACCEPT, JSON_CT], Some(initialize_body()))
}

#[test]
fn max_sessions_holds_exactly_under_concurrent_initializes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = super::bind(port, &stub_server(dir.path()));
    let agw = Agw::start(&cfg, port, &["--max-sessions", "20"]);
    let url = agw.url("/mcp");
    let answers: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50).map(|_| s.spawn(|| initialize(&url))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let busy: Vec<&Reply> = answers.iter().filter(|r| r.status == 503).collect();
    assert_eq!(
        ok,
        20,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(busy.len(), 30);
    for r in busy {
        assert_eq!(r.header("retry-after"), "5");
        assert!(r.body.contains("--max-sessions"), "{}", r.body);
    }
}

#[test]
fn one_caller_cannot_take_every_session() {
    let Some(js) = js_dir("one_caller_cannot_take_every_session") else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let route = stub_server(dir.path()).replace(
        "      backends:\n",
        &format!("{}      backends:\n", mock_auth(&issuer)),
    );
    let agw = Agw::start(
        &super::bind(port, &route),
        port,
        &["--max-sessions-per-identity", "2"],
    );
    let url = agw.url("/mcp");
    let alice = format!("Bearer {}", token_for(&issuer, "alice"));
    let bob = format!("Bearer {}", token_for(&issuer, "bob"));
    let init = |who: &str| {
        http(
            "POST",
            &url,
            &[MCP_ACCEPT, JSON_CT, ("authorization", who)],
            Some(initialize_body()),
        )
    };
    let first = init(&alice);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(init(&alice).status, 200);
    let r = init(&alice);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("retry-after"), "5");
    assert!(r.body.contains("--max-sessions-per-identity"), "{}", r.body);
    // another caller is not affected; a session that ends gives its place back
    assert_eq!(init(&bob).status, 200);
    let sid = first.header("mcp-session-id");
    let r = http(
        "DELETE",
        &url,
        &[("mcp-session-id", sid), ("authorization", &alice)],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(init(&alice).status, 200);
}

#[test]
fn the_soft_open_files_limit_is_raised_at_start_up() {
    let port = free_port();
    let cfg = super::reload::direct(port, &[("/", "ok", "")]);
    let agw = Agw::start_ulimit(&cfg, port, &[], 256, None);
    let line = agw
        .log
        .wait(&["raised the open files limit"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(line.contains("from=256"), "{line}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", agw.pid())).unwrap();
    let open = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(open[3], open[4], "soft limit not raised: {open:?}");
}

#[test]
fn running_out_of_file_descriptors_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = super::bind(port, &stub_server(dir.path()));
    let agw = Agw::start_ulimit(&cfg, port, &[], 64, Some(64));
    let url = agw.url("/mcp");
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let r = initialize(&url);
        statuses.push(r.status);
        if r.status != 200 {
            assert_eq!(r.status, 503, "{}\n{}", r.body, agw.log.all());
            assert_eq!(r.header("retry-after"), "5");
            break;
        }
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    assert!(
        !agw.log.all().contains("Too many open files"),
        "{}",
        agw.log.all()
    );
}
