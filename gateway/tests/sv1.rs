//! Stratum V1 through the gateway: `mining.subscribe` and
//! `mining.authorize` reach the SV1 listener byte for byte and its answers
//! come back the same, also when the JSON arrives a few bytes at a time;
//! without an SV1 listener, SV1 connections are closed and counted.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use common::{config, connect, nowhere, read_to_close, start, Backend, PATIENCE};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const SUBSCRIBE: &str =
    "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"cgminer/4.11.1\"]}\n";
const SUBSCRIBED: &str = "{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"b4b6693b72a50c7116db18d6497cac52\"],[\"mining.notify\",\"ae6812eb4cd7735a302a8a9dd95cf71f\"]],\"08000002\",4],\"error\":null}\n";
const AUTHORIZE: &str =
    "{\"params\": [\"bc1qexampleaddr.worker1\", \"x\"], \"id\": 2, \"method\": \"mining.authorize\"}\n";
const AUTHORIZED: &str = "{\"id\":2,\"result\":true,\"error\":null}\n";
const DIFFICULTY: &str = "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1024]}\n";

/// An SV1 pool: answers subscribe, then authorize (followed by a
/// difficulty, as pools do), line by line, recording what it received.
fn sv1_pool(rt: &tokio::runtime::Runtime) -> Backend {
    Backend::start(rt, |stream, record| async move {
        let mut lines = tokio::io::BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            match tokio::time::timeout(PATIENCE, lines.read_line(&mut line)).await {
                Ok(Ok(0)) => {
                    record.lock().unwrap().ended = true;
                    return;
                }
                Ok(Ok(_)) => {}
                _ => return,
            }
            record
                .lock()
                .unwrap()
                .bytes
                .extend_from_slice(line.as_bytes());
            let answer = if line.contains("mining.subscribe") {
                SUBSCRIBED.to_owned()
            } else if line.contains("mining.authorize") {
                format!("{AUTHORIZED}{DIFFICULTY}")
            } else {
                continue;
            };
            if lines.get_mut().write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
}

#[test]
fn subscribe_and_authorize_pass_byte_for_byte() {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let sv1 = sv1_pool(&rt);
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.sv1 = Some(sv1.addr);
    let gateway = start(&rt, cfg);

    let stream = connect(gateway.addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();

    writer.write_all(SUBSCRIBE.as_bytes()).unwrap();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, SUBSCRIBED);

    // The second message in pieces: the relay passes whatever arrives.
    let (a, b) = AUTHORIZE.split_at(20);
    writer.write_all(a.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    writer.write_all(b.as_bytes()).unwrap();
    let mut answers = String::new();
    for _ in 0..2 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        answers.push_str(&line);
    }
    assert_eq!(answers, format!("{AUTHORIZED}{DIFFICULTY}"));

    writer.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_close(reader.get_mut()).unwrap(), b"");
    common::eventually("the SV1 pool to see the miner's FIN", || {
        sv1.seen.lock().unwrap()[0].lock().unwrap().ended
    });
    assert_eq!(
        sv1.received(),
        vec![format!("{SUBSCRIBE}{AUTHORIZE}").into_bytes()]
    );
    assert_eq!(sv2.connections(), 0);
    assert_eq!(
        gateway.metric("mining_gateway_decisions_total{class=\"sv1\",reason=\"json\"}"),
        1.0
    );
    assert_eq!(
        gateway.metric("mining_gateway_relayed_bytes_total{class=\"sv1\",direction=\"up\"}"),
        (SUBSCRIBE.len() + AUTHORIZE.len()) as f64
    );
    assert_eq!(
        gateway.metric("mining_gateway_relayed_bytes_total{class=\"sv1\",direction=\"down\"}"),
        (SUBSCRIBED.len() + AUTHORIZED.len() + DIFFICULTY.len()) as f64
    );
}

#[test]
fn a_json_start_arriving_a_byte_at_a_time_is_still_sv1() {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let sv1 = sv1_pool(&rt);
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.sv1 = Some(sv1.addr);
    let gateway = start(&rt, cfg);

    let mut stream = connect(gateway.addr);
    for byte in SUBSCRIBE.as_bytes()[..12].iter() {
        stream.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    stream.write_all(&SUBSCRIBE.as_bytes()[12..]).unwrap();
    let mut line = String::new();
    BufReader::new(&mut stream).read_line(&mut line).unwrap();
    assert_eq!(line, SUBSCRIBED);
    assert_eq!(sv2.connections(), 0);
    drop(stream);
    drop(gateway);
}

#[test]
fn without_an_sv1_listener_sv1_miners_are_closed_and_counted() {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let gateway = start(&rt, config(sv2.addr, &nowhere()));

    let mut stream = connect(gateway.addr);
    stream.write_all(SUBSCRIBE.as_bytes()).unwrap();
    assert!(common::closes(&mut stream));
    assert_eq!(sv2.connections(), 0);
    assert_eq!(
        gateway.metric("mining_gateway_backend_failures_total{class=\"sv1\"}"),
        1.0
    );
}
