-- A user gets a starter dashboard once, ever: one row per (tenant, user) for whom one was
-- created. No foreign key to the dashboard: the record outlives it on purpose, so that a user
-- who deleted their starter, or cleared their default, does not get a new one on every visit.
create table starter_dashboards (
    tenant_id  text not null,
    user_id    text not null,
    created_at text not null,
    primary key (tenant_id, user_id)
);
