//! Reads a report body straight into a [`Report`]: serde visitors over the
//! bytes, one pass, no tree of the JSON. The members a report has are read
//! into their types and checked as they arrive; any other member is skipped
//! by [`Skip`] without being built (still checked for repeated keys).
//!
//! Problems are ranked rather than returned at once, so the error a body
//! earns does not depend on the order of its members, and is the one the
//! rules in the parent module describe: the parse always runs to the end
//! (a syntax error anywhere wins), and of the problems found the one of
//! lowest [`Rank`] is reported. Once any problem is found nothing more is
//! allocated: the report will not be used.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::{
    hash_rate_problem, identity_text_problem, text_problem, timestamp_problem, too_long,
    too_many_miners, unsupported_version, ReportError,
};
use crate::json::{check_depth, JsonError, Member, SeenKeys, Skip};
use crate::limits::{
    MAX_FIELD_LEN, MAX_IDENTITY_LEN, MAX_JSON_DEPTH, MAX_MINERS, MAX_OBJECT_MEMBERS,
    MAX_TIMESTAMP_LEN,
};
use crate::report::{Miner, Report, SCHEMA_VERSION};

/// Where a problem stands in the order of checks: (phase, section, miner
/// index, member). Shape problems (missing, mistyped) come before value
/// problems; within a phase the body's own limits, then `schemaVersion`,
/// `miners`, `jdcUserIdentity`, `timestamp`, then the miners by index.
type Rank = (u8, u8, usize, u8);

const SHAPE: u8 = 0;
const VALUE: u8 = 1;

const BODY: u8 = 0;
const VERSION: u8 = 1;
const MINERS: u8 = 2;
const IDENTITY: u8 = 3;
const TIMESTAMP: u8 = 4;
const MINER: u8 = 5;

/// The report's members, by name.
const REPORT_MEMBERS: &[&str] = &["schemaVersion", "jdcUserIdentity", "timestamp", "miners"];

/// A miner's members by name, with their rank among the shape checks (the
/// hash rate first) and among the value checks (the strings first). The
/// first [`REQUIRED_MINER_MEMBERS`] are the protocol's and required; `via`
/// is optional (absent or `null` for a device connected to the JDC itself).
const MINER_MEMBERS: &[&str] = &[
    "vendor",
    "hardwareVersion",
    "firmware",
    "deviceId",
    "userIdentity",
    "nominalHashRate",
    "connectedAt",
    "via",
];
const MINER_SHAPE_RANK: [u8; 8] = [2, 3, 4, 5, 6, 1, 7, 8];
const MINER_VALUE_RANK: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
const REQUIRED_MINER_MEMBERS: usize = 7;
const RATE: usize = 5;
const CONNECTED_AT: usize = 6;
const VIA: usize = 7;

/// Parses `body` into a report, or the error the rules give it.
pub(super) fn report(body: &[u8]) -> Result<Report, ReportError> {
    check_depth(body, MAX_JSON_DEPTH).map_err(|e| ReportError::invalid("body", e.to_string()))?;
    let mut ctx = Ctx::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let report = ReportVisitor { ctx: &mut ctx }
        .deserialize(&mut de)
        .and_then(|report| de.end().map(|()| report))
        .map_err(|e| ReportError::Malformed(e.to_string()))?;
    if ctx.over_cap {
        ctx.blame((SHAPE, BODY, 0, 0), || {
            let limit = MAX_OBJECT_MEMBERS;
            ReportError::invalid("body", JsonError::TooManyMembers { limit }.to_string())
        });
    }
    match (ctx.first, report) {
        (Some((_, error)), _) => Err(error),
        (None, Some(report)) => Ok(report),
        (None, None) => Err(ReportError::invalid("body", "could not be read")),
    }
}

/// What the parse found so far.
#[derive(Default)]
struct Ctx {
    /// The problem of lowest rank, if any.
    first: Option<(Rank, ReportError)>,
    /// Some object had more than [`MAX_OBJECT_MEMBERS`] members.
    over_cap: bool,
}

impl Ctx {
    /// Records a problem; `error` is only built when it outranks the one
    /// already found.
    fn blame(&mut self, rank: Rank, error: impl FnOnce() -> ReportError) {
        if self.first.as_ref().is_none_or(|(first, _)| rank < *first) {
            self.first = Some((rank, error()));
        }
    }

    /// Whether the report may still be returned, so is worth building.
    fn building(&self) -> bool {
        self.first.is_none() && !self.over_cap
    }
}

