-- Each tenant's dashboard templates, saved by its users from their dashboards. `content` is
-- the JSON text of `prismiq_core::TemplateContent` (layout, filters, widgets and refresh
-- interval) as one document; what templates are listed and told apart by are columns.
create table templates (
    tenant_id   text not null,
    id          text not null primary key,
    name        text not null collate binary,
    description text,
    category    text,
    created_by  text,
    content     text not null,
    created_at  text not null,
    -- Also serves listing by name.
    constraint templates_tenant_id_name_key unique (tenant_id, name)
);
