//! What the gateway's tests share: the gateway itself, running in this
//! process on a loopback port with its own tokio runtime; backends that
//! stand for the pool's listeners and for the Worker; and blocking clients.
//!
//! Everything binds 127.0.0.1 (clients sometimes connect from 127.0.0.2, to
//! tell their address from the gateway's), every wait is bounded, and what
//! a test starts stops when its handle is dropped.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use mining_gateway::metrics::Metrics;
use mining_gateway::{Config, Gateway};
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

/// Longest any single step of a test may wait.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A multi-threaded runtime for the gateway and the backends of one test.
pub fn runtime() -> Arc<tokio::runtime::Runtime> {
    // Each relayed connection takes four descriptors in this process (the
    // client's, the gateway's two, the backend's).
    mining_gateway::fd_limit::raise().expect("open-file limit");
    Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
    )
}

/// A config for a gateway on a free loopback port in front of `sv2`, with
/// reports going to `report_url`.
pub fn config(sv2: SocketAddr, report_url: &str) -> Config {
    let mut config = Config::new(
        "127.0.0.1:0".parse().unwrap(),
        sv2,
        Url::parse(report_url).expect("report url"),
    );
    config.detect_timeout = Duration::from_secs(2);
    config.drain_timeout = Duration::from_secs(2);
    config
}

/// A report URL nothing listens on (the port was free a moment ago).
pub fn nowhere() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/api/downstream-report")
}

/// A gateway running in the background; stopped (and drained) on drop.
pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<std::sync::mpsc::Receiver<()>>,
}

pub fn start(rt: &tokio::runtime::Runtime, config: Config) -> Running {
    let gateway = rt.block_on(Gateway::bind(config)).expect("gateway binds");
    let addr = gateway.local_addr();
    let metrics_addr = gateway.metrics_addr();
    let metrics = gateway.metrics();
    let (stop, stopped) = oneshot::channel::<()>();
    let (done_tx, done) = std::sync::mpsc::channel();
    rt.spawn(async move {
        gateway
            .run(async {
                let _ = stopped.await;
            })
            .await;
        let _ = done_tx.send(());
    });
    Running {
        addr,
        metrics_addr,
        metrics,
        stop: Some(stop),
        done: Some(done),
    }
}

impl Running {
    /// Stops accepting and waits (bounded) until the gateway has drained.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(PATIENCE);
        }
    }

    /// The metrics text.
    pub fn metrics_text(&self) -> String {
        self.metrics.render()
    }

    /// The value of one metric line (`name{labels}`), 0 when absent.
    pub fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics_text(), series)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of `series` in a metrics text, 0 when absent.
pub fn metric_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
        .unwrap_or(0.0)
}

/// Waits until `cond` holds, up to [`PATIENCE`]; panics with `what` if not.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A blocking client connection to `addr`, from 127.0.0.1, with bounded
/// reads and writes.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the gateway");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// The same, from 127.0.0.2, so the gateway sees an address of its own.
pub fn connect_from_127_0_0_2(addr: SocketAddr) -> TcpStream {
    connect_from([127, 0, 0, 2], addr)
}

/// The same, from `source` (any 127.0.0.0/8 address works on Linux).
pub fn connect_from(source: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let source = SocketAddr::from((source, 0));
    socket
        .bind(&source.into())
        .unwrap_or_else(|e| panic!("bind {source}: {e}"));
    socket
        .connect(&addr.into())
        .expect("connect to the gateway");
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// This process's TCP sockets with `port` at either end: the gateway runs
/// in this process, so its side of each connection is among them too.
pub fn sockets_on(port: u16) -> usize {
    let mut found = 0;
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    for entry in entries.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: the descriptor is only borrowed for two getsockname and
        // getpeername calls; one that is not a socket (or was closed in
        // the meantime) makes them fail, nothing else.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        // Connected sockets only: the gateway's listeners are not its
        // connections.
        let (Ok(local), Ok(peer)) = (socket.local_addr(), socket.peer_addr()) else {
            continue;
        };
        let port_of = |a: socket2::SockAddr| a.as_socket().map(|a| a.port());
        if port_of(local) == Some(port) || port_of(peer) == Some(port) {
            found += 1;
        }
    }
    found
}

