//! `agw compile --to kubernetes`: load and check as `agw check` does, compile, check the
//! manifests, then write them (or say why not).

use std::io::IsTerminal;
use std::path::Path;

use crate::check::{load, CheckOptions, Loaded};
use crate::cli::CompileArgs;
use crate::compile::{self, names};
use crate::config::Config;
use crate::diag::{self, Severity};

use super::{EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_OK};

pub fn run(a: CompileArgs) -> i32 {
    if names::label(&a.namespace).as_deref() != Some(a.namespace.as_str()) {
        eprintln!(
            "agw: --namespace {}: a namespace is a lowercase DNS label (letters, digits and `-`, at most 63)",
            a.namespace
        );
        return EXIT_CANNOT_RUN;
    }
    let env = match super::check::env_options(
        &a.env.env_file,
        &a.env.env,
        a.env.allow_unset_env,
        a.env.no_process_env,
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let opts = CheckOptions {
        env,
        rules: crate::check::rules::RuleOptions {
            root: a.root.clone(),
            ..Default::default()
        },
        release: a.release.gateway_version,
        ..Default::default()
    };
    let mut loaded = match load::load(load::Input::arg(&a.file), &a.file, &opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let Some(cfg) = loaded
        .config
        .take()
        .filter(|_| loaded.report.count(Severity::Error) == 0)
    else {
        report(&loaded, color);
        eprintln!(
            "agw: {} does not pass `agw check`; not compiling it",
            a.file
        );
        return EXIT_FINDINGS;
    };
    let copts = compile::Options {
        namespace: a.namespace.clone(),
        gateway_class: a.gateway_class.clone(),
        name: a.name.clone().unwrap_or_else(|| default_name(&a.file)),
        root: a.root.clone().unwrap_or_else(|| ".".into()),
        stdio_image: a.stdio_as_deployment.clone(),
    };
    let source = display_name(&a.file);
    let (compiled, rendered) = compile_into(&mut loaded, &cfg, &opts, &copts, &source);
    report(&loaded, color);
    let errors = loaded.report.count(Severity::Error);
    let lossy = loaded
        .report
        .diagnostics
        .iter()
        .filter(|d| d.rule.family() == "k8s" && d.severity != Severity::Note)
        .count();
    if errors > 0 {
        eprintln!(
            "agw: {} cannot be compiled (see the errors above); nothing written",
            a.file
        );
        return EXIT_FINDINGS;
    }
    if lossy > 0 && !a.allow_lossy {
        eprintln!(
            "agw: the compile is lossy ({lossy} finding{} above); nothing written. Pass --allow-lossy to write the manifests anyway",
            if lossy == 1 { "" } else { "s" }
        );
        return EXIT_FINDINGS;
    }
    if a.out == "-" {
        return super::write_stdout(rendered.as_bytes());
    }
    match write_dir(Path::new(&a.out), &compiled, &source) {
        Ok(n) => {
            eprintln!("agw: wrote {n} manifests to {}", a.out);
            EXIT_OK
        }
        Err(e) => {
            eprintln!("agw: cannot write to {}: {e}", a.out);
            EXIT_CANNOT_RUN
        }
    }
}

fn report(loaded: &Loaded, color: bool) {
    if !loaded.report.diagnostics.is_empty() {
        eprint!(
            "{}",
            diag::human::render(std::slice::from_ref(&loaded.report), diag::Style { color })
        );
    }
}

/// One file a resource, `KIND-NAME.yaml`, each with the header.
fn write_dir(dir: &Path, compiled: &compile::Compiled, source: &str) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    for m in &compiled.manifests {
        let kind = m["kind"]
            .as_str()
            .unwrap_or("resource")
            .to_ascii_lowercase();
        let name = m["metadata"]["name"].as_str().unwrap_or("unnamed");
        let one = compile::Compiled {
            manifests: vec![m.clone()],
            findings: Vec::new(),
            secrets: if kind == "gateway" || kind == "deployment" {
                compiled.secrets.clone()
            } else {
                Vec::new()
            },
        };
        std::fs::write(
            dir.join(format!("{kind}-{name}.yaml")),
            compile::render(&one, source),
        )?;
    }
    Ok(compiled.manifests.len())
}

/// The Gateway's name from the file's: `deploy/mcp-gateway.yaml` gives `mcp-gateway`.
fn default_name(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match names::label(&stem) {
        Some(n) if !matches!(n.as_str(), "config" | "gateway" | "") => n,
        _ => "agentgateway".into(),
    }
}

/// The source as the header names it: the path as given, without directories above it that
/// say where it was compiled.
fn display_name(file: &str) -> String {
    if file == "-" {
        return "standard input".into();
    }
    Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

/// Compiles the checked `cfg` of `loaded` and adds what the compile found (what does not map,
/// secrets the manifests would carry) to its report; the manifests, and their text.
fn compile_into(
    loaded: &mut Loaded,
    cfg: &Config,
    opts: &CheckOptions,
    copts: &compile::Options,
    source: &str,
) -> (compile::Compiled, String) {
    let mut compiled = compile::compile(cfg, &loaded.index, copts);
    let rendered = compile::render(&compiled, source);
    let mut findings = std::mem::take(&mut compiled.findings);
    findings.extend(compile::secret_leaks(
        &rendered,
        &loaded.report.source.text,
        &opts.env,
    ));
    loaded.extend(findings, opts);
    (compiled, rendered)
}

/// `agw check --target kubernetes`: the findings of a compile of a file that passes, added to its
/// report; nothing is written.
pub(super) fn portability(loaded: &mut Loaded, opts: &CheckOptions) {
    if loaded.report.count(Severity::Error) > 0 {
        return;
    }
    let Some(cfg) = loaded.config.take() else {
        return;
    };
    let copts = compile::Options {
        root: opts.rules.root.clone().unwrap_or_else(|| ".".into()),
        ..Default::default()
    };
    compile_into(loaded, &cfg, opts, &copts, "");
    loaded.config = Some(cfg);
}
