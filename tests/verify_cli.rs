//! `agw verify-token` as a user runs it, with key sets in files (no network).

mod common;

use common::procs::agw;
use common::*;
use serde_json::{json, Value};

struct Setup {
    _dir: tempfile::TempDir,
    jwks: String,
    cfg: String,
    key: TestKey,
}

fn setup() -> Setup {
    let key = TestKey::ec256("k1");
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("keys.json");
    std::fs::write(&jwks_path, jwks(&[&key], true)).unwrap();
    let cfg = format!(
        r#"binds:
- port: 3000
  listeners:
  - routes:
    - name: tools
      matches:
      - path: {{pathPrefix: /mcp}}
      backends:
      - mcp:
          targets:
          - name: alpha
            stdio: {{cmd: alpha}}
          - name: beta
            stdio: {{cmd: beta}}
      policies:
        mcpAuthentication:
          issuer: {ISSUER}
          audiences: [{AUDIENCE}]
          jwks: {{file: keys.json}}
          resourceMetadata:
            scopesSupported: [mcp:tools]
        mcpAuthorization:
          rules:
          - 'mcp.tool.target == "alpha" && mcp.tool.name == "echo"'
          - deny: 'mcp.tool.name == "rm"'
    - name: admin
      matches:
      - path: {{pathPrefix: /admin}}
      backends:
      - host: 127.0.0.1:9000
      policies:
        mcpAuthentication:
          issuer: https://other.test
          audiences: [admin]
          jwks: {{file: keys.json}}
          resourceMetadata: {{}}
    - name: open
      matches:
      - path: {{pathPrefix: /open}}
      backends:
      - host: 127.0.0.1:9001
"#
    );
    let cfg_path = dir.path().join("gw.yaml");
    std::fs::write(&cfg_path, cfg).unwrap();
    Setup {
        jwks: jwks_path.display().to_string(),
        cfg: cfg_path.display().to_string(),
        key,
        _dir: dir,
    }
}

