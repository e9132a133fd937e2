//! Expectations: what a scenario claims the audit will count.
//!
//! In a file an `[[expect]]` table names one producer and bounds one or
//! more metrics (`duplicates = ">= 1"`, `lost = 0`); each bound becomes one
//! [`Expectation`], so a report can say exactly which claim failed.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One claim about one producer's audit count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub producer: String,
    pub metric: Metric,
    pub bound: Bound,
    pub level: Level,
    /// Checked only on these backends (every backend when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<String>,
}

impl Expectation {
    /// Whether it is checked on `backend`.
    pub fn applies_on(&self, backend: &str) -> bool {
        self.backends.is_empty() || self.backends.iter().any(|b| b == backend)
    }
}

// The metric fields must stay in step with [`Metric::EXPECTABLE`];
// [`Expect::bounds`] and a test check that.
/// What the audit should count for one producer: one or more metrics, each
/// bounded by an integer N (exactly N) or a string "N", ">= N", "> N",
/// "<= N", "< N" or "N..M" (inclusive range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema::require_a_metric)]
pub struct Expect {
    /// The `name` of one of the `[[producers]]`.
    pub producer: String,
    /// What a miss means (default "required").
    #[serde(default)]
    #[schemars(extend("default" = "required"))]
    pub level: Level,
    /// The backends this expectation is checked on, e.g. ["local",
    /// "docker"] where Apache Kafka behaves differently from the stand-ins;
    /// leave it out to check it everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "super::backends::some")]
    #[schemars(with = "super::backends::Backends")]
    pub backends: Option<Vec<String>>,
    /// Extra copies in the topic beyond the first, per message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    duplicates: Option<Bound>,
    /// Acknowledged, yet not in the topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    lost: Option<Bound>,
    /// Reported failed, yet in the topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    phantom: Option<Bound>,
    /// Within one partition, messages that landed after one their producer
    /// sent later (first copies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    reordered: Option<Bound>,
    /// Messages the client gave up on cleanly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    failed: Option<Bound>,
    /// Messages the client gave up on while they were in flight: they may be
    /// in the topic anyway (librdkafka's POSSIBLY_PERSISTED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    possibly_persisted: Option<Bound>,
    /// Acknowledged at an offset where the topic holds another message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    offset_mismatch: Option<Bound>,
    /// Messages the broker acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Bound")]
    acked: Option<Bound>,
}

impl Expect {
    /// The bounds given, in [`Metric::EXPECTABLE`] order.
    pub fn bounds(&self) -> Vec<(Metric, Bound)> {
        let all = [
            (Metric::Duplicates, self.duplicates),
            (Metric::Lost, self.lost),
            (Metric::Phantom, self.phantom),
            (Metric::Reordered, self.reordered),
            (Metric::Failed, self.failed),
            (Metric::PossiblyPersisted, self.possibly_persisted),
            (Metric::OffsetMismatch, self.offset_mismatch),
            (Metric::Acked, self.acked),
        ];
        all.into_iter().filter_map(|(m, b)| b.map(|b| (m, b))).collect()
    }

    /// One [`Expectation`] per bounded metric, in [`Metric::EXPECTABLE`]
    /// order.
    pub fn expectations(&self) -> Vec<Expectation> {
        let backends = self.backends.clone().unwrap_or_default();
        let expectation =
            |(metric, bound)| Expectation { producer: self.producer.clone(), metric, bound, level: self.level, backends: backends.clone() };
        self.bounds().into_iter().map(expectation).collect()
    }

    /// Whether it is checked on `backend`.
    pub fn applies_on(&self, backend: &str) -> bool {
        self.backends.as_ref().is_none_or(|list| list.iter().any(|b| b == backend))
    }
}

/// The audit counts an expectation can bound are [`Metric::EXPECTABLE`];
/// the names are the keys of an `[[expect]]` table.
pub use crate::audit::Metric;

