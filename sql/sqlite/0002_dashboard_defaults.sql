-- Dashboards refresh themselves every `refresh_interval` seconds (null: never), and each user,
-- and each tenant as a whole, may have a default dashboard.

alter table dashboards add column refresh_interval integer
    check (refresh_interval between 0 and 4294967295);

-- One row per default: a user's own (`user_id` set) or the tenant's (`user_id` null). A default
-- goes with its dashboard.
create table dashboard_defaults (
    tenant_id    text not null,
    user_id      text,
    dashboard_id text not null,
    foreign key (tenant_id, dashboard_id) references dashboards (tenant_id, id) on delete cascade
);

-- At most one default per user, and one for the tenant; also serve reading them.
create unique index dashboard_defaults_user on dashboard_defaults (tenant_id, user_id)
    where user_id is not null;
create unique index dashboard_defaults_tenant on dashboard_defaults (tenant_id)
    where user_id is null;
-- The defaults of a dashboard (the cascade from it).
create index dashboard_defaults_dashboard on dashboard_defaults (tenant_id, dashboard_id);
