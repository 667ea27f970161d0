//! Dashboard templates: the host's (registered in code) and the tenants' (saved from their
//! dashboards), and new dashboards made from them.

use std::sync::Arc;

use super::{Engine, Result, ensure};
use crate::auth::{AuthContext, Scope};
use crate::catalogue::{PathSegment, WidgetProblems};
use crate::error::EngineError;
use crate::events::{Audience, EventKind, Reach};
use crate::ids::{DashboardId, TemplateId};
use crate::model::{
    Dashboard, DashboardCreate, DashboardExport, DashboardFromTemplate, DashboardTemplate,
    TemplateCreate, TemplateSource, WidgetCreate,
};
use crate::permissions;
use crate::store::NewTemplate;

/// Decides which host templates a caller may see and use (tenants, plans, roles). Tenant
/// templates are always visible within their tenant.
///
/// Any `Fn(&dyn AuthContext, &DashboardTemplate) -> bool` is one.
pub trait TemplateAccess: Send + Sync + 'static {
    /// Whether `auth` may use the host template `template`.
    fn may_use(&self, auth: &dyn AuthContext, template: &DashboardTemplate) -> bool;
}

impl<F> TemplateAccess for F
where
    F: Fn(&dyn AuthContext, &DashboardTemplate) -> bool + Send + Sync + 'static,
{
    fn may_use(&self, auth: &dyn AuthContext, template: &DashboardTemplate) -> bool {
        self(auth, template)
    }
}

/// The host's templates and who may use them.
#[derive(Clone, Default)]
pub(super) struct HostTemplates {
    templates: Vec<DashboardTemplate>,
    access: Option<Arc<dyn TemplateAccess>>,
    /// The template a user's first visit creates their default dashboard from.
    pub(super) starter: Option<String>,
}

impl std::fmt::Debug for HostTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTemplates")
            .field(
                "templates",
                &self.templates.iter().map(|t| &t.id).collect::<Vec<_>>(),
            )
            .field("access", &self.access.as_ref().map(|_| "<hook>"))
            .field("starter", &self.starter)
            .finish()
    }
}

impl HostTemplates {
    fn usable<'a>(
        &'a self,
        auth: &'a dyn AuthContext,
    ) -> impl Iterator<Item = &'a DashboardTemplate> + 'a {
        self.templates
            .iter()
            .filter(move |t| self.access.as_ref().is_none_or(|a| a.may_use(auth, t)))
    }
}

impl Engine {
    /// The engine with a template of the host's, visible to every tenant (or to the callers
    /// [`with_template_access`](Self::with_template_access) allows).
    ///
    /// # Panics
    /// When the template's id is not a snake_case key (it must not be mistaken for a tenant
    /// template's UUID) or is already registered: a mistake in the host's code.
    pub fn with_template(mut self, mut template: DashboardTemplate) -> Self {
        assert!(
            crate::model::is_key(&template.id),
            "Engine::with_template: '{}' is not a snake_case key",
            template.id
        );
        assert!(
            self.host_templates
                .templates
                .iter()
                .all(|t| t.id != template.id),
            "Engine::with_template: template '{}' is registered twice",
            template.id
        );
        template.source = TemplateSource::Host;
        self.host_templates.templates.push(template);
        self
    }

    /// The engine with `access` deciding which host templates each caller may see and use.
    pub fn with_template_access(mut self, access: impl TemplateAccess) -> Self {
        self.host_templates.access = Some(Arc::new(access));
        self
    }

    /// The engine creating a user's default dashboard from template `id` (a host key or a
    /// tenant template's UUID) on their first visit to `GET /dashboards/default`, when no
    /// [starter hook](Self::with_starter_dashboard) is set.
    pub fn with_starter_template(mut self, id: impl Into<String>) -> Self {
        self.host_templates.starter = Some(id.into());
        self
    }

    /// The templates the caller may use: the host's first, in the order they were registered,
    /// then the tenant's, by name.
    pub async fn list_templates(&self, auth: &dyn AuthContext) -> Result<Vec<DashboardTemplate>> {
        let mut list: Vec<DashboardTemplate> = self.host_templates.usable(auth).cloned().collect();
        list.extend(
            self.templates
                .list_templates(&Scope::of(auth))
                .await
                .map_err(EngineError::Store)?,
        );
        Ok(list)
    }

    /// One template the caller may use: a host key or a tenant template's UUID.
    pub async fn get_template(
        &self,
        auth: &dyn AuthContext,
        id: &str,
    ) -> Result<DashboardTemplate> {
        if let Ok(uuid) = id.parse::<TemplateId>() {
            return self
                .templates
                .get_template(&Scope::of(auth), uuid)
                .await
                .map_err(EngineError::Store)?
                .ok_or_else(|| template_not_found(id));
        }
        self.host_templates
            .usable(auth)
            .find(|t| t.id == id)
            .cloned()
            .ok_or_else(|| template_not_found(id))
    }

