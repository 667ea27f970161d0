//! The read-only dashboard page in a real browser: the demo serves it, headless Chromium loads
//! it, driven over the Chrome DevTools Protocol (see `cdp`), and the test checks what a person
//! would see.
//!
//! Tests on the server side see the page as text: they cannot tell whether a browser accepts
//! it. Here Chromium renders it under the page's own Content-Security-Policy, and the page has
//! no JavaScript of its own, so anything the browser complains about is a defect: a console
//! error, a resource the policy blocks, a request that fails or answers 400 and above. The test
//! also checks that the Sales overview's widgets draw (inline SVG), that choosing a filter in
//! the page's form and submitting it changes the chart it reaches, and that the dark theme
//! loads. It leaves screenshots of both themes in `target/screenshots/` for a person to look at.
//!
//! Chromium is required: without it the test fails, saying how to install it, rather than pass
//! by testing nothing. `.ci/run` installs it on CI; elsewhere, set `CHROMIUM` to use another
//! binary.

mod cdp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use cdp::{Browser, Page, TempDir};

/// An upper bound on the whole test, on top of the timeouts of each step.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the demo may take to load its sample data and listen.
const DEMO_START_TIMEOUT: Duration = Duration::from_secs(120);

/// The Sales overview's widgets, `(data-widget-type, title)`.
const SALES_OVERVIEW: [(&str, &str); 7] = [
    ("metric", "Revenue (completed orders)"),
    ("metric", "Orders"),
    ("text", "About"),
    ("bar_chart", "Revenue by region"),
    ("pie_chart", "Orders by status"),
    ("line_chart", "Orders per month"),
    ("table", "Best-selling products"),
];

/// What the page shows of each widget, gathered in the page by [`WIDGETS`].
#[derive(Debug, Deserialize)]
struct Widget {
    id: String,
    kind: String,
    state: String,
    title: String,
    svg: bool,
    markdown: bool,
    bars: usize,
    slices: usize,
    lines: usize,
    cells: usize,
    values: Vec<String>,
}

/// Describes every widget section of the page as a [`Widget`].
const WIDGETS: &str = r"Array.from(document.querySelectorAll('main.dashboard section.widget'), s => ({
    id: s.id,
    kind: s.dataset.widgetType ?? '',
    state: s.dataset.state ?? '',
    title: s.querySelector('h2')?.textContent.trim() ?? '',
    svg: s.querySelector('svg') !== null,
    markdown: s.querySelector('div.markdown') !== null,
    bars: s.querySelectorAll('svg rect.bar').length,
    slices: s.querySelectorAll('svg path.slice').length,
    lines: s.querySelectorAll('svg path.line').length,
    cells: s.querySelectorAll('svg text.cell').length,
    values: Array.from(s.querySelectorAll('svg text.value'), t => t.textContent.trim()),
}))";

#[tokio::test]
async fn the_dashboard_page_works_in_chromium() {
    // Chromium first: when it is missing, the test says so before anything else.
    let browser = Browser::launch();
    let demo = Demo::start();
    let (light, dark) = tokio::time::timeout(TEST_TIMEOUT, check_the_page(&demo, &browser))
        .await
        .unwrap_or_else(|_| panic!("the browser test took more than {TEST_TIMEOUT:?}"));
    println!("screenshots:\n  {}\n  {}", light.display(), dark.display());
}

