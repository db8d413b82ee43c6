//! How the Worker's futures are woken: by promise reactions, not
//! `queueMicrotask`.
//!
//! wasm-bindgen's futures (`js_sys::futures`) wake a waiting future by
//! scheduling a microtask. They use `queueMicrotask` when the global object
//! has one, else a reaction on a resolved promise, and look once, when their
//! queue is first used. In workerd, `queueMicrotask` is a runtime call that
//! wraps its callback on every use, a cost V8's CPU profile of a report
//! shows (`npm run bench -- --profile dmr-bench-rust`; docs/performance.md)
//! for only the three or four wakeups a report needs. A promise
//! reaction is V8's own microtask, with the same ordering. So when the wasm
//! instance starts, the queue is created while the global's
//! `queueMicrotask` is hidden, and the global is put back as it was at once.

use worker::js_sys::{global, Object, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};

/// Creates wasm-bindgen's future queue so that it schedules with promise
/// reactions. Call it before any future is spawned (at start).
pub fn wake_futures_with_promises() {
    let global: Object = global();
    let name = JsValue::from_str("queueMicrotask");
    let own = Reflect::get_own_property_descriptor(&global, &name)
        .ok()
        .filter(|d| !d.is_undefined());
    let hidden = Reflect::set(&global, &name, &JsValue::UNDEFINED).unwrap_or(false);
    // Spawning the first future creates the queue, which looks for
    // `queueMicrotask` now; the empty future then runs on the next microtask.
    worker::wasm_bindgen_futures::spawn_local(async {});
    if hidden {
        match own {
            // The global had its own property: put it back exactly.
            Some(descriptor) => {
                let _ = Reflect::define_property(&global, &name, descriptor.unchecked_ref());
            }
            // It was inherited: remove the shadowing property.
            None => {
                let _ = Reflect::delete_property(&global, &name);
            }
        }
    }
}
