//! The parser and tracker on the real jd_client_sv2 0.6.0 session log, and on
//! variants made from it: coloured, split into odd reads, in older wordings,
//! with commas in vendor strings, with a rejected SetupConnection racing
//! another device, with more extended channels, and across a restart.
//!
//! The fixture's story: a bitaxe (downstream 0) and an SRI translator with two
//! extended channels (1) connect; the bitaxe leaves and comes back as 2; the
//! translator leaves; an `Acme` device is rejected (3); a nerdqaxe (4) opens a
//! channel with hash rate -1, which the JDC refuses; then Ctrl+C.

use std::time::Instant;

use jdc_reporter::input::LineBuffer;
use jdc_reporter::parse::Parser;
use jdc_reporter::tracker::Tracker;

const FIXTURE: &str = include_str!("fixtures/jd_client_sv2-0.6.0-session.log");

/// One row per miner: vendor, hardware version, identity, hash rate,
/// connectedAt.
type Row = (String, String, String, f64, String);

fn feed(tracker: &mut Tracker, parser: &mut Parser, line: &str) {
    parser.push(line, &mut |parsed| {
        tracker.apply(parsed, Instant::now());
    });
}

/// The input has caught up: what waited for the lines after it is applied.
fn caught_up(tracker: &mut Tracker, parser: &mut Parser) {
    parser.flush(&mut |parsed| {
        tracker.apply(parsed, Instant::now());
    });
}

fn rows(tracker: &Tracker) -> Vec<Row> {
    tracker
        .miners()
        .into_iter()
        .map(|m| {
            (
                m.vendor,
                m.hardware_version,
                m.user_identity,
                m.nominal_hash_rate,
                m.connected_at,
            )
        })
        .collect()
}

/// The table after the lines logged before `cutoff` (a timestamp prefix;
/// lines without a timestamp, as in the coloured variant, are compared after
/// stripping).
fn table_at(log: &str, cutoff: &str) -> Vec<Row> {
    let mut tracker = Tracker::new();
    let mut parser = Parser::new();
    let mut clean = String::new();
    for line in log.lines() {
        jdc_reporter::parse::strip_ansi(line, &mut clean);
        if clean.get(..cutoff.len()).is_some_and(|t| t >= cutoff) {
            break;
        }
        feed(&mut tracker, &mut parser, line);
    }
    caught_up(&mut tracker, &mut parser);
    rows(&tracker)
}

fn row(vendor: &str, hw: &str, who: &str, rate: f64, at: &str) -> Row {
    (vendor.into(), hw.into(), who.into(), rate, at.into())
}

fn bitaxe0() -> Row {
    row(
        "bitaxe",
        "BM1370",
        "bc1qexampleaddr.bitaxe1",
        1e12,
        "2026-11-24T18:36:12.581187Z",
    )
}
/// A translator's channel: no device make known (no translator log here),
/// never the translator's own `SRI`.
fn sri1() -> Row {
    row(
        "",
        "",
        "bc1qexampleaddr.miner1",
        13.5e12,
        "2026-11-24T18:36:14.580283Z",
    )
}
fn sri2() -> Row {
    row(
        "",
        "",
        "bc1qexampleaddr.miner2",
        0.5e12,
        "2026-11-24T18:36:15.182437Z",
    )
}
fn bitaxe2() -> Row {
    row(
        "bitaxe",
        "BM1370",
        "bc1qexampleaddr.bitaxe1",
        1e12,
        "2026-11-24T18:36:28.978564Z",
    )
}

/// The table at each step of the fixture's story.
fn checkpoints() -> Vec<(&'static str, Vec<Row>)> {
    vec![
        ("2026-11-24T18:36:12.9", vec![bitaxe0()]),
        ("2026-11-24T18:36:16", vec![bitaxe0(), sri1(), sri2()]),
        ("2026-11-24T18:36:20", vec![sri1(), sri2()]),
        ("2026-11-24T18:36:30", vec![sri1(), sri2(), bitaxe2()]),
        ("2026-11-24T18:36:33", vec![bitaxe2()]),
        ("2026-11-24T18:36:50", vec![bitaxe2()]),
        ("2026-11-24T18:36:53", vec![bitaxe2()]),
        ("2026-11-24T18:37", vec![]),
    ]
}

