//! A table: a header and the first rows that fit (at most the config's `page_size`), columns
//! in their `columnFormats` / `dateFormats`, numbers aligned right.

use crate::chart::{Area, Canvas, Drawn};
use crate::data::Frame;
use crate::font;
use crate::format::number;
use crate::limits;
use crate::svg::{Anchor, TextStyle};

const ROW: f64 = 20.0;
const SIZE: f64 = 11.0;

pub(crate) fn draw(canvas: &mut Canvas, frame: &Frame<'_>) -> Drawn {
    let columns: Vec<usize> = (0..frame.result.columns.len())
        .take(limits::MAX_TABLE_COLUMNS)
        .collect();
    if columns.is_empty() {
        return Drawn::Empty;
    }
    let Area { x, y, w, h } = canvas.area;
    let wanted = frame
        .config
        .page_size
        .map_or(10, |p| p.max(1) as usize)
        .min(limits::MAX_TABLE_ROWS);
    let fits = ((h - ROW - 14.0) / ROW).floor().max(0.0) as usize;
    let shown = frame.rows().len().min(wanted).min(fits);
    let labellers: Vec<_> = columns.iter().map(|&c| frame.labeller(c)).collect();
    let cells: Vec<Vec<String>> = (0..shown)
        .map(|row| {
            columns
                .iter()
                .zip(&labellers)
                .map(|(&c, l)| l.cell(frame.cell(row, c)))
                .collect()
        })
        .collect();
    // Each column gets the room its widest text asks for, scaled to the table's width.
    let natural: Vec<f64> = columns
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let header = font::width(&frame.result.columns[c], SIZE, true);
            cells
                .iter()
                .map(|r| font::width(&r[i], SIZE, false))
                .fold(header, f64::max)
                .clamp(30.0, 400.0)
                + 16.0
        })
        .collect();
    let total: f64 = natural.iter().sum();
    let widths: Vec<f64> = natural.iter().map(|n| n / total * w).collect();
    let numeric: Vec<bool> = columns.iter().map(|&c| frame.is_numeric(c)).collect();
    let mut left = x;
    for (i, &c) in columns.iter().enumerate() {
        let (anchor, at) = if numeric[i] {
            (Anchor::End, left + widths[i] - 8.0)
        } else {
            (Anchor::Start, left + 8.0)
        };
        let header = font::fit(&frame.result.columns[c], SIZE, widths[i] - 16.0, true).into_owned();
        let style = TextStyle {
            bold: true,
            ..canvas.style(SIZE, anchor, "header")
        };
        canvas.out.text(at, y + 14.0, &header, style);
        left += widths[i];
    }
    let axis = canvas.palette.axis;
    canvas
        .out
        .line("rule", (x, y + ROW), (x + w, y + ROW), axis, false);
    for (r, row) in cells.iter().enumerate() {
        let top = y + ROW * (r as f64 + 1.0);
        if r % 2 == 1 {
            let stripe = canvas.palette.stripe;
            canvas.out.rect("stripe", x, top, w, ROW, stripe);
        }
        let mut left = x;
        for (i, text) in row.iter().enumerate() {
            let (anchor, at) = if numeric[i] && number(frame.cell(r, columns[i])).is_some() {
                (Anchor::End, left + widths[i] - 8.0)
            } else {
                (Anchor::Start, left + 8.0)
            };
            let fitted = font::fit(text, SIZE, widths[i] - 16.0, false).into_owned();
            let style = canvas.style(SIZE, anchor, "cell");
            canvas.out.text(at, top + 14.0, &fitted, style);
            left += widths[i];
        }
    }
    if shown == 0 {
        return Drawn::Empty;
    }
    let total_rows = frame.rows().len();
    if total_rows > shown || frame.result.columns.len() > columns.len() {
        let style = canvas.muted(10.0, Anchor::Start, "note");
        let more_columns = frame.result.columns.len() - columns.len();
        let mut note = format!("{shown} of {total_rows} rows");
        if more_columns > 0 {
            note.push_str(&format!(", {more_columns} more columns"));
        }
        canvas
            .out
            .text(x + 8.0, y + ROW * (shown as f64 + 1.0) + 12.0, &note, style);
    }
    Drawn::Chart
}
