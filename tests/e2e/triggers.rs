//! D1 names a JDC's rows as the pool writes them: after a report, its
//! entry in `jdc_names` and the triggers on `clients` name every live
//! `jd-client/sv2` row of its address the moment it is inserted (or written
//! back to `jd-client/sv2` by the pool's upsert), until the entry ends; and
//! a report that changes nothing makes no D1 call. The migrations are in
//! the form remote migrations keep whole.

use std::path::Path;

use dmr_tests::{
    insert_clients, miner, pairs, repo_root, report, upsert_clients, ClientRow, Options, Worker,
    POOL_SESSION_KEY,
};
use serde_json::Value;

const JDC: &str = "bc1qtriggers00000000000000000000000000000001";
const OTHER: &str = "bc1qtriggersother000000000000000000000000002";

/// A Worker without rate limits (tests send many reports), on a client
/// table with the reference pool's session key and `rows`.
fn start(rows: &[ClientRow]) -> Worker {
    let mut seed = POOL_SESSION_KEY.to_owned();
    if !rows.is_empty() {
        seed.push_str(&insert_clients(rows));
    }
    Worker::start_with(Options {
        seed_sql: Some(seed),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    })
}

/// Every row's `(sessionId, userAgent)` and its `updatedAt`.
fn rows_with_times(worker: &Worker) -> Vec<Value> {
    worker.d1("SELECT sessionId, userAgent, updatedAt FROM clients ORDER BY sessionId")
}

fn names(worker: &Worker) -> Vec<(String, String)> {
    worker
        .d1("SELECT identity, userAgent FROM jdc_names ORDER BY identity")
        .into_iter()
        .map(|r| {
            (
                r["identity"].as_str().unwrap().to_owned(),
                r["userAgent"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn post_ok(worker: &Worker, report: &Value) -> Value {
    let reply = worker.post_report(report);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn sum(lines: &[Value], field: &str) -> u64 {
    lines.iter().map(|l| l[field].as_u64().unwrap_or(0)).sum()
}

#[test]
fn a_new_session_is_named_as_the_pool_writes_it_and_nothing_else_is_touched() {
    let worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    let reply = post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    assert_eq!(reply["renamed"], 1);
    assert_eq!(names(&worker), pairs(&[(JDC, "bitaxe/sv2")]));
    let before = rows_with_times(&worker);

    // The JDC reconnects: the pool inserts its new session, and rows that
    // are not the JDC's live sessions at the same time. No report follows.
    worker.d1(&insert_clients(&[
        ClientRow::live(JDC, "s2", "jd-client/sv2"),
        ClientRow::live(JDC, "s3", "jd-client/sv2").deleted(),
        ClientRow::live(JDC, "s4", "cgminer/4.11"),
        ClientRow::live(OTHER, "s5", "jd-client/sv2"),
    ]));
    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("s1", "bitaxe/sv2"),
            ("s2", "bitaxe/sv2"),
            ("s3", "jd-client/sv2"),
            ("s4", "cgminer/4.11"),
            ("s5", "jd-client/sv2"),
        ])
    );
    // The rows the report named are as it left them.
    assert_eq!(rows_with_times(&worker)[0], before[0]);

    // The session registers again: the pool's upsert writes jd-client/sv2
    // over the named row, and it is named again at once.
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s2",
        "jd-client/sv2",
    )]));
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    // The pool's other writes: new stats, the end of a session, a row of
    // another address written back to jd-client/sv2, a deleted row's
    // userAgent written: none is named.
    worker.d1("UPDATE clients SET hashRate = 2e12, bestDifficulty = 99 WHERE sessionId = 's2'");
    worker.d1(&upsert_clients(&[ClientRow::live(
        OTHER,
        "s5",
        "jd-client/sv2",
    )]));
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s3",
        "jd-client/sv2",
    )
    .deleted()]));
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s4",
        "cgminer/4.11",
    )]));
    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("s1", "bitaxe/sv2"),
            ("s2", "bitaxe/sv2"),
            ("s3", "jd-client/sv2"),
            ("s4", "cgminer/4.11"),
            ("s5", "jd-client/sv2"),
        ])
    );
    let s2 = worker.d1("SELECT hashRate, bestDifficulty FROM clients WHERE sessionId = 's2'");
    assert_eq!(s2[0]["hashRate"], 2e12);
    assert_eq!(s2[0]["bestDifficulty"], 99.0);
    // A session that ends keeps its name.
    worker.d1("UPDATE clients SET deletedAt = '2026-11-26T02:00:00.000Z' WHERE sessionId = 's2'");
    assert_eq!(worker.user_agents()[1], ("s2".into(), "bitaxe/sv2".into()));
    // The pool's inserts made the Worker make no call.
    assert_eq!(worker.report_lines_at_least(1).len(), 1);
}

