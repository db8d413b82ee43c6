//! The `mining-gateway` binary as an operator meets it: `--help`, command
//! line mistakes as one sentence and a hint with exit code 2, a port in
//! use with exit code 3; and a running gateway that logs one line per
//! connection, serves its metrics, and on SIGTERM stops accepting, lets an
//! open relay finish, and exits 0.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use common::PATIENCE;
use predicates::prelude::*;

const REPORT_URL: &str = "http://127.0.0.1:9/api/downstream-report";

fn gateway_cmd() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mining-gateway").unwrap();
    cmd.env_remove("MINING_GATEWAY_TOKEN").timeout(PATIENCE);
    cmd
}

#[test]
fn help_is_written_for_pool_operators() {
    gateway_cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--listen <ADDR>"))
        .stdout(predicate::str::contains("--sv2 <HOST:PORT>"))
        .stdout(predicate::str::contains("--report-url <URL>"))
        .stdout(predicate::str::contains("GATEWAY_TOKEN"))
        .stdout(predicate::str::contains("MINING_GATEWAY_TOKEN"))
        .stdout(predicate::str::contains("Exit status"))
        .stdout(predicate::str::contains("--max-requests-per-address <N>"))
        .stdout(predicate::str::contains("--body-memory <MIB>"))
        .stdout(predicate::str::contains("From 1 to --max-forwards"))
        .stdout(predicate::str::contains(
            "mining_gateway_share_refusals_total",
        ))
        .stdout(predicate::str::contains("X-Content-Type-Options: nosniff"));
}

#[test]
fn command_line_mistakes_are_a_sentence_and_a_hint() {
    gateway_cmd()
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "required arguments were not provided",
        ));
    let base = ["--sv2", "127.0.0.1:34254", "--report-url", REPORT_URL];
    gateway_cmd()
        .args(["--listen", "3333"])
        .args(base)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("write it like 0.0.0.0:3333"));
    gateway_cmd()
        .args([
            "--listen",
            "127.0.0.1:3333",
            "--sv2",
            "127.0.0.1:1",
            "--report-url",
            "pool.example",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--report-url"));
    gateway_cmd()
        .args(["--listen", "127.0.0.1:34254"])
        .args(base)
        .assert()
        .code(2)
        .stderr(predicate::str::diff(
            "error: --sv2 is the gateway's own --listen address 127.0.0.1:34254\n  hint: move the pool's listener to another port (or to 127.0.0.1) and point --sv2/--sv1 there\n",
        ));
    gateway_cmd()
        .args([
            "--listen",
            "127.0.0.1:3333",
            "--detect-timeout",
            "3 parsecs",
        ])
        .args(base)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--detect-timeout"));
}

/// Every duration and count out of its range, and every port that cannot
/// be one: exit code 2 and one sentence naming the flag and its range,
/// never a panic.
#[test]
fn settings_out_of_range_are_refused_by_name() {
    let durations = [
        ("--detect-timeout", "from 100ms to 1m"),
        ("--worker-timeout", "from 100ms to 5m"),
        ("--request-timeout", "from 100ms to 10m"),
        ("--drain-timeout", "from 100ms to 1h"),
    ];
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    for (flag, range) in durations {
        for bad in ["0s", "99ms", "2h", "100000000000000000000s", "soon", "-1s"] {
            let needles = vec![format!("{flag} <DURATION>': "), range.to_owned()];
            cases.push((format!("{flag}={bad}"), needles));
        }
    }
    let counts = [
        ("--max-connections <N>", "from 1 to 1000000", "1000001"),
        ("--max-forwards <N>", "from 1 to 10000", "10001"),
        ("--max-requests-per-address <N>", "from 1 to 10000", "10001"),
        ("--body-memory <MIB>", "from 8 to 65536", "65537"),
        ("--threads <N>", "from 1 to 1024", "1025"),
    ];
    for (flag, range, over) in counts {
        for bad in ["0", over, "-1", "1.5", "99999999999999999999999", "many"] {
            let needle = format!("{flag}': must be a whole number {range}");
            let name = flag.split(' ').next().unwrap();
            cases.push((format!("{name}={bad}"), vec![needle]));
        }
    }
    for (flag, bad) in [
        ("--listen", "127.0.0.1:70000"),
        ("--metrics", "127.0.0.1:65536"),
    ] {
        let needle = format!("{flag} <ADDR>': not an address and a port from 0 to 65535");
        cases.push((format!("{flag}={bad}"), vec![needle]));
    }
    for (arg, needles) in &cases {
        let listen = if arg.starts_with("--listen") {
            arg.clone()
        } else {
            "--listen=127.0.0.1:0".into()
        };
        let out = gateway_cmd()
            .args(["--sv2", "127.0.0.1:34254", "--report-url", REPORT_URL])
            .arg(listen)
            .arg(arg)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {stderr}");
        assert!(stderr.starts_with("error: "), "{arg}: {stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle.as_str()),
                "{arg}: {needle:?} not in {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{arg}: {stderr}");
    }

    // Checked once the flags are read: ports that cannot be connected to,
    // and a share larger than the places it is a share of.
    for (args, message) in [
        (
            &["--sv2", "127.0.0.1:0"][..],
            "error: --sv2 \"127.0.0.1:0\" must name a port from 1 to 65535\n",
        ),
        (
            &["--sv2", "127.0.0.1:70000"][..],
            "error: --sv2 \"127.0.0.1:70000\" must name a port from 1 to 65535\n",
        ),
        (
            &["--sv2", "127.0.0.1:34254", "--sv1", "localhost:0"][..],
            "error: --sv1 \"localhost:0\" must name a port from 1 to 65535\n",
        ),
        (
            &[
                "--sv2",
                "127.0.0.1:34254",
                "--max-requests-per-address",
                "65",
            ][..],
            "error: --max-requests-per-address must be at most --max-forwards (64), not 65\n",
        ),
    ] {
        let out = gateway_cmd()
            .args(["--listen", "127.0.0.1:0", "--report-url", REPORT_URL])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
    }
    println!("{} out-of-range values refused by name", cases.len() + 4);
}

#[test]
fn a_port_in_use_is_exit_code_3_with_a_hint() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    gateway_cmd()
        .args([
            "--listen",
            &addr,
            "--sv2",
            "127.0.0.1:34254",
            "--report-url",
            REPORT_URL,
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "error: cannot listen on the mining port {addr}: address already in use"
        )))
        .stderr(predicate::str::contains("hint: another program"));
}

