//! [`DashboardStore`] for [`SqliteStore`].

use std::collections::HashSet;

use async_trait::async_trait;
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    Change, ChangeKind, Conflict, Dashboard, DashboardChanges, DashboardId, DashboardJson,
    DashboardStore, DashboardSummary, DashboardVersion, DefaultFor, Defaults, NewDashboard, Scope,
    StoreError, StoreResult, SummaryPage, Timestamp, VersionEntry, Widget, WidgetContent, WidgetId,
    WidgetPosition,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::SqliteStore;
use crate::error::{db, invalid};
use crate::rows::{
    dashboard_columns, fetch_dashboards, parse_time, time_text, to_json, viewer_binds,
    widget_columns,
};

/// [`Viewer::can_view_dashboard`] over `dashboards d`, with `?1` the tenant, `?2` the viewer's
/// kind (`admin`, `user`, `anonymous`) and `?3` the user id (null unless a user): admins see
/// everything; others public dashboards, and users also their own and those listing them.
macro_rules! visible {
    () => {
        "d.tenant_id = ?1 and (?2 = 'admin' or d.is_public = 1 or (?3 is not null and \
         (d.owner_id = ?3 or exists (select 1 from json_each(d.allowed_viewers) v \
         where v.value = ?3))))"
    };
}

const LIST_DASHBOARDS: &str = concat!(
    "select ",
    dashboard_columns!(),
    " from dashboards d where ",
    visible!(),
    " order by d.updated_at desc, d.id desc"
);

const LIST_WIDGETS: &str = concat!(
    "select ",
    widget_columns!(),
    " from widgets w join dashboards d on d.tenant_id = w.tenant_id and d.id = w.dashboard_id \
     where ",
    visible!()
);

const GET_DASHBOARD: &str = concat!(
    "select ",
    dashboard_columns!(),
    " from dashboards d where d.tenant_id = ?1 and d.id = ?2"
);

/// Who may see dashboard `?2` of tenant `?1`: its owner, public flag and viewers (JSON).
const SELECT_DASHBOARD_ACCESS: &str = "select owner_id, is_public, allowed_viewers, version \
     from dashboards where tenant_id = ?1 and id = ?2";

/// One dashboard as the API's JSON document (see [`DashboardStore::get_dashboard_json`]), with
/// the fields the view rule reads, put together by SQLite from the stored JSON texts as they
/// are (every JSON column holds what serde wrote, so nothing is parsed again; text values go
/// through `json_quote`). Timestamps are stored as `…SS.ffffffZ` and written as [`Timestamp`]
/// serializes them (`…SSZ` when the fraction is zero); widgets in the order of
/// [`Dashboard::sort_widgets`].
pub(crate) const GET_DASHBOARD_DOCUMENT: &str = "select d.owner_id, d.is_public, \
     d.allowed_viewers, d.version, '{\"id\":' || json_quote(d.id) || ',\"name\":' || json_quote(d.name) \
     || ',\"description\":' || json_quote(d.description) || ',\"layout\":' || d.layout \
     || ',\"widgets\":' || coalesce((select '[' || group_concat('{\"id\":' || json_quote(w.id) \
     || ',\"type\":' || w.widget_type || ',\"title\":' || json_quote(w.title) \
     || ',\"query\":' || coalesce(w.query, 'null') || ',\"position\":' || w.position \
     || ',\"config\":' || w.config || ',\"created_at\":' \
     || json_quote(replace(w.created_at, '.000000Z', 'Z')) || ',\"updated_at\":' \
     || json_quote(replace(w.updated_at, '.000000Z', 'Z')) || '}', ',' \
     order by json_extract(w.position, '$.y'), json_extract(w.position, '$.x'), w.created_at, \
     w.id) || ']' from widgets w where w.tenant_id = d.tenant_id and w.dashboard_id = d.id), \
     '[]') || ',\"filters\":' || d.filters || ',\"owner_id\":' || json_quote(d.owner_id) \
     || ',\"created_at\":' || json_quote(replace(d.created_at, '.000000Z', 'Z')) \
     || ',\"updated_at\":' || json_quote(replace(d.updated_at, '.000000Z', 'Z')) \
     || ',\"is_public\":' || case when d.is_public then 'true' else 'false' end \
     || ',\"allowed_viewers\":' || d.allowed_viewers \
     || ',\"refresh_interval\":' || coalesce(d.refresh_interval, 'null') \
     || ',\"version\":' || d.version || '}' as document \
     from dashboards d where d.tenant_id = ?1 and d.id = ?2";

