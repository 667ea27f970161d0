//! Scatter charts: x against y, one colour per series.

use std::fmt::Write as _;

use crate::chart::{
    Canvas, Drawn, Scale, extent, legend, tick_width, value_axis_bottom, value_axis_left,
};
use crate::data::{Frame, Series};
use crate::format::{NumberFormat, number};
use crate::limits;
use crate::svg::N;

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>) -> Drawn {
    let x = frame.x_column();
    // Numbers on x are placed by value; anything else as evenly spaced categories.
    if !frame.is_numeric(x) {
        return super::line::draw_points(canvas, frame);
    }
    let Some(&y) = frame.y_columns(x).first() else {
        return Drawn::Empty;
    };
    let split = frame.series_column();
    let labeller = split.map(|s| frame.labeller(s));
    let mut series: Vec<(Series, Vec<(f64, f64)>)> = Vec::new();
    let rows = frame.rows().len().min(limits::MAX_POINTS * 4);
    for row in 0..rows {
        let (Some(px), Some(py)) = (number(frame.cell(row, x)), number(frame.cell(row, y))) else {
            continue;
        };
        let name = match (&labeller, split) {
            (Some(l), Some(s)) => l.label(frame.cell(row, s)),
            _ => frame.result.columns[y].clone(),
        };
        let index = match series.iter().position(|(s, _)| s.name == name) {
            Some(i) => i,
            None if series.len() < limits::MAX_SERIES => {
                let color = frame.color(canvas.palette, series.len());
                series.push((
                    Series {
                        name,
                        color,
                        values: Vec::new(),
                    },
                    Vec::new(),
                ));
                series.len() - 1
            }
            None => continue,
        };
        if series[index].1.len() < limits::MAX_POINTS {
            series[index].1.push((px, py));
        }
    }
    let points = || series.iter().flat_map(|(_, p)| p.iter());
    let (Some((x_lo, x_hi)), Some((y_lo, y_hi))) =
        (extent(points().map(|p| p.0)), extent(points().map(|p| p.1)))
    else {
        return Drawn::Empty;
    };
    let x_scale = Scale::nice(x_lo, x_hi, false);
    let y_scale = Scale::nice(y_lo, y_hi, false);
    let format = frame.value_format();
    let x_format = NumberFormat::default();
    let names: Vec<Series> = series.iter().map(|(s, _)| s.clone()).collect();
    let legend_height = legend(canvas, &names, frame.config.show_legend);
    let area = canvas.area.inset(legend_height + 6.0, 14.0, 0.0, 0.0);
    let plot = area.inset(0.0, 0.0, 22.0, tick_width(&y_scale, &format) + 10.0);
    value_axis_left(canvas, plot, &y_scale, &format);
    value_axis_bottom(canvas, plot, &x_scale, &x_format);
    for (s, points) in &series {
        for &(px, py) in points {
            let _ = write!(
                canvas.out.0,
                r#"<circle class="point" cx="{}" cy="{}" r="3.5" fill="{}" fill-opacity="0.8"/>"#,
                N(x_scale.at(px, plot.x, plot.right())),
                N(y_scale.at(py, plot.bottom(), plot.y)),
                s.color
            );
        }
    }
    Drawn::Chart
}
