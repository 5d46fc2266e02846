//! Timeouts: a backend timeout that the request timeout cuts short.

use super::util::duration_nanos;
use super::Ctx;
use crate::config::RoutePolicies;
use crate::diag::Diagnostic;

crate::rules! {
    TIMEOUT_BACKEND_EXCEEDS_REQUEST {
        id: "timeout/backend-exceeds-request",
        severity: Warning,
        summary: "a backend timeout longer than the request timeout",
        why: "`requestTimeout` bounds the whole request, retries included; `backendRequestTimeout` bounds one attempt. A per-attempt timeout longer than the whole never fires. Lower it below `requestTimeout`, or drop it.",
        gateway: "The gateway accepts the file and applies both: `requestTimeout` as a deadline counted from the start of the request, `backendRequestTimeout` to each call to the backend (agentgateway `crates/agentgateway/src/proxy/httpproxy.rs`, `attempt_upstream`).",
        example: "timeout:\n  requestTimeout: 10s\n  backendRequestTimeout: 30s",
        use_instead: "timeout:\n  requestTimeout: 30s\n  backendRequestTimeout: 10s",
    }
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        timeouts(ctx, &site.ptr, site.policies);
    }
}

fn timeouts(ctx: &mut Ctx, ptr: &str, p: &RoutePolicies) {
    let Some(t) = &p.timeout else { return };
    let (Some(req), Some(be)) = (&t.request_timeout, &t.backend_request_timeout) else {
        return;
    };
    let (Some(r), Some(b)) = (duration_nanos(req), duration_nanos(be)) else {
        return;
    };
    if b <= r {
        return;
    }
    ctx.push(
        Diagnostic::new(
            &TIMEOUT_BACKEND_EXCEEDS_REQUEST,
            format!("`backendRequestTimeout: {be}` is longer than `requestTimeout: {req}`: it never fires"),
        )
        .at(ctx.value(&format!("{ptr}/timeout/backendRequestTimeout")), "per attempt")
        .label(ctx.value(&format!("{ptr}/timeout/requestTimeout")), "whole request, retries included")
        .help(format!("make `backendRequestTimeout` shorter than {req} (so a retry fits), or drop it")),
    );
}
