//! Command-line definitions of every command and flag.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::release::Release;

#[derive(Debug, Parser)]
#[command(
    name = "agw",
    version = crate::VERSION,
    long_version = crate::LONG_VERSION,
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
    /// Serve editors over the Language Server Protocol (stdio): agw's findings as you type
    #[command(
        long_about = "Speaks the Language Server Protocol over standard input and output. Every change of an agentgateway file (recognised by agw's schema modeline or its top-level keys) is checked as `agw check` checks it, and its findings are published as diagnostics, with the rule id as code and a link to the rule's documentation. Hover explains a finding, an `# agw: allow` comment or a key; code actions add an allow comment. Settings come in initializationOptions or workspace/didChangeConfiguration: env, envFile, allowUnsetEnv, processEnv, root, allow, deny. The network is used only by the `agw.checkOnline` command."
    )]
    Lsp(LspArgs),
    /// Say exactly whether the gateway would accept an access token, and why not
    #[command(
        long_about = "Verifies an access token the way the gateway would for a route of a configuration file (or for a policy given with --issuer/--audience/--jwks), and prints one line per check: key, algorithm, signature, issuer, audience, expiry, not-before, issued-at, required claims, scopes and mode. With --tool/--prompt/--resource it also evaluates the route's mcpAuthorization rules.\n\nThe token is read from the argument, from --token-file, or from standard input (absent or `-`); prefer standard input, since arguments are visible to other users of the machine. It is never printed whole.\n\nExit codes: 0 the gateway would accept the token (and allow the call), 1 it would reject it, 2 agw could not decide (invalid config, unreachable or refused JWKS)."
    )]
    VerifyToken(Box<VerifyTokenArgs>),
    /// Check a file, then serve it: MCP targets behind the file's routes and policies
    Serve(ServeArgs),
    /// Compile a checked file into the Kubernetes resources agentgateway's controller runs
    #[command(
        long_about = "Loads and checks the file as `agw check` does (an error refuses), then writes its listeners, routes, MCP backends and policies as the resources agentgateway's controller reads: Gateway and HTTPRoute (Gateway API v1), AgentgatewayBackend and AgentgatewayPolicy (agentgateway.dev/v1alpha1). Whatever has no Kubernetes form is a finding at its line (stdio targets, modes other than strict on MCP routes, jwtValidationOptions, ...); such a compile is lossy and exits 1 without writing anything, unless --allow-lossy. TLS keys and values from the environment that look secret are never written: the output names the Secrets to create. Output is deterministic YAML with a comment naming the source file and agw's version."
    )]
    Compile(CompileArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --out
    Man(ManArgs),
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
    /// Markdown, only with --list-rules: the rule reference (docs/rules.md)
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Where `$VAR` values come from, for the commands that load a config.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvArgs {
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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files, directories or glob patterns to check; `-` reads standard input
    #[arg(required_unless_present = "list_rules", value_name = "FILE")]
    pub files: Vec<String>,
    /// Apply the safe fixes in place (every other byte of the file stays as written), then
    /// report what is left; with `-`, print the fixed text instead of a report
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: the unsafe fixes too (likely guesses, to review)
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and change nothing; exit 1 when there is something to fix
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// The file name that findings for standard input (`-`) carry, for editors that pipe a buffer
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Exit 1 when there are warnings, not only errors
    #[arg(long)]
    pub deny_warnings: bool,
    /// Colour in human output (auto: only on a terminal and when NO_COLOR is not set)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// List every rule with its id, severity and summary, then exit
    #[arg(long)]
    pub list_rules: bool,
    /// Also fetch every issuer's discovery document and every JWKS the file names
    #[arg(long)]
    pub online: bool,
    /// With --online: seconds allowed for one request, body included
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// With --online: seconds allowed to connect
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub connect_timeout: f64,
    /// Silence a rule (an id such as `okta/jwks-derived`, or a family such as `okta`); repeatable.
    /// A finding that marks a file the gateway refuses (YAML syntax, schema) cannot be silenced
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = RuleIdParser, hide_possible_values = true)]
    pub allow: Vec<String>,
    /// Report a rule as an error whatever its default severity; repeatable
    #[arg(long, value_name = "RULE", value_delimiter = ',', value_parser = RuleIdParser, hide_possible_values = true)]
    pub deny: Vec<String>,
    /// Directory that referenced files (JWKS, certificates, OpenAPI schemas) are relative to,
    /// as the gateway's working directory would be [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Report a referenced file that cannot be found as an error, not a warning
    #[arg(long)]
    pub strict_files: bool,
    /// Also report what `agw compile --to TARGET` could not express, without writing anything
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<Target>,
    #[command(flatten)]
    pub release: ReleaseArg,
}

