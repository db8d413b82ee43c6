//! The listener loop and each connection's life.
//!
//! The mining port has one listener per thread (`SO_REUSEPORT`), and each
//! thread runs its own single-threaded runtime: the kernel spreads new
//! connections over the threads, and a connection stays on the thread that
//! accepted it, so no other thread is woken on its behalf.
//!
//! A connection is accepted only with a place among `max_connections` (a
//! semaphore shared by the threads: at the limit, accepting pauses and new
//! miners wait in the kernel's backlog), and gets a task of its own. The
//! task reads the opening bytes (see [`crate::detect`]), logs one line
//! naming the class, and hands the connection over: to the relay for SV2
//! and SV1, to hyper for HTTP. Its place is given back when the connection
//! ends.
//!
//! Shutdown (SIGTERM): the listeners close at once, HTTP connections finish
//! the request in progress and close, connections still being classified
//! are dropped, and relays go on until they end or `drain_timeout` passes,
//! whichever is first; then whatever remains is closed.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::answer::{Answer, OwnAnswers};
use crate::classify::{one_byte_rule, Class};
use crate::config::Config;
use crate::detect::read_opening;
use crate::error::Error;
use crate::forward::Forwarder;
use crate::http::{self, HttpContext};
use crate::metrics::{self, Metrics};
use crate::relay::{self, Backend, Counters, RelayError};
use crate::share::Shares;

/// Pause after a failed `accept` (out of file descriptors, mostly), so a
/// full table is not retried in a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What every connection's task shares.
#[derive(Debug)]
struct Shared {
    sv2: Backend,
    sv1: Option<Backend>,
    detect_timeout: Duration,
    metrics: Arc<Metrics>,
    http: Arc<HttpContext>,
}

/// A bound, not yet running gateway.
#[derive(Debug)]
pub struct Gateway {
    /// One listener per thread, all on the mining port (`SO_REUSEPORT`).
    listeners: Vec<std::net::TcpListener>,
    metrics_listener: Option<std::net::TcpListener>,
    shared: Arc<Shared>,
    max_connections: usize,
    drain_timeout: Duration,
}

impl Gateway {
    /// Opens the mining port (and the metrics port) and sets up the way to
    /// the Worker. Nothing is accepted until [`Gateway::run`].
    pub async fn bind(config: Config) -> Result<Gateway, Error> {
        config.check()?;
        let port_error =
            |e: io::Error| Error::listen(&format!("the mining port {}", config.listen), &e);
        let first = listen(config.listen, config.max_connections).map_err(port_error)?;
        // The others take the port the first got (the system's choice for 0).
        let addr = first.local_addr().map_err(port_error)?;
        let mut listeners = vec![first];
        for _ in 1..config.threads.max(1) {
            listeners.push(listen(addr, config.max_connections).map_err(port_error)?);
        }
        let metrics_listener = match config.metrics {
            Some(addr) => Some(
                std::net::TcpListener::bind(addr)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|e| Error::listen(&format!("the metrics address {addr}"), &e))?,
            ),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let backend = |addr| Backend {
            addr,
            proxy_protocol: config.proxy_protocol,
        };
        let http = Arc::new(HttpContext {
            forwarder: Forwarder::new(&config)?,
            metrics: metrics.clone(),
            shares: Arc::new(Shares::new(
                config.max_requests_per_address,
                metrics.clone(),
            )),
            body_memory: http::body_memory(config.body_memory_mib),
            request_timeout: config.request_timeout,
        });
        Ok(Gateway {
            listeners,
            metrics_listener,
            shared: Arc::new(Shared {
                sv2: backend(config.sv2),
                sv1: config.sv1.map(backend),
                detect_timeout: config.detect_timeout,
                metrics,
                http,
            }),
            max_connections: config.max_connections.max(1),
            drain_timeout: config.drain_timeout,
        })
    }

    /// The mining port's address (with the port the system chose, if 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listeners[0]
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The metrics address, if metrics are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// The gateway's metrics.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// Serves until `shutdown` completes, then drains (see the module
    /// docs). Connections are served by one thread per listener, each with
    /// a single-threaded runtime: a connection lives on the thread that
    /// accepted it, so nothing wakes another thread on its behalf. The
    /// caller's runtime waits for `shutdown`, serves the metrics and runs
    /// the drain.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (end_tx, end_rx) = watch::channel(false);
        let places = Arc::new(Semaphore::new(self.max_connections));
        if let Some(listener) = self.metrics_listener {
            match TcpListener::from_std(listener) {
                Ok(listener) => {
                    tokio::spawn(serve_metrics(
                        listener,
                        self.shared.metrics.clone(),
                        stop_rx.clone(),
                    ));
                }
                Err(e) => tracing::error!(error = %e, "cannot serve metrics"),
            }
        }
        let mut exited = Vec::new();
        for (i, listener) in self.listeners.into_iter().enumerate() {
            let (exit_tx, exit_rx) = oneshot::channel::<()>();
            let (shared, places) = (self.shared.clone(), places.clone());
            let (stop, mut end) = (stop_rx.clone(), end_rx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("gateway-{i}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => runtime.block_on(async move {
                            accept(listener, shared, places, stop).await;
                            // Relays go on here until the drain is over;
                            // dropping the runtime then closes the rest.
                            let _ = end.wait_for(|end| *end).await;
                        }),
                        Err(e) => tracing::error!(error = %e, "cannot start a serving thread"),
                    }
                    drop(exit_tx);
                });
            match thread {
                Ok(_) => exited.push(exit_rx),
                Err(e) => tracing::error!(error = %e, "cannot start a serving thread"),
            }
        }

        shutdown.await;
        let open = self.shared.metrics.open_connections();
        tracing::info!(open, drain_timeout = ?self.drain_timeout, "shutting down: no new connections");
        let _ = stop_tx.send(true);
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(self.drain_timeout, places.acquire_many(all))
            .await
            .is_ok();
        if drained {
            tracing::info!("every connection has ended");
        } else {
            let open = self.shared.metrics.open_connections();
            tracing::warn!(
                open,
                "drain time is over; closing the remaining connections"
            );
        }
        let _ = end_tx.send(true);
        for exit in exited {
            let _ = exit.await;
        }
    }
}

