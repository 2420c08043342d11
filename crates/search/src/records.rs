//! Full-text search over the documents of the e-file (E-Akte): one entry per
//! document version with its extracted text, German stemming (the catalog's
//! analyzer), a boost for titles, exact file numbers and references, and
//! plain-text snippets with highlight ranges.
//!
//! Like [`CatalogIndex`](crate::CatalogIndex) the index lives in memory; the
//! app rebuilds it at start from the extracted texts in the database and then
//! feeds new versions as they are filed.
//!
//! Access control is part of the tantivy query: the tenant, the visible
//! organisational units and the optional Vorgang are filter clauses on raw
//! fields, so a document another user may not see is never scored, counted or
//! returned — not filtered out afterwards.
//!
//! Matching: every word of the query must match (after stemming) in the title
//! or the text; a word of several parts ("Bau-Antrag", "MS-2026-000123") must
//! match as a phrase. A word with a digit is also looked up as a reference:
//! file numbers, their parts ("MS-2026-000123", "000123"), plan codes and their
//! groups ("32.10.05", "32.10") and references in title and text
//! ("Az. 32.10.05-MS-2026-000123") are indexed raw; a document's own file
//! number ranks above a mention of it elsewhere, and a label pasted with a
//! reference ("Az.", "Gz.", "Aktenzeichen") is ignored. Results are ordered by
//! score, then newest first, then by version id, so they do not depend on the
//! order documents were added in.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, Searcher,
    TantivyDocument, Term,
    collector::{
        Count, TopDocs,
        sort_key::{SortBySimilarityScore, SortByStaticFastValue},
    },
    postings::Postings,
    query::{BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, TermQuery, TermSetQuery},
    schema::{
        FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
        Value,
    },
    tokenizer::{SimpleTokenizer, TextAnalyzer, TokenStream, Tokenizer},
};
use uuid::Uuid;

use crate::analyzer;

const ANALYZER: &str = "de_records";

/// Longest query, in characters (as `rathaus_domain::catalog::MAX_SEARCH_CHARS`).
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words in one query (as `rathaus_domain::catalog::MAX_SEARCH_TERMS`).
pub const MAX_QUERY_TERMS: usize = 12;
/// Most hits per page.
pub const MAX_LIMIT: usize = 100;
/// Deepest page start: paging further means a narrower query.
pub const MAX_OFFSET: usize = 10_000;
/// Characters of a document's text that are indexed (and kept for snippets).
pub const MAX_TEXT_CHARS: usize = 1_000_000;
/// Length of a snippet's window into the text, in bytes (before the ellipses).
pub const SNIPPET_BYTES: usize = 240;
/// Width of the window of positions first chosen for a snippet, in tokens.
const WINDOW_TOKENS: usize = 32;
/// Tokens read past that window, for the snippet's end.
const TAIL_TOKENS: usize = 64;

const TITLE_BOOST: Score = 3.0;
/// A document's own file number or plan code counts far more than a
/// reference to it in another document's text.
const NUMBER_BOOST: Score = 20.0;
const REFERENCE_BOOST: Score = 2.0;
/// Longest token taken as a reference (file numbers are about 25 characters).
const MAX_REFERENCE_BYTES: usize = 64;
/// Most reference terms taken from one document's title and text.
const MAX_REFERENCES_PER_DOC: usize = 10_000;
const WRITER_MEMORY: usize = 64_000_000;
/// Labels pasted with a reference ("Az. 32.10.05-MS-2026-000123"); ignored
/// when the query has a reference, since the file's own documents rarely
/// contain them.
const REFERENCE_LABELS: [&str; 6] = [
    "az",
    "aktenzeichen",
    "gz",
    "geschäftszeichen",
    "gesch.-z",
    "zeichen",
];

/// A limit of [`RecordIndex::search`] that a query exceeds. The query is
/// refused, never cut silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLimit {
    /// More than [`MAX_QUERY_CHARS`] characters (after trimming).
    TooLong,
    /// More than [`MAX_QUERY_TERMS`] whitespace-separated words.
    TooManyTerms,
    /// `limit` above [`MAX_LIMIT`].
    LimitTooLarge,
    /// `offset` above [`MAX_OFFSET`].
    OffsetTooLarge,
}

