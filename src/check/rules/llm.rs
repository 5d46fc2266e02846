//! The `llm` section: model and provider names, virtual models, base URLs. agw keeps this section as written; these are what the gateway's
//! loader refuses of it when it reads the file (agentgateway `types/local.rs`,
//! `NormalizedLocalConfig::from` and what it calls).

use std::collections::HashMap;

use serde_json::Value;

use super::util::has_gateways;
use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    LLM_GATEWAYS_AND_PORT {
        id: "llm/gateways-and-port",
        severity: Error,
        summary: "`llm` with `gateways` and its own `port` or `tls`",
        why: "`llm.gateways` serves the LLM routes on the named gateways' listeners, with their ports and TLS, so `llm.port` or `llm.tls` beside it has no meaning and stops the gateway from loading the file. Remove them, or remove `gateways`.",
        gateway: "The gateway refuses the file: \"llm.gateways cannot be used with llm.port or llm.tls\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`).",
        example: "llm:\n  gateways: default\n  port: 4000",
        use_instead: "llm:\n  gateways: default",
    }

    LLM_MODEL_NAME {
        id: "llm/model-name",
        severity: Error,
        summary: "an LLM model name with a wildcard in the middle, or with more than one",
        why: "`llm.models[].name` is the model name clients request, or a pattern with one `*` at its beginning or end (`gpt-4o*`, `*-mini`, or `*` alone). Any other wildcard stops the gateway from loading the file.",
        gateway: "The gateway refuses a second wildcard (\"model name wildcard may only appear once\") and one in the middle (\"model name wildcard must be either at the beginning or the end\") (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_llm_model_pattern`).",
        example: "models:\n- name: gpt-*-mini",
        use_instead: "models:\n- name: gpt-4o*",
    }

    LLM_MODEL_ID {
        id: "llm/model-id",
        severity: Error,
        summary: "an empty or repeated LLM model `id`",
        why: "A model's `id` must be unique among `llm.models` and not empty; otherwise the gateway does not load the file. Give each model its own `id`, or leave it out.",
        gateway: "The gateway refuses an empty id (\"llm.models model id cannot be empty\") and a repeated one (\"llm.models contains duplicate model id\") (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalLLMModelRegistry::validate_model_patterns`).",
        example: "models:\n- name: fast\n  id: chat\n- name: smart\n  id: chat",
        use_instead: "models:\n- name: fast\n  id: chat-fast\n- name: smart\n  id: chat-smart",
    }

    LLM_PROVIDER_NAME {
        id: "llm/provider-name",
        severity: Error,
        summary: "two `llm.providers` with one name",
        why: "Models refer to shared providers by name, so names must be unique; two providers of one name stop the gateway from loading the file. Rename one of them.",
        gateway: "The gateway refuses the file: \"llm.providers contains duplicate provider names\" (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_llm_config`).",
        example: "providers:\n- name: shared\n  provider: openAI\n- name: shared\n  provider: anthropic",
        use_instead: "providers:\n- name: shared-openai\n  provider: openAI\n- name: shared-anthropic\n  provider: anthropic",
    }

    LLM_PROVIDER_REFERENCE {
        id: "llm/provider-reference",
        severity: Error,
        summary: "an LLM model's provider reference that the gateway cannot resolve",
        why: "`provider: {reference: NAME}` takes the provider and its `params` from the entry of `llm.providers` with that name. A reference the gateway cannot resolve stops it from loading the file. Name an existing provider that is not itself a reference, and set nothing but `params.model` beside the reference.",
        gateway: "The gateway refuses the file when no provider has the name (\"model M references unknown provider P\", agentgateway `crates/agentgateway/src/types/local.rs`, `convert_llm_config`), when that provider itself refers to another (\"llm.providers.P cannot reference another provider\"), or when the model sets other `params` than `model` beside the reference (\"can only set params.model\") (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalLLMModels::apply_provider_reference`).",
        example: "providers:\n- name: shared\n  provider: openAI\nmodels:\n- name: gpt-4o\n  provider: {reference: shraed}",
        use_instead: "providers:\n- name: shared\n  provider: openAI\nmodels:\n- name: gpt-4o\n  provider: {reference: shared}",
    }

    LLM_CUSTOM_PROVIDER {
        id: "llm/custom-provider",
        severity: Error,
        summary: "a custom LLM provider without `formats` or without a base URL",
        why: "A `custom` provider is any server that speaks one of the API formats the gateway knows; it needs the formats it speaks and the server's `params.baseUrl` (on the model, or on the provider it refers to). Without either the gateway does not load the file.",
        gateway: "The gateway refuses a custom provider without formats (\"custom provider for model M must specify at least one format\") or without a base URL (\"custom provider for model M requires params.baseUrl\") (agentgateway `crates/agentgateway/src/types/local.rs`, `convert_llm_config`).",
        example: "models:\n- name: local\n  provider:\n    custom:\n      formats: [{type: completions}]",
        use_instead: "models:\n- name: local\n  provider:\n    custom:\n      formats: [{type: completions}]\n  params:\n    baseUrl: http://llm.internal:8000/v1",
    }

    LLM_BASE_URL {
        id: "llm/base-url",
        severity: Error,
        summary: "an LLM `params.baseUrl` that is not a plain base URL",
        why: "`params.baseUrl` gives the host, port and path prefix the gateway sends a model's requests to. A value that is not a plain base URL stops the gateway from loading the file. Write `SCHEME://HOST[:PORT][/PATH]`, with the port for a scheme other than http or https.",
        gateway: "The gateway refuses a `baseUrl` that is not a URL, that has user info, a query or a fragment, that has no host, or that gives no port for a scheme without a known default port (anything but http, https, ws, wss and ftp) (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalLLMModels::apply_base_url`).",
        example: "params:\n  baseUrl: https://proxy.internal/v1?tenant=acme",
        use_instead: "params:\n  baseUrl: https://proxy.internal/v1",
    }

    LLM_VIRTUAL_MODEL_ROUTING {
        id: "llm/virtual-model-routing",
        severity: Error,
        summary: "a virtual model without exactly one routing strategy, without targets, or with its conditional fallback before the end",
        why: "`llm.virtualModels[].routing` sets one of `weighted`, `failover` and `conditional`, with at least one target; a conditional target without `when` is the fallback and must be last. Otherwise the gateway does not load the file.",
        gateway: "The gateway refuses the file: \"virtual model V must specify exactly one routing strategy\", \"... must specify at least one weighted target\" (failover, conditional), \"... conditional fallback target must be last\" (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalLLMVirtualModel::routing_strategy`).",
        example: "routing:\n  weighted:\n    targets: [{model: gpt-4o}]\n  failover:\n    targets: [{model: gpt-4o, priority: 1}]",
        use_instead: "routing:\n  weighted:\n    targets: [{model: gpt-4o}]",
    }

    LLM_VIRTUAL_MODEL_TARGET {
        id: "llm/virtual-model-target",
        severity: Error,
        summary: "a virtual model target that matches no entry of `llm.models`",
        why: "Each target of a virtual model names a model of `llm.models`: its name, or a name one of its wildcard patterns matches. A target that matches none stops the gateway from loading the file.",
        gateway: "The gateway refuses the file: \"virtual model target T does not match any llm.models entry\" (agentgateway `crates/agentgateway/src/types/local.rs`, `LocalLLMModelRegistry::validate_virtual_models`).",
        example: "models:\n- name: gpt-4o*\nvirtualModels:\n- name: default\n  routing:\n    weighted:\n      targets: [{model: claude-sonnet}]",
        use_instead: "models:\n- name: gpt-4o*\nvirtualModels:\n- name: default\n  routing:\n    weighted:\n      targets: [{model: gpt-4o-mini}]",
    }
}

