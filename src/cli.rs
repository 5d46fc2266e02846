//! Command-line definitions of every command and flag.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "agw",
    version,
    about = "Lint, explain and serve agentgateway configuration files",
    long_about = "agw checks agentgateway configuration files (the YAML that puts MCP servers behind a gateway and protects them with OAuth access tokens) against a published schema and semantic rules, and reports every problem with its exact line.\n\nExit codes: 0 no error, 1 findings (errors, or warnings with --deny-warnings), 2 could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check configuration files and report every problem at once
    Check(CheckArgs),
    /// Write the published JSON schema generated from agw's configuration model
    Schema(SchemaArgs),
    /// Explain a rule: what it catches, why, and a wrong and a right example
    Explain(ExplainArgs),
    /// Check a file, then serve it: MCP targets behind the file's routes and policies
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Code frames with labels and hints, for people
    Human,
    /// One JSON document, for scripts
    Json,
    /// SARIF 2.1.0, for code-scanning tools
    Sarif,
    /// GitHub Actions workflow annotations
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or glob patterns to check; `-` reads standard input
    #[arg(required_unless_present = "list_rules", value_name = "FILE")]
    pub files: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Read environment variables for `$VAR` expansion from a dotenv-style file (repeatable)
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Set an environment variable for `$VAR` expansion (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Substitute a placeholder for unset variables and report them as warnings, not errors
    #[arg(long)]
    pub allow_unset_env: bool,
    /// Do not read the process environment; only `-e` and `--env-file` supply values
    #[arg(long)]
    pub no_process_env: bool,
    /// Exit 1 when there are warnings, not only errors
    #[arg(long)]
    pub deny_warnings: bool,
    /// Colour in human output (auto: only on a terminal and when NO_COLOR is not set)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// List every rule with its id, severity and summary, then exit
    #[arg(long)]
    pub list_rules: bool,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Directory to write the schema files to
    #[arg(long, value_name = "DIR", default_value = "schema")]
    pub out: PathBuf,
    /// Print the draft-07 schema to standard output instead of writing files
    #[arg(long, conflicts_with = "print_modeline")]
    pub stdout: bool,
    /// Print the `# yaml-language-server: $schema=...` line for this version and exit
    #[arg(long)]
    pub print_modeline: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id such as `auth/audiences-missing`
    pub rule: String,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file to serve (checked first; any error refuses to start)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Address every bind and gateway port listens on (`0.0.0.0` to accept other machines)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub listen_address: std::net::IpAddr,
    /// Read environment variables for `$VAR` expansion from a dotenv-style file (repeatable)
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Set an environment variable for `$VAR` expansion (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Directory that relative files of the config (a JWKS `file:`) are read from
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Do not watch the file for changes
    #[arg(long)]
    pub no_reload: bool,
    /// How often the file (and file-based JWKS) is checked for changes
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub reload_interval: std::time::Duration,
    /// The largest request body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Time a client has to send the request headers
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: std::time::Duration,
    /// Most MCP sessions open at once (each stdio target is a child process per session)
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_sessions: usize,
    /// Most child processes running at once
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_children: usize,
    /// A session with no request for this long is ended and its child processes stopped
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub session_idle_timeout: std::time::Duration,
    /// Time an MCP server has to answer `initialize` (a cold `npx` start takes seconds)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub init_timeout: std::time::Duration,
    /// Least time between two JWKS refetches caused by tokens with an unknown `kid`
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub jwks_refetch_cooldown: std::time::Duration,
    /// Time in-flight requests get to finish on SIGTERM/SIGINT
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: std::time::Duration,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of `key=value` fields per event
    Text,
    /// One JSON object per event
    Json,
}

/// Go-style durations (`500ms`, `30s`, `1m30s`, `2h`), as in the configuration.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration such as `500ms`, `30s` or `1m30s`");
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    if rest == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Ok(std::time::Duration::from_secs_f64(total))
}
