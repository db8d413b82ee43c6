//! What a pool's write of a session row costs in D1 with the naming
//! triggers of `worker/migrations/0003_jdc_names.sql` and without them, for
//! `npm run bench`: D1's billed rows read and written per write, on the
//! bench's table of 100,000 rows.
//!
//! The writes come from `bench/pool-worker/`, a Worker of the same
//! `wrangler dev` that runs the reference pool's upsert and answers D1's
//! figures (local `wrangler d1 execute` gives none). Each case writes
//! [`WRITES`] rows and the figures are their mean. The triggers are then
//! dropped, the cases run again on new sessions, and the triggers are put
//! back with docs/deploying.md's fallback, `wrangler d1 execute --file` of the
//! migration.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::side_by_side::{Runtime, ROUTE_HEADER};
use dmr_tests::{repo_root, Worker, POOL_SESSION_KEY};

/// The pool Worker's name in its config.
const POOL_WORKER: &str = "dmr-bench-pool";

/// Writes per case.
const WRITES: usize = 20;

/// The address whose JDC has a live name.
const NAMED: &str = "bc1qpoolnamed";

/// The migration that creates the triggers.
const MIGRATION: &str = "worker/migrations/0003_jdc_names.sql";

/// The pool Worker's config, to pass as one of
/// [`dmr_tests::Options::extra_configs`].
pub fn config() -> PathBuf {
    repo_root().join("bench/pool-worker/wrangler.toml")
}

/// The cases: what is written, as `(label, address, userAgent, again)`;
/// `again` writes the sessions of the case before it once more.
const CASES: [(&str, &str, &str, bool); 4] = [
    (
        "another miner's session",
        "bc1qpoolminer",
        "cgminer/4.11",
        false,
    ),
    (
        "a JDC's session, no live name",
        "bc1qpoolunnamed",
        "jd-client/sv2",
        false,
    ),
    (
        "a JDC's session, named at birth",
        NAMED,
        "jd-client/sv2",
        false,
    ),
    (
        "the upsert again over a named row",
        NAMED,
        "jd-client/sv2",
        true,
    ),
];

/// Mean rows read and written per write of each case; `tag` keeps the
/// sessions of two runs apart.
fn run(runtime: &Runtime, tag: &str) -> Vec<(f64, f64)> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let url = format!("{}/", runtime.entry());
    let mut out = Vec::new();
    for (c, (label, address, user_agent, again)) in CASES.iter().enumerate() {
        let case = if *again { c - 1 } else { c };
        let (mut read, mut written) = (0, 0);
        for n in 0..WRITES {
            let row = json!({
                "address": address,
                "sessionId": format!("{tag}{case}-{n}"),
                "userAgent": user_agent,
            });
            let answer: Value = agent
                .post(&url)
                .header(ROUTE_HEADER, POOL_WORKER)
                .header("Content-Type", "application/json")
                .send(row.to_string())
                .ok()
                .filter(|r| r.status() == 200)
                .and_then(|mut r| r.body_mut().read_json().ok())
                .unwrap_or_else(|| panic!("the pool's write of {label} failed"));
            read += answer["rowsRead"].as_u64().unwrap_or(0);
            written += answer["rowsWritten"].as_u64().unwrap_or(0);
        }
        out.push((read as f64 / WRITES as f64, written as f64 / WRITES as f64));
    }
    out
}

fn triggers(worker: &Worker) -> usize {
    worker
        .d1("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        .len()
}

/// What [`measure`] found.
pub struct PoolWrites {
    rows: u64,
    named: u64,
    /// Mean rows read and written per write of each of [`CASES`].
    with: Vec<(f64, f64)>,
    without: Vec<(f64, f64)>,
}

/// Measures the cases with the triggers and without, and puts the
/// triggers back. `worker` must have been started with [`config`] among
/// its extra configs.
pub fn measure(worker: &Worker) -> PoolWrites {
    let runtime = Runtime::find(worker);
    let rows = worker.d1("SELECT count(*) AS n FROM clients")[0]["n"]
        .as_u64()
        .unwrap_or(0);
    worker.d1(POOL_SESSION_KEY);
    worker.d1(&format!(
        "INSERT OR REPLACE INTO jdc_names (identity, address, userAgent, expiresAt) \
         VALUES ('{NAMED}', '{NAMED}', 'bitaxe/sv2', '2099-01-01T00:00:00.000Z')"
    ));
    assert_eq!(triggers(worker), 2, "the triggers are not in place");
    let with = run(&runtime, "t");
    let named = worker.d1(&format!(
        "SELECT count(*) AS n FROM clients WHERE address = '{NAMED}' AND userAgent = 'bitaxe/sv2'"
    ))[0]["n"]
        .as_u64()
        .unwrap_or(0);
    worker.d1("DROP TRIGGER clients_named_on_insert");
    worker.d1("DROP TRIGGER clients_named_on_update");
    let without = run(&runtime, "n");
    worker.d1_file(&repo_root().join(MIGRATION));
    assert_eq!(triggers(worker), 2, "the fallback did not put them back");
    PoolWrites {
        rows,
        named,
        with,
        without,
    }
}

impl PoolWrites {
    /// Prints the figures and returns them as JSON.
    pub fn print(&self) -> Value {
        let PoolWrites {
            rows,
            named,
            with,
            without,
        } = self;
        println!(
        "a pool's write of a session row ({rows} client rows, the reference pool's upsert, mean of {WRITES}): D1 rows read / written"
    );
        println!("  {:<36} {:>16} {:>16}", "", "with triggers", "without");
        for (c, (label, ..)) in CASES.iter().enumerate() {
            println!(
                "  {:<36} {:>7.1} / {:<6.1} {:>7.1} / {:<6.1}",
                label, with[c].0, with[c].1, without[c].0, without[c].1
            );
        }
        println!("  rows named at birth: {named} of {}", WRITES);
        json!({
            "clientRows": rows,
            "writesPerCase": WRITES,
            "namedAtBirth": named,
            "cases": CASES.iter().enumerate().map(|(c, (label, ..))| json!({
                "case": label,
                "withTriggers": {"rowsRead": with[c].0, "rowsWritten": with[c].1},
                "without": {"rowsRead": without[c].0, "rowsWritten": without[c].1},
            })).collect::<Vec<_>>(),
        })
    }
}