impl QueryLimit {
    /// Stable error code. The first two are those of the domain's
    /// `SearchText::parse` (on the field `q`), so a caller can report both alike.
    pub fn code(self) -> &'static str {
        match self {
            QueryLimit::TooLong => "search.too_long",
            QueryLimit::TooManyTerms => "search.too_many_terms",
            QueryLimit::LimitTooLarge => "search.limit_too_large",
            QueryLimit::OffsetTooLarge => "search.offset_too_large",
        }
    }
}

impl std::fmt::Display for QueryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search refused: {0}")]
    Refused(QueryLimit),
}

impl RecordError {
    /// Stable code: the limit's code, or `search.index` for an index failure.
    pub fn code(&self) -> &'static str {
        match self {
            RecordError::Index(_) => "search.index",
            RecordError::Refused(limit) => limit.code(),
        }
    }
}

pub type RecordResult<T> = std::result::Result<T, RecordError>;

/// What is indexed of one document version.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDoc {
    pub tenant: Uuid,
    /// The key: upserting the same version replaces it.
    pub version: Uuid,
    pub document: Uuid,
    /// The Vorgang.
    pub file: Uuid,
    /// Units allowed to see the document. Empty: only users who may see all
    /// of the tenant's records (`visible_units: None`).
    pub org_units: Vec<Uuid>,
    /// E.g. `32.10.05-MS-2026-000123`.
    pub file_number: String,
    /// E.g. `32.10.05`.
    pub plan_code: String,
    pub title: String,
    /// Extracted text; only the first [`MAX_TEXT_CHARS`] characters are indexed.
    pub text: String,
    pub filed_at: DateTime<Utc>,
}

/// One search.
#[derive(Debug, Clone)]
pub struct RecordQuery<'a> {
    pub tenant: Uuid,
    pub text: &'a str,
    /// `None`: all of the tenant's documents (records administration).
    /// `Some(units)`: only documents whose `org_units` contain one of them.
    pub visible_units: Option<&'a [Uuid]>,
    /// Only documents of this Vorgang.
    pub file: Option<Uuid>,
    /// At most [`MAX_LIMIT`]; 0 counts only.
    pub limit: usize,
    /// At most [`MAX_OFFSET`].
    pub offset: usize,
}

/// A piece of a document's text, plain (not HTML), with the byte ranges of
/// the matched words in `text`. Whitespace is collapsed; `…` marks a cut.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    /// Sorted, disjoint byte ranges `(start, end)` into `text`, on char boundaries.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordHit {
    pub version: Uuid,
    pub document: Uuid,
    pub file: Uuid,
    pub file_number: String,
    pub title: String,
    /// Byte ranges of the matched words in `title`.
    pub title_highlights: Vec<(usize, usize)>,
    pub filed_at: DateTime<Utc>,
    pub score: Score,
    pub snippet: Snippet,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordResults {
    /// All matching documents the user may see (not only this page).
    pub total: usize,
    pub hits: Vec<RecordHit>,
}

struct Fields {
    version: Field,
    document: Field,
    file: Field,
    tenant: Field,
    unit: Field,
    file_number: Field,
    numbers: Field,
    refs: Field,
    title: Field,
    text: Field,
    filed_at: Field,
    version_hi: Field,
    version_lo: Field,
}

/// The in-memory index of document versions shared by all requests of an instance.
pub struct RecordIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    analyzer: TextAnalyzer,
    f: Fields,
}

/// One word of a query, analysed.
struct Word {
    /// Lower-case, without surrounding punctuation: the raw reference form.
    raw: String,
    /// Analysed tokens with their positions.
    tokens: Vec<(usize, String)>,
    /// Has a digit: also looked up among the raw references.
    reference: bool,
}

fn uuid_term(field: Field, id: Uuid) -> Term {
    Term::from_field_text(field, &id.to_string())
}

/// The first `max` characters of `text`.
fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

