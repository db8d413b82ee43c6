//! Agents: `GET /api/agents` under wrangler dev answers from
//! the client rows in D1 and the live reports in KV (with the plan using its
//! index, the answer cached per data centre, reads behind the token even
//! from the cache), and the inspector's Agents panel in headless
//! Chromium shows exactly those rows, follows a report to the next refresh,
//! keeps table and JDC strings as text, and has its own states.
//!
//! Screenshot: `test-artifacts/agents.png`.

use std::time::{Duration, Instant};

use dmr_shared::agents::{
    PoolAgents, AGENTS_CACHE_SECS, AGENTS_SQL, JDC_ADDRESSES_SQL, MAX_AGENTS, MAX_JDC_ADDRESSES,
};
use dmr_shared::api::{kv_key, AGENTS_PATH, OPENAPI_PATH};
use dmr_shared::JDC_USER_AGENT;
use dmr_tests::browser::agents::{AgentsPanel, AgentsView};
use dmr_tests::browser::{Browser, InspectorPage};
use dmr_tests::{
    miner, reads_of, repo_root, report, while_no_name_is_live, Options, Worker, LOG_WAIT,
};
use serde_json::{json, Value};

/// Reports, renamed to `bitaxe/sv2`.
const ALPHA: &str = "bc1qpoolalpha0000000000000000000000000000a";
/// Reports, renamed to `NerdQAxe++/sv2`.
const BETA: &str = "bc1qpoolbeta00000000000000000000000000000b";
/// Connects through a JDC, never reports (until a test makes it).
const SILENT: &str = "bc1qpoolsilent000000000000000000000000000s";
/// Connects through a JDC, never reports.
const QUIET: &str = "bc1qpoolquiet0000000000000000000000000000q";
/// Ordinary SV1 miners.
const MINERS: &str = "bc1qpoolminers000000000000000000000000000m";

/// The first answer in a browser: page, wasm and API calls on a loaded machine.
const FIRST_LOAD: Duration = Duration::from_secs(60);

/// The JDC list's next poll (every 5 s) and its rendering.
const NEXT_POLL: Duration = Duration::from_secs(20);

/// The panel's next read (every 30 s) after a short cache, and its rendering.
const NEXT_PANEL_READ: Duration = Duration::from_secs(75);

/// The client table: three JDCs still `jd-client/sv2` (ALPHA and BETA
/// report in the tests, SILENT and QUIET do not), SV1 miners, and ended
/// sessions that no view may count. Start times are relative to the seeding.
fn seed() -> String {
    let row = |address: &str, session: &str, agent: &str, ago: &str, rate: f64, ended: bool| {
        format!(
            "('{address}', 'w', '{session}', '{agent}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', {ago}), {rate}, {})",
            if ended { "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" } else { "NULL" }
        )
    };
    let rows = [
        row(ALPHA, "a1", JDC_USER_AGENT, "'-3 hours'", 1.2e12, false),
        row(ALPHA, "a2", JDC_USER_AGENT, "'-2 hours'", 0.8e12, false),
        row(ALPHA, "a0", JDC_USER_AGENT, "'-2 days'", 9e12, true),
        row(BETA, "b1", JDC_USER_AGENT, "'-26 hours'", 5e12, false),
        row(
            SILENT,
            "s1",
            JDC_USER_AGENT,
            "'-4 days', '-6 hours'",
            6e12,
            false,
        ),
        row(SILENT, "s2", JDC_USER_AGENT, "'-40 minutes'", 2.5e12, false),
        row(QUIET, "q1", JDC_USER_AGENT, "'-1 hours'", 1e12, false),
        row(MINERS, "m1", "bitaxe/1.0", "'-5 hours'", 0.5e12, false),
        row(MINERS, "m2", "bitaxe/1.0", "'-5 hours'", 0.5e12, false),
        row(
            MINERS,
            "m3",
            "cgminer/4.11.1",
            "'-30 minutes'",
            0.3e12,
            false,
        ),
        row(MINERS, "m4", "cgminer/4.11.1", "'-3 days'", 0.3e12, true),
    ];
    format!(
        "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime, hashRate, deletedAt) VALUES {};",
        rows.join(", ")
    )
}

