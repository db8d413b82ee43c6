//! HTTP on the mining port: hyper serves the connection (HTTP/1.1, one
//! request per connection), and one route is forwarded to the Worker.
//!
//! - `POST`, `GET` and `HEAD /api/downstream-report` go to the Worker (see
//!   [`crate::forward`]); its status, body and the headers a JDC acts on
//!   (`Content-Type`, `Retry-After`, `WWW-Authenticate`, `Link`, ...) come
//!   back unchanged.
//! - Everything else is answered here (see [`crate::answer`]) and never
//!   reaches the Worker: another path (404), another method (405), a body
//!   over the Worker's own limit (413, by `Content-Length` before reading,
//!   or while reading), a body slower than the request timeout (408), an
//!   address over its share of open requests (429, see [`crate::share`]),
//!   every forwarding place or the body memory taken (503 with
//!   `Retry-After`), a head over 8 KiB (431) and bytes that are not HTTP
//!   (400). A head slower than the request timeout closes the connection.
//! - The Worker's failures become 502 (unreachable) and 504 (too slow).
//!
//! Why the places are taken in this order: a request takes its address's
//! share when its connection is known to be HTTP, and a forwarding place
//! only once its body has arrived in full. A client that is slow to send
//! holds part of its own address's share, never a forwarding place, so it
//! delays no other JDC's report.
//!
//! Why one request per connection: a JDC sends one report a minute, longer
//! than any keep-alive would last, so keep-alive saved nothing; without it
//! a request is a connection (which the per-address share counts), and
//! every answer written before a request reaches the routes is a parse
//! error's, which the gateway can replace with its own.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dmr_shared::api::REPORTS_PATH;
use dmr_shared::limits::MAX_BODY_BYTES;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LINK, RETRY_AFTER,
    WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::answer::{Answer, Body, OwnAnswers, MAX_HEADER_BYTES};
use crate::forward::{ForwardError, Forwarder};
use crate::metrics::Metrics;
use crate::rewind::Rewind;
use crate::share::{Refused, Shares};
use crate::shutdown::Shutdown;

/// What a JDC is told to wait when every forwarding place is taken, or its
/// address holds its share: its own retry starts at 5 s.
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

/// What every HTTP connection shares.
#[derive(Debug)]
pub struct HttpContext {
    pub forwarder: Forwarder,
    pub metrics: Arc<Metrics>,
    pub shares: Arc<Shares>,
    /// Request bodies held at once, a permit a byte (`--body-memory`).
    pub body_memory: Arc<Semaphore>,
    pub request_timeout: Duration,
}

