//! Which handler answers which path and method. Static assets (the
//! inspector) are served before the Worker runs; only `/api/*` arrives here.

use worker::{Env, Response, Result};

use dmr_shared::api::{AGENTS_PATH, JDCS_PATH, ONE_REPORT_PREFIX, OPENAPI_PATH, REPORTS_PATH};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::{agents, get_reports, openapi, post_report};

/// Answers one request; every error becomes a problem+json response here.
pub async fn handle(req: Incoming, env: &Env) -> Result<Response> {
    let outcome = match Config::from_env(env) {
        Ok(config) => dispatch(&req, env, &config).await,
        Err(bad_setting) => Err(ApiError::Internal(bad_setting)),
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
    Ok(response)
}

async fn dispatch(req: &Incoming, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    let method = req.method();
    if let Some(encoded) = path.strip_prefix(ONE_REPORT_PREFIX) {
        if encoded.is_empty() {
            return Err(ApiError::NotFound { path });
        }
        if method.as_str() != "GET" {
            return Err(ApiError::MethodNotAllowed { allow: "GET" });
        }
        return get_reports::one(req, env, config, encoded).await;
    }
    match (path.as_str(), method.as_str()) {
        (REPORTS_PATH, "POST") => post_report::handle(req, env, config).await,
        (REPORTS_PATH, "GET") => get_reports::list(req, env, config).await,
        (REPORTS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: "GET, POST" }),
        (JDCS_PATH, "GET") => get_reports::summaries(req, env, config).await,
        (JDCS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: "GET" }),
        (AGENTS_PATH, "GET") => agents::handle(req, env, config).await,
        (AGENTS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: "GET" }),
        (OPENAPI_PATH, "GET") => openapi::handle(),
        (OPENAPI_PATH, _) => Err(ApiError::MethodNotAllowed { allow: "GET" }),
        _ => Err(ApiError::NotFound { path }),
    }
}
