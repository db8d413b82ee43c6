//! Which handler answers which path and method. Static assets (the
//! inspector) are served before the Worker runs; only `/api/*` arrives here.

use worker::{Env, Method, Request, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::{get_reports, post_report};

/// The reports endpoint of the protocol.
pub const REPORTS_PATH: &str = "/api/downstream-report";

/// Answers one request; every error becomes a problem+json response here.
pub async fn handle(mut req: Request, env: &Env) -> Result<Response> {
    let config = Config::from_env(env);
    let path = req.path();
    let outcome = match (path.trim_end_matches('/'), req.method()) {
        (REPORTS_PATH, Method::Post) => post_report::handle(&mut req, env, config).await,
        (REPORTS_PATH, Method::Get) => get_reports::handle(env).await,
        (REPORTS_PATH, _) => Err(ApiError::MethodNotAllowed { allow: "GET, POST" }),
        _ => Err(ApiError::NotFound { path }),
    };
    match outcome {
        Ok(response) => {
            let mut response = response;
            response.headers_mut().set("Cache-Control", "no-store")?;
            Ok(response)
        }
        Err(e) => e.to_response(),
    }
}
