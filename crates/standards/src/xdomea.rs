//! xdomea 3.0.0, the archive hand-over (Aussonderung, message group 05xx):
//! writes the offer list (Anbieteverzeichnis 0501) and the hand-over
//! (Aussonderung 0503, also as the ZIP container with the primary
//! documents), reads the archive's evaluation (Bewertungsverzeichnis 0502)
//! and the receipts 0504–0507.
//!
//! The schemas are vendored in `xsd/xdomea/` (see its README). Output is
//! valid against `xdomea-Nachrichten-AussonderungDurchfuehren.xsd` for every
//! [`Hand`] that passes [`Hand::check`] (the tests validate it with xmllint).
//! The readers check structure, not the whole schema (there is no XSD
//! validator at run time): root element and namespace, the Kopf, and every
//! element they take a value from; every problem is an [`XdomeaError`]
//! naming the message, element and line, never a panic.
//!
//! Process of an Aussonderung (xdomea 3): the authority sends 0501 (offer),
//! the archive answers 0504 (offer received, if asked for) and 0502
//! (evaluation: A = archive, V = destroy per object), the authority may
//! confirm the evaluation with 0505, sends the objects marked A as 0503, and
//! the archive answers 0507 (hand-over received, if asked for) and 0506
//! (import result per object, with the archive's identifier). All messages of
//! one process carry the same `Kopf/ProzessID`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{Cursor, Write as _};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use uuid::Uuid;

/// Namespace of xdomea 3.0.0 (prefix `xdomea`, required by the specification).
pub const NS: &str = "urn:xoev-de:xdomea:schema:3.0.0";
/// Largest message the readers accept (10 MiB).
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;
/// Most objects (BewertetesObjekt, AusgesondertesSGO) a message may carry.
pub const MAX_OBJECTS: usize = 100_000;

const LIST_NACHRICHTENTYP: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0");
const LIST_AUSSONDERUNGSART: (&str, &str) =
    ("urn:xoev-de:xdomea:codeliste:aussonderungsart", "1.0");
const LIST_BEWERTUNGSVORSCHLAG: (&str, &str) =
    ("urn:xoev-de:xdomea:codeliste:bewertungsvorschlag", "1.0");
const LIST_MEDIUM: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:medium", "1.0");
/// Dateiformat 1.0 is the version vendored with the schemas. (The lavnrw
/// sample says 2.0, a later list; the schema only requires some version.)
const LIST_DATEIFORMAT: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:dateiformat", "1.0");
const MEDIUM_ELECTRONIC: (&str, &str) = (
    "001",
    "Elektronisch: Das Schriftgutobjekt liegt ausschließlich in elektronischer Form vor.",
);

/// The codes of the Nachrichtentyp list 2.0 (the schema's enumeration).
const NACHRICHTENTYP_CODES: [&str; 63] = [
    "0101", "0102", "0201", "0202", "0301", "0302", "0401", "0402", "0403", "0501", "0502", "0503",
    "0504", "0505", "0506", "0507", "0511", "0512", "0513", "0514", "0515", "0601", "0602", "0603",
    "0604", "0605", "0606", "0607", "0608", "0609", "0610", "0611", "0612", "0613", "0614", "0615",
    "0616", "0617", "0618", "0619", "0620", "0621", "0622", "0623", "0624", "0625", "0626", "0627",
    "0628", "0629", "0630", "0631", "0632", "0701", "0702", "0703", "0711", "0712", "0713", "0721",
    "0722", "0723", "0724",
];

// ---------------------------------------------------------------------------
// Model

/// Sender or recipient (Kopf/Absender, Kopf/Empfaenger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Institution/Name.
    pub institution: String,
    /// Organisationseinheit/Name.
    pub org_unit: Option<String>,
}

/// Kopf/SendendesSystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingSystem {
    pub instance_id: Uuid,
    pub product: String,
    pub version: String,
}

/// Code lists Aussonderungsart (A, B, V) and Bewertungsvorschlag (A, V).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// A: archivwürdig.
    Archive,
    /// V: zum Vernichten.
    Destroy,
    /// B: zum Bewerten (only an Aussonderungsart, never a Bewertungsvorschlag
    /// nor an archive's evaluation).
    Evaluate,
}

impl Disposition {
    pub fn code(self) -> &'static str {
        match self {
            Disposition::Archive => "A",
            Disposition::Destroy => "V",
            Disposition::Evaluate => "B",
        }
    }

    pub fn from_code(code: &str) -> Option<Disposition> {
        match code {
            "A" => Some(Disposition::Archive),
            "V" => Some(Disposition::Destroy),
            "B" => Some(Disposition::Evaluate),
            _ => None,
        }
    }

    /// The label in the code lists.
    pub fn label(self) -> &'static str {
        match self {
            Disposition::Archive => "Das Schriftgutobjekt ist archivwürdig.",
            Disposition::Destroy => "Das Schriftgutobjekt ist zum Vernichten markiert.",
            Disposition::Evaluate => "Das Schriftgutobjekt ist zum Bewerten markiert.",
        }
    }
}

/// One hand-over process (ProzessID): the same data writes the 0501 and,
/// after the evaluation, the 0503 (with the files the archive marked A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hand {
    pub process_id: Uuid,
    /// Kopf/Erstellungszeitpunkt (written to the second).
    pub created_at: DateTime<Utc>,
    pub sender: Party,
    pub recipient: Party,
    pub system: SendingSystem,
    /// Kopf/Empfangsbestaetigung: ask for a 0504 (to a 0501) or 0507 (to a 0503).
    pub receipt_requested: bool,
    /// Kopf/RueckmeldungArchivkennung (0503 only): ask the archive to return
    /// its identifiers in the 0506.
    pub archive_ids_requested: bool,
    /// At least one (the schema requires a Schriftgutobjekt).
    pub files: Vec<RecordFile>,
}

/// One Vorgang, written as `Schriftgutobjekt/Vorgang`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFile {
    pub id: Uuid,
    /// AllgemeineMetadaten/Betreff.
    pub subject: String,
    /// AllgemeineMetadaten/Kennzeichen.
    pub file_number: String,
    /// AllgemeineMetadaten/Aktenplaneinheit/Kennzeichen.
    pub plan_code: String,
    /// AllgemeineMetadaten/Aktenplaneinheit/Inhaltsangabe.
    pub plan_title: String,
    /// AllgemeineMetadaten/Federfuehrung.
    pub lead_unit: String,
    /// Laufzeit/Beginn.
    pub began: NaiveDate,
    /// Laufzeit/Ende.
    pub ended: NaiveDate,
    /// ArchivspezifischeMetadaten/Aussonderungsart, and Bewertungsvorschlag
    /// when A or V (that list has no B).
    pub proposal: Disposition,
    /// ArchivspezifischeMetadaten/Aufbewahrungsdauer/AnzahlJahre
    /// (xs:unsignedShort in the schema).
    pub retention_years: u16,
    pub documents: Vec<Document>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: Uuid,
    /// Identifikation/NummerImUebergeordnetenContainer.
    pub number: u32,
    /// AllgemeineMetadaten/Betreff.
    pub subject: String,
    /// DatumDesSchreibens.
    pub date: NaiveDate,
    /// Bearbeiter.
    pub author: Option<String>,
    /// Written in the 0503 only (the 0501 carries no primary documents).
    pub versions: Vec<DocumentVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentVersion {
    /// Version/Nummer.
    pub number: u32,
    /// Primaerdokument/Dateiname: `<uuid>.<ext>` (the schema requires a
    /// leading UUID); also the name in the ZIP container.
    pub file_name: String,
    /// Gives Format/Name (see [`file_format`]); a PDF/A is
    /// `application/pdf` with a parameter naming the profile, e.g.
    /// `application/pdf; profile=PDF/A-2b`.
    pub mime: String,
    /// Primaerdokument/DatumUhrzeit.
    pub created_at: DateTime<Utc>,
}

