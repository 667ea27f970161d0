//! [`DashboardStore`] for [`PostgresStore`].

use std::collections::HashSet;

use async_trait::async_trait;
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    Conflict, Dashboard, DashboardChanges, DashboardId, DashboardJson, DashboardStore,
    NewDashboard, Patch, Scope, StoreError, StoreResult, Widget, WidgetContent, WidgetId,
    WidgetPosition,
};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::PostgresStore;
use crate::error::{db, encode};
use crate::pins::LOCK_PINS;
use crate::rows::{
    DashboardDocumentRow, DashboardRow, WidgetArrays, WidgetColumns, dashboard_columns,
    dashboard_document_columns, viewer_params, widget_json,
};
use crate::store::end_read;

/// The dashboard `$2` of tenant `$1`, after a `select` of its columns.
macro_rules! one_dashboard {
    () => {
        " from prismiq.dashboards d where d.tenant_id = $1 and d.id = $2"
    };
}

/// Tenant `$1`'s dashboards that a viewer may view, most recently updated first, after a
/// `select` of their columns. The rule of `Viewer::can_view_dashboard`: `$2` is "admin", `$3`
/// the user (null when anonymous, which makes the owner and viewer tests fail).
macro_rules! visible_dashboards {
    () => {
        " from prismiq.dashboards d \
          where d.tenant_id = $1 \
            and ($2 or d.is_public or d.owner_id = $3 or $3 = any(d.allowed_viewers)) \
          order by d.updated_at desc, d.id desc"
    };
}

pub(crate) const SELECT_DASHBOARD: &str =
    concat!("select ", dashboard_columns!(), one_dashboard!());

/// The statement of [`DashboardStore::get_dashboard_json`].
pub(crate) const SELECT_DASHBOARD_DOCUMENT: &str =
    concat!("select ", dashboard_document_columns!(), one_dashboard!());

pub(crate) const LIST_DASHBOARDS: &str =
    concat!("select ", dashboard_columns!(), visible_dashboards!());

/// The statement of [`DashboardStore::list_dashboards_json`].
pub(crate) const LIST_DASHBOARD_DOCUMENTS: &str = concat!(
    "select ",
    dashboard_document_columns!(),
    visible_dashboards!()
);

/// Serialises creations per (tenant, owner), so that counting and inserting are atomic.
const LOCK_OWNER: &str = "select pg_advisory_xact_lock(\
     hashtext('prismiq.dashboards ' || $1), hashtext(coalesce($2, '')))";

/// The dashboard insert; with a condition, it inserts only while the count it describes is
/// below `$10`.
macro_rules! insert_dashboard {
    ($($condition:literal)?) => {
        concat!(
            "insert into prismiq.dashboards \
             (id, tenant_id, name, description, layout, filters, owner_id, is_public, \
              allowed_viewers) \
             select $2, $1, $3, $4, $5, $6, $7, $8, $9",
            $(" where (select count(*) from prismiq.dashboards c where c.tenant_id = $1 and ",
              $condition, ") < $10")?
        )
    };
}

const INSERT_DASHBOARD: &str = insert_dashboard!();

/// Inserts unless owner `$7` already has `$10` dashboards.
const INSERT_DASHBOARD_WITHIN_OWNER_LIMIT: &str = insert_dashboard!("c.owner_id = $7");

/// Inserts unless the tenant already has `$10` ownerless dashboards.
const INSERT_DASHBOARD_WITHIN_OWNERLESS_LIMIT: &str = insert_dashboard!("c.owner_id is null");

const INSERT_WIDGETS: &str = "insert into prismiq.widgets \
     (id, tenant_id, dashboard_id, widget_type, title, query, position, config) \
     select i.id, $1, $2, i.widget_type, i.title, nullif(i.query, 'null'::jsonb), \
            i.position, i.config \
     from unnest($3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[]) \
          as i(id, widget_type, title, query, position, config)";

