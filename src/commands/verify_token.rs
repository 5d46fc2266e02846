//! `agw verify-token`: would the gateway accept this token on this route, and why not.

use std::io::{IsTerminal, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::check::{load, CheckOptions};
use crate::cli::{ModeArg, ProviderArg, TokenFormat, VerifyTokenArgs};
use crate::config::policy::auth::{AuthMode, Empty, JwtAuth, Provider};
use crate::config::policy::authz::AuthzRule;
use crate::config::routing::{self, Selected};
use crate::config::walk::{self, RouteHome};
use crate::config::Config;
use crate::diag::{self, Severity};
use crate::oidc::{CachePolicy, HttpClient, HttpOptions, JwksCache};
use crate::token::authz::{self, McpCall, RequestInfo};
use crate::token::jws::MAX_TOKEN_BYTES;
use crate::token::policy::{self, PolicyOptions};
use crate::token::report::{Report, EXIT_ACCEPTED, EXIT_UNDECIDED};
use crate::token::verify::{self, Policy, Verdict};

/// What applies to the request: the policies and the route they come from.
struct Applied<'a> {
    policies: Vec<Policy>,
    label: Option<String>,
    selected: Option<Selected<'a>>,
    notes: Vec<String>,
}

pub fn run(a: VerifyTokenArgs) -> i32 {
    match run_inner(&a) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("agw verify-token: {msg}");
            EXIT_UNDECIDED
        }
    }
}

fn run_inner(a: &VerifyTokenArgs) -> Result<i32, String> {
    let (token, mut notes) = read_token(a)?;
    let opts = PolicyOptions {
        root: a.root.clone(),
        leeway: Duration::from_secs(a.leeway),
        required_scopes: a.require_scopes.clone(),
    };
    let loaded_cfg;
    let mut applied = match &a.config {
        Some(path) => {
            loaded_cfg = load_config(a, path)?;
            select_policies(a, &loaded_cfg, &opts)?
        }
        None => flag_policy(a, &opts)?,
    };
    notes.append(&mut applied.notes);
    if applied.policies.is_empty() {
        let what = applied.label.clone().unwrap_or_else(|| "the route".into());
        let line = format!(
            "{what} has no mcpAuthentication or jwtAuth: the gateway does not look at tokens there, \
             so it would pass this request whatever the token.\n"
        );
        super::write_stdout(line.as_bytes());
        return Ok(EXIT_ACCEPTED);
    }
    let (verdict, policy) = judge(a, &token, &applied.policies)?;
    if applied.policies.len() > 1 {
        notes.push(format!(
            "{} providers; the one whose key set holds the token's kid applies ({})",
            applied.policies.len(),
            policy.origin
        ));
    }
    let authz = evaluate_call(a, &applied, &verdict)?;
    let report = Report {
        verdict: &verdict,
        policy: &policy,
        route: applied.label.clone(),
        authz,
        notes,
    };
    let render = match a.format {
        TokenFormat::Human => diag::token::human as diag::Render<Report>,
        TokenFormat::Json => diag::token::json as diag::Render<Report>,
    };
    let style = diag::Style {
        color: super::use_color(a.color),
    };
    super::write_stdout(render(&report, style).as_bytes());
    Ok(report.decision().exit_code())
}

/// The policy of `--issuer`, `--audience`, `--jwks` and `--mode`, without a file.
fn flag_policy(a: &VerifyTokenArgs, opts: &PolicyOptions) -> Result<Applied<'static>, String> {
    let issuer = a
        .issuer
        .as_deref()
        .ok_or("give --config FILE or --issuer URL")?;
    let mode = match a.mode {
        ModeArg::Strict => AuthMode::Strict,
        ModeArg::Optional => AuthMode::Optional,
        ModeArg::Permissive => AuthMode::Permissive,
    };
    let provider = a.provider.map(|p| match p {
        ProviderArg::Okta => Provider::Okta(Empty {}),
        ProviderArg::Keycloak => Provider::Keycloak(Empty {}),
        ProviderArg::Auth0 => Provider::Auth0(Empty {}),
        ProviderArg::Descope => Provider::Descope(Empty {}),
        ProviderArg::Authentik => Provider::Authentik(Empty {}),
        ProviderArg::Entra => Provider::Entra(Empty {}),
    });
    let jwks = a.jwks.as_deref();
    let policy = policy::from_flags(issuer, &a.audiences, jwks, provider.as_ref(), mode, opts)?;
    Ok(Applied {
        policies: vec![policy],
        label: None,
        selected: None,
        notes: Vec::new(),
    })
}

