//! One module per command: turn parsed arguments into output and an exit code.

mod check;
mod explain;
mod schema;
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
        Command::VerifyToken(a) => verify_token::run(*a),
    }
}
