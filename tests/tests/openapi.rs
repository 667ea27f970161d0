//! The OpenAPI document served at `/openapi.json`: valid OpenAPI 3.1, documenting exactly the
//! routes declared in `prismiq-axum/src/routes/*.rs`, every one of them mounted, and with
//! schemas that the requests the server accepts and the responses it gives match.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use axum::http::Method;
use prismiq_axum::prismiq_core::{
    CompiledQuery, DataSource, DatabaseSchema, Engine, ExecutionContext, MemoryStore, QueryResult,
    SourceError,
};
use prismiq_tests::TestApp;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document as the router serves it.
async fn served_document() -> Value {
    let app = TestApp::new(Engine::new(MemoryStore::new()));
    app.get("/openapi.json").send().await.expect(200)
}

/// Every `(method, path)` operation of the document.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths object");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        for (key, _) in item.as_object().expect("path item object") {
            assert!(
                METHODS.contains(&key.as_str()),
                "{path}: unexpected path item key {key}"
            );
            operations.insert((key.clone(), path.clone()));
        }
    }
    operations
}

/// Removes `//` comments, leaving string literals alone.
fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| {
            let mut in_string = false;
            let mut previous = ' ';
            for (index, c) in line.char_indices() {
                match c {
                    '"' if previous != '\\' => in_string = !in_string,
                    '/' if !in_string && previous == '/' => return &line[..index - 1],
                    _ => {}
                }
                previous = c;
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text between the parenthesis opening at `open` and its match.
fn balanced(text: &str, open: usize) -> &str {
    let mut depth = 0;
    let mut in_string = false;
    let mut previous = ' ';
    for (index, c) in text[open..].char_indices() {
        match c {
            '"' if previous != '\\' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + index];
                }
            }
            _ => {}
        }
        previous = c;
    }
    panic!("unbalanced parentheses after byte {open}");
}

/// Every `(method, path)` the route modules declare with `.route("<path>", <methods>)`.
fn declared_routes() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prismiq-axum/src/routes");
    let mut routes = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("routes directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let source = strip_comments(&std::fs::read_to_string(&path).expect("route source"));
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = balanced(rest, at + ".route".len());
            let (literal, handlers) = call
                .trim_start()
                .strip_prefix('"')
                .and_then(|s| s.split_once('"'))
                .unwrap_or_else(|| panic!("{}: route without a path literal", path.display()));
            let mut methods = 0;
            for method in METHODS {
                let mut text = handlers;
                while let Some(i) = text.find(&format!("{method}(")) {
                    let before = text[..i].chars().next_back();
                    if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                        // The share links' public router is documented where the demo and
                        // the engine's default share URL put it: `/shared` under the base.
                        let literal = if literal.starts_with("/{token}") {
                            format!("/shared{literal}")
                        } else {
                            literal.to_owned()
                        };
                        routes.insert((method.to_owned(), literal));
                        methods += 1;
                    }
                    text = &text[i + method.len()..];
                }
            }
            assert!(methods > 0, "{}: no method for {literal}", path.display());
            rest = &rest[at + ".route(".len() + call.len()..];
        }
    }
    assert!(
        files >= 10,
        "found only {files} route modules in {}",
        dir.display()
    );
    routes
}

