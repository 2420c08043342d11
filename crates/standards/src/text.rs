//! Text from what arrives in the electronic in-tray, for the E-Akte's
//! full-text search: PDFs (their text layer), e-mails (.eml), images (only
//! recognised: OCR is done elsewhere) and plain text. [`extract`] tells the
//! kind by the content (magic bytes, mail headers), never by a file name.
//!
//! Every input is treated as hostile: at most [`MAX_INPUT_BYTES`] are read,
//! the text is cut at [`MAX_TEXT_CHARS`] characters, a mail yields at most
//! [`MAX_ATTACHMENTS`] attachments, a PDF at most [`MAX_PDF_PAGES`] pages.
//! A broken file gives a [`TextError`] with a stable [`TextError::code`],
//! never a panic (the third-party parsers run under `catch_unwind`).
//! Decompression and the walk over PDF content have budgets shared by all
//! PDFs of one input (a mail's attachments); a PDF costs a few seconds of
//! CPU at worst, so callers extract off the request path.
//!
//! Crates, and why (docs.rs read for each):
//! - **lopdf** (`default-features = false`: no rayon, no chrono) reads the
//!   PDF: object and xref streams, encryption with an empty user password,
//!   fonts' encodings and `/ToUnicode` CMaps (what typst writes for its
//!   embedded subset fonts), with a bound on every decompressed stream.
//!   `pdf-extract` lays text out better than lopdf's own `extract_text`,
//!   but pins an older lopdf (0.42, so two copies), pulls in font parsers
//!   (cff-parser, type1-encoding-parser, postscript, euclid) and is known to
//!   panic on malformed files. So the layout is done here, in `text/pdf.rs`:
//!   a small content-stream walker that follows the text and graphics
//!   matrices and glyph widths and puts spaces and line breaks where the
//!   page has gaps. lopdf brings 13 packages into Cargo.lock with itself
//!   (ciphers for encrypted PDFs, brotli-decompressor 5, rangemap, weezl);
//!   its flate2, encoding_rs, nom, sha2, md-5, rand, … are in the tree.
//! - **mail-parser** (Stalwart, `full_encoding`: encoding_rs is already in
//!   the tree) reads RFC 5322/MIME: RFC 2047 words, quoted-printable and
//!   base64, the German and other charsets, nested messages, and turns an
//!   HTML-only body into text (dropping `<head>`, `<style>`, `<script>`). It
//!   is fuzzed upstream and brings 2 packages (itself and `hashify`).
//!   Version 0.11: 1.0 needs Rust 1.98.

mod mail;
mod pdf;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};

/// Inputs larger than this are refused ([`TextError::TooLarge`]): 25 MiB.
pub const MAX_INPUT_BYTES: usize = 25 * 1024 * 1024;
/// The extracted text is cut after this many characters (`truncated` set).
pub const MAX_TEXT_CHARS: usize = 1_000_000;
/// A mail's attachments after this many are left out (`omitted_attachments`).
pub const MAX_ATTACHMENTS: usize = 20;
/// Pages of a PDF after this many are not read (`pages` still counts all).
pub const MAX_PDF_PAGES: usize = 2_000;

/// What kind of content the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    Pdf,
    Mail,
    Image,
    Text,
}

impl TextKind {
    /// A stable name: `pdf`, `mail`, `image`, `text`.
    pub fn code(self) -> &'static str {
        match self {
            TextKind::Pdf => "pdf",
            TextKind::Mail => "mail",
            TextKind::Image => "image",
            TextKind::Text => "text",
        }
    }
}

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the mail gives (RFC 2231/2047 decoded), or
    /// `Anhang-N` (1-based; `Anhang-N.eml` for an attached mail) where it
    /// gives none.
    pub name: String,
    /// The declared MIME type, lower case (`application/octet-stream` when
    /// none is declared).
    pub mime: String,
    /// The decoded content (base64 / quoted-printable undone).
    pub bytes: Vec<u8>,
}

