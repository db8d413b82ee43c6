//! The answers the gateway writes itself, built in one place, so each
//! carries what the Worker's answers carry: an RFC 9457
//! `application/problem+json` body, `X-Content-Type-Options: nosniff`,
//! `Cache-Control: no-store` and `Connection: close`. Details are fixed
//! sentences and the gateway's own numbers: nothing from the request is
//! repeated in them.
//!
//! Most answers go out through hyper ([`Answer::into_response`]). Two are
//! written on the wire directly ([`Answer::to_wire`]): the refusal of an
//! address over its share, sent before hyper reads anything
//! ([`Answer::write_and_close`]), and the answers hyper gives on its own to
//! a request it cannot parse (400, 414, 431), which [`OwnAnswers`]
//! replaces with the gateway's. Either way the connection is closed after
//! the answer, and what the client still sends is dropped for up to
//! [`LINGER`] first, so the answer is not lost to a reset.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use dmr_shared::api::PROBLEM_CONTENT_TYPE;
use dmr_shared::Problem;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, RETRY_AFTER,
    X_CONTENT_TYPE_OPTIONS,
};
use hyper::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::metrics::Metrics;

/// Longest request head (request line and headers) either HTTP server of
/// the gateway reads, the mining port's and the metrics address's; the 431
/// answer names it. A JDC's head is a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Most header lines hyper parses (its default, left as it is: setting it
/// moves each request's headers from the stack to the heap); the 431 answer
/// names it too.
pub const MAX_HEADERS: usize = 100;

/// After an answer, how long the gateway goes on reading (and dropping)
/// what the client still sends before it closes, and how much of it:
/// closing a socket with unread bytes resets the connection, and the
/// client could lose the answer it has not read yet.
pub const LINGER: Duration = Duration::from_secs(1);
pub const LINGER_BYTES: usize = 64 * 1024;

/// A response body, as hyper serves it.
pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// An answer of the gateway's own.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub detail: String,
    retry_after: Option<u32>,
    allow: Option<&'static str>,
}

