//! Text extraction for the in-tray and the E-Akte's full-text search:
//! a typst Bescheid (embedded subset fonts, `/ToUnicode`), hand-written
//! PDFs for the layout rules, a multipart mail (ISO-8859-1
//! quoted-printable, RFC 2047 subject, PDF attachment), images, plain
//! text, the limits, and hostile input (garbage, truncation, mutations,
//! arbitrary bytes) that must give an error, never a panic.
//!
//! Fixtures in `testdata/text/`: `bescheid.pdf` was rendered once with
//! `rathaus_documents::decision_pdf`; `verschluesselt.pdf` (user password)
//! and `ohne-kennwort.pdf` (owner password only) are it encrypted with
//! `qpdf --encrypt … 256`; `widerspruch.eml` carries it as attachment.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rathaus_standards::text::{
    MAX_ATTACHMENTS, MAX_INPUT_BYTES, MAX_PDF_PAGES, MAX_TEXT_CHARS, TextKind, detect, extract,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/text");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

/// A PDF from numbered objects (object `i + 1` is `objects[i]`, object 1
/// the catalog), with a correct cross-reference table.
fn pdf(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, content: &str) -> String {
    format!(
        "<< {dict} /Length {} >>\nstream\n{content}\nendstream",
        content.len()
    )
}

/// One-page PDF: `content` drawn with Helvetica (WinAnsi) as `/F1`, and
/// `xobjects` (object 6 onwards) in the page's `/XObject` resources.
fn one_page(content: &str, xobjects: &[(&str, String)]) -> Vec<u8> {
    let xo: String = xobjects
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("/{name} {} 0 R ", i + 6))
        .collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << {xo}>> >> >>"
        ),
        stream("", content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    objects.extend(xobjects.iter().map(|(_, o)| o.clone()));
    pdf(&objects)
}

// ---------------------------------------------------------------------------
// PDF

#[test]
fn typst_bescheid_gives_its_german_text_in_order() {
    let e = extract(&fixture("bescheid.pdf"), Some("application/pdf")).unwrap();
    assert_eq!(e.kind, TextKind::Pdf);
    assert_eq!(e.pages, Some(1));
    assert!(!e.truncated);
    let t = &e.text;
    for words in [
        "Gemeinde Musterstadt · Ordnungsamt",
        "Frau Jürgen Müller-Lüdenscheidt",
        "Große Straße 12",
        "Aktenzeichen OA-2026-0815",
        "Bearbeitet von Frau Weiß",
        "Gebührenbescheid über die Sondernutzung",
        "der öffentlichen Straße vor dem Grundstück",
        "eine Gebühr",
        "von 45,00 € festgesetzt.",
        "Äußerst wichtig: Öffnungszeiten beachten.",
        "OA-2026-0815 · Seite 1 von 1",
    ] {
        assert!(t.contains(words), "{words:?} missing in:\n{t}");
    }
    // Reading order, paragraphs kept, whitespace plain.
    let at = |s: &str| t.find(s).unwrap();
    assert!(at("Gemeinde Musterstadt") < at("Sehr geehrte"));
    assert!(at("Sehr geehrte") < at("Rechtsbehelfsbelehrung"));
    assert!(at("Rechtsbehelfsbelehrung") < at("ohne Unterschrift gültig"));
    assert!(
        t.contains("Müller-Lüdenscheidt,\n\nfür die Sondernutzung"),
        "{t}"
    );
    assert!(!t.contains("  ") && !t.contains("\n\n\n") && !t.contains(" \n"));
    assert_eq!(t.trim(), t);
}

#[test]
fn encrypted_pdf_is_read_without_user_password_else_an_error() {
    let e = extract(&fixture("ohne-kennwort.pdf"), None).unwrap();
    assert!(e.text.contains("Gebührenbescheid über die Sondernutzung"));
    let err = extract(&fixture("verschluesselt.pdf"), None).unwrap_err();
    assert_eq!(err.code(), "text.encrypted_pdf");
}

