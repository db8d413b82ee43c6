//! A pool and a monitoring API that misbehave, over real sockets on
//! 127.0.0.1: an answer that never ends, one that announces a gigabyte, one
//! that trickles a byte at a time. The reporter reads at most 64 KiB of any
//! answer and gives up on a slow one after its request timeout, so its memory
//! stays small, and the JDC it runs after `--` keeps running, its output
//! passed through, and exits with its own status.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// How long any wait in these tests may take, however slow the machine.
const WAIT: Duration = Duration::from_secs(90);

/// What the hostile server does once it has read a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misbehaviour {
    /// `200`, chunked, and chunks for as long as anyone reads them.
    Endless,
    /// `200` with `Content-Length: 1 GiB`, and the bytes as fast as they go.
    Huge,
    /// `200` announcing 1,000 bytes, sent one every 200 ms.
    Slow,
}

/// The server's own bound on what it sends to one connection: far more than
/// the reporter reads, far less than would hurt this machine.
const SEND_AT_MOST: usize = 256 * 1024 * 1024;

struct Hostile {
    port: u16,
    requests: Arc<AtomicUsize>,
    /// Connections whose reader went away while the server was still
    /// sending: the reporter stopped reading.
    hung_up: Arc<AtomicUsize>,
}

impl Hostile {
    fn start(how: Misbehaviour) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let hung_up = Arc::new(AtomicUsize::new(0));
        let (r, h) = (requests.clone(), hung_up.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h) = (r.clone(), h.clone());
                std::thread::spawn(move || misbehave(stream, how, &r, &h));
            }
        });
        Hostile {
            port,
            requests,
            hung_up,
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn misbehave(stream: TcpStream, how: Misbehaviour, requests: &AtomicUsize, hung_up: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let head = match how {
        Misbehaviour::Endless => {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_owned()
        }
        Misbehaviour::Huge => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            1usize << 30
        ),
        Misbehaviour::Slow => {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                .to_owned()
        }
    };
    if writer.write_all(head.as_bytes()).is_err() {
        hung_up.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let block = vec![b' '; 16 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    while sent < SEND_AT_MOST && started.elapsed() < WAIT {
        let written = match how {
            Misbehaviour::Endless => writer
                .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                .and_then(|()| writer.write_all(&block))
                .and_then(|()| writer.write_all(b"\r\n"))
                .map(|()| block.len()),
            Misbehaviour::Huge => writer.write_all(&block).map(|()| block.len()),
            Misbehaviour::Slow => {
                std::thread::sleep(Duration::from_millis(200));
                writer
                    .write_all(b" ")
                    .and_then(|()| writer.flush())
                    .map(|()| 1)
            }
        };
        match written {
            Ok(n) => sent += n,
            Err(_) => {
                hung_up.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// The reporter's standard error, line by line, as it comes.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn follow(&self, stream: impl Read + Send + 'static) {
        let lines = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("reporter: {line}");
                lines.lock().unwrap().push(line);
            }
        });
    }

    fn count(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn wait_for(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.count(needle) < n {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} lines with {needle:?}: {:#?}",
                self.0.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Kills the reporter if the test ends early (it has exited otherwise).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Peak resident memory of a running process, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs a JDC under the reporter against a server that misbehaves as `how`
/// on both the report URL and the monitoring API; `pool_says` and
/// `monitor_says` are what the reporter must log about each.
fn the_jdc_outlives(how: Misbehaviour, pool_says: &str, monitor_says: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "running.log", running_log());
    let jdc = write(
        dir.path(),
        "fake-jdc",
        "#!/bin/sh\ncat running.log\ni=0\nwhile [ ! -e stop ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done\necho bye\nexit 5\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&jdc, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let server = Hostile::start(how);
    let child = Command::new(env!("CARGO_BIN_EXE_jdc-reporter"))
        .current_dir(dir.path())
        .args(["--identity", IDENTITY, "--interval", "200ms"])
        .arg("--report-url")
        .arg(format!("{}/api/downstream-report", server.base_url()))
        .arg("--monitoring-url")
        .arg(server.base_url())
        .arg("--")
        .arg(&jdc)
        .env_remove("JDC_REPORTER_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let child = &mut child.0;
    let stderr = Lines::default();
    stderr.follow(child.stderr.take().unwrap());
    let mut stdout = child.stdout.take().unwrap();
    let passed = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).unwrap();
        out
    });

    // Two reports and the monitoring API's answer have been dealt with.
    stderr.wait_for(pool_says, 2);
    stderr.wait_for(monitor_says, 1);
    assert!(server.requests.load(Ordering::SeqCst) >= 3);
    if how != Misbehaviour::Slow {
        // The server noticed the reporter stop reading.
        let deadline = Instant::now() + WAIT;
        while server.hung_up.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "the reporter kept reading");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let peak = peak_rss_kib(child.id());
    eprintln!("{how:?}: reporter peak RSS {peak} KiB");
    assert!(peak < 96 * 1024, "{how:?}: the reporter grew to {peak} KiB");

    // The JDC was running all along: it exits when told, with its status,
    // its output passed through whole.
    write(dir.path(), "stop", "");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5), "{how:?}");
    let out = passed.join().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{}bye\n", running_log())
    );
}

#[test]
fn an_endless_answer_is_cut_off_and_the_jdc_runs_on() {
    the_jdc_outlives(
        Misbehaviour::Endless,
        "report sent miners=1 accepted=? status=200",
        "is not answering (the answer is larger than 64 KiB",
    );
}

#[test]
fn a_huge_answer_is_not_read_and_the_jdc_runs_on() {
    the_jdc_outlives(
        Misbehaviour::Huge,
        "report sent miners=1 accepted=? status=200",
        "is not answering (the answer is larger than 64 KiB",
    );
}

#[test]
fn a_slow_answer_times_out_and_the_jdc_runs_on() {
    the_jdc_outlives(
        Misbehaviour::Slow,
        "report sent miners=1 accepted=? status=200",
        "is not answering (the answer broke off: no answer within 10s",
    );
}
