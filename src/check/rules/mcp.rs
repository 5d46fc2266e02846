//! MCP backends and targets: the forms of a remote target, what a stdio target may carry, how
//! its command is run, and the `mcp:` shorthand.

use super::Ctx;
use crate::config::mcp::{HttpTarget, McpTarget, StdioTarget};
use crate::config::url::parse_url;
use crate::diag::fix::{Edit, Fix};
use crate::diag::Diagnostic;
use crate::source::Span;

crate::rules! {
    MCP_REFERENCE_WITH_POLICIES {
        id: "mcp/reference-with-policies",
        severity: Error,
        summary: "an MCP target that refers to a named backend and has `policies`",
        why: "A target written `backend: NAME` takes its connection (TLS, auth, timeouts) from that entry of `backends`, so target `policies` beside the reference stop the gateway from loading the file. Put the policies on the entry of `backends`, or give the target its own `host`.",
        gateway: "The gateway refuses the file: \"cannot use backend reference when policies are defined for an MCP target\" (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalBackend::process_mcp_backend`).",
        example: "targets:\n- name: tools\n  mcp: {backend: tools-api, path: /mcp}\n  policies:\n    backendTLS: {}",
        use_instead: "backends:\n- name: tools-api\n  host: tools.internal:443\n  policies:\n    backendTLS: {}\n...\n  targets:\n  - name: tools\n    mcp: {backend: tools-api, path: /mcp}",
    }

    MCP_HOST_FORM {
        id: "mcp/host-form",
        severity: Error,
        summary: "a remote MCP target mixes or misses its address forms",
        why: "An `mcp`, `sse` or `openapi` target gives its server in exactly one form: `host: URL` (http or https, path included), or `host`, `port` and `path` together (host is then a bare name), or `backend: NAME` with `path`. Mixing them, leaving a part out, or using another URL scheme stops the gateway from loading the file.",
        gateway: "The gateway refuses a mixed or incomplete form (\"cannot mix host/port with backend for MCP target backend configuration\", \"if port or path is set, both must be set; otherwise, use only host\", \"path is required when backend is set\") and a URL whose scheme is not http or https (\"invalid scheme\") (agentgateway `crates/agentgateway/src/types/local.rs`, `McpBackendHost`'s deserializer, `McpBackendHost::process` and `LocalBackend::as_backends`).",
        example: "mcp:\n  host: http://localhost:3001\n  path: /mcp",
        use_instead: "mcp:\n  host: http://localhost:3001/mcp",
    }

    MCP_TARGET_NAME {
        id: "mcp/target-name",
        severity: Error,
        summary: "an MCP target name the gateway refuses",
        why: "MCP target names must follow the Gateway API SectionName pattern: lowercase letters, digits, `-` and `.`, each part starting and ending with a letter or digit, at most 253 characters. `my_tools`, `Tools` and `tools-` stop the gateway from loading the file; `_` is also the delimiter between a target and its tool names.",
        gateway: "The gateway checks every MCP target name and refuses one that does not match: \"invalid MCP target name ...: must match Gateway API SectionName pattern\" (agentgateway `crates/agentgateway/src/types/agent.rs`, `validate_mcp_target_name`, called from `LocalBackend::as_backends` in `types/local.rs`).",
        example: "mcp:\n  targets:\n  - name: my_tools\n    stdio: {cmd: my-server}",
        use_instead: "mcp:\n  targets:\n  - name: my-tools\n    stdio: {cmd: my-server}",
    }

    MCP_STDIO_POLICIES {
        id: "mcp/stdio-policies",
        severity: Error,
        summary: "`policies` on a stdio target",
        why: "Target policies shape the connection to a remote server (headers, backend TLS, backend authentication). A stdio target is a local process with no such connection, and `policies` on it stop the gateway from loading the file. Remove them; authorization (`mcpAuthorization`) belongs on the route.",
        gateway: "The gateway refuses the file: \"stdio MCP target 'NAME': policies are not supported (stdio has no backend connection)\" (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalBackend::as_backends`).",
        example: "- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}\n  policies:\n    requestHeaderModifier: {set: {x-a: b}}",
        use_instead: "- name: everything\n  stdio: {cmd: npx, args: [-y, '@modelcontextprotocol/server-everything']}",
    }

    MCP_STDIO_INHERITS_SECRETS {
        id: "mcp/stdio-inherits-secrets",
        severity: Warning,
        summary: "a stdio target inherits the secrets the file reads from the environment",
        why: "When the file reads secrets from the environment (`clientSecret: ${OKTA_CLIENT_SECRET}`, an `apiKey`, a password or token), every stdio process that inherits the gateway's environment gets them too, and an MCP server can read, log or send on anything in its environment. Set `clear_env: true` and pass what the server needs under `env:`. A secret the target's own `env:` names is passed on purpose and does not count.",
        gateway: "The gateway accepts the file and starts a stdio target's process with its own whole environment, clearing it only with `clear_env: true`, then adds the target's `env` (agentgateway `crates/agentgateway/src/mcp/upstream/mod.rs`, `UpstreamGroup::setup_upstream`).",
        example: "mcpAuthentication:\n  clientSecret: ${OKTA_CLIENT_SECRET}\n# ...\ntargets:\n- name: tools\n  stdio: {cmd: my-mcp-server}",
        use_instead: "mcpAuthentication:\n  clientSecret: ${OKTA_CLIENT_SECRET}\n# ...\ntargets:\n- name: tools\n  stdio: {cmd: my-mcp-server, clear_env: true, env: {HOME: /srv/tools}}",
    }

    MCP_NPX_WITHOUT_YES {
        id: "mcp/npx-without-yes",
        severity: Warning,
        summary: "a stdio target runs `npx` without `-y`",
        why: "npx asks for confirmation before it installs a package that is not installed yet. Under the gateway the process's standard input is the MCP stream, not a terminal, so the question cannot be answered and the target fails to start (it works only where the package happens to be installed already). Pass `-y` (or `--yes`) before the package name, or install the package and run its binary.",
        gateway: "The gateway accepts the file and runs the command as a child process whose standard input and output carry the MCP messages (agentgateway `crates/agentgateway/src/mcp/upstream/mod.rs`, `UpstreamGroup::setup_upstream`, with rmcp's `TokioChildProcess`).",
        example: "stdio:\n  cmd: npx\n  args: [\"@modelcontextprotocol/server-everything\"]",
        use_instead: "stdio:\n  cmd: npx\n  args: [\"-y\", \"@modelcontextprotocol/server-everything\"]",
    }

    MCP_SHORTHAND_PORT_AND_GATEWAYS {
        id: "mcp/shorthand-port-and-gateways",
        severity: Error,
        summary: "the `mcp:` shorthand has both `port` and `gateways`",
        why: "The shorthand either listens on a port of its own (`port`, deprecated, default 3000) or attaches to gateways and serves `/mcp`, `/sse` and `/.well-known` on their ports. Both at once stop the gateway from loading the file. Keep one of them.",
        gateway: "The gateway refuses the file: \"mcp.gateways cannot be used with mcp.port\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`).",
        example: "mcp:\n  port: 3000\n  gateways: public\n  targets: [{name: a, stdio: {cmd: server}}]",
        use_instead: "mcp:\n  gateways: public\n  targets: [{name: a, stdio: {cmd: server}}]",
    }
}

