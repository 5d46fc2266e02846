//! Policies: what the gateway refuses of a policy block or a top-level `policies` entry (one
//! policy per entry, conditional entries, targets).

use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    POLICIES_DIRECT_RESPONSE_STATUS {
        id: "policies/direct-response-status",
        severity: Error,
        summary: "`directResponse` without `status`",
        why: "A direct response needs the HTTP status to answer with; without it the gateway does not load the file. Add `status`.",
        gateway: "`status` is a required field of a direct response, with no default: the gateway refuses the file (\"missing field `status`\"; agentgateway `crates/agentgateway/src/http/filters.rs`, `DirectResponse`).",
        example: "directResponse:\n  body: maintenance",
        use_instead: "directResponse:\n  body: maintenance\n  status: 503",
    }

    POLICIES_NOT_ONE_POLICY {
        id: "policies/not-one-policy",
        severity: Error,
        summary: "an entry of the top-level `policies` list with no policy, or with several",
        why: "Each entry of the top-level `policies` list attaches one policy to its `target`; with none, or more than one, the gateway does not load the file. Split the entry into one per policy.",
        gateway: "The gateway refuses the file when `policy` holds none or more than one: \"'policies' must contain exactly 1 policy\" (agentgateway `crates/agentgateway/src/types/local.rs`, `convert`).",
        example: "policies:\n- name: {name: edge, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n    timeout: {requestTimeout: 30s}",
        use_instead: "policies:\n- name: {name: edge-cors, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    cors: {allowOrigins: [\"*\"]}\n- name: {name: edge-timeout, namespace: default}\n  target: {gateway: {gatewayName: default, gatewayNamespace: default}}\n  policy:\n    timeout: {requestTimeout: 30s}",
    }

    POLICIES_TARGET_LISTENER_AND_PORT {
        id: "policies/target-listener-and-port",
        severity: Error,
        summary: "a `policies` entry whose gateway target sets both `listenerName` and `port`",
        why: "A gateway target attaches a policy to a whole gateway, to one of its listeners (`listenerName`) or to the listeners of a port (`port`); both at once stops the gateway from loading the file. Keep one of them.",
        gateway: "The gateway refuses both at once: \"gateway policy target cannot set both listener_name and port\" (agentgateway `crates/agentgateway/src/types/agent.rs`, `ListenerTarget::validate`).",
        example: "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api, port: 3000}",
        use_instead: "target:\n  gateway: {gatewayName: default, gatewayNamespace: default, listenerName: api}",
    }

    POLICIES_CONDITIONAL_ENTRIES {
        id: "policies/conditional-entries",
        severity: Error,
        summary: "a `conditional` policy list that is empty, too long, or has its fallback before the end",
        why: "`localRateLimit`, `remoteRateLimit`, `transformations`, `extAuthz`, `extProc` and `directResponse` take a `{conditional: [...]}` form whose entries are tried in order; an entry without `condition` is the fallback, and entries after it would never be tried. Keep the list between 1 and 64 entries, with the fallback last.",
        gateway: "The gateway refuses a `conditional` list that is empty (\"conditional policies must have at least one entry\"), has more than 64 entries, or has an entry without `condition` anywhere but last (\"conditional policy entries without condition must be last\") (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_conditional_policies`). One exception: an empty `localRateLimit` list is skipped before that check, so the gateway accepts it and applies no limit (agentgateway `crates/agentgateway/src/types/local.rs`, `split_policies_for_target`).",
        example: "directResponse:\n  conditional:\n  - status: 503\n  - condition: request.path == \"/ready\"\n    status: 200",
        use_instead: "directResponse:\n  conditional:\n  - condition: request.path == \"/ready\"\n    status: 200\n  - status: 503",
    }

    POLICIES_CONDITIONAL_BACKEND_TARGET {
        id: "policies/conditional-backend-target",
        severity: Error,
        summary: "conditional `transformations` or `extAuthz` in a policy that targets a backend",
        why: "A policy attached to a backend runs after the backend is chosen, so it cannot choose by request; the conditional form of `transformations` and `extAuthz` there stops the gateway from loading the file. Write the policy without `conditional`, or target the route or gateway.",
        gateway: "The gateway refuses it: \"conditional transformations are not supported on backend-targeted policies\" (and \"conditional extAuthz is not supported on backend-targeted policies\") (agentgateway `crates/agentgateway/src/types/local.rs`, `split_policies_for_target`).",
        example: "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    conditional:\n    - condition: request.path == \"/v1\"\n      request: {set: {x-version: \"'1'\"}}",
        use_instead: "target: {backend: {backend: {name: api, namespace: default}}}\npolicy:\n  transformations:\n    request: {set: {x-version: \"'1'\"}}",
    }
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        if let Some(d) = &site.policies.direct_response {
            if d.status.is_none() && d.conditional.is_none() {
                let ptr = format!("{}/directResponse", site.ptr);
                ctx.push(
                    Diagnostic::new(
                        &POLICIES_DIRECT_RESPONSE_STATUS,
                        "`directResponse` has no `status`: the gateway refuses the file (missing field `status`)",
                    )
                    .at(ctx.key(&ptr), "no `status`")
                    .help("add the HTTP status to answer with, e.g. `status: 200`"),
                );
            }
        }
    }
    conditional_entries(ctx);
    for (i, tp) in ctx.cfg.policies.iter().enumerate() {
        // the typed policy as the file writes it, once for the three checks of an entry
        let Ok(policy) = serde_json::to_value(&tp.policy) else {
            continue;
        };
        one_policy(ctx, i, &policy);
        if tp.target.value.get("backend").is_some() {
            conditional_on_backend(ctx, i, &policy);
        }
        if let Some(g) = tp.target.value.get("gateway") {
            gateway_target(ctx, i, g);
        }
    }
}

