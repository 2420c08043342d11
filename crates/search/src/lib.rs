//! Search over the service catalog with tantivy: German stemming and stop
//! words, typo tolerance (fuzzy terms, transpositions count as one edit),
//! prefix matching ("hund" → Hundesteuer), synonyms edited by the Redaktion
//! ("Perso" → Personalausweis), filters by tenant, audience and topic, and a
//! ranking that puts title matches first.
//!
//! The index lives in memory; it is rebuilt from the database at start and
//! kept current from the catalog's change log (see docs/architecture.md).
//!
//! The e-file's documents have their own index with the same German
//! analysis: [`RecordIndex`] in [`records`].

use std::{collections::HashMap, sync::Mutex};

use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
    tokenizer::{
        AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
        StopWordFilter, TextAnalyzer,
    },
};
use uuid::Uuid;

pub mod records;

pub use records::{
    QueryLimit, RecordDoc, RecordError, RecordHit, RecordIndex, RecordQuery, RecordResult,
    RecordResults, Snippet,
};

const ANALYZER: &str = "de_service";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// What is indexed of one published service.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    pub id: Uuid,
    pub tenant: Uuid,
    pub slug: String,
    pub title_de: String,
    pub title_en: String,
    pub summary_de: String,
    pub summary_en: String,
    /// All other text (sections, topics, life situations).
    pub body: String,
    /// Audience codes (`citizen`, `business`).
    pub audience: Vec<String>,
    /// Topic slugs.
    pub topics: Vec<String>,
    /// Life situation slugs.
    pub life_situations: Vec<String>,
}

/// A search result with what a result list shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: Uuid,
    pub slug: String,
    pub title_de: String,
    pub title_en: String,
    pub summary_de: String,
    pub summary_en: String,
    pub score: f32,
}

/// Synonyms of one tenant: lower-case term → what it also means.
#[derive(Debug, Clone, Default)]
pub struct Synonyms(HashMap<String, Vec<String>>);

impl Synonyms {
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (term, expansion) in pairs {
            map.entry(term.trim().to_lowercase())
                .or_default()
                .push(expansion.trim().to_string());
        }
        Self(map)
    }

    fn get(&self, term: &str) -> &[String] {
        self.0.get(term).map(Vec::as_slice).unwrap_or_default()
    }
}

/// One search.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    pub tenant: Uuid,
    pub text: &'a str,
    pub audience: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub limit: usize,
}

/// Listing without words: filters only, sorted by German title.
#[derive(Debug, Clone, Default)]
pub struct ListQuery<'a> {
    pub audience: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub life_situation: Option<&'a str>,
}

struct Fields {
    id: Field,
    tenant: Field,
    slug: Field,
    title: Field,
    title_joined: Field,
    body: Field,
    audience: Field,
    topic: Field,
    life: Field,
    title_de: Field,
    title_en: Field,
    summary_de: Field,
    summary_en: Field,
}

/// The in-memory catalog index shared by all requests of an instance.
pub struct CatalogIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

/// The German analysis of both indexes: words, lower case, stop words, the
/// Snowball stemmer, umlauts folded ("Gebühren" → "gebuhr").
fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::German).expect("German stop words are built in"))
        .filter(Stemmer::new(Language::German))
        .filter(AsciiFoldingFilter)
        .build()
}

