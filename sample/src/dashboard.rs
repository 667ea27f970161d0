//! The sample dashboard: a public "Sales overview" of the [sample dataset](crate::dataset) for
//! tenant `demo`, owned by user `demo`.

use prismiq_core::{DashboardCreate, Engine, EngineError, SimpleAuthContext};
use serde_json::json;

/// The tenant the sample dashboard belongs to.
pub const TENANT: &str = "demo";

/// The user who owns the sample dashboard.
pub const OWNER: &str = "demo";

/// Creates the sample dashboard unless the tenant has a dashboard of that name already.
pub async fn ensure(engine: &Engine) -> Result<(), Box<dyn std::error::Error>> {
    let owner = SimpleAuthContext::new(TENANT).with_user(OWNER);
    match engine.create_dashboard(&owner, definition()?).await {
        Ok(dashboard) => {
            tracing::info!(id = %dashboard.id, "created the sample dashboard for tenant `{TENANT}`");
            Ok(())
        }
        Err(EngineError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The dashboard: its filters, and widgets whose queries read the sample dataset.
///
/// # Errors
///
/// Never in practice: the definition is a constant that deserializes.
pub fn definition() -> Result<DashboardCreate, serde_json::Error> {
    let orders = json!({"id": "o", "name": "orders"});
    let customers = json!({"id": "c", "name": "customers"});
    let join = json!({"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id", "join_type": "INNER"});
    let completed =
        json!({"table_id": "o", "column": "status", "operator": "eq", "value": "completed"});
    serde_json::from_value(json!({
        "name": "Sales overview",
        "description": "Orders and revenue of the sample dataset",
        "is_public": true,
        "filters": [
            {"id": "region", "type": "select", "label": "Region", "field": "region", "table": "customers",
             "options": [{"value": "East", "label": "East"}, {"value": "North", "label": "North"},
                         {"value": "South", "label": "South"}, {"value": "West", "label": "West"}]},
            {"id": "period", "type": "date_range", "label": "Order date", "field": "order_date", "table": "orders",
             "date_preset": "last_year"}
        ],
        "widgets": [
            {"type": "metric", "title": "Revenue (completed orders)",
             "position": {"x": 0, "y": 0, "w": 4, "h": 2},
             "config": {"valueFormat": "currency", "currencySymbol": "$"},
             "query": {"tables": [orders], "filters": [completed],
                       "columns": [{"table_id": "o", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}]}},
            {"type": "metric", "title": "Orders",
             "position": {"x": 4, "y": 0, "w": 4, "h": 2},
             "query": {"tables": [orders],
                       "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"}]}},
            {"type": "text", "title": "About",
             "position": {"x": 8, "y": 0, "w": 4, "h": 2},
             "config": {"content": "Sample data: 500 customers, 3000 orders over two years.", "markdown": true}},
            {"type": "bar_chart", "title": "Revenue by region",
             "position": {"x": 0, "y": 2, "w": 6, "h": 4},
             "config": {"x_axis": "region", "y_axis": ["revenue"], "valueFormat": "currency"},
             "query": {"tables": [orders, customers], "joins": [join], "filters": [completed],
                       "columns": [{"table_id": "c", "column": "region"},
                                   {"table_id": "o", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}],
                       "order_by": [{"table_id": "c", "column": "region", "direction": "ASC"}]}},
            {"type": "pie_chart", "title": "Orders by status",
             "position": {"x": 6, "y": 2, "w": 6, "h": 4},
             "config": {"x_axis": "status", "y_axis": ["orders"]},
             "query": {"tables": [orders],
                       "columns": [{"table_id": "o", "column": "status"},
                                   {"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"}]}},
            {"type": "line_chart", "title": "Orders per month",
             "position": {"x": 0, "y": 6, "w": 12, "h": 4},
             "config": {"x_axis": "order_date_bucket", "y_axis": ["orders"]},
             "query": {"tables": [orders],
                       "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"}],
                       "time_series": {"table_id": "o", "date_column": "order_date", "interval": "month"}}},
            {"type": "table", "title": "Best-selling products",
             "position": {"x": 0, "y": 10, "w": 12, "h": 5},
             "config": {"page_size": 10, "sortable": true},
             "query": {"tables": [{"id": "i", "name": "order_items"}, {"id": "p", "name": "products"}],
                       "joins": [{"from_table_id": "i", "from_column": "product_id", "to_table_id": "p", "to_column": "id"}],
                       "columns": [{"table_id": "p", "column": "name", "alias": "product"},
                                   {"table_id": "p", "column": "category"},
                                   {"table_id": "i", "column": "quantity", "aggregation": "sum", "alias": "units"}],
                       "order_by": [{"table_id": "i", "column": "quantity", "direction": "DESC"}],
                       "limit": 10}}
        ]
    }))
}
