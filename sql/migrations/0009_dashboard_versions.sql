-- Dashboard versions: every committed change to a dashboard or its widgets raises its
-- `version` by one and records an entry here in the same transaction, with who made it, the
-- kind of change and the whole dashboard after it (as the API writes it). The writes that make
-- a version delete what the retention no longer keeps; deleting a dashboard deletes its
-- versions (the cascade). Dashboards that exist before this migration are at version 1 with
-- no entry: their history starts with their next change.
alter table prismiq.dashboards add column version bigint not null default 1;

create table prismiq.dashboard_versions (
    tenant_id text not null,
    dashboard_id uuid not null,
    version bigint not null,
    author text,
    kind text not null,
    created_at timestamptz not null default now(),
    document jsonb not null,
    primary key (tenant_id, dashboard_id, version),
    constraint dashboard_versions_dashboard_fkey foreign key (tenant_id, dashboard_id)
        references prismiq.dashboards (tenant_id, id) on delete cascade
);

alter table prismiq.dashboard_versions enable row level security;
alter table prismiq.dashboard_versions force row level security;
create policy tenant_isolation on prismiq.dashboard_versions
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.dashboard_versions to prismiq_app;
    end if;
end
$$;
