-- prismiq's own tables: dashboards, their widgets, saved queries and pins.
--
-- Everything lives in schema `prismiq` (migrations are recorded in `prismiq._sqlx_migrations`,
-- never in the host's table). Every table carries `tenant_id`, and row-level security confines
-- each statement to the tenant the store sets with
-- `set_config('prismiq.tenant_id', <tenant>, true)`: a statement that forgets its tenant filter
-- sees nothing of other tenants.

create schema if not exists prismiq;

-- `updated_at` follows every update, whoever makes it.
create function prismiq.set_updated_at() returns trigger
    language plpgsql
    set search_path = pg_catalog
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create table prismiq.dashboards (
    id uuid primary key,
    tenant_id text not null,
    -- "C" collation: names compare and sort by code point, as the Rust side does.
    name text collate "C" not null,
    description text,
    layout jsonb not null,
    filters jsonb not null default '[]',
    owner_id text,
    is_public boolean not null default false,
    allowed_viewers text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- The target of the tenant-carrying foreign keys below; also serves lookups by id.
    constraint dashboards_tenant_id_id_key unique (tenant_id, id),
    constraint dashboards_tenant_id_name_key unique (tenant_id, name)
);

-- Listing: newest first.
create index dashboards_tenant_id_updated_at_idx
    on prismiq.dashboards (tenant_id, updated_at desc, id desc);
-- Counting an owner's dashboards against a limit.
create index dashboards_tenant_id_owner_id_idx on prismiq.dashboards (tenant_id, owner_id);

create trigger dashboards_set_updated_at
    before update on prismiq.dashboards
    for each row execute function prismiq.set_updated_at();

create table prismiq.widgets (
    -- Widget ids are unique across dashboards and tenants.
    id uuid primary key,
    tenant_id text not null,
    dashboard_id uuid not null,
    widget_type text not null,
    title text not null,
    query jsonb,
    position jsonb not null,
    config jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- A widget belongs to a dashboard of its own tenant, and goes with it.
    constraint widgets_dashboard_fkey foreign key (tenant_id, dashboard_id)
        references prismiq.dashboards (tenant_id, id) on delete cascade,
    constraint widgets_position_check check (
        jsonb_typeof(position -> 'x') = 'number'
        and jsonb_typeof(position -> 'y') = 'number'
        and jsonb_typeof(position -> 'w') = 'number'
        and jsonb_typeof(position -> 'h') = 'number'
    )
);

-- A dashboard's widgets (and the cascade from it).
create index widgets_tenant_id_dashboard_id_idx on prismiq.widgets (tenant_id, dashboard_id);

create trigger widgets_set_updated_at
    before update on prismiq.widgets
    for each row execute function prismiq.set_updated_at();

create table prismiq.saved_queries (
    id uuid primary key,
    tenant_id text not null,
    name text collate "C" not null,
    description text,
    query jsonb not null,
    owner_id text,
    is_shared boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Also serves listing by name.
    constraint saved_queries_tenant_id_name_key unique (tenant_id, name)
);

create trigger saved_queries_set_updated_at
    before update on prismiq.saved_queries
    for each row execute function prismiq.set_updated_at();

create table prismiq.pins (
    id uuid primary key,
    tenant_id text not null,
    user_id text not null,
    dashboard_id uuid not null,
    context text collate "C" not null,
    position integer not null,
    pinned_at timestamptz not null default now(),
    constraint pins_dashboard_fkey foreign key (tenant_id, dashboard_id)
        references prismiq.dashboards (tenant_id, id) on delete cascade,
    -- Also serves the contexts a user pinned a dashboard in.
    constraint pins_tenant_id_user_id_dashboard_id_context_key
        unique (tenant_id, user_id, dashboard_id, context),
    -- Positions in a (tenant, user, context) list are distinct; checked at the end of each
    -- statement so that one statement can shift a whole list. Also serves listing in order.
    constraint pins_tenant_id_user_id_context_position_key
        unique (tenant_id, user_id, context, position) deferrable initially immediate,
    constraint pins_position_check check (position >= 0)
);

-- The pins of a dashboard (deleting it, and the cascade).
create index pins_tenant_id_dashboard_id_idx on prismiq.pins (tenant_id, dashboard_id);

-- Row-level security. `force` makes the policies apply to the tables' owner too.
alter table prismiq.dashboards enable row level security;
alter table prismiq.dashboards force row level security;
create policy tenant_isolation on prismiq.dashboards
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

alter table prismiq.widgets enable row level security;
alter table prismiq.widgets force row level security;
create policy tenant_isolation on prismiq.widgets
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

alter table prismiq.saved_queries enable row level security;
alter table prismiq.saved_queries force row level security;
create policy tenant_isolation on prismiq.saved_queries
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

alter table prismiq.pins enable row level security;
alter table prismiq.pins force row level security;
create policy tenant_isolation on prismiq.pins
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

-- Superusers and roles with bypassrls are exempt from row-level security, so a store connected
-- as one switches, per transaction, to `prismiq_app`: a role with no login, no bypass and only
-- the privileges the store needs. Roles are shared by the whole cluster; creating it needs
-- superuser or createrole, and a store connected as an ordinary role does not need it at all.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        create role prismiq_app nologin nosuperuser nobypassrls;
    end if;
exception
    -- Created meanwhile by a migration of another database of the cluster.
    when duplicate_object or unique_violation then null;
    -- Not allowed to create roles: fine for a store connected as an ordinary role.
    when insufficient_privilege then null;
end
$$;

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant usage on schema prismiq to prismiq_app;
        grant select, insert, update, delete
            on prismiq.dashboards, prismiq.widgets, prismiq.saved_queries, prismiq.pins
            to prismiq_app;
    end if;
end
$$;