/// Changes the given fields (null parameters leave a field alone; `$4` says whether to set
/// the description to `$5`) and locks the row for the rest of the transaction.
const UPDATE_DASHBOARD: &str = "update prismiq.dashboards set \
     name = coalesce($3, name), \
     description = case when $4 then $5 else description end, \
     layout = coalesce($6, layout), \
     filters = coalesce($7, filters), \
     is_public = coalesce($8, is_public), \
     allowed_viewers = coalesce($9, allowed_viewers), \
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

/// Marks the dashboard changed and locks it for the rest of the transaction.
const TOUCH_DASHBOARD: &str = "update prismiq.dashboards set updated_at = now() \
     where tenant_id = $1 and id = $2 returning id";

/// Inserts unless the dashboard already has `$9` widgets (no limit when null). Run after
/// [`TOUCH_DASHBOARD`] locked the dashboard, so the count is current.
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

const DELETE_WIDGET: &str = "with d as (update prismiq.dashboards set updated_at = now() \
                where tenant_id = $1 and id = $2 returning id) \
     delete from prismiq.widgets w using d \
     where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = $3";

/// Moves any number of widgets in one statement; the count says whether the dashboard exists.
pub(crate) const UPDATE_LAYOUT: &str = "with d as (update prismiq.dashboards set updated_at = now() \
                where tenant_id = $1 and id = $2 returning id), \
     moved as ( \
         update prismiq.widgets w set position = i.position \
         from d, unnest($3::uuid[], $4::jsonb[]) as i(id, position) \
         where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = i.id \
     ) \
     select count(*) from d";

async fn fetch_dashboard(
    conn: &mut PgConnection,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<Option<Dashboard>> {
    let row: Option<DashboardRow> = sqlx::query_as(SELECT_DASHBOARD)
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    Ok(row.map(Dashboard::from))
}

/// Reads the dashboard as the transaction left it, then commits.
async fn commit_and_return(
    mut tx: Transaction<'static, Postgres>,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<Dashboard> {
    let dashboard = fetch_dashboard(&mut tx, scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(db)?;
    Ok(dashboard)
}

/// Locks and touches the dashboard; `NotFound` if the tenant has none with that id.
async fn touch_dashboard(
    conn: &mut PgConnection,
    scope: &Scope,
    id: DashboardId,
) -> StoreResult<()> {
    sqlx::query_scalar::<_, uuid::Uuid>(TOUCH_DASHBOARD)
        .bind(scope.tenant_id())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?
        .map(drop)
        .ok_or(StoreError::NotFound)
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
        let rows: Vec<DashboardRow> = self.list_rows(LIST_DASHBOARDS, scope, viewer).await?;
        Ok(rows.into_iter().map(Dashboard::from).collect())
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

    async fn create_dashboard(
        &self,
        scope: &Scope,
        new: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard> {
        check_distinct(&new.widgets)?;
        let mut tx = self.begin(scope).await.map_err(db)?;
        if max_per_owner.is_some() {
            sqlx::query(LOCK_OWNER)
                .bind(scope.tenant_id())
                .bind(new.owner_id.as_deref())
                .execute(&mut *tx)
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
            .bind(&new.allowed_viewers);
        if let Some(max) = max_per_owner {
            insert = insert.bind(i64::from(max));
        }
        let inserted = insert.execute(&mut *tx).await.map_err(db)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::LimitReached);
        }
        if !new.widgets.is_empty() {
            insert_widgets(&mut tx, scope, new.id, &new.widgets).await?;
        }
        commit_and_return(tx, scope, new.id).await
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
        let (set_description, description) = match changes.description {
            Patch::Absent => (false, None),
            Patch::Null => (true, None),
            Patch::Value(description) => (true, Some(description)),
        };
        let mut tx = self.begin(scope).await.map_err(db)?;
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
        commit_and_return(tx, scope, id).await
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
        touch_dashboard(&mut tx, scope, dashboard_id).await?;
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
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if found == 0 {
            return Err(StoreError::NotFound);
        }
        commit_and_return(tx, scope, dashboard_id).await
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
