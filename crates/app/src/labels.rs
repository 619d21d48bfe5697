//! QR labels of devices (设备二维码标签): the code links to the device's public report page, with
//! the model and the serial under it; one label as SVG or PNG, or an A4 sheet of them as SVG.
//! Layout is pure (given the link and the texts); the use cases read the devices in the caller's
//! scope like any device read.
use crate::{App, AppError, Ctx, Result};
use qrcode::{Color, EcLevel, QrCode};
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_store::devices;

/// Labels on one A4 sheet: 3 columns × 8 rows.
pub const SHEET_COLUMNS: usize = 3;
pub const SHEET_ROWS: usize = 8;
pub const PER_SHEET: usize = SHEET_COLUMNS * SHEET_ROWS;
/// Devices one sheet request may name (a page of sheets).
pub const MAX_BATCH: usize = 10 * PER_SHEET;

/// What a label shows: the link in the code, the model and the serial in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub device_id: i64,
    /// Absolute URL of the device's public report page.
    pub link: String,
    pub model_code: String,
    pub model_name: String,
    pub serial_number: String,
}

/// The public link of device `id` (its report page), made absolute on `base`
/// (`https://service.example.com`, no trailing slash).
pub fn device_link(app: &App, base: &str, id: i64) -> String {
    let tag = app.keys.link_tag("device", &id.to_string());
    format!("{}{}", base.trim_end_matches('/'), shouhou_domain::portal::device_link_path(id, &tag))
}

/// The label of device `id`, for a caller who may read the device (404 otherwise, as the device
/// read answers).
#[tracing::instrument(skip_all)]
pub async fn label(app: &App, ctx: &Ctx, base: &str, id: i64) -> Result<Label> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let mut rd = app.db.read().await?;
    let d =
        devices::get_device_in_scope(&mut rd.conn(), &app.keys, id, &actor.scope).await?.ok_or(AppError::NotFound)?;
    Ok(Label {
        device_id: d.id,
        link: device_link(app, base, d.id),
        model_code: d.model_code,
        model_name: d.model_name,
        serial_number: d.serial_number,
    })
}

/// The labels of several devices, in the order asked: 1 to [`MAX_BATCH`] ids; any device the
/// caller cannot read makes the whole answer 404, so a batch reveals nothing one read would not.
#[tracing::instrument(skip_all)]
pub async fn labels(app: &App, ctx: &Ctx, base: &str, ids: &[i64]) -> Result<Vec<Label>> {
    ctx.require_read(Permission::CustomerRead)?;
    if ids.is_empty() {
        return Err(ValidationErrors::single("ids", "required").into());
    }
    if ids.len() > MAX_BATCH {
        return Err(shouhou_domain::FieldError::too_long("ids", MAX_BATCH).into());
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(label(app, ctx, base, *id).await?);
    }
    Ok(out)
}

/// The ids of `?ids=1,2,3`; anything but positive numbers is a field error.
pub fn parse_ids(s: &str) -> Result<Vec<i64>> {
    let ids: Option<Vec<i64>> = s
        .split([',', ' '])
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse::<i64>().ok().filter(|i| *i > 0))
        .collect();
    ids.ok_or_else(|| ValidationErrors::single("ids", "invalid_value").into())
}

fn qr(link: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::Internal(format!("QR code of {link}: {e}")))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The dark modules of a code as one SVG path, each a unit square at (x + dx, y + dy).
fn modules_path(code: &QrCode, dx: usize, dy: usize) -> String {
    let w = code.width();
    let mut d = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            d.push_str(&format!("M{} {}h1v1h-1z", i % w + dx, i / w + dy));
        }
    }
    d
}

/// The code drawn in a box of `size` at (`x`, `y`) (any unit), quiet zone of 4 modules included.
fn code_group(code: &QrCode, x: f64, y: f64, size: f64) -> String {
    let n = code.width() + 8;
    let scale = size / n as f64;
    format!(
        "<g transform=\"translate({x:.3} {y:.3}) scale({scale:.5})\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\
         <path d=\"{}\" fill=\"#000\" shape-rendering=\"crispEdges\"/></g>",
        modules_path(code, 4, 4)
    )
}

