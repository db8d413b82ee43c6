//! schemathesis (PyPI) generates requests from the served OpenAPI document
//! and checks every answer against it: zero failures allowed.
//!
//! The rate limits are left out of this Worker's config: schemathesis sends
//! hundreds of requests from one address and would otherwise test mostly 429s.

use std::process::Command;

use dmr_shared::api::OPENAPI_PATH;
use dmr_tests::{Options, Worker};

/// How many cases schemathesis generates per operation and phase.
const MAX_EXAMPLES: &str = "150";

#[test]
fn schemathesis_finds_no_failures() {
    let bin = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let worker = Worker::start_with(Options {
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    });
    let out = Command::new(&bin)
        .args(["run", &worker.url(OPENAPI_PATH)])
        .args(["--url", &worker.base_url()])
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
        .args(["--seed", "20261126", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(worker.state_dir())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {bin} ({e}): `bash scripts/setup.sh` installs it and `npm test` sets SCHEMATHESIS")
        });
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" passed"), "{report}");
}