/// Everything the test checks, from the first page to the dark theme; returns the screenshots.
async fn check_the_page(demo: &Demo, browser: &Browser) -> (PathBuf, PathBuf) {
    let mut page = Page::open(browser).await;

    // The demo's home redirects to the Sales overview's page, which loads cleanly.
    page.navigate(&format!("http://127.0.0.1:{}/", demo.port))
        .await;
    let href: String = page.evaluate("location.href").await;
    assert!(
        href.contains("/dashboards/") && href.contains("/view"),
        "`/` led to {href}, not a dashboard's page"
    );
    page.assert_no_problems("loading the Sales overview").await;
    let theme: String = page
        .evaluate("document.documentElement.dataset.theme")
        .await;
    assert_eq!(theme, "light", "the default theme");
    let scripts: usize = page.evaluate("document.scripts.length").await;
    assert_eq!(scripts, 0, "the page is meant to have no JavaScript");

    // Every widget drew.
    let widgets: Vec<Widget> = page.evaluate(WIDGETS).await;
    check_sales_overview(&widgets);
    let light = screenshot_dir().join("dashboard-light.png");
    page.screenshot(&light).await;

    // Choosing a region in the filter form and submitting it reloads the page, filtered. The
    // filter is on `customers.region`, so it reaches the widgets whose query reads `customers`:
    // in the Sales overview, Revenue by region alone (the metrics read only `orders` and keep
    // their values).
    let regions: Vec<String> = page
        .evaluate(
            r#"Array.from(document.querySelectorAll('form.filters[method="get" i] select[name="var-region"] option'), o => o.value)"#,
        )
        .await;
    assert_eq!(
        regions,
        ["", "East", "North", "South", "West"],
        "the region filter's options"
    );
    let submit: usize = page
        .evaluate(r#"document.querySelectorAll('form.filters button[type="submit"]').length"#)
        .await;
    assert_eq!(submit, 1, "the filter form's submit button");
    let bars = widget(&widgets, "Revenue by region").bars;
    page.evaluate_and_wait_for_load(
        r#"document.querySelector('select[name="var-region"]').value = 'East';
           document.querySelector('form.filters').requestSubmit()"#,
    )
    .await;
    let search: String = page.evaluate("location.search").await;
    assert!(
        search.contains("var-region=East"),
        "the form's submission went to {search:?}"
    );
    page.assert_no_problems("filtering by region").await;
    let chosen: String = page
        .evaluate(r#"document.querySelector('select[name="var-region"]').value"#)
        .await;
    assert_eq!(chosen, "East", "the filter form shows the region chosen");
    let widgets: Vec<Widget> = page.evaluate(WIDGETS).await;
    check_widget_states(&widgets, "filtered to the East region");
    let filtered_bars = widget(&widgets, "Revenue by region").bars;
    assert_eq!(
        filtered_bars, 1,
        "bars of Revenue by region filtered to East (unfiltered: {bars})"
    );

    // The dark theme.
    let dark_url: String = page
        .evaluate("location.origin + location.pathname + '?theme=dark'")
        .await;
    page.navigate(&dark_url).await;
    page.assert_no_problems("loading the dark theme").await;
    let theme: String = page
        .evaluate("document.documentElement.dataset.theme")
        .await;
    assert_eq!(theme, "dark", "the theme of {dark_url}");
    let kept: Option<String> = page
        .evaluate(r#"document.querySelector('form.filters input[name="theme"]')?.value ?? null"#)
        .await;
    assert_eq!(
        kept.as_deref(),
        Some("dark"),
        "the filter form keeps the theme"
    );
    let widgets: Vec<Widget> = page.evaluate(WIDGETS).await;
    check_widget_states(&widgets, "in the dark theme");
    let dark = screenshot_dir().join("dashboard-dark.png");
    page.screenshot(&dark).await;

    page.close().await;
    (light, dark)
}

/// The Sales overview as it should look unfiltered: its seven widgets, each drawn with data.
fn check_sales_overview(widgets: &[Widget]) {
    let mut found: Vec<(&str, &str)> = widgets
        .iter()
        .map(|w| (w.kind.as_str(), w.title.as_str()))
        .collect();
    found.sort_unstable();
    let mut expected = SALES_OVERVIEW;
    expected.sort_unstable();
    assert_eq!(
        found, expected,
        "the Sales overview's widgets: {widgets:#?}"
    );
    check_widget_states(widgets, "unfiltered");
    for w in widgets {
        if w.kind == "text" {
            assert!(w.markdown, "{}: no div.markdown: {w:?}", w.title);
        } else {
            assert!(w.svg, "{}: no svg: {w:?}", w.title);
        }
    }
    let bars = widget(widgets, "Revenue by region").bars;
    assert!(
        (4..=5).contains(&bars),
        "Revenue by region has {bars} bars, not one a region (and maybe one for no region)"
    );
    let slices = widget(widgets, "Orders by status").slices;
    assert!(slices >= 2, "Orders by status has {slices} slices");
    let lines = widget(widgets, "Orders per month").lines;
    assert!(lines >= 1, "Orders per month has no path.line");
    metric_value(widgets, "Revenue (completed orders)");
    metric_value(widgets, "Orders");
    let cells = widget(widgets, "Best-selling products").cells;
    assert!(cells >= 10, "Best-selling products has {cells} cells");
}

/// Checks the page has the Sales overview's seven widgets in a known state, none failed, and
/// that those with data drew.
fn check_widget_states(widgets: &[Widget], when: &str) {
    assert_eq!(
        widgets.len(),
        SALES_OVERVIEW.len(),
        "widgets {when}: {widgets:#?}"
    );
    for w in widgets {
        assert!(
            w.id.strip_prefix("w-").is_some_and(|uuid| uuid.len() == 36),
            "{}: the section's id {:?} is not `w-{{widget uuid}}`",
            w.title,
            w.id
        );
        assert!(
            ["ok", "empty", "static"].contains(&w.state.as_str()),
            "{} is in state {:?} {when}: {w:?}",
            w.title,
            w.state
        );
        if w.state == "ok" {
            assert!(w.svg, "{} drew no svg {when}: {w:?}", w.title);
        }
    }
}

/// The widget titled `title`.
fn widget<'a>(widgets: &'a [Widget], title: &str) -> &'a Widget {
    widgets
        .iter()
        .find(|w| w.title == title)
        .unwrap_or_else(|| panic!("no widget titled {title:?} in {widgets:#?}"))
}

/// The value a metric widget shows, which must be a value.
fn metric_value(widgets: &[Widget], title: &str) -> String {
    let metric = widget(widgets, title);
    let value = metric
        .values
        .first()
        .unwrap_or_else(|| panic!("{title}: no text.value: {metric:?}"));
    assert!(
        !["", "null", "NaN", "undefined"].contains(&value.as_str()),
        "{title} shows {value:?}"
    );
    value.clone()
}

/// `target/screenshots`: in `CARGO_TARGET_DIR` if set (relative to the workspace), else in the
/// workspace's `target`.
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the demo lives two levels below the workspace");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), |dir| workspace.join(dir));
    target.join("screenshots")
}

/// The demo binary on a free port, with its data (SQLite, the sample dataset) in a directory of
/// its own; killed on drop.
struct Demo {
    child: Child,
    port: u16,
    /// Dropped after the process is killed (fields drop after `Drop::drop`).
    _data: TempDir,
}

impl Demo {
    fn start() -> Self {
        let data = TempDir::new("prismiq-demo-browser");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_prismiq-demo"))
            .env_remove("DATABASE_URL")
            .env("PRISMIQ_DATA_DIR", data.path())
            .env("PORT", port.to_string())
            .env("PRISMIQ_SHARE_RATE_LIMIT", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the demo");
        let stdout = child.stdout.take().expect("the demo's stdout is piped");
        // Owned before waiting, so that a demo that never listens is killed all the same.
        let demo = Self {
            child,
            port,
            _data: data,
        };
        // It prints its address once it listens.
        cdp::wait_for_line(
            &cdp::lines_of(stdout),
            DEMO_START_TIMEOUT,
            "`listening` line from the demo",
            |line| line.contains("listening").then_some(()),
        );
        demo
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