/// The archive's evaluation (0502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub process_id: Uuid,
    /// (BewertetesObjekt/ID, Aussonderungsart A or V) in document order.
    pub items: Vec<(Uuid, Disposition)>,
    /// Kopf/Empfangsbestaetigung: the archive asks for a 0505.
    pub receipt_requested: bool,
    /// Things that do not stop the reading (a Nachrichtentyp code that does
    /// not match the root element), with their line.
    pub warnings: Vec<String>,
}

/// The receipts of the archive hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// 0504 Aussonderung.AnbietungEmpfangBestaetigen: the archive received the 0501.
    OfferReceived,
    /// 0505 Aussonderung.BewertungEmpfangBestaetigen: the authority received
    /// the 0502 (sent by the authority, read here for completeness).
    EvaluationReceived,
    /// 0506 Aussonderung.AussonderungImportBestaetigen: the archive's import
    /// result per object of the 0503.
    ImportConfirmed,
    /// 0507 Aussonderung.AussonderungEmpfangBestaetigen: the archive received the 0503.
    HandOverReceived,
}

impl ReceiptKind {
    pub fn message_type(self) -> MessageType {
        match self {
            ReceiptKind::OfferReceived => MessageType::OfferReceipt,
            ReceiptKind::EvaluationReceived => MessageType::EvaluationReceipt,
            ReceiptKind::ImportConfirmed => MessageType::ImportConfirmation,
            ReceiptKind::HandOverReceived => MessageType::HandOverReceipt,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub process_id: Uuid,
    pub kind: ReceiptKind,
    /// The AusgesondertesSGO of a 0506 (at least one); empty for 0504, 0505, 0507.
    pub items: Vec<ReceiptItem>,
    /// As in [`Evaluation::warnings`].
    pub warnings: Vec<String>,
}

/// One `AusgesondertesSGO` (ErfolgOderMisserfolgAussonderungType) of a 0506.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptItem {
    /// IDSGO.
    pub id: Uuid,
    /// Erfolgreich.
    pub success: bool,
    /// Archivkennung: the archive's identifier (when asked for and imported).
    pub archive_id: Option<String>,
    /// Fehlermeldung (free text, any number).
    pub messages: Vec<String>,
    /// FehlermeldungCode (any number).
    pub error_codes: Vec<ErrorCode>,
}

/// A code of some error code list (SonstigeFehlermeldungCodeType).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    pub list_uri: String,
    pub list_version: String,
    pub code: String,
    pub name: Option<String>,
}

/// The messages of the Aussonderung (Nachrichtentyp list 2.0, 0501–0507).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 0501 Aussonderung.Anbieteverzeichnis.
    Offer,
    /// 0502 Aussonderung.Bewertungsverzeichnis.
    Evaluation,
    /// 0503 Aussonderung.Aussonderung.
    HandOver,
    /// 0504 Aussonderung.AnbietungEmpfangBestaetigen.
    OfferReceipt,
    /// 0505 Aussonderung.BewertungEmpfangBestaetigen.
    EvaluationReceipt,
    /// 0506 Aussonderung.AussonderungImportBestaetigen.
    ImportConfirmation,
    /// 0507 Aussonderung.AussonderungEmpfangBestaetigen.
    HandOverReceipt,
}

impl MessageType {
    pub const ALL: [MessageType; 7] = [
        MessageType::Offer,
        MessageType::Evaluation,
        MessageType::HandOver,
        MessageType::OfferReceipt,
        MessageType::EvaluationReceipt,
        MessageType::ImportConfirmation,
        MessageType::HandOverReceipt,
    ];

    /// The code, e.g. "0503".
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Offer => "0501",
            MessageType::Evaluation => "0502",
            MessageType::HandOver => "0503",
            MessageType::OfferReceipt => "0504",
            MessageType::EvaluationReceipt => "0505",
            MessageType::ImportConfirmation => "0506",
            MessageType::HandOverReceipt => "0507",
        }
    }

    /// The name in the code list, e.g. "Aussonderung.Aussonderung".
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Offer => "Aussonderung.Anbieteverzeichnis",
            MessageType::Evaluation => "Aussonderung.Bewertungsverzeichnis",
            MessageType::HandOver => "Aussonderung.Aussonderung",
            MessageType::OfferReceipt => "Aussonderung.AnbietungEmpfangBestaetigen",
            MessageType::EvaluationReceipt => "Aussonderung.BewertungEmpfangBestaetigen",
            MessageType::ImportConfirmation => "Aussonderung.AussonderungImportBestaetigen",
            MessageType::HandOverReceipt => "Aussonderung.AussonderungEmpfangBestaetigen",
        }
    }

    /// The root element's local name, e.g. "Aussonderung.Aussonderung.0503".
    pub fn element(self) -> String {
        format!("{}.{}", self.name(), self.code())
    }

    pub fn from_code(code: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn from_element(local_name: &str) -> Option<MessageType> {
        MessageType::ALL
            .into_iter()
            .find(|m| m.element() == local_name)
    }
}

/// Name of the ZIP container: `<ProzessID>_Aussonderung.Aussonderung.0503.zip`.
pub fn package_name(process_id: Uuid, message: MessageType) -> String {
    format!("{process_id}_{}.zip", message.element())
}

/// Name of the message file: `<ProzessID>_Aussonderung.Aussonderung.0503.xml`.
pub fn message_file_name(process_id: Uuid, message: MessageType) -> String {
    format!("{process_id}_{}.xml", message.element())
}

// ---------------------------------------------------------------------------
// Errors

/// Everything that can go wrong reading or writing xdomea; the text names
/// the message, element and line, in German with the English in brackets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XdomeaError {
    #[error(
        "xdomea: Nachricht zu groß (message too large): {bytes} Bytes, höchstens (at most) {max}"
    )]
    TooLarge { bytes: usize, max: usize },
    #[error(
        "{message}: mehr als (more than) {max} Objekte <{element}> (objects), Zeile (line) {line}"
    )]
    TooManyObjects {
        message: String,
        element: String,
        max: usize,
        line: usize,
    },
    #[error(
        "{message}: kein wohlgeformtes XML (not well-formed XML), Zeile (line) {line}: {detail}"
    )]
    NotXml {
        message: String,
        line: usize,
        detail: String,
    },
    #[error("{message}: Element {element} {problem}, Zeile (line) {line}")]
    Invalid {
        message: String,
        element: String,
        line: usize,
        problem: String,
    },
    #[error("Aussonderung (hand-over): {0}")]
    Hand(String),
    #[error("Aussonderung (hand-over): Dateiname (file name) {file_name:?} {problem}")]
    BadFileName { file_name: String, problem: String },
    #[error(
        "0503: für (for) {file_name:?} fehlen die Bytes des Primärdokuments (no bytes given for this primary document)"
    )]
    MissingPrimary { file_name: String },
    #[error(
        "0503: Bytes für eine unbekannte Datei (bytes given for an unknown file) {file_name:?}: keine Version hat diesen Dateinamen (no version has this file name)"
    )]
    UnknownPrimary { file_name: String },
    #[error("0503: ZIP: {0}")]
    Zip(String),
}

// ---------------------------------------------------------------------------
// Writing