const GET_WIDGETS: &str = concat!(
    "select ",
    widget_columns!(),
    " from widgets w where w.tenant_id = ?1 and w.dashboard_id = ?2"
);

/// Inserts a dashboard, created and updated at `?10`.
const INSERT_DASHBOARD: &str = "insert into dashboards (tenant_id, id, name, description, layout, \
     filters, owner_id, is_public, allowed_viewers, created_at, updated_at, refresh_interval) \
     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)";

const COUNT_OWNED: &str = "select count(*) from dashboards where tenant_id = ?1 and owner_id is ?2";

/// Writes every field of a dashboard but its widgets.
const UPDATE_DASHBOARD: &str = "update dashboards set name = ?3, description = ?4, layout = ?5, \
     filters = ?6, is_public = ?7, allowed_viewers = ?8, updated_at = ?9, refresh_interval = ?10 \
     where tenant_id = ?1 and id = ?2";

/// Marks the dashboard changed at `?3`, one version up, if it is at version `?4` (when given).
const BUMP_VERSION: &str = "update dashboards set version = version + 1, updated_at = ?3 \
     where tenant_id = ?1 and id = ?2 and (?4 is null or version = ?4) returning version";

/// The version of dashboard `?2`.
const CURRENT_VERSION: &str = "select version from dashboards where tenant_id = ?1 and id = ?2";

/// Records version `?3` of dashboard `?2`.
const INSERT_VERSION: &str = "insert into dashboard_versions \
     (tenant_id, dashboard_id, version, author, kind, created_at, document) \
     values (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Deletes the versions of dashboard `?2` below `?3` that the retention no longer keeps:
/// `?4` or more versions older, or created before `?5` (when given).
const PRUNE_VERSIONS: &str = "delete from dashboard_versions \
     where tenant_id = ?1 and dashboard_id = ?2 and version < ?3 \
       and (version <= ?3 - ?4 or (?5 is not null and created_at < ?5))";

/// Versions of dashboard `?2`, newest first, below `?3` (when given), at most `?4`.
const LIST_VERSIONS: &str = "select version, author, kind, created_at from dashboard_versions \
     where tenant_id = ?1 and dashboard_id = ?2 and (?3 is null or version < ?3) \
     order by version desc limit ?4";

/// Version `?3` of dashboard `?2`, with its document.
const SELECT_VERSION: &str = "select version, author, kind, created_at, document \
     from dashboard_versions where tenant_id = ?1 and dashboard_id = ?2 and version = ?3";

const DASHBOARD_EXISTS: &str =
    "select exists (select 1 from dashboards where tenant_id = ?1 and id = ?2)";

const DELETE_DASHBOARD: &str = "delete from dashboards where tenant_id = ?1 and id = ?2";

/// Closes the gaps the pins of a deleted dashboard left: each pin's position becomes its rank
/// in its list. The ranks are computed before any row changes.
const RENUMBER_PINS: &str = "update pins set position = ranked.rank \
     from (select id, row_number() over (partition by user_id, context order by position) - 1 \
     as rank from pins where tenant_id = ?1) as ranked \
     where pins.tenant_id = ?1 and pins.id = ranked.id and pins.position <> ranked.rank";

const INSERT_WIDGET: &str = "insert into widgets (tenant_id, id, dashboard_id, widget_type, title, \
     query, position, config, created_at, updated_at) \
     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";

const UPDATE_WIDGET: &str = "update widgets set widget_type = ?4, title = ?5, query = ?6, \
     position = ?7, config = ?8, updated_at = ?9 \
     where tenant_id = ?1 and dashboard_id = ?2 and id = ?3 returning created_at";

