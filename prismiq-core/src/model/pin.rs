//! Pins: a user's dashboards kept at hand in a named place (context) of the host app.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::time::Timestamp;
use crate::ids::{DashboardId, PinId};

/// The longest pin context, in characters.
pub(crate) const MAX_CONTEXT_LEN: usize = 100;

/// A dashboard pinned by a user in a context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinnedDashboard {
    /// Id.
    pub id: PinId,
    /// The pinned dashboard.
    pub dashboard_id: DashboardId,
    /// Where in the host app it is pinned (e.g. `"home"`, `"accounts"`).
    pub context: String,
    /// Place in the context's list, `0..n-1` without gaps.
    pub position: u32,
    /// When it was pinned.
    pub pinned_at: Timestamp,
}

/// Body of `POST /pins`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct PinRequest {
    /// The dashboard to pin.
    #[serde(deserialize_with = "non_empty")]
    pub dashboard_id: String,
    /// Where to pin it (1–100 characters).
    #[serde(deserialize_with = "context")]
    pub context: String,
    /// Place in the list; appended when absent, clamped to the end when past it.
    #[serde(default)]
    pub position: Option<u32>,
}

impl PinRequest {
    /// Pin `dashboard_id` in `context`, at the end of the list.
    pub fn new(dashboard_id: impl Into<String>, context: impl Into<String>) -> Self {
        Self {
            dashboard_id: dashboard_id.into(),
            context: context.into(),
            position: None,
        }
    }
}

/// Body of `DELETE /pins`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct UnpinRequest {
    /// The pinned dashboard.
    #[serde(deserialize_with = "non_empty")]
    pub dashboard_id: String,
    /// The context it is pinned in.
    #[serde(deserialize_with = "context")]
    pub context: String,
}

impl UnpinRequest {
    /// Unpin `dashboard_id` from `context`.
    pub fn new(dashboard_id: impl Into<String>, context: impl Into<String>) -> Self {
        Self {
            dashboard_id: dashboard_id.into(),
            context: context.into(),
        }
    }
}

/// Body of `PUT /pins/order`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ReorderPinsRequest {
    /// The context to reorder.
    #[serde(deserialize_with = "context")]
    pub context: String,
    /// Dashboards in their new order; they take positions `0..n-1`, unlisted pins follow in
    /// their old order, unknown ids are ignored.
    #[serde(deserialize_with = "non_empty_list")]
    pub dashboard_ids: Vec<String>,
}

impl ReorderPinsRequest {
    /// Put `dashboard_ids` first in `context`, in that order.
    pub fn new(context: impl Into<String>, dashboard_ids: Vec<String>) -> Self {
        Self {
            context: context.into(),
            dashboard_ids,
        }
    }
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    if value.is_empty() {
        return Err(D::Error::custom("String should have at least 1 character"));
    }
    Ok(value)
}

/// Checks a pin context: no NUL character, 1 to [`MAX_CONTEXT_LEN`] characters.
pub(crate) fn check_context(context: &str) -> Result<(), String> {
    if context.contains('\0') {
        return Err("String must not contain the NUL character (\\u0000)".to_owned());
    }
    check_context_length(context)
}

/// 1 to [`MAX_CONTEXT_LEN`] characters. (Bodies are checked for NUL characters as a whole,
/// where the location of the one found is known.)
fn check_context_length(context: &str) -> Result<(), String> {
    match context.chars().count() {
        0 => Err("String should have at least 1 character".to_owned()),
        n if n > MAX_CONTEXT_LEN => Err(format!(
            "String should have at most {MAX_CONTEXT_LEN} characters"
        )),
        _ => Ok(()),
    }
}

fn context<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    check_context_length(&value).map_err(D::Error::custom)?;
    Ok(value)
}

fn non_empty_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "non_empty")] String);
    let ids = Vec::<Id>::deserialize(deserializer)?;
    if ids.is_empty() {
        return Err(D::Error::custom("List should have at least 1 item"));
    }
    Ok(ids.into_iter().map(|Id(id)| id).collect())
}
