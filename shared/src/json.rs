//! Strict JSON for untrusted bodies: standard JSON, except that an object may
//! not repeat a key (parsers disagree on which copy wins, so a report could
//! mean one thing to us and another to a log reader), nesting is bounded
//! before any parsing starts, and an object may have at most
//! [`MAX_OBJECT_MEMBERS`] members.
//!
//! Nothing here builds a tree of the JSON. Values nobody asked for are
//! skipped by [`Skip`], which allocates nothing but one small set of key
//! hashes per open object: that is what keeps the memory a body costs
//! bounded whatever it holds (a tree of `serde_json::Value`s costs many
//! times the body for an array of numbers). The report parser
//! (`validate`) reads the members it knows straight into its types and hands
//! the rest to [`Skip`].

use std::collections::BTreeSet;
use std::fmt;
use std::hash::Hasher;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::limits::MAX_OBJECT_MEMBERS;

/// Why a body is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON, or JSON with a repeated key.
    Syntax(String),
    /// Arrays and objects nest deeper than the limit.
    TooDeep { limit: usize },
    /// An object has more members than [`MAX_OBJECT_MEMBERS`].
    TooManyMembers { limit: usize },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(why) => f.write_str(why),
            JsonError::TooDeep { limit } => write!(f, "nests deeper than {limit} levels"),
            JsonError::TooManyMembers { limit } => {
                write!(f, "has an object of more than {limit} members")
            }
        }
    }
}

impl std::error::Error for JsonError {}

/// Checks that `body` is one strict JSON value (unique keys, at most
/// `max_depth` levels of nesting, at most [`MAX_OBJECT_MEMBERS`] members per
/// object) without building it. For settings and other small documents that
/// are then read with plain serde.
pub fn check_strict(body: &[u8], max_depth: usize) -> Result<(), JsonError> {
    check_depth(body, max_depth)?;
    let mut over_cap = false;
    let mut de = serde_json::Deserializer::from_slice(body);
    Skip {
        over_cap: &mut over_cap,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| JsonError::Syntax(e.to_string()))?;
    if over_cap {
        return Err(JsonError::TooManyMembers {
            limit: MAX_OBJECT_MEMBERS,
        });
    }
    Ok(())
}

/// Refuses a body whose arrays and objects nest deeper than `max_depth`,
/// before it is parsed: the parsers recurse once per level.
pub fn check_depth(body: &[u8], max_depth: usize) -> Result<(), JsonError> {
    if nesting_depth(body) > max_depth {
        Err(JsonError::TooDeep { limit: max_depth })
    } else {
        Ok(())
    }
}

/// The deepest nesting of `[` and `{` outside strings. One pass without
/// allocating, so a hostile body costs its length only; inside strings it
/// jumps from quote or backslash to the next.
fn nesting_depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < body.len() {
        match body[i] {
            b'"' => {
                // Skip the string: to its closing quote, stepping over escapes.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', body.get(i..).unwrap_or_default()) {
                        Some(offset) if body[i + offset] == b'\\' => i += offset + 2,
                        Some(offset) => {
                            i += offset;
                            break;
                        }
                        // Unterminated: nothing after it nests.
                        None => return max,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// The members of one object seen so far, to refuse a repeated key. Members
/// the caller knows by name take one bit each; any other key is kept as a
/// 64-bit hash, and only for the first [`MAX_OBJECT_MEMBERS`] members, so an
/// object costs at most a few KiB however many members it has. (Two
/// different keys of one object with the same SipHash would be taken for a
/// repeat: a chance of about 2^-45 for the largest object, and a body
/// crafted for it only gets itself refused.)
///
/// The hashes are kept in order, in a [`BTreeSet`], not in a hash table:
/// SipHash's keys are fixed here (the wasm build has no randomness to seed
/// them), so keys whose hashes share a table's bucket could be crafted, and
/// a table of those costs the square of its members to fill (what that
/// does to a 4 MiB body is in docs/performance.md, under "Large reports").
/// A tree costs log n per member whatever the hashes.
#[derive(Default)]
pub struct SeenKeys {
    known: u32,
    others: BTreeSet<u64>,
    members: usize,
}

impl SeenKeys {
    /// Records the member `key`, the caller's member number `known` when it
    /// knows it by name. A repeat is an error; past [`MAX_OBJECT_MEMBERS`]
    /// members, `over_cap` is set and other keys are no longer tracked.
    fn insert<E: de::Error>(
        &mut self,
        known: Option<usize>,
        key: &str,
        over_cap: &mut bool,
    ) -> Result<(), E> {
        self.members += 1;
        let tracked = self.members <= MAX_OBJECT_MEMBERS;
        if !tracked {
            *over_cap = true;
        }
        let fresh = match known {
            Some(n) => {
                let bit = 1u32 << n;
                let fresh = self.known & bit == 0;
                self.known |= bit;
                fresh
            }
            None if tracked => {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                hasher.write(key.as_bytes());
                self.others.insert(hasher.finish())
            }
            None => true,
        };
        if fresh {
            Ok(())
        } else {
            Err(E::custom(format_args!("duplicate key {key:?}")))
        }
    }
}

/// Reads one object key without copying it: checks it against the object's
/// [`SeenKeys`] and returns its position in `names`, if it is one of them.
pub struct Member<'a> {
    /// The members the caller knows by name (at most 32).
    pub names: &'static [&'static str],
    pub seen: &'a mut SeenKeys,
    pub over_cap: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        let known = self.names.iter().position(|name| *name == key);
        self.seen.insert(known, key, self.over_cap)?;
        Ok(known)
    }
}

