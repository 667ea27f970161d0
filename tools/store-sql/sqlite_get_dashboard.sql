-- sql-load script for scripts/bench-sqlite.sh: GET /dashboards/{id} (SqliteStore::get_dashboard).
-- Made from the statements of prismiq-store-sqlite; do not edit (see src/bench_sql.rs).
BEGIN;
select d.id, d.name, d.description, d.layout, d.filters, d.owner_id, d.is_public, d.allowed_viewers, d.created_at, d.updated_at from dashboards d where d.tenant_id = :tenant and d.id = :dashboard;
select w.id, w.dashboard_id, w.widget_type, w.title, w.query, w.position, w.config, w.created_at, w.updated_at from widgets w where w.tenant_id = :tenant and w.dashboard_id = :dashboard;
ROLLBACK;