/// Calls every `$ref` in `value` with its location.
fn each_ref<'a>(value: &'a Value, at: &str, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    found.push((at.to_owned(), child.as_str().expect("string $ref")));
                } else {
                    each_ref(child, &format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                each_ref(child, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// The names inside `{…}` in a path template.
fn template_params(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .map(|s| s.split_once('}').expect("closed template").0.to_owned())
        .collect()
}

#[tokio::test]
async fn document_is_valid_openapi_3_1() {
    let doc = served_document().await;

    // Typed parse and version check by a maintained OpenAPI 3.1 model.
    let spec = oas3::from_json(doc.to_string()).expect("parses as an OpenAPI 3.1 document");
    let version = spec.validate_version().expect("an OpenAPI 3.1.x version");
    assert_eq!((version.major, version.minor), (3, 1));
    assert!(!spec.info.title.is_empty() && !spec.info.version.is_empty());
    assert_eq!(
        spec.servers.first().map(|s| s.url.as_str()),
        Some("/api/prismiq")
    );

    // Every $ref resolves inside the document.
    let mut refs = Vec::new();
    each_ref(&doc, "#", &mut refs);
    assert!(
        refs.len() > 100,
        "expected many references, found {}",
        refs.len()
    );
    for (at, target) in &refs {
        let pointer = target
            .strip_prefix("#/components/")
            .unwrap_or_else(|| panic!("{at}: non-local $ref {target}"));
        assert!(
            doc["components"].pointer(&format!("/{pointer}")).is_some(),
            "{at}: $ref {target} does not resolve"
        );
    }

    let declared_tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("tag name"))
        .collect();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        assert!(path.starts_with('/'), "path {path}");
        let in_template = template_params(path);
        for (method, operation) in item.as_object().expect("path item") {
            let what = format!("{} {path}", method.to_uppercase());
            let id = operation["operationId"].as_str().expect("operation id");
            assert!(
                operation_ids.insert(id.to_owned()),
                "{what}: duplicate id {id}"
            );
            assert!(operation["summary"].is_string(), "{what}: summary");

            // Path parameters: declared exactly as the template names them, and required.
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut declared = BTreeSet::new();
            for parameter in &parameters {
                assert!(parameter["schema"].is_object(), "{what}: parameter schema");
                if parameter["in"] == "path" {
                    assert_eq!(
                        parameter["required"], true,
                        "{what}: path parameter required"
                    );
                    declared.insert(parameter["name"].as_str().expect("name").to_owned());
                } else {
                    assert!(
                        ["query", "header"].contains(&parameter["in"].as_str().unwrap_or("")),
                        "{what}: parameter location"
                    );
                }
            }
            assert_eq!(declared, in_template, "{what}: path parameters");

            // Responses: valid status codes, at least one success (but for the disabled LLM
            // chat), each response described and JSON.
            let responses = operation["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{what}: responses");
            let mut success = false;
            for (status, response) in responses {
                let code: u16 = status
                    .parse()
                    .unwrap_or_else(|_| panic!("{what}: status {status}"));
                assert!((100..600).contains(&code), "{what}: status {status}");
                success |= (200..300).contains(&code) || code == 101;
                let response = match response["$ref"].as_str() {
                    Some(target) => doc["components"]
                        .pointer(target.strip_prefix("#/components").expect("local"))
                        .expect("resolved response"),
                    None => response,
                };
                assert!(
                    response["description"].is_string(),
                    "{what} {status}: description"
                );
                // JSON everywhere, but for the event stream (its events are JSON), the
                // WebSocket upgrade (no body), the pages and pictures of dashboards, and the
                // files of exports.
                let content = &response["content"];
                let rendered = [
                    "text/html",
                    "image/svg+xml",
                    "image/png",
                    "application/pdf",
                    "text/csv; charset=utf-8",
                    "application/x-ndjson",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ]
                .iter()
                .any(|media| content[*media]["schema"].is_object());
                assert!(
                    content["application/json"]["schema"].is_object()
                        || content["text/event-stream"]["schema"].is_object()
                        || (code == 101 && content.is_null())
                        || ((200..300).contains(&code) && rendered),
                    "{what} {status}: JSON schema"
                );
                if code >= 400 && code != 422 {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorDetail",
                        "{what} {status}: error body"
                    );
                }
            }
            assert!(success || id == "llm_chat", "{what}: no success response");

            if let Some(body) = operation.get("requestBody") {
                assert!(
                    body["content"]["application/json"]["schema"].is_object(),
                    "{what}: JSON request body"
                );
                assert!(responses.contains_key("422"), "{what}: 422 for a bad body");
            }
            let tags = operation["tags"].as_array().expect("tags");
            for tag in tags {
                assert!(
                    declared_tags.contains(tag.as_str().unwrap_or("")),
                    "{what}: tag {tag}"
                );
            }
            // Authenticated operations name a declared scheme and may answer 400 and 401.
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().expect("requirement").keys() {
                    assert!(schemes.contains_key(scheme), "{what}: scheme {scheme}");
                }
                assert!(responses.contains_key("401"), "{what}: 401");
            }
        }
    }

    // The typed model resolves every operation's parameters, body and response schemas.
    for (path, method, operation) in spec.operations() {
        operation
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: parameters: {e}"));
        if let Some(body) = operation
            .request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: body: {e}"))
        {
            for media in body.content.values() {
                media
                    .schema(&spec)
                    .unwrap_or_else(|e| panic!("{method} {path}: body schema: {e}"));
            }
        }
        for (status, response) in operation.responses(&spec) {
            for media in response.content.values() {
                media
                    .schema(&spec)
                    .unwrap_or_else(|e| panic!("{method} {path} {status}: schema: {e}"));
            }
        }
    }
}

