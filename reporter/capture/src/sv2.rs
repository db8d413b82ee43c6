//! The scripted SV2 peers of a capture: a Template Provider the real
//! JD-Client connects to, and one SV2 miner (a NerdQAxe++ on a standard
//! channel) that connects straight to the JD-Client. Both speak real Noise
//! NX and SV2 framing through the published SV2 crates.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use binary_sv2::{from_bytes, Seq0255, Serialize, Str0255, B0255, B064K, U256};
use codec_sv2::{
    Decrypted, Handshake, MessageFrame, NoiseDecoder, NoiseEncoder, TransportDecryptState,
    TransportEncryptState,
};
use common_messages_sv2::{
    Protocol, SetupConnection, SetupConnectionSuccess, CHANNEL_BIT_SETUP_CONNECTION,
    CHANNEL_BIT_SETUP_CONNECTION_SUCCESS, MESSAGE_TYPE_SETUP_CONNECTION,
    MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS,
};
use mining_sv2::{
    OpenStandardMiningChannel, OpenStandardMiningChannelSuccess,
    CHANNEL_BIT_OPEN_STANDARD_MINING_CHANNEL, MESSAGE_TYPE_OPEN_STANDARD_MINING_CHANNEL,
    MESSAGE_TYPE_OPEN_STANDARD_MINING_CHANNEL_SUCCESS,
};
use noise_sv2::{
    Initiator, Responder, ELLSWIFT_ENCODING_SIZE, INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE,
};
use secp256k1::{Keypair, Parity, Secp256k1, SecretKey};
use template_distribution_sv2::{
    NewTemplate, SetNewPrevHash, CHANNEL_BIT_NEW_TEMPLATE, CHANNEL_BIT_SET_NEW_PREV_HASH,
    MESSAGE_TYPE_NEW_TEMPLATE, MESSAGE_TYPE_SET_NEW_PREV_HASH,
};

use crate::note;

/// How long a blocking read waits before the peer is treated as gone.
const READ_PATIENCE: Duration = Duration::from_secs(900);

/// One encrypted SV2 connection: the stream and both Noise states.
struct Conn {
    stream: TcpStream,
    encoder: NoiseEncoder,
    encrypt: TransportEncryptState,
    decoder: NoiseDecoder,
    decrypt: Option<TransportDecryptState>,
}

impl Conn {
    fn send<T: Serialize + binary_sv2::GetSize>(
        &mut self,
        message: T,
        kind: u8,
        channel_bit: bool,
    ) -> Result<(), String> {
        let frame = MessageFrame::from_message(message, kind, 0, channel_bit)
            .map_err(|e| format!("frame: {e:?}"))?;
        let bytes = self
            .encoder
            .encode_transport(frame, &mut self.encrypt)
            .map_err(|e| format!("encrypt: {e:?}"))?;
        self.stream
            .write_all(bytes.as_ref())
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads one frame: its message type and payload, or None at the end of the stream.
    fn recv(&mut self) -> Result<Option<(u8, Vec<u8>)>, String> {
        let mut state = self.decrypt.take().ok_or("decrypt state lost")?;
        // A frame is read a chunk at a time; bounded by the largest SV2 frame.
        for _ in 0..100_000 {
            let want = self.decoder.writable_len();
            if want > 0 {
                if let Err(e) = self.stream.read_exact(self.decoder.writable()) {
                    return match e.kind() {
                        std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted => Ok(None),
                        _ => Err(format!("read: {e}")),
                    };
                }
            }
            match self
                .decoder
                .next_transport_frame(state)
                .map_err(|e| format!("decode: {e:?}"))?
            {
                Decrypted::Frame(mut frame, next) => {
                    self.decrypt = Some(next);
                    let kind = frame.header().msg_type();
                    return Ok(Some((kind, frame.payload().to_vec())));
                }
                Decrypted::Incomplete(_, next) => state = next,
            }
        }
        Err("a frame longer than any SV2 frame".into())
    }
}

fn text(s: &str) -> Str0255<'_> {
    Str0255::try_from(s.as_bytes()).expect("a string under 256 bytes")
}

/// The first keypair of a fixed series with the even parity SV2 certificates use.
fn fixed_keypair(seed: u8) -> Keypair {
    let secp = Secp256k1::new();
    (seed..)
        .map(|i| Keypair::from_secret_key(&secp, &SecretKey::from_slice(&[i; 32]).unwrap()))
        .find(|kp| kp.x_only_public_key().1 == Parity::Even)
        .expect("an even key")
}

