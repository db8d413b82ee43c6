//! A shorter version of the load run (`npm run load` runs the full one):
//! 200 concurrent reporters with distinct identities and IPs, zero 5xx, and
//! every identity's last acknowledged report in GET afterwards.

use std::time::Duration;

use dmr_tests::load::{run, LoadPlan};
use dmr_tests::Worker;

#[test]
fn two_hundred_concurrent_reporters_lose_nothing() {
    let worker = Worker::start();
    let plan = LoadPlan {
        base_url: worker.base_url(),
        reporters: 200,
        duration: Duration::from_secs(40),
        interval: Duration::from_secs(10),
    };
    let result = run(&plan);
    result.print(&plan);
    assert_eq!(result.server_errors(), 0, "{:?}", result.statuses);
    assert!(result.lost.is_empty(), "lost: {:?}", result.lost);
    // Within the limits every report is accepted.
    assert_eq!(
        result.statuses.get(&200),
        Some(&result.requests),
        "{:?}",
        result.statuses
    );
    assert!(result.requests >= 800, "only {} requests", result.requests);
}
