//! E-mails (RFC 5322 / MIME, as saved in .eml files), read with
//! mail-parser.

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};

use super::{Attachment, Extracted, MAX_ATTACHMENTS, TextError, TextKind};

/// How many header lines at the start are looked at.
const HEADER_LINES: usize = 200;

/// Header fields that mark the start of a mail.
const MAIL_FIELDS: [&str; 8] = [
    "from",
    "subject",
    "date",
    "received",
    "mime-version",
    "message-id",
    "return-path",
    "delivered-to",
];

/// Other header fields mails commonly start with.
const OTHER_FIELDS: [&str; 14] = [
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "content-type",
    "content-transfer-encoding",
    "in-reply-to",
    "references",
    "user-agent",
    "x-mailer",
    "dkim-signature",
    "authentication-results",
    "importance",
];

/// Whether `bytes` start like a mail: a block of header fields
/// (`Name: value`, continuation lines indented) that ends with an empty
/// line or the end of the bytes, with at least two known fields, one of
/// them [`MAIL_FIELDS`], or a `Content-Type: multipart/…` (a MIME
/// document). With `declared` (`message/rfc822`) one known field is
/// enough. An mbox `From ` line at the very start is skipped.
pub(super) fn looks_like_mail(bytes: &[u8], declared: bool) -> bool {
    let bytes = skip_mbox_line(bytes);
    let mut known = 0usize;
    let mut marking = false;
    let mut multipart = false;
    let mut fields = 0usize;
    let mut lines = bytes.split(|&b| b == b'\n');
    for _ in 0..HEADER_LINES {
        let Some(line) = lines.next() else {
            break;
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if fields == 0 {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = &line[..colon];
        // RFC 5322 field names: printable US-ASCII without ':' (and no space).
        if name.is_empty() || name.len() > 76 || !name.iter().all(|&b| (33..=126).contains(&b)) {
            return false;
        }
        fields += 1;
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name == "content-type" {
            let value = String::from_utf8_lossy(&line[colon + 1..]).to_ascii_lowercase();
            multipart |= value.trim_start().starts_with("multipart/");
        }
        if MAIL_FIELDS.contains(&name.as_str()) {
            known += 1;
            marking = true;
        } else if OTHER_FIELDS.contains(&name.as_str())
            || name.starts_with("x-")
            || name.starts_with("arc-")
            || name.starts_with("list-")
        {
            known += 1;
        }
    }
    if declared {
        known >= 1
    } else {
        (marking && known >= 2) || multipart
    }
}

fn skip_mbox_line(bytes: &[u8]) -> &[u8] {
    if bytes.starts_with(b"From ") {
        match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => &bytes[i + 1..],
            None => &[],
        }
    } else {
        bytes
    }
}

/// The mail's fields, body and attachments; at `depth` 0 the text of PDF
/// attachments and attached mails is appended (their own attachments are
/// not read).
pub(super) fn extract(
    bytes: &[u8],
    depth: u8,
    budget: &mut super::pdf::Budget,
) -> Result<Extracted, TextError> {
    let raw = skip_mbox_line(bytes);
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| TextError::UnreadableMail("keine Nachricht (no message found)".into()))?;
    let mut out = Extracted::new(TextKind::Mail);
    out.sender = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    out.subject = message.subject().map(|s| s.trim().to_owned());
    out.date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));

    let mut body = String::new();
    for i in 0..message.text_body_count() {
        if let Some(part) = message.body_text(i) {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(&part);
            if body.len() > 4 * super::MAX_TEXT_CHARS {
                break;
            }
        }
    }
    out.text = super::unix_line_ends(body.trim_end());

    for (i, part) in message.attachments().enumerate() {
        if out.attachments.len() == MAX_ATTACHMENTS {
            out.omitted_attachments += 1;
            continue;
        }
        let name = part
            .attachment_name()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| match part.is_message() {
                true => format!("Anhang-{}.eml", i + 1),
                false => format!("Anhang-{}", i + 1),
            });
        let mime = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| {
                if part.is_message() {
                    "message/rfc822".to_owned()
                } else {
                    "application/octet-stream".to_owned()
                }
            })
            .to_ascii_lowercase();
        out.attachments.push(Attachment {
            name,
            mime,
            bytes: part.contents().to_vec(),
        });
    }

    if depth == 0 {
        for a in &out.attachments {
            if out.text.chars().count() >= super::MAX_TEXT_CHARS {
                break;
            }
            let kind = super::detect(&a.bytes, Some(&a.mime));
            if !matches!(kind, Some(TextKind::Pdf | TextKind::Mail)) {
                continue;
            }
            // A broken attachment costs its own text, not the mail's.
            let Ok(inner) = super::extract_at(&a.bytes, Some(&a.mime), depth + 1, budget) else {
                continue;
            };
            let mut text = inner.text;
            if inner.kind == TextKind::Mail {
                let head: Vec<String> = [inner.sender, inner.subject]
                    .into_iter()
                    .flatten()
                    .collect();
                if !head.is_empty() {
                    text = format!("{}\n\n{text}", head.join("\n"));
                }
            }
            if text.trim().is_empty() {
                continue;
            }
            if !out.text.is_empty() {
                out.text.push_str("\n\n");
            }
            out.text
                .push_str(&format!("--- Anhang: {} ---\n{}", a.name, text.trim()));
        }
    }
    Ok(out)
}