/// Verifies the token against the policies (at least one): the first whose key set holds the
/// token's key applies; when none does, the first is reported.
fn judge(
    a: &VerifyTokenArgs,
    token: &str,
    policies: &[Policy],
) -> Result<(Verdict, Policy), String> {
    let timeout = Duration::from_secs(a.timeout.max(1));
    let client = HttpClient::new(HttpOptions {
        connect_timeout: timeout,
        timeout,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let cache = JwksCache::new(client, CachePolicy::default());
    let now = a.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let mut first: Option<(Verdict, Policy)> = None;
        for p in policies {
            let v = verify::verify_with_cache(token, p, &cache, now).await;
            let key_found = v
                .check("key")
                .is_some_and(|c| c.outcome == verify::Outcome::Pass);
            if key_found || policies.len() == 1 {
                return Ok((v, p.clone()));
            }
            first.get_or_insert((v, p.clone()));
        }
        first.ok_or_else(|| "the route has no token policy".to_string())
    })
}

/// The token, from the argument, a file or standard input; a pasted `Bearer ` prefix is removed.
/// Bytes that are not UTF-8 are kept as U+FFFD: no token holds one, so the verdict is a
/// `format` failure like that of any other malformed token.
fn read_token(a: &VerifyTokenArgs) -> Result<(String, Vec<String>), String> {
    let limit = MAX_TOKEN_BYTES * 4;
    let raw = match (&a.token, &a.token_file) {
        (Some(t), _) if t != "-" => t.to_string_lossy().into_owned(),
        (_, Some(f)) => {
            let file =
                std::fs::File::open(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let mut buf = Vec::new();
            file.take(limit as u64)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            String::from_utf8_lossy(&buf).into_owned()
        }
        _ => {
            if std::io::stdin().is_terminal() && a.token.is_none() {
                return Err(
                    "no token: pass it as an argument, with --token-file FILE, or on standard input"
                        .into(),
                );
            }
            let mut buf = Vec::new();
            std::io::stdin()
                .take(limit as u64)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            String::from_utf8_lossy(&buf).into_owned()
        }
    };
    let mut notes = Vec::new();
    let mut t = raw.trim();
    for prefix in ["Authorization:", "authorization:"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim_start();
        }
    }
    if t.len() > 7
        && t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        t = t[7..].trim_start();
        notes.push("removed a leading `Bearer ` from the input".into());
    }
    Ok((t.to_string(), notes))
}

fn load_config(a: &VerifyTokenArgs, path: &std::path::Path) -> Result<Config, String> {
    let env = super::check::env_options(
        &a.env.env_file,
        &a.env.env,
        a.env.allow_unset_env,
        a.env.no_process_env,
    )?;
    let opts = CheckOptions {
        env,
        release: a.release.gateway_version,
        ..Default::default()
    };
    let loaded = load::load(load::Input::Path(path), &path.display().to_string(), &opts)?;
    if loaded.has_errors() {
        eprint!(
            "{}",
            diag::human::render(std::slice::from_ref(&loaded.report), Default::default())
        );
        return Err(format!(
            "{} has errors, so the gateway would not start with it; fix them first (see above)",
            path.display()
        ));
    }
    let warnings = loaded.report.count(Severity::Warning);
    if warnings > 0 {
        eprintln!(
            "agw verify-token: {} has {warnings} warning(s); `agw check {}` shows them",
            path.display(),
            path.display()
        );
    }
    loaded
        .config
        .ok_or_else(|| format!("{} could not be read as a configuration", path.display()))
}

