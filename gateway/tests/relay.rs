//! How the relay behaves on the wire: TCP_NODELAY on both legs (two small
//! replies 1 ms apart are not held back by Nagle), half-close carried both
//! ways, closes and resets passed on, the PROXY v2 header, and an
//! unreachable pool listener.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    closes, config, connect, eventually, nowhere, read_to_close, start, Backend, PATIENCE,
};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A 64-byte opening that is SV2 by any rule.
const OPENING: [u8; 64] = [0x8f; 64];

/// Every TCP socket of this process whose (local, peer) addresses are
/// `(local, peer)`, and whether it has TCP_NODELAY. The gateway runs in
/// this process, so its sockets are among these descriptors.
fn nodelay_of(local: SocketAddr, peer: SocketAddr) -> Vec<bool> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: the descriptor is only borrowed for a few getsockopt and
        // getsockname calls while the sockets of the test are alive; a
        // descriptor that is not a socket makes them fail, nothing else.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&borrowed);
        let addrs = (
            socket.local_addr().ok().and_then(|a| a.as_socket()),
            socket.peer_addr().ok().and_then(|a| a.as_socket()),
        );
        if addrs == (Some(local), Some(peer)) {
            found.push(socket.tcp_nodelay().expect("a TCP socket"));
        }
    }
    found
}

#[test]
fn both_legs_set_nodelay_and_two_small_replies_are_not_held_back() {
    let rt = common::runtime();
    // The pool answers the opening with two small replies, 1 ms apart.
    let pool_side: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let seen = pool_side.clone();
    let sv2 = Backend::start(&rt, move |mut stream, _| {
        let seen = seen.clone();
        async move {
            *seen.lock().unwrap() = stream.peer_addr().ok();
            let mut opening = [0u8; 64];
            stream.read_exact(&mut opening).await.unwrap();
            stream.write_all(b"job").await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            stream.write_all(b"target").await.unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        }
    });
    let gateway = start(&rt, config(sv2.addr, &nowhere()));

    let mut stream = connect(gateway.addr);
    stream.set_nodelay(true).unwrap();
    stream.write_all(&OPENING).unwrap();
    // Delayed ACKs, as on a long-running connection (a fresh one ACKs at
    // once, which would hide Nagle's wait).
    SockRef::from(&stream).set_tcp_quickack(false).unwrap();
    let mut first = [0u8; 3];
    stream.read_exact(&mut first).unwrap();
    let after_first = Instant::now();
    let mut second = [0u8; 6];
    stream.read_exact(&mut second).unwrap();
    let gap = after_first.elapsed();
    assert_eq!((&first, &second), (b"job", b"target"));
    // A figure, not an assertion: with Nagle on either leg this is about
    // 40 ms (a delayed ACK); without, about the pool's 1 ms.
    println!(
        "second reply arrived {:.2} ms after the first",
        gap.as_secs_f64() * 1e3
    );

    // The cause, checked directly: the gateway's two sockets of this relay.
    let client_leg = nodelay_of(gateway.addr, stream.local_addr().unwrap());
    let pool_leg = nodelay_of(
        pool_side.lock().unwrap().expect("the pool was reached"),
        sv2.addr,
    );
    assert_eq!(client_leg, vec![true], "the miner's leg");
    assert_eq!(pool_leg, vec![true], "the pool's leg");
}

#[test]
fn a_miners_fin_reaches_the_pool_and_the_late_reply_still_arrives() {
    let rt = common::runtime();
    let sv2 = Backend::start(&rt, |mut stream, record| async move {
        common::record_until_end(&mut stream, &record).await;
        // Only after the miner's FIN: a late reply, then close.
        stream.write_all(b"late reply").await.unwrap();
    });
    let gateway = start(&rt, config(sv2.addr, &nowhere()));

    let mut stream = connect(gateway.addr);
    stream.write_all(&OPENING).unwrap();
    stream.write_all(b"last words").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut stream).unwrap(), b"late reply");
    let seen = sv2.seen.lock().unwrap()[0].lock().unwrap().clone();
    assert!(seen.ended, "the pool saw the FIN");
    assert_eq!(seen.bytes, [&OPENING[..], b"last words"].concat());
    eventually("the relay to end", || {
        gateway.metric("mining_gateway_open_connections{class=\"sv2\"}") == 0.0
    });
}