/// Serves HTTP on `stream`, whose first bytes `opening` were already read:
/// one request, if `peer`'s address has room in its share, else a 429.
/// Ends when the answer is sent, a timeout closes the connection, or
/// shutdown (then the request in progress is finished first).
pub async fn serve(
    stream: TcpStream,
    opening: Bytes,
    peer: SocketAddr,
    ctx: Arc<HttpContext>,
    mut shutdown: Shutdown,
) {
    // Held until the connection ends.
    let _place = match ctx.shares.take(peer.ip()) {
        Ok(place) => place,
        Err(refused) => return over_share(stream, refused, &ctx.metrics).await,
    };
    let routed = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(OwnAnswers::new(
        Rewind::new(opening, stream),
        routed.clone(),
        Some(ctx.metrics.clone()),
    ));
    let timeout = ctx.request_timeout;
    let service = service_fn(move |req| {
        routed.store(true, Ordering::Release);
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(route(req, peer, &ctx).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(false)
        .header_read_timeout(timeout)
        // hyper's smallest read buffer: a head must fit, bodies stream.
        .max_buf_size(MAX_HEADER_BYTES)
        .max_header_size(MAX_HEADER_BYTES)
        .half_close(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        () = shutdown.wait() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = outcome {
        tracing::debug!(peer = %peer, error = %e, "http connection ended");
    }
}

/// The answer to a request whose address already holds its share, written
/// before anything of the request is read; then the connection is closed.
async fn over_share(mut stream: TcpStream, refused: Refused, metrics: &Metrics) {
    let answer = Answer::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "this address already has as many requests open at the gateway as one address may \
             ({}); retry in {BUSY_RETRY_AFTER_SECS} s",
            refused.limit
        ),
    )
    .retry_after(BUSY_RETRY_AFTER_SECS);
    metrics.answered_locally(answer.status.as_u16());
    answer.write_and_close(&mut stream).await;
}

async fn route(req: Request<Incoming>, peer: SocketAddr, ctx: &HttpContext) -> Response<Body> {
    if req.uri().path() != REPORTS_PATH {
        let detail = format!("nothing is served at this path; reports go to {REPORTS_PATH}");
        return local(ctx, Answer::new(StatusCode::NOT_FOUND, detail));
    }
    let method = req.method().clone();
    // HEAD goes wherever GET goes: the Worker answers it as its GET, without
    // the body.
    if ![Method::GET, Method::HEAD, Method::POST].contains(&method) {
        let detail = format!("{REPORTS_PATH} takes GET, HEAD and POST");
        let answer = Answer::new(StatusCode::METHOD_NOT_ALLOWED, detail).allow("GET, HEAD, POST");
        return local(ctx, answer);
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large(ctx);
    }

    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(ctx.request_timeout, read_body(body, ctx)).await;
    let (body, _memory) = match read {
        Ok(Ok(read)) => read,
        Ok(Err(BodyError::TooLarge)) => return too_large(ctx),
        Ok(Err(BodyError::NoMemory)) => {
            let detail = format!(
                "the gateway holds as many request bodies as it may right now; retry in {BUSY_RETRY_AFTER_SECS} s"
            );
            let answer = Answer::new(StatusCode::SERVICE_UNAVAILABLE, detail)
                .retry_after(BUSY_RETRY_AFTER_SECS);
            return local(ctx, answer);
        }
        Ok(Err(BodyError::Framing)) => {
            let detail = "the request body is not framed as its head says";
            return local(ctx, Answer::new(StatusCode::BAD_REQUEST, detail));
        }
        Err(_elapsed) => {
            let detail = format!(
                "the request did not arrive within {}",
                humantime::format_duration(ctx.request_timeout)
            );
            return local(ctx, Answer::new(StatusCode::REQUEST_TIMEOUT, detail));
        }
    };

    // Only now, with the body in hand, does the report take a forwarding
    // place: it holds it for the Worker's time alone.
    let Some(_permit) = ctx.forwarder.try_permit() else {
        let detail = format!(
            "too many reports are being forwarded right now; retry in {BUSY_RETRY_AFTER_SECS} s"
        );
        let answer =
            Answer::new(StatusCode::SERVICE_UNAVAILABLE, detail).retry_after(BUSY_RETRY_AFTER_SECS);
        return local(ctx, answer);
    };
    let _forwarding = Forwarding::start(&ctx.metrics);

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
            if !upstream.headers().contains_key(X_CONTENT_TYPE_OPTIONS) {
                answer = answer.header(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
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
            Answer::new(StatusCode::GATEWAY_TIMEOUT, detail).into_response()
        }
        Err(ForwardError::Unreachable(cause)) => {
            ctx.metrics.forwarded(method.as_str(), 502);
            tracing::warn!(
                peer = %peer.ip(), method = %method, status = 502, bytes = sent, elapsed_ms, cause,
                "report not forwarded: the Worker cannot be reached"
            );
            let detail = "the pool's report service cannot be reached; retry later";
            Answer::new(StatusCode::BAD_GATEWAY, detail).into_response()
        }
    }
}

/// Why a body was not read in full.
enum BodyError {
    /// Over the Worker's limit: 413.
    TooLarge,
    /// Over the gateway's body memory (`--body-memory`): 503.
    NoMemory,
    /// Broken chunked framing, or the client closed inside it: 400.
    Framing,
}

/// Reads a request body, up to the Worker's limit, taking its bytes from
/// the body memory as they arrive (not as the head announces them: a
/// client that announces 4 MiB and sends nothing holds nothing).
async fn read_body(
    mut body: Incoming,
    ctx: &HttpContext,
) -> Result<(Bytes, BodyMemoryHeld), BodyError> {
    let mut held = BodyMemoryHeld::new(ctx.body_memory.clone(), ctx.metrics.clone());
    // Kept as they came, and joined once at the end: a growing buffer
    // would hold up to twice the bytes taken from the body memory.
    let mut chunks = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Framing)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers: not forwarded
        };
        if held.bytes + data.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        if !held.take(data.len()) {
            return Err(BodyError::NoMemory);
        }
        chunks.push(data);
    }
    let body = match chunks.len() {
        1 => chunks.pop().unwrap_or_default(),
        _ => Bytes::from(chunks.concat()),
    };
    Ok((body, held))
}

