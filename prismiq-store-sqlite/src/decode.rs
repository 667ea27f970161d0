//! Result values to JSON, in the shapes the PostgreSQL source gives: integers and reals as
//! numbers, text as text, blobs as hex, and what a column's declared type says on top of its
//! storage class (booleans, dates and timestamps as ISO-8601 text, JSON as JSON).

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Number, Value};
use sqlx::sqlite::{SqliteRow, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Row, Sqlite, TypeInfo, ValueRef};

/// What a result column's declared type says about its values, beyond their storage class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declared {
    /// Nothing: values convert by storage class alone.
    Other,
    /// `BOOLEAN`/`BOOL`: integers are `false` when zero, else `true`.
    Boolean,
    /// `DATE`: text holding a date and a time gets the ISO-8601 `T`.
    Date,
    /// `DATETIME`/`TIMESTAMP…`: text dates and timestamps become ISO-8601 timestamps.
    DateTime,
    /// `JSON`/`JSONB`: text is parsed as JSON (and kept as text if it does not parse).
    Json,
}

impl Declared {
    /// From the type sqlx gives a column (derived from the declared type when sqlx knows it).
    pub(crate) fn of_sqlx(info: &SqliteTypeInfo) -> Self {
        match info.name() {
            "BOOLEAN" => Self::Boolean,
            "DATE" => Self::Date,
            "DATETIME" => Self::DateTime,
            _ => Self::Other,
        }
    }

    /// From a declared type as written in `CREATE TABLE` (any case).
    pub(crate) fn of_declared_type(declared: &str) -> Self {
        let declared = declared.trim().to_ascii_lowercase();
        match declared.as_str() {
            "json" | "jsonb" => Self::Json,
            "boolean" | "bool" => Self::Boolean,
            "date" => Self::Date,
            _ if declared.starts_with("datetime") || declared.starts_with("timestamp") => {
                Self::DateTime
            }
            _ => Self::Other,
        }
    }
}

/// A value's storage class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    Null,
    Integer,
    Real,
    Text,
    Blob,
}

impl Storage {
    /// The storage class of column `index` of `row`.
    pub(crate) fn of(row: &SqliteRow, index: usize) -> Self {
        match row.try_get_raw(index) {
            Ok(raw) if !raw.is_null() => match raw.type_info().name() {
                "INTEGER" => Self::Integer,
                "REAL" => Self::Real,
                "TEXT" => Self::Text,
                "BLOB" => Self::Blob,
                _ => Self::Null,
            },
            _ => Self::Null,
        }
    }

    /// The storage class as a column type name (`integer`, `real`, `text`, `blob`, `null`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Integer => "integer",
            Self::Real => "real",
            Self::Text => "text",
            Self::Blob => "blob",
        }
    }
}

/// The type name the client sees for column `index`: sqlx's name for it lowercased (`integer`,
/// `real`, `text`, `blob`, `boolean`, `date`, `time`, `datetime`), or, where sqlx has none
/// (an expression, or a declared type outside its list such as `DECIMAL(10,2)` or `JSON`), the
/// storage class of the first non-null value in the column (`null` when there is none).
pub(crate) fn type_name(info: &SqliteTypeInfo, rows: &[SqliteRow], index: usize) -> String {
    if !info.is_null() {
        return info.name().to_ascii_lowercase();
    }
    rows.iter()
        .map(|row| Storage::of(row, index))
        .find(|storage| *storage != Storage::Null)
        .unwrap_or(Storage::Null)
        .name()
        .to_owned()
}

/// Column `index` of `row` as JSON.
pub(crate) fn cell(row: &SqliteRow, index: usize, declared: Declared) -> Value {
    let storage = Storage::of(row, index);
    let Ok(raw) = row.try_get_raw(index) else {
        return Value::Null;
    };
    let converted = match storage {
        Storage::Null => None,
        Storage::Integer => decode::<i64>(raw).map(|v| match declared {
            Declared::Boolean => Value::Bool(v != 0),
            _ => Value::from(v),
        }),
        Storage::Real => decode::<f64>(raw).map(float),
        Storage::Text => decode::<&str>(raw).map(|text| self::text(text, declared)),
        Storage::Blob => decode::<&[u8]>(raw).map(|bytes| Value::String(hex(bytes))),
    };
    converted.unwrap_or(Value::Null)
}