pub fn check(ctx: &mut Ctx) {
    let backends = ctx.mcp.clone();
    let secrets = secret_refs(ctx.text);
    for (ptr, backend) in backends.iter() {
        let ptr = ptr.as_str();
        for (ti, t) in backend.targets.iter().enumerate() {
            let tptr = format!("{ptr}/targets/{ti}");
            target_name(ctx, &tptr, &t.name);
            if let Some(s) = &t.stdio {
                if t.policies.is_some() {
                    stdio_policies(ctx, &tptr);
                }
                npx(ctx, &format!("{tptr}/stdio"), s);
                if s.clear_env != Some(true) {
                    inherits_secrets(ctx, &tptr, &t.name, &secrets);
                }
            }
            for (kind, h) in [("mcp", &t.mcp), ("sse", &t.sse)] {
                if let Some(h) = h {
                    host_form(ctx, &format!("{tptr}/{kind}"), kind, h);
                }
            }
            if t.policies.is_some() {
                reference_with_policies(ctx, &tptr, t);
            }
            if let Some(o) = &t.openapi {
                let h = HttpTarget {
                    host: o.host.clone(),
                    port: o.port,
                    path: o.path.clone(),
                    backend: o.backend.clone(),
                };
                host_form(ctx, &format!("{tptr}/openapi"), "openapi", &h);
            }
        }
    }
    shorthand(ctx);
}

