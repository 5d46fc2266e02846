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
    /// Silence a rule (an id such as `okta/jwks-derived`, or a family such as `okta`); repeatable
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub allow: Vec<String>,
    /// Report a rule as an error whatever its default severity; repeatable
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub deny: Vec<String>,
    /// Directory that referenced files (JWKS, certificates, OpenAPI schemas) are relative to,
    /// as the gateway's working directory would be [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Report a referenced file that cannot be found as an error, not a warning
    #[arg(long)]
    pub strict_files: bool,
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
