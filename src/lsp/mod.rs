//! `agw lsp`: the editor server, over stdio. Every change of a document runs the same
//! loader as `agw check` (`check::load`; it takes milliseconds, so the server is synchronous), and the
//! findings are published with the same rule ids, severities and texts. Only gateway files get
//! findings (`check::detect`: the modeline or the top-level keys); other YAML gets none. The
//! network (`--online`) is never touched on a keystroke: the `agw.checkOnline` command runs it.
//!
//! Invariants: a half-typed document never crashes the server (the checker returns findings, never
//! errors); a malformed request gets an LSP error response, and the server goes on.

mod completion;
mod convert;
mod hover;
pub mod position;
mod settings;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionProviderCapability,
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, ExecuteCommandOptions, ExecuteCommandParams, Hover, HoverContents,
    HoverParams, HoverProviderCapability, InitializeParams, InitializeResult, MarkupContent,
    MarkupKind, MessageType, PublishDiagnosticsParams, Range, ServerCapabilities, ServerInfo,
    ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
    WorkspaceEdit,
};
use serde_json::Value;

use crate::check::{detect, load, CheckOptions, Loaded};
use position::{Encoding, Lines};
use settings::Settings;

/// How long the server waits after the last change before checking: typing fast checks once.
const DEBOUNCE: Duration = Duration::from_millis(150);

pub const CHECK_ONLINE: &str = "agw.checkOnline";
/// The code action kind of "fix all safe findings", for `editor.codeActionsOnSave`.
pub const FIX_ALL: &str = "source.fixAll.agw";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves one editor on `conn` until it says `exit`.
pub fn serve(conn: &Connection) -> Result<(), Error> {
    let (id, params) = conn.initialize_start()?;
    let init: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = Encoding::negotiate(
        init.capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref()),
    );
    let workspace = init
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| file_path(&f.uri));
    let result = InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            completion_provider: Some(lsp_types::CompletionOptions {
                // after `key: ` for its values; words trigger completion by themselves
                trigger_characters: Some(vec![" ".into()]),
                ..Default::default()
            }),
            code_action_provider: Some(CodeActionProviderCapability::Options(
                lsp_types::CodeActionOptions {
                    code_action_kinds: Some(vec![
                        CodeActionKind::QUICKFIX,
                        CodeActionKind::new(FIX_ALL),
                    ]),
                    ..Default::default()
                },
            )),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![CHECK_ONLINE.into()],
                ..Default::default()
            }),
            ..Default::default()
        },
        server_info: Some(ServerInfo {
            name: "agw".into(),
            version: Some(crate::VERSION.into()),
        }),
    };
    conn.initialize_finish(id, serde_json::to_value(result)?)?;
    let mut server = Server {
        conn,
        encoding,
        workspace,
        options: CheckOptions::default(),
        docs: HashMap::new(),
        dirty: BTreeSet::new(),
        last_change: Instant::now(),
    };
    server.configure(init.initialization_options.as_ref());
    let mut shut_down = false;
    loop {
        let wait = if server.dirty.is_empty() {
            Duration::from_secs(3600)
        } else {
            DEBOUNCE.saturating_sub(server.last_change.elapsed())
        };
        let msg = match conn.receiver.recv_timeout(wait) {
            Ok(m) => m,
            Err(e) if e.is_timeout() => {
                server.check_dirty();
                continue;
            }
            Err(_) => return Ok(()),
        };
        match msg {
            // After `shutdown` the protocol allows only `exit`; clients that send `shutdown`
            // twice (editors quitting) get an error, not a dead server.
            Message::Request(req) if shut_down => {
                let resp = Response::new_err(
                    req.id,
                    ErrorCode::InvalidRequest as i32,
                    "the server is shut down".into(),
                );
                conn.sender.send(resp.into())?;
            }
            Message::Request(req) if req.method == lsp_types::request::Shutdown::METHOD => {
                shut_down = true;
                conn.sender
                    .send(Response::new_ok(req.id, Value::Null).into())?;
            }
            Message::Request(req) => {
                server.check_dirty();
                let resp = server.request(req);
                conn.sender.send(resp.into())?;
            }
            Message::Notification(n) if n.method == lsp_types::notification::Exit::METHOD => {
                return Ok(());
            }
            Message::Notification(_) if shut_down => {}
            Message::Notification(n) => server.notification(n),
            Message::Response(_) => {}
        }
    }
}

