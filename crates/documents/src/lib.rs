//! Documents as PDF/A-2b, typeset with typst (used as a library, no CLI):
//! the confirmation of receipt (Eingangsbestätigung), decisions (Bescheide) and
//! the confirmation of payment (Zahlungsbestätigung).
//!
//! Texts from applications are never spliced into typst markup: every value
//! becomes a typst string literal (`#"…"`), so nothing an applicant types is
//! interpreted as markup or code.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use typst::{
    Library, LibraryExt, World,
    diag::{FileError, FileResult},
    foundations::{Bytes, Datetime},
    syntax::{FileId, Source},
    text::{Font, FontBook},
    utils::LazyHash,
};
use typst_layout::PagedDocument;

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("typesetting failed: {0}")]
    Typeset(String),
    #[error("PDF export failed: {0}")]
    Pdf(String),
}

/// What the confirmation of receipt shows.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    pub municipality: String,
    pub office: String,
    pub reference: String,
    pub form_title: String,
    /// Local time, already formatted.
    pub submitted_at: String,
    /// Sections of (label, value) as on the review page.
    pub sections: Vec<(String, Vec<(String, String)>)>,
    /// Names of attached files.
    pub files: Vec<String>,
    pub fees: String,
    pub next_steps: String,
    pub date: NaiveDate,
}

/// A typst string literal showing `s` verbatim.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    out.push_str("#\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            // A character no embedded font can show would make the PDF/A
            // invalid (and the document fail): it is shown as `?` instead; the
            // data itself stays as entered.
            c if !displayable(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether one of the embedded fonts has a glyph for `c`.
fn displayable(c: char) -> bool {
    c.is_ascii()
        || fonts()
            .fonts
            .iter()
            .any(|f| f.info().coverage.contains(c as u32))
}

fn receipt_markup(r: &Receipt) -> String {
    let mut m = String::new();
    m.push_str(&format!(
        "#set document(title: {t}, author: {a})\n#set page(paper: \"a4\", margin: (x: 2.2cm, y: 2cm), footer: context align(right, text(size: 8pt)[{re} · Seite #counter(page).display()]))\n#set text(font: \"Libertinus Serif\", lang: \"de\", size: 10.5pt)\n",
        t = &lit(&format!("Eingangsbestätigung {}", r.reference))[1..],
        a = &lit(&r.municipality)[1..],
        re = lit(&r.reference),
    ));
    m.push_str(&format!(
        "#text(size: 9pt)[{} · {}]\n\n= Eingangsbestätigung\n\n",
        lit(&r.municipality),
        lit(&r.office)
    ));
    m.push_str("#table(columns: (auto, 1fr), stroke: none, column-gutter: 1.2em, inset: (x: 0pt, y: 3pt),\n");
    for (k, v) in [
        ("Aktenzeichen", &r.reference),
        ("Antrag", &r.form_title),
        ("Eingegangen am", &r.submitted_at),
        ("Zuständige Stelle", &r.office),
    ] {
        m.push_str(&format!("  [*{k}*], [{}],\n", lit(v)));
    }
    m.push_str(")\n\n");
    m.push_str(&format!(
        "Ihr Antrag ist bei {} eingegangen. Bitte geben Sie bei Rückfragen das Aktenzeichen an.\n\n",
        lit(&r.municipality)
    ));
    m.push_str("== Ihre Angaben\n\n");
    for (title, rows) in &r.sections {
        if rows.is_empty() {
            continue;
        }
        m.push_str(&format!(
            "=== {}\n#table(columns: (40%, 1fr), stroke: 0.5pt + luma(200), inset: 5pt,\n",
            lit(title)
        ));
        for (k, v) in rows {
            m.push_str(&format!("  [{}], [{}],\n", lit(k), lit(v)));
        }
        m.push_str(")\n\n");
    }
    m.push_str("== Anlagen\n\n");
    if r.files.is_empty() {
        m.push_str("Keine.\n\n");
    } else {
        for f in &r.files {
            m.push_str(&format!("- {}\n", lit(f)));
        }
        m.push('\n');
    }
    if !r.fees.trim().is_empty() {
        m.push_str(&format!("== Gebühren\n\n{}\n\n", lit(&r.fees)));
    }
    m.push_str(&format!(
        "== Wie geht es weiter?\n\n{}\n",
        lit(&r.next_steps)
    ));
    m
}

/// What a Zahlungsbestätigung (confirmation of payment) shows.
#[derive(Debug, Clone, Default)]
pub struct PaymentReceipt {
    pub municipality: String,
    pub office: String,
    /// The application's reference (Aktenzeichen).
    pub reference: String,
    pub kassenzeichen: String,
    /// What was paid for (the service, or the office's fee request).
    pub purpose: String,
    /// German format, e.g. `26,00 EUR`.
    pub amount: String,
    /// Local time, already formatted.
    pub paid_at: String,
    /// The payment method as the provider named it.
    pub method: String,
    pub provider: String,
    pub transaction: String,
    pub date: NaiveDate,
}

fn payment_receipt_markup(r: &PaymentReceipt) -> String {
    let mut m = String::new();
    m.push_str(&format!(
        "#set document(title: {t}, author: {a})\n#set page(paper: \"a4\", margin: (x: 2.2cm, y: 2cm), footer: context align(right, text(size: 8pt)[{k} · Seite #counter(page).display()]))\n#set text(font: \"Libertinus Serif\", lang: \"de\", size: 10.5pt)\n",
        t = &lit(&format!("Zahlungsbestätigung {}", r.kassenzeichen))[1..],
        a = &lit(&r.municipality)[1..],
        k = lit(&r.kassenzeichen),
    ));
    m.push_str(&format!(
        "#text(size: 9pt)[{} · {}]\n\n= Zahlungsbestätigung\n\n",
        lit(&r.municipality),
        lit(&r.office)
    ));
    m.push_str("#table(columns: (auto, 1fr), stroke: none, column-gutter: 1.2em, inset: (x: 0pt, y: 3pt),\n");
    for (k, v) in [
        ("Betrag", &r.amount),
        ("Kassenzeichen", &r.kassenzeichen),
        ("Aktenzeichen", &r.reference),
        ("Verwendungszweck", &r.purpose),
        ("Bezahlt am", &r.paid_at),
        ("Zahlart", &r.method),
        ("Zahlungsanbieter", &r.provider),
        ("Transaktion", &r.transaction),
    ] {
        m.push_str(&format!("  [*{k}*], [{}],\n", lit(v)));
    }
    m.push_str(")\n\n");
    m.push_str(&format!(
        "{} bestätigt den Eingang der Zahlung. Bitte geben Sie bei Rückfragen das Kassenzeichen an. Diese Bestätigung wurde maschinell erstellt und ist ohne Unterschrift gültig.\n",
        lit(&r.municipality)
    ));
    m
}

/// The Zahlungsbestätigung as PDF/A-2b.
pub fn payment_receipt_pdf(r: &PaymentReceipt) -> Result<Vec<u8>, DocumentError> {
    render(payment_receipt_markup(r), r.date)
}

/// What a Bescheid shows. The body is the filled template (plain text;
/// paragraphs separated by blank lines).
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub municipality: String,
    pub office: String,
    pub reference: String,
    pub title: String,
    /// Recipient's name and address lines (may be empty).
    pub recipient: Vec<String>,
    pub body: String,
    pub clerk: String,
    pub date: NaiveDate,
}

