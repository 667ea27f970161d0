//! The OpenAPI 3.1 document of the router (feature `openapi`), generated from the handlers'
//! `#[utoipa::path]` attributes and the wire types' `utoipa::ToSchema` derives.
//!
//! Conventions every operation follows, added here rather than repeated on each handler:
//!
//! - operations behind the host's auth extractor carry the `tenant_header` security requirement
//!   and may answer 400 (with [`HeaderAuth`](crate::HeaderAuth): no `X-Tenant-ID`), 401 (the
//!   host's own rejection, or a per-user operation without a user) and 503 (the store or the
//!   database cannot be reached);
//! - operations with a JSON body may answer 413 when it is over the router's body limit, and
//!   422 when it cannot be read (`{"detail": [issue]}`) or breaks a rule
//!   (`{"detail": "<message>"}`);
//! - every operation may answer 504 when it takes longer than the router's request timeout;
//! - responses carry every field, null or not, so their schemas list every property as
//!   required, nullable ones typed `[T, "null"]`; a type that is also read (where fields may be
//!   left out) keeps its name for requests, and responses use a `<Name>-Output` copy.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{self, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error_responses::{
    BadRequest, Conflict, ErrorDetail, Forbidden, Gone, NotFound, PayloadTooLarge, Timeout,
    TooManyRequests, Unauthorized, Unavailable, Unprocessable, ValidationErrorList,
};
use crate::routes;

/// The name of the security scheme of authenticated operations.
const TENANT_HEADER: &str = "tenant_header";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Prismiq",
        description = "The Prismiq dashboard and analytics API.\n\n\
            Paths are relative to where the host nests the router; hosts usually nest it at \
            `/api/prismiq` (`prismiq_axum::BASE_PATH`), the server listed here. Authenticated \
            operations run the host's own auth extractor first; the `tenant_header` scheme \
            describes `HeaderAuth`, the extractor for demos that reads `X-Tenant-ID`, \
            `X-User-ID` and `X-Schema-Name`. Every error body is JSON.",
        license(name = "MIT OR Apache-2.0"),
    ),
    servers((url = "/api/prismiq", description = "Where hosts usually nest the router")),
    paths(
        routes::health::health,
        routes::health::live,
        routes::health::ready,
        routes::schema::schema,
        routes::schema::enhanced,
        routes::schema::config,
        routes::schema::set_config,
        routes::schema::tables,
        routes::schema::data_sources,
        routes::schema::table,
        routes::schema::enhanced_table,
        routes::query::validate,
        routes::query::validate_detailed,
        routes::query::sql,
        routes::query::execute,
        routes::query::preview,
        routes::query::timeseries,
        routes::query::validate_sql,
        routes::query::execute_sql,
        routes::query::execute_widget,
        routes::query::sample,
        routes::query::metric_trend,
        routes::query::invalidate,
        routes::exports::export_query,
        routes::exports::export_sql,
        routes::exports::widget_csv,
        routes::exports::widget_ndjson,
        routes::exports::widget_xlsx,
        routes::exports::shared_csv,
        routes::exports::shared_ndjson,
        routes::exports::shared_xlsx,
        routes::dashboards::list,
        routes::dashboards::create,
        routes::dashboards::import,
        routes::dashboards::read,
        routes::dashboards::update,
        routes::dashboards::delete,
        routes::dashboards::export,
        routes::versions::list,
        routes::versions::read,
        routes::versions::diff,
        routes::versions::restore,
        routes::widgets::create,
        routes::widgets::update,
        routes::widgets::delete,
        routes::widgets::duplicate,
        routes::widgets::layout,
        routes::catalogue::widget_types,
        routes::catalogue::default_dashboard,
        routes::catalogue::set_default,
        routes::catalogue::clear_default,
        routes::catalogue::summaries,
        routes::templates::list,
        routes::templates::read,
        routes::templates::delete,
        routes::templates::save,
        routes::shares::create,
        routes::shares::list,
        routes::shares::revoke,
        routes::shares::shared,
        routes::shares::shared_events,
        routes::shares::shared_execute,
        routes::saved_queries::list,
        routes::saved_queries::create,
        routes::saved_queries::read,
        routes::saved_queries::update,
        routes::saved_queries::delete,
        routes::events::events,
        routes::events::websocket,
        routes::pins::list,
        routes::pins::pin,
        routes::pins::unpin,
        routes::pins::reorder,
        routes::pins::contexts,
        routes::llm::status,
        routes::llm::chat,
        routes::transform::pivot,
        routes::transform::trend,
        routes::openapi::document,
    ),
    components(
        schemas(ErrorDetail, ValidationErrorList),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            Unprocessable,
            TooManyRequests,
            Gone,
            Unavailable,
            Timeout
        ),
    ),
    tags(
        (name = "health", description = "Liveness, readiness and backend health; no auth"),
        (name = "schema", description = "The tenant's database schema and its presentation"),
        (name = "query", description = "Structured queries, custom SQL and column samples"),
        (name = "dashboards", description = "Dashboards, export and import"),
        (name = "widgets", description = "Widgets of a dashboard, its layout, and the widget types"),
        (name = "templates", description = "Dashboard templates: the host's and the tenant's"),
        (name = "shares", description = "Share links of a dashboard, and the public routes that read through a token (mounted by the host with `shared_router`, no auth)"),
        (name = "saved-queries", description = "Named queries a tenant's users keep and share"),
        (name = "pins", description = "A user's dashboards pinned per context"),
        (name = "events", description = "Live events and host notifications: server-sent events and WebSocket"),
        (name = "transforms", description = "Reshaping a result the client already has; no auth"),
        (name = "cache", description = "The result cache"),
        (name = "llm", description = "The assistant, disabled until one is plugged in"),
        (name = "meta", description = "This document"),
        (name = "render", description = "Dashboards as pictures (SVG, PNG, PDF) and as a read-only HTML page (feature `render`)"),
    ),
)]
struct ApiDoc;

