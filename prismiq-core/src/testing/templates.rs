//! Conformance cases of tenant dashboard templates.

use super::*;
use crate::ids::TemplateId;
use crate::model::{DashboardExport, PositionRequest, TemplateContent, TemplateSource};
use crate::store::NewTemplate;

fn new_template(name: &str, by: Option<&str>) -> NewTemplate {
    let dashboard = new_dashboard(name, by, vec![widget("chart", 0, 0)])
        .into_dashboard(crate::model::Timestamp::now());
    let mut export = DashboardExport::of(&dashboard);
    // A widget without a position or a config, as templates may hold.
    let mut loose = export.widgets[0].clone();
    loose.title = "loose".to_owned();
    loose.position = Some(PositionRequest::size(2, 2));
    loose.config = None;
    export.widgets.push(loose);
    export.refresh_interval = Some(45);
    NewTemplate {
        id: TemplateId::new(),
        name: name.to_owned(),
        description: Some(format!("{name} template")),
        category: Some("sales".to_owned()),
        created_by: by.map(str::to_owned),
        content: TemplateContent {
            layout: export.layout,
            filters: export.filters,
            widgets: export.widgets,
            refresh_interval: export.refresh_interval,
        },
    }
}

/// Templates: every field survives, names are unique per tenant, tenants are isolated, a
/// deleted template is gone.
pub async fn templates_round_trip_per_tenant<S: FullStore>(store: &S) {
    let new = new_template("Overview", Some("alice"));
    let id = new.id;
    let created = store
        .create_template(&scope("t1"), new.clone())
        .await
        .expect("create a template");
    assert_eq!(created.id, id.to_string());
    assert_eq!(created.source, TemplateSource::Tenant);
    assert!(created.created_at.is_some());
    let loaded = store
        .get_template(&scope("t1"), id)
        .await
        .expect("get a template")
        .expect("the template exists");
    assert_eq!(loaded, created, "a template reads back as it was saved");
    assert_eq!(loaded.widgets, new.content.widgets);
    assert_eq!(loaded.filters, new.content.filters);
    assert_eq!(loaded.layout, new.content.layout);
    assert_eq!(loaded.refresh_interval, Some(45));
    assert_eq!(loaded.created_by.as_deref(), Some("alice"));

    assert_conflict(
        store
            .create_template(&scope("t1"), new_template("Overview", Some("bob")))
            .await,
        Conflict::TemplateName,
        "a taken template name",
    );
    store
        .create_template(&scope("t2"), new_template("Overview", Some("bob")))
        .await
        .expect("the same name in another tenant");
    store
        .create_template(&scope("t1"), new_template("Another", None))
        .await
        .expect("another template");
    let names: Vec<String> = store
        .list_templates(&scope("t1"))
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        ["Another", "Overview"],
        "listed by name, the tenant's only"
    );
    assert!(
        store
            .get_template(&scope("t2"), id)
            .await
            .unwrap()
            .is_none(),
        "another tenant's template does not exist"
    );
    assert_not_found(
        store.delete_template(&scope("t2"), id).await,
        "deleting another tenant's template",
    );
    store
        .delete_template(&scope("t1"), id)
        .await
        .expect("delete");
    assert!(
        store
            .get_template(&scope("t1"), id)
            .await
            .unwrap()
            .is_none()
    );
    assert_not_found(
        store.delete_template(&scope("t1"), id).await,
        "deleting twice",
    );
}
