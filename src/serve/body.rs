//! Response bodies: whole ones, and streams fed from a channel (SSE).

use std::future::Future;
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

/// Why a request body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than `--max-body-bytes`: 413.
    TooLarge,
    /// Not all there within `--body-timeout`: 408.
    TimedOut,
    /// The client stopped sending it (closed or reset the connection or stream): nobody is
    /// left to answer, and it is logged as what it is.
    Aborted,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BodyError::TooLarge => "the request body is larger than the limit",
            BodyError::TimedOut => "the request body did not arrive in time",
            BodyError::Aborted => "the client aborted the request body",
        })
    }
}

impl std::error::Error for BodyError {}

impl BodyError {
    /// The answer to a request whose body failed so (`max` is the size limit).
    pub fn response(self, max: usize) -> Response<Body> {
        let (status, text) = match self {
            BodyError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {max} bytes"),
            ),
            BodyError::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive within --body-timeout".to_string(),
            ),
            BodyError::Aborted => (
                StatusCode::BAD_REQUEST,
                "the request body was not sent whole".to_string(),
            ),
        };
        json(
            status,
            &serde_json::json!({"error": "bad_request", "error_description": text}),
        )
    }
}

/// The body of a client's request, bounded in size and in time. It remembers why it failed,
/// for whoever consumed it through another library (the proxy).
pub struct RequestBody {
    inner: hyper::body::Incoming,
    limit: usize,
    read: usize,
    deadline: Pin<Box<tokio::time::Sleep>>,
    failed: std::sync::Arc<std::sync::Mutex<Option<BodyError>>>,
}

impl RequestBody {
    pub fn new(inner: hyper::body::Incoming, limit: usize, within: std::time::Duration) -> Self {
        RequestBody {
            inner,
            limit,
            read: 0,
            deadline: Box::pin(tokio::time::sleep(within)),
            failed: Default::default(),
        }
    }

    /// Where the reason of a failure is kept (readable after the body was moved away).
    pub fn failure(&self) -> std::sync::Arc<std::sync::Mutex<Option<BodyError>>> {
        self.failed.clone()
    }

    fn fail(&mut self, e: BodyError) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        Poll::Ready(Some(Err(Box::new(e))))
    }

    /// Reads the whole body.
    pub async fn bytes(self) -> Result<Bytes, BodyError> {
        let failed = self.failure();
        match self.collect().await {
            Ok(b) => Ok(b.to_bytes()),
            Err(_) => Err(failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(BodyError::Aborted)),
        }
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.read == 0 && self.inner.size_hint().lower() > self.limit as u64 {
            return self.fail(BodyError::TooLarge);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    self.read += d.len();
                    if self.read > self.limit {
                        return self.fail(BodyError::TooLarge);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(_))) => self.fail(BodyError::Aborted),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => self.fail(BodyError::TimedOut),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
