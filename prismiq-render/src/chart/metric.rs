//! A metric: one number, large, in the widget's format; its trend when the widget shows one.

use prismiq_core::{Direction, TrendResult};

use crate::chart::{Area, Canvas, Drawn};
use crate::data::Frame;
use crate::font;
use crate::format::number;
use crate::svg::{Anchor, TextStyle};

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>, trend: Option<&TrendResult>) -> Drawn {
    let columns = frame.y_columns(usize::MAX);
    let column = columns
        .first()
        .copied()
        .or_else(|| (!frame.result.columns.is_empty()).then_some(0));
    let (Some(column), false) = (column, frame.rows().is_empty()) else {
        return Drawn::Empty;
    };
    let value = frame.cell(0, column);
    let text = match number(value) {
        Some(v) => frame.value_format().format(v),
        None if value.is_null() => "—".to_owned(),
        None => frame.labeller(column).label(value),
    };
    let Area { x, y, w, h } = canvas.area;
    // As large as fits: at most 44 px, at least 14.
    let mut size: f64 = (h * 0.45).min(44.0);
    while size > 14.0 && font::width(&text, size, true) > w - 16.0 {
        size -= 2.0;
    }
    let text = font::fit(&text, size, w - 16.0, true).into_owned();
    let has_trend = trend.is_some() && frame.config.show_trend != Some(false);
    let centre = y + h / 2.0 + size / 3.0 - if has_trend { 10.0 } else { 4.0 };
    let style = TextStyle {
        bold: true,
        ..canvas.style(size, Anchor::Middle, "value")
    };
    canvas.out.text(x + w / 2.0, centre, &text, style);
    let label = font::fit(&frame.result.columns[column], 11.0, w - 16.0, false).into_owned();
    let style = canvas.muted(11.0, Anchor::Middle, "label");
    canvas.out.text(x + w / 2.0, centre + 18.0, &label, style);
    if let Some(trend) = trend.filter(|_| has_trend) {
        let (arrow, fill) = match trend.direction {
            Direction::Up => ("▲", canvas.palette.up),
            Direction::Down => ("▼", canvas.palette.down),
            Direction::Flat => ("▶", canvas.palette.muted),
        };
        let change = trend.percent_change.map_or_else(
            || "no earlier value".to_owned(),
            |p| format!("{arrow} {p:+.1}%"),
        );
        let style = TextStyle {
            fill,
            ..canvas.style(12.0, Anchor::Middle, "trend")
        };
        canvas.out.text(x + w / 2.0, centre + 36.0, &change, style);
    }
    Drawn::Chart
}
