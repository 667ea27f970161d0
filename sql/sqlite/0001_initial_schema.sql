-- prismiq's tables in SQLite: dashboards with their widgets, saved queries, pins and schema
-- configs. Every table carries tenant_id and every statement of the store filters by it.
--
-- Ids are UUIDs as lowercase text; timestamps are UTC text with six fractional digits
-- (`2026-11-21T21:35:40.181441Z`), which sorts as the instants do; JSON values are text.
-- Names compare by code point (`collate binary`, SQLite's default).

create table dashboards (
    tenant_id       text    not null,
    id              text    not null primary key,
    name            text    not null collate binary,
    description     text,
    layout          text    not null,
    filters         text    not null,
    owner_id        text,
    is_public       integer not null default 0 check (is_public in (0, 1)),
    allowed_viewers text    not null default '[]',
    created_at      text    not null,
    updated_at      text    not null,
    constraint dashboards_tenant_id_name_key unique (tenant_id, name),
    constraint dashboards_tenant_id_id_key unique (tenant_id, id)
);

create index dashboards_tenant_updated on dashboards (tenant_id, updated_at desc, id desc);
create index dashboards_tenant_owner on dashboards (tenant_id, owner_id);

create table widgets (
    tenant_id    text not null,
    id           text not null primary key,
    dashboard_id text not null,
    widget_type  text not null,
    title        text not null,
    query        text,
    position     text not null,
    config       text not null,
    created_at   text not null,
    updated_at   text not null,
    foreign key (tenant_id, dashboard_id) references dashboards (tenant_id, id) on delete cascade
);

create index widgets_dashboard on widgets (tenant_id, dashboard_id);

create table saved_queries (
    tenant_id   text    not null,
    id          text    not null primary key,
    name        text    not null collate binary,
    description text,
    query       text    not null,
    owner_id    text,
    is_shared   integer not null default 0 check (is_shared in (0, 1)),
    created_at  text    not null,
    updated_at  text    not null,
    constraint saved_queries_tenant_id_name_key unique (tenant_id, name)
);

create table pins (
    tenant_id    text    not null,
    id           text    not null primary key,
    user_id      text    not null,
    dashboard_id text    not null,
    context      text    not null,
    position     integer not null check (position >= 0),
    pinned_at    text    not null,
    constraint pins_tenant_id_user_id_dashboard_id_context_key
        unique (tenant_id, user_id, dashboard_id, context),
    foreign key (tenant_id, dashboard_id) references dashboards (tenant_id, id) on delete cascade
);

create index pins_tenant_user_context on pins (tenant_id, user_id, context, position);
create index pins_dashboard on pins (tenant_id, dashboard_id);

create table schema_configs (
    tenant_id text not null primary key,
    config    text not null
);
