//! [`PinStore`] for [`PostgresStore`].
//!
//! Every change to pins first takes a per-tenant advisory lock ([`LOCK_PINS`]), so that the
//! positions of each list stay `0..n-1` whatever runs concurrently. Deleting a dashboard takes
//! the same lock, and always before it locks the dashboard row, as pinning does: no deadlock.

use async_trait::async_trait;
use prismiq_core::{
    Dashboard, DashboardId, PinId, PinStore, PinnedDashboard, Scope, StoreError, StoreResult,
};

use crate::PostgresStore;
use crate::error::db;
use crate::rows::{PinRow, PinnedRow, dashboard_document_columns};
use crate::store::end_read;

/// Serialises pin changes per tenant.
pub(crate) const LOCK_PINS: &str =
    "select pg_advisory_xact_lock(hashtext('prismiq.pins'), hashtext($1))";

/// Inserts the pin at `$6` (clamped to the end; the end when null) and shifts the pins from
/// there down by one. Inserts nothing when the tenant has no dashboard `$4`.
const PIN: &str = "with slot as ( \
         select least(coalesce($6::bigint, c.n), c.n)::integer as position \
         from (select count(*) as n from prismiq.pins \
               where tenant_id = $1 and user_id = $2 and context = $3) c \
     ), shifted as ( \
         update prismiq.pins p set position = p.position + 1 from slot s \
         where p.tenant_id = $1 and p.user_id = $2 and p.context = $3 \
           and p.position >= s.position \
     ) \
     insert into prismiq.pins (id, tenant_id, user_id, dashboard_id, context, position) \
     select $5, $1, $2, d.id, $3, s.position \
     from slot s, prismiq.dashboards d where d.tenant_id = $1 and d.id = $4 \
     returning id as pin_id, dashboard_id, context as pin_context, position as pin_position, \
               pinned_at";

/// Deletes the pin and closes the gap; the count says whether there was one.
const UNPIN: &str = "with removed as ( \
         delete from prismiq.pins \
         where tenant_id = $1 and user_id = $2 and dashboard_id = $3 and context = $4 \
         returning position \
     ), closed as ( \
         update prismiq.pins p set position = p.position - 1 from removed r \
         where p.tenant_id = $1 and p.user_id = $2 and p.context = $4 \
           and p.position > r.position \
     ) \
     select count(*) from removed";

const LIST_PINS: &str = concat!(
    "select p.id as pin_id, p.dashboard_id, p.context as pin_context, \
            p.position as pin_position, p.pinned_at, ",
    dashboard_document_columns!(),
    " from prismiq.pins p \
      join prismiq.dashboards d on d.tenant_id = p.tenant_id and d.id = p.dashboard_id \
      where p.tenant_id = $1 and p.user_id = $2 and p.context = $3 \
      order by p.position"
);

const PIN_CONTEXTS: &str = "select context from prismiq.pins \
     where tenant_id = $1 and user_id = $2 and dashboard_id = $3 order by context";

/// Renumbers the list: dashboards of `$4` first, in that order (the first mention counts),
/// then the others in their previous order.
const REORDER_PINS: &str = "with listed as ( \
         select u.dashboard_id, min(u.ord) as ord \
         from unnest($4::uuid[]) with ordinality as u(dashboard_id, ord) \
         group by u.dashboard_id \
     ), ranked as ( \
         select p.id, \
                (row_number() over (order by l.ord nulls last, p.position) - 1)::integer \
                    as position \
         from prismiq.pins p left join listed l on l.dashboard_id = p.dashboard_id \
         where p.tenant_id = $1 and p.user_id = $2 and p.context = $3 \
     ) \
     update prismiq.pins p set position = r.position \
     from ranked r where p.id = r.id and p.position <> r.position";

#[async_trait]
impl PinStore for PostgresStore {
    async fn pin(
        &self,
        scope: &Scope,
        user_id: &str,
        pin_id: PinId,
        dashboard_id: DashboardId,
        context: &str,
        position: Option<u32>,
    ) -> StoreResult<PinnedDashboard> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        sqlx::query(LOCK_PINS)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let row: PinRow = sqlx::query_as(PIN)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(dashboard_id.as_uuid())
            .bind(pin_id.as_uuid())
            .bind(position.map(i64::from))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
        let pin = PinnedDashboard::try_from(row).map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(pin)
    }

    async fn unpin(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
        context: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        sqlx::query(LOCK_PINS)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let removed: i64 = sqlx::query_scalar(UNPIN)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(dashboard_id.as_uuid())
            .bind(context)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }

    async fn list_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
    ) -> StoreResult<Vec<(PinnedDashboard, Dashboard)>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<PinnedRow> = sqlx::query_as(LIST_PINS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        rows.into_iter()
            .map(|row| {
                let pin = PinnedDashboard::try_from(row.pin).map_err(db)?;
                Ok((pin, Dashboard::try_from(row.dashboard).map_err(db)?))
            })
            .collect()
    }

    async fn pin_contexts(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let contexts = sqlx::query_scalar(PIN_CONTEXTS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(dashboard_id.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(contexts)
    }

    async fn reorder_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
        dashboard_ids: &[DashboardId],
    ) -> StoreResult<()> {
        let ids: Vec<uuid::Uuid> = dashboard_ids.iter().map(DashboardId::as_uuid).collect();
        let mut tx = self.begin(scope).await.map_err(db)?;
        sqlx::query(LOCK_PINS)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(REORDER_PINS)
            .bind(scope.tenant_id())
            .bind(user_id)
            .bind(context)
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }
}
