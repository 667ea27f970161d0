//! [`DashboardStore`] for [`PostgresStore`].

use std::collections::HashSet;

use async_trait::async_trait;
use prismiq_core::permissions::{DashboardAccess, Viewer};
use prismiq_core::{
    Change, ChangeKind, Conflict, Dashboard, DashboardChanges, DashboardId, DashboardJson,
    DashboardStore, DashboardSummary, DashboardVersion, DefaultFor, Defaults, NewDashboard, Patch,
    Scope, StoreError, StoreResult, SummaryPage, VersionEntry, Widget, WidgetContent, WidgetId,
    WidgetPosition,
};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::PostgresStore;
use crate::error::{db, encode};
use crate::pins::LOCK_PINS;
use crate::rows::{
    DashboardDocumentRow, DashboardRow, SummaryRow, WidgetArrays, WidgetColumns,
    dashboard_document_columns, viewer_params, widget_json,
};
use crate::store::end_read;

/// The dashboard `$2` of tenant `$1`, after a `select` of its columns.
macro_rules! one_dashboard {
    () => {
        " from prismiq.dashboards d where d.tenant_id = $1 and d.id = $2"
    };
}

/// Whether a viewer may view dashboard `d`, the rule of `Viewer::can_view_dashboard`: `$2` is
/// "admin", `$3` the user (null when anonymous, which makes the owner and viewer tests fail).
macro_rules! can_view {
    () => {
        "($2 or d.is_public or d.owner_id = $3 or $3 = any(d.allowed_viewers))"
    };
}

/// Tenant `$1`'s dashboards that a viewer may view (`can_view!`), most recently updated
/// first, after a `select` of their columns.
macro_rules! visible_dashboards {
    () => {
        concat!(
            " from prismiq.dashboards d where d.tenant_id = $1 and ",
            can_view!(),
            " order by d.updated_at desc, d.id desc"
        )
    };
}

/// The statement of [`DashboardStore::get_dashboard_json`] and, parsed, of
/// [`DashboardStore::get_dashboard`].
pub(crate) const SELECT_DASHBOARD_DOCUMENT: &str =
    concat!("select ", dashboard_document_columns!(), one_dashboard!());

/// The statement of [`DashboardStore::dashboard_access`]: who may see the dashboard, and
/// nothing else of it, in one statement run outside a transaction. The function (migration
/// `0012`) sets the tenant and drops a bypassing role as
/// [`BEGIN_SCOPE`](crate::store::BEGIN_SCOPE) does, then reads.
pub(crate) const SELECT_DASHBOARD_ACCESS: &str = "select owner_id, is_public, allowed_viewers, \
     version from prismiq.dashboard_access($1, $2)";

/// The statement of [`DashboardStore::list_dashboards_json`] and, parsed, of
/// [`DashboardStore::list_dashboards`].
pub(crate) const LIST_DASHBOARD_DOCUMENTS: &str = concat!(
    "select ",
    dashboard_document_columns!(),
    visible_dashboards!()
);

/// Serialises creations per (tenant, owner), so that counting and inserting are atomic.
const LOCK_OWNER: &str = "select pg_advisory_xact_lock(\
     hashtext('prismiq.dashboards ' || $1), hashtext(coalesce($2, '')))";

/// The dashboard insert; with a condition, it inserts only while the count it describes is
/// below `$11`.
macro_rules! insert_dashboard {
    ($($condition:literal)?) => {
        concat!(
            "insert into prismiq.dashboards \
             (id, tenant_id, name, description, layout, filters, owner_id, is_public, \
              allowed_viewers, refresh_interval) \
             select $2, $1, $3, $4, $5, $6, $7, $8, $9, $10",
            $(" where (select count(*) from prismiq.dashboards c where c.tenant_id = $1 and ",
              $condition, ") < $11")?
        )
    };
}

/// Inserts a dashboard, without limit.
const INSERT_DASHBOARD: &str = insert_dashboard!();

/// Inserts unless owner `$7` already has `$11` dashboards.
const INSERT_DASHBOARD_WITHIN_OWNER_LIMIT: &str = insert_dashboard!("c.owner_id = $7");

/// Inserts unless the tenant already has `$11` ownerless dashboards.
const INSERT_DASHBOARD_WITHIN_OWNERLESS_LIMIT: &str = insert_dashboard!("c.owner_id is null");

/// Inserts widgets given as parallel arrays into dashboard `$2`.
const INSERT_WIDGETS: &str = "insert into prismiq.widgets \
     (id, tenant_id, dashboard_id, widget_type, title, query, position, config) \
     select i.id, $1, $2, i.widget_type, i.title, nullif(i.query, 'null'::jsonb), \
            i.position, i.config \
     from unnest($3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[]) \
          as i(id, widget_type, title, query, position, config)";