fn post(worker: &Worker, identity: &str, vendor: &str) {
    let reply = worker.post_report(&report(identity, vec![miner(vendor, 1e12, "w")]));
    assert_eq!(reply.status, 200, "report refused: {}", reply.body);
}

/// ALPHA and BETA report (their rows are renamed); then ALPHA's JDC
/// reconnects, a new `jd-client/sv2` row that D1 does not name (see
/// `while_no_name_is_live`), so only its next report renames it.
fn alpha_and_beta_report(worker: &Worker) {
    post(worker, &format!("{ALPHA}.jdc1"), "bitaxe");
    post(worker, &format!("{BETA}.rack"), "NerdQAxe++");
    worker.d1(&while_no_name_is_live(&format!(
        "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime, hashRate) \
         VALUES ('{ALPHA}', 'jdc1', 'a3', '{JDC_USER_AGENT}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 1e11)"
    )));
}

/// An answer with the headers this endpoint is about.
#[derive(Debug)]
struct Got {
    status: u16,
    cache_control: Option<String>,
    age: Option<String>,
    www_authenticate: Option<String>,
    content_type: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn age_secs(&self) -> u64 {
        let age = self.age.as_deref().expect("an Age header");
        age.parse().unwrap_or_else(|_| panic!("Age {age:?}"))
    }
}

fn get(worker: &Worker, path: &str, token: Option<&str>) -> Got {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let mut request = agent.get(worker.url(path));
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().expect("GET");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Got {
        status: response.status().as_u16(),
        cache_control: header("cache-control"),
        age: header("age"),
        www_authenticate: header("www-authenticate"),
        content_type: header("content-type").unwrap_or_default(),
        body: response.body_mut().read_to_string().expect("body"),
    }
}

/// The Worker's log lines for reads of this view, once `done` accepts them
/// or after [`LOG_WAIT`].
fn agent_reads_until(worker: &Worker, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    worker.await_log(LOG_WAIT, |log| reads_of(log, "agents"), |reads| done(reads))
}

/// The log lines for reads of this view, once there are at least `count`.
fn agent_reads(worker: &Worker, count: usize) -> Vec<Value> {
    agent_reads_until(worker, |reads| reads.len() >= count)
}

/// How many of `reads` were fresh (not from the cache).
fn fresh_count(reads: &[Value]) -> usize {
    reads.iter().filter(|r| r["cached"] == false).count()
}

