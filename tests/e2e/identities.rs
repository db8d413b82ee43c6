//! Identities that cannot be told apart or have no address are refused,
//! posted (422) or in a path (400), and a path identity no report could have
//! never reaches KV. Nothing is stored or renamed.

use dmr_shared::api::{report_path, ONE_REPORT_PREFIX};
use dmr_shared::percent::percent_encode;
use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};
use serde_json::json;

/// The address every case is built on; its row must stay `jd-client/sv2`.
const ADDRESS: &str = "bc1qident00000000000000000000000000000000001";

/// Identities with nothing before their first `.`: they would rename the
/// rows of the empty address.
const NO_ADDRESS: &[&str] = &[".rig1", ".", "..", ".a.b", "...rig", ".bc1qident.rig1"];

/// Characters that render as nothing, reorder text, or have no glyph.
const INVISIBLE: &[char] = &[
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{2060}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{180E}',
    '\u{034F}',
    '\u{3164}',
    '\u{115F}',
    '\u{FE0F}',
    '\u{E0041}',
    '\u{E0001}',
    '\u{2800}',
    '\u{E000}',
    '\u{FFFF}',
    '\u{2064}',
];

/// Characters that change the direction of the text around them.
const DIRECTIONAL: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

/// Line and paragraph separators and spaces other than ASCII's.
const SEPARATORS: &[char] = &[
    '\u{2028}', '\u{2029}', '\u{00A0}', '\u{2007}', '\u{202F}', '\u{3000}', '\u{1680}', '\u{0085}',
    '\u{205F}',
];

/// Every refused identity, with what the refusal must mention.
fn refused() -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = NO_ADDRESS
        .iter()
        .map(|id| (id.to_string(), "has no address".into()))
        .collect();
    for c in INVISIBLE.iter().chain(DIRECTIONAL) {
        let code = format!("U+{:04X}", *c as u32);
        // At the end, in the middle, and at the start of the identity.
        cases.push((format!("{ADDRESS}.rig1{c}"), code.clone()));
        cases.push((format!("{ADDRESS}{c}.rig1"), code.clone()));
        cases.push((format!("{c}{ADDRESS}"), code));
    }
    for c in SEPARATORS {
        let want = if c.is_control() {
            "control"
        } else {
            "whitespace"
        };
        cases.push((format!("{ADDRESS}.rig{c}1"), want.into()));
    }
    cases
}

fn start() -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[
            ClientRow::live(ADDRESS, "s1", "jd-client/sv2"),
            ClientRow::live("", "s0", "jd-client/sv2"),
        ])),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    })
}

fn assert_untouched(worker: &Worker) {
    assert!(worker.kv_keys().is_empty(), "KV was written");
    let rows = worker.d1("SELECT DISTINCT userAgent, updatedAt FROM clients");
    assert_eq!(
        rows,
        [json!({"userAgent": "jd-client/sv2", "updatedAt": "2026-11-26T00:00:00.000Z"})],
        "a row was renamed"
    );
}

#[test]
fn posted_identities_with_no_address_or_invisible_characters_are_refused() {
    let worker = start();
    let cases = refused();
    assert_eq!(cases.len(), 6 + 3 * (17 + 12) + 9);
    for (identity, want) in &cases {
        let reply = worker.post_report(&report(identity, vec![miner("bitaxe", 1e12, "w")]));
        assert_eq!(reply.status, 422, "{identity:?}: {}", reply.body);
        let problem = reply.json();
        assert_eq!(problem["field"], "jdcUserIdentity", "{identity:?}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(want.as_str()), "{identity:?}: {detail}");
    }
    assert_untouched(&worker);
    // The same identities without the character are fine.
    let reply = worker.post_report(&report(
        &format!("{ADDRESS}.rig1"),
        vec![miner("bitaxe", 1e12, "w")],
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["renamed"], 1);
    let rows = worker.d1("SELECT sessionId, userAgent FROM clients ORDER BY sessionId");
    assert_eq!(
        rows,
        [
            json!({"sessionId": "s0", "userAgent": "jd-client/sv2"}),
            json!({"sessionId": "s1", "userAgent": "bitaxe/sv2"}),
        ]
    );
}

#[test]
fn path_identities_are_validated_like_posted_ones() {
    let worker = start();
    // Identities no report could have: refused before KV is asked. (`.`
    // and `..` cannot be path segments at all: URLs resolve them away, to
    // paths that are no endpoint.)
    let mut paths: Vec<(String, u16, Option<&str>)> = refused()
        .into_iter()
        .map(|(identity, _)| match identity.as_str() {
            "." | ".." => (report_path(&identity), 404, None),
            _ => (report_path(&identity), 400, Some("identity")),
        })
        .collect();
    for len in [257, 600, 4096] {
        paths.push((report_path(&"a".repeat(len)), 400, Some("identity")));
    }
    for encoded in [
        "%zz", "%C3", "%FF%FE", "a%", "%0A", "%00", "a%20b", "%09x", "x%7F",
    ] {
        paths.push((
            format!("{ONE_REPORT_PREFIX}{encoded}"),
            400,
            Some("identity"),
        ));
    }
    // A parameter the endpoint does not take.
    paths.push((
        format!("{}?limit=5", report_path(ADDRESS)),
        400,
        Some("limit"),
    ));
    let count = paths.len();
    for (path, status, field) in &paths {
        let reply = worker.request("GET", path, None);
        assert_eq!(reply.status, *status, "{path}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{path}");
        if let Some(field) = field {
            assert_eq!(reply.json()["field"], *field, "{path}");
        }
    }
    assert_eq!(count, 6 + 3 * 29 + 9 + 3 + 9 + 1);
    // Valid identities nobody reported: 404. The longest allowed one too.
    for identity in [ADDRESS.to_owned(), "a".repeat(256), "été.rig/1".into()] {
        let reply = worker.request("GET", &report_path(&identity), None);
        assert_eq!(reply.status, 404, "{identity}: {}", reply.body);
    }
    // None of it was a storage error.
    let log = worker.log_text();
    assert!(!log.contains("storage_error"), "{log}");
    assert_untouched(&worker);
    // The path identity is the percent-decoded posted one.
    let identity = format!("{ADDRESS}.rig/1é");
    let reply = worker.post_report(&report(&identity, vec![]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = worker.request("GET", &report_path(&identity), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["jdcUserIdentity"], identity);
    let encoded = format!("{ONE_REPORT_PREFIX}{}", percent_encode(&identity));
    assert_eq!(worker.request("GET", &encoded, None).status, 200);
}
