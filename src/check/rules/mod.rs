//! Rules beyond the schema, one file per family. Each rule speaks in JSON pointers; `Ctx` turns
//! them into spans. A rule never compares every item with every other: pairs (ports, names,
//! paths) go through hash maps so that a file with thousands of routes stays fast.

pub(crate) mod auth;
pub(crate) mod auth0;
pub(crate) mod backends;
pub(crate) mod cel;
pub(crate) mod config;
pub(crate) mod cors;
pub mod expressions;
pub(crate) mod files;
pub(crate) mod frontend;
pub(crate) mod gateways;
pub(crate) mod headers;
pub(crate) mod jwks;
pub(crate) mod listeners;
pub(crate) mod llm;
pub(crate) mod mcp;
pub(crate) mod names;
pub(crate) mod okta;
pub(crate) mod placeholder;
pub(crate) mod policies;
pub(crate) mod ports;
pub(crate) mod ratelimit;
pub(crate) mod refs;
pub(crate) mod regex;
pub(crate) mod timeout;
pub(crate) mod tls;
pub(crate) mod ui;
pub mod util;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::config::mcp::McpBackend;
use crate::config::topology::{self, Topology};
use crate::config::walk::{self, PolicySite};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::source::{PointerIndex, Span};

/// What rules may look at beyond the file itself.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// Where referenced files (JWKS, certificates, OpenAPI schemas) are looked up; `None` means
    /// the current directory.
    pub root: Option<PathBuf>,
    /// A referenced file that cannot be found is an error, not a warning.
    pub strict_files: bool,
    /// What the environment agw checks with says about the gateway's own.
    pub gateway_env: GatewayEnv,
}

/// Settings the gateway reads from its process environment rather than from the file.
#[derive(Debug, Clone, Default)]
pub struct GatewayEnv {
    /// `OIDC_COOKIE_SECRET` is set (the key of the browser sign-in cookies of `oidc` policies).
    pub oidc_cookie_secret: bool,
}

