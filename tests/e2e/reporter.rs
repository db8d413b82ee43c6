//! The JDC side end to end: the real jd_client_sv2 session log replayed
//! through the built `jdc-reporter` into the Worker under `wrangler dev`
//! renames the JDC's seeded `jd-client/sv2` rows and shows up in GET; a
//! refusal is logged with the Worker's own reason; SV1 devices behind the
//! real SRI translator rename the JDC by their own make, and a JDC whose only
//! devices are unknown ones behind a translator stays `jd-client/sv2`.
//!
//! The binary is taken from `JDC_REPORTER_BIN` (`scripts/test.sh` builds it
//! and sets it), else `target/debug/jdc-reporter`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dmr_tests::{insert_clients, pairs, repo_root, workspace_binary, ClientRow, Options, Worker};
use serde_json::{json, Value};

/// The JDC's pool address and the identity it mines with.
const ADDRESS: &str = "bc1qexampleaddr";
const IDENTITY: &str = "bc1qexampleaddr.jdc";
const OTHER: &str = "bc1qsomeoneelse";

fn fixture() -> String {
    let path = repo_root().join("reporter/tests/fixtures/jd_client_sv2-0.6.0-session.log");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture up to the JDC's shutdown: the bitaxe on downstream 2 is the
/// one miner still connected.
fn running(log: &str) -> &str {
    &log[..log
        .find("2026-11-24T18:36:54")
        .expect("the fixture's shutdown")]
}

/// A pool-mode jd-client config whose pool is the Worker, so the report URL
/// is derived exactly as an operator's would be.
fn jdc_config(dir: &Path, worker: &Worker) -> PathBuf {
    let port = worker.base_url().rsplit(':').next().unwrap().to_owned();
    let path = dir.join("jdc.toml");
    std::fs::write(
        &path,
        format!(
            r#"listening_address = "127.0.0.1:34265"
mode = "FULLTEMPLATE"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "127.0.0.1"
pool_port = {port}
jds_address = "127.0.0.1"
jds_port = 34264
user_identity = "{IDENTITY}"
"#
        ),
    )
    .unwrap();
    path
}

/// `jdc-reporter -c CONFIG --log LOG --from-start --once`.
fn replay(config: &Path, log: &Path) -> Output {
    replay_with_token(config, log, None)
}

/// The same, with `JDC_REPORTER_TOKEN` set to `token`.
fn replay_with_token(config: &Path, log: &Path, token: Option<&str>) -> Output {
    let mut command = Command::new(workspace_binary("JDC_REPORTER_BIN", "jdc-reporter"));
    command
        .arg("-c")
        .arg(config)
        .arg("--log")
        .arg(log)
        .args(["--from-start", "--once"])
        .env_remove("JDC_REPORTER_TOKEN");
    if let Some(token) = token {
        command.env("JDC_REPORTER_TOKEN", token);
    }
    command.output().expect("jdc-reporter runs")
}

fn start() -> Worker {
    start_with_vars(Vec::new())
}

fn start_with_vars(vars: Vec<(String, String)>) -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[
            ClientRow::live(ADDRESS, "jdc-1", "jd-client/sv2"),
            ClientRow::live(ADDRESS, "jdc-2", "jd-client/sv2"),
            ClientRow::live(OTHER, "other-1", "jd-client/sv2"),
        ])),
        vars,
        ..Options::default()
    })
}

#[test]
fn a_replayed_jdc_log_renames_the_jdc_rows_and_shows_in_get() {
    let worker = start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jdc.log");
    let fixture = fixture();
    std::fs::write(&log, running(&fixture)).unwrap();

    let output = replay(&jdc_config(dir.path(), &worker), &log);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jdc-reporter failed: {stderr}");
    assert!(
        stderr.contains("report sent miners=1 accepted=1 status=200"),
        "{stderr}"
    );

    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("jdc-1", "bitaxe/sv2"),
            ("jdc-2", "bitaxe/sv2"),
            ("other-1", "jd-client/sv2"),
        ])
    );

    let reports = worker.get_reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["jdcUserIdentity"], IDENTITY);
    assert_eq!(report["userAgent"], "bitaxe/sv2");
    assert_eq!(
        report["miners"],
        json!([{
            "vendor": "bitaxe",
            "hardwareVersion": "BM1370",
            "firmware": "",
            "deviceId": "",
            "nominalHashRate": 1_000_000_000_000u64,
            "userIdentity": "bc1qexampleaddr.bitaxe1",
            "connectedAt": "2026-11-24T18:36:28.978564Z"
        }])
    );
}

#[test]
fn the_whole_session_ends_empty_and_renames_nothing() {
    let worker = start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jdc.log");
    std::fs::write(&log, fixture()).unwrap();

    // The log ends with the JDC shutting down: nobody is connected.
    let output = replay(&jdc_config(dir.path(), &worker), &log);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jdc-reporter failed: {stderr}");
    assert!(stderr.contains("report sent miners=0"), "{stderr}");

    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("jdc-1", "jd-client/sv2"),
            ("jdc-2", "jd-client/sv2"),
            ("other-1", "jd-client/sv2"),
        ])
    );
    let reports = worker.get_reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["jdcUserIdentity"], IDENTITY);
    assert_eq!(reports[0]["miners"], Value::Array(vec![]));
}

