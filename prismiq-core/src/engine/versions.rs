//! Dashboard versions: the history of a dashboard, the difference between two versions, and
//! restoring one as a new version.

use serde::Serialize;
use serde_json::Value;

use super::{Engine, Result, dashboard_not_found};
use crate::auth::{AuthContext, Scope};
use crate::error::EngineError;
use crate::ids::DashboardId;
use crate::model::{
    ChangeKind, Dashboard, DashboardUpdate, DashboardVersion, Patch, VersionEntry, WidgetSave,
};
use crate::permissions;

/// The most versions one page lists.
pub const MAX_VERSIONS_PAGE: u32 = 100;

/// One page of a dashboard's versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct VersionsPage {
    /// The versions, without their documents.
    pub versions: Vec<VersionEntry>,
    /// The `cursor` of the next page; `None` on the last.
    pub next_cursor: Option<u64>,
}

/// How version `from` of a dashboard becomes version `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct VersionDiff {
    /// The version the patch applies to.
    pub from: u64,
    /// The version it gives.
    pub to: u64,
    /// An RFC 6902 JSON Patch from `from`'s document to `to`'s.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub patch: Value,
    /// The same in words.
    pub summary: DiffSummary,
}

/// What changed between two versions, for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DiffSummary {
    /// Titles of the widgets added.
    pub widgets_added: Vec<String>,
    /// Titles of the widgets removed.
    pub widgets_removed: Vec<String>,
    /// Titles of the widgets changed (content or place).
    pub widgets_changed: Vec<String>,
    /// The dashboard's own fields that changed (`name`, `filters`, `layout`, …).
    pub fields_changed: Vec<String>,
}

/// The fields of a dashboard document that say nothing of its content.
const BOOKKEEPING: [&str; 3] = ["version", "updated_at", "created_at"];

impl Engine {
    /// The version of a dashboard the caller may view, read in one cheap statement (its
    /// access fields and version, no document): what a conditional `GET` compares with.
    pub async fn dashboard_version(&self, auth: &dyn AuthContext, id: DashboardId) -> Result<u64> {
        let access = self
            .dashboards
            .dashboard_access(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))?;
        super::ensure(crate::permissions::Viewer::of(auth).can_view_access(&access))?;
        Ok(access.version)
    }

    /// A page of the versions of a dashboard the caller may view, newest first: at most
    /// `limit` (1 to [`MAX_VERSIONS_PAGE`]), below version `cursor` when given.
    pub async fn list_versions(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        limit: u32,
        cursor: Option<u64>,
    ) -> Result<VersionsPage> {
        self.get_dashboard(auth, id).await?;
        let limit = limit.clamp(1, MAX_VERSIONS_PAGE);
        let mut versions = self
            .dashboards
            .list_versions(&Scope::of(auth), id, limit + 1, cursor)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))?;
        let next_cursor = if versions.len() > limit as usize {
            versions.truncate(limit as usize);
            versions.last().map(|v| v.version)
        } else {
            None
        };
        Ok(VersionsPage {
            versions,
            next_cursor,
        })
    }

    /// Version `version` of a dashboard the caller may view, with its document; a 404 when it
    /// is not kept.
    pub async fn get_version(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        version: u64,
    ) -> Result<DashboardVersion> {
        self.get_dashboard(auth, id).await?;
        self.dashboards
            .get_version(&Scope::of(auth), id, version)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| version_not_found(id, version))
    }

    /// How version `from` of a dashboard the caller may view became version `to`.
    pub async fn diff_versions(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        from: u64,
        to: u64,
    ) -> Result<VersionDiff> {
        let a = self.get_version(auth, id, from).await?.document;
        let b = self.get_version(auth, id, to).await?.document;
        Ok(diff(from, &a, to, &b))
    }

    /// Makes version `version` of a dashboard the caller may edit its content again, as a new
    /// version (of kind `restored`): its name, description, layout, filters, sharing, refresh
    /// interval and widgets, which keep their ids. The widgets are checked as a save's are: a
    /// type the caller may no longer use is refused and reported (422), never dropped.
    pub async fn restore_version(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        version: u64,
    ) -> Result<Dashboard> {
        let current = self.load_dashboard(auth, id).await?;
        super::ensure(permissions::can_edit_dashboard(auth, &current))?;
        let old = self
            .dashboards
            .get_version(&Scope::of(auth), id, version)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| version_not_found(id, version))?
            .document;
        let update = DashboardUpdate {
            name: Some(old.name),
            description: match old.description {
                Some(text) => Patch::Value(text),
                None => Patch::Null,
            },
            layout: Some(old.layout),
            filters: Some(old.filters),
            is_public: Some(old.is_public),
            allowed_viewers: Some(old.allowed_viewers),
            refresh_interval: match old.refresh_interval {
                Some(seconds) => Patch::Value(seconds),
                None => Patch::Null,
            },
            widgets: Some(
                old.widgets
                    .into_iter()
                    .map(|w| WidgetSave {
                        id: Some(w.id.to_string()),
                        widget_type: w.widget_type,
                        title: w.title,
                        query: w.query,
                        position: Some(w.position.into()),
                        config: Some(w.config),
                    })
                    .collect(),
            ),
        };
        self.change_dashboard(auth, id, update, Some(ChangeKind::Restored))
            .await
    }
}

fn version_not_found(id: DashboardId, version: u64) -> EngineError {
    EngineError::NotFound {
        missing: crate::error::Missing::Version {
            dashboard_id: id.to_string(),
            version,
        },
        message: format!("Version {version} of dashboard {id} not found (or no longer kept)"),
    }
}

/// The patch from `a` to `b` and its summary.
pub(crate) fn diff(from: u64, a: &Dashboard, to: u64, b: &Dashboard) -> VersionDiff {
    let left = serde_json::to_value(a).expect("a dashboard serializes");
    let right = serde_json::to_value(b).expect("a dashboard serializes");
    let patch = serde_json::to_value(json_patch::diff(&left, &right)).expect("a patch serializes");
    let mut summary = DiffSummary::default();
    for w in &b.widgets {
        match a.widgets.iter().find(|old| old.id == w.id) {
            None => summary.widgets_added.push(w.title.clone()),
            Some(old) if old_content(old) != old_content(w) => {
                summary.widgets_changed.push(w.title.clone());
            }
            Some(_) => {}
        }
    }
    for w in &a.widgets {
        if !b.widgets.iter().any(|new| new.id == w.id) {
            summary.widgets_removed.push(w.title.clone());
        }
    }
    if let (Value::Object(l), Value::Object(r)) = (&left, &right) {
        for (key, value) in r {
            if key != "widgets" && !BOOKKEEPING.contains(&key.as_str()) && l.get(key) != Some(value)
            {
                summary.fields_changed.push(key.clone());
            }
        }
    }
    VersionDiff {
        from,
        to,
        patch,
        summary,
    }
}

/// What a widget shows, without its timestamps.
fn old_content(w: &crate::model::Widget) -> (Value, Value) {
    let mut value = serde_json::to_value(w).expect("a widget serializes");
    if let Value::Object(map) = &mut value {
        map.remove("updated_at");
        map.remove("created_at");
    }
    (value, Value::Null)
}
