//! Default dashboards (the caller's, the tenant's, a starter created on a first visit) and
//! dashboard summaries for large tenants.

use serde::Serialize;

use super::{Engine, Result};
use crate::auth::{AuthContext, Scope};
use crate::error::{EngineError, Unanswerable};
use crate::events::EventKind;
use crate::ids::DashboardId;
use crate::model::{Dashboard, DashboardCreate, DashboardSummary, Timestamp};
use crate::permissions::{self, Viewer};
use crate::store::{Conflict, DefaultFor, StoreError, SummaryPage};

/// One page of `GET /dashboards/summaries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummariesPage {
    /// The caller's default first (on the first page), then by last change, newest first.
    pub dashboards: Vec<DashboardSummary>,
    /// Pass it as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The largest page of summaries.
pub(super) const MAX_SUMMARIES_PAGE: usize = 200;

/// A cursor that continues after the default, from the start of the rest.
const AFTER_DEFAULT: &str = "start";

impl Engine {
    /// The caller's default dashboard: their own if they can still view it, else the tenant's
    /// if they can view it, else — when the host configured a
    /// [starter dashboard](Self::with_starter_dashboard) — their personal default created from
    /// it (once, however many first visits race), else a 404.
    pub async fn default_dashboard(&self, auth: &dyn AuthContext) -> Result<Dashboard> {
        let scope = Scope::of(auth);
        let user = permissions::user(auth);
        let defaults = self
            .dashboards
            .defaults(&scope, user)
            .await
            .map_err(EngineError::Store)?;
        for id in [defaults.user, defaults.tenant].into_iter().flatten() {
            if let Some(dashboard) = self.viewable(auth, id).await? {
                return Ok(dashboard);
            }
        }
        let starter = match (&self.widgets.starter, &self.host_templates.starter) {
            _ if user.is_none() => None,
            (Some(hook), _) => hook.starter(auth),
            (None, Some(template)) => match self.template_create(auth, template).await {
                Ok(create) => Some(create),
                Err(EngineError::TemplateNotFound(_)) => None,
                Err(err) => return Err(err),
            },
            (None, None) => None,
        };
        if let (Some(create), Some(user)) = (starter, user) {
            let created = match self.create_starter(auth, user, create).await {
                Ok(created) => created,
                Err(err) if err.is_server_error() => return Err(err),
                Err(err) => {
                    // The host's starter does not fit this caller (a limit, a bad widget): a
                    // mistake of the host's to log, not the caller's to fix.
                    tracing::warn!(
                        tenant_id = auth.tenant_id(),
                        user_id = user,
                        "the starter dashboard was not created: {err}"
                    );
                    None
                }
            };
            // Created now, or before (perhaps just now, by a concurrent first visit): the
            // user's default, if it still applies.
            let id = match created {
                Some(id) => Some(id),
                None => {
                    self.dashboards
                        .defaults(&scope, Some(user))
                        .await
                        .map_err(EngineError::Store)?
                        .user
                }
            };
            if let Some(id) = id
                && let Some(dashboard) = self.viewable(auth, id).await?
            {
                return Ok(dashboard);
            }
        }
        Err(no_default())
    }