/// Adds the responses and security scheme every operation shares (see the module docs).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            TENANT_HEADER,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Tenant-ID",
                "The caller's tenant, as `HeaderAuth` reads it (with optional `X-User-ID` and \
                 `X-Schema-Name`). Hosts authenticate with their own extractor instead.",
            ))),
        );
        for (schema, fields) in DEFAULTED_ON_INPUT {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) {
                object
                    .required
                    .retain(|field| !fields.contains(&field.as_str()));
            }
        }
        for item in doc.paths.paths.values_mut() {
            alias_put(item);
            for operation in operations(item) {
                if let Some(summary) = &mut operation.summary
                    && summary.ends_with('.')
                {
                    summary.pop();
                }
                let authenticated = operation
                    .security
                    .as_ref()
                    .is_some_and(|requirements| !requirements.is_empty());
                let mut shared = Vec::new();
                if authenticated {
                    shared.extend([("400", "BadRequest"), ("401", "Unauthorized")]);
                }
                if operation.request_body.is_some() {
                    shared.extend([("413", "PayloadTooLarge"), ("422", "Unprocessable")]);
                }
                if authenticated {
                    shared.push(("503", "Unavailable"));
                }
                shared.push(("504", "Timeout"));
                let responses = &mut operation.responses.responses;
                for (status, name) in shared {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| Ref::from_response_name(name).into());
                }
            }
        }
        written_schemas(doc);
    }
}

/// Keys the API writes that are no field of the type: the raw-SQL fields of the query
/// definition, always `null` since they are never taken from clients.
const WRITTEN_ALWAYS_NULL: &[(&str, &str)] = &[
    ("ColumnSelection", "sql_expression"),
    ("FilterDefinition", "sql_expression"),
    ("CalculatedField", "sql_expression"),
];

