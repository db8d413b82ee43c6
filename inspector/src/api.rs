//! The requests the page makes, all to its own origin, and how their answers
//! (JSON, or RFC 9457 problem+json) become data or an error a person can act
//! on.
//!
//! The page polls `GET /api/jdcs`, one summary per live JDC read from KV
//! metadata alone, and reads a JDC's full report
//! (`GET /api/downstream-report/{identity}`, one KV read) only while its row
//! is open and only when its summary changed: polling every few seconds
//! stays cheap for the pool however many JDCs it has.

use std::fmt;

use chrono::{DateTime, Utc};
use dmr_shared::{JdcSummary, StoredReport};

use crate::decode::{self, Json, Shape};

/// Seconds between two polls of the JDC summaries.
pub const REFRESH_SECS: u64 = 5;

/// Pages of summaries followed per poll (10,000 JDCs each).
pub const MAX_PAGES: usize = 10;

/// One poll's answer: every live JDC and when it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// One summary per live JDC.
    pub jdcs: Vec<JdcSummary>,
    /// Which poll this answers (numbered from 1 as sent), so an overtaken
    /// answer is ignored.
    pub seq: u64,
    /// Browser time the poll was sent.
    pub fetched_at: DateTime<Utc>,
}

/// Why the page has no fresh data.
#[derive(Clone, PartialEq)]
pub enum ApiError {
    /// The request did not get an answer (network down, Worker stopped).
    Unreachable(String),
    /// The API answered with an error status; `detail` is its explanation.
    Status {
        /// The HTTP status.
        status: u16,
        /// The problem's `detail` (or `title`, or the status text).
        detail: String,
    },
    /// The answer was not what the endpoint promises.
    Unreadable(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(cause) => {
                write!(
                    f,
                    "The API could not be reached ({cause}). Is the Worker running?"
                )
            }
            ApiError::Status { status, detail } => {
                write!(f, "The API answered {status}: {detail}")
            }
            ApiError::Unreadable(cause) => {
                write!(f, "The API's answer could not be read: {cause}")
            }
        }
    }
}

// `Error` needs `Debug`. Derived, it would bring the string escaping of
// `{:?}` into the page's wasm for nothing: the message says it all.
impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The API wants a read token this page does not have (or had wrong).
    pub fn needs_token(&self) -> bool {
        matches!(self, ApiError::Status { status: 401, .. })
    }
}

/// The error for a non-2xx answer: its problem's `detail`, kept for the
/// person looking.
fn status_error<J: Json>(status: u16, body: Option<&J>) -> ApiError {
    let detail = body
        .and_then(|b| decode::problem(b).reason())
        .unwrap_or_else(|| format!("HTTP {status}"));
    ApiError::Status { status, detail }
}

/// The body of a successful answer, or why there is none.
fn success<J: Json>(status: u16, body: Option<J>) -> Result<J, ApiError> {
    if !(200..300).contains(&status) {
        return Err(status_error(status, body.as_ref()));
    }
    body.ok_or_else(|| ApiError::Unreadable("the answer is not JSON".into()))
}

/// Reads an answer with `decode`: its body when the status is a success
/// (`body`: the parsed JSON, `None` if it did not parse), else the error
/// with the problem's detail.
pub fn parse<J: Json, T>(
    status: u16,
    body: Option<J>,
    decode: impl FnOnce(&J) -> Result<T, Shape>,
) -> Result<T, ApiError> {
    decode(&success(status, body)?).map_err(ApiError::Unreadable)
}

/// Reads one page of `GET /api/jdcs`.
pub fn parse_summaries<J: Json>(status: u16, body: Option<J>) -> Result<Vec<JdcSummary>, ApiError> {
    parse(status, body, decode::summaries)
}

/// Reads `GET /api/downstream-report/{identity}`: the report, or `None`
/// when the pool has none any more (404: it expired).
pub fn parse_report<J: Json>(
    status: u16,
    body: Option<J>,
) -> Result<Option<StoredReport>, ApiError> {
    if status == 404 {
        return Ok(None);
    }
    parse(status, body, decode::stored_report).map(Some)
}

/// The next page from a `Link` header (`<path?query>; rel="next"`), if it is
/// on this origin (a path starting with `/`).
pub fn next_page(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        (next && target.starts_with('/') && !target.starts_with("//")).then(|| target.to_owned())
    })
}

/// An answer as the page reads it: status, `Link` header, and the body as
/// `JSON.parse` read it.
#[cfg(target_arch = "wasm32")]
pub type Reply = (u16, Option<String>, Option<wasm_bindgen::JsValue>);