/// The binary, running; its stderr lines arrive on `lines`.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Process {
    fn start(args: &[&str]) -> Process {
        let mut child = Command::new(cargo_bin("mining-gateway"))
            .args(args)
            .env_remove("MINING_GATEWAY_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mining-gateway starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Process {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The first log line (from now on) containing `needle`.
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
                    "no log line with {needle:?}; log so far:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// `name=VALUE` from a log line.
    fn field(line: &str, name: &str) -> String {
        let start = line
            .find(&format!("{name}="))
            .unwrap_or_else(|| panic!("{name} in {line}"))
            + name.len()
            + 1;
        line[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_matches('"')
            .to_owned()
    }

    fn sigterm(&self) {
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
    }

    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "mining-gateway did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_running_gateway_logs_serves_metrics_and_drains_on_sigterm() {
    // The pool's SV2 listener: echoes whatever arrives.
    let pool = TcpListener::bind("127.0.0.1:0").unwrap();
    let pool_addr = pool.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in pool.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let mut writer = stream;
                let _ = std::io::copy(&mut reader, &mut writer);
            });
        }
    });

    let mut gw = Process::start(&[
        "--listen",
        "127.0.0.1:0",
        "--sv2",
        &pool_addr,
        "--report-url",
        REPORT_URL,
        "--metrics",
        "127.0.0.1:0",
        "--drain-timeout",
        "10s",
        "--verbose",
    ]);
    let ready = gw.line_with("mining gateway ready");
    let addr: SocketAddr = Process::field(&ready, "listen").parse().unwrap();
    let metrics: SocketAddr = Process::field(&ready, "metrics").parse().unwrap();
    assert!(
        gw.log[0].contains("WARN") && gw.log[0].contains("no --gateway-token"),
        "{:?}",
        gw.log
    );

    // A miner: one log line naming its class.
    let mut miner = common::connect(addr);
    let opening = [0x8fu8; 64];
    miner.write_all(&opening).unwrap();
    let mut echoed = [0u8; 64];
    miner.read_exact(&mut echoed).unwrap();
    let line = gw.line_with("connection");
    assert!(
        line.contains("class=\"sv2\"") && line.contains("reason=\"binary\""),
        "{line}"
    );

    let text = common::exchange(metrics, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(text.status, 200);
    let text = String::from_utf8(text.body).unwrap();
    assert_eq!(
        common::metric_value(&text, "mining_gateway_connections_total{class=\"sv2\"}"),
        1.0
    );
    assert_eq!(
        common::metric_value(&text, "mining_gateway_open_connections{class=\"sv2\"}"),
        1.0
    );

    // SIGTERM: no new connections, but the open relay goes on...
    gw.sigterm();
    gw.line_with("shutting down");
    common::eventually("the listeners to close after SIGTERM", || {
        TcpStream::connect(addr).is_err()
    });
    miner.write_all(b"still mining").unwrap();
    let mut more = [0u8; 12];
    miner.read_exact(&mut more).unwrap();
    assert_eq!(&more, b"still mining");
    assert!(
        gw.child.try_wait().unwrap().is_none(),
        "exited with a relay open"
    );
    // ...until it ends; then the gateway exits at once, with 0.
    drop(miner);
    gw.line_with("every connection has ended");
    assert!(gw.wait().success());
}
