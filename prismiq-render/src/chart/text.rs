//! Text widgets: markdown (or plain text) as SVG lines for pictures, and as sanitised HTML for
//! the page. Raw HTML in the markdown is dropped from pictures and cleaned by `ammonia` on the
//! page: no script, no event handlers, no styles, no images or other external resources, links
//! only to `http`, `https` and `mailto` addresses.

use std::collections::HashSet;

use prismiq_core::WidgetConfig;
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::chart::{Area, Canvas};
use crate::font;
use crate::limits;
use crate::svg::{Anchor, TextStyle};

/// One block of text to lay out.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heading(u8),
    Paragraph,
    Item,
    Code,
}

/// The content of a text widget, cut to [`limits::MAX_TEXT_CHARS`].
fn content(config: &WidgetConfig) -> &str {
    let text = config.content.as_deref().unwrap_or("");
    match text.char_indices().nth(limits::MAX_TEXT_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

fn is_markdown(config: &WidgetConfig) -> bool {
    config.markdown != Some(false)
}

/// The blocks of the content: markdown structure flattened to text (inline HTML dropped).
fn blocks(config: &WidgetConfig) -> Vec<Block> {
    let text = content(config);
    if !is_markdown(config) {
        return text
            .split("\n\n")
            .map(|p| Block {
                text: p.split_whitespace().collect::<Vec<_>>().join(" "),
                kind: Kind::Paragraph,
            })
            .filter(|b| !b.text.is_empty())
            .collect();
    }
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let open = |kind: Kind, current: &mut Option<Block>, blocks: &mut Vec<Block>| {
        if let Some(done) = current.take().filter(|b| !b.text.trim().is_empty()) {
            blocks.push(done);
        }
        *current = Some(Block {
            text: String::new(),
            kind,
        });
    };
    // Text between raw <script> or <style> tags is code, not words: it is left out too.
    let mut in_code_element = false;
    for event in Parser::new(text) {
        match event {
            Event::Html(tag) | Event::InlineHtml(tag) => {
                let tag = tag.trim_start().to_ascii_lowercase();
                if tag.starts_with("<script") || tag.starts_with("<style") {
                    in_code_element = !(tag.contains("</script") || tag.contains("</style"));
                } else if tag.starts_with("</script") || tag.starts_with("</style") {
                    in_code_element = false;
                }
            }
            Event::Text(_) if in_code_element => {}
            Event::Start(Tag::Heading { level, .. }) => {
                open(Kind::Heading(heading(level)), &mut current, &mut blocks)
            }
            Event::Start(Tag::Paragraph)
                if current.as_ref().is_none_or(|b| b.kind != Kind::Item) =>
            {
                open(Kind::Paragraph, &mut current, &mut blocks)
            }
            Event::Start(Tag::Item) => open(Kind::Item, &mut current, &mut blocks),
            Event::Start(Tag::CodeBlock(_)) => open(Kind::Code, &mut current, &mut blocks),
            Event::End(
                TagEnd::Heading(_) | TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock,
            ) => {
                if let Some(done) = current.take().filter(|b| !b.text.trim().is_empty()) {
                    blocks.push(done);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                let block = current.get_or_insert_with(|| Block {
                    text: String::new(),
                    kind: Kind::Paragraph,
                });
                block.text.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(block) = current.as_mut() {
                    block.text.push(' ');
                }
            }
            _ => {}
        }
    }
    if let Some(done) = current.filter(|b| !b.text.trim().is_empty()) {
        blocks.push(done);
    }
    blocks
}

fn heading(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        _ => 3,
    }
}

/// Draws the text into the canvas, wrapped, as much as fits.
pub(crate) fn draw(canvas: &mut Canvas, config: &WidgetConfig) {
    let Area { x, y, w, h } = canvas.area;
    let base = match config.font_size.as_deref() {
        Some("small") => 11.0,
        Some("large") => 16.0,
        Some("xlarge" | "x-large") => 20.0,
        _ => 13.0,
    };
    let anchor = match config.alignment.as_deref() {
        Some("center") => Anchor::Middle,
        Some("right") => Anchor::End,
        _ => Anchor::Start,
    };
    let at = match anchor {
        Anchor::Start => x + 8.0,
        Anchor::Middle => x + w / 2.0,
        Anchor::End => x + w - 8.0,
    };
    let mut top = y + 4.0;
    'blocks: for block in blocks(config) {
        let (size, bold, indent) = match block.kind {
            Kind::Heading(1) => (base * 1.5, true, 0.0),
            Kind::Heading(2) => (base * 1.25, true, 0.0),
            Kind::Heading(_) => (base * 1.1, true, 0.0),
            Kind::Item => (base, false, 14.0),
            Kind::Paragraph | Kind::Code => (base, false, 0.0),
        };
        let room = w - 16.0 - indent;
        let left_lines = ((y + h - top) / (size * 1.35)).floor().max(0.0) as usize;
        if left_lines == 0 {
            break;
        }
        let lines = font::wrap(&block.text, size, room, bold, left_lines);
        for (i, line) in lines.iter().enumerate() {
            top += size * 1.35;
            if top > y + h {
                break 'blocks;
            }
            let line = if block.kind == Kind::Item && i == 0 {
                format!("• {line}")
            } else {
                line.clone()
            };
            let style = TextStyle {
                bold,
                ..canvas.style(size, anchor, "text")
            };
            let offset = if anchor == Anchor::Start && !(block.kind == Kind::Item && i == 0) {
                indent
            } else {
                0.0
            };
            canvas.out.text(at + offset, top, &line, style);
        }
        top += size * 0.5;
    }
}

/// The content as HTML for the page: markdown rendered, then sanitised; plain text escaped.
pub(crate) fn html(config: &WidgetConfig) -> String {
    let text = content(config);
    if !is_markdown(config) {
        return text
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}</p>", crate::svg::Esc(p)))
            .collect();
    }
    let mut rendered = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut rendered, Parser::new(text));
    ammonia::Builder::default()
        .rm_tags(&["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(content: &str) -> WidgetConfig {
        WidgetConfig {
            content: Some(content.to_owned()),
            markdown: Some(true),
            ..WidgetConfig::default()
        }
    }

    #[test]
    fn markdown_becomes_blocks_without_markup() {
        let blocks = blocks(&config(
            "# Title\n\nSome *bold* text <script>x()</script>\n\n- one\n- two",
        ));
        let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["Title", "Some bold text ", "one", "two"]);
        assert_eq!(blocks[0].kind, Kind::Heading(1));
        assert_eq!(blocks[2].kind, Kind::Item);
    }

    #[test]
    fn html_is_sanitised() {
        let html = html(&config(
            "[a](javascript:alert(1)) [b](https://example.com) <img src=x onerror=alert(1)> \
             <script>alert(1)</script> <a href=\"#\" onclick=\"x()\" style=\"background:url(https://x)\">c</a>",
        ));
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            !html.contains("onerror") && !html.contains("onclick"),
            "{html}"
        );
        assert!(!html.contains("<img") && !html.contains("style="), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }
}
