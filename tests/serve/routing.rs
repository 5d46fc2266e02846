//! Routing and traffic policies: plain HTTP backends, listeners by hostname, gateways and the
//! `mcp:` shorthand, authorization, rate limits, request timeouts and DNS rebinding protection.

use std::time::Duration;

use serde_json::Value;

use crate::serve_support::*;

#[test]
fn plain_http_backend_is_proxied() {
    let Some(js) = js_dir("plain_http_backend_is_proxied") else {
        return;
    };
    let upstream = Node::http(&js, "(q,s)=>{s.setHeader('x-seen-auth', q.headers.authorization||'none');s.end(JSON.stringify({path:q.url,method:q.method,host:q.headers.host,x:q.headers['x-added']||''}))}");
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
    let slow = Node::http(&js, "(q,s)=>setTimeout(()=>s.end('late'),30000)");
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
    // the backend answers after 30 s: half of that is a bound on hangs, not on speed
    assert!(started.elapsed() < Duration::from_secs(15));
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
