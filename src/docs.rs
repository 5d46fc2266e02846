//! Generated documentation: docs/rules.md, the reference of every rule, from the rule catalogue.
//! `agw check --list-rules --format markdown` prints it; a test fails when the committed file is stale.

use crate::check::catalog;
use crate::diag::Rule;

/// Where the generated rule reference lives in the repository.
pub const RULES_DOC: &str = "docs/rules.md";

/// docs/rules.md: an index table, then one section per rule under its family, each with an
/// anchor `family-name` that SARIF `helpUri`s ([`Rule::docs_url`]) point at.
pub fn rules_markdown() -> String {
    let mut s = String::new();
    s.push_str("# Rules\n\n");
    s.push_str(
        "<!-- Generated from the rules declared in src/ (`crate::rules!`) by `cargo run -- check --list-rules --format markdown > docs/rules.md`; \
         do not edit by hand (a test fails when this file is stale). -->\n\n",
    );
    s.push_str(
        "Every finding of `agw check` names one of these rules. A rule id is `family/name` and \
         never changes meaning once published. `agw explain RULE` prints the same text in a \
         terminal and `agw check --list-rules` lists the ids.\n\n\
         Severity: an **error** makes `agw check` exit 1; a **warning** does so only with \
         `--deny-warnings`; a **note** never does. An error marked **refuses** comes from reading the \
         file itself (its text, YAML, environment or schema): the gateway does not load such a file \
         (it does not start, or keeps its previous configuration), and the finding cannot be \
         silenced with `--allow` or an `# agw: allow` comment. Most other errors mirror a refusal of \
         the gateway's loader too, as their *What the gateway does* section says; they can be \
         allowed, so that a file agw misjudges never blocks a deploy.\n\n",
    );
    s.push_str("| rule | severity | summary |\n| --- | --- | --- |\n");
    for r in catalog::all() {
        s.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.id,
            r.anchor(),
            r.severity_text(),
            table_cell(r.summary)
        ));
    }
    let mut family = "";
    for r in catalog::all() {
        let f = r.family();
        if f != family {
            family = f;
            s.push_str(&format!("\n## {f}\n"));
        }
        section(&mut s, r);
    }
    s
}

fn section(s: &mut String, r: &Rule) {
    s.push_str(&format!(
        "\n<a id=\"{}\"></a>\n\n### `{}`\n\n**{}**\n\n{}\n",
        r.anchor(),
        r.id,
        r.severity_text(),
        r.markdown(4)
    ));
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
