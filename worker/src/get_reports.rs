//! The read endpoints, all behind the optional inspector token:
//!
//! - `GET /api/downstream-report`: the live reports as a JSON array, the
//!   protocol's debugging view; a page of at most 1,000 reports and at most
//!   [`MAX_PAGE_BYTES`] of JSON (one `list` call, one bulk read per 100 or
//!   per MiB), with `Link: <...>; rel="next"` when more remain. The stored
//!   JSON is passed through, never parsed.
//! - `GET /api/downstream-report/{identity}`: one JDC's report (one read);
//!   an identity no report could have is a 400 before KV is asked.
//! - `GET /api/jdcs`: a summary of every live JDC from KV metadata alone,
//!   up to 10,000 per page (and [`MAX_PAGE_BYTES`]) in at most 10 `list`
//!   calls; what the inspector polls.
//!
//! Pages are cut by count and by bytes, so a read costs the Worker a bounded
//! amount of memory whatever the store holds, and always answers 200.

use chrono::Utc;
use dmr_shared::api::{wrap_cursor, CURSOR_PARAM, JSON_CONTENT_TYPE, LIMIT_PARAM};
use dmr_shared::limits::{MAX_PAGE_BYTES, MAX_REPORTS_PAGE, MAX_SUMMARIES_PAGE};
use dmr_shared::percent::{percent_decode, percent_encode};
use dmr_shared::{rfc3339, validate_identity};
use serde_json::json;
use worker::{console_log, Env, Response};

use crate::auth;
use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::memory::wasm_memory_bytes;
use crate::paging::{paging, parameters, Paging};
use crate::store::{Listed, ReportStore};

/// A JSON answer from text already written, with a `Link` to the next page
/// when there is one.
fn json_response(
    body: Vec<u8>,
    req: &Incoming,
    limit: usize,
    cursor: Option<String>,
) -> Result<Response, ApiError> {
    let mut response = Response::from_bytes(body)?;
    let headers = response.headers_mut();
    headers.set("Content-Type", JSON_CONTENT_TYPE)?;
    if let Some(cursor) = cursor {
        let link = format!(
            "<{}?{LIMIT_PARAM}={limit}&{CURSOR_PARAM}={}>; rel=\"next\"",
            req.path(),
            percent_encode(&wrap_cursor(&cursor))
        );
        headers.set("Link", &link)?;
    }
    Ok(response)
}

fn log_read(view: &str, items: usize, bytes: usize, store: &ReportStore) {
    console_log!(
        "{}",
        json!({
            "event": "read",
            "view": view,
            "items": items,
            "bytes": bytes,
            "kvOperations": store.operations,
            "wasmMemoryBytes": wasm_memory_bytes(),
        })
    );
}

/// Whether one more item of `bytes` (and a comma) fits a page already
/// holding `used` bytes of `count` items: the first always does.
fn fits(count: usize, used: usize, bytes: usize) -> bool {
    count == 0 || used + 1 + bytes <= MAX_PAGE_BYTES
}

/// `GET /api/downstream-report`: live reports, ordered by identity.
pub async fn list(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let Paging { limit, cursor } = paging(&req.url(), MAX_REPORTS_PAGE)?;
    let now = rfc3339(Utc::now());
    let mut store = ReportStore::open(env)?;
    // Cut the page by the stored sizes before reading any value.
    let mut entries: Vec<Listed> = Vec::new();
    let mut used = 2;
    let (_, next) = store
        .list(&now, limit, cursor, |entry| {
            if !fits(entries.len(), used, entry.bytes) {
                return false;
            }
            used += entry.bytes + 1;
            entries.push(entry);
            true
        })
        .await?;
    let mut body = Vec::with_capacity(used.min(MAX_PAGE_BYTES + 2));
    body.push(b'[');
    let items = store.append_values(&entries, &mut body).await?;
    body.push(b']');
    drop(entries);
    log_read("reports", items, body.len(), &store);
    json_response(body, req, limit, next)
}

/// `GET /api/downstream-report/{identity}`: one JDC's live report. The
/// identity (percent-encoded in the path) is held to the rules a posted one
/// is: one that no report could have is a 400, not a KV lookup.
pub async fn one(
    req: &Incoming,
    env: &Env,
    config: &Config,
    encoded: &str,
) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    parameters(&req.url(), &[])?;
    let identity = percent_decode(encoded, false).ok_or_else(|| ApiError::BadIdentity {
        problem: "is not percent-encoded UTF-8".into(),
    })?;
    validate_identity(&identity).map_err(|e| ApiError::BadIdentity {
        problem: e.problem().to_owned(),
    })?;
    let mut store = ReportStore::open(env)?;
    match store.get(&identity, &rfc3339(Utc::now())).await? {
        Some(report) => json_response(report.into_bytes(), req, 0, None),
        None => Err(ApiError::NoReport { identity }),
    }
}

/// `GET /api/jdcs`: every live JDC's summary, ordered by identity.
pub async fn summaries(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let Paging { limit, cursor } = paging(&req.url(), MAX_SUMMARIES_PAGE)?;
    let mut store = ReportStore::open(env)?;
    // Written as they are listed; one that would overflow the page is
    // taken back and starts the next.
    let mut body = vec![b'['];
    let mut count = 0;
    let (items, next) = store
        .list(&rfc3339(Utc::now()), limit, cursor, |entry| {
            let mark = body.len();
            if count > 0 {
                body.push(b',');
            }
            // A summary always serialises: it has no map with other than
            // string keys.
            let _ = serde_json::to_writer(&mut body, &entry.summary);
            if count > 0 && body.len() + 1 > MAX_PAGE_BYTES {
                body.truncate(mark);
                return false;
            }
            count += 1;
            true
        })
        .await?;
    body.push(b']');
    log_read("jdcs", items, body.len(), &store);
    json_response(body, req, limit, next)
}
