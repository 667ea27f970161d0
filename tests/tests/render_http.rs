//! Pictures and pages over HTTP (feature `render`), on SQLite with the sample dataset: every
//! render route of the Sales overview, filter values as query parameters, the bounds of the
//! parameters, the same permission and tenant rules as the JSON routes, share links reaching
//! their dashboard only, and hostile text that renders as text.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use prismiq_axum::prismiq_core::{Engine, SimpleAuthContext};
use prismiq_tests::{TestApp, sample_sqlite};
use serde_json::{Value, json};

async fn app() -> TestApp {
    let engine = Engine::new(prismiq_store_sqlite::testing::fresh_store().await)
        .with_data_source(Arc::new(sample_sqlite::source().await));
    TestApp::new(engine)
}

/// The Sales overview, owned by `demo` of tenant `t1`, private unless `public`.
async fn sales_overview(app: &TestApp, public: bool) -> Value {
    let mut definition = prismiq_sample::dashboard::definition().unwrap();
    definition.is_public = public;
    let owner = SimpleAuthContext::new("t1").with_user("demo");
    let created = app
        .engine()
        .create_dashboard(&owner, definition)
        .await
        .unwrap();
    serde_json::to_value(created).unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// The text of the first `<text class="{class}">` inside the widget's section or picture.
fn first_text(document: &str, class: &str) -> String {
    let open = format!(r#"<text class="{class}""#);
    let at = document
        .find(&open)
        .unwrap_or_else(|| panic!("no {class} text"));
    let rest = &document[at..];
    rest[rest.find('>').unwrap() + 1..rest.find("</text>").unwrap()].to_owned()
}

fn widget_id(dashboard: &Value, title: &str) -> String {
    dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["title"] == title)
        .unwrap_or_else(|| panic!("widget {title}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_render_route_draws_the_sales_overview() {
    let app = app().await;
    let dashboard = sales_overview(&app, false).await;
    let id = dashboard["id"].as_str().unwrap();

    // The page: HTML with a strict policy, a section per widget, none failed.
    let (status, headers, body) = app
        .get(&format!("/dashboards/{id}/view"))
        .as_user("demo")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    let policy = header(&headers, "content-security-policy");
    assert!(
        policy.starts_with("default-src 'none';") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    let page = text(&body);
    assert_eq!(page.matches(r#"<section class="widget""#).count(), 7);
    assert_eq!(page.matches(r#"data-state="ok""#).count(), 6, "{page}");
    assert_eq!(page.matches(r#"data-state="static""#).count(), 1);
    assert!(!page.contains("<script"));
    assert!(page.contains(r#"<select name="var-region">"#));

    // Each widget as SVG and PNG, at its grid size unless asked otherwise.
    for widget in dashboard["widgets"].as_array().unwrap() {
        let wid = widget["id"].as_str().unwrap();
        let (status, headers, svg) = app
            .get(&format!("/dashboards/{id}/widgets/{wid}/render.svg"))
            .as_user("demo")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{}", widget["title"]);
        assert_eq!(header(&headers, "content-type"), "image/svg+xml");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        let svg = text(&svg);
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(
            !svg.contains("Could not load"),
            "{}: {svg}",
            widget["title"]
        );
        let (status, headers, png) = app
            .get(&format!(
                "/dashboards/{id}/widgets/{wid}/render.png?width=640&height=320&theme=dark"
            ))
            .as_user("demo")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "image/png");
        assert!(png.starts_with(b"\x89PNG"));
        // The PNG's IHDR: width and height as asked.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 640);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 320);
    }

    // The whole dashboard as PDF and PNG.
    let (status, headers, pdf) = app
        .get(&format!("/dashboards/{id}/render.pdf"))
        .as_user("demo")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert_eq!(
        header(&headers, "content-disposition"),
        "inline; filename=\"sales-overview.pdf\""
    );
    assert!(pdf.starts_with(b"%PDF-"));
    let pages = pdf.windows(12).filter(|w| w == b"/Type /Page\n").count();
    assert!(
        pages >= 2,
        "the Sales overview takes more than one A4 page: {pages}"
    );
    let (status, _, png) = app
        .get(&format!("/dashboards/{id}/render.png?width=1000"))
        .as_user("demo")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1000);
}

#[tokio::test]
async fn filter_values_in_the_query_change_what_is_drawn() {
    let app = app().await;
    let dashboard = sales_overview(&app, false).await;
    let id = dashboard["id"].as_str().unwrap();
    let orders = widget_id(&dashboard, "Orders");
    let by_region = widget_id(&dashboard, "Revenue by region");
    let metric = |query: &'static str| {
        let path = format!("/dashboards/{id}/widgets/{orders}/render.svg{query}");
        let call = app.get(&path).as_user("demo");
        async move { first_text(&text(&call.send_raw().await.2), "value") }
    };
    let all = metric("").await;
    let everything = metric("?var-region=&var-period=").await;
    let custom = metric("?var-period.start=2025-01-01&var-period.end=2025-01-31").await;
    assert_ne!(
        all, everything,
        "an empty period means all time, not the default last year"
    );
    assert_ne!(custom, all);
    assert_eq!(everything, "3,000", "every order of the sample dataset");

    let (_, _, svg) = app
        .get(&format!(
            "/dashboards/{id}/widgets/{by_region}/render.svg?var-region=East"
        ))
        .as_user("demo")
        .send_raw()
        .await;
    assert_eq!(text(&svg).matches(r#"class="bar""#).count(), 1);

    // The page shows the values in force.
    let (_, _, page) = app
        .get(&format!("/dashboards/{id}/view?var-region=West&theme=dark"))
        .as_user("demo")
        .send_raw()
        .await;
    let page = text(&page);
    assert!(page.contains(r#"<option value="West" selected>"#), "{page}");
    assert!(page.contains(r#"<html lang="en" data-theme="dark">"#));
    assert!(page.contains(r#"<input type="hidden" name="theme" value="dark">"#));
    // Download links beside the page, with the same filter values and theme.
    assert!(
        page.contains(
            r#"<a class="download" href="render.pdf?var-region=West&amp;theme=dark">PDF</a>"#
        ),
        "{page}"
    );
}

#[tokio::test]
async fn parameters_out_of_bounds_are_422_naming_them() {
    let app = app().await;
    let dashboard = sales_overview(&app, false).await;
    let id = dashboard["id"].as_str().unwrap();
    let wid = widget_id(&dashboard, "Orders");
    for (query, parameter) in [
        ("width=99", "width"),
        ("width=4001", "width"),
        ("height=-5", "height"),
        ("theme=neon", "theme"),
        ("var-nope=1", "var-nope"),
        ("var-period.start=2025-01-01", "var-period"),
        (
            "var-period.start=tomorrow&var-period.end=2025-01-01",
            "var-period.start",
        ),
    ] {
        let body = app
            .get(&format!(
                "/dashboards/{id}/widgets/{wid}/render.png?{query}"
            ))
            .as_user("demo")
            .send()
            .await
            .expect(422);
        assert_eq!(
            body["detail"][0]["loc"],
            json!(["query", parameter]),
            "{query}: {body}"
        );
    }
    let body = app
        .get(&format!("/dashboards/{id}/render.png?width=100"))
        .as_user("demo")
        .send()
        .await
        .expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "width"]));
}

#[tokio::test]
async fn renders_follow_the_view_rules_and_tenants() {
    let app = app().await;
    let dashboard = sales_overview(&app, false).await;
    let id = dashboard["id"].as_str().unwrap();
    let wid = widget_id(&dashboard, "Orders");
    let paths = [
        format!("/dashboards/{id}/view"),
        format!("/dashboards/{id}/render.pdf"),
        format!("/dashboards/{id}/render.png"),
        format!("/dashboards/{id}/widgets/{wid}/render.svg"),
        format!("/dashboards/{id}/widgets/{wid}/render.png"),
    ];
    // A browser asking for another tenant's page gets a page saying it is not there.
    let (status, headers, page) = app
        .get(&paths[0])
        .tenant("t2")
        .header("x-user-id", "demo")
        .header("accept", "text/html")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(text(&page).contains("<h1>Not Found</h1>"));
    for path in &paths {
        // Whoever may not read the dashboard as JSON may not see it drawn, with the same answer.
        let json_status = app
            .get(&format!("/dashboards/{id}"))
            .as_user("mallory")
            .send()
            .await
            .status;
        app.get(path)
            .as_user("mallory")
            .send()
            .await
            .expect(json_status.as_u16());
        app.get(path)
            .tenant("t2")
            .header("x-user-id", "demo")
            .send()
            .await
            .expect(404);
        app.get(path).send().await.expect(400);
    }
    app.get(&format!(
        "/dashboards/{id}/widgets/{}/render.svg",
        uuid_like()
    ))
    .as_user("demo")
    .send()
    .await
    .expect(404);
}

fn uuid_like() -> &'static str {
    "0190a5c4-0000-7000-8000-000000000042"
}

#[tokio::test]
async fn share_links_draw_their_dashboard_only() {
    let app = app().await;
    let dashboard = sales_overview(&app, false).await;
    let other = app
        .post("/dashboards")
        .as_user("demo")
        .json(&json!({"name": "Other", "widgets": [{"type": "text", "title": "Secret", "position": {"x": 0, "y": 0, "w": 4, "h": 2}, "config": {"content": "not for the link"}}]}))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let share = app
        .post(&format!("/dashboards/{id}/shares"))
        .as_user("demo")
        .json(&json!({"locked_filters": {"region": "East"}}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap();

    // A browser gets the page, the React client JSON.
    let (status, headers, page) = app
        .get(&format!("/shared/{token}"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    let page = text(&page);
    assert!(
        page.contains(r#"<select name="var-region" disabled>"#),
        "locked filters are shown, not editable"
    );
    assert!(page.contains(r#"<option value="East" selected>"#));
    assert!(!page.contains("not for the link"));
    assert!(page.contains(&format!(
        r#"<a class="download" href="{token}/render.pdf">PDF</a>"#
    )));
    let json = app
        .get(&format!("/shared/{token}"))
        .header("accept", "application/json")
        .send()
        .await
        .expect(200);
    assert_eq!(json["id"], dashboard["id"]);
    app.get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);

    // Pictures through the link: its dashboard's widgets, with the locked value whatever is sent.
    let orders = widget_id(&dashboard, "Orders");
    let via_link = text(
        &app.get(&format!(
            "/shared/{token}/widgets/{orders}/render.svg?var-region=West"
        ))
        .send_raw()
        .await
        .2,
    );
    let east = text(
        &app.get(&format!(
            "/dashboards/{id}/widgets/{orders}/render.svg?var-region=East"
        ))
        .as_user("demo")
        .send_raw()
        .await
        .2,
    );
    assert_eq!(first_text(&via_link, "value"), first_text(&east, "value"));
    let (status, _, pdf) = app
        .get(&format!("/shared/{token}/render.pdf"))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF-"));
    let secret = widget_id(&other, "Secret");
    app.get(&format!("/shared/{token}/widgets/{secret}/render.svg"))
        .send()
        .await
        .expect(404);
    app.get("/shared/psh_not-a-token/render.png")
        .send()
        .await
        .expect(404);
    // A browser is told in a page, with the same status.
    let (status, headers, page) = app
        .get("/shared/psh_not-a-token")
        .header("accept", "text/html")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(header(&headers, "content-security-policy").starts_with("default-src 'none'"));
    assert!(
        text(&page).contains("<h1>Not Found</h1>"),
        "{}",
        text(&page)
    );

    // Revoked: nothing more.
    let share_id = share["id"].as_str().unwrap();
    app.delete(&format!("/dashboards/{id}/shares/{share_id}"))
        .as_user("demo")
        .send()
        .await
        .expect(200);
    app.get(&format!("/shared/{token}/view"))
        .send()
        .await
        .expect(404);
    app.get(&format!("/shared/{token}/widgets/{orders}/render.png"))
        .send()
        .await
        .expect(404);
}

#[tokio::test]
async fn hostile_text_renders_as_text() {
    let app = app().await;
    let hostile = r#"<script>alert(1)</script>"><svg onload=alert(2)>"#;
    let dashboard = app
        .post("/dashboards")
        .as_user("demo")
        .json(&json!({
            "name": format!("Board {hostile}"),
            "description": hostile,
            "filters": [{"id": "region", "type": "select", "label": hostile, "field": "region", "table": "customers",
                         "options": [{"value": "\"><script>x()</script>", "label": hostile}]}],
            "widgets": [
                {"type": "text", "title": hostile, "position": {"x": 0, "y": 0, "w": 6, "h": 3},
                 "config": {"markdown": true, "content": "[click](javascript:alert(3)) <img src=x onerror=alert(4)> <script>alert(5)</script> <a href=\"https://ok.example\" style=\"background:url(https://evil.example/x)\">ok</a>"}},
                {"type": "bar_chart", "title": "x".repeat(255), "position": {"x": 6, "y": 0, "w": 6, "h": 3},
                 "config": {"colors": ["url(https://evil.example/a)", "red\" onload=\"x()"], "currencySymbol": "<b>", "valueFormat": "currency"},
                 "query": {"tables": [{"id": "c", "name": "customers"}],
                           "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "id", "aggregation": "count", "alias": "n"}]}}
            ]
        }))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let (status, _, page) = app
        .get(&format!("/dashboards/{id}/view"))
        .as_user("demo")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&page);
    for needle in [
        "<script",
        "<svg onload",
        "onerror",
        "javascript:",
        "evil.example",
        "<img",
        "<b>",
        "\" onload",
    ] {
        assert!(!page.contains(needle), "{needle} in the page");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains(r#"href="https://ok.example""#));
    for format in ["render.pdf", "render.png"] {
        let (status, _, bytes) = app
            .get(&format!("/dashboards/{id}/{format}"))
            .as_user("demo")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{format}");
        assert!(!bytes.is_empty());
    }
}

#[tokio::test]
async fn a_metric_shows_its_trend_over_the_dashboards_date_range() {
    let app = app().await;
    let query = json!({"tables": [{"id": "o", "name": "orders"}],
                       "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"}]});
    let dashboard = app
        .post("/dashboards")
        .as_user("demo")
        .json(&json!({
            "name": "Trend",
            "filters": [{"id": "period", "type": "date_range", "label": "Period", "field": "order_date", "table": "orders"}],
            "widgets": [{"type": "metric", "title": "Orders", "position": {"x": 0, "y": 0, "w": 4, "h": 3}, "query": query,
                         "config": {"showTrend": true, "trendPeriod": "previous_year", "trendDateColumn": "order_date"}}]
        }))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let wid = widget_id(&dashboard, "Orders");
    let expected = app
        .post("/metrics/trend")
        .as_user("demo")
        .json(&json!({"query": query, "comparison": "previous_year", "current_start": "2026-01-01",
                      "current_end": "2026-03-31", "value_column": "orders", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    let (_, _, svg) = app
        .get(&format!("/dashboards/{id}/widgets/{wid}/render.svg?var-period.start=2026-01-01&var-period.end=2026-03-31"))
        .as_user("demo")
        .send_raw()
        .await;
    let svg = text(&svg);
    let arrow = match expected["direction"].as_str().unwrap() {
        "up" => "▲",
        "down" => "▼",
        _ => "▶",
    };
    let percent = expected["percent_change"].as_f64().unwrap();
    assert_eq!(first_text(&svg, "trend"), format!("{arrow} {percent:+.1}%"));

    // Without the config's three keys, no trend.
    app.patch(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("demo")
        .json(&json!({"config": {"showTrend": false}}))
        .send()
        .await
        .expect(200);
    let (_, _, svg) = app
        .get(&format!("/dashboards/{id}/widgets/{wid}/render.svg"))
        .as_user("demo")
        .send_raw()
        .await;
    assert!(!text(&svg).contains(r#"class="trend""#));
}

#[tokio::test]
async fn every_built_in_type_draws_from_the_sample_dataset() {
    let app = app().await;
    let orders = json!({"id": "o", "name": "orders"});
    let by_month = json!({"tables": [orders],
        "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"},
                    {"table_id": "o", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}],
        "time_series": {"table_id": "o", "date_column": "order_date", "interval": "month"}});
    let by_status = json!({"tables": [orders],
        "columns": [{"table_id": "o", "column": "status"},
                    {"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"}]});
    let amounts = json!({"tables": [orders],
        "columns": [{"table_id": "o", "column": "total_amount"}, {"table_id": "o", "column": "customer_id"}],
        "limit": 300});
    let widget = |kind: &str, query: &Value, config: Value, x: u32, y: u32| {
        json!({"type": kind, "title": kind, "query": query, "config": config,
               "position": {"x": x, "y": y, "w": 6, "h": 4}})
    };
    let dashboard = app
        .post("/dashboards")
        .as_user("demo")
        .json(&json!({"name": "Every type", "widgets": [
            widget("metric", &by_status, json!({"y_axis": ["orders"]}), 0, 0),
            widget("bar_chart", &by_status, json!({"x_axis": "status", "y_axis": ["orders"], "orientation": "horizontal"}), 6, 0),
            widget("line_chart", &by_month, json!({"x_axis": "order_date_bucket", "y_axis": ["orders", "revenue"]}), 0, 4),
            widget("area_chart", &by_month, json!({"x_axis": "order_date_bucket", "y_axis": ["orders"]}), 6, 4),
            widget("pie_chart", &by_status, json!({"x_axis": "status", "y_axis": ["orders"], "format": "donut"}), 0, 8),
            widget("scatter_chart", &amounts, json!({"x_axis": "total_amount", "y_axis": ["customer_id"]}), 6, 8),
            widget("table", &by_month, json!({"columnFormats": {"revenue": {"format": "currency"}}}), 0, 12),
            {"type": "text", "title": "text", "position": {"x": 6, "y": 12, "w": 6, "h": 4},
             "config": {"content": "# Notes\n\nEvery **type**.", "markdown": true}}
        ]}))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let marks = [
        ("metric", r#"class="value""#),
        ("bar_chart", r#"class="bar""#),
        ("line_chart", r#"class="line""#),
        ("area_chart", r#"class="area""#),
        ("pie_chart", r#"class="slice""#),
        ("scatter_chart", r#"class="point""#),
        ("table", r#"class="cell""#),
        ("text", r#"class="text""#),
    ];
    for w in dashboard["widgets"].as_array().unwrap() {
        let kind = w["type"].as_str().unwrap();
        let wid = w["id"].as_str().unwrap();
        let (status, _, svg) = app
            .get(&format!("/dashboards/{id}/widgets/{wid}/render.svg"))
            .as_user("demo")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        let svg = text(&svg);
        let mark = marks.iter().find(|(k, _)| *k == kind).unwrap().1;
        assert!(svg.contains(mark), "{kind} draws {mark}: {svg}");
        assert!(
            !svg.contains("No data") && !svg.contains("Could not load"),
            "{kind}: {svg}"
        );
        let (status, _, png) = app
            .get(&format!("/dashboards/{id}/widgets/{wid}/render.png"))
            .as_user("demo")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert!(png.starts_with(b"\x89PNG"), "{kind}");
    }
    let (_, _, page) = app
        .get(&format!("/dashboards/{id}/view"))
        .as_user("demo")
        .send_raw()
        .await;
    let page = text(&page);
    assert_eq!(page.matches(r#"data-state="ok""#).count(), 7);
    assert_eq!(page.matches(r#"data-state="static""#).count(), 1);
}