/// Hyphenated compounds joined: "Gewerbe-Anmeldung" → "Gewerbeanmeldung",
/// so that a query typed as one word (even with a typo) finds them.
fn joined_compounds(title: &str) -> String {
    title
        .split_whitespace()
        .filter(|w| w.contains('-'))
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl CatalogIndex {
    pub fn new() -> Result<Self> {
        let mut sb = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let f = Fields {
            id: sb.add_text_field("id", STRING | STORED),
            tenant: sb.add_text_field("tenant", STRING),
            slug: sb.add_text_field("slug", STORED),
            title: sb.add_text_field("title", text.clone()),
            title_joined: sb.add_text_field("title_joined", text.clone()),
            body: sb.add_text_field("body", text),
            audience: sb.add_text_field("audience", STRING),
            topic: sb.add_text_field("topic", STRING),
            life: sb.add_text_field("life", STRING),
            title_de: sb.add_text_field("title_de", STORED),
            title_en: sb.add_text_field("title_en", STORED),
            summary_de: sb.add_text_field("summary_de", STORED),
            summary_en: sb.add_text_field("summary_en", STORED),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer_with_num_threads(1, 50_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }

    /// Adds or replaces documents, then makes them visible.
    pub fn upsert(&self, docs: &[SearchDoc]) -> Result<()> {
        let mut w = self.writer.lock().expect("index writer lock");
        for d in docs {
            w.delete_term(Term::from_field_text(self.f.id, &d.id.to_string()));
            let mut doc = TantivyDocument::default();
            doc.add_text(self.f.id, d.id.to_string());
            doc.add_text(self.f.tenant, d.tenant.to_string());
            doc.add_text(self.f.slug, &d.slug);
            doc.add_text(self.f.title, &d.title_de);
            doc.add_text(self.f.title, &d.title_en);
            doc.add_text(self.f.title_joined, joined_compounds(&d.title_de));
            doc.add_text(self.f.body, &d.body);
            for a in &d.audience {
                doc.add_text(self.f.audience, a);
            }
            for t in &d.topics {
                doc.add_text(self.f.topic, t);
            }
            for l in &d.life_situations {
                doc.add_text(self.f.life, l);
            }
            doc.add_text(self.f.title_de, &d.title_de);
            doc.add_text(self.f.title_en, &d.title_en);
            doc.add_text(self.f.summary_de, &d.summary_de);
            doc.add_text(self.f.summary_en, &d.summary_en);
            w.add_document(doc)?;
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Removes documents (unpublished or archived services).
    pub fn remove(&self, ids: &[Uuid]) -> Result<()> {
        let mut w = self.writer.lock().expect("index writer lock");
        for id in ids {
            w.delete_term(Term::from_field_text(self.f.id, &id.to_string()));
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Removes everything (before a rebuild).
    pub fn clear(&self) -> Result<()> {
        let mut w = self.writer.lock().expect("index writer lock");
        w.delete_all_documents()?;
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn analyze(&self, text: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// All the ways one analysed query token may match, best first.
    fn token_query(&self, token: &str) -> Box<dyn Query> {
        let f = &self.f;
        let term = |field| Term::from_field_text(field, token);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Should,
                boost(
                    TermQuery::new(term(f.title), IndexRecordOption::WithFreqs),
                    6.0,
                ),
            ),
            (
                Occur::Should,
                boost(
                    TermQuery::new(term(f.title_joined), IndexRecordOption::WithFreqs),
                    5.0,
                ),
            ),
            (
                Occur::Should,
                boost(
                    TermQuery::new(term(f.body), IndexRecordOption::WithFreqs),
                    1.0,
                ),
            ),
        ];
        let len = token.chars().count();
        if len >= 3 {
            // Word beginnings: "hund" → "hundesteu", "perso" → "personalausweis".
            clauses.push((
                Occur::Should,
                boost(FuzzyTermQuery::new_prefix(term(f.title), 0, true), 3.0),
            ));
            clauses.push((
                Occur::Should,
                boost(
                    FuzzyTermQuery::new_prefix(term(f.title_joined), 0, true),
                    2.5,
                ),
            ));
            clauses.push((
                Occur::Should,
                boost(FuzzyTermQuery::new_prefix(term(f.body), 0, true), 0.3),
            ));
        }
        // Typos: one edit from 5 characters, two from 8. Fuzzy matches score a
        // constant, so the closer tier is added separately and counts more.
        let fuzzy = |field, distance: u8, factor: f32| -> (Occur, Box<dyn Query>) {
            (
                Occur::Should,
                boost(FuzzyTermQuery::new(term(field), distance, true), factor),
            )
        };
        if len >= 5 {
            clauses.push(fuzzy(f.title, 1, 2.0));
            clauses.push(fuzzy(f.title_joined, 1, 2.0));
            clauses.push(fuzzy(f.body, 1, 0.2));
        }
        if len >= 8 {
            clauses.push(fuzzy(f.title, 2, 1.0));
            clauses.push(fuzzy(f.title_joined, 2, 1.0));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// A whole expansion ("Gewerbe-Anmeldung") as one alternative: all its words.
    fn phrase_query(&self, text: &str) -> Option<Box<dyn Query>> {
        let tokens = self.analyze(text);
        if tokens.is_empty() {
            return None;
        }
        let clauses = tokens
            .iter()
            .map(|t| (Occur::Must, self.token_query(t)))
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn build(
        &self,
        q: &SearchQuery<'_>,
        synonyms: &Synonyms,
        every_word: bool,
    ) -> Option<Box<dyn Query>> {
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for raw in q
            .text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        {
            let raw = raw
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            if raw.is_empty() {
                continue;
            }
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if let Some(q) = self.phrase_query(&raw) {
                alternatives.push((Occur::Should, q));
            }
            for expansion in synonyms.get(&raw) {
                if let Some(q) = self.phrase_query(expansion) {
                    alternatives.push((Occur::Should, boost_box(q, 1.5)));
                }
            }
            if alternatives.is_empty() {
                continue; // a stop word
            }
            let occur = if every_word {
                Occur::Must
            } else {
                Occur::Should
            };
            words.push((occur, Box::new(BooleanQuery::new(alternatives))));
        }
        let mut filters: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(self.f.tenant, &q.tenant.to_string()),
                IndexRecordOption::Basic,
            )),
        )];
        if let Some(a) = q.audience.filter(|s| !s.is_empty()) {
            filters.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.f.audience, a),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(t) = q.topic.filter(|s| !s.is_empty()) {
            filters.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.f.topic, t),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if words.is_empty() {
            return None;
        }
        let mut clauses = filters;
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(words))));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn filters(
        &self,
        tenant: Uuid,
        audience: Option<&str>,
        topic: Option<&str>,
        life: Option<&str>,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let term = |field: Field, value: &str| -> (Occur, Box<dyn Query>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )),
            )
        };
        let mut out = vec![term(self.f.tenant, &tenant.to_string())];
        for (field, value) in [
            (self.f.audience, audience),
            (self.f.topic, topic),
            (self.f.life, life),
        ] {
            if let Some(v) = value.filter(|s| !s.is_empty()) {
                out.push(term(field, v));
            }
        }
        out
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        score: f32,
        addr: tantivy::DocAddress,
    ) -> Result<Option<Hit>> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let Ok(id) = Uuid::parse_str(&text(self.f.id)) else {
            return Ok(None);
        };
        Ok(Some(Hit {
            id,
            slug: text(self.f.slug),
            title_de: text(self.f.title_de),
            title_en: text(self.f.title_en),
            summary_de: text(self.f.summary_de),
            summary_en: text(self.f.summary_en),
            score,
        }))
    }

    /// Lists one tenant's services matching the filters, by German title.
    pub fn list(&self, tenant: Uuid, q: &ListQuery<'_>) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(self.filters(tenant, q.audience, q.topic, q.life_situation));
        let top = searcher.search(&query, &TopDocs::with_limit(100_000).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            if let Some(h) = self.hit(&searcher, score, addr)? {
                hits.push(h);
            }
        }
        hits.sort_by_cached_key(|h| h.title_de.to_lowercase());
        Ok(hits)
    }

    /// Searches one tenant's published services. Every word must match
    /// (exactly, by prefix, fuzzily or through a synonym); when that finds
    /// nothing, any word may match.
    pub fn search(&self, q: &SearchQuery<'_>, synonyms: &Synonyms) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        for every_word in [true, false] {
            let Some(query) = self.build(q, synonyms, every_word) else {
                return Ok(vec![]);
            };
            let top = searcher.search(
                &query,
                &TopDocs::with_limit(q.limit.max(1)).order_by_score(),
            )?;
            if top.is_empty() && every_word {
                continue;
            }
            let mut hits = Vec::with_capacity(top.len());
            for (score, addr) in top {
                let doc: TantivyDocument = searcher.doc(addr)?;
                let text = |field: Field| {
                    doc.get_first(field)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let Ok(id) = Uuid::parse_str(&text(self.f.id)) else {
                    continue;
                };
                hits.push(Hit {
                    id,
                    slug: text(self.f.slug),
                    title_de: text(self.f.title_de),
                    title_en: text(self.f.title_en),
                    summary_de: text(self.f.summary_de),
                    summary_en: text(self.f.summary_en),
                    score,
                });
            }
            return Ok(hits);
        }
        Ok(vec![])
    }
}

