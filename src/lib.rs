//! agw: lint, explain and serve agentgateway configuration files.
//!
//! The library holds every stage; the `agw` binary only parses arguments and maps outcomes to
//! exit codes.

pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod oidc;
pub mod schema;
pub mod serve;
pub mod source;
pub mod token;
