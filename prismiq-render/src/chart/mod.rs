//! One widget as SVG: the chart of each built-in type, and the states every widget shares
//! (empty, error, a host type drawn as a neutral card).

mod bar;
mod card;
mod line;
mod metric;
mod pie;
mod scatter;
mod table;
pub(crate) mod text;

use std::fmt::Write as _;

use prismiq_core::{QueryResult, TrendResult, WidgetConfig, WidgetType};

use crate::data::{Frame, Series};
use crate::font;
use crate::svg::{Anchor, N, Out, TextStyle};
use crate::theme::Palette;

/// A rectangle to draw in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Area {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) w: f64,
    pub(crate) h: f64,
}

impl Area {
    pub(crate) fn inset(self, top: f64, right: f64, bottom: f64, left: f64) -> Self {
        Self {
            x: self.x + left,
            y: self.y + top,
            w: (self.w - left - right).max(1.0),
            h: (self.h - top - bottom).max(1.0),
        }
    }

    pub(crate) fn right(self) -> f64 {
        self.x + self.w
    }

    pub(crate) fn bottom(self) -> f64 {
        self.y + self.h
    }
}

/// Where a chart draws: the markup, the area and the colours.
#[derive(Debug)]
pub(crate) struct Canvas {
    pub(crate) out: Out,
    pub(crate) area: Area,
    pub(crate) palette: &'static Palette,
}

impl Canvas {
    pub(crate) fn style(
        &self,
        size: f64,
        anchor: Anchor,
        class: &'static str,
    ) -> TextStyle<'static> {
        TextStyle {
            size,
            fill: self.palette.text,
            anchor,
            bold: false,
            class,
        }
    }

    pub(crate) fn muted(
        &self,
        size: f64,
        anchor: Anchor,
        class: &'static str,
    ) -> TextStyle<'static> {
        TextStyle {
            fill: self.palette.muted,
            ..self.style(size, anchor, class)
        }
    }

    /// A short message in the middle of the area.
    pub(crate) fn message(&mut self, text: &str, fill: &str) {
        let Area { x, y, w, h } = self.area;
        let size = 13.0;
        let line = font::fit(text, size, w - 16.0, false).into_owned();
        let style = TextStyle {
            fill,
            ..self.style(size, Anchor::Middle, "message")
        };
        self.out
            .text(x + w / 2.0, y + h / 2.0 + size / 3.0, &line, style);
    }

    /// A note under the chart (what was left out).
    pub(crate) fn note(&mut self, text: &str) {
        let Area { x, w, .. } = self.area;
        let style = self.muted(10.0, Anchor::End, "note");
        self.out
            .text(x + w - 4.0, self.area.bottom() - 3.0, text, style);
    }
}

/// What a widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drawn {
    Chart,
    Empty,
}

/// Draws a built-in or unpainted widget's body from its rows; `Empty` when there is nothing
/// to draw (the empty state is then drawn).
pub(crate) fn draw(
    canvas: &mut Canvas,
    widget_type: &WidgetType,
    label: &str,
    config: &WidgetConfig,
    result: &QueryResult,
    trend: Option<&TrendResult>,
) -> Drawn {
    let frame = Frame::new(result, config);
    let drawn = match widget_type {
        WidgetType::Metric => metric::draw(canvas, &frame, trend),
        WidgetType::BarChart => bar::draw(canvas, &frame),
        WidgetType::LineChart => line::draw(canvas, &frame, false),
        WidgetType::AreaChart => line::draw(canvas, &frame, true),
        WidgetType::PieChart => pie::draw(canvas, &frame),
        WidgetType::ScatterChart => scatter::draw(canvas, &frame),
        WidgetType::Table => table::draw(canvas, &frame),
        WidgetType::Text => Drawn::Empty,
        WidgetType::Custom(_) => card::draw(canvas, label, &frame),
    };
    if drawn == Drawn::Empty {
        let muted = canvas.palette.muted;
        canvas.message("No data", muted);
    }
    drawn
}

