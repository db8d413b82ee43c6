//! The Worker's wasm memory (which never shrinks) grows by less than 16 MiB
//! whatever bodies it gets: the largest report, 4 MiB of unknown members of
//! every shape, chunked bodies with no Content-Length, and the worst it
//! refuses.

use dmr_tests::memory::measure;

/// The goal: a hostile client can take at most this from the isolate's
/// 128 MB.
const GOAL_BYTES: usize = 16 * 1024 * 1024;

#[test]
fn the_worst_bodies_grow_wasm_memory_by_less_than_16_mib() {
    let growth = measure();
    for (name, bytes, status, memory) in &growth.bodies {
        println!("{name}: {bytes} bytes -> {status}, wasm memory then {memory} bytes");
        let expected: &[u16] = if name.contains("refused") {
            &[413, 422]
        } else {
            &[200]
        };
        assert!(expected.contains(status), "{name}: {status}");
    }
    println!(
        "wasm memory: {} bytes before, {} after, grown {} bytes",
        growth.before,
        growth.after,
        growth.grown()
    );
    assert!(
        growth.grown() < GOAL_BYTES,
        "grew by {} bytes",
        growth.grown()
    );
}