    /// Saves a dashboard the caller may view as a template of their tenant.
    pub async fn save_template(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        create: TemplateCreate,
    ) -> Result<DashboardTemplate> {
        self.limits.check_name("Template name", &create.name)?;
        self.limits
            .check_description(create.description.as_deref())?;
        let dashboard = self.get_dashboard(auth, dashboard_id).await?;
        let new = NewTemplate {
            id: TemplateId::new(),
            name: create.name,
            description: create.description,
            category: create.category,
            created_by: permissions::user(auth).map(str::to_owned),
            content: DashboardTemplate::content_of(DashboardExport::of(&dashboard)),
        };
        let name = new.name.clone();
        let template = self
            .templates
            .create_template(&Scope::of(auth), new)
            .await
            .map_err(|err| self.store_error(err, &name, || template_not_found(&name)))?;
        self.emit_template(auth, EventKind::TemplateCreated, template.id.parse().ok())
            .await;
        Ok(template)
    }

    /// Deletes a tenant template: its creator or an admin. Host templates cannot be deleted.
    pub async fn delete_template(&self, auth: &dyn AuthContext, id: &str) -> Result<()> {
        let template = self.get_template(auth, id).await?;
        let Ok(uuid) = id.parse::<TemplateId>() else {
            return Err(EngineError::PermissionDenied);
        };
        let creator = template.created_by.as_deref();
        ensure(auth.is_admin() || (creator.is_some() && creator == permissions::user(auth)))?;
        self.templates
            .delete_template(&Scope::of(auth), uuid)
            .await
            .map_err(|err| self.store_error(err, "", || template_not_found(id)))?;
        self.emit_template(auth, EventKind::TemplateDeleted, Some(uuid))
            .await;
        Ok(())
    }

    /// Publishes a template event for the tenant: templates are the tenant's.
    async fn emit_template(&self, auth: &dyn AuthContext, kind: EventKind, id: Option<TemplateId>) {
        let reach = Reach::Audience {
            audience: Audience::Tenant,
        };
        self.emit(auth, kind, reach, |event| event.template_id = id)
            .await;
    }

    /// Creates a dashboard owned by the caller from a template: fresh ids, widgets without
    /// positions placed, every widget checked against the catalogue as on any write (a widget
    /// that breaks it is named in the error).
    pub async fn create_dashboard_from_template(
        &self,
        auth: &dyn AuthContext,
        request: DashboardFromTemplate,
    ) -> Result<Dashboard> {
        let create = self.template_create(auth, &request.from_template).await?;
        let create = DashboardCreate {
            name: request.name.unwrap_or(create.name),
            description: request.description.or(create.description),
            ..create
        };
        let new = self.template_dashboard(auth, create)?;
        self.insert_dashboard(auth, new, crate::ChangeKind::Created)
            .await
    }

    /// The create body of template `id`.
    pub(super) async fn template_create(
        &self,
        auth: &dyn AuthContext,
        id: &str,
    ) -> Result<DashboardCreate> {
        let template = self.get_template(auth, id).await?;
        let mut create = DashboardCreate::named(template.name);
        create.description = template.description;
        create.layout = template.layout;
        create.filters = template.filters;
        create.widgets = template
            .widgets
            .into_iter()
            .map(WidgetCreate::from)
            .collect();
        create.refresh_interval = template.refresh_interval;
        Ok(create)
    }

    /// What the store writes for a dashboard made from a template; a widget that breaks the
    /// catalogue is named by its title.
    pub(super) fn template_dashboard(
        &self,
        auth: &dyn AuthContext,
        create: DashboardCreate,
    ) -> Result<crate::store::NewDashboard> {
        let titles: Vec<String> = create.widgets.iter().map(|w| w.title.clone()).collect();
        self.new_dashboard(auth, create, &[PathSegment::from("template")])
            .map_err(|err| match err {
                EngineError::InvalidWidgets(WidgetProblems(mut problems)) => {
                    for problem in &mut problems {
                        if let Some(PathSegment::Index(i)) = problem.loc.get(2)
                            && let Some(title) = titles.get(*i)
                        {
                            problem.message =
                                format!("Template widget '{title}': {}", problem.message);
                        }
                    }
                    EngineError::InvalidWidgets(WidgetProblems(problems))
                }
                err => err,
            })
    }
}

fn template_not_found(id: &str) -> EngineError {
    EngineError::TemplateNotFound(id.to_owned())
}
