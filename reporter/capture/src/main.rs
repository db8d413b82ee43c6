//! Recreates `reporter/tests/fixtures/translator/`: one run, on 127.0.0.1
//! only, of the real SRI `jd_client_sv2` (SOLOMINING, fed by a scripted
//! Template Provider) with the real SRI `translator_sv2` as one of its
//! downstreams, SV1 miners on the translator and one SV2 miner straight on
//! the JD-Client. It keeps both logs unedited, the monitoring APIs' answers
//! after each step, the configs used and a timeline.
//!
//! Usage: `capture --sri-bin DIR --out DIR` (see `capture.sh`).

mod http;
mod sv1;
mod sv2;

use std::fs::{self, File};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

/// Loopback addresses of the run (fixed so the configs are the same every run).
const TP: &str = "127.0.0.1:38442";
const JDC: &str = "127.0.0.1:38265";
const JDC_MONITORING: &str = "127.0.0.1:38091";
const TPROXY: &str = "127.0.0.1:38255";
const TPROXY_MONITORING: &str = "127.0.0.1:38092";

/// The solo payout address of the JD-Client config, also the miners' account.
const ADDRESS: &str = "bc1q9f9vj7spn8h7qda6pn8d4g4j99f0mn9lhwz55j";

/// Pause between steps, so each shows apart in the logs.
const SETTLE: Duration = Duration::from_secs(6);

static NOTES: Mutex<Option<File>> = Mutex::new(None);

