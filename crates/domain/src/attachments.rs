//! What a file is, from its first bytes: attachments are accepted by content, never by name.
use crate::FieldError;

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The accepted kinds: photos, PDF, Office documents, plain text.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"PK\x03\x04") {
        Some("application/zip")
    } else if std::str::from_utf8(bytes).is_ok_and(|s| !s.contains('\0')) {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

/// The longest file name kept, in characters.
pub const FILE_NAME_MAX: usize = 200;

/// Whether a file name holds a control character (NUL, a line break, ESC, C1 controls): such a
/// name is refused rather than stored and later put into a `Content-Disposition`.
pub fn has_control(file_name: &str) -> bool {
    file_name.chars().any(char::is_control)
}

/// The name an uploaded file is kept under: its last path segment, trimmed, required, at most
/// [`FILE_NAME_MAX`] characters, without control characters (`bad_file_name`).
pub fn file_name(field: &str, raw: &str) -> Result<String, FieldError> {
    if has_control(raw) {
        return Err(FieldError::new(field, "bad_file_name"));
    }
    crate::text::required_text(field, raw.rsplit(['/', '\\']).next().unwrap_or(""), FILE_NAME_MAX)
}

/// Check an uploaded file: not empty, not too big, of an accepted kind, and — when the name has
/// an extension — of the kind the name claims. Answers the content type to store.
pub fn check(field: &str, file_name: &str, bytes: &[u8]) -> Result<&'static str, FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new(field, "empty_file"));
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(FieldError::new(field, "file_too_large"));
    }
    let kind = sniff(bytes).ok_or_else(|| FieldError::new(field, "unsupported_file_type"))?;
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let claimed = match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "pdf" => Some("application/pdf"),
        "docx" | "xlsx" | "pptx" | "zip" => Some("application/zip"),
        "txt" | "log" | "csv" => Some("text/plain; charset=utf-8"),
        "" => None,
        _ => return Err(FieldError::new(field, "unsupported_file_type")),
    };
    match claimed {
        Some(c) if c != kind => Err(FieldError::new(field, "file_type_mismatch")),
        _ => Ok(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_file_is_judged_by_its_bytes_not_its_name() {
        assert_eq!(check("file", "现场照片.jpg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF"), Ok("image/jpeg"));
        assert_eq!(check("file", "report.pdf", b"%PDF-1.7\n..."), Ok("application/pdf"));
        assert_eq!(check("file", "photo.jpg", b"%PDF-1.7").map_err(|e| e.code), Err("file_type_mismatch"));
        assert_eq!(check("file", "virus.exe", b"MZ\x90\x00").map_err(|e| e.code), Err("unsupported_file_type"));
        assert_eq!(check("file", "blob", b"MZ\x90\x00\x00").map_err(|e| e.code), Err("unsupported_file_type"));
        assert_eq!(check("file", "notes.txt", "告警日志".as_bytes()), Ok("text/plain; charset=utf-8"));
        assert_eq!(check("file", "a.png", b"").map_err(|e| e.code), Err("empty_file"));
        let big = vec![b'a'; MAX_ATTACHMENT_BYTES + 1];
        assert_eq!(check("file", "a.txt", &big).map_err(|e| e.code), Err("file_too_large"));
    }
}
