//! [`Clients`]: the pool's `clients` table in D1, and the one statement the
//! protocol runs against it.
//!
//! The schema lives in `worker/migrations`. Its partial index on
//! `(address, userAgent) WHERE deletedAt IS NULL` makes the rename read only
//! the rows it renames, so its cost does not grow with the table.

use dmr_shared::JDC_USER_AGENT;
use serde::Serialize;
use worker::js_sys::{Function, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{D1Database, Env};

use crate::config::CLIENTS_DB;
use crate::error::ApiError;
use crate::store::js_text;

/// Renames a JDC's live, not yet renamed connections. Bound parameters only:
/// every value comes from the report.
const RENAME_SQL: &str = "UPDATE clients SET userAgent = ?1, updatedAt = ?2 \
     WHERE address = ?3 AND userAgent = ?4 AND deletedAt IS NULL";

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

impl Clients {
    /// Opens the database bound as [`CLIENTS_DB`].
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        let db = env.d1(CLIENTS_DB).map_err(d1_error)?;
        Ok(Clients { db })
    }

    /// Renames every live `jd-client/sv2` row of `address` to `user_agent`,
    /// stamping `updatedAt` with `now`. Idempotent: a second run finds nothing
    /// left to rename, so retrying a report is always safe.
    pub async fn rename(
        &self,
        address: &str,
        user_agent: &str,
        now: &str,
    ) -> Result<RenameOutcome, ApiError> {
        let statement = self
            .db
            .prepare(RENAME_SQL)
            .bind(&[
                user_agent.into(),
                now.into(),
                address.into(),
                JDC_USER_AGENT.into(),
            ])
            .map_err(d1_error)?;
        // `run()` of the statement itself, and only the three members of its
        // `meta` this needs read off the answer, rather than the whole of it
        // converted member by member.
        let run: Function = Reflect::get(statement.inner(), &"run".into())
            .and_then(|f| f.dyn_into())
            .map_err(|e| d1_error(js_text(&e)))?;
        let result = run
            .call0(statement.inner())
            .and_then(|p| p.dyn_into::<Promise>())
            .map_err(|e| d1_error(js_text(&e)))?;
        let result = JsFuture::from(result)
            .await
            .map_err(|e| d1_error(js_text(&e)))?;
        let member = |of: &JsValue, name: &str| Reflect::get(of, &name.into()).ok();
        if let Some(error) = member(&result, "error").and_then(|e| e.as_string()) {
            return Err(d1_error(error));
        }
        let meta = member(&result, "meta").filter(|m| m.is_object());
        let count = |name: &str| {
            meta.as_ref()
                .and_then(|m| member(m, name))
                .and_then(|v| v.as_f64())
                .map_or(0, |n| n as usize)
        };
        Ok(RenameOutcome {
            renamed: count("changes"),
            rows_read: count("rows_read"),
            rows_written: count("rows_written"),
        })
    }
}