/// Live rows by `userAgent` straight from D1, in the answer's order (most
/// rows first, then by name): (userAgent, rows, addresses, hashRate).
fn table_groups(worker: &Worker) -> Vec<(String, u64, u64, f64)> {
    worker
        .d1(
            "SELECT userAgent AS ua, count(*) AS n, count(DISTINCT address) AS a, \
             total(hashRate) AS h FROM clients WHERE deletedAt IS NULL \
             GROUP BY userAgent ORDER BY n DESC, userAgent",
        )
        .iter()
        .map(|r| {
            (
                r["ua"].as_str().unwrap().to_owned(),
                r["n"].as_u64().unwrap(),
                r["a"].as_u64().unwrap(),
                r["h"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Validates `instance` against `#/components/schemas/<name>` of the
/// served OpenAPI document.
fn conforms(worker: &Worker, name: &str, instance: &Value) {
    let mut schema = get(worker, OPENAPI_PATH, None).json();
    schema["$ref"] = json!(format!("#/components/schemas/{name}"));
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?} in {instance}");
}

fn seeded(vars: &[(&str, &str)]) -> Worker {
    Worker::start_with(Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed_sql: Some(seed()),
        ..Options::default()
    })
}

#[test]
fn the_answer_groups_live_rows_and_tells_silent_jdcs_from_reporting_ones() {
    let worker = seeded(&[]);
    alpha_and_beta_report(&worker);

    let got = get(&worker, AGENTS_PATH, None);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.content_type.starts_with("application/json"));
    assert_eq!(
        got.cache_control.as_deref(),
        Some(format!("private, max-age={AGENTS_CACHE_SECS}").as_str())
    );
    assert_eq!(got.age_secs(), 0);
    conforms(&worker, "PoolAgents", &got.json());
    let answer: PoolAgents = serde_json::from_value(got.json()).expect("the shared type");

    // The same groups as the table itself, ended sessions left out.
    let table = table_groups(&worker);
    let listed: Vec<(String, u64, u64, f64)> = answer
        .agents
        .iter()
        .map(|a| (a.user_agent.clone(), a.rows, a.addresses, a.hash_rate))
        .collect();
    assert_eq!(listed, table);
    assert_eq!(answer.rows, table.iter().map(|g| g.1).sum::<u64>());
    assert_eq!(answer.rows, 10);
    assert_eq!(answer.hash_rate, table.iter().map(|g| g.3).sum::<f64>());
    let marked: Vec<&str> = answer
        .agents
        .iter()
        .filter(|a| a.from_reports)
        .map(|a| a.user_agent.as_str())
        .collect();
    assert_eq!(marked, ["bitaxe/sv2", "NerdQAxe++/sv2"]);
    assert_eq!((answer.more_agents, answer.more_jdc_addresses), (0, 0));

    // Addresses still connected as jd-client/sv2, longest connected first:
    // SILENT and QUIET never reported; ALPHA reported, and its new row is
    // renamed by its next report.
    assert_eq!(answer.jdc_rows, 4);
    let since = |address: &str| {
        worker.d1(&format!(
            "SELECT min(startTime) AS s FROM clients WHERE address = '{address}' \
             AND userAgent = '{JDC_USER_AGENT}' AND deletedAt IS NULL"
        ))[0]["s"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let jdcs: Vec<(&str, u64, &str, bool, Option<&str>)> = answer
        .jdc_addresses
        .iter()
        .map(|j| {
            (
                j.address.as_str(),
                j.rows,
                j.since.as_str(),
                j.reported,
                j.renames_to.as_deref(),
            )
        })
        .collect();
    let (silent, quiet, alpha) = (since(SILENT), since(QUIET), since(ALPHA));
    assert_eq!(
        jdcs,
        [
            (SILENT, 2, silent.as_str(), false, None),
            (QUIET, 1, quiet.as_str(), false, None),
            (ALPHA, 1, alpha.as_str(), true, Some("bitaxe/sv2")),
        ]
    );
    assert_eq!((answer.live_reports, answer.reports_complete), (2, true));

    // One log line: a fresh read, with the rows D1 billed and one KV list.
    let reads = agent_reads(&worker, 1);
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["cached"], false);
    assert!(
        reads[0]["rowsRead"].as_u64().unwrap() >= answer.rows,
        "{}",
        reads[0]
    );
    assert_eq!(reads[0]["kvOperations"], 1);
}

#[test]
fn the_statements_read_the_partial_index() {
    let worker = seeded(&[]);
    // EXPLAIN QUERY PLAN takes no parameters: the same statements with the
    // values the Worker binds written in.
    let plan = |sql: &str| -> Vec<String> {
        let sql = sql
            .replace("?1", &format!("'{JDC_USER_AGENT}'"))
            .replace("?2", "50");
        let details: Vec<String> = worker
            .d1(&format!("EXPLAIN QUERY PLAN {sql}"))
            .iter()
            .map(|r| r["detail"].as_str().unwrap_or_default().to_owned())
            .collect();
        println!("EXPLAIN QUERY PLAN {sql}\n  {}", details.join("\n  "));
        details
    };
    let agents = plan(AGENTS_SQL);
    assert!(
        agents
            .iter()
            .any(|d| d.starts_with("SCAN clients USING INDEX clients_live_user_agent")),
        "{agents:?}"
    );
    assert!(
        !agents.iter().any(|d| d.contains("FOR GROUP BY")),
        "the GROUP BY needs no sort: {agents:?}"
    );
    let jdc = plan(JDC_ADDRESSES_SQL);
    assert!(
        jdc.iter()
            .any(|d| d
                .starts_with("SEARCH clients USING INDEX clients_live_user_agent (userAgent=?)")),
        "{jdc:?}"
    );
    assert!(
        !jdc.iter().any(|d| d.starts_with("SCAN clients")),
        "{jdc:?}"
    );
}

#[test]
fn the_lists_are_bounded_and_count_the_rest() {
    // 520 JDC addresses (the n-th connected n minutes ago) and 60 other
    // userAgents, one row each.
    let worker = Worker::start_with(Options {
        seed_sql: Some(format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 520) \
             INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) \
             SELECT printf('bc1qmany%04d', i), 'w', printf('j%d', i), '{JDC_USER_AGENT}', \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d minutes', i)) FROM n; \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) \
             INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) \
             SELECT printf('bc1qsv1%02d', i), 'w', printf('v%d', i), printf('miner/%d.0', i), \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM n;"
        )),
        ..Options::default()
    });
    let got = get(&worker, AGENTS_PATH, None);
    assert_eq!(got.status, 200, "{}", got.body);
    conforms(&worker, "PoolAgents", &got.json());
    let answer: PoolAgents = serde_json::from_value(got.json()).unwrap();
    assert_eq!((answer.rows, answer.jdc_rows), (580, 520));
    assert_eq!((answer.agents.len(), answer.more_agents), (MAX_AGENTS, 11));
    assert_eq!(answer.agents[0].user_agent, JDC_USER_AGENT);
    assert_eq!(
        (answer.jdc_addresses.len(), answer.more_jdc_addresses),
        (MAX_JDC_ADDRESSES, 20)
    );
    // Longest connected first.
    assert_eq!(answer.jdc_addresses[0].address, "bc1qmany0520");
    assert_eq!(answer.jdc_addresses[499].address, "bc1qmany0021");

    let browser = Browser::start();
    let _page = InspectorPage::open(&browser, &worker.base_url());
    let panel = AgentsPanel::new(&browser);
    let view = panel.wait_until("the bounded lists", FIRST_LOAD, |v| !v.silent.is_empty());
    assert_eq!(view.agents.len(), MAX_AGENTS + 1);
    assert_eq!(
        view.chart().last().copied(),
        Some(("(11 other agents)", "11 rows · 0 H/s", "other"))
    );
    assert_eq!(
        view.silent_title,
        "Connected through a JDC, not reporting (500)"
    );
    assert_eq!(view.silent.len(), MAX_JDC_ADDRESSES);
    assert_eq!(
        view.beyond,
        "Listing the 500 addresses connected longest; 20 more have jd-client/sv2 rows."
    );
}

