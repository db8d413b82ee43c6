//! `npm run bench-gateway`: mining-gateway and HAProxy, in the same run, on
//! loopback, in front of the same SV2 echo listener. Prints figures side by
//! side and one JSON line; asserts nothing (the machine's load makes the
//! figures; compare the two columns of one run).
//!
//! - CPU per connection (connect, 64-byte SV2 opening, echo, close) and
//!   per small round trip on an open connection: the mux process's user +
//!   system time from `/proc`, divided by the count.
//! - Added latency, p50 and p99, against a direct connection to the echo
//!   listener: for a 32-byte round trip on an open connection, and for a
//!   new connection's opening and its echo.
//! - Connections per second with 16 concurrent clients.
//! - RSS per idle connection with 9,000 relayed connections open.
//! - Misroutes of 5,000 random 64-byte openings: our gateway; HAProxy with
//!   the equivalent whole-token rules; HAProxy with the protocol spec's
//!   one-byte rules.
//!
//! Usage: `cargo bench -p mining-gateway --bench relay -- --haproxy PATH
//! [--gateway PATH] [--quick] [--only PART,...]` (parts: connections,
//! round-trips, latency, idle, misroutes). `--gateway` defaults to the
//! mining-gateway binary cargo built beside this benchmark; the `--bench`
//! cargo adds is ignored. CPU figures are taken in rounds, the muxes
//! alternating; latency samples alternate between the direct path and the
//! two muxes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An SV2-looking opening: no rule takes it for HTTP or SV1.
const OPENING: [u8; 64] = [0x8f; 64];
const SEED: u64 = 0x5eed_0001;
const IDLE: usize = 9_000;
const OPENINGS: usize = 5_000;
const CLIENTS: usize = 16;

struct Sizes {
    /// Connections per round, per mux.
    connections: usize,
    round_trips_per_client: usize,
    latency_samples: usize,
    setup_samples: usize,
}

/// CPU figures are taken in this many rounds, the muxes alternating, so a
/// burst of load from elsewhere on the machine hits both alike.
const ROUNDS: usize = 4;

