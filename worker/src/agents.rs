//! `GET /api/agents`: the pool's live client rows by `userAgent`, and the
//! addresses still connected as `jd-client/sv2` with whether a live report
//! exists for each ([`dmr_shared::agents`] has the answer and the rule).
//! Behind the inspector token like every read.
//!
//! A fresh answer costs one D1 batch of two statements (the `GROUP BY` reads
//! every live row: 100,000 rows read at 100,000 rows) and one KV `list` per
//! 1,000 live reports. So each data centre keeps the answer in the Cache API
//! for up to [`AGENTS_CACHE_SECS`](dmr_shared::agents::AGENTS_CACHE_SECS)
//! (`AGENTS_CACHE_SECONDS`, read by [`Config`], lowers it; 0 turns it off),
//! and any number of open inspectors cost one fresh answer a
//! minute per data centre. The cache is keyed by the URL without its query
//! (it takes none: a query string is a 400 naming it), and the token is
//! checked before the cache is looked at, so a cached answer is as protected as a fresh
//! one. On a `*.workers.dev` hostname the Cache API does nothing: every read
//! is fresh there (see docs/api.md, `GET /api/agents`).

use chrono::Utc;
use dmr_shared::agents::{
    AgentGroup, JdcGroup, LiveReports, PoolAgents, AGENTS_SQL, JDC_ADDRESSES_SQL, MAX_AGENTS,
    MAX_JDC_ADDRESSES,
};
use dmr_shared::api::JSON_CONTENT_TYPE;
use dmr_shared::limits::MAX_SUMMARIES_PAGE;
use dmr_shared::{rfc3339, JdcSummary, JDC_USER_AGENT};
use serde_json::json;
use worker::{console_error, console_log, Cache, Env, Response};

use crate::auth;
use crate::config::{Config, CLIENTS_DB};
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::store::ReportStore;

/// Pages of live reports read to tell which addresses report: 100,000
/// identities in 100 KV `list` calls, well within KV's 1,000 operations per
/// request. Beyond that the answer says `reportsComplete: false`.
const REPORT_PAGES: usize = 10;

/// Kept with the cached copy only (never sent): when its data was read, in
/// milliseconds since the epoch, for the `Age` of the answers it serves.
const READ_AT_HEADER: &str = "X-Agents-Read-At";

/// What a fresh answer cost, for the log line.
struct Cost {
    rows_read: usize,
    kv_operations: usize,
}

fn d1_error(e: impl ToString) -> ApiError {
    ApiError::unavailable("D1", e)
}

/// Answers `GET /api/agents` from this data centre's cache, or fresh.
pub async fn handle(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    // Like every read, it takes only what it documents: none.
    crate::paging::parameters(&req.url(), &[])?;
    let ttl = config.agents_cache_secs;
    let key = cache_key(req);
    let cache = Cache::default();
    let now = Utc::now();
    if ttl > 0 {
        if let Some((body, age)) = cached(&cache, &key, now.timestamp_millis(), ttl).await {
            console_log!(
                "{}",
                json!({"event": "read", "view": "agents", "cached": true, "ageSecs": age,
                       "rowsRead": 0, "kvOperations": 0})
            );
            return answer(body, ttl, age);
        }
    }
    let (agents, cost) = read(env, &rfc3339(now), ttl).await?;
    let listed = (agents.agents.len(), agents.jdc_addresses.len());
    let body = serde_json::to_string(&agents).map_err(|e| ApiError::Internal(e.to_string()))?;
    if ttl > 0 {
        keep(&cache, &key, &body, now.timestamp_millis(), ttl).await;
    }
    console_log!(
        "{}",
        json!({"event": "read", "view": "agents", "cached": false, "ageSecs": 0,
               "agents": listed.0, "jdcAddresses": listed.1,
               "rowsRead": cost.rows_read, "kvOperations": cost.kv_operations})
    );
    answer(body, ttl, 0)
}