impl Answer {
    /// `status`, with `detail` for a person to act on.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Answer {
        Answer {
            status,
            detail: detail.into(),
            retry_after: None,
            allow: None,
        }
    }

    /// The same, with `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u32) -> Answer {
        self.retry_after = Some(secs);
        self
    }

    /// The same, with `Allow: methods`.
    pub fn allow(mut self, methods: &'static str) -> Answer {
        self.allow = Some(methods);
        self
    }

    /// The answer to a request hyper could not parse, whose own answer had
    /// `status`: the gateway's, with the same status.
    pub fn unparsable(status: StatusCode) -> Answer {
        match status.as_u16() {
            431 => Answer::new(
                status,
                format!(
                    "the request head is longer than {MAX_HEADER_BYTES} bytes or has more than {MAX_HEADERS} header lines"
                ),
            ),
            414 => Answer::new(status, "the request target is too long"),
            _ => Answer::new(StatusCode::BAD_REQUEST, "the request is not valid HTTP/1.1"),
        }
    }

    /// The short, fixed title of the status, as the Worker words them.
    pub fn title(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "Bad request",
            404 => "Not found",
            405 => "Method not allowed",
            408 => "Request timeout",
            413 => "Payload too large",
            414 => "URI too long",
            429 => "Too many requests",
            431 => "Request header fields too large",
            502 => "Bad gateway",
            503 => "Service unavailable",
            504 => "Gateway timeout",
            _ => self.status.canonical_reason().unwrap_or("Error"),
        }
    }

    /// The problem body.
    pub fn body(&self) -> Vec<u8> {
        let problem = Problem::new(self.status.as_u16(), self.title(), self.detail.clone());
        serde_json::to_vec(&problem).unwrap_or_default()
    }

    /// Every header but the framing (`Content-Length`).
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            // Each connection carries one request (see `crate::http`).
            (CONNECTION, HeaderValue::from_static("close")),
        ];
        if let Some(secs) = self.retry_after {
            headers.push((RETRY_AFTER, HeaderValue::from(secs)));
        }
        if let Some(methods) = self.allow {
            headers.push((ALLOW, HeaderValue::from_static(methods)));
        }
        headers
    }

    /// The answer as hyper serves it.
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(
            Full::new(Bytes::from(self.body()))
                .map_err(Into::into)
                .boxed(),
        );
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers() {
            headers.insert(name, value);
        }
        response
    }

    /// Writes the answer on `stream`, before anything of the request was
    /// read, and closes it after up to [`LINGER`] of dropping what the
    /// client still sends.
    pub async fn write_and_close(&self, stream: &mut TcpStream) {
        let wire = self.to_wire();
        let written = tokio::time::timeout(LINGER, async {
            stream.write_all(&wire).await?;
            stream.shutdown().await
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            return;
        }
        let _ = tokio::time::timeout(LINGER, async {
            let mut scratch = [0u8; 4096];
            let mut dropped = 0;
            while dropped < LINGER_BYTES {
                match stream.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => dropped += n,
                }
            }
        })
        .await;
    }

    /// The answer as HTTP/1.1 bytes, for the wire.
    pub fn to_wire(&self) -> Vec<u8> {
        let body = self.body();
        let mut wire = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or("Error")
        )
        .into_bytes();
        for (name, value) in self.headers() {
            wire.extend_from_slice(name.as_str().as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend_from_slice(value.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        wire.extend_from_slice(&body);
        wire
    }
}

/// An HTTP connection's IO, whose writes before the request reached the
/// gateway's routes are hyper's own answers to a request it could not
/// parse (its bare 400, 414 or 431, which hyper writes only then and
/// without a hook to change them). Those bytes are replaced by the
/// gateway's [`Answer::unparsable`] with the same status; everything else
/// passes through. When hyper closes the connection, what the client still
/// sends is read and dropped for up to [`LINGER`] first.
#[derive(Debug)]
pub struct OwnAnswers<T> {
    inner: T,
    /// Set by the service once a request reached the routes.
    routed: Arc<AtomicBool>,
    /// Where a replaced answer is counted (the mining port's; the metrics
    /// address's are not counted).
    metrics: Option<Arc<Metrics>>,
    replacing: Replacing,
    /// Once the sending half is shut: until when, and how much more, the
    /// client's bytes are dropped before the close.
    lingering: Option<(Pin<Box<Sleep>>, usize)>,
}

#[derive(Debug)]
enum Replacing {
    /// Nothing replaced (yet).
    No,
    /// The gateway's answer, still being written.
    Writing(Bytes),
    /// Written: whatever hyper writes now is dropped.
    Done,
}

impl<T> OwnAnswers<T> {
    pub fn new(inner: T, routed: Arc<AtomicBool>, metrics: Option<Arc<Metrics>>) -> OwnAnswers<T> {
        OwnAnswers {
            inner,
            routed,
            metrics,
            replacing: Replacing::No,
            lingering: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> OwnAnswers<T> {
    /// Writes the replacement answer (starting it, from hyper's first bytes
    /// `first`, if need be) until it is all out.
    fn poll_replace(&mut self, cx: &mut Context<'_>, first: &[u8]) -> Poll<io::Result<()>> {
        if let Replacing::No = self.replacing {
            // `HTTP/1.1 431 ...`: the status is at bytes 9 to 12.
            let status = first
                .get(9..12)
                .and_then(|code| std::str::from_utf8(code).ok())
                .and_then(|code| code.parse::<u16>().ok())
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            let answer = Answer::unparsable(status);
            if let Some(metrics) = &self.metrics {
                metrics.answered_locally(answer.status.as_u16());
            }
            self.replacing = Replacing::Writing(Bytes::from(answer.to_wire()));
        }
        while let Replacing::Writing(pending) = &mut self.replacing {
            if pending.is_empty() {
                self.replacing = Replacing::Done;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            pending.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    fn routed(&self) -> bool {
        matches!(self.replacing, Replacing::No) && self.routed.load(Ordering::Acquire)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for OwnAnswers<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for OwnAnswers<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.routed() {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        }
        ready!(self.poll_replace(cx, buf))?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.routed() {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
        ready!(self.poll_replace(cx, first))?;
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Replacing::Writing(_) = self.replacing {
            ready!(self.poll_replace(cx, &[]))?;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Replacing::Writing(_) = self.replacing {
            ready!(self.poll_replace(cx, &[]))?;
        }
        let this = &mut *self;
        if this.lingering.is_none() {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.lingering = Some((Box::pin(tokio::time::sleep(LINGER)), LINGER_BYTES));
        }
        let Some((deadline, left)) = &mut this.lingering else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; 4096];
        while *left > 0 {
            if deadline.as_mut().poll(cx).is_ready() {
                break;
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf)) {
                Ok(()) if !buf.filled().is_empty() => {
                    *left = left.saturating_sub(buf.filled().len());
                }
                // The client's FIN, or an error: nothing more to wait for.
                _ => break,
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_carries_the_safety_headers_and_a_problem() {
        let answer = Answer::new(StatusCode::TOO_MANY_REQUESTS, "slow down").retry_after(5);
        let wire = String::from_utf8(answer.to_wire()).unwrap();
        let (head, body) = wire.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"),
            "{head}"
        );
        for line in [
            "content-type: application/problem+json",
            "x-content-type-options: nosniff",
            "cache-control: no-store",
            "connection: close",
            "retry-after: 5",
            &format!("content-length: {}", body.len()),
        ] {
            assert!(
                head.lines().any(|l| l == line),
                "{line} missing from {head}"
            );
        }
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!(problem, Problem::new(429, "Too many requests", "slow down"));
        let response = answer.into_response();
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(response.headers()[RETRY_AFTER], "5");
    }

    #[test]
    fn hypers_own_statuses_become_the_gateways() {
        for (status, expected) in [(431, 431), (414, 414), (400, 400), (505, 400)] {
            let answer = Answer::unparsable(StatusCode::from_u16(status).unwrap());
            assert_eq!(answer.status.as_u16(), expected);
            assert!(!answer.detail.is_empty());
        }
    }
}