fn decision_markup(d: &Decision) -> String {
    let mut m = String::new();
    m.push_str(&format!(
        "#set document(title: {t}, author: {a})\n#set page(paper: \"a4\", margin: (x: 2.2cm, y: 2cm), footer: context align(right, text(size: 8pt)[{re} · Seite #counter(page).display() von #counter(page).final().first()]))\n#set text(font: \"Libertinus Serif\", lang: \"de\", size: 11pt)\n#set par(justify: false)\n",
        t = &lit(&d.title)[1..],
        a = &lit(&d.municipality)[1..],
        re = lit(&d.reference),
    ));
    m.push_str(&format!(
        "#grid(columns: (1fr, auto), gutter: 1em,\n  [#text(size: 9pt)[{} · {}]\n\n",
        lit(&d.municipality),
        lit(&d.office)
    ));
    for line in &d.recipient {
        m.push_str(&format!("{} \\\n", lit(line)));
    }
    m.push_str(&format!(
        "],\n  table(columns: 2, stroke: none, inset: (x: 0pt, y: 2pt), column-gutter: 8pt,\n    [Aktenzeichen], [{}],\n    [Datum], [{}],\n    [Bearbeitet von], [{}],\n  ))\n\n#v(1.5em)\n= {}\n\n",
        lit(&d.reference),
        lit(&d.date.format("%d.%m.%Y").to_string()),
        lit(&d.clerk),
        lit(&d.title),
    ));
    for para in d.body.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<String> = para.lines().map(lit).collect();
        if lines.is_empty() {
            continue;
        }
        m.push_str(&lines.join(" \\\n"));
        m.push_str("\n\n");
    }
    m.push_str(&format!(
        "#v(1em)\n#text(size: 8.5pt)[Dieser Bescheid wurde elektronisch erstellt und ist ohne Unterschrift gültig. Er wurde Ihnen über das Postfach von {} bekannt gegeben.]\n",
        lit(&d.municipality)
    ));
    m
}

/// A Bescheid as PDF/A-2b.
pub fn decision_pdf(d: &Decision) -> Result<Vec<u8>, DocumentError> {
    render(decision_markup(d), d.date)
}

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(Library::default()))
}

/// One document to typeset: the main source only, embedded fonts, a fixed date.
struct Doc {
    source: Source,
    today: NaiveDate,
}

impl World for Doc {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }
    fn main(&self) -> FileId {
        self.source.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, _id: FileId) -> FileResult<Bytes> {
        Err(FileError::AccessDenied)
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Datetime::from_ymd(
            self.today.year(),
            self.today.month() as u8,
            self.today.day() as u8,
        )
    }
}