fn normalize_word(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// A reference and its parts: every run of consecutive parts between `-` or
/// `/` that has a digit ("32.10.05-ms-2026-000123" → "ms-2026-000123",
/// "2026-000123", "000123", …), and the groups of a dotted first part with at
/// least two levels ("32.10").
fn reference_terms(reference: &str, out: &mut BTreeSet<String>) {
    if reference.is_empty() || reference.len() > MAX_REFERENCE_BYTES {
        return;
    }
    let mut bounds = vec![0];
    for (i, c) in reference.char_indices() {
        if c == '-' || c == '/' {
            bounds.push(i);
            bounds.push(i + c.len_utf8());
        }
    }
    bounds.push(reference.len());
    let parts: Vec<(usize, usize)> = bounds
        .chunks(2)
        .map(|p| (p[0], p[1]))
        .filter(|(s, e)| s < e)
        .collect();
    for (i, &(start, _)) in parts.iter().enumerate() {
        for &(_, end) in &parts[i..] {
            let run = &reference[start..end];
            if run.bytes().any(|b| b.is_ascii_digit()) {
                out.insert(run.to_string());
            }
        }
    }
    if let Some(&(s, e)) = parts.first() {
        let first = &reference[s..e];
        for (i, _) in first.match_indices('.').skip(1) {
            out.insert(first[..i].to_string());
        }
    }
}

/// Tokens of a text that look like references: a digit and a separator.
fn text_references(text: &str, out: &mut BTreeSet<String>) {
    for word in text.split_whitespace() {
        if out.len() >= MAX_REFERENCES_PER_DOC {
            return;
        }
        if word.len() > MAX_REFERENCE_BYTES + 8 {
            continue;
        }
        let w = normalize_word(word);
        if w.bytes().any(|b| b.is_ascii_digit()) && w.contains(['.', '-', '/']) {
            reference_terms(&w, out);
        }
    }
}

impl RecordIndex {
    pub fn new() -> RecordResult<Self> {
        let mut sb = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let f = Fields {
            version: sb.add_text_field("version", STRING | STORED),
            document: sb.add_text_field("document", STRING | STORED),
            file: sb.add_text_field("file", STRING | STORED),
            tenant: sb.add_text_field("tenant", STRING),
            unit: sb.add_text_field("unit", STRING),
            file_number: sb.add_text_field("file_number", STORED),
            numbers: sb.add_text_field("numbers", STRING),
            refs: sb.add_text_field("refs", STRING),
            title: sb.add_text_field("title", text.clone()),
            text: sb.add_text_field("text", text),
            filed_at: sb.add_i64_field("filed_at", FAST | STORED),
            version_hi: sb.add_u64_field("version_hi", FAST),
            version_lo: sb.add_u64_field("version_lo", FAST),
        };
        let index = Index::create_in_ram(sb.build());
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            analyzer,
            f,
        })
    }

    fn to_document(&self, d: &RecordDoc) -> TantivyDocument {
        let f = &self.f;
        let text = truncate_chars(&d.text, MAX_TEXT_CHARS);
        let mut doc = TantivyDocument::default();
        doc.add_text(f.version, d.version.to_string());
        doc.add_text(f.document, d.document.to_string());
        doc.add_text(f.file, d.file.to_string());
        doc.add_text(f.tenant, d.tenant.to_string());
        for unit in d.org_units.iter().collect::<BTreeSet<_>>() {
            doc.add_text(f.unit, unit.to_string());
        }
        doc.add_text(f.file_number, &d.file_number);
        let mut numbers = BTreeSet::new();
        reference_terms(&normalize_word(&d.file_number), &mut numbers);
        reference_terms(&normalize_word(&d.plan_code), &mut numbers);
        for n in &numbers {
            doc.add_text(f.numbers, n);
        }
        let mut refs = BTreeSet::new();
        text_references(&d.title, &mut refs);
        text_references(text, &mut refs);
        for r in &refs {
            doc.add_text(f.refs, r);
        }
        doc.add_text(f.title, &d.title);
        doc.add_text(f.text, text);
        doc.add_i64(f.filed_at, d.filed_at.timestamp_micros());
        let (hi, lo) = d.version.as_u64_pair();
        doc.add_u64(f.version_hi, hi);
        doc.add_u64(f.version_lo, lo);
        doc
    }

    fn commit(&self, mut w: std::sync::MutexGuard<'_, IndexWriter>) -> RecordResult<()> {
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Adds versions or replaces them (by version id), then makes them visible.
    pub fn upsert(&self, docs: &[RecordDoc]) -> RecordResult<()> {
        let prepared: Vec<_> = docs
            .iter()
            .map(|d| (d.version, self.to_document(d)))
            .collect();
        let w = self.writer.lock().expect("index writer lock");
        for (version, doc) in prepared {
            w.delete_term(uuid_term(self.f.version, version));
            w.add_document(doc)?;
        }
        self.commit(w)
    }

    fn delete(&self, field: Field, ids: &[Uuid]) -> RecordResult<()> {
        let w = self.writer.lock().expect("index writer lock");
        for id in ids {
            w.delete_term(uuid_term(field, *id));
        }
        self.commit(w)
    }

    /// Removes every indexed version of these documents.
    pub fn remove_documents(&self, documents: &[Uuid]) -> RecordResult<()> {
        self.delete(self.f.document, documents)
    }

    /// Removes single versions.
    pub fn remove_versions(&self, versions: &[Uuid]) -> RecordResult<()> {
        self.delete(self.f.version, versions)
    }

    /// Removes all documents of a Vorgang (destroyed or handed over).
    pub fn remove_file(&self, file: Uuid) -> RecordResult<()> {
        self.delete(self.f.file, &[file])
    }

    /// Removes all documents of a tenant (before its rebuild).
    pub fn clear_tenant(&self, tenant: Uuid) -> RecordResult<()> {
        self.delete(self.f.tenant, &[tenant])
    }

    /// Indexed versions, all tenants.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn words(&self, text: &str) -> Vec<Word> {
        let mut analyzer = self.analyzer.clone();
        let mut words = Vec::new();
        for part in text.split_whitespace() {
            let raw = normalize_word(part);
            if raw.is_empty() {
                continue;
            }
            let mut tokens = Vec::new();
            {
                let mut stream = analyzer.token_stream(&raw);
                while stream.advance() {
                    let t = stream.token();
                    tokens.push((t.position, t.text.clone()));
                }
            }
            let reference = raw.bytes().any(|b| b.is_ascii_digit());
            if tokens.is_empty() && !reference {
                continue; // a stop word
            }
            words.push(Word {
                raw,
                tokens,
                reference,
            });
        }
        if words.iter().any(|w| w.reference) {
            words.retain(|w| !REFERENCE_LABELS.contains(&w.raw.as_str()));
        }
        words
    }

    /// The ways one word may match, any of which suffices.
    fn word_query(&self, word: &Word) -> Box<dyn Query> {
        let f = &self.f;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, factor) in [(f.title, TITLE_BOOST), (f.text, 1.0)] {
            let q: Box<dyn Query> = match word.tokens.as_slice() {
                [] => continue,
                [(_, token)] => Box::new(TermQuery::new(
                    Term::from_field_text(field, token),
                    IndexRecordOption::WithFreqs,
                )),
                tokens => {
                    let first = tokens[0].0;
                    Box::new(PhraseQuery::new_with_offset(
                        tokens
                            .iter()
                            .map(|(pos, t)| (pos - first, Term::from_field_text(field, t)))
                            .collect(),
                    ))
                }
            };
            alternatives.push((Occur::Should, boost(q, factor)));
        }
        if word.reference {
            for (field, factor) in [(f.numbers, NUMBER_BOOST), (f.refs, REFERENCE_BOOST)] {
                alternatives.push((
                    Occur::Should,
                    boost(
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, &word.raw),
                            IndexRecordOption::Basic,
                        )),
                        factor,
                    ),
                ));
            }
        }
        Box::new(BooleanQuery::new(alternatives))
    }

    /// Tenant, units and Vorgang as filters: they decide what matches, not how well.
    fn filters(&self, q: &RecordQuery<'_>) -> Vec<(Occur, Box<dyn Query>)> {
        let filter = |query: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
        };
        let mut out = vec![filter(Box::new(TermQuery::new(
            uuid_term(self.f.tenant, q.tenant),
            IndexRecordOption::Basic,
        )))];
        if let Some(units) = q.visible_units {
            out.push(filter(Box::new(TermSetQuery::new(
                units.iter().map(|u| uuid_term(self.f.unit, *u)),
            ))));
        }
        if let Some(file) = q.file {
            out.push(filter(Box::new(TermQuery::new(
                uuid_term(self.f.file, file),
                IndexRecordOption::Basic,
            ))));
        }
        out
    }

    /// Searches one tenant's documents that the user may see. Every word must
    /// match; see the module documentation.
    pub fn search(&self, q: &RecordQuery<'_>) -> RecordResult<RecordResults> {
        let text = q.text.trim();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(RecordError::Refused(QueryLimit::TooLong));
        }
        if text.split_whitespace().count() > MAX_QUERY_TERMS {
            return Err(RecordError::Refused(QueryLimit::TooManyTerms));
        }
        if q.limit > MAX_LIMIT {
            return Err(RecordError::Refused(QueryLimit::LimitTooLarge));
        }
        if q.offset > MAX_OFFSET {
            return Err(RecordError::Refused(QueryLimit::OffsetTooLarge));
        }
        let words = self.words(text);
        if words.is_empty() || q.visible_units.is_some_and(<[Uuid]>::is_empty) {
            return Ok(RecordResults::default());
        }
        let mut clauses = self.filters(q);
        for word in &words {
            clauses.push((Occur::Must, self.word_query(word)));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        if q.limit == 0 {
            let total = searcher.search(&query, &Count)?;
            return Ok(RecordResults {
                total,
                hits: vec![],
            });
        }
        // Score, then newest, then version id: a total order, whatever the segments.
        let order = (
            (SortBySimilarityScore, Order::Desc),
            (
                (
                    SortByStaticFastValue::<i64>::for_field("filed_at"),
                    Order::Desc,
                ),
                (
                    (
                        SortByStaticFastValue::<u64>::for_field("version_hi"),
                        Order::Asc,
                    ),
                    (
                        SortByStaticFastValue::<u64>::for_field("version_lo"),
                        Order::Asc,
                    ),
                ),
            ),
        );
        let top = TopDocs::with_limit(q.limit)
            .and_offset(q.offset)
            .order_by(order);
        let (total, top) = searcher.search(&query, &(Count, top))?;
        let matcher = Matcher::new(&words);
        let mut hits = Vec::with_capacity(top.len());
        for ((score, _), addr) in top {
            if let Some(hit) = self.hit(&searcher, addr, score, &matcher)? {
                hits.push(hit);
            }
        }
        Ok(RecordResults { total, hits })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        addr: DocAddress,
        score: Score,
        matcher: &Matcher,
    ) -> RecordResult<Option<RecordHit>> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        let id = |field: Field| Uuid::parse_str(text(field)).ok();
        let (Some(version), Some(document), Some(file)) =
            (id(self.f.version), id(self.f.document), id(self.f.file))
        else {
            return Ok(None);
        };
        let filed_at = doc
            .get_first(self.f.filed_at)
            .and_then(|v| v.as_i64())
            .and_then(DateTime::from_timestamp_micros)
            .unwrap_or_default();
        let title = text(self.f.title).to_string();
        let title_highlights =
            merge_adjacent(&title, matcher.scan(&mut self.analyzer.clone(), &title));
        let positions = self.text_positions(searcher, addr, matcher)?;
        let snippet = matcher.snippet(text(self.f.text), &positions);
        Ok(Some(RecordHit {
            version,
            document,
            file,
            file_number: text(self.f.file_number).to_string(),
            title,
            title_highlights,
            filed_at,
            score,
            snippet,
        }))
    }

    /// Where the query's tokens are in a document's text: (position, word),
    /// by position, read from the index's postings.
    fn text_positions(
        &self,
        searcher: &Searcher,
        addr: DocAddress,
        matcher: &Matcher,
    ) -> RecordResult<Vec<(usize, usize)>> {
        let inverted = searcher
            .segment_reader(addr.segment_ord)
            .inverted_index(self.f.text)?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for (token, &word) in &matcher.tokens {
            let term = Term::from_field_text(self.f.text, token);
            let postings = inverted
                .read_postings(&term, IndexRecordOption::WithFreqsAndPositions)
                .map_err(tantivy::TantivyError::from)?;
            if let Some(mut postings) = postings
                && postings.doc() <= addr.doc_id
                && postings.seek(addr.doc_id) == addr.doc_id
            {
                buf.clear();
                postings.positions(&mut buf);
                out.extend(buf.iter().map(|&p| (p as usize, word)));
            }
        }
        out.sort_unstable();
        Ok(out)
    }
}