/// One JSON value where a scalar is expected: kept only as far as a
/// check needs it.
enum Got<'de> {
    Null,
    Bool(bool),
    Number(Number),
    Text(std::borrow::Cow<'de, str>),
    /// A string longer than the member allows, by its length: never copied.
    TooLong(usize),
    Array,
    Object,
}

impl Got<'_> {
    /// For error messages: never echoes a large input back.
    fn describe(&self) -> String {
        match self {
            Got::Null => "null".into(),
            Got::Bool(b) => b.to_string(),
            Got::Number(n) => format!("the number {n}"),
            Got::Text(_) | Got::TooLong(_) => "a string".into(),
            Got::Array => "an array".into(),
            Got::Object => "an object".into(),
        }
    }
}

/// Reads one value as a [`Got`], copying a string only when it is at most
/// `max_len` bytes and escaped (an unescaped one is borrowed from the body).
struct Scalar<'a> {
    max_len: usize,
    over_cap: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Scalar<'_> {
    type Value = Got<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Got<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar<'_> {
    type Value = Got<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Got<'de>, E> {
        Ok(Got::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Got<'de>, E> {
        Ok(Got::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Got<'de>, E> {
        Ok(Got::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Got<'de>, E> {
        Number::from_f64(v)
            .map(Got::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Got<'de>, E> {
        Ok(if v.len() > self.max_len {
            Got::TooLong(v.len())
        } else {
            Got::Text(v.into())
        })
    }

    fn visit_str<E>(self, v: &str) -> Result<Got<'de>, E> {
        Ok(if v.len() > self.max_len {
            Got::TooLong(v.len())
        } else {
            Got::Text(v.to_owned().into())
        })
    }

    fn visit_unit<E>(self) -> Result<Got<'de>, E> {
        Ok(Got::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Got<'de>, A::Error> {
        Skip {
            over_cap: self.over_cap,
        }
        .visit_seq(seq)?;
        Ok(Got::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Got<'de>, A::Error> {
        Skip {
            over_cap: self.over_cap,
        }
        .visit_map(map)?;
        Ok(Got::Object)
    }
}

/// Visitors that expect an object or an array implement the other kinds of
/// value with this: each is described in a shape problem, containers are
/// skipped.
macro_rules! other_values {
    ($($container:ident),*) => {
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(self.mistyped(Got::Bool(v)))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(self.mistyped(Got::Number(v.into())))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(self.mistyped(Got::Number(v.into())))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let n = Number::from_f64(v).ok_or_else(|| E::custom("number out of range"))?;
            Ok(self.mistyped(Got::Number(n)))
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.mistyped(Got::Text("".into())))
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(self.mistyped(Got::Null))
        }

        $(other_values!(@$container);)*
    };
    (@seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Skip { over_cap: &mut self.ctx.over_cap }.visit_seq(seq)?;
            Ok(self.mistyped(Got::Array))
        }
    };
    (@map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Skip { over_cap: &mut self.ctx.over_cap }.visit_map(map)?;
            Ok(self.mistyped(Got::Object))
        }
    };
}

/// The whole body: an object with the report's members.
struct ReportVisitor<'a> {
    ctx: &'a mut Ctx,
}

impl ReportVisitor<'_> {
    fn mistyped(self, got: Got) -> Option<Report> {
        self.ctx.blame((SHAPE, BODY, 0, 0), || {
            ReportError::invalid(
                "body",
                format!("expected an object, got {}", got.describe()),
            )
        });
        None
    }
}

