//! Hostile and huge input: markup in data values, titles and configs renders as text or is
//! dropped; huge results are capped and huge strings cut, so a picture stays small whatever
//! the data.

mod support;

use prismiq_core::DashboardLayout;
use prismiq_render::{
    DashboardView, FilterState, PageOptions, Renderer, Theme, WidgetData, WidgetOptions, limits,
};
use serde_json::{Value, json};
use support::{result, widget};

const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "\"><svg onload=alert(1)>",
    "</text></svg><img src=x onerror=alert(1)>",
    "]]><!ENTITY x SYSTEM \"file:///etc/passwd\">",
    "javascript:alert(1)",
    "nul\u{0} bell\u{7} esc\u{1b} end",
];

fn hostile_rows() -> prismiq_core::QueryResult {
    result(
        &["label<script>", "value\"onload"],
        &["text", "numeric"],
        HOSTILE
            .iter()
            .enumerate()
            .map(|(i, h)| json!([h, i + 1]))
            .collect(),
    )
}

/// No markup an attacker wrote survives: escaped text holds no raw `<`, so every tag in the
/// document is the renderer's own — none is a script, image or frame, none has an event
/// handler, a `javascript:` address or a style attribute; no character XML cannot carry is left.
fn assert_inert(document: &str) {
    let mut rest = document;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let tag = rest[open..close].to_ascii_lowercase();
        for bad in [
            "<script",
            "<img",
            "<iframe",
            "<object",
            "<embed",
            "<foreignobject",
            "<!entity",
            "<image",
        ] {
            assert!(!tag.starts_with(bad), "tag {tag} in {document}");
        }
        for (name, value) in attributes(&tag) {
            assert!(!name.starts_with("on"), "handler {name} in {tag}");
            assert!(name != "style", "style attribute in {tag}");
            if ["href", "xlink:href", "src", "action", "formaction"].contains(&name.as_str()) {
                assert!(
                    !value.trim_start().starts_with("javascript:"),
                    "{name}={value} in {tag}"
                );
            }
        }
        rest = &rest[close..];
    }
    for control in ['\u{0}', '\u{7}', '\u{1b}'] {
        assert!(!document.contains(control), "{control:?} in {document}");
    }
}

/// The attributes of a tag: names, and values with their quotes removed.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let body = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut chars = body.chars().skip_while(|c| !c.is_whitespace()).peekable();
    let mut found = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=')).collect();
        if name.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                value = std::iter::from_fn(|| chars.next_if(|c| *c != '"')).collect();
                chars.next();
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect();
            }
        }
        found.push((name, value));
    }
    found
}

#[test]
fn markup_in_data_and_titles_is_text_in_every_type() {
    let renderer = Renderer::new();
    for widget_type in [
        "metric",
        "bar_chart",
        "line_chart",
        "area_chart",
        "pie_chart",
        "scatter_chart",
        "table",
        "text",
        "host_type",
    ] {
        for title in HOSTILE {
            let config = json!({
                "content": HOSTILE.join("\n\n"), "markdown": true, "series_column": "label<script>",
                "colors": ["url(#x)", "red\" onload=\"alert(1)", "#abc"], "currencySymbol": "<b>", "valueFormat": "currency",
                "referenceLines": [{"value": 2, "label": HOSTILE[0], "color": "url(javascript:x)"}],
                "dateFormats": {"label<script>": "'<script>'yyyy"},
            });
            let picture = renderer.widget_svg(
                &widget(widget_type, title, config),
                &WidgetData::rows(hostile_rows()),
                WidgetOptions::new(500, 300),
            );
            assert_inert(&picture.svg);
            assert!(
                !picture.svg.contains("url("),
                "{widget_type}: {}",
                picture.svg
            );
            // Well-formed: it parses and rasterises.
            renderer
                .png(&picture.svg, 0.5)
                .unwrap_or_else(|e| panic!("{widget_type}: {e}"));
        }
    }
    let failed = renderer.widget_svg(
        &widget("bar_chart", "t", json!({})),
        &WidgetData::Failed(HOSTILE.concat()),
        WidgetOptions::new(400, 200),
    );
    assert_inert(&failed.svg);
}

