//! The OpenAPI document served at `/openapi.json`: valid OpenAPI 3.1, documenting exactly the
//! routes declared in `prismiq-axum/src/routes/*.rs`, every one of them mounted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::http::Method;
use prismiq_axum::prismiq_core::{Engine, MemoryStore};
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
                        routes.insert((method.to_owned(), literal.to_owned()));
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
                success |= (200..300).contains(&code);
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
                assert!(
                    response["content"]["application/json"]["schema"].is_object(),
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
    assert!(
        schemas["WidgetType"]["enum"]
            .as_array()
            .expect("widget types")
            .contains(&json!("bar_chart"))
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
