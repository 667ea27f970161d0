//! [`Patch`]: the difference between "leave unchanged" and "clear" in PATCH bodies.

use serde::{Deserialize, Deserializer};

/// A change to a nullable field in an update.
///
/// In JSON an absent key is [`Patch::Absent`] (unchanged), an explicit `null` is
/// [`Patch::Null`] (clear) and any other value is [`Patch::Value`]. Fields of this type must be
/// marked `#[serde(default)]` so that absence is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    /// The key was absent: keep the current value.
    #[default]
    Absent,
    /// The key was `null`: clear the value.
    Null,
    /// Set a new value.
    Value(T),
}

impl<T> Patch<T> {
    /// Applies the change to `target`.
    pub fn apply(self, target: &mut Option<T>) {
        match self {
            Self::Absent => {}
            Self::Null => *target = None,
            Self::Value(value) => *target = Some(value),
        }
    }

    /// Whether the key was absent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The new value, if one is set.
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Self::Value(value) => Some(value),
            _ => None,
        }
    }
}

impl<T> From<Option<T>> for Patch<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Self::Value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        description: Patch<String>,
    }

    #[test]
    fn distinguishes_absent_null_and_value() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"description":null}"#).unwrap();
        let value: Body = serde_json::from_str(r#"{"description":"x"}"#).unwrap();
        assert_eq!(absent.description, Patch::Absent);
        assert_eq!(null.description, Patch::Null);
        assert_eq!(value.description, Patch::Value("x".to_owned()));

        let mut field = Some("old".to_owned());
        Patch::Absent.apply(&mut field);
        assert_eq!(field.as_deref(), Some("old"));
        Patch::Null.apply(&mut field);
        assert_eq!(field, None);
    }
}
