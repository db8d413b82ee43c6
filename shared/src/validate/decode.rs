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
/// problems; within a phase the body's own limits, then the report's
/// members (see [`ReportMember::section`]), then the miners by index, each
/// miner's members in their order (see [`MinerMember::rules`]).
type Rank = (u8, u8, usize, u8);

const SHAPE: u8 = 0;
const VALUE: u8 = 1;

/// The sections before and after the report's own members.
const BODY: u8 = 0;
const MINER: u8 = 5;

/// The report's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportMember {
    SchemaVersion,
    JdcUserIdentity,
    Timestamp,
    Miners,
}

impl ReportMember {
    /// Every member, in the order [`Member`] reports them by index.
    const ALL: [ReportMember; 4] = [
        ReportMember::SchemaVersion,
        ReportMember::JdcUserIdentity,
        ReportMember::Timestamp,
        ReportMember::Miners,
    ];
    const NAMES: [&'static str; 4] = {
        let mut names = [""; 4];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The member's name on the wire.
    const fn name(self) -> &'static str {
        match self {
            ReportMember::SchemaVersion => "schemaVersion",
            ReportMember::JdcUserIdentity => "jdcUserIdentity",
            ReportMember::Timestamp => "timestamp",
            ReportMember::Miners => "miners",
        }
    }

    /// The member's section in a [`Rank`]: the version first (any other
    /// version is refused before anything else: its members may mean
    /// something else), then the miners, the identity and the timestamp;
    /// all after [`BODY`] and before each [`MINER`].
    const fn section(self) -> u8 {
        match self {
            ReportMember::SchemaVersion => 1,
            ReportMember::Miners => 2,
            ReportMember::JdcUserIdentity => 3,
            ReportMember::Timestamp => 4,
        }
    }
}

/// A miner's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MinerMember {
    Vendor,
    HardwareVersion,
    Firmware,
    DeviceId,
    UserIdentity,
    NominalHashRate,
    ConnectedAt,
    Via,
}

/// What the checks of a miner's member need to know of it.
#[derive(Debug, Clone, Copy)]
struct MemberRules {
    /// The name on the wire.
    name: &'static str,
    /// Rank among the shape checks (missing, mistyped).
    shape: u8,
    /// Rank among the value checks.
    value: u8,
    /// Whether a miner without it is refused.
    required: bool,
    /// The longest string the member may hold.
    max_len: usize,
}

