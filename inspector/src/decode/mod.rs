//! Decodes the API's JSON answers into the shared types (`JdcSummary`,
//! `StoredReport`, `Miner`, `Problem`, and `PoolAgents` in [`agents`])
//! field by field, over any JSON tree that implements [`Json`], naming the
//! field when an answer has the wrong shape.
//!
//! Why not serde: in the browser, `JSON.parse` already is a JSON parser.
//! Decoding with the shared types' `Deserialize` instead, through
//! `serde-wasm-bindgen` or `serde_json`, would add their code to the page's
//! WebAssembly (inspector/clippy.toml and scripts/build-inspector.sh keep
//! them out). The page parses with `JSON.parse` and walks the result here
//! (the `JsValue` implementation); the native tests walk `serde_json::Value`
//! trees that the shared types' own `Serialize` wrote, so this decoder is
//! checked against the serde format field for field. Other answers the page
//! reads decode the same way: implement their reader over [`Json`] with the
//! field helpers below, in a file of their own here.

mod agents;

pub use agents::agents;

use dmr_shared::summary::VendorShare;
use dmr_shared::{JdcSummary, Miner, Problem, Report, StoredReport};

/// A parsed JSON value, as far as the page needs to look into one.
pub trait Json: Sized {
    /// The member `name` of an object; `None` if absent or not an object.
    fn member(&self, name: &str) -> Option<Self>;
    /// The string, if this is one.
    fn string(&self) -> Option<String>;
    /// The number, if this is one.
    fn number(&self) -> Option<f64>;
    /// The boolean, if this is one.
    fn boolean(&self) -> Option<bool>;
    /// Whether this is `null`.
    fn is_null(&self) -> bool;
    /// The elements, if this is an array.
    fn elements(&self) -> Option<Vec<Self>>;
}

/// What is wrong with an answer: which field, and what it should have been.
pub type Shape = String;

/// The string member `name` of `v` (at path `at`, for the error).
pub fn string<J: Json>(v: &J, at: &str, name: &str) -> Result<String, Shape> {
    v.member(name)
        .and_then(|m| m.string())
        .ok_or_else(|| format!("`{at}{name}` is not a string"))
}

/// The number member `name` of `v`.
pub fn number<J: Json>(v: &J, at: &str, name: &str) -> Result<f64, Shape> {
    v.member(name)
        .and_then(|m| m.number())
        .ok_or_else(|| format!("`{at}{name}` is not a number"))
}

/// The boolean member `name` of `v`.
pub fn boolean<J: Json>(v: &J, at: &str, name: &str) -> Result<bool, Shape> {
    v.member(name)
        .and_then(|m| m.boolean())
        .ok_or_else(|| format!("`{at}{name}` is not true or false"))
}

/// The member `name` of `v` as a count: a whole number from 0 to 2^32 - 1.
pub fn count<J: Json>(v: &J, at: &str, name: &str) -> Result<usize, Shape> {
    let n = number(v, at, name)?;
    if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 {
        Ok(n as usize)
    } else {
        Err(format!("`{at}{name}` is not a count"))
    }
}

/// The member `name` of `v` as a string or `null` (absent counts as
/// `null`).
pub fn nullable_string<J: Json>(v: &J, at: &str, name: &str) -> Result<Option<String>, Shape> {
    match v.member(name) {
        None => Ok(None),
        Some(m) if m.is_null() => Ok(None),
        Some(m) => m
            .string()
            .map(Some)
            .ok_or_else(|| format!("`{at}{name}` is neither a string nor null")),
    }
}

/// The elements of `v`, an array at path `at` (empty for the answer itself).
pub fn array<J: Json>(v: &J, at: &str) -> Result<Vec<J>, Shape> {
    v.elements().ok_or_else(|| {
        format!(
            "`{}` is not an array",
            if at.is_empty() { "(answer)" } else { at }
        )
    })
}

/// `GET /api/jdcs`: an array of summaries.
pub fn summaries<J: Json>(v: &J) -> Result<Vec<JdcSummary>, Shape> {
    // Plain loops here rather than collecting into a `Result`: the same
    // work in less of the page's wasm.
    let mut summaries = Vec::new();
    for (i, item) in array(v, "")?.iter().enumerate() {
        summaries.push(summary(item, &format!("[{i}]."))?);
    }
    Ok(summaries)
}