/// Skips one JSON value of any kind, keeping nothing of it, but still
/// refusing a repeated key in any object inside it and noting in
/// `over_cap` an object with too many members.
pub struct Skip<'a> {
    pub over_cap: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Skip {
                over_cap: &mut *self.over_cap,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = SeenKeys::default();
        while map
            .next_key_seed(Member {
                names: &[],
                seen: &mut seen,
                over_cap: &mut *self.over_cap,
            })?
            .is_some()
        {
            map.next_value_seed(Skip {
                over_cap: &mut *self.over_cap,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), JsonError> {
        check_strict(text.as_bytes(), 16)
    }

    #[test]
    fn ordinary_json_passes() {
        for text in [
            r#"{"a":[1,2.5,-3,"x",null,true,{"b":{}}],"c":"\"]}"}"#,
            "[]",
            "  42 ",
            r#""just a string""#,
            r#"{"\u0061":1,"b":2}"#,
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":[{"k":1,"k":1}]}"#,
            // The same key, once escaped: still the same key.
            r#"{"a":1,"\u0061":2}"#,
            r#"[[[{"deep":{"z":[],"y":0,"z":{}}}]]]"#,
        ] {
            match check(text) {
                Err(JsonError::Syntax(why)) => assert!(why.contains("duplicate key"), "{why}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        // The same key in sibling objects is fine.
        assert_eq!(check(r#"[{"k":1},{"k":2}]"#), Ok(()));
    }

    #[test]
    fn depth_is_bounded_before_parsing_and_brackets_in_strings_do_not_count() {
        let deep = "[".repeat(17) + &"]".repeat(17);
        assert_eq!(check(&deep), Err(JsonError::TooDeep { limit: 16 }));
        let ok = "[".repeat(16) + &"]".repeat(16);
        assert_eq!(check(&ok), Ok(()));
        let in_string = format!(r#"{{"s":"{}\"{}\\"}}"#, "[".repeat(40), "{".repeat(40));
        assert_eq!(check_strict(in_string.as_bytes(), 1), Ok(()));
        // Unbalanced garbage deeper than the limit is refused cheaply too,
        // and so is an unterminated string full of escapes.
        assert!(matches!(
            check_strict(&[b'{'; 100_000], 16),
            Err(JsonError::TooDeep { .. })
        ));
        assert!(matches!(check("\"\\"), Err(JsonError::Syntax(_))));
    }

    #[test]
    fn keys_whose_hashes_share_their_low_bits_are_told_apart() {
        // Keys crafted to share a hash table's bucket (here the low 8 bits
        // of the hash `SeenKeys` keeps): all different, so all accepted; a
        // repeat among them is still one.
        let hash = |key: &str| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            hasher.write(key.as_bytes());
            hasher.finish()
        };
        let keys: Vec<String> = (0u32..)
            .map(|i| format!("{i:x}"))
            .filter(|k| hash(k) & 0xff == 0)
            .take(200)
            .collect();
        let object = |keys: &[String]| {
            let members: Vec<String> = keys.iter().map(|k| format!("\"{k}\":0")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert_eq!(check(&object(&keys)), Ok(()));
        let mut repeated = keys.clone();
        repeated.push(keys[117].clone());
        assert!(
            matches!(check(&object(&repeated)), Err(JsonError::Syntax(why)) if why.contains("duplicate key"))
        );
    }

    #[test]
    fn objects_have_a_bounded_number_of_members() {
        let object = |n: usize| {
            let members: Vec<String> = (0..n).map(|k| format!("\"k{k}\":{k}")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert_eq!(check(&object(MAX_OBJECT_MEMBERS)), Ok(()));
        assert_eq!(
            check(&format!("[{}]", object(MAX_OBJECT_MEMBERS + 1))),
            Err(JsonError::TooManyMembers {
                limit: MAX_OBJECT_MEMBERS
            })
        );
        // Many objects of many members each are fine.
        let many = format!("[{}]", vec![object(MAX_OBJECT_MEMBERS); 20].join(","));
        assert_eq!(check(&many), Ok(()));
    }

    #[test]
    fn trailing_data_and_bad_numbers_are_syntax_errors() {
        for text in [
            "{} {}",
            "[1e400]",
            "{",
            "",
            "\u{feff}{}",
            "[NaN]",
            "{\"a\" 1}",
        ] {
            assert!(matches!(check(text), Err(JsonError::Syntax(_))), "{text:?}");
        }
    }
}
