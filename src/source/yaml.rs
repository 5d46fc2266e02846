//! YAML text -> JSON value, with the span of every node and key kept in a JSON-pointer index.
//!
//! Built on saphyr-parser's event stream (a state machine, no recursion), with our own tree
//! builder so that every bound (depth, node count including alias expansion, scalar size) is
//! checked as the tree grows, and multi-document files are reported at their exact place.
//! Duplicate keys are returned as found (what they mean depends on the mapping: the checker
//! decides with the schema); the last value is kept, as the gateway's JSON layer keeps it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use serde_json::{Map, Number, Value};

use super::{env::Expanded, limits::Limits, lines::LineIndex, Span};

/// Where one node sits in the original text: the key that names it (for mapping values) and the
/// value itself.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpans {
    pub key: Option<Span>,
    pub value: Span,
}

/// A JSON pointer reduced to a 64-bit hash, built one reference token at a time, so that a
/// large file's index costs no string per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PtrKey(u64);

impl PtrKey {
    pub const ROOT: PtrKey = PtrKey(0xcbf2_9ce4_8422_2325);

    /// The key of a child named by an (unescaped) reference token.
    pub fn child(self, token: &str) -> PtrKey {
        // FNV-1a over a separator and the token, chained from the parent.
        let mut h = (self.0 ^ 0x2f).wrapping_mul(0x0100_0000_01b3);
        for b in token.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        PtrKey(h)
    }

    /// The key of the list item at `i` (the token is its decimal form).
    pub fn item(self, i: usize) -> PtrKey {
        let mut buf = [0u8; 20];
        let mut n = i;
        let mut at = buf.len();
        loop {
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.child(std::str::from_utf8(&buf[at..]).unwrap_or("0"))
    }

    /// The keys of every prefix of a JSON pointer, root first.
    fn prefixes(ptr: &str) -> Vec<PtrKey> {
        let mut out = vec![PtrKey::ROOT];
        let mut cur = PtrKey::ROOT;
        for tok in ptr.split('/').skip(1) {
            cur = if tok.contains('~') {
                cur.child(&tok.replace("~1", "/").replace("~0", "~"))
            } else {
                cur.child(tok)
            };
            out.push(cur);
        }
        out
    }
}

/// Hashes that are already hashes need no more hashing.
#[derive(Default)]
struct Identity(u64);

impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// JSON pointer -> spans. Nodes that came from an alias or a merge are not listed; a look-up
/// falls back to the nearest listed ancestor, which is the alias or merge itself.
#[derive(Default)]
pub struct PointerIndex {
    map: HashMap<PtrKey, Packed, std::hash::BuildHasherDefault<Identity>>,
}

/// `NodeSpans` in 16 bytes (files are far below 4 GiB); `u32::MAX` marks "no key".
#[derive(Clone, Copy)]
struct Packed([u32; 4]);

impl From<NodeSpans> for Packed {
    fn from(n: NodeSpans) -> Self {
        let (ks, ke) = n
            .key
            .map_or((u32::MAX, u32::MAX), |k| (k.start as u32, k.end as u32));
        Packed([ks, ke, n.value.start as u32, n.value.end as u32])
    }
}

impl From<Packed> for NodeSpans {
    fn from(p: Packed) -> Self {
        let [ks, ke, vs, ve] = p.0;
        NodeSpans {
            key: (ks != u32::MAX).then(|| Span::new(ks as usize, ke as usize)),
            value: Span::new(vs as usize, ve as usize),
        }
    }
}

impl std::fmt::Debug for PointerIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PointerIndex({} nodes)", self.map.len())
    }
}