#[test]
fn once_the_entry_has_ended_new_rows_stay_jd_client() {
    let worker = start(&[]);
    post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    assert_eq!(worker.user_agents(), pairs(&[("s1", "bitaxe/sv2")]));

    // The JDC stopped reporting and its TTL passed (set in D1: the shortest
    // TTL is a minute).
    worker.d1("UPDATE jdc_names SET expiresAt = '2026-01-01T00:00:00.000Z'");
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s2",
        "jd-client/sv2",
    )]));
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    assert_eq!(
        worker.user_agents(),
        pairs(&[("s1", "jd-client/sv2"), ("s2", "jd-client/sv2")])
    );
}

#[test]
fn a_report_that_names_nothing_any_more_ends_the_entry() {
    let worker = start(&[]);
    post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    assert_eq!(names(&worker).len(), 1);
    // Its miners left (or have no vendor): rows born now stay jd-client.
    let reply = post_ok(&worker, &report(JDC, vec![miner("", 1e12, "w1")]));
    assert_eq!(reply["userAgent"], Value::Null);
    assert!(names(&worker).is_empty());
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    assert_eq!(worker.user_agents(), pairs(&[("s1", "jd-client/sv2")]));
    let lines = worker.report_lines_of(JDC, 2);
    assert_eq!(lines[1]["d1Calls"], 1, "{}", lines[1]);
    // Again: there is no entry left to delete.
    post_ok(&worker, &report(JDC, vec![miner("", 1e12, "w2")]));
    let lines = worker.report_lines_of(JDC, 3);
    assert_eq!(lines[2]["d1Calls"], 0, "{}", lines[2]);
}

#[test]
fn a_new_majority_vendor_is_applied_and_two_jdcs_of_one_address_do_not_flip() {
    let worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    // A session born while no entry was live stays jd-client/sv2 ...
    worker.d1("UPDATE jdc_names SET expiresAt = '2026-01-01T00:00:00.000Z'");
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s2",
        "jd-client/sv2",
    )]));
    worker.d1(&format!(
        "UPDATE jdc_names SET expiresAt = '2099-01-01T00:00:00.000Z' WHERE identity = '{JDC}'"
    ));
    // ... until a report with a new majority vendor writes the entry and
    // renames the live jd-client/sv2 rows; named rows keep their name.
    let changed = report(
        JDC,
        vec![
            miner("NerdQAxe++", 1e12, "w1"),
            miner("NerdQAxe++", 1e12, "w2"),
            miner("bitaxe", 1e12, "w3"),
        ],
    );
    let reply = post_ok(&worker, &changed);
    assert_eq!(reply["userAgent"], "NerdQAxe++/sv2");
    assert_eq!(reply["renamed"], 1);
    assert_eq!(names(&worker), pairs(&[(JDC, "NerdQAxe++/sv2")]));
    let until = worker.d1("SELECT expiresAt FROM jdc_names");
    assert_eq!(until[0]["expiresAt"], reply["expiresAt"]);
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s3",
        "jd-client/sv2",
    )]));
    assert_eq!(
        worker.user_agents(),
        pairs(&[
            ("s1", "bitaxe/sv2"),
            ("s2", "NerdQAxe++/sv2"),
            ("s3", "NerdQAxe++/sv2"),
        ])
    );

    // A second JDC of the address, whose majority vendor differs, reports
    // in turn with the first: each has its own entry, written once.
    let second = format!("{JDC}.rig2");
    let lines_before = worker.report_lines().len();
    for n in 0..6 {
        let rate = 1e12 + f64::from(n % 2);
        let first = report(
            JDC,
            vec![
                miner("NerdQAxe++", rate, "w1"),
                miner("NerdQAxe++", 1e12, "w2"),
            ],
        );
        post_ok(&worker, &first);
        post_ok(
            &worker,
            &report(&second, vec![miner("antminer", 1e14, "a1")]),
        );
    }
    let after = worker.report_lines_of(&second, 1);
    assert_eq!(
        sum(&after, "d1Calls"),
        1,
        "the second JDC wrote more than its entry:\n{after:?}"
    );
    let firsts = worker.report_lines_of(JDC, 1);
    // The first JDC's hash rate changed every report (stored each time),
    // its name never: no D1 call after the rename above.
    let since: Vec<Value> = firsts
        .into_iter()
        .filter(|l| l["userAgent"] == "NerdQAxe++/sv2" && l["renamed"] == 0)
        .collect();
    assert!(since.len() >= 5, "{since:?}");
    assert_eq!(sum(&since, "d1Calls"), 0, "{since:?}");
    assert!(worker.report_lines_at_least(lines_before + 1).len() > lines_before);
    assert_eq!(
        names(&worker),
        pairs(&[(JDC, "NerdQAxe++/sv2"), (&second, "antminer/sv2")])
    );
    // A row born at the address takes the name of the identity that sorts
    // first, whichever reported last.
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s4",
        "jd-client/sv2",
    )]));
    assert_eq!(
        worker.user_agents()[3],
        ("s4".into(), "NerdQAxe++/sv2".into())
    );
}

