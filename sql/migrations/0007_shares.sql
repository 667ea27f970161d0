-- Share links: a token that shows one dashboard, read-only, to someone without a login. Only
-- the token's hash is stored (SHA-256, lower-case hex); `locked_filters` holds filter values
-- the link always applies, by filter id. Deleting a dashboard revokes its links (the cascade).
create table prismiq.shares (
    id uuid primary key,
    tenant_id text not null,
    dashboard_id uuid not null,
    -- Also serves finding a link by its token.
    token_hash text not null constraint shares_token_hash_key unique,
    label text,
    locked_filters jsonb not null default '{}',
    expires_at timestamptz,
    created_by text,
    schema_name text,
    created_at timestamptz not null default now(),
    constraint shares_dashboard_fkey foreign key (tenant_id, dashboard_id)
        references prismiq.dashboards (tenant_id, id) on delete cascade
);

-- The links of a dashboard (listing them, and the cascade).
create index shares_tenant_id_dashboard_id_idx on prismiq.shares (tenant_id, dashboard_id);

alter table prismiq.shares enable row level security;
alter table prismiq.shares force row level security;
create policy tenant_isolation on prismiq.shares
    using (tenant_id = current_setting('prismiq.tenant_id', true))
    with check (tenant_id = current_setting('prismiq.tenant_id', true));

-- Opening a link is the one lookup that knows no tenant: the token names the link. The
-- store's lookup transaction sets `prismiq.share_token_hash` (and no tenant), and this
-- policy, or'ed with the one above for reads only, lets it see exactly the row with that hash,
-- in whatever tenant, and nothing else. `nullif`: once a session has used the setting, it
-- reads as '' rather than null outside such a transaction, which must match no row.
create policy share_lookup on prismiq.shares
    for select
    using (token_hash = nullif(current_setting('prismiq.share_token_hash', true), ''));

do $$
begin
    if exists (select from pg_catalog.pg_roles where rolname = 'prismiq_app') then
        grant select, insert, update, delete on prismiq.shares to prismiq_app;
    end if;
end
$$;
