//! Entry point of the page: installs the panic hook and mounts [`App`];
//! everything else lives in the library.
//!
//! [`App`]: dmr_inspector::App

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(dmr_inspector::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "The inspector runs in a browser: build it with `bash scripts/build-inspector.sh` \
         and open it through `wrangler dev` (`npm run dev`)."
    );
    std::process::exit(2);
}
