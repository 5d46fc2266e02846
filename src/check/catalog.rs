//! Every rule agw can report, gathered from the files that declare them (each with
//! `crate::rules!`, beside the code that reports it), in the order of their ids.

use std::sync::OnceLock;

use crate::diag::Rule;

/// Every rule, sorted by id.
pub fn all() -> &'static [&'static Rule] {
    static ALL: OnceLock<Vec<&'static Rule>> = OnceLock::new();
    ALL.get_or_init(|| {
        use super::rules::*;
        let mut all = [
            super::RULES,
            super::duplicates::RULES,
            super::schema_stage::mapper::RULES,
            super::suppress::RULES,
            super::online::RULES,
            auth::RULES,
            auth::claims::RULES,
            auth::oidc::RULES,
            auth0::RULES,
            backends::RULES,
            cel::RULES,
            config::RULES,
            cors::RULES,
            files::RULES,
            frontend::RULES,
            gateways::RULES,
            headers::RULES,
            jwks::RULES,
            listeners::RULES,
            llm::RULES,
            mcp::RULES,
            names::RULES,
            okta::RULES,
            placeholder::RULES,
            policies::RULES,
            ports::RULES,
            ratelimit::RULES,
            refs::RULES,
            regex::RULES,
            timeout::RULES,
            tls::RULES,
            ui::RULES,
            crate::compile::RULES,
            crate::compile::backend::RULES,
            crate::compile::coverage::RULES,
            crate::compile::gateway::RULES,
            crate::compile::policy::RULES,
            crate::compile::verify::RULES,
        ]
        .concat();
        all.sort_by_key(|r| r.id);
        all
    })
}

/// The rule of an id.
pub fn get(id: &str) -> Option<&'static Rule> {
    let all = all();
    all.binary_search_by_key(&id, |r| r.id).ok().map(|i| all[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let all = all();
        for pair in all.windows(2) {
            assert_ne!(pair[0].id, pair[1].id, "two rules of one id");
        }
        for r in all {
            let (family, name) = r.id.split_once('/').expect("family/name");
            assert!(!family.is_empty() && !name.is_empty(), "{}", r.id);
            assert!(!r.why.is_empty(), "{}", r.id);
            assert_eq!(r.example.is_empty(), r.use_instead.is_empty(), "{}", r.id);
        }
        assert_eq!(
            get("auth/audiences-missing").map(|r| r.id),
            Some("auth/audiences-missing")
        );
        assert!(get("auth/no-such-rule").is_none());
    }
}