/// The gateway-level `jwtAuth` in front of a route (listener or gateway policies).
fn front_jwt_auth<'a>(cfg: &'a Config, sel: &Selected<'a>) -> Option<(&'a JwtAuth, String)> {
    let Selected::Route(site) = sel else {
        return None;
    };
    match &site.home {
        RouteHome::Bind { listener, .. } => listener
            .policies
            .as_ref()
            .and_then(|p| p.jwt_auth.as_ref())
            .map(|j| {
                let lp = site.ptr.rsplit_once("/routes/").map(|x| x.0).unwrap_or("");
                (j, format!("{lp}/policies/jwtAuth"))
            }),
        RouteHome::Gateways(refs) => refs.iter().find_map(|r| {
            let (gw, listener) = match r.split_once('/') {
                Some((g, l)) => (g, Some(l)),
                None => (*r, None),
            };
            let g = cfg.gateways.get(gw)?;
            if let Some(l) = listener {
                if let Some((i, lis)) = g
                    .listeners
                    .iter()
                    .enumerate()
                    .find(|(_, x)| x.name.as_deref() == Some(l))
                {
                    if let Some(j) = lis.policies.jwt_auth.as_ref() {
                        return Some((j, format!("/gateways/{gw}/listeners/{i}/jwtAuth")));
                    }
                }
            }
            g.policies
                .jwt_auth
                .as_ref()
                .map(|j| (j, format!("/gateways/{gw}/jwtAuth")))
        }),
    }
}

fn policies_of<'a>(
    cfg: &'a Config,
    sel: &Selected<'a>,
    opts: &PolicyOptions,
) -> (Vec<Policy>, Vec<String>) {
    let ptr = sel.ptr();
    let pol_ptr = match sel {
        Selected::Route(_) => format!("{ptr}/policies"),
        Selected::Shorthand(_) => "/mcp/policies".into(),
    };
    let mut notes = Vec::new();
    if let Some(p) = sel.policies() {
        if let Some(m) = &p.mcp_authentication {
            return (
                vec![policy::from_mcp_authentication(
                    m,
                    &format!("{pol_ptr}/mcpAuthentication"),
                    opts,
                )],
                notes,
            );
        }
        if let Some(j) = &p.jwt_auth {
            return (
                policy::from_jwt_auth(j, &format!("{pol_ptr}/jwtAuth"), opts),
                notes,
            );
        }
    }
    if let Some((j, at)) = front_jwt_auth(cfg, sel) {
        notes.push("the route has no authentication of its own; the listener's jwtAuth applies before routing".into());
        return (policy::from_jwt_auth(j, &at, opts), notes);
    }
    (Vec::new(), notes)
}

