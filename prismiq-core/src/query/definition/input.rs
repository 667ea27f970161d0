//! Readers of the client's JSON that several wire shapes share: lists given as `null`, counts
//! given loosely, and the refusal of raw SQL.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

/// Accepts `null` for a list (as empty) besides the list itself.
pub(super) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A non-negative integer, also given as a whole float (`10.0`) or a numeric string (`"10"`).
pub(super) fn lax_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let number = match &value {
        Value::Number(n) => n.as_i64().map(|i| i as f64).or_else(|| n.as_f64()),
        Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i as f64),
        _ => None,
    };
    match number {
        Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= u64::MAX as f64 => Ok(Some(n as u64)),
        Some(n) if n.fract() == 0.0 => Err(de::Error::custom(format!(
            "must be a non-negative integer, got {n}"
        ))),
        _ => Err(de::Error::custom(format!(
            "must be a non-negative integer, got {value}"
        ))),
    }
}

/// Rejects a raw-SQL field: only absent, null or empty is accepted.
pub(super) fn reject_sql(value: Option<&Value>, hint: &str) -> Result<(), String> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(()),
        Some(_) => Err(format!(
            "sql_expression is not accepted from clients; {hint}"
        )),
    }
}