#[tokio::test]
async fn document_lists_exactly_the_declared_routes() {
    let doc = served_document().await;
    let documented = documented_operations(&doc);
    let declared = declared_routes();
    assert!(declared.len() >= 50, "found only {} routes", declared.len());
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "routes without documentation: {undocumented:?}; documented but not declared: {unknown:?}"
    );
}

/// A value for a path parameter: a UUID for ids, a name otherwise.
fn sample_param(name: &str) -> &'static str {
    if name.ends_with("_id") {
        "00000000-0000-7000-8000-000000000000"
    } else {
        "orders"
    }
}

#[tokio::test]
async fn every_documented_operation_is_mounted() {
    let doc = served_document().await;
    let app = TestApp::new(Engine::new(MemoryStore::new()));
    let mut statuses = BTreeMap::new();
    for (method, path) in documented_operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let mut concrete = path.clone();
        for name in template_params(&path) {
            concrete = concrete.replace(&format!("{{{name}}}"), sample_param(&name));
        }
        let required_query: Vec<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| format!("{}=home", p["name"].as_str().expect("name")))
            .collect();
        if !required_query.is_empty() {
            concrete = format!("{concrete}?{}", required_query.join("&"));
        }
        let method_value = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        if operation["responses"]["200"]["content"]
            .get("text/event-stream")
            .is_some()
        {
            // A stream does not end: its status and type are checked, its body is not read.
            let request = axum::http::Request::get(format!("/api/prismiq{concrete}"))
                .header("x-tenant-id", "t1")
                .header("x-user-id", "alice")
                .body(axum::body::Body::empty())
                .expect("request");
            let response = tower::ServiceExt::oneshot(app.router(), request)
                .await
                .expect("infallible");
            let status = response.status().as_u16();
            if status == 200 {
                assert_eq!(response.headers()["content-type"], "text/event-stream");
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .expect("responses")
                    .contains_key(&status.to_string()),
                "GET {path}: answered {status}, which is not documented"
            );
            statuses.insert(format!("GET {path}"), status);
            continue;
        }
        let mut call = app.request(method_value, &concrete).as_user("alice");
        if operation.get("requestBody").is_some() {
            call = call.json(&json!({}));
        }
        let response = call.send().await;
        let status = response.status.as_u16();
        let what = format!("{} {path}", method.to_uppercase());
        assert_ne!(status, 405, "{what}: method not mounted: {}", response.body);
        assert!(
            !(status == 404 && response.body["detail"] == "Not Found"),
            "{what}: path not mounted"
        );
        let documented = operation["responses"]
            .as_object()
            .expect("responses")
            .contains_key(&status.to_string());
        assert!(
            documented,
            "{what}: answered {status}, which is not documented: {}",
            response.body
        );
        statuses.insert(what, status);
    }
    assert!(statuses.len() >= 50, "{statuses:?}");
}

#[tokio::test]
async fn custom_wire_shapes_have_their_own_schemas() {
    let doc = served_document().await;
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Dashboard",
        "Widget",
        "WidgetConfig",
        "WidgetPosition",
        "DashboardLayout",
        "DashboardFilter",
        "FilterValue",
        "SavedQuery",
        "PinnedDashboard",
        "DashboardCreate",
        "DashboardUpdate",
        "WidgetCreate",
        "WidgetUpdate",
        "SavedQueryCreate",
        "SavedQueryUpdate",
        "PinRequest",
        "QueryDefinition",
        "ColumnSelection",
        "FilterDefinition",
        "QueryResult",
        "ValidationResult",
        "DatabaseSchema",
        "TableSchema",
        "EnhancedDatabaseSchema",
        "EnhancedTableSchema",
        "SchemaConfig",
        "TrendResult",
        "PivotRequest",
        "TrendColumnRequest",
        "ExecuteSqlRequest",
        "SqlValidation",
        "TimeSeriesRequest",
        "MetricTrendRequest",
        "LayoutItem",
    ] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    assert_eq!(schemas["Timestamp"]["type"], "string");
    assert_eq!(schemas["Timestamp"]["format"], "date-time");
    assert_eq!(schemas["DashboardId"]["format"], "uuid");
    assert_eq!(schemas["TimeUnit"]["enum"][0], "year");
    assert_eq!(
        schemas["WidgetType"]["pattern"], "^[a-z][a-z0-9_]{0,63}$",
        "widget types are open, as snake_case keys"
    );
    assert!(schemas["WidgetConfig"]["properties"]["valueFormat"].is_object());
    assert!(
        schemas["FilterOperator"]["enum"]
            .as_array()
            .expect("operators")
            .contains(&json!("in_"))
    );
    // PATCH bodies: absent (not required), `null` (clears) or a value.
    let update = &schemas["DashboardUpdate"];
    assert_eq!(
        update["properties"]["description"]["type"],
        json!(["string", "null"])
    );
    assert!(update.get("required").is_none_or(|r| {
        !r.as_array()
            .expect("required")
            .contains(&json!("description"))
    }));
    // The layout body takes `widget_id` or `id`.
    assert_eq!(
        schemas["LayoutItem"]["allOf"][1]["anyOf"][1]["required"][0],
        "id"
    );
    // Fields the wire may leave out are not required.
    assert!(
        !schemas["ColumnSelection"]["required"]
            .as_array()
            .expect("required")
            .contains(&json!("aggregation"))
    );
}

