//! Which address a request comes from: the key of the per-IP rate limit and
//! the `client` of the log lines.
//!
//! Cloudflare names the connecting address in `CF-Connecting-IP`. Reports
//! that reach the pool's mining port go through its `mining-gateway`, so
//! that address is the gateway's, shared by every JDC behind it (which would
//! then share one per-IP limit). The gateway names the JDC in
//! `X-Forwarded-For` and proves itself with `X-Gateway-Token`. The forwarded
//! address is believed only when that token matches the `GATEWAY_TOKEN`
//! secret: without it anybody could choose their own rate-limit key.

use std::net::IpAddr;

use dmr_shared::api::{FORWARDED_FOR_HEADER, GATEWAY_TOKEN_HEADER};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::incoming::Incoming;

/// The header in which Cloudflare names the connecting address.
const CONNECTING_IP_HEADER: &str = "CF-Connecting-IP";

/// The client when no header names one (a request that did not come through
/// Cloudflare's edge).
const UNKNOWN: &str = "unknown";

/// The address `req` comes from, by the rule in the module docs.
pub fn address(req: &Incoming, config: &Config) -> String {
    // Without a gateway token nothing forwarded is believed: those headers
    // need not be read.
    let forwarded = |name: &str| config.gateway_token.as_ref().and_then(|_| req.header(name));
    choose(
        req.header(CONNECTING_IP_HEADER).as_deref(),
        forwarded(FORWARDED_FOR_HEADER).as_deref(),
        forwarded(GATEWAY_TOKEN_HEADER).as_deref(),
        config.gateway_token.as_deref(),
    )
}

/// The rule itself, on header values. The forwarded address wins only when
/// a gateway token is configured, the request carries the same token, and
/// the address is an IP address (the last of a list: the one the gateway
/// wrote).
fn choose(
    connecting: Option<&str>,
    forwarded: Option<&str>,
    token: Option<&str>,
    expected: Option<&str>,
) -> String {
    let from_gateway = match (token, expected) {
        (Some(given), Some(expected)) => {
            bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    };
    let forwarded = forwarded
        .filter(|_| from_gateway)
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    match forwarded {
        Some(ip) => ip.to_string(),
        None => connecting
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
            .unwrap_or(UNKNOWN)
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::choose;

    const EDGE: Option<&str> = Some("203.0.113.9");

    #[test]
    fn the_forwarded_address_counts_only_with_the_right_token() {
        let cases = [
            // (forwarded, token sent, token configured, client)
            (
                Some("198.51.100.7"),
                Some("s3cret"),
                Some("s3cret"),
                "198.51.100.7",
            ),
            (
                Some("198.51.100.7"),
                Some(" s3cret "),
                Some("s3cret"),
                "198.51.100.7",
            ),
            (
                Some("10.0.0.1, 198.51.100.7"),
                Some("s3cret"),
                Some("s3cret"),
                "198.51.100.7",
            ),
            (
                Some("2001:db8::7"),
                Some("s3cret"),
                Some("s3cret"),
                "2001:db8::7",
            ),
            (Some("198.51.100.7"), None, Some("s3cret"), "203.0.113.9"),
            (
                Some("198.51.100.7"),
                Some("wrong"),
                Some("s3cret"),
                "203.0.113.9",
            ),
            (
                Some("198.51.100.7"),
                Some("s3cre"),
                Some("s3cret"),
                "203.0.113.9",
            ),
            (
                Some("198.51.100.7"),
                Some(""),
                Some("s3cret"),
                "203.0.113.9",
            ),
            // No gateway configured: nothing a client sends is believed.
            (Some("198.51.100.7"), Some("s3cret"), None, "203.0.113.9"),
            (Some("198.51.100.7"), Some(""), None, "203.0.113.9"),
            // A forwarded value that is not an address is ignored.
            (
                Some("me, please"),
                Some("s3cret"),
                Some("s3cret"),
                "203.0.113.9",
            ),
            (Some(""), Some("s3cret"), Some("s3cret"), "203.0.113.9"),
            (None, Some("s3cret"), Some("s3cret"), "203.0.113.9"),
        ];
        for (forwarded, token, expected, want) in cases {
            assert_eq!(
                choose(EDGE, forwarded, token, expected),
                want,
                "{forwarded:?} {token:?} {expected:?}"
            );
        }
    }

    #[test]
    fn without_any_header_the_client_is_unknown() {
        assert_eq!(choose(None, None, None, None), "unknown");
        assert_eq!(choose(Some(" "), None, None, None), "unknown");
    }
}
