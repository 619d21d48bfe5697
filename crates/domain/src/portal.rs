//! The customer portal (客户自助): what a customer without an account may send and see. Pure: the
//! limits, the link of a device's QR code, and which steps of a request's timeline are the
//! customer's to see.
use crate::FieldError;
use crate::requests::{Action, Status};

/// Failed tracking look-ups allowed per client address (IPv6: per /64) in a window.
pub const TRACK_MAX_FAILURES_PER_SOURCE: i64 = 10;
/// Failed tracking look-ups allowed per request number (from any address) in a window: a guesser
/// with many addresses still cannot try phone after phone on one number.
pub const TRACK_MAX_FAILURES_PER_NUMBER: i64 = 20;
/// The tracking throttle's window.
pub const TRACK_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Reports accepted per client address in a window.
pub const REPORT_MAX_PER_SOURCE: i64 = 5;
/// The report throttle's window.
pub const REPORT_WINDOW_MS: i64 = 60 * 60 * 1000;
/// Photos one report may carry.
pub const MAX_PHOTOS: usize = 3;
/// A request number as typed is at most this long (SR-20261122-0001 is 16).
pub const NUMBER_MAX: usize = 32;

/// The path of a device's public report page: `/q/{id}-{tag}`, the tag made by the server's
/// keys over the id (see `Keyring::link_tag`), so ids cannot be walked.
pub fn device_link_path(device_id: i64, tag: &str) -> String {
    format!("/q/{device_id}-{tag}")
}

/// The device id and tag of a link token `{id}-{tag}`; `None` for anything else.
pub fn parse_link_token(token: &str) -> Option<(i64, &str)> {
    let (id, tag) = token.split_once('-')?;
    let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
    let ok =
        !tag.is_empty() && tag.len() <= 32 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some((id, tag))
}

/// A request number as a customer types it: trimmed, upper case, bounded; blank is `required`.
pub fn request_number(field: &str, s: &str) -> Result<String, FieldError> {
    let t = crate::text::required_text(field, s, NUMBER_MAX)?;
    Ok(t.to_ascii_uppercase())
}

/// Check a photo sent from the portal: what every attachment must pass (not empty, at most
/// 10 MiB, a kind recognised by its bytes and matching its name), and a picture at that.
pub fn photo(field: &str, file_name: &str, bytes: &[u8]) -> Result<(String, &'static str), FieldError> {
    let name = crate::attachments::file_name(field, file_name)?;
    let kind = crate::attachments::check(field, &name, bytes)?;
    if !kind.starts_with("image/") {
        return Err(FieldError::new(field, "not_a_photo"));
    }
    Ok((name, kind))
}

/// One step of a request's timeline as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStep {
    /// `created` or `status`.
    pub kind: &'static str,
    /// The status the request reached.
    pub status: Status,
    /// What the service side said to the customer at this step, if anything.
    pub message: Option<String>,
}

/// The customer's view of one timeline event, or `None` when it is not theirs to see. They see
/// the registration and every change of status; words only where the step is by definition
/// addressed to them: the first answer (`respond`) and what is asked of them
/// (`wait_for_customer`). Internal notes, assignments, attachments, reclassifications, who did
/// what: never.
pub fn public_step(kind: &str, action: Option<&str>, to_status: Option<&str>, note: &str) -> Option<PublicStep> {
    let to = to_status.and_then(|s| Status::parse("status", s).ok());
    match kind {
        "created" => Some(PublicStep { kind: "created", status: to.unwrap_or(Status::New), message: None }),
        "status" => {
            let status = to?;
            let action = action.and_then(|a| Action::parse("action", a).ok());
            let says = matches!(action, Some(Action::Respond | Action::WaitForCustomer));
            let message = (says && !note.trim().is_empty()).then(|| note.trim().to_string());
            Some(PublicStep { kind: "status", status, message })
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_link_token_is_an_id_and_a_tag() {
        assert_eq!(parse_link_token("12-AbC_d-9"), Some((12, "AbC_d-9")));
        for bad in ["", "12", "12-", "x-abc", "0-abc", "-1-abc", "12-a b", "12-<script>"] {
            assert_eq!(parse_link_token(bad), None, "{bad:?}");
        }
        assert_eq!(device_link_path(7, "tag"), "/q/7-tag");
    }

    #[test]
    fn the_customer_sees_status_steps_and_only_the_words_addressed_to_them() {
        let created = public_step("created", None, Some("new"), "").unwrap();
        assert_eq!((created.kind, created.status), ("created", Status::New));
        let reply = public_step("status", Some("respond"), Some("responded"), " 工程师明天上门 ").unwrap();
        assert_eq!(reply.message.as_deref(), Some("工程师明天上门"));
        let resolved = public_step("status", Some("resolve"), Some("resolved"), "换了主板，成本 300 元").unwrap();
        assert_eq!((resolved.status, resolved.message), (Status::Resolved, None));
        assert_eq!(public_step("note", None, None, "客户脾气大"), None);
        assert_eq!(public_step("assign", None, None, "王工"), None);
        assert_eq!(public_step("attachment", None, None, "a.png"), None);
        assert_eq!(public_step("status", Some("resolve"), Some("bogus"), ""), None);
    }

    #[test]
    fn a_portal_photo_must_be_a_picture() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(photo("photo", "a.png", png).map(|p| p.1), Ok("image/png"));
        assert_eq!(photo("photo", "a.pdf", b"%PDF-1.7").map_err(|e| e.code), Err("not_a_photo"));
        assert_eq!(photo("photo", "a.png", b"hello").map_err(|e| e.code), Err("file_type_mismatch"));
        assert_eq!(request_number("number", " sr-20261122-0001 "), Ok("SR-20261122-0001".to_string()));
    }
}
