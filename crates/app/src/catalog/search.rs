//! The instance's search index over the published catalog.
//!
//! At start the index is built from the database. Afterwards every instance
//! follows `catalog_index_log` — a row written in the same transaction as each
//! publication or archiving — from its own watermark, so all instances reach
//! the same index within a second, whichever instance approved the change.
//!
//! Results are kept per (tenant, text, filters, limit) for as long as the
//! index and the tenant's synonyms stay as they were ([`ResultCache`]): a
//! portal is asked the same few questions again and again, and an answer
//! from memory takes no CPU of the blocking pool.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use lru::LruCache;
use rathaus_domain::{catalog::slugify, tenancy::TenantId};
use rathaus_search::{CatalogIndex, Hit, SearchDoc, Synonyms};
use rathaus_storage::{
    Store,
    catalog::{CatalogRepository, Service, ServiceVersion},
};
use tokio::sync::watch;
use uuid::Uuid;

/// A topic or life situation with its slug and the number of services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub slug: String,
    pub name: String,
    pub count: usize,
}

#[derive(Default)]
struct FacetEntry {
    tenant: Uuid,
    topics: Vec<String>,
    life_situations: Vec<String>,
}

pub struct CatalogSearch {
    pub index: CatalogIndex,
    watermark: AtomicI64,
    facets: RwLock<HashMap<Uuid, FacetEntry>>,
    /// Per tenant: the synonyms, when they were read, and which reading
    /// this is (results found with other synonyms are not served).
    synonyms: RwLock<HashMap<Uuid, (Synonyms, Instant, u64)>>,
    synonym_reads: AtomicU64,
    results: ResultCache,
    sync_lock: tokio::sync::Mutex<()>,
    /// Bumped on every index change; the facet cache is valid for one generation.
    generation: std::sync::atomic::AtomicU64,
    facet_cache: RwLock<HashMap<Uuid, (u64, FacetLists)>>,
}

/// Topics and life situations of one tenant.
#[derive(Clone, Default)]
struct FacetLists {
    topics: Vec<Facet>,
    life_situations: Vec<Facet>,
}

const SYNONYM_TTL: Duration = Duration::from_secs(10);

fn to_doc(s: &Service, v: &ServiceVersion) -> (SearchDoc, FacetEntry) {
    let c = v.content();
    let doc = SearchDoc {
        id: s.id,
        tenant: s.tenant_id,
        slug: s.slug.clone(),
        title_de: c.title.de.clone(),
        title_en: c.title.en.clone(),
        summary_de: c.summary.de.clone(),
        summary_en: c.summary.en.clone(),
        body: c.body_text(),
        audience: c.audience.iter().map(|a| a.code().to_string()).collect(),
        topics: c.topics.iter().map(|t| slugify(t)).collect(),
        life_situations: c.life_situations.iter().map(|t| slugify(t)).collect(),
    };
    let facets = FacetEntry {
        tenant: s.tenant_id,
        topics: c.topics,
        life_situations: c.life_situations,
    };
    (doc, facets)
}

impl CatalogSearch {
    pub fn new() -> Self {
        Self {
            index: CatalogIndex::new().expect("an in-memory index can always be created"),
            watermark: AtomicI64::new(0),
            facets: RwLock::new(HashMap::new()),
            synonyms: RwLock::new(HashMap::new()),
            synonym_reads: AtomicU64::new(0),
            results: ResultCache::new(RESULT_BUDGET_BYTES),
            sync_lock: tokio::sync::Mutex::new(()),
            generation: std::sync::atomic::AtomicU64::new(0),
            facet_cache: RwLock::new(HashMap::new()),
        }
    }

    /// Builds the index from the database. Returns the number of services.
    pub async fn rebuild(&self, store: &Store) -> IndexResult<usize> {
        let _guard = self.sync_lock.lock().await;
        // Read the log head first: changes after it are applied by `sync`.
        let head = store.repo().index_log_head().await?;
        self.index.clear()?;
        self.facets.write().expect("facets lock").clear();
        let mut after = None;
        let mut total = 0;
        loop {
            let page = store.repo().published_page(after, 2_000).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.id);
            let mut docs = Vec::with_capacity(page.len());
            let mut facets = self.facets.write().expect("facets lock");
            for (s, v) in &page {
                let (d, f) = to_doc(s, v);
                facets.insert(s.id, f);
                docs.push(d);
            }
            drop(facets);
            self.index.upsert(&docs)?;
            total += docs.len();
        }
        self.watermark.store(head, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(total)
    }

