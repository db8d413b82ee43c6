//! A setting out of its range, or not a number where one is due, is a named
//! error on every request (500 problem+json saying which setting and what
//! it must be), never a trap and never a guess; nothing is stored or
//! renamed. The ends of each range work.

use dmr_shared::api::{report_path, AGENTS_PATH, JDCS_PATH, OPENAPI_PATH, REPORTS_PATH};
use dmr_tests::{insert_clients, miner, raw, report, ClientRow, Options, Worker};
use serde_json::json;

const A: &str = "bc1qsettings0000000000000000000000000000000a";

fn start(vars: &[(&str, &str)]) -> Worker {
    Worker::start_with(Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed_sql: Some(insert_clients(&[ClientRow::live(A, "a1", "jd-client/sv2")])),
        ..Options::default()
    })
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Every route (and a `HEAD`) answers 500 with this `detail` (the value
/// itself is not sent), the log says `logged`, and nothing was stored or
/// renamed.
fn refused_everywhere(worker: &Worker, case: &str, detail: &str, logged: &str) {
    let one = report_path(A);
    let body = report(A, vec![miner("bitaxe", 1e12, "w")]).to_string();
    for (method, path) in [
        ("POST", REPORTS_PATH),
        ("GET", REPORTS_PATH),
        ("GET", one.as_str()),
        ("GET", JDCS_PATH),
        ("GET", AGENTS_PATH),
        ("GET", OPENAPI_PATH),
    ] {
        let reply = worker.request_with(
            method,
            path,
            &[("Content-Type", "application/json")],
            (method == "POST").then_some(body.as_bytes()),
        );
        assert_eq!(reply.status, 500, "{case}: {method} {path}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{case}");
        let problem = reply.json();
        assert_eq!(problem["title"], "Bad setting", "{case}: {problem}");
        assert_eq!(problem["status"], 500, "{case}: {problem}");
        assert_eq!(problem["success"], false, "{case}: {problem}");
        assert_eq!(problem["detail"], detail, "{case}: {method} {path}");
    }
    let head = raw::exchange(worker.port(), "HEAD", JDCS_PATH, &[]);
    assert_eq!(head.status, 500, "{case}: HEAD");
    assert!(head.body.is_empty(), "{case}: HEAD");

    let log = worker.log_containing("internal_error");
    assert!(
        log.contains(logged),
        "{case}: the log does not say {logged:?}:\n{log}"
    );
    let setting = case.split('=').next().unwrap();
    assert!(
        log.contains(&format!(r#""setting":"{setting}""#)),
        "{case}: the log does not name the setting:\n{log}"
    );
    assert!(worker.kv_keys().is_empty(), "{case}: KV was written");
    let agents = worker.d1("SELECT DISTINCT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "jd-client/sv2"})], "{case}");
}

/// Values of `REPORT_TTL_SECONDS` the Worker must refuse: the one that
/// used to trap while computing `expiresAt`, one past u64, either side of
/// the range, and text that is not a whole number (more shapes are unit
/// tests in `worker/src/config.rs`).
const BAD_TTLS: [&str; 6] = [
    "8000000000000",
    "99999999999999999999999",
    "59",
    "86401",
    "-300",
    "five minutes",
];

#[test]
fn a_report_ttl_out_of_range_is_named_on_every_request() {
    for value in BAD_TTLS {
        let worker = start(&[("REPORT_TTL_SECONDS", value)]);
        refused_everywhere(
            &worker,
            &format!("REPORT_TTL_SECONDS={value:?}"),
            "the pool's setting REPORT_TTL_SECONDS must be a whole number of seconds \
             from 60 to 86400; nothing was stored or renamed",
            &format!(r#""found":"\"{value}\"""#),
        );
        let log = worker.log_text();
        assert!(!log.contains("panicked"), "{value}: {log}");
    }
}

#[test]
fn an_agents_cache_out_of_range_is_named_on_every_request() {
    for value in ["61", "3600", "-1", "1.5"] {
        let worker = start(&[("AGENTS_CACHE_SECONDS", value)]);
        refused_everywhere(
            &worker,
            &format!("AGENTS_CACHE_SECONDS={value:?}"),
            "the pool's setting AGENTS_CACHE_SECONDS must be a whole number of seconds \
             from 0 to 60; nothing was stored or renamed",
            &format!(r#""found":"\"{value}\"""#),
        );
    }
}

/// A token no request header could carry would lock every reader or JDC
/// out for good: it is a bad setting, named, its content kept to the log.
#[test]
fn a_token_no_header_can_carry_is_named_not_shown() {
    for (name, value, logged) in [
        ("REPORT_TOKEN", "pässword", "holds U+00E4"),
        ("INSPECTOR_TOKEN", "s3\u{200b}cret", "holds U+200B"),
        ("GATEWAY_TOKEN", "gate\u{7f}way", "holds U+007F"),
    ] {
        let worker = start(&[(name, value)]);
        refused_everywhere(
            &worker,
            &format!("{name}={value:?}"),
            &format!(
                "the pool's secret {name} cannot be used (its log says why); \
                 nothing was stored or renamed"
            ),
            logged,
        );
    }
}

/// A number written in `wrangler.toml` as a TOML value (`600`, not
/// `"600"`) reaches the Worker as a JSON number and is read the same way:
/// in range it is used, out of range (or not a number) it is named.
#[test]
fn a_setting_written_as_a_toml_value_is_read_as_one() {
    let start_toml = |value: &str| {
        Worker::start_with(Options {
            toml_vars: vec![("REPORT_TTL_SECONDS".into(), value.into())],
            seed_sql: Some(insert_clients(&[ClientRow::live(A, "a1", "jd-client/sv2")])),
            ..Options::default()
        })
    };
    let worker = start_toml("600");
    let before = now_secs();
    let reply = worker.post_report(&report(A, vec![miner("bitaxe", 1e12, "w")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expiration = worker.kv_keys()[0]["expiration"].as_i64().unwrap();
    assert!(
        (before + 600 - 5..=now_secs() + 600 + 5).contains(&expiration),
        "expiration {expiration} is not 600 s after {before}"
    );
    drop(worker);

    for (value, found) in [
        ("8000000000000", "8000000000000"),
        ("59.5", "59.5"),
        ("true", "a value that is neither text nor a number"),
    ] {
        let worker = start_toml(value);
        refused_everywhere(
            &worker,
            &format!("REPORT_TTL_SECONDS={value}"),
            "the pool's setting REPORT_TTL_SECONDS must be a whole number of seconds \
             from 60 to 86400; nothing was stored or renamed",
            &format!(r#""found":"{found}""#),
        );
    }
}

/// The ends of each range are settings like any other.
#[test]
fn the_ends_of_each_range_work() {
    let worker = start(&[
        ("REPORT_TTL_SECONDS", "86400"),
        ("AGENTS_CACHE_SECONDS", "0"),
    ]);
    let before = now_secs();
    let reply = worker.post_report(&report(A, vec![miner("bitaxe", 1e12, "w")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expiration = worker.kv_keys()[0]["expiration"].as_i64().unwrap();
    assert!(
        (before + 86_400 - 5..=now_secs() + 86_400 + 5).contains(&expiration),
        "expiration {expiration} is not a day after {before}"
    );
    let agents = raw::exchange(worker.port(), "GET", AGENTS_PATH, &[]);
    assert_eq!(agents.status, 200);
    assert_eq!(agents.header("cache-control"), Some("no-store"));
    drop(worker);

    let worker = start(&[("AGENTS_CACHE_SECONDS", "60"), ("REPORT_TTL_SECONDS", "60")]);
    let agents = raw::exchange(worker.port(), "GET", AGENTS_PATH, &[]);
    assert_eq!(agents.status, 200);
    assert_eq!(agents.header("cache-control"), Some("private, max-age=60"));
    let reply = worker.post_report(&report(A, vec![miner("bitaxe", 1e12, "w")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
}