/// A data source with one table and a fixed answer, so that the query routes succeed.
#[derive(Debug)]
struct Fixed;

#[async_trait::async_trait]
impl DataSource for Fixed {
    async fn introspect(&self, _schema: &str) -> Result<DatabaseSchema, SourceError> {
        Ok(serde_json::from_value(json!({
            "tables": [{
                "name": "orders",
                "schema_name": "public",
                "columns": [
                    {"name": "id", "data_type": "integer", "is_nullable": false, "is_primary_key": true},
                    {"name": "region", "data_type": "text", "is_nullable": true},
                    {"name": "total", "data_type": "numeric", "is_nullable": true},
                    {"name": "created_at", "data_type": "date", "is_nullable": false}
                ],
                "row_count": 2
            }],
            "relationships": []
        }))
        .expect("schema"))
    }
    async fn schema_exists(&self, _schema: &str) -> Result<bool, SourceError> {
        Ok(true)
    }
    async fn execute(
        &self,
        _context: &ExecutionContext,
        _query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError> {
        Ok(serde_json::from_value(json!({
            "columns": ["region", "total"],
            "column_types": ["text", "numeric"],
            "rows": [["East", 10.5], ["West", 4]],
            "row_count": 2,
            "truncated": false,
            "execution_time_ms": 1.0
        }))
        .expect("result"))
    }
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }
}

/// Checks requests and responses against the document's schemas.
struct Contract {
    doc: Value,
}

impl Contract {
    /// The problems of `value` against `schema`, whose `$ref`s point into the document's
    /// components.
    fn problems(&self, schema: &Value, value: &Value) -> Vec<String> {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"));
        validator
            .iter_errors(value)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect()
    }

    /// `value` must match `schema`.
    fn assert_matches(&self, schema: &Value, value: &Value, what: &str) {
        let problems = self.problems(schema, value);
        assert!(problems.is_empty(), "{what}: {problems:#?}\nin {value}");
    }

    /// A `$ref` to a component, or the object itself.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(target) => self.doc["components"]
                .pointer(target.strip_prefix("#/components").expect("local"))
                .expect("resolved"),
            None => value,
        }
    }

    /// Checks the body sent (if any) and the response of `method template` against the
    /// document, and that the status is `status`.
    fn check(
        &self,
        method: &str,
        template: &str,
        sent: Option<&Value>,
        response: prismiq_tests::Response,
        status: u16,
    ) -> Value {
        let what = format!("{} {template}", method.to_uppercase());
        let operation = &self.doc["paths"][template][method];
        assert!(operation.is_object(), "{what} is not documented");
        if let Some(body) = sent {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            self.assert_matches(schema, body, &format!("{what} request"));
        }
        let actual = response.status.as_u16();
        let body = response.body;
        assert_eq!(actual, status, "{what}: unexpected status, body {body}");
        let documented = self.resolve(&operation["responses"][status.to_string()]);
        assert!(documented.is_object(), "{what}: {status} is not documented");
        let schema = &documented["content"]["application/json"]["schema"];
        self.assert_matches(schema, &body, &format!("{what} {status}"));
        body
    }
}