fn boost(q: Box<dyn Query>, factor: Score) -> Box<dyn Query> {
    if factor == 1.0 {
        q
    } else {
        Box::new(tantivy::query::BoostQuery::new(q, factor))
    }
}

#[derive(Debug, Clone, Copy)]
struct Match {
    start: usize,
    end: usize,
    word: usize,
}

/// Finds the query's words in a text (by their analysed tokens).
struct Matcher {
    /// Analysed token → index of the (first) query word it belongs to.
    tokens: HashMap<String, usize>,
    /// One more than the highest word index.
    slots: usize,
}

impl Matcher {
    fn new(words: &[Word]) -> Self {
        let mut tokens = HashMap::new();
        for (i, w) in words.iter().enumerate() {
            for (_, t) in &w.tokens {
                tokens.entry(t.clone()).or_insert(i);
            }
        }
        let slots = tokens.values().max().map_or(0, |m| m + 1);
        Self { tokens, slots }
    }

    /// All matches in a short text (a title), analysing it.
    fn scan(&self, analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.tokens.is_empty() {
            return out;
        }
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            if self.tokens.contains_key(&t.text) {
                out.push((t.offset_from, t.offset_to));
            }
        }
        out
    }

    /// The best window of `text` with its matches highlighted, from the
    /// positions (token ordinals) where the index found the query's tokens;
    /// the beginning of the text when nothing matches there (e.g. a match in
    /// the title only). Only the text up to the chosen window is tokenised,
    /// and without analysis: positions come from the index.
    fn snippet(&self, text: &str, positions: &[(usize, usize)]) -> Snippet {
        let mut found: Vec<Match> = Vec::new();
        let mut scanned_to = text.len();
        if let Some((_, r)) = best_window(
            positions,
            self.slots,
            |&(p, w)| (p, p + 1, w),
            WINDOW_TOKENS,
        ) {
            let stop = positions[r].0 + TAIL_TOKENS;
            let mut next = positions.iter().peekable();
            let mut tokenizer = SimpleTokenizer::default();
            let mut stream = tokenizer.token_stream(text);
            while stream.advance() {
                let t = stream.token();
                if t.position > stop {
                    scanned_to = t.offset_from;
                    break;
                }
                while next.next_if(|&&(p, _)| p < t.position).is_some() {}
                if let Some(&(_, word)) = next.next_if(|&&(p, _)| p == t.position) {
                    found.push(Match {
                        start: t.offset_from,
                        end: t.offset_to,
                        word,
                    });
                }
            }
        }
        let (start, end) = match best_window(
            &found,
            self.slots,
            |m| (m.start, m.end, m.word),
            SNIPPET_BYTES,
        ) {
            Some((l, r)) => {
                let (m_start, m_end) = (found[l].start, found[r].end);
                let slack = SNIPPET_BYTES.saturating_sub(m_end - m_start);
                let mut start = floor_boundary(text, m_start.saturating_sub(slack / 3));
                if start > 0
                    && let Some(ws) = text[start..m_start].find(is_break)
                {
                    start += ws; // begin at a word
                }
                // Not past the scanned text, whose matches are unknown.
                let mut end = ceil_boundary(text, (start + SNIPPET_BYTES).max(m_end))
                    .min(scanned_to.max(m_end));
                if end < text.len()
                    && let Some(ws) = text[m_end..end].rfind(is_break)
                {
                    end = m_end + ws; // end after a word
                }
                (start, end)
            }
            None => {
                let mut end = floor_boundary(text, SNIPPET_BYTES);
                if end < text.len()
                    && let Some(ws) = text[..end].rfind(is_break)
                {
                    end = ws;
                }
                (0, end)
            }
        };
        let inside = found
            .iter()
            .filter(|m| m.start >= start && m.end <= end)
            .map(|m| (m.start, m.end))
            .collect();
        let ranges = merge_adjacent(text, inside);
        render(text, start, end, &ranges)
    }
}