/// A line of the capture's own transcript (stderr and `capture.log`).
pub fn note(text: &str) {
    let line = format!("{} {text}", now());
    eprintln!("{line}");
    if let Some(f) = NOTES.lock().unwrap().as_mut() {
        let _ = writeln!(f, "{line}");
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn jdc_config() -> String {
    format!(
        r#"listening_address = "{JDC}"
max_supported_version = 2
min_supported_version = 2
authority_public_key = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
authority_secret_key = "mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n"
cert_validity_sec = 3600
shares_per_minute = 6.0
share_batch_size = 10
mode = "SOLOMINING"
jdc_signature = "Sv2SoloMiner"
coinbase_reward_script = "addr({ADDRESS})"
upstreams = []
monitoring_address = "{JDC_MONITORING}"
monitoring_cache_refresh_secs = 2

[template_provider_type.Sv2Tp]
address = "{TP}"
"#
    )
}

fn translator_config() -> String {
    let (host, port) = JDC.split_once(':').unwrap();
    let (down_host, down_port) = TPROXY.split_once(':').unwrap();
    format!(
        r#"downstream_address = "{down_host}"
downstream_port = {down_port}
max_supported_version = 2
min_supported_version = 2
downstream_extranonce2_size = 4
verify_payout = false
aggregate_channels = false
supported_extensions = [0x0002]
monitoring_address = "{TPROXY_MONITORING}"
monitoring_cache_refresh_secs = 2

[downstream_difficulty_config]
min_individual_miner_hashrate = 100_000.0
shares_per_minute = 6.0
enable_vardiff = true
job_keepalive_interval_secs = 60

[[upstreams]]
address = "{host}"
port = {port}
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
user_identity = "{ADDRESS}"
"#
    )
}

fn devices() -> Vec<sv1::Device> {
    let user = |worker: &str| format!("{ADDRESS}.{worker}");
    let mut list: Vec<sv1::Device> = ["bitaxe1", "bitaxe2", "bitaxe3"]
        .into_iter()
        .map(|w| sv1::Device {
            label: w,
            agent: "bitaxe/BM1370/v2.14.0".into(),
            username: user(w),
            configure: true,
        })
        .collect();
    list.push(sv1::Device {
        label: "cgminer1",
        agent: "cgminer/4.11.1".into(),
        username: user("cgminer1"),
        configure: false,
    });
    list.push(sv1::Device {
        label: "s21",
        agent: "Antminer S21/Mon Jan 15 10:00:00 CST 2024".into(),
        username: user("s21"),
        configure: true,
    });
    list.push(sv1::Device {
        label: "evil1",
        // A newline, then a line shaped as the translator's own subscribe line
        // (same target); the translator appends ", extranonce1: None }" itself,
        // so the forged line comes out well formed.
        agent: "evil/1.0\n2026-01-01T00:00:00.000000Z DEBUG translator_sv2::sv1::sv1_server::downstream_message_handler: Down: Handling mining.subscribe: Subscribe { id: 1, agent_signature: bitaxe/BM1370/v9.9.9".into(),
        username: user("evil1"),
        configure: false,
    });
    list
}

struct Run {
    bin: PathBuf,
    out: PathBuf,
    timeline: File,
}

impl Run {
    fn step(&mut self, name: &str, what: &str) {
        let line = format!("{} {name} {what}", now());
        note(&format!("STEP {name}: {what}"));
        writeln!(self.timeline, "{line}").unwrap();
        self.timeline.flush().unwrap();
    }

    fn spawn(&self, binary: &str, config: &str, log: &str, rust_log: Option<&str>) -> Child {
        let path = self.bin.join(binary);
        let stdout = File::create(self.out.join(log)).expect("log file");
        let stderr = stdout.try_clone().unwrap();
        let mut cmd = Command::new(&path);
        cmd.arg("-c")
            .arg(self.out.join(config))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .env_remove("RUST_LOG");
        if let Some(level) = rust_log {
            cmd.env("RUST_LOG", level);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        note(&format!("started {binary} pid {} -> {log}", child.id()));
        child
    }

    /// Waits (bounded) until the log holds `needle`.
    fn wait_for_log(&self, log: &str, needle: &str, patience: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < patience {
            if fs::read_to_string(self.out.join(log))
                .map(|t| t.contains(needle))
                .unwrap_or(false)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        note(&format!("{log}: no '{needle}' within {patience:?}"));
        false
    }

    fn save(&self, file: &str, addr: &str, path: &str) -> Option<serde_json::Value> {
        let addr: SocketAddr = addr.parse().unwrap();
        match http::get(addr, path) {
            Ok((status, body)) => {
                fs::write(self.out.join(file), &body).unwrap();
                note(&format!(
                    "saved {file} (GET {path}: {status}, {} bytes)",
                    body.len()
                ));
                serde_json::from_slice(&body).ok()
            }
            Err(e) => {
                note(&format!("GET {path} failed: {e}"));
                None
            }
        }
    }

    /// Both monitoring APIs' view, after their 2 s caches refreshed.
    fn snapshot(&self, step: &str) {
        std::thread::sleep(Duration::from_secs(3));
        self.save(
            &format!("{step}.translator-sv1-clients.json"),
            TPROXY_MONITORING,
            "/api/v1/sv1/clients?offset=0&limit=100",
        );
        self.save(
            &format!("{step}.translator-global.json"),
            TPROXY_MONITORING,
            "/api/v1/global",
        );
        self.save(
            &format!("{step}.translator-server-channels.json"),
            TPROXY_MONITORING,
            "/api/v1/server/channels?offset=0&limit=100",
        );
        let clients = self.save(
            &format!("{step}.jdc-clients.json"),
            JDC_MONITORING,
            "/api/v1/clients?offset=0&limit=100",
        );
        let ids: Vec<u64> = clients
            .as_ref()
            .and_then(|c| c["items"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c["client_id"].as_u64())
            .collect();
        for id in ids {
            self.save(
                &format!("{step}.jdc-client-{id}-channels.json"),
                JDC_MONITORING,
                &format!("/api/v1/clients/{id}/channels?offset=0&limit=100"),
            );
        }
    }
}

/// Asks a child to shut down as on Ctrl+C and waits (bounded) for it.
fn interrupt(child: &mut Child, name: &str) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            note(&format!("{name} exited: {status}"));
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    note(&format!(
        "{name} did not exit after SIGINT; killing pid {pid}"
    ));
    let _ = child.kill();
    let _ = child.wait();
}

fn connect_all(devices: &[sv1::Device], addr: SocketAddr) -> Vec<sv1::Session> {
    devices
        .iter()
        .map(|d| {
            let s = sv1::connect(d.clone(), addr);
            // One at a time, so downstream ids follow this order.
            std::thread::sleep(Duration::from_millis(1500));
            s
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| {
                eprintln!("usage: capture --sri-bin DIR --out DIR");
                std::process::exit(2)
            })
    };
    let bin = PathBuf::from(arg("--sri-bin"));
    let out = PathBuf::from(arg("--out"));
    fs::create_dir_all(&out).unwrap();
    *NOTES.lock().unwrap() = Some(File::create(out.join("capture.log")).unwrap());

    let jdc_toml = "jd_client_sv2-0.6.0.toml";
    let tproxy_toml = "translator_sv2-0.6.0.toml";
    fs::write(out.join(jdc_toml), jdc_config()).unwrap();
    fs::write(out.join(tproxy_toml), translator_config()).unwrap();
    let mut run = Run {
        bin,
        out: out.clone(),
        timeline: File::create(out.join("timeline.txt")).unwrap(),
    };
    let devices = devices();
    let tproxy_addr: SocketAddr = TPROXY.parse().unwrap();
    let jdc_addr: SocketAddr = JDC.parse().unwrap();

    run.step(
        "00-start-tp",
        &format!("scripted Template Provider listens on {TP}"),
    );
    let tp = sv2::template_provider(TcpListener::bind(TP).expect("TP port free"));

    run.step(
        "00-start-jdc",
        "jd_client_sv2 starts (SOLOMINING), log jd_client_sv2.log",
    );
    let mut jdc = run.spawn("jd_client_sv2", jdc_toml, "jd_client_sv2.log", None);
    if !run.wait_for_log(
        "jd_client_sv2.log",
        "ready to accept connections",
        Duration::from_secs(30),
    ) {
        interrupt(&mut jdc, "jd_client_sv2");
        tp.stop();
        std::process::exit(1);
    }
    std::thread::sleep(Duration::from_secs(1));

    run.step(
        "00-connect-nerdqaxe",
        "SV2 miner NerdQAxe++ (standard channel) connects straight to the JD-Client",
    );
    let nerdqaxe = sv2::standard_miner(jdc_addr, format!("{ADDRESS}.nerdqaxe1"));
    std::thread::sleep(Duration::from_secs(3));

    run.step(
        "00-start-translator",
        "translator_sv2 starts (RUST_LOG=debug), log translator_sv2.1.log",
    );
    let mut tproxy = run.spawn(
        "translator_sv2",
        tproxy_toml,
        "translator_sv2.1.log",
        Some("debug"),
    );
    run.wait_for_log(
        "translator_sv2.1.log",
        "Translator Proxy: listening on",
        Duration::from_secs(30),
    );
    std::thread::sleep(Duration::from_secs(2));

    run.step(
        "01-connect",
        "SV1 miners connect one by one: bitaxe1, bitaxe2, bitaxe3, cgminer1, s21, evil1",
    );
    let mut sessions = connect_all(&devices, tproxy_addr);
    std::thread::sleep(SETTLE);
    run.step("01-all-connected", "snapshot of both monitoring APIs");
    run.snapshot("01-all-connected");
    std::thread::sleep(SETTLE);

    run.step(
        "02-bitaxe2-disconnects",
        "bitaxe2 closes its TCP connection (translator stays up)",
    );
    let bitaxe2 = sessions.remove(1);
    bitaxe2.disconnect();
    std::thread::sleep(SETTLE);
    run.step("02-bitaxe2-gone", "snapshot of both monitoring APIs");
    run.snapshot("02-bitaxe2-gone");
    std::thread::sleep(SETTLE);

    run.step(
        "03-bitaxe2-reconnects",
        "bitaxe2 connects again (a new TCP connection)",
    );
    sessions.insert(1, sv1::connect(devices[1].clone(), tproxy_addr));
    std::thread::sleep(SETTLE);
    run.step("03-bitaxe2-back", "snapshot of both monitoring APIs");
    run.snapshot("03-bitaxe2-back");
    std::thread::sleep(SETTLE);

    run.step(
        "04-translator-stops",
        "translator_sv2 gets SIGINT (graceful shutdown); its SV1 miners are dropped",
    );
    interrupt(&mut tproxy, "translator_sv2");
    let start = Instant::now();
    while sessions.iter().any(|s| !s.closed_by_server())
        && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    for s in sessions.drain(..) {
        if s.closed_by_server() {
            s.reap();
        } else {
            s.disconnect();
        }
    }
    std::thread::sleep(SETTLE);
    run.step(
        "04-translator-down",
        "snapshot of the JD-Client's API (the translator's is down)",
    );
    std::thread::sleep(Duration::from_secs(3));
    run.save(
        "04-translator-down.jdc-clients.json",
        JDC_MONITORING,
        "/api/v1/clients?offset=0&limit=100",
    );

    run.step(
        "05-translator-restarts",
        "translator_sv2 starts again (RUST_LOG=debug), log translator_sv2.2.log",
    );
    let mut tproxy = run.spawn(
        "translator_sv2",
        tproxy_toml,
        "translator_sv2.2.log",
        Some("debug"),
    );
    run.wait_for_log(
        "translator_sv2.2.log",
        "Translator Proxy: listening on",
        Duration::from_secs(30),
    );
    std::thread::sleep(Duration::from_secs(2));
    run.step("05-reconnect", "the SV1 miners reconnect in the same order");
    let sessions = connect_all(&devices, tproxy_addr);
    std::thread::sleep(SETTLE);
    run.step("05-all-reconnected", "snapshot of both monitoring APIs");
    run.snapshot("05-all-reconnected");
    std::thread::sleep(SETTLE);

    run.step(
        "06-stop",
        "SV1 miners hang up, then translator, NerdQAxe++, JD-Client and TP stop",
    );
    for s in sessions {
        s.disconnect();
    }
    std::thread::sleep(Duration::from_secs(2));
    interrupt(&mut tproxy, "translator_sv2");
    std::thread::sleep(Duration::from_secs(2));
    nerdqaxe.stop();
    std::thread::sleep(Duration::from_secs(2));
    interrupt(&mut jdc, "jd_client_sv2");
    tp.stop();
    run.step("06-done", "everything stopped");
}