/// Changes the given fields (null parameters leave a field alone; `$4` says whether to set
/// the description to `$5`, `$10` whether to set the refresh interval to `$11`) and locks the
/// row for the rest of the transaction.
const UPDATE_DASHBOARD: &str = "update prismiq.dashboards set \
     name = coalesce($3, name), \
     description = case when $4 then $5 else description end, \
     layout = coalesce($6, layout), \
     filters = coalesce($7, filters), \
     is_public = coalesce($8, is_public), \
     allowed_viewers = coalesce($9, allowed_viewers), \
     refresh_interval = case when $10 then $11 else refresh_interval end, \
     updated_at = now() \
     where tenant_id = $1 and id = $2 \
     returning id";

/// A whole-dashboard save of the widgets, in one statement: deletes unlisted widgets, updates
/// listed ones in place, inserts the others with their ids.
const SAVE_WIDGETS: &str = "with input as ( \
         select * from unnest($3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], \
                              $8::jsonb[]) \
             as i(id, widget_type, title, query, position, config) \
     ), removed as ( \
         delete from prismiq.widgets w \
         where w.tenant_id = $1 and w.dashboard_id = $2 and w.id <> all($3::uuid[]) \
     ), changed as ( \
         update prismiq.widgets w \
         set widget_type = i.widget_type, title = i.title, \
             query = nullif(i.query, 'null'::jsonb), position = i.position, config = i.config \
         from input i \
         where w.tenant_id = $1 and w.dashboard_id = $2 and w.id = i.id \
         returning w.id \
     ) \
     insert into prismiq.widgets \
         (id, tenant_id, dashboard_id, widget_type, title, query, position, config) \
     select i.id, $1, $2, i.widget_type, i.title, nullif(i.query, 'null'::jsonb), \
            i.position, i.config \
     from input i \
     where i.id not in (select id from changed)";

/// Deletes every pin of dashboard `$2` and closes the gaps they leave in each list.
const DELETE_DASHBOARD_PINS: &str = "with removed as ( \
         delete from prismiq.pins where tenant_id = $1 and dashboard_id = $2 \
         returning user_id, context \
     ), ranked as ( \
         select p.id, \
                (row_number() over (partition by p.user_id, p.context order by p.position) \
                 - 1)::integer as position \
         from prismiq.pins p \
         where p.tenant_id = $1 and p.dashboard_id <> $2 \
           and (p.user_id, p.context) in (select user_id, context from removed) \
     ) \
     update prismiq.pins p set position = r.position \
     from ranked r where p.id = r.id and p.position <> r.position";

/// Deletes the dashboard; its widgets follow through the foreign key.
const DELETE_DASHBOARD: &str = "delete from prismiq.dashboards where tenant_id = $1 and id = $2";

/// Marks the dashboard changed, one version up, and locks it for the rest of the transaction —
/// if it is at version `$3` (when given).
pub(crate) const BUMP_VERSION: &str = "update prismiq.dashboards set version = version + 1, \
     updated_at = now() \
     where tenant_id = $1 and id = $2 and ($3::bigint is null or version = $3) \
     returning version";

/// The version of dashboard `$2`.
const CURRENT_VERSION: &str =
    "select version from prismiq.dashboards where tenant_id = $1 and id = $2";

/// The three parts of recording a version, as common table expressions: `built` builds
/// the dashboard as it now is, once, as the API writes it (kept as `json`: the text as built,
/// with nothing to parse); `recorded` inserts it as the dashboard's current version (by `$3`,
/// of kind `$4`); and `pruned` deletes the versions the retention no longer keeps: beyond the
/// newest `$5`, and older than `$6` seconds but the newest.
///
/// Both are prefixes of the versions (they are made in order), so the delete is one range of
/// the primary key: up to the newest `$5`, or further up to the newest of the oldest 16 that is
/// older than `$6` seconds. Every write prunes, so what ages out is normally one version at a
/// time; after a long quiet spell (or a shorter `max_age`) each write deletes up to 16 more,
/// without reading the versions it keeps.
macro_rules! record_version_ctes {
    () => {
        concat!(
            "built as ( \
                 select d.tenant_id, d.id, d.version, d.updated_at, ",
            crate::rows::dashboard_document!(),
            " as document \
                 from prismiq.dashboards d where d.tenant_id = $1 and d.id = $2 \
             ), recorded as ( \
                 insert into prismiq.dashboard_versions \
                     (tenant_id, dashboard_id, version, author, kind, created_at, document) \
                 select tenant_id, id, version, $3, $4, updated_at, document from built \
                 returning version \
             ), pruned as ( \
                 delete from prismiq.dashboard_versions v using recorded \
                 where v.tenant_id = $1 and v.dashboard_id = $2 \
                   and v.version < recorded.version \
                   and v.version <= greatest(recorded.version - $5, ( \
                       select max(o.version) from ( \
                           select version, created_at from prismiq.dashboard_versions \
                           where tenant_id = $1 and dashboard_id = $2 \
                           order by version limit 16 \
                       ) o \
                       where $6::double precision is not null \
                         and o.created_at < now() - make_interval(secs => $6))) \
             )"
        )
    };
}

