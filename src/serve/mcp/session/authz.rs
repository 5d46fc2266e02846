//! `mcpAuthorization` on a session: list items it denies are left out, and calls it denies are
//! answered as the gateway answers them.

use super::fanout::Kind;
use super::RpcErr;
use crate::serve::auth::{authorize, Decision, Identity, McpCall};
use crate::serve::runtime::RouteCtx;
use crate::token::authz::{denied_message, DENIED_HTTP_STATUS, DENIED_JSONRPC_CODE};

/// Who asks, through which route, on which session (its tag, for the log).
pub(super) struct Authz<'a> {
    pub(super) route: &'a RouteCtx,
    pub(super) identity: Option<&'a Identity>,
    pub(super) session: &'a str,
}

impl Authz<'_> {
    /// Whether the item `name` that `target` listed is shown to the caller.
    pub(super) fn shows(&self, kind: Kind, name: &str, target: &str) -> bool {
        self.decide(kind, name, target).allowed
    }

    /// Lets a call of `asked` (the name the client used; `own` in the target's words) go to
    /// `target`, or answers it as denied.
    pub(super) fn admit(
        &self,
        method: &str,
        kind: Kind,
        asked: &str,
        own: &str,
        target: &str,
    ) -> Result<(), RpcErr> {
        let d = self.decide(kind, own, target);
        if d.allowed {
            return Ok(());
        }
        tracing::info!(session = %self.session, "{method} {asked} denied: {}", d.reason);
        Err(RpcErr::denied(kind.word(), asked))
    }

    fn decide(&self, kind: Kind, name: &str, target: &str) -> Decision {
        let (name, target) = (name.to_string(), Some(target.to_string()));
        let call = match kind {
            Kind::Tool => McpCall::Tool { name, target },
            Kind::Prompt => McpCall::Prompt { name, target },
            Kind::Resource => McpCall::Resource { uri: name, target },
        };
        authorize(self.route.mcp_authz(), self.identity, &call)
    }
}

impl RpcErr {
    /// A call that `mcpAuthorization` denies, answered as the gateway answers it: HTTP 400 with
    /// `Unknown tool: NAME`, which does not say that authorization denied it.
    fn denied(kind: &str, name: &str) -> RpcErr {
        RpcErr {
            code: DENIED_JSONRPC_CODE,
            message: denied_message(kind, name),
            http_status: DENIED_HTTP_STATUS,
        }
    }
}
