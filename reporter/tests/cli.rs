//! The built `jdc-reporter` binary, run in a temp dir: its flags, its errors
//! (sentences with a hint, and exit codes that mean something), dry runs,
//! one-shot reports to a local receiver, and the JDC run as a child.

mod common;

use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use common::*;

fn reporter() -> Command {
    let mut cmd = cargo_bin_cmd!("jdc-reporter");
    cmd.env_remove("JDC_REPORTER_TOKEN")
        .timeout(Duration::from_secs(30));
    cmd
}

/// A temp dir holding the running log (`running.log`), the full fixture
/// (`session.log`) and the solo config.
fn workdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "running.log", running_log());
    write(dir.path(), "session.log", FIXTURE);
    write(dir.path(), "solo.toml", SOLO_CONFIG);
    dir
}

/// A stand-in for jd_client_sv2: a script in `dir` that runs `body` and,
/// like the JDC, takes `-c CONFIG` (and ignores it).
#[cfg(unix)]
fn fake_jdc(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, "fake-jdc", &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn help_documents_every_flag_and_the_exit_codes() {
    let assert = reporter().arg("--help").assert().success();
    let help = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for flag in [
        "--log",
        "--from-start",
        "--jdc-config",
        "--identity",
        "--report-url",
        "--token",
        "--token-file",
        "--allow-insecure-token",
        "JDC_REPORTER_TOKEN",
        "--interval",
        "--monitoring-url",
        "--once",
        "--dry-run",
        "--verbose",
        "Exit status",
        "-- jd_client_sv2 -c jdc.toml",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    reporter()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("jdc-reporter "));
}

#[test]
fn a_dry_run_prints_the_report_from_a_replayed_log() {
    let dir = workdir();
    for config in [
        config_per_upstream(dir.path(), 9),
        config_older(dir.path(), 9),
    ] {
        let output = reporter()
            .current_dir(dir.path())
            .arg("-c")
            .arg(&config)
            .args(["--log", "running.log", "--once", "--dry-run"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = stdout_json(&output);
        assert_eq!(report["schemaVersion"], 1);
        assert_eq!(report["jdcUserIdentity"], IDENTITY);
        assert_eq!(
            report["miners"],
            serde_json::json!([{
                "vendor": "bitaxe",
                "hardwareVersion": "BM1370",
                "firmware": "",
                "deviceId": "",
                "nominalHashRate": 1000000000000u64,
                "userIdentity": "bc1qexampleaddr.bitaxe1",
                "connectedAt": "2026-11-24T18:36:28.978564Z"
            }])
        );
        // The report is what the pool accepts.
        dmr_shared::parse_report(&output.stdout).unwrap();
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("report printed miners=1 (dry run)")
        );
    }
}

#[test]
fn a_dry_run_reads_standard_input_and_takes_identity_overrides() {
    let dir = workdir();
    let config = config_per_upstream(dir.path(), 9);
    let output = reporter()
        .arg("-c")
        .arg(&config)
        .args(["--once", "--dry-run", "--identity", "bc1qother"])
        .write_stdin(FIXTURE)
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = stdout_json(&output);
    assert_eq!(report["jdcUserIdentity"], "bc1qother");
    // The whole session ends with the JDC shutting down: nobody is left.
    assert_eq!(report["miners"], serde_json::json!([]));
    // No config needed when the flags say it all.
    let output = reporter()
        .args(["--once", "--dry-run", "--identity", "bc1qother"])
        .write_stdin(running_log())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(stdout_json(&output)["miners"].as_array().unwrap().len(), 1);
}

#[test]
fn config_problems_are_sentences_with_a_hint_and_exit_3() {
    let dir = workdir();
    let no_identity = write(
        dir.path(),
        "no-identity.toml",
        "[[upstreams]]\npool_address = \"pool.example.com\"\npool_port = 3333\n",
    );
    let no_pool = write(dir.path(), "no-pool.toml", "user_identity = \"bc1q\"\n");
    let good = config_per_upstream(dir.path(), 9);
    let good = good.to_str().unwrap();
    let tproxy_silent = write(dir.path(), "tproxy.toml", "downstream_port = 34255\n");
    let tproxy_odd = write(dir.path(), "tproxy-odd.toml", "monitoring_address = 9092\n");
    let broken = write(dir.path(), "broken.toml", "mode = \n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["-c", "missing.toml"],
            "error: cannot read the jd-client config missing.toml: no such file",
        ),
        (
            vec!["-c", broken.to_str().unwrap()],
            "not a valid TOML file",
        ),
        (
            vec!["-c", "solo.toml"],
            "solo.toml runs the JDC in SOLOMINING mode: there is no pool to report to",
        ),
        (
            vec!["-c", no_identity.to_str().unwrap()],
            "has no user_identity",
        ),
        (vec!["-c", no_pool.to_str().unwrap()], "names no pool"),
        (
            vec!["-c", good, "--translator-config", "missing-tproxy.toml"],
            "cannot read the translator config missing-tproxy.toml",
        ),
        (
            vec![
                "-c",
                good,
                "--translator-config",
                tproxy_silent.to_str().unwrap(),
            ],
            "has no monitoring_address: the translator serves no API",
        ),
        (
            vec![
                "-c",
                good,
                "--translator-config",
                tproxy_odd.to_str().unwrap(),
            ],
            "monitoring_address is not a string",
        ),
        (
            vec![
                "-c",
                no_pool.to_str().unwrap(),
                "--identity",
                "bc1q x",
                "--report-url",
                "http://127.0.0.1:9/",
            ],
            "cannot be reported: jdcUserIdentity: must not contain whitespace",
        ),
    ];
    for (args, message) in cases {
        reporter()
            .current_dir(dir.path())
            .args(&args)
            .args(["--log", "running.log", "--once"])
            .assert()
            .code(3)
            .stdout("")
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("\n  hint: "));
    }
}