/// The text and what else was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub kind: TextKind,
    /// PDF: the text layer, pages in order, runs of spaces collapsed,
    /// paragraphs separated by a blank line (empty for a scan). Mail: the
    /// body (text/plain, else the HTML as text) followed by the text of
    /// PDF attachments and attached mails, each under a line
    /// `--- Anhang: NAME ---`. Image: empty. Text: the content as is (line
    /// ends made `\n`).
    pub text: String,
    /// Whether `text` was cut at [`MAX_TEXT_CHARS`].
    pub truncated: bool,
    /// Mail: the address in `From`.
    pub sender: Option<String>,
    /// Mail: `Subject`, decoded.
    pub subject: Option<String>,
    /// Mail: `Date`.
    pub date: Option<DateTime<Utc>>,
    /// Mail: the attachments, at most [`MAX_ATTACHMENTS`].
    pub attachments: Vec<Attachment>,
    /// Mail: how many attachments were left out over the limit.
    pub omitted_attachments: usize,
    /// PDF: the number of pages (all of them, also those over the limit).
    pub pages: Option<u32>,
}

impl Extracted {
    fn new(kind: TextKind) -> Self {
        Extracted {
            kind,
            text: String::new(),
            truncated: false,
            sender: None,
            subject: None,
            date: None,
            attachments: Vec::new(),
            omitted_attachments: 0,
            pages: None,
        }
    }
}

/// Why no text could be had. Messages in German with the English in
/// brackets; [`TextError::code`] is stable, for the UI and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("Datei zu groß (file too large): {bytes} Bytes, höchstens (at most) {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("Datei ist leer (file is empty)")]
    Empty,
    #[error("Dateiart nicht erkannt (unknown type of file)")]
    UnknownType,
    #[error("PDF nicht lesbar (unreadable PDF): {0}")]
    UnreadablePdf(String),
    #[error("PDF ist verschlüsselt (PDF is encrypted with a password)")]
    EncryptedPdf,
    #[error("E-Mail nicht lesbar (unreadable mail): {0}")]
    UnreadableMail(String),
}

impl TextError {
    /// A stable code: `text.too_large`, `text.empty`, `text.unknown_type`,
    /// `text.unreadable_pdf`, `text.encrypted_pdf`, `text.unreadable_mail`.
    pub fn code(&self) -> &'static str {
        match self {
            TextError::TooLarge { .. } => "text.too_large",
            TextError::Empty => "text.empty",
            TextError::UnknownType => "text.unknown_type",
            TextError::UnreadablePdf(_) => "text.unreadable_pdf",
            TextError::EncryptedPdf => "text.encrypted_pdf",
            TextError::UnreadableMail(_) => "text.unreadable_mail",
        }
    }
}

/// The kind of `bytes` by their content, `None` when none is recognised.
/// `declared_mime` (from an upload or a mail part) only decides a mail
/// whose header block is short (`message/rfc822` with one known header).
pub fn detect(bytes: &[u8], declared_mime: Option<&str>) -> Option<TextKind> {
    if pdf_start(bytes).is_some() {
        Some(TextKind::Pdf)
    } else if is_image(bytes) {
        Some(TextKind::Image)
    } else if mail::looks_like_mail(bytes, declared_is(declared_mime, "message/rfc822")) {
        Some(TextKind::Mail)
    } else if decode_text(bytes).is_some() {
        Some(TextKind::Text)
    } else {
        None
    }
}

/// The text of `bytes` (see the module docs). `declared_mime` is only a
/// hint: the content decides.
pub fn extract(bytes: &[u8], declared_mime: Option<&str>) -> Result<Extracted, TextError> {
    extract_at(bytes, declared_mime, 0, &mut pdf::Budget::new())
}

/// `depth` 0 for what was handed in, 1 for a mail's attachment (whose own
/// attachments are not read any more); `budget` is shared by all PDFs in
/// the input.
fn extract_at(
    bytes: &[u8],
    declared_mime: Option<&str>,
    depth: u8,
    budget: &mut pdf::Budget,
) -> Result<Extracted, TextError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(TextError::TooLarge {
            bytes: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(TextError::Empty);
    }
    let mut out = match detect(bytes, declared_mime) {
        Some(TextKind::Pdf) => {
            let start = pdf_start(bytes).unwrap_or(0);
            let (text, pages) =
                guarded(|| pdf::extract(&bytes[start..], budget)).unwrap_or_else(|| {
                    Err(TextError::UnreadablePdf(
                        "interner Fehler (internal error)".into(),
                    ))
                })?;
            let mut e = Extracted::new(TextKind::Pdf);
            e.text = text;
            e.pages = Some(pages);
            e
        }
        Some(TextKind::Image) => Extracted::new(TextKind::Image),
        Some(TextKind::Mail) => {
            guarded(|| mail::extract(bytes, depth, budget)).unwrap_or_else(|| {
                Err(TextError::UnreadableMail(
                    "interner Fehler (internal error)".into(),
                ))
            })?
        }
        Some(TextKind::Text) => {
            let mut e = Extracted::new(TextKind::Text);
            e.text = decode_text(bytes).unwrap_or_default();
            e
        }
        None if declared_is(declared_mime, "application/pdf") => {
            return Err(TextError::UnreadablePdf(
                "kein PDF-Kopf %PDF- (no PDF header)".into(),
            ));
        }
        None if declared_is(declared_mime, "message/rfc822") => {
            return Err(TextError::UnreadableMail(
                "keine Kopfzeilen (no header fields)".into(),
            ));
        }
        None => return Err(TextError::UnknownType),
    };
    out.truncated |= truncate_chars(&mut out.text, MAX_TEXT_CHARS);
    Ok(out)
}

