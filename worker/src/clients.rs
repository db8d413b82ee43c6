//! [`Clients`]: the pool's `clients` table in D1, the statement the
//! protocol runs against it, and the `jdc_names` entries that let D1 name a
//! JDC's rows itself (see `names`).
//!
//! The schema lives in `worker/migrations`. Its partial index on
//! `(address, userAgent) WHERE deletedAt IS NULL` makes the rename read only
//! the rows it renames, so its cost does not grow with the table. The
//! triggers of `0003_jdc_names.sql` name a row the pool writes as
//! `jd-client/sv2` from the JDC's entry; the rename here names the rows
//! born before the entry was.

use dmr_shared::JDC_USER_AGENT;
use serde::Serialize;
use worker::{D1Database, D1Result, Env};

use crate::config::CLIENTS_DB;
use crate::error::ApiError;

/// Renames a JDC's live, not yet renamed connections. Bound parameters only:
/// every value comes from the report.
const RENAME_SQL: &str = "UPDATE clients SET userAgent = ?1, updatedAt = ?2 \
     WHERE address = ?3 AND userAgent = ?4 AND deletedAt IS NULL";

/// Writes a JDC's entry: its name and until when it holds.
const PUT_NAME_SQL: &str = "INSERT INTO jdc_names (address, identity, userAgent, expiresAt) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (address, identity) DO UPDATE SET \
     userAgent = excluded.userAgent, expiresAt = excluded.expiresAt";

/// Deletes a JDC's entry: its rows are no longer named at birth.
const FORGET_NAME_SQL: &str = "DELETE FROM jdc_names WHERE address = ?1 AND identity = ?2";

/// What a rename did, from D1's result metadata.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RenameOutcome {
    /// Rows whose `userAgent` changed.
    pub renamed: usize,
    /// Rows D1 read to find them (billed).
    pub rows_read: usize,
    /// Rows D1 wrote, index entries included (billed).
    pub rows_written: usize,
}

/// The pool's client table.
pub struct Clients {
    db: D1Database,
}

fn d1_error(e: impl ToString) -> ApiError {
    ApiError::unavailable("D1", e)
}

/// The rows D1 billed for `results`, and the changes of the last.
fn outcome(results: &[D1Result]) -> Result<RenameOutcome, ApiError> {
    let mut outcome = RenameOutcome::default();
    for result in results {
        if let Some(error) = result.error() {
            return Err(d1_error(error));
        }
        let meta = result.meta().map_err(d1_error)?;
        let meta = meta.as_ref();
        outcome.rows_read += meta.and_then(|m| m.rows_read).unwrap_or(0);
        outcome.rows_written += meta.and_then(|m| m.rows_written).unwrap_or(0);
        outcome.renamed = meta.and_then(|m| m.changes).unwrap_or(0);
    }
    Ok(outcome)
}

impl Clients {
    /// Opens the database bound as [`CLIENTS_DB`].
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        let db = env.d1(CLIENTS_DB).map_err(d1_error)?;
        Ok(Clients { db })
    }

    /// Writes `identity`'s entry (`user_agent` until `until`) and renames
    /// every live `jd-client/sv2` row of `address` to `user_agent`, stamping
    /// `updatedAt` with `now`: one D1 call, one transaction, so either both
    /// happen or neither. Idempotent: retrying a report is always safe.
    pub async fn name(
        &self,
        identity: &str,
        address: &str,
        user_agent: &str,
        until: &str,
        now: &str,
    ) -> Result<RenameOutcome, ApiError> {
        let put = self
            .db
            .prepare(PUT_NAME_SQL)
            .bind(&[
                address.into(),
                identity.into(),
                user_agent.into(),
                until.into(),
            ])
            .map_err(d1_error)?;
        let rename = self
            .db
            .prepare(RENAME_SQL)
            .bind(&[
                user_agent.into(),
                now.into(),
                address.into(),
                JDC_USER_AGENT.into(),
            ])
            .map_err(d1_error)?;
        let results = self.db.batch(vec![put, rename]).await.map_err(d1_error)?;
        outcome(&results)
    }

    /// Deletes `identity`'s entry, so the rows the pool writes from now on
    /// stay `jd-client/sv2`. Rows already named keep their name.
    pub async fn forget(&self, identity: &str, address: &str) -> Result<RenameOutcome, ApiError> {
        let forget = self
            .db
            .prepare(FORGET_NAME_SQL)
            .bind(&[address.into(), identity.into()])
            .map_err(d1_error)?;
        let results = self.db.batch(vec![forget]).await.map_err(d1_error)?;
        let mut outcome = outcome(&results)?;
        // Entries deleted, not rows renamed.
        outcome.renamed = 0;
        Ok(outcome)
    }
}
