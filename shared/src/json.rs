//! Strict JSON reading for untrusted bodies: standard JSON, except that an
//! object may not repeat a key (parsers disagree on which copy wins, so a
//! report could mean one thing to us and another to a log reader), and the
//! nesting depth is bounded before any parsing starts.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON, or JSON with a repeated key.
    Syntax(String),
    /// Arrays and objects nest deeper than the limit.
    TooDeep { limit: usize },
}

/// Parses `body` as JSON with unique keys and at most `max_depth` levels of
/// nested arrays and objects.
pub fn parse_strict(body: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    if nesting_depth(body) > max_depth {
        return Err(JsonError::TooDeep { limit: max_depth });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let Strict(value) =
        Strict::deserialize(&mut de).map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

/// The deepest nesting of `[` and `{` outside strings. Runs before parsing,
/// in one pass without allocating, so a hostile body costs its length only.
fn nesting_depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A JSON value whose objects were checked for repeated keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_json_parses_as_serde_json_would() {
        for text in [
            r#"{"a":[1,2.5,-3,"x",null,true,{"b":{}}],"c":"\"]}"}"#,
            "[]",
            "  42 ",
            r#""just a string""#,
        ] {
            let strict = parse_strict(text.as_bytes(), 16).unwrap();
            assert_eq!(
                strict,
                serde_json::from_str::<Value>(text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        for text in [r#"{"a":1,"a":2}"#, r#"{"x":[{"k":1,"k":1}]}"#] {
            match parse_strict(text.as_bytes(), 16) {
                Err(JsonError::Syntax(why)) => assert!(why.contains("duplicate key"), "{why}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        // The same key in sibling objects is fine.
        assert!(parse_strict(br#"[{"k":1},{"k":2}]"#, 16).is_ok());
    }

    #[test]
    fn depth_is_bounded_before_parsing_and_brackets_in_strings_do_not_count() {
        let deep = "[".repeat(17) + &"]".repeat(17);
        assert_eq!(
            parse_strict(deep.as_bytes(), 16),
            Err(JsonError::TooDeep { limit: 16 })
        );
        let ok = "[".repeat(16) + &"]".repeat(16);
        assert!(parse_strict(ok.as_bytes(), 16).is_ok());
        let in_string = format!(r#"{{"s":"{}\"{}"}}"#, "[".repeat(40), "{".repeat(40));
        assert!(parse_strict(in_string.as_bytes(), 2).is_ok());
        // Unbalanced garbage deeper than the limit is refused cheaply too.
        assert!(matches!(
            parse_strict(&[b'{'; 100_000], 16),
            Err(JsonError::TooDeep { .. })
        ));
    }

    #[test]
    fn trailing_data_and_bad_numbers_are_syntax_errors() {
        for text in ["{} {}", "[1e400]", "{", "", "\u{feff}{}"] {
            assert!(
                matches!(parse_strict(text.as_bytes(), 16), Err(JsonError::Syntax(_))),
                "{text:?}"
            );
        }
    }
}