    /// Creates the caller's starter dashboard, once per user: `None` when one was created
    /// before. Widgets of types the caller may not use are left out; a taken name gets a
    /// number (`Welcome (2)`).
    async fn create_starter(
        &self,
        auth: &dyn AuthContext,
        user: &str,
        mut create: DashboardCreate,
    ) -> Result<Option<DashboardId>> {
        let catalogue = &self.widgets.catalogue;
        create
            .widgets
            .retain(|w| catalogue.may_use(auth, &w.widget_type));
        let base = create.name.clone();
        let mut new = self.new_dashboard(auth, create, &[])?;
        const ATTEMPTS: u32 = 5;
        for attempt in 1..=ATTEMPTS {
            match self
                .dashboards
                .create_default(
                    &self.change_scope(auth, crate::ChangeKind::Created, None),
                    user,
                    new.clone(),
                    self.limits.dashboards_per_owner,
                )
                .await
            {
                Ok(created) => {
                    if let Some(id) = created {
                        self.emit_dashboard(auth, EventKind::DashboardCreated, id, None)
                            .await;
                    }
                    return Ok(created);
                }
                Err(StoreError::Conflict(Conflict::DashboardName)) if attempt < ATTEMPTS => {
                    new.name = format!("{base} ({})", attempt + 1);
                }
                Err(StoreError::LimitReached) => return Err(self.limits.dashboard_limit_error()),
                Err(err) => return Err(self.store_error(err, &new.name, no_default)),
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn viewable(&self, auth: &dyn AuthContext, id: DashboardId) -> Result<Option<Dashboard>> {
        match self.get_dashboard(auth, id).await {
            Ok(dashboard) => Ok(Some(dashboard)),
            Err(EngineError::DashboardNotFound(_) | EngineError::PermissionDenied) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Makes a dashboard the caller may view their default (`tenant` false), or, for an admin,
    /// the tenant's default (`tenant` true). It may be someone else's shared dashboard.
    pub async fn set_default_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        tenant: bool,
    ) -> Result<()> {
        self.get_dashboard(auth, id).await?;
        let whose = whose_default(auth, tenant)?;
        self.dashboards
            .set_default(&Scope::of(auth), whose, id)
            .await
            .map_err(|err| self.store_error(err, "", || super::dashboard_not_found(id)))
    }

    /// Removes the caller's default (`tenant` false) or, for an admin, the tenant's.
    pub async fn clear_default_dashboard(
        &self,
        auth: &dyn AuthContext,
        tenant: bool,
    ) -> Result<()> {
        let whose = whose_default(auth, tenant)?;
        self.dashboards
            .clear_default(&Scope::of(auth), whose)
            .await
            .map_err(EngineError::Store)
    }

    /// One page of summaries of the dashboards the caller may view: their default first, then
    /// by last change, newest first; `cursor` is the previous page's `next_cursor`. `limit`
    /// defaults to 50, at most 200.
    pub async fn dashboard_summaries(
        &self,
        auth: &dyn AuthContext,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<SummariesPage> {
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_SUMMARIES_PAGE).contains(&limit) {
            return Err(EngineError::BadRequest(Unanswerable::Limit(format!(
                "limit must be between 1 and {MAX_SUMMARIES_PAGE}"
            ))));
        }
        let (with_default, after, shown_default) = match cursor {
            None | Some("") => (true, None, None),
            Some(cursor) => {
                let cursor = Cursor::parse(cursor)?;
                (false, cursor.after, cursor.shown_default)
            }
        };
        let user = permissions::user(auth);
        let page = SummaryPage {
            user_id: user.map(str::to_owned),
            with_default,
            after,
            shown_default,
            // One more than shown says whether there is a next page.
            limit: limit + 1,
        };
        let viewer = Viewer::of(auth);
        let mut dashboards = self
            .dashboards
            .list_dashboard_summaries(&Scope::of(auth), &viewer, &page)
            .await
            .map_err(EngineError::Store)?;
        let more = dashboards.len() > limit;
        dashboards.truncate(limit);
        for summary in &mut dashboards {
            summary.is_owner = user.is_some() && summary.owner_id.as_deref() == user;
        }
        let next_cursor = more.then(|| {
            Cursor {
                after: dashboards
                    .iter()
                    .rev()
                    .find(|d| !d.is_default)
                    .map(|last| (last.updated_at, last.id))
                    .or(after),
                // The default the first page showed stays out of the later ones.
                shown_default: if with_default {
                    dashboards.iter().find(|d| d.is_default).map(|d| d.id)
                } else {
                    shown_default
                },
            }
            .to_string()
        });
        Ok(SummariesPage {
            dashboards,
            next_cursor,
        })
    }
}

fn whose_default(auth: &dyn AuthContext, tenant: bool) -> Result<DefaultFor<'_>> {
    if tenant {
        super::ensure(auth.is_admin())?;
        Ok(DefaultFor::Tenant)
    } else {
        permissions::user(auth)
            .map(DefaultFor::User)
            .ok_or(EngineError::UserRequired)
    }
}

fn no_default() -> EngineError {
    EngineError::DashboardNotFound("default".to_owned())
}

/// Where a page of summaries continues: after `(updated_at, id)` (from the start when `None`),
/// leaving out the default the first page showed. Written `<micros>_<id>` or `start`, then
/// `~<default id>` when there was a default.
struct Cursor {
    after: Option<(Timestamp, DashboardId)>,
    shown_default: Option<DashboardId>,
}

impl Cursor {
    fn parse(cursor: &str) -> Result<Self> {
        let invalid = || {
            EngineError::BadRequest(Unanswerable::Limit(
                "cursor is not one this server returned: pass next_cursor as it came".to_owned(),
            ))
        };
        let (position, shown_default) = match cursor.split_once('~') {
            Some((position, default)) => (position, Some(default.parse().map_err(|_| invalid())?)),
            None => (cursor, None),
        };
        let after = if position == AFTER_DEFAULT {
            None
        } else {
            let (micros, id) = position.split_once('_').ok_or_else(invalid)?;
            let micros: i64 = micros.parse().map_err(|_| invalid())?;
            let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
            Some((
                Timestamp::from_datetime(at),
                id.parse().map_err(|_| invalid())?,
            ))
        };
        Ok(Self {
            after,
            shown_default,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.after {
            Some((at, id)) => write!(f, "{}_{id}", at.as_datetime().timestamp_micros())?,
            None => f.write_str(AFTER_DEFAULT)?,
        }
        if let Some(default) = self.shown_default {
            write!(f, "~{default}")?;
        }
        Ok(())
    }
}