fn responder_handshake(mut stream: TcpStream, authority: Keypair) -> Result<Conn, String> {
    let mut opening = [0u8; ELLSWIFT_ENCODING_SIZE];
    stream
        .read_exact(&mut opening)
        .map_err(|e| format!("handshake read: {e}"))?;
    let (reply, transport) = Handshake::responder(Responder::new(authority, 3600))
        .step_1(opening)
        .map_err(|e| format!("handshake step 1: {e:?}"))?;
    stream
        .write_all(reply.payload())
        .map_err(|e| format!("handshake write: {e}"))?;
    let (encrypt, decrypt) = transport.split();
    Ok(Conn {
        stream,
        encoder: NoiseEncoder::new(),
        encrypt,
        decoder: NoiseDecoder::new(),
        decrypt: Some(decrypt),
    })
}

fn initiator_handshake(mut stream: TcpStream) -> Result<Conn, String> {
    // The JD-Client's authority key is not checked: the capture only needs its logs.
    let initiator = Initiator::without_pk().map_err(|e| format!("initiator: {e:?}"))?;
    let (first, sent) = Handshake::initiator(initiator)
        .step_0()
        .map_err(|e| format!("handshake step 0: {e:?}"))?;
    stream
        .write_all(first.payload())
        .map_err(|e| format!("handshake write: {e}"))?;
    let mut reply = [0u8; INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE];
    stream
        .read_exact(&mut reply)
        .map_err(|e| format!("handshake read: {e}"))?;
    let transport = sent
        .step_2(reply)
        .map_err(|e| format!("handshake step 2: {e:?}"))?;
    let (encrypt, decrypt) = transport.split();
    Ok(Conn {
        stream,
        encoder: NoiseEncoder::new(),
        encrypt,
        decoder: NoiseDecoder::new(),
        decrypt: Some(decrypt),
    })
}

/// A scripted peer running on its own thread; `stop` closes its socket.
pub struct Peer {
    pub name: &'static str,
    socket: Arc<std::sync::Mutex<Option<TcpStream>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Peer {
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(s) = self.socket.lock().unwrap().as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        note(&format!("{}: stopped", self.name));
    }
}

/// The Template Provider: accepts the JD-Client, answers its SetupConnection,
/// sends one future NewTemplate and the SetNewPrevHash that activates it, then
/// reads (and notes) whatever the JD-Client sends until stopped.
pub fn template_provider(listener: TcpListener) -> Peer {
    let socket = Arc::new(std::sync::Mutex::new(None::<TcpStream>));
    let stopping = Arc::new(AtomicBool::new(false));
    let (sock, stop) = (socket.clone(), stopping.clone());
    let thread = std::thread::spawn(move || {
        let (stream, addr) = match listener.accept() {
            Ok(s) => s,
            Err(e) => return note(&format!("tp: accept failed: {e}")),
        };
        note(&format!("tp: JD-Client connected from {addr}"));
        stream.set_read_timeout(Some(READ_PATIENCE)).ok();
        *sock.lock().unwrap() = stream.try_clone().ok();
        if let Err(e) = serve_template_provider(stream, &stop) {
            if !stop.load(Ordering::SeqCst) {
                note(&format!("tp: {e}"));
            }
        }
    });
    Peer {
        name: "tp",
        socket,
        stopping,
        thread: Some(thread),
    }
}

