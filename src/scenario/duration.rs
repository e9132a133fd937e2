//! Durations as scenario files write them: `"1.5s"`, `"300ms"`, `"2m"`.
//!
//! Written by hand rather than taken from `humantime`, because humantime
//! rejects fractions (`"1.5s"`), which are the natural way to write fault
//! timings. The rules are deliberately small:
//!
//! - one decimal number (optionally with a fraction) followed by one unit:
//!   `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`;
//! - no sign: a fault cannot start before producing does;
//! - a unit is required: a bare `2` could mean seconds or milliseconds
//!   (Toxiproxy attributes are milliseconds), so it is refused rather than
//!   guessed.
//!
//! The arithmetic is done in integer nanoseconds, so `"0.1s"` is exactly
//! 100 ms and [`format_duration`] output always parses back to the same
//! value.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// The units accepted, with their length in nanoseconds.
const UNITS: &[(&str, u128)] =
    &[("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)];

/// What a duration looks like, for error messages.
pub const ACCEPTED: &str = "a string with a number and a unit (us, ms, s, m, h), e.g. \"1.5s\", \"300ms\", \"2m\", \"0s\"";

/// Why a duration string was refused. The message is meant for the person
/// who wrote the scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

/// Parse `"1.5s"`, `"300ms"`, `"2m"`, `"0s"`, `"1500us"`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(DurationError(format!("`{text}`: durations cannot be negative; accepted: {ACCEPTED}")));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let number_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(number_len);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(DurationError(format!("`{text}` is not a duration; accepted: {ACCEPTED}")));
    }
    if unit.is_empty() {
        return Err(DurationError(format!("`{text}` has no unit; write one, e.g. \"{number}s\" or \"{number}ms\"")));
    }
    let Some(&(_, unit_nanos)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(DurationError(format!("`{text}`: unknown unit `{unit}`; accepted units: us, ms, s, m, h (e.g. \"1.5s\", \"300ms\")")));
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(DurationError(format!("`{text}` is not a duration; accepted: {ACCEPTED}")));
    }
    let too_large = || DurationError(format!("`{text}` is too large for a duration"));
    // Digits beyond 18 after the point are below a nanosecond for every unit
    // but `h`; they are ignored rather than overflow the arithmetic.
    let fraction = &fraction[..fraction.len().min(18)];
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
    let fraction_value: u128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| too_large())? };
    let scale = 10u128.pow(fraction.len() as u32);
    let nanos = whole.checked_mul(unit_nanos).and_then(|n| n.checked_add(fraction_value * unit_nanos / scale)).ok_or_else(too_large)?;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_large())?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// The shortest exact form: `"0s"`, `"300ms"`, `"1.5s"`, `"2m"`, `"1500us"`
/// becomes `"1.5ms"`. [`parse_duration`] reads every output back exactly.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    const SEC: u128 = 1_000_000_000;
    if nanos >= SEC {
        if nanos.is_multiple_of(3600 * SEC) {
            return format!("{}h", nanos / (3600 * SEC));
        }
        if nanos.is_multiple_of(60 * SEC) {
            return format!("{}m", nanos / (60 * SEC));
        }
        return with_fraction(nanos, SEC, 9, "s");
    }
    if nanos >= 1_000_000 {
        return with_fraction(nanos, 1_000_000, 6, "ms");
    }
    if nanos >= 1_000 {
        return with_fraction(nanos, 1_000, 3, "us");
    }
    format!("{nanos}ns")
}

/// `value / unit` written with as many decimals as needed (at most `digits`).
fn with_fraction(value: u128, unit: u128, digits: usize, suffix: &str) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return format!("{whole}{suffix}");
    }
    let fraction = format!("{rest:0digits$}");
    format!("{whole}.{}{suffix}", fraction.trim_end_matches('0'))
}

/// A duration read from a scenario file or a report. Its errors say what
/// a duration looks like, and a bare number is refused with a hint to add
/// a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl DurationVisitor {
    fn bare<E: de::Error>(number: impl fmt::Display, negative: bool) -> E {
        if negative {
            E::custom(format!("`{number}`: durations cannot be negative; accepted: {ACCEPTED}"))
        } else {
            E::custom(format!("a bare number is not a duration: write a unit, e.g. \"{number}s\" or \"{number}ms\""))
        }
    }
}

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = DurationValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ACCEPTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_duration(v).map(DurationValue).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(Self::bare(v, v < 0))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(Self::bare(v, false))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(Self::bare(v, v < 0.0))
    }
}
