//! Relays a miner's connection to the pool's listener, byte for byte.
//!
//! How it behaves, and why:
//! - **No Nagle delay.** Both legs set `TCP_NODELAY`: mining replies are
//!   small and come in pairs (a job, then a target), and with Nagle the
//!   second waits for the first one's delayed ACK, 40 ms on Linux.
//! - **Half-close carried through.** When one side shuts down its sending
//!   half (FIN), the gateway shuts down the same half towards the other
//!   side and keeps relaying the other direction, so a late reply still
//!   arrives. The relay ends when both directions have ended.
//! - **Closes and resets propagate at once.** A read or write error on
//!   either leg ends the relay and closes both sockets.
//! - **No idle timeout.** Mining connections sit idle between jobs for as
//!   long as they like. A miner that vanishes is noticed when the pool's
//!   next job to it cannot be delivered, or when the pool closes its side.
//! - **No buffer while idle.** Each direction waits for readability first
//!   and takes a buffer (from a small per-thread stock) only while data
//!   flows, so an idle connection costs its two sockets and a small task,
//!   not two buffers (see the RSS figure of `npm run bench-gateway`).
//! - **PROXY protocol v2** (`--proxy-protocol`): the pool's listener gets a
//!   binary header naming the miner's address before the miner's bytes.

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use ppp::v2::{Builder, Command, Protocol, Version};
use prometheus_client::metrics::counter::Counter;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use crate::config::BACKEND_CONNECT_TIMEOUT;

/// Bytes read at a time while data flows. Mining messages are far
/// smaller; a larger chunk would only speed up bulk transfers nobody makes.
const CHUNK: usize = 8 * 1024;

/// Sets the socket option every leg gets: `TCP_NODELAY`.
pub fn tune(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)
}

/// Where and how a class of connection is relayed.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub addr: SocketAddr,
    pub proxy_protocol: bool,
}

/// Why a relay ended early.
#[derive(Debug)]
pub enum RelayError {
    /// The pool's listener could not be reached.
    Connect(io::Error),
    /// A leg failed (reset, broken pipe) after the relay started.
    Io(io::Error),
}

/// Byte counters of one relay's two directions.
pub struct Counters<'a> {
    pub up: &'a Counter,
    pub down: &'a Counter,
}

/// Connects to `backend`, sends the PROXY header if asked and the bytes
/// `opening` already read from the miner, then relays both ways until both
/// directions have ended or either leg fails.
pub async fn relay(
    mut client: TcpStream,
    opening: &[u8],
    backend: Backend,
    counters: Counters<'_>,
) -> Result<(), RelayError> {
    let mut server =
        tokio::time::timeout(BACKEND_CONNECT_TIMEOUT, TcpStream::connect(backend.addr))
            .await
            .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut)))
            .map_err(RelayError::Connect)?;
    tune(&server).map_err(RelayError::Io)?;

    let mut first = Vec::with_capacity(opening.len() + 64);
    if backend.proxy_protocol {
        let header =
            proxy_header(client.peer_addr(), client.local_addr()).map_err(RelayError::Io)?;
        first.extend_from_slice(&header);
    }
    first.extend_from_slice(opening);
    server.write_all(&first).await.map_err(RelayError::Io)?;
    counters.up.inc_by(opening.len() as u64);
    drop(first);

    let (mut client_in, mut client_out) = client.split();
    let (mut server_in, mut server_out) = server.split();
    let ended = AtomicBool::new(false);
    tokio::try_join!(
        pump(&mut client_in, &mut server_out, counters.up, &ended),
        pump(&mut server_in, &mut client_out, counters.down, &ended),
    )
    .map(|_| ())
    .map_err(RelayError::Io)
}