#[test]
fn a_second_read_within_the_minute_comes_from_this_data_centres_cache() {
    let worker = seeded(&[]);
    let first = get(&worker, AGENTS_PATH, None);
    assert_eq!((first.status, first.age_secs()), (200, 0));

    // A session starts: D1 has the row, the cached answer does not.
    worker.d1(
        "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) \
         VALUES ('bc1qpoollate', 'w', 'late', 'late/1.0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    );
    let second = get(&worker, AGENTS_PATH, None);
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body, "served again, not read again");
    assert!(!second.body.contains("late/1.0"));
    assert!(second.age_secs() < AGENTS_CACHE_SECS, "{second:?}");
    assert_eq!(
        second.cache_control.as_deref(),
        Some(format!("private, max-age={AGENTS_CACHE_SECS}").as_str())
    );
    // A query string cannot force a fresh read: the endpoint takes none.
    let third = get(&worker, &format!("{AGENTS_PATH}?fresh=1"), None);
    assert_eq!(third.status, 400, "{third:?}");
    let problem: Value = serde_json::from_str(&third.body).unwrap();
    assert_eq!(problem["field"], "fresh");
    let reads = agent_reads(&worker, 2);
    let cached: Vec<&Value> = reads.iter().map(|r| &r["cached"]).collect();
    assert_eq!(cached, [&json!(false), &json!(true)], "{reads:?}");
    assert!(reads[1..]
        .iter()
        .all(|r| r["rowsRead"] == 0 && r["kvOperations"] == 0));

    // Once the cached answer expires, the next read is fresh and has it.
    let deadline = Instant::now() + Duration::from_secs(AGENTS_CACHE_SECS * 3);
    let fresh = loop {
        let got = get(&worker, AGENTS_PATH, None);
        if got.body.contains("late/1.0") {
            break got;
        }
        assert!(got.age_secs() < AGENTS_CACHE_SECS, "{got:?}");
        assert!(Instant::now() < deadline, "the cached answer never expired");
        std::thread::sleep(Duration::from_secs(2));
    };
    assert_eq!(fresh.age_secs(), 0);
    assert_eq!(
        serde_json::from_str::<PoolAgents>(&fresh.body)
            .unwrap()
            .rows,
        10
    );
    let reads = agent_reads_until(&worker, |reads| fresh_count(reads) >= 2);
    assert_eq!(fresh_count(&reads), 2, "{reads:?}");
}

