//! Test partners (Node.js packages, outside tools, data beside the repository) and what a test does
//! without one. With `AGW_REQUIRE_PARTNERS=1` (CI) a missing partner fails the test; otherwise the
//! test is recorded as skipped in `$AGW_SKIP_LOG`, which `ci/test.sh` lists at the end of the run and
//! does not count as passed.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub fn required() -> bool {
    std::env::var("AGW_REQUIRE_PARTNERS").is_ok_and(|v| v == "1")
}

/// The calling test cannot do its work: `partner` is missing. Fails the test when partners are
/// required; otherwise records the skip (the caller then returns).
pub fn missing(partner: &str, fix: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string();
    let test = format!("{}::{test}", env!("CARGO_CRATE_NAME"));
    if required() {
        panic!("{test}: {partner} is missing and AGW_REQUIRE_PARTNERS=1 requires it; {fix}");
    }
    eprintln!("{test}: skipped: {partner} is missing; {fix}");
    if let Some(log) = std::env::var_os("AGW_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            // one write per line: tests run in parallel threads, and O_APPEND keeps whole writes apart
            let _ = f.write_all(format!("{test}\t{partner} is missing\n").as_bytes());
        }
    }
}

/// Whether `tool --version` runs; records the skip when it does not.
pub fn tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        missing(
            &format!("`{tool}`"),
            "ci/install-test-deps.sh installs it (or says how)",
        );
    }
    ok
}

/// A data folder beside the repository, named by an environment variable that `ci/test.sh` sets
/// (`AGW_CORPUS_DIR`, `AGW_VECTORS_DIR`, `AGW_UPSTREAM_DIR`).
pub fn data_dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(d) if d.is_dir() => Some(d),
        Some(d) => {
            missing(
                &format!("{var} ({} is not a directory)", d.display()),
                "point it at the shared test data",
            );
            None
        }
        None => {
            missing(
                &format!("the data in ${var}"),
                "ci/test.sh sets it from ../shared",
            );
            None
        }
    }
}
