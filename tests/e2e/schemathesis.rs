//! schemathesis (PyPI) generates requests from the served OpenAPI document
//! and checks every answer against it: zero failures allowed.
//!
//! The rate limits are left out of this Worker's config: schemathesis sends
//! hundreds of requests from one address and would otherwise test mostly 429s.
//!
//! A page `cursor` (format `dmr-cursor`) is valid only as the Worker made it
//! (a checksum no schema can express), so schemathesis is given real ones to
//! draw from: a hooks module registers the format with cursors read from the
//! `Link` headers of this Worker. Everything else about the parameter
//! (pattern, lengths, and any other value being refused) is tested as usual.

use std::process::Command;

use dmr_shared::api::{JDCS_PATH, OPENAPI_PATH, REPORTS_PATH};
use dmr_shared::percent::percent_decode;
use dmr_tests::{report, Options, Worker};

/// How many cases schemathesis generates per operation and phase.
const MAX_EXAMPLES: &str = "150";

/// Real cursors of this Worker: from the `Link` headers of both lists, a
/// page of one at a time.
fn real_cursors(worker: &Worker) -> Vec<String> {
    for i in 0..4 {
        let reply = worker.post_report(&report(&format!("bc1qschema.rig{i}"), vec![]));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let mut cursors = Vec::new();
    for list in [REPORTS_PATH, JDCS_PATH] {
        let mut path = format!("{list}?limit=1");
        for _ in 0..4 {
            let Some(link) = worker.request("GET", &path, None).link else {
                break;
            };
            path = link
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned();
            let cursor = path.split("cursor=").nth(1).expect("a cursor in the Link");
            cursors.push(percent_decode(cursor, true).expect("a decodable cursor"));
        }
    }
    assert!(cursors.len() >= 6, "{cursors:?}");
    cursors
}

#[test]
fn schemathesis_finds_no_failures() {
    let bin = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let worker = Worker::start_with(Options {
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    });
    let cursors = serde_json::to_string(&real_cursors(&worker)).expect("JSON");
    let hooks = worker.state_dir().join("dmr_cursor_hooks.py");
    std::fs::write(
        &hooks,
        format!(
            "import schemathesis\nfrom hypothesis import strategies as st\n\n\
             # Cursors this Worker made (read from its Link headers).\n\
             schemathesis.openapi.format(\"dmr-cursor\", st.sampled_from({cursors}))\n"
        ),
    )
    .expect("hooks module");
    let out = Command::new(&bin)
        .args(["run", &worker.url(OPENAPI_PATH)])
        .args(["--url", &worker.base_url()])
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
        .args(["--seed", "20261126", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "dmr_cursor_hooks")
        .env("PYTHONPATH", worker.state_dir())
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
