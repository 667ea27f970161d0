-- Whether a share link lets its viewers download its widgets' rows (CSV, NDJSON, XLSX). Links
-- made before exports existed do not.
alter table prismiq.shares add column allow_export boolean not null default false;