/// A target that refers to a named backend takes its connection from that backend; the gateway
/// refuses target `policies` beside the reference ("cannot use backend reference when policies
/// are defined for an MCP target", agentgateway `types/local.rs`, `process_mcp_backend`).
fn reference_with_policies(ctx: &mut Ctx, tptr: &str, t: &McpTarget) {
    let reference = [
        ("mcp", t.mcp.as_ref().and_then(|h| h.backend.as_ref())),
        ("sse", t.sse.as_ref().and_then(|h| h.backend.as_ref())),
        (
            "openapi",
            t.openapi.as_ref().and_then(|o| o.backend.as_ref()),
        ),
    ]
    .into_iter()
    .find_map(|(kind, b)| b.map(|b| (kind, b)));
    let Some((kind, backend)) = reference else {
        return;
    };
    ctx.push(
        Diagnostic::new(
            &MCP_REFERENCE_WITH_POLICIES,
            format!(
                "MCP target `{}` refers to backend `{backend}` and has `policies`: the gateway refuses the file",
                t.name
            ),
        )
        .at(ctx.key(&format!("{tptr}/policies")), "not with a backend reference")
        .label(ctx.value(&format!("{tptr}/{kind}/backend")), "the connection comes from this backend")
        .help(format!(
            "move the policies to the `policies` of backend `{backend}` in `backends`, or write the target's own `host` instead of `backend`"
        )),
    );
}

/// A secret the file takes from the environment: `clientSecret: ${OKTA_CLIENT_SECRET}`.
struct SecretRef {
    key: String,
    var: String,
    /// The `$VAR` reference in the text.
    span: Span,
}

/// Whether a key names a secret (`clientSecret`, `apiKey`, `password`, `GITHUB_TOKEN`, ...).
fn secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const PARTS: [&str; 8] = [
        "secret",
        "password",
        "passwd",
        "apikey",
        "accesskey",
        "privatekey",
        "credential",
        "authorization",
    ];
    PARTS.iter().any(|p| k.contains(p)) || k.ends_with("token")
}

/// Every `KEY: $VAR` (also quoted, `${VAR}`, `${VAR:-default}` or after `Bearer `) whose key
/// names a secret, outside comments.
fn secret_refs(text: &str) -> Vec<SecretRef> {
    static RE: std::sync::OnceLock<::regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        ::regex::Regex::new(
            r#"(?m)(?:^|[\s{,\-])["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*:[ \t]+["']?(?:Bearer[ \t]+)?(\$\{?([A-Za-z_][A-Za-z0-9_]*))"#,
        )
        .expect("a valid pattern")
    });
    let mut out = Vec::new();
    // only a line with a `$` can read a variable, and most lines of a large file have none: go
    // from `$` to `$`, each line once
    let mut done_to = 0;
    for (dollar, _) in text.match_indices('$') {
        if dollar < done_to {
            continue;
        }
        let line_start = text[..dollar].rfind('\n').map_or(0, |n| n + 1);
        let line_end = text[dollar..]
            .find('\n')
            .map_or(text.len(), |n| dollar + n + 1);
        done_to = line_end;
        let line = &text[line_start..line_end];
        let code = match line.find(" #") {
            _ if line.trim_start().starts_with('#') => "",
            Some(i) => &line[..i],
            None => line,
        };
        for c in re.captures_iter(code) {
            let (Some(key), Some(reference), Some(var)) = (c.get(1), c.get(2), c.get(3)) else {
                continue;
            };
            if secret_key(key.as_str()) {
                // `${VAR}` and `${VAR:-default}` up to their closing brace
                let mut end = reference.end();
                if reference.as_str().starts_with("${") {
                    if let Some(i) = code[end..].find('}') {
                        end += i + 1;
                    }
                }
                out.push(SecretRef {
                    key: key.as_str().to_string(),
                    var: var.as_str().to_string(),
                    span: Span::new(line_start + reference.start(), line_start + end),
                });
            }
        }
    }
    out
}

