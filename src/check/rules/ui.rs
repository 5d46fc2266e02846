//! The `ui` section: which gateway serves it. agw keeps this section as written; these are what the gateway's
//! loader refuses of it when it reads the file (agentgateway `types/local.rs`,
//! `NormalizedLocalConfig::from` and what it calls).

use super::util::has_gateways;
use super::Ctx;
use crate::diag::Diagnostic;

crate::rules! {
    UI_GATEWAYS_MISSING {
        id: "ui/gateways-missing",
        severity: Error,
        summary: "`ui` attached to no gateway",
        why: "The admin UI's routes attach to the gateways `ui.gateways` names, or, without it, to the gateway named `default` when that gateway has an HTTP listener. With neither, the gateway does not load the file. Set `ui.gateways`.",
        gateway: "The gateway fills in the gateway `default` when it serves HTTP (agentgateway `crates/agentgateway/src/types/local.rs`, `apply_implicit_default_gateway`), then refuses a `ui` still without gateways: \"ui.gateways must be set\" (agentgateway `crates/agentgateway/src/types/local.rs`, `validate_local_listener_ports`).",
        example: "gateways:\n  edge: {port: 8080}\nui: {}",
        use_instead: "gateways:\n  edge: {port: 8080}\nui:\n  gateways: edge",
    }
}

pub fn check(ctx: &mut Ctx) {
    ui_gateways(ctx);
}

/// The UI routes attach to the gateways the section names, or to the gateway `default` when it
/// has an HTTP listener; without either the gateway refuses the file ("ui.gateways must be set").
fn ui_gateways(ctx: &mut Ctx) {
    let Some(ui) = &ctx.cfg.ui else { return };
    if has_gateways(&ui.value) || ctx.cfg.default_gateway_serves_http() {
        return;
    }
    ctx.push(
        Diagnostic::new(
            &UI_GATEWAYS_MISSING,
            "`ui` names no gateway to serve it: the gateway refuses the file (ui.gateways must be set)",
        )
        .at(ctx.key("/ui"), "attached to no gateway")
        .help("add `gateways: NAME` naming a gateway with an HTTP listener, or name that gateway `default`"),
    );
}
