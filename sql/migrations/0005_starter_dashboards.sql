-- A user gets a starter dashboard once, ever: one row per (tenant, user) for whom one was
-- created. No foreign key to the dashboard: the record outlives it on purpose, so that a user
-- who deleted their starter, or cleared their default, does not get a new one on every visit.
create table prismiq.starter_dashboards (
    tenant_id text not null,
    user_id text not null,
    created_at timestamptz not null default now(),
    constraint starter_dashboards_pkey primary key (tenant_id, user_id)
);

alter table prismiq.starter_dashboards enable row level security;
alter table prismiq.starter_dashboards force row level security;
create policy tenant_isolation on prismiq.starter_dashboards
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.starter_dashboards to prismiq_app;
    end if;
end
$$;