#[test]
fn layout_gaps_become_spaces_and_lines() {
    // Words placed apart (Td), a kerned TJ inside a word, a TJ gap between
    // words, a new line, a paragraph further down, and a form XObject.
    let content = "BT /F1 12 Tf 72 700 Td (Gro\\337e) Tj 40 0 Td (Stra\\337e) Tj ET \
        BT /F1 12 Tf 72 686 Td [(Geb) 20 (\\374hr) -600 (f\\344llig)] TJ ET \
        BT /F1 12 Tf 72 640 Td (Neuer    Absatz) Tj 14 TL T* (zweite Zeile) Tj ET \
        q 1 0 0 1 72 500 cm /Fm1 Do Q";
    let form = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 200 50] /Resources << /Font << /F1 5 0 R >> >>",
        "BT /F1 10 Tf 0 0 Td (im Formular) Tj ET",
    );
    let e = extract(&one_page(content, &[("Fm1", form)]), None).unwrap();
    assert_eq!(e.kind, TextKind::Pdf);
    assert_eq!(
        e.text,
        "Große Straße\nGebühr fällig\n\nNeuer Absatz\nzweite Zeile\n\nim Formular"
    );
}

#[test]
fn a_scan_without_text_layer_gives_empty_text() {
    let image = stream(
        "/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8",
        "\u{7f}",
    );
    let e = extract(
        &one_page("q 595 0 0 842 0 0 cm /Im1 Do Q", &[("Im1", image)]),
        None,
    )
    .unwrap();
    assert_eq!(
        (e.kind, e.text.as_str(), e.pages),
        (TextKind::Pdf, "", Some(1))
    );
}

#[test]
fn form_field_values_follow_the_pages() {
    let objects = vec![
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_string(),
        stream("", ""),
        "<< /T (antragsteller) /Kids [6 0 R] >>".to_string(),
        // UTF-16BE text string: "Müller"
        "<< /T (name) /FT /Tx /V <FEFF004D00FC006C006C00650072> >>".to_string(),
    ];
    let e = extract(&pdf(&objects), None).unwrap();
    assert_eq!(e.text, "antragsteller.name: Müller");
}

#[test]
fn pages_over_the_limit_are_counted_not_read() {
    let n = MAX_PDF_PAGES + 1;
    let kids: String = (0..n).map(|i| format!("{} 0 R ", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{kids}] /Count {n} /Resources << /Font << /F1 3 0 R >> >> >>"
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    for i in 0..n {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(stream(
            "",
            &format!("BT /F1 12 Tf 72 700 Td (Seite {}) Tj ET", i + 1),
        ));
    }
    let e = extract(&pdf(&objects), None).unwrap();
    assert_eq!(e.pages, Some(n as u32));
    assert!(e.text.starts_with("Seite 1\n\nSeite 2\n\n"));
    assert!(
        e.text.ends_with(&format!("\n\nSeite {MAX_PDF_PAGES}")),
        "{}",
        &e.text[e.text.len() - 40..]
    );
}

// ---------------------------------------------------------------------------
// Mail

#[test]
fn multipart_mail_with_latin1_body_and_pdf_attachment() {
    let bytes = fixture("widerspruch.eml");
    assert_eq!(detect(&bytes, None), Some(TextKind::Mail));
    let e = extract(&bytes, Some("message/rfc822")).unwrap();
    assert_eq!(e.kind, TextKind::Mail);
    assert_eq!(e.sender.as_deref(), Some("j.mueller@example.org"));
    assert_eq!(
        e.subject.as_deref(),
        Some("Widerspruch gegen Gebührenbescheid - Große Straße 12")
    );
    assert_eq!(
        e.date,
        Some(Utc.with_ymd_and_hms(2026, 11, 23, 8, 15, 0).unwrap())
    );
    assert_eq!(e.pages, None);
    // The text/plain body (ISO-8859-1, quoted-printable, soft line breaks),
    // not the HTML alternative.
    assert!(e.text.starts_with("Sehr geehrte Damen und Herren,\n\nhiermit lege ich Widerspruch gegen den Gebührenbescheid OA-2026-0815 vom 22.11.2026 ein. Die Sondernutzung der Straße vor meinem Grundstück Große Straße 12 fand nicht statt.\n\nMit freundlichen Grüßen\nJürgen Müller-Lüdenscheidt"), "{}", e.text);
    assert!(!e.text.contains("HTML-Fassung") && !e.text.contains('\r'));
    // The attachment, decoded, and its text after the body.
    assert_eq!(e.attachments.len(), 1);
    let a = &e.attachments[0];
    assert_eq!(a.name, "Gebührenbescheid OA-2026-0815.pdf");
    assert_eq!(a.mime, "application/pdf");
    assert_eq!(a.bytes, fixture("bescheid.pdf"));
    assert!(
        e.text.contains(
            "\n\n--- Anhang: Gebührenbescheid OA-2026-0815.pdf ---\nGemeinde Musterstadt"
        )
    );
    assert!(e.text.contains("Äußerst wichtig: Öffnungszeiten beachten."));
}

fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}")
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

