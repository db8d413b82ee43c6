//! How much memory the Worker's WebAssembly instance holds, for the log
//! lines. Wasm memory only grows (an isolate has 128 MB in all), so its size
//! after a request is the high-water mark of every request so far: what
//! `npm run bench` and the memory test read back to check that no body,
//! however large or strange, makes it grow much.

/// The size of wasm memory 0, in bytes (0 when not running as wasm, as in
/// native unit tests).
pub fn wasm_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