const WIDGET_EXISTS: &str = "select exists (select 1 from widgets where id = ?1)";

const COUNT_WIDGETS: &str =
    "select count(*) from widgets where tenant_id = ?1 and dashboard_id = ?2";

const DELETE_WIDGET: &str =
    "delete from widgets where tenant_id = ?1 and dashboard_id = ?2 and id = ?3";

const MOVE_WIDGET: &str = "update widgets set position = ?4, updated_at = ?5 \
     where tenant_id = ?1 and dashboard_id = ?2 and id = ?3";

/// Tenant `?1`'s default and, when `?2` is not null, user `?2`'s: `user_id` is null on the
/// tenant's.
const SELECT_DEFAULTS: &str = "select user_id, dashboard_id from dashboard_defaults \
     where tenant_id = ?1 and (user_id is null or user_id = ?2)";

/// Records that user `?2` of tenant `?1` got a starter dashboard, at `?3`; inserts nothing (no
/// row affected) when one was already recorded, even for a dashboard deleted since.
const RECORD_STARTER: &str = "insert into starter_dashboards (tenant_id, user_id, created_at) \
     values (?1, ?2, ?3) on conflict (tenant_id, user_id) do nothing";

/// Makes dashboard `?3` user `?2`'s default, replacing an earlier one; inserts nothing when the
/// tenant has no dashboard `?3`.
const SET_USER_DEFAULT: &str = "insert into dashboard_defaults \
     (tenant_id, user_id, dashboard_id) \
     select ?1, ?2, d.id from dashboards d where d.tenant_id = ?1 and d.id = ?3 \
     on conflict (tenant_id, user_id) where user_id is not null \
     do update set dashboard_id = excluded.dashboard_id";

/// Makes dashboard `?2` the tenant's default, replacing an earlier one; inserts nothing when
/// the tenant has no dashboard `?2`.
const SET_TENANT_DEFAULT: &str = "insert into dashboard_defaults \
     (tenant_id, user_id, dashboard_id) \
     select ?1, null, d.id from dashboards d where d.tenant_id = ?1 and d.id = ?2 \
     on conflict (tenant_id) where user_id is null \
     do update set dashboard_id = excluded.dashboard_id";

/// Removes user `?2`'s default.
const CLEAR_USER_DEFAULT: &str =
    "delete from dashboard_defaults where tenant_id = ?1 and user_id = ?2";

/// Removes the tenant's default.
const CLEAR_TENANT_DEFAULT: &str =
    "delete from dashboard_defaults where tenant_id = ?1 and user_id is null";

/// The columns of a [`DashboardSummary`] for a dashboard of alias `d`, but `is_default`; the
/// widget count comes from the widgets' index on `(tenant_id, dashboard_id)`.
macro_rules! summary_columns {
    () => {
        "d.id, d.name, d.description, d.owner_id, d.is_public, d.updated_at, \
         (select count(*) from widgets w \
          where w.tenant_id = d.tenant_id and w.dashboard_id = d.id) as widget_count"
    };
}

