//! The reporter's HTTP side: one client for the pool and the monitoring API,
//! and answers read up to a cap.
//!
//! Why a cap: the reporter runs next to the JDC for months, and neither the
//! pool nor whatever answers on the monitoring port is under the operator's
//! control. An answer that never ends, or that claims a gigabyte, must cost a
//! bounded amount of memory, and the request timeout bounds how long a slow
//! one can take. Real answers are a few hundred bytes (the pool's) to a few
//! KiB (a monitoring page of 100 clients).

use std::time::Duration;

use reqwest::{Client, Response};

use crate::cli::fmt_duration;
use crate::error::Error;

/// A request that takes longer than this, body included, has failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an answer's body that is read.
pub const MAX_BODY: usize = 64 * 1024;

/// The HTTP client reports and monitoring requests go out with. Redirects
/// are not followed: a POST redirected with 301/302 arrives as a GET, so the
/// operator is told the right URL instead.
pub fn client() -> Result<Client, Error> {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("jdc-reporter/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::failure(format!("cannot set up HTTPS: {}", root_cause(&e))))
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than [`MAX_BODY`]; the rest was not read.
    TooLarge,
    /// The connection failed or timed out midway.
    Broken(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge => write!(f, "the answer is larger than {} KiB", MAX_BODY / 1024),
            BodyError::Broken(reason) => write!(f, "the answer broke off: {reason}"),
        }
    }
}

/// Reads `response`'s body, up to [`MAX_BODY`] bytes. A declared length over
/// the cap is refused before reading; an undeclared one is read chunk by
/// chunk and abandoned (the connection dropped) once past the cap.
pub async fn read_body(mut response: Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| BodyError::Broken(describe_error(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What went wrong with a request, in a few words.
pub fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {}", fmt_duration(REQUEST_TIMEOUT))
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        root_cause(e)
    }
}

/// The innermost cause of an error, which is the one that says what happened
/// (`connection refused`, `dns error: ...`).
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text,
    }
}

/// `HTTP 502 Bad Gateway`: the status line, for when the body says nothing
/// useful.
pub fn status_line(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// GETs JSON from a monitoring API, reading at most [`MAX_BODY`] of it and
/// waiting at most the client's timeout; `None` for 404. Errors are short
/// reasons for a log line.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    url: &str,
) -> Result<Option<T>, String> {
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer".to_owned()
        } else {
            "cannot connect".to_owned()
        }
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(format!("{} for {url}", status_line(status)));
    }
    let body = read_body(response)
        .await
        .map_err(|e| format!("{e} for {url}"))?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| format!("unexpected answer from {url}: {e}"))
}
