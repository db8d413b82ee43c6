//! HTTP on the mining port: hyper serves the connection (HTTP/1.1,
//! keep-alive), and one route is forwarded to the Worker.
//!
//! - `POST` and `GET /api/downstream-report` go to the Worker (see
//!   [`crate::forward`]); its status, body and the headers a JDC acts on
//!   (`Content-Type`, `Retry-After`, `WWW-Authenticate`, `Link`, ...) come
//!   back unchanged.
//! - Everything else is answered here, as RFC 9457 problem+json, and never
//!   reaches the Worker: another path (404), another method (405), a body
//!   over the Worker's own limit (413, by `Content-Length` before reading,
//!   or while reading), a body or header slower than the request timeout
//!   (408, or the connection is closed), too many requests in flight (503
//!   with `Retry-After`). A header block over 8 KiB gets hyper's 431, and
//!   bytes that are not HTTP get its 400.
//! - The Worker's failures become 502 (unreachable) and 504 (too slow).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dmr_shared::api::{PROBLEM_CONTENT_TYPE, REPORTS_PATH};
use dmr_shared::limits::MAX_BODY_BYTES;
use dmr_shared::Problem;
use http_body_util::{combinators::BoxBody, BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, LINK,
    RETRY_AFTER, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::forward::{ForwardError, Forwarder};
use crate::metrics::Metrics;
use crate::rewind::Rewind;

/// Longest request head (request line and headers). A JDC's is a few
/// hundred bytes.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// What a JDC is told to wait when too many requests are in flight: its
/// own retry starts at 5 s.
pub const BUSY_RETRY_AFTER_SECS: u32 = 5;

/// Response headers passed from the Worker to the JDC as sent.
const PASSED_DOWN: [HeaderName; 7] = [
    CONTENT_TYPE,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    LINK,
    ALLOW,
    CACHE_CONTROL,
    X_CONTENT_TYPE_OPTIONS,
];

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// What every HTTP connection shares.
#[derive(Debug)]
pub struct HttpContext {
    pub forwarder: Forwarder,
    pub metrics: Arc<Metrics>,
    pub request_timeout: Duration,
}

/// Serves HTTP on `stream`, whose first bytes `opening` were already read,
/// until the client closes, a timeout closes it, or shutdown (then the
/// request in progress is finished first).
pub async fn serve(
    stream: TcpStream,
    opening: Bytes,
    peer: SocketAddr,
    ctx: Arc<HttpContext>,
    mut shutdown: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Rewind::new(opening, stream));
    let timeout = ctx.request_timeout;
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(route(req, peer, &ctx).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        // Also closes an idle keep-alive connection after this long.
        .header_read_timeout(timeout)
        // hyper's smallest read buffer: a head must fit, bodies stream.
        .max_buf_size(MAX_HEADER_BYTES)
        .max_header_size(MAX_HEADER_BYTES)
        .half_close(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        () = crate::server::stopped(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = outcome {
        tracing::debug!(peer = %peer, error = %e, "http connection ended");
    }
}

async fn route(req: Request<Incoming>, peer: SocketAddr, ctx: &HttpContext) -> Response<Body> {
    let path = req.uri().path();
    if path != REPORTS_PATH {
        let detail = format!("{path} is not served here; reports go to {REPORTS_PATH}");
        return local(ctx, StatusCode::NOT_FOUND, "Not found", detail);
    }
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        let detail = format!("{REPORTS_PATH} takes GET and POST, not {method}");
        let mut answer = local(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            detail,
        );
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, POST"));
        return answer;
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large(ctx);
    }
    // The place is taken before the body is read: it bounds the memory that
    // bodies in flight hold, as well as the load on the Worker.
    let Some(_permit) = ctx.forwarder.try_permit() else {
        let detail = format!(
            "too many reports are being forwarded right now; retry in {BUSY_RETRY_AFTER_SECS} s"
        );
        let mut answer = local(
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            detail,
        );
        answer
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER_SECS));
        return answer;
    };

    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(
        ctx.request_timeout,
        Limited::new(body, MAX_BODY_BYTES).collect(),
    )
    .await;
    let body = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(ctx),
        Ok(Err(e)) => {
            let detail = format!("the request body could not be read: {e}");
            return closing(local(ctx, StatusCode::BAD_REQUEST, "Bad request", detail));
        }
        Err(_elapsed) => {
            let detail = format!(
                "the request did not arrive within {}",
                humantime::format_duration(ctx.request_timeout)
            );
            return closing(local(
                ctx,
                StatusCode::REQUEST_TIMEOUT,
                "Request timeout",
                detail,
            ));
        }
    };

    let started = Instant::now();
    let sent = body.len();
    let answer = ctx
        .forwarder
        .send(
            method.clone(),
            parts.uri.query(),
            &parts.headers,
            peer.ip(),
            body,
        )
        .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match answer {
        Ok(upstream) => {
            let status = upstream.status();
            ctx.metrics.forwarded(method.as_str(), status.as_u16());
            tracing::info!(
                peer = %peer.ip(), method = %method, status = status.as_u16(), bytes = sent, elapsed_ms,
                "report forwarded"
            );
            let mut answer = Response::builder().status(status);
            for name in PASSED_DOWN {
                for value in upstream.headers().get_all(&name) {
                    answer = answer.header(&name, value);
                }
            }
            let body = Response::<reqwest::Body>::from(upstream).into_body();
            answer
                .body(body.map_err(Into::into).boxed())
                .unwrap_or_else(|_| Response::new(empty()))
        }
        Err(ForwardError::Timeout) => {
            ctx.metrics.forwarded(method.as_str(), 504);
            tracing::warn!(
                peer = %peer.ip(), method = %method, status = 504, bytes = sent, elapsed_ms,
                "report not forwarded: the Worker did not answer in time"
            );
            let detail = format!(
                "the pool's report service did not answer within {}",
                humantime::format_duration(ctx.forwarder.timeout())
            );
            problem(StatusCode::GATEWAY_TIMEOUT, "Gateway timeout", detail)
        }
        Err(ForwardError::Unreachable(cause)) => {
            ctx.metrics.forwarded(method.as_str(), 502);
            tracing::warn!(
                peer = %peer.ip(), method = %method, status = 502, bytes = sent, elapsed_ms, cause,
                "report not forwarded: the Worker cannot be reached"
            );
            problem(
                StatusCode::BAD_GATEWAY,
                "Bad gateway",
                "the pool's report service cannot be reached; retry later".into(),
            )
        }
    }
}

fn too_large(ctx: &HttpContext) -> Response<Body> {
    let detail = format!("the body is larger than {MAX_BODY_BYTES} bytes");
    closing(local(
        ctx,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload too large",
        detail,
    ))
}

/// An answer of the gateway's own, counted.
fn local(ctx: &HttpContext, status: StatusCode, title: &str, detail: String) -> Response<Body> {
    ctx.metrics.answered_locally(status.as_u16());
    problem(status, title, detail)
}

/// An RFC 9457 problem, as the Worker writes them.
fn problem(status: StatusCode, title: &str, detail: String) -> Response<Body> {
    let body =
        serde_json::to_vec(&Problem::new(status.as_u16(), title, detail)).unwrap_or_default();
    let mut answer = Response::new(Full::new(Bytes::from(body)).map_err(Into::into).boxed());
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
    answer
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

/// The same answer, closing the connection after it: the rest of the
/// request was not read, so the connection cannot carry another.
fn closing(mut answer: Response<Body>) -> Response<Body> {
    answer
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    answer
}

fn empty() -> Body {
    Full::new(Bytes::new()).map_err(Into::into).boxed()
}