impl PointerIndex {
    fn with_capacity(n: usize) -> Self {
        PointerIndex {
            map: HashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    fn insert(&mut self, key: PtrKey, spans: NodeSpans) {
        self.map.insert(key, spans.into());
    }

    /// The spans of the node at `ptr`, or of its nearest ancestor that has spans.
    pub fn lookup(&self, ptr: &str) -> Option<NodeSpans> {
        PtrKey::prefixes(ptr)
            .iter()
            .rev()
            .find_map(|k| self.map.get(k).map(|&p| p.into()))
    }

    /// How many nodes the file has.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The exact entry for `ptr`, without falling back.
    pub fn get(&self, ptr: &str) -> Option<NodeSpans> {
        let k = *PtrKey::prefixes(ptr).last()?;
        self.map.get(&k).map(|&p| p.into())
    }
}

/// Appends one reference token to a JSON pointer, escaped per RFC 6901.
pub fn push_token(ptr: &str, token: &str) -> String {
    let mut s = String::with_capacity(ptr.len() + token.len() + 1);
    s.push_str(ptr);
    s.push('/');
    for c in token.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}

/// The kinds of trouble the YAML text itself can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// Not YAML, or YAML the gateway cannot read (tabs, bad indentation, unknown aliases).
    Syntax,
    /// Beyond a size limit: a value, the nesting, the nodes after alias expansion.
    Limit,
    /// More than one document in the file.
    MultipleDocuments,
}

/// One problem of the text as YAML, with where it is and what to do.
#[derive(Debug, Clone)]
pub struct Issue {
    pub kind: IssueKind,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: String,
    pub note: Option<String>,
}

impl Issue {
    fn new(kind: IssueKind, message: impl Into<String>) -> Self {
        Issue {
            kind,
            message: message.into(),
            span: Span::default(),
            label: String::new(),
            help: String::new(),
            note: None,
        }
    }

    fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = span;
        self.label = label.into();
        self
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// What parsing produced. `value` is `None` when the text could not be parsed at all.
#[derive(Debug)]
pub struct Parsed {
    pub value: Option<Value>,
    pub index: PointerIndex,
    /// What is wrong with the text as YAML; `check` gives each kind its rule.
    pub issues: Vec<Issue>,
    /// Every key written twice in one mapping, in document order.
    pub duplicates: Vec<DuplicateKey>,
}

/// A key written again in the mapping that already has it.
#[derive(Debug, Clone)]
pub struct DuplicateKey {
    /// The pointer of the key's value (its parent is the mapping).
    pub ptr: String,
    pub key: String,
    pub first: Span,
    pub again: Span,
}

enum Frame {
    Map {
        map: Map<String, Value>,
        ptr: PtrKey,
        start: Span,
        anchor: usize,
        nodes_before: usize,
        key: Option<(String, Span, bool)>,
    },
    Seq {
        items: Vec<Value>,
        ptr: PtrKey,
        start: Span,
        anchor: usize,
        nodes_before: usize,
    },
}

struct Builder<'a> {
    text: &'a str,
    /// Only for non-ASCII text, where the parser's character positions need converting.
    lines: Option<LineIndex>,
    ascii: bool,
    expanded: &'a Expanded<'a>,
    limits: &'a Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    root: Option<Value>,
    index: PointerIndex,
    diags: Vec<Issue>,
    duplicates: Vec<DuplicateKey>,
}

/// Parses `expanded.text`; every span recorded refers to the original text.
pub fn parse(expanded: &Expanded<'_>, limits: &Limits) -> Parsed {
    let text: &str = &expanded.text;
    let mut b = Builder {
        text,
        lines: (!text.is_ascii()).then(|| LineIndex::new(text)),
        ascii: text.is_ascii(),
        expanded,
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        // About one node per 20 bytes in real files; sizing up front avoids rehashing a large
        // index (and the double memory that rehashing briefly needs).
        index: PointerIndex::with_capacity(text.len() / 20),
        diags: Vec::new(),
        duplicates: Vec::new(),
    };
    let value = match b.build() {
        Ok(()) => Some(b.root.take().unwrap_or(Value::Null)),
        Err(Stop) => None,
    };
    Parsed {
        value,
        index: b.index,
        issues: b.diags,
        duplicates: b.duplicates,
    }
}

/// The parse cannot go on (a syntax error or a limit); its issue is recorded.
struct Stop;

impl Builder<'_> {
    /// Feeds the event stream into the tree, up to the end of the first document (later ones
    /// are reported, not read).
    fn build(&mut self) -> Result<(), Stop> {
        let mut documents = 0usize;
        for item in Parser::new_from_str(self.text) {
            let (ev, span) = match item {
                Ok(x) => x,
                Err(e) => {
                    let m = e.marker();
                    let off = self.offset(m.line(), m.col(), m.index());
                    self.diags.push(syntax_error(
                        e.info(),
                        self.text,
                        off,
                        self.expanded,
                        self.limits,
                    ));
                    return Err(Stop);
                }
            };
            if let Event::DocumentStart(_) = ev {
                documents += 1;
                if documents == 2 {
                    self.second_document(&span);
                }
                continue;
            }
            if documents > 1 {
                continue;
            }
            match ev {
                Event::Scalar(v, style, anchor, tag) => {
                    let tag_suffix = tag.as_ref().map(|t| t.suffix.clone());
                    self.scalar(v, style, anchor, tag_suffix.as_deref(), &span)?
                }
                Event::Alias(id) => self.alias(id, &span)?,
                Event::MappingStart(anchor, _) => self.open(true, anchor, &span)?,
                Event::SequenceStart(anchor, _) => self.open(false, anchor, &span)?,
                Event::MappingEnd | Event::SequenceEnd => self.close(&span),
                _ => {}
            }
        }
        Ok(())
    }