fn select_policies<'a>(
    a: &VerifyTokenArgs,
    cfg: &'a Config,
    opts: &PolicyOptions,
) -> Result<Applied<'a>, String> {
    let selected = match &a.route {
        Some(r) if r.starts_with('/') => Some(
            routing::select_route(cfg, a.host.as_deref(), r, &a.method).ok_or_else(|| {
                format!(
                    "no route serves {} {r}{}; routes: {}",
                    a.method,
                    a.host
                        .as_deref()
                        .map(|h| format!(" on host {h}"))
                        .unwrap_or_default(),
                    describe_routes(cfg)
                )
            })?,
        ),
        Some(name) => Some(
            walk::routes(cfg)
                .into_iter()
                .find(|s| s.route.name.as_deref() == Some(name.as_str()))
                .map(|s| Selected::Route(Box::new(s)))
                .ok_or_else(|| {
                    format!(
                        "no route is named `{name}` (a path must start with `/`); routes: {}",
                        describe_routes(cfg)
                    )
                })?,
        ),
        None => None,
    };
    if let Some(sel) = selected {
        let (policies, notes) = policies_of(cfg, &sel, opts);
        return Ok(Applied {
            policies,
            label: Some(sel.label()),
            selected: Some(sel),
            notes,
        });
    }
    // No --route: the file must protect exactly one route.
    let mut candidates: Vec<Selected<'a>> = walk::routes(cfg)
        .into_iter()
        .map(|s| Selected::Route(Box::new(s)))
        .collect();
    if let Some(m) = &cfg.mcp {
        candidates.push(Selected::Shorthand(m));
    }
    let mut protected: Vec<(Selected<'a>, Vec<Policy>, Vec<String>)> = candidates
        .into_iter()
        .filter_map(|s| {
            let (p, n) = policies_of(cfg, &s, opts);
            (!p.is_empty()).then_some((s, p, n))
        })
        .collect();
    match protected.len() {
        0 => Err("no route of this file has mcpAuthentication or jwtAuth, so the gateway checks no tokens; nothing to verify".into()),
        1 => {
            let (sel, policies, notes) = protected.remove(0);
            Ok(Applied {
                policies,
                label: Some(sel.label()),
                selected: Some(sel),
                notes,
            })
        }
        n => Err(format!(
            "{n} routes check tokens; choose one with --route PATH (or a route name): {}",
            protected
                .iter()
                .map(|(s, _, _)| format!("{} [{}]", s.label(), paths_of(s)))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

fn paths_of(s: &Selected) -> String {
    match s {
        Selected::Route(r) => r
            .route
            .effective_matches()
            .iter()
            .filter_map(|m| m.path.as_ref())
            .map(|p| {
                if let Some(e) = &p.exact {
                    e.clone()
                } else if let Some(pp) = &p.path_prefix {
                    format!("{pp}*")
                } else {
                    format!("~{}", p.regex.clone().unwrap_or_default())
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
        Selected::Shorthand(_) => "/mcp".into(),
    }
}

fn describe_routes(cfg: &Config) -> String {
    let all: Vec<String> = walk::routes(cfg)
        .into_iter()
        .map(|s| {
            let sel = Selected::Route(Box::new(s));
            format!("{} [{}]", sel.label(), paths_of(&sel))
        })
        .collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join("; ")
    }
}

/// `--tool`/`--prompt`/`--resource` against the route's `mcpAuthorization` rules.
fn evaluate_call(
    a: &VerifyTokenArgs,
    applied: &Applied,
    verdict: &Verdict,
) -> Result<Option<authz::AuthzDecision>, String> {
    let (kind, name) = match (&a.tool, &a.prompt, &a.resource) {
        (Some(t), _, _) => ("tool", t.clone()),
        (_, Some(p), _) => ("prompt", p.clone()),
        (_, _, Some(r)) => ("resource", r.clone()),
        _ => return Ok(None),
    };
    let as_called = name.clone();
    if let Some(j) = &a.arguments {
        serde_json::from_str::<Value>(j).map_err(|e| format!("--arguments is not JSON: {e}"))?;
        eprintln!("agw: note: --arguments does not change the verdict: the gateway authorizes a call on the caller's identity and the call's name and target, before it reads the arguments (`mcp.tool.arguments` is never set)");
    }
    let targets = applied
        .selected
        .as_ref()
        .map(|s| s.mcp_targets())
        .unwrap_or_default();
    let (target, name) = match &a.target {
        Some(t) => (Some(t.clone()), name),
        None if kind != "resource" => {
            match targets
                .iter()
                .find(|t| name.starts_with(&format!("{t}_")) && targets.len() > 1)
            {
                Some(t) => (Some(t.clone()), name[t.len() + 1..].to_string()),
                None => (
                    targets.first().filter(|_| targets.len() == 1).cloned(),
                    name,
                ),
            }
        }
        None => (
            targets.first().filter(|_| targets.len() == 1).cloned(),
            name,
        ),
    };
    let call = match kind {
        "tool" => McpCall::Tool { name, target },
        "prompt" => McpCall::Prompt { name, target },
        _ => McpCall::Resource { uri: name, target },
    };
    let rules: Vec<AuthzRule> = applied
        .selected
        .as_ref()
        .and_then(|s| s.policies())
        .and_then(|p| p.mcp_authorization.as_ref())
        .map(|z| z.rules.clone())
        .unwrap_or_default();
    let request = RequestInfo {
        method: a.method.clone(),
        path: a
            .route
            .clone()
            .filter(|r| r.starts_with('/'))
            .unwrap_or_else(|| "/mcp".into()),
        host: a.host.clone(),
        headers: Default::default(),
    };
    let mut d = authz::evaluate_request(&rules, verdict.authz_claims(), &call, &request);
    if rules.is_empty() {
        d.reason = format!(
            "{} allowed: the route has no mcpAuthorization rules",
            call.describe()
        );
    }
    if !d.allowed {
        d.denied_as = Some(authz::denied_message(kind, &as_called));
    }
    Ok(Some(d))
}
