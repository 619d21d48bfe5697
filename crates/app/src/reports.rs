//! The service report (服务报告) as a PDF: A4, Chinese set in the Noto Sans SC font shipped in the
//! binary and subset into each file, the visit's photos and the customer's signature embedded.
//! Pure: it lays out what it is given; `work_orders::report` gathers it with the reader's masking.
use crate::{AppError, Result};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use std::sync::LazyLock;

static FONT_BYTES: &[u8] = include_bytes!("../../../data/fonts/NotoSansSC-Regular.ttf");
static FONT: LazyLock<Option<Font>> = LazyLock::new(|| Font::new(krilla::Data::from(FONT_BYTES), 0));

/// What a report says, already in the reader's words and masking.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub organisation: String,
    pub title: String,
    /// Shown across the top while the visit is not completed.
    pub draft: Option<String>,
    /// (label, value) lines, in order; a value may be long and wraps.
    pub lines: Vec<(String, String)>,
    /// Parts used, one line each.
    pub parts_title: String,
    pub parts: Vec<String>,
    pub photos_title: String,
    /// (caption, image bytes) of photos; images that are neither PNG nor JPEG are left out.
    pub photos: Vec<(String, Vec<u8>)>,
    pub signature_title: String,
    pub signature: Option<Vec<u8>>,
    pub footer: String,
}

const W: f32 = 595.0;
const H: f32 = 842.0;
const MARGIN: f32 = 48.0;
const LABEL_W: f32 = 90.0;

fn image(bytes: &[u8]) -> Option<Image> {
    let data = krilla::Data::from(bytes.to_vec());
    let img = match shouhou_domain::attachments::sniff(bytes) {
        Some("image/png") => Image::from_png(data, true).ok(),
        Some("image/jpeg") => Image::from_jpeg(data, true).ok(),
        _ => None,
    }?;
    // The decoder reads the pixels only when the document is written: try that on its own, so
    // one damaged upload leaves its photo out instead of failing the whole report.
    let mut probe = Document::new();
    {
        let mut page = probe.start_page_with(PageSettings::from_wh(10.0, 10.0)?);
        let mut s = page.surface();
        s.draw_image(img.clone(), Size::from_wh(10.0, 10.0)?);
        s.finish();
        page.finish();
    }
    probe.finish().ok().map(|_| img)
}

/// Width of `s` at `size`, near enough for wrapping: CJK and full-width characters are square,
/// the rest about half as wide.
fn width(s: &str, size: f32) -> f32 {
    s.chars().map(|c| if c.is_ascii() { 0.55 } else { 1.0 }).sum::<f32>() * size
}

/// `s` broken into lines no wider than `max` at `size` (explicit newlines kept).
fn wrap(s: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = vec![];
    for para in s.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            let mut next = line.clone();
            next.push(c);
            if width(&next, size) > max && !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
        out.push(line);
    }
    out
}

/// A page being filled from the top; a new one starts when the space runs out.
struct Cursor {
    y: f32,
}

fn text(surface: &mut Surface<'_>, font: &Font, x: f32, y: f32, size: f32, s: &str) {
    surface.draw_text(Point::from_xy(x, y), font.clone(), size, s, false, TextDirection::Auto);
}

fn rule(surface: &mut Surface<'_>, y: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(MARGIN, y);
    pb.line_to(W - MARGIN, y);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(180, 188, 200).into(),
            width: 0.6,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
        surface.set_fill(Some(Fill::default()));
    }
}

