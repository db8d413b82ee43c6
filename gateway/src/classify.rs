//! Which protocol a connection speaks, from its first bytes.
//!
//! [`classify`] is pure: it looks at what has arrived so far and answers
//! HTTP, SV1, SV2, or "not yet". The connection code reads at most
//! [`MAX_PREFIX`] bytes before it must decide, and replays them to whoever
//! gets the connection.
//!
//! Why whole tokens and not the protocol spec's first byte: a Stratum V2
//! connection opens with the 64-byte ElligatorSwift encoding of an ephemeral
//! key, which is pseudo-random. Its first byte is `G`, `P` or `{` about 3
//! times in 256, and the one-byte rule sends those miners to the HTTP or
//! SV1 listener, where they cannot connect (`npm run bench-gateway`
//! counts them through HAProxy with one-byte rules). So:
//!
//! - **HTTP** is an HTTP/1.x method token followed by a space (`POST `,
//!   `GET `, ...). While what has arrived is still the start of such a
//!   token, we wait for more.
//! - **SV1** is the start of a JSON-RPC object: optional JSON whitespace,
//!   `{`, optional whitespace, a quoted member name (letters, digits, `_`,
//!   `-`, `.`; at most [`MAX_KEY_LEN`]) and its `:`. Every SV1 miner's first
//!   message (`{"id": 1, "method": "mining.subscribe", ...}`) starts so.
//!   Stopping at `{` and a quote or a space would still send one in 51
//!   random openings that start with `{` to the SV1 listener; requiring the
//!   member name and its colon makes that about one in 50 million.
//! - **SV2** is everything else, as soon as the bytes can be neither.

/// Most bytes read before deciding. A decision needs at most 8 bytes for
/// HTTP (`OPTIONS `) and `{"` + a member name + `":` for SV1; an SV2
/// opening is exactly 64 bytes, so reading this many never waits for bytes
/// an SV2 client will not send.
pub const MAX_PREFIX: usize = 64;

/// Longest SV1 member name looked for (`jsonrpc` is the longest in use).
pub const MAX_KEY_LEN: usize = 32;

/// The HTTP/1.1 methods (RFC 9110 and PATCH). Any of them is served as
/// HTTP, so a wrong method gets a proper answer instead of a relay to the
/// pool.
pub const HTTP_METHODS: [&str; 9] = [
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// The protocol a connection is handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A JDC's report (or any HTTP request): served here.
    Http,
    /// Stratum V1 JSON-RPC: relayed to `--sv1`.
    Sv1,
    /// Stratum V2 (and anything unrecognised): relayed to `--sv2`.
    Sv2,
}

impl Class {
    /// The name used in logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Class::Http => "http",
            Class::Sv1 => "sv1",
            Class::Sv2 => "sv2",
        }
    }
}

/// What the bytes so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The connection speaks this.
    Decided(Class),
    /// Still the start of an HTTP method or of a JSON-RPC object: wait for
    /// more bytes (or the deadline).
    NeedMore,
}

/// Classifies the first bytes of a connection (see the module docs).
/// `prefix` longer than [`MAX_PREFIX`] is looked at only up to it.
pub fn classify(prefix: &[u8]) -> Verdict {
    let prefix = &prefix[..prefix.len().min(MAX_PREFIX)];
    if prefix.is_empty() {
        return Verdict::NeedMore;
    }
    match (http_method(prefix), json_rpc_start(prefix)) {
        (Match::Yes, _) => Verdict::Decided(Class::Http),
        (_, Match::Yes) => Verdict::Decided(Class::Sv1),
        (Match::Maybe, _) | (_, Match::Maybe) if prefix.len() < MAX_PREFIX => Verdict::NeedMore,
        _ => Verdict::Decided(Class::Sv2),
    }
}

/// The protocol spec's rule, on the first byte alone: `G` or `P` is HTTP,
/// `{` is SV1, anything else SV2. Kept to count (and benchmark) the
/// connections it would misroute.
pub fn one_byte_rule(first: u8) -> Class {
    match first {
        b'G' | b'P' => Class::Http,
        b'{' => Class::Sv1,
        _ => Class::Sv2,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Yes,
    Maybe,
    No,
}

/// A method token and a space, or the start of one.
fn http_method(bytes: &[u8]) -> Match {
    let mut best = Match::No;
    for method in HTTP_METHODS {
        let method = method.as_bytes();
        let token_len = method.len() + 1;
        let seen = bytes.len().min(token_len);
        let token_matches = bytes[..seen]
            .iter()
            .enumerate()
            .all(|(i, b)| *b == method.get(i).copied().unwrap_or(b' '));
        if token_matches {
            if bytes.len() >= token_len {
                return Match::Yes;
            }
            best = Match::Maybe;
        }
    }
    best
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| is_json_space(**b)).count();
    &bytes[n..]
}

/// Whether `rest` starts with `want` (consuming it), has ended, or differs.
fn eat(rest: &mut &[u8], want: u8) -> Match {
    match rest.split_first() {
        None => Match::Maybe,
        Some((b, tail)) if *b == want => {
            *rest = tail;
            Match::Yes
        }
        Some(_) => Match::No,
    }
}

