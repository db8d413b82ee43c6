//! A real Stratum V2 connection through the gateway: the Noise NX handshake
//! and an encrypted SetupConnection / SetupConnectionSuccess, built by the
//! SV2 crates (noise_sv2, codec_sv2, common_messages_sv2) on both ends.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use binary_sv2::{from_bytes, Str0255};
use codec_sv2::{
    Decrypted, Handshake, MessageFrame, NoiseDecoder, NoiseEncoder, TransportDecryptState,
};
use common::{config, connect, nowhere, start, PATIENCE};
use common_messages_sv2::{
    Protocol, SetupConnection, SetupConnectionSuccess, CHANNEL_BIT_SETUP_CONNECTION,
    CHANNEL_BIT_SETUP_CONNECTION_SUCCESS, MESSAGE_TYPE_SETUP_CONNECTION,
    MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS,
};
use noise_sv2::{
    Initiator, Responder, ELLSWIFT_ENCODING_SIZE, INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE,
};
use secp256k1::{Keypair, Parity, Secp256k1, SecretKey};

/// The pool's authority key: the first of a fixed series with the even
/// parity SV2 certificates use, so the test is the same every run.
fn authority() -> Keypair {
    let secp = Secp256k1::new();
    (1u8..)
        .map(|i| Keypair::from_secret_key(&secp, &SecretKey::from_slice(&[i; 32]).unwrap()))
        .find(|kp| kp.x_only_public_key().1 == Parity::Even)
        .unwrap()
}

fn text(s: &'static str) -> Str0255<'static> {
    s.try_into().expect("a short string")
}

/// Reads one encrypted frame's payload (message type and bytes).
fn read_frame(
    stream: &mut TcpStream,
    state: TransportDecryptState,
) -> (u8, Vec<u8>, TransportDecryptState) {
    let mut decoder = NoiseDecoder::new();
    let mut state = state;
    loop {
        stream
            .read_exact(decoder.writable())
            .expect("a frame's bytes");
        match decoder.next_transport_frame(state).expect("a valid frame") {
            Decrypted::Frame(mut frame, next) => {
                let kind = frame.header().msg_type();
                return (kind, frame.payload().to_vec(), next);
            }
            Decrypted::Incomplete(_, next) => state = next,
        }
    }
}

/// The pool's SV2 listener: one connection, handshake as the responder,
/// read SetupConnection, answer SetupConnectionSuccess; returns the vendor.
fn pool(listener: TcpListener, authority: Keypair) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the gateway connects");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut opening = [0u8; ELLSWIFT_ENCODING_SIZE];
        stream
            .read_exact(&mut opening)
            .expect("the initiator's key");
        let (reply, transport) = Handshake::responder(Responder::new(authority, 3600))
            .step_1(opening)
            .expect("handshake step 1");
        stream.write_all(reply.payload()).expect("send step 1");
        let (mut encrypt, decrypt) = transport.split();

        let (kind, mut payload, _) = read_frame(&mut stream, decrypt);
        assert_eq!(kind, MESSAGE_TYPE_SETUP_CONNECTION);
        let setup: SetupConnection = from_bytes(&mut payload).expect("a SetupConnection");
        let vendor = setup.vendor.as_utf8_or_hex();

        let success = SetupConnectionSuccess {
            used_version: 2,
            flags: 0,
        };
        let frame = MessageFrame::from_message(
            success,
            MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS,
            0,
            CHANNEL_BIT_SETUP_CONNECTION_SUCCESS,
        )
        .expect("a frame");
        let bytes = NoiseEncoder::new()
            .encode_transport(frame, &mut encrypt)
            .expect("encrypt");
        stream
            .write_all(&bytes)
            .expect("send SetupConnectionSuccess");
        vendor
    })
}

#[test]
fn a_noise_handshake_and_setup_connection_pass_through() {
    let rt = common::runtime();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = authority();
    let pool_key = authority.x_only_public_key().0;
    let gateway = start(&rt, config(listener.local_addr().unwrap(), &nowhere()));
    let pool = pool(listener, authority);

    // The miner, as any SV2 device: it knows the pool's authority key.
    let mut stream = connect(gateway.addr);
    let (first, sent) = Handshake::initiator(Initiator::new(Some(pool_key)))
        .step_0()
        .expect("handshake step 0");
    assert_eq!(first.payload().len(), ELLSWIFT_ENCODING_SIZE);
    stream.write_all(first.payload()).expect("send step 0");
    let mut reply = [0u8; INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE];
    stream
        .read_exact(&mut reply)
        .expect("the responder's reply");
    // Fails unless the reply is signed by the pool's authority key.
    let transport = sent.step_2(reply).expect("handshake step 2");
    let (mut encrypt, decrypt) = transport.split();

    let setup = SetupConnection {
        protocol: Protocol::MiningProtocol,
        min_version: 2,
        max_version: 2,
        flags: 0,
        endpoint_host: text("pool.example"),
        endpoint_port: 3333,
        vendor: text("bitaxe"),
        hardware_version: text("BM1370"),
        firmware: text("v2.4.0"),
        device_id: text(""),
    };
    let frame = MessageFrame::from_message(
        setup,
        MESSAGE_TYPE_SETUP_CONNECTION,
        0,
        CHANNEL_BIT_SETUP_CONNECTION,
    )
    .expect("a frame");
    let bytes = NoiseEncoder::new()
        .encode_transport(frame, &mut encrypt)
        .expect("encrypt");
    stream.write_all(&bytes).expect("send SetupConnection");

    let (kind, mut payload, _) = read_frame(&mut stream, decrypt);
    assert_eq!(kind, MESSAGE_TYPE_SETUP_CONNECTION_SUCCESS);
    let success: SetupConnectionSuccess =
        from_bytes(&mut payload).expect("a SetupConnectionSuccess");
    assert_eq!(success.used_version, 2);
    assert_eq!(pool.join().expect("the pool thread"), "bitaxe");
    assert_eq!(
        gateway.metric("mining_gateway_connections_total{class=\"sv2\"}"),
        1.0
    );
}
