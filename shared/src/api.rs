//! The HTTP contract between JDCs, the pool's Worker, the inspector, the
//! mining-port gateway and the tests: the paths, the KV key layout, and the
//! bodies that travel besides the report itself (the acceptance and the
//! RFC 9457 problem). Every crate takes these from here; none spells a path
//! or a problem member again.

use serde::{Deserialize, Serialize};

use crate::percent::percent_encode;

/// The protocol's endpoint: JDCs `POST` reports here, and `GET` lists the
/// live ones (the spec's debugging view).
pub const REPORTS_PATH: &str = "/api/downstream-report";

/// One JDC's latest report: `/api/downstream-report/{identity}`, the
/// identity percent-encoded (see [`report_path`]).
pub const ONE_REPORT_PREFIX: &str = "/api/downstream-report/";

/// A summary of every live JDC, read from KV metadata alone: what the
/// inspector polls.
pub const JDCS_PATH: &str = "/api/jdcs";

/// The pool's client rows grouped by `userAgent`, and the JDC addresses that
/// still connect as `jd-client/sv2`.
pub const AGENTS_PATH: &str = "/api/agents";

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// Every path under this prefix is the Worker's; everything else is the
/// inspector's static assets.
pub const API_PREFIX: &str = "/api/";

/// Prefix of every report key in the KV namespace (`report:<identity>`), so
/// other data can share the namespace.
pub const KV_KEY_PREFIX: &str = "report:";

/// Media type of a report and of every successful answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Media type of every error answer (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The KV key of an identity's report.
pub fn kv_key(identity: &str) -> String {
    format!("{KV_KEY_PREFIX}{identity}")
}

/// The path of one JDC's report, the identity percent-encoded (every byte
/// but the unreserved `A-Z a-z 0-9 - . _ ~`).
pub fn report_path(identity: &str) -> String {
    format!("{ONE_REPORT_PREFIX}{}", percent_encode(identity))
}

/// The answer to an accepted report. The protocol asks for `success` and
/// `accepted`; the rest says what the pool did with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Accepted {
    /// Always `true`.
    pub success: bool,
    /// How many miners the report listed.
    pub accepted: u64,
    /// What the JDC's `jd-client/sv2` rows are renamed to; `null` when no
    /// miner names a vendor.
    pub user_agent: Option<String>,
    /// Rows this report renamed (0 once they are renamed).
    pub renamed: u64,
    /// Whether this report was written to KV, or folded into the stored
    /// copy because nothing changed.
    pub stored: bool,
    /// When the pool last stored this JDC's report (RFC 3339).
    pub received_at: String,
    /// When the stored report expires unless the JDC reports again.
    pub expires_at: String,
}

/// An error answer, RFC 9457 `application/problem+json`, as the Worker
/// writes it. Reading is lenient (every member optional), so a client can
/// read other pools' problems too; see [`Problem::reason`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` (the status says it).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed summary of the status (`Invalid report`).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong with this request, for a person to act on.
    pub detail: String,
    /// The member at fault (`miners[2].connectedAt`, `limit`), when one is.
    /// Left out otherwise, never `null`: a string when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub field: Option<String>,
    /// Always `false`, for JDCs that only look at `success`.
    pub success: bool,
}

impl Problem {
    /// A problem of `status` with its `title` and `detail`.
    pub fn new(status: u16, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank".into(),
            title: title.into(),
            status,
            detail: detail.into(),
            field: None,
            success: false,
        }
    }

    /// The same problem, blaming `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// What a person should read: the `detail` (else the `title`), and the
    /// `field` when the detail does not already name it. `None` when the
    /// body had neither, so the caller falls back to the status line.
    pub fn reason(&self) -> Option<String> {
        let text = [&self.detail, &self.title]
            .into_iter()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())?;
        Some(match self.field.as_deref().map(str::trim) {
            Some(field) if !field.is_empty() && !text.contains(field) => {
                format!("{text} (field {field})")
            }
            _ => text.to_owned(),
        })
    }
}

/// Header by which the pool's mining-port gateway (`mining-gateway
/// --gateway-token`) proves a request came through it: the Worker compares it
/// with its `GATEWAY_TOKEN` secret, in constant time.
pub const GATEWAY_TOKEN_HEADER: &str = "X-Gateway-Token";

/// Header in which the gateway names the JDC's IP address. The Worker uses
/// it for the per-IP rate limit and its log lines only when the request also
/// carries the right [`GATEWAY_TOKEN_HEADER`]; otherwise anyone could pick
/// their own rate-limit key by sending it. The gateway replaces any value a
/// client sent with the address it accepted the connection from.
pub const FORWARDED_FOR_HEADER: &str = "X-Forwarded-For";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_percent_encode_the_identity() {
        let cases = [
            ("bc1qa", "/api/downstream-report/bc1qa"),
            (
                "bc1qa.worker-1_x~",
                "/api/downstream-report/bc1qa.worker-1_x~",
            ),
            ("a/b c?d#e%", "/api/downstream-report/a%2Fb%20c%3Fd%23e%25"),
            ("é", "/api/downstream-report/%C3%A9"),
        ];
        for (identity, want) in cases {
            assert_eq!(report_path(identity), want, "{identity}");
            assert!(want.starts_with(REPORTS_PATH) && want.starts_with(API_PREFIX));
        }
        assert_eq!(kv_key("bc1q.x"), "report:bc1q.x");
    }

    #[test]
    fn a_problem_round_trips_and_reads_leniently() {
        let p =
            Problem::new(422, "Invalid report", "timestamp: not RFC 3339").with_field("timestamp");
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"{"type":"about:blank","title":"Invalid report","status":422,"detail":"timestamp: not RFC 3339","field":"timestamp","success":false}"#
        );
        assert_eq!(serde_json::from_str::<Problem>(&text).unwrap(), p);
        let partial: Problem = serde_json::from_str(r#"{"title":"Not found"}"#).unwrap();
        assert_eq!(partial.reason().as_deref(), Some("Not found"));
    }

    #[test]
    fn the_reason_names_the_field_once() {
        let p = |detail: &str, field: Option<&str>| Problem {
            detail: detail.into(),
            field: field.map(Into::into),
            ..Problem::default()
        };
        assert_eq!(
            p("miners[0].vendor: too long", Some("miners[0].vendor"))
                .reason()
                .as_deref(),
            Some("miners[0].vendor: too long")
        );
        assert_eq!(
            p("must be a whole number", Some("limit"))
                .reason()
                .as_deref(),
            Some("must be a whole number (field limit)")
        );
        assert_eq!(p("  ", None).reason(), None);
    }

    #[test]
    fn an_acceptance_from_a_minimal_pool_reads_with_defaults() {
        let a: Accepted = serde_json::from_str(r#"{"success":true,"accepted":3}"#).unwrap();
        assert_eq!((a.success, a.accepted, a.user_agent), (true, 3, None));
    }
}
