//! A host type with no painter of its own: a neutral card with the type's name and its data as
//! names and values.

use serde_json::Value;

use crate::chart::{Area, Canvas, Drawn};
use crate::data::Frame;
use crate::font;
use crate::svg::{Anchor, TextStyle};

pub(crate) fn draw(canvas: &mut Canvas, label: &str, frame: &Frame<'_>) -> Drawn {
    let Area { x, y, w, h } = canvas.area;
    let style = canvas.muted(11.0, Anchor::Start, "type");
    let label = font::fit(label, 11.0, w - 16.0, false).into_owned();
    canvas.out.text(x + 8.0, y + 14.0, &label, style);
    let Some(first) = frame.rows().first() else {
        return Drawn::Empty;
    };
    // Two columns over several rows read as a list of names and values; anything else shows
    // its first row, column by column.
    let pairs: Vec<(String, String)> = if frame.result.columns.len() == 2 && frame.rows().len() > 1
    {
        let (names, values) = (frame.labeller(0), frame.labeller(1));
        frame
            .rows()
            .iter()
            .map(|row| {
                (
                    names.cell(&row[0]),
                    values.cell(row.get(1).unwrap_or(&Value::Null)),
                )
            })
            .collect()
    } else {
        frame
            .result
            .columns
            .iter()
            .zip(first)
            .enumerate()
            .map(|(i, (name, value))| (name.clone(), frame.labeller(i).cell(value)))
            .collect()
    };
    let lines = (((h - 24.0) / 18.0).floor().max(0.0) as usize).min(8);
    for (i, (name, value)) in pairs.iter().take(lines).enumerate() {
        let top = y + 36.0 + i as f64 * 18.0;
        let name = font::fit(name, 12.0, w * 0.45, false).into_owned();
        let style = canvas.muted(12.0, Anchor::Start, "key");
        canvas.out.text(x + 8.0, top, &name, style);
        let text = font::fit(value, 12.0, w * 0.5 - 16.0, true).into_owned();
        let style = TextStyle {
            bold: true,
            ..canvas.style(12.0, Anchor::End, "cell")
        };
        canvas.out.text(x + w - 8.0, top, &text, style);
    }
    Drawn::Chart
}
