-- What a conditional GET needs of a dashboard (who may view it, and its version) as one
-- statement outside any transaction: a round trip, where `BEGIN`, the tenant setup and the
-- read take three. The function does what every transaction of the store starts with, in the
-- same order and with the same effect (the tenant for row-level security, and the switch to
-- `prismiq_app` for a role that would bypass it, both ending with the statement's own
-- transaction), then reads: PL/pgSQL runs its statements in order and plans the read once the
-- role is set, so the policies apply to it as to any other read of the store. It is not
-- `security definer`: it runs with the caller's rights, which may set both anyway.
create function prismiq.dashboard_access(p_tenant_id text, p_dashboard_id uuid)
returns table (owner_id text, is_public boolean, allowed_viewers text[], version bigint)
language plpgsql
volatile
as $$
begin
    perform set_config('prismiq.tenant_id', p_tenant_id, true);
    if (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r
        where r.rolname = current_user) then
        perform set_config('role', 'prismiq_app', true);
    end if;
    return query
        select d.owner_id, d.is_public, d.allowed_viewers, d.version
        from prismiq.dashboards d
        where d.tenant_id = p_tenant_id and d.id = p_dashboard_id;
end
$$;
