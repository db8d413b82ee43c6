//! Bearer tokens for reads (`INSPECTOR_TOKEN`) and reports (`REPORT_TOKEN`,
//! `REPORT_TOKENS`). Each is optional: without it the endpoint is open, as
//! existing JDCs and pools expect.
//!
//! Who may report for an identity: every identity of an address renames the
//! same client rows (those of the address), so tokens protect addresses as
//! a whole. When `REPORT_TOKENS` lists the address or any identity of it, a
//! report from any identity of that address needs one of those tokens, and
//! the shared `REPORT_TOKEN` is not enough; a listed identity needs its own.

use dmr_shared::address_of;
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;

/// The token in `Authorization: Bearer <token>`, if any.
fn bearer(req: &Incoming) -> Option<String> {
    let header = req.header("Authorization")?;
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

/// Checks that `req` carries one of `accepted`, when any is required. Every
/// candidate is compared, so the time does not tell which one came close.
fn require(req: &Incoming, accepted: &[&str], realm: &'static str) -> Result<(), ApiError> {
    if accepted.is_empty() {
        return Ok(());
    }
    match bearer(req) {
        Some(given) if accepted.iter().fold(false, |ok, t| ok | matches(&given, t)) => Ok(()),
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
pub fn require_reader(req: &Incoming, config: &Config) -> Result<(), ApiError> {
    let token = config.inspector_token.as_deref();
    require(req, token.as_slice(), "reports")
}

/// The tokens a report from `identity` may carry; empty when it needs none.
/// See the module docs for the rule.
pub fn reporter_tokens<'a>(config: &'a Config, identity: &str) -> Vec<&'a str> {
    if let Some(own) = config.report_tokens.get(identity) {
        return vec![own];
    }
    let address = address_of(identity);
    let of_address: Vec<&str> = config
        .report_tokens
        .iter()
        .filter(|(listed, _)| address_of(listed) == address)
        .map(|(_, token)| token.as_str())
        .collect();
    if of_address.is_empty() {
        config.report_token.as_deref().into_iter().collect()
    } else {
        of_address
    }
}

/// Before the body (and so the identity) is known, with per-identity
/// tokens: refuses a report that no configured token could admit.
pub fn require_any_reporter(req: &Incoming, config: &Config) -> Result<(), ApiError> {
    require(req, &any_reporter_tokens(config), "downstream-report")
}

/// Every token some report could be admitted with, when every report needs
/// one; empty when some reports need none. When `REPORT_TOKEN` is set every
/// identity needs a token (its own, its address's or the shared one), so a
/// request that carries none of them cannot be admitted, whatever its body.
/// Without it, identities of unlisted addresses need none, and only the
/// identity in the body can tell.
pub fn any_reporter_tokens(config: &Config) -> Vec<&str> {
    let Some(shared) = config.report_token.as_deref() else {
        return Vec::new();
    };
    let mut any: Vec<&str> = config.report_tokens.values().map(String::as_str).collect();
    any.push(shared);
    any
}

/// Checks the report token of a report from `identity`.
pub fn require_reporter(req: &Incoming, config: &Config, identity: &str) -> Result<(), ApiError> {
    require(req, &reporter_tokens(config, identity), "downstream-report")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_exactly() {
        assert!(matches("s3cret", "s3cret"));
        for other in ["s3cre", "s3cret ", "S3cret", "", "s3cret\0"] {
            assert!(!matches(other, "s3cret"), "{other:?}");
        }
    }

    #[test]
    fn a_listed_identity_or_address_protects_the_whole_address() {
        let config = Config {
            report_token: Some("shared".into()),
            report_tokens: [
                ("bc1qa.rig1", "a-rig1"),
                ("bc1qb", "b"),
                ("bc1qc", "c"),
                ("bc1qc.special", "c-special"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..Config::default()
        };
        let mut cases: Vec<(&str, Vec<&str>)> = vec![
            // A listed identity or address: its own token only.
            ("bc1qa.rig1", vec!["a-rig1"]),
            ("bc1qc.special", vec!["c-special"]),
            ("bc1qb", vec!["b"]),
            ("bc1qc", vec!["c"]),
            // Other identities of an address with listed tokens, and the
            // address itself: one of that address's tokens, never the shared.
            ("bc1qa", vec!["a-rig1"]),
            ("bc1qa.rig2", vec!["a-rig1"]),
            ("bc1qa.", vec!["a-rig1"]),
            ("bc1qb.rig9", vec!["b"]),
            ("bc1qc.other", vec!["c", "c-special"]),
            // Addresses nobody listed: the shared token.
            ("bc1qd", vec!["shared"]),
            ("bc1qd.rig1", vec!["shared"]),
            ("bc1qab.rig1", vec!["shared"]),
        ];
        for (identity, want) in &mut cases {
            let mut got = reporter_tokens(&config, identity);
            got.sort();
            want.sort();
            assert_eq!(&got, want, "{identity}");
        }
        let open = Config::default();
        assert!(reporter_tokens(&open, "bc1qa.rig1").is_empty());
    }

    #[test]
    fn a_request_no_token_could_admit_is_known_before_the_body() {
        let listed = |shared: Option<&str>| Config {
            report_token: shared.map(str::to_owned),
            report_tokens: [("bc1qa", "a"), ("bc1qb.rig1", "b-rig1")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Config::default()
        };
        // Every report needs a token: any configured one may admit it.
        let config = listed(Some("shared"));
        let mut all = any_reporter_tokens(&config);
        all.sort();
        assert_eq!(all, ["a", "b-rig1", "shared"]);
        // Unlisted addresses need none: only the body can tell.
        assert!(any_reporter_tokens(&listed(None)).is_empty());
        assert!(any_reporter_tokens(&Config::default()).is_empty());
        // Every token a report could need is among them.
        for identity in ["bc1qa", "bc1qa.x", "bc1qb", "bc1qb.rig1", "bc1qz.rig9"] {
            for token in reporter_tokens(&config, identity) {
                assert!(any_reporter_tokens(&config).contains(&token), "{identity}");
            }
        }
    }
}
