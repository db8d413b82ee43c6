//! The inspector page in a real headless Chromium, served by the Worker under
//! wrangler dev: it lists what was reported with the right counts and totals,
//! follows new, stale and gone JDCs across refreshes without losing open
//! rows, reads a JDC's full report once per summary and never shows one that
//! a newer summary overtook, filters, works from the keyboard and at phone
//! width, asks nothing of other origins, shows its loading, empty and error
//! states, and stays fast with 1,000 JDCs over 50 vendors (the render time
//! is printed, not asserted).
//!
//! Screenshots go to `test-artifacts/` (`inspector.png`, `inspector-phone.png`,
//! `inspector-error.png`).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dmr_shared::api::{kv_key, report_path, JDCS_PATH, REPORTS_PATH};
use dmr_shared::limits::STALE_AFTER_SECS;
use dmr_tests::browser::{Browser, InspectorPage, View, CLOCK_SHIFT, ENTER, LOADING_NOTE, TAB};
use dmr_tests::{miner, repo_root, report, Options, Worker};
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
                // An SV1 device behind the SRI translator whose make the
                // translator has not told yet.
                json!({
                    "vendor": "", "hardwareVersion": "", "firmware": "",
                    "deviceId": "", "nominalHashRate": 0.5e12,
                    "userIdentity": format!("{B}.mystery"), "connectedAt": "2026-02-15T11:30:00Z",
                    "via": "SRI Translator Proxy",
                }),
            ],
        ),
    );
}

/// A Worker with A and B reported, and a browser whose clock the test can
/// move ([`CLOCK_SHIFT`]).
fn a_and_b_reported() -> (Worker, Browser) {
    let worker = Worker::start();
    seed_a_and_b(&worker);
    let browser = Browser::start();
    browser.before_each_page(CLOCK_SHIFT);
    (worker, browser)
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

/// The workers in the open miners table of `identity`'s card.
fn workers(view: &View, identity: &str) -> Vec<String> {
    view.card(identity)
        .map(|c| c.rows.iter().map(|r| r[4].clone()).collect())
        .unwrap_or_default()
}

#[test]
fn every_live_jdc_shows_with_its_numbers_the_totals_and_the_vendor_chart() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
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
    assert!(!a.open && a.rows.is_empty() && a.note.is_none());
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
    assert_eq!(view.filter_count, "");
}

#[test]
fn a_device_behind_a_translator_shows_the_proxy_it_came_through() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    page.toggle_card(B);
    let view = page.wait_until("B's miners shown", NEXT_TICK, |v| {
        v.card(B).is_some_and(|c| c.open && c.rows.len() == 2)
    });
    let rows = &view.card(B).unwrap().rows;
    let nerd = rows
        .iter()
        .find(|r| r[4].ends_with(".nerd"))
        .expect("nerd row");
    let sv1 = rows
        .iter()
        .find(|r| r[4].ends_with(".mystery"))
        .expect("SV1 row");
    assert_eq!(nerd.last().map(String::as_str), Some("—"), "{nerd:?}");
    assert_eq!(
        sv1.last().map(String::as_str),
        Some("SRI Translator Proxy"),
        "{sv1:?}"
    );
    assert_eq!(sv1[0], "—", "its make is not known yet: {sv1:?}");
    // Read out as not known yet, not as not reported.
    assert_eq!(
        page.cell_label(B, ".mystery", 0).as_deref(),
        Some("not known yet")
    );
}

#[test]
fn a_row_opens_from_the_keyboard_onto_the_miners_of_its_full_report() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);

    // Tab reaches the filter, then A's row; Enter opens it.
    browser.press(&[TAB]);
    assert_eq!(page.focused()["id"], "filter", "{}", page.focused());
    browser.press(&[TAB]);
    assert_eq!(page.focused()["card"], A, "{}", page.focused());
    browser.press(&[ENTER]);
    let view = page.wait_until("A's miners shown", NEXT_TICK, |v| {
        v.card(A).is_some_and(|c| c.open && c.rows.len() == 2)
    });
    let a = view.card(A).unwrap();
    assert_eq!(a.note, None, "nothing to say above a full table");
    assert_eq!(
        a.rows[0][..6],
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
        a.rows[1][..6],
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
    assert!(a.rows[1][6].contains("2026-11-2"), "{:?}", a.rows[1][6]);
    assert!(
        a.rows[1][6].chars().next().unwrap().is_ascii_digit(),
        "{:?}",
        a.rows[1][6]
    );
    assert!(!view.card(B).unwrap().open);
}

