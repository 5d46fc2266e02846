//! The places agw runs besides a terminal: shells (completions), man, `--version`, editors
//! (modeline), the generated rule reference, pre-commit (the real tool, installing the hook from a
//! release), install.sh, and the GitHub Action (its check step run locally by ci/action-smoke.sh).
//!
//! Outside tools that may be missing (zsh, fish, groff, pre-commit, python3, node with tests/js)
//! are test partners (tests/common/partners.rs): the test fails under AGW_REQUIRE_PARTNERS=1 and is
//! reported as skipped otherwise; ci/install-test-deps.sh installs them all.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::procs::js_dir;
use common::{agw, repo};
use serde_json::Value;

/// A command's exit code (-1 when killed) and its standard output and error.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn run(cmd: &mut Command) -> Out {
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `cmd` with standard output and error in one log, killing it after `limit`.
fn run_bounded(cmd: &mut Command, limit: Duration, log: &Path) -> Out {
    let file = std::fs::File::create(log).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {limit:?}; its output so far:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Out {
        code,
        stdout: std::fs::read_to_string(log).unwrap_or_default(),
        stderr: String::new(),
    }
}

fn have(tool: &str) -> bool {
    common::partners::tool(tool)
}

fn agw_bin() -> &'static str {
    env!("CARGO_BIN_EXE_agw")
}

// ---- --version ----------------------------------------------------------------------------------

#[test]
fn version_names_the_build_commit() {
    let r = agw(&["-V"]);
    assert_eq!(r.code, 0);
    let line = r.stdout.trim();
    assert_eq!(line, format!("agw {}", agw::VERSION));
    let commit = line
        .strip_prefix(&format!("agw {} (commit ", env!("CARGO_PKG_VERSION")))
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
    let long = agw(&["--version"]).stdout;
    assert!(long.starts_with(&r.stdout), "{long}");
    assert!(long.contains("gateway release 1.4.1"), "{long}");

    // Built from this checkout without an override: the commit is HEAD's.
    if std::env::var_os("AGW_BUILD_COMMIT").is_none() {
        if let Some(head) = git_out(&repo(), &["rev-parse", "HEAD"]) {
            let top = git_out(&repo(), &["rev-parse", "--show-toplevel"]).unwrap_or_default();
            if same_dir(top, repo()) {
                assert!(
                    head.starts_with(commit),
                    "--version says {commit}, HEAD is {head}"
                );
            }
        }
    }
}

