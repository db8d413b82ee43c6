//! `GET /api/downstream-report`: every live report, as a JSON array.

use chrono::Utc;
use worker::{Env, Request, Response};

use crate::auth;
use crate::config::Config;
use crate::error::ApiError;
use crate::post_report::rfc3339;
use crate::store::ReportStore;

/// Lists the stored reports that have not expired, ordered by identity.
pub async fn handle(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_reader(req, config)?;
    let reports = ReportStore::open(env)?.all(&rfc3339(Utc::now())).await?;
    Ok(Response::from_json(&reports)?)
}
