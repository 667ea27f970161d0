-- Whether a share link lets its viewers download its widgets' rows (CSV, NDJSON, XLSX). Links
-- made before exports existed do not.
alter table shares add column allow_export integer not null default 0;
