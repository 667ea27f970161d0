-- Share links: a token that shows one dashboard, read-only, to someone without a login. Only
-- the token's hash is stored (SHA-256, lower-case hex); `locked_filters` is the JSON text of
-- the filter values the link always applies, by filter id. Deleting a dashboard revokes its
-- links (the cascade).
create table shares (
    tenant_id      text not null,
    id             text not null primary key,
    dashboard_id   text not null,
    token_hash     text not null,
    label          text,
    locked_filters text not null default '{}',
    expires_at     text,
    created_by     text,
    schema_name    text,
    created_at     text not null,
    foreign key (tenant_id, dashboard_id) references dashboards (tenant_id, id) on delete cascade
);

-- Finding a link by its token, the one lookup that knows no tenant.
create unique index shares_token_hash on shares (token_hash);
-- The links of a dashboard (listing them, and the cascade).
create index shares_dashboard on shares (tenant_id, dashboard_id);
