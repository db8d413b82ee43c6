//! Entry point of the page: picks the page's allocator and mounts it
//! ([`dmr_inspector::view::mount`]); everything else lives in the library.

// Talc instead of Rust's default WebAssembly allocator (dlmalloc): smaller
// in the wasm the browser downloads, and faster.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
fn main() {
    dmr_inspector::view::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "The inspector runs in a browser: build it with `bash scripts/build-inspector.sh` \
         and open it through `wrangler dev` (`npm run dev`)."
    );
    std::process::exit(2);
}
