//! A host type with no painter of its own: a neutral card with the type's name and the first
//! values of its data.

use crate::chart::{Area, Canvas, Drawn};
use crate::data::Frame;
use crate::font;
use crate::svg::{Anchor, TextStyle};

pub(crate) fn draw(canvas: &mut Canvas, label: &str, frame: &Frame<'_>) -> Drawn {
    let Area { x, y, w, h } = canvas.area;
    let style = canvas.muted(11.0, Anchor::Start, "type");
    let label = font::fit(label, 11.0, w - 16.0, false).into_owned();
    canvas.out.text(x + 8.0, y + 14.0, &label, style);
    let Some(row) = frame.rows().first() else {
        return Drawn::Empty;
    };
    let lines = (((h - 24.0) / 18.0).floor().max(0.0) as usize).min(6);
    for (i, (name, value)) in frame.result.columns.iter().zip(row).take(lines).enumerate() {
        let top = y + 36.0 + i as f64 * 18.0;
        let name = font::fit(name, 12.0, w * 0.45, false).into_owned();
        let style = canvas.muted(12.0, Anchor::Start, "key");
        canvas.out.text(x + 8.0, top, &name, style);
        let text = frame.labeller(i).cell(value);
        let text = font::fit(&text, 12.0, w * 0.5 - 16.0, true).into_owned();
        let style = TextStyle {
            bold: true,
            ..canvas.style(12.0, Anchor::End, "cell")
        };
        canvas.out.text(x + w - 8.0, top, &text, style);
    }
    Drawn::Chart
}
