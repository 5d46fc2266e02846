//! Response bodies: whole ones, and streams fed from a channel (SSE).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokio::sync::mpsc;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

pub fn empty() -> Body {
    full(Bytes::new())
}

pub fn json(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(full(serde_json::to_vec(v).unwrap_or_default()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Seconds a client is told to wait when a resource limit is reached.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Adds `Retry-After` to an answer that refuses for lack of resources (503).
pub fn retry_after<B>(r: &mut Response<B>) {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
}

pub fn text(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{msg}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A body fed by a channel; it ends when every sender is gone. `guard` is dropped with the
/// body (when the client goes away or the stream ends).
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
    _guard: Option<Box<dyn Send>>,
}

impl ChannelBody {
    pub fn new(rx: mpsc::Receiver<Bytes>, guard: Option<Box<dyn Send>>) -> ChannelBody {
        ChannelBody { rx, _guard: guard }
    }

    pub fn boxed(self) -> Body {
        http_body_util::BodyExt::boxed_unsync(self)
    }
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(b)) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// One SSE event carrying a JSON-RPC message.
pub fn sse_event(msg: &Value) -> Bytes {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"event: message\ndata: ");
    serde_json::to_writer(&mut out, msg).ok();
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}