/// What `agw compile` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Gateway, HTTPRoute, AgentgatewayBackend and AgentgatewayPolicy resources
    Kubernetes,
}

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The configuration file to compile (checked first; any error refuses); `-` reads
    /// standard input
    #[arg(value_name = "FILE")]
    pub file: String,
    /// What to compile to
    #[arg(long, value_enum, value_name = "TARGET")]
    pub to: Target,
    /// The namespace of every resource
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// The GatewayClass of the Gateways
    #[arg(long, value_name = "CLASS", default_value = "agentgateway")]
    pub gateway_class: String,
    /// The name of the Gateway made of `binds` [default: from the file name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// `-` prints every manifest to standard output; a directory gets one file per resource
    #[arg(long, value_name = "DIR", default_value = "-")]
    pub out: String,
    /// Write the manifests even when some of the file cannot be expressed (the findings say what)
    #[arg(long)]
    pub allow_lossy: bool,
    /// Run each stdio MCP target as a Deployment and Service of IMAGE, which must serve MCP over
    /// HTTP on port 8080 at /mcp
    #[arg(long, value_name = "IMAGE")]
    pub stdio_as_deployment: Option<String>,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Directory that referenced files (JWKS, certificates) are relative to [default: the
    /// current directory]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub release: ReleaseArg,
}

/// `--gateway-version`: the gateway release a file is judged as.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ReleaseArg {
    /// The agentgateway release to judge the file as: a key that release does not know is an
    /// error that names the release that has it
    #[arg(long = "gateway-version", value_name = "RELEASE", value_enum, default_value_t = Release::default())]
    pub gateway_version: Release,
}

/// The releases as command-line values (`1.4.1`, `main`), each with its date in the help.
impl ValueEnum for Release {
    fn value_variants<'a>() -> &'a [Self] {
        &Release::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.label()).help(self.describe()))
    }
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
    /// With --print-modeline: point at this local schema file instead of the published URL (a
    /// directory, or a path ending in `/`, gets the schema file name appended)
    #[arg(long, value_name = "PATH", requires = "print_modeline")]
    pub schema_path: Option<String>,
    /// With --stdout or --print-modeline: the schema of this gateway release
    #[command(flatten)]
    pub release: ReleaseArg,
}

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport
    #[arg(long)]
    pub stdio: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id such as `auth/audiences-missing`
    #[arg(value_parser = RuleIdParser, hide_possible_values = true)]
    pub rule: String,
}

/// A rule id: any text is accepted (the command itself says what was meant when it names no
/// rule), and the catalogue's ids are offered to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct RuleIdParser;

impl clap::builder::TypedValueParser for RuleIdParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::check::catalog::all().iter().map(|r| {
            clap::builder::PossibleValue::new(r.id).help(r.summary)
        })))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// One line per check, for people
    Human,
    /// One JSON document, for scripts
    Json,
}

/// The `provider` of an `mcpAuthentication` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Okta,
    Keycloak,
    Auth0,
    Descope,
    Authentik,
    Entra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Strict,
    Optional,
    Permissive,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("call").args(["tool", "prompt", "resource"]).multiple(false)))]