fn assert_story(log: &str) {
    for (cutoff, want) in checkpoints() {
        assert_eq!(table_at(log, cutoff), want, "before {cutoff}");
    }
}

#[test]
fn the_fixture_log_tells_its_story() {
    assert_story(FIXTURE);
}

/// tracing-subscriber's ANSI output: dimmed time, coloured level, dimmed
/// target and `:`, italic field names and dimmed `=`.
fn colour(line: &str) -> String {
    let (ts, rest) = line.split_once(' ').unwrap();
    let rest = rest.trim_start();
    let (level, rest) = rest.split_once(' ').unwrap();
    let (target, mut msg) = {
        let (t, m) = rest.split_once(": ").unwrap();
        (t, m.to_owned())
    };
    for key in [
        "downstream_id",
        "error_kind",
        "socket_address",
        "attempt",
        "MAX_RETRIES",
        "socket",
        "e",
        "error",
    ] {
        msg = msg.replace(
            &format!(" {key}="),
            &format!(" \x1b[3m{key}\x1b[0m\x1b[2m=\x1b[0m"),
        );
    }
    let code = match level {
        "ERROR" => 31,
        "WARN" => 33,
        _ => 32,
    };
    format!("\x1b[2m{ts}\x1b[0m \x1b[{code}m{level:>5}\x1b[0m \x1b[2m{target}\x1b[0m\x1b[2m:\x1b[0m {msg}")
}

#[test]
fn a_coloured_log_tells_the_same_story() {
    let coloured: String = FIXTURE.lines().map(|l| colour(l) + "\n").collect();
    assert!(coloured.contains("\x1b[3mdownstream_id\x1b[0m\x1b[2m=\x1b[0m0"));
    assert_story(&coloured);
}

#[test]
fn reads_split_anywhere_give_the_same_table() {
    // Deterministic odd chunk sizes, splitting lines, and the three bytes of
    // each `—`, everywhere.
    for seed in [1u64, 7, 42, 1234] {
        let bytes = FIXTURE.as_bytes();
        let mut tracker = Tracker::new();
        let mut parser = Parser::new();
        let mut lines = LineBuffer::new();
        let mut state = seed;
        let mut at = 0;
        // Stop before the shutdown so there is something to compare.
        let end = FIXTURE.find("2026-11-24T18:36:54").unwrap();
        while at < end {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let size = 1 + (state >> 33) as usize % 61;
            let next = (at + size).min(end);
            lines.push(&bytes[at..next], &mut |line| {
                feed(&mut tracker, &mut parser, line)
            });
            at = next;
        }
        caught_up(&mut tracker, &mut parser);
        assert_eq!(rows(&tracker), vec![bitaxe2()], "seed {seed}");
    }
}

#[test]
fn a_partial_line_is_never_parsed() {
    let open = FIXTURE.find("Received: OpenStandardMiningChannel").unwrap();
    let line_end = open + FIXTURE[open..].find('\n').unwrap();
    // Everything up to the bitaxe's channel open, which stops just short of
    // its newline: `downstream_id=0` is there but the line is not finished.
    let (head, tail) = FIXTURE.split_at(line_end);
    let mut tracker = Tracker::new();
    let mut parser = Parser::new();
    let mut lines = LineBuffer::new();
    lines.push(head.as_bytes(), &mut |line| {
        feed(&mut tracker, &mut parser, line)
    });
    caught_up(&mut tracker, &mut parser);
    assert!(rows(&tracker).is_empty());
    lines.push(b"\n", &mut |line| feed(&mut tracker, &mut parser, line));
    caught_up(&mut tracker, &mut parser);
    assert_eq!(rows(&tracker), vec![bitaxe0()]);
    assert!(tail.starts_with('\n'));
}

