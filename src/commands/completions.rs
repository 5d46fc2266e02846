use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(a: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "agw", &mut buf);
    super::write_stdout(&buf)
}
