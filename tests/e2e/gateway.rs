//! The mining-port gateway in front of the real Worker (wrangler dev, local
//! KV and D1): a JDC that knows only its pool's mining port gets its report
//! to the Worker, the Worker rate-limits and logs it by the JDC's own
//! address only when the gateway token is right, and nothing malformed
//! gets through.
//!
//! The binaries are taken from `MINING_GATEWAY_BIN` and `JDC_REPORTER_BIN`
//! (`scripts/test.sh` builds them and sets both), else `target/debug/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dmr_shared::api::{FORWARDED_FOR_HEADER, GATEWAY_TOKEN_HEADER, REPORTS_PATH};
use dmr_tests::{
    insert_clients, pairs, repo_root, report, workspace_binary, ClientRow, Options, Worker,
};
use serde_json::{json, Value};
use socket2::{Domain, Socket, Type};

const TOKEN: &str = "gw-e2e-token";
const ADDRESS: &str = "bc1qexampleaddr";
const IDENTITY: &str = "bc1qexampleaddr.jdc";
const PATIENCE: Duration = Duration::from_secs(30);

/// A Worker that knows the gateway's token, with the JDC's live
/// `jd-client/sv2` rows.
fn worker() -> Worker {
    Worker::start_with(Options {
        vars: vec![("GATEWAY_TOKEN".into(), TOKEN.into())],
        seed_sql: Some(insert_clients(&[
            ClientRow::live(ADDRESS, "jdc-1", "jd-client/sv2"),
            ClientRow::live("bc1qsomeoneelse", "other-1", "jd-client/sv2"),
        ])),
        ..Options::default()
    })
}

/// `mining-gateway` on a free loopback port in front of a pool listener
/// that accepts and never speaks, forwarding to `worker`; killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
    _pool: TcpListener,
}

impl Gateway {
    fn start(worker: &Worker, token: Option<&str>) -> Gateway {
        let pool = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut cmd = Command::new(workspace_binary("MINING_GATEWAY_BIN", "mining-gateway"));
        cmd.args(["--listen", "127.0.0.1:0", "--sv2"])
            .arg(pool.local_addr().unwrap().to_string())
            .arg("--report-url")
            .arg(worker.url(REPORTS_PATH))
            .args(["--request-timeout", "2s"])
            .env_remove("MINING_GATEWAY_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(token) = token {
            cmd.env("MINING_GATEWAY_TOKEN", token);
        }
        let mut child = cmd.spawn().expect("mining-gateway starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut gateway = Gateway {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            lines,
            log: Vec::new(),
            _pool: pool,
        };
        let ready = gateway.line_with("mining gateway ready");
        let listen = ready
            .split_whitespace()
            .find_map(|f| f.strip_prefix("listen="))
            .expect("the ready line names the port");
        gateway.addr = listen.parse().unwrap();
        gateway
    }

