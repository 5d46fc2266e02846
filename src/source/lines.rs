//! Byte offset <-> line/column conversion for one text.

/// Start offsets of every line, for O(log n) position look-ups.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    ascii: bool,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            ascii: text.is_ascii(),
        }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let col = if self.ascii {
            offset - start
        } else {
            text.get(start..offset)
                .map(|s| s.chars().count())
                .unwrap_or(offset - start)
        };
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and a 0-based column counted in characters.
    pub fn offset_of(&self, text: &str, line: usize, char_col: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        if self.ascii {
            return (start + char_col).min(text.len());
        }
        let rest = &text[start..];
        match rest.char_indices().nth(char_col) {
            Some((i, _)) => start + i,
            None => text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_positions() {
        let t = "a: 1\nbb: 2\n";
        let li = LineIndex::new(t);
        assert_eq!(li.line_col(t, 0), (1, 1));
        assert_eq!(li.line_col(t, 5), (2, 1));
        assert_eq!(li.line_col(t, 7), (2, 3));
        assert_eq!(li.offset_of(t, 2, 2), 7);
    }

    #[test]
    fn unicode_columns_count_characters() {
        let t = "é: x\nk: ü\n";
        let li = LineIndex::new(t);
        let off = t.find('x').unwrap();
        assert_eq!(li.line_col(t, off), (1, 4));
        assert_eq!(li.offset_of(t, 1, 3), off);
    }
}