/// This request's URL without query or fragment.
fn cache_key(req: &Incoming) -> String {
    let url = req.url();
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// The cached body and its age in seconds, if this data centre has one
/// younger than `ttl`. A failing cache is a miss, not an error: the answer
/// can always be read fresh.
async fn cached(cache: &Cache, key: &str, now_ms: i64, ttl: u64) -> Option<(String, u64)> {
    let mut hit = match cache.get(key, false).await {
        Ok(hit) => hit?,
        Err(e) => {
            console_error!(
                "{}",
                json!({"event": "cache_error", "cause": e.to_string()})
            );
            return None;
        }
    };
    let read_at: i64 = hit.headers().get(READ_AT_HEADER).ok()??.parse().ok()?;
    // The cache honours max-age too; this also covers a lowered setting.
    let age = u64::try_from(now_ms.saturating_sub(read_at) / 1000).unwrap_or(0);
    if age >= ttl {
        return None;
    }
    Some((hit.text().await.ok()?, age))
}

/// Stores `body` for `ttl` seconds in this data centre's cache.
async fn keep(cache: &Cache, key: &str, body: &str, read_at_ms: i64, ttl: u64) {
    let stored = Response::ok(body).and_then(|mut copy| {
        let headers = copy.headers_mut();
        headers.set("Content-Type", JSON_CONTENT_TYPE)?;
        // `private` would keep the Cache API from storing it; the answers
        // sent from this copy are marked private (see `answer`).
        headers.set("Cache-Control", &format!("public, max-age={ttl}"))?;
        headers.set(READ_AT_HEADER, &read_at_ms.to_string())?;
        Ok(copy)
    });
    let outcome = match stored {
        Ok(copy) => cache.put(key, copy).await,
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        console_error!(
            "{}",
            json!({"event": "cache_error", "cause": e.to_string()})
        );
    }
}

/// The answer: `private` (it is behind a token), fresh for `ttl` seconds
/// from when its data was read, `age` seconds ago.
fn answer(body: String, ttl: u64, age: u64) -> Result<Response, ApiError> {
    let mut response = Response::ok(body)?;
    let headers = response.headers_mut();
    headers.set("Content-Type", JSON_CONTENT_TYPE)?;
    let cache_control = if ttl > 0 {
        format!("private, max-age={ttl}")
    } else {
        "no-store".to_owned()
    };
    headers.set("Cache-Control", &cache_control)?;
    headers.set("Age", &age.to_string())?;
    Ok(response)
}

/// Reads D1 (one batch: both statements in one transaction) and the live
/// reports at `now`, and joins them into an answer kept `ttl` seconds.
async fn read(env: &Env, now: &str, ttl: u64) -> Result<(PoolAgents, Cost), ApiError> {
    let db = env.d1(CLIENTS_DB).map_err(d1_error)?;
    let statement = |sql: &str, limit: usize| {
        db.prepare(sql)
            .bind(&[JDC_USER_AGENT.into(), (limit as u32).into()])
            .map_err(d1_error)
    };
    let results = db
        .batch(vec![
            statement(AGENTS_SQL, MAX_AGENTS)?,
            statement(JDC_ADDRESSES_SQL, MAX_JDC_ADDRESSES)?,
        ])
        .await
        .map_err(d1_error)?;
    let [agents_result, jdc_result] = <[_; 2]>::try_from(results)
        .map_err(|r| d1_error(format!("a batch of 2 returned {} results", r.len())))?;
    let mut rows_read = 0;
    for result in [&agents_result, &jdc_result] {
        if let Some(error) = result.error() {
            return Err(d1_error(error));
        }
        rows_read += result
            .meta()
            .map_err(d1_error)?
            .and_then(|m| m.rows_read)
            .unwrap_or(0);
    }
    // A row of another shape means the pool's table is not the one the
    // statements expect: a setup problem, logged with its cause.
    let groups: Vec<AgentGroup> = agents_result
        .results()
        .map_err(|e| ApiError::Internal(format!("agents rows: {e}")))?;
    let jdc: Vec<JdcGroup> = jdc_result
        .results()
        .map_err(|e| ApiError::Internal(format!("jd-client/sv2 rows: {e}")))?;

    let mut store = ReportStore::open(env)?;
    let mut summaries: Vec<JdcSummary> = Vec::new();
    let mut cursor = None;
    let mut complete = false;
    for _ in 0..REPORT_PAGES {
        let (_, next) = store
            .list(now, MAX_SUMMARIES_PAGE, cursor, |entry| {
                summaries.push(entry.summary);
                true
            })
            .await
            // Our own cursor refused is KV's failure, not the caller's query.
            .map_err(|e| match e {
                ApiError::BadQuery { problem, .. } => ApiError::unavailable("KV", problem),
                e => e,
            })?;
        cursor = next;
        if cursor.is_none() {
            complete = true;
            break;
        }
    }
    let reports = LiveReports::of(&summaries);
    let agents = PoolAgents::assemble(groups, jdc, &reports, complete, now, ttl);
    Ok((
        agents,
        Cost {
            rows_read,
            kv_operations: store.operations,
        },
    ))
}