/// A gateway target names a listener or a port of the gateway, not both ("gateway policy target
/// cannot set both listener_name and port", agentgateway `types/agent.rs`,
/// `ListenerTarget::validate`).
fn gateway_target(ctx: &mut Ctx, i: usize, g: &serde_json::Value) {
    let set = |k: &str| g.get(k).is_some_and(|v| !v.is_null());
    if set("listenerName") && set("port") {
        let at = format!("/policies/{i}/target/gateway");
        ctx.push(
            Diagnostic::new(
                &POLICIES_TARGET_LISTENER_AND_PORT,
                "a gateway target sets both `listenerName` and `port`: the gateway refuses the file",
            )
            .at(ctx.key(&format!("{at}/port")), "one or the other")
            .label(ctx.key(&format!("{at}/listenerName")), "the listener")
            .help("keep `listenerName` to target one listener, or `port` to target the listeners of a port"),
        );
    }
}

/// A policy attached to a backend runs once its backend is chosen, where a condition has no
/// request to choose by: the gateway refuses the conditional form of `transformations` and
/// `extAuthz` there (agentgateway `types/local.rs`, `split_policies_for_target`).
fn conditional_on_backend(ctx: &mut Ctx, i: usize, policy: &serde_json::Value) {
    for (key, refusal) in [
        (
            "transformations",
            "conditional transformations are not supported on backend-targeted policies",
        ),
        (
            "extAuthz",
            "conditional extAuthz is not supported on backend-targeted policies",
        ),
    ] {
        if policy.get(key).and_then(|p| p.get("conditional")).is_none() {
            continue;
        }
        let ptr = format!("/policies/{i}/policy/{key}/conditional");
        ctx.push(
            Diagnostic::new(
                &POLICIES_CONDITIONAL_BACKEND_TARGET,
                format!("conditional `{key}` on a backend target: the gateway refuses the file ({refusal})"),
            )
            .at(ctx.key(&ptr), "conditional")
            .label(ctx.key(&format!("/policies/{i}/target/backend")), "a backend target")
            .help(format!("write `{key}` without `conditional`, or target the route or gateway to choose by request")),
        );
    }
}

