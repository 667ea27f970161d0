-- pgbench script for scripts/bench-store.sh: GET /dashboards/{id} with a matching If-None-Match (DashboardStore::dashboard_access).
-- Made from the statements of prismiq-store-postgres; do not edit (see src/bench_sql.rs).
BEGIN;
select set_config('prismiq.tenant_id', :tenant, true), case when (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user) then set_config('role', 'prismiq_app', true) end;
select d.owner_id, d.is_public, d.allowed_viewers, d.version from prismiq.dashboards d where d.tenant_id = :tenant and d.id = :dashboard;
ROLLBACK;
