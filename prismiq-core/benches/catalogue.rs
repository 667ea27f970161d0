//! Checking one widget config against the demo's gauge schema (compiled once, when the type
//! joins the catalogue): the work every widget write does per widget.
//!
//! `cargo bench -p prismiq-core --bench catalogue`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use prismiq_core::catalogue::{Category, WidgetCatalogue, WidgetSizes, WidgetTypeSpec};
use prismiq_core::{AnyConfig, WidgetType};
use serde_json::json;

fn gauge() -> WidgetTypeSpec {
    WidgetTypeSpec::new("gauge", "Gauge")
        .with_category(Category::Stats)
        .with_sizes(WidgetSizes::new(3, 3).min(2, 2).max(6, 6))
        .with_default_config(json!({"min": 0, "max": 100, "thresholds": []}))
        .with_config_schema(json!({
            "type": "object",
            "properties": {
                "min": {"type": "number"},
                "max": {"type": "number"},
                "unit": {"type": "string", "maxLength": 12},
                "thresholds": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "number"},
                            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
                        },
                        "required": ["value", "color"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["min", "max"],
            "additionalProperties": false
        }))
}

fn config_validation(c: &mut Criterion) {
    let catalogue = WidgetCatalogue::new()
        .with_type(gauge())
        .expect("a valid type");
    let gauge = WidgetType::Custom("gauge".to_owned());
    let config = json!({
        "min": 0, "max": 3_000_000, "unit": "$",
        "thresholds": [
            {"value": 1_000_000, "color": "#e8a33d"},
            {"value": 2_000_000, "color": "#3d9a50"},
            {"value": 2_500_000, "color": "#2255aa"}
        ]
    });
    let config = AnyConfig::Json(config.as_object().cloned().expect("an object"));
    c.bench_function("check a gauge config", |b| {
        b.iter(|| {
            catalogue
                .check_config(&gauge, Some(config.clone()))
                .expect("valid")
        })
    });
    let broken = AnyConfig::Json(
        json!({"min": "zero", "max": 1, "thresholds": [{"value": 1, "color": "red"}]})
            .as_object()
            .cloned()
            .expect("an object"),
    );
    c.bench_function("check a broken gauge config", |b| {
        b.iter(|| {
            catalogue
                .check_config(&gauge, Some(broken.clone()))
                .expect_err("invalid")
        })
    });
}

criterion_group!(benches, config_validation);
criterion_main!(benches);
