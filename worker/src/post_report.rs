//! `POST /api/downstream-report`: check, validate, rename, store, answer.
//!
//! Cheap refusals come first: the IP rate limit and the report token before
//! the body is read, the media type and size before it is parsed, the
//! identity rate limit before any storage call. Then the order matters for
//! retries: the rename runs first and the KV write second. Both are
//! idempotent, so if either fails the JDC gets a 503 and its retry (or next
//! report) applies the whole report again; a stored report therefore always
//! means its rename was applied. A refused report touches neither.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dmr_shared::limits::MAX_BODY_BYTES;
use dmr_shared::{address_of, parse_report, user_agent_for, StoredReport};
use serde_json::json;
use worker::{console_log, Env, Request, Response};

use crate::clients::{Clients, RenameOutcome};
use crate::config::Config;
use crate::error::ApiError;
use crate::store::ReportStore;
use crate::{auth, rate_limit};

/// RFC 3339 in one fixed shape (UTC, milliseconds, `Z`), so stored times
/// also sort as strings.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Handles one report.
pub async fn handle(req: &mut Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    rate_limit::per_ip(env, req).await?;
    if config.report_tokens.is_empty() {
        // Without per-address tokens the check needs no body: do it first.
        auth::require_reporter(req, config, "")?;
    }
    require_json(req)?;
    let body = read_body(req).await?;
    let report = parse_report(&body)?;
    let address = address_of(&report.jdc_user_identity).to_owned();
    auth::require_reporter(req, config, &address)?;
    rate_limit::per_identity(env, &report.jdc_user_identity).await?;

    let now = Utc::now();
    let received_at = rfc3339(now);
    let user_agent = user_agent_for(&report.miners);
    let outcome = match &user_agent {
        Some(ua) => {
            Clients::open(env)?
                .rename(&address, ua, &received_at)
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
            "address": address,
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

/// Refuses bodies not declared as JSON (`application/json`, any parameters).
fn require_json(req: &Request) -> Result<(), ApiError> {
    let found = req.headers().get("Content-Type").ok().flatten();
    let is_json = found.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType { found })
    }
}

/// Reads the body, refusing it by its declared length before reading when
/// it is too large, and by its real length otherwise.
async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::PayloadTooLarge {
        limit: MAX_BODY_BYTES,
    };
    let declared = req.headers().get("Content-Length").ok().flatten();
    if declared
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0)
        > MAX_BODY_BYTES as u64
    {
        return Err(too_large);
    }
    let body = req.bytes().await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large);
    }
    Ok(body)
}