/// Reads until the peer closes (or the read timeout passes).
pub fn read_to_close(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    stream.read_to_end(&mut all)?;
    Ok(all)
}

/// Whether the peer closes `stream` (a FIN or a reset) before sending
/// anything more, within the read timeout.
pub fn closes(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => is_closed(&e),
    }
}

/// One connection a backend accepted: what it received, in order.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub bytes: Vec<u8>,
    /// Whether the client's FIN arrived.
    pub ended: bool,
}

/// A loopback listener with a backlog deep enough for a thousand
/// connections arriving at once.
pub fn listener() -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket.listen(4096).expect("listen")
}

/// A stand-in for one of the pool's listeners (tokio, in the test's
/// runtime). Each connection is handled by `handler`; every connection's
/// bytes are recorded.
pub struct Backend {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Arc<Mutex<Seen>>>>>,
}

impl Backend {
    /// Starts a backend whose connections run `handler(stream, record)`.
    pub fn start<F, Fut>(rt: &tokio::runtime::Runtime, handler: F) -> Backend
    where
        F: Fn(tokio::net::TcpStream, Arc<Mutex<Seen>>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = rt.block_on(async { listener() });
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Arc<Mutex<Seen>>>>> = Arc::default();
        let all = seen.clone();
        let handler = Arc::new(handler);
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = Arc::new(Mutex::new(Seen::default()));
                all.lock().unwrap().push(record.clone());
                tokio::spawn(handler(stream, record));
            }
        });
        Backend { addr, seen }
    }

    /// Reads `n` bytes (the opening), records them, echoes them back, then
    /// records the rest until the client's FIN and closes.
    pub fn echo_opening(rt: &tokio::runtime::Runtime, n: usize) -> Backend {
        Backend::start(rt, move |mut stream, record| async move {
            let mut opening = vec![0u8; n];
            if tokio::time::timeout(PATIENCE, stream.read_exact(&mut opening))
                .await
                .is_err()
            {
                return;
            }
            record.lock().unwrap().bytes.extend_from_slice(&opening);
            if stream.write_all(&opening).await.is_err() {
                return;
            }
            record_until_end(&mut stream, &record).await;
        })
    }

    /// Records everything until the client's FIN (or a reset), never
    /// answering.
    pub fn silent(rt: &tokio::runtime::Runtime) -> Backend {
        Backend::start(rt, |mut stream, record| async move {
            record_until_end(&mut stream, &record).await;
        })
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// What each connection received, in accept order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.lock().unwrap().bytes.clone())
            .collect()
    }
}

/// Appends what `stream` sends to `record` until its FIN, bounded.
pub async fn record_until_end(stream: &mut tokio::net::TcpStream, record: &Mutex<Seen>) {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(0)) => {
                record.lock().unwrap().ended = true;
                return;
            }
            Ok(Ok(n)) => record.lock().unwrap().bytes.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
}

/// A request as the stand-in Worker received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HashMap<String, Vec<String>>,
    pub body: Vec<u8>,
}

impl Received {
    /// The values of header `name` (lower case), in order.
    pub fn header(&self, name: &str) -> Vec<String> {
        self.headers.get(name).cloned().unwrap_or_default()
    }
}

/// An answer the stand-in Worker gives.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A stand-in for the Worker, to see exactly what the gateway sends it:
/// records every request and answers with `answer`. While `hold` is set,
/// each request waits for [`Upstream::release`] before it is answered.
pub struct Upstream {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
    hold: Arc<Mutex<bool>>,
    release: Arc<Notify>,
    delay: Arc<Mutex<Duration>>,
}

