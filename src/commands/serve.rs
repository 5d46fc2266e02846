use std::io::IsTerminal;

use crate::check::check_bytes;
use crate::cli::{LogFormat, ReloadArg, ServeArgs};
use crate::diag::{self, Severity};
use crate::serve::auth::VerifierOptions;
use crate::serve::{reload, Limits, ServeOptions};

use super::{EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_OK};

pub fn run(a: ServeArgs) -> i32 {
    let check = match super::check::env_options(&a.env_file, &a.env, false, false) {
        Ok(env) => crate::check::CheckOptions {
            env,
            rules: crate::check::rules::RuleOptions {
                root: Some(a.root.clone()),
                strict_files: false,
                ..Default::default()
            },
            release: a.release.gateway_version,
            ..Default::default()
        },
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let snapshot = match read_first(&a.file, check.limits.max_file_bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let name = a.file.display().to_string();
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Only the model is kept: the checked tree and the report are dropped here.
    let version = reload::Version::of(&snapshot);
    let config = {
        let loaded = check_bytes(&name, snapshot.bytes, &check);
        if !loaded.report.diagnostics.is_empty() {
            let text =
                diag::human::render(std::slice::from_ref(&loaded.report), diag::Style { color });
            eprint!("{text}");
        }
        let passed = loaded.report.count(Severity::Error) == 0;
        match loaded.config {
            Some(c) if passed => c,
            _ => {
                eprintln!("agw: {name} does not pass `agw check`; not serving it");
                return EXIT_FINDINGS;
            }
        }
    };
    init_logging(a.log_format);
    let opts = ServeOptions {
        file: a.file.clone(),
        listen: a.listen_address,
        check,
        root: a.root.clone(),
        reload: match (a.no_reload, a.reload) {
            (true, _) | (_, ReloadArg::Off) => reload::Mode::Off,
            (_, ReloadArg::Watch) => reload::Mode::Watch,
            (_, ReloadArg::Signal) => reload::Mode::Signal,
        },
        reload_interval: a.reload_interval,
        reload_settle: a.reload_settle,
        limits: Limits {
            max_body_bytes: a.max_body_bytes,
            header_read_timeout: a.header_read_timeout,
            idle_timeout: a.idle_timeout,
            body_timeout: a.body_timeout,
            http2_keep_alive: a.http2_keep_alive,
            max_connections: a.max_connections,
            max_sessions: a.max_sessions,
            max_sessions_per_identity: a.max_sessions_per_identity,
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
    let outcome = rt.block_on(crate::serve::serve(opts, config, version));
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

/// The file as first served: read whole, with the stamp of the bytes read (the watcher
/// compares what is on disk with it).
fn read_first(file: &std::path::Path, limit: usize) -> Result<reload::Snapshot, String> {
    for _ in 0..50 {
        match reload::read_once(file, limit) {
            Ok(Some(s)) => return Ok(s),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        }
    }
    Err(format!(
        "{} keeps changing; write a new file and rename it into place",
        file.display()
    ))
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
