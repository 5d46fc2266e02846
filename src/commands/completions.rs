use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(a: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "agw", &mut buf);
    if a.shell == Shell::Fish {
        buf.extend(fish_positional_values(&cmd).into_bytes());
    }
    super::write_stdout(&buf)
}

/// clap_complete's fish script completes the values of options but not of positional arguments
/// (`agw explain <TAB>` would list files): one `complete` line per value, with its help, using the
/// condition function the generated script defines.
fn fish_positional_values(cmd: &clap::Command) -> String {
    let mut out = String::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            for v in arg.get_possible_values() {
                let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                out.push_str(&format!(
                    "complete -c agw -n \"__fish_agw_using_subcommand {}\" -f -a '{}' -d '{}'\n",
                    sub.get_name(),
                    fish_quote(v.get_name()),
                    fish_quote(&help)
                ));
            }
        }
    }
    out
}

fn fish_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}
