//! Reload: no change is lost (a write during a check, a write that keeps the modification time,
//! a torn write), weakened authentication is logged, sessions are judged by the new policies,
//! `--reload=signal|off`, and refused versions are logged as written.

use std::io::Write;
use std::time::Duration;

use crate::serve_support::*;

/// A bind on `port` whose routes answer fixed bodies: `(path, body, extra policies)`.
pub fn direct(port: u16, rs: &[(&str, &str, &str)]) -> String {
    format!(
        "binds:\n- port: {port}\n  listeners:\n  - routes:\n{}",
        routes(rs)
    )
}

/// The route list of [`direct`].
pub fn routes(rs: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for (path, body, extra) in rs {
        let name = if *path == "/" {
            "root".to_string()
        } else {
            path.trim_start_matches('/').replace('/', "-")
        };
        out.push_str(&format!(
            "    - name: {name}\n      matches: [{{path: {{pathPrefix: {path}}}}}]\n      policies:\n        directResponse: {{body: {body}, status: 200}}\n{extra}"
        ));
    }
    out
}

/// `mcpAuthentication` for an issuer that never answers: every request without a valid token
/// is refused, none is accepted.
const AUTH: &str = "        mcpAuthentication:\n          issuer: http://127.0.0.1:9/oauth2/default\n          audiences: [api://default]\n          jwks: {url: http://127.0.0.1:9/oauth2/default/v1/keys}\n          resourceMetadata: {}\n";

#[test]
fn a_change_written_while_the_previous_one_is_checked_is_loaded() {
    let port = free_port();
    let agw = Agw::start(&direct(port, &[("/", "v1", "")]), port, &[]);
    assert!(agw.wait_body("/", "v1", 50));
    // a large version, then (while it is being checked) a small one
    let mut big = direct(port, &[("/", "big", "")]);
    for i in 0..6000 {
        big.push_str(&format!(
            "    - name: r{i}\n      matches: [{{path: {{exact: /r{i}}}}}]\n      policies: {{directResponse: {{body: big, status: 200}}}}\n"
        ));
    }
    agw.replace_config(&big);
    assert!(
        agw.log
            .wait(&["checking the new version"], Duration::from_secs(30))
            .is_some(),
        "{}",
        agw.log.all()
    );
    agw.replace_config(&direct(port, &[("/", "small", "")]));
    assert!(
        agw.wait_body("/", "small", 600),
        "the last version never went live:\n{}",
        agw.log.all()
    );
}

#[test]
fn a_write_that_keeps_size_and_modification_time_is_loaded() {
    let port = free_port();
    let agw = Agw::start(&direct(port, &[("/", "v1", "")]), port, &[]);
    assert!(agw.wait_body("/", "v1", 50));
    let path = agw.config_path();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    // same length, written in place, the modification time put back (as `cp -p` would)
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    f.write_all(direct(port, &[("/", "v2", "")]).as_bytes())
        .unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert!(agw.wait_body("/", "v2", 100), "{}", agw.log.all());
}