#[test]
fn html_only_mail_becomes_text() {
    let m = mail(
        "From: Amt <amt@example.org>\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8",
        "<html><head><title>T</title><style>.x{color:red}</style><script>alert(1)</script></head>\n<body><p>Sehr geehrte Frau M&uuml;ller,</p><p>die Geb&uuml;hr f&auml;llt an.<br>Stra&szlig;e</p></body></html>",
    );
    let e = extract(&m, None).unwrap();
    assert_eq!(e.subject.as_deref(), Some("Grüße"));
    assert!(e.text.contains("Sehr geehrte Frau Müller,"), "{}", e.text);
    assert!(e.text.contains("die Gebühr fällt an."), "{}", e.text);
    assert!(e.text.contains("Straße"), "{}", e.text);
    for hidden in ["color", "alert", "<p>", "&uuml;"] {
        assert!(!e.text.contains(hidden), "{hidden} in {}", e.text);
    }
}

#[test]
fn attached_mail_is_read_one_level_deep() {
    use std::fmt::Write;
    let pdf_b64 = base64(&fixture("bescheid.pdf"));
    let inner = format!(
        "From: buerger@example.org\r\nSubject: Innen\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nText der weitergeleiteten Mail\r\n--in\r\nContent-Type: application/pdf; name=innen.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf_b64}\r\n--in--\r\n"
    );
    let mut outer = String::from(
        "From: poststelle@example.org\r\nSubject: Weiterleitung\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: text/plain\r\n\r\nSiehe Anlage.\r\n--out\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=weiter.eml\r\n\r\n",
    );
    outer.push_str(&inner);
    write!(outer, "\r\n--out--\r\n").unwrap();
    let e = extract(outer.as_bytes(), None).unwrap();
    assert_eq!(
        e.attachments.len(),
        1,
        "{:?}",
        e.attachments
            .iter()
            .map(|a| (&a.name, &a.mime))
            .collect::<Vec<_>>()
    );
    assert_eq!(e.attachments[0].mime, "message/rfc822");
    assert!(e.text.starts_with("Siehe Anlage."));
    assert!(e.text.contains("--- Anhang: weiter.eml ---\nbuerger@example.org\nInnen\n\nText der weitergeleiteten Mail"), "{}", e.text);
    // The attached mail's own PDF is not read (one level only).
    assert!(!e.text.contains("Gebührenbescheid"), "{}", e.text);
}

#[test]
fn attachments_over_the_limit_are_counted_not_kept() {
    let mut body = String::new();
    for i in 0..MAX_ATTACHMENTS + 5 {
        body.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
        ));
    }
    body.push_str("--b--\r\n");
    let m = mail(
        "From: a@example.org\nSubject: Viele\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b",
        &body,
    );
    let e = extract(&m, None).unwrap();
    assert_eq!(e.attachments.len(), MAX_ATTACHMENTS);
    assert_eq!(e.omitted_attachments, 5);
    assert_eq!(e.attachments[0].name, "f0.bin");
    assert_eq!(e.attachments[0].bytes, vec![0, 1, 2]);
}

#[test]
fn mail_detection_needs_a_real_header_block() {
    // A note that starts like headers but has no blank line after them.
    let note = b"Subject: Einkauf\nDate: morgen\nMilch und Brot\n";
    assert_eq!(detect(note, None), Some(TextKind::Text));
    // One header only: text, unless declared as a mail.
    let short = b"X-Custom: 1\n\nHallo";
    assert_eq!(detect(short, None), Some(TextKind::Text));
    assert_eq!(
        detect(short, Some("message/rfc822; charset=x")),
        Some(TextKind::Mail)
    );
    // An mbox "From " line before the headers.
    let mbox = b"From amt@example.org Mon Nov 23 09:15:00 2026\nFrom: amt@example.org\nSubject: Hallo\n\nText";
    let e = extract(mbox, None).unwrap();
    assert_eq!(
        (e.kind, e.sender.as_deref(), e.text.as_str()),
        (TextKind::Mail, Some("amt@example.org"), "Text")
    );
}

