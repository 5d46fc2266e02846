//! The VS Code extension in `editors/vscode`: its unit tests pass (`npm test`: the TypeScript
//! compiler, then Node's test runner against fakes of VS Code and of the language client, since VS
//! Code itself is not something a test run can download), and `npm run package` (vsce, offline)
//! makes a `.vsix` that holds the compiled extension, its manifest and its runtime packages.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::procs::run_bounded;

/// Both tests compile into `editors/vscode/out`; one at a time, so that neither reads a file the
/// other is rewriting.
static OUT_DIR: Mutex<()> = Mutex::new(());

/// npm and vsce on two busy cores take seconds; minutes mean something hangs.
const TIMEOUT: Duration = Duration::from_secs(300);

/// `editors/vscode` with its packages installed, or `None` once the skip is recorded.
fn extension_dir() -> Option<PathBuf> {
    if !common::partners::tool("node") || !common::partners::tool("npm") {
        return None;
    }
    let dir = common::repo().join("editors/vscode");
    // `npm ci` leaves this file; without it nothing of the extension can be built.
    if !dir.join("node_modules/.package-lock.json").is_file() {
        common::partners::missing(
            "editors/vscode/node_modules (the extension's npm packages)",
            "run `bash ci/install-test-deps.sh` (or `npm ci` in editors/vscode)",
        );
        return None;
    }
    Some(dir)
}

fn npm(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut cmd = Command::new("npm");
    cmd.args(args)
        .current_dir(dir)
        .env("npm_config_update_notifier", "false");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_bounded(&mut cmd, "", TIMEOUT)
}

/// The names of the entries of a zip file, from its central directory.
fn zip_names(zip: &[u8]) -> Vec<String> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
    // The end-of-central-directory record is the last 22 bytes, unless a comment follows it.
    let eocd = (0..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .expect("a zip file ends with an end-of-central-directory record");
    let count = u16_at(eocd + 10);
    let mut at = u32_at(eocd + 16);
    let mut names = Vec::with_capacity(count);
    for _ in 0..count {
        assert!(
            zip[at..].starts_with(b"PK\x01\x02"),
            "no central directory entry at {at}"
        );
        let (name, extra, comment) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        names.push(String::from_utf8_lossy(&zip[at + 46..at + 46 + name]).into_owned());
        at += 46 + name + extra + comment;
    }
    names
}

#[test]
fn the_extension_unit_tests_pass() {
    let Some(dir) = extension_dir() else { return };
    let _out = OUT_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let (code, stdout, stderr) = npm(&dir, &["test"], &[]);
    assert_eq!(code, 0, "npm test failed:\n{stdout}\n{stderr}");
    // Node's runner prints TAP; a run that found no test file would pass with `# pass 0`.
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok());
    assert!(
        passed.is_some_and(|n| n > 0),
        "npm test ran no test:\n{stdout}"
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
}

#[test]
fn the_extension_packages_into_a_vsix() {
    let Some(dir) = extension_dir() else { return };
    let _out = OUT_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap()).unwrap();
    let version = manifest["version"].as_str().unwrap();
    let build = tempfile::Builder::new()
        .prefix("vsix-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let (code, stdout, stderr) = npm(&dir, &["run", "package"], &[("AGW_VSIX_DIR", build.path())]);
    assert_eq!(code, 0, "npm run package failed:\n{stdout}\n{stderr}");
    let vsix = build.path().join(format!("agw-{version}.vsix"));
    assert!(
        vsix.is_file(),
        "{} was not written:\n{stdout}\n{stderr}",
        vsix.display()
    );
    let names = zip_names(&std::fs::read(&vsix).unwrap());
    for want in [
        "extension/package.json",
        "extension/out/extension.js",
        "extension/out/activate.js",
        "extension/LICENSE.txt",
        // not bundled: the language client is loaded from the .vsix's own node_modules
        "extension/node_modules/vscode-languageclient/package.json",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    for n in &names {
        assert!(
            !n.starts_with("extension/src/")
                && !n.starts_with("extension/out/test/")
                && !n.starts_with("extension/node_modules/typescript/")
                && !n.starts_with("extension/node_modules/@vscode/vsce/"),
            "{n}: sources, tests and build tools stay out of the .vsix"
        );
    }
}
