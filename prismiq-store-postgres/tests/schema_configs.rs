//! `SchemaConfigStore` for `PostgresStore`: one config per tenant, replaced as a whole.

use std::collections::BTreeMap;

use prismiq_core::{SchemaConfig, SchemaConfigStore, Scope, TableConfig};
use prismiq_store_postgres::testing::fresh_database;

fn hiding(table: &str) -> SchemaConfig {
    SchemaConfig {
        tables: BTreeMap::from([(
            table.to_owned(),
            TableConfig {
                display_name: Some(format!("{table} (hidden)")),
                hidden: true,
                ..TableConfig::default()
            },
        )]),
    }
}

#[tokio::test]
async fn schema_configs_round_trip_per_tenant_and_are_replaced_whole() {
    let database = fresh_database().await;
    let store = database.store();
    let (a, b) = (Scope::new("a"), Scope::new("b"));

    assert_eq!(store.get_schema_config(&a).await.unwrap(), None);
    store.put_schema_config(&a, hiding("orders")).await.unwrap();
    assert_eq!(
        store.get_schema_config(&a).await.unwrap(),
        Some(hiding("orders"))
    );
    assert_eq!(
        store.get_schema_config(&b).await.unwrap(),
        None,
        "another tenant's config is not visible"
    );

    store
        .put_schema_config(&a, hiding("customers"))
        .await
        .unwrap();
    assert_eq!(
        store.get_schema_config(&a).await.unwrap(),
        Some(hiding("customers")),
        "a put replaces the whole config"
    );
    store
        .put_schema_config(&b, SchemaConfig::default())
        .await
        .unwrap();
    assert_eq!(
        store.get_schema_config(&a).await.unwrap(),
        Some(hiding("customers")),
        "another tenant's put leaves it alone"
    );
    database.drop_database().await;
}