#[test]
fn reads_need_the_token_even_when_the_answer_is_cached() {
    let worker = seeded(&[("INSPECTOR_TOKEN", "pool-s3cret")]);
    post(&worker, &format!("{ALPHA}.jdc1"), "bitaxe");
    let rows_before = worker.d1("SELECT * FROM clients ORDER BY id");
    let keys_before = worker.kv_keys();
    let refused = |token: Option<&str>| {
        let got = get(&worker, AGENTS_PATH, token);
        assert_eq!(got.status, 401, "{token:?}: {}", got.body);
        assert_eq!(got.content_type, "application/problem+json");
        assert!(got.www_authenticate.unwrap().starts_with("Bearer"));
        assert_eq!(got.cache_control.as_deref(), Some("no-store"));
        assert!(!got.body.contains(SILENT), "a refused read leaked a row");
    };
    refused(None);
    let fresh = get(&worker, AGENTS_PATH, Some("pool-s3cret"));
    assert_eq!(fresh.status, 200);
    assert!(fresh.body.contains(SILENT));
    let cached = get(&worker, AGENTS_PATH, Some("pool-s3cret"));
    assert_eq!(
        (cached.status, cached.body.as_str()),
        (200, fresh.body.as_str())
    );
    // With a cached answer at hand, a read without the token still gets none.
    refused(None);
    refused(Some("pool-s3cre"));
    // The refused reads never reached the cache or the stores.
    let reads = agent_reads(&worker, 2);
    let cached: Vec<&Value> = reads.iter().map(|r| &r["cached"]).collect();
    assert_eq!(cached, [&json!(false), &json!(true)], "{reads:?}");
    assert_eq!(worker.d1("SELECT * FROM clients ORDER BY id"), rows_before);
    assert_eq!(worker.kv_keys(), keys_before);
    assert!(keys_before
        .iter()
        .any(|k| k["name"] == kv_key(&format!("{ALPHA}.jdc1")).as_str()));
}

#[test]
fn without_its_database_the_view_is_a_503_and_only_get_is_allowed() {
    let worker = Worker::start_with(Options {
        without_bindings: vec!["DB"],
        ..Options::default()
    });
    let got = get(&worker, AGENTS_PATH, None);
    assert_eq!(got.status, 503, "{}", got.body);
    assert_eq!(got.content_type, "application/problem+json");
    assert_eq!(got.cache_control.as_deref(), Some("no-store"));
    let problem = got.json();
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("client database is unavailable"),
        "{problem}"
    );
    for method in ["POST", "PUT", "DELETE"] {
        let reply = worker.request(method, AGENTS_PATH, None);
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.allow.as_deref(), Some("GET, HEAD"));
    }
}

/// The chart as (name, "<rows> · <addresses>") from the table, for
/// comparing with what the panel shows.
fn table_chart(worker: &Worker) -> Vec<(String, String)> {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    table_groups(worker)
        .into_iter()
        .map(|(ua, rows, addresses, _)| {
            (
                ua,
                format!(
                    "{} · {}",
                    plural(rows, "row", "rows"),
                    plural(addresses, "address", "addresses")
                ),
            )
        })
        .collect()
}

/// The panel's chart as (name, numbers without the hash rate).
fn panel_chart(view: &AgentsView) -> Vec<(String, String)> {
    view.agents
        .iter()
        .map(|a| {
            let counts = a
                .numbers
                .rsplit_once(" · ")
                .map_or("", |(counts, _)| counts);
            (a.name.clone(), counts.to_owned())
        })
        .collect()
}