/// A stdio target without `clear_env: true` gets the gateway's whole environment, and with it
/// every secret the file reads from there (those in the target's own `env` it gets on purpose).
fn inherits_secrets(ctx: &mut Ctx, tptr: &str, name: &str, secrets: &[SecretRef]) {
    if secrets.is_empty() {
        return;
    }
    let own = ctx.value(&format!("{tptr}/stdio/env"));
    let inherited: Vec<&SecretRef> = secrets
        .iter()
        .filter(|s| !(own.start <= s.span.start && s.span.end <= own.end && !own.is_empty()))
        .collect();
    let Some(first) = inherited.first() else {
        return;
    };
    let mut vars: Vec<&str> = inherited.iter().map(|s| s.var.as_str()).collect();
    vars.sort_unstable();
    vars.dedup();
    let listed = vars
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    ctx.push(
        Diagnostic::new(
            &MCP_STDIO_INHERITS_SECRETS,
            format!(
                "stdio target `{name}` inherits the gateway's environment, which holds secrets this file reads from it ({listed})"
            ),
        )
        .at(ctx.key(&format!("{tptr}/stdio")), "started with the gateway's whole environment")
        .label(first.span, format!("`{}` comes from the environment", first.key))
        .help("add `clear_env: true` to the stdio target and pass the variables the server needs under `env:`")
        .note("a child process can read, log or send on everything in its environment; the gateway starts it with its own unless `clear_env: true`"),
    );
}

fn stdio_policies(ctx: &mut Ctx, tptr: &str) {
    ctx.push(
        Diagnostic::new(
            &MCP_STDIO_POLICIES,
            "a stdio target has `policies`: the gateway accepts them only on remote targets",
        )
        .at(ctx.key(&format!("{tptr}/policies")), "not allowed on a stdio target")
        .label(ctx.key(&format!("{tptr}/stdio")), "this target runs a local process")
        .help("target policies (headers, backend TLS, backend auth) shape the connection to a remote server; a stdio target has none. Remove `policies`, and put request policies such as `mcpAuthorization` on the route"),
    );
}