impl<'de> DeserializeSeed<'de> for ReportVisitor<'_> {
    type Value = Option<Report>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReportVisitor<'_> {
    type Value = Option<Report>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a report object")
    }

    other_values!(seq);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.ctx;
        let mut seen = SeenKeys::default();
        let mut present = [false; 4];
        let (mut identity, mut timestamp, mut miners) = (None, None, None);
        while let Some(member) = map.next_key_seed(Member {
            names: REPORT_MEMBERS,
            seen: &mut seen,
            over_cap: &mut ctx.over_cap,
        })? {
            let Some(index) = member else {
                map.next_value_seed(Skip {
                    over_cap: &mut ctx.over_cap,
                })?;
                continue;
            };
            present[index] = true;
            match index {
                0 => {
                    let got = map.next_value_seed(Scalar {
                        max_len: 0,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    schema_version(ctx, got);
                }
                1 => {
                    let got = map.next_value_seed(Scalar {
                        max_len: MAX_IDENTITY_LEN,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    identity = text_member(
                        ctx,
                        got,
                        (IDENTITY, 0, 0, 0),
                        || "jdcUserIdentity".into(),
                        MAX_IDENTITY_LEN,
                        identity_text_problem,
                    );
                }
                2 => {
                    let got = map.next_value_seed(Scalar {
                        max_len: MAX_TIMESTAMP_LEN,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    timestamp = text_member(
                        ctx,
                        got,
                        (TIMESTAMP, 0, 0, 0),
                        || "timestamp".into(),
                        MAX_TIMESTAMP_LEN,
                        timestamp_problem,
                    );
                }
                _ => miners = map.next_value_seed(MinersVisitor { ctx: &mut *ctx })?,
            }
        }
        for (index, section) in [(0, VERSION), (3, MINERS), (1, IDENTITY), (2, TIMESTAMP)] {
            if !present[index] {
                ctx.blame((SHAPE, section, 0, 0), || missing(REPORT_MEMBERS[index]));
            }
        }
        if !ctx.building() {
            return Ok(None);
        }
        Ok(Some(Report {
            schema_version: SCHEMA_VERSION,
            jdc_user_identity: identity.unwrap_or_default(),
            timestamp: timestamp.unwrap_or_default(),
            miners: miners.unwrap_or_default(),
        }))
    }
}

fn missing(field: &str) -> ReportError {
    ReportError::invalid(field, "is required")
}

/// `schemaVersion`: the integer 1. Any other version is refused before
/// anything else: its members may mean something else.
fn schema_version(ctx: &mut Ctx, got: Got) {
    let rank = (SHAPE, VERSION, 0, 0);
    match &got {
        Got::Number(n) => match n.as_u64() {
            Some(SCHEMA_VERSION) => {}
            Some(other) => ctx.blame(rank, || {
                ReportError::invalid("schemaVersion", unsupported_version(other))
            }),
            None => ctx.blame(rank, || expected_version(&got)),
        },
        _ => ctx.blame(rank, || expected_version(&got)),
    }
}

fn expected_version(got: &Got) -> ReportError {
    ReportError::invalid(
        "schemaVersion",
        format!(
            "expected the integer {SCHEMA_VERSION}, got {}",
            got.describe()
        ),
    )
}

/// `miners`: an array of at most [`MAX_MINERS`] miners. Past the limit the
/// rest are only counted (for the message), never read.
struct MinersVisitor<'a> {
    ctx: &'a mut Ctx,
}

impl MinersVisitor<'_> {
    fn mistyped(self, got: Got) -> Option<Vec<Miner>> {
        self.ctx.blame((SHAPE, MINERS, 0, 0), || {
            ReportError::invalid(
                "miners",
                format!("expected an array, got {}", got.describe()),
            )
        });
        None
    }
}

impl<'de> DeserializeSeed<'de> for MinersVisitor<'_> {
    type Value = Option<Vec<Miner>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MinersVisitor<'_> {
    type Value = Option<Vec<Miner>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of miners")
    }

    other_values!(map);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let ctx = self.ctx;
        let mut miners = Vec::new();
        let mut count = 0usize;
        loop {
            if count < MAX_MINERS {
                let Some(miner) = seq.next_element_seed(MinerVisitor {
                    ctx: &mut *ctx,
                    index: count,
                })?
                else {
                    break;
                };
                if let (Some(miner), true) = (miner, ctx.building()) {
                    miners.push(miner);
                }
            } else if seq
                .next_element_seed(Skip {
                    over_cap: &mut ctx.over_cap,
                })?
                .is_none()
            {
                break;
            }
            count += 1;
        }
        if count > MAX_MINERS {
            ctx.blame((SHAPE, MINERS, 0, 0), || {
                ReportError::invalid("miners", too_many_miners(count))
            });
        }
        Ok(ctx.building().then_some(miners))
    }
}

/// One miner: an object with the miner's members.
struct MinerVisitor<'a> {
    ctx: &'a mut Ctx,
    index: usize,
}

impl MinerVisitor<'_> {
    fn mistyped(self, got: Got) -> Option<Miner> {
        let index = self.index;
        self.ctx.blame((SHAPE, MINER, index, 0), || {
            ReportError::invalid(
                format!("miners[{index}]"),
                format!("expected an object, got {}", got.describe()),
            )
        });
        None
    }
}

