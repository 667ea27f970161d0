-- A version's document is kept as `json`, the text the store built, rather than `jsonb`: the
-- store builds it once and both records it and answers it, so nothing parses it on the way in,
-- and it reads back exactly as it was written. Nothing queries inside it.
alter table prismiq.dashboard_versions alter column document type json using document::json;
