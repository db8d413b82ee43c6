//! `POST /api/downstream-report`: check, validate, rename, store, answer.
//!
//! Cheap refusals come first: the IP rate limit and the report token before
//! the body is read, the media type and size before it is parsed, the
//! identity rate limit before any storage call. Then the order matters for
//! retries: the stored summary is read first (so a failing KV stops the
//! report before anything changed), the rename runs second and the KV write
//! last. The rename and the write are idempotent, so if either fails the JDC
//! gets a 503 and its retry (or next report) applies the whole report again;
//! a stored report therefore always means its rename was applied. A refused
//! report touches neither.
//!
//! KV writes cost ten times KV reads, and most reports repeat the last one.
//! So a report with the same content as the stored one (identity, miners,
//! derived userAgent) is not written again until the stored copy is
//! [`refresh_after_secs`] old. The rename runs for every report all the
//! same: a reconnected JDC's new `jd-client/sv2` row must be renamed by the
//! next report, and the indexed UPDATE that finds nothing to rename reads
//! about one row (measured by `npm run bench`).

use chrono::{DateTime, Duration, Utc};
use dmr_shared::api::JSON_CONTENT_TYPE;
use dmr_shared::limits::{refresh_after_secs, MAX_BODY_BYTES};
use dmr_shared::{
    address_of, parse_report, rfc3339, user_agent_for, Accepted, JdcSummary, StoredReport,
};
use serde_json::json;
use worker::{console_log, Env, Request, Response};

use crate::clients::{Clients, RenameOutcome};
use crate::config::Config;
use crate::error::ApiError;
use crate::store::ReportStore;
use crate::{auth, client, rate_limit};

/// Handles one report.
pub async fn handle(req: &mut Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let client = client::address(req, config);
    rate_limit::per_ip(env, &client).await?;
    // Without per-identity tokens the token check needs no body: do it before
    // reading one; with them it needs the identity.
    let per_identity_tokens = !config.report_tokens.is_empty();
    if !per_identity_tokens {
        auth::require_reporter(req, config, "")?;
    }
    require_json(req)?;
    let body = read_body(req).await?;
    let report = parse_report(&body)?;
    let identity = report.jdc_user_identity.clone();
    let address = address_of(&identity).to_owned();
    if per_identity_tokens {
        auth::require_reporter(req, config, &identity)?;
    }
    rate_limit::per_identity(env, &report.jdc_user_identity).await?;

    let now = Utc::now();
    let now_text = rfc3339(now);
    let user_agent = user_agent_for(&report.miners);
    let mut store = ReportStore::open(env)?;
    let previous = store.summary(&report.jdc_user_identity).await?;

    let outcome = match &user_agent {
        Some(ua) => Clients::open(env)?.rename(&address, ua, &now_text).await?,
        None => RenameOutcome::default(),
    };

    let ttl = config.report_ttl_secs;
    let expires_at = rfc3339(now + Duration::seconds(ttl as i64));
    let mut summary = JdcSummary::of(&report, user_agent.clone(), &now_text, &expires_at);
    let fresh = previous.filter(|p| {
        p.content == summary.content
            && p.user_agent == summary.user_agent
            && age_secs(&p.received_at, now) < refresh_after_secs(ttl) as i64
    });
    let miners = report.miners.len();
    let stored = match fresh {
        // The same miners, stored recently enough: keep the stored copy and
        // its expiry (see `refresh_after_secs`), save the write.
        Some(previous) => {
            summary = previous;
            false
        }
        None => {
            let stored = StoredReport {
                received_at: now_text.clone(),
                expires_at: expires_at.clone(),
                user_agent: user_agent.clone(),
                report,
            };
            store.put(&stored, &summary, ttl).await?;
            true
        }
    };

    console_log!(
        "{}",
        json!({
            "event": "report",
            "client": client,
            "identity": identity,
            "address": address,
            "miners": miners,
            "userAgent": user_agent,
            "renamed": outcome.renamed,
            "rowsRead": outcome.rows_read,
            "rowsWritten": outcome.rows_written,
            "stored": stored,
            "kvOperations": store.operations,
        })
    );

    Ok(Response::from_json(&Accepted {
        success: true,
        accepted: miners as u64,
        user_agent,
        renamed: outcome.renamed as u64,
        stored,
        received_at: summary.received_at,
        expires_at: summary.expires_at,
    })?)
}

/// Whole seconds from `then` (RFC 3339) to `now`; a time that does not
/// parse counts as infinitely old, so the report is stored again.
fn age_secs(then: &str, now: DateTime<Utc>) -> i64 {
    DateTime::parse_from_rfc3339(then)
        .map_or(i64::MAX, |t| (now - t.with_timezone(&Utc)).num_seconds())
}

/// Refuses bodies not declared as JSON (`application/json`, any parameters).
fn require_json(req: &Request) -> Result<(), ApiError> {
    let found = req.headers().get("Content-Type").ok().flatten();
    let is_json = found.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case(JSON_CONTENT_TYPE))
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
