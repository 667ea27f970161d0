-- Each tenant's dashboard templates, saved by its users from their dashboards. `content` holds
-- the serde form of `prismiq_core::TemplateContent` (layout, filters, widgets and refresh
-- interval) as one document; what templates are listed and told apart by are columns.
create table prismiq.templates (
    id uuid primary key,
    tenant_id text not null,
    -- "C" collation: names compare and sort by code point, as the Rust side does.
    name text collate "C" not null,
    description text,
    category text,
    created_by text,
    content jsonb not null,
    created_at timestamptz not null default now(),
    -- Also serves listing by name.
    constraint templates_tenant_id_name_key unique (tenant_id, name)
);

alter table prismiq.templates enable row level security;
alter table prismiq.templates force row level security;
create policy tenant_isolation on prismiq.templates
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.templates to prismiq_app;
    end if;
end
$$;