/// Records the dashboard as it now is as its current version, and prunes (see
/// [`record_version_ctes`]).
pub(crate) const RECORD_VERSION: &str = concat!(
    "with ",
    record_version_ctes!(),
    " select version from recorded"
);

/// [`RECORD_VERSION`], answering the document it recorded: the end of every change that
/// answers the dashboard, which is built once for both.
pub(crate) const RECORD_VERSION_AND_SELECT: &str = concat!(
    "with ",
    record_version_ctes!(),
    " select document::text as document from built"
);

/// Versions of dashboard `$2`, newest first, below `$3` (when given), at most `$4`.
const LIST_VERSIONS: &str = "select version, author, kind, created_at \
     from prismiq.dashboard_versions \
     where tenant_id = $1 and dashboard_id = $2 and ($3::bigint is null or version < $3) \
     order by version desc limit $4";

/// Version `$3` of dashboard `$2`, with its document.
const SELECT_VERSION: &str = "select version, author, kind, created_at, document::text \
     from prismiq.dashboard_versions \
     where tenant_id = $1 and dashboard_id = $2 and version = $3";

/// Inserts unless the dashboard already has `$9` widgets (no limit when null), and returns the
/// widget as JSON. Run after [`TOUCH_DASHBOARD`] locked the dashboard, so the count is current.
const ADD_WIDGET: &str = concat!(
    "insert into prismiq.widgets as w \
     (id, tenant_id, dashboard_id, widget_type, title, query, position, config) \
     select $3, $1, $2, $4, $5, nullif($6, 'null'::jsonb), $7, $8 \
     where $9::bigint is null \
        or (select count(*) from prismiq.widgets c \
            where c.tenant_id = $1 and c.dashboard_id = $2) < $9 \
     returning ",
    widget_json!()
);

/// Replaces a widget's content, touches its dashboard, and returns the widget as JSON.
const UPDATE_WIDGET: &str = concat!(
    "with d as (update prismiq.dashboards set updated_at = now() \
                where tenant_id = $1 and id = $2 returning id) \
     update prismiq.widgets w \
     set widget_type = $4, title = $5, query = nullif($6, 'null'::jsonb), position = $7, \
         config = $8 \
     from d where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = $3 \
     returning ",
    widget_json!()
);

/// Deletes a widget and touches its dashboard.
const DELETE_WIDGET: &str = "with d as (update prismiq.dashboards set updated_at = now() \
                where tenant_id = $1 and id = $2 returning id) \
     delete from prismiq.widgets w using d \
     where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = $3";

/// Moves any number of widgets in one statement, and raises the dashboard's version (locking
/// it) if it is at version `$5` (when given); the count says whether it did.
pub(crate) const UPDATE_LAYOUT: &str = "with d as (update prismiq.dashboards \
                set version = version + 1, updated_at = now() \
                where tenant_id = $1 and id = $2 and ($5::bigint is null or version = $5) \
                returning id), \
     moved as ( \
         update prismiq.widgets w set position = i.position \
         from d, unnest($3::uuid[], $4::jsonb[]) as i(id, position) \
         where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = i.id \
     ) \
     select count(*) from d";

/// Tenant `$1`'s default and, when `$2` is not null, user `$2`'s: `user_id` is null on the
/// tenant's.
const SELECT_DEFAULTS: &str = "select user_id, dashboard_id from prismiq.dashboard_defaults \
     where tenant_id = $1 and (user_id is null or user_id = $2)";

/// Makes dashboard `$3` user `$2`'s default, replacing an earlier one; inserts nothing when
/// the tenant has no dashboard `$3`.
const SET_USER_DEFAULT: &str = "insert into prismiq.dashboard_defaults \
     (tenant_id, user_id, dashboard_id) \
     select $1, $2, d.id from prismiq.dashboards d where d.tenant_id = $1 and d.id = $3 \
     on conflict (tenant_id, user_id) where user_id is not null \
     do update set dashboard_id = excluded.dashboard_id";

