//! Bearer tokens for reads (`INSPECTOR_TOKEN`) and reports (`REPORT_TOKEN`,
//! `REPORT_TOKENS`). Each is optional: without it the endpoint is open, as
//! existing JDCs and pools expect.

use dmr_shared::address_of;
use subtle::ConstantTimeEq;
use worker::Request;

use crate::config::Config;
use crate::error::ApiError;

/// The token in `Authorization: Bearer <token>`, if any.
fn bearer(req: &Request) -> Option<String> {
    let header = req.headers().get("Authorization").ok()??;
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Compares in time independent of where the tokens differ, so a caller
/// cannot find a token byte by byte.
fn matches(given: &str, expected: &str) -> bool {
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// Checks that `req` carries `expected`, when a token is required.
fn require(req: &Request, expected: Option<&str>, realm: &'static str) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match bearer(req) {
        Some(given) if matches(&given, expected) => Ok(()),
        given => Err(ApiError::Unauthorized {
            realm,
            detail: if given.is_some() {
                "the bearer token is not valid for this request"
            } else {
                "this endpoint needs an Authorization: Bearer <token> header"
            },
        }),
    }
}

/// Reads need the inspector token when one is set.
pub fn require_reader(req: &Request, config: &Config) -> Result<(), ApiError> {
    require(req, config.inspector_token.as_deref(), "reports")
}

/// A report from `identity` needs the token listed for that identity, else
/// the one listed for its address (every worker of a payout address), else
/// the shared report token when one is set.
pub fn require_reporter(req: &Request, config: &Config, identity: &str) -> Result<(), ApiError> {
    let expected = config
        .report_tokens
        .get(identity)
        .or_else(|| config.report_tokens.get(address_of(identity)))
        .or(config.report_token.as_ref());
    require(req, expected.map(String::as_str), "downstream-report")
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn tokens_match_only_exactly() {
        assert!(matches("s3cret", "s3cret"));
        for other in ["s3cre", "s3cret ", "S3cret", "", "s3cret\0"] {
            assert!(!matches(other, "s3cret"), "{other:?}");
        }
    }
}
