//! Share links: a token that shows one dashboard, read-only, to someone without a login.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::time::Timestamp;
use crate::ids::{DashboardId, ShareId};

/// A share link as its dashboard's owner sees it: everything but the token, which is shown
/// once, when the link is created, and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    /// Id.
    pub id: ShareId,
    /// The one dashboard the link shows.
    pub dashboard_id: DashboardId,
    /// A note of the owner's ("board pack", "wall screen").
    pub label: Option<String>,
    /// Filter values the link always applies, whatever a viewer sends, by filter id.
    pub locked_filters: BTreeMap<String, Value>,
    /// Whether viewers may download its widgets' rows (`…/export.csv` and the others).
    #[serde(default)]
    pub allow_export: bool,
    /// When the link stops working; `None` for never.
    pub expires_at: Option<Timestamp>,
    /// Who created it.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Body of `POST /dashboards/{id}/shares`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ShareCreate {
    /// When the link stops working (in the future); never by default.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Filter values the link always applies, by filter id (each a filter of the dashboard).
    #[serde(default)]
    pub locked_filters: BTreeMap<String, Value>,
    /// A note.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether viewers may download its widgets' rows; no by default.
    #[serde(default)]
    pub allow_export: bool,
}

/// A new share link: the only time its token is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedShare {
    /// Id.
    pub id: ShareId,
    /// The secret of the link: 256 bits from the operating system's random source.
    pub token: String,
    /// Where the link's dashboard is read (the engine's share URL base and the token).
    pub url: String,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
    /// Filter values it always applies.
    pub locked_filters: BTreeMap<String, Value>,
    /// The note.
    pub label: Option<String>,
    /// Whether viewers may download its widgets' rows.
    pub allow_export: bool,
    /// When it was created.
    pub created_at: Timestamp,
}
