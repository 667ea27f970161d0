//! Result values to JSON: numbers as numbers, dates and timestamps as ISO-8601 text, json as
//! JSON, uuid as text, bytea as hex, intervals as seconds, arrays as lists.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use serde_json::{Number, Value};
use sqlx::postgres::types::PgInterval;
use sqlx::postgres::{PgRow, PgValueFormat, PgValueRef};
use sqlx::{Decode, Postgres, Row, TypeInfo, ValueRef};

/// The type name the client sees for a column (`int4`, `numeric`, `timestamptz`, `text[]`, …).
pub(crate) fn type_name(info: &sqlx::postgres::PgTypeInfo) -> String {
    info.name().to_ascii_lowercase()
}

/// Column `index` of `row` as JSON.
pub(crate) fn cell(row: &PgRow, index: usize) -> Value {
    match row.try_get_raw(index) {
        Ok(raw) if !raw.is_null() => {
            let name = raw.type_info().name().to_owned();
            value(raw, &name)
        }
        _ => Value::Null,
    }
}

fn decode<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Option<T> {
    T::decode(raw).ok()
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
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

fn value(raw: PgValueRef<'_>, type_name: &str) -> Value {
    let original = raw.clone();
    let converted = match type_name {
        "BOOL" => decode::<bool>(raw).map(Value::Bool),
        "INT2" => decode::<i16>(raw).map(Value::from),
        "INT4" => decode::<i32>(raw).map(Value::from),
        "INT8" => decode::<i64>(raw).map(Value::from),
        "OID" => decode::<sqlx::postgres::types::Oid>(raw).map(|o| Value::from(o.0)),
        "FLOAT4" => decode::<f32>(raw).map(|v| float(f64::from(v))),
        "FLOAT8" => decode::<f64>(raw).map(float),
        "NUMERIC" => numeric(raw),
        "DATE" => decode::<NaiveDate>(raw).map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
        "TIME" => decode::<NaiveTime>(raw).map(|t| Value::String(time_text(t))),
        "TIMESTAMP" => decode::<NaiveDateTime>(raw).map(|t| Value::String(datetime_text(t))),
        "TIMESTAMPTZ" => decode::<DateTime<Utc>>(raw)
            .map(|t| Value::String(format!("{}+00:00", datetime_text(t.naive_utc())))),
        "INTERVAL" => decode::<PgInterval>(raw).map(|i| {
            let days = i64::from(i.months) * 30 + i64::from(i.days);
            float((days * 86_400_000_000 + i.microseconds) as f64 / 1_000_000.0)
        }),
        "JSON" | "JSONB" => decode::<Value>(raw),
        "UUID" => decode::<uuid::Uuid>(raw).map(|u| Value::String(u.to_string())),
        "BYTEA" => decode::<Vec<u8>>(raw).map(|b| Value::String(hex(&b))),
        "BOOL[]" => array::<bool>(raw, Value::Bool),
        "INT2[]" => array::<i16>(raw, Value::from),
        "INT4[]" => array::<i32>(raw, Value::from),
        "INT8[]" => array::<i64>(raw, Value::from),
        "FLOAT4[]" => array::<f32>(raw, |v| float(f64::from(v))),
        "FLOAT8[]" => array::<f64>(raw, float),
        "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" | "NAME[]" => array::<String>(raw, Value::String),
        "UUID[]" => array::<uuid::Uuid>(raw, |u| Value::String(u.to_string())),
        "DATE[]" => array::<NaiveDate>(raw, |d| Value::String(d.format("%Y-%m-%d").to_string())),
        "JSONB[]" | "JSON[]" => array::<Value>(raw, |v| v),
        _ => None,
    };
    converted.unwrap_or_else(|| fallback(original))
}

fn array<'r, T>(raw: PgValueRef<'r>, each: impl Fn(T) -> Value) -> Option<Value>
where
    Vec<Option<T>>: Decode<'r, Postgres>,
{
    decode::<Vec<Option<T>>>(raw).map(|items| {
        Value::Array(
            items
                .into_iter()
                .map(|item| item.map_or(Value::Null, &each))
                .collect(),
        )
    })
}

/// Text types, enums, domains and anything else: the text if it is text, else hex.
fn fallback(raw: PgValueRef<'_>) -> Value {
    if raw.format() == PgValueFormat::Text {
        return raw
            .as_str()
            .map_or(Value::Null, |s| Value::String(s.to_owned()));
    }
    match raw.as_bytes() {
        Ok(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => Value::String(hex(bytes)),
        },
        Err(_) => Value::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// A `numeric` as a JSON number (its exact decimal text, parsed), or as text when it is NaN or
/// infinite.
fn numeric(raw: PgValueRef<'_>) -> Option<Value> {
    let text = match raw.format() {
        PgValueFormat::Text => raw.as_str().ok()?.to_owned(),
        PgValueFormat::Binary => numeric_text(raw.as_bytes().ok()?)?,
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(float(v)),
        _ => Some(Value::String(text)),
    }
}

/// Decodes PostgreSQL's binary `numeric`: digit count, weight, sign and display scale, then
/// base-10000 digits.
fn numeric_text(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Some("NaN".to_owned()),
        0xD000 => return Some("Infinity".to_owned()),
        0xF000 => return Some("-Infinity".to_owned()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    let digit = |index: i32| -> u16 {
        usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                let _ = write!(text, "{}", digit(i));
            } else {
                let _ = write!(text, "{:04}", digit(i));
            }
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut index = weight + 1;
        while fraction.len() < dscale {
            let _ = write!(fraction, "{:04}", digit(index));
            index += 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [ndigits, weight as u16, sign, dscale] {
            out.extend(word.to_be_bytes());
        }
        for d in digits {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn decodes_binary_numerics() {
        // 1092395.68 = 109 2395 . 6800
        assert_eq!(
            numeric_text(&encode(3, 1, 0, 2, &[109, 2395, 6800])).unwrap(),
            "1092395.68"
        );
        assert_eq!(
            numeric_text(&encode(1, -1, 0x4000, 3, &[50])).unwrap(),
            "-0.005"
        );
        assert_eq!(numeric_text(&encode(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(
            numeric_text(&encode(1, 2, 0, 0, &[7])).unwrap(),
            "700000000"
        );
        assert_eq!(
            numeric_text(&encode(1, -2, 0, 8, &[1234])).unwrap(),
            "0.00001234"
        );
        assert_eq!(numeric_text(&encode(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn formats_times_like_isoformat() {
        let t = NaiveTime::from_hms_micro_opt(10, 5, 3, 120).unwrap();
        assert_eq!(time_text(t), "10:05:03.000120");
        assert_eq!(
            time_text(NaiveTime::from_hms_opt(0, 0, 0).unwrap()),
            "00:00:00"
        );
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