impl Upstream {
    pub fn start(rt: &tokio::runtime::Runtime) -> Upstream {
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("upstream binds");
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer = Arc::new(Mutex::new(Answer::json(
            200,
            r#"{"success":true,"accepted":0}"#,
        )));
        let hold: Arc<Mutex<bool>> = Arc::default();
        let release = Arc::new(Notify::new());
        let delay: Arc<Mutex<Duration>> = Arc::default();
        let (r, a, h, n) = (
            requests.clone(),
            answer.clone(),
            hold.clone(),
            release.clone(),
        );
        let d = delay.clone();
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (r, a, h, n) = (r.clone(), a.clone(), h.clone(), n.clone());
                let d = d.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (r, a, h, n) = (r.clone(), a.clone(), h.clone(), n.clone());
                        let d = d.clone();
                        async move {
                            let method = req.method().to_string();
                            let target = req
                                .uri()
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default();
                            let mut headers: HashMap<String, Vec<String>> = HashMap::new();
                            for (name, value) in req.headers() {
                                headers
                                    .entry(name.as_str().to_owned())
                                    .or_default()
                                    .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
                            }
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes().to_vec())
                                .unwrap_or_default();
                            r.lock().unwrap().push(Received {
                                method,
                                target,
                                headers,
                                body,
                            });
                            let held = *h.lock().unwrap();
                            if held {
                                n.notified().await;
                            }
                            let delay = *d.lock().unwrap();
                            tokio::time::sleep(delay).await;
                            let answer = a.lock().unwrap().clone();
                            let mut response = hyper::Response::builder().status(answer.status);
                            for (name, value) in &answer.headers {
                                response = response.header(*name, value);
                            }
                            Ok::<_, Infallible>(
                                response.body(Full::new(Bytes::from(answer.body))).unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream {
            url: format!("http://{addr}/api/downstream-report"),
            requests,
            answer,
            hold,
            release,
            delay,
        }
    }

    /// Makes every answer take `delay`, as the Worker's own time does.
    pub fn answer_after(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub fn answer_with(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// Makes requests wait until [`Upstream::release`].
    pub fn hold(&self) {
        *self.hold.lock().unwrap() = true;
    }

    /// Lets every waiting request be answered, and the next ones at once.
    pub fn release(&self) {
        *self.hold.lock().unwrap() = false;
        self.release.notify_waiters();
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

/// An HTTP answer read off a raw socket.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.first().cloned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Reads one HTTP/1.1 answer (with a Content-Length body) from `stream`;
/// `None` if the connection closed first.
pub fn read_answer(stream: &mut TcpStream) -> Option<RawAnswer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = response.parse(&buf).expect("an HTTP answer")
        {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for h in response.headers.iter() {
                map.entry(h.name.to_ascii_lowercase())
                    .or_default()
                    .push(String::from_utf8_lossy(h.value).into_owned());
            }
            let status = response.code.expect("a status");
            let length: usize = map
                .get("content-length")
                .and_then(|v| v.first())
                .map(|v| v.parse().expect("a length"))
                .unwrap_or(0);
            while buf.len() < head_len + length {
                let n = stream.read(&mut chunk).expect("body");
                assert!(n > 0, "the connection closed inside a body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[head_len..head_len + length].to_vec();
            // Anything after belongs to the next answer; tests read one
            // answer per request, so there is none.
            return Some(RawAnswer {
                status,
                headers: map,
                body,
            });
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if buf.is_empty() && is_closed(&e) => return None,
            Err(e) => panic!("reading an answer: {e}"),
        }
    }
}

/// Whether a read error means the peer closed the connection.
pub fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Sends `request` bytes on a new connection and reads one answer.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Option<RawAnswer> {
    let mut stream = connect(addr);
    stream.write_all(request).expect("send");
    read_answer(&mut stream)
}

/// A POST of `body` to `path`, with `extra` header lines.
pub fn post(path: &str, extra: &[&str], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: pool.example:3333\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    request
}