/// GETs `path` on this origin, with the read token if the pool asked for
/// one: status, `Link` header and the body parsed by the browser's
/// `JSON.parse` (`None` if it is not JSON). Read it with [`parse`].
#[cfg(target_arch = "wasm32")]
pub async fn get(path: &str) -> Result<Reply, ApiError> {
    use gloo_net::http::Request;
    use web_sys::RequestCache;

    let mut request = Request::get(path).cache(RequestCache::NoStore);
    if let Some(token) = crate::token::stored() {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let link = response.headers().get("link");
    let body = response
        .text()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    Ok((response.status(), link, js_sys::JSON::parse(&body).ok()))
}

/// Polls the summaries of every live JDC, following the pages; `seq`
/// numbers the poll (see [`Snapshot::seq`]).
#[cfg(target_arch = "wasm32")]
pub async fn fetch_jdcs(seq: u64) -> Result<Snapshot, ApiError> {
    let fetched_at = Utc::now();
    let mut jdcs = Vec::new();
    let mut path = Some(dmr_shared::api::JDCS_PATH.to_owned());
    for _ in 0..MAX_PAGES {
        let Some(current) = path.take() else { break };
        let (status, link, body) = get(&current).await?;
        jdcs.extend(parse_summaries(status, body)?);
        path = next_page(link.as_deref());
    }
    Ok(Snapshot {
        jdcs,
        seq,
        fetched_at,
    })
}

/// Reads one JDC's full report; `None` once it expired.
#[cfg(target_arch = "wasm32")]
pub async fn fetch_report(identity: &str) -> Result<Option<StoredReport>, ApiError> {
    let (status, _, body) = get(&dmr_shared::api::report_path(identity)).await?;
    parse_report(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{miner, stored, summary};
    use serde_json::Value;

    fn body(text: &str) -> Option<Value> {
        serde_json::from_str(text).ok()
    }

    #[test]
    fn summaries_parse_as_the_worker_writes_them() {
        let text = r#"[{"identity":"bc1qa","userAgent":"bitaxe/sv2","miners":2,"hashRate":2e12,"receivedAt":"2026-11-26T02:00:01.123Z","expiresAt":"2026-11-26T02:05:01.123Z","vendors":[{"vendor":"bitaxe","miners":2,"hashRate":2e12}],"content":"00ff"}]"#;
        let jdcs = parse_summaries(200, body(text)).unwrap();
        assert_eq!(jdcs.len(), 1);
        assert_eq!(jdcs[0].identity, "bc1qa");
        assert_eq!((jdcs[0].miners, jdcs[0].hash_rate), (2, 2e12));
        assert_eq!(jdcs[0].vendors[0].vendor, "bitaxe");
        assert_eq!(parse_summaries(200, body("[]")).unwrap(), vec![]);
        let one = summary("bc1qb", "2026-11-26T02:00:00Z", vec![miner("x", 1.0, "w")]);
        let written = serde_json::to_value(vec![one.clone()]).unwrap();
        assert_eq!(parse_summaries(200, Some(written)).unwrap(), vec![one]);
    }

    #[test]
    fn a_report_parses_and_an_expired_one_is_none_not_an_error() {
        let report = stored(
            "bc1qa",
            "2026-11-26T02:00:00Z",
            vec![miner("bitaxe", 1e12, "w")],
        );
        let written = serde_json::to_value(&report).unwrap();
        assert_eq!(parse_report(200, Some(written)), Ok(Some(report)));
        let problem = r#"{"type":"about:blank","title":"Not found","status":404,"detail":"no live report for bc1qa","success":false}"#;
        assert_eq!(parse_report(404, body(problem)), Ok(None));
    }

    #[test]
    fn an_error_answer_shows_the_problem_detail() {
        let problem = r#"{"type":"about:blank","title":"Storage unavailable","status":503,"detail":"the pool's report store is unavailable; nothing was stored or renamed, retry later","success":false}"#;
        let err = parse_summaries(503, body(problem)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The API answered 503: the pool's report store is unavailable; nothing was stored or renamed, retry later"
        );
        assert!(matches!(
            parse_report(
                401,
                body(r#"{"title":"Unauthorized","status":401,"detail":"token"}"#)
            ),
            Err(ApiError::Status { status: 401, .. })
        ));
    }

    #[test]
    fn an_error_answer_without_detail_falls_back_to_title_then_status() {
        assert_eq!(
            parse_summaries(404, body(r#"{"title":"Not found","status":404}"#)),
            Err(ApiError::Status {
                status: 404,
                detail: "Not found".into()
            })
        );
        assert_eq!(
            parse_summaries(502, body("<html>Bad gateway</html>")),
            Err(ApiError::Status {
                status: 502,
                detail: "HTTP 502".into()
            })
        );
    }

    #[test]
    fn a_success_that_is_not_the_promised_json_is_unreadable() {
        for text in ["", "<!doctype html>", "{}", r#"[{"identity":"x"}]"#] {
            assert!(
                matches!(
                    parse_summaries(200, body(text)),
                    Err(ApiError::Unreadable(_))
                ),
                "{text}"
            );
        }
        assert!(matches!(
            parse_report(200, body("[]")),
            Err(ApiError::Unreadable(_))
        ));
    }

    #[test]
    fn the_next_page_comes_from_the_link_header_on_this_origin_only() {
        let cases = [
            (None, None),
            (Some(""), None),
            (
                Some(r#"</api/jdcs?limit=10000&cursor=abc>; rel="next""#),
                Some("/api/jdcs?limit=10000&cursor=abc"),
            ),
            (
                Some(r#"</a>; rel="prev", </b?c=1>; rel="next""#),
                Some("/b?c=1"),
            ),
            (Some(r#"</a>; rel="prev""#), None),
            (Some(r#"<https://elsewhere.example/x>; rel="next""#), None),
            (Some(r#"<//elsewhere.example/x>; rel="next""#), None),
            (Some("garbage"), None),
        ];
        for (link, want) in cases {
            assert_eq!(next_page(link).as_deref(), want, "{link:?}");
        }
    }
}