const PARTS: [&str; 5] = ["connections", "round-trips", "latency", "idle", "misroutes"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: relay --haproxy PATH [--gateway PATH] [--quick] [--only PART[,PART]] (parts: connections, round-trips, latency, idle, misroutes)";
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // Flags not named here (the `--bench` cargo adds) are ignored.
    let gateway_bin = PathBuf::from(
        value("--gateway").unwrap_or_else(|| env!("CARGO_BIN_EXE_mining-gateway").to_owned()),
    );
    let haproxy_bin = PathBuf::from(value("--haproxy").expect(usage));
    let only = value("--only");
    let runs = |part: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|p| p == part))
    };
    if let Some(o) = &only {
        assert!(o.split(',').all(|p| PARTS.contains(&p)), "{usage}");
    }
    let sizes = if args.iter().any(|a| a == "--quick") {
        Sizes {
            connections: 1_000,
            round_trips_per_client: 100,
            latency_samples: 2_000,
            setup_samples: 500,
        }
    } else {
        Sizes {
            connections: 10_000,
            round_trips_per_client: 1_000,
            latency_samples: 20_000,
            setup_samples: 3_000,
        }
    };
    mining_gateway::fd_limit::raise().expect("open-file limit");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let echo = rt.block_on(echo_listener());
    let sv1 = rt.block_on(counting_listener());
    let api = rt.block_on(counting_listener());

    let dir = tempfile_dir();
    let gateway = Mux::gateway(&gateway_bin, echo, sv1.0, api.0);
    let haproxy = Mux::haproxy(&haproxy_bin, &dir, echo, sv1.0, api.0);
    let version = haproxy_version(&haproxy_bin);
    let muxes = [&gateway, &haproxy];
    let names = ["mining-gateway".to_owned(), format!("HAProxy {version}")];
    let mut table: Vec<(String, [String; 2])> = Vec::new();
    let mut figures = [serde_json::Map::new(), serde_json::Map::new()];
    let mut extra = serde_json::Map::new();

    eprintln!("warming up");
    for mux in muxes {
        connections(mux.addr, 500);
    }

    if runs("connections") {
        let n = sizes.connections * ROUNDS;
        eprintln!("connections: {n} per mux, {CLIENTS} at a time, in {ROUNDS} rounds");
        let mut cpu = [0.0; 2];
        let mut wall = [0.0; 2];
        for _ in 0..ROUNDS {
            for (i, mux) in muxes.iter().enumerate() {
                let before = mux.cpu();
                wall[i] += connections(mux.addr, sizes.connections).as_secs_f64();
                cpu[i] += mux.cpu() - before;
            }
        }
        let per = cpu.map(|c| c / n as f64);
        let rate = wall.map(|w| n as f64 / w);
        table.push(("mux CPU per connection".into(), per.map(us)));
        table.push((
            format!("connections per second ({CLIENTS} clients)"),
            rate.map(|r| format!("{r:.0}")),
        ));
        for i in 0..2 {
            figures[i].insert("cpuPerConnectionUs".into(), json!(round(per[i] * 1e6)));
            figures[i].insert("connectionsPerSecond".into(), json!(rate[i].round()));
        }
    }

    if runs("round-trips") {
        let per_round = CLIENTS * sizes.round_trips_per_client;
        eprintln!(
            "round trips: {} per mux on {CLIENTS} open connections, in {ROUNDS} rounds",
            per_round * ROUNDS
        );
        let mut cpu = [0.0; 2];
        for _ in 0..ROUNDS {
            for (i, mux) in muxes.iter().enumerate() {
                let before = mux.cpu();
                round_trips(mux.addr, sizes.round_trips_per_client);
                cpu[i] += mux.cpu() - before;
            }
        }
        let per = cpu.map(|c| c / (per_round * ROUNDS) as f64);
        table.push(("mux CPU per small round trip".into(), per.map(us)));
        for i in 0..2 {
            figures[i].insert("cpuPerRoundTripUs".into(), json!(round(per[i] * 1e6)));
        }
    }

    if runs("latency") {
        eprintln!(
            "latency: {} round trips and {} new connections per path, one at a time, paths in turn",
            sizes.latency_samples, sizes.setup_samples
        );
        let paths = [echo, gateway.addr, haproxy.addr];
        let trips = trip_latencies(&paths, sizes.latency_samples);
        let setups = setup_latencies(&paths, sizes.setup_samples);
        let pair = |(p50, p99): (f64, f64)| format!("+{} / +{}", us(p50), us(p99));
        let trip = [added(&trips[1], &trips[0]), added(&trips[2], &trips[0])];
        let setup = [added(&setups[1], &setups[0]), added(&setups[2], &setups[0])];
        table.push(("added latency, round trip p50 / p99".into(), trip.map(pair)));
        table.push((
            "added latency, new connection p50 / p99".into(),
            setup.map(pair),
        ));
        for i in 0..2 {
            figures[i].insert("addedRoundTripP50Us".into(), json!(round(trip[i].0 * 1e6)));
            figures[i].insert("addedRoundTripP99Us".into(), json!(round(trip[i].1 * 1e6)));
            figures[i].insert(
                "addedNewConnectionP50Us".into(),
                json!(round(setup[i].0 * 1e6)),
            );
            figures[i].insert(
                "addedNewConnectionP99Us".into(),
                json!(round(setup[i].1 * 1e6)),
            );
        }
        let direct = format!(
            "direct: round trip p50 {} p99 {}, new connection p50 {} p99 {}",
            us(percentile(&trips[0], 0.50)),
            us(percentile(&trips[0], 0.99)),
            us(percentile(&setups[0], 0.50)),
            us(percentile(&setups[0], 0.99)),
        );
        extra.insert("direct".into(), json!(direct));
    }

    if runs("idle") {
        eprintln!("idle: {IDLE} relayed connections per mux");
        let per = [idle_rss(&gateway), idle_rss(&haproxy)];
        table.push((
            format!("RSS per idle connection ({IDLE} open)"),
            per.map(|b| format!("{:.1} KB", b / 1000.0)),
        ));
        for i in 0..2 {
            figures[i].insert("rssPerIdleConnectionBytes".into(), json!(per[i].round()));
        }
    }

    if runs("misroutes") {
        eprintln!("misroutes: {OPENINGS} random openings (seed {SEED:#x})");
        let openings = random_openings();
        let ours = misrouted(gateway.addr, &openings);
        let tokens = misrouted(haproxy.addr, &openings);
        let one_byte = misrouted(haproxy.one_byte.expect("the one-byte frontend"), &openings);
        table.push((
            format!("misroutes of {OPENINGS} random openings"),
            [ours.to_string(), tokens.to_string()],
        ));
        table.push((
            "  with the spec's one-byte rule (HAProxy)".into(),
            [String::new(), one_byte.to_string()],
        ));
        figures[0].insert("misroutes".into(), json!(ours));
        figures[1].insert("misroutes".into(), json!(tokens));
        extra.insert("oneByteRuleMisroutes".into(), json!(one_byte));
    }

    println!();
    println!("{:<44}{:>24}{:>24}", "", names[0], names[1]);
    for (label, [a, b]) in &table {
        println!("{label:<44}{a:>24}{b:>24}");
    }
    if let Some(direct) = extra.get("direct").and_then(|d| d.as_str()) {
        println!("{direct}");
    }
    let [ours, theirs] = figures;
    let mut line = json!({
        "bench": "gateway",
        "haproxyVersion": version,
        "gateway": ours,
        "haproxy": theirs,
    });
    if let Some(m) = extra.remove("oneByteRuleMisroutes") {
        line["oneByteRuleMisroutes"] = m;
    }
    println!("{line}");
    drop(rt);
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn us(seconds: f64) -> String {
    format!("{:.1} µs", seconds * 1e6)
}