#[test]
fn a_file_written_in_two_chunks_is_read_only_once_it_settles() {
    let port = free_port();
    let v1 = direct(port, &[("/p", "v1", AUTH)]);
    let agw = Agw::start(&v1, port, &["--reload-settle", "1500ms"]);
    assert_eq!(http("GET", &agw.url("/p"), &[], None).status, 401);
    // the first chunk alone is a valid file whose route has no authentication
    let first = direct(port, &[("/p", "v2", "")]);
    let second = format!("{AUTH}{}", routes(&[("/version", "v2", "")]));
    let full = format!("{first}{second}");
    assert!(full.contains("pathPrefix: /version"), "{full}");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(agw.config_path())
        .unwrap();
    f.write_all(first.as_bytes()).unwrap();
    f.flush().unwrap();
    let mut open_answers = 0;
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(100));
        if http("GET", &agw.url("/p"), &[], None).status == 200 {
            open_answers += 1;
        }
    }
    f.write_all(second.as_bytes()).unwrap();
    drop(f);
    let mut live = false;
    for _ in 0..100 {
        if http("GET", &agw.url("/p"), &[], None).status == 200 {
            open_answers += 1;
        }
        if http("GET", &agw.url("/version"), &[], None).body == "v2" {
            live = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(live, "{}", agw.log.all());
    assert_eq!(
        open_answers,
        0,
        "served without authentication:\n{}",
        agw.log.all()
    );
    assert_eq!(http("GET", &agw.url("/p"), &[], None).status, 401);
}

#[test]
fn a_reload_that_removes_or_loosens_authentication_is_a_warning_naming_the_route() {
    let port = free_port();
    let agw = Agw::start(&direct(port, &[("/guarded", "v1", AUTH)]), port, &[]);
    let optional = AUTH.replace("issuer:", "mode: optional\n          issuer:");
    agw.replace_config(&direct(port, &[("/guarded", "v2", &optional)]));
    let line = agw
        .log
        .wait(&["widens the authentication mode"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("route `guarded`"), "{line}");
    assert!(
        line.contains("was=strict") && line.contains("now=optional"),
        "{line}"
    );
    agw.replace_config(&direct(port, &[("/guarded", "v3", "")]));
    let line = agw
        .log
        .wait(&["removes authentication"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(
        line.contains("WARN") && line.contains("route `guarded`"),
        "{line}"
    );
    assert!(agw.wait_body("/guarded", "v3", 50));
}

#[test]
fn signal_mode_reloads_on_sighup_only_and_off_ignores_it() {
    let port = free_port();
    let agw = Agw::start(
        &direct(port, &[("/", "v1", "")]),
        port,
        &["--reload=signal"],
    );
    agw.replace_config(&direct(port, &[("/", "v2", "")]));
    // not polled: twenty looks later it still serves v1
    for _ in 0..20 {
        assert_eq!(http("GET", &agw.url("/"), &[], None).body, "v1");
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(agw.pid(), "-HUP");
    assert!(agw.wait_body("/", "v2", 100), "{}", agw.log.all());

    let port = free_port();
    let mut off = Agw::start(&direct(port, &[("/", "v1", "")]), port, &["--no-reload"]);
    off.replace_config(&direct(port, &[("/", "v2", "")]));
    signal(off.pid(), "-HUP");
    assert!(
        off.log
            .wait(&["SIGHUP received; reload is off"], Duration::from_secs(10))
            .is_some(),
        "{}",
        off.log.all()
    );
    assert_eq!(http("GET", &off.url("/"), &[], None).body, "v1");
    assert!(
        off.child.try_wait().unwrap().is_none(),
        "SIGHUP stopped agw"
    );
}

#[test]
fn a_refused_reload_logs_the_text_as_written_not_the_expanded_secret() {
    let port = free_port();
    let v1 = direct(port, &[("/", "v1", "")]);
    let agw = Agw::start_with(&v1, port, &[], &[("AGW_TEST_MODE", "okta-client-hunter2")]);
    let bad = direct(
        port,
        &[(
            "/",
            "v2",
            &AUTH.replace("issuer:", "mode: ${AGW_TEST_MODE}\n          issuer:"),
        )],
    );
    agw.replace_config(&bad);
    assert!(
        agw.log
            .wait(&["reload refused"], Duration::from_secs(10))
            .is_some(),
        "{}",
        agw.log.all()
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = agw.log.all();
    assert!(!log.contains("hunter2"), "the secret was logged:\n{log}");
    assert!(log.contains("${AGW_TEST_MODE}"), "{log}");
    assert_eq!(http("GET", &agw.url("/"), &[], None).body, "v1");
}

#[test]
fn after_a_reload_requests_on_an_open_session_are_judged_by_the_new_policies() {
    let Some(js) =
        js_dir("after_a_reload_requests_on_an_open_session_are_judged_by_the_new_policies")
    else {
        return;
    };
    let port = free_port();
    let open = super::bind(port, &super::stdio_route(&js, "", ""));
    let agw = Agw::start(&open, port, &[]);
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(rpc(&url, &sid, &[], list).status, 200);
    // a server-to-client stream opened before the reload
    let (tx, rx) = std::sync::mpsc::channel();
    let (u2, s2) = (url.clone(), sid.clone());
    std::thread::spawn(move || {
        let r = http(
            "GET",
            &u2,
            &[("accept", "text/event-stream"), ("mcp-session-id", &s2)],
            None,
        );
        let _ = tx.send(r.status);
    });
    std::thread::sleep(Duration::from_millis(300));
    let guarded = super::bind(
        port,
        &super::stdio_route(&js, "", &format!("      policies:\n{AUTH}")),
    );
    agw.replace_config(&guarded);
    assert!(
        agw.log
            .wait(
                &["configuration reloaded", "generation=2"],
                Duration::from_secs(20)
            )
            .is_some(),
        "{}",
        agw.log.all()
    );
    let r = rpc(&url, &sid, &[], list);
    assert_eq!(r.status, 401, "{}", r.body);
    let r = rpc(&url, &sid, &[("authorization", "Bearer not.a.token")], list);
    assert_eq!(r.status, 401, "{}", r.body);
    // the stream opened without a token is closed
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20)),
        Ok(200),
        "{}",
        agw.log.all()
    );
}

#[test]
fn warnings_about_many_routes_are_capped() {
    let port = free_port();
    let many: Vec<(String, String)> = (0..60)
        .map(|i| (format!("/r{i}"), format!("b{i}")))
        .collect();
    let rs: Vec<(&str, &str, &str)> = many
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_str(), AUTH))
        .collect();
    let agw = Agw::start(&direct(port, &rs), port, &[]);
    agw.replace_config(&direct(port, &[("/", "v2", "")]));
    let summary = agw
        .log
        .wait(
            &["10 more routes lost or loosened"],
            Duration::from_secs(20),
        )
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(summary.contains("WARN"), "{summary}");
    let one_by_one = agw
        .log
        .all()
        .lines()
        .filter(|l| l.contains("is not in the new version"))
        .count();
    assert_eq!(one_by_one, 50);
}
