//! SVG to PNG (resvg) and to PDF (svg2pdf), with the embedded fonts only: nothing is read from
//! the machine, no file or URL an SVG names is fetched.

use std::sync::{Arc, OnceLock};

use resvg::usvg;

use crate::RenderError;
use crate::font;

fn options() -> usvg::Options<'static> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(font::REGULAR.to_vec());
        db.load_font_data(font::BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    });
    usvg::Options {
        font_family: "DejaVu Sans".to_owned(),
        fontdb: Arc::clone(fonts),
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// The parsed tree of an SVG document this crate (or a host painter) wrote.
pub(crate) fn tree(svg: &str) -> Result<usvg::Tree, RenderError> {
    usvg::Tree::from_str(svg, &options()).map_err(|e| RenderError::Svg(e.to_string()))
}

/// `svg` as a PNG, `scale` device pixels per SVG pixel.
pub(crate) fn png(svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
    let tree = tree(svg)?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(w.max(1), h.max(1)).ok_or(RenderError::TooLarge)?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Encode(e.to_string()))
}

/// Pages, each an SVG document, as one PDF: each page `page_size` points, the SVG scaled to
/// fit inside its margins.
pub(crate) fn pdf(
    title: &str,
    pages: &[String],
    page_size: (f32, f32),
    margin: f32,
) -> Result<Vec<u8>, RenderError> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, TextStr};

    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let page_tree = alloc.bump();
    let mut pdf = Pdf::new();
    let mut page_ids = Vec::with_capacity(pages.len());
    let mut chunks = Vec::with_capacity(pages.len());
    for svg in pages {
        let tree = tree(svg)?;
        let (chunk, root) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| RenderError::Encode(e.to_string()))?;
        let mut map = std::collections::HashMap::new();
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| alloc.bump()));
        let root = map[&root];
        let page = alloc.bump();
        let content = alloc.bump();
        let size = tree.size();
        let (room_w, room_h) = (page_size.0 - 2.0 * margin, page_size.1 - 2.0 * margin);
        let scale = (room_w / size.width()).min(room_h / size.height());
        let (w, h) = (size.width() * scale, size.height() * scale);
        let mut stream = Content::new();
        // PDF's origin is the bottom left: the picture hangs from the top margin.
        stream
            .transform([w, 0.0, 0.0, h, margin, page_size.1 - margin - h])
            .x_object(Name(b"S1"));
        pdf.stream(content, &stream.finish());
        let mut writer = pdf.page(page);
        writer.media_box(Rect::new(0.0, 0.0, page_size.0, page_size.1));
        writer.parent(page_tree);
        writer.contents(content);
        writer.resources().x_objects().pair(Name(b"S1"), root);
        writer.finish();
        page_ids.push(page);
        chunks.push(chunk);
    }
    pdf.catalog(catalog).pages(page_tree);
    pdf.pages(page_tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    for chunk in &chunks {
        pdf.extend(chunk);
    }
    let info = alloc.bump();
    pdf.document_info(info)
        .title(TextStr(&font::clip(title)))
        .producer(TextStr("Prismiq"));
    Ok(pdf.finish())
}
