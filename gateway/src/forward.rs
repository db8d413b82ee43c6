//! The way to the Worker: one HTTP client (rustls for `https://`, plain
//! HTTP for a local Worker), connections kept alive between reports, a
//! timeout per request, and a bound on how many requests are in flight.
//!
//! A forwarded request carries what the JDC sent that the Worker reads
//! (method, query, body, `Content-Type`, `Authorization`) and two headers
//! of the gateway's own: the JDC's address in `X-Forwarded-For` (replacing
//! anything the JDC put there) and the gateway token, which tells the
//! Worker to believe that address.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dmr_shared::api::{FORWARDED_FOR_HEADER, GATEWAY_TOKEN_HEADER};
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::Method;
use reqwest::{Client, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::Error;

/// Request headers passed from the JDC to the Worker as sent.
const PASSED_UP: [hyper::header::HeaderName; 2] = [CONTENT_TYPE, AUTHORIZATION];

/// Why a request did not get the Worker's answer.
#[derive(Debug)]
pub enum ForwardError {
    /// The Worker did not answer in time: 504.
    Timeout,
    /// The Worker could not be reached or broke off: 502, with the cause
    /// for the log.
    Unreachable(String),
}

/// The client that forwards requests to the Worker.
#[derive(Debug)]
pub struct Forwarder {
    client: Client,
    url: Url,
    token: Option<HeaderValue>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl Forwarder {
    pub fn new(config: &Config) -> Result<Forwarder, Error> {
        let client = Client::builder()
            .timeout(config.worker_timeout)
            .connect_timeout(config.worker_timeout)
            // A redirect would turn a POST into a GET; the JDC gets the
            // Worker's answer as it is instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::failure(format!("cannot set up HTTPS to the Worker: {e}")))?;
        let token = config
            .gateway_token
            .as_deref()
            .map(|t| {
                let mut value = HeaderValue::from_str(t).map_err(|_| {
                    Error::usage("--gateway-token must be printable ASCII (it travels in a header)")
                        .hint("generate one with: openssl rand -hex 32")
                })?;
                value.set_sensitive(true);
                Ok::<_, Error>(value)
            })
            .transpose()?;
        Ok(Forwarder {
            client,
            url: config.report_url.clone(),
            token,
            permits: Arc::new(Semaphore::new(config.max_forwards)),
            timeout: config.worker_timeout,
        })
    }

    /// A place among the requests in flight, or `None` when all are taken.
    pub fn try_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// The Worker's timeout, for messages.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends the JDC's request on to the Worker and returns its answer, the
    /// body still streaming.
    pub async fn send(
        &self,
        method: Method,
        query: Option<&str>,
        headers: &HeaderMap,
        jdc: IpAddr,
        body: Bytes,
    ) -> Result<reqwest::Response, ForwardError> {
        let mut url = self.url.clone();
        url.set_query(query);
        let mut request = self.client.request(method, url);
        for name in PASSED_UP {
            for value in headers.get_all(&name) {
                request = request.header(&name, value);
            }
        }
        request = request.header(FORWARDED_FOR_HEADER, jdc.to_canonical().to_string());
        if let Some(token) = &self.token {
            request = request.header(GATEWAY_TOKEN_HEADER, token.clone());
        }
        if !body.is_empty() {
            request = request.body(body);
        }
        request.send().await.map_err(|e| {
            if e.is_timeout() {
                ForwardError::Timeout
            } else {
                ForwardError::Unreachable(root_cause(&e))
            }
        })
    }
}

/// The innermost cause of an error, which says what actually went wrong
/// (`connection refused`), for the log.
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
