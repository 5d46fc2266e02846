//! Helpers shared by the integration tests: run the `agw` binary as a user would.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `agw ARGS` in the repository root with a clean, predictable environment.
pub fn agw(args: &[&str]) -> Run {
    agw_stdin(args, None)
}

pub fn agw_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    agw_in(&repo(), args, stdin)
}

pub fn agw_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agw"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("agw runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    finish(child.wait_with_output().unwrap())
}

/// The directory of the JavaScript test partners, when installed.
pub fn js_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AGW_JS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/js"));
    if dir.join("node_modules").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} has no node_modules (run ci/install-test-deps.sh)",
            dir.display()
        );
        None
    }
}