/// Makes dashboard `$2` the tenant's default, replacing an earlier one; inserts nothing when
/// the tenant has no dashboard `$2`.
const SET_TENANT_DEFAULT: &str = "insert into prismiq.dashboard_defaults \
     (tenant_id, user_id, dashboard_id) \
     select $1, null, d.id from prismiq.dashboards d where d.tenant_id = $1 and d.id = $2 \
     on conflict (tenant_id) where user_id is null \
     do update set dashboard_id = excluded.dashboard_id";

/// Removes user `$2`'s default.
const CLEAR_USER_DEFAULT: &str =
    "delete from prismiq.dashboard_defaults where tenant_id = $1 and user_id = $2";

/// Removes the tenant's default.
const CLEAR_TENANT_DEFAULT: &str =
    "delete from prismiq.dashboard_defaults where tenant_id = $1 and user_id is null";

/// Serialises changes to user `$2`'s default in tenant `$1` for the rest of the transaction,
/// across every process using the database: [`DashboardStore::create_default`] checks the
/// user's starter record, creates and sets the default under it.
const LOCK_USER_DEFAULT: &str = "select pg_advisory_xact_lock(\
     hashtext('prismiq.dashboard_defaults ' || $1), hashtext($2))";

/// Records that user `$2` of tenant `$1` got a starter dashboard; inserts nothing (no row
/// affected) when one was already recorded, even for a dashboard deleted since.
const RECORD_STARTER: &str = "insert into prismiq.starter_dashboards \
     (tenant_id, user_id) values ($1, $2) \
     on conflict (tenant_id, user_id) do nothing";

/// The columns of a [`DashboardSummary`](prismiq_core::DashboardSummary) for a dashboard of
/// alias `d`, but `is_default`; the widget count comes from the widgets' index on
/// `(tenant_id, dashboard_id)`.
macro_rules! summary_columns {
    () => {
        "d.id, d.name, d.description, d.owner_id, d.is_public, d.updated_at, \
         (select count(*) from prismiq.widgets w \
          where w.tenant_id = d.tenant_id and w.dashboard_id = d.id) as widget_count"
    };
}

/// One page of [`DashboardStore::list_dashboard_summaries`] in one statement. `$1` the
/// tenant, `$2`/`$3` the viewer (as for `can_view!`), `$4` the user whose own default counts
/// (null for none), `$5` whether the default leads the page, `$6`/`$7` the `(updated_at, id)`
/// the page continues after (null from the start), `$8` the most rows, `$9` on later pages
/// the default the first page showed.
///
/// `effective` is the viewer's default: the user's own if the viewer may view it, else the
/// tenant's if the viewer may view it. It leads the page when `$5`, and never comes among the
/// others (on later pages `$9` is left out instead), which follow newest first from the index on `(tenant_id, updated_at desc, id desc)`.
pub(crate) const LIST_DASHBOARD_SUMMARIES: &str = concat!(
    "with effective as ( \
         select d.id from ( \
             select dashboard_id, 0 as rank from prismiq.dashboard_defaults \
             where tenant_id = $1 and user_id = $4 \
             union all \
             select dashboard_id, 1 as rank from prismiq.dashboard_defaults \
             where tenant_id = $1 and user_id is null \
         ) f join prismiq.dashboards d on d.tenant_id = $1 and d.id = f.dashboard_id \
         where ",
    can_view!(),
    " order by f.rank limit 1 \
     ) \
     select s.* from ( \
         select ",
    summary_columns!(),
    ", true as is_default \
         from prismiq.dashboards d \
         where $5 and d.tenant_id = $1 and d.id = (select id from effective) \
         union all \
         (select ",
    summary_columns!(),
    ", false as is_default \
          from prismiq.dashboards d \
          where d.tenant_id = $1 and ",
    can_view!(),
    " and d.id is distinct from \
              (case when $5 then (select id from effective) else $9::uuid end) \
            and (d.updated_at, d.id) \
                < (coalesce($6::timestamptz, 'infinity'), \
                   coalesce($7::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) \
          order by d.updated_at desc, d.id desc \
          limit $8) \
     ) s \
     order by s.is_default desc, s.updated_at desc, s.id desc \
     limit $8"
);