/// `s` with the characters XML 1.0 forbids (C0 controls other than tab, LF
/// and CR; U+FFFE, U+FFFF) replaced by U+FFFD. The writers put every text
/// through this; it is what a reader gets back.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Escaped text content: `&<>"'` as entities, CR as `&#13;` (a literal CR
/// would be turned into LF by every XML parser).
fn esc(s: &str) -> String {
    let safe = xml_safe(s);
    let escaped = quick_xml::escape::escape(safe.as_ref());
    if escaped.contains('\r') {
        escaped.replace('\r', "&#13;")
    } else {
        escaped.into_owned()
    }
}

fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn date_time(t: DateTime<Utc>) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(t.date_naive()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Indented output with the `xdomea` prefix on every element but the
/// unqualified `code` and `name` of code values.
struct Out {
    s: String,
    depth: usize,
}

impl Out {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.s.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.s.push_str(&format!("<xdomea:{name}>\n"));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.s.push_str(&format!("</xdomea:{name}>\n"));
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.s
            .push_str(&format!("<xdomea:{name}>{}</xdomea:{name}>\n", esc(text)));
    }

    fn code(&mut self, name: &str, list: (&str, &str), code: &str, label: Option<&str>) {
        self.indent();
        self.s.push_str(&format!(
            "<xdomea:{name} listURI=\"{}\" listVersionID=\"{}\">\n",
            list.0, list.1
        ));
        self.depth += 1;
        self.indent();
        self.s.push_str(&format!("<code>{}</code>\n", esc(code)));
        if let Some(label) = label {
            self.indent();
            self.s.push_str(&format!("<name>{}</name>\n", esc(label)));
        }
        self.close(name);
    }

    fn party(&mut self, name: &str, p: &Party) {
        self.open(name);
        self.open("Institution");
        self.leaf("Name", &p.institution);
        self.close("Institution");
        if let Some(ou) = &p.org_unit {
            self.open("Organisationseinheit");
            self.leaf("Name", ou);
            self.close("Organisationseinheit");
        }
        self.close(name);
    }
}

/// Format/Name, SonstigerName and Version of a primary document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFormat {
    /// Code of the Dateiformat list 1.0 ("100" = Sonstiges).
    pub code: &'static str,
    /// SonstigerName, for code 100.
    pub other_name: Option<String>,
    /// Format/Version (the PDF/A profile, else empty).
    pub version: String,
}

/// Dateiformat 1.0 by file extension (where the extension is unambiguous
/// enough; "doc" is the Windows Word document).
const FORMAT_BY_EXTENSION: [(&str, &str); 42] = [
    ("bmp", "001"),
    ("csv", "002"),
    ("doc", "003"),
    ("eml", "006"),
    ("htm", "007"),
    ("html", "008"),
    ("jpe", "009"),
    ("jpeg", "010"),
    ("jpg", "011"),
    ("msg", "012"),
    ("odp", "013"),
    ("ods", "014"),
    ("odt", "015"),
    ("otp", "016"),
    ("ots", "017"),
    ("pdf", "018"),
    ("png", "019"),
    ("ppt", "020"),
    ("ps", "021"),
    ("rtf", "022"),
    ("tif", "023"),
    ("tiff", "024"),
    ("wps", "025"),
    ("xlc", "026"),
    ("xlm", "027"),
    ("xls", "028"),
    ("xlw", "029"),
    ("xml", "030"),
    ("xsd", "031"),
    ("dot", "032"),
    ("pot", "033"),
    ("xlt", "034"),
    ("docx", "035"),
    ("xlsx", "036"),
    ("pptx", "037"),
    ("dotx", "038"),
    ("xltx", "039"),
    ("potx", "040"),
    ("dtd", "041"),
    ("mpp", "042"),
    ("ott", "043"),
    ("txt", "045"),
];

/// The Dateiformat code for a MIME type and file name: PDF 018, PDF/A 044
/// (`application/pdf` with a parameter value starting with "PDF/A", e.g.
/// `application/pdf; profile=PDF/A-2b`, or a parameter `pdfa=2b`), PNG 019, JPEG 010/011/009 (by
/// extension), TXT 045, XML 030; JSON is not in the list and becomes 100
/// (Sonstiges) with SonstigerName "json - JavaScript Object Notation". A
/// MIME type not among these (or `application/octet-stream`) falls back to
/// the extension; what neither knows is 100 with extension and MIME type as
/// SonstigerName.
pub fn file_format(mime: &str, file_name: &str) -> FileFormat {
    let mut parts = mime.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params: Vec<(String, String)> = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect();
    let squeeze = |s: &str| s.to_ascii_lowercase().replace(['/', '-', ' ', '_'], "");
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let known = |code: &'static str| FileFormat {
        code,
        other_name: None,
        version: String::new(),
    };
    let json = || FileFormat {
        code: "100",
        other_name: Some("json - JavaScript Object Notation".into()),
        version: String::new(),
    };
    match essence.as_str() {
        "application/pdf" => {
            // `profile=PDF/A-2b` or `pdfa=2b`.
            let profile = params.iter().find_map(|(k, v)| {
                if squeeze(v).starts_with("pdfa") {
                    Some(v.clone())
                } else if squeeze(k) == "pdfa" {
                    Some(format!("PDF/A-{v}"))
                } else {
                    None
                }
            });
            return match profile {
                Some(version) => FileFormat {
                    code: "044",
                    other_name: None,
                    version,
                },
                None => known("018"),
            };
        }
        "application/json" | "text/json" => return json(),
        "image/png" => return known("019"),
        "image/jpeg" | "image/jpg" | "image/pjpeg" => {
            return known(match ext.as_str() {
                "jpg" => "011",
                "jpe" => "009",
                _ => "010",
            });
        }
        "text/plain" => return known("045"),
        "application/xml" | "text/xml" => return known("030"),
        _ => {}
    }
    if ext == "json" {
        return json();
    }
    if let Some((_, code)) = FORMAT_BY_EXTENSION.iter().find(|(e, _)| *e == ext) {
        return known(code);
    }
    let other = match (ext.is_empty(), essence.is_empty()) {
        (false, false) => format!("{ext} - {essence}"),
        (false, true) => ext,
        (true, false) => essence,
        (true, true) => "unbekannt (unknown)".into(),
    };
    FileFormat {
        code: "100",
        other_name: Some(other),
        version: String::new(),
    }
}

