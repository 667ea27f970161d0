//! Dashboard templates: dashboards without ids or owner, that new dashboards are made from.

use serde::{Deserialize, Serialize};

use super::dashboard::{DashboardExport, DashboardLayout, WidgetExport};
use super::filter::DashboardFilter;
use super::time::Timestamp;

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// Registered by the host in code (`Engine::with_template`); cannot be deleted over HTTP.
    Host,
    /// Saved by a user of the tenant from one of its dashboards.
    Tenant,
}

/// A dashboard template: everything a dashboard has but ids, owner and sharing.
///
/// Host templates are keyed by a snake_case key of the host's choosing; tenant templates by a
/// UUID. Widgets may come without positions (they are placed when the template is used) and
/// without configs (their type's default applies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardTemplate {
    /// The host's key, or the tenant template's UUID.
    pub id: String,
    /// Name; also the name of dashboards made from it unless the request gives one.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// A free-form category (`"sales"`, `"operations"`, …) for grouping.
    #[serde(default)]
    pub category: Option<String>,
    /// Host or tenant.
    pub source: TemplateSource,
    /// Who saved it (tenant templates).
    #[serde(default)]
    pub created_by: Option<String>,
    /// When it was saved (tenant templates).
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Grid settings.
    #[serde(default)]
    pub layout: DashboardLayout,
    /// Dashboard-level filters.
    #[serde(default)]
    pub filters: Vec<DashboardFilter>,
    /// Widgets, with or without positions and configs.
    #[serde(default)]
    pub widgets: Vec<WidgetExport>,
    /// Seconds between automatic refreshes; `None` for none.
    #[serde(default)]
    pub refresh_interval: Option<u32>,
}

impl DashboardTemplate {
    /// A host template keyed `key` (snake_case) named `name`, empty.
    pub fn host(key: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: key.into(),
            name: name.into(),
            description: None,
            category: None,
            source: TemplateSource::Host,
            created_by: None,
            created_at: None,
            layout: DashboardLayout::default(),
            filters: Vec::new(),
            widgets: Vec::new(),
            refresh_interval: None,
        }
    }

    /// The same template described as `description`.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The same template in `category`.
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// The same template with `widget` added (see [`WidgetCreate`](crate::WidgetCreate) for
    /// widgets that are placed automatically).
    pub fn with_widget(mut self, widget: crate::WidgetCreate) -> Self {
        self.widgets.push(WidgetExport {
            widget_type: widget.widget_type,
            title: widget.title,
            query: widget.query,
            position: widget.position,
            config: widget.config,
        });
        self
    }

    /// The same template with `filter` added.
    pub fn with_filter(mut self, filter: DashboardFilter) -> Self {
        self.filters.push(filter);
        self
    }

    /// The same template refreshing every `seconds`.
    pub fn with_refresh_interval(mut self, seconds: u32) -> Self {
        self.refresh_interval = Some(seconds);
        self
    }

    /// The content of a dashboard's export, as a tenant template's.
    pub(crate) fn content_of(export: DashboardExport) -> TemplateContent {
        TemplateContent {
            layout: export.layout,
            filters: export.filters,
            widgets: export.widgets,
            refresh_interval: export.refresh_interval,
        }
    }
}

/// What a tenant template holds besides its name and bookkeeping: what stores keep as one
/// JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateContent {
    /// Grid settings.
    #[serde(default)]
    pub layout: DashboardLayout,
    /// Dashboard-level filters.
    #[serde(default)]
    pub filters: Vec<DashboardFilter>,
    /// Widgets.
    #[serde(default)]
    pub widgets: Vec<WidgetExport>,
    /// Seconds between automatic refreshes.
    #[serde(default)]
    pub refresh_interval: Option<u32>,
}

/// Body of `POST /dashboards/{id}/template`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateCreate {
    /// The template's name, unique within the tenant's templates.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
}

/// Body of `POST /dashboards` with `from_template`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardFromTemplate {
    /// The template's id (a host key or a tenant template's UUID).
    pub from_template: String,
    /// The new dashboard's name; the template's name by default.
    #[serde(default)]
    pub name: Option<String>,
    /// The new dashboard's description; the template's by default.
    #[serde(default)]
    pub description: Option<String>,
}