/// Bytes of the body memory one request holds, given back on drop.
struct BodyMemoryHeld {
    memory: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
    bytes: usize,
    metrics: Arc<Metrics>,
}

impl BodyMemoryHeld {
    fn new(memory: Arc<Semaphore>, metrics: Arc<Metrics>) -> BodyMemoryHeld {
        BodyMemoryHeld {
            memory,
            permit: None,
            bytes: 0,
            metrics,
        }
    }

    /// Takes `n` more bytes, or `false` when the memory does not have them.
    fn take(&mut self, n: usize) -> bool {
        let Ok(n32) = u32::try_from(n) else {
            return false;
        };
        if n == 0 {
            return true;
        }
        let Ok(more) = self.memory.clone().try_acquire_many_owned(n32) else {
            return false;
        };
        match &mut self.permit {
            Some(permit) => permit.merge(more),
            None => self.permit = Some(more),
        }
        self.bytes += n;
        self.metrics.body_bytes.inc_by(n as i64);
        true
    }
}

impl Drop for BodyMemoryHeld {
    fn drop(&mut self) {
        self.metrics.body_bytes.dec_by(self.bytes as i64);
    }
}

/// The body memory, `mib` MiB, one permit a byte.
pub fn body_memory(mib: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(
        mib.saturating_mul(1024 * 1024).min(Semaphore::MAX_PERMITS),
    ))
}

/// A report being forwarded, shown by the `forwarding` gauge while it lives.
struct Forwarding<'a>(&'a Metrics);

impl<'a> Forwarding<'a> {
    fn start(metrics: &'a Metrics) -> Forwarding<'a> {
        metrics.forwarding.inc();
        Forwarding(metrics)
    }
}

impl Drop for Forwarding<'_> {
    fn drop(&mut self) {
        self.0.forwarding.dec();
    }
}

fn too_large(ctx: &HttpContext) -> Response<Body> {
    let detail = format!("the body is larger than {MAX_BODY_BYTES} bytes");
    local(ctx, Answer::new(StatusCode::PAYLOAD_TOO_LARGE, detail))
}

/// An answer of the gateway's own, counted.
fn local(ctx: &HttpContext, answer: Answer) -> Response<Body> {
    ctx.metrics.answered_locally(answer.status.as_u16());
    answer.into_response()
}

fn empty() -> Body {
    Full::new(Bytes::new()).map_err(Into::into).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_memory_is_taken_by_the_byte_and_given_back() {
        let metrics = Arc::new(Metrics::new());
        let memory = body_memory(8);
        let mut a = BodyMemoryHeld::new(memory.clone(), metrics.clone());
        let mut b = BodyMemoryHeld::new(memory.clone(), metrics.clone());
        assert!(a.take(4 * 1024 * 1024 - 1));
        assert!(b.take(4 * 1024 * 1024 - 1));
        let mut c = BodyMemoryHeld::new(memory.clone(), metrics.clone());
        assert!(!c.take(150));
        assert!(c.take(2));
        assert_eq!(metrics.body_bytes.get(), 8 * 1024 * 1024);
        drop((a, b, c));
        assert_eq!(metrics.body_bytes.get(), 0);
        assert_eq!(memory.available_permits(), 8 * 1024 * 1024);
    }
}
