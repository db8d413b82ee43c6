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
//! whichever is first; then whatever remains is closed. Each task learns
//! that shutdown has begun from a [`Shutdown`] signal (see
//! [`crate::shutdown`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::classify::{one_byte_rule, Class};
use crate::config::{Config, ACCEPT_BACKOFF};
use crate::detect::read_opening;
use crate::error::Error;
use crate::forward::Forwarder;
use crate::http::{self, HttpContext};
use crate::metrics::{endpoint, Metrics};
use crate::relay::{self, Backend, Counters, RelayError};
use crate::share::Shares;
use crate::shutdown::{Shutdown, Trigger};

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
        let metrics_listener = config.metrics.map(endpoint::bind).transpose()?;
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
        // Shutdown begins: the listeners stop and HTTP finishes up.
        let stop = Trigger::new();
        // The drain is over: each serving thread closes what remains.
        let end = Trigger::new();
        let places = Arc::new(Semaphore::new(self.max_connections));
        if let Some(listener) = self.metrics_listener {
            match TcpListener::from_std(listener) {
                Ok(listener) => {
                    tokio::spawn(endpoint::serve(
                        listener,
                        self.shared.metrics.clone(),
                        stop.subscribe(),
                    ));
                }
                Err(e) => tracing::error!(error = %e, "cannot serve metrics"),
            }
        }
        let mut exited = Vec::new();
        for (i, listener) in self.listeners.into_iter().enumerate() {
            let (exit_tx, exit_rx) = oneshot::channel::<()>();
            let (shared, places) = (self.shared.clone(), places.clone());
            let (stopping, mut drained) = (stop.subscribe(), end.subscribe());
            let thread = std::thread::Builder::new()
                .name(format!("gateway-{i}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => runtime.block_on(async move {
                            accept(listener, shared, places, stopping).await;
                            // Relays go on here until the drain is over;
                            // dropping the runtime then closes the rest.
                            drained.wait().await;
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
        stop.begin();
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
        end.begin();
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
    mut stop: Shutdown,
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
            () = stop.wait() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.wait() => return,
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
    mut stop: Shutdown,
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
        () = stop.wait() => Ok(None),
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