pub fn check(ctx: &mut Ctx) {
    llm_gateways(ctx);
    if let Some(llm) = &ctx.cfg.llm {
        let llm = &llm.value;
        llm_model_names(ctx, llm);
        llm_provider_names(ctx, llm);
        llm_virtual_models(ctx, llm);
        llm_model_providers(ctx, llm);
    }
}

/// `llm.gateways` attaches the LLM routes to gateways, whose ports and TLS they use; the gateway
/// refuses its own `port` or `tls` beside them ("llm.gateways cannot be used with llm.port or
/// llm.tls").
fn llm_gateways(ctx: &mut Ctx) {
    let Some(llm) = &ctx.cfg.llm else { return };
    if !has_gateways(&llm.value) {
        return;
    }
    for key in ["port", "tls"] {
        if llm.value.get(key).is_some_and(|v| !v.is_null()) {
            ctx.push(
                Diagnostic::new(
                    &LLM_GATEWAYS_AND_PORT,
                    format!("`llm` sets both `gateways` and `{key}`: the gateway refuses the file (llm.gateways cannot be used with llm.port or llm.tls)"),
                )
                .at(ctx.key(&format!("/llm/{key}")), "not with `gateways`")
                .label(ctx.key("/llm/gateways"), "the gateways' listeners are used")
                .help(format!("remove `{key}` (the gateways' own port and TLS apply), or remove `gateways` to serve the LLM routes on their own port")),
            );
        }
    }
}