/// `ws* { ws* " key " ws* :`, or the start of it.
fn json_rpc_start(bytes: &[u8]) -> Match {
    let mut rest = skip_space(bytes);
    match eat(&mut rest, b'{') {
        Match::Yes => {}
        other => return other,
    }
    rest = skip_space(rest);
    match eat(&mut rest, b'"') {
        Match::Yes => {}
        other => return other,
    }
    let key_len = rest.iter().take_while(|b| is_key_char(**b)).count();
    if key_len > MAX_KEY_LEN {
        return Match::No;
    }
    rest = &rest[key_len..];
    if rest.is_empty() {
        return Match::Maybe;
    }
    if key_len == 0 {
        return Match::No;
    }
    match eat(&mut rest, b'"') {
        Match::Yes => {}
        other => return other,
    }
    rest = skip_space(rest);
    eat(&mut rest, b':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;
    use Verdict::*;

    #[test]
    fn http_needs_a_whole_method_and_a_space() {
        let cases: &[(&[u8], Verdict)] = &[
            (b"POST /api/downstream-report HTTP/1.1\r\n", Decided(Http)),
            (b"GET / HTTP/1.0\r\n", Decided(Http)),
            (b"OPTIONS ", Decided(Http)),
            (b"DELETE x", Decided(Http)),
            (b"G", NeedMore),
            (b"P", NeedMore),
            (b"PO", NeedMore),
            (b"POST", NeedMore),
            (b"PATC", NeedMore),
            (b"POSTX", Decided(Sv2)),
            (b"GETS /", Decided(Sv2)),
            (b"Gx", Decided(Sv2)),
            (b"PUTT", Decided(Sv2)),
            (b"post /", Decided(Sv2)),
            (b"POST\t/", Decided(Sv2)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                classify(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn sv1_needs_the_start_of_a_json_rpc_object() {
        let cases: &[(&[u8], Verdict)] = &[
            (
                b"{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": []}\n",
                Decided(Sv1),
            ),
            (b"{\"method\":\"mining.subscribe\"", Decided(Sv1)),
            (b"\r\n { \"params\" : []", Decided(Sv1)),
            (b"{\"jsonrpc\":\"2.0\"", Decided(Sv1)),
            (b"{", NeedMore),
            (b"  {", NeedMore),
            (b"{ ", NeedMore),
            (b"{\"", NeedMore),
            (b"{\"id", NeedMore),
            (b"{\"id\"", NeedMore),
            (b"{\"id\" ", NeedMore),
            (b"   ", NeedMore),
            (b"{\"\":", Decided(Sv2)),
            (b"{\"i d\":", Decided(Sv2)),
            (b"{\"id\"x", Decided(Sv2)),
            (b"{x", Decided(Sv2)),
            (b"{{", Decided(Sv2)),
            (b"[{\"id\":", Decided(Sv2)),
            (b"\x00{\"id\":", Decided(Sv2)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                classify(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let long_key = format!("{{\"{}\":", "k".repeat(MAX_KEY_LEN));
        assert_eq!(classify(long_key.as_bytes()), Decided(Sv1));
        let too_long = format!("{{\"{}\":", "k".repeat(MAX_KEY_LEN + 1));
        assert_eq!(classify(too_long.as_bytes()), Decided(Sv2));
    }

    #[test]
    fn anything_else_is_sv2_at_once_and_a_full_window_decides() {
        assert_eq!(classify(&[]), NeedMore);
        assert_eq!(classify(&[0x8f]), Decided(Sv2));
        assert_eq!(classify(b"A"), Decided(Sv2));
        // Still ambiguous after MAX_PREFIX bytes of whitespace: SV2.
        assert_eq!(classify(&[b' '; MAX_PREFIX - 1]), NeedMore);
        assert_eq!(classify(&[b' '; MAX_PREFIX]), Decided(Sv2));
        assert_eq!(classify(&[b' '; MAX_PREFIX + 10]), Decided(Sv2));
    }

    #[test]
    fn the_one_byte_rule_is_the_specs() {
        assert_eq!(one_byte_rule(b'G'), Http);
        assert_eq!(one_byte_rule(b'P'), Http);
        assert_eq!(one_byte_rule(b'{'), Sv1);
        assert_eq!(one_byte_rule(b'D'), Sv2);
        assert_eq!(one_byte_rule(0), Sv2);
    }

    /// Every 64-byte opening that starts with `G`, `P` or `{` followed by
    /// one further byte of any value is SV2 unless that byte continues a
    /// token, and no two-byte start is HTTP or SV1 yet.
    #[test]
    fn no_two_bytes_decide_http_or_sv1() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let v = classify(&[a, b]);
                assert!(
                    matches!(v, NeedMore | Decided(Sv2)),
                    "{a:#04x} {b:#04x}: {v:?}"
                );
            }
        }
    }
}