#[test]
fn a_full_report_is_read_once_per_summary_and_nothing_from_other_origins() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    page.toggle_card(A);
    page.wait_until("A's miners shown", NEXT_TICK, |v| workers(v, A).len() == 2);

    // Two more polls since A's report was read: the page had two chances to
    // read it again, and did not, since A's summary did not change.
    let reads = |paths: &[String], path: &str| paths.iter().filter(|p| *p == path).count();
    let paths = browser.wait_for("two polls after the read", 2 * NEXT_REFRESH, || {
        let paths = page.requested_paths();
        let read = paths.iter().rposition(|p| *p == report_path(A));
        let polls_since = read.map_or(0, |i| reads(&paths[i..], JDCS_PATH));
        ((polls_since >= 2).then(|| paths.clone()), paths)
    });
    assert_eq!(reads(&paths, &report_path(A)), 1, "{paths:#?}");
    assert_eq!(reads(&paths, &report_path(B)), 0, "{paths:#?}");
    assert_eq!(reads(&paths, REPORTS_PATH), 0, "{paths:#?}");

    // A reports a third miner: the next poll brings a new summary, and the
    // open row reads the report again, once.
    post(
        &worker,
        report(
            A,
            vec![
                miner("bitaxe", 1.2e12, &format!("{A}.gamma")),
                miner("bitaxe", 0.8e12, &format!("{A}.ultra")),
                miner("bitaxe", 1e12, &format!("{A}.third")),
            ],
        ),
    );
    page.wait_until("A's third miner", NEXT_REFRESH, |v| {
        v.card(A).is_some_and(|c| c.miners == "3 miners") && workers(v, A).len() == 3
    });
    assert_eq!(reads(&page.requested_paths(), &report_path(A)), 2);

    let urls = page.requested_urls();
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{}/", page.origin())))
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");
}

/// Installed before the page: holds the answer to the next request for a
/// path the test names until the test releases it, and logs every request
/// (`window.__fetches`) and every state of the watched card's miners
/// (`window.__seen`).
const HOLD_AND_WATCH: &str = r#"
(() => {
  const realFetch = window.fetch.bind(window);
  const fetches = (window.__fetches = []);
  let hold = null;
  let release = null;
  window.__holdNextAnswer = (path) => { hold = path; };
  window.__releaseHeld = () => { const r = release; release = null; if (r) r(); return !!r; };
  window.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    const entry = { path: url.pathname, held: false, answered: false };
    fetches.push(entry);
    const response = await realFetch(input, init);
    if (hold === url.pathname) {
      hold = null;
      entry.held = true;
      await new Promise((resolve) => { release = resolve; });
    }
    entry.answered = true;
    return response;
  };
  const seen = (window.__seen = []);
  window.__watch = (identity) => {
    new MutationObserver(() => {
      const card = [...document.querySelectorAll('.jdc')].find((li) => li.dataset.identity === identity);
      if (!card) return;
      const state = JSON.stringify({
        summary: card.querySelector('.jdc-miners')?.textContent ?? null,
        note: card.querySelector('.card-note')?.textContent ?? null,
        workers: [...card.querySelectorAll('td.worker')].map((td) => td.textContent),
      });
      if (seen[seen.length - 1] !== state) seen.push(state);
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  };
})();
"#;

#[test]
fn an_open_row_never_shows_a_report_that_a_newer_summary_overtook() {
    let worker = Worker::start();
    post(
        &worker,
        report(A, vec![miner("bitaxe", 1e12, &format!("{A}.old"))]),
    );
    let browser = Browser::start();
    browser.before_each_page(HOLD_AND_WATCH);
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("A listed", FIRST_LOAD, |v| v.jdcs.len() == 1);
    browser.run("window.__watch(arguments[0])", json!([A]));

    // A's row opens; the read of its report (one miner, `.old`) is answered
    // by the Worker but held back from the page.
    let path = report_path(A);
    browser.run("window.__holdNextAnswer(arguments[0])", json!([path]));
    page.click_card(A);
    let fetches = || browser.run("return window.__fetches", json!([]));
    browser.wait_for("the held read", NEXT_TICK, || {
        let f = fetches();
        let held = f.as_array().unwrap().iter().any(|e| e["held"] == true);
        (held.then_some(()), f)
    });
    let view = page.view();
    assert_eq!(view.card(A).unwrap().note.as_deref(), Some(LOADING_NOTE));

    // Meanwhile A reports two other miners and the page polls the new
    // summary: the held answer is now overtaken.
    post(
        &worker,
        report(
            A,
            vec![
                miner("bitaxe", 1e12, &format!("{A}.new1")),
                miner("bitaxe", 1e12, &format!("{A}.new2")),
            ],
        ),
    );
    let view = page.wait_until("A's new summary", NEXT_REFRESH, |v| {
        v.card(A).is_some_and(|c| c.miners == "2 miners")
    });
    assert!(workers(&view, A).is_empty(), "{:?}", view.card(A));

    // The overtaken answer lands; the row ends with the new miners.
    assert_eq!(
        browser.run("return window.__releaseHeld()", json!([])),
        true
    );
    let view = page.wait_until("A's new miners", NEXT_REFRESH, |v| {
        workers(v, A) == [format!("{A}.new1"), format!("{A}.new2")]
    });
    assert_eq!(view.card(A).unwrap().note, None);

    // The page took the held answer in (it read A's report again only
    // after it) and never rendered it.
    let reads: Vec<Value> = fetches()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == path.as_str())
        .cloned()
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(
        (&reads[0]["held"], &reads[0]["answered"]),
        (&json!(true), &json!(true))
    );
    let seen: Vec<String> = serde_json::from_value(browser.run("return window.__seen", json!([])))
        .expect("a list of states");
    assert!(
        seen.iter().all(|s| !s.contains(".old")),
        "the overtaken report was shown: {seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.contains(r#""summary":"2 miners""#) && s.contains("Loading miners")),
        "{seen:#?}"
    );
}