#[test]
fn the_page_escapes_names_filters_and_markdown() {
    let filter: prismiq_core::DashboardFilter = serde_json::from_value(json!({
        "id": "f\"><script>", "type": "select", "label": HOSTILE[0], "field": "x",
        "options": [{"value": HOSTILE[1], "label": HOSTILE[2]}]
    }))
    .unwrap();
    let view = DashboardView {
        name: HOSTILE[0].into(),
        description: Some(HOSTILE[2].into()),
        layout: DashboardLayout::default(),
        widgets: vec![
            (
                widget(
                    "text",
                    HOSTILE[1],
                    json!({"markdown": true, "content": "[x](javascript:alert(1)) <iframe src=//evil></iframe> ![i](https://evil/x.png) <a href=https://ok style=\"background:url(https://evil/y)\">ok</a>"}),
                ),
                WidgetData::Static,
            ),
            (
                widget("bar_chart", HOSTILE[0], json!({})),
                WidgetData::rows(hostile_rows()),
            ),
        ],
        filters: vec![FilterState {
            filter,
            value: Some(Value::String(HOSTILE[1].into())),
            locked: false,
        }],
        refresh_interval: Some(30),
    };
    let query = vec![("var-x".to_owned(), HOSTILE[1].to_owned())];
    let page = Renderer::new().page(&view, &PageOptions::new(Theme::Dark, &query));
    assert_inert(&page.html);
    assert!(!page.html.contains("evil"), "{}", page.html);
    assert!(
        page.html
            .contains(r#"<meta http-equiv="refresh" content="30">"#)
    );
    assert!(
        page.content_security_policy
            .starts_with("default-src 'none'; style-src 'sha256-")
    );
}

#[test]
fn huge_results_are_capped() {
    let renderer = Renderer::new();
    let rows: Vec<Value> = (0..100_000).map(|i| json!([format!("c{i}"), i])).collect();
    let many = result(&["k", "v"], &["text", "bigint"], rows);
    let bars = renderer.widget_svg(
        &widget("bar_chart", "t", json!({})),
        &WidgetData::rows(many.clone()),
        WidgetOptions::new(800, 400),
    );
    assert_eq!(bars.svg.matches(r#"class="bar""#).count(), limits::MAX_BARS);
    assert!(bars.svg.contains("first 200 bars of 100000"));
    let line = renderer.widget_svg(
        &widget("line_chart", "t", json!({})),
        &WidgetData::rows(many.clone()),
        WidgetOptions::new(800, 400),
    );
    let d = line.svg.split(r#"class="line" d=""#).nth(1).unwrap();
    assert_eq!(
        d[..d.find('"').unwrap()].matches('L').count(),
        limits::MAX_POINTS - 1
    );
    let table = renderer.widget_svg(
        &widget("table", "t", json!({"page_size": 1_000_000})),
        &WidgetData::rows(many.clone()),
        WidgetOptions::new(800, 4000),
    );
    assert_eq!(
        table.svg.matches(r#"class="cell""#).count(),
        2 * limits::MAX_TABLE_ROWS
    );
    let pie = renderer.widget_svg(
        &widget("pie_chart", "t", json!({})),
        &WidgetData::rows(many),
        WidgetOptions::new(800, 400),
    );
    assert_eq!(
        pie.svg.matches(r#"class="slice""#).count(),
        limits::MAX_SLICES
    );
    for picture in [&bars, &line, &table, &pie] {
        assert!(picture.svg.len() < 2_000_000, "{} bytes", picture.svg.len());
    }
}

#[test]
fn huge_strings_are_cut() {
    let huge = "W".repeat(1_000_000);
    let data = result(
        &["k", "v"],
        &["text", "bigint"],
        vec![json!([huge, 1]), json!(["b", 2])],
    );
    let renderer = Renderer::new();
    for widget_type in ["bar_chart", "table", "pie_chart", "metric", "text"] {
        let config = json!({"content": huge});
        let picture = renderer.widget_svg(
            &widget(widget_type, &huge, config),
            &WidgetData::rows(data.clone()),
            WidgetOptions::new(600, 300),
        );
        assert!(
            picture.svg.len() < 20_000,
            "{widget_type}: {} bytes",
            picture.svg.len()
        );
    }
}
