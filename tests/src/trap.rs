//! The copy of the Worker built with its `trap` feature (`worker/src/trap.rs`),
//! for the test that shows the Worker recovers from a wasm trap.
//!
//! The feature never reaches `worker/build/` (what every other test serves
//! and `wrangler deploy` uploads): this copy is built into
//! `target/dmr-trap-worker/` with its own `entry.mjs` beside it. It shares
//! the cargo target directory, so only the Worker crate is compiled again
//! and linked; wasm-opt is skipped (size does not matter here). Cargo keeps
//! both builds of the crate apart by their features, and the next
//! `scripts/build.sh` links its own.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::repo_root;

/// The directory of the copy: `entry.mjs` and `build/`.
pub fn dir() -> PathBuf {
    repo_root().join("target/dmr-trap-worker")
}

/// The copy's entry module, built once per test process.
pub fn entry() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let root = repo_root();
    let dir = dir();
    let out = dir.join("build");
    std::fs::create_dir_all(&dir).expect("trap build dir");
    let log = dir.join("build.log");
    let log_file = std::fs::File::create(&log).expect("trap build log");
    let status = Command::new("bash")
        .arg("-c")
        .arg(r#"source scripts/env.sh && cd worker && worker-build --release --no-opt --out-dir "$1" --features trap"#)
        .arg("build-trap-worker")
        .arg(&out)
        .current_dir(&root)
        // Built as `scripts/build.sh` builds the Worker, without the clippy
        // wrapper `npm test` compiles the tests through: cargo then reuses
        // that build's compiled crates and only the Worker crate is new.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .status()
        .expect("run worker-build");
    assert!(
        status.success(),
        "building the Worker with its trap feature failed ({status}):\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let entry = dir.join("entry.mjs");
    std::fs::copy(root.join("worker/entry.mjs"), &entry).expect("copy entry.mjs");
    entry
}
