//! Which handler answers which path and method. Static assets (the
//! inspector) are served before the Worker runs; only `/api/*` arrives here.
//!
//! `HEAD` is answered wherever `GET` is, as `GET` would be (the same
//! status and headers, `Content-Length` included), without the body: a
//! general-purpose HTTP server owes it, and monitors use it. It costs what
//! the `GET` costs; the body is read and dropped here.

use worker::{Env, Response, ResponseBody, Result};

use dmr_shared::api::{AGENTS_PATH, JDCS_PATH, ONE_REPORT_PREFIX, OPENAPI_PATH, REPORTS_PATH};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::{agents, get_reports, openapi, post_report};

/// `Allow` of a path that only reads.
const READ_ONLY: &str = "GET, HEAD";

/// `Allow` of the report endpoint.
const READ_AND_REPORT: &str = "GET, HEAD, POST";

/// Answers one request; every error becomes a problem+json response here.
pub async fn handle(req: Incoming, env: &Env) -> Result<Response> {
    let outcome = match Config::from_env(env) {
        Ok(config) => dispatch(&req, env, &config).await,
        Err(bad_setting) => Err(ApiError::BadSetting(bad_setting)),
    };
    let mut response = match outcome {
        Ok(response) => response,
        Err(e) => e.to_response()?,
    };
    let headers = response.headers_mut();
    // Answers are not to be kept, unless their handler says otherwise.
    if !headers.has("Cache-Control")? {
        headers.set("Cache-Control", "no-store")?;
    }
    headers.set("X-Content-Type-Options", "nosniff")?;
    if req.method() == "HEAD" {
        return without_body(response);
    }
    Ok(response)
}

/// The answer to a `HEAD`: the `GET`'s status and headers, with the length
/// of the body it leaves out.
fn without_body(response: Response) -> Result<Response> {
    let length = match response.body() {
        ResponseBody::Empty => Some(0),
        ResponseBody::Body(bytes) => Some(bytes.len()),
        // No answer here streams; one that did would have no length to tell.
        ResponseBody::Stream(_) => None,
    };
    let status = response.status_code();
    let headers = response.headers().clone();
    if let Some(length) = length {
        headers.set("Content-Length", &length.to_string())?;
    }
    Ok(Response::empty()?.with_status(status).with_headers(headers))
}

async fn dispatch(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    let method = match req.method() {
        // Answered as GET; `handle` leaves the body out.
        head if head == "HEAD" => "GET".to_owned(),
        method => method,
    };
    if let Some(encoded) = path.strip_prefix(ONE_REPORT_PREFIX) {
        if encoded.is_empty() {
            return Err(ApiError::NotFound { path });
        }
        if method.as_str() != "GET" {
            return Err(ApiError::MethodNotAllowed { allow: READ_ONLY });
        }
        return get_reports::one(req, env, config, encoded).await;
    }
    match (path.as_str(), method.as_str()) {
        (REPORTS_PATH, "POST") => post_report::handle(req, env, config).await,
        (REPORTS_PATH, "GET") => get_reports::list(req, env, config).await,
        (REPORTS_PATH, _) => Err(ApiError::MethodNotAllowed {
            allow: READ_AND_REPORT,
        }),
        (JDCS_PATH, "GET") => get_reports::summaries(req, env, config).await,
        (JDCS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: READ_ONLY }),
        (AGENTS_PATH, "GET") => agents::handle(req, env, config).await,
        (AGENTS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: READ_ONLY }),
        (OPENAPI_PATH, "GET") => openapi::handle(),
        (OPENAPI_PATH, _) => Err(ApiError::MethodNotAllowed { allow: READ_ONLY }),
        _ => Err(ApiError::NotFound { path }),
    }
}
