use clap::Parser;

fn main() {
    let cli = agw::cli::Cli::parse();
    if !matches!(cli.command, agw::cli::Command::Serve(_)) {
        end_quietly_on_closed_pipe();
    }
    let code = agw::commands::run(cli);
    std::process::exit(code);
}

/// `agw check | head -1`: when the reader of standard output goes away, agw ends as every Unix
/// tool does (killed by SIGPIPE, nothing printed), instead of Rust's default of ignoring the
/// signal and panicking at the next `print`. The runtime keeps ignoring it: its sockets and child
/// pipes report a closed peer as an error it handles.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any thread is started; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