/// Draws the error state: what went wrong, in a sentence the viewer can act on.
pub(crate) fn draw_error(canvas: &mut Canvas, message: &str) {
    let Area { x, y, w, h } = canvas.area;
    let size = 12.0;
    let lines = font::wrap(message, size, w - 24.0, false, 3);
    let top = y + h / 2.0 - (lines.len() as f64 * (size + 4.0)) / 2.0;
    let error = canvas.palette.error;
    let title = TextStyle {
        fill: error,
        bold: true,
        ..canvas.style(13.0, Anchor::Middle, "error")
    };
    canvas
        .out
        .text(x + w / 2.0, top - 6.0, "Could not load this widget", title);
    for (i, line) in lines.iter().enumerate() {
        let style = canvas.muted(size, Anchor::Middle, "error-detail");
        canvas.out.text(
            x + w / 2.0,
            top + 14.0 + i as f64 * (size + 4.0),
            line,
            style,
        );
    }
}

/// A value axis: its bounds and the round values marked on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scale {
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) ticks: Vec<f64>,
}

impl Scale {
    /// Round bounds and about five ticks covering `lo..=hi` (and zero, when `zero`).
    pub(crate) fn nice(lo: f64, hi: f64, zero: bool) -> Self {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi - lo < f64::EPSILON * hi.abs().max(1.0) {
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            hi += pad;
            if !zero || lo < 0.0 {
                lo -= pad;
            }
        }
        let raw = (hi - lo) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude);
        let min = (lo / step).floor() * step;
        let max = (hi / step).ceil() * step;
        let count = ((max - min) / step).round() as usize;
        let ticks = (0..=count.min(20)).map(|i| min + i as f64 * step).collect();
        Self { min, max, ticks }
    }

    /// Where `v` falls between `from` (at `min`) and `to` (at `max`).
    pub(crate) fn at(&self, v: f64, from: f64, to: f64) -> f64 {
        from + (v - self.min) / (self.max - self.min) * (to - from)
    }
}