#[test]
fn a_new_jdc_appears_at_the_next_refresh_and_open_rows_stay_open() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    page.toggle_card(A);
    page.wait_until("A's miners shown", NEXT_TICK, |v| workers(v, A).len() == 2);

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
    assert_eq!(workers(&view, A).len(), 2);
    assert_eq!(view.vendors[0].vendor, "Antminer S21");
}

#[test]
fn the_filter_matches_vendors_and_workers_of_open_rows_and_keeps_rows_open() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    page.toggle_card(A);
    page.wait_until("A's miners shown", NEXT_TICK, |v| workers(v, A).len() == 2);

    page.filter("nerd");
    let view = page.wait_until("only B matches", NEXT_TICK, |v| v.jdcs.len() == 1);
    assert_eq!(view.jdcs[0].identity, B);
    assert_eq!(view.filter_count, "1 of 2 JDCs match.");

    // Worker names are in the full reports, which the page reads for open
    // rows only: A is open, so its `ultra` matches, alone in its table.
    page.filter("ULTRA");
    let view = page.wait_until("only A's ultra", NEXT_TICK, |v| {
        v.jdcs.len() == 1 && v.jdcs[0].rows.len() == 1
    });
    assert_eq!(view.jdcs[0].identity, A);
    assert_eq!(view.jdcs[0].rows[0][4], format!("{A}.ultra"));
    assert_eq!(
        view.jdcs[0].note.as_deref(),
        Some("Showing 1 of 2 miners (filter).")
    );
    assert_eq!(view.filter_count, "1 of 2 JDCs match.");

    page.filter("nobody");
    let view = page.wait_until("nothing matches", NEXT_TICK, |v| v.jdcs.is_empty());
    assert_eq!(view.filter_count, "No JDC matches (of 2).");

    page.filter("");
    let view = page.wait_until("all listed again", NEXT_TICK, |v| v.jdcs.len() == 2);
    assert_eq!(view.filter_count, "");
    assert!(view.card(A).unwrap().open, "A closed itself while filtered");
    assert_eq!(workers(&view, A).len(), 2);
}