/// One thread's accept loop, until shutdown begins: a place first, then a
/// connection, then a task for it on this thread.
async fn accept(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    places: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "cannot accept on the mining port");
            return;
        }
    };
    loop {
        let place = tokio::select! {
            place = places.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            () = stopped(&mut stop) => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(connection(
                    stream,
                    peer,
                    shared.clone(),
                    stop.clone(),
                    place,
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection; pausing");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// One of the mining port's listeners (`SO_REUSEPORT`: the kernel spreads
/// new connections over them). Its backlog is as deep as the connection
/// limit (the kernel caps it at `net.core.somaxconn`): after a pool restart
/// thousands of miners reconnect at once, and with a shallow queue their
/// SYNs are dropped and retried a second later.
fn listen(addr: SocketAddr, max_connections: usize) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    let backlog = i32::try_from(max_connections.clamp(1024, 65_535)).unwrap_or(65_535);
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// One connection, from accept to close.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    _place: OwnedSemaphorePermit,
) {
    let started = Instant::now();
    let metrics = &shared.metrics;
    if let Err(e) = relay::tune(&stream) {
        tracing::debug!(peer = %peer, error = %e, "connection gone before it was set up");
        return;
    }
    metrics.detecting.inc();
    let opening = tokio::select! {
        opening = read_opening(&mut stream, shared.detect_timeout) => opening,
        () = stopped(&mut stop) => Ok(None),
    };
    metrics.detecting.dec();
    let opening = match opening {
        Ok(Some(opening)) => opening,
        Ok(None) => return,
        Err(e) => {
            tracing::debug!(peer = %peer, error = %e, "connection failed before it was classified");
            return;
        }
    };
    let class = opening.class;
    let per_class = metrics.class(class);
    per_class.connections.inc();
    metrics.decided(class, opening.reason);
    let disagrees = opening
        .bytes()
        .first()
        .is_some_and(|first| one_byte_rule(*first) != class);
    if disagrees {
        per_class.one_byte_rule_disagrees.inc();
    }
    tracing::info!(
        peer = %peer, class = class.name(), reason = opening.reason.name(),
        bytes = opening.bytes().len(), one_byte_rule_disagrees = disagrees,
        "connection"
    );

    per_class.open.inc();
    let backend = match class {
        Class::Sv2 => Some(shared.sv2),
        Class::Sv1 => shared.sv1,
        Class::Http => None,
    };
    match (class, backend) {
        (Class::Http, _) => {
            let opening = Bytes::copy_from_slice(opening.bytes());
            // Boxed: hyper's connection state is large, and every relayed
            // connection's task would otherwise reserve room for it.
            Box::pin(http::serve(
                stream,
                opening,
                peer,
                shared.http.clone(),
                stop,
            ))
            .await;
        }
        (_, Some(backend)) => {
            let counters = Counters {
                up: &per_class.bytes_up,
                down: &per_class.bytes_down,
            };
            match relay::relay(stream, opening.bytes(), backend, counters).await {
                Ok(()) => {}
                Err(RelayError::Connect(e)) => {
                    per_class.backend_failures.inc();
                    tracing::warn!(
                        peer = %peer, class = class.name(), backend = %backend.addr, error = %e,
                        "the pool's listener cannot be reached; connection closed"
                    );
                }
                Err(RelayError::Io(e)) => {
                    tracing::debug!(peer = %peer, class = class.name(), error = %e, "relay ended by an error");
                }
            }
        }
        (_, None) => {
            per_class.backend_failures.inc();
            tracing::warn!(
                peer = %peer, class = class.name(),
                "no --sv1 listener is configured; SV1 connection closed"
            );
        }
    }
    per_class.open.dec();
    tracing::debug!(
        peer = %peer, class = class.name(), seconds = started.elapsed().as_secs_f64(),
        "connection closed"
    );
}

/// Completes once shutdown has begun.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// `GET /metrics` on the metrics address, until shutdown.
async fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>, stop: watch::Receiver<bool>) {
    loop {
        let mut stop = stop.clone();
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => return,
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
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static(metrics::CONTENT_TYPE),
                    );
                    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    Ok(answer)
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(io), service)
                .await;
        });
    }
}

/// Raises this process's open-file limit to its hard limit (each relayed
/// connection needs two descriptors) and returns it.
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    // `rlim_t` is narrower than u64 on 32-bit targets.
    #[allow(clippy::unnecessary_cast)]
    Ok(limit.rlim_cur as u64)
}
