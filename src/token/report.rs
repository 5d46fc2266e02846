//! What one `verify-token` run found, and the decision it comes to. `diag::token` renders it
//! for people and scripts.

use serde::Serialize;
use serde_json::Value;

use super::authz::AuthzDecision;
use super::verify::{Policy, Verdict};

/// Exit codes of `verify-token`.
pub const EXIT_ACCEPTED: i32 = 0;
pub const EXIT_REJECTED: i32 = 1;
pub const EXIT_UNDECIDED: i32 = 2;

/// Everything one `verify-token` run found.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub verdict: &'a Verdict,
    pub policy: &'a Policy,
    /// The route the policy belongs to, for people.
    pub route: Option<String>,
    /// The `mcpAuthorization` decision for `--tool`/`--prompt`/`--resource`.
    pub authz: Option<AuthzDecision>,
    /// Extra lines worth saying (e.g. which provider was used).
    pub notes: Vec<String>,
}

/// The final word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "decision")]
pub enum Decision {
    Accepted,
    /// `status` is what the gateway would answer (401 for authentication; 400 with a JSON-RPC
    /// error for an MCP call that `mcpAuthorization` denies; 0 when only an agw requirement such
    /// as `--require-scope` failed).
    Rejected {
        status: u16,
        check: String,
        reason: String,
        /// The JSON-RPC error of a denied MCP call.
        #[serde(skip_serializing_if = "Option::is_none")]
        jsonrpc_error: Option<Value>,
    },
    Undecided {
        reason: String,
    },
}

impl Decision {
    pub fn exit_code(&self) -> i32 {
        match self {
            Decision::Accepted => EXIT_ACCEPTED,
            Decision::Rejected { .. } => EXIT_REJECTED,
            Decision::Undecided { .. } => EXIT_UNDECIDED,
        }
    }
}

impl Report<'_> {
    pub fn decision(&self) -> Decision {
        let v = self.verdict;
        if let Some(u) = &v.undecided {
            return Decision::Undecided { reason: u.clone() };
        }
        if !v.gateway_accepts {
            let (check, reason) = v
                .reason
                .clone()
                .unwrap_or_else(|| ("token".into(), "invalid".into()));
            return Decision::Rejected {
                status: 401,
                check,
                reason,
                jsonrpc_error: None,
            };
        }
        if !v.requirements_met {
            let (check, reason) = v
                .reason
                .clone()
                .unwrap_or_else(|| ("scopes".into(), "--require-scope".into()));
            return Decision::Rejected {
                status: 0,
                check,
                reason,
                jsonrpc_error: None,
            };
        }
        if let Some(a) = &self.authz {
            if !a.allowed {
                return Decision::Rejected {
                    status: super::authz::DENIED_HTTP_STATUS,
                    check: "authz".into(),
                    reason: a.reason.clone(),
                    jsonrpc_error: a.denied_as.as_ref().map(|m| {
                        serde_json::json!({"code": super::authz::DENIED_JSONRPC_CODE, "message": m})
                    }),
                };
            }
        }
        Decision::Accepted
    }
}
