//! A bounded load of many concurrent reporters against a running Worker:
//! each reporter is a thread with its own identity and client IP, posting a
//! report every `interval` until `duration` is over. Afterwards the Worker's
//! GET must hold every identity's last acknowledged report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dmr_shared::api::REPORTS_PATH;
use serde_json::{json, Value};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The Worker's base URL (`http://127.0.0.1:8787`).
    pub base_url: String,
    /// Concurrent reporters, each a distinct identity.
    pub reporters: usize,
    /// How long they keep reporting.
    pub duration: Duration,
    /// Time between one reporter's reports.
    pub interval: Duration,
}

/// What happened.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Requests sent.
    pub requests: usize,
    /// Answers by status (0: no answer at all).
    pub statuses: BTreeMap<u16, usize>,
    /// Latency percentiles of answered requests, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Identities whose last acknowledged report is not what GET returns.
    pub lost: Vec<String>,
}

impl LoadResult {
    /// Answers with a 5xx status, plus requests with no answer.
    pub fn server_errors(&self) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500 || **s == 0)
            .map(|(_, n)| n)
            .sum()
    }

    /// One line of figures for people and one JSON line for machines.
    pub fn print(&self, plan: &LoadPlan) {
        let rate = self.requests as f64 / self.elapsed.as_secs_f64();
        println!(
            "load: {} reporters, every {:?}, for {:?}: {} requests ({rate:.1}/s), statuses {:?}, 5xx+unanswered {}, latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms, lost reports {}",
            plan.reporters,
            plan.interval,
            plan.duration,
            self.requests,
            self.statuses,
            self.server_errors(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.lost.len()
        );
        println!(
            "{}",
            json!({
                "reporters": plan.reporters,
                "intervalSecs": plan.interval.as_secs_f64(),
                "durationSecs": plan.duration.as_secs_f64(),
                "requests": self.requests,
                "requestsPerSec": rate,
                "statuses": self.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>(),
                "serverErrors": self.server_errors(),
                "p50Ms": self.p50_ms,
                "p99Ms": self.p99_ms,
                "maxMs": self.max_ms,
                "lostReports": self.lost.len(),
            })
        );
    }
}

/// The identity of reporter `i`.
pub fn identity(i: usize) -> String {
    format!("bc1qload{i:05}.jdc")
}

/// Reporter `i`'s report number `seq`: the sequence number rides in a
/// miner's worker name, so GET shows which report was kept.
fn report(i: usize, seq: usize) -> Value {
    const VENDORS: [&str; 3] = ["bitaxe", "NerdQAxe++", "Braiins OS"];
    let worker = format!("{}.seq{seq}", identity(i));
    let miners = (0..1 + i % 4)
        .map(|m| {
            let mut miner = crate::miner(VENDORS[(i + m) % 3], 1.0e12 * (1 + m) as f64, &worker);
            miner["deviceId"] = json!(format!("dev{m}"));
            miner
        })
        .collect();
    crate::report(&identity(i), miners)
}

/// Runs the plan and checks GET afterwards.
pub fn run(plan: &LoadPlan) -> LoadResult {
    let started = Instant::now();
    let deadline = started + plan.duration;
    let url = format!("{}{REPORTS_PATH}", plan.base_url);
    let threads: Vec<_> = (0..plan.reporters)
        .map(|i| {
            let url = url.clone();
            let interval = plan.interval;
            // Spread the first reports over one interval, as real JDCs are.
            let offset = interval.mul_f64(i as f64 / plan.reporters as f64);
            std::thread::spawn(move || reporter(i, &url, started + offset, interval, deadline))
        })
        .collect();

    let mut result = LoadResult::default();
    let mut latencies = Vec::new();
    let mut last_acked = BTreeMap::new();
    for (i, thread) in threads.into_iter().enumerate() {
        let (statuses, times, acked) = thread.join().expect("reporter thread");
        result.requests += statuses.len();
        for status in statuses {
            *result.statuses.entry(status).or_default() += 1;
        }
        latencies.extend(times);
        if let Some(seq) = acked {
            last_acked.insert(identity(i), seq);
        }
    }
    result.elapsed = started.elapsed();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (result.p50_ms, result.p99_ms, result.max_ms) = (pct(0.5), pct(0.99), pct(1.0));

    let stored: BTreeMap<String, String> = agent()
        .get(&url)
        .call()
        .ok()
        .and_then(|mut r| {
            r.body_mut()
                .with_config()
                .limit(1 << 28)
                .read_json::<Vec<Value>>()
                .ok()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            (
                r["jdcUserIdentity"].as_str().unwrap_or_default().to_owned(),
                r["miners"][0]["userIdentity"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    result.lost = last_acked
        .iter()
        .filter(|(id, seq)| stored.get(*id) != Some(&format!("{id}.seq{seq}")))
        .map(|(id, _)| id.clone())
        .collect();
    result
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// One reporter: statuses, latencies (ms) and its last acknowledged report.
fn reporter(
    i: usize,
    url: &str,
    first: Instant,
    interval: Duration,
    deadline: Instant,
) -> (Vec<u16>, Vec<f64>, Option<usize>) {
    let agent = agent();
    let ip = format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256);
    let (mut statuses, mut times, mut acked) = (Vec::new(), Vec::new(), None);
    let mut next = first;
    let mut seq = 0;
    while next < deadline {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let sent = Instant::now();
        let outcome = agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("CF-Connecting-IP", &ip)
            .send(report(i, seq).to_string());
        let status = match &outcome {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
        statuses.push(status);
        if status == 200 {
            acked = Some(seq);
        }
        seq += 1;
        next += interval;
    }
    (statuses, times, acked)
}
