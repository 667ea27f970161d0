-- Dashboard versions: every committed change to a dashboard or its widgets raises its
-- `version` by one and records an entry here in the same transaction, with who made it, the
-- kind of change and the whole dashboard after it (the JSON text the API writes). The writes
-- that make a version delete what the retention no longer keeps; deleting a dashboard deletes
-- its versions (the cascade). Dashboards that exist before this migration are at version 1
-- with no entry: their history starts with their next change.
alter table dashboards add column version integer not null default 1;

create table dashboard_versions (
    tenant_id    text not null,
    dashboard_id text not null,
    version      integer not null,
    author       text,
    kind         text not null,
    created_at   text not null,
    document     text not null,
    primary key (tenant_id, dashboard_id, version),
    foreign key (tenant_id, dashboard_id) references dashboards (tenant_id, id) on delete cascade
);