pub struct Ctx<'a> {
    pub cfg: &'a Config,
    index: &'a PointerIndex,
    /// The original text of the file, which every span refers to.
    text: &'a str,
    pub opts: &'a RuleOptions,
    pub out: Vec<Diagnostic>,
    regexes: HashMap<String, Option<::regex::Regex>>,
    /// Where the gateway serves each route (its sites, the listeners and ports they are
    /// served on), every route-level policy block, every MCP backend and every issuer
    /// configuration, resolved once and shared by the rule families.
    pub topology: Rc<Topology<'a>>,
    pub sites: Rc<Vec<PolicySite<'a>>>,
    pub mcp: Rc<Vec<(String, Cow<'a, McpBackend>)>>,
    pub auth: Rc<Vec<auth::AuthCfg<'a>>>,
    /// The CEL expressions of the sections agw keeps as written, with their pointers
    /// (`expressions::surface_expressions` of the parsed file).
    pub surface_cel: &'a [(String, String)],
    /// The typed model written back as JSON, for the rules that look for a shape anywhere in
    /// the sections agw keeps as written; made on first use.
    document: std::cell::OnceCell<serde_json::Value>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        cfg: &'a Config,
        index: &'a PointerIndex,
        text: &'a str,
        surface_cel: &'a [(String, String)],
        opts: &'a RuleOptions,
    ) -> Self {
        let topology = topology::resolve(cfg);
        let sites = walk::route_policies(cfg);
        let mut mcp_backends = Vec::new();
        for site in &topology.sites {
            for (i, b) in site.route.backends.iter().enumerate() {
                if let Some(m) = &b.mcp {
                    let m = match &site.route {
                        Cow::Borrowed(r) => match &r.backends[i].mcp {
                            Some(m) => Cow::Borrowed(&**m),
                            None => continue,
                        },
                        Cow::Owned(_) => Cow::Owned((**m).clone()),
                    };
                    mcp_backends.push((format!("{}/backends/{i}/mcp", site.ptr), m));
                }
            }
        }
        if let Some(m) = &cfg.mcp {
            mcp_backends.push(("/mcp".to_string(), Cow::Owned(m.backend())));
        }
        for (i, b) in cfg.backends.iter().enumerate() {
            if let Some(m) = &b.mcp {
                mcp_backends.push((format!("/backends/{i}/mcp"), Cow::Borrowed(&**m)));
            }
        }
        let auth = auth::auth_configs(cfg, &sites);
        Ctx {
            cfg,
            index,
            text,
            opts,
            out: Vec::new(),
            regexes: HashMap::new(),
            topology: Rc::new(topology),
            sites: Rc::new(sites),
            mcp: Rc::new(mcp_backends),
            auth: Rc::new(auth),
            surface_cel,
            document: std::cell::OnceCell::new(),
        }
    }

    /// The span of the key that names the node at `ptr` (its value for list items).
    pub fn key(&self, ptr: &str) -> Span {
        self.index
            .lookup(ptr)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    /// The span of the value at `ptr`.
    pub fn value(&self, ptr: &str) -> Span {
        self.index.lookup(ptr).map(|s| s.value).unwrap_or_default()
    }

    /// An edit that adds `line` (a `key: value` line, or a key with a nested block whose lines
    /// are indented relative to it) to the block mapping that holds the key at `sibling`, right
    /// after the sibling's value and with its indentation. None when the sibling is not alone on
    /// its line (flow style, `- key:` list items keep their own indentation).
    pub fn insert_after(&self, sibling: &str, line: &str) -> Option<Vec<crate::diag::fix::Edit>> {
        if !self.has(sibling) {
            return None;
        }
        let key = self.key(sibling);
        let line_start = self.text[..key.start].rfind('\n').map_or(0, |n| n + 1);
        let prefix = &self.text[line_start..key.start];
        let indent = if prefix.chars().all(|c| c == ' ') {
            prefix.to_string()
        } else if let Some(rest) = prefix.trim_start_matches(' ').strip_prefix("- ") {
            if !rest.chars().all(|c| c == ' ') {
                return None;
            }
            " ".repeat(prefix.len())
        } else {
            return None;
        };
        let eol = self.end_of_line(self.value(sibling));
        Some(crate::diag::fix::Fix::replace(
            Span::new(eol, eol),
            indented(line, &indent),
        ))
    }

    /// Where the line of the last character of `span` ends. A block node's span runs on to the
    /// next token, past its own lines, so trailing white space is not counted as its last character.
    fn end_of_line(&self, span: Span) -> usize {
        let end = self.text[..span.end].trim_end().len().max(span.start);
        self.text[end..]
            .find('\n')
            .map_or(self.text.len(), |n| end + n)
    }

    /// An edit that adds items (mappings, each written as `key: value` lines indented by two
    /// spaces a level, relative to its first key) after the last item of the block sequence at `seq`, with the dash and
    /// the indentation of that item. None when the sequence is empty or not in block style.
    pub fn append_items(&self, seq: &str, items: &[String]) -> Option<Vec<crate::diag::fix::Edit>> {
        let last = (0..)
            .take_while(|i| self.has(&format!("{seq}/{i}")))
            .last()?;
        let item_span = self.value(&format!("{seq}/{last}"));
        let line_start = self.text[..item_span.start]
            .rfind('\n')
            .map_or(0, |n| n + 1);
        let prefix = &self.text[line_start..item_span.start];
        let dash = prefix.trim_end_matches(' ').strip_suffix('-')?;
        if !dash.chars().all(|c| c == ' ') {
            return None;
        }
        let eol = self.end_of_line(item_span);
        let content = " ".repeat(prefix.len());
        let gap = &prefix[dash.len() + 1..];
        // the file's nesting width, read off the last item's own nested lines (2 when it has none)
        let unit = self.text[item_span.start..eol]
            .lines()
            .skip(1)
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .find(|&n| n > prefix.len())
            .map_or(2, |n| n - prefix.len());
        let text = items
            .iter()
            .map(|item| {
                let (first, rest) = item.split_once('\n').unwrap_or((item, ""));
                let rest: String = rest
                    .lines()
                    .map(|l| {
                        let depth = (l.len() - l.trim_start_matches(' ').len()) / 2;
                        format!("\n{content}{}{}", " ".repeat(depth * unit), l.trim_start())
                    })
                    .collect();
                format!("\n{dash}-{gap}{first}{rest}")
            })
            .collect::<String>();
        Some(crate::diag::fix::Fix::replace(Span::new(eol, eol), text))
    }

    /// The whole configuration as JSON, in the file's keys (pointers into it are pointers into
    /// the file).
    pub fn document(&self) -> &serde_json::Value {
        self.document
            .get_or_init(|| serde_json::to_value(self.cfg).unwrap_or_default())
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        self.text
    }

    /// Whether the file itself spells the node at `ptr` (not through an alias or a default).
    pub fn has(&self, ptr: &str) -> bool {
        self.index.get(ptr).is_some()
    }

    /// The span of `decoded[start..end]`, a part of the string value at `ptr`, in the original
    /// text. Works for plain, quoted and block scalars by walking the written text alongside the
    /// decoded one; falls back to the whole value when the two cannot be aligned (escapes that
    /// change characters, values substituted from the environment).
    pub fn inner(&self, ptr: &str, decoded: &str, start: usize, end: usize) -> Span {
        let whole = self.value(ptr);
        if whole.is_empty() || whole.end > self.text.len() {
            return whole;
        }
        let written = &self.text[whole.start..whole.end];
        match util::align(written, decoded, start, end) {
            Some((a, z)) => Span::new(whole.start + a, whole.start + z),
            None => whole,
        }
    }

    /// Compiles a regex once per distinct pattern, as written; `None` when it does not compile.
    /// Test a route's path with `config::routing::regex_covers`, as the gateway does.
    pub fn regex(&mut self, pattern: &str) -> Option<&::regex::Regex> {
        self.regexes
            .entry(pattern.to_string())
            .or_insert_with(|| ::regex::Regex::new(pattern).ok())
            .as_ref()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }
}

/// `text` as new lines under `indent`: each of its lines starts on a line of its own.
fn indented(text: &str, indent: &str) -> String {
    text.lines().map(|l| format!("\n{indent}{l}")).collect()
}

pub fn run(
    cfg: &Config,
    index: &PointerIndex,
    text: &str,
    surface_cel: &[(String, String)],
    opts: &RuleOptions,
) -> Vec<Diagnostic> {
    let mut ctx = Ctx::new(cfg, index, text, surface_cel, opts);
    refs::check(&mut ctx);
    backends::check(&mut ctx);
    names::check(&mut ctx);
    ports::check(&mut ctx);
    listeners::check(&mut ctx);
    gateways::check(&mut ctx);
    mcp::check(&mut ctx);
    auth::check(&mut ctx);
    okta::check(&mut ctx);
    auth0::check(&mut ctx);
    cel::check(&mut ctx);
    regex::check(&mut ctx);
    policies::check(&mut ctx);
    cors::check(&mut ctx);
    ratelimit::check(&mut ctx);
    timeout::check(&mut ctx);
    headers::check(&mut ctx);
    auth::oidc::check(&mut ctx);
    ui::check(&mut ctx);
    llm::check(&mut ctx);
    frontend::check(&mut ctx);
    config::check(&mut ctx);
    placeholder::check(&mut ctx);
    files::check(&mut ctx);
    jwks::check(&mut ctx);
    ctx.out
}
