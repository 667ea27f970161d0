//! Dashboards: list, read, create, change, delete, export and import.

use std::collections::HashSet;

use super::catalogue::{Draft, within};
use super::{Engine, Result, dashboard_not_found, ensure, limits};
use crate::auth::{AuthContext, Scope};
use crate::catalogue::PathSegment;
use crate::error::{EngineError, Violation};
use crate::events::{EventKind, Reach};
use crate::ids::{DashboardId, WidgetId};
use crate::model::{
    ChangeKind, Dashboard, DashboardCreate, DashboardExport, DashboardImport, DashboardJson,
    DashboardUpdate, WidgetContent, WidgetCreate,
};
use crate::permissions::{self, Viewer};
use crate::store::{DashboardChanges, NewDashboard, StoreError};

impl Engine {
    /// The dashboards the caller may view, most recently updated first.
    pub async fn list_dashboards(&self, auth: &dyn AuthContext) -> Result<Vec<Dashboard>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .dashboards
            .list_dashboards(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        // The store filters already; this keeps a faulty store from leaking.
        list.retain(|d| viewer.can_view_dashboard(d));
        Ok(list)
    }

    /// [`list_dashboards`](Self::list_dashboards) as the JSON the API returns for each
    /// dashboard (see [`get_dashboard_json`](Self::get_dashboard_json)).
    pub async fn list_dashboards_json(&self, auth: &dyn AuthContext) -> Result<Vec<DashboardJson>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .dashboards
            .list_dashboards_json(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        // The store filters already; this keeps a faulty store from leaking.
        list.retain(|d| viewer.can_view_dashboard_json(d));
        Ok(list)
    }