fn render(markup: String, today: NaiveDate) -> Result<Vec<u8>, DocumentError> {
    let world = Doc {
        source: Source::detached(markup),
        today,
    };
    let document: PagedDocument = typst::compile(&world).output.map_err(|errs| {
        DocumentError::Typeset(
            errs.iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let standards = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_2b])
        .map_err(|e| DocumentError::Pdf(e.message().to_string()))?;
    typst_pdf::pdf(
        &document,
        &typst_pdf::PdfOptions {
            standards,
            // PDF/A needs a document date; the day of the document, stable across renders.
            timestamp: Datetime::from_ymd_hms(
                today.year(),
                today.month() as u8,
                today.day() as u8,
                0,
                0,
                0,
            )
            .map(typst_pdf::Timestamp::new_utc),
            ..Default::default()
        },
    )
    .map_err(|errs| {
        DocumentError::Pdf(
            errs.iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// The confirmation of receipt as PDF/A-2b.
pub fn receipt_pdf(r: &Receipt) -> Result<Vec<u8>, DocumentError> {
    render(receipt_markup(r), r.date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            municipality: "Stadt Musterstadt".into(),
            office: "Steueramt".into(),
            reference: "MS-2026-000001".into(),
            form_title: "Hundesteuer-Anmeldung".into(),
            submitted_at: "22.11.2026, 10:15 Uhr".into(),
            sections: vec![(
                "Halterin oder Halter".into(),
                vec![
                    ("Familienname".into(), "Müller-Lüdenscheidt".into()),
                    // Markup and code from an applicant are shown, not run.
                    (
                        "Bemerkung".into(),
                        "#panic(\"x\") *fett* $x^2$ \\ \"zitiert\"\nzweite Zeile".into(),
                    ),
                ],
            )],
            files: vec!["Erlaubnis.pdf".into()],
            fees: "Die Anmeldung ist gebührenfrei.".into(),
            next_steps: "Das Steueramt prüft Ihren Antrag.".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        }
    }

    #[test]
    fn receipt_is_a_pdf_a_with_the_data() {
        let pdf = receipt_pdf(&receipt()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("pdfaid:part") && text.contains("<pdfaid:part>2</pdfaid:part>")
                || text.contains("pdfaid:part=\"2\""),
            "PDF/A-2 metadata"
        );
        assert!(
            text.contains("MS-2026-000001"),
            "the reference is in the metadata title"
        );
    }

    #[test]
    fn decision_is_a_pdf_a_and_text_stays_text() {
        let d = Decision {
            municipality: "Stadt Musterstadt".into(),
            office: "Ordnungsamt".into(),
            reference: "MS-2026-000002".into(),
            title: "Bescheid über Ihre Gewerbe-Anmeldung".into(),
            recipient: vec!["Max #Muster".into(), "Hauptstr. 1, 48143 Musterstadt".into()],
            body: "Sehr geehrter Herr Muster,\n\nIhrem Antrag wird *stattgegeben* #panic(\"x\").\nZeile 2\n\nMit freundlichen Grüßen".into(),
            clerk: "Sachbearbeitung".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        };
        let m = decision_markup(&d);
        assert!(m.contains("#\"Ihrem Antrag wird *stattgegeben* #panic(\\\"x\\\").\""));
        let pdf = decision_pdf(&d).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            String::from_utf8_lossy(&pdf).contains("pdfaid"),
            "PDF/A metadata"
        );
    }

    #[test]
    fn payment_receipt_is_a_pdf_a_and_values_stay_text() {
        let r = PaymentReceipt {
            municipality: "Stadt Musterstadt".into(),
            office: "Ordnungsamt".into(),
            reference: "MS-2026-000003".into(),
            kassenzeichen: "RH-2026-0000017".into(),
            purpose: "Gewerbe-Anmeldung #panic(\"x\")".into(),
            amount: "26,00 EUR".into(),
            paid_at: "30.11.2026, 10:15 Uhr".into(),
            method: "creditcard".into(),
            provider: "pmPayment".into(),
            transaction: "tx-1".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        let m = payment_receipt_markup(&r);
        assert!(
            m.contains("#\"Gewerbe-Anmeldung #panic(\\\"x\\\")\""),
            "{m}"
        );
        assert!(m.contains("[*Betrag*], [#\"26,00 EUR\"]"), "{m}");
        let pdf = payment_receipt_pdf(&r).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("pdfaid"), "PDF/A metadata");
        assert!(
            text.contains("RH-2026-0000017"),
            "the Kassenzeichen is in the title"
        );
    }

    #[test]
    fn characters_without_a_glyph_are_shown_as_question_marks() {
        let mut r = receipt();
        r.office = "Erika \u{4b877}\u{aa239} Müller Ωμέγα".into();
        let m = receipt_markup(&r);
        assert!(m.contains("Erika ?? Müller Ωμέγα"), "{m}");
        receipt_pdf(&r).unwrap();
    }

    #[test]
    fn applicant_text_cannot_inject_markup() {
        let m = receipt_markup(&receipt());
        assert!(
            m.contains("#\"#panic(\\\"x\\\") *fett* $x^2$ \\\\ \\\"zitiert\\\"\\nzweite Zeile\"")
        );
        // It typesets: the panic call is text, not code.
        receipt_pdf(&receipt()).unwrap();
    }
}
