//! Timestamps with the wire format of the Prismiq contract.

use std::fmt;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with microsecond precision (PostgreSQL's), written as ISO-8601 with a trailing
/// `Z`: `2026-11-21T21:35:40.181441Z`, or `2026-11-21T21:35:40Z` when the microseconds are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, format = DateTime, example = "2026-11-21T21:35:40.181441Z")
)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time, truncated to microseconds.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Wraps a `DateTime`, truncating it to microseconds.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.trunc_subsecs(6))
    }

    /// How long before this instant `earlier` was (zero if it was not earlier).
    pub fn age_of(&self, earlier: Timestamp) -> std::time::Duration {
        (self.0 - earlier.0).to_std().unwrap_or_default()
    }

    /// The instant as a `chrono` value.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// The instant in `isoformat()` style with a `+00:00` offset, as saved queries carry it.
    pub fn to_offset_string(&self) -> String {
        let mut s = self.to_string();
        s.pop();
        s.push_str("+00:00");
        s
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_datetime(at)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.timestamp_subsec_micros() == 0 {
            f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
        } else {
            f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| Self::from_datetime(at.with_timezone(&Utc)))
            .map_err(serde::de::Error::custom)
    }
}

/// Serializes a [`Timestamp`] with a `+00:00` offset instead of `Z`.
pub(crate) mod offset_format {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        at: &Timestamp,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&at.to_offset_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Timestamp, D::Error> {
        Timestamp::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn writes_microseconds_only_when_present() {
        let whole = Timestamp::from(Utc.with_ymd_and_hms(2026, 11, 21, 21, 35, 40).unwrap());
        assert_eq!(whole.to_string(), "2026-11-21T21:35:40Z");
        let fine = Timestamp::from(
            Utc.with_ymd_and_hms(2026, 11, 21, 21, 35, 40).unwrap()
                + chrono::Duration::nanoseconds(181_441_999),
        );
        assert_eq!(fine.to_string(), "2026-11-21T21:35:40.181441Z");
        assert_eq!(fine.to_offset_string(), "2026-11-21T21:35:40.181441+00:00");
    }

    #[test]
    fn round_trips_through_json() {
        let at = Timestamp::now();
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
    }
}
