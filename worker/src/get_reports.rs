//! `GET /api/downstream-report`: every live report, as a JSON array.

use chrono::Utc;
use worker::{Env, Response};

use crate::error::ApiError;
use crate::post_report::rfc3339;
use crate::store::ReportStore;

/// Lists the stored reports that have not expired, ordered by identity.
pub async fn handle(env: &Env) -> Result<Response, ApiError> {
    let reports = ReportStore::open(env)?.all(&rfc3339(Utc::now())).await?;
    Ok(Response::from_json(&reports)?)
}