fn summary<J: Json>(v: &J, at: &str) -> Result<JdcSummary, Shape> {
    let vendors_at = format!("{at}vendors");
    let shares = array(
        &v.member("vendors")
            .ok_or(format!("`{vendors_at}` is missing"))?,
        &vendors_at,
    )?;
    let mut vendors = Vec::new();
    for (i, s) in shares.iter().enumerate() {
        let at = format!("{vendors_at}[{i}].");
        vendors.push(VendorShare {
            vendor: string(s, &at, "vendor")?,
            miners: count(s, &at, "miners")?,
            hash_rate: number(s, &at, "hashRate")?,
        });
    }
    Ok(JdcSummary {
        identity: string(v, at, "identity")?,
        user_agent: nullable_string(v, at, "userAgent")?,
        miners: count(v, at, "miners")?,
        hash_rate: number(v, at, "hashRate")?,
        received_at: string(v, at, "receivedAt")?,
        expires_at: string(v, at, "expiresAt")?,
        vendors,
        // Only the pool compares fingerprints; an older Worker sends none.
        content: v
            .member("content")
            .and_then(|c| c.string())
            .unwrap_or_default(),
    })
}

/// `GET /api/downstream-report/{identity}`: one stored report.
pub fn stored_report<J: Json>(v: &J) -> Result<StoredReport, Shape> {
    let mut miners = Vec::new();
    let items = array(&v.member("miners").ok_or("`miners` is missing")?, "miners")?;
    for (i, m) in items.iter().enumerate() {
        miners.push(miner(m, &format!("miners[{i}]."))?);
    }
    Ok(StoredReport {
        report: Report {
            schema_version: count(v, "", "schemaVersion")? as u64,
            jdc_user_identity: string(v, "", "jdcUserIdentity")?,
            timestamp: string(v, "", "timestamp")?,
            miners,
        },
        received_at: string(v, "", "receivedAt")?,
        expires_at: string(v, "", "expiresAt")?,
        user_agent: nullable_string(v, "", "userAgent")?,
    })
}

fn miner<J: Json>(v: &J, at: &str) -> Result<Miner, Shape> {
    Ok(Miner {
        vendor: string(v, at, "vendor")?,
        hardware_version: string(v, at, "hardwareVersion")?,
        firmware: string(v, at, "firmware")?,
        device_id: string(v, at, "deviceId")?,
        nominal_hash_rate: number(v, at, "nominalHashRate")?,
        user_identity: string(v, at, "userIdentity")?,
        connected_at: string(v, at, "connectedAt")?,
        via: nullable_string(v, at, "via")?,
    })
}

/// An RFC 9457 problem, read leniently: a member that is absent or of
/// another type is left empty, so any pool's problem reads.
pub fn problem<J: Json>(v: &J) -> Problem {
    let text = |name| v.member(name).and_then(|m| m.string()).unwrap_or_default();
    Problem {
        kind: text("type"),
        title: text("title"),
        status: v
            .member("status")
            .and_then(|m| m.number())
            .filter(|n| (100.0..600.0).contains(n))
            .map_or(0, |n| n as u16),
        detail: text("detail"),
        field: v.member("field").and_then(|m| m.string()),
        success: false,
    }
}

