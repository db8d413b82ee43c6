//! Shared by the binary's tests: a real HTTP/1.1 receiver on 127.0.0.1 that
//! records the reporter's requests, pool-mode jd-client configs in both
//! layouts, and the fixture log.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const FIXTURE: &str = include_str!("../fixtures/jd_client_sv2-0.6.0-session.log");
pub const SOLO_CONFIG: &str = include_str!("../fixtures/jd_client_sv2-0.6.0-solo.toml");
pub const IDENTITY: &str = "bc1qexampleaddr.jdc";

/// The fixture up to (not including) the JDC's shutdown: the bitaxe on
/// downstream 2 is connected, the rest have left.
pub fn running_log() -> &'static str {
    &FIXTURE[..FIXTURE.find("2026-11-24T18:36:54").unwrap()]
}

/// One request as the receiver read it off the wire.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    /// The report's miners as (vendor, userIdentity).
    pub fn miners(&self) -> Vec<(String, String)> {
        self.json()["miners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["vendor"].as_str().unwrap().to_owned(),
                    m["userIdentity"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// A pool's report endpoint, as far as the reporter can tell: records every
/// POST and answers it with `status` and, for 2xx,
/// `{"success":true,"accepted":N}`, else an RFC 9457 problem (or the body
/// given to [`Receiver::set_error_body`]). GETs are answered from
/// [`Receiver::route`] (a stand-in for the JDC's monitoring API), 404
/// otherwise, and counted: each regular report tick of a reporter run with
/// `--monitoring-url` pointing here asks once, which tells a test that a
/// tick went by.
pub struct Receiver {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    status: Arc<AtomicU16>,
    routes: Routes,
    gets: Arc<AtomicUsize>,
    error_body: Arc<Mutex<Option<(String, String)>>>,
    refuse_containing: Arc<Mutex<Option<String>>>,
}

type Routes = Arc<Mutex<Vec<(String, String)>>>;

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver {
            port,
            requests: Arc::new(Mutex::new(Vec::new())),
            status: Arc::new(AtomicU16::new(200)),
            routes: Arc::new(Mutex::new(Vec::new())),
            gets: Arc::new(AtomicUsize::new(0)),
            error_body: Arc::new(Mutex::new(None)),
            refuse_containing: Arc::new(Mutex::new(None)),
        };
        let shared = receiver.shared();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        receiver
    }

    fn shared(&self) -> Shared {
        Shared {
            requests: self.requests.clone(),
            status: self.status.clone(),
            routes: self.routes.clone(),
            gets: self.gets.clone(),
            error_body: self.error_body.clone(),
            refuse_containing: self.refuse_containing.clone(),
        }
    }

    /// Answers 422 to every report whose body contains `text`, as a pool
    /// that takes only the fields it knows refuses one with another field.
    pub fn refuse_containing(&self, text: &str) {
        *self.refuse_containing.lock().unwrap() = Some(text.to_owned());
    }

    /// GET requests answered so far.
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    /// Waits until `n` more GETs than `since` arrived (ticks of a reporter
    /// with `--monitoring-url` here); panics after `timeout`.
    pub fn wait_for_gets(&self, since: usize, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.gets() < since + n {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} GETs after {since}; got {}",
                self.gets()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Answers refused reports with this content type and body instead of a
    /// problem.
    pub fn set_error_body(&self, content_type: &str, body: &str) {
        *self.error_body.lock().unwrap() = Some((content_type.to_owned(), body.to_owned()));
    }

    /// Answers `GET path` (query ignored) with `json`.
    pub fn route(&self, path: &str, json: &str) {
        self.routes
            .lock()
            .unwrap()
            .push((path.to_owned(), json.to_owned()));
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/api/downstream-report", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests so far; panics with them
    /// after `timeout`.
    pub fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Request]) -> bool,
    ) -> Vec<Request> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            if Instant::now() > deadline {
                let bodies: Vec<String> = requests
                    .iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect();
                panic!("timed out waiting for {what}; received: {bodies:#?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The receiver's state, as each connection's thread sees it.
#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Request>>>,
    status: Arc<AtomicU16>,
    routes: Routes,
    gets: Arc<AtomicUsize>,
    error_body: Arc<Mutex<Option<(String, String)>>>,
    refuse_containing: Arc<Mutex<Option<String>>>,
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Shared {
        requests,
        status,
        routes,
        gets,
        error_body,
        refuse_containing,
    } = shared;
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if method == "GET" {
            gets.fetch_add(1, Ordering::SeqCst);
            let bare = path.split('?').next().unwrap_or_default();
            let found = routes
                .lock()
                .unwrap()
                .iter()
                .find(|(p, _)| p == bare)
                .map(|(_, json)| json.clone());
            let (code, answer) = match found {
                Some(json) => (200, json),
                None => (404, "{\"error\":\"not found\"}".to_owned()),
            };
            let response = format!(
                "HTTP/1.1 {code} Test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let refused = refuse_containing
            .lock()
            .unwrap()
            .clone()
            .is_some_and(|text| String::from_utf8_lossy(&body).contains(&text));
        let code = if refused {
            422
        } else {
            status.load(Ordering::SeqCst)
        };
        let (content_type, answer) = if (200..300).contains(&code) {
            let accepted = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["miners"].as_array().map(Vec::len))
                .unwrap_or(0);
            (
                "application/json".to_owned(),
                format!("{{\"success\":true,\"accepted\":{accepted}}}"),
            )
        } else if let Some(custom) = error_body.lock().unwrap().clone() {
            custom
        } else {
            let problem = dmr_shared::Problem::new(code, "Refused", "test receiver says no");
            (
                "application/problem+json".to_owned(),
                serde_json::to_string(&problem).unwrap(),
            )
        };
        requests.lock().unwrap().push(Request {
            method,
            path,
            headers,
            body,
        });
        let response = format!(
            "HTTP/1.1 {code} Test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A pool-mode config in the 0.3.0+ layout, for a pool on 127.0.0.1:`port`.
pub fn config_per_upstream(dir: &Path, port: u16) -> PathBuf {
    let text = format!(
        r#"listening_address = "127.0.0.1:34265"
max_supported_version = 2
min_supported_version = 2
authority_public_key = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
authority_secret_key = "mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n"
cert_validity_sec = 3600
shares_per_minute = 6.0
share_batch_size = 10
mode = "FULLTEMPLATE"
jdc_signature = "Sv2MinerSignature"
coinbase_reward_script = "addr(bc1q9f9vj7spn8h7qda6pn8d4g4j99f0mn9lhwz55j)"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "127.0.0.1"
pool_port = {port}
jds_address = "127.0.0.1"
jds_port = 34264
user_identity = "{IDENTITY}"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "127.0.0.1"
pool_port = 9
jds_address = "127.0.0.1"
jds_port = 9
user_identity = "bc1qbackup"

[template_provider_type.Sv2Tp]
address = "127.0.0.1:18442"
"#
    );
    write(dir, "jdc-per-upstream.toml", &text)
}

/// A pool-mode config in the older layout: top-level `user_identity`,
/// `pool_address = "host:port"`.
pub fn config_older(dir: &Path, port: u16) -> PathBuf {
    let text = format!(
        r#"downstream_address = "127.0.0.1"
downstream_port = 34265
max_supported_version = 2
min_supported_version = 2
authority_public_key = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
authority_secret_key = "mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n"
cert_validity_sec = 3600
user_identity = "{IDENTITY}"
tp_address = "127.0.0.1:8442"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "127.0.0.1:{port}"
jd_address = "127.0.0.1:34264"
pool_signature = "Stratum v2 SRI Pool"
"#
    );
    write(dir, "jdc-older.toml", &text)
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Sends SIGTERM to a process the test started.
#[cfg(unix)]
pub fn terminate(child: &std::process::Child) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("the child is ours and alive");
}
