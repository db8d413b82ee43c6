//! The query string of the read endpoints, read strictly, and the cursor of
//! a paged read.
//!
//! A read takes only the parameters it documents (`limit` and `cursor` for
//! the paged lists, none for one report), each at most once, percent-encoded
//! UTF-8; anything else is a 400 naming the parameter, so a typo
//! (`?limt=5`) is an answer rather than a silently ignored setting.
//!
//! The `cursor` a `Link` header carries is KV's own list cursor behind a
//! checksum (`dmr_shared::api::wrap_cursor`), so anything but a cursor the
//! Worker made is refused before KV sees it.

use dmr_shared::api::{unwrap_cursor, CURSOR_PARAM, LIMIT_PARAM};
use dmr_shared::percent::percent_decode;

/// A parameter the request should not have sent, or sent wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    /// The parameter's name (`query` when even the name cannot be read).
    pub field: String,
    pub problem: String,
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> BadParameter {
    BadParameter {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The decoded parameters of `url`, each checked against `allowed` and for
/// repeats, in the order given.
pub fn parameters(url: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, BadParameter> {
    let query = url
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    let mut seen: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(raw_name, true)
            .ok_or_else(|| bad("query", "is not percent-encoded UTF-8"))?;
        if !allowed.contains(&name.as_str()) {
            let expected = if allowed.is_empty() {
                "this endpoint takes no parameters".to_owned()
            } else {
                format!("this endpoint takes only {}", allowed.join(" and "))
            };
            return Err(bad(shown(&name), format!("is not a parameter: {expected}")));
        }
        if seen.iter().any(|(n, _)| *n == name) {
            return Err(bad(name, "is given more than once"));
        }
        let value = percent_decode(raw_value, true)
            .ok_or_else(|| bad(name.clone(), "is not percent-encoded UTF-8"))?;
        seen.push((name, value));
    }
    Ok(seen)
}

/// A parameter name as it may be echoed back: at most 64 bytes.
fn shown(name: &str) -> String {
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// `?limit=` and `?cursor=` of a paged read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// Items per page, 1 to the endpoint's maximum (the default).
    pub limit: usize,
    /// KV's cursor, unwrapped from the one the `Link` header gave.
    pub cursor: Option<String>,
}

/// Reads the paging parameters of `url`; `max` is the endpoint's largest
/// (and default) page.
pub fn paging(url: &str, max: usize) -> Result<Paging, BadParameter> {
    let mut paging = Paging {
        limit: max,
        cursor: None,
    };
    for (name, value) in parameters(url, &[LIMIT_PARAM, CURSOR_PARAM])? {
        if name == LIMIT_PARAM {
            paging.limit = limit(&value, max).ok_or_else(|| {
                bad(
                    LIMIT_PARAM,
                    format!("must be a whole number from 1 to {max}"),
                )
            })?;
        } else {
            paging.cursor = Some(unwrap_cursor(&value).ok_or_else(|| {
                bad(
                    CURSOR_PARAM,
                    "is not a cursor from this API's Link header, or it was cut short",
                )
            })?);
        }
    }
    Ok(paging)
}

/// Plain ASCII digits from 1 to `max`: no sign, space, exponent or fraction.
fn limit(text: &str, max: usize) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<usize>().ok().filter(|n| (1..=max).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_shared::api::wrap_cursor;

    fn url(query: &str) -> String {
        format!("https://pool.example/api/jdcs?{query}")
    }

    #[test]
    fn good_parameters_are_read() {
        let cursor = wrap_cursor("cmVwb3J0OmJjMXE=");
        let query = format!(
            "limit=25&cursor={}",
            dmr_shared::percent::percent_encode(&cursor)
        );
        assert_eq!(
            paging(&url(&query), 1000),
            Ok(Paging {
                limit: 25,
                cursor: Some("cmVwb3J0OmJjMXE=".into())
            })
        );
        assert_eq!(
            paging("https://pool.example/api/jdcs", 1000),
            Ok(Paging {
                limit: 1000,
                cursor: None
            })
        );
        // An empty query, empty pairs and a fragment change nothing.
        for query in ["", "&", "limit=5&&", "limit=5#top"] {
            assert!(paging(&url(query), 1000).is_ok(), "{query}");
        }
        assert_eq!(paging(&url("limit=0007"), 1000).unwrap().limit, 7);
        assert_eq!(paging(&url("limit=1000"), 1000).unwrap().limit, 1000);
    }

    #[test]
    fn absurd_limits_are_refused() {
        for value in [
            "0",
            "1001",
            "-1",
            "+5",
            " 5",
            "5 ",
            "5+",
            "1e3",
            "0x10",
            "5.0",
            "ten",
            "",
            "%35%00",
            "99999999999999999999999",
            "٣",
            "%FF",
        ] {
            let got = paging(&url(&format!("limit={value}")), 1000);
            assert_eq!(got.map_err(|e| e.field), Err("limit".into()), "{value:?}");
        }
        assert_eq!(paging(&url("limit"), 1000).unwrap_err().field, "limit");
    }

    #[test]
    fn anything_but_our_own_cursors_is_refused() {
        let good = wrap_cursor("cmVwb3J0OmJjMXE=");
        let tampered = format!("{}X", good);
        let upper = good.to_uppercase();
        for cursor in [
            "",
            "abc",
            "cmVwb3J0OmJjMXE=",
            ".",
            "0000000000000000.",
            tampered.as_str(),
            upper.as_str(),
            "null",
            "-1",
            "../../etc/passwd",
        ] {
            let query = format!("cursor={}", dmr_shared::percent::percent_encode(cursor));
            assert_eq!(
                paging(&url(&query), 1000).unwrap_err().field,
                "cursor",
                "{cursor:?}"
            );
        }
        // Undecodable percent-encoding.
        for query in ["cursor=%zz", "cursor=%C3", "cursor=%"] {
            assert_eq!(
                paging(&url(query), 1000).unwrap_err().field,
                "cursor",
                "{query}"
            );
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_by_name() {
        let cases = [
            ("limt=5", "limt"),
            ("Limit=5", "Limit"),
            ("limit=5&limit=5", "limit"),
            ("limit=5&limit=6", "limit"),
            ("cursor=a&cursor=b", "cursor"),
            ("=5", ""),
            ("%zz=1", "query"),
            ("callback=alert(1)", "callback"),
        ];
        for (query, field) in cases {
            assert_eq!(
                paging(&url(query), 1000).unwrap_err().field,
                field,
                "{query}"
            );
        }
        let long = format!("{}=1", "x".repeat(500));
        assert_eq!(paging(&url(&long), 1000).unwrap_err().field.len(), 64);
        assert_eq!(
            parameters(&url("limit=5"), &[]).unwrap_err().problem,
            "is not a parameter: this endpoint takes no parameters"
        );
        assert_eq!(parameters(&url(""), &[]), Ok(vec![]));
    }
}