    fn second_document(&mut self, span: &YSpan) {
        let s = self.span(span);
        self.diags.push(
            Issue::new(
                IssueKind::MultipleDocuments,
                "the file holds more than one YAML document",
            )
            .at(s, "a second document starts here")
            .help("the gateway reads one document per file: move this part into its own file, or merge it into the first document"),
        );
    }

    fn scalar(
        &mut self,
        v: std::borrow::Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&str>,
        span: &YSpan,
    ) -> Result<(), Stop> {
        let s = self.span(span);
        if v.len() > self.limits.max_scalar_bytes {
            self.diags.push(
                Issue::new(
                    IssueKind::Limit,
                    format!(
                        "a value of {} bytes exceeds the {} byte limit for one value",
                        v.len(),
                        self.limits.max_scalar_bytes
                    ),
                )
                .at(Span::new(s.start, s.start + 1), "this value")
                .help("move large data (JWKS, OpenAPI schemas, certificates) into a file and reference it with `file:`"),
            );
            return Err(Stop);
        }
        let value = resolve_scalar(v, style, tag);
        self.count(1, s)?;
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), 1));
        }
        self.attach(value, s, style == ScalarStyle::Plain);
        Ok(())
    }

    fn alias(&mut self, id: usize, span: &YSpan) -> Result<(), Stop> {
        let s = self.span(span);
        let Some(count) = self.anchors.get(&id).map(|a| a.1) else {
            self.diags
                .push(unknown_alias(self.text, s.start, self.expanded));
            return Ok(());
        };
        // Count before copying: an alias bomb must fail before it allocates.
        self.count(count, s)?;
        let value = self
            .anchors
            .get(&id)
            .map(|a| a.0.clone())
            .unwrap_or_default();
        self.attach(value, s, false);
        Ok(())
    }

    /// The start of a mapping (`map`) or a sequence.
    fn open(&mut self, map: bool, anchor: usize, span: &YSpan) -> Result<(), Stop> {
        let s = self.span(span);
        if self.stack.len() >= self.limits.max_depth {
            self.diags.push(
                Issue::new(
                    IssueKind::Limit,
                    format!("nesting deeper than {} levels", self.limits.max_depth),
                )
                .at(Span::new(s.start, s.start + 1), "too deep here")
                .help("real gateway configs nest about 15 levels; check for runaway indentation or generated input"),
            );
            return Err(Stop);
        }
        self.count(1, s)?;
        let ptr = self.child_ptr();
        let nodes_before = self.nodes;
        self.stack.push(if map {
            Frame::Map {
                map: Map::new(),
                ptr,
                start: s,
                anchor,
                nodes_before,
                key: None,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                ptr,
                start: s,
                anchor,
                nodes_before,
            }
        });
        Ok(())
    }

    /// The end of the innermost mapping or sequence: it becomes a value of its parent.
    fn close(&mut self, span: &YSpan) {
        let end = self.span(span);
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (value, start, anchor, nodes_before) = match frame {
            Frame::Map {
                map,
                start,
                anchor,
                nodes_before,
                ..
            } => (Value::Object(map), start, anchor, nodes_before),
            Frame::Seq {
                items,
                start,
                anchor,
                nodes_before,
                ..
            } => (Value::Array(items), start, anchor, nodes_before),
        };
        let whole = Span::new(start.start, end.end.max(start.end));
        if anchor > 0 {
            let count = self.nodes - nodes_before + 1;
            self.anchors.insert(anchor, (value.clone(), count));
        }
        self.attach(value, whole, false);
    }

    fn offset(&self, line: usize, col: usize, char_index: usize) -> usize {
        if self.ascii {
            char_index.min(self.text.len())
        } else {
            match &self.lines {
                Some(l) => l.offset_of(self.text, line, col),
                None => char_index.min(self.text.len()),
            }
        }
    }

    fn span(&self, s: &YSpan) -> Span {
        let a = self.offset(s.start.line(), s.start.col(), s.start.index());
        let z = self.offset(s.end.line(), s.end.col(), s.end.index());
        self.expanded.span_to_original(Span::new(a, z))
    }

    fn count(&mut self, n: usize, at: Span) -> Result<(), Stop> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            self.diags.push(
                Issue::new(
                    IssueKind::Limit,
                    format!(
                        "the document expands to more than {} nodes",
                        self.limits.max_nodes
                    ),
                )
                .at(Span::new(at.start, at.start + 1), "limit reached here")
                .help("aliases that refer to aliases multiply the document (an \"alias bomb\"); expand fewer aliases"),
            );
            return Err(Stop);
        }
        Ok(())
    }

    /// The pointer the next value will have.
    fn child_ptr(&self) -> PtrKey {
        match self.stack.last() {
            None => PtrKey::ROOT,
            Some(Frame::Seq { items, ptr, .. }) => ptr.item(items.len()),
            Some(Frame::Map {
                key: Some((k, ..)),
                ptr,
                ..
            }) => ptr.child(k),
            // A container used as a mapping key; reported in `attach`.
            Some(Frame::Map { ptr, .. }) => ptr.child("?"),
        }
    }

    fn attach(&mut self, value: Value, span: Span, plain: bool) {
        let mut duplicate = None;
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(value);
            self.index.insert(
                PtrKey::ROOT,
                NodeSpans {
                    key: None,
                    value: span,
                },
            );
            return;
        };
        match top {
            Frame::Seq { items, ptr, .. } => {
                let p = ptr.item(items.len());
                items.push(value);
                self.index.insert(
                    p,
                    NodeSpans {
                        key: None,
                        value: span,
                    },
                );
            }
            Frame::Map {
                key: key @ None, ..
            } => {
                let k = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "null".to_string(),
                    Value::Array(_) | Value::Object(_) => {
                        self.diags.push(
                            Issue::new(IssueKind::Syntax, "a mapping key must be a plain value")
                                .at(span, "this key is a list or mapping")
                                .help("gateway config keys are names such as `port` or `routes`"),
                        );
                        "?".to_string()
                    }
                };
                *key = Some((k, span, plain));
            }
            Frame::Map {
                key: key @ Some(_),
                map,
                ptr,
                ..
            } => {
                let (k, kspan, _) = key.take().unwrap_or_default();
                let p = ptr.child(&k);
                if map.contains_key(&k) {
                    let first = self
                        .index
                        .map
                        .get(&p)
                        .and_then(|&s| NodeSpans::from(s).key)
                        .unwrap_or(kspan);
                    duplicate = Some((k.clone(), first, kspan));
                }
                map.insert(k, value);
                self.index.insert(
                    p,
                    NodeSpans {
                        key: Some(kspan),
                        value: span,
                    },
                );
            }
        }
        if let Some((key, first, again)) = duplicate {
            let ptr = self.path_to(&key);
            self.duplicates.push(DuplicateKey {
                ptr,
                key,
                first,
                again,
            });
        }
    }

    /// The JSON pointer of `key` in the innermost mapping, written out from the frames around
    /// it (only for the rare duplicate key: the index keeps hashes, not pointers).
    fn path_to(&self, key: &str) -> String {
        let outer = self.stack.len().saturating_sub(1);
        let mut out = String::new();
        for frame in &self.stack[..outer] {
            out = match frame {
                Frame::Seq { items, .. } => push_token(&out, &items.len().to_string()),
                Frame::Map {
                    key: Some((k, ..)), ..
                } => push_token(&out, k),
                Frame::Map { .. } => push_token(&out, "?"),
            };
        }
        push_token(&out, key)
    }
}