/// A mux under test: its process and the port miners connect to.
struct Mux {
    child: Child,
    addr: SocketAddr,
    one_byte: Option<SocketAddr>,
}

impl Mux {
    fn gateway(bin: &Path, echo: SocketAddr, sv1: SocketAddr, api: SocketAddr) -> Mux {
        let addr = free_addr();
        let child = Command::new(bin)
            .args(["--listen", &addr.to_string()])
            .args(["--sv2", &echo.to_string(), "--sv1", &sv1.to_string()])
            .args([
                "--report-url",
                &format!("http://{api}/api/downstream-report"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its one line per connection, as in production, to nowhere.
            .stderr(Stdio::null())
            .spawn()
            .expect("mining-gateway starts");
        wait_for(addr);
        Mux {
            child,
            addr,
            one_byte: None,
        }
    }

    fn haproxy(bin: &Path, dir: &Path, echo: SocketAddr, sv1: SocketAddr, api: SocketAddr) -> Mux {
        let (addr, one_byte) = (free_addr(), free_addr());
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(addr, one_byte, echo, sv1, api)).unwrap();
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            // Its tcplog line per connection, to nowhere.
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("haproxy starts");
        wait_for(addr);
        wait_for(one_byte);
        Mux {
            child,
            addr,
            one_byte: Some(one_byte),
        }
    }

    /// User + system CPU seconds so far, all threads.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / ticks
    }

    /// Resident set size in bytes.
    fn rss(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .unwrap()
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kb * 1024.0
    }
}

impl Drop for Mux {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy with rules equivalent to the gateway's (whole method tokens and
/// the start of a JSON object), and a second frontend with the spec's
/// one-byte rules. Both log one line per connection, like the gateway.
fn haproxy_config(
    addr: SocketAddr,
    one_byte: SocketAddr,
    echo: SocketAddr,
    sv1: SocketAddr,
    api: SocketAddr,
) -> String {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let methods: String = mining_gateway::classify::HTTP_METHODS
        .iter()
        .map(|m| {
            let token = format!("{m} ");
            format!(
                "    acl http req.payload(0,{}) -m bin {}\n",
                token.len(),
                hex(&token)
            )
        })
        .collect();
    format!(
        "global
    maxconn 9500
    log stdout format raw local0

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend tokens
    bind {addr}
    tcp-request inspect-delay 3s
{methods}    acl sv1 req.payload(0,2) -m bin 7b22
    acl sv1 req.payload(0,3) -m bin 7b2022
    tcp-request content accept if http or sv1 or {{ req.len ge 64 }}
    use_backend api if http
    use_backend sv1 if sv1
    default_backend sv2

frontend one_byte
    bind {one_byte}
    tcp-request inspect-delay 3s
    tcp-request content accept if {{ req.len ge 1 }}
    use_backend api if {{ req.payload(0,1) -m bin 47 }} or {{ req.payload(0,1) -m bin 50 }}
    use_backend sv1 if {{ req.payload(0,1) -m bin 7b }}
    default_backend sv2

backend sv2
    server pool {echo}

backend sv1
    server sv1 {sv1}

backend api
    server api {api}
"
    )
}

fn haproxy_version(bin: &Path) -> String {
    let out = Command::new(bin).arg("-v").output().expect("haproxy -v");
    // "HAProxy version 2.6.12-1+deb12u4 2025/..." -> "2.6.12"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.split('-').next())
        .unwrap_or("?")
        .to_owned()
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bench-gateway-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_addr() -> SocketAddr {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn wait_for(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pool's SV2 listener: echoes everything until the client's FIN.
async fn echo_listener() -> SocketAddr {
    let listener = listen().await;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A listener that counts connections and closes them without a word.
async fn counting_listener() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = listen().await;
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::Relaxed);
            drop(stream);
        }
    });
    (addr, count)
}

async fn listen() -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket.listen(4096).unwrap()
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// `n` connections, `CLIENTS` at a time: connect, opening, echo, close.
fn connections(addr: SocketAddr, n: usize) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let mut s = connect(addr).expect("connect");
                    s.write_all(&OPENING).unwrap();
                    let mut echo = [0u8; 64];
                    s.read_exact(&mut echo).expect("echo");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    started.elapsed()
}

