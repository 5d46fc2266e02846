//! Byte offsets of agw's spans <-> LSP positions, in the encoding the client and server agreed
//! on: UTF-16 code units by default (the protocol's original unit), UTF-8 bytes when the client
//! offers them. Tabs and non-ASCII text count like any other character of that encoding.

use lsp_types::{Position, PositionEncodingKind, Range};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client offers it (fewer conversions), else UTF-16, which every client
    /// supports.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }
}

/// Line starts of one text, for conversions both ways.
pub struct Lines {
    starts: Vec<usize>,
    encoding: Encoding,
}

impl Lines {
    pub fn new(text: &str, encoding: Encoding) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { starts, encoding }
    }

    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let before = &text[self.starts[line]..offset];
        let character = match self.encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(self.position(text, start), self.position(text, end))
    }

    /// The byte offset of a position; positions past the end of a line or of the text are
    /// clamped, as the protocol asks.
    pub fn offset(&self, text: &str, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(p.line as usize + 1)
            .map_or(text.len(), |&e| e - 1);
        let line = &text[start..end.max(start)];
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            if units >= p.character as usize {
                return start + i;
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
        }
        start + line.len()
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf8_columns() {
        let t = "a: é😀x\n\tb: 1\n";
        let x = t.find('x').unwrap();
        let l16 = Lines::new(t, Encoding::Utf16);
        let l8 = Lines::new(t, Encoding::Utf8);
        assert_eq!(l16.position(t, x), Position::new(0, 6)); // é = 1 unit, 😀 = 2 units
        assert_eq!(l8.position(t, x), Position::new(0, 9)); // é = 2 bytes, 😀 = 4 bytes
        assert_eq!(l16.offset(t, Position::new(0, 6)), x);
        assert_eq!(l8.offset(t, Position::new(0, 9)), x);
        let b = t.find('b').unwrap();
        assert_eq!(l16.position(t, b), Position::new(1, 1)); // a tab is one unit
        assert_eq!(l16.offset(t, Position::new(1, 99)), t.len() - 1);
        assert_eq!(l16.offset(t, Position::new(9, 0)), t.len());
    }
}
