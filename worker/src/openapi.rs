//! `GET /api/openapi.json`: the OpenAPI 3.1 description of this API
//! (`worker/openapi.json`), kept true by the end-to-end tests and schemathesis.

use worker::Response;

use crate::error::ApiError;

const DOCUMENT: &str = include_str!("../openapi.json");

/// Serves the document as it is in the repository.
pub fn handle() -> Result<Response, ApiError> {
    let mut response = Response::ok(DOCUMENT)?;
    response
        .headers_mut()
        .set("Content-Type", "application/json")?;
    Ok(response)
}