/// `f()`, or `None` if it panicked: lopdf in particular has panicked on
/// malformed files in the past. (The process's panic hook still reports it.)
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn declared_is(declared: Option<&str>, mime: &str) -> bool {
    declared.is_some_and(|d| {
        d.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(mime)
    })
}

/// Where `%PDF-` starts: readers accept it within the first 1024 bytes.
fn pdf_start(bytes: &[u8]) -> Option<usize> {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).position(|w| w == b"%PDF-")
}

fn is_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
}

/// Keeps the first `max` characters of `s`; whether it cut.
pub(crate) fn truncate_chars(s: &mut String, max: usize) -> bool {
    match s.char_indices().nth(max) {
        Some((i, _)) => {
            s.truncate(i);
            true
        }
        None => false,
    }
}

/// The bytes as text, or `None` when they are not text: UTF-8 (a BOM is
/// dropped), UTF-16 with a BOM, else Windows-1252 (Latin-1 with the
/// printable 0x80–0x9F) when no control bytes other than tab, line ends,
/// form feed and ^Z occur. Line ends become `\n`.
pub(crate) fn decode_text(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest).into_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        if bytes.iter().any(|&b| is_binary_byte(b)) {
            return None;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
        }
    };
    Some(unix_line_ends(&text))
}

fn utf16(b: &[u8], f: fn([u8; 2]) -> u16) -> String {
    let units = b.chunks_exact(2).map(|c| f([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// A byte no text file has: C0 controls other than tab, LF, FF, CR, ^Z
/// (DOS end of file) and ESC, and DEL.
fn is_binary_byte(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x19 | 0x1C..=0x1F | 0x7F)
}

/// One byte of Windows-1252; the five bytes it leaves undefined are taken
/// as Latin-1.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

pub(crate) fn unix_line_ends(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    }
}

/// Whitespace made plain: every line trimmed, runs of spaces (and tabs,
/// no-break spaces) collapsed to one, at most one blank line between
/// paragraphs, control characters dropped, no blank lines at either end.
pub(crate) fn normalize_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_lines = 0usize;
    for line in s.split('\n') {
        let mut l = String::with_capacity(line.len());
        let mut space = false;
        for c in line.chars() {
            if c.is_whitespace() {
                space = true;
            } else if c.is_control() || c == '\u{FEFF}' || c == '\u{AD}' {
                // dropped: controls, BOMs and soft hyphens carry no text
            } else {
                if space && !l.is_empty() {
                    l.push(' ');
                }
                space = false;
                l.push(c);
            }
        }
        if l.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_normalised() {
        assert_eq!(
            normalize_whitespace("  a \t  b\u{a0}c  \n\n\n\n d\u{1}e \n f\n\n"),
            "a b c\n\nde\nf"
        );
    }

    #[test]
    fn latin1_text_falls_back() {
        assert_eq!(
            decode_text(b"Stra\xdfe \x80 5\r\n").as_deref(),
            Some("Straße € 5\n")
        );
        assert_eq!(decode_text(b"a\0b"), None);
        assert_eq!(
            decode_text(b"\xFF\xFEG\0r\0\xfc\0\xdf\0").as_deref(),
            Some("Grüß")
        );
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        let mut s = "äöü".to_string();
        assert!(truncate_chars(&mut s, 2));
        assert_eq!(s, "äö");
        assert!(!truncate_chars(&mut s, 2));
    }
}