const FONT: &str = "font-family=\"Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif\"";

/// One label as SVG, 50 × 64 mm: the code, then the model (name and code) and the serial.
pub fn label_svg(l: &Label) -> Result<String> {
    let code = qr(&l.link)?;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"50mm\" height=\"64mm\" viewBox=\"0 0 50 64\">\
         <title>{title}</title><desc>{link}</desc><rect width=\"50\" height=\"64\" fill=\"#fff\"/>{code}\
         <text x=\"25\" y=\"53\" text-anchor=\"middle\" font-size=\"3.6\" {FONT}>{model}</text>\
         <text x=\"25\" y=\"59\" text-anchor=\"middle\" font-size=\"3.6\" font-family=\"monospace\">SN {serial}</text></svg>",
        title = esc(&format!("{} {}", l.model_code, l.serial_number)),
        link = esc(&l.link),
        code = code_group(&code, 2.0, 1.0, 46.0),
        model = esc(&model_text(l)),
        serial = esc(&l.serial_number),
    ))
}

/// The model as a label prints it: its name, with its code when the name does not say it.
fn model_text(l: &Label) -> String {
    if l.model_name.contains(&l.model_code) {
        l.model_name.clone()
    } else {
        format!("{} {}", l.model_name, l.model_code)
    }
}

/// A4 sheets (210 × 297 mm) of labels, [`PER_SHEET`] per sheet in [`SHEET_COLUMNS`] ×
/// [`SHEET_ROWS`] cells of 70 × 37.125 mm: in each the code on the left, the model and the
/// serial beside it. One SVG per sheet.
pub fn sheet_svgs(labels: &[Label]) -> Result<Vec<String>> {
    const CELL_W: f64 = 210.0 / SHEET_COLUMNS as f64;
    const CELL_H: f64 = 297.0 / SHEET_ROWS as f64;
    let mut sheets = vec![];
    for chunk in labels.chunks(PER_SHEET) {
        let mut body = String::new();
        for (i, l) in chunk.iter().enumerate() {
            let x = (i % SHEET_COLUMNS) as f64 * CELL_W;
            let y = (i / SHEET_COLUMNS) as f64 * CELL_H;
            let code = qr(&l.link)?;
            let side = CELL_H - 4.0;
            let tx = x + side + 4.0;
            body.push_str(&format!(
                "<g data-device=\"{id}\" data-link=\"{link}\"><rect x=\"{x:.3}\" y=\"{y:.3}\" width=\"{CELL_W:.3}\" height=\"{CELL_H:.3}\" fill=\"none\" stroke=\"#ccc\" stroke-width=\"0.2\" stroke-dasharray=\"1 1\"/>\
                 {code}<text x=\"{tx:.3}\" y=\"{y1:.3}\" font-size=\"3.2\" {FONT}>{name}</text>\
                 <text x=\"{tx:.3}\" y=\"{y2:.3}\" font-size=\"3.2\" font-family=\"monospace\">{model}</text>\
                 <text x=\"{tx:.3}\" y=\"{y3:.3}\" font-size=\"3.2\" font-family=\"monospace\">SN {serial}</text></g>",
                id = l.device_id,
                link = esc(&l.link),
                code = code_group(&code, x + 2.0, y + 2.0, side),
                y1 = y + 12.0,
                y2 = y + 19.0,
                y3 = y + 26.0,
                name = esc(&truncate(&l.model_name, 10)),
                model = esc(&truncate(&l.model_code, 18)),
                serial = esc(&truncate(&l.serial_number, 18)),
            ));
        }
        sheets.push(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 210 297\">\
             <rect width=\"210\" height=\"297\" fill=\"#fff\"/>{body}</svg>"
        ));
    }
    Ok(sheets)
}

