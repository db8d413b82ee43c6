//! The inspector page in a real headless Chromium, served by the Worker under
//! wrangler dev: it lists what was reported with the right counts and totals,
//! follows new, stale and gone JDCs across refreshes without losing open
//! rows, filters, works from the keyboard and at phone width, asks nothing of
//! other origins, and shows its loading, empty and error states.
//!
//! Screenshots go to `test-artifacts/` (`inspector.png`, `inspector-phone.png`,
//! `inspector-error.png`).

#[path = "inspector/page.rs"]
mod page;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dmr_shared::api::{kv_key, report_path, JDCS_PATH, REPORTS_PATH};
use dmr_shared::limits::STALE_AFTER_SECS;
use dmr_tests::{miner, repo_root, report, Options, Worker};
use page::{Browser, InspectorPage, View, CLOCK_SHIFT, ENTER, TAB};
use serde_json::{json, Value};

const A: &str = "bc1qinspector0000000000000000000000000000a";
const B: &str = "bc1qinspector0000000000000000000000000000b";
const C: &str = "bc1qinspector0000000000000000000000000000c";

/// The first answer: page, script, wasm and one API call on a loaded machine.
const FIRST_LOAD: Duration = Duration::from_secs(30);

/// Long enough for the next refresh (every 5 s) and its rendering.
const NEXT_REFRESH: Duration = Duration::from_secs(15);

/// Seconds between A's and C's reports: the window in which A is stale
/// and C is not.
const GAP: i64 = 8;

/// Long enough for the page's one-second clock to move things along.
const NEXT_TICK: Duration = Duration::from_secs(8);

fn artifact(name: &str) -> PathBuf {
    repo_root().join("test-artifacts").join(name)
}

fn post(worker: &Worker, report: Value) {
    let reply = worker.post_report(&report);
    assert_eq!(reply.status, 200, "report refused: {}", reply.body);
}

/// Two JDCs: A with two bitaxes (2.00 TH/s), B with a NerdQAxe++ and a
/// device that names no vendor (5.50 TH/s).
fn seed_a_and_b(worker: &Worker) {
    post(
        worker,
        report(
            A,
            vec![
                miner("bitaxe", 1.2e12, &format!("{A}.gamma")),
                json!({
                    "vendor": "bitaxe", "hardwareVersion": "BM1366", "firmware": "v2.3.0",
                    "deviceId": "ax-22", "nominalHashRate": 0.8e12,
                    "userIdentity": format!("{A}.ultra"), "connectedAt": "2026-11-25T21:12:00Z",
                }),
            ],
        ),
    );
    post(
        worker,
        report(
            B,
            vec![
                miner("NerdQAxe++", 5e12, &format!("{B}.nerd")),
                miner("", 0.5e12, &format!("{B}.mystery")),
            ],
        ),
    );
}