#[test]
fn a_run_of_unchanged_reports_makes_no_database_call() {
    let mut worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    let same = || report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    assert_eq!(post_ok(&worker, &same())["renamed"], 1);
    for _ in 0..5 {
        let reply = post_ok(&worker, &same());
        assert_eq!(reply["stored"], false, "{reply}");
    }
    // The next report that changes something (its hash rate; not its name)
    // carries the five: none made a KV or D1 call, and it makes none in D1.
    post_ok(&worker, &report(JDC, vec![miner("bitaxe", 2e12, "w1")]));
    let lines = worker.report_lines_of(JDC, 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["d1Calls"], 1, "{}", lines[0]);
    let line = &lines[1];
    assert_eq!(line["quietReports"], 5, "{line}");
    assert_eq!(line["quietRowsRead"], 0, "{line}");
    assert_eq!(line["d1Calls"], 0, "{line}");
    assert_eq!(line["rowsRead"], 0, "{line}");

    // A fresh instance has no note: the stored copy's metadata tells it the
    // report changed nothing, with one KV read and no D1 call.
    worker.restart();
    let reply = post_ok(&worker, &report(JDC, vec![miner("bitaxe", 2e12, "w1")]));
    assert_eq!(reply["stored"], false, "{reply}");
    let lines = worker.report_lines_of(JDC, 3);
    let line = &lines[2];
    assert_eq!(
        (line["hint"].clone(), line["kvOperations"].clone()),
        (Value::Bool(false), Value::from(1)),
        "{line}"
    );
    assert_eq!(line["d1Calls"], 0, "{line}");
}

#[test]
fn a_failing_database_when_the_name_must_be_written_answers_503_and_stores_nothing() {
    let worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    let first = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    post_ok(&worker, &first);
    let stored = worker.get_reports();
    worker.d1("DROP TABLE jdc_names");

    // Unchanged: no D1 call, so D1's state does not matter.
    let again = post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    assert_eq!(again["stored"], false);

    // A new name must be written: 503, the stored copy and the rows as
    // they were.
    let reply = worker.post_report(&report(JDC, vec![miner("antminer", 1e14, "w1")]));
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("client database"),
        "{}",
        reply.body
    );
    assert!(worker
        .log_containing("storage_error")
        .contains("no such table"));
    assert_eq!(worker.get_reports(), stored);
    assert_eq!(worker.user_agents(), pairs(&[("s1", "bitaxe/sv2")]));
}

