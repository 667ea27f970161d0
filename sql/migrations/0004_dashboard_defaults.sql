-- Dashboards refresh themselves every `refresh_interval` seconds (null: never), and each user,
-- and each tenant as a whole, may have a default dashboard.

-- `bigint` so that every `u32` the API accepts fits.
alter table prismiq.dashboards
    add column refresh_interval bigint,
    add constraint dashboards_refresh_interval_check
        check (refresh_interval between 0 and 4294967295);

-- One row per default: a user's own (`user_id` set) or the tenant's (`user_id` null). A default
-- goes with its dashboard.
create table prismiq.dashboard_defaults (
    tenant_id text not null,
    user_id text,
    dashboard_id uuid not null,
    constraint dashboard_defaults_dashboard_fkey foreign key (tenant_id, dashboard_id)
        references prismiq.dashboards (tenant_id, id) on delete cascade
);

-- At most one default per user, and one for the tenant; also serve reading them.
create unique index dashboard_defaults_tenant_id_user_id_key
    on prismiq.dashboard_defaults (tenant_id, user_id) where user_id is not null;
create unique index dashboard_defaults_tenant_id_key
    on prismiq.dashboard_defaults (tenant_id) where user_id is null;
-- The defaults of a dashboard (the cascade from it).
create index dashboard_defaults_tenant_id_dashboard_id_idx
    on prismiq.dashboard_defaults (tenant_id, dashboard_id);

alter table prismiq.dashboard_defaults enable row level security;
alter table prismiq.dashboard_defaults force row level security;
create policy tenant_isolation on prismiq.dashboard_defaults
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.dashboard_defaults to prismiq_app;
    end if;
end
$$;
