//! JWT verification shared by `verify-token` and the runtime: the strict signature layer
//! ([`jws`]), the per-check verdict ([`verify`]), policies built from the configuration
//! ([`policy`]), `mcpAuthorization` evaluation ([`authz`]) and the renderers ([`report`]).

pub mod authz;
pub mod jws;
pub mod policy;
pub mod report;
pub mod verify;

pub use authz::{evaluate, evaluate_http, AuthzDecision, McpCall, RequestInfo};
pub use policy::{from_jwt_auth, from_mcp_authentication, PolicyOptions};
pub use verify::{accept, verify, verify_with_cache, Check, Outcome, Policy, Refused, Verdict};