/// Response fields written only when they have a value.
const WRITTEN_WHEN_SET: &[(&str, &[&str])] = &[("LlmStatus", &["provider", "model"])];

/// What the API writes has every key, null or not, so the schemas of responses list every
/// property as required (a nullable one as `[T, "null"]`). A type that is also read, where
/// keys may be left out, keeps its name for requests, and responses get a copy named
/// `<Name>-Output` (as FastAPI names them) when the two differ.
fn written_schemas(doc: &mut openapi::OpenApi) {
    // Which schemas requests and responses lead to, found on the serialized document.
    let document = serde_json::to_value(&*doc).expect("an OpenAPI document always serializes");
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let mut read = BTreeSet::new();
    let mut written = BTreeSet::new();
    if let Some(paths) = document["paths"].as_object() {
        for item in paths.values() {
            for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
                schema_refs(&operation["requestBody"], &mut read);
                schema_refs(&operation["parameters"], &mut read);
                schema_refs(&operation["responses"], &mut written);
            }
        }
    }
    schema_refs(&document["components"]["responses"], &mut written);
    let schemas = &document["components"]["schemas"];
    let read = reachable(read, schemas);
    let written = reachable(written, schemas);

    let mut outputs = BTreeMap::new();
    for name in &written {
        let Some(mut schema) = components.schemas.get(name).cloned() else {
            continue;
        };
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            for (owner, key) in WRITTEN_ALWAYS_NULL {
                if owner == name {
                    object.properties.insert(
                        (*key).to_owned(),
                        ObjectBuilder::new()
                            .schema_type(Type::Null)
                            .description(Some("Always null: never taken from clients"))
                            .into(),
                    );
                }
            }
        }
        let unset = WRITTEN_WHEN_SET
            .iter()
            .find(|(owner, _)| owner == name)
            .map_or(&[][..], |(_, fields)| *fields);
        visit(&mut schema, &mut |node| {
            if let RefOr::T(Schema::Object(object)) = node {
                object.required = object
                    .properties
                    .keys()
                    .filter(|key| !unset.contains(&key.as_str()))
                    .cloned()
                    .collect();
            }
        });
        outputs.insert(name.clone(), schema);
    }
    // A schema also read needs its own output copy when its output differs, or when it refers
    // to a schema that needs one.
    let both: Vec<&String> = read.intersection(&written).collect();
    let mut shared: BTreeSet<String> = both
        .iter()
        .filter(|name| outputs.get(**name) != components.schemas.get(**name))
        .map(|name| (*name).clone())
        .collect();
    loop {
        let more: Vec<String> = both
            .iter()
            .filter(|name| !shared.contains(**name))
            .filter(|name| {
                let mut refs = BTreeSet::new();
                schema_refs(&schemas[name.as_str()], &mut refs);
                !refs.is_disjoint(&shared)
            })
            .map(|name| (*name).clone())
            .collect();
        if more.is_empty() {
            break;
        }
        shared.extend(more);
    }

    let mut to_output = |node: &mut RefOr<Schema>| {
        if let RefOr::Ref(reference) = node
            && let Some(name) = reference.ref_location.strip_prefix(SCHEMA_REF)
            && shared.contains(name)
        {
            reference.ref_location = format!("{SCHEMA_REF}{name}-Output");
        }
    };
    for (name, mut schema) in outputs {
        visit(&mut schema, &mut to_output);
        if shared.contains(&name) {
            components.schemas.insert(format!("{name}-Output"), schema);
        } else if !read.contains(&name) {
            components.schemas.insert(name, schema);
        }
    }
    let mut responses: Vec<&mut RefOr<openapi::Response>> =
        components.responses.values_mut().collect();
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            responses.extend(operation.responses.responses.values_mut());
        }
    }
    for response in responses {
        if let RefOr::T(response) = response {
            for content in response.content.values_mut() {
                if let RefOr::T(content) = content
                    && let Some(schema) = &mut content.schema
                {
                    visit(schema, &mut to_output);
                }
            }
        }
    }
}

