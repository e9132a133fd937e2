//! Numbers whose range is checked while they are read, for
//! `#[serde(deserialize_with)]`: the error is raised inside the value, so
//! the TOML reader gives it the value's own span (line, column, field).
//! Integers are read as `i64`, TOML's own integer type, so `messages = -1`
//! gets "out of range; accepted: an integer >= 1" rather than a message
//! about `u64`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// What an integer field accepts, as the errors say it.
fn accepted(min: i64, max: i64) -> String {
    if max == i64::MAX { format!("an integer >= {min}") } else { format!("an integer from {min} to {max}") }
}

/// The error for `n` outside `min..=max`.
fn out_of_range(n: impl fmt::Display, min: i64, max: i64) -> String {
    format!("`{n}` is out of range; accepted: {}", accepted(min, max))
}

/// An integer in `MIN..=MAX`, as `T` (which must hold that range).
pub(super) fn int<'de, const MIN: i64, const MAX: i64, T, D>(d: D) -> Result<T, D::Error>
where
    T: TryFrom<i64>,
    D: Deserializer<'de>,
{
    let n = d.deserialize_i64(Int { min: MIN, max: MAX })?;
    T::try_from(n).map_err(|_| de::Error::custom(out_of_range(n, MIN, MAX)))
}

/// [`int`] for a field the file may leave out (`#[serde(default)]`); a
/// report writes it as null.
pub(super) fn some_int<'de, const MIN: i64, const MAX: i64, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: TryFrom<i64>,
    D: Deserializer<'de>,
{
    let n = d.deserialize_option(Optional(Int { min: MIN, max: MAX }))?;
    n.map(|n| T::try_from(n).map_err(|_| de::Error::custom(out_of_range(n, MIN, MAX)))).transpose()
}

/// An [`Int`] or nothing.
struct Optional(Int);

impl<'de> Visitor<'de> for Optional {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_i64(self.0).map(Some)
    }
}

struct Int {
    min: i64,
    max: i64,
}

impl Visitor<'_> for Int {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&accepted(self.min, self.max))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<i64, E> {
        if n < self.min || n > self.max {
            return Err(E::custom(out_of_range(n, self.min, self.max)));
        }
        Ok(n)
    }

    /// A JSON report's numbers come as `u64`.
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<i64, E> {
        match i64::try_from(n) {
            Ok(n) => self.visit_i64(n),
            Err(_) => Err(E::custom(out_of_range(n, self.min, self.max))),
        }
    }
}
