//! Line and area charts: one path per series over evenly spaced categories (time buckets,
//! usually), gaps where a value is missing; areas filled down to zero, or stacked.

use std::fmt::Write as _;

use crate::chart::{
    Canvas, Drawn, Scale, category_axis, extent, legend, reference_lines, tick_width,
    value_axis_left,
};
use crate::data::Frame;
use crate::limits;
use crate::svg::{Anchor, N};

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>, filled: bool) -> Drawn {
    draw_as(canvas, frame, if filled { Look::Area } else { Look::Line })
}

/// Points only, over evenly spaced categories (a scatter chart whose x axis is not numeric).
pub(crate) fn draw_points(canvas: &mut Canvas, frame: &Frame<'_>) -> Drawn {
    draw_as(canvas, frame, Look::Points)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Line,
    Area,
    Points,
}

fn draw_as(canvas: &mut Canvas, frame: &Frame<'_>, look: Look) -> Drawn {
    let filled = look == Look::Area;
    let set = frame.series(canvas.palette, limits::MAX_POINTS);
    if set.is_empty() {
        return Drawn::Empty;
    }
    let n = set.categories.len();
    let stacked = filled && frame.config.stacked == Some(true) && set.series.len() > 1;
    // With stacking, each series is drawn on top of the ones before it.
    let mut tops: Vec<Vec<Option<f64>>> = Vec::with_capacity(set.series.len());
    let mut running = vec![0.0; n];
    for series in &set.series {
        if stacked {
            let top = (0..n)
                .map(|c| {
                    running[c] += series.values[c].unwrap_or(0.0);
                    Some(running[c])
                })
                .collect();
            tops.push(top);
        } else {
            tops.push(series.values.clone());
        }
    }
    let (lo, hi) = extent(tops.iter().flatten().flatten().copied()).unwrap_or((0.0, 1.0));
    let scale = Scale::nice(lo, hi, filled || lo >= 0.0 && lo < hi * 0.5);
    let format = frame.value_format();
    let legend_height = legend(canvas, &set.series, frame.config.show_legend);
    let area = canvas.area.inset(legend_height + 6.0, 14.0, 0.0, 0.0);
    let plot = area.inset(0.0, 0.0, 22.0, tick_width(&scale, &format) + 10.0);
    value_axis_left(canvas, plot, &scale, &format);
    let x_at = |c: usize| {
        if n == 1 {
            plot.x + plot.w / 2.0
        } else {
            plot.x + plot.w * c as f64 / (n - 1) as f64
        }
    };
    let y_at = |v: f64| scale.at(v, plot.bottom(), plot.y);
    let dots = n <= 40 || look == Look::Points;
    for (s, series) in set.series.iter().enumerate().rev() {
        let top = &tops[s];
        if filled {
            // Filled to the series below when stacked, else to zero (or the axis minimum).
            let floor: Vec<f64> = (0..n)
                .map(|c| {
                    if stacked && s > 0 {
                        tops[s - 1][c].unwrap_or(0.0)
                    } else {
                        0f64.max(scale.min)
                    }
                })
                .collect();
            for run in runs(top) {
                let mut d = String::new();
                for &c in &run {
                    let _ = write!(
                        d,
                        "{}{},{} ",
                        if d.is_empty() { 'M' } else { 'L' },
                        N(x_at(c)),
                        N(y_at(top[c].unwrap_or(0.0)))
                    );
                }
                for &c in run.iter().rev() {
                    let _ = write!(d, "L{},{} ", N(x_at(c)), N(y_at(floor[c])));
                }
                let _ = write!(
                    canvas.out.0,
                    r#"<path class="area" d="{}Z" fill="{}" fill-opacity="0.25" stroke="none"/>"#,
                    d, series.color
                );
            }
        }
        for run in runs(top).into_iter().filter(|_| look != Look::Points) {
            let mut d = String::new();
            for &c in &run {
                let _ = write!(
                    d,
                    "{}{},{}",
                    if d.is_empty() { 'M' } else { 'L' },
                    N(x_at(c)),
                    N(y_at(top[c].unwrap_or(0.0)))
                );
            }
            let _ = write!(
                canvas.out.0,
                r#"<path class="line" d="{d}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>"#,
                series.color
            );
        }
        if dots {
            for (c, v) in top.iter().enumerate() {
                if let Some(v) = v {
                    let _ = write!(
                        canvas.out.0,
                        r#"<circle class="point" cx="{}" cy="{}" r="{}" fill="{}"/>"#,
                        N(x_at(c)),
                        N(y_at(*v)),
                        if look == Look::Points { 3.5 } else { 2.5 },
                        series.color
                    );
                }
            }
        }
        if frame.config.show_data_labels == Some(true) && n <= 24 {
            for (c, v) in series.values.iter().enumerate() {
                if let (Some(v), Some(top)) = (v, top[c]) {
                    let style = canvas.style(10.0, Anchor::Middle, "data-label");
                    canvas
                        .out
                        .text(x_at(c), y_at(top) - 6.0, &format.tick(*v), style);
                }
            }
        }
    }
    category_axis(canvas, plot, &set.categories, false);
    reference_lines(canvas, frame, plot, &scale);
    if set.dropped_categories {
        canvas.note(&format!("first {} points of {}", n, frame.rows().len()));
    }
    Drawn::Chart
}

/// The runs of consecutive indices that have a value.
fn runs(values: &[Option<f64>]) -> Vec<Vec<usize>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if v.is_some() {
            current.push(i);
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}
