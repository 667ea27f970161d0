-- Live events of `PgEventBus`: each tenant's event counter, and its recent events kept for
-- resume. Event ids are consecutive per tenant: publishing takes `last_id + 1` under the
-- counter's row lock, which also makes a tenant's events commit, and be notified, in id order.
-- `body` is the event with its reach (the serde form of `prismiq_core::events::Envelope`), its
-- id set; events carry ids and names, never the objects they are about.
--
-- These two tables differ from the store's: they have no row-level security, and are not
-- granted to `prismiq_app`. The bus serves every tenant at once (one channel carries all of
-- them to every instance), and its statements run on the connection's own role, never in a
-- tenant-scoped transaction: publishing is one autocommit statement, so that the counter's
-- lock is released at once on commit, and a tenant setting would take a transaction of four
-- round trips around it. Every statement of the bus names its tenant; the store's
-- transactions, which do run as `prismiq_app`, never touch these tables.
create table prismiq.event_counters (
    tenant_id text primary key,
    last_id bigint not null
);

create table prismiq.events (
    tenant_id text not null,
    id bigint not null,
    body jsonb not null,
    created_at timestamptz not null default now(),
    -- Also serves replay (a tenant's events after an id) and pruning (before one).
    primary key (tenant_id, id)
);
