//! The read endpoints, all behind the optional inspector token:
//!
//! - `GET /api/downstream-report`: the live reports as a JSON array, the
//!   protocol's debugging view; a page of at most 1,000 (one `list` call and
//!   one bulk read per 100), with `Link: <...>; rel="next"` when more remain;
//! - `GET /api/downstream-report/{identity}`: one JDC's report (one read);
//! - `GET /api/jdcs`: a summary of every live JDC from KV metadata alone,
//!   10,000 per page in at most 10 `list` calls; what the inspector polls.

use chrono::Utc;
use dmr_shared::limits::{MAX_REPORTS_PAGE, MAX_SUMMARIES_PAGE};
use dmr_shared::percent::{percent_encode, query_pairs};
use dmr_shared::rfc3339;
use serde::Serialize;
use serde_json::json;
use worker::{console_log, Env, Request, Response};

use crate::auth;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::ReportStore;

/// `?limit=` and `?cursor=` of a paged read.
struct Paging {
    limit: usize,
    cursor: Option<String>,
}

fn paging(req: &Request, max: usize) -> Result<Paging, ApiError> {
    let mut paging = Paging {
        limit: max,
        cursor: None,
    };
    for (name, value) in query_pairs(&req.inner().url()) {
        match name.as_str() {
            "limit" => {
                paging.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| ApiError::BadQuery {
                        field: "limit",
                        problem: format!("must be a whole number from 1 to {max}"),
                    })?;
            }
            "cursor" => paging.cursor = Some(value),
            _ => {}
        }
    }
    Ok(paging)
}

/// A JSON answer, with a `Link` to the next page when there is one.
fn page_response<T: Serialize>(
    items: &[T],
    req: &Request,
    limit: usize,
    cursor: Option<String>,
) -> Result<Response, ApiError> {
    let mut response = Response::from_json(&items)?;
    if let Some(cursor) = cursor {
        let link = format!(
            "<{}?limit={limit}&cursor={}>; rel=\"next\"",
            req.path(),
            percent_encode(&cursor)
        );
        response.headers_mut().set("Link", &link)?;
    }
    Ok(response)
}

fn log_read(view: &str, items: usize, store: &ReportStore) {
    console_log!(
        "{}",
        json!({"event": "read", "view": view, "items": items, "kvOperations": store.operations})
    );
}

/// `GET /api/downstream-report`: live reports, ordered by identity.
pub async fn list(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let Paging { limit, cursor } = paging(req, MAX_REPORTS_PAGE)?;
    let now = rfc3339(Utc::now());
    let mut store = ReportStore::open(env)?;
    let page = store.summaries(&now, limit, cursor).await?;
    let reports = store.reports(&page.summaries, &now).await?;
    log_read("reports", reports.len(), &store);
    page_response(&reports, req, limit, page.cursor)
}

/// `GET /api/downstream-report/{identity}`: one JDC's live report.
pub async fn one(
    req: &Request,
    env: &Env,
    config: &Config,
    identity: &str,
) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let mut store = ReportStore::open(env)?;
    match store.get(identity, &rfc3339(Utc::now())).await? {
        Some(report) => Ok(Response::from_json(&report)?),
        None => Err(ApiError::NoReport {
            identity: identity.to_owned(),
        }),
    }
}

/// `GET /api/jdcs`: every live JDC's summary, ordered by identity.
pub async fn summaries(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let Paging { limit, cursor } = paging(req, MAX_SUMMARIES_PAGE)?;
    let mut store = ReportStore::open(env)?;
    let page = store.summaries(&rfc3339(Utc::now()), limit, cursor).await?;
    log_read("jdcs", page.summaries.len(), &store);
    page_response(&page.summaries, req, limit, page.cursor)
}