/// Lay the report out on as many A4 pages as it needs.
pub fn service_report_pdf(r: &Report) -> Result<Vec<u8>> {
    let font = FONT.clone().ok_or_else(|| AppError::Internal("the report font cannot be read".into()))?;
    let mut doc = Document::new();
    // Blocks to place: each knows its height and draws itself at a y.
    enum Block<'a> {
        Heading(&'a str),
        Line(&'a str, Vec<String>),
        Plain(String),
        Picture(String, Image, f32, f32),
    }
    let mut blocks: Vec<Block<'_>> = vec![];
    let value_w = W - 2.0 * MARGIN - LABEL_W;
    for (label, value) in &r.lines {
        blocks.push(Block::Line(label, wrap(value, 10.5, value_w)));
    }
    if !r.parts.is_empty() {
        blocks.push(Block::Heading(&r.parts_title));
        for p in &r.parts {
            for l in wrap(p, 10.5, W - 2.0 * MARGIN) {
                blocks.push(Block::Plain(l));
            }
        }
    }
    let pictures: Vec<(String, Image)> =
        r.photos.iter().filter_map(|(caption, bytes)| image(bytes).map(|i| (caption.clone(), i))).collect();
    if !pictures.is_empty() {
        blocks.push(Block::Heading(&r.photos_title));
        for (caption, img) in pictures {
            let (w, h) = img.size();
            let scale = (240.0 / w as f32).min(180.0 / h as f32);
            blocks.push(Block::Picture(caption, img, w as f32 * scale, h as f32 * scale));
        }
    }
    blocks.push(Block::Heading(&r.signature_title));
    match r.signature.as_deref().and_then(image) {
        Some(img) => {
            let (w, h) = img.size();
            let scale = (200.0 / w as f32).min(80.0 / h as f32);
            blocks.push(Block::Picture(String::new(), img, w as f32 * scale, h as f32 * scale));
        }
        None => blocks.push(Block::Plain("—".into())),
    }

    let mut pages = 0;
    let mut i = 0;
    while i < blocks.len() || pages == 0 {
        pages += 1;
        let mut page =
            doc.start_page_with(PageSettings::from_wh(W, H).ok_or_else(|| AppError::Internal("page size".into()))?);
        let mut s = page.surface();
        s.set_fill(Some(Fill::default()));
        // Header on every page.
        text(&mut s, &font, MARGIN, 56.0, 11.0, &r.organisation);
        text(&mut s, &font, MARGIN, 84.0, 20.0, &r.title);
        if let Some(d) = &r.draft {
            s.set_fill(Some(Fill { paint: rgb::Color::new(200, 40, 40).into(), ..Default::default() }));
            text(&mut s, &font, W - MARGIN - width(d, 14.0), 84.0, 14.0, d);
            s.set_fill(Some(Fill::default()));
        }
        rule(&mut s, 96.0);
        let mut c = Cursor { y: 118.0 };
        while i < blocks.len() {
            let need = match &blocks[i] {
                Block::Heading(_) => 30.0,
                Block::Line(_, lines) => 16.0 * lines.len().max(1) as f32 + 4.0,
                Block::Plain(_) => 16.0,
                Block::Picture(_, _, _, h) => h + 22.0,
            };
            if c.y + need > H - 60.0 && c.y > 130.0 {
                break;
            }
            match &blocks[i] {
                Block::Heading(t) => {
                    c.y += 10.0;
                    text(&mut s, &font, MARGIN, c.y, 12.5, t);
                    c.y += 20.0;
                }
                Block::Line(label, lines) => {
                    s.set_fill(Some(Fill { paint: rgb::Color::new(90, 100, 115).into(), ..Default::default() }));
                    text(&mut s, &font, MARGIN, c.y, 10.5, label);
                    s.set_fill(Some(Fill::default()));
                    for l in lines {
                        text(&mut s, &font, MARGIN + LABEL_W, c.y, 10.5, l);
                        c.y += 16.0;
                    }
                    c.y += 4.0;
                }
                Block::Plain(t) => {
                    text(&mut s, &font, MARGIN, c.y, 10.5, t);
                    c.y += 16.0;
                }
                Block::Picture(caption, img, w, h) => {
                    if !caption.is_empty() {
                        text(&mut s, &font, MARGIN, c.y, 9.5, caption);
                    }
                    let size = Size::from_wh(*w, *h).ok_or_else(|| AppError::Internal("image size".into()))?;
                    s.push_transform(&Transform::from_translate(MARGIN, c.y + 6.0));
                    s.draw_image(img.clone(), size);
                    s.pop();
                    c.y += h + 22.0;
                }
            }
            i += 1;
        }
        rule(&mut s, H - 48.0);
        s.set_fill(Some(Fill { paint: rgb::Color::new(90, 100, 115).into(), ..Default::default() }));
        text(&mut s, &font, MARGIN, H - 32.0, 9.0, &format!("{} · {pages}", r.footer));
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| AppError::Internal(format!("writing the report: {e:?}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn long_values_wrap_and_short_ones_do_not() {
        assert_eq!(wrap("更换光模块", 10.0, 100.0), vec!["更换光模块"]);
        let lines = wrap(&"光".repeat(25), 10.0, 100.0);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| width(l, 10.0) <= 100.0));
        assert_eq!(wrap("a\nb", 10.0, 100.0), vec!["a", "b"]);
    }

    #[test]
    fn a_report_is_a_pdf_with_its_font_subset() {
        let r = Report {
            organisation: "深圳鹏城售后服务中心".into(),
            title: "服务报告 WO-20261206-0001".into(),
            draft: Some("草稿".into()),
            lines: vec![("客户".into(), "张卫东".into()), ("处理结果".into(), "更换光模块，".repeat(30))],
            parts_title: "使用备件".into(),
            parts: vec!["OM-10G 10G 光模块 × 1".into()],
            photos_title: "现场照片".into(),
            photos: vec![
                ("维修前".into(), b"not an image".to_vec()),
                // A PNG whose header is whole but whose pixels are not: left out, not a failure.
                (
                    "维修后".into(),
                    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec(),
                ),
            ],
            signature_title: "客户签字".into(),
            signature: None,
            footer: "WO-20261206-0001".into(),
        };
        let pdf = service_report_pdf(&r).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The whole font is 10 MB; a report carries only the glyphs it uses.
        assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    }
}