/// build.rs on its own: compiled with rustc and run as cargo runs it, against a directory that is
/// a git repository, one that is not (a source tarball), one nested inside another repository,
/// and with AGW_BUILD_COMMIT set by a packager.
#[test]
fn build_script_reports_commit_unknown_or_the_packagers_value() {
    if !have("rustc") || !have("git") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("agw-build-script");
    let o = run(Command::new("rustc")
        .args(["--edition", "2021", "-O", "-o"])
        .arg(&exe)
        .arg(repo().join("build.rs")));
    assert_eq!(o.code, 0, "rustc build.rs: {}", o.stderr);
    let commit_of = |dir: &Path, env: Option<&str>| -> String {
        let mut cmd = Command::new(&exe);
        cmd.env("CARGO_MANIFEST_DIR", dir).current_dir(dir);
        for v in GIT_LOCAL_ENV {
            cmd.env_remove(v);
        }
        match env {
            Some(v) => cmd.env("AGW_BUILD_COMMIT", v),
            None => cmd.env_remove("AGW_BUILD_COMMIT"),
        };
        let o = run(&mut cmd);
        assert_eq!(o.code, 0, "{}", o.stderr);
        o.stdout
            .lines()
            .find_map(|l| l.strip_prefix("cargo:rustc-env=AGW_BUILD_COMMIT="))
            .unwrap_or_else(|| panic!("no AGW_BUILD_COMMIT in {}", o.stdout))
            .to_string()
    };

    // A source tarball: no .git.
    let tarball = tmp.path().join("agw-0.1.0");
    std::fs::create_dir(&tarball).unwrap();
    assert_eq!(commit_of(&tarball, None), "unknown");
    assert_eq!(commit_of(&tarball, Some("0123456789ab")), "0123456789ab");

    // A git checkout: its HEAD.
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir(&checkout).unwrap();
    let git = |args: &[&str]| {
        let o = run(scratch_git(&checkout, tmp.path()).args(args));
        assert_eq!(o.code, 0, "git {args:?}: {}", o.all());
        o.stdout.trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    let head = git(&["rev-parse", "HEAD"]);
    assert_eq!(commit_of(&checkout, None), head[..12]);
    assert_eq!(commit_of(&checkout, Some("v1.2.3-pkg")), "v1.2.3-pkg");

    // A tarball unpacked inside someone else's repository: not that repository's commit.
    let nested = checkout.join("vendor/agw-0.1.0");
    std::fs::create_dir_all(&nested).unwrap();
    assert_eq!(commit_of(&nested, None), "unknown");
}

// ---- completions and man ------------------------------------------------------------------------

fn completion(shell: &str, dir: &Path) -> PathBuf {
    let r = agw(&["completions", shell]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("check"), "{shell}: {}", r.stdout);
    let path = dir.join(format!("agw.{shell}"));
    std::fs::write(&path, &r.stdout).unwrap();
    path
}

#[test]
fn bash_completion_parses_and_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let script = completion("bash", tmp.path());
    let o = run(Command::new("bash").arg("-n").arg(&script));
    assert_eq!(o.code, 0, "bash -n: {}", o.stderr);

    // Complete as bash would, by calling the completion function the script registers.
    let complete = |words: &str| -> Vec<String> {
        let prog = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _agw agw \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let o = run(Command::new("bash").args(["--norc", "-c", &prog]));
        assert_eq!(o.code, 0, "{}", o.stderr);
        o.stdout.lines().map(str::to_string).collect()
    };
    assert_eq!(complete("agw ch"), ["check"]);
    let formats = complete("agw check --format ''");
    for f in ["human", "json", "sarif", "github"] {
        assert!(formats.iter().any(|c| c == f), "{formats:?}");
    }
    let shells = complete("agw completions ''");
    for s in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.iter().any(|c| c == s), "{shells:?}");
    }
    // rule ids, for `explain` and for `--allow`/`--deny`
    let rules = complete("agw explain ''");
    assert!(
        rules.iter().any(|c| c == "auth/audiences-missing"),
        "{rules:?}"
    );
    assert!(rules.iter().any(|c| c == "okta/jwks-derived"), "{rules:?}");
    let rules = complete("agw check --deny ''");
    assert!(rules.iter().any(|c| c == "okta/jwks-derived"), "{rules:?}");
}

#[test]
fn zsh_fish_and_powershell_completions() {
    let tmp = tempfile::tempdir().unwrap();
    let zsh = completion("zsh", tmp.path());
    assert!(std::fs::read_to_string(&zsh)
        .unwrap()
        .starts_with("#compdef agw"));
    if have("zsh") {
        let o = run(Command::new("zsh").arg("-n").arg(&zsh));
        assert_eq!(o.code, 0, "zsh -n: {}", o.stderr);
    }
    let fish = completion("fish", tmp.path());
    if have("fish") {
        let o = run(Command::new("fish").arg("-n").arg(&fish));
        assert_eq!(o.code, 0, "fish -n: {}", o.stderr);
        // fish itself completes a command line with the script loaded.
        let o = run(Command::new("fish").args([
            "--no-config",
            "-c",
            &format!("source {}; complete -C 'agw ch'", fish.display()),
        ]));
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stdout.starts_with("check\t"), "{}", o.stdout);
        let o = run(Command::new("fish").args([
            "--no-config",
            "-c",
            &format!("source {}; complete -C 'agw explain okta/'", fish.display()),
        ]));
        assert!(o.stdout.contains("okta/jwks-derived\t"), "{}", o.stdout);
    }
    let ps = completion("powershell", tmp.path());
    let text = std::fs::read_to_string(ps).unwrap();
    assert!(
        text.contains("Register-ArgumentCompleter -Native -CommandName 'agw'"),
        "{text}"
    );
    // PowerShell itself is not a Debian package: its script is checked by content only.
    completion("elvish", tmp.path());
    let r = agw(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
}