fn boost(q: impl Query + 'static, factor: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(q), factor))
}

fn boost_box(q: Box<dyn Query>, factor: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(
        tenant: Uuid,
        slug: &str,
        title: &str,
        body: &str,
        audience: &str,
        topic: &str,
    ) -> SearchDoc {
        SearchDoc {
            id: Uuid::new_v4(),
            tenant,
            slug: slug.into(),
            title_de: title.into(),
            title_en: String::new(),
            summary_de: String::new(),
            summary_en: String::new(),
            body: body.into(),
            audience: vec![audience.into()],
            topics: vec![topic.into()],
            life_situations: vec!["umzug".into()],
        }
    }

    fn fixture() -> (CatalogIndex, Uuid, Synonyms) {
        let t = Uuid::new_v4();
        let idx = CatalogIndex::new().unwrap();
        idx.upsert(&[
            doc(
                t,
                "gewerbe-anmeldung",
                "Gewerbe anmelden (Gewerbe-Anmeldung)",
                "Wer ein Gewerbe beginnt, muss es anzeigen.",
                "business",
                "wirtschaft",
            ),
            doc(
                t,
                "gewerbe-ummeldung",
                "Gewerbe ummelden (Gewerbe-Ummeldung)",
                "Änderungen eines angemeldeten Gewerbes.",
                "business",
                "wirtschaft",
            ),
            doc(
                t,
                "gewerbe-abmeldung",
                "Gewerbe abmelden (Gewerbe-Abmeldung)",
                "Wer sein Gewerbe aufgibt.",
                "business",
                "wirtschaft",
            ),
            doc(
                t,
                "personalausweis",
                "Personalausweis beantragen",
                "Ausweis für Deutsche ab 16 Jahren. Persönlich vorsprechen.",
                "citizen",
                "ausweise",
            ),
            doc(
                t,
                "hundesteuer",
                "Hundesteuer anmelden",
                "Für jeden Hund in Musterstadt.",
                "citizen",
                "steuern",
            ),
            doc(
                t,
                "bewohnerparken",
                "Bewohnerparkausweis beantragen",
                "Für Ihr Fahrzeug im Bewohnerparkgebiet.",
                "citizen",
                "verkehr",
            ),
            doc(
                t,
                "meldebescheinigung",
                "Meldebescheinigung beantragen",
                "Bescheinigung über Ihre Wohnung.",
                "citizen",
                "melde",
            ),
        ])
        .unwrap();
        let syn = Synonyms::new([
            ("perso", "Personalausweis"),
            ("gewerbeschein", "Gewerbe-Anmeldung"),
            ("kfz", "Fahrzeug"),
        ]);
        (idx, t, syn)
    }

    fn first(idx: &CatalogIndex, t: Uuid, syn: &Synonyms, text: &str) -> Option<String> {
        let q = SearchQuery {
            tenant: t,
            text,
            audience: None,
            topic: None,
            limit: 10,
        };
        idx.search(&q, syn).unwrap().first().map(|h| h.slug.clone())
    }

    #[test]
    fn german_search_cases() {
        let (idx, t, syn) = fixture();
        assert_eq!(
            first(&idx, t, &syn, "Perso").as_deref(),
            Some("personalausweis")
        );
        assert_eq!(
            first(&idx, t, &syn, "Gewerbe anmelden").as_deref(),
            Some("gewerbe-anmeldung")
        );
        assert_eq!(first(&idx, t, &syn, "hund").as_deref(), Some("hundesteuer"));
        assert_eq!(
            first(&idx, t, &syn, "Gewerbeanmledung").as_deref(),
            Some("gewerbe-anmeldung")
        );
        assert_eq!(
            first(&idx, t, &syn, "Gewerbeschein").as_deref(),
            Some("gewerbe-anmeldung")
        );
        assert_eq!(
            first(&idx, t, &syn, "Kfz").as_deref(),
            Some("bewohnerparken")
        );
        assert_eq!(
            first(&idx, t, &syn, "Personalausweiss").as_deref(),
            Some("personalausweis")
        );
        assert_eq!(first(&idx, t, &syn, "die und der"), None, "only stop words");
        assert_eq!(first(&idx, t, &syn, "xyzzy"), None);
    }

    #[test]
    fn filters_and_tenants() {
        let (idx, t, syn) = fixture();
        let q = SearchQuery {
            tenant: t,
            text: "beantragen",
            audience: Some("business"),
            topic: None,
            limit: 10,
        };
        assert!(idx.search(&q, &syn).unwrap().is_empty());
        let q = SearchQuery {
            tenant: t,
            text: "beantragen",
            audience: Some("citizen"),
            topic: Some("verkehr"),
            limit: 10,
        };
        let hits = idx.search(&q, &syn).unwrap();
        assert_eq!(
            hits.iter().map(|h| h.slug.as_str()).collect::<Vec<_>>(),
            ["bewohnerparken"]
        );
        let listed = idx
            .list(
                t,
                &ListQuery {
                    audience: Some("business"),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            listed.iter().map(|h| h.slug.as_str()).collect::<Vec<_>>(),
            [
                "gewerbe-abmeldung",
                "gewerbe-anmeldung",
                "gewerbe-ummeldung"
            ],
            "sorted by title"
        );
        assert_eq!(
            idx.list(
                t,
                &ListQuery {
                    life_situation: Some("umzug"),
                    ..Default::default()
                }
            )
            .unwrap()
            .len(),
            7
        );
        assert!(
            idx.list(
                t,
                &ListQuery {
                    topic: Some("nix"),
                    ..Default::default()
                }
            )
            .unwrap()
            .is_empty()
        );
        let other = Uuid::new_v4();
        assert_eq!(
            first(&idx, other, &syn, "Gewerbe"),
            None,
            "another tenant sees nothing"
        );
    }

    #[test]
    fn upsert_replaces_and_remove_deletes() {
        let (idx, t, syn) = fixture();
        let n = idx.len();
        let mut d = doc(
            t,
            "neu",
            "Sperrmüll anmelden",
            "Abholung",
            "citizen",
            "umwelt",
        );
        idx.upsert(std::slice::from_ref(&d)).unwrap();
        d.title_de = "Sperrmüllabholung bestellen".into();
        idx.upsert(std::slice::from_ref(&d)).unwrap();
        assert_eq!(idx.len(), n + 1);
        assert_eq!(
            first(&idx, t, &syn, "Sperrmüllabholung").as_deref(),
            Some("neu")
        );
        idx.remove(&[d.id]).unwrap();
        assert_eq!(idx.len(), n);
        assert_eq!(first(&idx, t, &syn, "Sperrmüllabholung"), None);
    }
}