/// Each entry of the top-level `policies` list carries exactly one policy: the gateway refuses the
/// file otherwise ("'policies' must contain exactly 1 policy", agentgateway `types/local.rs`).
fn one_policy(ctx: &mut Ctx, i: usize, policy: &serde_json::Value) {
    let ptr = format!("/policies/{i}/policy");
    let keys: Vec<&String> = match policy {
        serde_json::Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect(),
        _ => return,
    };
    let d = match keys.as_slice() {
        [_] => return,
        [] => Diagnostic::new(
            &POLICIES_NOT_ONE_POLICY,
            "this `policies` entry has no policy: the gateway refuses the file ('policies' must contain exactly 1 policy)",
        )
        .at(ctx.key(&ptr), "empty")
        .help("put one policy under `policy:`, such as `cors:` or `jwtAuth:`, or remove the entry"),
        [first, rest @ ..] => {
            let mut d = Diagnostic::new(
                &POLICIES_NOT_ONE_POLICY,
                format!(
                    "this `policies` entry has {} policies: the gateway refuses the file ('policies' must contain exactly 1 policy)",
                    keys.len()
                ),
            )
            .at(ctx.key(&format!("{ptr}/{}", rest[0])), "a second policy")
            .label(ctx.key(&format!("{ptr}/{first}")), "the first");
            for k in &rest[1..] {
                d = d.label(ctx.key(&format!("{ptr}/{k}")), "another");
            }
            d.help("give each policy an entry of its own, with the same `target` and its own `name`")
        }
    };
    ctx.push(d);
}

/// The policies that take a `{conditional: [...]}` form, and the gateway's limits on the list
/// (agentgateway `types/local.rs`, `validate_local_conditional_policies`): at least one entry, at
/// most 64, and an entry without `condition` (the fallback) only last.
const CONDITIONAL_POLICIES: [&str; 6] = [
    "localRateLimit",
    "remoteRateLimit",
    "transformations",
    "extAuthz",
    "extProc",
    "directResponse",
];

const MAX_CONDITIONAL_ENTRIES: usize = 64;

fn conditional_entries(ctx: &mut Ctx) {
    // the typed model keeps most of these policies as written; the document says where they are
    if !ctx.text().contains("conditional") {
        return;
    }
    let mut found = Vec::new();
    super::util::each_entry(ctx.document(), &mut |ptr, k, x| {
        if CONDITIONAL_POLICIES.contains(&k) {
            if let Some(serde_json::Value::Array(entries)) = x.get("conditional") {
                // the gateway skips an empty rate-limit list before it validates one
                if !(entries.is_empty() && k == "localRateLimit") {
                    found.push((ptr.to_string(), entries.clone()));
                }
            }
        }
    });
    for (ptr, entries) in found {
        let list = format!("{ptr}/conditional");
        if entries.is_empty() {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    "`conditional` has no entries: the gateway refuses the file (conditional policies must have at least one entry)",
                )
                .at(ctx.key(&list), "empty")
                .help("add an entry (`- condition: ...` with its policy), or write the policy without `conditional`"),
            );
            continue;
        }
        if entries.len() > MAX_CONDITIONAL_ENTRIES {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    format!(
                        "`conditional` has {} entries: the gateway refuses more than {MAX_CONDITIONAL_ENTRIES}",
                        entries.len()
                    ),
                )
                .at(ctx.key(&list), "too many entries")
                .help("merge entries whose policies are the same into one condition"),
            );
        }
        let last = entries.len() - 1;
        if let Some(i) = entries
            .iter()
            .position(|e| e.get("condition").is_none_or(serde_json::Value::is_null))
            .filter(|i| *i != last)
        {
            ctx.push(
                Diagnostic::new(
                    &POLICIES_CONDITIONAL_ENTRIES,
                    "a `conditional` entry without `condition` is not the last one: the gateway refuses the file (conditional policy entries without condition must be last)",
                )
                .at(ctx.key(&format!("{list}/{i}")), "the fallback")
                .label(ctx.key(&format!("{list}/{last}")), "entries after it")
                .help("move the entry without `condition` to the end of the list: it is the fallback when no condition matches"),
            );
        }
    }
}
