//! One module per command: turn parsed arguments into output and an exit code.

mod check;
mod compile;
mod completions;
mod explain;
mod lsp;
mod man;
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
        Command::Compile(a) => compile::run(a),
        Command::VerifyToken(a) => verify_token::run(*a),
        Command::Lsp(a) => lsp::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    }
}

/// Whether output to standard output is colored: `--color`, else a terminal without `NO_COLOR`.
fn use_color(c: crate::cli::ColorChoice) -> bool {
    use crate::cli::ColorChoice;
    use std::io::IsTerminal;
    match c {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Writes generated text to standard output; a closed pipe (`agw man | head`) is not an error
/// worth a panic, any other failure is reported.
fn write_stdout(bytes: &[u8]) -> i32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("agw: cannot write to standard output: {e}");
            EXIT_CANNOT_RUN
        }
    }
}