#[tokio::test]
async fn component_schemas_are_valid_json_schema() {
    let doc = served_document().await;
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let mut schema = schema.clone();
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        jsonschema::draft202012::meta::validate(&schema)
            .unwrap_or_else(|e| panic!("schema {name}: {e}"));
    }
}

#[tokio::test]
async fn requests_and_responses_match_the_documented_schemas() {
    let contract = Contract {
        doc: served_document().await,
    };
    let app = TestApp::new(Engine::new(MemoryStore::new()));
    let c = &contract;
    // The checker rejects what it should: missing fields, bad formats, unknown enum values.
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    assert!(
        !c.problems(&schema("Dashboard"), &json!({"name": "x"}))
            .is_empty()
    );
    assert!(
        !c.problems(&schema("Timestamp"), &json!("yesterday"))
            .is_empty()
    );
    assert!(!c.problems(&schema("DashboardId"), &json!("42")).is_empty());
    // Widget types are open (a host registers its own), but keys are snake_case.
    assert!(
        c.problems(&schema("WidgetType"), &json!("gauge"))
            .is_empty()
    );
    assert!(
        !c.problems(&schema("WidgetType"), &json!("Bar Chart"))
            .is_empty()
    );
    assert!(
        !c.problems(&schema("LayoutItem"), &json!({"x": 1}))
            .is_empty()
    );

    c.check("get", "/health", None, app.get("/health").send().await, 200);
    c.check(
        "get",
        "/health/live",
        None,
        app.get("/health/live").send().await,
        200,
    );
    c.check(
        "get",
        "/health/ready",
        None,
        app.get("/health/ready").send().await,
        200,
    );
    c.check(
        "get",
        "/llm/status",
        None,
        app.get("/llm/status").send().await,
        200,
    );
    let call = app
        .post("/llm/chat")
        .as_user("alice")
        .json(&json!({"message": "hi"}));
    c.check("post", "/llm/chat", None, call.send().await, 400);
    c.check(
        "get",
        "/dashboards",
        None,
        app.get("/dashboards").send().await,
        400,
    );

    // Dashboards and widgets.
    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [
            {"table_id": "t1", "column": "region"},
            {"table_id": "t1", "column": "total", "aggregation": "sum", "alias": "total"}
        ]
    });
    let create = json!({
        "name": "Sales",
        "description": "Revenue",
        "widgets": [{
            "type": "text",
            "title": "Notes",
            "position": {"x": 0, "y": 0, "w": 6, "h": 2},
            "config": {"content": "Hello", "markdown": true}
        }],
        "filters": [{"id": "region", "type": "select", "label": "Region", "field": "region"}],
        "is_public": false,
        "allowed_viewers": ["bob"]
    });
    let call = app.post("/dashboards").as_user("alice").json(&create);
    let dashboard = c.check("post", "/dashboards", Some(&create), call.send().await, 201);
    let id = dashboard["id"].as_str().expect("id").to_owned();
    let at = format!("/dashboards/{id}");
    let call = app.post("/dashboards").as_user("alice").json(&create);
    c.check("post", "/dashboards", Some(&create), call.send().await, 409);
    let bad = json!({"widgets": 3});
    let call = app.post("/dashboards").as_user("alice").json(&bad);
    c.check("post", "/dashboards", None, call.send().await, 422);
    let call = app
        .get("/dashboards/00000000-0000-7000-8000-000000000000")
        .as_user("alice");
    c.check(
        "get",
        "/dashboards/{dashboard_id}",
        None,
        call.send().await,
        404,
    );
    let call = app.get(&at).as_user("bob");
    c.check(
        "get",
        "/dashboards/{dashboard_id}",
        None,
        call.send().await,
        200,
    );
    let call = app.get("/dashboards").as_user("alice");
    c.check("get", "/dashboards", None, call.send().await, 200);
    let change = json!({"description": null, "is_public": true});
    let call = app.patch(&at).as_user("bob").json(&change);
    c.check(
        "patch",
        "/dashboards/{dashboard_id}",
        Some(&change),
        call.send().await,
        403,
    );
    let call = app.patch(&at).as_user("alice").json(&change);
    c.check(
        "patch",
        "/dashboards/{dashboard_id}",
        Some(&change),
        call.send().await,
        200,
    );

    let widget = json!({
        "type": "bar_chart",
        "title": "By region",
        "query": query,
        "position": {"x": 6, "y": 0, "w": 6, "h": 4},
        "config": {"x_axis": "region", "y_axis": ["total"], "valueFormat": "currency"}
    });
    let call = app
        .post(&format!("{at}/widgets"))
        .as_user("alice")
        .json(&widget);
    let template = "/dashboards/{dashboard_id}/widgets";
    let widget = c.check("post", template, Some(&widget), call.send().await, 201);
    let wid = widget["id"].as_str().expect("widget id").to_owned();
    let widget_at = format!("{at}/widgets/{wid}");
    let template = "/dashboards/{dashboard_id}/widgets/{widget_id}";
    let change = json!({"title": "Revenue by region", "query": null});
    let call = app.put(&widget_at).as_user("alice").json(&change);
    c.check("put", template, Some(&change), call.send().await, 200);
    let change = json!({"query": query});
    let call = app.patch(&widget_at).as_user("alice").json(&change);
    c.check("patch", template, Some(&change), call.send().await, 200);
    let call = app.post(&format!("{widget_at}/duplicate")).as_user("alice");
    let copy = c.check(
        "post",
        "/dashboards/{dashboard_id}/widgets/{widget_id}/duplicate",
        None,
        call.send().await,
        201,
    );
    let layout = json!([
        {"widget_id": wid, "position": {"x": 0, "y": 4, "w": 6, "h": 4}},
        {"id": copy["id"], "x": 6, "y": 4}
    ]);
    let call = app
        .put(&format!("{at}/layout"))
        .as_user("alice")
        .json(&layout);
    c.check(
        "put",
        "/dashboards/{dashboard_id}/layout",
        Some(&layout),
        call.send().await,
        200,
    );
    let call = app.get(&format!("{at}/export")).as_user("alice");
    let export = c.check(
        "get",
        "/dashboards/{dashboard_id}/export",
        None,
        call.send().await,
        200,
    );
    let import = json!({"export_data": export, "name_override": "Sales (copy)"});
    let call = app
        .post("/dashboards/import")
        .as_user("alice")
        .json(&import);
    c.check(
        "post",
        "/dashboards/import",
        Some(&import),
        call.send().await,
        201,
    );
    let save = json!({"name": "Sales", "widgets": [
        {"id": wid, "type": "metric", "title": "Total", "query": query, "position": {"x": 0, "y": 0, "w": 3, "h": 2}}
    ]});
    let call = app.patch(&at).as_user("alice").json(&save);
    c.check(
        "patch",
        "/dashboards/{dashboard_id}",
        Some(&save),
        call.send().await,
        200,
    );
    let call = app.post(&format!("{widget_at}/execute")).as_user("alice");
    let template = "/dashboards/{dashboard_id}/widgets/{widget_id}/execute";
    c.check("post", template, None, call.send().await, 503);

    // Saved queries.
    let saved = json!({"name": "By region", "query": query, "is_shared": true});
    let call = app.post("/saved-queries").as_user("alice").json(&saved);
    let saved = c.check(
        "post",
        "/saved-queries",
        Some(&saved),
        call.send().await,
        201,
    );
    let saved_at = format!("/saved-queries/{}", saved["id"].as_str().expect("id"));
    let call = app.get("/saved-queries").as_user("bob");
    c.check("get", "/saved-queries", None, call.send().await, 200);
    let call = app.get(&saved_at).as_user("bob");
    c.check(
        "get",
        "/saved-queries/{query_id}",
        None,
        call.send().await,
        200,
    );
    let change = json!({"description": "Sum per region"});
    let call = app.patch(&saved_at).as_user("alice").json(&change);
    c.check(
        "patch",
        "/saved-queries/{query_id}",
        Some(&change),
        call.send().await,
        200,
    );
    let call = app.delete(&saved_at).as_user("alice");
    c.check(
        "delete",
        "/saved-queries/{query_id}",
        None,
        call.send().await,
        200,
    );

    // Pins.
    let pin = json!({"dashboard_id": id, "context": "home"});
    let call = app.post("/pins").tenant("t1");
    c.check("post", "/pins", None, call.json(&pin).send().await, 401);
    let call = app.post("/pins").as_user("alice").json(&pin);
    c.check("post", "/pins", Some(&pin), call.send().await, 201);
    let call = app.get("/pins?context=home").as_user("alice");
    c.check("get", "/pins", None, call.send().await, 200);
    let call = app.get(&format!("{at}/pins")).as_user("alice");
    c.check(
        "get",
        "/dashboards/{dashboard_id}/pins",
        None,
        call.send().await,
        200,
    );
    let order = json!({"context": "home", "dashboard_ids": [id]});
    let call = app.put("/pins/order").as_user("alice").json(&order);
    c.check("put", "/pins/order", Some(&order), call.send().await, 200);
    let call = app.delete("/pins").as_user("alice").json(&pin);
    c.check("delete", "/pins", Some(&pin), call.send().await, 200);

    // Transforms.
    let result = json!({
        "columns": ["month", "region", "total"],
        "column_types": ["text", "text", "numeric"],
        "rows": [["2026-01", "East", 1], ["2026-01", "West", 2], ["2026-02", "East", 3]],
        "row_count": 3,
        "execution_time_ms": 0.5
    });
    let pivot = json!({"result": result, "row_column": "month", "pivot_column": "region", "value_column": "total"});
    let call = app.post("/transform/pivot").json(&pivot);
    c.check(
        "post",
        "/transform/pivot",
        Some(&pivot),
        call.send().await,
        200,
    );
    let trend = json!({"result": result, "value_column": "total", "order_column": "month", "group_column": "region"});
    let call = app.post("/transform/trend").json(&trend);
    c.check(
        "post",
        "/transform/trend",
        Some(&trend),
        call.send().await,
        200,
    );

    // Deletions.
    let call = app.delete(&widget_at).as_user("alice");
    c.check(
        "delete",
        "/dashboards/{dashboard_id}/widgets/{widget_id}",
        None,
        call.send().await,
        200,
    );
    let call = app.delete(&at).as_user("alice");
    c.check(
        "delete",
        "/dashboards/{dashboard_id}",
        None,
        call.send().await,
        200,
    );
}

