//! SV1 devices behind the SRI translator, replayed from a real run
//! (`fixtures/translator/`, recreated by `reporter/capture/capture.sh`): the
//! real jd_client_sv2 0.6.0 with a NerdQAxe++ on SV2 (channel 2, the same
//! number as the translator's first channel) and the real translator_sv2
//! 0.6.0 with six SV1 devices (three bitaxes, cgminer, an Antminer S21, and
//! one whose user agent carries a line break and a forged subscribe line).
//! Along the run: bitaxe2 leaves and comes back, the translator restarts and
//! everyone reconnects. Both logs are replayed up to each step of the
//! timeline, and the translator's API answers captured at that step are
//! applied.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use dmr_shared::{majority_vendor, Miner};
use jdc_reporter::feed::{Feed, Source};
use jdc_reporter::translator::api::parse_page;
use serde_json::Value;

mod common;
use common::{write, Receiver};

const ACCOUNT: &str = "bc1q9f9vj7spn8h7qda6pn8d4g4j99f0mn9lhwz55j";
const VIA: &str = "SRI Translator Proxy";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/translator")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The translator's output across its restart, as one appended log.
fn translator_log() -> String {
    fixture("translator_sv2.1.log") + &fixture("translator_sv2.2.log")
}

/// The lines of `text` logged before `cutoff` (lines without a timestamp
/// go with the line before them), as the file was at that time.
fn before(text: &str, cutoff: &str) -> String {
    let mut kept = String::new();
    for line in text.lines() {
        if line
            .get(..4)
            .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
            && line.get(..cutoff.len()).is_some_and(|t| t >= cutoff)
        {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// Feeds the lines of `text` logged before `cutoff`.
fn feed_until(feed: &mut Feed, source: Source, text: &str, cutoff: &str) {
    for line in before(text, cutoff).lines() {
        feed.line_of(source, line);
    }
    feed.flush_of(source);
}

/// The report's miners with both logs read up to `cutoff`, and the
/// translator's API answer `api` (a fixture) applied if given.
fn miners_at(cutoff: &str, api: Option<&str>) -> Vec<Miner> {
    let mut feed = Feed::new(false);
    feed_until(
        &mut feed,
        Source::Jdc,
        &fixture("jd_client_sv2.log"),
        cutoff,
    );
    feed_until(&mut feed, Source::Translator, &translator_log(), cutoff);
    if let Some(name) = api {
        let clients = parse_page(fixture(name).as_bytes()).unwrap();
        let now = Instant::now();
        feed.devices_mut()
            .reconcile(&clients, now, now - Duration::from_secs(30));
    }
    feed.miners()
}

/// (vendor, hardware, worker, via) of each miner.
fn rows(miners: &[Miner]) -> Vec<(String, String, String, Option<String>)> {
    miners
        .iter()
        .map(|m| {
            (
                m.vendor.clone(),
                m.hardware_version.clone(),
                m.user_identity.clone(),
                m.via.clone(),
            )
        })
        .collect()
}

fn nerdqaxe() -> (String, String, String, Option<String>) {
    (
        "NerdQAxe++".into(),
        "BM1370".into(),
        format!("{ACCOUNT}.nerdqaxe1"),
        None,
    )
}

fn sv1(vendor: &str, hardware: &str, worker: &str) -> (String, String, String, Option<String>) {
    (
        vendor.into(),
        hardware.into(),
        format!("{ACCOUNT}.{worker}"),
        Some(VIA.into()),
    )
}

fn everyone(bitaxe2_last: bool) -> Vec<(String, String, String, Option<String>)> {
    let mut all = vec![
        nerdqaxe(),
        sv1("bitaxe", "BM1370", "bitaxe1"),
        sv1("bitaxe", "BM1370", "bitaxe2"),
        sv1("bitaxe", "BM1370", "bitaxe3"),
        sv1("cgminer", "", "cgminer1"),
        sv1("Antminer", "S21", "s21"),
        // Its user agent spans lines: not believed, never SRI.
        sv1("", "", "evil1"),
    ];
    if bitaxe2_last {
        let b2 = all.remove(2);
        all.push(b2);
    }
    all
}

#[test]
fn each_sv1_device_is_reported_with_its_own_make_through_the_run() {
    // Step 1: everyone connected.
    let all = miners_at("2026-12-07T09:12:35", None);
    assert_eq!(rows(&all), everyone(false));
    assert!(all.iter().all(|m| m.vendor != "SRI"));
    assert_eq!(majority_vendor(&all).as_deref(), Some("bitaxe"));
    // Each SV1 device's own connection time, from the translator's log.
    assert_eq!(all[1].connected_at, "2026-12-07T09:12:20.142492Z");
    assert_eq!(all[1].firmware, "v2.14.0");
    assert_eq!(all[5].firmware, "Mon Jan 15 10:00:00 CST 2024");

    // Step 2: bitaxe2 left the translator; the translator stayed up.
    let mut without = everyone(false);
    without.remove(2);
    assert_eq!(rows(&miners_at("2026-12-07T09:12:50", None)), without);

    // Step 3: bitaxe2 is back, as a new connection (and a new channel).
    let back = miners_at("2026-12-07T09:13:05", None);
    assert_eq!(rows(&back), everyone(true));
    assert_eq!(back[6].connected_at, "2026-12-07T09:12:59.166411Z");

    // Step 4: the translator stopped: only the SV2 device is left.
    assert_eq!(rows(&miners_at("2026-12-07T09:13:20", None)), [nerdqaxe()]);

    // Step 5: restarted, everyone reconnected (miner1.. again, new ids).
    assert_eq!(
        rows(&miners_at("2026-12-07T09:13:41", None)),
        everyone(false)
    );

    // The end: everyone hung up, the JDC stopped.
    assert_eq!(rows(&miners_at("2026-12-07T09:14", None)), []);
}

#[test]
fn the_translators_api_gives_names_rates_and_departures_without_its_log() {
    // The JDC's log and the API alone: devices are found by channel id.
    let mut feed = Feed::new(false);
    feed_until(
        &mut feed,
        Source::Jdc,
        &fixture("jd_client_sv2.log"),
        "2026-12-07T09:12:50",
    );
    let before = feed.miners();
    assert_eq!(before.len(), 6, "bitaxe2's channel closed on the JDC too");
    assert!(before[1..]
        .iter()
        .all(|m| m.vendor.is_empty() && m.via.as_deref() == Some(VIA)));

    let clients =
        parse_page(fixture("02-bitaxe2-gone.translator-sv1-clients.json").as_bytes()).unwrap();
    let now = Instant::now();
    feed.devices_mut()
        .reconcile(&clients, now, now - Duration::from_secs(30));
    let workers: Vec<String> = feed.miners().into_iter().map(|m| m.user_identity).collect();
    let want: Vec<String> = [
        "nerdqaxe1",
        "bitaxe1",
        "bitaxe3",
        "cgminer1",
        "s21",
        "evil1",
    ]
    .iter()
    .map(|w| format!("{ACCOUNT}.{w}"))
    .collect();
    assert_eq!(workers, want);
    // No telemetry, no agent: the make stays unknown, never SRI.
    assert!(feed.miners()[1..].iter().all(|m| m.vendor.is_empty()));
}

#[test]
fn telemetry_the_api_matched_wins_over_the_user_agent() {
    // The captured answer, with the translator's miner telemetry matched for
    // bitaxe1 (client 1), as the API documents it.
    let mut answer: Value =
        serde_json::from_str(&fixture("01-all-connected.translator-sv1-clients.json")).unwrap();
    for item in answer["items"].as_array_mut().unwrap() {
        if item["client_id"] == 1 {
            item["miner_telemetry"] = serde_json::json!({
                "make": "Bitaxe", "model": "Gamma 601", "firmware_version": "v2.14.0",
                "reported_hashrate_hs": 1.2e12, "power_consumption_w": 17.5,
                "efficiency_j_per_th": 14.6, "average_temperature_c": 55.0,
                "uptime_secs": 3600, "is_mining": true
            });
            item["miner_telemetry_status"] = "matched".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "api.json", &answer.to_string());
    let mut feed = Feed::new(false);
    feed_until(
        &mut feed,
        Source::Jdc,
        &fixture("jd_client_sv2.log"),
        "2026-12-07T09:12:35",
    );
    feed_until(
        &mut feed,
        Source::Translator,
        &translator_log(),
        "2026-12-07T09:12:35",
    );
    let now = Instant::now();
    let clients = parse_page(answer.to_string().as_bytes()).unwrap();
    feed.devices_mut()
        .reconcile(&clients, now, now - Duration::from_secs(30));
    let miners = feed.miners();
    assert_eq!(
        (
            miners[1].vendor.as_str(),
            miners[1].hardware_version.as_str()
        ),
        ("Bitaxe", "Gamma 601")
    );
    assert_eq!(
        miners[2].vendor, "bitaxe",
        "the others keep their agent's make"
    );
}

#[test]
fn the_binary_reads_both_logs_and_the_api_and_reports_once() {
    let dir = tempfile::tempdir().unwrap();
    // The run up to step 1, as the files would be then.
    let cut = |text: &str| before(text, "2026-12-07T09:12:35");
    write(dir.path(), "jdc.log", &cut(&fixture("jd_client_sv2.log")));
    write(
        dir.path(),
        "tproxy.log",
        &cut(&fixture("translator_sv2.1.log")),
    );
    // The translator's API, served as captured, with bitaxe3's telemetry
    // matched.
    let mut answer: Value =
        serde_json::from_str(&fixture("01-all-connected.translator-sv1-clients.json")).unwrap();
    for item in answer["items"].as_array_mut().unwrap() {
        if item["client_id"] == 3 {
            item["miner_telemetry"] = serde_json::json!({"make": "Bitaxe", "model": "Gamma", "firmware_version": "v2.14.0"});
            item["miner_telemetry_status"] = "matched".into();
        }
    }
    let api = Receiver::start();
    api.route("/api/v1/sv1/clients", &answer.to_string());
    write(
        dir.path(),
        "tproxy.toml",
        &format!("monitoring_address = \"127.0.0.1:{}\"\n", api.port),
    );
    let out = cargo_bin_cmd!("jdc-reporter")
        .current_dir(dir.path())
        .args(["--identity", "bc1qexampleaddr.jdc", "--log", "jdc.log"])
        .args([
            "--translator-log",
            "tproxy.log",
            "--translator-config",
            "tproxy.toml",
        ])
        .args(["--once", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let miners = report["miners"].as_array().unwrap();
    let vendors: Vec<&str> = miners
        .iter()
        .map(|m| m["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(
        vendors,
        [
            "NerdQAxe++",
            "bitaxe",
            "bitaxe",
            "Bitaxe",
            "cgminer",
            "Antminer",
            ""
        ]
    );
    assert_eq!(miners[3]["hardwareVersion"], "Gamma");
    assert_eq!(miners[1]["via"], VIA);
    assert!(miners[0].get("via").is_none());
    assert_eq!(api.gets(), 1, "the API is read once, before the report");
}
