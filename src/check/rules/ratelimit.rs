//! Rate limits: a bucket the gateway refuses at start-up.

use super::Ctx;
use crate::config::RoutePolicies;
use crate::diag::Diagnostic;

crate::rules! {
    RATELIMIT_MAX_BELOW_FILL {
        id: "ratelimit/max-below-fill",
        severity: Error,
        summary: "a local rate limit whose bucket is smaller than one refill",
        why: "`localRateLimit` is a token bucket of `maxTokens`, refilled with `tokensPerFill` every `fillInterval`. A bucket smaller than one refill stops the gateway from loading the file. Raise `maxTokens` to at least `tokensPerFill`.",
        gateway: "The gateway builds the bucket when it loads the file and refuses one smaller than one refill: \"max tokens cannot be less than the refill amount\" (agentgateway `crates/agentgateway/src/http/localratelimit.rs`, the `RateLimit` deserializer and its rate limiter's `MaxTokensTooLow`).",
        example: "localRateLimit:\n- maxTokens: 5\n  tokensPerFill: 10\n  fillInterval: 1s",
        use_instead: "localRateLimit:\n- maxTokens: 10\n  tokensPerFill: 10\n  fillInterval: 1s",
    }
}

pub fn check(ctx: &mut Ctx) {
    let sites = ctx.sites.clone();
    for site in sites.iter() {
        rate_limits(ctx, &site.ptr, site.policies);
    }
}

fn rate_limits(ctx: &mut Ctx, ptr: &str, p: &RoutePolicies) {
    for (i, rl) in p
        .local_rate_limit
        .iter()
        .flat_map(|l| l.buckets())
        .enumerate()
    {
        if rl.max_tokens >= rl.tokens_per_fill {
            continue;
        }
        let base = format!("{ptr}/localRateLimit/{i}");
        ctx.push(
            Diagnostic::new(
                &RATELIMIT_MAX_BELOW_FILL,
                format!(
                    "`maxTokens: {}` is below `tokensPerFill: {}`: the bucket cannot hold one refill",
                    rl.max_tokens, rl.tokens_per_fill
                ),
            )
            .at(ctx.value(&format!("{base}/maxTokens")), "bucket size")
            .label(ctx.value(&format!("{base}/tokensPerFill")), "added every fill interval")
            .help(format!(
                "raise `maxTokens` to at least {} (the burst you allow), or lower `tokensPerFill`",
                rl.tokens_per_fill
            ))
            .note("the gateway refuses the file: \"max tokens cannot be less than the refill amount\""),
        );
    }
}