#[test]
fn the_panel_matches_the_table_and_follows_a_report() {
    // A short cache, so the panel's next read (every 30 s) reads D1 again.
    let worker = seeded(&[("AGENTS_CACHE_SECONDS", "5")]);
    alpha_and_beta_report(&worker);
    let browser = Browser::start();
    browser.set_window(1280, 1400);
    let _page = InspectorPage::open(&browser, &worker.base_url());
    let panel = AgentsPanel::new(&browser);

    let view = panel.wait_until("the pool's rows", FIRST_LOAD, |v| !v.agents.is_empty());
    assert_eq!(panel_chart(&view), table_chart(&worker));
    assert_eq!(
        view.chart(),
        [
            (JDC_USER_AGENT, "4 rows · 3 addresses · 9.60 TH/s", "jdc"),
            ("bitaxe/1.0", "2 rows · 1 address · 1.00 TH/s", "other"),
            ("bitaxe/sv2", "2 rows · 1 address · 2.00 TH/s", "reported"),
            (
                "NerdQAxe++/sv2",
                "1 row · 1 address · 5.00 TH/s",
                "reported"
            ),
            ("cgminer/4.11.1", "1 row · 1 address · 300 GH/s", "other"),
        ]
    );
    assert_eq!(view.agents[0].share, "40%");
    assert_eq!(view.agents[0].bar, "40.00%");
    assert_eq!(view.agents[2].mark, " · renamed by reports");
    assert_eq!(
        view.jdc_rows,
        "4 live rows are still jd-client/sv2, at 3 addresses (40% of live rows)."
    );
    assert!(
        view.age.starts_with("read from the pool's database ")
            && view.age.contains("· kept up to 5 s · refreshes every 30 s"),
        "{}",
        view.age
    );
    assert_eq!(
        view.silent_title,
        "Connected through a JDC, not reporting (2)"
    );
    assert_eq!(view.silent_addresses(), [SILENT, QUIET]);
    assert_eq!(view.silent[0].rows, "2 rows");
    assert!(
        view.silent[0].detail.starts_with("connected 4 d 06 h "),
        "{}",
        view.silent[0].detail
    );
    assert_eq!(view.pending_addresses(), [ALPHA]);
    assert_eq!(
        view.pending[0].detail,
        "renamed to bitaxe/sv2 at its next report"
    );
    assert!(view.error.is_none() && view.empty.is_none() && !view.loading);

    // Filtered like the JDC list.
    panel.filter("QUIET");
    let view = panel.wait_until("only QUIET", NEXT_POLL, |v| v.silent.len() == 1);
    assert_eq!(view.silent_addresses(), [QUIET]);
    assert_eq!(view.filter_count, "1 of 2 addresses match.");
    panel.filter("");
    panel.wait_until("both again", NEXT_POLL, |v| v.silent.len() == 2);

    panel.scroll_into_view();
    browser.screenshot(&repo_root().join("test-artifacts/agents.png"));

    // SILENT's JDC starts reporting: it leaves the list at the next poll of
    // the live reports, before the panel reads the table again...
    post(&worker, &format!("{SILENT}.garage"), "bitaxe");
    let view = panel.wait_until("SILENT no longer silent", NEXT_POLL, |v| {
        !v.silent_addresses().contains(&SILENT)
    });
    assert_eq!(view.silent_addresses(), [QUIET]);
    // ...and at the panel's next read its rows are renamed in the table.
    let view = panel.wait_until("SILENT's rows renamed", NEXT_PANEL_READ, |v| {
        !v.pending_addresses().contains(&SILENT)
            && v.chart()
                .iter()
                .any(|c| c.0 == "bitaxe/sv2" && c.1.starts_with("4 rows"))
    });
    assert_eq!(panel_chart(&view), table_chart(&worker));
    assert_eq!(view.silent_addresses(), [QUIET]);
    assert_eq!(
        view.jdc_rows,
        "2 live rows are still jd-client/sv2, at 2 addresses (20% of live rows)."
    );
}