#[test]
fn the_deploy_fallback_puts_the_triggers_back_and_can_be_repeated() {
    let worker = start(&[]);
    post_ok(&worker, &report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    // A migration that lost a trigger on the way: docs/deploying.md's check shows
    // it, its fallback (the file itself) puts it back, twice over.
    worker.d1("DROP TRIGGER clients_named_on_update");
    let listed =
        || worker.d1("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
    assert_eq!(listed().len(), 1);
    let file = repo_root().join("worker/migrations/0003_jdc_names.sql");
    worker.d1_file(&file);
    worker.d1_file(&file);
    let triggers = listed();
    let trigger_names: Vec<&str> = triggers
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        trigger_names,
        ["clients_named_on_insert", "clients_named_on_update"]
    );
    for trigger in &triggers {
        let sql = trigger["sql"].as_str().unwrap();
        assert!(sql.ends_with("WHERE id = NEW.id;\nEND"), "{sql}");
    }
    // The entry the report wrote is still there, and names rows again.
    assert_eq!(names(&worker), pairs(&[(JDC, "bitaxe/sv2")]));
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    worker.d1(&upsert_clients(&[ClientRow::live(
        JDC,
        "s1",
        "jd-client/sv2",
    )]));
    assert_eq!(worker.user_agents(), pairs(&[("s1", "bitaxe/sv2")]));
}

/// What remote migrations are known to cut, found in `sql`: each finding
/// names the problem. Remote `wrangler d1 migrations apply` splits a file
/// into statements and has cut trigger bodies ("incomplete input", code
/// 7500; workers-sdk issues 14991, 15314, 15178). The form that passes:
/// LF line ends, `CREATE TRIGGER IF NOT EXISTS`, the condition in `WHEN`,
/// one statement between an uppercase `BEGIN` and `END`, no `CASE` and no
/// comment inside a trigger.
fn form_problems(sql: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if sql.contains('\r') {
        problems.push("a CR line end".to_owned());
    }
    let code = match code_of(sql) {
        Ok(code) => code,
        Err(problem) => {
            problems.push(problem);
            return problems;
        }
    };
    let words = words_of(&code);
    let is = |i: usize, word: &str| words.get(i).is_some_and(|w| w.1.eq_ignore_ascii_case(word));
    for i in 0..words.len() {
        let trigger = is(i, "CREATE") && (is(i + 1, "TRIGGER") || is(i + 2, "TRIGGER"));
        if !trigger {
            continue;
        }
        let head: Vec<&str> = words[i..(i + 5).min(words.len())]
            .iter()
            .map(|w| w.1)
            .collect();
        if head != ["CREATE", "TRIGGER", "IF", "NOT", "EXISTS"] {
            problems.push(format!(
                "`{}` is not CREATE TRIGGER IF NOT EXISTS",
                head.join(" ")
            ));
        }
        let Some(begin) = (i..words.len()).find(|&j| is(j, "BEGIN")) else {
            problems.push("a trigger without BEGIN".to_owned());
            continue;
        };
        if !(i..begin).any(|j| is(j, "WHEN")) {
            problems.push("a trigger without WHEN".to_owned());
        }
        // No CASE is allowed, so the first END closes the body.
        let Some(end) = (begin..words.len()).find(|&j| is(j, "END")) else {
            problems.push("a trigger without END".to_owned());
            continue;
        };
        for at in [begin, end] {
            if words[at].1 != words[at].1.to_ascii_uppercase() {
                problems.push(format!("`{}` in lower case", words[at].1));
            }
        }
        if (begin..end).any(|j| is(j, "CASE")) {
            problems.push("CASE inside a trigger".to_owned());
        }
        let body = &code[words[begin].0..words[end].0];
        if body.contains('#') {
            problems.push("a comment inside a trigger".to_owned());
        }
        let statements = body.matches(';').count();
        if statements != 1 {
            problems.push(format!("{statements} statements in a trigger body"));
        }
        if !code[words[end].0 + 3..].trim_start().starts_with(';') {
            problems.push("END not followed by ;".to_owned());
        }
    }
    problems
}

/// `sql` with each string literal's and quoted name's content blanked and
/// each comment replaced by one `#`; or what is wrong (an unclosed quote
/// or comment).
fn code_of(sql: &str) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                loop {
                    match chars.next() {
                        Some(q) if q == c => {
                            out.push(c);
                            break;
                        }
                        Some(_) => out.push('x'),
                        None => return Err("an unclosed quote".to_owned()),
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().find(|&c| c == '\n');
                out.push_str("#\n");
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                loop {
                    match chars.next() {
                        Some('/') if last == '*' => break,
                        Some(c) => last = c,
                        None => return Err("an unclosed comment".to_owned()),
                    }
                }
                out.push('#');
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// The words of `code` with their byte offsets.
fn words_of(code: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices().chain([(code.len(), ' ')]) {
        let word = c.is_ascii_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, &code[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    words
}

#[test]
fn every_migration_is_in_the_form_remote_migrations_keep_whole() {
    let dir = repo_root().join("worker/migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("worker/migrations")
        .map(|e| e.expect("a migration").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut triggers = 0;
    for file in &files {
        let sql = std::fs::read_to_string(file).expect("a migration's text");
        let problems = form_problems(&sql);
        assert!(
            problems.is_empty(),
            "{}: {problems:?}",
            Path::new(file).display()
        );
        triggers += sql.matches("CREATE TRIGGER").count();
    }
    assert_eq!(triggers, 2, "the triggers were not all checked");
}

#[test]
fn the_form_check_finds_what_remote_migrations_cut() {
    let good = "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON c FOR EACH ROW \
                WHEN NEW.a = 'x;y' BEGIN UPDATE c SET a = 'b' WHERE id = NEW.id; END;\n";
    assert_eq!(form_problems(good), Vec::<String>::new());
    let cases = [
        (good.replace('\n', "\r\n"), "CR"),
        (good.replace(" IF NOT EXISTS", ""), "IF NOT EXISTS"),
        (good.replace("WHEN NEW.a = 'x;y' ", ""), "without WHEN"),
        (good.replace("BEGIN", "begin"), "lower case"),
        (good.replace("END;", "End;"), "lower case"),
        (
            good.replace("WHERE id = NEW.id;", "WHERE id = NEW.id; DELETE FROM c;"),
            "2 statements",
        ),
        (
            good.replace("'b'", "CASE WHEN 1 THEN 'b' ELSE 'c' END"),
            "CASE",
        ),
        (good.replace("UPDATE", "-- why\nUPDATE"), "comment inside"),
        (good.replace("UPDATE", "/* why */ UPDATE"), "comment inside"),
    ];
    for (sql, want) in cases {
        let problems = form_problems(&sql);
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:?} for {sql}"
        );
    }
}
