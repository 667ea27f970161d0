//! The embedded fonts and text measurement.
//!
//! Every picture uses DejaVu Sans, compiled into the binary: PNG and PDF text comes out the same
//! on every machine, and labels are measured with the very advances the rasteriser uses, so a
//! label shortened to fit does fit.

use std::borrow::Cow;
use std::sync::OnceLock;

/// DejaVu Sans, regular.
pub(crate) const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans, bold.
pub(crate) const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The family every text element names; the HTML page falls back to the browser's sans-serif
/// where DejaVu Sans is not installed.
pub(crate) const FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

/// Longest text measured or drawn; longer strings are cut before anything else looks at them,
/// so a megabyte-long value costs no more than a label.
pub(crate) const MAX_CHARS: usize = 200;

struct Metrics {
    /// Advance of each character below U+0250, in font units; 0 where the font has none.
    latin: Vec<u16>,
    face: ttf_parser::Face<'static>,
    units_per_em: f64,
}

impl Metrics {
    fn load(data: &'static [u8]) -> Self {
        let face = ttf_parser::Face::parse(data, 0).expect("the embedded font parses");
        let latin = (0u32..0x250)
            .map(|c| char::from_u32(c).map_or(0, |c| advance(&face, c)))
            .collect();
        Self {
            latin,
            units_per_em: f64::from(face.units_per_em()),
            face,
        }
    }

    fn advance(&self, c: char) -> u16 {
        match self.latin.get(c as usize) {
            Some(&width) if width > 0 => width,
            _ => advance(&self.face, c),
        }
    }
}

fn advance(face: &ttf_parser::Face<'_>, c: char) -> u16 {
    face.glyph_index(c)
        .or_else(|| face.glyph_index('?'))
        .and_then(|glyph| face.glyph_hor_advance(glyph))
        .unwrap_or(0)
}

fn metrics(bold: bool) -> &'static Metrics {
    static REGULAR_METRICS: OnceLock<Metrics> = OnceLock::new();
    static BOLD_METRICS: OnceLock<Metrics> = OnceLock::new();
    if bold {
        BOLD_METRICS.get_or_init(|| Metrics::load(BOLD))
    } else {
        REGULAR_METRICS.get_or_init(|| Metrics::load(REGULAR))
    }
}

/// The width of `text` at `size` pixels.
pub(crate) fn width(text: &str, size: f64, bold: bool) -> f64 {
    let metrics = metrics(bold);
    let units: u64 = text.chars().map(|c| u64::from(metrics.advance(c))).sum();
    units as f64 / metrics.units_per_em * size
}

/// `text`, single-line and at most [`MAX_CHARS`] long, shortened with an ellipsis to fit in
/// `max_width` pixels at `size` (empty when not even the ellipsis fits).
pub(crate) fn fit(text: &str, size: f64, max_width: f64, bold: bool) -> Cow<'_, str> {
    let text = clip(text);
    if width(&text, size, bold) <= max_width {
        return text;
    }
    let metrics = metrics(bold);
    let scale = size / metrics.units_per_em;
    let budget = max_width - f64::from(metrics.advance('…')) * scale;
    if budget <= 0.0 {
        return Cow::Borrowed("");
    }
    let mut used = 0.0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += f64::from(metrics.advance(c)) * scale;
        if used > budget {
            break;
        }
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}…", text[..end].trim_end()))
}

/// `text` cut to [`MAX_CHARS`] characters.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}

/// `text` broken into lines no wider than `max_width`, at spaces where it can (a word wider
/// than a line is cut); at most `max_lines`, the last one ending in an ellipsis when text is
/// left over.
pub(crate) fn wrap(
    text: &str,
    size: f64,
    max_width: f64,
    bold: bool,
    max_lines: usize,
) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate, size, bold) <= max_width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if lines.len() == max_lines {
            break;
        }
        current = fit(word, size, max_width, bold).into_owned();
        if lines.len() + 1 == max_lines && words.peek().is_some() {
            break;
        }
    }
    let left_over = !current.is_empty() && lines.len() == max_lines;
    if !current.is_empty() && lines.len() < max_lines {
        lines.push(current);
    }
    let truncated = left_over || words.peek().is_some();
    if truncated && let Some(last) = lines.last_mut() {
        *last = fit(&format!("{last}…"), size, max_width, bold).into_owned();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_scale_with_size_and_fit_shortens() {
        let small = width("Revenue", 10.0, false);
        assert!((width("Revenue", 20.0, false) - 2.0 * small).abs() < 1e-9);
        assert!(width("Revenue", 10.0, true) > small);
        assert_eq!(fit("Revenue", 10.0, 1000.0, false), "Revenue");
        let short = fit("Revenue by region", 10.0, 50.0, false);
        assert!(
            short.ends_with('…') && width(&short, 10.0, false) <= 50.0,
            "{short}"
        );
    }

    #[test]
    fn huge_strings_are_cut_before_measuring() {
        let huge = "x".repeat(1_000_000);
        assert_eq!(clip(&huge).chars().count(), MAX_CHARS + 1);
        assert!(fit(&huge, 12.0, 100.0, false).chars().count() < 30);
    }

    #[test]
    fn wrapping_respects_width_and_line_count() {
        let lines = wrap(
            "one two three four five six seven eight nine ten",
            12.0,
            80.0,
            false,
            3,
        );
        assert_eq!(lines.len(), 3);
        assert!(
            lines.iter().all(|l| width(l, 12.0, false) <= 80.0),
            "{lines:?}"
        );
        assert!(lines[2].ends_with('…'));
    }
}