/// One page of [`DashboardStore::list_dashboard_summaries`] in one statement. `?1` the tenant,
/// `?2`/`?3` the viewer (as for `visible!`), `?4` the user whose own default counts (null for
/// none), `?5` whether the default leads the page, `?6`/`?7` the `(updated_at, id)` the page
/// continues after (null from the start), `?8` the most rows, `?9` on later pages the default
/// the first page showed.
///
/// `effective` is the viewer's default: the user's own if the viewer may view it, else the
/// tenant's if the viewer may view it. It leads the page when `?5`, and never comes among the
/// others (on later pages `?9` is left out instead), which follow newest first from the index on `(tenant_id, updated_at desc, id desc)`.
/// Timestamps and ids are text that sorts as they do (`'~'` sorts after any of them).
pub(crate) const LIST_DASHBOARD_SUMMARIES: &str = concat!(
    "with effective as ( \
         select d.id from ( \
             select dashboard_id, 0 as rank from dashboard_defaults \
             where tenant_id = ?1 and user_id = ?4 \
             union all \
             select dashboard_id, 1 as rank from dashboard_defaults \
             where tenant_id = ?1 and user_id is null \
         ) f join dashboards d on d.id = f.dashboard_id \
         where ",
    visible!(),
    " order by f.rank limit 1 \
     ) \
     select * from ( \
         select ",
    summary_columns!(),
    ", 1 as is_default from dashboards d \
         where ?5 and d.tenant_id = ?1 and d.id = (select id from effective) \
         union all \
         select * from ( \
             select ",
    summary_columns!(),
    ", 0 as is_default from dashboards d \
             where ",
    visible!(),
    " and d.id is not (case when ?5 then (select id from effective) else ?9 end) \
               and (d.updated_at, d.id) < (coalesce(?6, '~'), coalesce(?7, '~')) \
             order by d.updated_at desc, d.id desc \
             limit ?8) \
     ) \
     order by is_default desc, updated_at desc, id desc \
     limit ?8"
);