/// Removes `identity`'s report from the Worker's local KV, as its TTL would
/// five minutes later.
fn expire_now(worker: &Worker, identity: &str) {
    let key = kv_key(identity);
    let listed = |w: &Worker| w.kv_keys().iter().any(|k| k["name"] == key.as_str());
    assert!(listed(worker), "no KV key {key}: {:?}", worker.kv_keys());
    let out = dmr_tests::wrangler()
        .args([
            "kv",
            "key",
            "delete",
            "--binding",
            "REPORTS",
            &key,
            "--local",
        ])
        .arg("--persist-to")
        .arg(worker.state_dir())
        .arg("--config")
        .arg(worker.state_dir().join("wrangler.toml"))
        .output()
        .expect("run wrangler kv key delete");
    assert!(
        out.status.success(),
        "wrangler kv key delete failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!listed(worker), "{key} is still in KV");
}

fn received_at(worker: &Worker, identity: &str) -> DateTime<Utc> {
    let reports = worker.get_reports();
    let stored = reports
        .iter()
        .find(|r| r["jdcUserIdentity"] == identity)
        .unwrap_or_else(|| panic!("{identity} not served: {reports:?}"));
    stored["receivedAt"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("bad receivedAt in {stored}"))
}

fn states(view: &View) -> Vec<(&str, &str)> {
    view.jdcs
        .iter()
        .map(|c| (c.identity.as_str(), c.state.as_str()))
        .collect()
}

#[test]
fn the_page_lists_jdcs_follows_new_stale_and_gone_ones_and_keeps_open_rows() {
    let worker = Worker::start();
    seed_a_and_b(&worker);
    let browser = Browser::start();
    browser.before_each_page(CLOCK_SHIFT);
    let page = InspectorPage::open(&browser, &worker.base_url());

    // Every live JDC with its numbers; totals; the vendor chart.
    let view = page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    let totals = view.totals.clone().expect("totals shown");
    assert_eq!(
        (
            totals.jdcs.as_str(),
            totals.miners.as_str(),
            totals.hash_rate.as_str()
        ),
        ("2", "4", "7.50 TH/s")
    );
    assert_eq!(totals.notes, "");
    assert_eq!(states(&view), [(A, "live"), (B, "live")]);
    let a = view.card(A).unwrap();
    assert_eq!(
        (
            a.badge.as_str(),
            a.user_agent.as_str(),
            a.miners.as_str(),
            a.hash_rate.as_str()
        ),
        ("LIVE", "bitaxe/sv2", "2 miners", "2.00 TH/s")
    );
    assert!(
        a.timing.starts_with("stored ") && a.timing.contains("· expires in 4 min"),
        "{}",
        a.timing
    );
    let b = view.card(B).unwrap();
    assert_eq!(
        (
            b.user_agent.as_str(),
            b.miners.as_str(),
            b.hash_rate.as_str()
        ),
        ("NerdQAxe++/sv2", "2 miners", "5.50 TH/s")
    );
    let chart: Vec<(&str, &str, &str)> = view
        .vendors
        .iter()
        .map(|v| (v.vendor.as_str(), v.share.as_str(), v.numbers.as_str()))
        .collect();
    assert_eq!(
        chart,
        [
            ("NerdQAxe++", "67%", "5.00 TH/s · 1 miner (25%)"),
            ("bitaxe", "27%", "2.00 TH/s · 2 miners (50%)"),
            ("(unknown)", "7%", "500 GH/s · 1 miner (25%)"),
        ]
    );
    assert_eq!(view.vendors[0].hash_bar, "66.67%");
    assert!(view.updated.starts_with("updated "), "{}", view.updated);
    assert!(view.error.is_none() && view.empty.is_none() && !view.loading);

    // Keyboard: Tab reaches the filter, then A's row; Enter opens it.
    browser.press(&[TAB]);
    assert_eq!(page.focused()["id"], "filter", "{}", page.focused());
    browser.press(&[TAB]);
    assert_eq!(page.focused()["card"], A, "{}", page.focused());
    browser.press(&[ENTER]);
    // (The miners come from A's full report, read when the row opens.)
    let view = page.wait_until("A's miners shown", NEXT_TICK, |v| {
        v.card(A).is_some_and(|c| c.open && c.rows.len() == 2)
    });
    let rows = &view.card(A).unwrap().rows;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0][..6],
        [
            "bitaxe",
            "BM1370",
            "v2.4.1",
            "—",
            &format!("{A}.gamma"),
            "1.20 TH/s"
        ]
    );
    assert_eq!(
        rows[1][..6],
        [
            "bitaxe",
            "BM1366",
            "v2.3.0",
            "ax-22",
            &format!("{A}.ultra"),
            "800 GH/s"
        ]
    );
    // Connected since: how long (relative) and when (absolute, local time).
    assert!(rows[1][6].contains("2026-11-2"), "{:?}", rows[1][6]);
    assert!(
        rows[1][6].chars().next().unwrap().is_ascii_digit(),
        "{:?}",
        rows[1][6]
    );

    // A new report shows after the next refresh; A stays open meanwhile.
    // (C goes in at least GAP seconds after A, so the two can be told apart
    // by age below.)
    let at_a = received_at(&worker, A);
    if let Ok(wait) = (at_a + chrono::Duration::seconds(GAP) - Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    post(
        &worker,
        report(C, vec![miner("Antminer S21", 2.5e15, &format!("{C}.rig"))]),
    );
    let view = page.wait_until("C listed", NEXT_REFRESH, |v| v.jdcs.len() == 3);
    let totals = view.totals.clone().unwrap();
    assert_eq!(
        (
            totals.jdcs.as_str(),
            totals.miners.as_str(),
            totals.hash_rate.as_str()
        ),
        ("3", "5", "2.51 PH/s")
    );
    assert_eq!(view.card(C).unwrap().hash_rate, "2.50 PH/s");
    assert!(view.card(A).unwrap().open, "A closed itself on refresh");
    assert_eq!(view.vendors[0].vendor, "Antminer S21");

    // The filter: by vendor, by worker (only that miner), then cleared.
    page.filter("nerd");
    let view = page.wait_until("only B matches", NEXT_TICK, |v| v.jdcs.len() == 1);
    assert_eq!(view.jdcs[0].identity, B);
    assert_eq!(view.filter_count, "1 of 3 JDCs match.");
    // (Worker names are in the full reports, which the page reads for open
    // rows only: A is open.)
    page.filter("ULTRA");
    let view = page.wait_until("only A's ultra", NEXT_TICK, |v| {
        v.jdcs.len() == 1 && v.jdcs[0].rows.len() == 1
    });
    assert_eq!(view.jdcs[0].identity, A);
    assert_eq!(view.jdcs[0].rows[0][4], format!("{A}.ultra"));
    assert_eq!(view.filter_count, "1 of 3 JDCs match.");
    page.filter("");
    let view = page.wait_until("all listed again", NEXT_TICK, |v| v.jdcs.len() == 3);
    assert_eq!(view.filter_count, "");
    assert!(view.card(A).unwrap().open, "A closed itself while filtered");

    // Stale: the page's clock runs until A's and B's stored reports are just
    // past the stale limit, while C, stored GAP s later, is still under it.
    let at_c = received_at(&worker, C);
    assert!(
        at_c - at_a >= chrono::Duration::seconds(GAP),
        "C was posted too soon after A"
    );
    let a_just_stale = || {
        let stale = chrono::Duration::seconds(STALE_AFTER_SECS as i64 + 1);
        (at_a + stale - Utc::now()).num_seconds()
    };
    page.shift_clock(a_just_stale());
    let view = page.wait_until("A and B stale", NEXT_TICK, |v| {
        states(v) == [(A, "stale"), (B, "stale"), (C, "live")]
    });
    let a = view.card(A).unwrap();
    assert_eq!(a.badge, "STALE");
    assert!(
        a.timing.starts_with("not stored for ") && a.timing.contains("· expires in "),
        "{}",
        a.timing
    );
    assert_eq!(view.totals.as_ref().unwrap().notes, "2 stale");

    // Gone: B's report expires; B stays listed, greyed, marked gone, and
    // leaves the totals and the chart.
    expire_now(&worker, B);
    let view = page.wait_until("B gone", NEXT_REFRESH, |v| {
        v.card(B).is_some_and(|c| c.state == "gone")
    });
    let b = view.card(B).unwrap();
    assert_eq!(b.badge, "GONE");
    assert!(b.greyed, "a gone JDC is greyed out");
    assert!(b.timing.starts_with("gone: "), "{}", b.timing);
    assert!(view.vendors.iter().all(|v| v.vendor != "NerdQAxe++"));

    // The picture: every state at once, A's and C's miners open. (The clock
    // is set again: waiting for B used up some of C's margin.)
    browser.click(&format!(r#".jdc[data-identity="{C}"] summary"#));
    page.wait_until("C's miners shown", NEXT_TICK, |v| {
        v.card(C).is_some_and(|c| c.rows.len() == 1)
    });
    page.shift_clock(a_just_stale());
    let view = page.wait_until("A stale, B gone, C live", NEXT_TICK, |v| {
        states(v) == [(A, "stale"), (B, "gone"), (C, "live")]
    });
    let totals = view.totals.clone().unwrap();
    assert_eq!(
        (
            totals.jdcs.as_str(),
            totals.miners.as_str(),
            totals.notes.as_str()
        ),
        ("2", "3", "1 stale · 1 gone")
    );
    browser.set_window(1280, 1500);
    browser.screenshot(&artifact("inspector.png"));

    // Phone width: nothing wider than the screen (tables scroll inside).
    browser.set_window(390, 1400);
    page.wait_until("laid out for a phone", NEXT_TICK, |_| {
        !page.overflows_horizontally()
    });
    browser.screenshot(&artifact("inspector-phone.png"));

    // It polls the summaries, reads only the opened rows' full reports, and
    // asks nothing of any other origin.
    let urls = page.requested_urls();
    let api = |path: &str| urls.iter().filter(|u| u.ends_with(path)).count();
    assert!(api(JDCS_PATH) >= 2, "{urls:#?}");
    // Once each, though polled again since: their summaries did not change.
    assert_eq!(api(&report_path(A)), 1, "{urls:#?}");
    assert_eq!(api(&report_path(C)), 1, "{urls:#?}");
    assert_eq!(api(&report_path(B)), 0, "{urls:#?}");
    assert_eq!(api(REPORTS_PATH), 0, "{urls:#?}");
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{}/", page.origin())))
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");
}

#[test]
fn loading_then_the_empty_hint_then_an_unreachable_api_with_retry() {
    let worker = Worker::start();
    let browser = Browser::start();
    // A slow network, so the loading state is up long enough to be seen.
    browser.cdp("Network.enable", json!({}));
    browser.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1}),
    );
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("loading", FIRST_LOAD, |v| v.loading);
    let view = page.wait_until("the empty hint", FIRST_LOAD, |v| v.empty.is_some());
    browser.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    );
    let hint = view.empty.unwrap();
    assert!(
        hint.contains(&format!("{}/api/downstream-report", worker.base_url())),
        "{hint}"
    );
    assert!(!view.loading && view.error.is_none() && view.totals.is_none() && view.jdcs.is_empty());

    // The Worker stops: the next refresh fails and says so, with a retry.
    drop(worker);
    let view = page.wait_until("the error panel", NEXT_REFRESH, |v| v.error.is_some());
    let error = view.error.unwrap();
    assert!(error.contains("could not be reached"), "{error}");
    assert!(view.retry_button);
    assert!(
        view.empty.is_some(),
        "the last answer stays under the error"
    );
    browser.screenshot(&artifact("inspector-error.png"));

    browser.click(".state.error button.retry");
    let view = page.wait_until("still failing, still counting", NEXT_REFRESH, |v| {
        v.error.is_some() && v.updated.starts_with("updated ") && !v.updated.contains("just now")
    });
    assert!(view.retry_button);
}

