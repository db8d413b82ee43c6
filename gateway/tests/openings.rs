//! Stratum V2 openings are pseudo-random 64-byte keys: every one of them,
//! including those that start like HTTP or SV1 (`G`, `P`, `{`), reaches the
//! SV2 listener with its bytes intact, and none reaches the SV1 listener.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{config, connect, nowhere, start, Backend};
use mining_gateway::classify::{one_byte_rule, Class};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const OPENINGS: usize = 5_000;
const CLIENTS: usize = 16;

/// `OPENINGS` 64-byte openings from `seed`; with `first`, their first
/// bytes cycle through it.
fn openings(seed: u64, first: &[u8]) -> Vec<[u8; 64]> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..OPENINGS)
        .map(|i| {
            let mut opening = [0u8; 64];
            rng.fill_bytes(&mut opening);
            if !first.is_empty() {
                opening[0] = first[i % first.len()];
            }
            opening
        })
        .collect()
}

/// Sends every opening through a fresh gateway, `CLIENTS` at a time, and
/// checks each comes back from the SV2 listener unchanged.
fn all_reach_sv2(openings: Vec<[u8; 64]>) {
    let rt = common::runtime();
    let sv2 = Backend::echo_opening(&rt, 64);
    let sv1 = Backend::silent(&rt);
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.sv1 = Some(sv1.addr);
    let gateway = start(&rt, cfg);

    let openings = Arc::new(openings);
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (openings, next, addr) = (openings.clone(), next.clone(), gateway.addr);
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(opening) = openings.get(i) else {
                    return;
                };
                let mut stream = connect(addr);
                stream.write_all(opening).expect("send the opening");
                let mut echoed = [0u8; 64];
                stream.read_exact(&mut echoed).unwrap_or_else(|e| {
                    panic!("opening {i} got no echo from the SV2 listener: {e}")
                });
                assert_eq!(&echoed, opening, "opening {i} came back changed");
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client thread");
    }

    let mut sent: Vec<Vec<u8>> = openings.iter().map(|o| o.to_vec()).collect();
    let mut received = sv2.received();
    sent.sort();
    received.sort();
    assert_eq!(received.len(), OPENINGS);
    assert!(
        received == sent,
        "the SV2 listener received other bytes than were sent"
    );
    assert_eq!(sv1.connections(), 0, "openings reached the SV1 listener");

    let would_misroute = openings
        .iter()
        .filter(|o| one_byte_rule(o[0]) != Class::Sv2)
        .count();
    println!("the one-byte rule would have misrouted {would_misroute} of {OPENINGS}");
    assert_eq!(
        gateway.metric("mining_gateway_connections_total{class=\"sv2\"}"),
        OPENINGS as f64
    );
    assert_eq!(
        gateway.metric("mining_gateway_connections_total{class=\"sv1\"}"),
        0.0
    );
    assert_eq!(
        gateway.metric("mining_gateway_connections_total{class=\"http\"}"),
        0.0
    );
    assert_eq!(
        gateway.metric("mining_gateway_one_byte_rule_disagreements_total{class=\"sv2\"}"),
        would_misroute as f64
    );
}

#[test]
fn random_openings_all_reach_the_sv2_listener_intact() {
    all_reach_sv2(openings(0x5eed_0001, &[]));
}

#[test]
fn openings_that_start_like_http_or_sv1_reach_the_sv2_listener_intact() {
    all_reach_sv2(openings(0x5eed_0002, b"GP{"));
}