/// At most `n` characters, an ellipsis when cut (a cell holds that many).
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(['…']).collect() }
}

/// One label as PNG: the code at 8 pixels a module, the model code and the serial under it in an
/// embedded 5 × 7 pixel font (ASCII: model codes and serials are ASCII; the model's name, which
/// may be Chinese, goes into the file's `Description` text, not into the picture).
pub fn label_png(l: &Label) -> Result<Vec<u8>> {
    const M: usize = 8; // pixels per module
    const S: usize = 3; // pixels per font pixel
    let code = qr(&l.link)?;
    let n = code.width() + 8;
    let lines = [l.model_code.clone(), format!("SN {}", l.serial_number)];
    let text_w = lines.iter().map(|t| t.chars().count() * 6 * S).max().unwrap_or(0);
    let width = (n * M).max(text_w + 8 * M);
    let height = n * M + lines.len() * 10 * S + 2 * M;
    let mut px = vec![255u8; width * height];
    let x0 = (width - n * M) / 2;
    let w = code.width();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            let (mx, my) = (i % w + 4, i / w + 4);
            for y in my * M..(my + 1) * M {
                px[y * width + x0 + mx * M..y * width + x0 + (mx + 1) * M].fill(0);
            }
        }
    }
    for (li, t) in lines.iter().enumerate() {
        let chars: Vec<char> = t.chars().collect();
        let tx = (width - chars.len() * 6 * S) / 2;
        let ty = n * M + li * 10 * S;
        for (ci, ch) in chars.iter().enumerate() {
            for (row, bits) in glyph(*ch).iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        let (gx, gy) = (tx + (ci * 6 + col) * S, ty + row * S);
                        for y in gy..gy + S {
                            px[y * width + gx..y * width + gx + S].fill(0);
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let fail = |e: png::EncodingError| AppError::Internal(format!("PNG label: {e}"));
        let (w32, h32) = (u32::try_from(width).unwrap_or(u32::MAX), u32::try_from(height).unwrap_or(u32::MAX));
        let mut enc = png::Encoder::new(&mut out, w32, h32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        enc.add_itxt_chunk("Description".into(), format!("{} {} {}", l.model_name, l.model_code, l.serial_number))
            .map_err(fail)?;
        let mut writer = enc.write_header().map_err(fail)?;
        writer.write_image_data(&px).map_err(fail)?;
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

/// Rows of a 5 × 7 glyph, the leftmost pixel in bit 4; lower case is drawn as upper case and
/// anything else as `?`.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        ' ' => [0; 7],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> Label {
        Label {
            device_id: 7,
            link: "https://service.example.com/q/7-AAAAAAAAAAAAAAAA".into(),
            model_code: "XG-5000".into(),
            model_name: "XG-5000 光传输设备 <b>".into(),
            serial_number: "XG5K-0001".into(),
        }
    }

    #[test]
    fn a_label_shows_the_model_and_serial_escaped_under_its_code() {
        let svg = label_svg(&sample()).unwrap();
        assert!(svg.contains("XG-5000 光传输设备 &lt;b&gt;"), "{svg}");
        assert!(svg.contains("SN XG5K-0001"));
        assert!(svg.contains("width=\"50mm\""));
        let png = label_png(&sample()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn a_sheet_holds_24_labels_on_a4() {
        let many: Vec<Label> = (1..=25).map(|i| Label { device_id: i, ..sample() }).collect();
        let sheets = sheet_svgs(&many).unwrap();
        assert_eq!(sheets.len(), 2);
        assert!(sheets[0].contains("width=\"210mm\" height=\"297mm\""));
        assert_eq!(sheets[0].matches("data-device=").count(), 24);
        assert_eq!(sheets[1].matches("data-device=").count(), 1);
        assert_eq!(parse_ids("1, 2,3").unwrap(), vec![1, 2, 3]);
        assert!(parse_ids("1,x").is_err());
    }
}