pub struct VerifyTokenArgs {
    /// The token; absent or `-` reads it from standard input (bytes that are not UTF-8 make it
    /// a malformed token, not an error of the command)
    #[arg(value_name = "TOKEN")]
    pub token: Option<std::ffi::OsString>,
    /// Read the token from a file
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// The gateway configuration whose route policy applies
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        required_unless_present = "issuer"
    )]
    pub config: Option<PathBuf>,
    /// Request path that selects the route (as the router matches it), or a route name
    #[arg(long, value_name = "PATH", requires = "config")]
    pub route: Option<String>,
    /// HTTP method of the request, for routes that match on it
    #[arg(long, value_name = "METHOD", default_value = "POST")]
    pub method: String,
    /// Host of the request, for routes and listeners that match on it
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Without a config: the issuer the token's `iss` must equal
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    pub issuer: Option<String>,
    /// Without a config: an accepted audience (repeatable)
    #[arg(long = "audience", value_name = "AUD", requires = "issuer")]
    pub audiences: Vec<String>,
    /// Without a config: the JWKS as a URL or a file (default: derived from the issuer)
    #[arg(long, value_name = "URL|FILE", requires = "issuer")]
    pub jwks: Option<String>,
    /// Without a config: the authentication mode
    #[arg(long, value_enum, default_value_t = ModeArg::Strict, requires = "issuer")]
    pub mode: ModeArg,
    /// Without a config: the identity provider, which decides the key set URL the gateway
    /// derives from the issuer when `--jwks` is not given
    #[arg(long, value_enum, value_name = "IDP", requires = "issuer")]
    pub provider: Option<ProviderArg>,
    /// Evaluate the route's mcpAuthorization rules for a call of this tool
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Evaluate the rules for getting this prompt
    #[arg(long, value_name = "NAME")]
    pub prompt: Option<String>,
    /// Evaluate the rules for reading this resource
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,
    /// The MCP target of the call (default: from a `<target>_` prefix, or the only target)
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Arguments of the tool or prompt call, as a JSON object; they do not change the verdict,
    /// since the gateway authorizes a call before it reads its arguments
    #[arg(long = "arguments", value_name = "JSON")]
    pub arguments: Option<String>,
    /// Also require this scope (in `scp` or `scope`); the gateway does not enforce scopes itself
    #[arg(long = "require-scope", value_name = "SCOPE")]
    pub require_scopes: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = TokenFormat::Human)]
    pub format: TokenFormat,
    /// Directory that relative JWKS files of the config are read from
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Seconds to wait for the JWKS (connect and total)
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub timeout: u64,
    /// Clock skew allowed on exp, nbf and iat, in seconds (the gateway uses 60)
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub leeway: u64,
    /// Colour in human output
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Verify as if it were this time (seconds since the epoch)
    #[arg(long, value_name = "UNIX", hide = true)]
    pub now: Option<i64>,
    #[command(flatten)]
    pub release: ReleaseArg,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write agw.1 and one page per command (agw-check.1, ...) to this directory instead
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    /// When a changed file is loaded: `watch` polls it (SIGHUP also reloads at once),
    /// `signal` reloads only on SIGHUP, `off` never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ReloadArg::Watch)]
    pub reload: ReloadArg,
    /// The same as `--reload=off`
    #[arg(long, conflicts_with = "reload")]
    pub no_reload: bool,
    /// How often the file (and file-based JWKS) is checked for changes
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub reload_interval: std::time::Duration,
    /// How long a changed file must keep its size and modification time before it is read
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub reload_settle: std::time::Duration,
    /// The largest request body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Time a connection has to send its request headers (before its first request, however
    /// it is sent: nothing, the HTTP/2 preface alone or headers one byte at a time)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: std::time::Duration,
    /// A connection with no request in progress for this long is closed (HTTP/1 keep-alive
    /// and HTTP/2 alike)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// Time a request body has to arrive whole, counted from its headers (408 after it)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: std::time::Duration,
    /// HTTP/2 connections are pinged this often; one that does not answer within it is closed
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    pub http2_keep_alive: std::time::Duration,
    /// Connections open at once; past it a connection is answered 503 and closed
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most MCP sessions open at once (each stdio target is a child process per session)
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_sessions: usize,
    /// Most MCP sessions one caller (token issuer, subject and client) may have open at once
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_sessions_per_identity: usize,
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
    #[command(flatten)]
    pub release: ReleaseArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReloadArg {
    /// Poll the file; SIGHUP also reloads at once
    Watch,
    /// Reload only on SIGHUP
    Signal,
    /// Never reload
    Off,
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
    match s.trim() {
        "0" => Ok(std::time::Duration::ZERO),
        t => crate::config::parse_duration(t)
            .ok_or_else(|| format!("`{s}` is not a duration such as `500ms`, `30s` or `1m30s`")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flag_durations_also_take_a_bare_zero_and_spaces() {
        use std::time::Duration;
        assert_eq!(super::parse_duration(" 0 "), Ok(Duration::ZERO));
        assert_eq!(super::parse_duration(" 2s"), Ok(Duration::from_secs(2)));
        assert!(super::parse_duration("1d").is_err());
    }
}