/// The best run of `items` (sorted by start) spanning at most `width`: the
/// most different words, then the most matches, then the earliest. Returns
/// the indices of its first and last item.
fn best_window<T>(
    items: &[T],
    slots: usize,
    span: impl Fn(&T) -> (usize, usize, usize),
    width: usize,
) -> Option<(usize, usize)> {
    let mut counts = vec![0usize; slots];
    let mut distinct = 0;
    let mut left = 0;
    let mut best: Option<((usize, usize), usize, usize)> = None;
    for (right, item) in items.iter().enumerate() {
        let (_, end, word) = span(item);
        counts[word] += 1;
        if counts[word] == 1 {
            distinct += 1;
        }
        while left < right && end - span(&items[left]).0 > width {
            let w = span(&items[left]).2;
            counts[w] -= 1;
            if counts[w] == 0 {
                distinct -= 1;
            }
            left += 1;
        }
        let rank = (distinct, right - left + 1);
        if best.is_none_or(|(b, _, _)| rank > b) {
            best = Some((rank, left, right));
        }
    }
    best.map(|(_, l, r)| (l, r))
}

/// Characters that end a highlight and collapse into one space in a snippet.
fn is_break(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// Joins ranges separated only by a little punctuation ("MS-2026-000123").
fn merge_adjacent(text: &str, ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        if let Some(last) = out.last_mut()
            && start >= last.1
            && start - last.1 <= 3
            && !text[last.1..start].chars().any(is_break)
        {
            last.1 = end;
        } else {
            out.push((start, end));
        }
    }
    out
}

