//! Smaller holes: a token in an encoded query parameter, a child's stderr that is not UTF-8,
//! the memory of an old configuration.

use std::time::Duration;

use crate::serve_support::*;

#[test]
fn a_token_in_an_encoded_query_parameter_never_reaches_the_upstream() {
    let Some(js) = js_dir("a_token_in_an_encoded_query_parameter_never_reaches_the_upstream")
    else {
        return;
    };
    let asrv = Node::start(&js, &["node", "partners/mock-as.mjs"], "issuer");
    let issuer = format!("http://127.0.0.1:{}", asrv.port);
    let upstream = Node::http(&js, "(q,s)=>s.end(JSON.stringify({url:q.url}))");
    let port = free_port();
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - routes:
    - name: rest
      matches: [{{path: {{pathPrefix: /api}}}}]
      policies:
        jwtAuth:
          mode: strict
          issuer: {issuer}
          audiences: ["http://127.0.0.1:8080/mcp"]
          jwks: {{url: {issuer}/jwks}}
          location: {{queryParameter: {{name: access_token}}}}
      backends:
      - host: 127.0.0.1:{up}
"#,
        up = upstream.port
    );
    let agw = Agw::start(&cfg, port, &[]);
    let token = http(
        "POST",
        &format!("{issuer}/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some("grant_type=client_credentials"),
    )
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for name in ["access_token", "access%5Ftoken", "access%5ftoken"] {
        let r = http(
            "GET",
            &agw.url(&format!("/api/x?a=1&{name}={token}&b=2")),
            &[],
            None,
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let seen = r.json()["url"].as_str().unwrap().to_string();
        assert_eq!(seen, "/api/x?a=1&b=2", "{name}");
        assert!(!seen.contains(&token[..20]));
    }
    assert_eq!(http("GET", &agw.url("/api/x?a=1"), &[], None).status, 401);
}

#[test]
fn a_child_that_writes_bytes_that_are_not_utf8_on_stderr_keeps_working() {
    let Some(js) = js_dir("a_child_that_writes_bytes_that_are_not_utf8_on_stderr_keeps_working")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("server.sh");
    std::fs::write(
        &wrapper,
        format!(
            "printf 'before \\377\\376 bytes\\nafter the bad bytes\\n' >&2\nexec {} stdio\n",
            everything(&js)
        ),
    )
    .unwrap();
    let port = free_port();
    let cfg = super::bind(
        port,
        &format!(
            "    - name: mcp\n      backends:\n      - mcp:\n          targets:\n          - name: tools\n            stdio: {{cmd: sh, args: [{}]}}\n",
            wrapper.display()
        ),
    );
    let agw = Agw::start(&cfg, port, &[]);
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    let line = agw
        .log
        .wait(
            &["agw::child", "after the bad bytes"],
            Duration::from_secs(20),
        )
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    assert!(
        line.contains("mcp_target=tools") || line.contains("target=tools"),
        "{line}"
    );
    assert!(
        agw.log.all().contains("before \u{fffd}\u{fffd} bytes"),
        "{}",
        agw.log.all()
    );
    // the server writes to stderr again (server-everything logs its startup there) and lives on
    for i in 0..3 {
        let r = rpc(
            &url,
            &sid,
            &[],
            &format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"m{i}"}}}}}}"#
            ),
        );
        assert_eq!(
            r.message()["result"]["content"][0]["text"],
            format!("Echo: m{i}"),
            "{}\n{}",
            r.body,
            agw.log.all()
        );
    }
}

