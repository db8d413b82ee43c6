//! The metrics endpoint: `GET /metrics` on its own address (`--metrics`),
//! apart from the mining port, so it can be bound to a private interface.
//! One request per connection, as on the mining port, and the same answers
//! of the gateway's own for everything else.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::Metrics;
use crate::answer::{Answer, OwnAnswers, MAX_HEADER_BYTES};
use crate::config::ACCEPT_BACKOFF;
use crate::error::Error;
use crate::shutdown::Shutdown;

/// Binds the metrics address; nothing is served until [`serve`].
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| Error::listen(&format!("the metrics address {addr}"), &e))
}

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, mut shutdown: Shutdown) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.wait() => return,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            // hyper's own answers to what it cannot parse are replaced by
            // the gateway's, as on the mining port.
            let routed = Arc::new(AtomicBool::new(false));
            let io = OwnAnswers::new(stream, routed.clone(), None);
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                routed.store(true, Ordering::Release);
                let metrics = metrics.clone();
                async move {
                    if req.uri().path() != "/metrics" {
                        let answer = Answer::new(
                            hyper::StatusCode::NOT_FOUND,
                            "nothing is served at this path; metrics are at /metrics",
                        );
                        return Ok::<_, Infallible>(answer.into_response());
                    }
                    let mut answer = hyper::Response::new(
                        Full::new(Bytes::from(metrics.render()))
                            .map_err(Into::into)
                            .boxed(),
                    );
                    let headers = answer.headers_mut();
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
                    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    Ok(answer)
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(false)
                // The mining port's limit on a head, which the 431 answer
                // names.
                .max_buf_size(MAX_HEADER_BYTES)
                .max_header_size(MAX_HEADER_BYTES)
                .serve_connection(TokioIo::new(io), service)
                .await;
        });
    }
}
