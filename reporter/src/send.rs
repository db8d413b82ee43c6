//! Reports out: a schema v1 [`Report`] built from the table and checked with
//! the pool's own rules, POSTed every interval.
//!
//! The loop's rules, and why:
//! - The first report goes out ~10 s after start, then one per interval. A
//!   failed POST is retried after 5 s, 10 s, 20 s ... but never past the next
//!   regular report, which supersedes it with fresh data: one request at a
//!   time, never a pile-up, and a pool that was down for an hour gets one
//!   report when it returns, not sixty.
//! - A refusal (4xx) is not retried: the same report would get the same
//!   answer. The next regular report tries again.
//! - When the last miner leaves, one empty report tells the pool; after that
//!   the reporter stays quiet until a miner returns (the pool's copy expires
//!   on its own, and an idle JDC need not call every minute).

use std::io::Write;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use dmr_shared::api::JSON_CONTENT_TYPE;
use dmr_shared::limits::{MAX_FIELD_LEN, MAX_MINERS, MAX_NOMINAL_HASH_RATE};
use dmr_shared::{validate_report, Accepted, Miner, Problem, Report, SCHEMA_VERSION};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode, Url};
use tokio::time::Instant;

use crate::cli::fmt_duration;
use crate::error::Error;
use crate::feed::{lock, SharedFeed};
use crate::http::{self, BodyError};
use crate::log;
use crate::monitor::Monitor;

/// The first retry after a failed POST; each further retry waits twice as
/// long, up to one interval.
pub const FIRST_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Attempts for a `--once` report before giving up.
const ONCE_ATTEMPTS: u32 = 3;

/// `report` without its miners' `via`: the protocol's report exactly.
fn without_via(report: &Report) -> Report {
    let mut plain = report.clone();
    for m in &mut plain.miners {
        m.via = None;
    }
    plain
}

/// A report of `miners`, as of now, checked with the rules the pool applies.
/// Strings are cut to what the schema allows, so one odd device (a
/// non-UTF-8 vendor printed as hex) cannot get the whole report refused.
pub fn build_report(identity: &str, mut miners: Vec<Miner>) -> Result<Report, Error> {
    if miners.len() > MAX_MINERS {
        log::warn(format_args!(
            "{} miners connected; a report carries at most {MAX_MINERS}, the rest are left out",
            miners.len()
        ));
        miners.truncate(MAX_MINERS);
    }
    for m in &mut miners {
        // A device's self-reported rate can be anything an f32 holds; the
        // pool refuses the whole report for one impossible number.
        let rate = m.nominal_hash_rate;
        m.nominal_hash_rate = if rate.is_finite() && rate > 0.0 {
            rate.min(MAX_NOMINAL_HASH_RATE)
        } else {
            0.0
        };
        for field in [
            &mut m.vendor,
            &mut m.hardware_version,
            &mut m.firmware,
            &mut m.device_id,
            &mut m.user_identity,
        ] {
            fit(field);
        }
        if let Some(via) = &mut m.via {
            fit(via);
        }
    }
    let report = Report {
        schema_version: SCHEMA_VERSION,
        jdc_user_identity: identity.to_owned(),
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        miners,
    };
    validate_report(&report)
        .map_err(|e| Error::failure(format!("the report would be refused by the pool: {e}")))?;
    Ok(report)
}