fn serve_template_provider(stream: TcpStream, stop: &AtomicBool) -> Result<(), String> {
    let mut conn = responder_handshake(stream, fixed_keypair(7))?;
    let (kind, mut payload) = conn.recv()?.ok_or("closed before SetupConnection")?;
    if kind != MESSAGE_TYPE_SETUP_CONNECTION {
        return Err(format!("expected SetupConnection, got type {kind:#x}"));
    }
    let setup: SetupConnection = from_bytes(&mut payload).map_err(|e| format!("{e:?}"))?;
    note(&format!("tp: received {setup}"));
    conn.send(
        SetupConnectionSuccess {
            used_version: 2,
            flags: 0,
        },
        MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS,
        CHANNEL_BIT_SETUP_CONNECTION_SUCCESS,
    )?;

    // A coinbase with only the witness commitment output, as a node sends
    // for an empty block; the JD-Client adds its own reward output.
    let prefix = [0x52u8, 0x00];
    let outputs = hex::decode(
        "0000000000000000266a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9",
    )
    .unwrap();
    conn.send(
        NewTemplate {
            template_id: 1,
            future_template: true,
            version: 0x2000_0000,
            coinbase_tx_version: 2,
            coinbase_prefix: B0255::try_from(&prefix[..]).unwrap(),
            coinbase_tx_input_sequence: 0xffff_ffff,
            coinbase_tx_value_remaining: 5_000_000_000,
            coinbase_tx_outputs_count: 1,
            coinbase_tx_outputs: B064K::try_from(&outputs[..]).unwrap(),
            coinbase_tx_locktime: 0,
            merkle_path: Seq0255::new(Vec::<U256>::new()).unwrap(),
        },
        MESSAGE_TYPE_NEW_TEMPLATE,
        CHANNEL_BIT_NEW_TEMPLATE,
    )?;
    note("tp: sent NewTemplate 1 (future)");
    std::thread::sleep(Duration::from_millis(50));
    let prev_hash = [0x11u8; 32];
    // The network target of nBits 0x1d00ffff (difficulty 1), little endian:
    // no share of the scripted miners comes near it, so no block is found.
    let mut target = [0u8; 32];
    target[26] = 0xff;
    target[27] = 0xff;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    conn.send(
        SetNewPrevHash {
            template_id: 1,
            prev_hash: U256::from(&prev_hash),
            header_timestamp: now,
            n_bits: 0x1d00_ffff,
            target: U256::from(&target),
        },
        MESSAGE_TYPE_SET_NEW_PREV_HASH,
        CHANNEL_BIT_SET_NEW_PREV_HASH,
    )?;
    note("tp: sent SetNewPrevHash for template 1");

    // Bounded: the JD-Client sends a handful of messages in a run.
    for _ in 0..100_000 {
        match conn.recv() {
            Ok(Some((kind, _))) => note(&format!("tp: received message type {kind:#04x}")),
            Ok(None) => {
                note("tp: JD-Client closed the connection");
                return Ok(());
            }
            Err(e) => {
                if stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// An SV2 miner with a standard channel, straight on the JD-Client:
/// SetupConnection as a NerdQAxe++, one OpenStandardMiningChannel, then it
/// reads (and notes) its jobs until stopped.
pub fn standard_miner(jdc: std::net::SocketAddr, user_identity: String) -> Peer {
    let socket = Arc::new(std::sync::Mutex::new(None::<TcpStream>));
    let stopping = Arc::new(AtomicBool::new(false));
    let (sock, stop) = (socket.clone(), stopping.clone());
    let thread = std::thread::spawn(move || {
        let stream = match TcpStream::connect_timeout(&jdc, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(e) => return note(&format!("nerdqaxe: connect failed: {e}")),
        };
        note(&format!(
            "nerdqaxe: connected from {}",
            stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        ));
        stream.set_read_timeout(Some(READ_PATIENCE)).ok();
        *sock.lock().unwrap() = stream.try_clone().ok();
        if let Err(e) = run_standard_miner(stream, jdc, &user_identity) {
            if !stop.load(Ordering::SeqCst) {
                note(&format!("nerdqaxe: {e}"));
            }
        }
    });
    Peer {
        name: "nerdqaxe",
        socket,
        stopping,
        thread: Some(thread),
    }
}

fn run_standard_miner(
    stream: TcpStream,
    jdc: std::net::SocketAddr,
    user_identity: &str,
) -> Result<(), String> {
    let mut conn = initiator_handshake(stream)?;
    let host = jdc.ip().to_string();
    conn.send(
        SetupConnection {
            protocol: Protocol::MiningProtocol,
            min_version: 2,
            max_version: 2,
            // REQUIRES_STANDARD_JOBS, as header-only SV2 firmware sets it.
            flags: 0b0001,
            endpoint_host: text(&host),
            endpoint_port: jdc.port(),
            vendor: text("NerdQAxe++"),
            hardware_version: text("BM1370"),
            firmware: text("v1.0.37"),
            device_id: text(""),
        },
        MESSAGE_TYPE_SETUP_CONNECTION,
        CHANNEL_BIT_SETUP_CONNECTION,
    )?;
    let (kind, _) = conn.recv()?.ok_or("closed before SetupConnectionSuccess")?;
    if kind != MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS {
        return Err(format!(
            "expected SetupConnectionSuccess, got type {kind:#x}"
        ));
    }
    note("nerdqaxe: SetupConnectionSuccess");
    std::thread::sleep(Duration::from_millis(300));
    let max_target = [0xffu8; 32];
    conn.send(
        OpenStandardMiningChannel {
            request_id: 1,
            user_identity: text(user_identity),
            nominal_hash_rate: 4.8e12,
            max_target: U256::from(&max_target),
        },
        MESSAGE_TYPE_OPEN_STANDARD_MINING_CHANNEL,
        CHANNEL_BIT_OPEN_STANDARD_MINING_CHANNEL,
    )?;
    for _ in 0..100_000 {
        match conn.recv()? {
            Some((kind, mut payload))
                if kind == MESSAGE_TYPE_OPEN_STANDARD_MINING_CHANNEL_SUCCESS =>
            {
                let ok: OpenStandardMiningChannelSuccess =
                    from_bytes(&mut payload).map_err(|e| format!("{e:?}"))?;
                note(&format!(
                    "nerdqaxe: OpenStandardMiningChannelSuccess channel_id={} group_channel_id={}",
                    ok.channel_id, ok.group_channel_id
                ));
            }
            Some((kind, _)) => note(&format!("nerdqaxe: received message type {kind:#04x}")),
            None => {
                note("nerdqaxe: JD-Client closed the connection");
                return Ok(());
            }
        }
    }
    Ok(())
}
