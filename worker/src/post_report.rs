//! `POST /api/downstream-report`: check, validate, rename, store, answer.
//!
//! Cheap refusals come first: the IP rate limit and the report token (or,
//! with per-identity tokens, whether any configured token is presented)
//! before the body is read, the media type and size before it is parsed, the
//! identity rate limit before any storage call. The body is read as a
//! stream and refused as soon as it passes [`MAX_BODY_BYTES`], whatever its
//! `Content-Length` says or omits; it is parsed straight into the report
//! (see `dmr_shared::validate`), and its buffer is reused for the JSON that
//! is stored. So the largest report costs one body-sized buffer and the
//! report itself: the Worker's wasm memory grows by less than 16 MiB
//! whatever the bodies (`tests/e2e/memory.rs`). Then the order matters for
//! retries: the stored summary is read first (so a failing KV stops the
//! report before anything changed; a matching note stands for it), D1 is
//! written second when it must be, and KV last. Both writes are idempotent,
//! so if either fails the JDC gets a 503 and its retry (or next report)
//! applies the whole report again; a stored report therefore always means
//! its name was written. A refused report touches neither.
//!
//! KV writes cost ten times KV reads, and most reports repeat the last one.
//! So a report with the same content as the stored one (identity, miners,
//! derived userAgent) is not written again until the stored copy is
//! [`refresh_after_secs`] old. D1 is written only when the JDC's entry in
//! `jdc_names` must change ([`names::needed`]): then one batch writes the
//! entry and renames the address's live `jd-client/sv2` rows, and the KV
//! copy is written too, to note the entry's new end. A reconnected JDC's new
//! `jd-client/sv2` row needs no report: D1's triggers name it from the
//! entry as the pool writes it. So a report that changes nothing makes no
//! D1 call.
//!
//! Whether the stored copy is the same, and what the entry holds, is first
//! asked of this Worker instance's own note ([`Hints`], in memory), written
//! after each KV write and read: with a note, no KV read is made (a matching
//! note saves the writes, any other is followed by them). Without a note,
//! KV's stored metadata decides as above. Either way a KV failure stops the
//! report before D1 is written or at KV's write, which a retry repeats in
//! full.

use chrono::{DateTime, Duration, Utc};
use dmr_shared::api::JSON_CONTENT_TYPE;
use dmr_shared::limits::{refresh_after_secs, MAX_BODY_BYTES};
use dmr_shared::{
    address_of, parse_report, rfc3339, user_agent_for, Accepted, JdcSummary, ReportError,
    StoredReport,
};
use futures_util::StreamExt;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Response};

use crate::clients::{Clients, RenameOutcome};
use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::names::{self, NameWrite};
use crate::report_log::ReportLine;
use crate::store::{Hint, Hints, ReportStore};
use crate::{auth, client, rate_limit};

