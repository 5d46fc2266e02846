//! Snapshot tests over `fixtures/valid` and `fixtures/invalid`, and bounded-cost tests over
//! hostile inputs generated here (too large to commit).
//!
//! Each fixture `X.yaml` has a snapshot `X.expected` beside it: one line per diagnostic, in
//! document order, `LINE:COL SEVERITY RULE MESSAGE`. Run with `AGW_UPDATE_SNAPSHOTS=1` to rewrite
//! the snapshots from what agw reports today, then review the diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use agw::check::{check_bytes, CheckOptions, Loaded};
use agw::diag::Severity;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The options every fixture is checked with: defaults, but blind to the machine's environment
/// so that a variable set on one machine cannot change a snapshot.
fn options() -> CheckOptions {
    let mut opts = CheckOptions::default();
    opts.env.use_process_env = false;
    opts
}

fn check(name: &str, bytes: Vec<u8>) -> Loaded {
    check_bytes(name, bytes, &options())
}

/// The snapshot text of one report.
fn render(loaded: &Loaded) -> String {
    let report = &loaded.report;
    let mut out = String::new();
    for d in &report.diagnostics {
        let (line, col) = report.position(d);
        // A message is one line in the snapshot even if agw ever puts a newline in one, and
        // says `<cwd>` for the directory the tests run in (the checkout's place varies).
        let cwd = std::env::current_dir().unwrap().display().to_string();
        let message = d.message.replace('\n', "\\n").replace(&cwd, "<cwd>");
        writeln!(
            out,
            "{line}:{col} {} {} {message}",
            d.severity.as_str(),
            d.rule
        )
        .unwrap();
    }
    out
}

/// The `.yaml` files of one fixture directory, sorted.
fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = root().join("fixtures").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// A line diff (longest common subsequence), `-` for expected and `+` for actual lines.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            writeln!(out, "   {}", a[i]).unwrap();
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            writeln!(out, "+  {}", b[j]).unwrap();
            j += 1;
        } else {
            writeln!(out, "-  {}", a[i]).unwrap();
            i += 1;
        }
    }
    out
}

fn relative(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Checks every fixture of `kind` against its snapshot; `extra` adds a per-kind assertion.
fn run_snapshots(kind: &str, extra: impl Fn(&Loaded) -> Option<String>) {
    let update = std::env::var("AGW_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let mut failures: Vec<String> = Vec::new();
    for path in fixtures(kind) {
        let name = relative(&path);
        let bytes = std::fs::read(&path).unwrap();
        let loaded = check(&name, bytes);
        let actual = render(&loaded);
        let snap = path.with_extension("expected");
        if update {
            std::fs::write(&snap, &actual).unwrap();
        } else {
            match std::fs::read_to_string(&snap) {
                Ok(expected) if expected == actual => {}
                Ok(expected) => failures.push(format!(
                    "{name}: output differs from {} (- expected, + actual):\n{}",
                    relative(&snap),
                    diff(&expected, &actual)
                )),
                Err(_) => failures.push(format!(
                    "{name}: no snapshot {}; agw reports:\n{actual}",
                    relative(&snap)
                )),
            }
        }
        if let Some(problem) = extra(&loaded) {
            failures.push(format!("{name}: {problem}\n{actual}"));
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("{f}");
        }
        let names: Vec<&str> = failures
            .iter()
            .map(|f| f.split(':').next().unwrap_or(""))
            .collect();
        panic!(
            "{} fixture problem(s) in fixtures/{kind}: {}\n(rewrite snapshots with AGW_UPDATE_SNAPSHOTS=1 cargo test --test fixtures, then review the diff)",
            failures.len(),
            names.join(", ")
        );
    }
}

#[test]
fn valid_fixtures_match_snapshots_and_have_no_errors() {
    run_snapshots("valid", |l| {
        let errors = l.report.count(Severity::Error);
        (errors > 0).then(|| format!("a valid fixture has {errors} error(s)"))
    });
}

/// Invalid fixtures that agw does not report as an error yet. Each is a known gap; when agw learns
/// to catch one, this test fails until the fixture is removed from the list, so the list stays
/// true.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "comments-only.yaml",
        "a file without configuration is only a warning (yaml/empty)",
    ),
    (
        "empty.yaml",
        "a file without configuration is only a warning (yaml/empty)",
    ),
    (
        "path-exact-empty.yaml",
        "`exact:` with no value counts as set (null passes the schema)",
    ),
];

#[test]
fn invalid_fixtures_match_snapshots_and_have_errors() {
    run_snapshots("invalid", |l| {
        let file = l.report.source.name.rsplit('/').next().unwrap_or("");
        let gap = KNOWN_GAPS.iter().find(|(f, _)| *f == file);
        let errors = l.report.count(Severity::Error);
        match (errors, gap) {
            (0, None) => Some("an invalid fixture has no error".into()),
            (0, Some((_, what))) => {
                eprintln!("known gap, not reported yet: {file}: {what}");
                None
            }
            (_, Some(_)) => Some(
                "agw now reports an error here: remove this fixture from KNOWN_GAPS in tests/fixtures.rs"
                    .into(),
            ),
            (_, None) => None,
        }
    });
}