/// The smallest and largest of `values`, if any.
pub(crate) fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A legend of `series` along the top of the area; returns the height it took (0 when there
/// is one series or the config hides it).
pub(crate) fn legend(canvas: &mut Canvas, series: &[Series], show: Option<bool>) -> f64 {
    if series.len() < 2 || show == Some(false) {
        return 0.0;
    }
    let size = 11.0;
    let Area { x, y, w, .. } = canvas.area;
    let slot = (w / series.len() as f64).clamp(40.0, 160.0);
    let mut at = x + 4.0;
    for s in series {
        if at + 20.0 > x + w {
            break;
        }
        let _ = write!(
            canvas.out.0,
            r#"<rect class="legend-swatch" x="{}" y="{}" width="10" height="10" rx="2" fill="{}"/>"#,
            N(at),
            N(y + 4.0),
            s.color
        );
        let name = font::fit(&s.name, size, slot - 18.0, false).into_owned();
        let style = canvas.style(size, Anchor::Start, "legend");
        canvas.out.text(at + 14.0, y + 13.0, &name, style);
        at += 14.0 + font::width(&name, size, false) + 12.0;
    }
    20.0
}

/// Horizontal grid lines and value labels of `scale` along the left of `plot`.
pub(crate) fn value_axis_left(
    canvas: &mut Canvas,
    plot: Area,
    scale: &Scale,
    format: &crate::format::NumberFormat,
) {
    for &tick in &scale.ticks {
        let y = scale.at(tick, plot.bottom(), plot.y);
        let grid = canvas.palette.grid;
        canvas
            .out
            .line("grid", (plot.x, y), (plot.right(), y), grid, false);
        let style = canvas.muted(10.0, Anchor::End, "tick");
        canvas
            .out
            .text(plot.x - 6.0, y + 3.5, &format.tick(tick), style);
    }
}

/// Vertical grid lines and value labels of `scale` along the bottom of `plot`.
pub(crate) fn value_axis_bottom(
    canvas: &mut Canvas,
    plot: Area,
    scale: &Scale,
    format: &crate::format::NumberFormat,
) {
    for &tick in &scale.ticks {
        let x = scale.at(tick, plot.x, plot.right());
        let grid = canvas.palette.grid;
        canvas
            .out
            .line("grid", (x, plot.y), (x, plot.bottom()), grid, false);
        let style = canvas.muted(10.0, Anchor::Middle, "tick");
        canvas
            .out
            .text(x, plot.bottom() + 14.0, &format.tick(tick), style);
    }
}

/// The width the tick labels of `scale` need.
pub(crate) fn tick_width(scale: &Scale, format: &crate::format::NumberFormat) -> f64 {
    scale
        .ticks
        .iter()
        .map(|&t| font::width(&format.tick(t), 10.0, false))
        .fold(0.0, f64::max)
}

/// Category labels centred on `n` equal bands along the bottom of `plot`, every k-th one
/// when they would overlap.
pub(crate) fn category_axis(canvas: &mut Canvas, plot: Area, categories: &[String], centred: bool) {
    let n = categories.len();
    if n == 0 {
        return;
    }
    let band = if centred {
        plot.w / n as f64
    } else {
        plot.w / (n.max(2) - 1) as f64
    };
    let widest = categories
        .iter()
        .map(|c| font::width(c, 10.0, false))
        .fold(0.0, f64::max);
    let step = ((widest.min(120.0) + 8.0) / band).ceil().max(1.0) as usize;
    let room = band * step as f64 - 6.0;
    for (i, label) in categories.iter().enumerate().step_by(step) {
        let x = if centred {
            plot.x + band * (i as f64 + 0.5)
        } else if n == 1 {
            plot.x + plot.w / 2.0
        } else {
            plot.x + band * i as f64
        };
        let text = font::fit(label, 10.0, room, false).into_owned();
        // Along a line, the first and last labels sit inside the plot's ends.
        let anchor = match (centred, i) {
            (false, 0) if n > 1 => Anchor::Start,
            (false, last) if n > 1 && last == n - 1 => Anchor::End,
            _ => Anchor::Middle,
        };
        let style = canvas.muted(10.0, anchor, "category");
        canvas.out.text(x, plot.bottom() + 14.0, &text, style);
    }
    let axis = canvas.palette.axis;
    canvas.out.line(
        "axis",
        (plot.x, plot.bottom()),
        (plot.right(), plot.bottom()),
        axis,
        false,
    );
}

/// The config's reference lines (`{value, label?, color?}`) across a vertical value axis.
pub(crate) fn reference_lines(canvas: &mut Canvas, frame: &Frame<'_>, plot: Area, scale: &Scale) {
    for line in frame.config.reference_lines.iter().flatten().take(10) {
        let Some(value) = line.get("value").and_then(crate::format::number) else {
            continue;
        };
        if value < scale.min || value > scale.max {
            continue;
        }
        let y = scale.at(value, plot.bottom(), plot.y);
        let color = line
            .get("color")
            .and_then(|c| c.as_str())
            .and_then(crate::theme::safe_color)
            .unwrap_or(canvas.palette.muted)
            .to_owned();
        canvas.out.line(
            "reference-line",
            (plot.x, y),
            (plot.right(), y),
            &color,
            true,
        );
        if let Some(label) = line.get("label").and_then(|l| l.as_str()) {
            let text = font::fit(label, 10.0, plot.w / 2.0, false).into_owned();
            let style = TextStyle {
                fill: &color,
                ..canvas.style(10.0, Anchor::End, "reference-label")
            };
            canvas.out.text(plot.right() - 2.0, y - 3.0, &text, style);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round_and_cover_the_data() {
        let s = Scale::nice(3.0, 97.0, true);
        assert_eq!((s.min, s.max), (0.0, 100.0));
        assert_eq!(s.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let flat = Scale::nice(5.0, 5.0, false);
        assert!(flat.min < 5.0 && flat.max > 5.0);
        let negative = Scale::nice(-120.0, 40.0, true);
        assert!(negative.min <= -120.0 && negative.max >= 40.0);
        assert!(Scale::nice(f64::NAN, 1.0, true).ticks.len() > 1);
    }
}
