//! The read-only dashboard page: plain HTML and CSS, every widget an inline SVG, the filters a
//! GET form, no script at all — so the page's `Content-Security-Policy` forbids every script,
//! every outside resource and inline style attributes, and allows only its own stylesheet (by
//! hash).

use std::fmt::Write as _;

use base64::Engine as _;
use prismiq_core::query::DatePreset;
use prismiq_core::{FilterType, WidgetType};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::chart::text;
use crate::params::FILTER_PREFIX;
use crate::svg::Esc;
use crate::widget::{self, Placement};
use crate::{
    DashboardView, FilterState, Renderer, Theme, WidgetData, WidgetOptions, WidgetState,
    preset_label,
};

/// How the page is served.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct PageOptions<'a> {
    /// Colours.
    pub theme: Theme,
    /// The request's query parameters, kept by the theme switch and the download links.
    pub query: &'a [(String, String)],
    /// Where the dashboard's `render.pdf` and `render.png` are, relative to the page's address
    /// (`""` beside it, `"{token}/"` under a share link's root); `None` for no download links.
    pub downloads: Option<&'a str>,
}

impl<'a> PageOptions<'a> {
    /// A page in `theme`, for a request with the parameters `query`, without download links.
    pub fn new(theme: Theme, query: &'a [(String, String)]) -> Self {
        Self {
            theme,
            query,
            downloads: None,
        }
    }

    /// With links to the dashboard as PDF and PNG at `base` (relative to the page's address),
    /// carrying the page's filter values and theme.
    pub fn with_downloads(mut self, base: &'a str) -> Self {
        self.downloads = Some(base);
        self
    }
}

/// A rendered page and the policy it must be served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The HTML document.
    pub html: String,
    /// The `Content-Security-Policy` header value for it.
    pub content_security_policy: String,
}

/// Height of a widget's heading on the page.
const HEADING: u32 = 36;

const CSS: &str = "\
:root{--bg:#f5f6f8;--card:#fff;--border:#dde1e6;--text:#1f2933;--muted:#616e7c;--accent:#4e79a7}\
html[data-theme=dark]{--bg:#12161c;--card:#1c222b;--border:#2d3540;--text:#e4e7eb;--muted:#9aa5b1;--accent:#6f9fd8}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 'DejaVu Sans',Verdana,Arial,sans-serif}\
header.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;padding:16px 16px 4px}\
header.top h1{margin:0;font-size:22px}\
header.top .description{margin:0;color:var(--muted);flex:1 1 auto}\
header.top a{color:var(--accent)}\
form.filters{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px 16px;padding:8px 16px}\
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}\
form.filters select,form.filters input,form.filters button{font:inherit;color:var(--text);background:var(--card);border:1px solid var(--border);border-radius:4px;padding:4px 6px}\
form.filters select[multiple]{min-height:4.5em}\
form.filters button{cursor:pointer;background:var(--accent);color:#fff;border-color:var(--accent)}\
form.filters .range{display:flex;gap:4px}\
main.dashboard{display:grid;padding:8px 16px 16px}\
.widget{background:var(--card);border:1px solid var(--border);border-radius:6px;display:flex;flex-direction:column;min-width:0;overflow:hidden}\
.widget h2{margin:0;padding:8px 12px 0;font-size:14px;height:36px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
.widget .body{flex:1;min-height:0}\
.widget .body svg{display:block;width:100%;height:100%}\
.widget .markdown{padding:0 12px 8px;overflow:auto;flex:1;min-height:0}\
.widget .markdown a{color:var(--accent)}\
.widget .markdown pre{white-space:pre-wrap}\
footer{padding:0 16px 16px;color:var(--muted);font-size:12px}\
@media (max-width:800px){main.dashboard{grid-template-columns:1fr!important;grid-auto-rows:auto!important}\
.widget{grid-column:1/-1!important;grid-row:auto!important;height:320px}}";

