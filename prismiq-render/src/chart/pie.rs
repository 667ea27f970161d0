//! Pie and donut charts (a donut when the config's `format` is `donut`): one slice per
//! category of the first value column; the smallest beyond [`limits::MAX_SLICES`] are summed
//! into "Other".

use std::f64::consts::{PI, TAU};
use std::fmt::Write as _;

use crate::chart::{Area, Canvas, Drawn};
use crate::data::Frame;
use crate::font;
use crate::format::number;
use crate::limits;
use crate::svg::{Anchor, N};

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>) -> Drawn {
    let x = frame.x_column();
    let Some(&y) = frame.y_columns(x).first() else {
        return Drawn::Empty;
    };
    let labels = frame.labeller(x);
    let mut slices: Vec<(String, f64)> = (0..frame.rows().len())
        .filter_map(|row| {
            let v = number(frame.cell(row, y))?;
            (v > 0.0).then(|| (labels.label(frame.cell(row, x)), v))
        })
        .collect();
    if slices.is_empty() {
        return Drawn::Empty;
    }
    if slices.len() > limits::MAX_SLICES {
        slices.sort_by(|a, b| b.1.total_cmp(&a.1));
        let other: f64 = slices[limits::MAX_SLICES - 1..].iter().map(|s| s.1).sum();
        slices.truncate(limits::MAX_SLICES - 1);
        slices.push(("Other".to_owned(), other));
    }
    let total: f64 = slices.iter().map(|s| s.1).sum();
    let Area { x: ax, y: ay, w, h } = canvas.area;
    // The legend goes to the right when there is room for it, else below.
    let beside = w >= h * 1.4;
    let legend_w = if beside { (w * 0.4).min(220.0) } else { 0.0 };
    let legend_h = if beside {
        0.0
    } else {
        (slices.len() as f64 * 16.0).min(h * 0.4)
    };
    let r = ((w - legend_w).min(h - legend_h) / 2.0 - 10.0).max(8.0);
    let (cx, cy) = (ax + (w - legend_w) / 2.0, ay + (h - legend_h) / 2.0);
    let donut = frame.config.format.as_deref() == Some("donut");
    let inner = if donut { r * 0.55 } else { 0.0 };
    let mut angle = -PI / 2.0;
    for (i, (_, v)) in slices.iter().enumerate() {
        let sweep = v / total * TAU;
        let color = frame.color(canvas.palette, i);
        let d = slice_path(cx, cy, r, inner, angle, sweep);
        let _ = write!(
            canvas.out.0,
            r#"<path class="slice" d="{d}" fill="{color}" stroke="{}" stroke-width="1"/>"#,
            canvas.palette.card
        );
        if frame.config.show_data_labels != Some(false) && sweep > 0.35 {
            let mid = angle + sweep / 2.0;
            let at = (r + inner) / 2.0 + if donut { 0.0 } else { r * 0.15 };
            let style = crate::svg::TextStyle {
                fill: "#ffffff",
                ..canvas.style(11.0, Anchor::Middle, "slice-label")
            };
            let percent = format!("{:.0}%", v / total * 100.0);
            canvas.out.text(
                cx + at * mid.cos(),
                cy + at * mid.sin() + 4.0,
                &percent,
                style,
            );
        }
        angle += sweep;
    }
    if frame.config.show_legend != Some(false) {
        let rows = if beside {
            ((h - 8.0) / 16.0) as usize
        } else {
            (legend_h / 16.0) as usize
        };
        let (lx, ly) = if beside {
            (
                ax + w - legend_w + 4.0,
                ay + (h - rows.min(slices.len()) as f64 * 16.0) / 2.0,
            )
        } else {
            (ax + 8.0, ay + h - legend_h)
        };
        let width = if beside { legend_w - 20.0 } else { w - 30.0 };
        for (i, (label, _)) in slices.iter().enumerate().take(rows) {
            let top = ly + i as f64 * 16.0;
            let _ = write!(
                canvas.out.0,
                r#"<rect class="legend-swatch" x="{}" y="{}" width="10" height="10" rx="2" fill="{}"/>"#,
                N(lx),
                N(top + 2.0),
                frame.color(canvas.palette, i)
            );
            let text = font::fit(label, 11.0, width, false).into_owned();
            let style = canvas.style(11.0, Anchor::Start, "legend");
            canvas.out.text(lx + 14.0, top + 11.0, &text, style);
        }
    }
    Drawn::Chart
}

/// The outline of one slice (a ring segment when `inner` > 0).
fn slice_path(cx: f64, cy: f64, r: f64, inner: f64, start: f64, sweep: f64) -> String {
    // A whole circle cannot be one arc: it is drawn as two halves.
    if sweep >= TAU - 1e-9 {
        let mut d = format!(
            "M{},{} A{r},{r} 0 1 1 {},{} A{r},{r} 0 1 1 {},{} Z",
            N(cx),
            N(cy - r),
            N(cx),
            N(cy + r),
            N(cx),
            N(cy - r),
            r = N(r)
        );
        if inner > 0.0 {
            let _ = write!(
                d,
                " M{},{} A{r},{r} 0 1 0 {},{} A{r},{r} 0 1 0 {},{} Z",
                N(cx),
                N(cy - inner),
                N(cx),
                N(cy + inner),
                N(cx),
                N(cy - inner),
                r = N(inner)
            );
        }
        return d;
    }
    let end = start + sweep;
    let large = u8::from(sweep > PI);
    let point = |radius: f64, a: f64| (cx + radius * a.cos(), cy + radius * a.sin());
    let (x1, y1) = point(r, start);
    let (x2, y2) = point(r, end);
    if inner > 0.0 {
        let (x3, y3) = point(inner, end);
        let (x4, y4) = point(inner, start);
        format!(
            "M{},{} A{r},{r} 0 {large} 1 {},{} L{},{} A{i},{i} 0 {large} 0 {},{} Z",
            N(x1),
            N(y1),
            N(x2),
            N(y2),
            N(x3),
            N(y3),
            N(x4),
            N(y4),
            r = N(r),
            i = N(inner)
        )
    } else {
        format!(
            "M{},{} L{},{} A{r},{r} 0 {large} 1 {},{} Z",
            N(cx),
            N(cy),
            N(x1),
            N(y1),
            N(x2),
            N(y2),
            r = N(r)
        )
    }
}