/// Handles one report.
pub async fn handle(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let client = client::address(req, config);
    rate_limit::per_ip(env, &client).await?;
    // Without per-identity tokens the token check needs no body: do it before
    // reading one. With them it needs the identity, but a request that no
    // configured token could admit is refused before its body is read all
    // the same (see `auth::require_any_reporter`).
    let per_identity_tokens = !config.report_tokens.is_empty();
    if per_identity_tokens {
        auth::require_any_reporter(req, config)?;
    } else {
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
    rate_limit::per_identity(env, &identity).await?;
    // Valid, admitted, not limited, nothing written yet: where a test build
    // can make the Worker trap (see `trap`).
    #[cfg(feature = "trap")]
    crate::trap::on_request(req, env);

    let now = Utc::now();
    let now_text = rfc3339(now);
    let user_agent = user_agent_for(&report.miners);
    let ttl = config.report_ttl_secs;
    let refresh_after = refresh_after_secs(ttl);
    // The setting's range keeps these far from chrono's limits; were it
    // not, an answer beats a trap.
    let after = |secs: u64| {
        i64::try_from(secs)
            .ok()
            .and_then(Duration::try_seconds)
            .and_then(|secs| now.checked_add_signed(secs))
            .map(rfc3339)
            .ok_or_else(|| ApiError::Internal(format!("{secs} s from now is not a time")))
    };
    let expires_at = after(ttl)?;
    // An entry ending before this was written `refresh_after` ago or more:
    // it is renewed.
    let renew_before = after(ttl - refresh_after)?;
    let mut summary = JdcSummary::of(&report, user_agent.clone(), &now_text, &expires_at);
    // The stored copy can stand for this report: the same content, stored
    // recently enough (see `refresh_after_secs`).
    let stands = |copy: &Hint| {
        copy.content == summary.content
            && copy.user_agent == summary.user_agent
            && age_secs(&copy.received_at, now) < refresh_after as i64
    };
    let mut store = ReportStore::open(env)?;
    let note = Hints::get(&identity);
    let hint = note.is_some();
    // A note stands for KV's copy: reading KV would only tell what the note
    // does (unless another instance wrote meanwhile: then this report's
    // writes repeat what it wrote, or the note's entry is renewed early;
    // either way at most one refresh interval late). No note: what KV holds
    // decides.
    let known = match note {
        Some(note) => Some(note),
        None => store.summary(&identity).await?,
    };

    let name = names::needed(
        user_agent.as_deref(),
        known.as_ref(),
        &now_text,
        &renew_before,
    );
    let (outcome, d1_calls, name_until) = match name {
        NameWrite::Keep { until } => (RenameOutcome::default(), 0, until),
        NameWrite::Put(ua) => {
            let outcome = Clients::open(env)?
                .name(&identity, &address, &ua, &expires_at, &now_text)
                .await?;
            (outcome, 1, Some(expires_at.clone()))
        }
        NameWrite::Forget => (
            Clients::open(env)?.forget(&identity, &address).await?,
            1,
            None,
        ),
    };
    // The same miners, stored recently enough, and D1's entry as the copy
    // notes it: the copy stands for this report.
    let previous = known.filter(|copy| d1_calls == 0 && stands(copy));

    let miners = report.miners.len();
    let stored = match previous {
        // The same miners, stored recently enough: keep the stored copy and
        // its expiry, save the write.
        Some(previous) => {
            summary.received_at = previous.received_at.clone();
            summary.expires_at = previous.expires_at.clone();
            if !hint {
                // KV told: note it, so the next reports need not ask.
                Hints::put(&identity, previous.clone());
            }
            false
        }
        None => {
            let stored = StoredReport {
                received_at: now_text.clone(),
                expires_at: expires_at.clone(),
                user_agent: user_agent.clone(),
                report,
            };
            // The body's buffer takes the stored JSON: no second
            // body-sized block (see `read_body`).
            store
                .put(&stored, &summary, name_until.as_deref(), ttl, body)
                .await?;
            // Noted only once stored, so a note never stands for a copy
            // that is not in KV.
            Hints::put(&identity, Hint::of(&summary, name_until));
            true
        }
    };

    ReportLine {
        client: &client,
        identity: &identity,
        address: &address,
        miners,
        user_agent: user_agent.as_deref(),
        renamed: outcome.renamed,
        rows_read: outcome.rows_read,
        rows_written: outcome.rows_written,
        stored,
        hint,
        kv_operations: store.operations,
        d1_calls,
    }
    .log();

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
fn require_json(req: &Incoming) -> Result<(), ApiError> {
    let found = req.header("Content-Type");
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

/// A body that broke off before its end.
fn unreadable(e: impl std::fmt::Debug) -> ApiError {
    ApiError::BadReport(ReportError::Malformed(format!(
        "the body could not be read to its end ({e:?})"
    )))
}

/// Room kept after a body for what storing adds to the report (`receivedAt`,
/// `expiresAt`, `userAgent`) and for numbers written longer than they were
/// sent (`1` as `1.0`, at most 23 bytes more for each of 2,000 miners), so
/// the stored JSON fits the body's buffer.
const STORED_SLACK: usize = 64 * 1024;

/// Reads the body, refusing it by its declared length before reading when
/// that is too large; a body without a declared length (chunked) is read as
/// a stream and refused as soon as what arrived passes the limit. The buffer is sized once
/// (the declared length, or the limit from the second chunk on), with
/// [`STORED_SLACK`] to spare, rather than doubled as it fills.
async fn read_body(req: &Incoming) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::PayloadTooLarge {
        limit: MAX_BODY_BYTES,
    };
    let declared = req
        .header("Content-Length")
        .and_then(|n| n.trim().parse::<u64>().ok());
    if declared.unwrap_or(0) > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    // A body with a content coding could be expanded by the runtime past
    // its declared length: it is read as a stream, like a chunked one.
    let encoded = req
        .header("Content-Encoding")
        .is_some_and(|coding| !coding.trim().eq_ignore_ascii_case("identity"));
    let mut body = Vec::new();
    if let (Some(declared), false) = (declared, encoded) {
        // The runtime frames a body by its Content-Length: it is whole at
        // that size, so it comes across the wasm boundary in one copy,
        // straight into a buffer with room for the stored JSON.
        let whole = JsFuture::from(req.inner().array_buffer().map_err(unreadable)?)
            .await
            .map_err(unreadable)?;
        let whole = Uint8Array::new(&whole);
        let len = whole.length() as usize;
        if len > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.reserve_exact(len.max(declared as usize) + STORED_SLACK);
        body.resize(len, 0);
        whole.copy_to(&mut body);
        return Ok(body);
    }
    // No body at all reads as an empty one (and is malformed JSON).
    let Some(mut chunks) = req.body() else {
        return Ok(body);
    };
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| unreadable(&e))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        if body.capacity() - body.len() < chunk.len() {
            let room = if body.is_empty() {
                chunk.len() + STORED_SLACK
            } else {
                MAX_BODY_BYTES + STORED_SLACK
            };
            body.reserve_exact(room - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