/// The same session as an SRI 1.x / jd_client 0.1.0 JDC logs it: `jd_client`
/// target, `U32AsRef` request ids, `#<id>` on identities, and
/// `Downstream N disconnected — ...` lines.
fn older(line: &str) -> String {
    let line = line.replacen(" jd_client_sv2", " jd_client", 1);
    if let Some(i) = line.find("requested disconnect") {
        let ts = &line[..27];
        let id: String = line[i..]
            .split("downstream_id=")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return format!(
            "{ts}  WARN jd_client: Downstream {id} disconnected — cleaning up channel manager."
        );
    }
    if line.contains("MiningChannel(request_id: ") {
        let id = line.rsplit("downstream_id=").next().unwrap().to_owned();
        let open = line.find("request_id: ").unwrap() + "request_id: ".len();
        let comma = open + line[open..].find(',').unwrap();
        let line = format!(
            "{}U32AsRef({}){}",
            &line[..open],
            &line[open..comma],
            &line[comma..]
        );
        let nominal = line.find(", nominal_hash_rate").unwrap();
        return format!("{}#{id}{}", &line[..nominal], &line[nominal..]);
    }
    line
}

#[test]
fn older_wordings_tell_the_same_story() {
    let old: String = FIXTURE.lines().map(|l| older(l) + "\n").collect();
    assert!(old.contains("Downstream 1 disconnected — cleaning up channel manager."));
    assert!(old.contains("request_id: U32AsRef(1), user_identity: bc1qexampleaddr.bitaxe1#0,"));
    assert_story(&old);
}

#[test]
fn commas_and_parentheses_in_vendor_strings_read_whole() {
    let log = FIXTURE.replace(
        "vendor: bitaxe, hardware_version: BM1370",
        "vendor: Bitaxe, Inc. (Gamma), hardware_version: BM1370 (rev, B)",
    );
    let table = table_at(&log, "2026-11-24T18:36:13");
    assert_eq!(table[0].0, "Bitaxe, Inc. (Gamma)");
    assert_eq!(table[0].1, "BM1370 (rev, B)");
}

/// Moves the nerdqaxe's connection (with a valid hash rate) between the Acme
/// device's rejection and its disconnect line, a second later: the window in
/// which a rejected SetupConnection could be glued onto the next device.
fn nerdqaxe_during_acme_rejection(keep_rejecting_line: bool) -> String {
    let nerd: Vec<String> = FIXTURE
        .lines()
        .filter(|l| l.starts_with("2026-11-24T18:36:51"))
        .filter(|l| !l.contains("Failed to create standard channel"))
        .map(|l| {
            l.replacen("2026-11-24T18:36:51", "2026-11-24T18:36:48", 1)
                .replace("nominal_hash_rate: -1", "nominal_hash_rate: 2000000000000")
        })
        .collect();
    assert_eq!(nerd.len(), 3);
    let mut lines: Vec<String> = Vec::new();
    for line in FIXTURE.lines() {
        if line.starts_with("2026-11-24T18:36:51")
            || (line.contains("Rejecting: work selection") && !keep_rejecting_line)
        {
            continue;
        }
        lines.push(line.to_owned());
        if line.contains("Failed to set up downstream connection") {
            lines.extend(nerd.iter().cloned());
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn a_rejected_setup_connection_is_never_glued_onto_another_device() {
    for keep in [true, false] {
        let log = nerdqaxe_during_acme_rejection(keep);
        let table = table_at(&log, "2026-11-24T18:36:50");
        let vendors: Vec<&str> = table.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            vendors,
            ["bitaxe", "nerdqaxe"],
            "with the Rejecting line: {keep}"
        );
        assert_eq!(table[1].2, "bc1qexampleaddr.bad");
        assert_eq!(table[1].3, 2e12);
    }
}

#[test]
fn a_translator_with_three_extended_channels_is_three_miners_until_it_leaves() {
    let third = "2026-11-24T18:36:15.900000Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenExtendedMiningChannel(request_id: 2, user_identity: bc1qexampleaddr.miner3, nominal_hash_rate: 2000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff), min_extranonce_size: 4) downstream_id=1";
    let anchor = FIXTURE.find("2026-11-24T18:36:18.776596Z").unwrap();
    let log = format!("{}{third}\n{}", &FIXTURE[..anchor], &FIXTURE[anchor..]);
    let sri: Vec<String> = table_at(&log, "2026-11-24T18:36:17")
        .into_iter()
        .filter(|r| r.2.contains(".miner"))
        .map(|r| r.2)
        .collect();
    assert_eq!(
        sri,
        [
            "bc1qexampleaddr.miner1",
            "bc1qexampleaddr.miner2",
            "bc1qexampleaddr.miner3"
        ]
    );
    assert_eq!(table_at(&log, "2026-11-24T18:36:33"), vec![bitaxe2()]);
}

#[test]
fn a_restart_or_an_upstream_fallback_empties_the_table_and_ids_start_over() {
    let running = &FIXTURE[..FIXTURE.find("2026-11-24T18:36:54").unwrap()];
    let new_session = "\
2026-11-24T19:00:00.000000Z  INFO jd_client_sv2::channel_manager: Starting downstream server at 127.0.0.1:34265
2026-11-24T19:00:05.000000Z  INFO jd_client_sv2::channel_manager: New downstream connection socket_address=127.0.0.1:40000
2026-11-24T19:00:05.100000Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: NerdQAxe++, hardware_version: BM1370, firmware: v1.0.30, device_id: nerd-7)
2026-11-24T19:00:05.400000Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.nerd, nominal_hash_rate: 4800000000000, max_target: U256(ff)) downstream_id=0
";
    let restarted = format!("{running}{new_session}");
    let want = vec![row(
        "NerdQAxe++",
        "BM1370",
        "bc1qexampleaddr.nerd",
        4.8e12,
        "2026-11-24T19:00:05.100000Z",
    )];
    assert_eq!(table_at(&restarted, "2026-11-24T20"), want);
    assert_eq!(table_at(&restarted, "2026-11-24T19:00:01"), vec![]);

    let fallback = format!(
        "{running}2026-11-24T18:36:55.000000Z  WARN jd_client_sv2::jdc_runtime: Upstream/Job Declarator connection dropped — attempting reconnection...\n"
    );
    assert_eq!(table_at(&fallback, "2026-11-24T20"), vec![]);
}

