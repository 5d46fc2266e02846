//! Authentication end to end: the 401 challenge and the protected resource metadata, Okta's
//! authorization server metadata, tokens of a real OpenID Connect provider and of a mock one,
//! expiry, issuers and key rotation, a JWKS file that changes, and listener `jwtAuth`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::serve_support::*;

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
    let rest = Node::http(
        &js,
        "(q,s)=>{s.end(JSON.stringify({auth:q.headers.authorization||'none'}))}",
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
    let rest = Node::http(
        &js,
        "(q,s)=>{s.end(JSON.stringify({auth:q.headers.authorization||'none'}))}",
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
