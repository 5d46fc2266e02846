//! Indentation mistakes in the user's terms. The YAML parser says "while parsing a block mapping,
//! did not find expected key" or "mapping values are not allowed in this context"; what the user
//! did is indent one line differently from the keys it belongs with. This module finds that line
//! and the levels above it.

/// A content line above the mistake: where its key starts, and the key.
struct Level<'t> {
    line: usize,
    column: usize,
    key: &'t str,
}

/// The explanation of an indentation mistake on the line that holds `off`, or `None` when the
/// line's indentation is not the problem.
pub struct Mistake {
    /// Byte offset of the first character of the misplaced key.
    pub at: usize,
    pub message: String,
    pub help: String,
}

/// Parser errors that an indentation mistake produces.
pub fn is_indentation_error(info: &str) -> bool {
    info.contains("did not find expected key")
        || info.contains("mapping values are not allowed")
        || info.contains("did not find expected '-'")
        || info.contains("block sequence entries are not allowed")
}

pub fn explain(text: &str, off: usize) -> Option<Mistake> {
    let lines: Vec<(usize, &str)> = line_starts(text);
    let here = lines.iter().rposition(|(start, _)| *start <= off)?;
    let (start, line) = lines[here];
    if line.trim_start().starts_with("- ") {
        return explain_item(&lines, here);
    }
    let (column, key) = key_of(line)?;
    let levels = levels_above(&lines[..here], key_of);
    let nearest = levels.first()?;
    let line_no = here + 1;
    if column > nearest.column && !line.trim_start().starts_with("- ") {
        // deeper than the key above, whose value is a plain scalar: YAML reads the line as more
        // of that value and then trips on its `:`
        let prev_line = lines[nearest.line - 1].1;
        if prev_line.trim_end().ends_with(':') {
            return None;
        }
        return Some(Mistake {
            at: start + column,
            message: format!(
                "`{key}` (line {line_no}) is indented more than `{}` on line {}: YAML reads it as part of the value of `{}`",
                nearest.key, nearest.line, nearest.key
            ),
            help: format!(
                "indent `{key}` by {} spaces, as `{}`, if it is a key beside it; a value with `: ` in it must be quoted",
                nearest.column, nearest.key
            ),
        });
    }
    if levels.iter().any(|l| l.column == column) {
        return None;
    }
    let around: Vec<String> = levels
        .iter()
        .take(3)
        .map(|l| format!("{} (`{}`, line {})", l.column, l.key, l.line))
        .collect();
    // the keys it most likely belongs beside: the two levels just deeper than it (the closest
    // first), or the nearest key when it is deeper than all of them
    let mut beside: Vec<&Level> = levels.iter().filter(|l| l.column > column).collect();
    beside.reverse();
    beside.truncate(2);
    if beside.is_empty() {
        beside.push(nearest);
    }
    let choices: Vec<String> = beside
        .iter()
        .map(|l| format!("{} beside `{}` (line {})", l.column, l.key, l.line))
        .collect();
    Some(Mistake {
        at: start + column,
        message: format!(
            "`{key}` (line {line_no}) is indented {}, which matches none of the keys above it: they are at {}",
            spaces(column),
            around.join(", ")
        ),
        help: format!(
            "indent `{key}` by as many spaces as the key it belongs beside: {}",
            choices.join(", or ")
        ),
    })
}

/// A `- ` list item whose dash lines up with no list above it.
fn explain_item(lines: &[(usize, &str)], here: usize) -> Option<Mistake> {
    let (start, line) = lines[here];
    let (column, key) = item_of(line)?;
    let levels = levels_above(&lines[..here], item_of);
    let nearest = levels.first()?;
    if levels.iter().any(|l| l.column == column) {
        return None;
    }
    let around: Vec<String> = levels
        .iter()
        .take(3)
        .map(|l| format!("{} (`- {}`, line {})", l.column, l.key, l.line))
        .collect();
    Some(Mistake {
        at: start + column,
        message: format!(
            "the list item `- {key}` (line {}) is indented {}, which matches none of the list items above it: they start at {}",
            here + 1,
            spaces(column),
            around.join(", ")
        ),
        help: format!(
            "start the item's `-` in the same column as the other items of its list: {} as `- {}` (line {})",
            nearest.column, nearest.key, nearest.line
        ),
    })
}