#[tokio::test]
async fn query_routes_match_the_documented_schemas() {
    let contract = Contract {
        doc: served_document().await,
    };
    let app = TestApp::new(Engine::new(MemoryStore::new()).with_data_source(Arc::new(Fixed)));
    let c = &contract;
    let as_alice = |call: prismiq_tests::Call| call.as_user("alice");

    for (path, template) in [
        ("/schema", "/schema"),
        ("/schema/enhanced", "/schema/enhanced"),
        ("/tables", "/tables"),
        ("/tables/orders", "/tables/{table}"),
        ("/tables/orders/enhanced", "/tables/{table}/enhanced"),
        (
            "/tables/orders/columns/region/sample?limit=3",
            "/tables/{table}/columns/{column}/sample",
        ),
    ] {
        c.check(
            "get",
            template,
            None,
            as_alice(app.get(path)).send().await,
            200,
        );
    }
    c.check(
        "get",
        "/tables/{table}",
        None,
        as_alice(app.get("/tables/nope")).send().await,
        404,
    );
    c.check(
        "get",
        "/schema/config",
        None,
        as_alice(app.get("/schema/config")).send().await,
        403,
    );
    let config = json!({"tables": {"orders": {"display_name": "Orders", "columns": {"id": {"hidden": true}}}}});
    let call = as_alice(app.put("/schema/config")).admin().json(&config);
    c.check(
        "put",
        "/schema/config",
        Some(&config),
        call.send().await,
        200,
    );
    let call = as_alice(app.get("/schema/config")).admin();
    c.check("get", "/schema/config", None, call.send().await, 200);

    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [
            {"table_id": "t1", "column": "region"},
            {"table_id": "t1", "column": "total", "aggregation": "sum", "alias": "total"}
        ],
        "filters": [{"table_id": "t1", "column": "created_at", "operator": "date_relative", "value": -30}],
        "order_by": [{"table_id": "t1", "column": "region", "direction": "DESC"}],
        "limit": 10
    });
    let wrong = json!({"tables": [{"id": "t1", "name": "order"}], "columns": [{"table_id": "t1", "column": "x"}]});
    for (path, body, status) in [
        ("/query/validate", &query, 200),
        ("/query/validate", &wrong, 200),
        ("/query/validate/detailed", &wrong, 200),
        ("/query/sql", &query, 200),
        ("/query/sql", &wrong, 400),
        ("/query/preview", &query, 200),
    ] {
        let call = as_alice(app.post(path)).json(body);
        c.check("post", path, Some(body), call.send().await, status);
    }
    for (path, body) in [
        (
            "/query/execute",
            json!({"query": query, "bypass_cache": true}),
        ),
        ("/query/preview", json!({"query": query, "limit": 5})),
        (
            "/query/validate-sql",
            json!({"sql": "SELECT region, sum(total) FROM orders GROUP BY region"}),
        ),
        ("/query/validate-sql", json!({"sql": "DELETE FROM orders"})),
        (
            "/query/execute-sql",
            json!({"sql": "SELECT region FROM orders WHERE region = :region", "params": {"region": "East"}}),
        ),
        (
            "/metrics/trend",
            json!({
                "query": query, "comparison": "previous_period", "current_start": "2026-10-01",
                "current_end": "2026-10-31", "value_column": "total", "date_column": "created_at"
            }),
        ),
    ] {
        let call = as_alice(app.post(path)).json(&body);
        c.check("post", path, Some(&body), call.send().await, 200);
    }
    let series = json!({"query": query, "interval": "month", "date_column": "created_at", "fill_missing": false});
    let call = as_alice(app.post("/query/execute/timeseries")).json(&series);
    c.check(
        "post",
        "/query/execute/timeseries",
        Some(&series),
        call.send().await,
        200,
    );
    let create = json!({
        "name": "Sales",
        "filters": [{"id": "region", "type": "select", "label": "Region", "field": "region"}],
        "widgets": [{"type": "metric", "title": "Total", "query": query, "position": {"x": 0, "y": 0, "w": 3, "h": 2}}]
    });
    let call = as_alice(app.post("/dashboards")).json(&create);
    let dashboard = c.check("post", "/dashboards", Some(&create), call.send().await, 201);
    let path = format!(
        "/dashboards/{}/widgets/{}/execute",
        dashboard["id"].as_str().expect("id"),
        dashboard["widgets"][0]["id"].as_str().expect("widget id")
    );
    let values = json!([{"filter_id": "region", "value": "East"}]);
    let call = as_alice(app.post(&path)).json(&values);
    let template = "/dashboards/{dashboard_id}/widgets/{widget_id}/execute";
    c.check("post", template, Some(&values), call.send().await, 200);
    let invalidate = json!({"table": "orders"});
    let call = as_alice(app.post("/cache/invalidate"))
        .admin()
        .json(&invalidate);
    c.check(
        "post",
        "/cache/invalidate",
        Some(&invalidate),
        call.send().await,
        200,
    );
}