impl MinerMember {
    /// Every member, in the order [`Member`] reports them by index.
    const ALL: [MinerMember; 8] = [
        MinerMember::Vendor,
        MinerMember::HardwareVersion,
        MinerMember::Firmware,
        MinerMember::DeviceId,
        MinerMember::UserIdentity,
        MinerMember::NominalHashRate,
        MinerMember::ConnectedAt,
        MinerMember::Via,
    ];
    const NAMES: [&'static str; 8] = {
        let mut names = [""; 8];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::ALL[i].rules().name;
            i += 1;
        }
        names
    };

    /// The member's rules. Among the shape checks the hash rate comes
    /// first, among the value checks the strings do. The protocol's members
    /// are required; `via` is optional (absent or `null` for a device
    /// connected to the JDC itself).
    const fn rules(self) -> MemberRules {
        const fn rules(name: &'static str, shape: u8, value: u8) -> MemberRules {
            MemberRules {
                name,
                shape,
                value,
                required: true,
                max_len: MAX_FIELD_LEN,
            }
        }
        match self {
            MinerMember::Vendor => rules("vendor", 2, 0),
            MinerMember::HardwareVersion => rules("hardwareVersion", 3, 1),
            MinerMember::Firmware => rules("firmware", 4, 2),
            MinerMember::DeviceId => rules("deviceId", 5, 3),
            MinerMember::UserIdentity => rules("userIdentity", 6, 4),
            MinerMember::NominalHashRate => rules("nominalHashRate", 1, 5),
            MinerMember::ConnectedAt => MemberRules {
                max_len: MAX_TIMESTAMP_LEN,
                ..rules("connectedAt", 7, 6)
            },
            MinerMember::Via => MemberRules {
                required: false,
                ..rules("via", 8, 7)
            },
        }
    }
}

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
        let mut present = [false; ReportMember::ALL.len()];
        let (mut identity, mut timestamp, mut miners) = (None, None, None);
        while let Some(member) = map.next_key_seed(Member {
            names: &ReportMember::NAMES,
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
            let member = ReportMember::ALL[index];
            match member {
                ReportMember::SchemaVersion => {
                    let got = map.next_value_seed(Scalar {
                        max_len: 0,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    schema_version(ctx, got);
                }
                ReportMember::JdcUserIdentity => {
                    let got = map.next_value_seed(Scalar {
                        max_len: MAX_IDENTITY_LEN,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    identity = text_member(
                        ctx,
                        got,
                        (member.section(), 0, 0, 0),
                        || member.name().into(),
                        MAX_IDENTITY_LEN,
                        identity_text_problem,
                    );
                }
                ReportMember::Timestamp => {
                    let got = map.next_value_seed(Scalar {
                        max_len: MAX_TIMESTAMP_LEN,
                        over_cap: &mut ctx.over_cap,
                    })?;
                    timestamp = text_member(
                        ctx,
                        got,
                        (member.section(), 0, 0, 0),
                        || member.name().into(),
                        MAX_TIMESTAMP_LEN,
                        timestamp_problem,
                    );
                }
                ReportMember::Miners => {
                    miners = map.next_value_seed(MinersVisitor { ctx: &mut *ctx })?;
                }
            }
        }
        for (member, was_present) in ReportMember::ALL.into_iter().zip(present) {
            if !was_present {
                ctx.blame((SHAPE, member.section(), 0, 0), || missing(member.name()));
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
    let rank = (SHAPE, ReportMember::SchemaVersion.section(), 0, 0);
    match &got {
        Got::Number(n) => match n.as_u64() {
            Some(SCHEMA_VERSION) => {}
            Some(other) => ctx.blame(rank, || {
                ReportError::invalid(
                    ReportMember::SchemaVersion.name(),
                    unsupported_version(other),
                )
            }),
            None => ctx.blame(rank, || expected_version(&got)),
        },
        _ => ctx.blame(rank, || expected_version(&got)),
    }
}

fn expected_version(got: &Got) -> ReportError {
    ReportError::invalid(
        ReportMember::SchemaVersion.name(),
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
        self.ctx
            .blame((SHAPE, ReportMember::Miners.section(), 0, 0), || {
                ReportError::invalid(
                    ReportMember::Miners.name(),
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
            let miners = ReportMember::Miners;
            ctx.blame((SHAPE, miners.section(), 0, 0), || {
                ReportError::invalid(miners.name(), too_many_miners(count))
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
        let path =
            move |member: MinerMember| move || format!("miners[{i}].{}", member.rules().name);
        let mut seen = SeenKeys::default();
        let mut present = [false; MinerMember::ALL.len()];
        let (mut vendor, mut hardware_version, mut firmware) = (None, None, None);
        let (mut device_id, mut user_identity) = (None, None);
        let (mut rate, mut connected_at, mut via) = (None, None, None);
        while let Some(member) = map.next_key_seed(Member {
            names: &MinerMember::NAMES,
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
            let member = MinerMember::ALL[index];
            let rules = member.rules();
            let got = map.next_value_seed(Scalar {
                max_len: rules.max_len,
                over_cap: &mut ctx.over_cap,
            })?;
            let ranks = (MINER, i, rules.shape, rules.value);
            let text = |ctx: &mut Ctx, got| {
                text_member(ctx, got, ranks, path(member), rules.max_len, |v| {
                    text_problem(v, MAX_FIELD_LEN)
                })
            };
            match member {
                MinerMember::Vendor => vendor = text(ctx, got),
                MinerMember::HardwareVersion => hardware_version = text(ctx, got),
                MinerMember::Firmware => firmware = text(ctx, got),
                MinerMember::DeviceId => device_id = text(ctx, got),
                MinerMember::UserIdentity => user_identity = text(ctx, got),
                MinerMember::NominalHashRate => rate = hash_rate(ctx, got, ranks, path(member)),
                MinerMember::ConnectedAt => {
                    connected_at = text_member(
                        ctx,
                        got,
                        ranks,
                        path(member),
                        rules.max_len,
                        timestamp_problem,
                    );
                }
                MinerMember::Via if matches!(got, Got::Null) => {}
                MinerMember::Via => via = text(ctx, got),
            }
        }
        for (member, was_present) in MinerMember::ALL.into_iter().zip(present) {
            let rules = member.rules();
            if rules.required && !was_present {
                ctx.blame((SHAPE, MINER, i, rules.shape), || missing(&path(member)()));
            }
        }
        if !ctx.building() {
            return Ok(None);
        }
        Ok(Some(Miner {
            vendor: vendor.unwrap_or_default(),
            hardware_version: hardware_version.unwrap_or_default(),
            firmware: firmware.unwrap_or_default(),
            device_id: device_id.unwrap_or_default(),
            nominal_hash_rate: rate.unwrap_or_default(),
            user_identity: user_identity.unwrap_or_default(),
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