// ---------------------------------------------------------------------------
// Images and text

#[test]
fn images_are_recognised_with_empty_text() {
    for head in [
        &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
        &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'][..],
        &b"II*\0\x08\0\0\0"[..],
        &b"MM\0*\0\0\0\x08"[..],
    ] {
        let e = extract(head, Some("application/pdf")).unwrap();
        assert_eq!(
            (e.kind, e.text.as_str(), e.pages),
            (TextKind::Image, "", None)
        );
    }
}

#[test]
fn plain_text_utf8_and_latin1() {
    let e = extract(
        "Grüße aus der Hauptstraße\r\n  eingerückt\n".as_bytes(),
        None,
    )
    .unwrap();
    assert_eq!(e.kind, TextKind::Text);
    assert_eq!(e.text, "Grüße aus der Hauptstraße\n  eingerückt\n");
    let e = extract(b"Gr\xfc\xdfe, Stra\xdfe \x80", Some("text/plain")).unwrap();
    assert_eq!(e.text, "Grüße, Straße €");
}

// ---------------------------------------------------------------------------
// Limits and errors

#[test]
fn limits_on_size_and_text() {
    let big = vec![b'a'; MAX_INPUT_BYTES + 1];
    let err = extract(&big, None).unwrap_err();
    assert_eq!(err.code(), "text.too_large");
    assert!(err.to_string().contains("zu groß"));

    let long = "ä".repeat(MAX_TEXT_CHARS + 10);
    let e = extract(long.as_bytes(), None).unwrap();
    assert!(e.truncated);
    assert_eq!(e.text.chars().count(), MAX_TEXT_CHARS);

    assert_eq!(extract(b"", None).unwrap_err().code(), "text.empty");
}

#[test]
fn garbage_gives_errors_with_stable_codes() {
    assert_eq!(
        extract(b"\0\x01\x02\x03binary", None).unwrap_err().code(),
        "text.unknown_type"
    );
    assert_eq!(
        extract(b"\0\x01\x02\x03binary", Some("application/pdf"))
            .unwrap_err()
            .code(),
        "text.unreadable_pdf"
    );
    assert_eq!(
        extract(b"\0\x01\x02", Some("message/rfc822"))
            .unwrap_err()
            .code(),
        "text.unreadable_mail"
    );
    for bad in [
        &b"%PDF-1.7\n"[..],
        &b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"[..],
        &b"%PDF-\xff\xfe\0\0garbage garbage"[..],
        &b"%PDF-1.4\nxref\n0 99999999\n0000000000 65535 f \ntrailer << /Size 99999999 /Root 1 0 R >>\nstartxref\n9\n%%EOF"[..],
    ] {
        match extract(bad, None) {
            Err(e) => assert_eq!(e.code(), "text.unreadable_pdf", "{e}"),
            Ok(e) => assert_eq!((e.kind, e.text.as_str()), (TextKind::Pdf, "")),
        }
    }
}

