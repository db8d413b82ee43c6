//! The Worker's one error type, and the one place it becomes an HTTP answer.
//!
//! Every error is answered as RFC 9457 `application/problem+json`:
//! `type`, `title`, `status`, `detail`, plus `field` when one field is to
//! blame and `success: false` for JDCs that only look at that. Storage and
//! internal failures are logged with their cause and answered generically;
//! a bad setting is logged with what was found and answered with its name
//! and what it must be (a secret's problem is logged only).

use dmr_shared::api::PROBLEM_CONTENT_TYPE;
use dmr_shared::{Problem, ReportError};
use serde_json::json;
use worker::{console_error, Response, Result};

use crate::config::BadSetting;

/// Why a request was not served.
#[derive(Debug)]
pub enum ApiError {
    /// The body is not JSON, or not a valid report.
    BadReport(ReportError),
    /// A query parameter is out of range, repeated or not understood.
    BadQuery { field: String, problem: String },
    /// The identity in a path is one no report could have.
    BadIdentity { problem: String },
    /// The body is larger than the Worker accepts.
    PayloadTooLarge { limit: usize },
    /// The body is not declared as JSON.
    UnsupportedMediaType { found: Option<String> },
    /// A bearer token is required and missing or wrong.
    Unauthorized {
        realm: &'static str,
        detail: &'static str,
    },
    /// Too many requests from this client or identity.
    RateLimited { retry_after: u32 },
    /// The path exists but not for this method; `allow` lists the methods.
    MethodNotAllowed { allow: &'static str },
    /// No such endpoint.
    NotFound { path: String },
    /// No live report for this identity.
    NoReport { identity: String },
    /// KV or D1 failed; `store` says which, `cause` is logged, not sent.
    Unavailable { store: &'static str, cause: String },
    /// A setting the Worker cannot run with; every request gets this.
    BadSetting(BadSetting),
    /// A bug or a runtime failure outside storage; logged.
    Internal(String),
}

impl ApiError {
    /// A storage failure of `store` ("KV" or "D1").
    pub fn unavailable(store: &'static str, cause: impl ToString) -> Self {
        ApiError::Unavailable {
            store,
            cause: cause.to_string(),
        }
    }

    fn status(&self) -> u16 {
        match self {
            ApiError::BadReport(ReportError::Malformed(_)) => 400,
            ApiError::BadReport(ReportError::Invalid { .. }) => 422,
            ApiError::BadQuery { .. } | ApiError::BadIdentity { .. } => 400,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::Unauthorized { .. } => 401,
            ApiError::RateLimited { .. } => 429,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::NotFound { .. } | ApiError::NoReport { .. } => 404,
            ApiError::Unavailable { .. } => 503,
            ApiError::BadSetting(_) | ApiError::Internal(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadReport(ReportError::Malformed(_)) => "Malformed JSON",
            ApiError::BadReport(ReportError::Invalid { .. }) => "Invalid report",
            ApiError::BadQuery { .. } => "Bad query",
            ApiError::BadIdentity { .. } => "Invalid identity",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType { .. } => "Unsupported media type",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::NotFound { .. } | ApiError::NoReport { .. } => "Not found",
            ApiError::Unavailable { .. } => "Storage unavailable",
            ApiError::BadSetting(_) => "Bad setting",
            ApiError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadReport(e) => e.to_string(),
            ApiError::BadQuery { field, problem } => format!("{field}: {problem}"),
            ApiError::BadIdentity { problem } => format!("identity: {problem}"),
            ApiError::PayloadTooLarge { limit } => {
                format!("the body is larger than {limit} bytes")
            }
            ApiError::UnsupportedMediaType { found } => format!(
                "the body must be sent as Content-Type: application/json, not {}",
                found.as_deref().unwrap_or("without a Content-Type")
            ),
            ApiError::Unauthorized { detail, .. } => (*detail).into(),
            ApiError::RateLimited { retry_after } => {
                format!("too many requests; retry in {retry_after} s")
            }
            ApiError::MethodNotAllowed { allow } => {
                format!("this endpoint accepts {allow}")
            }
            ApiError::NotFound { path } => format!("there is no endpoint at {path}"),
            ApiError::NoReport { identity } => {
                format!("no live report for {identity:?}: it never reported or its report expired")
            }
            ApiError::Unavailable { store, .. } => format!(
                "the pool's {} is unavailable; nothing was stored or renamed, retry later",
                if *store == "D1" {
                    "client database"
                } else {
                    "report store"
                }
            ),
            ApiError::BadSetting(bad) if bad.secret => format!(
                "the pool's secret {} cannot be used (its log says why); nothing was stored or renamed",
                bad.name
            ),
            ApiError::BadSetting(bad) => format!(
                "the pool's setting {} {}; nothing was stored or renamed",
                bad.name, bad.problem
            ),
            ApiError::Internal(_) => "the request could not be handled".into(),
        }
    }

    /// The answer to send for this error.
    pub fn to_response(&self) -> Result<Response> {
        let status = self.status();
        match self {
            ApiError::Unavailable { store, cause } => console_error!(
                "{}",
                json!({"event": "storage_error", "store": store, "cause": cause})
            ),
            // Logged as every failure of the Worker's own is, so one alert
            // on `internal_error` covers it.
            ApiError::BadSetting(bad) => console_error!(
                "{}",
                json!({"event": "internal_error", "setting": bad.name,
                       "cause": bad.to_string(), "found": bad.found})
            ),
            ApiError::Internal(cause) => {
                console_error!("{}", json!({"event": "internal_error", "cause": cause}))
            }
            _ => {}
        }
        let mut body = Problem::new(status, self.title(), self.detail());
        let field = match self {
            ApiError::BadReport(e) => e.field(),
            ApiError::BadQuery { field, .. } => Some(field.as_str()),
            ApiError::BadIdentity { .. } => Some("identity"),
            _ => None,
        };
        if let Some(field) = field {
            body = body.with_field(field);
        }
        let mut response = Response::from_json(&body)?.with_status(status);
        let headers = response.headers_mut();
        headers.set("Content-Type", PROBLEM_CONTENT_TYPE)?;
        match self {
            ApiError::MethodNotAllowed { allow } => headers.set("Allow", allow)?,
            ApiError::RateLimited { retry_after } => {
                headers.set("Retry-After", &retry_after.to_string())?
            }
            ApiError::Unauthorized { realm, .. } => {
                headers.set("WWW-Authenticate", &format!("Bearer realm=\"{realm}\""))?
            }
            ApiError::Unavailable { .. } => headers.set("Retry-After", "30")?,
            _ => {}
        }
        Ok(response)
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::paging::BadParameter> for ApiError {
    fn from(e: crate::paging::BadParameter) -> Self {
        ApiError::BadQuery {
            field: e.field,
            problem: e.problem,
        }
    }
}

impl From<BadSetting> for ApiError {
    fn from(e: BadSetting) -> Self {
        ApiError::BadSetting(e)
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        ApiError::BadReport(e)
    }
}
