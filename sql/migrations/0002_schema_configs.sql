-- Each tenant's schema config (display names, descriptions, hidden tables and columns): the
-- serde form of `prismiq_core::SchemaConfig`, one row per tenant.

create table prismiq.schema_configs (
    tenant_id text primary key,
    config jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create trigger schema_configs_set_updated_at
    before update on prismiq.schema_configs
    for each row execute function prismiq.set_updated_at();

alter table prismiq.schema_configs enable row level security;
alter table prismiq.schema_configs force row level security;
create policy tenant_isolation on prismiq.schema_configs
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.schema_configs to prismiq_app;
    end if;
end
$$;