#[test]
fn truncated_files_do_not_panic() {
    for name in ["bescheid.pdf", "widerspruch.eml", "verschluesselt.pdf"] {
        let bytes = fixture(name);
        for cut in [
            10,
            100,
            1000,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 10,
        ] {
            if let Ok(e) = extract(&bytes[..cut], None) {
                assert!(e.text.chars().count() <= MAX_TEXT_CHARS);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = extract(&bytes, None);
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend_from_slice(&bytes);
        let _ = extract(&pdf, None);
        let mut m = b"From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".to_vec();
        m.extend_from_slice(&bytes);
        let _ = extract(&m, Some("message/rfc822"));
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..2usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let mut bytes = fixture(["bescheid.pdf", "widerspruch.eml"][which]);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(e) = extract(&bytes, None) {
            prop_assert!(e.attachments.len() <= MAX_ATTACHMENTS);
        }
    }
}

/// Standard base64 with line breaks (the mails above need one).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(A[(v >> (18 - 6 * k)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Hostile structure: bombs, nesting, fan-out

fn deflate(raw: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(raw).unwrap();
    z.finish().unwrap()
}

/// A PDF whose first page's content stream is `first` (deflated), the
/// second page a plain "Seite zwei".
fn two_pages_deflated(first: &[u8]) -> Vec<u8> {
    let z = deflate(first);
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut out,
        b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 /Resources << /Font << /F1 5 0 R >> >> >>",
    );
    obj(&mut out, b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>");
    let mut s = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", z.len()).into_bytes();
    s.extend_from_slice(&z);
    s.extend_from_slice(b"\nendstream");
    obj(&mut out, &s);
    obj(
        &mut out,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    );
    obj(&mut out, b"<< /Type /Page /Parent 2 0 R /Contents 7 0 R >>");
    let two = b"BT /F1 12 Tf 72 700 Td (Seite zwei) Tj ET";
    obj(
        &mut out,
        format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            two.len(),
            std::str::from_utf8(two).unwrap()
        )
        .as_bytes(),
    );
    let n = offsets.len();
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", n + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            n + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn decompression_bomb_is_cut_off() {
    // 64 MiB of page content from a small file.
    let raw = b"BT /F1 12 Tf 72 700 Td (Bombe) Tj ET\n".repeat(64 * 1024 * 1024 / 38);
    let file = two_pages_deflated(&raw);
    assert!(file.len() < 1024 * 1024);
    let started = std::time::Instant::now();
    let e = extract(&file, None).unwrap();
    assert_eq!(e.pages, Some(2));
    assert!(!e.text.contains("Bombe"));
    assert!(e.text.contains("Seite zwei"), "{}", e.text);
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let mut content = b"BT /F1 12 Tf 72 700 Td ".to_vec();
    content.extend(std::iter::repeat_n(b'[', 200_000));
    content.extend_from_slice(b" TJ ET BT /F1 12 Tf 72 600 Td (danach) Tj ET");
    let _ = extract(&two_pages_deflated(&content), None);

    let mut objects = vec!["<< /Type /Catalog /Pages 2 0 R >>".to_string()];
    objects.push(format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)));
    let _ = extract(&pdf(&objects), None);

    let mut m = String::from(
        "From: a@example.org\r\nSubject: tief\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n",
    );
    for i in 1..5_000 {
        m.push_str(&format!(
            "--b{}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n",
            i - 1
        ));
    }
    let _ = extract(m.as_bytes(), None);
}

#[test]
fn form_xobject_fan_out_is_bounded() {
    // Eight levels of forms, each drawing the next 1000 times (10^24
    // drawings unbounded), and one drawing itself.
    let calls = |next: usize| format!("/X{next} Do ").repeat(1000);
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
    ];
    let xobjects: String = (0..10).map(|i| format!("/X{i} {} 0 R ", 5 + i)).collect();
    let resources = format!("<< /Font << /F1 15 0 R >> /XObject << {xobjects}>> >>");
    objects.push(format!(
        "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources {resources} >>"
    ));
    objects.push(stream(
        "",
        "/X0 Do /X9 Do BT /F1 12 Tf 72 700 Td (Seite) Tj ET",
    ));
    for i in 0..9 {
        let body = if i < 8 {
            calls(i + 1)
        } else {
            "BT /F1 12 Tf 0 0 Td (Blatt) Tj ET".into()
        };
        objects.push(stream(
            &format!("/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources {resources}"),
            &body,
        ));
    }
    objects.push(stream(
        &format!("/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources {resources}"),
        "/X9 Do",
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string());
    let started = std::time::Instant::now();
    let e = extract(&pdf(&objects), None).unwrap();
    assert!(e.text.chars().count() <= MAX_TEXT_CHARS);
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn huge_to_unicode_ranges_are_refused() {
    // One bfrange over all four-byte codes: lopdf would build a reverse
    // map entry for each of the 2^32 codes.
    let cmap = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
        /CMapName /Custom def\n/CMapType 2 def\n\
        1 begincodespacerange\n<00000000> <FFFFFFFF>\nendcodespacerange\n\
        1 beginbfrange\n<00000000> <FFFFFFFF> <0041>\nendbfrange\n\
        endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    let objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 7 0 R >> >> >>".to_string(),
        stream("", "BT /F1 12 Tf 72 700 Td <00000041> Tj /F2 12 Tf 72 680 Td (lesbar) Tj ET"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>".to_string(),
        stream("", cmap),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 6 0 R >>".to_string(),
    ];
    let started = std::time::Instant::now();
    let e = extract(&pdf(&objects), None).unwrap();
    assert_eq!(e.text, "lesbar");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}
