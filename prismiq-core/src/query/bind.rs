//! Turning JSON filter values into typed bound parameters, by the column's introspected type.

use chrono::{DateTime, Utc};
use sea_query::Value as SqlValue;
use serde_json::Value;

use super::dates::Moment;
use super::error::QueryError;

/// How a column's values are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `integer`, `bigint`, `smallint`: `i64`.
    Integer,
    /// `numeric`, `decimal`, `real`, `double precision`: `f64`.
    Float,
    /// `date`: a date.
    Date,
    /// `timestamp [without time zone]`: a naive date and time.
    Timestamp,
    /// `timestamp with time zone`: a date and time (UTC when an offset was given).
    TimestampTz,
    /// `boolean`.
    Bool,
    /// Text types; also anything else, compared as text.
    Text,
    /// `uuid`.
    Uuid,
    /// A type without a natural binding (`json`, enums, arrays, intervals, …): the column is
    /// compared as text.
    Other,
    /// A calculated field: bound by the JSON type of the value.
    Json,
}

impl Kind {
    /// The kind of an `information_schema` data type.
    pub(crate) fn of(data_type: &str) -> Self {
        // information_schema spells types in lower case (but `USER-DEFINED`, `ARRAY`).
        let t: std::borrow::Cow<'_, str> = if data_type.bytes().any(|b| b.is_ascii_uppercase()) {
            data_type.to_ascii_lowercase().into()
        } else {
            data_type.into()
        };
        let t = t.as_ref();
        // SQLite's declared types (`INT`, `DATETIME`, `DOUBLE`, `VARCHAR(100)`, …) too, lower-cased
        // by the data source; its affinity rules would also call `point` an integer, which
        // PostgreSQL's type of that name is not, so only SQLite's own spellings are listed.
        let sqlite_integer = matches!(
            t,
            "int" | "tinyint" | "mediumint" | "int2" | "int4" | "int8" | "unsigned big int"
        );
        if t.contains("timestamp") || t.starts_with("datetime") {
            if t.contains("with time zone") || t.contains("timestamptz") {
                Self::TimestampTz
            } else {
                Self::Timestamp
            }
        } else if t.contains("date") && !t.contains("range") {
            Self::Date
        } else if sqlite_integer
            || ["integer", "bigint", "smallint"]
                .iter()
                .any(|n| t.contains(n))
        {
            Self::Integer
        } else if ["numeric", "decimal", "real", "double", "float"]
            .iter()
            .any(|n| t.contains(n))
        {
            Self::Float
        } else if t == "boolean" || t == "bool" {
            Self::Bool
        } else if t == "uuid" {
            Self::Uuid
        } else if t.contains("char") || t == "text" || t == "name" || t == "citext" || t == "clob" {
            Self::Text
        } else {
            Self::Other
        }
    }

    /// Whether values are dates or timestamps.
    pub(crate) fn is_temporal(self) -> bool {
        matches!(self, Self::Date | Self::Timestamp | Self::TimestampTz)
    }

    /// Whether values carry a time of day.
    pub(crate) fn has_time(self) -> bool {
        matches!(self, Self::Timestamp | Self::TimestampTz)
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Binds one scalar `value` compared with `column` of kind `kind`.
pub(crate) fn bind(value: &Value, kind: Kind, column: &str) -> Result<SqlValue, QueryError> {
    if let Value::Array(_) | Value::Object(_) = value {
        return Err(QueryError::Invalid(format!(
            "Filter on column '{column}' expects a single value, got {value}"
        )));
    }
    let not_numeric = || {
        QueryError::Invalid(format!(
            "Column '{column}' is numeric but received non-numeric value '{}'",
            shown(value)
        ))
    };
    Ok(match kind {
        Kind::Integer => match value {
            Value::Null => SqlValue::BigInt(None),
            Value::Bool(b) => SqlValue::BigInt(Some(i64::from(*b))),
            Value::Number(n) => match n.as_i64() {
                Some(i) => SqlValue::BigInt(Some(i)),
                None => SqlValue::Double(n.as_f64()),
            },
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => SqlValue::BigInt(Some(i)),
                Err(_) => SqlValue::Double(Some(parse_finite(s).ok_or_else(not_numeric)?)),
            },
            _ => return Err(not_numeric()),
        },
        Kind::Float => match value {
            Value::Null => SqlValue::Double(None),
            Value::Bool(b) => SqlValue::Double(Some(f64::from(u8::from(*b)))),
            Value::Number(n) => SqlValue::Double(n.as_f64()),
            Value::String(s) => SqlValue::Double(Some(parse_finite(s).ok_or_else(not_numeric)?)),
            _ => return Err(not_numeric()),
        },
        Kind::Date => match value {
            Value::Null => SqlValue::ChronoDate(None),
            _ => SqlValue::ChronoDate(Some(moment(value, kind)?.date())),
        },
        Kind::Timestamp => match value {
            Value::Null => SqlValue::ChronoDateTime(None),
            _ => SqlValue::ChronoDateTime(Some(moment(value, kind)?.datetime())),
        },
        Kind::TimestampTz => match value {
            Value::Null => SqlValue::ChronoDateTime(None),
            _ => match moment(value, kind)? {
                Moment::Utc(utc) => SqlValue::ChronoDateTimeUtc(Some(
                    DateTime::<Utc>::from_naive_utc_and_offset(utc, Utc),
                )),
                other => SqlValue::ChronoDateTime(Some(other.datetime())),
            },
        },
        Kind::Bool => match value {
            Value::Null => SqlValue::Bool(None),
            Value::Bool(b) => SqlValue::Bool(Some(*b)),
            other => SqlValue::Bool(Some(parse_bool(other).ok_or_else(|| {
                QueryError::Invalid(format!(
                    "Column '{column}' is boolean but received '{}'",
                    shown(value)
                ))
            })?)),
        },
        Kind::Uuid => match value {
            Value::Null => SqlValue::Uuid(None),
            Value::String(s) => SqlValue::Uuid(Some(s.trim().parse().map_err(|_| {
                QueryError::Invalid(format!("Column '{column}' is a UUID but received '{s}'"))
            })?)),
            other => {
                return Err(QueryError::Invalid(format!(
                    "Column '{column}' is a UUID but received {other}"
                )));
            }
        },
        Kind::Text | Kind::Other => match value {
            Value::Null => SqlValue::String(None),
            other => SqlValue::String(Some(shown(other))),
        },
        Kind::Json => match value {
            Value::Null => SqlValue::String(None),
            Value::Bool(b) => SqlValue::Bool(Some(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => SqlValue::BigInt(Some(i)),
                None => SqlValue::Double(n.as_f64()),
            },
            other => SqlValue::String(Some(shown(other))),
        },
    })
}

/// A date or timestamp filter value.
pub(crate) fn moment(value: &Value, kind: Kind) -> Result<Moment, QueryError> {
    let text = match value {
        Value::String(s) => s.as_str(),
        _ => "",
    };
    Moment::parse(text).ok_or_else(|| {
        let what = if kind.has_time() { "datetime" } else { "date" };
        QueryError::Invalid(format!(
            "Invalid {what} value: '{}'. Expected ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS).",
            shown(value)
        ))
    })
}

/// Whether `value` parses as a date or timestamp for a column of `data_type` (used by
/// validation).
pub(crate) fn parses_as_moment(value: &Value, data_type: &str) -> bool {
    moment(value, Kind::of(data_type)).is_ok()
}

/// A date-only string (`YYYY-MM-DD`), as opposed to one with a time of day.
pub(crate) fn date_only(value: &Value) -> Option<chrono::NaiveDate> {
    match value {
        Value::String(s) => match Moment::parse(s)? {
            Moment::Date(d) => Some(d),
            _ => None,
        },
        _ => None,
    }
}

fn parse_finite(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;

    #[test]
    fn kinds_follow_the_data_type() {
        let cases = [
            ("integer", Kind::Integer),
            ("bigint", Kind::Integer),
            ("numeric", Kind::Float),
            ("double precision", Kind::Float),
            ("date", Kind::Date),
            ("timestamp without time zone", Kind::Timestamp),
            ("timestamp with time zone", Kind::TimestampTz),
            ("boolean", Kind::Bool),
            ("character varying", Kind::Text),
            ("text", Kind::Text),
            ("uuid", Kind::Uuid),
            ("jsonb", Kind::Other),
            ("USER-DEFINED", Kind::Other),
            // SQLite's declared types, lower-cased by its data source.
            ("int", Kind::Integer),
            ("tinyint", Kind::Integer),
            ("datetime", Kind::Timestamp),
            ("decimal(10,2)", Kind::Float),
            ("double", Kind::Float),
            ("float", Kind::Float),
            ("varchar(100)", Kind::Text),
            ("clob", Kind::Text),
            ("bool", Kind::Bool),
            ("json", Kind::Other),
            ("point", Kind::Other),
            ("interval", Kind::Other),
        ];
        for (data_type, kind) in cases {
            assert_eq!(Kind::of(data_type), kind, "{data_type}");
        }
    }

    #[test]
    fn values_bind_by_column_type() {
        assert_eq!(
            bind(&json!(5), Kind::Integer, "c").unwrap(),
            SqlValue::BigInt(Some(5))
        );
        assert_eq!(
            bind(&json!("5"), Kind::Integer, "c").unwrap(),
            SqlValue::BigInt(Some(5))
        );
        assert_eq!(
            bind(&json!(2.5), Kind::Float, "c").unwrap(),
            SqlValue::Double(Some(2.5))
        );
        assert_eq!(
            bind(&json!(7), Kind::Text, "c").unwrap(),
            SqlValue::String(Some("7".into()))
        );
        assert_eq!(
            bind(&json!("2024-01-31T10:00:00"), Kind::Date, "c").unwrap(),
            SqlValue::ChronoDate(NaiveDate::from_ymd_opt(2024, 1, 31))
        );
        assert_eq!(
            bind(&json!("2024-01-31"), Kind::Timestamp, "c").unwrap(),
            SqlValue::ChronoDateTime(
                NaiveDate::from_ymd_opt(2024, 1, 31)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
            )
        );
        assert_eq!(
            bind(&json!("true"), Kind::Bool, "c").unwrap(),
            SqlValue::Bool(Some(true))
        );
        assert_eq!(
            bind(&json!(1.5), Kind::Json, "c").unwrap(),
            SqlValue::Double(Some(1.5))
        );
    }

    #[test]
    fn bad_values_are_refused_with_what_to_fix() {
        let err = bind(&json!("01/02/2024"), Kind::Date, "order_date").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid date value: '01/02/2024'. Expected ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)."
        );
        let err = bind(&json!("x"), Kind::Timestamp, "created_at").unwrap_err();
        assert!(err.to_string().starts_with("Invalid datetime value: 'x'"));
        let err = bind(&json!("abc"), Kind::Integer, "id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Column 'id' is numeric but received non-numeric value 'abc'"
        );
        assert!(bind(&json!([1]), Kind::Integer, "id").is_err());
        assert!(bind(&json!("NaN"), Kind::Float, "price").is_err());
        assert!(bind(&json!("nope"), Kind::Uuid, "id").is_err());
    }
}
