//! OpenAPI schemas (feature `openapi`) of the wire types whose JSON shape is written by hand
//! rather than derived: [`TimeUnit`] (lower-case names, read case-insensitively),
//! [`LayoutItem`] (several accepted shapes), [`WidgetType`] (an open set of keys) and
//! [`AnyConfig`] (a built-in config or a host type's object). Every other wire type derives
//! [`utoipa::ToSchema`] where it is defined.

use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::model::{AnyConfig, LayoutItem, WidgetConfig, WidgetType};
use crate::query::TimeUnit;

impl PartialSchema for TimeUnit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(TimeUnit::ALL.map(TimeUnit::as_str)))
            .description(Some(
                "A unit of PostgreSQL's `date_trunc`, written in lower case (read \
                 case-insensitively). Weeks start on Monday.",
            ))
            .into()
    }
}

impl ToSchema for TimeUnit {}

impl PartialSchema for WidgetType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some("^[a-z][a-z0-9_]{0,63}$"))
            .description(Some(
                "A built-in type (metric, bar_chart, line_chart, area_chart, pie_chart, \
                 scatter_chart, table, text) or a type the host registered; \
                 GET /widget-types lists those the caller may use.",
            ))
            .examples(["bar_chart"])
            .into()
    }
}

impl ToSchema for WidgetType {}

impl PartialSchema for AnyConfig {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                WidgetConfig::name(),
            )))
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Object))
                    .description(Some(
                        "The config of a host's widget type, as its config_schema \
                         (GET /widget-types) describes it.",
                    )),
            )
            .description(Some(
                "A built-in type's 34-key config, or a host type's own config object.",
            ))
            .into()
    }
}

impl ToSchema for AnyConfig {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((WidgetConfig::name().into(), WidgetConfig::schema()));
        <WidgetConfig as ToSchema>::schemas(schemas);
    }
}

/// A grid coordinate: an integer of at least `minimum`, or `null` for the default.
fn coordinate(minimum: u32, default: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(minimum))
        .default(Some(default.into()))
}

/// The keys `x`, `y`, `w`, `h`, each optional.
fn coordinates(object: ObjectBuilder) -> ObjectBuilder {
    object
        .property(
            "x",
            coordinate(0, 0).description(Some("Column of the left edge.")),
        )
        .property(
            "y",
            coordinate(0, 0).description(Some("Row of the top edge.")),
        )
        .property("w", coordinate(1, 4).description(Some("Width in columns.")))
        .property("h", coordinate(1, 3).description(Some("Height in rows.")))
}

impl PartialSchema for LayoutItem {
    fn schema() -> RefOr<Schema> {
        let id = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .description(Some(
                    "The widget to move; ids that name no widget of the dashboard are skipped.",
                ))
        };
        let item = coordinates(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::Object))
                .property("widget_id", id())
                .property("id", id().description(Some("Same as `widget_id`.")))
                .property(
                    "position",
                    coordinates(ObjectBuilder::new().schema_type(SchemaType::new(Type::Object)))
                        .description(Some("The new position.")),
                ),
        );
        let requires = |key: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::Object))
                .required(key)
        };
        AllOfBuilder::new()
            .item(item)
            .item(
                AnyOfBuilder::new()
                    .item(requires("widget_id"))
                    .item(requires("id")),
            )
            .description(Some(
                "One item of a layout update: `{\"widget_id\", \"position\": {x, y, w, h}}`, \
                 with `id` accepted for `widget_id` and the position keys accepted inline in the \
                 item. Missing position keys default to `x = 0, y = 0, w = 4, h = 3`.",
            ))
            .into()
    }
}

impl ToSchema for LayoutItem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_unit_lists_the_wire_names() {
        let json = serde_json::to_value(TimeUnit::schema()).unwrap();
        assert_eq!(json["enum"][0], "year");
        assert_eq!(json["enum"].as_array().unwrap().len(), TimeUnit::ALL.len());
    }

    #[test]
    fn layout_item_needs_an_id_and_takes_both_position_shapes() {
        let json = serde_json::to_value(LayoutItem::schema()).unwrap();
        let item = &json["allOf"][0]["properties"];
        for key in ["widget_id", "id", "position", "x", "y", "w", "h"] {
            assert!(item.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["allOf"][1]["anyOf"][0]["required"][0], "widget_id");
    }
}
