//! Percent-encoding (RFC 3986) and query strings, as the Worker reads paths
//! and `?limit=&cursor=` and as clients build report paths and `Link`s.
//!
//! By hand, for the Worker's size. Parsing the request URL with the `url`
//! crate (as `Request::url()` does) brings in its tables for international
//! domain names, which never occur here, and they make most of a wasm that
//! way. Even `percent-encoding` and `form_urlencoded`, the small crates
//! `url` is made of, weigh more than these few functions (the measured
//! sizes are in docs/performance.md).

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in a
/// query string). `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode(encoded: &str, plus_is_space: bool) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The decoded `name=value` pairs of a URL's query string; pairs that do
/// not decode are skipped.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_encoding_round_trip() {
        for text in ["bc1q.rig1", "a b+c/d=e&f?", "été", "", "AAAA//8="] {
            assert_eq!(
                percent_decode(&percent_encode(text), true).as_deref(),
                Some(text)
            );
        }
        assert_eq!(
            percent_decode("bc1q%2Erig", false).as_deref(),
            Some("bc1q.rig")
        );
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%zz", false), None);
        assert_eq!(percent_decode("%e9", false), None);
    }

    #[test]
    fn query_pairs_are_decoded() {
        let pairs = query_pairs("https://x/api/jdcs?limit=2&cursor=AB%2Fc%3D&flag&x=a+b#frag");
        let expect = [
            ("limit", "2"),
            ("cursor", "AB/c="),
            ("flag", ""),
            ("x", "a b"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs, expect);
        assert!(query_pairs("https://x/api/jdcs").is_empty());
    }
}
