//! The reporter following a log file while a "JDC" writes it: lines are
//! appended in steps, the file is rotated and truncated under it, and a local
//! HTTP receiver on 127.0.0.1 gets the reports each step should produce. A
//! short `--interval` stands in for the minute. "Nothing was sent" is
//! checked after report ticks went by, which the receiver sees: the reporter
//! asks it, as its `--monitoring-url`, once per tick (and is told 404, so
//! the log alone decides).

mod common;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

const INTERVAL: &str = "250ms";
const WAIT: Duration = Duration::from_secs(15);

/// Kills the reporter when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// The fixture's lines logged in `[from, to)` (timestamp prefixes).
fn lines_between(from: &str, to: &str) -> String {
    FIXTURE
        .lines()
        .filter(|l| l.get(..from.len()).is_some_and(|t| t >= from))
        .filter(|l| l.get(..to.len()).is_some_and(|t| t < to))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn miners(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, u)| (v.to_string(), u.to_string()))
        .collect()
}

#[test]
fn following_a_log_through_appends_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("jdc.log");
    // What the JDC logged before the reporter started: not replayed.
    append(
        &log,
        &lines_between("2026-11-24T18:36:04", "2026-11-24T18:36:13"),
    );

    let pool = Receiver::start();
    let config = config_per_upstream(dir.path(), pool.port);
    let mut child = Command::new(env!("CARGO_BIN_EXE_jdc-reporter"))
        .arg("-c")
        .arg(&config)
        .arg("--log")
        .arg(&log)
        .args(["--interval", INTERVAL, "--verbose", "--monitoring-url"])
        .arg(pool.base_url())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the start-up line, then for two ticks: the file is open at
    // its end, and the first tick had nothing to send.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut stderr_lines = stderr.lines();
    let first = stderr_lines.next().unwrap().unwrap();
    assert!(first.contains("from its end"), "{first}");
    std::thread::spawn(move || stderr_lines.for_each(|l| eprintln!("reporter: {}", l.unwrap())));
    let mut running = Running(child);
    pool.wait_for_gets(0, 2, WAIT);
    assert!(
        pool.requests().is_empty(),
        "no miners seen yet: nothing to report"
    );

    // The translator connects with two extended channels. The bitaxe that
    // connected before the reporter started is unknown to it.
    append(
        &log,
        &lines_between("2026-11-24T18:36:13", "2026-11-24T18:36:16"),
    );
    let two_sri = miners(&[
        ("", "bc1qexampleaddr.miner1"),
        ("", "bc1qexampleaddr.miner2"),
    ]);
    let requests = pool.wait_for(WAIT, "the translator's two miners", |r| {
        r.last().is_some_and(|r| r.miners() == two_sri)
    });
    let report = requests.last().unwrap().json();
    assert_eq!(report["jdcUserIdentity"], IDENTITY);
    assert_eq!(
        report["miners"][0]["connectedAt"],
        "2026-11-24T18:36:14.580283Z"
    );

    // Rotation: the old file moves away, the JDC writes a new one.
    std::fs::rename(&log, dir.path().join("jdc.log.1")).unwrap();
    append(
        &log,
        &lines_between("2026-11-24T18:36:16", "2026-11-24T18:36:30"),
    );
    let three = miners(&[
        ("", "bc1qexampleaddr.miner1"),
        ("", "bc1qexampleaddr.miner2"),
        ("bitaxe", "bc1qexampleaddr.bitaxe1"),
    ]);
    pool.wait_for(WAIT, "the bitaxe back on downstream 2", |r| {
        r.last().is_some_and(|r| r.miners() == three)
    });

    // Truncation in place (copytruncate), then the translator leaves; a
    // half-written line is held back until its newline arrives.
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    let rest = lines_between("2026-11-24T18:36:30", "2026-11-24T18:36:54");
    append(&log, &rest);
    let one = miners(&[("bitaxe", "bc1qexampleaddr.bitaxe1")]);
    pool.wait_for(WAIT, "only the bitaxe", |r| {
        r.last().is_some_and(|r| r.miners() == one)
    });

    // The JDC shuts down: one empty report, then quiet.
    append(
        &log,
        &lines_between("2026-11-24T18:36:54", "2026-11-24T18:37"),
    );
    let requests = pool.wait_for(WAIT, "an empty report", |r| {
        r.last().is_some_and(|r| r.miners().is_empty())
    });
    let count = requests.len();
    pool.wait_for_gets(pool.gets(), 3, WAIT);
    assert_eq!(
        pool.requests().len(),
        count,
        "nothing more to say after the empty report"
    );

    // A restarted JDC: ids start over. The new miner's line arrives in two
    // writes; its first part would parse, as downstream 1.
    let restart = "2026-11-24T19:00:00.000000Z  INFO jd_client_sv2::channel_manager: Starting downstream server at 127.0.0.1:34265\n\
2026-11-24T19:00:05.100000Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: NerdQAxe++, hardware_version: BM1370, firmware: v1.0, device_id: )\n";
    let open = "2026-11-24T19:00:05.400000Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.nerd, nominal_hash_rate: 4800000000000, max_target: U256(ff)) downstream_id=12";
    append(&log, restart);
    append(&log, &open[..open.len() - 1]);
    pool.wait_for_gets(pool.gets(), 3, WAIT);
    assert_eq!(pool.requests().len(), count, "a partial line is not parsed");
    append(&log, "2\n");
    let requests = pool.wait_for(WAIT, "the NerdQAxe after the restart", |r| {
        r.last()
            .is_some_and(|r| r.miners() == miners(&[("NerdQAxe++", "bc1qexampleaddr.nerd")]))
    });
    assert_eq!(requests.len(), count + 1);

    // SIGTERM stops a follower cleanly.
    #[cfg(unix)]
    {
        terminate(&running.0);
        assert!(running.0.wait().unwrap().success());
    }
}