/// Response fields are always written, null or not: every property of a response schema is
/// required, and a nullable one says so in its type. A type also read keeps its lenient schema
/// for requests and gets a `-Output` copy for responses.
#[tokio::test]
async fn response_fields_are_required_and_nullable_where_null() {
    let doc = served_document().await;
    let schemas = &doc["components"]["schemas"];
    let required = |name: &str| -> BTreeSet<String> {
        schemas[name]["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} lists required fields"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let properties = |name: &str| -> BTreeSet<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has properties"))
            .keys()
            .cloned()
            .collect()
    };
    for name in [
        "Dashboard",
        "Widget",
        "SavedQuery",
        "PinnedDashboard",
        "HealthCheck",
        "TableSchema",
        "ColumnSchema",
        "ValidationError",
        "DataSourceEntry",
        "QueryDefinition-Output",
        "ColumnSelection-Output",
        "FilterDefinition-Output",
        "TimeSeriesConfig-Output",
        "WidgetConfig-Output",
        "QueryResult-Output",
    ] {
        assert_eq!(
            required(name),
            properties(name),
            "{name}: every field required"
        );
    }
    assert_eq!(
        schemas["Dashboard"]["properties"]["description"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        schemas["QueryDefinition-Output"]["properties"]["limit"]["type"],
        json!(["integer", "null"])
    );
    assert_eq!(
        schemas["ColumnSelection-Output"]["properties"]["sql_expression"]["type"],
        "null"
    );
    let query = &schemas["Widget"]["properties"]["query"]["oneOf"];
    assert!(
        query
            .as_array()
            .is_some_and(|items| items.contains(&json!({"type": "null"}))
                && items
                    .iter()
                    .any(|i| i["$ref"] == "#/components/schemas/QueryDefinition-Output")),
        "{query}"
    );
    // Requests keep the lenient shapes: what may be left out is not required.
    assert_eq!(
        required("QueryDefinition"),
        BTreeSet::from(["tables".to_owned(), "columns".to_owned()])
    );
    assert!(!required("ColumnSelection").contains("alias"));
    assert_eq!(
        doc["paths"]["/saved-queries"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/SavedQueryCreate"
    );
}
