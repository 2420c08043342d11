//! The text layer of a PDF. lopdf parses the file, the fonts' encodings
//! and `/ToUnicode` maps; the layout is done here: a walk over each page's
//! content stream (and the form XObjects it draws) that follows the
//! graphics and text matrices and the glyph widths, so it knows where each
//! piece of text starts and ends on the page. Pieces on one baseline are
//! joined, with a space where there is a gap; a new baseline starts a new
//! line, a wide step down a new paragraph. Text is taken in the order the
//! page draws it (what typst, LibreOffice and Word write is in reading
//! order). Values of form fields (AcroForm) follow the pages.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use lopdf::{Dictionary, Document, Encoding, LoadOptions, Object, ObjectId, content::Content};

use super::{MAX_PDF_PAGES, MAX_TEXT_CHARS, TextError, normalize_whitespace};

/// A single stream (content, object stream, font map) may decompress to
/// at most this many bytes. (lopdf inflates all object streams when it
/// loads a file and has no bound on their sum: a 25 MiB file of small
/// deflate bombs can cost many seconds there. Callers run extraction off
/// the request path.)
const STREAM_LIMIT: usize = 32 * 1024 * 1024;
/// All page and form contents of one document together, decompressed.
const CONTENT_BUDGET: usize = 128 * 1024 * 1024;
/// All content-stream operations of one document together (about 3 s in
/// a release build at worst; a typst page has a few hundred).
const OPERATION_BUDGET: usize = 10_000_000;
/// Form XObjects drawn inside form XObjects.
const MAX_FORM_DEPTH: usize = 8;
/// Entries read from a font's `/W` or `/Widths`.
const MAX_WIDTH_ENTRIES: usize = 100_000;
/// Codes a font's `/ToUnicode` ranges may span together (16 times all
/// two-byte codes).
const MAX_CMAP_CODES: u64 = 1 << 20;
/// Form fields read.
const MAX_FIELDS: usize = 10_000;
/// A page's raw text may grow to this many bytes (more than the whole
/// text may keep, whitespace not yet collapsed).
const MAX_PAGE_TEXT_BYTES: usize = 3 * MAX_TEXT_CHARS;

/// What the walks over content streams may still spend; one for all PDFs
/// of an input (a mail's attachments share it).
pub(super) struct Budget {
    /// Decompressed content bytes.
    content: usize,
    /// Content-stream operations.
    operations: usize,
}

impl Budget {
    pub(super) fn new() -> Self {
        Budget {
            content: CONTENT_BUDGET,
            operations: OPERATION_BUDGET,
        }
    }
}

/// The text (whitespace normalised) and the number of pages.
pub(super) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<(String, u32), TextError> {
    let options = LoadOptions {
        max_decompressed_size: Some(STREAM_LIMIT),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(load_error)?;
    // Encrypted with a user password: lopdf loads it but cannot decrypt.
    if doc.trailer.has(b"Encrypt") && !doc.was_encrypted() {
        return Err(TextError::EncryptedPdf);
    }
    let pages = doc.get_pages();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut walker = Walker {
        doc: &doc,
        fonts: HashMap::new(),
        textless: HashSet::new(),
        form_contents: HashMap::new(),
        budget: budget.content,
        operations: budget.operations,
    };
    let mut text = String::new();
    let mut chars = 0usize;
    for &page_id in pages.values().take(MAX_PDF_PAGES) {
        let Some(page) = walker.page(page_id) else {
            break;
        };
        let page = normalize_whitespace(&page);
        if page.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        chars += page.chars().count();
        text.push_str(&page);
        if chars > MAX_TEXT_CHARS {
            break;
        }
    }
    if chars <= MAX_TEXT_CHARS {
        let fields = normalize_whitespace(&form_fields(&doc));
        if !fields.is_empty() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&fields);
        }
    }
    budget.content = walker.budget;
    budget.operations = walker.operations;
    Ok((text, count))
}