impl<'de> DeserializeSeed<'de> for MinerVisitor<'_> {
    type Value = Option<Miner>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MinerVisitor<'_> {
    type Value = Option<Miner>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a miner object")
    }

    other_values!(seq);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (ctx, i) = (self.ctx, self.index);
        let path = move |member: usize| move || format!("miners[{i}].{}", MINER_MEMBERS[member]);
        let mut seen = SeenKeys::default();
        let mut present = [false; 8];
        let mut texts: [Option<String>; 5] = Default::default();
        let (mut rate, mut connected_at, mut via) = (None, None, None);
        while let Some(member) = map.next_key_seed(Member {
            names: MINER_MEMBERS,
            seen: &mut seen,
            over_cap: &mut ctx.over_cap,
        })? {
            let Some(member) = member else {
                map.next_value_seed(Skip {
                    over_cap: &mut ctx.over_cap,
                })?;
                continue;
            };
            present[member] = true;
            let max_len = match member {
                CONNECTED_AT => MAX_TIMESTAMP_LEN,
                _ => MAX_FIELD_LEN,
            };
            let got = map.next_value_seed(Scalar {
                max_len,
                over_cap: &mut ctx.over_cap,
            })?;
            let ranks = (MINER, i, MINER_SHAPE_RANK[member], MINER_VALUE_RANK[member]);
            match member {
                RATE => rate = hash_rate(ctx, got, ranks, path(member)),
                CONNECTED_AT => {
                    connected_at =
                        text_member(ctx, got, ranks, path(member), max_len, timestamp_problem);
                }
                VIA if matches!(got, Got::Null) => {}
                VIA => {
                    via = text_member(ctx, got, ranks, path(member), max_len, |v| {
                        text_problem(v, MAX_FIELD_LEN)
                    });
                }
                _ => {
                    texts[member] = text_member(ctx, got, ranks, path(member), max_len, |v| {
                        text_problem(v, MAX_FIELD_LEN)
                    });
                }
            }
        }
        let required = present.into_iter().take(REQUIRED_MINER_MEMBERS);
        for (member, was_present) in required.enumerate() {
            if !was_present {
                ctx.blame((SHAPE, MINER, i, MINER_SHAPE_RANK[member]), || {
                    missing(&path(member)())
                });
            }
        }
        if !ctx.building() {
            return Ok(None);
        }
        let [vendor, hardware_version, firmware, device_id, user_identity] =
            texts.map(Option::unwrap_or_default);
        Ok(Some(Miner {
            vendor,
            hardware_version,
            firmware,
            device_id,
            nominal_hash_rate: rate.unwrap_or_default(),
            user_identity,
            connected_at: connected_at.unwrap_or_default(),
            via,
        }))
    }
}

/// A string member at `(section, index, shape rank, value rank)`: mistyped is
/// a shape problem, a bad value (`problem`) a value problem. The string,
/// when the report is still being built.
fn text_member(
    ctx: &mut Ctx,
    got: Got,
    (section, index, shape, value): (u8, usize, u8, u8),
    field: impl Fn() -> String,
    max_len: usize,
    problem: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    match got {
        Got::Text(text) => match problem(&text) {
            None => ctx.building().then(|| text.into_owned()),
            Some(problem) => {
                ctx.blame((VALUE, section, index, value), || {
                    ReportError::invalid(field(), problem)
                });
                None
            }
        },
        Got::TooLong(len) => {
            ctx.blame((VALUE, section, index, value), || {
                ReportError::invalid(field(), too_long(len, max_len))
            });
            None
        }
        other => {
            ctx.blame((SHAPE, section, index, shape), || {
                ReportError::invalid(
                    field(),
                    format!("expected a string, got {}", other.describe()),
                )
            });
            None
        }
    }
}

/// `nominalHashRate`: any JSON number, read as `f64` (exactly, see the
/// workspace's `float_roundtrip`), then checked.
fn hash_rate(
    ctx: &mut Ctx,
    got: Got,
    (section, i, shape, value): (u8, usize, u8, u8),
    field: impl Fn() -> String,
) -> Option<f64> {
    match got {
        Got::Number(n) => {
            let rate = n.as_f64().unwrap_or(f64::NAN);
            match hash_rate_problem(rate) {
                None => Some(rate),
                Some(problem) => {
                    ctx.blame((VALUE, section, i, value), || {
                        ReportError::invalid(field(), problem)
                    });
                    None
                }
            }
        }
        other => {
            ctx.blame((SHAPE, section, i, shape), || {
                ReportError::invalid(
                    field(),
                    format!("expected a number, got {}", other.describe()),
                )
            });
            None
        }
    }
}