/// A device that puts a line break and a forged JDC line into its strings:
/// the forged shutdown, or disconnect of the bitaxe, is never believed. The
/// device's own channel is still counted, without its vendor.
#[test]
fn device_strings_with_forged_lines_change_nothing_else() {
    let forged_stop =
        "2026-11-24T18:36:47.900000Z  INFO jd_client_sv2: Ctrl+C received — initiating graceful shutdown...";
    let forged_gone = "2026-11-24T18:36:47.900000Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=2 error_kind=ChannelErrorReceiver(RecvError)";
    let running = &FIXTURE[..FIXTURE.find("2026-11-24T18:36:48").unwrap()];
    let setup = |vendor: &str| {
        format!("2026-11-24T18:36:47.500000Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 10.0.0.9, endpoint_port: 34265, vendor: {vendor}, hardware_version: BM1370, firmware: , device_id: )\n")
    };
    let open = |identity: &str| {
        format!("2026-11-24T18:36:47.800000Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: {identity}, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id=5\n")
    };
    for forged in [forged_stop, forged_gone] {
        for (vendor, identity, evil_vendor, evil_identity) in [
            // Raw: the JDC prints the line break as it came.
            (
                format!("Acme\n{forged}"),
                "bc1qexampleaddr.evil".to_owned(),
                "",
                "bc1qexampleaddr.evil".to_owned(),
            ),
            (
                "Acme".to_owned(),
                format!("bc1qexampleaddr.evil\n{forged}"),
                "Acme",
                format!("bc1qexampleaddr.evil\n{forged}"),
            ),
            // Escaped: a JDC that escapes it prints one line.
            (
                format!("Acme\\n{forged}"),
                "bc1qexampleaddr.evil".to_owned(),
                "escaped",
                "bc1qexampleaddr.evil".to_owned(),
            ),
            (
                "Acme".to_owned(),
                format!("bc1qexampleaddr.evil\\n{forged}"),
                "Acme",
                format!("bc1qexampleaddr.evil\\n{forged}"),
            ),
        ] {
            let log = format!("{running}{}{}", setup(&vendor), open(&identity));
            let table = table_at(&log, "2026-11-24T20");
            let evil_vendor = if evil_vendor == "escaped" {
                vendor.as_str()
            } else {
                evil_vendor
            };
            let evil = row(
                evil_vendor,
                if evil_vendor.is_empty() { "" } else { "BM1370" },
                &evil_identity,
                1e12,
                "2026-11-24T18:36:47.500000Z",
            );
            // The bitaxe on downstream 2 is still there.
            assert_eq!(
                table,
                vec![bitaxe2(), evil],
                "vendor {vendor:?} identity {identity:?}"
            );
        }
    }
}
