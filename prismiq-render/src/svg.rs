//! Writing SVG text: every string that came from a user goes through [`Esc`], every number
//! through [`N`].

use std::fmt::{self, Display, Write as _};

/// A string as XML character data or attribute value: `& < > " '` escaped, and characters
/// XML 1.0 cannot carry (most C0 controls, lone surrogates cannot occur in `str`, U+FFFE/FFFF)
/// dropped, so that no data value can end an element, open a tag or make the document
/// unreadable to a parser.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..]
                .chars()
                .next()
                .expect("a character at a found index");
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                // Tabs and line breaks become spaces: labels are single lines.
                '\t' | '\n' | '\r' => f.write_char(' ')?,
                _ => {}
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'') || c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// `text` as XML character data or attribute value: `& < > " '` escaped, and the characters
/// XML 1.0 cannot carry (most C0 controls, U+FFFE, U+FFFF) dropped — tabs and line breaks
/// become spaces.
pub fn escape(text: &str) -> String {
    Esc(text).to_string()
}

/// A coordinate or length: at most two decimals, no trailing zeros, never `NaN` (written `0`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct N(pub(crate) f64);

impl Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.0.is_finite() { self.0 } else { 0.0 };
        let rounded = (v * 100.0).round() / 100.0;
        if rounded == rounded.trunc() {
            write!(f, "{}", rounded as i64)
        } else {
            let text = format!("{rounded:.2}");
            f.write_str(text.trim_end_matches('0'))
        }
    }
}

/// Where a text's `x` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Middle => "middle",
            Self::End => "end",
        }
    }
}

/// One text element's look.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextStyle<'a> {
    pub(crate) size: f64,
    pub(crate) fill: &'a str,
    pub(crate) anchor: Anchor,
    pub(crate) bold: bool,
    pub(crate) class: &'a str,
}

/// SVG markup being written, with the shapes the charts use.
#[derive(Debug, Default)]
pub(crate) struct Out(pub(crate) String);

impl Out {
    /// A `<text>`, its content escaped.
    pub(crate) fn text(&mut self, x: f64, y: f64, content: &str, style: TextStyle<'_>) {
        let _ = write!(
            self.0,
            r#"<text class="{}" x="{}" y="{}" font-size="{}" fill="{}""#,
            style.class,
            N(x),
            N(y),
            N(style.size),
            style.fill
        );
        if style.anchor != Anchor::Start {
            let _ = write!(self.0, r#" text-anchor="{}""#, style.anchor.as_str());
        }
        if style.bold {
            self.0.push_str(r#" font-weight="bold""#);
        }
        let _ = write!(self.0, ">{}</text>", Esc(content));
    }

    /// A `<rect>`.
    pub(crate) fn rect(&mut self, class: &str, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = write!(
            self.0,
            r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#,
            N(x),
            N(y),
            N(w.max(0.0)),
            N(h.max(0.0))
        );
    }

    /// A straight `<line>`.
    pub(crate) fn line(
        &mut self,
        class: &str,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        stroke: &str,
        dashed: bool,
    ) {
        let _ = write!(
            self.0,
            r#"<line class="{class}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="1""#,
            N(x1),
            N(y1),
            N(x2),
            N(y2)
        );
        if dashed {
            self.0.push_str(r#" stroke-dasharray="4 3""#);
        }
        self.0.push_str("/>");
    }

    /// Raw markup the renderer itself wrote (never data).
    pub(crate) fn raw(&mut self, markup: &str) {
        self.0.push_str(markup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_and_controls_are_escaped_or_dropped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\u{0}\u{7}\tend"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; end"
        );
        assert_eq!(escape("plain — ünïcode"), "plain — ünïcode");
    }

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(N(1.0).to_string(), "1");
        assert_eq!(N(1.256).to_string(), "1.26");
        assert_eq!(N(-0.5).to_string(), "-0.5");
        assert_eq!(N(f64::NAN).to_string(), "0");
    }
}