/// `text[start..end]` with whitespace collapsed, `…` where cut, and the
/// ranges moved into the result.
fn render(text: &str, start: usize, end: usize, ranges: &[(usize, usize)]) -> Snippet {
    let mut out = String::with_capacity(end - start + 8);
    let mut highlights = Vec::with_capacity(ranges.len());
    if start > 0 {
        out.push('…');
    }
    let mut next = ranges.iter().peekable();
    let mut open: Option<usize> = None;
    let mut pending_space = false;
    let mut started = false;
    for (i, c) in text[start..end].char_indices() {
        let pos = start + i;
        if is_break(c) {
            pending_space = started;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        started = true;
        if let Some(&&(s, _)) = next.peek()
            && s == pos
        {
            open = Some(out.len());
        }
        out.push(c);
        if let (Some(o), Some(&&(_, e))) = (open, next.peek())
            && pos + c.len_utf8() == e
        {
            highlights.push((o, out.len()));
            open = None;
            next.next();
        }
    }
    if end < text.len() {
        out.push('…');
    }
    Snippet {
        text: out,
        highlights,
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_parts() {
        let mut out = BTreeSet::new();
        reference_terms("32.10.05-ms-2026-000123", &mut out);
        for expected in [
            "32.10.05-ms-2026-000123",
            "ms-2026-000123",
            "2026-000123",
            "000123",
            "32.10.05",
            "32.10",
            "32.10.05-ms",
        ] {
            assert!(out.contains(expected), "{expected} in {out:?}");
        }
        assert!(!out.contains("ms"), "no part without a digit");
        assert!(!out.contains("32"), "no single plan level");
    }

    #[test]
    fn render_collapses_whitespace_and_moves_ranges() {
        let text = "Der  Bescheid\n\tüber Gebühren ist da.";
        let b = text.find("Gebühren").unwrap();
        let s = render(text, 0, text.len(), &[(b, b + "Gebühren".len())]);
        assert_eq!(s.text, "Der Bescheid über Gebühren ist da.");
        let (hs, he) = s.highlights[0];
        assert_eq!(&s.text[hs..he], "Gebühren");
    }
}
