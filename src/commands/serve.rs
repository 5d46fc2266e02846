use std::io::IsTerminal;

use crate::check::check_bytes;
use crate::cli::{LogFormat, ServeArgs};
use crate::diag::{self, Severity};
use crate::serve::auth::VerifierOptions;
use crate::serve::{Limits, ServeOptions};

use super::{EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_OK};

pub fn run(a: ServeArgs) -> i32 {
    let check = match super::check::env_options(&a.env_file, &a.env, false, false) {
        Ok(env) => crate::check::CheckOptions {
            env,
            rules: crate::check::rules::RuleOptions {
                root: Some(a.root.clone()),
                strict_files: false,
            },
            ..Default::default()
        },
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let bytes = match super::read_config(&a.file, &check) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let name = a.file.display().to_string();
    let loaded = check_bytes(&name, bytes, &check);
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if !loaded.report.diagnostics.is_empty() {
        eprint!(
            "{}",
            diag::human::render(std::slice::from_ref(&loaded.report), color)
        );
    }
    let Some(config) = loaded
        .config
        .filter(|_| loaded.report.count(Severity::Error) == 0)
    else {
        eprintln!("agw: {name} does not pass `agw check`; not serving it");
        return EXIT_FINDINGS;
    };
    init_logging(a.log_format);
    let opts = ServeOptions {
        file: a.file.clone(),
        listen: a.listen_address,
        check,
        root: a.root.clone(),
        reload_interval: (!a.no_reload).then_some(a.reload_interval),
        limits: Limits {
            max_body_bytes: a.max_body_bytes,
            header_read_timeout: a.header_read_timeout,
            max_sessions: a.max_sessions,
            max_children: a.max_children,
            session_idle_timeout: a.session_idle_timeout,
            init_timeout: a.init_timeout,
            drain_timeout: a.drain_timeout,
        },
        verifier: VerifierOptions {
            refetch_cooldown: a.jwks_refetch_cooldown,
        },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("agw: cannot start the async runtime: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let outcome = rt.block_on(crate::serve::serve(opts, config));
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(()) => EXIT_OK,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("agw: {e}");
            EXIT_CANNOT_RUN
        }
    }
}

/// Structured logs on standard error; `RUST_LOG` (or `AGW_LOG`) filters them.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("AGW_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
