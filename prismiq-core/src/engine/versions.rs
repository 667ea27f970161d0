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
        // Who may view is read from the access fields alone: no document is built.
        self.dashboard_version(auth, id).await?;
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
        self.dashboard_version(auth, id).await?;
        self.stored_version(auth, id, version).await
    }

    /// Version `version` as the store keeps it, for a caller already allowed to see it.
    async fn stored_version(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        version: u64,
    ) -> Result<DashboardVersion> {
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
        self.dashboard_version(auth, id).await?;
        let a = self.stored_version(auth, id, from).await?.document;
        let b = self.stored_version(auth, id, to).await?.document;
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
        let access = self
            .dashboards
            .dashboard_access(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))?;
        super::ensure(permissions::Viewer::of(auth).can_edit_access(&access))?;
        let old = self.stored_version(auth, id, version).await?.document;
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
            Some(old) if content(old) != content(w) => {
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

/// What a widget shows and where, without its timestamps.
fn content(w: &crate::model::Widget) -> Value {
    let mut value = serde_json::to_value(w).expect("a widget serializes");
    if let Value::Object(map) = &mut value {
        map.remove("updated_at");
        map.remove("created_at");
    }
    value
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::WidgetId;
    use crate::model::{Timestamp, Widget, WidgetContent, WidgetPosition, WidgetType};
    use crate::store::NewDashboard;

    /// One edit a person makes to a dashboard.
    #[derive(Debug, Clone)]
    enum Edit {
        Rename(String),
        Describe(Option<String>),
        AddWidget(String, u32),
        RemoveWidget(usize),
        Retitle(usize, String),
        Move(usize, u32, u32),
        Share(bool, Vec<String>),
        Refresh(Option<u32>),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            "[a-zA-Z ]{1,12}".prop_map(Edit::Rename),
            proptest::option::of("[a-z~/ ]{0,8}").prop_map(Edit::Describe),
            ("[a-z]{1,6}", 0u32..10).prop_map(|(t, x)| Edit::AddWidget(t, x)),
            (0usize..8).prop_map(Edit::RemoveWidget),
            (0usize..8, "[a-z/~]{1,6}").prop_map(|(i, t)| Edit::Retitle(i, t)),
            (0usize..8, 0u32..10, 0u32..20).prop_map(|(i, x, y)| Edit::Move(i, x, y)),
            (any::<bool>(), proptest::collection::vec("[a-z]{1,4}", 0..3))
                .prop_map(|(p, v)| Edit::Share(p, v)),
            proptest::option::of(10u32..600).prop_map(Edit::Refresh),
        ]
    }

    fn apply(dashboard: &mut Dashboard, edit: &Edit) {
        let now = Timestamp::now();
        let n = dashboard.widgets.len();
        match edit {
            Edit::Rename(name) => dashboard.name = name.clone(),
            Edit::Describe(text) => dashboard.description = text.clone(),
            Edit::AddWidget(title, x) => {
                let content = WidgetContent {
                    widget_type: WidgetType::Text,
                    title: title.clone(),
                    query: None,
                    position: WidgetPosition::new(*x, 0, 2, 2).expect("a position"),
                    config: Default::default(),
                };
                dashboard
                    .widgets
                    .push(content.into_widget(WidgetId::new(), now, now));
            }
            Edit::RemoveWidget(i) if n > 0 => {
                dashboard.widgets.remove(i % n);
            }
            Edit::Retitle(i, title) if n > 0 => dashboard.widgets[i % n].title = title.clone(),
            Edit::Move(i, x, y) if n > 0 => {
                let w: &mut Widget = &mut dashboard.widgets[i % n];
                w.position = WidgetPosition::new(*x, *y, 2, 2).expect("a position");
            }
            Edit::Share(public, viewers) => {
                dashboard.is_public = *public;
                dashboard.allowed_viewers = viewers.clone();
            }
            Edit::Refresh(seconds) => dashboard.refresh_interval = *seconds,
            _ => {}
        }
        dashboard.version += 1;
        dashboard.updated_at = now;
    }

    fn base() -> Dashboard {
        NewDashboard {
            id: DashboardId::new(),
            name: "Base".into(),
            description: None,
            layout: Default::default(),
            filters: Vec::new(),
            owner_id: Some("alice".into()),
            is_public: false,
            allowed_viewers: Vec::new(),
            refresh_interval: None,
            widgets: Vec::new(),
        }
        .into_dashboard(Timestamp::now())
    }

    proptest! {
        /// The patch of (a, b), applied to a, gives b — for any sequences of edits before
        /// and between them.
        #[test]
        fn the_diff_of_two_versions_turns_one_into_the_other(
            before in proptest::collection::vec(edit(), 0..6),
            between in proptest::collection::vec(edit(), 0..10),
        ) {
            let mut a = base();
            for e in &before {
                apply(&mut a, e);
            }
            let mut b = a.clone();
            for e in &between {
                apply(&mut b, e);
            }
            let diff = diff(a.version, &a, b.version, &b);
            let mut doc = serde_json::to_value(&a).unwrap();
            let patch: json_patch::Patch = serde_json::from_value(diff.patch).unwrap();
            json_patch::patch(&mut doc, &patch).unwrap();
            prop_assert_eq!(doc, serde_json::to_value(&b).unwrap());
        }
    }
}