fn npx(ctx: &mut Ctx, ptr: &str, s: &StdioTarget) {
    let base = s.cmd.rsplit(['/', '\\']).next().unwrap_or(&s.cmd);
    let (runner, args, first_arg) = match base {
        "npx" | "npx.cmd" => ("npx", &s.args[..], 0),
        "npm" | "npm.cmd" if s.args.first().map(String::as_str) == Some("exec") => {
            ("npm exec", &s.args[1..], 1)
        }
        _ => return,
    };
    let env_yes = s.env.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("npm_config_yes") && matches!(v.as_str(), "true" | "1")
    });
    if env_yes {
        return;
    }
    let mut package = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-y" | "--yes" => return,
            "--no" | "-n" | "--no-install" | "--offline" | "--prefer-offline" => return,
            "-p" | "--package" => {
                if package.is_none() && i + 1 < args.len() {
                    package = Some(i + 1);
                }
                i += 2;
                continue;
            }
            "-c" | "--call" => {
                i += 2;
                continue;
            }
            "--" => {
                if i + 1 < args.len() {
                    package = package.or(Some(i + 1));
                }
                break;
            }
            _ if a.starts_with("--yes=") => {
                if a != "--yes=false" {
                    return;
                }
            }
            _ if a.starts_with("--package=") => {
                package = package.or(Some(i));
            }
            _ if a.starts_with('-') => {}
            _ => {
                package = package.or(Some(i));
                break;
            }
        }
        i += 1;
    }
    let shown = package
        .and_then(|p| args.get(p))
        .map(|p| p.trim_start_matches("--package=").to_string());
    let span = match package {
        Some(p) => ctx.value(&format!("{ptr}/args/{}", p + first_arg)),
        None => ctx.value(&format!("{ptr}/cmd")),
    };
    let what = match &shown {
        Some(p) => format!("`{runner} {p}`"),
        None => format!("`{runner}`"),
    };
    let mut fixed: Vec<String> = Vec::new();
    if runner == "npm exec" {
        fixed.push("exec".into());
    }
    fixed.push("-y".into());
    fixed.extend(args.iter().cloned());
    let fixed = fixed
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut d = Diagnostic::new(
        &MCP_NPX_WITHOUT_YES,
        format!("{what} runs without `-y`: npx asks before installing a package, and under the gateway there is no terminal to answer"),
    )
    .at(span, "installed only after a prompt nobody can answer")
    .label(ctx.value(&format!("{ptr}/cmd")), "run by the gateway with stdin connected to MCP, not a terminal")
    .help(format!("pass `-y` before the package: `args: [{fixed}]` (or install the package and run its binary directly)"))
    .note("the target fails to start unless the package happens to be installed already");
    if package.is_some() {
        if let Some(edit) = insert_before_item(ctx.text, span, "-y") {
            d = d.with_fix(Fix::safe("pass `-y` to npx", vec![edit]));
        }
    }
    ctx.push(d);
}

/// An edit that inserts `item` into a YAML sequence just before the item at `span`, in the
/// sequence's own style: `[a, b]` (quoted like the item) or a block list (`- item` lines, indented
/// as the item's dash).
fn insert_before_item(text: &str, span: Span, item: &str) -> Option<Edit> {
    let before = text.get(..span.start)?;
    let trimmed = before.trim_end_matches(' ');
    let at = Span::new(span.start, span.start);
    let quote = text[span.start..]
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'');
    if trimmed.ends_with('[') || trimmed.ends_with(',') {
        let q = quote.map(String::from).unwrap_or_default();
        return Some(Edit {
            span: at,
            text: format!("{q}{item}{q}, "),
        });
    }
    let dash_line = trimmed.strip_suffix('-')?;
    let line_start = dash_line.rfind('\n').map_or(0, |i| i + 1);
    let indent = &dash_line[line_start..];
    if !indent.chars().all(|c| c == ' ') {
        return None;
    }
    Some(Edit {
        span: at,
        text: format!("{item}\n{indent}- "),
    })
}

fn host_form(ctx: &mut Ctx, ptr: &str, kind: &str, h: &HttpTarget) {
    let default_path = if kind == "sse" { "/sse" } else { "/mcp" };
    let key = |f: &str| format!("{ptr}/{f}");
    let error = |msg: String, at: &str, label: &str, help: String| {
        Diagnostic::new(&MCP_HOST_FORM, msg)
            .at(ctx.key(&key(at)), label.to_string())
            .help(help)
    };
    let d = match (&h.host, h.port, &h.path, &h.backend) {
        (Some(_), _, _, Some(b)) => Some(
            error(
                format!("`{kind}` target has both `host` and `backend: {b}`"),
                "backend",
                "one form or the other",
                "a target is `{host: URL}`, `{host, port, path}` or `{backend, path}`; keep one".into(),
            )
            .label(ctx.key(&key("host")), "the host form"),
        ),
        (None, Some(_), _, Some(_)) => Some(error(
            format!("`{kind}` target has `port` beside `backend`"),
            "port",
            "not part of the backend form",
            "the port comes from the named backend; remove `port`".into(),
        )),
        (None, _, _, Some(_)) => None,
        (None, _, _, None) => Some(
            Diagnostic::new(
                &MCP_HOST_FORM,
                format!("`{kind}` target has neither `host` nor `backend`"),
            )
            .at(ctx.key(ptr), "where is the server?")
            .help(format!(
                "add `host: http://HOST:PORT{default_path}`, or `backend: NAME` with `path: {default_path}`"
            )),
        ),
        (Some(host), port, path, None) => host_only(ctx, ptr, kind, host, port, path.as_deref()),
    };
    if let Some(d) = d {
        ctx.push(d);
    }
}

