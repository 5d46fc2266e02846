use crate::check::catalog;
use crate::check::rules::RuleOptions;
use crate::check::suppress::RulePolicy;
use crate::check::{check_bytes, load, CheckOptions, Loaded};
use crate::cli::{CheckArgs, Format};
use crate::diag::{self, FileReport, Severity};
use crate::oidc::HttpOptions;
use crate::source::EnvOptions;

use super::{EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_OK};

pub fn run(a: CheckArgs) -> i32 {
    if let Some(code) = list_rules(&a) {
        return code;
    }
    let opts = match options(&a) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("agw: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let mut batch = check_inputs(&a, &opts);
    if a.diff {
        for f in &batch.failures {
            eprintln!("agw: {f}");
        }
        return match (batch.failures.is_empty(), batch.fixable_files) {
            (false, _) => EXIT_CANNOT_RUN,
            (true, 0) => EXIT_OK,
            _ => EXIT_FINDINGS,
        };
    }
    for dir in &a.files {
        let found = batch.found_in_dir.get(dir.as_str()).copied().unwrap_or(0);
        if std::path::Path::new(dir).is_dir() && found == 0 {
            batch.failures.push(format!(
                "no gateway configuration under {dir}: no YAML file there has the gateway's top-level keys (`binds:`, `mcp:`, ...) or agw's schema modeline"
            ));
        }
    }
    if a.online {
        if let Err(e) = online(&a, &opts, &mut batch.loaded) {
            batch.failures.push(e);
        }
    }
    let reports: Vec<FileReport> = batch.loaded.into_iter().map(Loaded::into_report).collect();
    if write_report(&a, &reports) != EXIT_OK {
        return EXIT_CANNOT_RUN;
    }
    for f in &batch.failures {
        eprintln!("agw: {f}");
    }
    if !batch.failures.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    let errors: usize = reports.iter().map(|r| r.count(Severity::Error)).sum();
    let warnings: usize = reports.iter().map(|r| r.count(Severity::Warning)).sum();
    if errors > 0 || (a.deny_warnings && warnings > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `--list-rules` (as a table, or as the Markdown reference), and the refusal of `--format
/// markdown` anywhere else; `None` when the files are to be checked.
fn list_rules(a: &CheckArgs) -> Option<i32> {
    if a.list_rules && a.format == Format::Markdown {
        return Some(super::write_stdout(
            crate::docs::rules_markdown().as_bytes(),
        ));
    }
    if a.format == Format::Markdown {
        eprintln!("agw: --format markdown is only for --list-rules (the rule reference)");
        return Some(EXIT_CANNOT_RUN);
    }
    if !a.list_rules {
        return None;
    }
    let width = catalog::all().iter().map(|r| r.id.len()).max().unwrap_or(0);
    let list: String = catalog::all()
        .iter()
        .map(|r| {
            format!(
                "{:<width$}  {:<14} {}\n",
                r.id,
                r.severity_text(),
                r.summary
            )
        })
        .collect();
    Some(super::write_stdout(list.as_bytes()))
}

/// What checking the inputs gave.
#[derive(Default)]
struct Batch {
    loaded: Vec<Loaded>,
    /// Inputs that could not be checked, and why.
    failures: Vec<String>,
    /// For each directory argument, how many gateway configurations were found under it.
    found_in_dir: std::collections::HashMap<String, usize>,
    /// `--diff`: how many files have something to fix.
    fixable_files: usize,
}

/// Reads and checks every input (fixing it first with `--fix`/`--diff`); a YAML file found in a
/// directory is checked only when its text is a gateway configuration.
fn check_inputs(a: &CheckArgs, opts: &CheckOptions) -> Batch {
    let (inputs, failures) = expand_inputs(&a.files);
    let mut batch = Batch {
        failures,
        ..Batch::default()
    };
    for Input { path: input, dir } in &inputs {
        let input = input.as_str();
        let bytes = match load::read(load::Input::arg(input), opts.limits.max_file_bytes) {
            Ok(b) => b,
            Err(e) => {
                batch.failures.push(e);
                continue;
            }
        };
        if let Some(dir) = dir {
            let n = batch.found_in_dir.entry(dir.clone()).or_default();
            if !crate::check::detect::is_gateway_config(&String::from_utf8_lossy(&bytes)) {
                continue;
            }
            *n += 1;
        }
        let name = match (input, &a.stdin_filename) {
            ("-", Some(n)) => n.as_str(),
            _ => input,
        };
        if a.fix || a.diff {
            match fix_one(a, input, name, bytes, opts) {
                Ok(Fixed::Report(b)) => batch.loaded.push(check_bytes(name, b, opts)),
                Ok(Fixed::Diff(changed)) => batch.fixable_files += usize::from(changed),
                Ok(Fixed::Printed) => {}
                Err(e) => batch.failures.push(e),
            }
            continue;
        }
        let mut l = check_bytes(name, bytes, opts);
        if a.target.is_some() {
            super::compile::portability(&mut l, opts);
        }
        batch.loaded.push(l);
    }
    batch
}

/// Renders the reports in the chosen format to standard output.
fn write_report(a: &CheckArgs, reports: &[FileReport]) -> i32 {
    let color = super::use_color(a.color);
    let render: diag::Render<[FileReport]> = match a.format {
        Format::Human => diag::human::render,
        Format::Json => diag::json::render,
        Format::Sarif => diag::sarif::render,
        Format::Github => diag::github::render,
        Format::Markdown => unreachable!("refused by list_rules"),
    };
    super::write_stdout(render(reports, diag::Style { color }).as_bytes())
}

/// What `--fix`/`--diff` did with one input.
enum Fixed {
    /// The file (fixed, or as it was) is to be reported on.
    Report(Vec<u8>),
    /// `--diff`: the diff was printed; whether there was anything to fix.
    Diff(bool),
    /// `--fix -`: the fixed text went to standard output in place of a report.
    Printed,
}

/// Applies the fixes of one input: writes the file in place (`--fix`), prints a diff (`--diff`),
/// or prints the fixed text (`--fix -`). What was fixed and what could not be is said on
/// standard error.
fn fix_one(
    a: &CheckArgs,
    input: &str,
    name: &str,
    bytes: Vec<u8>,
    opts: &CheckOptions,
) -> Result<Fixed, String> {
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return Ok(if a.diff {
            Fixed::Diff(false)
        } else {
            Fixed::Report(bytes)
        });
    };
    let outcome = crate::check::fix::fix(name, &text, opts, a.unsafe_fixes);
    for f in &outcome.applied {
        eprintln!("{name}: fixed [{}] {}", f.rule, f.title);
    }
    for f in &outcome.refused {
        eprintln!("{name}: not fixed [{}] {}: {}", f.rule, f.title, f.reason);
    }
    let changed = outcome.text != text;
    if a.diff {
        if changed {
            let diff = similar::TextDiff::from_lines(&text, &outcome.text);
            let shown = diff
                .unified_diff()
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string();
            if super::write_stdout(shown.as_bytes()) != EXIT_OK {
                return Err("cannot write the diff".into());
            }
        }
        return Ok(Fixed::Diff(changed));
    }
    if input == "-" {
        super::write_stdout(outcome.text.as_bytes());
        return Ok(Fixed::Printed);
    }
    if changed {
        write_in_place(std::path::Path::new(input), outcome.text.as_bytes())
            .map_err(|e| format!("cannot write the fixes to {input}: {e}"))?;
    }
    Ok(Fixed::Report(outcome.text.into_bytes()))
}

/// Replaces a file by renaming a sibling into place, so that a reader (the gateway watching it)
/// never sees half of it; the permissions stay.
fn write_in_place(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.agw-fix-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions())?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The network stage, with the timeouts of the flags.
fn online(a: &CheckArgs, opts: &CheckOptions, loaded: &mut [Loaded]) -> Result<(), String> {
    let secs = |s: f64, flag: &str| {
        if s.is_finite() && s > 0.0 && s <= 600.0 {
            Ok(std::time::Duration::from_secs_f64(s))
        } else {
            Err(format!("{flag} takes seconds between 0 and 600, not {s}"))
        }
    };
    let http = HttpOptions {
        timeout: secs(a.timeout, "--timeout")?,
        connect_timeout: secs(a.connect_timeout, "--connect-timeout")?,
        ..HttpOptions::default()
    };
    crate::check::online::run(loaded, opts, http)
}

fn options(a: &CheckArgs) -> Result<CheckOptions, String> {
    let env = env_options(
        &a.env.env_file,
        &a.env.env,
        a.env.allow_unset_env,
        a.env.no_process_env,
    )?;
    let policy = RulePolicy {
        allow: a.allow.clone(),
        deny: a.deny.clone(),
    };
    policy.validate()?;
    if let Some(root) = &a.root {
        if !root.is_dir() {
            return Err(format!("--root {}: not a directory", root.display()));
        }
    }
    Ok(CheckOptions {
        env,
        rules: RuleOptions {
            root: a.root.clone(),
            strict_files: a.strict_files,
            ..Default::default()
        },
        policy,
        release: a.release.gateway_version,
        ..Default::default()
    })
}

/// Environment options from the flags shared by `check` and `serve`.
pub(crate) fn env_options(
    env_files: &[std::path::PathBuf],
    env_flags: &[String],
    allow_unset: bool,
    no_process_env: bool,
) -> Result<EnvOptions, String> {
    let mut env = EnvOptions {
        use_process_env: !no_process_env,
        allow_unset,
        ..Default::default()
    };
    for f in env_files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read env file {}: {e}", f.display()))?;
        let pairs = EnvOptions::parse_env_file(&text)
            .map_err(|e| format!("env file {}: {e}", f.display()))?;
        env.overrides.extend(pairs);
    }
    for kv in env_flags {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("`-e {kv}`: expected KEY=VALUE"))?;
        env.overrides.insert(k.to_string(), v.to_string());
    }
    Ok(env)
}