async fn fetch_dashboard(
    conn: &mut PgConnection,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<Option<Dashboard>> {
    let row: Option<DashboardRow> = sqlx::query_as(SELECT_DASHBOARD_DOCUMENT)
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    row.map(Dashboard::try_from).transpose().map_err(db)
}

/// Raises the dashboard's version and locks it, if it is at the version the scope's change
/// expects: `Stale` if it is not, `NotFound` if the tenant has no such dashboard.
async fn bump_version(conn: &mut PgConnection, scope: &Scope, id: DashboardId) -> StoreResult<()> {
    let bumped: Option<i64> = sqlx::query_scalar(BUMP_VERSION)
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .bind(scope.expected_version())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    match bumped {
        Some(_) => Ok(()),
        None => Err(not_bumped(conn, scope, id).await),
    }
}

/// Why a statement that raises the dashboard's version when it is at the expected version did
/// not: `Stale` with the version it is at, or `NotFound`.
async fn not_bumped(conn: &mut PgConnection, scope: &Scope, id: DashboardId) -> StoreError {
    let current: Result<Option<i64>, _> = sqlx::query_scalar(CURRENT_VERSION)
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await;
    match current {
        Ok(current) => StoreError::not_at_version(current),
        Err(e) => db(e),
    }
}

/// `statement` ([`RECORD_VERSION`] or [`RECORD_VERSION_AND_SELECT`]) with the scope's change (or
/// `kind`, by nobody) and retention bound.
fn bind_record<'q, O>(
    statement: sqlx::query::QueryAs<'q, Postgres, O, sqlx::postgres::PgArguments>,
    scope: &'q Scope,
    id: DashboardId,
    kind: ChangeKind,
) -> sqlx::query::QueryAs<'q, Postgres, O, sqlx::postgres::PgArguments> {
    let change = scope
        .change()
        .cloned()
        .unwrap_or_else(|| Change::default_for(kind));
    statement
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .bind(change.author)
        .bind(change.kind.as_str())
        .bind(i64::from(change.retention.keep.max(1)))
        .bind(change.retention.max_age.map(|age| age.as_secs_f64()))
}

