//! Records the git commit agw is built from, for `agw --version`.
//!
//! Order of precedence:
//! 1. `AGW_BUILD_COMMIT` from the environment (for packagers building from a tarball who know
//!    the commit, and for builds where git is not the source of truth);
//! 2. `git rev-parse HEAD` when the source is a git checkout and git is installed;
//! 3. `unknown` (a source tarball without `.git`, or no git).
//!
//! The result is exported to the crate as the `AGW_BUILD_COMMIT` compile-time variable.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=AGW_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let from_env = std::env::var("AGW_BUILD_COMMIT")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()));
    let commit = match from_env {
        Some(c) => c,
        None => git_commit(&manifest_dir).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=AGW_BUILD_COMMIT={commit}");
}

/// Runs git in `dir` and returns its trimmed output, or `None` when git is missing, `dir` is not
/// in a repository, or the command fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The commit of the repository whose top level is `dir`, abbreviated to 12 hex digits. Only
/// that repository: a source tarball unpacked inside some other repository must not report the
/// other repository's commit.
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(a), Ok(b)) if a == b => {}
        _ => return None,
    }
    watch_git_head(dir);
    git(dir, &["rev-parse", "--short=12", "HEAD"])
        .filter(|s| s.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Asks cargo to rebuild when HEAD moves: HEAD itself (a checkout or a detached commit), the ref
/// it points at (a new commit on the branch), and packed-refs (a ref that `git gc` packed). Works
/// for worktrees too, where HEAD lives in the worktree's git dir and refs in the common dir.
fn watch_git_head(dir: &Path) {
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            dir.join(p)
        }
    };
    let (Some(git_dir), Some(common_dir)) = (
        git(dir, &["rev-parse", "--git-dir"]).map(abs),
        git(dir, &["rev-parse", "--git-common-dir"]).map(abs),
    ) else {
        return;
    };
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(r) = text.trim().strip_prefix("ref: ") {
            for base in [&git_dir, &common_dir] {
                let p = base.join(r);
                if p.exists() {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
        }
    }
    let packed = common_dir.join("packed-refs");
    if packed.exists() {
        println!("cargo:rerun-if-changed={}", packed.display());
    }
}
