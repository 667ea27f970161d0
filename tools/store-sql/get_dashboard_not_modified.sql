-- pgbench script for scripts/bench-store.sh: GET /dashboards/{id} with a matching If-None-Match (DashboardStore::dashboard_access).
-- Made from the statements of prismiq-store-postgres; do not edit (see src/bench_sql.rs).
select owner_id, is_public, allowed_viewers, version from prismiq.dashboard_access(:tenant, :dashboard);
