//! `POST /api/downstream-report`: validate, rename, store, answer.
//!
//! Order matters for retries. The rename runs first and the KV write second:
//! both are idempotent, so if either fails the JDC gets a 503 and its next
//! report (or a retry) applies the whole thing again. A stored report
//! therefore always means its rename was applied. A report that fails
//! validation touches neither.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dmr_shared::{address_of, parse_report, user_agent_for, StoredReport};
use serde_json::json;
use worker::{console_log, Env, Request, Response};

use crate::clients::{Clients, RenameOutcome};
use crate::config::{Config, MAX_BODY_BYTES};
use crate::error::ApiError;
use crate::store::ReportStore;

/// RFC 3339 in one fixed shape (UTC, milliseconds, `Z`), so stored times
/// also sort as strings.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Handles one report.
pub async fn handle(req: &mut Request, env: &Env, config: Config) -> Result<Response, ApiError> {
    let body = req.bytes().await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let report = parse_report(&body)?;

    let now = Utc::now();
    let received_at = rfc3339(now);
    let user_agent = user_agent_for(&report.miners);
    let address = address_of(&report.jdc_user_identity);

    let outcome = match &user_agent {
        Some(ua) => {
            Clients::open(env)?
                .rename(address, ua, &received_at)
                .await?
        }
        None => RenameOutcome::default(),
    };

    let miners = report.miners.len();
    let stored = StoredReport {
        received_at,
        expires_at: rfc3339(now + Duration::seconds(config.report_ttl_secs as i64)),
        user_agent: user_agent.clone(),
        report,
    };
    ReportStore::open(env)?
        .put(&stored, config.report_ttl_secs)
        .await?;

    console_log!(
        "{}",
        json!({
            "event": "report",
            "identity": stored.report.jdc_user_identity,
            "address": address_of(&stored.report.jdc_user_identity),
            "miners": miners,
            "userAgent": user_agent,
            "renamed": outcome.renamed,
            "rowsRead": outcome.rows_read,
            "rowsWritten": outcome.rows_written,
        })
    );

    Ok(Response::from_json(&json!({
        "success": true,
        "accepted": miners,
        "userAgent": user_agent,
        "renamed": outcome.renamed,
        "expiresAt": stored.expires_at,
    }))?)
}