pub(crate) fn render(renderer: &Renderer, view: &DashboardView, options: &PageOptions<'_>) -> Page {
    let theme = options.theme;
    // The grid and each widget's place in it: one stylesheet, allowed by its hash.
    let mut style = String::with_capacity(CSS.len() + 128 * view.widgets.len());
    style.push_str(CSS);
    let _ = write!(
        style,
        "main.dashboard{{grid-template-columns:repeat({},minmax(0,1fr));grid-auto-rows:{}px;gap:{}px {}px}}",
        view.layout.columns.max(1),
        view.layout.row_height.clamp(10, 500),
        view.layout.margin[1].min(100),
        view.layout.margin[0].min(100)
    );
    for (widget, _) in &view.widgets {
        let p = widget.position;
        let columns = view.layout.columns.max(1);
        let x = p.x.min(columns - 1);
        let _ = write!(
            style,
            "#w-{}{{grid-column:{}/span {};grid-row:{}/span {}}}",
            widget.id,
            x + 1,
            p.w.clamp(1, columns - x),
            p.y.min(10_000) + 1,
            p.h.clamp(1, 100)
        );
    }
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));

    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en" data-theme="{theme}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="{theme}">"#
    );
    if let Some(seconds) = view.refresh_interval.filter(|s| *s > 0) {
        let _ = write!(
            html,
            r#"<meta http-equiv="refresh" content="{}">"#,
            seconds.max(5)
        );
    }
    let _ = write!(
        html,
        "<title>{}</title><style>{style}</style></head><body>",
        Esc(&view.name)
    );
    let other = match theme {
        Theme::Light => Theme::Dark,
        Theme::Dark => Theme::Light,
    };
    let _ = write!(
        html,
        r#"<header class="top"><h1>{}</h1><p class="description">{}</p>"#,
        Esc(&view.name),
        Esc(view.description.as_deref().unwrap_or("")),
    );
    if let Some(base) = options.downloads {
        let query = with_theme(options.query, theme);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        for (file, label) in [("render.pdf", "PDF"), ("render.png", "PNG")] {
            let _ = write!(
                html,
                r#"<a class="download" href="{}{file}{}">{label}</a>"#,
                Esc(base),
                Esc(&query)
            );
        }
    }
    let _ = write!(
        html,
        r#"<a class="theme" href="?{}">{} theme</a></header>"#,
        Esc(&with_theme(options.query, other)),
        if other == Theme::Dark {
            "Dark"
        } else {
            "Light"
        },
    );
    filters(&mut html, view, theme);
    html.push_str(r#"<main class="dashboard">"#);
    for (widget, data) in &view.widgets {
        let size = WidgetOptions::for_widget(widget, &view.layout);
        let mut body = String::new();
        let state =
            if widget.widget_type == WidgetType::Text && !matches!(data, WidgetData::Failed(_)) {
                let config = widget.config.builtin().cloned().unwrap_or_default();
                let _ = write!(
                    body,
                    r#"<div class="markdown">{}</div>"#,
                    text::html(&config)
                );
                WidgetState::Static
            } else {
                widget::write(
                    renderer,
                    &mut body,
                    widget,
                    data,
                    Placement {
                        x: 0.0,
                        y: 0.0,
                        width: f64::from(size.width),
                        height: f64::from(size.height.saturating_sub(HEADING).max(40)),
                        theme,
                        title: false,
                        standalone: false,
                    },
                )
            };
        let _ = write!(
            html,
            r#"<section class="widget" id="w-{}" data-widget-type="{}" data-state="{}"><h2>{}</h2><div class="body">{body}</div></section>"#,
            widget.id,
            Esc(widget.widget_type.as_str()),
            state.as_str(),
            Esc(&widget.title),
        );
    }
    html.push_str("</main>");
    if let Some(seconds) = view.refresh_interval.filter(|s| *s > 0) {
        let _ = write!(
            html,
            "<footer>Refreshes every {} seconds.</footer>",
            seconds.max(5)
        );
    }
    html.push_str("</body></html>");
    Page {
        html,
        content_security_policy: format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'"
        ),
    }
}

