//! Report bodies at the limits, for the end-to-end tests and the memory
//! figure: the largest report the pool accepts, and the hostile shapes it
//! accepts too (just under the body limit, all of it in a member the pool
//! does not know). And a POST sent in chunks, with no `Content-Length`.

use std::io::{Read, Write};
use std::time::Duration;

use dmr_shared::api::REPORTS_PATH;
use dmr_shared::limits::{MAX_BODY_BYTES, MAX_FIELD_LEN, MAX_MINERS, MAX_OBJECT_MEMBERS};
use serde_json::{json, Value};

use crate::{report, Worker};

/// A miner with every string at its longest: the hardware version and
/// firmware are 255 `"` each, which JSON escapes to twice that.
fn longest_miner(i: usize) -> Value {
    let quotes = "\"".repeat(MAX_FIELD_LEN);
    json!({
        "vendor": format!("{:v<width$}", "bitaxe", width = MAX_FIELD_LEN),
        "hardwareVersion": quotes,
        "firmware": quotes,
        "deviceId": format!("{i:d>width$}", width = MAX_FIELD_LEN),
        "nominalHashRate": 1.234_567_890_123e15 + i as f64,
        "userIdentity": format!("{i:u>width$}", width = MAX_FIELD_LEN),
        "connectedAt": "2026-02-15T11:30:00.123456789+05:30",
    })
}

/// The largest report the pool stores: 2,000 miners with every string at
/// its longest, just under 4 MiB. Stored, it is about as large.
pub fn largest_report(identity: &str) -> Vec<u8> {
    let body = report(identity, (0..MAX_MINERS).map(longest_miner).collect())
        .to_string()
        .into_bytes();
    assert!(
        body.len() <= MAX_BODY_BYTES && body.len() > MAX_BODY_BYTES * 9 / 10,
        "{} bytes",
        body.len()
    );
    body
}

/// A valid report from `identity` whose member `extra` (unknown to the
/// pool) is `open`, then `unit` repeated with `separator` as often as fits,
/// then `close`: just under the body limit.
pub fn padded_report(
    identity: &str,
    unit: &str,
    separator: &str,
    open: &str,
    close: &str,
) -> Vec<u8> {
    let base = report(identity, vec![crate::miner("bitaxe", 1e12, "w")]).to_string();
    let room = MAX_BODY_BYTES - base.len() - ",\"extra\":".len() - open.len() - close.len() - 1;
    let count = room / (unit.len() + separator.len());
    let mut body = String::with_capacity(MAX_BODY_BYTES);
    body.push_str(&base[..base.len() - 1]);
    body.push_str(",\"extra\":");
    body.push_str(open);
    for i in 0..count {
        if i > 0 {
            body.push_str(separator);
        }
        body.push_str(unit);
    }
    body.push_str(close);
    body.push('}');
    assert!(body.len() <= MAX_BODY_BYTES, "{} bytes", body.len());
    body.into_bytes()
}

/// An object of [`MAX_OBJECT_MEMBERS`] distinct members.
pub fn widest_object() -> String {
    let members: Vec<String> = (0..MAX_OBJECT_MEMBERS)
        .map(|k| format!("\"k{k}\":{k}"))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// The accepted bodies that cost the most to read, by name: the largest
/// report, and 4 MiB of an unknown member made of numbers (the shape that
/// used to grow the Worker by ~17 MB each), of the widest objects, of one
/// string, and of nested arrays.
pub fn worst_accepted(identity: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "largest report (2,000 miners, longest strings)",
            largest_report(identity),
        ),
        (
            "unknown array of numbers",
            padded_report(identity, "0", ",", "[", "]"),
        ),
        (
            "unknown array of 1,000-member objects",
            padded_report(identity, &widest_object(), ",", "[", "]"),
        ),
        (
            "unknown string",
            padded_report(identity, "x", "", "\"", "\""),
        ),
        (
            "unknown string of escapes",
            padded_report(identity, "\\u00e9", "", "\"", "\""),
        ),
        (
            "unknown nested arrays",
            padded_report(identity, "[[[[[[[[[[[[1]]]]]]]]]]]]", ",", "[", "]"),
        ),
    ]
}

/// POSTs `body` to the report endpoint in chunks of `chunk` bytes
/// (`Transfer-Encoding: chunked`, so no `Content-Length`) over a plain
/// socket, and returns the status and the raw answer.
///
/// The answer is read while the body is still being sent, and sending stops
/// once it has come: the Worker refuses an oversized body before the client
/// is done. wrangler dev's proxy sometimes resets such a connection before
/// the answer reaches the client; the status is then the one the proxy
/// logged for this request (its `POST /api/downstream-report <status>`
/// line), and the answer says so.
///
/// Miniflare's entry Worker, between the socket and this Worker, can also
/// lose its own connection to this Worker when the refusal comes while it
/// is still passing the body on; it then answers a plain-text 500 "Network
/// connection lost" of its own, not this Worker's answer. That send is
/// tried again (at most three times in all), so the status returned is
/// always this Worker's.
pub fn post_chunked(worker: &Worker, body: &[u8], chunk: usize) -> (u16, String) {
    let mut attempt = 1;
    loop {
        let (status, answer) = post_chunked_once(worker, body, chunk);
        let lost_by_the_runtime = status == 500
            && answer.contains("Network connection lost")
            && !answer.contains("application/problem+json");
        if !lost_by_the_runtime || attempt == 3 {
            return (status, answer);
        }
        eprintln!("chunked POST: the local runtime lost its connection (attempt {attempt}); again");
        attempt += 1;
    }
}

fn post_chunked_once(worker: &Worker, body: &[u8], chunk: usize) -> (u16, String) {
    let logged = |text: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("POST {REPORTS_PATH} ")))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let before = logged(&worker.log_text()).len();
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let base = worker.base_url();
    let address = base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let answered = Arc::new(AtomicBool::new(false));
    let mut reader = stream.try_clone().expect("a second handle");
    let done = answered.clone();
    let answer = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if complete(&answer) {
                break;
            }
        }
        done.store(true, Ordering::SeqCst);
        answer
    });
    let head = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut sent = stream.write_all(head.as_bytes());
    for piece in body.chunks(chunk.max(1)) {
        if sent.is_err() || answered.load(Ordering::SeqCst) {
            break;
        }
        sent = stream
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .and_then(|()| stream.write_all(piece))
            .and_then(|()| stream.write_all(b"\r\n"));
    }
    if sent.is_ok() && !answered.load(Ordering::SeqCst) {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let answer = answer.join().expect("reader thread");
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    if let Some(status) = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
    {
        return (status, answer);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let lines = logged(&worker.log_text());
        if let Some(line) = lines.get(before) {
            let status = line
                .split(&format!("POST {REPORTS_PATH} "))
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("no status in {line:?}"));
            return (
                status,
                format!("(no answer reached the client; wrangler logged: {line})"),
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer and no log line for the chunked POST"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `answer` holds a whole HTTP response: its head, and as much body
/// as its `Content-Length` says (the Worker's answers all carry one).
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    length.is_some_and(|n| body.len() >= n)
}