fn spaces(n: usize) -> String {
    format!("{n} space{}", if n == 1 { "" } else { "s" })
}

fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        out.push((start, line.trim_end_matches(['\n', '\r'])));
        start += line.len();
    }
    out
}

/// Where a line's key starts (after any `- ` item markers) and the key; `None` for blank and
/// comment lines, and for lines that are not `key: ...`.
fn key_of(line: &str) -> Option<(usize, &str)> {
    let mut column = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[column..];
    while let Some(r) = rest.strip_prefix("- ") {
        let r2 = r.trim_start_matches(' ');
        column += rest.len() - r2.len();
        rest = r2;
    }
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let end = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(str::len))?;
    let key = rest[..end].trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(['{', '[', '#'])).then_some((column, key))
}

/// Where a `- ` item line's dash is, and the key after it.
fn item_of(line: &str) -> Option<(usize, &str)> {
    let column = line.len() - line.trim_start_matches(' ').len();
    if !line[column..].starts_with("- ") {
        return None;
    }
    let (_, key) = key_of(line)?;
    Some((column, key))
}

/// The lines that enclose the line after `above`, as `of` reads them (keys, or list items): the
/// nearest one, then each one further up that is less indented than the last one found.
fn levels_above<'t>(
    above: &[(usize, &'t str)],
    of: fn(&'t str) -> Option<(usize, &'t str)>,
) -> Vec<Level<'t>> {
    let mut out: Vec<Level<'t>> = Vec::new();
    for (i, (_, line)) in above.iter().enumerate().rev() {
        let Some((column, key)) = of(line) else {
            continue;
        };
        if out.last().is_none_or(|l| column < l.column) {
            out.push(Level {
                line: i + 1,
                column,
                key,
            });
        }
        if column == 0 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, line: usize) -> Mistake {
        let off = line_starts(text)[line - 1].0;
        explain(text, off).expect("an indentation mistake")
    }

    #[test]
    fn a_key_between_two_levels() {
        let t = "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - name: a\n   backends: []\n";
        let m = at(t, 6);
        assert_eq!(m.at, t.find("backends").unwrap());
        assert!(
            m.message
                .contains("`backends` (line 6) is indented 3 spaces"),
            "{}",
            m.message
        );
        assert!(m.message.contains("6 (`name`, line 5)"), "{}", m.message);
        assert!(
            m.help
                .contains("4 beside `routes` (line 4), or 6 beside `name` (line 5)"),
            "{}",
            m.help
        );
    }

    #[test]
    fn a_key_deeper_than_a_scalar_above() {
        let t =
            "binds:\n- port: 3000\n  listeners:\n  - routes:\n    - name: a\n       backends: []\n";
        let m = at(t, 6);
        assert!(
            m.message.contains("indented more than `name` on line 5"),
            "{}",
            m.message
        );
        assert!(m.help.contains("by 6 spaces"), "{}", m.help);
    }

    #[test]
    fn a_list_item_between_two_lists() {
        let t = "binds:\n- port: 3000\n  listeners:\n    - routes: []\n   - name: b\n";
        let m = at(t, 5);
        assert_eq!(m.at, t.find("- name").unwrap());
        assert!(
            m.message.contains("`- name` (line 5) is indented 3 spaces"),
            "{}",
            m.message
        );
        assert!(m.help.contains("4 as `- routes` (line 4)"), "{}", m.help);
    }

    #[test]
    fn a_well_indented_line_is_not_blamed() {
        let t = "a:\n  b: 1\n  c: 2\n";
        assert!(explain(t, t.find("c:").unwrap()).is_none());
    }
}
