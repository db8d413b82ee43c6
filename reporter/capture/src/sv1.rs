//! Scripted SV1 miners: plain TCP JSON-RPC lines, as a bitaxe, cgminer or an
//! Antminer sends them (mining.configure where the firmware does, then
//! mining.subscribe with the user agent, mining.authorize, and two
//! mining.submit of shares found at the difficulty the translator set).

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::note;

/// One SV1 device of the run.
#[derive(Clone, Debug)]
pub struct Device {
    /// The capture's name for it (also its worker name).
    pub label: &'static str,
    /// `mining.subscribe` params[0].
    pub agent: String,
    /// `mining.authorize` params[0].
    pub username: String,
    /// Whether it asks for version rolling first, as bitaxe and Antminer firmware do.
    pub configure: bool,
}

/// A running SV1 connection.
pub struct Session {
    pub label: &'static str,
    socket: Arc<Mutex<Option<TcpStream>>>,
    stopping: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Session {
    /// The miner hangs up.
    pub fn disconnect(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(s) = self.socket.lock().unwrap().as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        note(&format!("{}: disconnected by the miner", self.label));
    }

    /// Whether the translator closed the connection.
    pub fn closed_by_server(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits (bounded) for the thread of a connection the server closed.
    pub fn reap(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn connect(device: Device, addr: SocketAddr) -> Session {
    let socket = Arc::new(Mutex::new(None::<TcpStream>));
    let stopping = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let label = device.label;
    let (sock, stop, done) = (socket.clone(), stopping.clone(), closed.clone());
    let thread = std::thread::spawn(move || {
        let stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(e) => {
                done.store(true, Ordering::SeqCst);
                return note(&format!("{}: connect failed: {e}", device.label));
            }
        };
        note(&format!(
            "{}: connected from {}",
            device.label,
            stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        ));
        *sock.lock().unwrap() = stream.try_clone().ok();
        match run(&device, stream) {
            Ok(()) => {}
            Err(e) if stop.load(Ordering::SeqCst) => {
                let _ = e;
            }
            Err(e) => note(&format!("{}: {e}", device.label)),
        }
        if !stop.load(Ordering::SeqCst) {
            note(&format!(
                "{}: connection closed by the translator",
                device.label
            ));
        }
        done.store(true, Ordering::SeqCst);
    });
    Session {
        label,
        socket,
        stopping,
        closed,
        thread: Some(thread),
    }
}

/// What the miner learnt from the translator.
#[derive(Default)]
struct Work {
    extranonce1: Vec<u8>,
    extranonce2_size: usize,
    difficulty: Option<f64>,
    version_mask: Option<u32>,
    authorized: bool,
    subscribed: bool,
    submitted: u32,
    next_id: u64,
}

fn send(stream: &mut TcpStream, label: &str, message: &Value) -> Result<(), String> {
    let line = format!("{message}\n");
    note(&format!("{label}: -> {}", line.trim_end()));
    stream
        .write_all(line.as_bytes())
        .map_err(|e| format!("write: {e}"))
}

fn run(device: &Device, stream: TcpStream) -> Result<(), String> {
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let label = device.label;
    if device.configure {
        send(
            &mut writer,
            label,
            &json!({"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 16}]}),
        )?;
    }
    send(
        &mut writer,
        label,
        &json!({"id": 2, "method": "mining.subscribe", "params": [device.agent]}),
    )?;
    send(
        &mut writer,
        label,
        &json!({"id": 3, "method": "mining.authorize", "params": [device.username, "x"]}),
    )?;
    let mut work = Work {
        next_id: 4,
        ..Work::default()
    };
    let started = Instant::now();
    let mut line = String::new();
    // Bounded in lines and time: a run lasts a few minutes.
    for _ in 0..100_000 {
        if started.elapsed() > Duration::from_secs(1800) {
            return Err("session ran too long".into());
        }
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
        let text = line.trim_end();
        note(&format!("{label}: <- {text}"));
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        handle(device, &mut writer, &mut work, &message)?;
    }
    Ok(())
}

fn handle(
    device: &Device,
    writer: &mut TcpStream,
    work: &mut Work,
    message: &Value,
) -> Result<(), String> {
    match message.get("method").and_then(Value::as_str) {
        Some("mining.set_difficulty") => {
            work.difficulty = message["params"][0].as_f64();
        }
        Some("mining.set_extranonce") => {
            if let Some(e1) = message["params"][0].as_str() {
                work.extranonce1 = hex::decode(e1).unwrap_or_default();
            }
            if let Some(size) = message["params"][1].as_u64() {
                work.extranonce2_size = size as usize;
            }
        }
        Some("mining.notify") => {
            if work.subscribed && work.authorized && work.submitted < 2 {
                if let Some(d) = work.difficulty {
                    let params = message["params"].clone();
                    for _ in 0..2 {
                        let en2 = work.submitted as u64;
                        let share = find_share(work, &params, d, en2);
                        let Some(share) = share else { break };
                        let mut submit = vec![
                            json!(device.username),
                            params[0].clone(),
                            json!(share.extranonce2),
                            json!(share.ntime),
                            json!(share.nonce),
                        ];
                        if let Some(bits) = share.version_bits {
                            submit.push(json!(bits));
                        }
                        let id = work.next_id;
                        work.next_id += 1;
                        send(
                            writer,
                            device.label,
                            &json!({"id": id, "method": "mining.submit", "params": submit}),
                        )?;
                        work.submitted += 1;
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            }
        }
        Some(_) => {}
        None => match message.get("id").and_then(Value::as_u64) {
            Some(1) => {
                if let Some(mask) = message["result"]["version-rolling.mask"].as_str() {
                    work.version_mask = u32::from_str_radix(mask, 16).ok();
                }
            }
            Some(2) => {
                let result = &message["result"];
                if let Some(e1) = result[1].as_str() {
                    work.extranonce1 = hex::decode(e1).unwrap_or_default();
                    work.extranonce2_size = result[2].as_u64().unwrap_or(4) as usize;
                    work.subscribed = true;
                }
            }
            Some(3) => work.authorized = message["result"].as_bool() == Some(true),
            _ => {}
        },
    }
    Ok(())
}

struct Share {
    extranonce2: String,
    ntime: String,
    nonce: String,
    version_bits: Option<String>,
}

fn dsha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// Searches nonces (bounded) for a header whose hash meets the SV1 difficulty.
fn find_share(work: &Work, params: &Value, difficulty: f64, extranonce2: u64) -> Option<Share> {
    let hx = |i: usize| params[i].as_str().and_then(|s| hex::decode(s).ok());
    let prev = hx(1)?;
    let coinb1 = hx(2)?;
    let coinb2 = hx(3)?;
    let branches: Vec<Vec<u8>> = params[4]
        .as_array()?
        .iter()
        .filter_map(|b| b.as_str().and_then(|s| hex::decode(s).ok()))
        .collect();
    let version = u32::from_str_radix(params[5].as_str()?, 16).ok()?;
    let nbits = u32::from_str_radix(params[6].as_str()?, 16).ok()?;
    let ntime = u32::from_str_radix(params[7].as_str()?, 16).ok()?;
    if prev.len() != 32 {
        return None;
    }
    let en2_bytes = extranonce2.to_be_bytes();
    let en2 = en2_bytes[8 - work.extranonce2_size.min(8)..].to_vec();
    let mut coinbase = coinb1.clone();
    coinbase.extend_from_slice(&work.extranonce1);
    coinbase.extend_from_slice(&en2);
    coinbase.extend_from_slice(&coinb2);
    let mut root = dsha(&coinbase);
    for b in &branches {
        let mut both = root.to_vec();
        both.extend_from_slice(b);
        root = dsha(&both);
    }
    // Version rolling: the bits the miner rolled are sent as version_bits.
    let (header_version, version_bits) = match work.version_mask {
        Some(mask) => {
            let bits = 0u32;
            (
                (version & !mask) | (bits & mask),
                Some(format!("{bits:08x}")),
            )
        }
        None => (version, None),
    };
    let mut header = Vec::with_capacity(80);
    header.extend_from_slice(&header_version.to_le_bytes());
    // SV1 sends the previous hash as eight 32-bit words, each byte-swapped.
    for word in prev.chunks(4) {
        header.extend(word.iter().rev());
    }
    header.extend_from_slice(&root);
    header.extend_from_slice(&ntime.to_le_bytes());
    header.extend_from_slice(&nbits.to_le_bytes());
    header.extend_from_slice(&[0u8; 4]);
    // Difficulty 1 is 0xffff * 2^208; a share meets 1/difficulty of that (kept a
    // little under, so float rounding never sends a share the translator refuses).
    let target = 65535.0 * 2f64.powi(208) / difficulty * 0.99;
    for nonce in 0u32..50_000_000 {
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        let hash = dsha(&header);
        let value = hash
            .iter()
            .rev()
            .fold(0f64, |acc, b| acc * 256.0 + f64::from(*b));
        if value <= target {
            return Some(Share {
                extranonce2: hex::encode(&en2),
                ntime: format!("{ntime:08x}"),
                nonce: format!("{nonce:08x}"),
                version_bits,
            });
        }
    }
    None
}