/// One file to check; `dir` is the directory argument it was found under, if any.
struct Input {
    path: String,
    dir: Option<String>,
}

/// Files as given, with glob patterns expanded (for shells that do not, and for quoted ones) and
/// directories walked for YAML files (hidden folders and `node_modules` left out, as linters do;
/// which of them are gateway configurations is decided on their text).
fn expand_inputs(args: &[String]) -> (Vec<Input>, Vec<String>) {
    let mut files = Vec::new();
    let mut failures = Vec::new();
    let file = |path: String| Input { path, dir: None };
    for a in args {
        if std::path::Path::new(a).is_dir() {
            let mut found = Vec::new();
            walk_yaml(std::path::Path::new(a), &mut found, &mut failures);
            found.sort();
            files.extend(found.into_iter().map(|p| Input {
                path: p.display().to_string(),
                dir: Some(a.clone()),
            }));
            continue;
        }
        let is_pattern = a.contains(['*', '?', '[']) && !std::path::Path::new(a).exists();
        if !is_pattern {
            files.push(file(a.clone()));
            continue;
        }
        match glob::glob(a) {
            Ok(paths) => {
                let mut matched: Vec<String> = paths
                    .filter_map(Result::ok)
                    .filter(|p| p.is_file())
                    .map(|p| p.display().to_string())
                    .collect();
                if matched.is_empty() {
                    failures.push(format!("no file matches `{a}`"));
                }
                matched.sort();
                files.extend(matched.into_iter().map(file));
            }
            Err(e) => failures.push(format!("bad pattern `{a}`: {e}")),
        }
    }
    (files, failures)
}

fn walk_yaml(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>, failures: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            failures.push(format!("cannot read directory {}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let path = entry.path();
        // `file_type` does not follow links: a linked folder is not walked (no cycles).
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk_yaml(&path, out, failures),
            Ok(_) if name.ends_with(".yaml") || name.ends_with(".yml") => out.push(path),
            _ => {}
        }
    }
}
