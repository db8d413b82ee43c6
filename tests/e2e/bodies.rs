//! Bodies of every size and encoding: read as a stream and refused once past
//! 4 MiB whether or not they say how long they are; the worst shapes the
//! pool accepts are accepted (unknown members skipped, not stored); strict
//! JSON holds inside unknown members too. A refused body changes nothing.

use std::io::Write;
use std::process::{Command, Stdio};

use dmr_shared::api::REPORTS_PATH;
use dmr_shared::limits::{MAX_BODY_BYTES, MAX_OBJECT_MEMBERS};
use dmr_tests::bodies::{padded_report, post_chunked, widest_object, worst_accepted};
use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};
use serde_json::{json, Value};

const JDC: &str = "bc1qbodies000000000000000000000000000000001";

fn start() -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[ClientRow::live(
            JDC,
            "s1",
            "jd-client/sv2",
        )])),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    })
}

fn assert_untouched(worker: &Worker) {
    assert!(worker.kv_keys().is_empty(), "KV was written");
    let rows = worker.d1("SELECT userAgent, updatedAt FROM clients");
    assert_eq!(
        rows,
        [json!({"userAgent": "jd-client/sv2", "updatedAt": "2026-11-26T00:00:00.000Z"})]
    );
}

/// A valid report padded with spaces to exactly `len` bytes.
fn exactly(len: usize) -> Vec<u8> {
    let mut body = report(JDC, vec![miner("bitaxe", 1e12, "w")])
        .to_string()
        .into_bytes();
    body.resize(len, b' ');
    body
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("gzip output");
    writer.join().unwrap().expect("gzip input");
    out.stdout
}