#[test]
fn a_jdc_turns_stale_when_its_report_ages_and_gone_when_it_expires() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);

    // C goes in at least GAP seconds after A, so the two can be told apart
    // by age.
    let at_a = received_at(&worker, A);
    if let Ok(wait) = (at_a + chrono::Duration::seconds(GAP) - Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    post(
        &worker,
        report(C, vec![miner("Antminer S21", 2.5e15, &format!("{C}.rig"))]),
    );
    page.wait_until("C listed", NEXT_REFRESH, |v| v.jdcs.len() == 3);
    let at_c = received_at(&worker, C);
    assert!(
        at_c - at_a >= chrono::Duration::seconds(GAP),
        "C was posted too soon after A"
    );

    // Stale: the page's clock runs until A's and B's stored reports are just
    // past the stale limit, while C, stored GAP s later, is still under it.
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

    // Its miners can no longer be read.
    page.toggle_card(B);
    let view = page.wait_until("B's note", NEXT_TICK, |v| {
        v.card(B).is_some_and(|c| c.open && c.note.is_some())
    });
    assert_eq!(
        view.card(B).unwrap().note.as_deref(),
        Some("Its report expired: its miners can no longer be read.")
    );

    // The picture: every state at once, A's and C's miners open. (The clock
    // is set again: waiting for B used up some of C's margin.)
    page.toggle_card(A);
    page.toggle_card(C);
    page.wait_until("A's and C's miners shown", NEXT_TICK, |v| {
        workers(v, A).len() == 2 && workers(v, C).len() == 1
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
}

#[test]
fn at_phone_width_nothing_is_wider_than_the_screen() {
    let (worker, browser) = a_and_b_reported();
    let page = InspectorPage::open(&browser, &worker.base_url());
    page.wait_until("both JDCs listed", FIRST_LOAD, |v| v.jdcs.len() == 2);
    // An open miners table is the widest thing on the page.
    page.toggle_card(A);
    page.wait_until("A's miners shown", NEXT_TICK, |v| workers(v, A).len() == 2);
    browser.set_window(390, 1400);
    page.wait_until("laid out for a phone", NEXT_TICK, |_| {
        !page.overflows_horizontally()
    });
    browser.screenshot(&artifact("inspector-phone.png"));
}

/// JDCs and vendors of the scale check.
const MANY_JDCS: usize = 1000;
const VENDORS: usize = 50;

/// Installed before the page: notes (`window.__perf`) when all
/// [`MANY_JDCS`] cards and the totals are in the DOM, every long task (over
/// 50 ms) of the main thread, and how long each tick of the page's
/// one-second clock keeps the main thread busy (its callback and the
/// effects it sets off, up to the next task).
const RENDER_WATCH: &str = r#"
(() => {
  const perf = (window.__perf = { rendered: null, longTasks: [], ticks: [] });
  const realSetInterval = window.setInterval.bind(window);
  const channel = new MessageChannel();
  const pending = [];
  channel.port1.onmessage = () => { const t = pending.shift(); perf.ticks.push({ start: t, duration: performance.now() - t }); };
  window.setInterval = (callback, ms, ...rest) => realSetInterval(() => {
    const started = performance.now();
    callback();
    if (ms === 1000) { pending.push(started); channel.port2.postMessage(null); }
  }, ms, ...rest);
  const expected = __EXPECTED__;
  const observer = new MutationObserver(() => {
    const list = document.getElementById('jdc-list');
    const total = document.getElementById('total-jdcs');
    if (list && list.childElementCount >= expected && total && total.textContent === String(expected)) {
      perf.rendered = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) perf.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
})();
"#;

/// Posts `reports` from a few threads at once.
fn post_all(worker: &Worker, reports: Vec<Value>) {
    const THREADS: usize = 4;
    let chunk = reports.len().div_ceil(THREADS);
    std::thread::scope(|s| {
        for part in reports.chunks(chunk) {
            s.spawn(move || part.iter().for_each(|r| post(worker, r.clone())));
        }
    });
}

#[test]
fn a_thousand_jdcs_over_fifty_vendors_render_with_the_top_vendors_charted() {
    // Many reports from one address: without the per-IP limit.
    let worker = Worker::start_with(Options {
        without_bindings: vec!["IP_RATE_LIMITER"],
        ..Options::default()
    });
    // JDC i runs two miners of vendor i % 50, each at (vendor + 1) TH/s:
    // every vendor has 40 miners and the larger numbers hash more.
    let reports = (0..MANY_JDCS)
        .map(|i| {
            let v = i % VENDORS;
            let name = format!("vendor-{v:02}");
            let rate = (v + 1) as f64 * 1e12;
            let id = format!("bc1qscale{i:04}");
            report(
                &id,
                vec![
                    miner(&name, rate, &format!("{id}.1")),
                    miner(&name, rate, &format!("{id}.2")),
                ],
            )
        })
        .collect();
    post_all(&worker, reports);

    let browser = Browser::start();
    browser.before_each_page(&RENDER_WATCH.replace("__EXPECTED__", &MANY_JDCS.to_string()));
    let page = InspectorPage::open(&browser, &worker.base_url());
    let perf = browser.wait_for("1,000 cards rendered", 3 * FIRST_LOAD, || {
        let perf = browser.run("return window.__perf", json!([]));
        (perf["rendered"].is_number().then(|| perf.clone()), perf)
    });

    // The chart: the top eight vendors, then one bar for the other 42.
    let view = page.view();
    let bars: Vec<&str> = view.vendors.iter().map(|v| v.vendor.as_str()).collect();
    assert_eq!(
        bars,
        [
            "vendor-49",
            "vendor-48",
            "vendor-47",
            "vendor-46",
            "vendor-45",
            "vendor-44",
            "vendor-43",
            "vendor-42",
            "(other)"
        ]
    );
    assert_eq!(view.vendors[8].numbers, "36.1 PH/s · 1680 miners (84%)");
    let totals = view.totals.clone().unwrap();
    assert_eq!(
        (totals.jdcs.as_str(), totals.miners.as_str()),
        ("1000", "2000")
    );
    assert_eq!(view.jdcs.len(), MANY_JDCS);
    // Cards far below the fold read as a user who scrolls to them sees them.
    let last = view.jdcs.last().unwrap();
    assert_eq!(
        (last.identity.as_str(), last.hash_rate.as_str()),
        ("bc1qscale0999", "100 TH/s")
    );
    assert!(
        view.jdcs.iter().all(|c| !c.hash_rate.is_empty()),
        "a card's hash rate read empty"
    );

    // The first render, timed in the page against the answer it rendered.
    let timing = browser.run(
        "const api = performance.getEntriesByType('resource')
           .filter((e) => new URL(e.name).pathname === arguments[0]);
         const nav = performance.getEntriesByType('navigation')[0];
         return { sent: api[0].startTime, answered: api[0].responseEnd,
                  bytes: api[0].decodedBodySize, loaded: nav.loadEventEnd };",
        json!([JDCS_PATH]),
    );
    let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let rendered = ms(&perf["rendered"]);
    let answered = ms(&timing["answered"]);
    println!(
        "inspector, {MANY_JDCS} JDCs over {VENDORS} vendors: first render {:.0} ms after the \
         answer ({} bytes, asked at {:.0} ms, answered at {:.0} ms), all cards in the DOM at \
         {:.0} ms after navigation",
        rendered - answered,
        timing["bytes"],
        ms(&timing["sent"]),
        answered,
        rendered,
    );

    // Filtering all 1,000 cards, timed from the input event to the count.
    let filtered = browser.run(
        "const [query, expected] = arguments;
         const input = document.getElementById('filter');
         const count = document.getElementById('filter-count');
         return new Promise((resolve) => {
           const started = performance.now();
           const observer = new MutationObserver(() => {
             if (count.textContent === expected) {
               observer.disconnect();
               resolve(performance.now() - started);
             }
           });
           observer.observe(count, { childList: true, subtree: true, characterData: true });
           input.value = query;
           input.dispatchEvent(new Event('input', { bubbles: true }));
         });",
        json!(["vendor-07", "20 of 1000 JDCs match."]),
    );
    let shown = page.view().jdcs.len();
    assert_eq!(shown, MANY_JDCS / VENDORS);
    println!(
        "inspector, filter over {MANY_JDCS} JDCs: {:.0} ms from the keystroke to the count",
        ms(&filtered)
    );

    // Steady state: long tasks while the page polls twice more and its clock
    // ticks every second.
    let polls = |p: &InspectorPage| {
        p.requested_paths()
            .iter()
            .filter(|path| *path == JDCS_PATH)
            .count()
    };
    let before = polls(&page);
    let since = browser.run("return performance.now()", json!([]));
    browser.wait_for("two more polls", 3 * NEXT_REFRESH, || {
        let n = polls(&page);
        ((n >= before + 2).then_some(()), n)
    });
    let steady = browser.run(
        "const since = arguments[0];
         const tasks = window.__perf.longTasks.filter((t) => t.start >= since);
         const ticks = window.__perf.ticks.filter((t) => t.start >= since)
           .map((t) => t.duration).sort((a, b) => a - b);
         return { long: tasks.length, longest: Math.max(0, ...tasks.map((t) => t.duration)),
                  span: performance.now() - since, ticks: ticks.length,
                  median: ticks[Math.floor(ticks.length / 2)] ?? null, slowest: ticks[ticks.length - 1] ?? null };",
        json!([since]),
    );
    println!(
        "inspector, steady state with {MANY_JDCS} JDCs over {:.0} ms: clock tick median {:.1} ms, \
         slowest {:.1} ms ({} ticks); {} long tasks, longest {:.0} ms",
        ms(&steady["span"]),
        ms(&steady["median"]),
        ms(&steady["slowest"]),
        steady["ticks"],
        steady["long"],
        ms(&steady["longest"]),
    );
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