    /// One dashboard the caller may view.
    pub async fn get_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<Dashboard> {
        let dashboard = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_view_dashboard(auth, &dashboard))?;
        Ok(dashboard)
    }

    /// One dashboard the caller may view, as the JSON the API returns for it (see
    /// [`DashboardJson`]): what [`get_dashboard`](Self::get_dashboard) returns, serialized,
    /// without decoding the stored widgets when the store can build the document itself.
    pub async fn get_dashboard_json(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<DashboardJson> {
        let document = self
            .dashboards
            .get_dashboard_json(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))?;
        ensure(Viewer::of(auth).can_view_dashboard_json(&document))?;
        Ok(document)
    }

    /// Creates a dashboard, with its initial widgets, owned by the caller.
    pub async fn create_dashboard(
        &self,
        auth: &dyn AuthContext,
        create: DashboardCreate,
    ) -> Result<Dashboard> {
        let new = self.new_dashboard(auth, create, &[])?;
        self.insert_dashboard(auth, new, ChangeKind::Created).await
    }

    /// Checks a create body and makes what the store writes, owned by the caller; `at` is
    /// where the body sits in the request (its widgets' problems are located from there).
    pub(super) fn new_dashboard(
        &self,
        auth: &dyn AuthContext,
        create: DashboardCreate,
        at: &[PathSegment],
    ) -> Result<NewDashboard> {
        self.limits.check_name("Dashboard name", &create.name)?;
        self.limits
            .check_description(create.description.as_deref())?;
        self.limits.check_filters(&create.filters)?;
        self.check_refresh_interval(create.refresh_interval)?;
        let drafts = create
            .widgets
            .into_iter()
            .enumerate()
            .map(|(i, widget)| Draft::of_create(within(at, i), widget))
            .collect();
        let widgets: Vec<(WidgetId, WidgetContent)> = self
            .settle_widgets(auth, &create.layout, &[], drafts)?
            .into_iter()
            .map(|content| (WidgetId::new(), content))
            .collect();
        self.limits
            .check_widgets(&create.layout, widgets.iter().map(|(_, c)| c))?;
        Ok(NewDashboard {
            id: DashboardId::new(),
            name: create.name,
            description: create.description,
            layout: create.layout,
            filters: create.filters,
            owner_id: permissions::user(auth).map(str::to_owned),
            is_public: create.is_public,
            allowed_viewers: create.allowed_viewers,
            refresh_interval: create.refresh_interval,
            widgets,
        })
    }

    /// Stores a checked dashboard as version 1, a change of `kind`.
    pub(super) async fn insert_dashboard(
        &self,
        auth: &dyn AuthContext,
        new: NewDashboard,
        kind: ChangeKind,
    ) -> Result<Dashboard> {
        let name = new.name.clone();
        let dashboard = self
            .dashboards
            .create_dashboard(
                &self.change_scope(auth, kind, None),
                new,
                self.limits.dashboards_per_owner,
            )
            .await
            .map_err(|err| match err {
                StoreError::LimitReached => self.limits.dashboard_limit_error(),
                err => self.store_error(err, &name, || EngineError::Store(StoreError::NotFound)),
            })?;
        self.emit_version(auth, EventKind::DashboardCreated, &dashboard)
            .await;
        Ok(dashboard)
    }

    /// Changes a dashboard the caller may edit. With `widgets`, saves the whole dashboard.
    pub async fn update_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        update: DashboardUpdate,
    ) -> Result<Dashboard> {
        self.change_dashboard(auth, id, update, None).await
    }

    /// [`update_dashboard`](Self::update_dashboard), recorded as a change of `kind` (else
    /// `saved` with widgets, `updated` without).
    pub(super) async fn change_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        update: DashboardUpdate,
        kind: Option<ChangeKind>,
    ) -> Result<Dashboard> {
        let current = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_edit_dashboard(auth, &current))?;

        if let Some(name) = &update.name {
            self.limits.check_name("Dashboard name", name)?;
        }
        if let Some(description) = update.description.as_value() {
            self.limits.check_description(Some(description))?;
        }
        if let Some(filters) = &update.filters {
            self.limits.check_filters(filters)?;
        }
        if let Some(interval) = update.refresh_interval.as_value() {
            self.check_refresh_interval(Some(*interval))?;
        }
        let layout = update.layout.as_ref().unwrap_or(&current.layout);
        let widgets = match update.widgets {
            Some(saves) => {
                let mut seen = HashSet::new();
                let mut ids = Vec::with_capacity(saves.len());
                let mut drafts = Vec::with_capacity(saves.len());
                for (i, save) in saves.into_iter().enumerate() {
                    let id = save
                        .id
                        .as_deref()
                        .and_then(|raw| raw.parse::<WidgetId>().ok())
                        .unwrap_or_default();
                    if !seen.insert(id) {
                        return Err(EngineError::Invalid(Violation::DuplicateWidgetId(
                            id.to_string(),
                        )));
                    }
                    // A kept widget keeps what the save leaves out: its place (or the part of
                    // it not sent) and, for the same type, its config.
                    let kept = current.widgets.iter().find(|w| w.id == id);
                    let position = match kept {
                        Some(kept) => Some(kept_position(kept.position, save.position)),
                        None => save.position,
                    };
                    let kept_type = kept.is_some_and(|w| w.widget_type == save.widget_type);
                    let config = save
                        .config
                        .or_else(|| kept.filter(|_| kept_type).map(|w| w.config.clone()));
                    ids.push(id);
                    drafts.push(Draft {
                        at: within(&[], i),
                        widget_type: save.widget_type,
                        title: save.title,
                        query: save.query,
                        position,
                        config,
                        kept_type,
                    });
                }
                let widgets: Vec<(WidgetId, WidgetContent)> = ids
                    .into_iter()
                    .zip(self.settle_widgets(auth, layout, &[], drafts)?)
                    .collect();
                self.limits
                    .check_widgets(layout, widgets.iter().map(|(_, c)| c))?;
                Some(widgets)
            }
            None => {
                if update.layout.is_some() {
                    limits::check_positions(
                        layout,
                        current.widgets.iter().map(|w| (&w.title, &w.position)),
                    )?;
                }
                None
            }
        };
        let name = update.name.clone().unwrap_or_default();
        let kind = kind.unwrap_or(if widgets.is_some() {
            ChangeKind::Saved
        } else {
            ChangeKind::Updated
        });
        let changes = DashboardChanges {
            name: update.name,
            description: update.description,
            layout: update.layout,
            filters: update.filters,
            is_public: update.is_public,
            allowed_viewers: update.allowed_viewers,
            refresh_interval: update.refresh_interval,
            widgets,
        };
        let dashboard = self
            .dashboards
            .update_dashboard(
                &self.change_scope(auth, kind, self.expected_version),
                id,
                changes,
            )
            .await
            .map_err(|err| self.store_error(err, &name, || dashboard_not_found(id)))?;
        self.emit_version(auth, EventKind::DashboardUpdated, &dashboard)
            .await;
        Ok(dashboard)
    }

    /// Deletes a dashboard the caller may delete, with its widgets and pins.
    pub async fn delete_dashboard(&self, auth: &dyn AuthContext, id: DashboardId) -> Result<()> {
        let current = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_delete_dashboard(auth, &current))?;
        self.dashboards
            .delete_dashboard(&Scope::of(auth), id)
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(id)))?;
        // The dashboard is gone: who could view it is taken from what it was.
        let reach = Reach::FormerViewers {
            owner_id: current.owner_id,
            is_public: current.is_public,
            allowed_viewers: current.allowed_viewers,
        };
        self.emit(auth, EventKind::DashboardDeleted, reach, |event| {
            event.dashboard_id = Some(id);
        })
        .await;
        Ok(())
    }

    /// The portable form of a dashboard the caller may view.
    pub async fn export_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<DashboardExport> {
        Ok(DashboardExport::of(&self.get_dashboard(auth, id).await?))
    }

    /// Creates a dashboard owned by the caller from an export, all or nothing.
    pub async fn import_dashboard(
        &self,
        auth: &dyn AuthContext,
        import: DashboardImport,
    ) -> Result<Dashboard> {
        let export = import.export_data;
        let major = export.version.split('.').next().unwrap_or_default();
        if major != "1" {
            return Err(EngineError::Invalid(Violation::UnsupportedExportVersion(
                export.version,
            )));
        }
        let create = DashboardCreate {
            name: import.name_override.unwrap_or(export.name),
            description: export.description,
            layout: export.layout,
            widgets: export.widgets.into_iter().map(WidgetCreate::from).collect(),
            filters: export.filters,
            is_public: false,
            allowed_viewers: Vec::new(),
            refresh_interval: export.refresh_interval,
        };
        let new = self.new_dashboard(auth, create, &["export_data".into()])?;
        self.insert_dashboard(auth, new, ChangeKind::Imported).await
    }
}

/// A kept widget's position after a save that sends `sent`: each coordinate sent replaces the
/// kept one.
pub(super) fn kept_position(
    kept: crate::model::WidgetPosition,
    sent: Option<crate::model::PositionRequest>,
) -> crate::model::PositionRequest {
    let sent = sent.unwrap_or_default();
    crate::model::PositionRequest {
        x: sent.x.or(Some(kept.x)),
        y: sent.y.or(Some(kept.y)),
        w: sent.w.or(Some(kept.w)),
        h: sent.h.or(Some(kept.h)),
    }
}
