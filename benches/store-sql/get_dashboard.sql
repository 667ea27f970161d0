-- pgbench script for scripts/bench-store.sh: GET /dashboards/{id} (DashboardStore::get_dashboard).
-- Made from the statements of prismiq-store-postgres; do not edit (see src/bench_sql.rs).
BEGIN;
select set_config('prismiq.tenant_id', :tenant, true), case when (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user) then set_config('role', 'prismiq_app', true) end;
select d.id, d.name, d.description, d.layout, d.filters, d.owner_id, d.is_public, d.allowed_viewers, d.created_at, d.updated_at, coalesce((select jsonb_agg(jsonb_build_object('id', w.id, 'type', w.widget_type, 'title', w.title, 'query', w.query, 'position', w.position, 'config', w.config, 'created_at', w.created_at, 'updated_at', w.updated_at) order by (w.position ->> 'y')::bigint, (w.position ->> 'x')::bigint, w.created_at, w.id) from prismiq.widgets w where w.tenant_id = d.tenant_id and w.dashboard_id = d.id), '[]'::jsonb) as widgets from prismiq.dashboards d where d.tenant_id = :tenant and d.id = :dashboard;
ROLLBACK;