#[test]
fn a_pools_fin_reaches_the_miner_who_can_still_send() {
    let rt = common::runtime();
    let sv2 = Backend::start(&rt, |mut stream, record| async move {
        let mut opening = [0u8; 64];
        stream.read_exact(&mut opening).await.unwrap();
        stream.write_all(b"goodbye").await.unwrap();
        stream.shutdown().await.unwrap();
        common::record_until_end(&mut stream, &record).await;
    });
    let gateway = start(&rt, config(sv2.addr, &nowhere()));

    let mut stream = connect(gateway.addr);
    stream.write_all(&OPENING).unwrap();
    let mut reader = stream.try_clone().unwrap();
    assert_eq!(read_to_close(&mut reader).unwrap(), b"goodbye");
    // Half-closed by the pool, the miner's direction still works.
    stream.write_all(b"still here").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    eventually("the pool to see the miner's bytes and FIN", || {
        sv2.seen.lock().unwrap()[0].lock().unwrap().ended
    });
    assert_eq!(sv2.received(), vec![b"still here".to_vec()]);
    drop(gateway);
}

#[test]
fn a_reset_on_either_side_closes_the_other() {
    let rt = common::runtime();
    // The pool side of each connection, to reset it from the test.
    let pool_streams: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
    let keep = pool_streams.clone();
    let sv2 = Backend::start(&rt, move |mut stream, record| {
        let keep = keep.clone();
        async move {
            let mut opening = [0u8; 64];
            stream.read_exact(&mut opening).await.unwrap();
            record.lock().unwrap().bytes.extend_from_slice(&opening);
            if opening[1] == 2 {
                // The second miner's pool side resets its connection.
                let std = stream.into_std().unwrap();
                SockRef::from(&std)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
                drop(std);
                return;
            }
            let std = stream.into_std().unwrap();
            std.set_nonblocking(false).unwrap();
            keep.lock().unwrap().push(std);
        }
    });
    let gateway = start(&rt, config(sv2.addr, &nowhere()));

    // The miner resets: the pool's side sees its connection end.
    let mut miner = connect(gateway.addr);
    let mut opening = OPENING;
    opening[1] = 1;
    miner.write_all(&opening).unwrap();
    eventually("the pool to hold the first connection", || {
        pool_streams.lock().unwrap().len() == 1
    });
    SockRef::from(&miner)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(miner);
    let mut pool_side = pool_streams.lock().unwrap().pop().unwrap();
    pool_side.set_read_timeout(Some(PATIENCE)).unwrap();
    assert!(closes(&mut pool_side), "the pool's side was not closed");

    // The pool resets: the miner sees its connection end.
    let mut miner = connect(gateway.addr);
    opening[1] = 2;
    miner.write_all(&opening).unwrap();
    assert!(closes(&mut miner), "the miner's side was not closed");
    eventually("both relays to end", || {
        gateway.metric("mining_gateway_open_connections{class=\"sv2\"}") == 0.0
    });
}

#[test]
fn with_proxy_protocol_the_pool_learns_the_miners_address_first() {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let mut cfg = config(sv2.addr, &nowhere());
    cfg.proxy_protocol = true;
    let gateway = start(&rt, cfg);

    let mut miner = common::connect_from_127_0_0_2(gateway.addr);
    miner.write_all(&OPENING).unwrap();
    miner.shutdown(Shutdown::Write).unwrap();
    eventually("the pool to see the miner's FIN", || {
        sv2.seen
            .lock()
            .unwrap()
            .first()
            .is_some_and(|s| s.lock().unwrap().ended)
    });
    let received = sv2.received().remove(0);
    let header = ppp::v2::Header::try_from(&received[..]).expect("a PROXY v2 header");
    assert_eq!(header.command, ppp::v2::Command::Proxy);
    let ppp::v2::Addresses::IPv4(addresses) = header.addresses else {
        panic!("not IPv4: {:?}", header.addresses);
    };
    let miner_addr = miner.local_addr().unwrap();
    assert_eq!(
        (addresses.source_address, addresses.source_port),
        ("127.0.0.2".parse().unwrap(), miner_addr.port())
    );
    assert_eq!(
        (addresses.destination_address, addresses.destination_port),
        ("127.0.0.1".parse().unwrap(), gateway.addr.port())
    );
    assert_eq!(&received[header.len()..], &OPENING[..]);
}

#[test]
fn an_unreachable_pool_listener_closes_the_miner_and_is_counted() {
    let rt = common::runtime();
    let closed_port: SocketAddr = nowhere()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let gateway = start(&rt, config(closed_port, &nowhere()));
    let mut miner = connect(gateway.addr);
    miner.write_all(&OPENING).unwrap();
    assert!(closes(&mut miner));
    eventually("the failure to be counted", || {
        gateway.metric("mining_gateway_backend_failures_total{class=\"sv2\"}") == 1.0
    });
}