fn host_only(
    ctx: &Ctx,
    ptr: &str,
    kind: &str,
    host: &str,
    port: Option<u32>,
    path: Option<&str>,
) -> Option<Diagnostic> {
    let default_path = if kind == "sse" { "/sse" } else { "/mcp" };
    let hptr = format!("{ptr}/host");
    match (port, path) {
        (Some(p), Some(pa)) => {
            if host.contains("://") {
                let u = parse_url(host);
                let bare = u.as_ref().map(|u| u.host).unwrap_or(host);
                return Some(
                    Diagnostic::new(
                        &MCP_HOST_FORM,
                        format!("with `port` and `path`, `host` is a host name, but `{host}` is a URL"),
                    )
                    .at(ctx.value(&hptr), "a URL")
                    .label(ctx.key(&format!("{ptr}/port")), "port given separately")
                    .help(format!(
                        "write either `host: {bare}` with `port: {p}` and `path: {pa}`, or only `host: {host}`"
                    )),
                );
            }
            None
        }
        (Some(p), None) => Some(
            Diagnostic::new(
                &MCP_HOST_FORM,
                format!("`{kind}` target has `host` and `port` but no `path`"),
            )
            .at(ctx.key(&format!("{ptr}/port")), "`port` needs `path` too")
            .help(format!(
                "the split form needs all three: add `path: {default_path}`, or write one URL: `host: http://{}:{p}{default_path}`",
                host.trim_end_matches('/')
            )),
        ),
        (None, Some(pa)) => {
            let help = match parse_url(host) {
                Some(u) if u.path.is_empty() || u.path == "/" => format!(
                    "put the path into the URL: `host: {}{pa}`",
                    host.trim_end_matches('/')
                ),
                Some(_) => "the URL already has a path; remove `path`".to_string(),
                None => format!("add `port:`, or write one URL: `host: http://{host}{pa}`"),
            };
            Some(
                Diagnostic::new(
                    &MCP_HOST_FORM,
                    format!("`{kind}` target mixes forms: `host` and `path` without `port`"),
                )
                .at(ctx.key(&format!("{ptr}/path")), "`path` belongs to the split form")
                .label(ctx.value(&hptr), "host")
                .help(help),
            )
        }
        (None, None) => lone_host(ctx, &hptr, host, default_path),
    }
}

/// `host` alone: a URL with the `http` or `https` scheme and a host name, or `HOST:PORT`.
fn lone_host(ctx: &Ctx, hptr: &str, host: &str, default_path: &str) -> Option<Diagnostic> {
    if !host.contains("://") {
        if let Some((_, Some(_))) = crate::config::url::split_host_port(host) {
            return None;
        }
        return Some(
            Diagnostic::new(
                &MCP_HOST_FORM,
                format!("`host: {host}` has no port and no scheme"),
            )
            .at(ctx.value(hptr), "which port?")
            .help(format!(
                "write a URL (`http://{host}:PORT{default_path}`) or `HOST:PORT`"
            )),
        );
    }
    let Some(u) = parse_url(host) else {
        return Some(
            Diagnostic::new(&MCP_HOST_FORM, format!("`{host}` is not a valid URL"))
                .at(ctx.value(hptr), "not a URL")
                .help(format!("write `http://HOST:PORT{default_path}`")),
        );
    };
    let scheme = u.scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        let rest = &host[u.scheme.len()..];
        return Some(
            Diagnostic::new(
                &MCP_HOST_FORM,
                format!(
                    "`{host}` uses the scheme `{}`: MCP targets speak HTTP",
                    u.scheme
                ),
            )
            .at(
                ctx.inner(hptr, host, 0, u.scheme.len()),
                "only `http` and `https`",
            )
            .help(format!("write `http{rest}` or `https{rest}`")),
        );
    }
    if u.host.is_empty() {
        return Some(
            Diagnostic::new(&MCP_HOST_FORM, format!("`{host}` has no host name"))
                .at(ctx.value(hptr), "no host")
                .help(format!("write `{scheme}://HOST:PORT{default_path}`")),
        );
    }
    None
}