/// `CLIENTS` open connections, each doing `per_client` 32-byte round trips.
fn round_trips(addr: SocketAddr, per_client: usize) {
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = connect(addr).expect("connect");
                s.write_all(&OPENING).unwrap();
                let mut echo = [0u8; 64];
                s.read_exact(&mut echo).unwrap();
                let mut msg = [0x42u8; 32];
                for _ in 0..per_client {
                    s.write_all(&msg).unwrap();
                    s.read_exact(&mut msg).unwrap();
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

/// Round-trip times of 32-byte messages, seconds: one open connection per
/// path, the paths taking turns, so the machine's load hits all alike.
fn trip_latencies(paths: &[SocketAddr], n: usize) -> Vec<Vec<f64>> {
    let mut streams: Vec<TcpStream> = paths
        .iter()
        .map(|addr| {
            let mut s = connect(*addr).expect("connect");
            s.write_all(&OPENING).unwrap();
            let mut echo = [0u8; 64];
            s.read_exact(&mut echo).unwrap();
            s
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(n); paths.len()];
    let mut msg = [0x42u8; 32];
    for _ in 0..n {
        for (s, out) in streams.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            s.write_all(&msg).unwrap();
            s.read_exact(&mut msg).unwrap();
            out.push(t.elapsed().as_secs_f64());
        }
    }
    samples
}

/// Times from connect to the opening's echo, seconds, the paths taking
/// turns.
fn setup_latencies(paths: &[SocketAddr], n: usize) -> Vec<Vec<f64>> {
    let mut samples = vec![Vec::with_capacity(n); paths.len()];
    for _ in 0..n {
        for (addr, out) in paths.iter().zip(samples.iter_mut()) {
            let t = Instant::now();
            let mut s = connect(*addr).expect("connect");
            s.write_all(&OPENING).unwrap();
            let mut echo = [0u8; 64];
            s.read_exact(&mut echo).unwrap();
            out.push(t.elapsed().as_secs_f64());
        }
    }
    samples
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// (p50, p99) of `through` less those of `direct`.
fn added(through: &[f64], direct: &[f64]) -> (f64, f64) {
    (
        percentile(through, 0.50) - percentile(direct, 0.50),
        percentile(through, 0.99) - percentile(direct, 0.99),
    )
}

/// Bytes of RSS each of `IDLE` open, relayed, idle connections costs.
fn idle_rss(mux: &Mux) -> f64 {
    std::thread::sleep(Duration::from_millis(500));
    let before = mux.rss();
    let mut open = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let mut s = connect(mux.addr).expect("connect");
        s.write_all(&OPENING).unwrap();
        let mut echo = [0u8; 64];
        s.read_exact(&mut echo).expect("echo");
        open.push(s);
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = mux.rss();
    drop(open);
    std::thread::sleep(Duration::from_secs(1));
    (after - before) / IDLE as f64
}

fn random_openings() -> Vec<[u8; 64]> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..OPENINGS)
        .map(|_| {
            let mut o = [0u8; 64];
            rng.fill_bytes(&mut o);
            o
        })
        .collect()
}

/// How many openings did not come back from the SV2 echo listener.
fn misrouted(addr: SocketAddr, openings: &[[u8; 64]]) -> usize {
    let openings = Arc::new(openings.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (openings, next, wrong) = (openings.clone(), next.clone(), wrong.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(opening) = openings.get(i) else {
                    return;
                };
                let mut echo = [0u8; 64];
                let ok = connect(addr)
                    .and_then(|mut s| {
                        s.write_all(opening)?;
                        s.read_exact(&mut echo)
                    })
                    .is_ok()
                    && &echo == opening;
                if !ok {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    wrong.load(Ordering::Relaxed)
}