#[test]
fn the_monitoring_api_drops_miners_the_log_did_not_see_leave() {
    let dir = tempfile::tempdir().unwrap();
    // The bitaxe and the translator's two channels are connected as far as
    // the log says.
    let log = dir.path().join("jdc.log");
    append(
        &log,
        &lines_between("2026-11-24T18:36:04", "2026-11-24T18:36:16"),
    );
    let pool = Receiver::start();
    // The JDC's monitoring API, refreshed every second: only the translator
    // is still there, with one of its two channels.
    let api = Receiver::start();
    api.route(
        "/api/v1/clients",
        r#"{"offset":0,"limit":100,"total":1,"items":[{"client_id":1,"client_kind":"translator_proxy","extended_channels_count":1,"standard_channels_count":0,"total_hashrate":500000000000.0}]}"#,
    );
    api.route(
        "/api/v1/clients/1/channels",
        r#"{"client_id":1,"offset":0,"limit":100,"total_extended":1,"total_standard":0,"extended_channels":[{"channel_id":3,"user_identity":"bc1qexampleaddr.miner2","nominal_hashrate":500000000000.0}],"standard_channels":[]}"#,
    );
    let config = config_per_upstream(dir.path(), pool.port);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace(
        "mode = \"FULLTEMPLATE\"",
        "mode = \"FULLTEMPLATE\"\nmonitoring_cache_refresh_secs = 1",
    );
    std::fs::write(&config, text).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_jdc-reporter"))
        .arg("-c")
        .arg(&config)
        .arg("--log")
        .arg(&log)
        .args(["--from-start", "--interval", INTERVAL, "--monitoring-url"])
        .arg(api.base_url())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);

    // Fresh from the log: trusted over the API for two refreshes.
    let requests = pool.wait_for(WAIT, "a first report", |r| !r.is_empty());
    assert_eq!(requests[0].miners().len(), 3);
    pool.wait_for(WAIT, "the API's view", |r| {
        r.last()
            .is_some_and(|r| r.miners() == miners(&[("", "bc1qexampleaddr.miner2")]))
    });
}