#[test]
fn command_line_mistakes_exit_2() {
    let dir = workdir();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--interval", "5 parsecs", "--log", "x"], "--interval"),
        (vec!["--interval", "10ms", "--log", "x"], "too short"),
        (vec!["--interval", "25h", "--log", "x"], "too long"),
        (
            vec!["--interval", "500000000000h", "--log", "x"],
            "too long",
        ),
        (
            vec!["--translator-api", "tproxy:9092", "--log", "x"],
            "--translator-api",
        ),
        (
            vec!["--report-url", "ftp://pool/x", "--log", "x"],
            "not an http:// or https:// URL",
        ),
        (vec!["--from-start"], "--log"),
        (vec!["--once", "--", "jd_client_sv2"], "--once"),
        (vec!["--log", "x", "--", "jd_client_sv2"], "--log"),
        (vec!["--once"], "there is no identity to report as"),
        (
            vec!["--once", "--identity", "bc1q"],
            "there is no pool to report to",
        ),
    ];
    for (args, message) in cases {
        reporter()
            .current_dir(dir.path())
            .args(&args)
            .write_stdin("")
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn a_missing_log_exits_4() {
    let dir = workdir();
    let config = config_per_upstream(dir.path(), 9);
    reporter()
        .current_dir(dir.path())
        .arg("-c")
        .arg(&config)
        .args(["--log", "nope.log", "--once"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "cannot read the log nope.log: no such file",
        ));
}

#[test]
fn once_posts_to_the_pool_named_in_the_config() {
    let dir = workdir();
    let pool = Receiver::start();
    // No --report-url: http://{pool_address}:{pool_port}/api/downstream-report.
    for config in [
        config_per_upstream(dir.path(), pool.port),
        config_older(dir.path(), pool.port),
    ] {
        reporter()
            .current_dir(dir.path())
            .arg("-c")
            .arg(&config)
            .args(["--log", "running.log", "--once"])
            .env("JDC_REPORTER_TOKEN", "s3cret")
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains(
                "report sent miners=1 accepted=1 status=200",
            ));
    }
    let requests = pool.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/api/downstream-report")
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(request.json()["jdcUserIdentity"], IDENTITY);
        assert_eq!(
            request.miners(),
            [("bitaxe".to_owned(), "bc1qexampleaddr.bitaxe1".to_owned())]
        );
    }
}

#[test]
fn a_refused_or_undeliverable_report_exits_1() {
    let dir = workdir();
    let pool = Receiver::start();
    pool.set_status(401);
    reporter()
        .current_dir(dir.path())
        .args([
            "--identity",
            IDENTITY,
            "--report-url",
            &pool.url(),
            "--log",
            "running.log",
            "--once",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the pool refused the report: HTTP 401",
        ))
        .stderr(predicate::str::contains("test receiver says no"))
        .stderr(predicate::str::contains(
            "hint: the pool may require a token",
        ));
    assert_eq!(pool.requests().len(), 1, "a refusal is not retried");

    // Nothing listens on the port a closed receiver had.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/api/downstream-report",
        closed.local_addr().unwrap()
    );
    drop(closed);
    reporter()
        .current_dir(dir.path())
        .args([
            "--identity",
            IDENTITY,
            "--report-url",
            &url,
            "--log",
            "running.log",
            "--once",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the report could not be delivered to",
        ))
        .stderr(predicate::str::contains("connection refused"));
}