/// Copies `from` to `to` until `from` ends, then shuts down `to`'s sending
/// half, unless the other direction has already ended: then both sockets
/// are about to be closed, which says the same. A buffer is held only while
/// bytes are flowing, and each wakeup costs one read: a short read tells
/// tokio the socket is drained.
async fn pump(
    from: &mut ReadHalf<'_>,
    to: &mut WriteHalf<'_>,
    bytes: &Counter,
    ended: &AtomicBool,
) -> io::Result<()> {
    loop {
        // The stream's own reader wakeup slot: this pump is its only reader.
        poll_fn(|cx| from.as_ref().poll_read_ready(cx)).await?;
        let mut buf = spare::take();
        let mut read = ReadBuf::new(&mut buf);
        let polled = poll_fn(|cx| match Pin::new(&mut *from).poll_read(cx, &mut read) {
            // Readiness was stale: go back to waiting, without the buffer.
            Poll::Pending => Poll::Ready(None),
            Poll::Ready(result) => Poll::Ready(Some(result)),
        })
        .await;
        let n = read.filled().len();
        let Some(result) = polled else {
            spare::give(buf);
            continue;
        };
        result?;
        if n == 0 {
            spare::give(buf);
            if ended.swap(true, Ordering::Relaxed) {
                return Ok(());
            }
            // The peer's FIN: pass it on. A peer that is already gone makes
            // this fail, which ends the relay anyway.
            return match to.shutdown().await {
                Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
                _ => Ok(()),
            };
        }
        to.write_all(&buf[..n]).await?;
        spare::give(buf);
        bytes.inc_by(n as u64);
    }
}

/// Relay buffers between uses, per thread (a connection stays on the
/// thread that accepted it): a wakeup takes one and gives it back once its
/// bytes are written, so buffers are reused instead of allocated and
/// zeroed for every message, and idle connections hold none.
mod spare {
    use std::cell::RefCell;

    use super::CHUNK;

    /// Buffers kept per thread; more in use at once are allocated and freed.
    const KEEP: usize = 64;

    thread_local! {
        static SPARE: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
    }

    pub fn take() -> Box<[u8]> {
        SPARE
            .with(|spare| spare.borrow_mut().pop())
            .unwrap_or_else(|| vec![0u8; CHUNK].into_boxed_slice())
    }

    pub fn give(buf: Box<[u8]>) {
        SPARE.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < KEEP {
                spare.push(buf);
            }
        });
    }
}

/// A PROXY protocol v2 header: a TCP connection from `source` to
/// `destination`. Addresses of mixed families (an IPv4 client on a
/// dual-stack listener) are both written as IPv6.
pub fn proxy_header(
    source: io::Result<SocketAddr>,
    destination: io::Result<SocketAddr>,
) -> io::Result<Vec<u8>> {
    let (source, destination) = same_family(canonical(source?), canonical(destination?));
    Builder::with_addresses(
        Version::Two | Command::Proxy,
        Protocol::Stream,
        (source, destination),
    )
    .build()
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

fn same_family(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    let v6 = |addr: SocketAddr| match addr.ip() {
        IpAddr::V4(ip) => SocketAddr::new(IpAddr::V6(ip.to_ipv6_mapped()), addr.port()),
        IpAddr::V6(_) => addr,
    };
    if a.is_ipv4() == b.is_ipv4() {
        (a, b)
    } else {
        (v6(a), v6(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers_name_both_ends_in_one_family() {
        let client: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let port: SocketAddr = "198.51.100.1:3333".parse().unwrap();
        let header = proxy_header(Ok(client), Ok(port)).unwrap();
        // Signature, v2 PROXY, TCP over IPv4, 12 address bytes.
        assert_eq!(&header[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(header[12], 0x21);
        assert_eq!(header[13], 0x11);
        assert_eq!(u16::from_be_bytes([header[14], header[15]]), 12);
        assert_eq!(&header[16..20], &[192, 0, 2, 7]);
        assert_eq!(&header[20..24], &[198, 51, 100, 1]);
        assert_eq!(u16::from_be_bytes([header[24], header[25]]), 40000);
        assert_eq!(u16::from_be_bytes([header[26], header[27]]), 3333);

        // A v4-mapped client on a dual-stack listener is written as IPv4.
        let mapped: SocketAddr = "[::ffff:192.0.2.7]:40000".parse().unwrap();
        assert_eq!(proxy_header(Ok(mapped), Ok(port)).unwrap(), header);
        // Mixed families become IPv6.
        let v6: SocketAddr = "[2001:db8::1]:3333".parse().unwrap();
        let mixed = proxy_header(Ok(client), Ok(v6)).unwrap();
        assert_eq!(mixed[13], 0x21);
    }
}
