//! `--format github`: GitHub Actions workflow commands, one annotation per finding.

use super::{one_line, FileReport, Severity};

pub fn render(reports: &[FileReport], _: super::Style) -> String {
    let mut out = String::new();
    for r in reports {
        for d in &r.diagnostics {
            let (line, col) = r.position(d);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            out.push_str(&format!(
                "::{level} file={},line={line},col={col},title={}::{}\n",
                escape_property(&r.source.name),
                escape_property(d.rule.id),
                escape_data(&one_line(d)),
            ));
        }
    }
    out
}

// Workflow-command escaping: data escapes %, CR, LF; properties also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("x:y,z"), "x%3Ay%2Cz");
    }
}