#[test]
fn an_api_error_shows_the_problem_detail() {
    // Reads need a token the page does not have: the API answers 401 with
    // an RFC 9457 problem, and the page shows its detail.
    let worker = Worker::start_with(Options {
        vars: vec![("INSPECTOR_TOKEN".into(), "s3cret".into())],
        ..Options::default()
    });
    let browser = Browser::start();
    let page = InspectorPage::open(&browser, &worker.base_url());
    let view = page.wait_until("the error panel", FIRST_LOAD, |v| v.error.is_some());
    let error = view.error.unwrap();
    assert!(
        error.contains(
            "The API answered 401: this endpoint needs an Authorization: Bearer <token> header"
        ),
        "{error}"
    );
    assert!(view.retry_button && view.totals.is_none() && view.empty.is_none());
    assert_eq!(view.updated, "waiting for the first answer");

    // The page asks for the token once; a wrong one is refused and asked
    // for again, the right one unlocks the list and is kept for the tab.
    assert_eq!(
        worker
            .post_report(&report(A, vec![miner("bitaxe", 1.2e12, "a.w")]))
            .status,
        200
    );
    page.enter_token("wrong");
    let view = page.wait_until("the refusal", FIRST_LOAD, |v| {
        v.error
            .as_deref()
            .is_some_and(|e| e.contains("That token was refused"))
    });
    assert!(view.jdcs.is_empty());
    page.enter_token("s3cret");
    let view = page.wait_until("the unlocked list", FIRST_LOAD, |v| v.jdcs.len() == 1);
    assert!(view.error.is_none(), "{:?}", view.error);
    assert_eq!(view.jdcs[0].identity, A);
    browser.goto(&format!("{}/", worker.base_url()));
    let view = page.wait_until("the list after a reload", FIRST_LOAD, |v| v.jdcs.len() == 1);
    assert!(view.error.is_none());
}