struct Doc {
    text: String,
    version: i32,
    /// The last check's findings, for code actions and hover; `None` for YAML that is not a
    /// gateway configuration.
    loaded: Option<Loaded>,
}

struct Server<'c> {
    conn: &'c Connection,
    encoding: Encoding,
    workspace: Option<std::path::PathBuf>,
    options: CheckOptions,
    docs: HashMap<String, (Uri, Doc)>,
    dirty: BTreeSet<String>,
    last_change: Instant,
}

impl Server<'_> {
    fn configure(&mut self, v: Option<&Value>) {
        match Settings::from_value(v).and_then(|s| s.options(self.workspace.as_deref())) {
            Ok(o) => self.options = o,
            Err(e) => self.show(MessageType::ERROR, e),
        }
        self.dirty.extend(self.docs.keys().cloned());
    }

    fn show(&self, typ: MessageType, message: String) {
        let n = Notification::new(
            lsp_types::notification::ShowMessage::METHOD.into(),
            ShowMessageParams { typ, message },
        );
        let _ = self.conn.sender.send(n.into());
    }

    fn notification(&mut self, n: Notification) {
        use lsp_types::notification as N;
        match n.method.as_str() {
            N::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    self.changed(d.uri, d.text, d.version, true);
                }
            }
            N::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    // full sync: the last change holds the whole text
                    if let Some(c) = p.content_changes.into_iter().last() {
                        self.changed(p.text_document.uri, c.text, p.text_document.version, false);
                    }
                }
            }
            N::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let key = p.text_document.uri.as_str().to_string();
                    self.docs.remove(&key);
                    self.dirty.remove(&key);
                    self.publish(p.text_document.uri, Vec::new(), None);
                }
            }
            N::DidChangeConfiguration::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeConfigurationParams>(n.params) {
                    self.configure(Some(&p.settings));
                    self.last_change = Instant::now();
                }
            }
            _ => {}
        }
    }

    fn changed(&mut self, uri: Uri, text: String, version: i32, now: bool) {
        let key = uri.as_str().to_string();
        self.docs.insert(
            key.clone(),
            (
                uri,
                Doc {
                    text,
                    version,
                    loaded: None,
                },
            ),
        );
        self.dirty.insert(key);
        self.last_change = Instant::now();
        if now {
            self.check_dirty();
        }
    }

    fn check_dirty(&mut self) {
        for key in std::mem::take(&mut self.dirty) {
            self.check(&key, false);
        }
    }

    fn check(&mut self, key: &str, online: bool) {
        let Some((uri, doc)) = self.docs.get_mut(key) else {
            return;
        };
        if !detect::is_gateway_config(&doc.text) {
            doc.loaded = None;
            let (uri, version) = (uri.clone(), doc.version);
            self.publish(uri, Vec::new(), Some(version));
            return;
        }
        let name = file_path(uri)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| uri.as_str().to_string());
        let mut loaded: Vec<Loaded> =
            load::load(load::Input::Text(&doc.text), &name, &self.options)
                .into_iter()
                .collect();
        if online {
            if let Err(e) =
                crate::check::online::run(&mut loaded, &self.options, Default::default())
            {
                let msg = format!("agw: the online check could not run: {e}");
                self.show(MessageType::ERROR, msg);
            }
        }
        let Some((uri, doc)) = self.docs.get_mut(key) else {
            return;
        };
        let loaded = loaded.pop();
        let lines = Lines::new(&doc.text, self.encoding);
        let diags = loaded
            .iter()
            .flat_map(|l| l.report.diagnostics.iter())
            .map(|d| convert::diagnostic(uri, &doc.text, &lines, d))
            .collect();
        doc.loaded = loaded;
        let (uri, version) = (uri.clone(), doc.version);
        self.publish(uri, diags, Some(version));
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let n = Notification::new(
            lsp_types::notification::PublishDiagnostics::METHOD.into(),
            PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        );
        let _ = self.conn.sender.send(n.into());
    }

    fn request(&mut self, req: Request) -> Response {
        use lsp_types::request as R;
        let id = req.id.clone();
        let result = match req.method.as_str() {
            R::HoverRequest::METHOD => params(req).map(|p| to_value(self.hover(p))),
            R::Completion::METHOD => params(req).map(|p| to_value(self.completion(p))),
            R::CodeActionRequest::METHOD => params(req).map(|p| to_value(self.code_actions(p))),
            R::ExecuteCommand::METHOD => params(req).and_then(|p| self.execute(p)),
            other => Err((
                ErrorCode::MethodNotFound,
                format!("agw lsp does not answer `{other}`"),
            )),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => Response::new_err(id, code as i32, msg),
        }
    }

    fn doc(&self, uri: &Uri) -> Option<&Doc> {
        self.docs.get(uri.as_str()).map(|(_, d)| d)
    }

    fn hover(&self, p: HoverParams) -> Option<Hover> {
        let pos = p.text_document_position_params;
        let doc = self.doc(&pos.text_document.uri)?;
        let loaded = doc.loaded.as_ref()?;
        let lines = Lines::new(&doc.text, self.encoding);
        let offset = lines.offset(&doc.text, pos.position);
        let finding = loaded.report.diagnostics.iter().find(|d| {
            d.primary()
                .is_some_and(|s| s.start <= offset && offset <= s.end.max(s.start + 1))
        });
        let md = finding
            .map(|d| d.rule)
            .or_else(|| hover::allow_comment_rule(&doc.text, offset))
            .map(hover::rule_markdown)
            .or_else(|| hover::key_markdown(&doc.text, offset, &self.options))?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: md,
            }),
            range: None,
        })
    }

    /// Keys and values at the cursor, for agentgateway files only (like the diagnostics).
    fn completion(&self, p: lsp_types::CompletionParams) -> Option<lsp_types::CompletionResponse> {
        use lsp_types::{
            CompletionItem, CompletionItemKind, CompletionItemTag, CompletionTextEdit,
        };
        let pos = p.text_document_position;
        let doc = self.doc(&pos.text_document.uri)?;
        if !detect::is_gateway_config(&doc.text) {
            return None;
        }
        let lines = Lines::new(&doc.text, self.encoding);
        let offset = lines.offset(&doc.text, pos.position);
        let items = completion::complete(&doc.text, offset, self.options.release)
            .into_iter()
            .map(|c| CompletionItem {
                kind: Some(match c.kind {
                    completion::Kind::Key => CompletionItemKind::PROPERTY,
                    completion::Kind::Value => CompletionItemKind::ENUM_MEMBER,
                }),
                detail: c.detail,
                documentation: c.documentation.map(|d| {
                    lsp_types::Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: d,
                    })
                }),
                filter_text: Some(c.label.clone()),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                    range: lines.range(&doc.text, c.replace.0, c.replace.1),
                    new_text: c.text,
                })),
                tags: c.deprecated.then(|| vec![CompletionItemTag::DEPRECATED]),
                label: c.label,
                ..Default::default()
            })
            .collect();
        Some(lsp_types::CompletionResponse::Array(items))
    }

    /// For each finding in the range: "allow this rule here" (an `# agw: allow` comment above
    /// its line, indented as that line), except for findings that mean the gateway refuses the
    /// file, which no comment can allow.
    fn code_actions(&self, p: CodeActionRequest) -> Vec<CodeActionOrCommand> {
        let uri = p.text_document.uri;
        let Some(doc) = self.doc(&uri) else {
            return Vec::new();
        };
        let Some(loaded) = &doc.loaded else {
            return Vec::new();
        };
        let lines = Lines::new(&doc.text, self.encoding);
        let (from, to) = (
            lines.offset(&doc.text, p.range.start),
            lines.offset(&doc.text, p.range.end),
        );
        let mut out = Vec::new();
        let workspace_edit = |edits: Vec<TextEdit>| WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        };
        for d in &loaded.report.diagnostics {
            let Some(span) = d.primary() else { continue };
            if span.end < from || span.start > to {
                continue;
            }
            if let Some(f) = &d.fix {
                let edits = f
                    .edits
                    .iter()
                    .map(|e| TextEdit {
                        range: lines.range(&doc.text, e.span.start, e.span.end),
                        new_text: e.text.clone(),
                    })
                    .collect();
                let safe = f.applicability == crate::diag::fix::Applicability::Safe;
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: if safe {
                        format!("Fix: {}", f.title)
                    } else {
                        format!("Fix (unsafe, review it): {}", f.title)
                    },
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![convert::diagnostic(&uri, &doc.text, &lines, d)]),
                    edit: Some(workspace_edit(edits)),
                    is_preferred: Some(safe),
                    ..Default::default()
                }));
            }
            if d.rule.refuses {
                continue;
            }
            let line_start = doc.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
            let indent: String = doc.text[line_start..]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let at = lines.position(&doc.text, line_start);
            let edit = TextEdit {
                range: Range::new(at, at),
                new_text: format!("{indent}# agw: allow {}\n", d.rule.id),
            };
            let diagnostic = convert::diagnostic(&uri, &doc.text, &lines, d);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Allow `{}` here (# agw: allow comment)", d.rule.id),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic]),
                edit: Some(workspace_edit(vec![edit])),
                ..Default::default()
            }));
        }
        // every safe fix of the file at once, proven as `agw check --fix` proves them
        if loaded
            .report
            .diagnostics
            .iter()
            .any(|d| crate::check::fix::eligible(d, false))
        {
            let name = &loaded.report.source.name;
            let fixed = crate::check::fix::fix(name, &doc.text, &self.options, false);
            if fixed.text != doc.text {
                let all = TextEdit {
                    range: lines.range(&doc.text, 0, doc.text.len()),
                    new_text: fixed.text,
                };
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Fix all safe agw findings ({})", fixed.applied.len()),
                    kind: Some(CodeActionKind::new(FIX_ALL)),
                    edit: Some(workspace_edit(vec![all])),
                    ..Default::default()
                }));
            }
        }
        out
    }

    fn execute(&mut self, p: ExecuteCommandParams) -> Result<Value, (ErrorCode, String)> {
        if p.command != CHECK_ONLINE {
            return Err((
                ErrorCode::InvalidParams,
                format!("unknown command `{}`", p.command),
            ));
        }
        let uri = p
            .arguments
            .first()
            .and_then(|a| a.get("uri").or(Some(a)))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or((
                ErrorCode::InvalidParams,
                format!("{CHECK_ONLINE} takes the document: [{{\"uri\": \"file:///...\"}}]"),
            ))?;
        if !self.docs.contains_key(&uri) {
            return Err((ErrorCode::InvalidParams, format!("{uri} is not open")));
        }
        self.check(&uri, true);
        Ok(Value::Null)
    }
}

/// The part of `CodeActionParams` the server reads. Clients differ in what they echo back in
/// `context.diagnostics` (Neovim 0.7 drops their ranges), and the server recomputes its findings
/// anyway, so the context is not parsed.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeActionRequest {
    text_document: lsp_types::TextDocumentIdentifier,
    range: Range,
}

fn params<P: serde::de::DeserializeOwned>(req: Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params).map_err(|e| {
        (
            ErrorCode::InvalidParams,
            format!("invalid params for `{}`: {e}", req.method),
        )
    })
}

fn to_value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn file_path(uri: &Uri) -> Option<std::path::PathBuf> {
    let s = uri.as_str().strip_prefix("file://")?;
    let decoded = percent_decode(s);
    Some(std::path::PathBuf::from(decoded))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
