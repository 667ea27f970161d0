//! Versions of a dashboard: every committed change makes one, with who made it, what kind of
//! change it was and the whole dashboard as it was after it.

use serde::{Deserialize, Serialize};

use super::dashboard::Dashboard;
use super::time::Timestamp;

/// What kind of change made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The dashboard was created (from scratch, a template, or as a starter dashboard).
    Created,
    /// Its fields changed: name, description, filters, layout settings, sharing, refresh.
    Updated,
    /// It was saved whole, widgets included.
    Saved,
    /// It was imported.
    Imported,
    /// An earlier version's content was restored.
    Restored,
    /// A widget was added.
    WidgetCreated,
    /// A widget changed.
    WidgetUpdated,
    /// A widget was removed.
    WidgetDeleted,
    /// A widget was duplicated.
    WidgetDuplicated,
    /// Widgets moved or were resized.
    LayoutUpdated,
}

impl ChangeKind {
    /// The kind as it is stored and sent: `widget_created`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Saved => "saved",
            Self::Imported => "imported",
            Self::Restored => "restored",
            Self::WidgetCreated => "widget_created",
            Self::WidgetUpdated => "widget_updated",
            Self::WidgetDeleted => "widget_deleted",
            Self::WidgetDuplicated => "widget_duplicated",
            Self::LayoutUpdated => "layout_updated",
        }
    }
}

impl std::str::FromStr for ChangeKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
            .map_err(|_| format!("{text:?} is not a kind of change"))
    }
}

/// One version of a dashboard, without its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionEntry {
    /// Its number: 1 for the dashboard as created, one more for each change since.
    pub version: u64,
    /// Who made the change; `None` when the caller had no user id.
    pub author: Option<String>,
    /// What kind of change it was.
    pub kind: ChangeKind,
    /// When it was committed.
    pub created_at: Timestamp,
}

/// One version of a dashboard with the whole dashboard as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardVersion {
    /// The version.
    #[serde(flatten)]
    pub entry: VersionEntry,
    /// The dashboard as it was after the change.
    pub document: Dashboard,
}