/// The items of the list at `key` of `v` (none when it is absent or not a list).
fn items<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Why the gateway refuses a model name pattern: one `*`, at the beginning or the end, or the
/// name `*` alone (agentgateway `types/local.rs`, `validate_llm_model_pattern`).
fn pattern_problem(pattern: &str) -> Option<&'static str> {
    let stars = pattern.matches('*').count();
    if stars > 1 {
        Some("a model name wildcard may appear only once")
    } else if stars == 1 && pattern != "*" && !pattern.starts_with('*') && !pattern.ends_with('*') {
        Some("a model name wildcard must be at the beginning or the end")
    } else {
        None
    }
}

/// Whether the model name `pattern` (with at most one `*` at an end) matches `model`, as the
/// gateway matches virtual model targets (`llm_model_matches`).
fn pattern_matches(pattern: &str, model: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return model.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return model.ends_with(suffix);
    }
    pattern == model
}

/// Model names are patterns, model ids are unique and not empty (agentgateway `types/local.rs`,
/// `LocalLLMModelRegistry::validate_model_patterns`).
fn llm_model_names(ctx: &mut Ctx, llm: &Value) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, m) in items(llm, "models").iter().enumerate() {
        let ptr = format!("/llm/models/{i}");
        if let Some(problem) = m
            .get("name")
            .and_then(Value::as_str)
            .and_then(pattern_problem)
        {
            ctx.push(
                Diagnostic::new(
                    &LLM_MODEL_NAME,
                    format!("{problem}: the gateway refuses the file"),
                )
                .at(ctx.value(&format!("{ptr}/name")), "not a model name pattern")
                .help("write an exact model name, or one `*` at the start (`*-mini`) or the end (`gpt-4o*`)"),
            );
        }
        let Some(id) = m.get("id").and_then(Value::as_str) else {
            continue;
        };
        let at = ctx.value(&format!("{ptr}/id"));
        if id.is_empty() {
            ctx.push(
                Diagnostic::new(
                    &LLM_MODEL_ID,
                    "a model `id` is empty: the gateway refuses the file (llm.models model id cannot be empty)",
                )
                .at(at, "empty")
                .help("give the model an id, or remove `id` (the name is used)"),
            );
        } else if let Some(first) = ids.insert(id, i) {
            ctx.push(
                Diagnostic::new(
                    &LLM_MODEL_ID,
                    format!("model id `{id}` is used twice: the gateway refuses the file (llm.models contains duplicate model id)"),
                )
                .at(at, "second use")
                .label(ctx.value(&format!("/llm/models/{first}/id")), "first use")
                .help("give each model its own id"),
            );
        }
    }
}

/// Provider names are unique ("llm.providers contains duplicate provider names").
fn llm_provider_names(ctx: &mut Ctx, llm: &Value) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in items(llm, "providers").iter().enumerate() {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(first) = seen.insert(name, i) {
            ctx.push(
                Diagnostic::new(
                    &LLM_PROVIDER_NAME,
                    format!("provider name `{name}` is used twice: the gateway refuses the file (llm.providers contains duplicate provider names)"),
                )
                .at(ctx.value(&format!("/llm/providers/{i}/name")), "second use")
                .label(ctx.value(&format!("/llm/providers/{first}/name")), "first use")
                .help("give each provider its own name, and refer to it by that name"),
            );
        }
    }
}

const ROUTING_STRATEGIES: [&str; 3] = ["weighted", "failover", "conditional"];

