//! Bar charts: vertical or horizontal, grouped or stacked, one or many series.

use crate::chart::{
    Canvas, Drawn, Scale, category_axis, extent, legend, reference_lines, tick_width,
    value_axis_bottom, value_axis_left,
};
use crate::data::Frame;
use crate::font;
use crate::limits;
use crate::svg::Anchor;

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>) -> Drawn {
    let set = frame.series(canvas.palette, limits::MAX_BARS);
    if set.is_empty() {
        return Drawn::Empty;
    }
    let stacked = frame.config.stacked == Some(true) && set.series.len() > 1;
    let horizontal = frame.config.orientation.as_deref() == Some("horizontal");
    let n = set.categories.len();
    // Each category's extent: the sums of its positive and negative values when stacked.
    let values = (0..n).flat_map(|c| {
        if stacked {
            let (pos, neg) =
                set.series
                    .iter()
                    .filter_map(|s| s.values[c])
                    .fold(
                        (0.0, 0.0),
                        |(p, m), v| {
                            if v >= 0.0 { (p + v, m) } else { (p, m + v) }
                        },
                    );
            vec![pos, neg]
        } else {
            set.series.iter().filter_map(|s| s.values[c]).collect()
        }
    });
    let (lo, hi) = extent(values).unwrap_or((0.0, 1.0));
    let scale = Scale::nice(lo, hi, true);
    let format = frame.value_format();
    let legend_height = legend(canvas, &set.series, frame.config.show_legend);
    let area = canvas.area.inset(legend_height + 6.0, 10.0, 0.0, 0.0);
    let show_labels = frame.config.show_data_labels == Some(true);
    let groups = if stacked { 1 } else { set.series.len() };

    if horizontal {
        let widest = set
            .categories
            .iter()
            .map(|c| font::width(c, 10.0, false))
            .fold(0.0, f64::max);
        let left = (widest + 10.0).min(area.w * 0.35);
        let plot = area.inset(0.0, 0.0, 20.0, left);
        value_axis_bottom(canvas, plot, &scale, &format);
        let band = plot.h / n as f64;
        let thickness = band * 0.75 / groups as f64;
        let zero = scale.at(0.0, plot.x, plot.right());
        for (c, category) in set.categories.iter().enumerate() {
            let top = plot.y + band * c as f64 + band * 0.125;
            let label = font::fit(category, 10.0, left - 8.0, false).into_owned();
            let style = canvas.muted(10.0, Anchor::End, "category");
            canvas
                .out
                .text(plot.x - 6.0, top + band * 0.375 + 3.5, &label, style);
            let (mut pos, mut neg) = (0.0, 0.0);
            for (s, series) in set.series.iter().enumerate() {
                let Some(v) = series.values[c] else { continue };
                let (from, to, y) = if stacked {
                    let base = if v >= 0.0 { &mut pos } else { &mut neg };
                    let from = *base;
                    *base += v;
                    (from, *base, top)
                } else {
                    (0.0, v, top + thickness * s as f64)
                };
                let (a, b) = (
                    scale.at(from, plot.x, plot.right()),
                    scale.at(to, plot.x, plot.right()),
                );
                canvas.out.rect(
                    "bar",
                    a.min(b),
                    y,
                    (b - a).abs(),
                    thickness - 1.0,
                    &series.color,
                );
                if show_labels && !stacked {
                    let style = canvas.style(
                        10.0,
                        if v >= 0.0 { Anchor::Start } else { Anchor::End },
                        "data-label",
                    );
                    let x = if v >= 0.0 { b + 4.0 } else { b - 4.0 };
                    canvas
                        .out
                        .text(x, y + thickness / 2.0 + 3.5, &format.tick(v), style);
                }
            }
        }
        let axis = canvas.palette.axis;
        canvas
            .out
            .line("axis", (zero, plot.y), (zero, plot.bottom()), axis, false);
    } else {
        let left = tick_width(&scale, &format) + 10.0;
        let plot = area.inset(0.0, 0.0, 22.0, left);
        value_axis_left(canvas, plot, &scale, &format);
        let band = plot.w / n as f64;
        let thickness = band * 0.75 / groups as f64;
        for c in 0..n {
            let start = plot.x + band * c as f64 + band * 0.125;
            let (mut pos, mut neg) = (0.0, 0.0);
            for (s, series) in set.series.iter().enumerate() {
                let Some(v) = series.values[c] else { continue };
                let (from, to, x) = if stacked {
                    let base = if v >= 0.0 { &mut pos } else { &mut neg };
                    let from = *base;
                    *base += v;
                    (from, *base, start)
                } else {
                    (0.0, v, start + thickness * s as f64)
                };
                let (a, b) = (
                    scale.at(from, plot.bottom(), plot.y),
                    scale.at(to, plot.bottom(), plot.y),
                );
                canvas.out.rect(
                    "bar",
                    x,
                    a.min(b),
                    thickness - 1.0,
                    (b - a).abs(),
                    &series.color,
                );
                if show_labels && !stacked {
                    let style = canvas.style(10.0, Anchor::Middle, "data-label");
                    let y = if v >= 0.0 { b - 4.0 } else { b + 12.0 };
                    canvas
                        .out
                        .text(x + thickness / 2.0, y, &format.tick(v), style);
                }
            }
        }
        category_axis(canvas, plot, &set.categories, true);
        reference_lines(canvas, frame, plot, &scale);
    }
    if set.dropped_categories {
        canvas.note(&format!("first {} bars of {}", n, frame.rows().len()));
    }
    Drawn::Chart
}
