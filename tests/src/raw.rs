//! HTTP/1.1 over a plain socket, for what an HTTP client hides: the exact
//! bytes of an answer (a `HEAD` must have headers and nothing after them)
//! and an answer that comes before the request's body was sent.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Longest wait for any read of an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer as it came over the wire.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    /// Header names lowercased, values as sent, in the order sent.
    pub headers: Vec<(String, String)>,
    /// Every byte after the blank line that ends the head.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The value of header `name` (any case), if sent once or more.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Connects to the server on loopback `port`.
pub fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    stream
}

/// Sends `method path` with `headers` and no body, `Connection: close`, and
/// reads the whole answer until the server closes.
pub fn exchange(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> RawAnswer {
    let mut stream = connect(port);
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("answer");
    parse(&bytes)
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(&bytes)))
}

/// Reads from `stream` until a whole head has arrived, and returns it with
/// what came after it so far; `None` if the server closed first.
pub fn read_head(stream: &mut TcpStream) -> Option<RawAnswer> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    // Bounded by the read timeout of each read and the size of a head.
    while bytes.len() < 1024 * 1024 {
        if let Some(answer) = parse(&bytes) {
            return Some(answer);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return parse(&bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
    None
}

/// An answer's status line and headers, and what follows them; `None`
/// until the blank line that ends the head has arrived.
pub fn parse(bytes: &[u8]) -> Option<RawAnswer> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(RawAnswer {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    })
}
