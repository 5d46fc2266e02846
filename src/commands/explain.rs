use crate::check::schema_stage::closest;
use crate::cli::ExplainArgs;
use crate::diag::catalog;

use super::EXIT_CANNOT_RUN;

pub fn run(a: ExplainArgs) -> i32 {
    let Some(rule) = catalog::get(&a.rule) else {
        let hint = closest(&a.rule, catalog::RULES.iter().map(|r| r.id))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        eprintln!(
            "agw: no rule `{}`{hint} (`agw check --list-rules` lists them)",
            a.rule
        );
        return EXIT_CANNOT_RUN;
    };
    let mut out = format!(
        "{} ({})\n\n{}\n\n{}\n",
        rule.id,
        rule.severity_text(),
        rule.summary,
        textwrap(rule.description, 96)
    );
    if !rule.bad.is_empty() {
        out.push_str(&format!(
            "\nWrong:\n{}\n\nRight:\n{}\n",
            indent(rule.bad),
            indent(rule.good)
        ));
    }
    super::write_stdout(out.as_bytes())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn textwrap(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in s.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    out.push_str(&line);
    out
}