fn root(s: &Setup) -> String {
    std::path::Path::new(&s.cfg)
        .parent()
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn route_is_selected_by_request_path() {
    let s = setup();
    let t = s.key.token(&good_claims());
    let r = root(&s);
    let (code, out, err) = agw(
        &[
            "verify-token",
            "--config",
            &s.cfg,
            "--root",
            &r,
            "--route",
            "/mcp/x",
        ],
        &t,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("route `tools`"), "{out}");
    // the admin route wants another issuer
    let (code, out, _) = agw(
        &[
            "verify-token",
            "--config",
            &s.cfg,
            "--root",
            &r,
            "--route",
            "/admin",
        ],
        &t,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  issuer"), "{out}");
    // by name
    let (code, _, _) = agw(
        &[
            "verify-token",
            "--config",
            &s.cfg,
            "--root",
            &r,
            "--route",
            "tools",
        ],
        &t,
    );
    assert_eq!(code, 0);
    // several protected routes and no --route: exit 2, listing them
    let (code, _, err) = agw(&["verify-token", "--config", &s.cfg, "--root", &r], &t);
    assert_eq!(code, 2);
    assert!(
        err.contains("--route") && err.contains("/mcp*") && err.contains("/admin*"),
        "{err}"
    );
    // a route without authentication: the gateway does not look at tokens
    let (code, out, _) = agw(
        &[
            "verify-token",
            "--config",
            &s.cfg,
            "--root",
            &r,
            "--route",
            "/open",
        ],
        "garbage",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("does not look at tokens"), "{out}");
    // no route at all
    let (code, _, err) = agw(
        &[
            "verify-token",
            "--config",
            &s.cfg,
            "--root",
            &r,
            "--route",
            "/nothing",
        ],
        &t,
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn tools_are_authorized_with_prefixes_and_targets() {
    let s = setup();
    let t = s.key.token(&good_claims());
    let r = root(&s);
    let base = [
        "verify-token",
        "--config",
        &s.cfg,
        "--root",
        &r,
        "--route",
        "/mcp",
    ];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        agw(&a, &t)
    };
    // several targets: `alpha_echo` is tool `echo` of target `alpha`
    let (code, out, _) = run(&["--tool", "alpha_echo"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("allowed by rule 1"), "{out}");
    let (code, out, _) = run(&["--tool", "beta_echo", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // the gateway's answer: 400 with a JSON-RPC error that hides the tool, named as the client
    // called it
    assert_eq!(v["decision"]["status"], 400);
    assert_eq!(v["decision"]["jsonrpc_error"]["code"], -32602);
    assert_eq!(
        v["decision"]["jsonrpc_error"]["message"],
        "Unknown tool: beta_echo"
    );
    let (code, out, _) = run(&["--tool", "rm", "--target", "alpha"]);
    assert_eq!(code, 1);
    assert!(out.contains("denied by rule 2"), "{out}");
    assert!(
        out.contains(
            "the gateway would answer HTTP 400 with the JSON-RPC error -32602 `Unknown tool: rm`"
        ),
        "{out}"
    );
}

#[test]
fn flags_instead_of_a_config_and_token_sources() {
    let s = setup();
    let t = s.key.token(&good_claims());
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("tok");
    std::fs::write(&tf, format!("Bearer {t}\n")).unwrap();
    let tf = tf.display().to_string();
    let flags = [
        "verify-token",
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--jwks",
        &s.jwks,
    ];
    let mut a = flags.to_vec();
    a.extend_from_slice(&["--token-file", &tf]);
    let (code, out, err) = agw(&a, "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("removed a leading `Bearer `"), "{out}");
    // as an argument
    let mut a = flags.to_vec();
    a.push(&t);
    assert_eq!(agw(&a, "").0, 0);
    // on stdin with `-`
    let mut a = flags.to_vec();
    a.push("-");
    assert_eq!(agw(&a, &t).0, 0);
    // the token never appears whole, in either format
    let mut a = flags.to_vec();
    a.extend_from_slice(&["--format", "json"]);
    let (_, out, _) = agw(&a, &t);
    assert!(!out.contains(&t));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token"]["prefix"], json!(format!("{}…", &t[..12])));
    assert_eq!(v["exit_code"], 0);
    // no token at all in strict mode
    let (code, out, _) = agw(&flags, "");
    assert_eq!(code, 1, "{out}");
    // optional mode lets a request without a token through
    let mut a = flags.to_vec();
    a.extend_from_slice(&["--mode", "optional"]);
    assert_eq!(agw(&a, "").0, 0);
    // hidden clock: the same token an hour and a half later
    let later = (now() + 5400).to_string();
    let mut a = flags.to_vec();
    a.extend_from_slice(&["--now", &later]);
    let (code, out, _) = agw(&a, &t);
    assert_eq!(code, 1);
    assert!(out.contains("expired 30m"), "{out}");
}

#[test]
fn an_invalid_config_cannot_decide() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.yaml");
    std::fs::write(&p, "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation: {}\n").unwrap();
    let (code, _, err) = agw(
        &["verify-token", "--config", &p.display().to_string()],
        "x.y.z",
    );
    assert_eq!(code, 2);
    assert!(err.contains("mcpAuthentcation"), "{err}");
    assert!(err.contains("has errors"), "{err}");
}

#[test]
fn hostile_claims_cannot_drive_the_terminal() {
    let s = setup();
    let mut c = good_claims();
    c["sub"] = json!("evil\u{1b}[2J\u{7}");
    let t = s.key.token(&c);
    let (code, out, _) = agw(
        &[
            "verify-token",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks",
            &s.jwks,
        ],
        &t,
    );
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("evil\\u{1b}[2J"), "{out}");
}

/// The key set cannot be fetched, but the issuer is already wrong: the gateway rejects the token
/// whatever its keys say (exit 1, not "undecided"); with a right issuer agw cannot decide (exit 2).
#[test]
fn an_unreachable_jwks_does_not_hide_a_failed_claim_check() {
    let key = TestKey::ec256("k1");
    let jwks = format!("http://127.0.0.1:{}/keys", common::procs::free_port());
    let verify = |iss: &str| -> (i32, Value) {
        let mut claims = good_claims();
        claims["iss"] = json!(iss);
        let args = [
            "verify-token",
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--jwks",
            &jwks,
            "--timeout",
            "2",
            "--format",
            "json",
        ];
        let (code, out, _) = agw(&args, &key.token(&claims));
        (code, serde_json::from_str(&out).unwrap())
    };
    let (code, v) = verify("https://someone-else.test");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["decision"]["decision"], "rejected", "{v}");
    assert_eq!(v["decision"]["check"], "issuer", "{v}");
    let (code, v) = verify(ISSUER);
    assert_eq!(code, 2, "{v}");
}

/// Runs `agw ARGS` with raw bytes on standard input.
fn agw_bytes(args: &[&std::ffi::OsStr], stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_agw"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_token_that_is_not_utf8_is_a_malformed_token() {
    use std::os::unix::ffi::OsStrExt;
    let s = setup();
    let mut bad = s.key.token(&good_claims()).into_bytes();
    bad[5] = 0xff;
    let os = |v: &str| std::ffi::OsStr::new(v).to_os_string();
    let base = [
        os("verify-token"),
        os("--issuer"),
        os(ISSUER),
        os("--audience"),
        os(AUDIENCE),
        os("--jwks"),
        os(&s.jwks),
        os("--format"),
        os("json"),
    ];
    let on_stdin: Vec<&std::ffi::OsStr> = base.iter().map(|a| a.as_os_str()).collect();
    let mut as_arg = on_stdin.clone();
    as_arg.push(std::ffi::OsStr::from_bytes(&bad));
    for (args, input) in [(&on_stdin, &bad[..]), (&as_arg, &b""[..])] {
        let (code, out, err) = agw_bytes(args, input);
        assert_eq!(code, 1, "{out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        assert_eq!(v["decision"]["check"], "format", "{v}");
        assert_eq!(v["checks"][0]["name"], "format");
        assert_eq!(v["checks"][0]["outcome"], "fail");
    }
}

/// One port, a listener without hostname whose route matches exactly `/mcp` (the token's
/// issuer) and a listener for `api.example.test` whose route matches the prefix `/mcp` (another
/// issuer): as `serve` does, the listener of the host is chosen first, then its route.
#[test]
fn the_listener_of_the_host_is_chosen_before_its_route() {
    let s = setup();
    let dir = std::path::Path::new(&s.cfg).parent().unwrap();
    let cfg = dir.join("hosts.yaml");
    let route = |name: &str, matches: &str, issuer: &str| {
        format!(
            "    - name: {name}\n      matches:\n      - path: {matches}\n      backends:\n      - host: 127.0.0.1:9000\n      policies:\n        mcpAuthentication:\n          issuer: {issuer}\n          audiences: [{AUDIENCE}]\n          jwks: {{file: keys.json}}\n          resourceMetadata: {{}}\n"
        )
    };
    let text = format!(
        "binds:\n- port: 3000\n  listeners:\n  - name: any\n    routes:\n{}  - name: api\n    hostname: api.example.test\n    routes:\n{}",
        route("exact-a", "{exact: /mcp}", ISSUER),
        route("prefix-b", "{pathPrefix: /mcp}", "https://other.test"),
    );
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.display().to_string();
    let r = root(&s);
    let t = s.key.token(&good_claims());
    let run = |host: Option<&str>| {
        let mut args = vec![
            "verify-token",
            "--config",
            &cfg,
            "--root",
            &r,
            "--route",
            "/mcp",
        ];
        if let Some(h) = host {
            args.extend(["--host", h]);
        }
        agw(&args, &t)
    };
    let (code, out, err) = run(Some("api.example.test"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("route `prefix-b`") && out.contains("FAIL  issuer"),
        "{out}"
    );
    let (code, out, err) = run(Some("API.Example.Test:3000"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("route `prefix-b`"), "{out}");
    let (code, out, err) = run(None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("route `exact-a`"), "{out}");
}

/// Without a config, `--provider` decides the key set URL derived from the issuer, as the
/// provider of an `mcpAuthentication` block does; one that cannot be derived is said, not guessed.
#[test]
fn the_provider_flag_decides_the_derived_key_set_url() {
    let s = setup();
    let t = s.key.token(&good_claims());
    // nothing listens on port 9 and the token has another issuer: rejected, with the policy
    let issuer = "http://127.0.0.1:9/realms/acme";
    let flags = [
        "verify-token",
        "--issuer",
        issuer,
        "--format",
        "json",
        "--timeout",
        "1",
    ];
    let (code, out, err) = agw(&[&flags[..], &["--provider", "keycloak"]].concat(), &t);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["policy"]["jwks"],
        json!(format!("{issuer}/protocol/openid-connect/certs"))
    );
    assert_eq!(v["policy"]["jwks_derived"], json!(true));
    let (_, out, _) = agw(&flags, &t);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["policy"]["jwks"],
        json!(format!("{issuer}/.well-known/jwks.json"))
    );
    let (code, out, err) = agw(
        &[
            "verify-token",
            "--issuer",
            "https://login.microsoftonline.com/",
            "--provider",
            "entra",
        ],
        &t,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("has no tenant") && err.contains("--jwks"),
        "{err}"
    );
}