const SCHEMA_REF: &str = "#/components/schemas/";

/// The component schemas `value` (a serialized part of the document) refers to.
fn schema_refs(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_REF))
            {
                found.insert(name.to_owned());
            }
            map.values().for_each(|v| schema_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| schema_refs(v, found)),
        _ => {}
    }
}

/// `roots` and every schema they lead to (`schemas`: the serialized component schemas).
fn reachable(roots: BTreeSet<String>, schemas: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().collect();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        let mut next = BTreeSet::new();
        schema_refs(&schemas[name.as_str()], &mut next);
        seen.insert(name);
        pending.extend(next.into_iter().filter(|n| !seen.contains(n)));
    }
    seen
}

/// Calls `f` on `schema` and on every schema inside it.
fn visit(schema: &mut RefOr<Schema>, f: &mut dyn FnMut(&mut RefOr<Schema>)) {
    f(schema);
    let RefOr::T(schema) = schema else {
        return;
    };
    let children: Vec<&mut RefOr<Schema>> = match schema {
        Schema::Object(object) => {
            let mut children: Vec<_> = object.properties.values_mut().collect();
            if let Some(additional) = object.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(value) = additional
            {
                children.push(value);
            }
            children
        }
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => vec![items.as_mut()],
            ArrayItems::False => Vec::new(),
        },
        Schema::OneOf(one_of) => one_of.items.iter_mut().collect(),
        Schema::AllOf(all_of) => all_of.items.iter_mut().collect(),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().collect(),
        _ => Vec::new(),
    };
    for child in children {
        visit(child, f);
    }
}

/// Fields of the query definition that are written in full but may be left out on input,
/// where they take their defaults.
const DEFAULTED_ON_INPUT: &[(&str, &[&str])] = &[
    (
        "QueryDefinition",
        &[
            "joins",
            "filters",
            "group_by",
            "order_by",
            "calculated_fields",
        ],
    ),
    ("ColumnSelection", &["aggregation"]),
    ("FilterDefinition", &["value"]),
    ("TimeSeriesConfig", &["fill_missing", "fill_value"]),
    (
        "CalculatedField",
        &["has_internal_aggregation", "data_type"],
    ),
];

/// A handler mounted for both PATCH and PUT documents one operation twice; the PUT one gets
/// its own operation id, as ids must be unique.
fn alias_put(item: &mut PathItem) {
    if let (Some(patch), Some(put)) = (&item.patch, &mut item.put)
        && patch.operation_id.is_some()
        && put.operation_id == patch.operation_id
    {
        put.operation_id = patch.operation_id.as_ref().map(|id| format!("{id}_put"));
        put.description = Some("The same operation as PATCH on this path.".to_owned());
    }
}

/// The operations of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The OpenAPI 3.1 document of every route of [`router`](crate::router), with paths relative
/// to where the host nests it (the document's server is [`BASE_PATH`](crate::BASE_PATH)).
///
/// The router serves it at `GET /openapi.json`; a host can also change it (servers, security
/// schemes of its own auth) and serve it itself:
///
/// ```
/// let mut doc = prismiq_axum::openapi();
/// doc.servers = Some(vec![prismiq_axum::utoipa::openapi::Server::new("/analytics")]);
/// assert!(doc.paths.paths.contains_key("/dashboards"));
/// ```
pub fn openapi() -> openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    #[cfg(feature = "render")]
    document.merge(<routes::render::RenderApi as OpenApi>::openapi());
    // The conventions apply to every operation, the optional ones included.
    Conventions.modify(&mut document);
    document
}

/// The document as JSON, serialized once; the router hands this function to the route that
/// serves it, which is itself in the document (so routes never import this module).
pub(crate) fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        openapi()
            .to_json()
            .expect("an OpenAPI document always serializes")
    })
}
