//! A whole dashboard as one picture, following its grid: for PNG, and cut into pages between
//! rows of widgets for PDF.

use std::fmt::Write as _;

use crate::font;
use crate::limits;
use crate::svg::{Anchor, N, Out, TextStyle};
use crate::widget::{self, Placement};
use crate::{DashboardView, Renderer, Theme};

/// Space around the grid.
const PAD: f64 = 16.0;
/// Height of the name and filter line above the grid.
const HEADER: f64 = 58.0;

/// Where each widget of the view goes, in pixels, for a picture `width` wide (top of the grid
/// at 0).
struct Grid {
    boxes: Vec<(f64, f64, f64, f64)>,
    /// Widget rows, from and to, in grid units.
    rows: Vec<(u32, u32)>,
    row_px: f64,
    gap_y: f64,
}

impl Grid {
    fn new(view: &DashboardView, width: f64) -> Self {
        let layout = &view.layout;
        let columns = f64::from(layout.columns.max(1));
        let (gap_x, gap_y) = (
            f64::from(layout.margin[0].min(100)),
            f64::from(layout.margin[1].min(100)),
        );
        let column = ((width - 2.0 * PAD - (columns - 1.0) * gap_x) / columns).max(1.0);
        let row_px = f64::from(layout.row_height.clamp(10, 500));
        let mut boxes = Vec::with_capacity(view.widgets.len());
        let mut rows = Vec::with_capacity(view.widgets.len());
        for (widget, _) in &view.widgets {
            let p = widget.position;
            let (x, w) = (p.x.min(layout.columns.saturating_sub(1)), p.w.max(1));
            let w = w.min(layout.columns.max(1) - x);
            let h = p.h.clamp(1, 100);
            boxes.push((
                PAD + f64::from(x) * (column + gap_x),
                f64::from(p.y.min(10_000)) * (row_px + gap_y),
                f64::from(w) * column + f64::from(w - 1) * gap_x,
                f64::from(h) * row_px + f64::from(h - 1) * gap_y,
            ));
            rows.push((p.y.min(10_000), p.y.min(10_000) + h));
        }
        Self {
            boxes,
            rows,
            row_px,
            gap_y,
        }
    }

    fn height(&self) -> f64 {
        self.boxes.iter().map(|b| b.1 + b.3).fold(0.0, f64::max)
    }

    /// Rows where the grid can be cut without cutting a widget, in order.
    fn cuts(&self) -> Vec<u32> {
        let mut cuts: Vec<u32> = self.rows.iter().map(|r| r.1).collect();
        cuts.sort_unstable();
        cuts.dedup();
        cuts.retain(|&cut| !self.rows.iter().any(|&(from, to)| from < cut && cut < to));
        cuts
    }

    fn top_of_row(&self, row: u32) -> f64 {
        f64::from(row) * (self.row_px + self.gap_y)
    }
}

/// The header: the dashboard's name and the filter values in force.
fn header(out: &mut Out, view: &DashboardView, width: f64, theme: Theme) {
    let palette = theme.palette();
    let name = font::fit(&view.name, 20.0, width - 2.0 * PAD, true).into_owned();
    let bold = TextStyle {
        size: 20.0,
        fill: palette.text,
        anchor: Anchor::Start,
        bold: true,
        class: "dashboard-name",
    };
    out.text(PAD, 30.0, &name, bold);
    let summary: Vec<String> = view
        .filters
        .iter()
        .map(|f| format!("{}: {}", f.filter.label, f.describe()))
        .collect();
    let line = if summary.is_empty() {
        view.description.clone().unwrap_or_default()
    } else {
        summary.join("  ·  ")
    };
    let line = font::fit(&line, 11.0, width - 2.0 * PAD, false).into_owned();
    let muted = TextStyle {
        size: 11.0,
        fill: palette.muted,
        anchor: Anchor::Start,
        bold: false,
        class: "dashboard-filters",
    };
    out.text(PAD, 48.0, &line, muted);
}

/// The widgets whose rows lie in `from..to`, drawn with the grid's top at `offset`.
fn widgets(
    renderer: &Renderer,
    out: &mut Out,
    view: &DashboardView,
    grid: &Grid,
    (from, to): (u32, u32),
    offset: f64,
    theme: Theme,
) {
    for (i, (widget, data)) in view.widgets.iter().enumerate() {
        let (row_from, _) = grid.rows[i];
        if row_from < from || row_from >= to {
            continue;
        }
        let (x, y, w, h) = grid.boxes[i];
        let placement = Placement {
            x,
            y: y - grid.top_of_row(from) + offset,
            width: w,
            height: h,
            theme,
            title: true,
            standalone: false,
        };
        widget::write(renderer, &mut out.0, widget, data, placement);
    }
}

fn open(out: &mut Out, width: f64, height: f64, theme: Theme) {
    let _ = write!(
        out.0,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="prismiq-dashboard" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{}"><rect width="{w}" height="{h}" fill="{}"/>"#,
        font::FAMILY,
        theme.palette().background,
        w = N(width),
        h = N(height),
    );
}

/// The whole dashboard as one SVG document `width` pixels wide (cut at
/// [`limits::DASHBOARD_MAX_HEIGHT`]).
pub(crate) fn svg(renderer: &Renderer, view: &DashboardView, width: u32, theme: Theme) -> String {
    let width = f64::from(width);
    let grid = Grid::new(view, width);
    let height = (HEADER + grid.height() + PAD).min(f64::from(limits::DASHBOARD_MAX_HEIGHT));
    let mut out = Out(String::with_capacity(16 * 1024));
    open(&mut out, width, height, theme);
    header(&mut out, view, width, theme);
    widgets(
        renderer,
        &mut out,
        view,
        &grid,
        (0, u32::MAX),
        HEADER,
        theme,
    );
    out.0.push_str("</svg>");
    out.0
}

/// The dashboard cut into pages of `page_height / page_width` proportions at `width` pixels
/// wide, each page an SVG document; cuts fall between widgets, and a band of rows taller than
/// a page gets a page of its own (scaled down when printed).
pub(crate) fn pages(
    renderer: &Renderer,
    view: &DashboardView,
    width: u32,
    aspect: f64,
    theme: Theme,
) -> Vec<String> {
    let width = f64::from(width);
    let page_height = width * aspect;
    let grid = Grid::new(view, width);
    let mut bands: Vec<(u32, u32)> = Vec::new();
    let mut start = 0;
    let mut last_cut = None;
    for cut in grid.cuts() {
        let used = grid.top_of_row(cut) - grid.top_of_row(start)
            + if bands.is_empty() { HEADER } else { PAD };
        if used > page_height
            && let Some(previous) = last_cut
            && previous > start
        {
            bands.push((start, previous));
            start = previous;
        }
        last_cut = Some(cut);
    }
    if let Some(end) = last_cut.filter(|&end| end > start) {
        bands.push((start, end));
    }
    if bands.is_empty() {
        bands.push((0, 0));
    }
    bands
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| {
            let top = if i == 0 { HEADER } else { PAD };
            let content = (grid.top_of_row(to) - grid.top_of_row(from) - grid.gap_y).max(0.0);
            let height = (top + content + PAD).max(page_height);
            let mut out = Out(String::with_capacity(8 * 1024));
            open(&mut out, width, height, theme);
            if i == 0 {
                header(&mut out, view, width, theme);
            }
            widgets(renderer, &mut out, view, &grid, (from, to), top, theme);
            out.0.push_str("</svg>");
            out.0
        })
        .collect()
}
