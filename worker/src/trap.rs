//! A way to make the Worker trap in the middle of a report, for the test
//! that shows it recovers (`tests/e2e/trap.rs`). Compiled only with the
//! `trap` feature, which no build the pool deploys or the tests serve has:
//! the test builds its own copy of the Worker with it, into a directory of
//! its own (see `dmr_tests::trap`).
//!
//! Even in that copy nothing traps unless the Worker's `TRAP_TOKEN`
//! variable is set and the request carries it in [`TRAP_HEADER`]: a copy
//! started by mistake without the variable behaves as the real Worker.
//!
//! Two traps, as [`TRAP_KIND_HEADER`] asks: a Rust panic (`panic`, the
//! default), which aborts through wasm-bindgen's abort handler (it
//! schedules a fresh instance); and a bare `unreachable` instruction
//! (`unreachable`), a trap no Rust code sees coming, which only the
//! runtime's `WebAssembly.RuntimeError` tells (`worker/entry.mjs` catches
//! it).

use worker::Env;

use crate::incoming::Incoming;

/// The request header that asks for the trap, holding `TRAP_TOKEN`.
pub const TRAP_HEADER: &str = "X-Trap-Token";

/// Which trap: `panic` (the default) or `unreachable`.
pub const TRAP_KIND_HEADER: &str = "X-Trap-Kind";

/// The variable the trap's header must match.
pub const TRAP_TOKEN: &str = "TRAP_TOKEN";

/// Traps when the request carries the trap token.
pub fn on_request(req: &Incoming, env: &Env) {
    let Some(token) = env
        .var(TRAP_TOKEN)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
    else {
        return;
    };
    if req.header(TRAP_HEADER).as_deref() != Some(token.as_str()) {
        return;
    }
    match req.header(TRAP_KIND_HEADER).as_deref() {
        #[cfg(target_arch = "wasm32")]
        Some("unreachable") => core::arch::wasm32::unreachable(),
        _ => panic!("trap requested by {TRAP_HEADER}"),
    }
}