    /// The next log line containing `needle`.
    fn line_with(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "mining-gateway never logged {needle:?}:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to the gateway from 127.0.0.2, so the JDC's address is not
/// the gateway's own (127.0.0.1).
fn jdc_connection(gateway: &Gateway) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let source: SocketAddr = "127.0.0.2:0".parse().unwrap();
    socket.bind(&source.into()).expect("bind 127.0.0.2");
    socket
        .connect(&gateway.addr.into())
        .expect("connect to the gateway");
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Sends `request` and reads the answer until the gateway closes.
fn exchange(mut stream: TcpStream, request: &[u8]) -> (u16, String) {
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn body_of(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).expect("a body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

#[test]
fn a_jdc_with_nothing_but_its_toml_reports_through_the_mining_port() {
    let worker = worker();
    let mut gateway = Gateway::start(&worker, Some(TOKEN));

    // The JDC's own config: its pool is the gateway, and there is no
    // --report-url, so jdc-reporter derives http://pool:port/api/...
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jdc.toml");
    std::fs::write(
        &config,
        format!(
            r#"listening_address = "127.0.0.1:34265"
mode = "FULLTEMPLATE"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "127.0.0.1"
pool_port = {}
jds_address = "127.0.0.1"
jds_port = 34264
user_identity = "{IDENTITY}"
"#,
            gateway.addr.port()
        ),
    )
    .unwrap();
    let fixture = std::fs::read_to_string(
        repo_root().join("reporter/tests/fixtures/jd_client_sv2-0.6.0-session.log"),
    )
    .unwrap();
    // Up to the JDC's shutdown: one bitaxe is still connected.
    let running = &fixture[..fixture.find("2026-11-24T18:36:54").unwrap()];
    let log = dir.path().join("jdc.log");
    std::fs::write(&log, running).unwrap();

    let output = Command::new(workspace_binary("JDC_REPORTER_BIN", "jdc-reporter"))
        .arg("-c")
        .arg(&config)
        .arg("--log")
        .arg(&log)
        .args(["--from-start", "--once"])
        .env_remove("JDC_REPORTER_TOKEN")
        .output()
        .expect("jdc-reporter runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jdc-reporter failed: {stderr}");
    assert!(stderr.contains("status=200"), "{stderr}");

    assert_eq!(
        worker.user_agents(),
        pairs(&[("jdc-1", "bitaxe/sv2"), ("other-1", "jd-client/sv2")])
    );
    let reports = worker.get_reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["jdcUserIdentity"], IDENTITY);
    assert_eq!(reports[0]["userAgent"], "bitaxe/sv2");

    let connection = gateway.line_with("connection");
    assert!(connection.contains("class=\"http\""), "{connection}");
    let forwarded = gateway.line_with("report forwarded");
    assert!(
        forwarded.contains("status=200") && forwarded.contains("method=POST"),
        "{forwarded}"
    );
}

#[test]
fn a_request_shaped_like_jd_guis_gets_the_workers_200() {
    let worker = worker();
    let gateway = Gateway::start(&worker, Some(TOKEN));

    // What jd-gui sends: a plain-HTTP POST to the pool's mining port with
    // only Content-Type, and whole-number hash rates.
    let body = json!({
        "schemaVersion": 1,
        "jdcUserIdentity": IDENTITY,
        "timestamp": "2026-02-15T12:00:00Z",
        "miners": [{
            "vendor": "NerdQAxe++",
            "hardwareVersion": "BM1370",
            "firmware": "",
            "deviceId": "",
            "nominalHashRate": 4800000000000u64,
            "userIdentity": "bc1qexampleaddr.nerd",
            "connectedAt": "2026-02-15T11:30:00Z"
        }]
    })
    .to_string();
    let request = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        gateway.addr.port(),
        body.len()
    );
    assert!(
        body.contains("\"nominalHashRate\":4800000000000,"),
        "{body}"
    );
    let (status, answer) = exchange(jdc_connection(&gateway), request.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let accepted = body_of(&answer);
    assert_eq!(accepted["success"], true);
    assert_eq!(accepted["accepted"], 1);
    assert_eq!(accepted["userAgent"], "NerdQAxe++/sv2");
    assert_eq!(
        worker.user_agents(),
        pairs(&[("jdc-1", "NerdQAxe++/sv2"), ("other-1", "jd-client/sv2")])
    );
    // The Worker logged the JDC's address, not the gateway's.
    let log = worker.log_containing("\"event\":\"report\"");
    assert!(log.contains("\"client\":\"127.0.0.2\""), "{log}");
}

#[test]
fn the_worker_believes_a_forwarded_address_only_with_the_right_token() {
    let worker = worker();
    let post = |i: usize, headers: &[(&str, &str)]| {
        let body = report(&format!("bc1qxff{i}"), vec![]).to_string();
        let mut all = vec![
            ("Content-Type", "application/json"),
            // The gateway's own address, as Cloudflare would name it.
            ("CF-Connecting-IP", "203.0.113.1"),
        ];
        all.extend_from_slice(headers);
        worker
            .request_with("POST", REPORTS_PATH, &all, Some(body.as_bytes()))
            .status
    };
    let from_gateway =
        |ip: &'static str| [(FORWARDED_FOR_HEADER, ip), (GATEWAY_TOKEN_HEADER, TOKEN)];
    // Requests until the first 429 (at most `LIMIT_PROBES`), and how many
    // were accepted before it. The limit is 120 a minute; on a slow machine
    // a minute can pass mid-way and let a few more through, never fewer.
    const LIMIT_PROBES: usize = 400;
    let until_limited = |first: usize, headers: &dyn Fn(usize) -> Vec<(&'static str, String)>| {
        for i in 0..LIMIT_PROBES {
            let owned = headers(i);
            let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
            match post(first + i, &borrowed) {
                200 => {}
                429 => return i,
                other => panic!("status {other}"),
            }
        }
        panic!("no 429 in {LIMIT_PROBES} requests");
    };

    // With the right token, the limit (120 a minute) is the JDC's own...
    let accepted = until_limited(0, &|_| {
        from_gateway("198.51.100.7")
            .map(|(k, v)| (k, v.to_owned()))
            .to_vec()
    });
    assert!(accepted >= 120, "limited after {accepted}");
    // ...so another JDC behind the same gateway is still served.
    assert_eq!(post(1_000, &from_gateway("198.51.100.8")), 200);
    let log = worker.log_containing("\"client\":\"198.51.100.8\"");
    assert!(log.contains("\"client\":\"198.51.100.7\""));

    // With a wrong token, or none, the forwarded address is ignored: every
    // request counts against the connecting address, whatever it claims.
    // (Keyed by the claimed addresses, each used at most twice, none of
    // them would ever be limited.) The JDC's requests above did not count
    // against the connecting address: its first 120 pass.
    let accepted = until_limited(2_000, &|i| {
        let claimed = (FORWARDED_FOR_HEADER, format!("192.0.2.{}", i % 250));
        if i % 2 == 0 {
            vec![claimed, (GATEWAY_TOKEN_HEADER, "wrong".to_owned())]
        } else {
            vec![claimed]
        }
    });
    assert!(accepted >= 120, "limited after {accepted}");
    let log = worker.log_containing("\"client\":\"203.0.113.1\"");
    assert!(
        !log.contains("\"client\":\"192.0.2."),
        "a forged address was believed"
    );
}

#[test]
fn nothing_malformed_through_the_gateway_reaches_the_worker() {
    let worker = worker();
    let gateway = Gateway::start(&worker, Some(TOKEN));
    let port = gateway.addr.port();
    let before = worker.log_text();

    let refusals: Vec<(String, u16)> = vec![
        (format!("GET /api/jdcs HTTP/1.1\r\nHost: x:{port}\r\nConnection: close\r\n\r\n"), 404),
        (format!("DELETE {REPORTS_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405),
        (
            format!(
                "POST {REPORTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                dmr_shared::limits::MAX_BODY_BYTES + 1
            ),
            413,
        ),
        (
            format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n", "a".repeat(20_000)),
            431,
        ),
        (format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{{"), 408),
        ("GET /\x00\x01 HTTP/9.9\r\n\r\n".to_owned(), 400),
    ];
    for (request, want) in &refusals {
        let (status, answer) = exchange(jdc_connection(&gateway), request.as_bytes());
        // A refusal is that status, or a close without an answer.
        assert!(status == *want || status == 0, "{request:?}: {answer}");
    }

    // Nothing reached the Worker: no request in its log, nothing stored.
    std::thread::sleep(Duration::from_millis(500));
    let after = worker.log_text();
    let new = &after[before.len()..];
    assert!(
        !new.contains(REPORTS_PATH) && !new.contains("/api/jdcs"),
        "the Worker saw a request:\n{new}"
    );
    assert!(worker.kv_keys().is_empty());
    assert_eq!(
        worker.user_agents(),
        pairs(&[("jdc-1", "jd-client/sv2"), ("other-1", "jd-client/sv2")])
    );

    // The same gateway still forwards a good report.
    let body = report(IDENTITY, vec![]).to_string();
    let request = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, answer) = exchange(jdc_connection(&gateway), request.as_bytes());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(worker.kv_keys().len(), 1);
    // ...and that request does show in the Worker's log, as the refused
    // ones would have (wrangler logs it once the answer has gone).
    let after = worker.log_containing(&format!("POST {REPORTS_PATH} 200"));
    assert!(
        after[before.len()..].contains(&format!("POST {REPORTS_PATH} 200")),
        "{after}"
    );
}
