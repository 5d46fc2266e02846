use crate::check::catalog;
use crate::check::schema_stage::closest;
use crate::cli::ExplainArgs;

use super::EXIT_CANNOT_RUN;

pub fn run(a: ExplainArgs) -> i32 {
    let Some(rule) = catalog::get(&a.rule) else {
        let hint = closest(&a.rule, catalog::all().iter().map(|r| r.id))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        eprintln!(
            "agw: no rule `{}`{hint} (`agw check --list-rules` lists them)",
            a.rule
        );
        return EXIT_CANNOT_RUN;
    };
    let out = format!(
        "{} ({})\n\n{}\n",
        rule.id,
        rule.severity_text(),
        rule.text(96)
    );
    super::write_stdout(out.as_bytes())
}
