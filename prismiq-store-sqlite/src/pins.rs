//! [`PinStore`] for [`SqliteStore`].

use std::collections::HashMap;

use async_trait::async_trait;
use prismiq_core::{
    Conflict, Dashboard, DashboardId, PinId, PinStore, PinnedDashboard, Scope, StoreError,
    StoreResult, Timestamp,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::error::{db, invalid};
use crate::rows::{dashboard_columns, fetch_dashboards, parse_time, time_text, widget_columns};

const DASHBOARD_EXISTS: &str =
    "select exists (select 1 from dashboards where tenant_id = ?1 and id = ?2)";

const PIN_EXISTS: &str = "select exists (select 1 from pins where tenant_id = ?1 \
     and user_id = ?2 and context = ?3 and dashboard_id = ?4)";

const COUNT_PINS: &str =
    "select count(*) from pins where tenant_id = ?1 and user_id = ?2 and context = ?3";

const SHIFT_DOWN_FROM: &str = "update pins set position = position + 1 \
     where tenant_id = ?1 and user_id = ?2 and context = ?3 and position >= ?4";

const INSERT_PIN: &str = "insert into pins (tenant_id, id, user_id, dashboard_id, context, \
     position, pinned_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const DELETE_PIN: &str = "delete from pins where tenant_id = ?1 and user_id = ?2 \
     and context = ?3 and dashboard_id = ?4 returning position";

const SHIFT_UP_AFTER: &str = "update pins set position = position - 1 \
     where tenant_id = ?1 and user_id = ?2 and context = ?3 and position > ?4";

const LIST_PINS: &str = "select id, dashboard_id, context, position, pinned_at from pins \
     where tenant_id = ?1 and user_id = ?2 and context = ?3 order by position";

/// The dashboards pinned in a list, with the same binds as [`LIST_PINS`].
macro_rules! pinned {
    () => {
        "d.tenant_id = ?1 and d.id in (select dashboard_id from pins \
         where tenant_id = ?1 and user_id = ?2 and context = ?3)"
    };
}

const PINNED_DASHBOARDS: &str = concat!(
    "select ",
    dashboard_columns!(),
    " from dashboards d where ",
    pinned!()
);

const PINNED_WIDGETS: &str = concat!(
    "select ",
    widget_columns!(),
    " from widgets w join dashboards d on d.tenant_id = w.tenant_id and d.id = w.dashboard_id \
     where ",
    pinned!()
);

const PIN_CONTEXTS: &str = "select distinct context from pins \
     where tenant_id = ?1 and user_id = ?2 and dashboard_id = ?3 order by context";

const SET_POSITION: &str = "update pins set position = ?5 \
     where tenant_id = ?1 and user_id = ?2 and context = ?3 and dashboard_id = ?4";

fn pin_row(row: &SqliteRow) -> StoreResult<PinnedDashboard> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(db);
    let position: i64 = row.try_get("position").map_err(db)?;
    Ok(PinnedDashboard {
        id: text("id")?.parse().map_err(|_| invalid("pin id"))?,
        dashboard_id: text("dashboard_id")?
            .parse()
            .map_err(|_| invalid("pinned dashboard id"))?,
        context: text("context")?,
        position: u32::try_from(position).map_err(|_| invalid("pin position"))?,
        pinned_at: parse_time(&text("pinned_at")?)?,
    })
}

#[async_trait]
impl PinStore for SqliteStore {
    async fn pin(
        &self,
        scope: &Scope,
        user_id: &str,
        pin_id: PinId,
        dashboard_id: DashboardId,
        context: &str,
        position: Option<u32>,
    ) -> StoreResult<PinnedDashboard> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await.map_err(db)?;
        let exists: bool = sqlx::query_scalar(DASHBOARD_EXISTS)
            .bind(scope.tenant_id())
            .bind(dashboard_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        let pinned: bool = sqlx::query_scalar(PIN_EXISTS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(dashboard_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if pinned {
            return Err(StoreError::Conflict(Conflict::Pin));
        }
        let count: i64 = sqlx::query_scalar(COUNT_PINS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let at = position.map_or(count, |p| i64::from(p).min(count));
        sqlx::query(SHIFT_DOWN_FROM)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(INSERT_PIN)
            .bind(scope.tenant_id())
            .bind(pin_id.to_string())
            .bind(user_id)
            .bind(dashboard_id.to_string())
            .bind(context)
            .bind(at)
            .bind(time_text(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(PinnedDashboard {
            id: pin_id,
            dashboard_id,
            context: context.to_owned(),
            position: u32::try_from(at).map_err(|_| invalid("pin position"))?,
            pinned_at: now,
        })
    }

    async fn unpin(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
        context: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let removed: i64 = sqlx::query_scalar(DELETE_PIN)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(dashboard_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(SHIFT_UP_AFTER)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(removed)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn list_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
    ) -> StoreResult<Vec<(PinnedDashboard, Dashboard)>> {
        let mut tx = self.begin_read().await.map_err(db)?;
        let pins = sqlx::query(LIST_PINS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .iter()
            .map(pin_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let binds = [Some(scope.tenant_id()), Some(user_id), Some(context)];
        let dashboards = if pins.is_empty() {
            Vec::new()
        } else {
            fetch_dashboards(&mut tx, PINNED_DASHBOARDS, PINNED_WIDGETS, &binds).await?
        };
        tx.rollback().await.map_err(db)?;
        let mut by_id: HashMap<DashboardId, Dashboard> =
            dashboards.into_iter().map(|d| (d.id, d)).collect();
        Ok(pins
            .into_iter()
            .filter_map(|pin| {
                let dashboard = by_id.remove(&pin.dashboard_id)?;
                Some((pin, dashboard))
            })
            .collect())
    }

    async fn pin_contexts(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(PIN_CONTEXTS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(dashboard_id.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db)
    }

    async fn reorder_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
        dashboard_ids: &[DashboardId],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let mut pins = sqlx::query(LIST_PINS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .iter()
            .map(pin_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let rank = |pin: &PinnedDashboard| {
            dashboard_ids
                .iter()
                .position(|id| *id == pin.dashboard_id)
                .unwrap_or(usize::MAX)
        };
        // A stable sort keeps unlisted pins in their previous order after the listed ones.
        pins.sort_by_key(rank);
        for (position, pin) in (0i64..).zip(&pins) {
            if i64::from(pin.position) != position {
                sqlx::query(SET_POSITION)
                    .bind(scope.tenant_id())
                    .bind(user_id)
                    .bind(context)
                    .bind(pin.dashboard_id.to_string())
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)
    }
}