/// How much a failed expectation matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Failing it fails the run (the exit code says so).
    #[default]
    Required,
    /// Something the scenario usually shows (e.g. a plain producer writing
    /// duplicates): not showing it is a warning, not a failure, because
    /// timing on a loaded machine can hide it.
    Demonstration,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Demonstration => "demonstration",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bound on a count. Every form is inclusive; `> N` and `< N` are kept as
/// `>= N+1` and `<= N-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
    /// Inclusive at both ends; `min <= max` is checked when parsing.
    Between(u64, u64),
}

/// The forms a bound may take, for error messages.
pub const BOUND_FORMS: &str =
    "an integer N (exactly N), or a string \"N\", \">= N\", \"> N\", \"<= N\", \"< N\" or \"N..M\" (inclusive range)";

impl Bound {
    pub fn holds(&self, v: u64) -> bool {
        match *self {
            Bound::Exactly(n) => v == n,
            Bound::AtLeast(n) => v >= n,
            Bound::AtMost(n) => v <= n,
            Bound::Between(lo, hi) => lo <= v && v <= hi,
        }
    }

    /// Parse the string form: `"3"`, `">= 1"`, `"> 0"`, `"<= 5"`, `"< 5"`,
    /// `"1..5"` (also `"1..=5"`). Spaces are optional. The error says what
    /// is accepted.
    pub fn parse(text: &str) -> Result<Bound, String> {
        let s = text.trim();
        let invalid = || format!("`{text}` is not a bound; accepted: {BOUND_FORMS}");
        let number = |n: &str| -> Result<u64, String> {
            let n = n.trim();
            if n.starts_with('-') {
                return Err(format!("`{text}`: bounds count messages and cannot be negative; accepted: {BOUND_FORMS}"));
            }
            n.parse::<u64>().map_err(|_| invalid())
        };
        if let Some(rest) = s.strip_prefix(">=") {
            return Ok(Bound::AtLeast(number(rest)?));
        }
        if let Some(rest) = s.strip_prefix("<=") {
            return Ok(Bound::AtMost(number(rest)?));
        }
        if let Some(rest) = s.strip_prefix('>') {
            let n = number(rest)?;
            return n.checked_add(1).map(Bound::AtLeast).ok_or_else(|| format!("`{text}` can never hold"));
        }
        if let Some(rest) = s.strip_prefix('<') {
            let n = number(rest)?;
            return n
                .checked_sub(1)
                .map(Bound::AtMost)
                .ok_or_else(|| format!("`{text}` can never hold (counts are never negative); did you mean \"0\" or \"<= 0\"?"));
        }
        if let Some((lo, hi)) = s.split_once("..") {
            let hi = hi.strip_prefix('=').unwrap_or(hi);
            let (lo, hi) = (number(lo)?, number(hi)?);
            if lo > hi {
                return Err(format!("`{text}`: the range's minimum {lo} is greater than its maximum {hi}"));
            }
            return Ok(Bound::Between(lo, hi));
        }
        if s.is_empty() {
            return Err(invalid());
        }
        number(s).map(Bound::Exactly)
    }
}

/// The form a scenario file would use: `"0"`, `">= 1"`, `"<= 5"`, `"1..5"`.
impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Exactly(n) => write!(f, "{n}"),
            Bound::AtLeast(n) => write!(f, ">= {n}"),
            Bound::AtMost(n) => write!(f, "<= {n}"),
            Bound::Between(lo, hi) => write!(f, "{lo}..{hi}"),
        }
    }
}

impl std::str::FromStr for Bound {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Bound::parse(s)
    }
}

/// Serialised as its string form, so a report shows what the file said.
impl Serialize for Bound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads an integer or any string form ([`BOUND_FORMS`]).
impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoundVisitor)
    }
}

struct BoundVisitor;

impl<'de> Visitor<'de> for BoundVisitor {
    type Value = Bound;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(BOUND_FORMS)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bound, E> {
        Bound::parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bound, E> {
        Ok(Bound::Exactly(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bound, E> {
        u64::try_from(v)
            .map(Bound::Exactly)
            .map_err(|_| E::custom(format!("`{v}`: bounds count messages and cannot be negative; accepted: {BOUND_FORMS}")))
    }
}
