use clap::Parser;

fn main() {
    let cli = agw::cli::Cli::parse();
    let code = agw::commands::run(cli);
    std::process::exit(code);
}