#[cfg(unix)]
#[test]
fn a_solo_mining_jdc_is_passed_through_unreported() {
    let dir = workdir();
    let jdc = fake_jdc(dir.path(), "printf 'out\\n'; printf 'err\\n' >&2; exit 7");
    reporter()
        .current_dir(dir.path())
        .arg("--")
        .arg(&jdc)
        .args(["-c", "solo.toml"])
        .assert()
        .code(7)
        .stdout("out\n")
        .stderr(predicate::str::contains("err\n"))
        .stderr(predicate::str::contains(
            "SOLOMINING mode: there is no pool to report to; running the JDC without reporting",
        ));
}

#[cfg(unix)]
#[test]
fn a_child_jdc_is_passed_through_and_reported() {
    let dir = workdir();
    let pool = Receiver::start();
    let config = config_per_upstream(dir.path(), pool.port);
    let jdc = fake_jdc(dir.path(), "cat running.log; sleep 1.5; exit 5");
    let output = reporter()
        .current_dir(dir.path())
        .arg("-c")
        .arg(&config)
        .args(["--interval", "200ms", "--"])
        .arg(&jdc)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.stdout,
        running_log().as_bytes(),
        "output passes through unchanged"
    );
    let requests = pool.requests();
    assert!(
        !requests.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        requests[0].miners(),
        [("bitaxe".to_owned(), "bc1qexampleaddr.bitaxe1".to_owned())]
    );
}

#[cfg(unix)]
#[test]
fn the_child_config_defaults_to_the_commands_own() {
    let dir = workdir();
    let pool = Receiver::start();
    let config = config_older(dir.path(), pool.port);
    let jdc = fake_jdc(dir.path(), "cat running.log; sleep 1");
    // No --jdc-config: the reporter reads the command's -c.
    reporter()
        .current_dir(dir.path())
        .args(["--interval", "200ms", "--"])
        .arg(&jdc)
        .arg("-c")
        .arg(&config)
        .assert()
        .success();
    assert!(!pool.requests().is_empty());
}

#[test]
fn a_missing_jdc_command_exits_4() {
    reporter()
        .args([
            "--identity",
            IDENTITY,
            "--report-url",
            "http://127.0.0.1:9/",
            "--",
            "/nonexistent/jd_client_sv2",
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "cannot start /nonexistent/jd_client_sv2: no such file",
        ));
}

#[cfg(unix)]
#[test]
fn signals_are_forwarded_to_the_child_and_its_status_returned() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jdc-reporter"))
        .args([
            "--identity",
            IDENTITY,
            "--report-url",
            "http://127.0.0.1:9/",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"ready\n") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "the child said nothing");
        seen.push(byte[0]);
    }
    terminate(&child);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(3));
}

/// The reference Rust pool's view of a report: whole-number hash rates
/// (`u64`), an integer schema version, every string present, nothing else.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct StrictReport {
    schema_version: u64,
    jdc_user_identity: String,
    timestamp: String,
    miners: Vec<StrictMiner>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct StrictMiner {
    vendor: String,
    hardware_version: String,
    firmware: String,
    device_id: String,
    nominal_hash_rate: u64,
    user_identity: String,
    connected_at: String,
}

#[test]
fn a_strict_pool_reads_the_reports_as_sent() {
    let dir = workdir();
    // The bitaxe and the translator's two channels: 1, 13.5 and 0.5 TH/s.
    let cut = FIXTURE.find("2026-11-24T18:36:18").unwrap();
    write(dir.path(), "three.log", &FIXTURE[..cut]);
    // A pool that takes only the protocol's fields refuses the translator's
    // channels' `via`; the reporter sends the same report without it.
    let pool = Receiver::start();
    pool.refuse_containing("\"via\"");
    reporter()
        .current_dir(dir.path())
        .args(["--identity", IDENTITY, "--report-url", &pool.url()])
        .args(["--log", "three.log", "--once"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "reports go without it from now on",
        ));
    let requests = pool.requests();
    assert_eq!(requests.len(), 2, "the report, then the same without via");
    let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(first["miners"][1]["via"], "SRI Translator Proxy", "{first}");
    let body = &requests[1].body;
    let report: StrictReport = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "a strict pool refuses {}: {e}",
            String::from_utf8_lossy(body)
        )
    });
    let rates: Vec<u64> = report.miners.iter().map(|m| m.nominal_hash_rate).collect();
    assert_eq!(
        rates,
        [1_000_000_000_000, 13_500_000_000_000, 500_000_000_000]
    );
    assert_eq!(report.schema_version, 1);
    // The translator's own vendor is no miner's.
    let vendors: Vec<&str> = report.miners.iter().map(|m| m.vendor.as_str()).collect();
    assert_eq!(vendors, ["bitaxe", "", ""]);
    assert!(String::from_utf8_lossy(body).contains("\"nominalHashRate\":1000000000000,"));

    // A pool that takes `via` gets it, and a report without translator
    // channels never carries it.
    let lenient = Receiver::start();
    let cut = FIXTURE.find("2026-11-24T18:36:14").unwrap();
    write(dir.path(), "one.log", &FIXTURE[..cut]);
    reporter()
        .current_dir(dir.path())
        .args(["--identity", IDENTITY, "--report-url", &lenient.url()])
        .args(["--log", "one.log", "--once"])
        .assert()
        .success();
    let requests = lenient.requests();
    assert_eq!(requests.len(), 1);
    let _: StrictReport = serde_json::from_slice(&requests[0].body).unwrap();
}