/// Drops control characters and cuts to [`MAX_FIELD_LEN`] bytes on a
/// character boundary.
fn fit(text: &mut String) {
    if text.chars().any(char::is_control) {
        text.retain(|c| !c.is_control());
    }
    if text.len() > MAX_FIELD_LEN {
        let mut end = MAX_FIELD_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// How one report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx. `accepted` is the pool's count, when it sent one.
    Delivered { status: u16, accepted: Option<u64> },
    /// The pool answered and said no (3xx, 4xx): retrying will not help.
    Refused { status: u16, reason: String },
    /// No answer, or a server error: worth retrying.
    Failed { reason: String },
    /// `--dry-run`: printed, not sent.
    Printed,
}

/// Where a report goes: the pool over HTTP, or standard output for
/// `--dry-run`. A trait so the sending loop can be tested against a script of
/// outcomes with paused time.
pub trait Deliver {
    fn deliver(&mut self, report: &Report) -> impl std::future::Future<Output = Outcome>;
    /// Where reports go, for messages.
    fn destination(&self) -> String;
}

/// POSTs reports to the pool.
pub struct Http {
    pub client: Client,
    pub url: Url,
    pub token: Option<String>,
}

impl Deliver for Http {
    async fn deliver(&mut self, report: &Report) -> Outcome {
        post(&self.client, &self.url, self.token.as_deref(), report).await
    }

    fn destination(&self) -> String {
        self.url.to_string()
    }
}

/// Prints reports as JSON on standard output.
pub struct Print;

impl Deliver for Print {
    async fn deliver(&mut self, report: &Report) -> Outcome {
        print_json(report);
        Outcome::Printed
    }

    fn destination(&self) -> String {
        "standard output".into()
    }
}

/// POSTs `report` to `url` and reads the pool's answer: the acceptance, or
/// the RFC 9457 problem saying why not.
pub async fn post(client: &Client, url: &Url, token: Option<&str>, report: &Report) -> Outcome {
    let body = match serde_json::to_vec(report) {
        Ok(body) => body,
        Err(e) => {
            return Outcome::Failed {
                reason: e.to_string(),
            }
        }
    };
    let mut request = client
        .post(url.clone())
        .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            return Outcome::Failed {
                reason: http::describe_error(&e),
            }
        }
    };
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(one_line);
    let body = http::read_body(response).await;
    if status.is_success() {
        // The status says the pool took the report; its count is a courtesy
        // that a broken or oversized body does not take back.
        let accepted = body
            .ok()
            .and_then(|b| serde_json::from_slice::<Accepted>(&b).ok())
            .filter(|a| a.success)
            .map(|a| a.accepted);
        return Outcome::Delivered {
            status: status.as_u16(),
            accepted,
        };
    }
    let reason = match (&location, &body) {
        (Some(to), _) if status.is_redirection() => format!("the URL redirects to {to}"),
        (_, Ok(body)) => problem_reason(body).unwrap_or_else(|| http::status_line(status)),
        (_, Err(e @ BodyError::TooLarge)) | (_, Err(e @ BodyError::Broken(_))) => {
            format!("{} ({e})", http::status_line(status))
        }
    };
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retryable {
        let reason = if reason.starts_with("HTTP ") {
            reason
        } else {
            format!("HTTP {}: {reason}", status.as_u16())
        };
        Outcome::Failed { reason }
    } else {
        Outcome::Refused {
            status: status.as_u16(),
            reason,
        }
    }
}

/// What an RFC 9457 problem body says (its `detail` and `field`), on one
/// line; `None` when the body is not one or says nothing.
fn problem_reason(body: &[u8]) -> Option<String> {
    let problem: Problem = serde_json::from_slice(body).ok()?;
    problem
        .reason()
        .map(|r| one_line(&r))
        .filter(|r| !r.is_empty())
}

