//! agw: lint, explain and serve agentgateway configuration files.
//!
//! The library holds every stage; the `agw` binary only parses arguments and maps outcomes to
//! exit codes.

pub mod check;
pub mod cli;
pub mod commands;
pub mod compile;
pub mod config;
pub mod diag;
pub mod docs;
#[doc(hidden)]
pub mod fuzzing;
pub mod lsp;
pub mod oidc;
pub mod schema;
pub mod serve;
pub mod source;
pub mod token;

/// The git commit agw was built from (12 hex digits), the value of `AGW_BUILD_COMMIT` at build
/// time when set, or `unknown` (a source tarball without `.git`). Set by build.rs.
pub const BUILD_COMMIT: &str = env!("AGW_BUILD_COMMIT");

/// What `agw --version` prints after the name: the package version and the build commit.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AGW_BUILD_COMMIT"),
    ")"
);

/// What `agw --version` prints: the version, and the gateway releases agw judges files as
/// (kept in step with `config::release::Release`; a unit test compares them).
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AGW_BUILD_COMMIT"),
    ")\njudges agentgateway configuration files as gateway release 1.4.1 (29 July 2026) or main (commit 75b4e6ce, 21 August 2026; the default)"
);
