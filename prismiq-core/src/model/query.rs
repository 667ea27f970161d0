//! [`QueryDefinition`]: the JSON query a widget or saved query carries.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A structured query definition (`tables`, `joins`, `columns`, `filters`, …).
///
/// Dashboards and saved queries store it as given, after checking its outline: a JSON object
/// with a non-empty `tables` array and a non-empty `columns` array. Checking it against a
/// database schema and compiling it to SQL is the query engine's job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct QueryDefinition(Map<String, Value>);

impl QueryDefinition {
    /// Checks the outline of `value` and wraps it.
    pub fn from_value(value: Value) -> Result<Self, String> {
        let Value::Object(object) = value else {
            return Err("a query definition must be a JSON object".to_owned());
        };
        for (key, what) in [("tables", "table"), ("columns", "column")] {
            match object.get(key) {
                Some(Value::Array(items)) if !items.is_empty() => {}
                Some(Value::Array(_)) => {
                    return Err(format!("At least one {what} must be specified in `{key}`"));
                }
                Some(_) => return Err(format!("`{key}` must be an array")),
                None => return Err(format!("missing field `{key}`")),
            }
        }
        Ok(Self(object))
    }

    /// The definition as a JSON object.
    pub fn as_object(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The definition as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

impl<'de> Deserialize<'de> for QueryDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requires_tables_and_columns() {
        let ok = json!({"tables":[{"id":"t1","name":"orders"}],"columns":[{"table_id":"t1","column":"id"}]});
        assert!(QueryDefinition::from_value(ok).is_ok());
        assert!(QueryDefinition::from_value(json!([])).is_err());
        assert!(QueryDefinition::from_value(json!({"tables":[],"columns":[{}]})).is_err());
        assert!(QueryDefinition::from_value(json!({"tables":[{}]})).is_err());
    }
}