#[cfg(target_arch = "wasm32")]
impl Json for wasm_bindgen::JsValue {
    fn member(&self, name: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        js_sys::Reflect::get(self, &wasm_bindgen::JsValue::from_str(name))
            .ok()
            .filter(|m| !m.is_undefined())
    }
    fn string(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn is_null(&self) -> bool {
        wasm_bindgen::JsValue::is_null(self)
    }
    fn elements(&self) -> Option<Vec<Self>> {
        js_sys::Array::is_array(self).then(|| js_sys::Array::from(self).to_vec())
    }
}

#[cfg(test)]
impl Json for serde_json::Value {
    fn member(&self, name: &str) -> Option<Self> {
        self.as_object()?.get(name).cloned()
    }
    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }
    fn elements(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{miner, stored, summary as a_summary};
    use serde_json::{json, Value};

    #[test]
    fn summaries_read_exactly_what_jdc_summary_writes() {
        let jdcs = vec![
            a_summary(
                "bc1qa",
                "2026-11-26T02:00:01.123Z",
                vec![miner("bitaxe", 1.2e12, "a.1"), miner("", 0.5e12, "a.2")],
            ),
            a_summary("bc1qb", "2026-11-26T02:00:02Z", vec![]),
        ];
        assert_eq!(jdcs[1].user_agent, None);
        let written = serde_json::to_value(&jdcs).unwrap();
        assert_eq!(summaries(&written), Ok(jdcs));
        assert_eq!(summaries(&json!([])), Ok(vec![]));
    }

    #[test]
    fn stored_reports_read_exactly_what_stored_report_writes() {
        for report in [
            stored(
                "bc1qa",
                "2026-11-26T02:00:00.500Z",
                vec![
                    miner("bitaxe", 1.2e12, "bc1qa.1"),
                    miner("", 0.0, "bc1qa.2"),
                ],
            ),
            stored("bc1qb", "2026-11-26T02:00:00Z", vec![]),
        ] {
            let written = serde_json::to_value(&report).unwrap();
            assert_eq!(stored_report(&written), Ok(report));
        }
    }

    #[test]
    fn the_example_from_the_brief_reads() {
        let v: Value = serde_json::from_str(r#"{"schemaVersion":1,"jdcUserIdentity":"bc1q...","timestamp":"2026-11-26T02:00:00Z","miners":[{"vendor":"bitaxe","hardwareVersion":"BM1370","firmware":"v2.4","deviceId":"","nominalHashRate":1.2e12,"userIdentity":"bc1q....bitaxe1","connectedAt":"2026-11-26T01:00:00Z"}],"receivedAt":"2026-11-26T02:00:01.123Z","expiresAt":"2026-11-26T02:05:01.123Z","userAgent":"bitaxe/sv2"}"#).unwrap();
        let r = stored_report(&v).unwrap();
        assert_eq!(r.report.miners[0].nominal_hash_rate, 1.2e12);
        assert_eq!(r.user_agent.as_deref(), Some("bitaxe/sv2"));
    }

    #[test]
    fn a_wrong_shape_names_the_field() {
        let good = serde_json::to_value(vec![a_summary(
            "bc1qa",
            "2026-11-26T02:00:00Z",
            vec![miner("x", 1.0, "w")],
        )])
        .unwrap();
        type Spoil = fn(&mut Value);
        let cases: [(Spoil, &str); 6] = [
            (|v| *v = json!({}), "`(answer)` is not an array"),
            (
                |v| v[0]["identity"] = json!(5),
                "`[0].identity` is not a string",
            ),
            (
                |v| v[0]["miners"] = json!(-1),
                "`[0].miners` is not a count",
            ),
            (
                |v| v[0]["miners"] = json!(1.5),
                "`[0].miners` is not a count",
            ),
            (
                |v| v[0]["userAgent"] = json!(1),
                "`[0].userAgent` is neither a string nor null",
            ),
            (
                |v| v[0]["vendors"][0]["hashRate"] = json!("1"),
                "`[0].vendors[0].hashRate` is not a number",
            ),
        ];
        for (spoil, want) in cases {
            let mut v = good.clone();
            spoil(&mut v);
            assert_eq!(summaries(&v), Err(want.to_string()));
        }
        let mut report = serde_json::to_value(stored(
            "bc1qa",
            "2026-11-26T02:00:00Z",
            vec![miner("x", 1.0, "w")],
        ))
        .unwrap();
        report["miners"][0]["connectedAt"] = Value::Null;
        assert_eq!(
            stored_report(&report),
            Err("`miners[0].connectedAt` is not a string".to_string())
        );
    }

    #[test]
    fn a_summary_without_a_fingerprint_or_user_agent_still_reads() {
        let v = json!([{"identity": "a", "miners": 0, "hashRate": 0, "receivedAt": "t", "expiresAt": "u", "vendors": []}]);
        let jdcs = summaries(&v).unwrap();
        assert_eq!(
            (jdcs[0].content.as_str(), jdcs[0].user_agent.as_ref()),
            ("", None)
        );
    }

    #[test]
    fn problems_read_like_the_worker_writes_them() {
        let written = Problem::new(422, "Invalid report", "limit: too big").with_field("limit");
        let v = serde_json::to_value(&written).unwrap();
        assert_eq!(problem(&v), written);
    }

    #[test]
    fn problems_give_their_detail_else_their_title() {
        let cases = [
            (
                json!({"title": "Unauthorized", "detail": "needs a token"}),
                Some("needs a token"),
            ),
            (
                json!({"title": "Unauthorized", "detail": " "}),
                Some("Unauthorized"),
            ),
            (json!({"status": 500}), None),
            (json!("oops"), None),
        ];
        for (v, want) in cases {
            assert_eq!(problem(&v).reason().as_deref(), want, "{v}");
        }
    }
}