#[test]
fn markup_in_reports_is_shown_as_text_and_never_runs() {
    // Identities and miner strings come from JDCs: whatever they hold, the
    // page shows it as text.
    let worker = Worker::start();
    let identity = "bc1q<img/src=x/onerror=window.__pwned=1>";
    let script = "<script>window.__pwned=2</script><b>bold</b>";
    let mut m = miner(script, 1e12, "<i>worker</i>");
    m["firmware"] = json!("<img src=x onerror=window.__pwned=3>");
    assert_eq!(worker.post_report(&report(identity, vec![m])).status, 200);

    let browser = Browser::start();
    let page = InspectorPage::open(&browser, &worker.base_url());
    let view = page.wait_until("the JDC listed", FIRST_LOAD, |v| v.jdcs.len() == 1);
    assert_eq!(view.jdcs[0].identity, identity);
    // Open its row so the miners table (raw vendor, firmware, worker) renders.
    browser.click(".jdc summary");
    let view = page.wait_until("the miners table", FIRST_LOAD, |v| {
        v.jdcs.first().is_some_and(|c| !c.rows.is_empty())
    });
    let cells = view.jdcs[0].rows[0].join(" | ");
    assert!(cells.contains(script), "{cells}");
    assert!(cells.contains("<i>worker</i>"), "{cells}");
    let injected = browser.run(
        "return {pwned: window.__pwned ?? null,
                 elements: document.querySelectorAll('main img, main script, main b, main i').length}",
        json!([]),
    );
    assert_eq!(injected, json!({"pwned": null, "elements": 0}));
}