fn shorthand(ctx: &mut Ctx) {
    let Some(m) = &ctx.cfg.mcp else { return };
    if m.gateways.is_some() && m.port.is_some() {
        ctx.push(
            Diagnostic::new(
                &MCP_SHORTHAND_PORT_AND_GATEWAYS,
                "the `mcp:` shorthand has both `port` and `gateways`",
            )
            .at(ctx.key("/mcp/port"), "its own port")
            .label(ctx.key("/mcp/gateways"), "attached to gateways")
            .help("attached to gateways, the shorthand listens on their ports; remove `port` (it is deprecated), or remove `gateways` to keep a port of its own"),
        );
    }
}

/// The gateway validates MCP target names as a Gateway API SectionName (agentgateway
/// `types/agent.rs`, used by `as_backends` in `types/local.rs`): lowercase letters, digits, `-`
/// and `.`, starting and ending with a letter or digit, at most 253 characters. `_` is also the
/// delimiter of prefixed tool names (`target_tool`).
fn target_name(ctx: &mut Ctx, ptr: &str, name: &str) {
    if crate::config::is_dns_subdomain(name) {
        return;
    }
    let why = if name.is_empty() {
        "it must not be empty".to_string()
    } else if name.len() > 253 {
        format!("it has {} characters, at most 253 are allowed", name.len())
    } else {
        "only lowercase letters, digits, `-` and `.` are allowed, starting and ending with a letter or digit".to_string()
    };
    let suggestion: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches(|c: char| c == '-' || c == '.')
        .to_string();
    let span = ctx.value(&format!("{ptr}/name"));
    let mut d = Diagnostic::new(
        &MCP_TARGET_NAME,
        format!("MCP target name `{name}` is refused by the gateway: {why}"),
    )
    .at(span, "not a valid target name");
    if crate::config::is_dns_subdomain(&suggestion) {
        d = d
            .help(format!(
                "rename it `{suggestion}` (tool names become `{suggestion}_TOOL`)"
            ))
            .with_fix(crate::diag::fix::Fix::unsafe_(
                format!("rename the target `{suggestion}`"),
                crate::diag::fix::Fix::replace(span, suggestion.clone()),
            ));
    } else {
        d = d.help("use a name such as `tools` or `github-mcp`");
    }
    ctx.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "clientSecret",
            "apiKey",
            "API_KEY",
            "password",
            "GITHUB_TOKEN",
            "token",
        ] {
            assert!(secret_key(k), "{k}");
        }
        for k in [
            "maxTokens",
            "tokensPerFill",
            "issuer",
            "key",
            "cmd",
            "LOG_LEVEL",
        ] {
            assert!(!secret_key(k), "{k}");
        }
    }

    #[test]
    fn references_in_block_flow_and_quoted_forms() {
        let text = "a:\n  clientSecret: ${S1}\n  x: {apiKey: \"$S2\", other: $NOT}\n  # password: $S3\n  authorization: Bearer ${S4:-x}\n  maxTokens: $N\n";
        let vars: Vec<String> = secret_refs(text).into_iter().map(|r| r.var).collect();
        assert_eq!(vars, ["S1", "S2", "S4"]);
        let r = &secret_refs(text)[0];
        assert_eq!(&text[r.span.start..r.span.end], "${S1}");
        let r = &secret_refs(text)[2];
        assert_eq!(&text[r.span.start..r.span.end], "${S4:-x}");
    }
}