fn load_error(e: lopdf::Error) -> TextError {
    match e {
        lopdf::Error::InvalidPassword
        | lopdf::Error::Decryption(_)
        | lopdf::Error::UnsupportedSecurityHandler(_) => TextError::EncryptedPdf,
        e => {
            let mut m = e.to_string();
            super::truncate_chars(&mut m, 200);
            TextError::UnreadablePdf(m)
        }
    }
}

/// A 2-D affine matrix `[a b c d e f]`, PDF's row-vector convention.
type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m` then `n` (`m × n`).
fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn translate(x: f32, y: f32) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, x, y]
}

/// A number operand (non-finite and absurd values become 0).
fn num(o: &Object) -> f32 {
    let v = match o {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => 0.0,
    };
    if v.is_finite() && v.abs() < 1.0e7 {
        v
    } else {
        0.0
    }
}

fn matrix(ops: &[Object]) -> Option<Matrix> {
    if ops.len() < 6 {
        return None;
    }
    let mut m = [0.0; 6];
    for (i, o) in ops[ops.len() - 6..].iter().enumerate() {
        m[i] = num(o);
    }
    Some(m)
}

/// What the walk needs to know of a font.
struct Font<'a> {
    /// `None` where the codes cannot be mapped to Unicode (a CID font
    /// without `/ToUnicode`): the glyphs still take their room, no text.
    encoding: Option<Encoding<'a>>,
    /// Type0 fonts: two-byte codes (for the widths; the text comes from the
    /// encoding, which knows its own code lengths).
    two_byte: bool,
    widths: Widths,
    /// Glyph space to text space: 1/1000, or a Type3 font's `/FontMatrix`.
    scale: f32,
}

enum Widths {
    Simple {
        first: u32,
        widths: Vec<f32>,
        missing: f32,
    },
    Cid {
        single: HashMap<u32, f32>,
        ranges: Vec<(u32, u32, f32)>,
        default: f32,
    },
}

impl Font<'_> {
    /// Width of the glyph for `code`, in text space per unit of font size.
    fn width(&self, code: u32) -> f32 {
        let w = match &self.widths {
            Widths::Simple {
                first,
                widths,
                missing,
            } => code
                .checked_sub(*first)
                .and_then(|i| widths.get(i as usize))
                .copied()
                .unwrap_or(*missing),
            Widths::Cid {
                single,
                ranges,
                default,
            } => single
                .get(&code)
                .copied()
                .or_else(|| {
                    // Sorted by first code: the last range starting at or
                    // before `code`.
                    let i = ranges.partition_point(|r| r.0 <= code);
                    ranges[..i].last().filter(|r| code <= r.1).map(|r| r.2)
                })
                .unwrap_or(*default),
        };
        w * self.scale
    }
}

/// The graphics state the text depends on.
#[derive(Clone)]
struct GState<'a> {
    ctm: Matrix,
    font: Option<Rc<Font<'a>>>,
    size: f32,
    char_spacing: f32,
    word_spacing: f32,
    /// `Tz` / 100.
    h_scale: f32,
    leading: f32,
    rise: f32,
}

impl Default for GState<'_> {
    fn default() -> Self {
        GState {
            ctm: IDENTITY,
            font: None,
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            h_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// Text of one page as it is put together.
#[derive(Default)]
struct Page {
    text: String,
    /// Where the last piece ended, its direction and size (device space).
    last: Option<([f32; 2], [f32; 2], f32)>,
}

impl Page {
    /// A piece of text from `start` to `end`, written in direction `dir`
    /// at font size `size` (all in device space).
    fn piece(&mut self, text: &str, start: [f32; 2], end: [f32; 2], dir: [f32; 2], size: f32) {
        let size = size.max(1.0);
        if let Some((prev_end, prev_dir, prev_size)) = self.last {
            let size = size.max(prev_size);
            let d = [start[0] - prev_end[0], start[1] - prev_end[1]];
            let along = d[0] * dir[0] + d[1] * dir[1];
            // Perpendicular, positive upwards for text running left to right.
            let across = d[1] * dir[0] - d[0] * dir[1];
            let turned = (dir[0] * prev_dir[0] + dir[1] * prev_dir[1]) < 0.99;
            if turned || across.abs() > 0.5 * size {
                self.text
                    .push_str(if across < -1.75 * size { "\n\n" } else { "\n" });
            } else if along > 0.18 * size || along < -2.0 * size {
                self.text.push(' ');
            }
        }
        self.text.push_str(text);
        self.last = Some((end, dir, size));
    }
}

struct Walker<'a> {
    doc: &'a Document,
    /// Fonts by the address of their dictionary, shared by all pages.
    fonts: HashMap<usize, Rc<Font<'a>>>,
    /// Form XObjects walked to the end without giving text: not walked
    /// again (logos on every page, and fan-out bombs).
    textless: HashSet<ObjectId>,
    /// Decompressed form XObjects, inflated once however often drawn.
    form_contents: HashMap<ObjectId, Rc<Vec<u8>>>,
    /// Decompressed content bytes still allowed.
    budget: usize,
    /// Operations still allowed.
    operations: usize,
}

impl<'a> Walker<'a> {
    /// The raw text of a page; `None` when a budget is spent.
    fn page(&mut self, page_id: ObjectId) -> Option<String> {
        if self.budget == 0 || self.operations == 0 {
            return None;
        }
        let limit = self.budget.min(STREAM_LIMIT);
        let Ok(content) = self.doc.get_page_content_with_limit(page_id, limit) else {
            // Over the limit (a bomb): the inflating done counts.
            self.budget -= limit;
            return Some(String::new());
        };
        self.budget = self.budget.saturating_sub(content.len());
        let resources = self.page_resources(page_id);
        let mut page = Page::default();
        let mut gs = GState::default();
        self.run(&content, resources, &mut gs, &mut page, &mut Vec::new());
        Some(page.text)
    }

    /// `/Resources` of a page, inherited through the page tree.
    fn page_resources(&self, page_id: ObjectId) -> Option<&'a Dictionary> {
        let mut node = self.doc.get_dictionary(page_id).ok()?;
        for _ in 0..32 {
            if let Ok(r) = node
                .get_deref(b"Resources", self.doc)
                .and_then(Object::as_dict)
            {
                return Some(r);
            }
            node = node
                .get_deref(b"Parent", self.doc)
                .and_then(Object::as_dict)
                .ok()?;
        }
        None
    }

    fn font(&mut self, resources: Option<&'a Dictionary>, name: &[u8]) -> Option<Rc<Font<'a>>> {
        let fonts = resources?
            .get_deref(b"Font", self.doc)
            .ok()?
            .as_dict()
            .ok()?;
        let dict = self
            .doc
            .dereference(fonts.get(name).ok()?)
            .ok()?
            .1
            .as_dict()
            .ok()?;
        // By address: the document does not move while it is read, and a
        // font written inline is parsed once too.
        let key = std::ptr::from_ref(dict) as usize;
        if let Some(f) = self.fonts.get(&key) {
            return Some(f.clone());
        }
        let font = Rc::new(self.load_font(dict));
        self.fonts.insert(key, font.clone());
        Some(font)
    }

    fn load_font(&self, dict: &'a Dictionary) -> Font<'a> {
        let doc = self.doc;
        let subtype = dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let two_byte = subtype == b"Type0";
        // `/ToUnicode` first, as the PDF standard says (9.10.2); lopdf takes
        // `/Encoding` first, so it is asked about a copy without it. A map
        // lopdf would take too long over is not used at all.
        let to_unicode = dict
            .get_deref(b"ToUnicode", doc)
            .and_then(Object::as_stream)
            .ok()
            .map(cmap_is_small);
        let encoding_name = dict
            .get_deref(b"Encoding", doc)
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let identity = encoding_name.starts_with(b"Identity-");
        let encoding = match to_unicode {
            Some(true) => {
                let mut copy = dict.clone();
                copy.remove(b"Encoding");
                match copy.get_font_encoding_with_limit(doc, STREAM_LIMIT) {
                    Ok(Encoding::UnicodeMapEncoding(map)) => {
                        Some(Encoding::UnicodeMapEncoding(map))
                    }
                    _ => dict.get_font_encoding_with_limit(doc, STREAM_LIMIT).ok(),
                }
            }
            // Only `/Encoding` is read (lopdf reads `/ToUnicode` for a font
            // without one, or with an Identity encoding).
            Some(false) if !two_byte && dict.has(b"Encoding") && !identity => {
                dict.get_font_encoding_with_limit(doc, STREAM_LIMIT).ok()
            }
            Some(false) => None,
            // A CID font without a map: lopdf would fall back to a one-byte
            // encoding, giving garbage.
            None if two_byte || identity => None,
            None => dict.get_font_encoding_with_limit(doc, STREAM_LIMIT).ok(),
        };

        let number = |d: &Dictionary, key: &[u8]| d.get_deref(key, doc).ok().map(num);
        let array = |d: &'a Dictionary, key: &[u8]| -> Vec<&'a Object> {
            d.get_deref(key, doc)
                .and_then(Object::as_array)
                .map(|a| a.iter().take(MAX_WIDTH_ENTRIES).collect())
                .unwrap_or_default()
        };
        let deref = |o: &'a Object| doc.dereference(o).map(|(_, o)| o).unwrap_or(o);

        if two_byte {
            let descendant = dict
                .get_deref(b"DescendantFonts", doc)
                .and_then(Object::as_array)
                .ok()
                .and_then(|a| a.first())
                .and_then(|o| doc.dereference(o).ok())
                .and_then(|(_, o)| o.as_dict().ok());
            let mut single = HashMap::new();
            let mut ranges = Vec::new();
            let mut default = 1000.0;
            if let Some(cid) = descendant {
                default = number(cid, b"DW").unwrap_or(1000.0);
                let w = array(cid, b"W");
                let mut i = 0;
                while i + 1 < w.len() {
                    let first = num(deref(w[i])).max(0.0) as u32;
                    match deref(w[i + 1]) {
                        Object::Array(list) => {
                            for (k, o) in list.iter().take(MAX_WIDTH_ENTRIES).enumerate() {
                                single.insert(first.saturating_add(k as u32), num(deref(o)));
                            }
                            i += 2;
                        }
                        last if i + 2 < w.len() => {
                            let last = num(last).max(0.0) as u32;
                            ranges.push((first, last, num(deref(w[i + 2]))));
                            i += 3;
                        }
                        _ => break,
                    }
                    if single.len() + ranges.len() > MAX_WIDTH_ENTRIES {
                        break;
                    }
                }
            }
            ranges.sort_by_key(|r| r.0);
            return Font {
                encoding,
                two_byte,
                widths: Widths::Cid {
                    single,
                    ranges,
                    default,
                },
                scale: 0.001,
            };
        }

        let first = number(dict, b"FirstChar").unwrap_or(0.0).clamp(0.0, 255.0) as u32;
        let widths: Vec<f32> = array(dict, b"Widths")
            .into_iter()
            .map(|o| num(deref(o)))
            .collect();
        let missing = dict
            .get_deref(b"FontDescriptor", doc)
            .and_then(Object::as_dict)
            .ok()
            .and_then(|d| number(d, b"MissingWidth"))
            .filter(|w| *w > 0.0)
            .unwrap_or_else(|| {
                let base = dict
                    .get(b"BaseFont")
                    .and_then(Object::as_name)
                    .unwrap_or(b"");
                if base.windows(7).any(|w| w.eq_ignore_ascii_case(b"courier")) {
                    600.0
                } else {
                    500.0
                }
            });
        let scale = if subtype == b"Type3" {
            array(dict, b"FontMatrix")
                .first()
                .map(|o| num(deref(o)))
                .filter(|s| *s != 0.0)
                .unwrap_or(0.001)
        } else {
            0.001
        };
        let missing = if subtype == b"Type3" {
            missing * 0.001 / scale
        } else {
            missing
        };
        Font {
            encoding,
            two_byte,
            widths: Widths::Simple {
                first,
                widths,
                missing,
            },
            scale,
        }
    }

    /// Walks one content stream; whether to its end (no budget ran out).
    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        gs: &mut GState<'a>,
        page: &mut Page,
        forms: &mut Vec<ObjectId>,
    ) -> bool {
        let mut stack: Vec<GState<'a>> = Vec::new();
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        for op in Content::decode_iter(content) {
            let Ok(op) = op else {
                break;
            };
            if self.operations == 0 || page.text.len() > MAX_PAGE_TEXT_BYTES {
                return false;
            }
            self.operations -= 1;
            let o = &op.operands;
            match op.operator.as_str() {
                "q" if stack.len() < 256 => stack.push(gs.clone()),
                "Q" => {
                    if let Some(saved) = stack.pop() {
                        *gs = saved;
                    }
                }
                "cm" => {
                    if let Some(m) = matrix(o) {
                        gs.ctm = mul(&m, &gs.ctm);
                    }
                }
                "BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                "Tf" if o.len() >= 2 => {
                    gs.size = num(&o[1]);
                    gs.font = o[0].as_name().ok().and_then(|n| self.font(resources, n));
                }
                "Tc" => gs.char_spacing = o.last().map(num).unwrap_or(0.0),
                "Tw" => gs.word_spacing = o.last().map(num).unwrap_or(0.0),
                "Tz" => gs.h_scale = o.last().map(num).unwrap_or(100.0) / 100.0,
                "TL" => gs.leading = o.last().map(num).unwrap_or(0.0),
                "Ts" => gs.rise = o.last().map(num).unwrap_or(0.0),
                "Td" | "TD" if o.len() >= 2 => {
                    let (x, y) = (num(&o[o.len() - 2]), num(&o[o.len() - 1]));
                    if op.operator == "TD" {
                        gs.leading = -y;
                    }
                    tlm = mul(&translate(x, y), &tlm);
                    tm = tlm;
                }
                "Tm" => {
                    if let Some(m) = matrix(o) {
                        tlm = m;
                        tm = m;
                    }
                }
                "T*" => {
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                }
                "Tj" => {
                    if let Some(Object::String(s, _)) = o.last() {
                        self.show(s, gs, &mut tm, page);
                    }
                }
                "'" | "\"" => {
                    if op.operator == "\"" && o.len() >= 3 {
                        gs.word_spacing = num(&o[0]);
                        gs.char_spacing = num(&o[1]);
                    }
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                    if let Some(Object::String(s, _)) = o.last() {
                        self.show(s, gs, &mut tm, page);
                    }
                }
                "TJ" => {
                    if let Some(Object::Array(items)) = o.last() {
                        for item in items {
                            match item {
                                Object::String(s, _) => self.show(s, gs, &mut tm, page),
                                other => {
                                    let tx = -num(other) / 1000.0 * gs.size * gs.h_scale;
                                    tm = mul(&translate(tx, 0.0), &tm);
                                }
                            }
                        }
                    }
                }
                "Do" if forms.len() < MAX_FORM_DEPTH => {
                    if let Some(Ok(name)) = o.last().map(Object::as_name)
                        && !self.form(name, resources, gs, page, forms)
                    {
                        return false;
                    }
                }
                _ => {}
            }
        }
        true
    }

    /// Draws the form XObject `name` (images and others are skipped);
    /// `false` when a budget ran out.
    fn form(
        &mut self,
        name: &[u8],
        resources: Option<&'a Dictionary>,
        gs: &GState<'a>,
        page: &mut Page,
        forms: &mut Vec<ObjectId>,
    ) -> bool {
        let Some(entry) = resources
            .and_then(|r| r.get_deref(b"XObject", self.doc).ok())
            .and_then(|x| x.as_dict().ok())
            .and_then(|x| x.get(name).ok())
        else {
            return true;
        };
        let Ok((Some(id), Object::Stream(stream))) = self.doc.dereference(entry) else {
            return true;
        };
        if forms.contains(&id)
            || self.textless.contains(&id)
            || stream.dict.get(b"Subtype").and_then(Object::as_name).ok()
                != Some(b"Form".as_slice())
        {
            return true;
        }
        let content = match self.form_contents.get(&id) {
            Some(c) => c.clone(),
            None => {
                if self.budget == 0 {
                    return false;
                }
                let limit = self.budget.min(STREAM_LIMIT);
                let Ok(content) = stream.get_plain_content_with_limit(limit) else {
                    self.budget -= limit;
                    self.textless.insert(id);
                    return true;
                };
                self.budget = self.budget.saturating_sub(content.len());
                let content = Rc::new(content);
                self.form_contents.insert(id, content.clone());
                content
            }
        };
        let own = stream
            .dict
            .get_deref(b"Resources", self.doc)
            .and_then(Object::as_dict)
            .ok()
            .or(resources);
        let m = stream
            .dict
            .get_deref(b"Matrix", self.doc)
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| matrix(a))
            .unwrap_or(IDENTITY);
        let mut inner = gs.clone();
        inner.ctm = mul(&m, &gs.ctm);
        let before = page.text.len();
        forms.push(id);
        let complete = self.run(&content, own, &mut inner, page, forms);
        forms.pop();
        if complete && page.text.len() == before {
            self.textless.insert(id);
        }
        complete
    }

    /// Shows one string: its text goes to the page, the text matrix moves
    /// on by the glyphs' widths and spacing.
    fn show(&mut self, bytes: &[u8], gs: &GState<'a>, tm: &mut Matrix, page: &mut Page) {
        let size = gs.size;
        let font = gs.font.as_deref();
        let text = font
            .and_then(|f| f.encoding.as_ref())
            .and_then(|e| Document::decode_text(e, bytes).ok())
            .unwrap_or_default();
        let text: String = text
            .chars()
            .filter(|c| *c != char::REPLACEMENT_CHARACTER && (!c.is_control() || c.is_whitespace()))
            .collect();

        let params = [size * gs.h_scale, 0.0, 0.0, size, 0.0, gs.rise];
        let start_trm = mul(&params, &mul(tm, &gs.ctm));

        let two_byte = font.is_some_and(|f| f.two_byte);
        let step = if two_byte { 2 } else { 1 };
        let mut advance = 0.0;
        for code in bytes.chunks(step) {
            let code = code.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            let w = font.map(|f| f.width(code)).unwrap_or(0.5);
            advance += w * size + gs.char_spacing;
            if !two_byte && code == 32 {
                advance += gs.word_spacing;
            }
        }
        *tm = mul(&translate(advance * gs.h_scale, 0.0), tm);
        let end_trm = mul(&params, &mul(tm, &gs.ctm));

        let (a, b) = (start_trm[0], start_trm[1]);
        let width = (a * a + b * b).sqrt();
        let dir = if width > 1.0e-6 {
            [a / width, b / width]
        } else {
            [1.0, 0.0]
        };
        let height = (start_trm[2] * start_trm[2] + start_trm[3] * start_trm[3]).sqrt();
        if text.is_empty() {
            return;
        }
        page.piece(
            &text,
            [start_trm[4], start_trm[5]],
            [end_trm[4], end_trm[5]],
            dir,
            height,
        );
    }
}

/// Whether a `/ToUnicode` CMap maps few enough codes for lopdf, which
/// builds a reverse map entry for every code in every `bfrange`: the
/// ranges may span at most [`MAX_CMAP_CODES`] codes together.
fn cmap_is_small(stream: &lopdf::Stream) -> bool {
    let Ok(data) = stream.get_plain_content_with_limit(STREAM_LIMIT) else {
        return false;
    };
    let mut total: u64 = 0;
    let mut rest = data.as_slice();
    while let Some(start) = find(rest, b"beginbfrange") {
        rest = &rest[start + b"beginbfrange".len()..];
        let end = find(rest, b"endbfrange").unwrap_or(rest.len());
        let section = &rest[..end];
        rest = &rest[end..];
        // Entries: <lo> <hi> then <dst> or [<dst> …].
        let mut codes: Vec<u64> = Vec::new();
        let mut i = 0;
        while i < section.len() {
            match section[i] {
                b'<' => {
                    let close = section[i..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map_or(section.len(), |p| i + p);
                    let hex: Vec<u8> = section[i + 1..close]
                        .iter()
                        .copied()
                        .filter(u8::is_ascii_hexdigit)
                        .collect();
                    let value = if hex.len() > 8 {
                        u64::MAX
                    } else {
                        std::str::from_utf8(&hex)
                            .ok()
                            .and_then(|h| u64::from_str_radix(h, 16).ok())
                            .unwrap_or(0)
                    };
                    codes.push(value);
                    i = close + 1;
                }
                b'[' => {
                    codes.push(0);
                    i = section[i..]
                        .iter()
                        .position(|&b| b == b']')
                        .map_or(section.len(), |p| i + p + 1);
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
            if codes.len() == 3 {
                total = total.saturating_add(codes[1].saturating_sub(codes[0]).saturating_add(1));
                codes.clear();
                if total > MAX_CMAP_CODES {
                    return false;
                }
            }
        }
    }
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `Name: value` lines for the filled-in text fields of an AcroForm (what
/// a form shows may not be in the page content when its appearance is
/// left to the viewer).
fn form_fields(doc: &Document) -> String {
    let mut out = String::new();
    let Ok(fields) = doc
        .catalog()
        .and_then(|c| c.get_deref(b"AcroForm", doc))
        .and_then(Object::as_dict)
        .and_then(|f| f.get_deref(b"Fields", doc))
        .and_then(Object::as_array)
    else {
        return out;
    };
    let mut todo: Vec<(&Object, String, usize)> =
        fields.iter().rev().map(|f| (f, String::new(), 0)).collect();
    let mut seen = 0usize;
    while let Some((field, parent, depth)) = todo.pop() {
        seen += 1;
        if seen > MAX_FIELDS || depth > 32 {
            break;
        }
        let Ok((_, Object::Dictionary(d))) = doc.dereference(field) else {
            continue;
        };
        let part = d
            .get(b"T")
            .ok()
            .and_then(|t| lopdf::decode_text_string(t).ok())
            .unwrap_or_default();
        let name = match (parent.is_empty(), part.is_empty()) {
            (true, _) => part,
            (false, true) => parent,
            (false, false) => format!("{parent}.{part}"),
        };
        if let Ok(v) = d.get_deref(b"V", doc)
            && matches!(v, Object::String(..))
            && let Ok(value) = lopdf::decode_text_string(v)
            && !value.trim().is_empty()
        {
            if !out.is_empty() {
                out.push('\n');
            }
            let value = value.replace(['\r', '\n'], " ");
            if name.is_empty() {
                out.push_str(&value);
            } else {
                out.push_str(&format!("{name}: {value}"));
            }
            if out.len() > MAX_TEXT_CHARS {
                break;
            }
        }
        if let Ok(kids) = d.get_deref(b"Kids", doc).and_then(Object::as_array) {
            for k in kids
                .iter()
                .take(MAX_FIELDS.saturating_sub(todo.len()))
                .rev()
            {
                todo.push((k, name.clone(), depth + 1));
            }
        }
    }
    out
}