#[test]
fn oversized_bodies_are_refused_however_they_are_sent() {
    let worker = start();
    let just_over = exactly(MAX_BODY_BYTES + 1);
    let far_over = exactly(MAX_BODY_BYTES * 4);
    // Declared: refused on the header, before reading.
    for body in [&just_over, &far_over] {
        let reply = worker.post_raw(body);
        assert_eq!(reply.status, 413, "{}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
    }
    // Chunked, so undeclared, in small and large chunks: refused once the
    // limit is passed.
    let mut cases = 2;
    for body in [&just_over, &far_over] {
        for chunk in [1024, 64 * 1024, 1024 * 1024, MAX_BODY_BYTES] {
            let (status, answer) = post_chunked(&worker, body, chunk);
            assert_eq!(
                status,
                413,
                "{} bytes in chunks of {chunk}: {answer}",
                body.len()
            );
            cases += 1;
        }
    }
    // Compressed: 16 MiB of spaces after a report, gzip-encoded. Whatever
    // the runtime does with the encoding, it is refused.
    let bomb = gzip(&exactly(16 * 1024 * 1024));
    let reply = worker.request_with(
        "POST",
        REPORTS_PATH,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        Some(&bomb),
    );
    println!("gzip-encoded 16 MiB: {} {}", reply.status, reply.body);
    assert!(
        [400, 413, 415].contains(&reply.status),
        "{}: {}",
        reply.status,
        reply.body
    );
    assert_eq!(cases, 10);
    assert_untouched(&worker);

    // Exactly the limit is accepted, declared or not.
    let at_limit = exactly(MAX_BODY_BYTES);
    assert_eq!(worker.post_raw(&at_limit).status, 200);
    assert_eq!(post_chunked(&worker, &at_limit, 64 * 1024).0, 200);
    // And a small chunked report is stored like any other.
    let small = report(&format!("{JDC}.chunked"), vec![miner("bitaxe", 1e12, "w")]);
    let (status, answer) = post_chunked(&worker, small.to_string().as_bytes(), 7);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(worker.kv_keys().len(), 2);
}

#[test]
fn the_worst_accepted_bodies_are_accepted_and_their_unknown_members_dropped() {
    let worker = start();
    for (n, (name, body)) in worst_accepted(&format!("{JDC}.worst"))
        .into_iter()
        .enumerate()
    {
        let reply = worker.post_raw(&body);
        assert_eq!(reply.status, 200, "{name}: {}", &reply.body);
        if n > 0 {
            // Only the report's own members are stored.
            let stored = &worker.get_reports()[0];
            assert!(stored.get("extra").is_none(), "{name}");
            assert_eq!(stored["miners"].as_array().unwrap().len(), 1, "{name}");
        }
    }
    // The largest report came first and named the rows: its vendor, cut to
    // 32 characters.
    assert_eq!(
        worker.d1("SELECT userAgent FROM clients"),
        [json!({"userAgent": format!("{:v<32}/sv2", "bitaxe")})]
    );
}

#[test]
fn unknown_members_are_held_to_strict_json() {
    let worker = start();
    let valid = report(JDC, vec![miner("bitaxe", 1e12, "w")]);
    let with_extra = |extra: &str, in_miner: bool| -> Vec<u8> {
        let mut v: Value = valid.clone();
        v["extra"] = json!("PLACEHOLDER");
        if in_miner {
            v.as_object_mut().unwrap().remove("extra");
            v["miners"][0]["extra"] = json!("PLACEHOLDER");
        }
        v.to_string().replace("\"PLACEHOLDER\"", extra).into_bytes()
    };
    let wide = widest_object();
    let too_wide = wide.replacen('{', &format!("{{\"k{MAX_OBJECT_MEMBERS}\":0,"), 1);
    // The last of the object's members repeats its first.
    let repeat_last = {
        let members: Vec<String> = (0..MAX_OBJECT_MEMBERS - 1)
            .map(|k| format!("\"k{k}\":{k}"))
            .chain(["\"k0\":1".to_owned()])
            .collect();
        format!("{{{}}}", members.join(","))
    };
    // 16 levels inside the report's own one: 17 (19 inside a miner).
    let deep = "[".repeat(16) + &"]".repeat(16);
    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("repeated key", r#"{"a":1,"a":2}"#.into(), 400, None),
        (
            "repeated key, escaped",
            r#"{"a":1,"\u0061":2}"#.into(),
            400,
            None,
        ),
        (
            "repeated key, deep",
            r#"[[{"x":{"k":[],"j":0,"k":{}}}]]"#.into(),
            400,
            None,
        ),
        ("repeated key, 1,000th member", repeat_last, 400, None),
        ("an object one member too wide", too_wide, 422, Some("body")),
        ("nested one level too deep", deep, 422, Some("body")),
        ("a bare NaN", "[NaN]".into(), 400, None),
        ("a number out of range", "[1e400]".into(), 400, None),
        ("a lone surrogate", r#""\ud800""#.into(), 400, None),
        ("an unterminated string", "\"abc".into(), 400, None),
    ];
    let mut checked = 0;
    for (name, extra, status, field) in &cases {
        for in_miner in [false, true] {
            let body = with_extra(extra, in_miner);
            let reply = worker.post_raw(&body);
            assert_eq!(
                reply.status, *status,
                "{name} (in a miner: {in_miner}): {}",
                reply.body
            );
            assert_eq!(reply.json()["field"].as_str(), *field, "{name}");
            checked += 1;
        }
    }
    // Other encodings of the body itself.
    let text = valid.to_string();
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(text.as_bytes());
    let latin1: Vec<u8> = text
        .replace("bitaxe", "bit\u{e9}axe")
        .chars()
        .map(|c| c as u8)
        .collect();
    for (name, body) in [
        ("UTF-16", utf16),
        ("a byte order mark", bom),
        ("Latin-1", latin1),
    ] {
        let reply = worker.post_raw(&body);
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        checked += 1;
    }
    assert_eq!(checked, 2 * cases.len() + 3);
    assert_untouched(&worker);
    // The body is read as UTF-8 JSON whatever charset it claims.
    let reply = worker.request(
        "POST",
        REPORTS_PATH,
        Some(("application/json; charset=utf-16", text.as_bytes())),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    // And an unknown member of any accepted shape is dropped.
    let reply = worker.post_raw(&padded_report(JDC, "{\"a\":[true,null]}", ",", "[", "]"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stored = worker.get_reports();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].get("extra").is_none());
}