/// The query string of `query` with `theme` set.
fn with_theme(query: &[(String, String)], theme: Theme) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .iter()
        .filter(|(name, _)| name != "theme")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if theme == Theme::Dark {
        pairs.push(("theme", "dark"));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// The filter form: one control per filter, locked ones shown but disabled.
fn filters(html: &mut String, view: &DashboardView, theme: Theme) {
    if view.filters.is_empty() {
        return;
    }
    html.push_str(r#"<form class="filters" method="get">"#);
    if theme == Theme::Dark {
        html.push_str(r#"<input type="hidden" name="theme" value="dark">"#);
    }
    for state in &view.filters {
        let filter = &state.filter;
        let name = format!("{FILTER_PREFIX}{}", filter.id);
        let disabled = if state.locked { " disabled" } else { "" };
        let _ = write!(html, "<label>{}", Esc(&filter.label));
        match filter.filter_type {
            FilterType::Select | FilterType::MultiSelect => {
                let multiple = if filter.filter_type == FilterType::MultiSelect {
                    " multiple"
                } else {
                    ""
                };
                let _ = write!(
                    html,
                    r#"<select name="{}"{multiple}{disabled}>"#,
                    Esc(&name)
                );
                if multiple.is_empty() {
                    html.push_str(r#"<option value="">All</option>"#);
                }
                let chosen = chosen_values(state);
                let mut options: Vec<(String, String)> = filter
                    .options
                    .iter()
                    .flatten()
                    .take(500)
                    .filter_map(|o| {
                        let value = o.get("value")?.clone();
                        let label = o.get("label").cloned().unwrap_or_else(|| value.clone());
                        Some((value, label))
                    })
                    .collect();
                // A chosen value that is not among the options (a dynamic filter) is offered too.
                for value in &chosen {
                    if !options.iter().any(|(v, _)| v == value) {
                        options.push((value.clone(), value.clone()));
                    }
                }
                for (value, label) in options {
                    let selected = if chosen.contains(&value) {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        html,
                        r#"<option value="{}"{selected}>{}</option>"#,
                        Esc(&value),
                        Esc(&label)
                    );
                }
                html.push_str("</select>");
            }
            FilterType::Text => {
                let value = chosen_values(state).into_iter().next().unwrap_or_default();
                let _ = write!(
                    html,
                    r#"<input type="search" name="{}" value="{}"{disabled}>"#,
                    Esc(&name),
                    Esc(&value)
                );
            }
            FilterType::DateRange => {
                let (preset, start, end) = match &state.value {
                    Some(Value::String(p)) => (p.clone(), String::new(), String::new()),
                    Some(Value::Object(range)) => {
                        let part = |k: &str| {
                            range
                                .get(k)
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_owned()
                        };
                        (part("preset"), part("start"), part("end"))
                    }
                    _ => (String::new(), String::new(), String::new()),
                };
                let _ = write!(
                    html,
                    r#"<span class="range"><select name="{}"{disabled}><option value="">All time</option>"#,
                    Esc(&name)
                );
                for p in DatePreset::ALL {
                    let key = serde_json::to_value(p)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let selected = if key == preset && start.is_empty() {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        html,
                        r#"<option value="{key}"{selected}>{}</option>"#,
                        Esc(&preset_label(&key))
                    );
                }
                let _ = write!(
                    html,
                    r#"</select><input type="date" name="{}.start" value="{}" aria-label="from"{disabled}><input type="date" name="{}.end" value="{}" aria-label="to"{disabled}></span>"#,
                    Esc(&name),
                    Esc(&start),
                    Esc(&name),
                    Esc(&end)
                );
            }
            FilterType::NumberRange => {
                let (min, max) = match &state.value {
                    Some(Value::Object(range)) => {
                        let part = |k: &str| {
                            range
                                .get(k)
                                .filter(|v| !v.is_null())
                                .map(|v| v.to_string())
                                .unwrap_or_default()
                        };
                        (part("min"), part("max"))
                    }
                    _ => (String::new(), String::new()),
                };
                let _ = write!(
                    html,
                    r#"<span class="range"><input type="number" step="any" name="{}.min" value="{}" aria-label="minimum"{disabled}><input type="number" step="any" name="{}.max" value="{}" aria-label="maximum"{disabled}></span>"#,
                    Esc(&name),
                    Esc(&min),
                    Esc(&name),
                    Esc(&max)
                );
            }
        }
        html.push_str("</label>");
    }
    html.push_str(r#"<button type="submit">Apply</button></form>"#);
}

/// The values of a select-like filter in force, as strings.
fn chosen_values(state: &FilterState) -> Vec<String> {
    match &state.value {
        Some(Value::Array(items)) => items.iter().map(crate::plain).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(value) => vec![crate::plain(value)],
    }
}

/// A page saying that something went wrong: `title` (the status, "Not Found") and `message`,
/// both escaped, in the page's look, under the same policy.
pub fn error_page(title: &str, message: &str) -> Page {
    const STYLE: &str = "body{margin:0;padding:48px 24px;background:#f5f6f8;color:#1f2933;\
        font:16px/1.5 'DejaVu Sans',Verdana,Arial,sans-serif}h1{font-size:22px;margin:0 0 8px}\
        p{margin:0;color:#616e7c}@media (prefers-color-scheme:dark){body{background:#12161c;\
        color:#e4e7eb}p{color:#9aa5b1}}";
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    Page {
        html: format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1><p>{message}</p></body></html>"#,
            title = Esc(&crate::font::clip(title)),
            message = Esc(&crate::font::clip(message)),
        ),
        content_security_policy: format!(
            "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'"
        ),
    }
}