#[test]
fn a_refusal_says_the_pools_reason_or_the_status() {
    let dir = workdir();
    let pool = Receiver::start();
    let once = |pool: &Receiver| {
        reporter()
            .current_dir(dir.path())
            .args(["--identity", IDENTITY, "--report-url", &pool.url()])
            .args(["--log", "running.log", "--once"])
            .assert()
            .code(1)
    };
    pool.set_status(422);
    pool.set_error_body(
        "application/problem+json",
        r#"{"type":"about:blank","title":"Invalid report","status":422,"detail":"must be at most 255 bytes","field":"miners[0].vendor","success":false}"#,
    );
    once(&pool)
        .stderr(predicate::str::contains(
            r#"report refused miners=1 status=422 reason="must be at most 255 bytes (field miners[0].vendor)""#,
        ))
        .stderr(predicate::str::contains("\"title\"").not());
    // Not a problem body (a proxy's page): the status line says it.
    pool.set_status(400);
    pool.set_error_body(
        "text/html",
        "<html><body><h1>400 Bad Request</h1>\n<p>nginx</p></body></html>",
    );
    once(&pool)
        .stderr(predicate::str::contains(r#"reason="HTTP 400 Bad Request""#))
        .stderr(predicate::str::contains("<html>").not());
}

#[test]
fn a_token_goes_over_plain_http_only_to_this_machine() {
    let dir = workdir();
    // Nothing is sent anywhere: the check stops the start, and with the
    // flag the missing log does.
    let base = |cmd: &mut Command| {
        cmd.current_dir(dir.path())
            .args(["--identity", IDENTITY])
            .args([
                "--report-url",
                "http://pool.example.com:3333/api/downstream-report",
            ])
            .args(["--log", "missing.log", "--once"])
            .env("JDC_REPORTER_TOKEN", "s3cret");
    };
    let mut cmd = reporter();
    base(&mut cmd);
    cmd.assert()
        .code(3)
        .stderr(predicate::str::contains(
            "error: the token would be sent over plain http:// to pool.example.com",
        ))
        .stderr(predicate::str::contains(
            "hint: use the pool's https:// URL",
        ))
        .stderr(predicate::function(|e: &str| e.lines().count() == 2));
    let mut cmd = reporter();
    base(&mut cmd);
    cmd.arg("--allow-insecure-token")
        .assert()
        .code(4)
        .stderr(predicate::str::contains("cannot read the log missing.log"));
    // A config's pool is plain http: the same rule.
    let local = std::fs::read_to_string(config_per_upstream(dir.path(), 3333)).unwrap();
    let remote = write(
        dir.path(),
        "remote.toml",
        &local.replace(
            "pool_address = \"127.0.0.1\"",
            "pool_address = \"pool.example.com\"",
        ),
    );
    reporter()
        .current_dir(dir.path())
        .arg("-c")
        .arg(&remote)
        .args(["--log", "missing.log", "--once"])
        .env("JDC_REPORTER_TOKEN", "s3cret")
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "plain http:// to pool.example.com",
        ));
}

#[test]
fn a_token_file_is_read_and_its_problems_exit_3() {
    let dir = workdir();
    let pool = Receiver::start();
    write(dir.path(), "token", "s3cret-from-file\n");
    write(dir.path(), "empty-token", "\n");
    reporter()
        .current_dir(dir.path())
        .args(["--identity", IDENTITY, "--report-url", &pool.url()])
        .args(["--log", "running.log", "--once", "--token-file", "token"])
        .assert()
        .success();
    assert_eq!(
        pool.requests()[0].header("authorization"),
        Some("Bearer s3cret-from-file")
    );
    for (file, message) in [
        (
            "missing-token",
            "cannot read the token file missing-token: no such file",
        ),
        ("empty-token", "the token file empty-token is empty"),
    ] {
        reporter()
            .current_dir(dir.path())
            .args(["--identity", IDENTITY, "--report-url", &pool.url()])
            .args(["--log", "running.log", "--once", "--token-file", file])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("\n  hint: "));
    }
    assert_eq!(pool.requests().len(), 1, "a token problem sends nothing");
}
