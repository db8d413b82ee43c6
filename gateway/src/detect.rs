//! Reads a new connection's first bytes until [`classify`] can decide, for
//! at most the detection deadline and at most [`MAX_PREFIX`] bytes (plus
//! one: a 64-byte SV2 opening is then a short read, which tells tokio the
//! socket is drained and saves the relay a read). The bytes read are kept,
//! to be replayed to whoever gets the connection.

use std::io;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::classify::{classify, Class, Verdict, MAX_PREFIX};

/// Bytes read at most before deciding.
const WINDOW: usize = MAX_PREFIX + 1;

/// What decided a connection's class, as logged and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// An HTTP method token and a space.
    Method,
    /// The start of a JSON-RPC object.
    Json,
    /// Bytes that are neither: SV2.
    Binary,
    /// The deadline passed while the bytes could still have been either:
    /// SV2, with what the client sent.
    Quiet,
    /// The client closed its sending half before the bytes decided: SV2,
    /// with what it sent.
    Closed,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Method => "method",
            Reason::Json => "json",
            Reason::Binary => "binary",
            Reason::Quiet => "quiet",
            Reason::Closed => "closed",
        }
    }
}

/// A classified connection's first bytes.
#[derive(Debug, Clone)]
pub struct Opening {
    pub class: Class,
    pub reason: Reason,
    buf: [u8; WINDOW],
    len: usize,
}

impl Opening {
    /// The bytes read so far, to be replayed.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Reads `stream`'s first bytes until they decide, `timeout` passes, or the
/// client stops sending. `None`: the client closed without sending a byte.
pub async fn read_opening(
    stream: &mut TcpStream,
    timeout: Duration,
) -> io::Result<Option<Opening>> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; WINDOW];
    let mut len = 0;
    let (class, reason) = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf[len..])).await {
            Err(_elapsed) => break (Class::Sv2, Reason::Quiet),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(0)) if len == 0 => return Ok(None),
            Ok(Ok(0)) => break (Class::Sv2, Reason::Closed),
            Ok(Ok(n)) => {
                len += n;
                if let Verdict::Decided(class) = classify(&buf[..len]) {
                    let reason = match class {
                        Class::Http => Reason::Method,
                        Class::Sv1 => Reason::Json,
                        Class::Sv2 => Reason::Binary,
                    };
                    break (class, reason);
                }
            }
        }
    };
    Ok(Some(Opening {
        class,
        reason,
        buf,
        len,
    }))
}