#[test]
fn man_page_is_roff() {
    let r = agw(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".TH") || r.stdout.starts_with(".ie"),
        "{}",
        &r.stdout[..r.stdout.len().min(200)]
    );
    assert!(r.stdout.contains(".TH agw 1"), "{}", r.stdout);
    assert!(
        r.stdout.contains(agw::VERSION),
        "the page names the version"
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(r.stdout.contains(section), "{section}");
    }
    for sub in ["check", "schema", "explain", "completions", "man"] {
        assert!(r.stdout.contains(&format!("agw\\-{sub}(1)")), "{sub}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("man1");
    let r = agw(&["man", "--out", &out.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for p in ["agw.1", "agw-check.1", "agw-schema.1", "agw-explain.1"] {
        assert!(pages.iter().any(|x| x == p), "{p} in {pages:?}");
    }
    let check = std::fs::read_to_string(out.join("agw-check.1")).unwrap();
    assert!(check.contains("\\-\\-format"), "{check}");

    if have("groff") {
        for p in &pages {
            // -z: no output, -ww: every warning; a malformed page warns on stderr.
            let o = run(Command::new("groff")
                .args(["-man", "-z", "-ww"])
                .arg(out.join(p)));
            assert!(
                o.code == 0 && o.stderr.is_empty(),
                "groff {p}: {}",
                o.stderr
            );
        }
    }
}

// ---- editors: the modeline ----------------------------------------------------------------------

#[test]
fn modeline_points_at_the_published_schema_or_a_local_path() {
    let r = agw(&["schema", "--print-modeline"]);
    assert_eq!(r.code, 0);
    let url = format!(
        "https://raw.githubusercontent.com/agw-dev/agw/v{}/schema/agw-config.schema.json",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(r.stdout, format!("# yaml-language-server: $schema={url}\n"));
    assert_eq!(
        url,
        agw::schema::published_url(agw::config::release::Release::default())
    );
    // The URL names the repository's schema/ at the release tag: the file must exist there.
    let in_repo = url
        .split_once(&format!("/v{}/", env!("CARGO_PKG_VERSION")))
        .unwrap()
        .1;
    assert!(repo().join(in_repo).is_file(), "{in_repo}");

    let r = agw(&[
        "schema",
        "--print-modeline",
        "--schema-path",
        "../schema/agw-config.schema.json",
    ]);
    assert_eq!(
        r.stdout,
        "# yaml-language-server: $schema=../schema/agw-config.schema.json\n"
    );
    // A directory gets the file name.
    let r = agw(&["schema", "--print-modeline", "--schema-path", "schema"]);
    assert_eq!(
        r.stdout,
        "# yaml-language-server: $schema=schema/agw-config.schema.json\n"
    );
    let r = agw(&["schema", "--print-modeline", "--schema-path", "./editor/"]);
    assert_eq!(
        r.stdout,
        "# yaml-language-server: $schema=./editor/agw-config.schema.json\n"
    );
    // --schema-path only makes sense with --print-modeline.
    let r = agw(&["schema", "--schema-path", "schema"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

// ---- the rule reference -------------------------------------------------------------------------

#[test]
fn committed_rules_doc_matches_the_catalogue() {
    let text = agw::docs::rules_markdown();
    let committed = std::fs::read_to_string(repo().join(agw::docs::RULES_DOC)).unwrap_or_default();
    assert!(
        committed == text,
        "docs/rules.md differs from the rule catalogue: run \
         `cargo run -- check --list-rules --format markdown > docs/rules.md` and commit"
    );
    let r = agw(&["check", "--list-rules", "--format", "markdown"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, text);
    // markdown is for the rule list only.
    let r = agw(&["check", "--format", "markdown", "fixtures/okta/config.yaml"]);
    assert_eq!(r.code, 2);
}

#[test]
fn sarif_help_links_land_on_a_rule_section() {
    let r = agw(&["check", "--format", "sarif", "fixtures/okta/config.yaml"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let doc = std::fs::read_to_string(repo().join(agw::docs::RULES_DOC)).unwrap();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for rule in rules {
        let uri = rule["helpUri"].as_str().unwrap();
        let (base, anchor) = uri.split_once('#').unwrap();
        assert!(base.ends_with("/docs/rules.md"), "{uri}");
        assert!(
            doc.contains(&format!("<a id=\"{anchor}\"></a>")),
            "docs/rules.md has no anchor {anchor}"
        );
        assert!(
            doc.contains(&format!("### `{}`", rule["id"].as_str().unwrap())),
            "{uri}"
        );
    }
    // The README sends readers to the reference.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("docs/rules.md"));
}

// ---- the GitHub Action --------------------------------------------------------------------------

fn action_smoke(args: &[&str]) -> Out {
    run(Command::new("bash")
        .arg(repo().join("ci/action-smoke.sh"))
        .args(["--agw", agw_bin()])
        .args(args)
        .current_dir(repo())
        .env_remove("GITHUB_OUTPUT"))
}

#[test]
fn action_check_step_annotates_and_writes_valid_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    let sarif = tmp.path().join("reports/agw.sarif");
    let sarif_arg = sarif.display().to_string();
    let o = action_smoke(&[
        "--sarif-file",
        &sarif_arg,
        "fixtures/invalid/auth-missing-issuer.yaml",
        "fixtures/okta/*.yaml",
    ]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stdout.contains(
            "::error file=fixtures/invalid/auth-missing-issuer.yaml,line=6,col=9,title=schema/required::"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(
            "::error file=fixtures/okta/config.yaml,line=19,col=9,title=auth/audiences-missing::"
        ),
        "{}",
        o.stdout
    );
    assert!(o.stderr.contains("output: exit-code=1"), "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("output: sarif-file={sarif_arg}")),
        "{}",
        o.stderr
    );

    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    // The broken file's schema error, then the Okta example's findings.
    assert_eq!(ids.first(), Some(&"schema/required"), "{ids:?}");
    assert!(ids.contains(&"auth/audiences-missing"), "{ids:?}");

    // The official SARIF 2.1.0 schema, through tests/js/sarif-check.mjs (ajv).
    if let Some(js) = js_dir("action_sarif") {
        let o = run(Command::new("node")
            .arg(js.join("sarif-check.mjs"))
            .arg(&sarif));
        assert_eq!(o.code, 0, "SARIF validation failed: {}", o.all());
        assert_eq!(o.stdout.trim(), r#"{"valid":true}"#);
    }
}

#[test]
fn action_check_step_exit_codes() {
    // fail-on-findings: false reports but passes.
    let o = action_smoke(&[
        "--fail-on-findings",
        "false",
        "fixtures/invalid/auth-missing-issuer.yaml",
    ]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("::error file="), "{}", o.stdout);
    assert!(o.stderr.contains("output: exit-code=1"), "{}", o.stderr);

    // Paths separated by newlines, a clean file: passes.
    let o = action_smoke(&["fixtures/okta/config-fixed.yaml\nfixtures/valid/jwt-auth.yaml"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stderr.contains("output: exit-code=0"), "{}", o.stderr);

    // The default args let an unset variable through as a warning; an empty args requires it.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("gateway.yaml");
    std::fs::write(
        &cfg,
        "binds:\n- port: ${AGW_SMOKE_UNSET_PORT}\n  listeners: []\n",
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let o = action_smoke(&["--args", "--no-process-env --allow-unset-env", &cfg]);
    assert!(o.stdout.contains("::warning file="), "{}", o.all());
    let o = action_smoke(&["--args", "--no-process-env", &cfg]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stdout.contains("title=env/unset"), "{}", o.stdout);

    // agw cannot run: always fails, with an annotation.
    let o = action_smoke(&["--fail-on-findings", "false", "no/such/file.yaml"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stdout.contains("::error title=agw::"), "{}", o.stdout);
    assert!(
        o.stderr.contains("cannot read no/such/file.yaml"),
        "{}",
        o.stderr
    );
}

#[test]
fn action_metadata_is_consistent() {
    let action = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let declared = declared_inputs(&action);
    for i in [
        "paths",
        "args",
        "sarif-file",
        "fail-on-findings",
        "agw-binary",
    ] {
        assert!(declared.iter().any(|d| d == i), "input {i} not declared");
    }
    // Every `inputs.X` the steps use is declared, and every `steps.ID.` names a step id.
    for used in references(&action, "inputs.") {
        assert!(
            declared.contains(&used),
            "action.yml uses undeclared input {used}"
        );
    }
    for used in references(&action, "steps.") {
        assert!(
            action.contains(&format!("\n      id: {used}\n")),
            "action.yml refers to a step without id {used}"
        );
    }
    assert!(action.contains("using: composite"));
    assert!(action.contains("--format github") && action.contains("--format sarif"));
    // Each run step says its shell (required in composite actions).
    let runs = action.matches("\n      run: ").count();
    let shells = action.matches("\n      shell: bash\n").count();
    assert_eq!(runs, shells, "every run: step needs shell: bash");

    // The README's sample workflow uses only declared inputs.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("uses: agw-dev/agw@")
        .expect("README shows the action");
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut lines = block
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("with:"));
    let with = lines.next().expect("the sample passes inputs");
    let mut used = 0;
    for line in lines.take_while(|l| indent(l) > indent(with)) {
        let key = line.trim().split(':').next().unwrap();
        assert!(declared.iter().any(|d| d == key), "README uses input {key}");
        used += 1;
    }
    assert!(used >= 2, "{block}");
}

fn declared_inputs(action: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_inputs = false;
    for line in action.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty() {
            in_inputs = line == "inputs:";
            continue;
        }
        if in_inputs {
            if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
                if !name.starts_with(' ') {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Names after `prefix` inside `${{ }}` and `if:` expressions: `inputs.paths` -> `paths`.
fn references(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(prefix) {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_' || c == '-') {
            continue;
        }
        let name: String = text[i + prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

// ---- pre-commit ---------------------------------------------------------------------------------

/// Variables git sets for hooks; a test run from inside a git hook must not act on that repository.
const GIT_LOCAL_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
];

fn git_out(dir: &Path, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("git");
    cmd.args(args).current_dir(dir);
    for v in GIT_LOCAL_ENV {
        cmd.env_remove(v);
    }
    let o = cmd.stderr(Stdio::null()).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn same_dir(a: impl AsRef<Path>, b: impl AsRef<Path>) -> bool {
    match (a.as_ref().canonicalize(), b.as_ref().canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// git in `dir` with a predictable configuration: an identity, no user or system config (no
/// global hooks path, no signing), and none of an enclosing hook's variables.
fn scratch_git(dir: &Path, home: &Path) -> Command {
    let cfg = home.join("gitconfig");
    if !cfg.exists() {
        std::fs::write(
            &cfg,
            "[user]\n\tname = agw test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        )
        .unwrap();
    }
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", &cfg)
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for v in GIT_LOCAL_ENV {
        cmd.env_remove(v);
    }
    cmd
}

fn pre_commit_available() -> bool {
    have("pre-commit")
}

#[test]
fn pre_commit_manifest_and_readme_sample_are_valid() {
    if !pre_commit_available() {
        return;
    }
    let o = run(Command::new("pre-commit")
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(repo()));
    assert_eq!(o.code, 0, "{}", o.all());

    // The README's sample .pre-commit-config.yaml, as a user would copy it.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let sample = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(b, _)| b))
        .find(|b| b.contains("id: agw-check"))
        .expect("README has a sample .pre-commit-config.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join(".pre-commit-config.yaml");
    std::fs::write(&cfg, sample).unwrap();
    let o = run(Command::new("pre-commit")
        .arg("validate-config")
        .arg(&cfg)
        .current_dir(tmp.path()));
    assert_eq!(o.code, 0, "{}\n{sample}", o.all());
}

const BAD_GATEWAY: &str = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        mcpAuthentcation:\n          issuer: https://acme.okta.com/oauth2/default\n          audiences: [api://default]\n          resourceMetadata: {}\n      backends:\n      - host: 127.0.0.1:8080\n";

/// The real pre-commit, with the hook from this repository at HEAD: pre-commit clones it, and the
/// hook's first run installs agw from a release built from that commit (served here by a local
/// release server, as GitHub serves the real ones). A commit with a broken gateway file fails
/// with agw's message; a good one passes; YAML files that are not gateway configs are left alone.
#[test]
fn pre_commit_hook_blocks_a_bad_gateway_file() {
    if !pre_commit_available() || !have("git") {
        return;
    }
    let here = repo();
    let Some(head) = git_out(&here, &["rev-parse", "HEAD"]) else {
        common::partners::missing("a git checkout of agw", "run the tests from a clone");
        return;
    };
    if git_out(&here, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty()) {
        eprintln!(
            "note: pre-commit builds the hook from HEAD ({head}); uncommitted changes are not part of this test"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // A clone of this repository at HEAD, for the config's `repo:` (pre-commit fetches `rev` from it).
    let src = home.join("agw-src");
    let o = run(scratch_git(home, home)
        .args(["clone", "--quiet", "--no-checkout"])
        .arg(&here)
        .arg(&src));
    assert_eq!(o.code, 0, "git clone: {}", o.all());
    let o = run(scratch_git(&src, home).args(["branch", "--force", "agw-under-test", &head]));
    assert_eq!(o.code, 0, "{}", o.all());

    let scratch = home.join("project");
    std::fs::create_dir_all(scratch.join("gateway")).unwrap();
    let git = |args: &[&str]| run(scratch_git(&scratch, home).args(args));
    assert_eq!(git(&["init", "-q"]).code, 0);
    std::fs::write(
        scratch.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {head}\n    hooks:\n      - id: agw-check\n",
            src.display()
        ),
    )
    .unwrap();
    assert_eq!(git(&["add", "-A"]).code, 0);
    assert_eq!(git(&["commit", "-q", "-m", "pre-commit config"]).code, 0);

    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let release = FakeRelease::start(&head);
    let hook_env = |cmd: &mut Command| {
        cmd.env("PRE_COMMIT_HOME", target.join("pre-commit-home"))
            .env("AGW_RELEASE_BASE", release.base())
            .env("AGW_CACHE_DIR", home.join("agw-cache"))
            .env_remove("SKIP");
    };
    let pre_commit = |args: &[&str], limit: Duration, log: &str| {
        let mut pc = Command::new("pre-commit");
        pc.args(args)
            .current_dir(&scratch)
            .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1");
        hook_env(&mut pc);
        for v in GIT_LOCAL_ENV {
            pc.env_remove(v);
        }
        run_bounded(&mut pc, limit, &home.join(log))
    };
    // Drop hook environments of earlier runs (their scratch configs are gone), then build this one.
    pre_commit(&["gc"], Duration::from_secs(300), "gc.log");
    let o = pre_commit(&["install"], Duration::from_secs(60), "install.log");
    assert_eq!(o.code, 0, "pre-commit install: {}", o.stdout);
    let o = pre_commit(
        &["install-hooks"],
        Duration::from_secs(300),
        "install-hooks.log",
    );
    assert_eq!(o.code, 0, "pre-commit install-hooks: {}", o.stdout);

    let commit = |msg: &str| {
        let mut cmd = scratch_git(&scratch, home);
        cmd.args(["commit", "-m", msg]);
        hook_env(&mut cmd);
        run_bounded(&mut cmd, Duration::from_secs(300), &home.join("commit.log"))
    };

    // A broken gateway file, and a YAML file that is no gateway config (not checked).
    std::fs::write(scratch.join("gateway/config.yaml"), BAD_GATEWAY).unwrap();
    std::fs::write(
        scratch.join("docker-compose.yaml"),
        "services:\n  gateway:\n    image: agentgateway\n",
    )
    .unwrap();
    assert_eq!(git(&["add", "-A"]).code, 0);
    let o = commit("a typo");
    assert_ne!(o.code, 0, "the commit must fail:\n{}", o.stdout);
    let out = &o.stdout;
    assert!(out.contains("agw check") && out.contains("Failed"), "{out}");
    assert!(out.contains("error[schema/unknown-key]"), "{out}");
    assert!(out.contains("did you mean `mcpAuthentication`?"), "{out}");
    assert!(out.contains("gateway/config.yaml:6:9"), "{out}");
    assert!(!out.contains("docker-compose"), "{out}");
    assert_eq!(
        git_out(&scratch, &["rev-list", "--count", "HEAD"]).as_deref(),
        Some("1"),
        "nothing was committed"
    );

    // Fixed, with an environment variable that is not set here: the hook's default args make
    // that a warning, so the commit goes through.
    std::fs::write(
        scratch.join("gateway/config.yaml"),
        BAD_GATEWAY
            .replace("mcpAuthentcation", "mcpAuthentication")
            .replace("port: 3000", "port: ${AGW_TEST_UNSET_PORT:-3000}")
            .replace("acme.okta.com", "${AGW_TEST_UNSET_OKTA_DOMAIN}"),
    )
    .unwrap();
    assert_eq!(git(&["add", "-A"]).code, 0);
    let o = commit("fixed");
    assert_eq!(o.code, 0, "the commit must pass:\n{}", o.stdout);
    assert!(
        o.stdout.contains("agw check") && o.stdout.contains("Passed"),
        "{}",
        o.stdout
    );
    assert_eq!(
        git_out(&scratch, &["rev-list", "--count", "HEAD"]).as_deref(),
        Some("2")
    );

    // `--verbose` shows a passing hook's output too: the warnings the default args allow.
    let o = pre_commit(
        &["run", "agw-check", "--all-files", "--verbose"],
        Duration::from_secs(300),
        "run.log",
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(o.stdout.contains("warning[env/unset]"), "{}", o.stdout);

    // The hook installed the release built from its own revision (nothing was compiled), once.
    let installed = home.join("agw-cache").join(&head).join("bin/agw");
    assert_eq!(
        std::fs::read(&installed).ok(),
        std::fs::read(agw_bin()).ok(),
        "{} is not the release binary",
        installed.display()
    );
}

// ---- install.sh: release binaries first, a build from source as the fallback ------------------------

/// The release asset name for this machine, as install.sh computes it.
fn target_triple() -> String {
    let os = match std::env::consts::OS {
        "macos" => "apple-darwin",
        _ => "unknown-linux-gnu",
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// A release of agw as GitHub serves it (`<base>/<tag>/agw-<target>.tar.gz`, SHA256SUMS, COMMIT),
/// holding the agw binary under test, built "from" `commit`; served on loopback by Python's
/// http.server, stopped when dropped.
struct FakeRelease {
    _dir: tempfile::TempDir,
    port: u16,
    child: std::process::Child,
}

impl FakeRelease {
    fn start(commit: &str) -> FakeRelease {
        let dir = tempfile::tempdir().unwrap();
        let tag = dir.path().join(format!("v{}", env!("CARGO_PKG_VERSION")));
        std::fs::create_dir_all(&tag).unwrap();
        let stage = dir.path().join("stage");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(agw_bin(), stage.join("agw")).unwrap();
        let asset = format!("agw-{}.tar.gz", target_triple());
        let o = run(Command::new("tar")
            .arg("-czf")
            .arg(tag.join(&asset))
            .arg("-C")
            .arg(&stage)
            .arg("agw"));
        assert_eq!(o.code, 0, "tar: {}", o.stderr);
        let o = run(Command::new("sha256sum").arg(&asset).current_dir(&tag));
        assert_eq!(o.code, 0, "sha256sum: {}", o.stderr);
        std::fs::write(tag.join("SHA256SUMS"), &o.stdout).unwrap();
        std::fs::write(tag.join("COMMIT"), format!("{commit}\n")).unwrap();
        let port = common::procs::free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 serves the release files");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the release server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        FakeRelease {
            _dir: dir,
            port,
            child,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn asset(&self) -> PathBuf {
        self._dir
            .path()
            .join(format!("v{}", env!("CARGO_PKG_VERSION")))
            .join(format!("agw-{}.tar.gz", target_triple()))
    }
}

impl Drop for FakeRelease {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `cargo` that records its arguments and "builds" a stand-in agw, for the fallback path
/// (a real release build takes minutes and is what `cargo install` always does).
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" > {log}\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho agw built-from-source\\n' > \"$root/bin/agw\"\nchmod +x \"$root/bin/agw\"\n",
        log = dir.join("cargo-args").display()
    );
    let p = bin.join("cargo");
    std::fs::write(&p, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn install_sh(release: &FakeRelease, path: &str, args: &[&str]) -> Out {
    run(Command::new("sh")
        .arg(repo().join("install.sh"))
        .args(args)
        .env("AGW_RELEASE_BASE", release.base())
        .env("PATH", path))
}

#[test]
fn install_script_downloads_a_matching_release_and_builds_otherwise() {
    if !have("python3") {
        return;
    }
    let release = FakeRelease::start("0123abc");
    let tmp = tempfile::tempdir().unwrap();
    let system_path = std::env::var("PATH").unwrap_or_default();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));

    // the release of this commit: downloaded, checked, installed; nothing is built
    let dest = tmp.path().join("a/bin");
    let fake = fake_cargo(tmp.path());
    let with_fake = format!("{}:{system_path}", fake.display());
    let d = dest.display().to_string();
    let src = repo().display().to_string();
    let o = install_sh(
        &release,
        &with_fake,
        &["--dest", &d, "--commit", "0123abc", "--source", &src],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("installed the release build {tag}")),
        "{}",
        o.stderr
    );
    assert_eq!(o.stdout.trim(), format!("{d}/agw"));
    assert!(!tmp.path().join("cargo-args").exists(), "nothing is built");
    let v = run(Command::new(dest.join("agw")).arg("--version"));
    assert!(v.stdout.starts_with("agw "), "{}", v.stdout);

    // another commit: no release fits, so it is built from the source tree
    let dest = tmp.path().join("b/bin");
    let d = dest.display().to_string();
    let o = install_sh(
        &release,
        &with_fake,
        &["--dest", &d, "--commit", "fedcba9", "--source", &src],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("was built from 0123abc, not from fedcba9"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("building agw from"), "{}", o.stderr);
    let args = std::fs::read_to_string(tmp.path().join("cargo-args")).unwrap();
    assert!(args.starts_with("install --locked"), "{args}");
    assert!(args.contains(&format!("--path {src}")), "{args}");
    let v = run(Command::new(dest.join("agw")).arg("--version"));
    assert!(v.stdout.contains("built-from-source"), "{}", v.stdout);

    // --build never looks for a release
    let d = tmp.path().join("c/bin").display().to_string();
    let o = install_sh(
        &release,
        &with_fake,
        &["--dest", &d, "--build", "--source", &src],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("release"), "{}", o.stderr);

    // no release and no cargo: a clear refusal
    let d = tmp.path().join("d/bin").display().to_string();
    let o = install_sh(
        &release,
        &system_path
            .split(':')
            .filter(|p| !Path::new(p).join("cargo").exists())
            .collect::<Vec<_>>()
            .join(":"),
        &["--dest", &d, "--commit", "fedcba9", "--source", &src],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("building from source needs cargo"),
        "{}",
        o.stderr
    );

    // a tampered download is refused, and nothing is installed
    std::fs::write(release.asset(), b"not the release").unwrap();
    let dest = tmp.path().join("e/bin");
    let d = dest.display().to_string();
    let o = install_sh(&release, &with_fake, &["--dest", &d, "--tag", &tag]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("does not match SHA256SUMS"),
        "{}",
        o.stderr
    );
    assert!(!dest.join("agw").exists());
}