/// Records the dashboard as the transaction left it as its current version, with the scope's
/// change (or `kind`, by nobody), and prunes what the retention no longer keeps.
async fn record_version(
    conn: &mut PgConnection,
    scope: &Scope,
    id: DashboardId,
    kind: ChangeKind,
) -> StoreResult<()> {
    let _: Option<(i64,)> = bind_record(sqlx::query_as(RECORD_VERSION), scope, id, kind)
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// [`record_version`], answering the dashboard as the transaction left it (the document it
/// recorded) in the same statement, and commits.
async fn record_and_return(
    mut tx: Transaction<'static, Postgres>,
    scope: &Scope,
    id: DashboardId,
    kind: ChangeKind,
) -> StoreResult<Dashboard> {
    let row: Option<DashboardRow> =
        bind_record(sqlx::query_as(RECORD_VERSION_AND_SELECT), scope, id, kind)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    let dashboard = row
        .map(Dashboard::try_from)
        .transpose()
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(db)?;
    Ok(dashboard)
}

/// A version entry from its columns.
fn entry(
    version: i64,
    author: Option<String>,
    kind: &str,
    created_at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<VersionEntry> {
    Ok(VersionEntry {
        version: u64::try_from(version).unwrap_or_default(),
        author,
        kind: kind
            .parse()
            .map_err(|e: String| StoreError::Backend(e.into()))?,
        created_at: created_at.into(),
    })
}

async fn insert_widgets(
    conn: &mut PgConnection,
    scope: &Scope,
    dashboard_id: DashboardId,
    widgets: &[(WidgetId, WidgetContent)],
) -> StoreResult<()> {
    let arrays = WidgetArrays::new(widgets).map_err(encode)?;
    sqlx::query(INSERT_WIDGETS)
        .bind(scope.tenant_id())
        .bind(dashboard_id.as_uuid())
        .bind(arrays.ids)
        .bind(arrays.types)
        .bind(arrays.titles)
        .bind(arrays.queries)
        .bind(arrays.positions)
        .bind(arrays.configs)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Inserts `new` with its widgets: a [`StoreError::LimitReached`] if its owner (or the
/// tenant's ownerless dashboards) already has `max_per_owner`, counted under a lock per
/// (tenant, owner) held until the transaction ends.
async fn insert_dashboard(
    conn: &mut PgConnection,
    scope: &Scope,
    new: &NewDashboard,
    max_per_owner: Option<u32>,
) -> StoreResult<()> {
    if max_per_owner.is_some() {
        sqlx::query(LOCK_OWNER)
            .bind(scope.tenant_id())
            .bind(new.owner_id.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    let insert = match (max_per_owner, &new.owner_id) {
        (None, _) => INSERT_DASHBOARD,
        (Some(_), Some(_)) => INSERT_DASHBOARD_WITHIN_OWNER_LIMIT,
        (Some(_), None) => INSERT_DASHBOARD_WITHIN_OWNERLESS_LIMIT,
    };
    let mut insert = sqlx::query(insert)
        .bind(scope.tenant_id())
        .bind(new.id.as_uuid())
        .bind(&new.name)
        .bind(new.description.as_deref())
        .bind(Json(&new.layout))
        .bind(Json(&new.filters))
        .bind(new.owner_id.as_deref())
        .bind(new.is_public)
        .bind(&new.allowed_viewers)
        .bind(new.refresh_interval.map(i64::from));
    if let Some(max) = max_per_owner {
        insert = insert.bind(i64::from(max));
    }
    let inserted = insert.execute(&mut *conn).await.map_err(db)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::LimitReached);
    }
    if !new.widgets.is_empty() {
        insert_widgets(conn, scope, new.id, &new.widgets).await?;
    }
    Ok(())
}

/// A [`Patch`] as the parameters of a statement: whether to set the value, and the value.
fn patch_params<T>(patch: Patch<T>) -> (bool, Option<T>) {
    match patch {
        Patch::Absent => (false, None),
        Patch::Null => (true, None),
        Patch::Value(value) => (true, Some(value)),
    }
}

/// Takes [`LOCK_USER_DEFAULT`] for `user`.
async fn lock_user_default(conn: &mut PgConnection, scope: &Scope, user: &str) -> StoreResult<()> {
    sqlx::query(LOCK_USER_DEFAULT)
        .bind(scope.tenant_id())
        .bind(user)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Widget ids must be distinct within one write, as they are across the table.
fn check_distinct(widgets: &[(WidgetId, WidgetContent)]) -> StoreResult<()> {
    let mut seen = HashSet::with_capacity(widgets.len());
    if widgets.iter().all(|(id, _)| seen.insert(*id)) {
        Ok(())
    } else {
        Err(StoreError::Conflict(Conflict::WidgetId))
    }
}

impl PostgresStore {
    /// The rows of a listing statement (`$1` tenant, `$2` admin, `$3` user) for a viewer.
    async fn list_rows<R>(
        &self,
        statement: &'static str,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let (admin, user) = viewer_params(viewer);
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows = sqlx::query_as(statement)
            .bind(scope.tenant_id())
            .bind(admin)
            .bind(user)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(rows)
    }
}

#[async_trait]
impl DashboardStore for PostgresStore {
    async fn list_dashboards(&self, scope: &Scope, viewer: &Viewer) -> StoreResult<Vec<Dashboard>> {
        let rows: Vec<DashboardRow> = self
            .list_rows(LIST_DASHBOARD_DOCUMENTS, scope, viewer)
            .await?;
        rows.into_iter()
            .map(|row| Dashboard::try_from(row).map_err(db))
            .collect()
    }

    async fn get_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<Dashboard>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let dashboard = fetch_dashboard(&mut tx, scope, id).await?;
        end_read(tx);
        Ok(dashboard)
    }

    async fn list_dashboards_json(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<DashboardJson>> {
        let rows: Vec<DashboardDocumentRow> = self
            .list_rows(LIST_DASHBOARD_DOCUMENTS, scope, viewer)
            .await?;
        Ok(rows.into_iter().map(DashboardJson::from).collect())
    }

    async fn get_dashboard_json(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<DashboardJson>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: Option<DashboardDocumentRow> = sqlx::query_as(SELECT_DASHBOARD_DOCUMENT)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(row.map(DashboardJson::from))
    }

    async fn dashboard_access(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<DashboardAccess>> {
        // One round trip: the statement makes its own scope (see SELECT_DASHBOARD_ACCESS).
        let row: Option<(Option<String>, bool, Vec<String>, i64)> =
            sqlx::query_as(SELECT_DASHBOARD_ACCESS)
                .bind(scope.tenant_id())
                .bind(id.as_uuid())
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(row.map(
            |(owner_id, is_public, allowed_viewers, version)| DashboardAccess {
                owner_id,
                is_public,
                allowed_viewers,
                version: u64::try_from(version).unwrap_or_default(),
            },
        ))
    }

    async fn create_dashboard(
        &self,
        scope: &Scope,
        new: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard> {
        check_distinct(&new.widgets)?;
        let mut tx = self.begin(scope).await.map_err(db)?;
        insert_dashboard(&mut tx, scope, &new, max_per_owner).await?;
        record_and_return(tx, scope, new.id, ChangeKind::Created).await
    }

    async fn update_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
        changes: DashboardChanges,
    ) -> StoreResult<Dashboard> {
        if let Some(widgets) = &changes.widgets {
            check_distinct(widgets)?;
        }
        let (set_description, description) = patch_params(changes.description);
        let (set_refresh, refresh_interval) = patch_params(changes.refresh_interval);
        let saved = changes.widgets.is_some();
        let mut tx = self.begin(scope).await.map_err(db)?;
        bump_version(&mut tx, scope, id).await?;
        let found = sqlx::query_scalar::<_, uuid::Uuid>(UPDATE_DASHBOARD)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .bind(changes.name)
            .bind(set_description)
            .bind(description)
            .bind(changes.layout.map(Json))
            .bind(changes.filters.map(Json))
            .bind(changes.is_public)
            .bind(changes.allowed_viewers)
            .bind(set_refresh)
            .bind(refresh_interval.map(i64::from))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        if let Some(widgets) = &changes.widgets {
            let arrays = WidgetArrays::new(widgets).map_err(encode)?;
            sqlx::query(SAVE_WIDGETS)
                .bind(scope.tenant_id())
                .bind(id.as_uuid())
                .bind(arrays.ids)
                .bind(arrays.types)
                .bind(arrays.titles)
                .bind(arrays.queries)
                .bind(arrays.positions)
                .bind(arrays.configs)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let kind = if saved {
            ChangeKind::Saved
        } else {
            ChangeKind::Updated
        };
        record_and_return(tx, scope, id, kind).await
    }

    async fn delete_dashboard(&self, scope: &Scope, id: DashboardId) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        // Pins go first, explicitly: the foreign-key cascade would delete them without
        // renumbering the lists they leave.
        sqlx::query(LOCK_PINS)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(DELETE_DASHBOARD_PINS)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let deleted = sqlx::query(DELETE_DASHBOARD)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
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
        let columns = WidgetColumns::new(&content).map_err(encode)?;
        let mut tx = self.begin(scope).await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id).await?;
        let widget = sqlx::query_scalar::<_, Json<Widget>>(ADD_WIDGET)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .bind(widget_id.as_uuid())
            .bind(columns.widget_type)
            .bind(&content.title)
            .bind(columns.query)
            .bind(columns.position)
            .bind(columns.config)
            .bind(max_widgets.map(i64::from))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::LimitReached)?;
        record_version(&mut tx, scope, dashboard_id, ChangeKind::WidgetCreated).await?;
        tx.commit().await.map_err(db)?;
        Ok(widget.0)
    }

    async fn update_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
    ) -> StoreResult<Widget> {
        let columns = WidgetColumns::new(&content).map_err(encode)?;
        let mut tx = self.begin(scope).await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id).await?;
        let widget = sqlx::query_scalar::<_, Json<Widget>>(UPDATE_WIDGET)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .bind(widget_id.as_uuid())
            .bind(columns.widget_type)
            .bind(&content.title)
            .bind(columns.query)
            .bind(columns.position)
            .bind(columns.config)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
        record_version(&mut tx, scope, dashboard_id, ChangeKind::WidgetUpdated).await?;
        tx.commit().await.map_err(db)?;
        Ok(widget.0)
    }

    async fn delete_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        bump_version(&mut tx, scope, dashboard_id).await?;
        let deleted = sqlx::query(DELETE_WIDGET)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .bind(widget_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 {
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
        // The last position given for a widget wins, as if they were applied in order.
        let mut seen = HashSet::with_capacity(positions.len());
        let mut ids = Vec::with_capacity(positions.len());
        let mut moves = Vec::with_capacity(positions.len());
        for (id, position) in positions.iter().rev() {
            if seen.insert(*id) {
                ids.push(id.as_uuid());
                moves.push(serde_json::to_value(position).map_err(encode)?);
            }
        }
        let mut tx = self.begin(scope).await.map_err(db)?;
        let found: i64 = sqlx::query_scalar(UPDATE_LAYOUT)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .bind(ids)
            .bind(moves)
            .bind(scope.expected_version())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if found == 0 {
            return Err(not_bumped(&mut tx, scope, dashboard_id).await);
        }
        record_and_return(tx, scope, dashboard_id, ChangeKind::LayoutUpdated).await
    }

    async fn list_versions(
        &self,
        scope: &Scope,
        id: DashboardId,
        limit: u32,
        before: Option<u64>,
    ) -> StoreResult<Option<Vec<VersionEntry>>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let exists: Option<i64> = sqlx::query_scalar(CURRENT_VERSION)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if exists.is_none() {
            end_read(tx);
            return Ok(None);
        }
        let rows: Vec<(i64, Option<String>, String, chrono::DateTime<chrono::Utc>)> =
            sqlx::query_as(LIST_VERSIONS)
                .bind(scope.tenant_id())
                .bind(id.as_uuid())
                .bind(before.map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        end_read(tx);
        rows.into_iter()
            .map(|(version, author, kind, created_at)| entry(version, author, &kind, created_at))
            .collect::<StoreResult<Vec<_>>>()
            .map(Some)
    }

    async fn get_version(
        &self,
        scope: &Scope,
        id: DashboardId,
        version: u64,
    ) -> StoreResult<Option<DashboardVersion>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: Option<(
            i64,
            Option<String>,
            String,
            chrono::DateTime<chrono::Utc>,
            String,
        )> = sqlx::query_as(SELECT_VERSION)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .bind(i64::try_from(version).unwrap_or(i64::MAX))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        row.map(|(version, author, kind, created_at, document)| {
            Ok(DashboardVersion {
                entry: entry(version, author, &kind, created_at)?,
                document: serde_json::from_str(&document).map_err(encode)?,
            })
        })
        .transpose()
    }

    async fn defaults(&self, scope: &Scope, user_id: Option<&str>) -> StoreResult<Defaults> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<(Option<String>, uuid::Uuid)> = sqlx::query_as(SELECT_DEFAULTS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        let mut defaults = Defaults::default();
        for (user, dashboard) in rows {
            let dashboard = Some(DashboardId::from_uuid(dashboard));
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
        let mut tx = self.begin(scope).await.map_err(db)?;
        let set = match whose {
            DefaultFor::User(user) => {
                lock_user_default(&mut tx, scope, user).await?;
                sqlx::query(SET_USER_DEFAULT)
                    .bind(scope.tenant_id())
                    .bind(user)
                    .bind(id.as_uuid())
            }
            DefaultFor::Tenant => sqlx::query(SET_TENANT_DEFAULT)
                .bind(scope.tenant_id())
                .bind(id.as_uuid()),
        };
        let set = set.execute(&mut *tx).await.map_err(|error| {
            // The dashboard was deleted between the insert's read and its foreign-key check.
            if let sqlx::Error::Database(e) = &error
                && e.is_foreign_key_violation()
            {
                StoreError::NotFound
            } else {
                db(error)
            }
        })?;
        if set.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }

    async fn clear_default(&self, scope: &Scope, whose: DefaultFor<'_>) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let clear = match whose {
            DefaultFor::User(user) => {
                lock_user_default(&mut tx, scope, user).await?;
                sqlx::query(CLEAR_USER_DEFAULT)
                    .bind(scope.tenant_id())
                    .bind(user)
            }
            DefaultFor::Tenant => sqlx::query(CLEAR_TENANT_DEFAULT).bind(scope.tenant_id()),
        };
        clear.execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn create_default(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Option<DashboardId>> {
        check_distinct(&dashboard.widgets)?;
        let mut tx = self.begin(scope).await.map_err(db)?;
        // Under the lock, nothing else changes the user's default until the commit; the
        // record's primary key alone would also keep a second starter out.
        lock_user_default(&mut tx, scope, user_id).await?;
        let recorded = sqlx::query(RECORD_STARTER)
            .bind(scope.tenant_id())
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if recorded.rows_affected() == 0 {
            // Nothing was written: the rollback the dropped transaction sends is all it needs.
            end_read(tx);
            return Ok(None);
        }
        // Any failure from here drops the transaction, and the record with it.
        insert_dashboard(&mut tx, scope, &dashboard, max_per_owner).await?;
        record_version(&mut tx, scope, dashboard.id, ChangeKind::Created).await?;
        sqlx::query(SET_USER_DEFAULT)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(dashboard.id.as_uuid())
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
        let (admin, user) = viewer_params(viewer);
        let (after_at, after_id) = page
            .after
            .map(|(at, id)| (at.as_datetime(), id.as_uuid()))
            .unzip();
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<SummaryRow> = sqlx::query_as(LIST_DASHBOARD_SUMMARIES)
            .bind(scope.tenant_id())
            .bind(admin)
            .bind(user)
            .bind(page.user_id.as_deref())
            .bind(page.with_default)
            .bind(after_at)
            .bind(after_id)
            .bind(limit)
            .bind(page.shown_default.map(|id| id.as_uuid()))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(rows.into_iter().map(DashboardSummary::from).collect())
    }

    fn health_check_name(&self) -> &'static str {
        "database"
    }

    async fn ping(&self) -> StoreResult<()> {
        crate::source::record_pool_gauges(self.pool());
        sqlx::query("select 1")
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }
}