impl Hand {
    /// Checks what the schema requires and the types cannot say: at least
    /// one file; unique object IDs; every version's file name starts with a
    /// UUID (the schema's pattern), has no line break, path separator or
    /// control character, and is used once (it is a name in the container).
    pub fn check(&self) -> Result<(), XdomeaError> {
        if self.files.is_empty() {
            return Err(XdomeaError::Hand(
                "kein Vorgang (no file): eine Nachricht braucht mindestens ein Schriftgutobjekt (a message needs at least one)".into(),
            ));
        }
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        let xml_name = message_file_name(self.process_id, MessageType::HandOver);
        for f in &self.files {
            if !ids.insert(f.id) {
                return Err(XdomeaError::Hand(format!(
                    "ID {} kommt mehrfach vor (is used more than once)",
                    f.id
                )));
            }
            for d in &f.documents {
                if !ids.insert(d.id) {
                    return Err(XdomeaError::Hand(format!(
                        "ID {} kommt mehrfach vor (is used more than once)",
                        d.id
                    )));
                }
                for v in &d.versions {
                    check_file_name(&v.file_name)?;
                    if v.file_name == xml_name {
                        return Err(XdomeaError::BadFileName {
                            file_name: v.file_name.clone(),
                            problem: "ist der Name der Nachricht (is the message's name)".into(),
                        });
                    }
                    if !names.insert(v.file_name.as_str()) {
                        return Err(XdomeaError::BadFileName {
                            file_name: v.file_name.clone(),
                            problem: "kommt mehrfach vor (is used more than once)".into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_file_name(name: &str) -> Result<(), XdomeaError> {
    let bad = |problem: &str| XdomeaError::BadFileName {
        file_name: name.to_string(),
        problem: problem.to_string(),
    };
    // 36 characters can only be the hyphenated form (8-4-4-4-12).
    if Uuid::try_parse(name.get(..36).unwrap_or("")).is_err() {
        return Err(bad(
            "beginnt nicht mit einer UUID (does not start with a UUID, e.g. <uuid>.pdf)",
        ));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(bad(
            "enthält Pfadtrenner oder Steuerzeichen (contains a path separator or control character)",
        ));
    }
    Ok(())
}

fn write_message(h: &Hand, kind: MessageType) -> String {
    let mut o = Out {
        s: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        depth: 0,
    };
    let root = kind.element();
    o.s.push_str(&format!("<xdomea:{root} xmlns:xdomea=\"{NS}\">\n"));
    o.depth = 1;
    o.open("Kopf");
    o.leaf("ProzessID", &h.process_id.to_string());
    o.code(
        "Nachrichtentyp",
        LIST_NACHRICHTENTYP,
        kind.code(),
        Some(kind.name()),
    );
    o.leaf("Erstellungszeitpunkt", &date_time(h.created_at));
    o.party("Absender", &h.sender);
    o.party("Empfaenger", &h.recipient);
    o.open("SendendesSystem");
    o.leaf("InstanzID", &h.system.instance_id.to_string());
    o.leaf("Produktname", &h.system.product);
    o.leaf("Version", &h.system.version);
    o.close("SendendesSystem");
    let flag = |b: bool| if b { "1" } else { "0" };
    if kind == MessageType::HandOver {
        o.leaf("Importbestaetigung", "1");
        o.leaf("RueckmeldungArchivkennung", flag(h.archive_ids_requested));
    }
    o.leaf("Empfangsbestaetigung", flag(h.receipt_requested));
    o.close("Kopf");
    for f in &h.files {
        o.open("Schriftgutobjekt");
        o.open("Vorgang");
        o.open("Identifikation");
        o.leaf("ID", &f.id.to_string());
        o.close("Identifikation");
        o.open("AllgemeineMetadaten");
        o.leaf("Betreff", &f.subject);
        o.leaf("Kennzeichen", &f.file_number);
        o.leaf("Federfuehrung", &f.lead_unit);
        o.code(
            "Medium",
            LIST_MEDIUM,
            MEDIUM_ELECTRONIC.0,
            Some(MEDIUM_ELECTRONIC.1),
        );
        o.open("Aktenplaneinheit");
        o.leaf("Kennzeichen", &f.plan_code);
        o.leaf("Inhaltsangabe", &f.plan_title);
        o.close("Aktenplaneinheit");
        o.close("AllgemeineMetadaten");
        o.open("ArchivspezifischeMetadaten");
        o.open("Aufbewahrungsdauer");
        o.leaf("AnzahlJahre", &f.retention_years.to_string());
        o.close("Aufbewahrungsdauer");
        o.open("Aussonderungsart");
        o.code(
            "Aussonderungsart",
            LIST_AUSSONDERUNGSART,
            f.proposal.code(),
            Some(f.proposal.label()),
        );
        o.close("Aussonderungsart");
        if f.proposal != Disposition::Evaluate {
            o.code(
                "Bewertungsvorschlag",
                LIST_BEWERTUNGSVORSCHLAG,
                f.proposal.code(),
                Some(f.proposal.label()),
            );
        }
        o.close("ArchivspezifischeMetadaten");
        o.open("Laufzeit");
        o.leaf("Beginn", &date(f.began));
        o.leaf("Ende", &date(f.ended));
        o.close("Laufzeit");
        for d in &f.documents {
            o.open("Dokument");
            o.open("Identifikation");
            o.leaf("ID", &d.id.to_string());
            o.leaf("NummerImUebergeordnetenContainer", &d.number.to_string());
            o.close("Identifikation");
            o.open("AllgemeineMetadaten");
            o.leaf("Betreff", &d.subject);
            o.code(
                "Medium",
                LIST_MEDIUM,
                MEDIUM_ELECTRONIC.0,
                Some(MEDIUM_ELECTRONIC.1),
            );
            o.close("AllgemeineMetadaten");
            o.leaf("DatumDesSchreibens", &date(d.date));
            if let Some(author) = &d.author {
                o.leaf("Bearbeiter", author);
            }
            if kind == MessageType::HandOver {
                for v in &d.versions {
                    let format = file_format(&v.mime, &v.file_name);
                    o.open("Version");
                    o.leaf("Nummer", &v.number.to_string());
                    o.open("Format");
                    // DateiformatCodeType allows no <name>.
                    o.code("Name", LIST_DATEIFORMAT, format.code, None);
                    if let Some(other) = &format.other_name {
                        o.leaf("SonstigerName", other);
                    }
                    o.leaf("Version", &format.version);
                    o.open("Primaerdokument");
                    o.leaf("Dateiname", &v.file_name);
                    o.leaf("DatumUhrzeit", &date_time(v.created_at));
                    o.close("Primaerdokument");
                    o.close("Format");
                    o.close("Version");
                }
            }
            o.close("Dokument");
        }
        o.close("Vorgang");
        o.close("Schriftgutobjekt");
    }
    o.depth = 0;
    o.s.push_str(&format!("</xdomea:{root}>\n"));
    o.s
}

/// Aussonderung.Anbieteverzeichnis.0501: the files offered, with their
/// metadata for the evaluation (documents without versions: no primary
/// documents). Valid when `h.check()` passes.
pub fn write_0501(h: &Hand) -> String {
    write_message(h, MessageType::Offer)
}

/// Aussonderung.Aussonderung.0503: the files handed over with documents,
/// versions and the primary documents' names. Valid when `h.check()` passes.
pub fn write_0503(h: &Hand) -> String {
    write_message(h, MessageType::HandOver)
}

/// The 0503 container: `<ProzessID>_Aussonderung.Aussonderung.0503.xml`
/// first, then every primary document under its file name, in the order of
/// the message. `primary` must hold the bytes of every version's file name,
/// once, and nothing else. Deterministic (timestamps are `h.created_at`).
pub fn write_0503_zip(h: &Hand, primary: &[(String, Vec<u8>)]) -> Result<Vec<u8>, XdomeaError> {
    h.check()?;
    let mut given: std::collections::HashMap<&str, &[u8]> = std::collections::HashMap::new();
    for (name, bytes) in primary {
        if given.insert(name.as_str(), bytes.as_slice()).is_some() {
            return Err(XdomeaError::BadFileName {
                file_name: name.clone(),
                problem: "wurde mehrfach übergeben (was given more than once)".into(),
            });
        }
    }
    let mut entries: Vec<(&str, &[u8])> = Vec::new();
    for v in h
        .files
        .iter()
        .flat_map(|f| &f.documents)
        .flat_map(|d| &d.versions)
    {
        let bytes =
            given
                .remove(v.file_name.as_str())
                .ok_or_else(|| XdomeaError::MissingPrimary {
                    file_name: v.file_name.clone(),
                })?;
        entries.push((v.file_name.as_str(), bytes));
    }
    if let Some((name, _)) = primary.iter().find(|(n, _)| given.contains_key(n.as_str())) {
        return Err(XdomeaError::UnknownPrimary {
            file_name: name.clone(),
        });
    }
    let t = h.created_at;
    let mtime = zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(0),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(mtime)
        .unix_permissions(0o644);
    let zip_err = |e: &dyn std::fmt::Display| XdomeaError::Zip(e.to_string());
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let xml = write_0503(h);
    z.start_file(
        message_file_name(h.process_id, MessageType::HandOver),
        options,
    )
    .map_err(|e| zip_err(&e))?;
    z.write_all(xml.as_bytes()).map_err(|e| zip_err(&e))?;
    for (name, bytes) in entries {
        let large = bytes.len() as u64 >= u64::from(u32::MAX);
        z.start_file(name, options.large_file(large))
            .map_err(|e| zip_err(&e))?;
        z.write_all(bytes).map_err(|e| zip_err(&e))?;
    }
    Ok(z.finish().map_err(|e| zip_err(&e))?.into_inner())
}

// ---------------------------------------------------------------------------
// Reading: a streaming walk (memory stays small for the 10 MiB and 100,000
// objects the readers allow), handing every element's path to the reader.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ns {
    Xdomea,
    None,
    Other(String),
}

struct El {
    name: String,
    ns: Ns,
    line: usize,
    attrs: Vec<(String, String)>,
    /// Text of an element without child elements.
    text: String,
    has_children: bool,
}

enum Step<'a> {
    Open(&'a [El]),
    Close(&'a [El]),
}

/// Line numbers for increasing byte positions without rescanning.
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        if pos < self.pos {
            return self.src[..pos].iter().filter(|b| **b == b'\n').count() + 1;
        }
        self.line += self.src[self.pos..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = pos;
        self.line
    }
}

/// The readers' limits ([`MAX_INPUT_BYTES`], [`MAX_OBJECTS`]; smaller in
/// the unit tests: 100,000 objects do not fit in 10 MiB).
#[derive(Clone, Copy)]
struct Limits {
    bytes: usize,
    objects: usize,
}

const LIMITS: Limits = Limits {
    bytes: MAX_INPUT_BYTES,
    objects: MAX_OBJECTS,
};

fn walk(
    src: &str,
    message: &str,
    limits: Limits,
    mut visit: impl FnMut(Step<'_>) -> Result<(), XdomeaError>,
) -> Result<(), XdomeaError> {
    if src.len() > limits.bytes {
        return Err(XdomeaError::TooLarge {
            bytes: src.len(),
            max: limits.bytes,
        });
    }
    let not_xml = |line: usize, detail: String| XdomeaError::NotXml {
        message: message.to_string(),
        line,
        detail,
    };
    let mut reader = NsReader::from_str(src);
    reader.config_mut().trim_text(false);
    let mut lines = Lines {
        src: src.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut stack: Vec<El> = Vec::new();
    let mut had_root = false;
    loop {
        let line = lines.at(reader.buffer_position() as usize);
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                let line = lines.at(reader.error_position() as usize);
                return Err(not_xml(line, e.to_string()));
            }
        };
        let open = |resolved: &ResolveResult, e: &BytesStart<'_>| -> Result<El, XdomeaError> {
            let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            let ns = match resolved {
                ResolveResult::Bound(ns) if ns.as_ref() == NS.as_bytes() => Ns::Xdomea,
                ResolveResult::Bound(ns) => Ns::Other(String::from_utf8_lossy(ns.as_ref()).into()),
                ResolveResult::Unbound => Ns::None,
                ResolveResult::Unknown(p) => {
                    return Err(not_xml(
                        line,
                        format!(
                            "<{name}>: Namensraum-Präfix (namespace prefix) {:?} ist nicht deklariert (is not declared)",
                            String::from_utf8_lossy(p)
                        ),
                    ));
                }
            };
            let mut attrs = Vec::new();
            for a in e.attributes() {
                let a = a.map_err(|err| not_xml(line, format!("<{name}>: {err}")))?;
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                if key == "xmlns" || key.starts_with("xmlns:") {
                    continue;
                }
                let value = a
                    .unescape_value()
                    .map_err(|err| not_xml(line, format!("<{name}>: {err}")))?
                    .into_owned();
                attrs.push((key, value));
            }
            Ok(El {
                name,
                ns,
                line,
                attrs,
                text: String::new(),
                has_children: false,
            })
        };
        let mut push = |el: El, stack: &mut Vec<El>| -> Result<(), XdomeaError> {
            if stack.is_empty() {
                if had_root {
                    return Err(not_xml(
                        line,
                        "mehr als ein Wurzelelement (more than one root element)".into(),
                    ));
                }
                had_root = true;
            }
            if stack.len() >= crate::xml::MAX_DEPTH {
                return Err(not_xml(
                    line,
                    format!(
                        "mehr als (more than) {} Ebenen verschachtelt (levels of nesting)",
                        crate::xml::MAX_DEPTH
                    ),
                ));
            }
            if let Some(parent) = stack.last_mut() {
                parent.has_children = true;
                parent.text.clear();
            }
            stack.push(el);
            visit(Step::Open(stack))
        };
        match event {
            Event::Start(e) => {
                let el = open(&resolved, &e)?;
                push(el, &mut stack)?;
            }
            Event::Empty(e) => {
                let el = open(&resolved, &e)?;
                push(el, &mut stack)?;
                visit(Step::Close(&stack))?;
                stack.pop();
            }
            Event::End(_) => {
                if stack.is_empty() {
                    return Err(not_xml(
                        line,
                        "End-Tag ohne Start-Tag (end tag without a start tag)".into(),
                    ));
                }
                visit(Step::Close(&stack))?;
                stack.pop();
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| not_xml(line, format!("Text: {e}")))?;
                match stack.last_mut() {
                    Some(top) if !top.has_children => top.text.push_str(&text),
                    Some(_) => {}
                    None if text.trim().is_empty() => {}
                    None => {
                        return Err(not_xml(
                            line,
                            "Text außerhalb des Wurzelelements (text outside the root element)"
                                .into(),
                        ));
                    }
                }
            }
            Event::CData(t) => {
                let text = std::str::from_utf8(&t)
                    .map_err(|e| not_xml(line, format!("CDATA: {e}")))?
                    .to_string();
                match stack.last_mut() {
                    Some(top) if !top.has_children => top.text.push_str(&text),
                    Some(_) => {}
                    None => {
                        return Err(not_xml(
                            line,
                            "CDATA außerhalb des Wurzelelements (CDATA outside the root element)"
                                .into(),
                        ));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(not_xml(
                    line,
                    "DOCTYPE-Deklarationen werden nicht angenommen (DOCTYPE declarations are not accepted); xdomea braucht keine (xdomea needs none)".into(),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(not_xml(
            lines.at(src.len()),
            format!(
                "Dokument endet innerhalb von <{}> (document ends inside an element)",
                open.name
            ),
        ));
    }
    if !had_root {
        return Err(not_xml(
            lines.at(src.len()),
            "kein Wurzelelement, leeres Dokument (no root element, empty document)".into(),
        ));
    }
    Ok(())
}

/// "BewertetesObjekt/ID" for the path below the root.
fn path_name(path: &[El]) -> String {
    path.iter()
        .skip(1)
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

fn invalid(message: &str, path: &[El], line: usize, problem: impl Into<String>) -> XdomeaError {
    XdomeaError::Invalid {
        message: message.to_string(),
        element: path_name(path),
        line,
        problem: problem.into(),
    }
}

/// Whether `path` (below the root) is `names`. Elements named `code` and
/// `name` (the parts of a code value) are unqualified, all others in the
/// xdomea namespace; a matching name in another namespace is an error.
fn at(message: &str, path: &[El], names: &[&str]) -> Result<bool, XdomeaError> {
    if path.len() != names.len() + 1 || !path[1..].iter().zip(names).all(|(e, n)| e.name == *n) {
        return Ok(false);
    }
    for (i, e) in path.iter().enumerate().skip(1) {
        let expected = if e.name == "code" || e.name == "name" {
            Ns::None
        } else {
            Ns::Xdomea
        };
        if e.ns != expected {
            let found = match &e.ns {
                Ns::Xdomea => NS.to_string(),
                Ns::None => "kein (none)".to_string(),
                Ns::Other(ns) => ns.clone(),
            };
            let wanted = if expected == Ns::None {
                "kein (none)"
            } else {
                NS
            };
            return Err(invalid(
                message,
                &path[..=i],
                e.line,
                format!(
                    "ist im falschen Namensraum (is in the wrong namespace) {found}, erwartet (expected) {wanted}"
                ),
            ));
        }
    }
    Ok(true)
}

fn parse_uuid(message: &str, path: &[El]) -> Result<Uuid, XdomeaError> {
    let el = path.last().expect("a path has its element");
    let text = el.text.trim();
    if text.is_empty() {
        return Err(invalid(message, path, el.line, "ist leer (is empty)"));
    }
    match Uuid::try_parse(text) {
        Ok(id) if text.len() == 36 => Ok(id),
        _ => Err(invalid(
            message,
            path,
            el.line,
            format!(
                "ist keine UUID (is not a UUID, expected 8-4-4-4-12 hex digits): {:?}",
                text.chars().take(80).collect::<String>()
            ),
        )),
    }
}

fn parse_bool(message: &str, path: &[El]) -> Result<bool, XdomeaError> {
    let el = path.last().expect("a path has its element");
    match el.text.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(invalid(
            message,
            path,
            el.line,
            format!(
                "ist kein Wahrheitswert (is not a boolean, expected 1, 0, true or false): {:?}",
                other.chars().take(80).collect::<String>()
            ),
        )),
    }
}

fn once<T>(slot: &mut Option<T>, value: T, message: &str, path: &[El]) -> Result<(), XdomeaError> {
    if slot.is_some() {
        let line = path.last().map_or(0, |e| e.line);
        return Err(invalid(
            message,
            path,
            line,
            "kommt mehrfach vor (occurs more than once)",
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// The message's root element: its namespace and which message it is.
fn root_kind(
    message: &str,
    root: &El,
    allowed: &[MessageType],
) -> Result<MessageType, XdomeaError> {
    let expected = allowed
        .iter()
        .map(|m| format!("xdomea:{}", m.element()))
        .collect::<Vec<_>>()
        .join(", ");
    let wrong = |problem: String| XdomeaError::Invalid {
        message: message.to_string(),
        element: root.name.clone(),
        line: root.line,
        problem,
    };
    if root.ns != Ns::Xdomea {
        let found = match &root.ns {
            Ns::Other(ns) => ns.clone(),
            _ => "kein (none)".into(),
        };
        return Err(wrong(format!(
            "(Wurzelelement, root element) ist im Namensraum (is in the namespace) {found}, erwartet (expected) {NS}"
        )));
    }
    MessageType::from_element(&root.name)
        .filter(|m| allowed.contains(m))
        .ok_or_else(|| {
            wrong(format!(
                "ist das falsche Wurzelelement (is the wrong root element), erwartet (expected) {expected}"
            ))
        })
}

/// The Kopf: ProzessID, Nachrichtentyp/code, Empfangsbestaetigung.
#[derive(Default)]
struct Head {
    seen: bool,
    process_id: Option<Uuid>,
    code: Option<(String, usize)>,
    receipt: Option<bool>,
}

impl Head {
    /// Takes the step if it is in the Kopf.
    fn visit(&mut self, message: &str, step: &Step<'_>) -> Result<bool, XdomeaError> {
        let (path, open) = match step {
            Step::Open(p) => (*p, true),
            Step::Close(p) => (*p, false),
        };
        if path.len() < 2 || path[1].name != "Kopf" {
            return Ok(false);
        }
        let el = path.last().expect("a path has its element");
        if at(message, path, &["Kopf"])? {
            if open {
                if self.seen {
                    return Err(invalid(
                        message,
                        path,
                        el.line,
                        "kommt mehrfach vor (occurs more than once)",
                    ));
                }
                self.seen = true;
            } else {
                let missing = |what: &str| XdomeaError::Invalid {
                    message: message.to_string(),
                    element: format!("Kopf/{what}"),
                    line: el.line,
                    problem: "fehlt (missing)".into(),
                };
                if self.process_id.is_none() {
                    return Err(missing("ProzessID"));
                }
                if self.code.is_none() {
                    return Err(missing("Nachrichtentyp/code"));
                }
            }
        } else if !open && at(message, path, &["Kopf", "ProzessID"])? {
            let id = parse_uuid(message, path)?;
            once(&mut self.process_id, id, message, path)?;
        } else if !open && at(message, path, &["Kopf", "Nachrichtentyp", "code"])? {
            let code = el.text.trim().to_string();
            if !NACHRICHTENTYP_CODES.contains(&code.as_str()) {
                return Err(invalid(
                    message,
                    path,
                    el.line,
                    format!(
                        "ist kein Code der Liste Nachrichtentyp 2.0 (is not a code of the list): {:?}",
                        code.chars().take(80).collect::<String>()
                    ),
                ));
            }
            once(&mut self.code, (code, el.line), message, path)?;
        } else if !open && at(message, path, &["Kopf", "Empfangsbestaetigung"])? {
            let b = parse_bool(message, path)?;
            once(&mut self.receipt, b, message, path)?;
        }
        Ok(true)
    }

    /// At the root's end: the Kopf was there; a code other than the root's
    /// is a warning (see [`read_0502`]).
    fn finish(
        &self,
        message: &str,
        root: &El,
        kind: MessageType,
        warnings: &mut Vec<String>,
    ) -> Result<Uuid, XdomeaError> {
        let (Some(id), Some((code, line))) = (self.process_id, &self.code) else {
            return Err(XdomeaError::Invalid {
                message: message.to_string(),
                element: "Kopf".into(),
                line: root.line,
                problem: "fehlt (missing)".into(),
            });
        };
        if code != kind.code() {
            warnings.push(format!(
                "Zeile (line) {line}: Kopf/Nachrichtentyp hat den Code (has the code) {code}, das Wurzelelement ist aber (but the root element is) {}; es gilt das Wurzelelement (the root element counts)",
                kind.element()
            ));
        }
        Ok(id)
    }
}

/// Reads an Aussonderung.Bewertungsverzeichnis.0502: the ProzessID and, per
/// BewertetesObjekt, its ID (UUID, once in the message) and Aussonderungsart
/// A or V (B, or an AussonderungsartKonfigurierbar, is an error naming the
/// object: an evaluation must decide).
///
/// Nachrichtentyp: the code in the Kopf must be a code of the list, but one
/// other than 0502 is accepted with a warning, the root element decides.
/// The toolkit's own valid template carries 0503 there; the schema does not
/// tie the code to the root, and refusing a valid evaluation for a redundant
/// field would stall the archive's process.
pub fn read_0502(xml: &str) -> Result<Evaluation, XdomeaError> {
    read_0502_limited(xml, LIMITS)
}

fn read_0502_limited(xml: &str, limits: Limits) -> Result<Evaluation, XdomeaError> {
    const M: &str = "0502";
    struct Obj {
        line: usize,
        id: Option<Uuid>,
        code: Option<(String, usize)>,
        configurable: Option<usize>,
    }
    let mut head = Head::default();
    let mut items: Vec<(Uuid, Disposition)> = Vec::new();
    let mut seen = HashSet::new();
    let mut count = 0usize;
    let mut current: Option<Obj> = None;
    let mut warnings = Vec::new();
    let mut process_id = None;
    walk(xml, M, limits, |step| {
        if head.visit(M, &step)? {
            return Ok(());
        }
        match step {
            Step::Open(path) => {
                let el = path.last().expect("a path has its element");
                if path.len() == 1 {
                    root_kind(M, el, &[MessageType::Evaluation])?;
                } else if path.len() == 2 {
                    if !at(M, path, &["BewertetesObjekt"])? {
                        return Err(invalid(
                            M,
                            path,
                            el.line,
                            "ist hier nicht erlaubt (is not allowed here), erwartet (expected) Kopf oder (or) BewertetesObjekt",
                        ));
                    }
                    count += 1;
                    if count > limits.objects {
                        return Err(XdomeaError::TooManyObjects {
                            message: M.into(),
                            element: "BewertetesObjekt".into(),
                            max: limits.objects,
                            line: el.line,
                        });
                    }
                    current = Some(Obj {
                        line: el.line,
                        id: None,
                        code: None,
                        configurable: None,
                    });
                }
            }
            Step::Close(path) => {
                let el = path.last().expect("a path has its element");
                if path.len() == 1 {
                    process_id =
                        Some(head.finish(M, el, MessageType::Evaluation, &mut warnings)?);
                    if items.is_empty() {
                        return Err(XdomeaError::Invalid {
                            message: M.into(),
                            element: "BewertetesObjekt".into(),
                            line: el.line,
                            problem: "fehlt (missing): mindestens eines (at least one)".into(),
                        });
                    }
                } else if let Some(obj) = current.as_mut() {
                    if at(M, path, &["BewertetesObjekt", "ID"])? {
                        let id = parse_uuid(M, path)?;
                        once(&mut obj.id, id, M, path)?;
                    } else if at(
                        M,
                        path,
                        &[
                            "BewertetesObjekt",
                            "Aussonderungsart",
                            "Aussonderungsart",
                            "code",
                        ],
                    )? {
                        once(
                            &mut obj.code,
                            (el.text.trim().to_string(), el.line),
                            M,
                            path,
                        )?;
                    } else if at(
                        M,
                        path,
                        &[
                            "BewertetesObjekt",
                            "Aussonderungsart",
                            "AussonderungsartKonfigurierbar",
                        ],
                    )? {
                        obj.configurable = Some(el.line);
                    } else if at(M, path, &["BewertetesObjekt"])? {
                        let obj = current.take().expect("inside an object");
                        let id = obj.id.ok_or_else(|| XdomeaError::Invalid {
                            message: M.into(),
                            element: "BewertetesObjekt/ID".into(),
                            line: obj.line,
                            problem: "fehlt (missing)".into(),
                        })?;
                        let (code, line) = match (obj.code, obj.configurable) {
                            (Some(c), _) => c,
                            (None, Some(line)) => {
                                return Err(XdomeaError::Invalid {
                                    message: M.into(),
                                    element: "BewertetesObjekt/Aussonderungsart/AussonderungsartKonfigurierbar".into(),
                                    line,
                                    problem: format!(
                                        "(Objekt, object {id}) wird nicht unterstützt (is not supported): erwartet (expected) Aussonderungsart mit Code (code) A oder (or) V"
                                    ),
                                });
                            }
                            (None, None) => {
                                return Err(XdomeaError::Invalid {
                                    message: M.into(),
                                    element:
                                        "BewertetesObjekt/Aussonderungsart/Aussonderungsart/code"
                                            .into(),
                                    line: obj.line,
                                    problem: format!("(Objekt, object {id}) fehlt (missing)"),
                                });
                            }
                        };
                        let disposition = match Disposition::from_code(&code) {
                            Some(d @ (Disposition::Archive | Disposition::Destroy)) => d,
                            Some(Disposition::Evaluate) => {
                                return Err(XdomeaError::Invalid {
                                    message: M.into(),
                                    element:
                                        "BewertetesObjekt/Aussonderungsart/Aussonderungsart/code"
                                            .into(),
                                    line,
                                    problem: format!(
                                        "(Objekt, object {id}) ist B (zum Bewerten, to be evaluated): eine Bewertung muss A oder V sein (an evaluation must be A or V)"
                                    ),
                                });
                            }
                            None => {
                                return Err(XdomeaError::Invalid {
                                    message: M.into(),
                                    element:
                                        "BewertetesObjekt/Aussonderungsart/Aussonderungsart/code"
                                            .into(),
                                    line,
                                    problem: format!(
                                        "(Objekt, object {id}) ist kein Code der Aussonderungsart (is not an Aussonderungsart code; expected A or V): {:?}",
                                        code.chars().take(80).collect::<String>()
                                    ),
                                });
                            }
                        };
                        if !seen.insert(id) {
                            return Err(XdomeaError::Invalid {
                                message: M.into(),
                                element: "BewertetesObjekt/ID".into(),
                                line: obj.line,
                                problem: format!("{id} kommt mehrfach vor (occurs more than once)"),
                            });
                        }
                        items.push((id, disposition));
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(Evaluation {
        process_id: process_id.expect("set at the root's end"),
        items,
        receipt_requested: head.receipt.unwrap_or(false),
        warnings,
    })
}

/// Reads a receipt: 0504 (offer received), 0505 (evaluation received), 0507
/// (hand-over received), which carry only the Kopf, or 0506 (import result:
/// per AusgesondertesSGO the object's IDSGO, Erfolgreich, Fehlermeldung /
/// FehlermeldungCode and Archivkennung). The Nachrichtentyp code is handled
/// as in [`read_0502`] (the toolkit's 0504 template carries 0501).
pub fn read_receipt(xml: &str) -> Result<Receipt, XdomeaError> {
    read_receipt_limited(xml, LIMITS)
}

fn read_receipt_limited(xml: &str, limits: Limits) -> Result<Receipt, XdomeaError> {
    const ALLOWED: [MessageType; 4] = [
        MessageType::OfferReceipt,
        MessageType::EvaluationReceipt,
        MessageType::ImportConfirmation,
        MessageType::HandOverReceipt,
    ];
    struct Item {
        line: usize,
        id: Option<Uuid>,
        success: Option<bool>,
        archive_id: Option<String>,
        messages: Vec<String>,
        error_codes: Vec<ErrorCode>,
        code: Option<(String, Option<String>)>,
    }
    let mut message = String::from("0504–0507");
    let mut kind = None;
    let mut head = Head::default();
    let mut items: Vec<ReceiptItem> = Vec::new();
    let mut current: Option<Item> = None;
    let mut count = 0usize;
    let mut warnings = Vec::new();
    let mut process_id = None;
    walk(xml, "0504–0507", limits, |step| {
        let m = message.as_str();
        if head.visit(m, &step)? {
            return Ok(());
        }
        match step {
            Step::Open(path) => {
                let el = path.last().expect("a path has its element");
                if path.len() == 1 {
                    let k = root_kind(m, el, &ALLOWED)?;
                    kind = Some(k);
                    message = k.code().to_string();
                } else if path.len() == 2 {
                    let is_item = kind == Some(MessageType::ImportConfirmation)
                        && at(m, path, &["AusgesondertesSGO"])?;
                    if !is_item {
                        let expected = if kind == Some(MessageType::ImportConfirmation) {
                            "Kopf oder (or) AusgesondertesSGO"
                        } else {
                            "nur (only) Kopf"
                        };
                        return Err(invalid(
                            m,
                            path,
                            el.line,
                            format!(
                                "ist hier nicht erlaubt (is not allowed here), erwartet (expected) {expected}"
                            ),
                        ));
                    }
                    count += 1;
                    if count > limits.objects {
                        return Err(XdomeaError::TooManyObjects {
                            message: m.into(),
                            element: "AusgesondertesSGO".into(),
                            max: limits.objects,
                            line: el.line,
                        });
                    }
                    current = Some(Item {
                        line: el.line,
                        id: None,
                        success: None,
                        archive_id: None,
                        messages: Vec::new(),
                        error_codes: Vec::new(),
                        code: None,
                    });
                }
            }
            Step::Close(path) => {
                let el = path.last().expect("a path has its element");
                if path.len() == 1 {
                    let k = kind.expect("set at the root's start");
                    process_id = Some(head.finish(m, el, k, &mut warnings)?);
                    if k == MessageType::ImportConfirmation && items.is_empty() {
                        return Err(XdomeaError::Invalid {
                            message: m.into(),
                            element: "AusgesondertesSGO".into(),
                            line: el.line,
                            problem: "fehlt (missing): mindestens eines (at least one)".into(),
                        });
                    }
                } else if let Some(item) = current.as_mut() {
                    if at(m, path, &["AusgesondertesSGO", "IDSGO"])? {
                        let id = parse_uuid(m, path)?;
                        once(&mut item.id, id, m, path)?;
                    } else if at(m, path, &["AusgesondertesSGO", "Erfolgreich"])? {
                        let b = parse_bool(m, path)?;
                        once(&mut item.success, b, m, path)?;
                    } else if at(m, path, &["AusgesondertesSGO", "Archivkennung"])? {
                        once(&mut item.archive_id, el.text.clone(), m, path)?;
                    } else if at(m, path, &["AusgesondertesSGO", "Fehlermeldung"])? {
                        item.messages.push(el.text.clone());
                    } else if at(m, path, &["AusgesondertesSGO", "FehlermeldungCode", "code"])? {
                        let code = el.text.trim().to_string();
                        if code.is_empty() {
                            return Err(invalid(m, path, el.line, "ist leer (is empty)"));
                        }
                        let slot = item.code.get_or_insert((String::new(), None));
                        if !slot.0.is_empty() {
                            return Err(invalid(
                                m,
                                path,
                                el.line,
                                "kommt mehrfach vor (occurs more than once)",
                            ));
                        }
                        slot.0 = code;
                    } else if at(m, path, &["AusgesondertesSGO", "FehlermeldungCode", "name"])? {
                        let slot = item.code.get_or_insert((String::new(), None));
                        once(&mut slot.1, el.text.trim().to_string(), m, path)?;
                    } else if at(m, path, &["AusgesondertesSGO", "FehlermeldungCode"])? {
                        let (code, name) = item.code.take().unwrap_or_default();
                        if code.is_empty() {
                            return Err(XdomeaError::Invalid {
                                message: m.into(),
                                element: "AusgesondertesSGO/FehlermeldungCode/code".into(),
                                line: el.line,
                                problem: "fehlt (missing)".into(),
                            });
                        }
                        let attr = |key: &str| {
                            el.attrs
                                .iter()
                                .find(|(k, _)| k == key)
                                .map(|(_, v)| v.clone())
                                .ok_or_else(|| {
                                    invalid(
                                        m,
                                        path,
                                        el.line,
                                        format!("hat kein Attribut (has no attribute) {key}"),
                                    )
                                })
                        };
                        item.error_codes.push(ErrorCode {
                            list_uri: attr("listURI")?,
                            list_version: attr("listVersionID")?,
                            code,
                            name,
                        });
                    } else if at(m, path, &["AusgesondertesSGO"])? {
                        let item = current.take().expect("inside an item");
                        let missing = |what: &str| XdomeaError::Invalid {
                            message: m.into(),
                            element: format!("AusgesondertesSGO/{what}"),
                            line: item.line,
                            problem: "fehlt (missing)".into(),
                        };
                        let id = item.id.ok_or_else(|| missing("IDSGO"))?;
                        let success = item.success.ok_or_else(|| missing("Erfolgreich"))?;
                        items.push(ReceiptItem {
                            id,
                            success,
                            archive_id: item.archive_id,
                            messages: item.messages,
                            error_codes: item.error_codes,
                        });
                    }
                }
            }
        }
        Ok(())
    })?;
    let kind = match kind.expect("a read message has a root") {
        MessageType::OfferReceipt => ReceiptKind::OfferReceived,
        MessageType::EvaluationReceipt => ReceiptKind::EvaluationReceived,
        MessageType::ImportConfirmation => ReceiptKind::ImportConfirmed,
        _ => ReceiptKind::HandOverReceived,
    };
    Ok(Receipt {
        process_id: process_id.expect("set at the root's end"),
        kind,
        items,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        bytes: MAX_INPUT_BYTES,
        objects: 3,
    };

    fn objects(root: &str, n: usize, object: impl Fn(usize) -> String) -> String {
        let mut s = format!(
            "<xdomea:{root} xmlns:xdomea=\"{NS}\"><xdomea:Kopf>\
             <xdomea:ProzessID>242f44e8-bebf-4503-a086-db252c6a4277</xdomea:ProzessID>\
             <xdomea:Nachrichtentyp><code>{}</code></xdomea:Nachrichtentyp></xdomea:Kopf>\n",
            &root[root.len() - 4..]
        );
        for i in 0..n {
            s.push_str(&object(i));
            s.push('\n');
        }
        s.push_str(&format!("</xdomea:{root}>"));
        s
    }

    #[test]
    fn more_objects_than_the_limit_are_refused() {
        let evaluation = |n| {
            objects("Aussonderung.Bewertungsverzeichnis.0502", n, |i| {
                format!(
                    "<xdomea:BewertetesObjekt><xdomea:ID>{}</xdomea:ID><xdomea:Aussonderungsart>\
                     <xdomea:Aussonderungsart><code>A</code></xdomea:Aussonderungsart>\
                     </xdomea:Aussonderungsart></xdomea:BewertetesObjekt>",
                    Uuid::from_u128(i as u128 + 1)
                )
            })
        };
        assert_eq!(
            read_0502_limited(&evaluation(3), SMALL)
                .unwrap()
                .items
                .len(),
            3
        );
        let err = read_0502_limited(&evaluation(4), SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                XdomeaError::TooManyObjects {
                    max: 3,
                    line: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("mehr als (more than) 3"), "{err}");

        let import = |n| {
            objects("Aussonderung.AussonderungImportBestaetigen.0506", n, |i| {
                format!(
                    "<xdomea:AusgesondertesSGO><xdomea:IDSGO>{}</xdomea:IDSGO>\
                     <xdomea:Erfolgreich>1</xdomea:Erfolgreich></xdomea:AusgesondertesSGO>",
                    Uuid::from_u128(i as u128 + 1)
                )
            })
        };
        assert_eq!(
            read_receipt_limited(&import(3), SMALL).unwrap().items.len(),
            3
        );
        let err = read_receipt_limited(&import(4), SMALL).unwrap_err();
        assert!(
            matches!(err, XdomeaError::TooManyObjects { max: 3, .. }),
            "{err:?}"
        );
    }
}