/// Text from the pool, safe for one log line: control characters and runs
/// of whitespace become one space, and it is cut at 200 characters.
fn one_line(text: &str) -> String {
    const MAX: usize = 200;
    let line = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match line.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

/// The one-line summary each report gets.
fn summary(outcome: &Outcome, miners: usize) -> String {
    match outcome {
        Outcome::Delivered { status, accepted } => {
            let accepted = accepted.map_or_else(|| "?".to_owned(), |a| a.to_string());
            format!("report sent miners={miners} accepted={accepted} status={status}")
        }
        Outcome::Refused { status, reason } => {
            let hint = match status {
                401 | 403 => " (does the pool require a token? JDC_REPORTER_TOKEN or --token-file)",
                404 | 405 => " (is this the pool's report URL? --report-url)",
                300..=399 => " (use that URL with --report-url)",
                _ => "",
            };
            format!("report refused miners={miners} status={status} reason={reason:?}{hint}")
        }
        Outcome::Failed { reason } => format!("report failed miners={miners} error={reason:?}"),
        Outcome::Printed => format!("report printed miners={miners} (dry run)"),
    }
}

fn print_json(report: &Report) {
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{json}");
    let _ = out.flush();
}

/// Builds and delivers reports: once, or every interval for as long as it
/// runs.
pub struct Sender<D> {
    pub identity: String,
    pub interval: Duration,
    pub first_report_after: Duration,
    pub monitor: Option<Monitor>,
    /// The SRI translator's monitoring API, read before each report.
    pub translator: Option<crate::translator::api::Api>,
    pub deliver: D,
    /// The pool refused a report for its miners' `via` and took it without:
    /// reports go without it for the rest of the run.
    pub without_via: bool,
}

impl<D: Deliver> Sender<D> {
    /// Delivers `report`. `via` is this reporter's addition to schema v1; a
    /// pool that takes only the protocol's own fields refuses a report that
    /// has it (400 or 422): such a refusal is answered at once with the same
    /// report without it, and if that one is accepted, no report of this
    /// run carries it again.
    async fn send(&mut self, report: &Report) -> Outcome {
        if self.without_via {
            return self.deliver.deliver(&without_via(report)).await;
        }
        let outcome = self.deliver.deliver(report).await;
        let carries_via = report.miners.iter().any(|m| m.via.is_some());
        if !(carries_via
            && matches!(
                outcome,
                Outcome::Refused {
                    status: 400 | 422,
                    ..
                }
            ))
        {
            return outcome;
        }
        let retry = self.deliver.deliver(&without_via(report)).await;
        if matches!(retry, Outcome::Delivered { .. }) {
            log::info(
                "the pool refused the miners' `via` (it takes only the protocol's own fields): reports go without it from now on",
            );
            self.without_via = true;
        }
        retry
    }

    /// Reads the translator's monitoring API, when there is one, into the
    /// feed's devices.
    async fn read_translator(&mut self, feed: &SharedFeed) {
        if let Some(translator) = self.translator.as_mut() {
            if let Some(clients) = translator.read().await {
                lock(feed).devices_mut().apply_listing(&clients);
            }
        }
    }

    /// One report of the table as it is now, retrying a failure twice.
    pub async fn once(&mut self, feed: &SharedFeed) -> Result<(), Error> {
        self.read_translator(feed).await;
        let miners = lock(feed).miners();
        let count = miners.len();
        let report = build_report(&self.identity, miners)?;
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=ONCE_ATTEMPTS {
            let outcome = self.send(&report).await;
            match &outcome {
                Outcome::Delivered { .. } | Outcome::Printed => {
                    log::info(summary(&outcome, count));
                    return Ok(());
                }
                Outcome::Refused { status, reason } => {
                    log::warn(summary(&outcome, count));
                    return Err(refused(&self.deliver.destination(), *status, reason));
                }
                Outcome::Failed { reason } if attempt == ONCE_ATTEMPTS => {
                    log::warn(summary(&outcome, count));
                    return Err(Error::failure(format!(
                        "the report could not be delivered to {}: {reason}",
                        self.deliver.destination()
                    ))
                    .hint("check that the pool is reachable from here; --report-url points reports elsewhere"));
                }
                Outcome::Failed { .. } => {
                    log::warn(format_args!(
                        "{} retry_in={}",
                        summary(&outcome, count),
                        fmt_duration(wait)
                    ));
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Reports every interval, forever. See the module doc for the rules.
    pub async fn run(mut self, feed: SharedFeed) {
        let mut next_regular = Instant::now() + self.first_report_after;
        let mut retry_at: Option<Instant> = None;
        let mut backoff = FIRST_RETRY_AFTER.min(self.interval);
        // Nothing to say until a miner shows up: the pool has no report from
        // us, which reads the same as an empty one.
        let mut pool_knows_empty = true;
        loop {
            let wake = retry_at.map_or(next_regular, |r| r.min(next_regular));
            tokio::time::sleep_until(wake).await;
            retry_at = None;
            let now = Instant::now();
            if now >= next_regular {
                // Ticks missed while a request was out are skipped, not
                // caught up.
                while next_regular <= now {
                    next_regular += self.interval;
                }
                if let Some(monitor) = self.monitor.as_mut() {
                    monitor.refresh(&feed).await;
                }
                self.read_translator(&feed).await;
            }

            let miners = lock(&feed).miners();
            let count = miners.len();
            if count == 0 && pool_knows_empty {
                continue;
            }
            let report = match build_report(&self.identity, miners) {
                Ok(report) => report,
                Err(e) => {
                    log::error(e.message);
                    continue;
                }
            };
            if count > 0 {
                pool_knows_empty = false;
            }
            let outcome = self.send(&report).await;
            // A report that outlasted an interval replaces the ones missed
            // meanwhile.
            let now = Instant::now();
            while next_regular <= now {
                next_regular += self.interval;
            }
            match &outcome {
                Outcome::Delivered { .. } | Outcome::Printed => {
                    log::info(summary(&outcome, count));
                    backoff = FIRST_RETRY_AFTER.min(self.interval);
                    pool_knows_empty = count == 0;
                }
                Outcome::Refused { .. } => {
                    log::warn(summary(&outcome, count));
                    pool_knows_empty = count == 0;
                }
                Outcome::Failed { .. } => {
                    let retry = Instant::now() + backoff;
                    let when = if retry < next_regular {
                        retry_at = Some(retry);
                        format!("retry_in={}", fmt_duration(backoff))
                    } else {
                        "retry=next-report".to_owned()
                    };
                    log::warn(format_args!("{} {when}", summary(&outcome, count)));
                    backoff = (backoff * 2).min(self.interval);
                }
            }
        }
    }
}

fn refused(destination: &str, status: u16, reason: &str) -> Error {
    let err = Error::failure(format!(
        "the pool refused the report: HTTP {status} from {destination}: {reason}"
    ));
    match status {
        401 | 403 => err.hint(
            "the pool may require a token: set JDC_REPORTER_TOKEN, or give --token-file FILE",
        ),
        404 | 405 => err.hint(
            "this pool may not accept downstream reports at this URL; ask its operator, or use --report-url",
        ),
        300..=399 => err.hint("use the URL it redirects to with --report-url"),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn miner(vendor: &str) -> Miner {
        dmr_shared::testing::miner(vendor, 1e12, "bc1q.w")
    }

    #[test]
    fn reports_are_built_valid_even_from_odd_devices() {
        let long = "é".repeat(200); // 400 bytes
        let report = build_report("bc1qexample", vec![miner(&long), miner("bit\u{7}axe")]).unwrap();
        assert_eq!(report.schema_version, 1);
        assert!(report.miners[0].vendor.len() <= MAX_FIELD_LEN);
        assert_eq!(report.miners[1].vendor, "bitaxe");
        assert!(chrono::DateTime::parse_from_rfc3339(&report.timestamp).is_ok());
    }

    /// When each report came (seconds after start) and how many miners it
    /// carried.
    type Calls = Arc<Mutex<Vec<(u64, usize)>>>;

    /// Delivers by script and records the calls.
    struct Script {
        outcomes: std::collections::VecDeque<(Outcome, Duration)>,
        calls: Calls,
        start: Instant,
    }

    impl Deliver for Script {
        async fn deliver(&mut self, report: &Report) -> Outcome {
            let at = (Instant::now() - self.start).as_secs();
            self.calls.lock().unwrap().push((at, report.miners.len()));
            let (outcome, takes) = self.outcomes.pop_front().unwrap_or((
                Outcome::Delivered {
                    status: 200,
                    accepted: None,
                },
                Duration::ZERO,
            ));
            tokio::time::sleep(takes).await;
            outcome
        }

        fn destination(&self) -> String {
            "script".into()
        }
    }

    const OPEN: &str = "2026-11-24T18:36:12.882611Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1q.a, nominal_hash_rate: 1000, max_target: U256(ff)) downstream_id=0";
    const GONE: &str = "2026-11-24T18:37:00.000000Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=0 error_kind=X";

    /// Starts a sender with the protocol's timings (first after 10 s, every
    /// 60 s) and the given script; returns the feed and the call log.
    fn start(outcomes: Vec<(Outcome, Duration)>) -> (SharedFeed, Calls) {
        let feed = crate::feed::Feed::shared(false);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let sender = Sender {
            identity: "bc1qexample".into(),
            interval: Duration::from_secs(60),
            first_report_after: Duration::from_secs(10),
            monitor: None,
            translator: None,
            without_via: false,
            deliver: Script {
                outcomes: outcomes.into(),
                calls: calls.clone(),
                start: Instant::now(),
            },
        };
        tokio::spawn(sender.run(feed.clone()));
        (feed, calls)
    }

    fn failed() -> (Outcome, Duration) {
        (
            Outcome::Failed {
                reason: "down".into(),
            },
            Duration::ZERO,
        )
    }

    async fn at(secs: u64, start: Instant) {
        tokio::time::sleep_until(start + Duration::from_secs(secs)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn first_after_ten_seconds_then_every_interval() {
        let t0 = Instant::now();
        let (feed, calls) = start(vec![]);
        lock(&feed).lines_now([OPEN]);
        at(200, t0).await;
        assert_eq!(
            *calls.lock().unwrap(),
            [(10, 1), (70, 1), (130, 1), (190, 1)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_empty_report_when_the_last_miner_leaves_then_quiet() {
        let t0 = Instant::now();
        let (feed, calls) = start(vec![]);
        at(5, t0).await;
        assert!(
            calls.lock().unwrap().is_empty(),
            "no miners yet: nothing to say"
        );
        lock(&feed).lines_now([OPEN]);
        at(100, t0).await;
        lock(&feed).lines_now([GONE]);
        at(300, t0).await;
        lock(&feed).lines_now([OPEN]);
        at(400, t0).await;
        assert_eq!(
            *calls.lock().unwrap(),
            [(10, 1), (70, 1), (130, 0), (310, 1), (370, 1)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_and_never_pile_up() {
        let t0 = Instant::now();
        let (feed, calls) = start(vec![failed(); 100]);
        lock(&feed).lines_now([OPEN]);
        at(400, t0).await;
        let times: Vec<u64> = calls.lock().unwrap().iter().map(|c| c.0).collect();
        // 5 s, 10 s, 20 s between retries; a retry that would land after
        // the next regular report is left to it: from then on one report per
        // interval.
        assert_eq!(times, [10, 15, 25, 45, 70, 130, 190, 250, 310, 370]);
    }

    #[tokio::test(start_paused = true)]
    async fn success_resets_the_backoff_and_refusals_wait_for_the_next_report() {
        let t0 = Instant::now();
        let refused = (
            Outcome::Refused {
                status: 400,
                reason: "bad".into(),
            },
            Duration::ZERO,
        );
        let ok = (
            Outcome::Delivered {
                status: 200,
                accepted: Some(1),
            },
            Duration::ZERO,
        );
        let (feed, calls) = start(vec![failed(), failed(), ok, refused, failed()]);
        lock(&feed).lines_now([OPEN]);
        at(140, t0).await;
        let times: Vec<u64> = calls.lock().unwrap().iter().map(|c| c.0).collect();
        assert_eq!(times, [10, 15, 25, 70, 130, 135]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_pool_does_not_cause_a_burst_of_missed_reports() {
        let t0 = Instant::now();
        let slow = (
            Outcome::Delivered {
                status: 200,
                accepted: None,
            },
            Duration::from_secs(130),
        );
        let (feed, calls) = start(vec![slow]);
        lock(&feed).lines_now([OPEN]);
        at(260, t0).await;
        let times: Vec<u64> = calls.lock().unwrap().iter().map(|c| c.0).collect();
        assert_eq!(times, [10, 190, 250]);
    }

    #[test]
    fn summaries_name_miners_accepted_and_status() {
        let s = summary(
            &Outcome::Delivered {
                status: 200,
                accepted: Some(3),
            },
            3,
        );
        assert_eq!(s, "report sent miners=3 accepted=3 status=200");
        let s = summary(
            &Outcome::Refused {
                status: 401,
                reason: "unauthorized".into(),
            },
            1,
        );
        assert!(s.contains("status=401") && s.contains("--token"), "{s}");
    }
}