/// The route of `ci/bench-check.py`: Okta authentication, authorization rules, a stdio target.
fn bench_route(i: usize) -> String {
    format!(
        r#"    - name: route-{i}
      matches:
      - path: {{exact: /t{i}/mcp}}
      - path: {{exact: /.well-known/oauth-protected-resource/t{i}/mcp}}
      policies:
        mcpAuthentication:
          issuer: https://tenant-{i}.okta.com/oauth2/default
          audiences: [api://tenant-{i}]
          jwks: {{url: https://tenant-{i}.okta.com/oauth2/default/v1/keys}}
          resourceMetadata: {{}}
        mcpAuthorization:
          rules: ['mcp.tool.name == "echo"']
      backends:
      - mcp:
          targets:
          - name: everything-{i}
            stdio: {{cmd: mcp-server-everything, args: [stdio]}}
"#
    )
}

#[test]
fn memory_of_an_old_configuration_is_given_back_after_a_reload() {
    let port = free_port();
    let mut big = format!("binds:\n- port: {port}\n  listeners:\n  - routes:\n");
    for i in 0..6000 {
        big.push_str(&bench_route(i));
    }
    big.push_str("    - name: root\n      policies: {directResponse: {body: big, status: 200}}\n");
    let agw = Agw::start(&big, port, &[]);
    assert!(agw.wait_body("/", "big", 100));
    let before = agw.rss_kib();
    agw.replace_config(&super::reload::direct(port, &[("/", "small", "")]));
    assert!(agw.wait_body("/", "small", 600), "{}", agw.log.all());
    let mut after = agw.rss_kib();
    for _ in 0..50 {
        if after * 2 < before {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        after = agw.rss_kib();
    }
    eprintln!(
        "resident: {} KiB with 6,000 routes, {} KiB after the reload to 1",
        before, after
    );
    assert!(
        after * 2 < before,
        "resident memory {after} KiB after the reload, {before} KiB before"
    );
}

/// The keys of a JSON object; a repeated key is an error (serde_json would keep the last).
struct UniqueKeys(Vec<String>);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<UniqueKeys, A::Error> {
                let mut keys: Vec<String> = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    if keys.contains(&k) {
                        return Err(serde::de::Error::custom(format!("`{k}` is repeated")));
                    }
                    m.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(UniqueKeys(keys))
            }
        }
        d.deserialize_map(Keys)
    }
}

#[test]
fn json_log_lines_have_unique_keys() {
    let Some(js) = js_dir("json_log_lines_have_unique_keys") else {
        return;
    };
    let port = free_port();
    let agw = Agw::start(
        &super::bind(port, &super::stdio_route(&js, "", "")),
        port,
        &["--log-format", "json"],
    );
    let url = agw.url("/mcp");
    let sid = open_session(&url, &[]);
    let r = rpc(
        &url,
        &sid,
        &[],
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}"#,
    );
    assert_eq!(r.status, 200);
    let child = agw
        .log
        .wait(&["agw::child"], Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{}", agw.log.all()));
    let v: serde_json::Value = serde_json::from_str(&child).unwrap();
    assert_eq!(v["target"], "agw::child", "{child}");
    assert_eq!(v["mcp_target"], "tools", "{child}");
    assert!(agw
        .log
        .wait(&["started MCP server"], Duration::from_secs(5))
        .is_some());
    let log = agw.log.all();
    let lines: Vec<&str> = log.lines().filter(|l| l.starts_with('{')).collect();
    assert!(lines.len() >= 4, "{log}");
    for line in lines {
        match serde_json::from_str::<UniqueKeys>(line) {
            Ok(UniqueKeys(keys)) => assert!(keys.iter().any(|k| k == "level"), "{line}"),
            Err(e) => panic!("{e}: {line}"),
        }
    }
}

#[test]
fn url_rewrite_and_request_redirect_are_applied_and_unapplied_policies_are_named() {
    let Some(js) =
        js_dir("url_rewrite_and_request_redirect_are_applied_and_unapplied_policies_are_named")
    else {
        return;
    };
    let upstream = Node::http(
        &js,
        "(q,s)=>s.end(JSON.stringify({url:q.url,host:q.headers.host}))",
    );
    let port = free_port();
    let up = upstream.port;
    let cfg = format!(
        r#"binds:
- port: {port}
  listeners:
  - routes:
    - name: prefixed
      matches: [{{path: {{pathPrefix: /api}}}}]
      policies:
        urlRewrite: {{path: {{prefix: /v2}}}}
      backends: [{{host: "127.0.0.1:{up}"}}]
    - name: whole
      matches: [{{path: {{pathPrefix: /old}}}}]
      policies:
        urlRewrite:
          path: {{full: /fixed}}
          authority: {{full: "api.internal:9000"}}
      backends: [{{host: "127.0.0.1:{up}"}}]
    - name: hostname
      matches: [{{path: {{pathPrefix: /h}}}}]
      policies:
        urlRewrite: {{authority: {{host: api.internal}}}}
      backends: [{{host: "127.0.0.1:{up}"}}]
    - name: moved
      matches: [{{path: {{pathPrefix: /moved}}}}]
      policies:
        requestRedirect: {{path: {{prefix: /new}}, status: 301}}
    - name: retried
      matches: [{{path: {{pathPrefix: /retry}}}}]
      policies:
        retry: {{attempts: 2, codes: [503]}}
        directResponse: {{body: ok, status: 200}}
    - name: keyed
      matches: [{{path: {{pathPrefix: /keyed}}}}]
      policies:
        apiKey: {{keys: [{{key: "$AGW_TEST_API_KEY"}}]}}
        directResponse: {{body: secret, status: 200}}
"#
    );
    let agw = Agw::start_with(&cfg, port, &[], &[("AGW_TEST_API_KEY", "k-hunter2")]);
    let seen = |path: &str| {
        let r = http("GET", &agw.url(path), &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    };
    let v = seen("/api/items?q=1");
    assert_eq!(v["url"], "/v2/items?q=1");
    assert_eq!(v["host"], format!("127.0.0.1:{port}"));
    assert_eq!(seen("/api")["url"], "/v2");
    let v = seen("/old/a/b?x=y");
    assert_eq!(v["url"], "/fixed?x=y");
    assert_eq!(v["host"], "api.internal:9000");
    let v = seen("/h/1");
    assert_eq!(v["url"], "/h/1");
    assert_eq!(v["host"], format!("api.internal:{port}"));
    let r = http_no_redirect("GET", &agw.url("/moved/here?k=v"));
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        format!("http://127.0.0.1:{port}/new/here?k=v")
    );
    // not applied: said at start-up with the route; a guard refuses the route
    let log = agw.log.all();
    let line = log
        .lines()
        .find(|l| l.contains("`retry`") && l.contains("not applied by `agw serve`"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("WARN") && line.contains("route `retried`"),
        "{line}"
    );
    assert!(line.contains("served without"), "{line}");
    let line = log
        .lines()
        .find(|l| l.contains("`apiKey`") && l.contains("not applied by `agw serve`"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("route `keyed`") && line.contains("refused (501)"),
        "{line}"
    );
    assert_eq!(http("GET", &agw.url("/retry"), &[], None).body, "ok");
    let r = http("GET", &agw.url("/keyed"), &[], None);
    assert_eq!(r.status, 501, "{}", r.body);
    assert!(!r.body.contains("secret"));
    assert!(!agw.log.all().contains("hunter2"));
    // the same on reload
    agw.replace_config(&cfg.replace("attempts: 2", "attempts: 3"));
    assert!(agw
        .log
        .wait(
            &["configuration reloaded", "generation=2"],
            Duration::from_secs(10)
        )
        .is_some());
    assert_eq!(
        agw.log.all().matches("route `retried`").count(),
        2,
        "{}",
        agw.log.all()
    );
}
