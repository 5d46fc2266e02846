//! From file bytes to a JSON value whose every node can be traced back to a place in the original
//! text: input limits, environment-variable expansion, positioned YAML parsing.

pub mod env;
pub mod indent;
pub mod limits;
pub mod lines;
pub mod yaml;

use std::sync::Arc;

pub use env::{EnvOptions, Expanded};
pub use limits::Limits;
pub use lines::LineIndex;
pub use yaml::{NodeSpans, Parsed, PointerIndex};

/// A byte range in the original (unexpanded) text of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One input file as the user gave it. `text` is what positions refer to.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let lines = Arc::new(LineIndex::new(&text));
        SourceFile {
            name: name.into(),
            text,
            lines,
        }
    }
}

/// Why bytes could not become a `SourceFile`: reported at a position, as a finding.
#[derive(Debug, Clone)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub message: String,
    pub help: String,
    pub offset: usize,
}

/// Why bytes are not a file the gateway reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Beyond the size limit.
    TooLarge,
    /// Not UTF-8 (UTF-16 included), or with a NUL byte.
    Encoding,
}

/// Turns raw bytes into text, refusing what the gateway would refuse before YAML parsing even
/// starts: non-UTF-8, NUL bytes, and files beyond the size limit.
pub fn decode(bytes: Vec<u8>, limits: &Limits) -> Result<String, (String, DecodeError)> {
    if bytes.len() > limits.max_file_bytes {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
        return Err((
            shown,
            DecodeError {
                kind: DecodeErrorKind::TooLarge,
                message: format!(
                    "file is {} bytes, larger than the {} byte limit",
                    bytes.len(),
                    limits.max_file_bytes
                ),
                help: "a gateway config is rarely over a few megabytes; check that this is the right file".into(),
                offset: 0,
            },
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let shown: String = bytes
            .iter()
            .skip(2)
            .filter(|b| **b != 0)
            .map(|b| *b as char)
            .collect();
        return Err((
            shown,
            DecodeError {
                kind: DecodeErrorKind::Encoding,
                message: "the file is UTF-16, not UTF-8".into(),
                help: "save it as UTF-8 (Windows PowerShell 5 writes UTF-16 with `>`; use `Out-File -Encoding utf8`)".into(),
                offset: 0,
            },
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            if let Some(pos) = text.find('\0') {
                return Err((
                    text.replace('\0', " "),
                    DecodeError {
                        kind: DecodeErrorKind::Encoding,
                        message: "the file contains a NUL byte".into(),
                        help: "YAML files are text; remove the NUL byte (is this a binary file?)"
                            .into(),
                        offset: pos,
                    },
                ));
            }
            Ok(text)
        }
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[pos];
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The lossy text has U+FFFD where the bad byte was; its offset equals `pos`
            // because everything before it was valid.
            Err((
                lossy,
                DecodeError {
                    kind: DecodeErrorKind::Encoding,
                    message: format!("the file is not valid UTF-8: byte 0x{byte:02X} here"),
                    help: if byte >= 0xA0 {
                        "this looks like Latin-1 or Windows-1252 text; convert it to UTF-8 (for example `iconv -f WINDOWS-1252 -t UTF-8`)".into()
                    } else {
                        "save the file as UTF-8 (the gateway reads only UTF-8)".into()
                    },
                    offset: pos,
                },
            ))
        }
    }
}
