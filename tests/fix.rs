//! `agw check --fix` and `--diff`: the fixes findings carry, applied to the file as written.
//! Every fixture with safe fixes, once fixed, is clean of those findings and differs from the
//! original only inside the edited spans.

mod common;

use agw::check::{check_bytes, fix, CheckOptions};
use agw::diag::fix::Applicability;
use agw::source::EnvOptions;
use common::{agw_in, repo};

fn opts() -> CheckOptions {
    CheckOptions {
        env: EnvOptions {
            use_process_env: false,
            allow_unset: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn every_fixture_with_safe_fixes_is_fixed_inside_the_edited_spans_only() {
    let files = common::yaml_files(&repo().join("fixtures"));
    let mut fixed_any = 0;
    for path in files {
        // fixtures of bad encodings are not text to fix
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.display().to_string();
        let before = check_bytes(&name, text.clone().into_bytes(), &opts());
        let safe: Vec<_> = before
            .report
            .diagnostics
            .iter()
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == Applicability::Safe)
            })
            .collect();
        if safe.is_empty() {
            continue;
        }
        fixed_any += 1;
        let out = fix::fix(&name, &text, &opts(), false);
        // a fix is applied, or refused with its reason (one that would add an error: the
        // `audience` -> `audiences` rename of a string value, which the list key refuses)
        for d in &safe {
            let title = &d.fix.as_ref().unwrap().title;
            assert!(
                out.applied.iter().any(|a| &a.title == title)
                    || out
                        .refused
                        .iter()
                        .any(|r| &r.title == title && !r.reason.is_empty()),
                "{name}: the {} fix was neither applied nor refused",
                d.rule
            );
        }
        // clean of the findings that were fixed
        let after = check_bytes(&name, out.text.clone().into_bytes(), &opts());
        for d in &safe {
            let title = &d.fix.as_ref().unwrap().title;
            if !out.applied.iter().any(|a| &a.title == title) {
                continue;
            }
            assert!(
                after.count_rule(d.rule.id) < before.count_rule(d.rule.id),
                "{name}: {} is still there:\n{}",
                d.rule,
                out.text
            );
        }
        // Fix by fix (a later one may edit what an earlier one made possible), the text stays
        // the same, line for line, outside the lines of that fix's edits (a character diff
        // cannot tell `"-y", "x"` inserted before `"x"` from one inserted after its quote).
        let mut step = text.clone();
        for a in &out.applied {
            let next = agw::diag::fix::apply(&step, &a.edits.iter().collect::<Vec<_>>());
            let line_of = |off: usize| step[..off].matches('\n').count();
            let edited: Vec<(usize, usize)> = a
                .edits
                .iter()
                .map(|e| (line_of(e.span.start), line_of(e.span.end)))
                .collect();
            let diff = similar::TextDiff::from_lines(&step, &next);
            for op in diff.ops() {
                if op.tag() == similar::DiffTag::Equal {
                    continue;
                }
                let old = op.old_range();
                let (first, last) = (old.start, old.end.max(old.start + 1) - 1);
                // an insertion at the end of line N is the diff's insertion before line N + 1
                let inserted_after = old.is_empty() && first > 0;
                assert!(
                    edited.iter().any(|&(s, e)| (first >= s && last <= e)
                        || (inserted_after && (s..=e).contains(&(first - 1)))),
                    "{name}: `{}` changed lines {old:?} outside its edited lines {edited:?}:\n{next}",
                    a.title
                );
            }
            step = next;
        }
        assert_eq!(
            step, out.text,
            "{name}: the fixes replayed give another text"
        );
    }
    assert!(fixed_any >= 3, "only {fixed_any} fixtures had safe fixes");
}

const TYPO: &str = "# a comment that stays\nbinds:\n- port: 3000\n  listeners:\n  - routes:\n    - policies:\n        'mcpAuthentcation':   # so does this one\n          issuer: https://acme.okta.com/oauth2/default/\n          audiences: [api://default]\n          resourceMetadata: {resource: 'http://localhost:3000/mcp'}\n      backends:\n      - mcp:\n          targets:\n          - name: e\n            stdio:\n              cmd: npx\n              args: ['@modelcontextprotocol/server-everything']\n";