#[test]
fn strings_from_the_table_and_from_jdcs_are_shown_as_text() {
    // userAgents and addresses are whatever the pool's table holds; the
    // identity of a JDC is whatever it sends.
    let agent = "<img src=x onerror=window.__pwned=1>";
    let silent = "bc1q<b>bold</b>";
    let jdc = "bc1q<i>x</i>";
    let worker = Worker::start_with(Options {
        seed_sql: Some(format!(
            "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) VALUES \
             ('{MINERS}', 'w', 'x1', '{agent}', 'not a time <script>window.__pwned=2</script>'), \
             ('{silent}', 'w', 'x2', '{JDC_USER_AGENT}', '<svg onload=window.__pwned=3>'), \
             ('{jdc}', 'w', 'x3', '{JDC_USER_AGENT}', '2026-11-26T00:00:00Z')"
        )),
        ..Options::default()
    });
    post(
        &worker,
        &format!("{jdc}.<u>rig</u>"),
        "<script>window.__pwned=4</script>",
    );
    worker.d1(&while_no_name_is_live(&format!(
        "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) \
         VALUES ('{jdc}', 'w', 'x4', '{JDC_USER_AGENT}', '2026-11-26T01:00:00Z')"
    )));
    let browser = Browser::start();
    let _page = InspectorPage::open(&browser, &worker.base_url());
    let panel = AgentsPanel::new(&browser);
    let view = panel.wait_until("the rows", FIRST_LOAD, |v| {
        !v.agents.is_empty() && !v.pending.is_empty()
    });
    assert!(
        view.agents.iter().any(|a| a.name == agent),
        "{:?}",
        view.agents
    );
    assert_eq!(view.silent_addresses(), [silent]);
    assert!(
        view.silent[0]
            .detail
            .contains("<svg onload=window.__pwned=3>"),
        "{}",
        view.silent[0].detail
    );
    assert_eq!(view.pending_addresses(), [jdc]);
    // The vendor reached the table only in its safe form.
    assert!(
        view.pending[0].detail.starts_with("renamed to ") && !view.pending[0].detail.contains('<'),
        "{}",
        view.pending[0].detail
    );
    let injected = browser.run(
        "return {pwned: window.__pwned ?? null,
                 elements: document.querySelectorAll(
                   '#agents img, #agents script, #agents b, #agents i, #agents u, #agents svg svg').length}",
        json!([]),
    );
    assert_eq!(injected, json!({"pwned": null, "elements": 0}));
}

/// Installed before the page loads: the page's requests to `/api/agents`
/// leave five seconds late, so the panel's loading state stays up long
/// enough to be seen while the rest of the page has its data.
const SLOW_AGENTS: &str = r#"
(() => {
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    if (!url.includes('/api/agents')) return realFetch(input, init);
    return new Promise((resolve) => setTimeout(resolve, 5000)).then(() => realFetch(input, init));
  };
})();
"#;

#[test]
fn the_panel_has_its_own_loading_empty_and_error_states() {
    // An empty table, its answer slow: loading, then empty; the JDC list
    // beside it is unaffected.
    let worker = Worker::start();
    post(&worker, &format!("{ALPHA}.jdc1"), "bitaxe");
    let browser = Browser::start();
    browser.before_each_page(SLOW_AGENTS);
    let page = InspectorPage::open(&browser, &worker.base_url());
    let panel = AgentsPanel::new(&browser);
    panel.wait_until("loading", FIRST_LOAD, |v| v.loading);
    let view = panel.wait_until("empty", FIRST_LOAD, |v| v.empty.is_some());
    assert!(view.agents.is_empty() && view.error.is_none() && !view.loading);
    assert!(
        view.age.starts_with("read from the pool's database "),
        "{}",
        view.age
    );
    assert_eq!(page.view().jdcs.len(), 1);
    drop(worker);

    // No database: the panel says so and offers a retry; the rest of the
    // page, which reads only KV, works (no JDC reports without D1).
    let worker = Worker::start_with(Options {
        without_bindings: vec!["DB"],
        ..Options::default()
    });
    let page = InspectorPage::open(&browser, &worker.base_url());
    let view = panel.wait_until("the panel's error", FIRST_LOAD, |v| v.error.is_some());
    let error = view.error.unwrap();
    assert!(
        error.contains("The API answered 503: the pool's client database is unavailable"),
        "{error}"
    );
    assert!(view.retry_button && view.agents.is_empty() && !view.loading);
    let rest = page.wait_until("the rest of the page", FIRST_LOAD, |v| v.empty.is_some());
    assert!(rest.error.is_none(), "{:?}", rest.error);
    browser.click("#agents button.agents-retry");
    let view = panel.wait_until("still failing", NEXT_POLL, |v| v.error.is_some());
    assert!(view.retry_button);
}