#[test]
fn a_refused_report_is_logged_with_the_workers_reason_and_changes_nothing() {
    let worker = start_with_vars(vec![("REPORT_TOKEN".into(), "pool-s3cret".into())]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jdc.log");
    let fixture = fixture();
    std::fs::write(&log, running(&fixture)).unwrap();
    let config = jdc_config(dir.path(), &worker);

    let output = replay_with_token(&config, &log, Some("wrong"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The problem's detail, read from the RFC 9457 body; no raw JSON.
    assert!(
        stderr.contains("report refused miners=1 status=401 reason=\""),
        "{stderr}"
    );
    assert!(!stderr.contains("{\""), "raw JSON in the log: {stderr}");
    assert!(!stderr.contains("reason=\"HTTP 401"), "{stderr}");
    assert!(worker.kv_keys().is_empty(), "nothing stored");
    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("jdc-1", "jd-client/sv2"),
            ("jdc-2", "jd-client/sv2"),
            ("other-1", "jd-client/sv2"),
        ])
    );

    let output = replay_with_token(&config, &log, Some("pool-s3cret"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(worker.get_reports().len(), 1);
}

/// The real run behind an SRI translator (`reporter/tests/fixtures/translator`):
/// the pool address its JDC mines for.
const TPROXY_ADDRESS: &str = "bc1q9f9vj7spn8h7qda6pn8d4g4j99f0mn9lhwz55j";

fn translator_fixture(name: &str) -> String {
    let path = repo_root()
        .join("reporter/tests/fixtures/translator")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of a captured log written before 09:12:35, when every device
/// of the run was connected (lines without a timestamp go with the line
/// before them).
fn all_connected(log: &str) -> String {
    let mut kept = String::new();
    for line in log.lines() {
        if line
            .get(..4)
            .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
            && line.get(..19).is_some_and(|t| t >= "2026-12-07T09:12:35")
        {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// `jdc-reporter --once` on the JDC log `jdc`, with the translator's log
/// when given, reporting to `worker` as the run's JDC.
fn replay_behind_translator(worker: &Worker, jdc: &str, translator: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jdc.log"), jdc).unwrap();
    let mut command = Command::new(workspace_binary("JDC_REPORTER_BIN", "jdc-reporter"));
    command
        .current_dir(dir.path())
        .args(["--identity", &format!("{TPROXY_ADDRESS}.jdc")])
        .args([
            "--report-url",
            &format!("{}/api/downstream-report", worker.base_url()),
        ])
        .args(["--log", "jdc.log", "--once"])
        .env_remove("JDC_REPORTER_TOKEN");
    if let Some(text) = translator {
        std::fs::write(dir.path().join("tproxy.log"), text).unwrap();
        command.args(["--translator-log", "tproxy.log"]);
    }
    command.output().expect("jdc-reporter runs")
}

fn start_behind_translator() -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[
            ClientRow::live(TPROXY_ADDRESS, "jdc-1", "jd-client/sv2"),
            ClientRow::live(OTHER, "other-1", "jd-client/sv2"),
        ])),
        ..Options::default()
    })
}

#[test]
fn sv1_bitaxes_behind_a_translator_rename_the_jdc_to_bitaxe() {
    let worker = start_behind_translator();
    // Three bitaxes, cgminer, an Antminer S21 and a device with a hostile
    // user agent behind the real translator; a NerdQAxe++ on SV2.
    let output = replay_behind_translator(
        &worker,
        &all_connected(&translator_fixture("jd_client_sv2.log")),
        Some(&all_connected(&translator_fixture("translator_sv2.1.log"))),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jdc-reporter failed: {stderr}");
    assert!(
        stderr.contains("report sent miners=7 accepted=7 status=200"),
        "{stderr}"
    );
    assert_eq!(
        worker.user_agents(),
        pairs(&[("jdc-1", "bitaxe/sv2"), ("other-1", "jd-client/sv2")])
    );
    let reports = worker.get_reports();
    let miners = reports[0]["miners"].as_array().unwrap();
    let makes: Vec<(&str, &str)> = miners
        .iter()
        .map(|m| {
            (
                m["vendor"].as_str().unwrap(),
                m["via"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let via = "SRI Translator Proxy";
    assert_eq!(
        makes,
        [
            ("NerdQAxe++", ""),
            ("bitaxe", via),
            ("bitaxe", via),
            ("bitaxe", via),
            ("cgminer", via),
            ("Antminer", via),
            ("", via),
        ]
    );
    assert_eq!(reports[0]["userAgent"], "bitaxe/sv2");
}

#[test]
fn a_jdc_with_only_a_translator_whose_devices_are_unknown_stays_jd_client() {
    let worker = start_behind_translator();
    // The same run without the NerdQAxe++ (its setup and channel lines) and
    // without the translator's log: six channels whose makes are unknown.
    let jdc: String = all_connected(&translator_fixture("jd_client_sv2.log"))
        .lines()
        .filter(|l| !l.contains("NerdQAxe++") && !l.contains(".nerdqaxe1"))
        .map(|l| format!("{l}\n"))
        .collect();
    let output = replay_behind_translator(&worker, &jdc, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jdc-reporter failed: {stderr}");
    assert!(
        stderr.contains("report sent miners=6 accepted=6 status=200"),
        "{stderr}"
    );
    assert_eq!(
        worker.user_agents(),
        pairs(&[("jdc-1", "jd-client/sv2"), ("other-1", "jd-client/sv2")])
    );
    let reports = worker.get_reports();
    assert_eq!(reports[0]["userAgent"], Value::Null);
    assert!(reports[0]["miners"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["vendor"] == "" && m["via"] == "SRI Translator Proxy"));
}
