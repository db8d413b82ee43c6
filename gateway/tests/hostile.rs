//! Clients that send one byte and stop: a thousand of them cost the other
//! miners nothing. Each waits for the detection deadline, no less, is then
//! handed to the SV2 listener with the byte it sent (the rule for a client
//! that goes quiet), and is closed when that listener gives up on it.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{closes, config, connect, eventually, nowhere, start, Backend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOSTILE: usize = 1_000;
const DEADLINE: Duration = Duration::from_secs(3);
/// How long the stand-in pool waits for a whole SV2 opening, as pools do.
const POOL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

#[test]
fn a_thousand_one_byte_clients_cost_the_others_nothing() {
    let rt = common::runtime();
    let handed_over: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let times = handed_over.clone();
    // A pool's SV2 listener: echoes a whole 64-byte opening, and closes a
    // connection that does not send one within its handshake timeout.
    let sv2 = Backend::start(&rt, move |mut stream, record| {
        let times = times.clone();
        async move {
            times.lock().unwrap().push(Instant::now());
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
    });
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.detect_timeout = DEADLINE;
    let gateway = start(&rt, cfg);

    // `G` could be the start of `GET `: the gateway must wait and see.
    let started = Instant::now();
    let mut hostile: Vec<_> = (0..HOSTILE)
        .map(|_| {
            let mut s = connect(gateway.addr);
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    eventually("all of them to be waiting for their deadline", || {
        gateway.metric("mining_gateway_open_connections{class=\"detecting\"}") == HOSTILE as f64
    });

    // Meanwhile a miner connects and is relayed at once...
    let mut miner = connect(gateway.addr);
    let opening = [0x8fu8; 64];
    miner.write_all(&opening).unwrap();
    let mut echoed = [0u8; 64];
    miner.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, opening);
    let miner_served = Instant::now();
    // ...and an HTTP client is answered.
    let answer = common::exchange(gateway.addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("an answer");
    assert_eq!(answer.status, 404);

    // Every one-byte client is closed, none before its deadline.
    for (i, client) in hostile.iter_mut().enumerate() {
        assert!(closes(client), "client {i} was not closed");
    }
    let closed = started.elapsed();
    assert!(
        closed >= DEADLINE,
        "closed after {closed:?}, before the deadline"
    );

    let times = handed_over.lock().unwrap().clone();
    assert_eq!(times.len(), HOSTILE + 1);
    let first_handover = times.iter().copied().filter(|t| *t > miner_served).min();
    assert!(
        times.iter().filter(|t| **t > miner_served).count() >= HOSTILE,
        "one-byte clients reached the pool before the miner was served"
    );
    assert!(first_handover.expect("handovers") - started >= DEADLINE);
    let received = sv2.received();
    assert_eq!(
        received.iter().filter(|r| r.as_slice() == b"G").count(),
        HOSTILE
    );
    assert_eq!(
        received.iter().filter(|r| r.as_slice() == opening).count(),
        1
    );
    assert_eq!(
        gateway.metric("mining_gateway_decisions_total{class=\"sv2\",reason=\"quiet\"}"),
        HOSTILE as f64
    );
    println!(
        "{HOSTILE} one-byte clients closed {:.1} s after they connected (deadline {} s, pool handshake timeout {} s)",
        closed.as_secs_f64(),
        DEADLINE.as_secs(),
        POOL_HANDSHAKE_TIMEOUT.as_secs()
    );
    drop(miner);
}