#[test]
fn diff_then_fix_then_nothing_left() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("gw.yaml");
    std::fs::write(&f, TYPO).unwrap();
    let r = agw_in(tmp.path(), &["check", "--diff", "gw.yaml"], None);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("-        'mcpAuthentcation':   # so does this one"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("+        'mcpAuthentication':   # so does this one"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        TYPO,
        "--diff changes nothing"
    );
    let r = agw_in(tmp.path(), &["check", "--fix", "gw.yaml"], None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for rule in [
        "schema/unknown-key",
        "okta/issuer-trailing-slash",
        "mcp/npx-without-yes",
    ] {
        assert!(
            r.stderr.contains(&format!("fixed [{rule}]")),
            "{}",
            r.stderr
        );
    }
    let fixed = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        fixed,
        TYPO.replace("mcpAuthentcation", "mcpAuthentication")
            .replace("oauth2/default/", "oauth2/default")
            .replace("args: ['@", "args: ['-y', '@")
    );
    let r = agw_in(tmp.path(), &["check", "--diff", "gw.yaml"], None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.is_empty());
    // standard input: the fixed text comes back, with the name given for it
    let r = agw_in(
        tmp.path(),
        &["check", "--fix", "--stdin-filename", "piped.yaml", "-"],
        Some(TYPO.as_bytes()),
    );
    assert_eq!(r.stdout, fixed);
    assert!(r.stderr.contains("piped.yaml: fixed"), "{}", r.stderr);
}

/// A value that came from the environment is not in the file: no fix edits it.
#[test]
fn no_fix_edits_text_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let text = TYPO.replace("https://acme.okta.com/oauth2/default/", "${ISSUER}");
    std::fs::write(tmp.path().join("gw.yaml"), &text).unwrap();
    let r = agw_in(
        tmp.path(),
        &[
            "check",
            "--fix",
            "--no-process-env",
            "-e",
            "ISSUER=https://acme.okta.com/oauth2/default/",
            "gw.yaml",
        ],
        None,
    );
    assert!(
        r.stderr.contains("not fixed [okta/issuer-trailing-slash]")
            && r.stderr.contains("comes from an environment variable"),
        "{}",
        r.stderr
    );
    let after = std::fs::read_to_string(tmp.path().join("gw.yaml")).unwrap();
    assert!(after.contains("issuer: ${ISSUER}"), "{after}");
    assert!(after.contains("'mcpAuthentication'"), "{after}");
}

/// Lines that fixes insert take the indentation of their siblings, whatever width the file uses:
/// here four spaces and a `tls` block followed by more keys.
#[test]
fn inserted_lines_take_their_siblings_indentation() {
    let text = "binds:\n-   port: 3000\n    listeners:\n    -   tls:\n            cert: cert.pem\n            key: key.pem\n        routes:\n        -   matches:\n            -   path:\n                    exact: /mcp\n            policies:\n                mcpAuthentication:\n                    issuer: https://acme.okta.com/oauth2/default\n                    audiences: [api://default]\n                    jwks: {url: https://acme.okta.com/oauth2/default/v1/keys}\n                    resourceMetadata: {resource: 'https://gw.example.test/mcp'}\n            backends:\n            -   mcp:\n                    targets:\n                    -   name: e\n                        stdio: {cmd: my-mcp-server}\n";
    let out = fix::fix("gw.yaml", text, &opts(), false);
    let rules: Vec<_> = out.applied.iter().map(|a| a.rule).collect();
    assert!(rules.contains(&"listeners/http-with-tls"), "{rules:?}");
    assert!(rules.contains(&"auth/metadata-path-missing"), "{rules:?}");
    let want = text
        .replace(
            "            key: key.pem\n",
            "            key: key.pem\n        protocol: HTTPS\n",
        )
        .replace(
            "                    exact: /mcp\n",
            "                    exact: /mcp\n            -   path:\n                    exact: /.well-known/oauth-protected-resource/mcp\n",
        );
    assert_eq!(out.text, want);
}