fn decode<'r, T: Decode<'r, Sqlite>>(raw: SqliteValueRef<'r>) -> Option<T> {
    T::decode(raw).ok()
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn text(text: &str, declared: Declared) -> Value {
    let converted = match declared {
        Declared::Json => serde_json::from_str(text).ok(),
        Declared::Date => timestamp(text).map(|at| Value::String(datetime_text(at))),
        Declared::DateTime => timestamp(text)
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .map(|date| date.and_time(NaiveTime::MIN))
            })
            .map(|at| Value::String(datetime_text(at))),
        Declared::Boolean | Declared::Other => None,
    };
    converted.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// A timestamp in one of the text forms SQLite's date functions read without a zone:
/// `YYYY-MM-DD HH:MM[:SS[.fff]]`, with a space or a `T`.
fn timestamp(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// ISO-8601 with microseconds only when they are not zero.
fn time_text(time: NaiveTime) -> String {
    let mut text = time.format("%H:%M:%S").to_string();
    let micros = time.nanosecond() / 1_000;
    if micros != 0 {
        let _ = write!(text, ".{micros:06}");
    }
    text
}

fn datetime_text(at: NaiveDateTime) -> String {
    format!("{}T{}", at.date().format("%Y-%m-%d"), time_text(at.time()))
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_are_read_case_insensitively() {
        assert_eq!(Declared::of_declared_type("JSON"), Declared::Json);
        assert_eq!(Declared::of_declared_type("jsonb"), Declared::Json);
        assert_eq!(Declared::of_declared_type("Bool"), Declared::Boolean);
        assert_eq!(Declared::of_declared_type("DATE"), Declared::Date);
        assert_eq!(
            Declared::of_declared_type("TIMESTAMP WITH TIME ZONE"),
            Declared::DateTime
        );
        assert_eq!(Declared::of_declared_type("DECIMAL(10,2)"), Declared::Other);
    }

    #[test]
    fn timestamps_become_iso_8601_with_a_t() {
        let at = |s: &str| text(s, Declared::DateTime);
        assert_eq!(at("2024-01-05 10:00:00"), "2024-01-05T10:00:00");
        assert_eq!(at("2024-01-05 10:00:00.000"), "2024-01-05T10:00:00");
        assert_eq!(at("2024-01-05 10:00:00.25"), "2024-01-05T10:00:00.250000");
        assert_eq!(at("2024-01-05T10:00"), "2024-01-05T10:00:00");
        assert_eq!(at("2024-01-05"), "2024-01-05T00:00:00");
        // A zone or anything else SQLite's functions would not read stays as it is.
        assert_eq!(at("2024-01-05 10:00:00+02:00"), "2024-01-05 10:00:00+02:00");
        assert_eq!(at("soon"), "soon");
        assert_eq!(text("2024-01-05", Declared::Date), "2024-01-05");
        assert_eq!(
            text("2024-01-05 08:30:00", Declared::Date),
            "2024-01-05T08:30:00"
        );
        assert_eq!(
            text("2024-01-05 10:00:00", Declared::Other),
            "2024-01-05 10:00:00"
        );
    }

    #[test]
    fn json_text_is_parsed_when_it_parses() {
        assert_eq!(
            text(r#"{"a": [1, true]}"#, Declared::Json),
            serde_json::json!({"a": [1, true]})
        );
        assert_eq!(text("not json", Declared::Json), "not json");
        assert_eq!(text("[1]", Declared::Other), "[1]");
    }

    #[test]
    fn blobs_are_lowercase_hex_and_non_finite_reals_null() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(float(f64::INFINITY), Value::Null);
        assert_eq!(float(1.5), serde_json::json!(1.5));
    }
}