/// One dashboard of the tenant with its widgets, read on `conn`.
pub(crate) async fn load_dashboard(
    conn: &mut SqliteConnection,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<Option<Dashboard>> {
    let id = id.to_string();
    let binds = [Some(scope.tenant_id()), Some(id.as_str())];
    Ok(fetch_dashboards(conn, GET_DASHBOARD, GET_WIDGETS, &binds)
        .await?
        .pop())
}

async fn dashboard_exists(
    conn: &mut SqliteConnection,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<bool> {
    sqlx::query_scalar(DASHBOARD_EXISTS)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .fetch_one(conn)
        .await
        .map_err(db)
}

/// Raises the dashboard's version (marking it changed at `now`), if it is at the version the
/// scope's change expects: `Stale` if it is not, `NotFound` if the tenant has no such dashboard.
async fn bump_version(
    conn: &mut SqliteConnection,
    scope: &Scope,
    id: DashboardId,
    now: Timestamp,
) -> StoreResult<()> {
    let expected = scope.expected_version();
    let bumped: Option<i64> = sqlx::query_scalar(BUMP_VERSION)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .bind(time_text(now))
        .bind(expected)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if bumped.is_some() {
        return Ok(());
    }
    let current: Option<i64> = sqlx::query_scalar(CURRENT_VERSION)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Err(StoreError::not_at_version(current))
}

/// Records the dashboard as the transaction left it as its current version, with the scope's
/// change (or `kind`, by nobody), and deletes what the retention no longer keeps; returns the
/// dashboard.
async fn record_version(
    conn: &mut SqliteConnection,
    scope: &Scope,
    id: DashboardId,
    kind: ChangeKind,
) -> StoreResult<Dashboard> {
    let dashboard = load_dashboard(&mut *conn, scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let change = scope
        .change()
        .cloned()
        .unwrap_or_else(|| Change::default_for(kind));
    let version = i64::try_from(dashboard.version).unwrap_or(i64::MAX);
    sqlx::query(INSERT_VERSION)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .bind(version)
        .bind(change.author.as_deref())
        .bind(change.kind.as_str())
        .bind(time_text(dashboard.updated_at))
        .bind(to_json(&dashboard)?)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let oldest = change.retention.max_age.and_then(|age| {
        chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| Timestamp::now().as_datetime().checked_sub_signed(age))
            .map(|at| time_text(Timestamp::from_datetime(at)))
    });
    sqlx::query(PRUNE_VERSIONS)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .bind(version)
        .bind(i64::from(change.retention.keep.max(1)))
        .bind(oldest)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(dashboard)
}

/// A version entry from a row of [`LIST_VERSIONS`] or [`SELECT_VERSION`].
fn version_entry(row: &SqliteRow) -> StoreResult<VersionEntry> {
    let kind: String = row.try_get("kind").map_err(db)?;
    Ok(VersionEntry {
        version: u64::try_from(row.try_get::<i64, _>("version").map_err(db)?)
            .map_err(|_| invalid("version"))?,
        author: row.try_get("author").map_err(db)?,
        kind: kind.parse().map_err(invalid)?,
        created_at: parse_time(&row.try_get::<String, _>("created_at").map_err(db)?)?,
    })
}

async fn insert_widget(
    conn: &mut SqliteConnection,
    scope: &Scope,
    dashboard_id: DashboardId,
    widget_id: WidgetId,
    content: &WidgetContent,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(INSERT_WIDGET)
        .bind(scope.tenant_id())
        .bind(widget_id.to_string())
        .bind(dashboard_id.to_string())
        .bind(to_json(&content.widget_type)?)
        .bind(&content.title)
        .bind(content.query.as_ref().map(to_json).transpose()?)
        .bind(to_json(&content.position)?)
        .bind(to_json(&content.config)?)
        .bind(time_text(now))
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Replaces a widget's content; `None` if the dashboard has no such widget, else when it was
/// created.
async fn update_widget_content(
    conn: &mut SqliteConnection,
    scope: &Scope,
    dashboard_id: DashboardId,
    widget_id: WidgetId,
    content: &WidgetContent,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    sqlx::query_scalar(UPDATE_WIDGET)
        .bind(scope.tenant_id())
        .bind(dashboard_id.to_string())
        .bind(widget_id.to_string())
        .bind(to_json(&content.widget_type)?)
        .bind(&content.title)
        .bind(content.query.as_ref().map(to_json).transpose()?)
        .bind(to_json(&content.position)?)
        .bind(to_json(&content.config)?)
        .bind(time_text(now))
        .fetch_optional(conn)
        .await
        .map_err(db)
}

/// Inserts `new` with its widgets, created at `now`, in a write transaction: a
/// [`StoreError::LimitReached`] if its owner (or the tenant's ownerless dashboards) already
/// has `max_per_owner`.
async fn insert_dashboard(
    conn: &mut SqliteConnection,
    scope: &Scope,
    new: &NewDashboard,
    max_per_owner: Option<u32>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(INSERT_DASHBOARD)
        .bind(scope.tenant_id())
        .bind(new.id.to_string())
        .bind(&new.name)
        .bind(&new.description)
        .bind(to_json(&new.layout)?)
        .bind(to_json(&new.filters)?)
        .bind(&new.owner_id)
        .bind(new.is_public)
        .bind(to_json(&new.allowed_viewers)?)
        .bind(time_text(now))
        .bind(new.refresh_interval)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    // Counted after the insert (which includes it), under the write lock: a taken name
    // is a conflict before it is a limit, as in `MemoryStore`.
    if let Some(max) = max_per_owner {
        let owned: i64 = sqlx::query_scalar(COUNT_OWNED)
            .bind(scope.tenant_id())
            .bind(&new.owner_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        if owned > i64::from(max) {
            return Err(StoreError::LimitReached);
        }
    }
    distinct_widget_ids(&new.widgets)?;
    for (widget_id, content) in &new.widgets {
        insert_widget(&mut *conn, scope, new.id, *widget_id, content, now).await?;
    }
    Ok(())
}

fn parse_dashboard_id(text: &str) -> StoreResult<DashboardId> {
    text.parse()
        .map_err(|_| invalid(format!("dashboard id {text:?}")))
}

/// A row of [`LIST_DASHBOARD_SUMMARIES`].
fn summary(row: &SqliteRow) -> StoreResult<DashboardSummary> {
    let widget_count: i64 = row.try_get("widget_count").map_err(db)?;
    Ok(DashboardSummary {
        id: parse_dashboard_id(&row.try_get::<String, _>("id").map_err(db)?)?,
        name: row.try_get("name").map_err(db)?,
        description: row.try_get("description").map_err(db)?,
        owner_id: row.try_get("owner_id").map_err(db)?,
        is_public: row.try_get("is_public").map_err(db)?,
        is_owner: false,
        is_default: row.try_get("is_default").map_err(db)?,
        widget_count: u32::try_from(widget_count).unwrap_or(u32::MAX),
        updated_at: parse_time(&row.try_get::<String, _>("updated_at").map_err(db)?)?,
    })
}

/// Fails with [`Conflict::WidgetId`] if an id appears twice in `widgets`.
fn distinct_widget_ids(widgets: &[(WidgetId, WidgetContent)]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    if widgets.iter().all(|(id, _)| seen.insert(*id)) {
        Ok(())
    } else {
        Err(StoreError::Conflict(Conflict::WidgetId))
    }
}

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn list_dashboards(&self, scope: &Scope, viewer: &Viewer) -> StoreResult<Vec<Dashboard>> {
        let (kind, user) = viewer_binds(viewer);
        let mut tx = self.begin_read().await.map_err(db)?;
        let binds = [Some(scope.tenant_id()), Some(kind), user];
        let list = fetch_dashboards(&mut tx, LIST_DASHBOARDS, LIST_WIDGETS, &binds).await?;
        tx.rollback().await.map_err(db)?;
        Ok(list)
    }

    async fn get_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<Dashboard>> {
        let mut tx = self.begin_read().await.map_err(db)?;
        let dashboard = load_dashboard(&mut tx, scope, id).await?;
        tx.rollback().await.map_err(db)?;
        Ok(dashboard)
    }

    async fn dashboard_access(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<prismiq_core::permissions::DashboardAccess>> {
        let row = sqlx::query(SELECT_DASHBOARD_ACCESS)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        row.map(|row| {
            let viewers: String = row.try_get("allowed_viewers").map_err(db)?;
            Ok(prismiq_core::permissions::DashboardAccess {
                owner_id: row.try_get("owner_id").map_err(db)?,
                is_public: row.try_get("is_public").map_err(db)?,
                allowed_viewers: serde_json::from_str(&viewers)
                    .map_err(|e| StoreError::Backend(Box::new(e)))?,
                version: u64::try_from(row.try_get::<i64, _>("version").map_err(db)?)
                    .map_err(|_| invalid("version"))?,
            })
        })
        .transpose()
    }

    async fn get_dashboard_json(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<DashboardJson>> {
        // One statement reads one snapshot: no transaction needed.
        let row = sqlx::query(GET_DASHBOARD_DOCUMENT)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        row.map(|row| {
            let viewers: String = row.try_get("allowed_viewers").map_err(db)?;
            Ok(DashboardJson::from_parts(
                row.try_get("owner_id").map_err(db)?,
                row.try_get("is_public").map_err(db)?,
                serde_json::from_str(&viewers).map_err(|e| StoreError::Backend(Box::new(e)))?,
                u64::try_from(row.try_get::<i64, _>("version").map_err(db)?)
                    .map_err(|_| invalid("version"))?,
                row.try_get("document").map_err(db)?,
            ))
        })
        .transpose()
    }

    async fn create_dashboard(
        &self,
        scope: &Scope,
        new: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        insert_dashboard(&mut tx, scope, &new, max_per_owner, now).await?;
        let dashboard = record_version(&mut tx, scope, new.id, ChangeKind::Created).await?;
        tx.commit().await.map_err(db)?;
        Ok(dashboard)
    }

    async fn update_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
        changes: DashboardChanges,
    ) -> StoreResult<Dashboard> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        bump_version(&mut tx, scope, id, now).await?;
        let mut dashboard = load_dashboard(&mut tx, scope, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let widgets = changes.apply_to(&mut dashboard);
        let kind = if widgets.is_some() {
            ChangeKind::Saved
        } else {
            ChangeKind::Updated
        };
        sqlx::query(UPDATE_DASHBOARD)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .bind(&dashboard.name)
            .bind(&dashboard.description)
            .bind(to_json(&dashboard.layout)?)
            .bind(to_json(&dashboard.filters)?)
            .bind(dashboard.is_public)
            .bind(to_json(&dashboard.allowed_viewers)?)
            .bind(time_text(now))
            .bind(dashboard.refresh_interval)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(widgets) = widgets {
            distinct_widget_ids(&widgets)?;
            let listed: HashSet<WidgetId> = widgets.iter().map(|(id, _)| *id).collect();
            for old in &dashboard.widgets {
                if !listed.contains(&old.id) {
                    sqlx::query(DELETE_WIDGET)
                        .bind(scope.tenant_id())
                        .bind(id.to_string())
                        .bind(old.id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
            }
            // Ids already on the dashboard keep their row; others are inserted, and one that
            // another dashboard uses breaks the widgets' primary key: a conflict.
            for (widget_id, content) in &widgets {
                let updated =
                    update_widget_content(&mut tx, scope, id, *widget_id, content, now).await?;
                if updated.is_none() {
                    insert_widget(&mut tx, scope, id, *widget_id, content, now).await?;
                }
            }
        }
        let dashboard = record_version(&mut tx, scope, id, kind).await?;
        tx.commit().await.map_err(db)?;
        Ok(dashboard)
    }

    async fn delete_dashboard(&self, scope: &Scope, id: DashboardId) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        // Widgets and pins go with it (`on delete cascade`).
        let deleted = sqlx::query(DELETE_DASHBOARD)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(RENUMBER_PINS)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn add_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
        max_widgets: Option<u32>,
    ) -> StoreResult<Widget> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        let taken: bool = sqlx::query_scalar(WIDGET_EXISTS)
            .bind(widget_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if taken {
            return Err(StoreError::Conflict(Conflict::WidgetId));
        }
        bump_version(&mut tx, scope, dashboard_id, now).await?;
        if let Some(max) = max_widgets {
            let count: i64 = sqlx::query_scalar(COUNT_WIDGETS)
                .bind(scope.tenant_id())
                .bind(dashboard_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            if count >= i64::from(max) {
                return Err(StoreError::LimitReached);
            }
        }
        insert_widget(&mut tx, scope, dashboard_id, widget_id, &content, now).await?;
        record_version(&mut tx, scope, dashboard_id, ChangeKind::WidgetCreated).await?;
        tx.commit().await.map_err(db)?;
        Ok(content.into_widget(widget_id, now, now))
    }

    async fn update_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
    ) -> StoreResult<Widget> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id, now).await?;
        let created_at =
            update_widget_content(&mut tx, scope, dashboard_id, widget_id, &content, now)
                .await?
                .ok_or(StoreError::NotFound)?;
        record_version(&mut tx, scope, dashboard_id, ChangeKind::WidgetUpdated).await?;
        tx.commit().await.map_err(db)?;
        let created_at = parse_time(&created_at)?;
        Ok(content.into_widget(widget_id, created_at, now))
    }

    async fn delete_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id, Timestamp::now()).await?;
        let deleted = sqlx::query(DELETE_WIDGET)
            .bind(scope.tenant_id())
            .bind(dashboard_id.to_string())
            .bind(widget_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        record_version(&mut tx, scope, dashboard_id, ChangeKind::WidgetDeleted).await?;
        tx.commit().await.map_err(db)
    }

    async fn update_layout(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        positions: &[(WidgetId, WidgetPosition)],
    ) -> StoreResult<Dashboard> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id, now).await?;
        for (widget_id, position) in positions {
            sqlx::query(MOVE_WIDGET)
                .bind(scope.tenant_id())
                .bind(dashboard_id.to_string())
                .bind(widget_id.to_string())
                .bind(to_json(position)?)
                .bind(time_text(now))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let dashboard =
            record_version(&mut tx, scope, dashboard_id, ChangeKind::LayoutUpdated).await?;
        tx.commit().await.map_err(db)?;
        Ok(dashboard)
    }

    async fn list_versions(
        &self,
        scope: &Scope,
        id: DashboardId,
        limit: u32,
        before: Option<u64>,
    ) -> StoreResult<Option<Vec<VersionEntry>>> {
        let mut tx = self.begin_read().await.map_err(db)?;
        if !dashboard_exists(&mut tx, scope, id).await? {
            tx.rollback().await.map_err(db)?;
            return Ok(None);
        }
        let rows = sqlx::query(LIST_VERSIONS)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .bind(before.map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        tx.rollback().await.map_err(db)?;
        rows.iter()
            .map(version_entry)
            .collect::<StoreResult<Vec<_>>>()
            .map(Some)
    }

    async fn get_version(
        &self,
        scope: &Scope,
        id: DashboardId,
        version: u64,
    ) -> StoreResult<Option<DashboardVersion>> {
        let row = sqlx::query(SELECT_VERSION)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .bind(i64::try_from(version).unwrap_or(i64::MAX))
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        row.map(|row| {
            let document: String = row.try_get("document").map_err(db)?;
            Ok(DashboardVersion {
                entry: version_entry(&row)?,
                document: serde_json::from_str(&document)
                    .map_err(|e| StoreError::Backend(Box::new(e)))?,
            })
        })
        .transpose()
    }

    async fn defaults(&self, scope: &Scope, user_id: Option<&str>) -> StoreResult<Defaults> {
        let rows = sqlx::query(SELECT_DEFAULTS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        let mut defaults = Defaults::default();
        for row in &rows {
            let user: Option<String> = row.try_get("user_id").map_err(db)?;
            let dashboard: String = row.try_get("dashboard_id").map_err(db)?;
            let dashboard = Some(parse_dashboard_id(&dashboard)?);
            match user {
                Some(_) => defaults.user = dashboard,
                None => defaults.tenant = dashboard,
            }
        }
        Ok(defaults)
    }

    async fn set_default(
        &self,
        scope: &Scope,
        whose: DefaultFor<'_>,
        id: DashboardId,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let set = match whose {
            DefaultFor::User(user) => sqlx::query(SET_USER_DEFAULT)
                .bind(scope.tenant_id())
                .bind(user)
                .bind(id.to_string()),
            DefaultFor::Tenant => sqlx::query(SET_TENANT_DEFAULT)
                .bind(scope.tenant_id())
                .bind(id.to_string()),
        };
        if set.execute(&mut *tx).await.map_err(db)?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }

    async fn clear_default(&self, scope: &Scope, whose: DefaultFor<'_>) -> StoreResult<()> {
        let clear = match whose {
            DefaultFor::User(user) => sqlx::query(CLEAR_USER_DEFAULT)
                .bind(scope.tenant_id())
                .bind(user),
            DefaultFor::Tenant => sqlx::query(CLEAR_TENANT_DEFAULT).bind(scope.tenant_id()),
        };
        clear.execute(self.pool()).await.map_err(db)?;
        Ok(())
    }

    async fn create_default(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Option<DashboardId>> {
        let now = Timestamp::now();
        // The write lock, taken at `BEGIN`, makes checking the record, creating and setting the
        // default one step.
        let mut tx = self.begin_write().await.map_err(db)?;
        let recorded = sqlx::query(RECORD_STARTER)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(time_text(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if recorded.rows_affected() == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok(None);
        }
        // Any failure from here drops the transaction, which rolls back the record with it.
        insert_dashboard(&mut tx, scope, &dashboard, max_per_owner, now).await?;
        record_version(&mut tx, scope, dashboard.id, ChangeKind::Created).await?;
        sqlx::query(SET_USER_DEFAULT)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(dashboard.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(dashboard.id))
    }

    async fn list_dashboard_summaries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
        page: &SummaryPage,
    ) -> StoreResult<Vec<DashboardSummary>> {
        let (kind, user) = viewer_binds(viewer);
        let (after_at, after_id) = page
            .after
            .map(|(at, id)| (time_text(at), id.to_string()))
            .unzip();
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        // One statement reads one snapshot: no transaction needed.
        let rows = sqlx::query(LIST_DASHBOARD_SUMMARIES)
            .bind(scope.tenant_id())
            .bind(kind)
            .bind(user)
            .bind(page.user_id.as_deref())
            .bind(page.with_default)
            .bind(after_at)
            .bind(after_id)
            .bind(limit)
            .bind(page.shown_default.map(|id| id.to_string()))
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        rows.iter().map(summary).collect()
    }

    fn health_check_name(&self) -> &'static str {
        "database"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }
}
