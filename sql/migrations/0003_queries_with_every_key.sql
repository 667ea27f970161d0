-- Stored query definitions (widgets' `query`, saved queries' `query`) carry every key with its
-- default, as the API writes them from now on: `joins`, `filters`, `group_by`, `order_by` and
-- `calculated_fields` as lists, `limit`, `offset` and `time_series` as null when unset, and each
-- item's own defaults (`alias`, `join_type`, `aggregation`, `direction`, `sql_expression`, …).
-- Reads send the stored JSON as it is, so rows written before are filled in here once.

-- `items` with `defaults` under each element (the element's own keys win); `[]` when `items`
-- is absent or not a list.
create or replace function pg_temp.with_item_defaults(items jsonb, defaults jsonb) returns jsonb
    language sql immutable
as $$
    select coalesce(jsonb_agg(defaults || item order by position), '[]'::jsonb)
    from jsonb_array_elements(
        case when jsonb_typeof(items) = 'array' then items else '[]'::jsonb end
    ) with ordinality as element(item, position)
$$;

create or replace function pg_temp.with_query_defaults(query jsonb) returns jsonb
    language sql immutable
as $$
    select '{"limit": null, "offset": null}'::jsonb || query || jsonb_build_object(
        'tables', pg_temp.with_item_defaults(query -> 'tables', '{"alias": null}'),
        'joins', pg_temp.with_item_defaults(query -> 'joins', '{"join_type": "INNER"}'),
        'columns', pg_temp.with_item_defaults(query -> 'columns',
            '{"aggregation": "none", "alias": null, "date_trunc": null, "date_format": null,
              "sql_expression": null}'),
        'filters', pg_temp.with_item_defaults(query -> 'filters',
            '{"value": null, "sql_expression": null}'),
        'group_by', pg_temp.with_item_defaults(query -> 'group_by', '{}'),
        'order_by', pg_temp.with_item_defaults(query -> 'order_by', '{"direction": "ASC"}'),
        'calculated_fields', pg_temp.with_item_defaults(query -> 'calculated_fields',
            '{"sql_expression": null, "has_internal_aggregation": false, "data_type": "number"}'),
        'time_series', case
            when jsonb_typeof(query -> 'time_series') = 'object'
                then '{"fill_missing": true, "fill_value": 0, "alias": null}'::jsonb
                     || (query -> 'time_series')
            else 'null'::jsonb
        end
    )
$$;

-- Row-level security hides every row from a role it applies to; the migration runs as the
-- tables' owner, for whom the policies are forced too, so it lifts them for these statements.
-- Filling in defaults is not a change anyone made: `updated_at` stays as it is.
alter table prismiq.widgets no force row level security;
alter table prismiq.saved_queries no force row level security;
alter table prismiq.widgets disable trigger widgets_set_updated_at;
alter table prismiq.saved_queries disable trigger saved_queries_set_updated_at;

update prismiq.widgets
set query = pg_temp.with_query_defaults(query)
where jsonb_typeof(query) = 'object';

update prismiq.saved_queries
set query = pg_temp.with_query_defaults(query)
where jsonb_typeof(query) = 'object';

alter table prismiq.widgets enable trigger widgets_set_updated_at;
alter table prismiq.saved_queries enable trigger saved_queries_set_updated_at;
alter table prismiq.widgets force row level security;
alter table prismiq.saved_queries force row level security;

drop function pg_temp.with_query_defaults(jsonb);
drop function pg_temp.with_item_defaults(jsonb, jsonb);