#[test]
fn known_gaps_name_existing_fixtures() {
    for (f, _) in KNOWN_GAPS {
        assert!(
            root().join("fixtures/invalid").join(f).exists(),
            "KNOWN_GAPS names a missing fixture: {f}"
        );
    }
}

#[test]
fn every_snapshot_has_its_fixture() {
    let mut orphans = Vec::new();
    for kind in ["valid", "invalid"] {
        let dir = root().join("fixtures").join(kind);
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "expected") && !p.with_extension("yaml").exists()
            {
                orphans.push(relative(&p));
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a fixture: {orphans:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs: generated here, never committed. Each must end in one clear finding, without a
// panic or a stack overflow. Their cost is measured, not asserted (shared machines are noisy):
// `python3 ci/bench-check.py` prints the time and memory of the same inputs; what is bounded here is
// the work (the node limit, the findings shown).

fn hostile(name: &str, text: Vec<u8>, rules: &[&str]) -> Loaded {
    let loaded = check(name, text);
    let errors: Vec<_> = loaded
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(!errors.is_empty(), "{name}: no error reported");
    assert!(
        rules.contains(&errors[0].rule.id),
        "{name}: expected one of {rules:?}, got:\n{}",
        render(&loaded)
    );
    loaded
}

/// "Billion laughs": ten levels of ten aliases each, 10^10 nodes once expanded.
#[test]
fn hostile_alias_bomb_is_bounded() {
    let mut t = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        t.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    t.push_str("binds: *a9\n");
    let l = hostile("alias-bomb.yaml", t.into_bytes(), &["yaml/limit"]);
    assert!(
        l.config.is_none(),
        "an alias bomb must not produce a config"
    );
}

/// 10,000 nested flow sequences: `[[[[...`.
#[test]
fn hostile_deep_flow_nesting_is_bounded() {
    let depth = 10_000;
    let t = format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
    hostile(
        "deep-flow.yaml",
        t.into_bytes(),
        &["yaml/limit", "yaml/syntax"],
    );
}

/// 10,000 nested block mappings, each one indented one more space.
#[test]
fn hostile_deep_block_nesting_is_bounded() {
    let mut t = String::new();
    for i in 0..10_000 {
        t.push_str(&" ".repeat(i));
        t.push_str("k:\n");
    }
    hostile(
        "deep-block.yaml",
        t.into_bytes(),
        &["yaml/limit", "yaml/syntax"],
    );
}

/// One 5 MB scalar (a pasted blob).
#[test]
fn hostile_huge_scalar_is_bounded() {
    let mut t = String::from("binds:\n- port: 3000\n  listeners:\n  - hostname: ");
    t.push_str(&"x".repeat(5 * 1024 * 1024));
    t.push('\n');
    let l = hostile("huge-scalar.yaml", t.into_bytes(), &["yaml/limit"]);
    let d = &l.report.diagnostics[0];
    assert_eq!(
        l.report.position(d).0,
        4,
        "the limit is reported on the value's line"
    );
}

/// 100,000 keys in one mapping (a `workloads` entry, which the gateway takes as free-form, so
/// the only finding is whatever the loader says about the size).
#[test]
fn hostile_many_keys_do_not_hang() {
    let mut t = String::from("workloads:\n- k0: 0\n");
    for i in 1..100_000 {
        t.push_str(&format!("  k{i}: {i}\n"));
    }
    let l = check("many-keys.yaml", t.into_bytes());
    assert_eq!(l.report.count(Severity::Error), 0, "{}", render(&l));
}

/// 100,000 unknown top-level keys: every one is an error, and reporting them stays bounded.
#[test]
fn hostile_many_unknown_keys_are_bounded() {
    let mut t = String::new();
    for i in 0..100_000 {
        t.push_str(&format!("k{i}: {i}\n"));
    }
    let l = check("many-unknown-keys.yaml", t.into_bytes());
    assert!(l.report.count(Severity::Error) > 0);
    assert_eq!(l.report.diagnostics[0].rule.id, "schema/unknown-key");
    // Findings of one rule are capped; the last one shown says how many more there are.
    assert!(
        l.report.diagnostics.len() <= 60,
        "{}",
        l.report.diagnostics.len()
    );
    assert!(l.report.diagnostics.iter().any(|d| d
        .notes
        .iter()
        .any(|n| n.contains("not examined") || n.contains("not shown"))));
}

/// A file over the size limit is refused before parsing.
#[test]
fn hostile_oversized_file_is_refused() {
    let mut opts = options();
    opts.limits.max_file_bytes = 1024;
    let t = format!("config:\n  x: \"{}\"\n", "y".repeat(2048));
    let l = check_bytes("big.yaml", t.into_bytes(), &opts);
    assert_eq!(
        l.report.diagnostics[0].rule.id,
        "yaml/limit",
        "{}",
        render(&l)
    );
}

#[test]
fn diff_marks_changed_lines() {
    let d = diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "   a\n+  x\n-  b\n   c\n");
}
