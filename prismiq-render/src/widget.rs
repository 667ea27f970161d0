//! One widget as a standalone SVG document.

use std::fmt::Write as _;

use prismiq_core::{Widget, WidgetType};

use crate::chart::{self, Area, Canvas, Drawn};
use crate::font;
use crate::svg::{Anchor, Esc, N, Out, TextStyle};
use crate::{Renderer, Theme, WidgetData, WidgetState};

/// Height of a widget's title bar in pictures.
pub(crate) const TITLE_HEIGHT: f64 = 32.0;

/// How a widget is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) theme: Theme,
    /// Whether the picture carries the title (pictures do; the page shows it in HTML).
    pub(crate) title: bool,
    /// Whether the root element names the SVG namespace (a standalone document does; SVG
    /// inside HTML or inside another SVG need not).
    pub(crate) standalone: bool,
}

/// Writes the widget as an `<svg>` element into `out`; returns what it shows.
pub(crate) fn write(
    renderer: &Renderer,
    out: &mut String,
    widget: &Widget,
    data: &WidgetData,
    at: Placement,
) -> WidgetState {
    let palette = at.theme.palette();
    let (w, h) = (at.width, at.height);
    let _ = write!(
        out,
        r#"<svg{} class="prismiq-widget" data-widget-type="{}" x="{}" y="{}" width="{}" height="{}" viewBox="0 0 {} {}" font-family="{}" role="img" aria-label="{}">"#,
        if at.standalone {
            r#" xmlns="http://www.w3.org/2000/svg""#
        } else {
            ""
        },
        Esc(widget.widget_type.as_str()),
        N(at.x),
        N(at.y),
        N(w),
        N(h),
        N(w),
        N(h),
        font::FAMILY,
        Esc(&font::clip(&widget.title)),
    );
    let mut canvas = Canvas {
        out: Out(std::mem::take(out)),
        area: Area {
            x: 0.0,
            y: 0.0,
            w,
            h,
        },
        palette,
    };
    if at.title {
        let _ = write!(
            canvas.out.0,
            r#"<rect class="background" x="0.5" y="0.5" width="{}" height="{}" rx="6" fill="{}" stroke="{}"/>"#,
            N(w - 1.0),
            N(h - 1.0),
            palette.card,
            palette.border
        );
        let title = font::fit(&widget.title, 14.0, w - 24.0, true).into_owned();
        let style = TextStyle {
            bold: true,
            ..canvas.style(14.0, Anchor::Start, "title")
        };
        canvas.out.text(12.0, 21.0, &title, style);
        canvas.area = canvas.area.inset(TITLE_HEIGHT, 8.0, 8.0, 8.0);
    } else {
        canvas.area = canvas.area.inset(4.0, 4.0, 4.0, 4.0);
    }
    let state = match data {
        WidgetData::Failed(message) => {
            chart::draw_error(&mut canvas, message);
            WidgetState::Error
        }
        _ if widget.widget_type == WidgetType::Text => {
            chart::text::draw(
                &mut canvas,
                widget.config.builtin().unwrap_or(&Default::default()),
            );
            WidgetState::Static
        }
        WidgetData::Static => {
            let muted = palette.muted;
            let label = renderer.label(&widget.widget_type);
            canvas.message(&label, muted);
            WidgetState::Static
        }
        WidgetData::Rows { result, trend } => {
            if let (WidgetType::Custom(key), Some(painter)) =
                (&widget.widget_type, renderer.painter(&widget.widget_type))
            {
                let area = canvas.area;
                let _ = write!(
                    canvas.out.0,
                    r#"<g class="host" data-host-type="{}" transform="translate({},{})">"#,
                    Esc(key),
                    N(area.x),
                    N(area.y)
                );
                let body = painter.paint(widget, result, (area.w, area.h), at.theme);
                canvas.out.raw(&body);
                canvas.out.raw("</g>");
                WidgetState::Ok
            } else {
                let config = widget.config.builtin().cloned().unwrap_or_default();
                let label = renderer.label(&widget.widget_type);
                match chart::draw(
                    &mut canvas,
                    &widget.widget_type,
                    &label,
                    &config,
                    result,
                    trend.as_ref(),
                ) {
                    Drawn::Chart => WidgetState::Ok,
                    Drawn::Empty => WidgetState::Empty,
                }
            }
        }
    };
    *out = canvas.out.0;
    out.push_str("</svg>");
    state
}
