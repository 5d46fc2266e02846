//! One module per command: turn parsed arguments into output and an exit code.

mod check;
mod explain;
mod schema;
mod serve;
mod verify_token;

use crate::cli::{Cli, Command};

/// Exit codes shared by every command.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_CANNOT_RUN: i32 = 2;

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Serve(a) => serve::run(a),
        Command::VerifyToken(a) => verify_token::run(*a),
    }
}

/// Reads a configuration file within the size limit of `opts`.
pub fn read_config(
    path: &std::path::Path,
    opts: &crate::check::CheckOptions,
) -> Result<Vec<u8>, String> {
    check::read_bounded(&path.display().to_string(), opts.limits.max_file_bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}
