//! Clients that send one byte and stop. A thousand of them cost the other
//! miners nothing: while they wait for the detection deadline, a miner and
//! an HTTP client are served. At the deadline, no sooner, each is handed to
//! the SV2 listener with the byte it sent (the rule for a client that goes
//! quiet), and is closed when that listener gives up on it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{closes, config, connect, eventually, nowhere, start, Backend, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOSTILE: usize = 1_000;
/// How long the stand-in pool waits for a whole SV2 opening, as pools do.
const POOL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// A pool's SV2 listener: echoes a whole 64-byte opening, and closes a
/// connection that does not send one within its handshake timeout. Records
/// when each connection arrived.
fn pool(rt: &tokio::runtime::Runtime, arrivals: Arc<Mutex<Vec<Instant>>>) -> Backend {
    Backend::start(rt, move |mut stream, record| {
        let arrivals = arrivals.clone();
        async move {
            arrivals.lock().unwrap().push(Instant::now());
            let mut opening = [0u8; 64];
            let mut got = 0;
            let read = tokio::time::timeout(POOL_HANDSHAKE_TIMEOUT, async {
                while got < 64 {
                    match stream.read(&mut opening[got..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                }
            })
            .await;
            record
                .lock()
                .unwrap()
                .bytes
                .extend_from_slice(&opening[..got]);
            if read.is_ok() && got == 64 {
                let _ = stream.write_all(&opening).await;
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
            }
        }
    })
}

/// `HOSTILE` clients that each send `G` (it could be the start of `GET `,
/// so the gateway must wait and see) and stop.
fn one_byte_clients(gateway: &Running) -> Vec<TcpStream> {
    let clients = (0..HOSTILE)
        .map(|_| {
            let mut s = connect(gateway.addr);
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    eventually("all of them to be waiting for their deadline", || {
        gateway.metric("mining_gateway_open_connections{class=\"detecting\"}") == HOSTILE as f64
    });
    clients
}

#[test]
fn a_thousand_one_byte_clients_cost_the_others_nothing() {
    let rt = common::runtime();
    let sv2 = pool(&rt, Arc::default());
    let mut cfg = config(sv2.addr, &nowhere());
    // Longer than this test: they are all still waiting at its end.
    cfg.detect_timeout = Duration::from_secs(60);
    let gateway = start(&rt, cfg);
    let hostile = one_byte_clients(&gateway);

    // A miner is relayed...
    let mut miner = connect(gateway.addr);
    let opening = [0x8fu8; 64];
    miner.write_all(&opening).unwrap();
    let mut echoed = [0u8; 64];
    miner.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, opening);
    // ...and an HTTP client answered, while the thousand still wait.
    let answer = common::exchange(gateway.addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("an answer");
    assert_eq!(answer.status, 404);
    assert_eq!(
        gateway.metric("mining_gateway_open_connections{class=\"detecting\"}"),
        HOSTILE as f64
    );
    assert_eq!(sv2.received(), vec![opening.to_vec()]);
    drop(miner);
    drop(hostile);
}

#[test]
fn each_one_byte_client_goes_on_at_the_deadline_with_its_byte() {
    const DEADLINE: Duration = Duration::from_secs(1);
    let rt = common::runtime();
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let sv2 = pool(&rt, arrivals.clone());
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.detect_timeout = DEADLINE;
    let gateway = start(&rt, cfg);

    let connected = Instant::now();
    let mut hostile = one_byte_clients(&gateway);
    for (i, client) in hostile.iter_mut().enumerate() {
        assert!(closes(client), "client {i} was not closed");
    }
    // None reached the pool before its deadline: every one was accepted
    // after `connected`, so even the first arrival is a deadline later.
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), HOSTILE);
    assert!(*arrivals.iter().min().unwrap() >= connected + DEADLINE);
    assert!(sv2.received().iter().all(|r| r.as_slice() == b"G"));
    assert_eq!(
        gateway.metric("mining_gateway_decisions_total{class=\"sv2\",reason=\"quiet\"}"),
        HOSTILE as f64
    );
}