/// A virtual model has exactly one routing strategy with at least one target, a conditional
/// fallback (a target without `when`) only last, and targets that name models of `llm.models`
/// (agentgateway `types/local.rs`, `LocalLLMVirtualModel::routing_strategy`,
/// `validate_virtual_models`).
fn llm_virtual_models(ctx: &mut Ctx, llm: &Value) {
    let patterns: Vec<&str> = items(llm, "models")
        .iter()
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .filter(|p| pattern_problem(p).is_none())
        .collect();
    for (i, vm) in items(llm, "virtualModels").iter().enumerate() {
        let ptr = format!("/llm/virtualModels/{i}");
        let name = vm.get("name").and_then(Value::as_str).unwrap_or_default();
        let routing = vm.get("routing").cloned().unwrap_or(Value::Null);
        let set: Vec<&str> = ROUTING_STRATEGIES
            .into_iter()
            .filter(|k| routing.get(k).is_some_and(|v| !v.is_null()))
            .collect();
        let [strategy] = set.as_slice() else {
            let mut d = Diagnostic::new(
                &LLM_VIRTUAL_MODEL_ROUTING,
                format!(
                    "virtual model `{name}` has {} routing strategies: the gateway refuses the file (a virtual model must specify exactly one routing strategy)",
                    set.len()
                ),
            )
            .at(ctx.key(&format!("{ptr}/routing")), "exactly one of weighted, failover, conditional");
            for k in set.iter().skip(1) {
                d = d.label(ctx.key(&format!("{ptr}/routing/{k}")), "another strategy");
            }
            ctx.push(d.help("keep one of `weighted`, `failover` and `conditional`"));
            continue;
        };
        let sptr = format!("{ptr}/routing/{strategy}");
        let targets = items(&routing[*strategy], "targets");
        if targets.is_empty() {
            ctx.push(
                Diagnostic::new(
                    &LLM_VIRTUAL_MODEL_ROUTING,
                    format!("virtual model `{name}` has no {strategy} target: the gateway refuses the file"),
                )
                .at(ctx.key(&format!("{sptr}/targets")), "empty")
                .help("add a target: `- model: NAME` naming an entry of `llm.models`"),
            );
            continue;
        }
        if *strategy == "conditional" {
            let last = targets.len() - 1;
            if let Some(f) = targets
                .iter()
                .position(|t| t.get("when").is_none_or(Value::is_null))
                .filter(|f| *f != last)
            {
                ctx.push(
                    Diagnostic::new(
                        &LLM_VIRTUAL_MODEL_ROUTING,
                        format!("the fallback target of virtual model `{name}` (the one without `when`) is not last: the gateway refuses the file"),
                    )
                    .at(ctx.key(&format!("{sptr}/targets/{f}")), "the fallback")
                    .help("move the target without `when` to the end: targets are tried in order"),
                );
            }
        }
        for (ti, t) in targets.iter().enumerate() {
            let Some(model) = t.get("model").and_then(Value::as_str) else {
                continue;
            };
            if patterns.iter().any(|p| pattern_matches(p, model)) {
                continue;
            }
            let mut d = Diagnostic::new(
                &LLM_VIRTUAL_MODEL_TARGET,
                format!("virtual model target `{model}` matches no entry of `llm.models`: the gateway refuses the file"),
            )
            .at(ctx.value(&format!("{sptr}/targets/{ti}/model")), "no such model");
            d = match super::super::schema_stage::closest(model, patterns.iter().copied()) {
                Some(c) => d.help(format!("did you mean `{c}`?")),
                None => d.help(
                    "name a model of `llm.models` (its `name`, or a name its wildcard matches)",
                ),
            };
            ctx.push(d);
        }
    }
}