/// A parser error in our words. The parser's own nesting limit is ours too.
fn syntax_error(info: &str, text: &str, off: usize, expanded: &Expanded, limits: &Limits) -> Issue {
    if info.contains("recursion limit") {
        let at = expanded.span_to_original(Span::new(off, off + 1));
        return Issue::new(
            IssueKind::Limit,
            format!("nesting deeper than {} levels", limits.max_depth),
        )
        .at(at, "too deep here")
        .help("real gateway configs nest about 15 levels; check for runaway brackets or generated input");
    }
    if info.contains("unknown anchor") {
        return unknown_alias(text, off, expanded);
    }
    let line_start = text[..off.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    // A tab in the indentation: point at the first tab, where the problem starts.
    let (off, message) = match line.find('\t') {
        Some(t) if line[..t].trim().is_empty() => {
            (line_start + t, "a tab is used for indentation".to_string())
        }
        _ if super::indent::is_indentation_error(info) => {
            if let Some(m) = super::indent::explain(text, off) {
                let at = expanded.span_to_original(Span::new(m.at, m.at + 1));
                return Issue::new(IssueKind::Syntax, m.message)
                    .at(at, "indentation does not match")
                    .help(m.help)
                    .note(format!("the YAML parser says: {info}"));
            }
            (off, format!("YAML syntax error: {info}"))
        }
        _ if info.contains("quoted scalar") => {
            let q = text[..off.min(text.len())]
                .rfind(['"', '\''])
                .unwrap_or(off);
            (q, "a quoted string is not closed".to_string())
        }
        _ => (off, format!("YAML syntax error: {info}")),
    };
    let at = expanded.span_to_original(Span::new(off, off + 1));
    let mut d = Issue::new(IssueKind::Syntax, message).at(at, "here");
    d = d.help(syntax_help(info, text, off));
    d
}

/// `*name` with no `&name` before it.
fn unknown_alias(text: &str, off: usize, expanded: &Expanded) -> Issue {
    let name: String = text
        .get(off..)
        .unwrap_or("")
        .trim_start_matches('*')
        .chars()
        .take_while(|c| !c.is_whitespace() && !",]}".contains(*c))
        .collect();
    let at = expanded.span_to_original(Span::new(off, off + 1 + name.len()));
    Issue::new(
        IssueKind::Syntax,
        format!("alias `*{name}` refers to an anchor that is not defined"),
    )
    .at(at, "unknown anchor")
    .help(format!(
        "define `&{name}` on a value before this line (an anchor must come before its aliases)"
    ))
}

fn syntax_help(info: &str, text: &str, off: usize) -> String {
    let line_start = text[..off.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    if line.contains('\t') || info.contains("tab") {
        return "YAML does not allow tabs for indentation: indent with spaces".into();
    }
    if info.contains("quoted scalar") {
        return "close the string with the same quote it opens with, on the same value".into();
    }
    if info.contains("mapping values are not allowed") {
        return "a value that contains `: ` must be quoted, or a key is indented wrongly".into();
    }
    if info.contains("block sequence entries are not allowed") {
        return "a `- ` list item is indented at a level where a value was expected: check the indentation".into();
    }
    "check the indentation and quoting around this place".into()
}

/// YAML 1.2 core-schema resolution of one scalar, as the gateway's YAML reader does it.
fn resolve_scalar(v: std::borrow::Cow<'_, str>, style: ScalarStyle, tag: Option<&str>) -> Value {
    let typed = match tag {
        Some("str") => false,
        Some("null") => return Value::Null,
        Some("bool") | Some("int") | Some("float") => true,
        _ => style == ScalarStyle::Plain,
    };
    if typed {
        if let Some(resolved) = resolve_plain(&v) {
            return resolved;
        }
    }
    Value::String(v.into_owned())
}

fn resolve_plain(v: &str) -> Option<Value> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // Not representable in JSON; kept as text so that a schema error names it.
            return Some(Value::String(v.to_string()));
        }
        _ => {}
    }
    let b = v.as_bytes();
    let first = b[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    if let Some(hex) = v.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .ok()
            .map(|n| Value::Number(n.into()));
    }
    if let Some(oct) = v.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8)
            .ok()
            .map(|n| Value::Number(n.into()));
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = v.parse::<i64>() {
            return Some(Value::Number(n.into()));
        }
        if let Ok(n) = v.parse::<u64>() {
            return Some(Value::Number(n.into()));
        }
    }
    if is_yaml_float(digits) {
        if let Ok(f) = v.parse::<f64>() {
            return Number::from_f64(f).map(Value::Number);
        }
    }
    None
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float without sign.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::env::{expand, EnvOptions};
    use serde_json::json;

    fn load(t: &str) -> Parsed {
        parse(&expand(t, &EnvOptions::default()), &Limits::default())
    }

    #[test]
    fn values_and_spans() {
        let t = "binds:\n- port: 3000\n  listeners: []\nx: 'yes'\ny: .5\nz: 0x10\n";
        let p = load(t);
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        assert_eq!(
            p.value.unwrap(),
            json!({"binds":[{"port":3000,"listeners":[]}],"x":"yes","y":0.5,"z":16})
        );
        let s = p.index.get("/binds/0/port").unwrap();
        assert_eq!(&t[s.key.unwrap().start..s.key.unwrap().end], "port");
        assert_eq!(&t[s.value.start..s.value.end], "3000");
    }

    #[test]
    fn duplicate_keys_are_found_and_the_last_value_kept() {
        let t = "a: 1\nb: 2\na: 3\n";
        let p = load(t);
        assert!(p.issues.is_empty());
        assert_eq!(p.value.unwrap()["a"], 3);
        let [d] = p.duplicates.as_slice() else {
            panic!("{:?}", p.duplicates)
        };
        assert_eq!((d.ptr.as_str(), d.key.as_str()), ("/a", "a"));
        assert_eq!((d.first.start, d.again.start), (0, 10));
        assert_eq!(&t[p.index.get("/a").unwrap().value.start..][..1], "3");
    }

    #[test]
    fn anchors_expand_and_merge_keys_stay_keys() {
        // The gateway's YAML layer does not apply `<<`: it reaches the model as a key.
        let t = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n";
        let p = load(t);
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let v = p.value.unwrap();
        assert_eq!(v["use"], json!({"<<":{"x":1,"y":2},"y":3}));
        assert_eq!(v["list"][0], json!({"x":1,"y":2}));
        // a node inside an alias points at the alias use
        let s = p.index.lookup("/list/0/x").unwrap();
        assert_eq!(&t[s.value.start..s.value.end], "*b");
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            t.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let p = load(&t);
        assert!(p.value.is_none());
        assert_eq!(p.issues[0].kind, IssueKind::Limit);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let t = "[".repeat(100_000);
        let p = load(&t);
        assert!(p.value.is_none());
        assert!(matches!(
            p.issues[0].kind,
            IssueKind::Limit | IssueKind::Syntax
        ));
        let t2 = (0..200)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>();
        let p2 = load(&t2);
        assert!(p2.value.is_none());
        assert_eq!(p2.issues[0].kind, IssueKind::Limit);
    }

    #[test]
    fn multiple_documents_are_reported() {
        let p = load("a: 1\n---\nb: 2\n");
        assert_eq!(p.issues[0].kind, IssueKind::MultipleDocuments);
    }

    #[test]
    fn syntax_errors_have_positions_and_tab_hint() {
        let t = "a:\n\tb: 1\n";
        let p = load(t);
        assert!(p.value.is_none());
        let d = &p.issues[0];
        assert_eq!(d.kind, IssueKind::Syntax);
        assert!(d.help.contains("tabs"), "{d:?}");
    }

    #[test]
    fn numeric_keys_become_strings() {
        let p = load("ports:\n  8000: 8000\n");
        assert_eq!(p.value.unwrap(), json!({"ports":{"8000":8000}}));
    }
}