    /// How often the index changed (a rebuild, or changes applied from the
    /// log): what is cached from the index is valid for one generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Applies changes logged since the last sync. Returns how many services changed.
    pub async fn sync(&self, store: &Store) -> IndexResult<usize> {
        let _guard = self.sync_lock.lock().await;
        let mut changed = 0;
        loop {
            let from = self.watermark.load(Ordering::SeqCst);
            let log = store.repo().index_log_since(from, 500).await?;
            let Some(last) = log.last().map(|l| l.id) else {
                return Ok(changed);
            };
            let mut seen = std::collections::HashSet::new();
            let mut upserts = Vec::new();
            let mut removals = Vec::new();
            for entry in log.iter().filter(|l| seen.insert(l.service_id)) {
                match store
                    .repo()
                    .published(TenantId(entry.tenant_id), entry.service_id)
                    .await?
                {
                    Some(p) => {
                        let (d, f) = to_doc(&p.service, &p.version);
                        self.facets
                            .write()
                            .expect("facets lock")
                            .insert(p.service.id, f);
                        upserts.push(d);
                    }
                    None => {
                        self.facets
                            .write()
                            .expect("facets lock")
                            .remove(&entry.service_id);
                        removals.push(entry.service_id);
                    }
                }
            }
            if !upserts.is_empty() {
                self.index.upsert(&upserts)?;
            }
            if !removals.is_empty() {
                self.index.remove(&removals)?;
            }
            changed += seen.len();
            self.watermark.store(last, Ordering::SeqCst);
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Follows the change log until shutdown.
    pub async fn follow(
        &self,
        store: Store,
        interval: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            if let Err(e) = self.sync(&store).await {
                tracing::warn!(error = %e, "search index sync failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// The tenant's synonyms (cached for a few seconds).
    pub async fn synonyms(&self, store: &Store, tenant: TenantId) -> IndexResult<Synonyms> {
        Ok(self.synonyms_read(store, tenant).await?.0)
    }

    /// The tenant's synonyms with the number of their reading.
    async fn synonyms_read(&self, store: &Store, tenant: TenantId) -> IndexResult<(Synonyms, u64)> {
        if let Some((s, at, read)) = self.synonyms.read().expect("synonyms lock").get(&tenant.0)
            && at.elapsed() < SYNONYM_TTL
        {
            return Ok((s.clone(), *read));
        }
        let rows = store.repo().synonyms(tenant).await?;
        let syn = Synonyms::new(rows.iter().map(|r| (r.term.as_str(), r.expansion.as_str())));
        let read = self.synonym_reads.fetch_add(1, Ordering::SeqCst) + 1;
        self.synonyms
            .write()
            .expect("synonyms lock")
            .insert(tenant.0, (syn.clone(), Instant::now(), read));
        Ok((syn, read))
    }

    /// The number of the tenant's current synonyms reading, while fresh.
    fn synonyms_fresh(&self, tenant: TenantId) -> Option<u64> {
        match self.synonyms.read().expect("synonyms lock").get(&tenant.0) {
            Some((_, at, read)) if at.elapsed() < SYNONYM_TTL => Some(*read),
            _ => None,
        }
    }

    /// Searches the index, or answers from the result cache when the same
    /// search was made with the same index and synonyms. A search the cache
    /// cannot answer runs on the blocking pool (fuzzy matching is CPU work,
    /// never done on the async workers that serve every other request).
    pub async fn search_cached(
        self: &Arc<Self>,
        store: &Store,
        query: ResultKey,
    ) -> IndexResult<Arc<Vec<Hit>>> {
        // Read the generation first: a change after this makes the result old.
        let generation = self.generation();
        if let Some(read) = self.synonyms_fresh(TenantId(query.tenant))
            && let Some(hits) = self.results.get(&query, generation, read)
        {
            return Ok(hits);
        }
        let (synonyms, read) = self.synonyms_read(store, TenantId(query.tenant)).await?;
        let me = self.clone();
        let q = query.clone();
        let hits = tokio::task::spawn_blocking(move || {
            me.index.search(
                &rathaus_search::SearchQuery {
                    tenant: q.tenant,
                    text: &q.text,
                    audience: q.audience.as_deref(),
                    topic: q.topic.as_deref(),
                    limit: q.limit,
                },
                &synonyms,
            )
        })
        .await
        .map_err(|e| IndexError::Task(e.to_string()))??;
        let hits = Arc::new(hits);
        if self.generation() == generation {
            self.results.insert(query, generation, read, hits.clone());
        }
        Ok(hits)
    }

    /// Searches held by the result cache and their weight in bytes.
    pub fn cached_results(&self) -> (usize, usize) {
        self.results.usage()
    }

    pub fn forget_synonyms(&self, tenant: TenantId) {
        self.synonyms
            .write()
            .expect("synonyms lock")
            .remove(&tenant.0);
    }

    fn facet_list(
        &self,
        tenant: TenantId,
        pick: impl Fn(&FacetEntry) -> &Vec<String>,
    ) -> Vec<Facet> {
        let mut counts: HashMap<String, (String, usize)> = HashMap::new();
        for e in self
            .facets
            .read()
            .expect("facets lock")
            .values()
            .filter(|e| e.tenant == tenant.0)
        {
            for name in pick(e) {
                counts
                    .entry(slugify(name))
                    .or_insert_with(|| (name.clone(), 0))
                    .1 += 1;
            }
        }
        let mut out: Vec<Facet> = counts
            .into_iter()
            .map(|(slug, (name, count))| Facet { slug, name, count })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Facets of a tenant, computed once per index generation.
    fn facets_of(&self, tenant: TenantId) -> FacetLists {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((g, lists)) = self
            .facet_cache
            .read()
            .expect("facet cache lock")
            .get(&tenant.0)
            && *g == generation
        {
            return lists.clone();
        }
        let lists = FacetLists {
            topics: self.facet_list(tenant, |e| &e.topics),
            life_situations: self.facet_list(tenant, |e| &e.life_situations),
        };
        self.facet_cache
            .write()
            .expect("facet cache lock")
            .insert(tenant.0, (generation, lists.clone()));
        lists
    }

    pub fn topics(&self, tenant: TenantId) -> Vec<Facet> {
        self.facets_of(tenant).topics
    }

    pub fn life_situations(&self, tenant: TenantId) -> Vec<Facet> {
        self.facets_of(tenant).life_situations
    }
}

impl Default for CatalogSearch {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes of results the cache holds at most (estimated from the texts).
pub const RESULT_BUDGET_BYTES: usize = 16 << 20;

/// One search: what it is asked and for whom. The text is compared with its
/// spaces collapsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResultKey {
    pub tenant: Uuid,
    pub text: String,
    pub audience: Option<String>,
    pub topic: Option<String>,
    pub limit: usize,
}

impl ResultKey {
    pub fn new(
        tenant: TenantId,
        text: &str,
        audience: Option<&str>,
        topic: Option<&str>,
        limit: usize,
    ) -> Self {
        Self {
            tenant: tenant.0,
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            audience: audience.map(str::to_string),
            topic: topic.map(str::to_string),
            limit,
        }
    }
}

struct CachedResult {
    generation: u64,
    synonyms: u64,
    hits: Arc<Vec<Hit>>,
    cost: usize,
}

/// Search results by [`ResultKey`], valid for one index generation and one
/// synonyms reading, the least recently used dropped beyond a byte budget.
struct ResultCache {
    inner: Mutex<(LruCache<ResultKey, CachedResult>, usize)>,
    budget: usize,
}

impl ResultCache {
    fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new((LruCache::unbounded(), 0)),
            budget,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (LruCache<ResultKey, CachedResult>, usize)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &ResultKey, generation: u64, synonyms: u64) -> Option<Arc<Vec<Hit>>> {
        let mut inner = self.lock();
        let (map, bytes) = &mut *inner;
        let found = map.get(key)?;
        if found.generation == generation && found.synonyms == synonyms {
            return Some(found.hits.clone());
        }
        if let Some(old) = map.pop(key) {
            *bytes = bytes.saturating_sub(old.cost);
        }
        None
    }

    fn insert(&self, key: ResultKey, generation: u64, synonyms: u64, hits: Arc<Vec<Hit>>) {
        let cost = 128
            + key.text.len()
            + hits
                .iter()
                .map(|h| {
                    96 + h.slug.len()
                        + h.title_de.len()
                        + h.title_en.len()
                        + h.summary_de.len()
                        + h.summary_en.len()
                })
                .sum::<usize>();
        if cost > self.budget / 4 {
            return;
        }
        let mut inner = self.lock();
        let (map, bytes) = &mut *inner;
        *bytes += cost;
        let entry = CachedResult {
            generation,
            synonyms,
            hits,
            cost,
        };
        if let Some(old) = map.put(key, entry) {
            *bytes = bytes.saturating_sub(old.cost);
        }
        while *bytes > self.budget {
            match map.pop_lru() {
                Some((_, old)) => *bytes = bytes.saturating_sub(old.cost),
                None => break,
            }
        }
    }

    fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.0.len(), inner.1)
    }
}

/// Errors of index maintenance: storage or index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Storage(#[from] rathaus_storage::StorageError),
    #[error(transparent)]
    Search(#[from] rathaus_search::SearchError),
    #[error("search task failed: {0}")]
    Task(String),
}

pub type IndexResult<T> = std::result::Result<T, IndexError>;

impl From<IndexError> for crate::UseCaseError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Storage(s) => s.into(),
            IndexError::Search(s) => crate::UseCaseError::Internal(s.to_string()),
            IndexError::Task(s) => crate::UseCaseError::Internal(s),
        }
    }
}