/// What the gateway refuses of a model's provider (agentgateway `types/local.rs`,
/// `apply_provider_reference`, `apply_base_url` and the custom provider's conversion): a
/// `{reference: NAME}` to a provider `llm.providers` does not have, or to one that itself refers
/// to another; other `params` than `model` beside a reference (they come from the provider); a
/// custom provider without `formats` or without a base URL; a `baseUrl` with user info, a query or
/// a fragment, or with a scheme whose default port is unknown (not http, https, ws, wss, ftp) and
/// no port.
fn llm_model_providers(ctx: &mut Ctx, llm: &Value) {
    let providers: HashMap<&str, (usize, &Value)> = items(llm, "providers")
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.get("name")?.as_str()?, (i, p))))
        .collect();
    let mut chained = std::collections::HashSet::new();
    let mut bad_urls = std::collections::HashSet::new();
    for (i, m) in items(llm, "models").iter().enumerate() {
        let ptr = format!("/llm/models/{i}");
        let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
        let mut params = m.get("params").cloned().unwrap_or(Value::Null);
        let mut provider = m.get("provider");
        // where the base URL the model uses is written
        let mut base_url_ptr = format!("{ptr}/params/baseUrl");
        if let Some(r) = m.pointer("/provider/reference").and_then(Value::as_str) {
            let Some(&(pi, p)) = providers.get(r) else {
                let mut d = Diagnostic::new(
                    &LLM_PROVIDER_REFERENCE,
                    format!("model `{name}` refers to provider `{r}`, which `llm.providers` does not have: the gateway refuses the file"),
                )
                .at(ctx.value(&format!("{ptr}/provider/reference")), "no such provider");
                d = match super::super::schema_stage::closest(r, providers.keys().copied()) {
                    Some(c) => d.help(format!("did you mean `{c}`?")),
                    None => d.help("add the provider to `llm.providers` with this `name`, or write the provider here"),
                };
                ctx.push(d);
                continue;
            };
            if p.pointer("/provider/reference").is_some() && chained.insert(pi) {
                ctx.push(
                    Diagnostic::new(
                        &LLM_PROVIDER_REFERENCE,
                        format!("provider `{r}` refers to another provider: the gateway refuses the file (llm.providers.{r} cannot reference another provider)"),
                    )
                    .at(ctx.value(&format!("/llm/providers/{pi}/provider/reference")), "a reference in a provider")
                    .label(ctx.value(&format!("{ptr}/provider/reference")), "used here")
                    .help("write the provider itself (`openAI`, `{custom: ...}`, ...) in `llm.providers`"),
                );
            }
            for (k, v) in params.as_object().into_iter().flatten() {
                let set = !v.is_null() && v != &Value::Bool(false);
                if k != "model" && set {
                    ctx.push(
                        Diagnostic::new(
                            &LLM_PROVIDER_REFERENCE,
                            format!("model `{name}` refers to provider `{r}` and sets `params.{k}`: the gateway refuses the file (a model that references a provider can only set params.model)"),
                        )
                        .at(ctx.key(&format!("{ptr}/params/{k}")), "comes from the provider")
                        .help(format!("move `{k}` to the `params` of provider `{r}`, or give the model a provider of its own")),
                    );
                }
            }
            let mut inherited = p.get("params").cloned().unwrap_or(Value::Null);
            if let (Some(model), Value::Object(o)) = (params.get("model").cloned(), &mut inherited)
            {
                o.insert("model".into(), model);
            }
            params = inherited;
            provider = p.get("provider");
            base_url_ptr = format!("/llm/providers/{pi}/params/baseUrl");
        }
        if let Some(custom) = provider.and_then(|p| p.get("custom")) {
            custom_provider(ctx, &ptr, name, custom, &params);
        }
        if let Some(url) = params.get("baseUrl").and_then(Value::as_str) {
            if let Some(problem) =
                base_url_problem(url).filter(|_| bad_urls.insert(base_url_ptr.clone()))
            {
                ctx.push(
                    Diagnostic::new(
                        &LLM_BASE_URL,
                        format!("the `params.baseUrl` model `{name}` uses {problem}: the gateway refuses the file"),
                    )
                    .at(ctx.value(&base_url_ptr), "not a base URL")
                    .help("write `https://HOST[:PORT][/PATH]`: a scheme (http or https, or any with a port), the host and the path, nothing else"),
                );
            }
        }
    }
}

/// A custom provider needs the API `formats` it speaks and where it is (`baseUrl` or
/// `hostOverride`, of the model or of the provider it refers to).
fn custom_provider(ctx: &mut Ctx, ptr: &str, name: &str, custom: &Value, params: &Value) {
    let formats = custom.get("formats").and_then(Value::as_array);
    if formats.is_none_or(|f| f.is_empty()) {
        ctx.push(
            Diagnostic::new(
                &LLM_CUSTOM_PROVIDER,
                format!("the custom provider of model `{name}` lists no `formats`: the gateway refuses the file"),
            )
            .at(ctx.key(&format!("{ptr}/provider")), "which API does it speak?")
            .help("add `formats:` with the API formats the server speaks, such as `- type: completions`"),
        );
    }
    if params.get("baseUrl").is_none_or(Value::is_null)
        && params.get("hostOverride").is_none_or(Value::is_null)
    {
        ctx.push(
            Diagnostic::new(
                &LLM_CUSTOM_PROVIDER,
                format!("the custom provider of model `{name}` has no `params.baseUrl`: the gateway refuses the file"),
            )
            .at(ctx.key(&format!("{ptr}/provider")), "where is the server?")
            .help("add `params: {baseUrl: https://HOST/PATH}` to the model (or to the provider it refers to)"),
        );
    }
}

/// Why the gateway refuses a model's `baseUrl`, if it does.
fn base_url_problem(url: &str) -> Option<&'static str> {
    let Some(u) = crate::config::url::parse_url(url) else {
        return Some("is not a URL");
    };
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') || url.contains('?') || url.contains('#') {
        return Some("has user info, a query or a fragment");
    }
    // the schemes whose default port the gateway's URL parser knows
    let known = matches!(
        u.scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ws" | "wss" | "ftp"
    );
    (!known && u.port.is_none()).then_some("has a scheme without a known default port, and no port")
}
