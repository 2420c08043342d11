//! The instance's search index over the published catalog.
//!
//! At start the index is built from the database. Afterwards every instance
//! follows `catalog_index_log` — a row written in the same transaction as each
//! publication or archiving — from its own watermark, so all instances reach
//! the same index within a second, whichever instance approved the change.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use rathaus_domain::{catalog::slugify, tenancy::TenantId};
use rathaus_search::{CatalogIndex, SearchDoc, Synonyms};
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
    synonyms: RwLock<HashMap<Uuid, (Synonyms, Instant)>>,
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
        if let Some((s, at)) = self.synonyms.read().expect("synonyms lock").get(&tenant.0)
            && at.elapsed() < SYNONYM_TTL
        {
            return Ok(s.clone());
        }
        let rows = store.repo().synonyms(tenant).await?;
        let syn = Synonyms::new(rows.iter().map(|r| (r.term.as_str(), r.expansion.as_str())));
        self.synonyms
            .write()
            .expect("synonyms lock")
            .insert(tenant.0, (syn.clone(), Instant::now()));
        Ok(syn)
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

/// Errors of index maintenance: storage or index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Storage(#[from] rathaus_storage::StorageError),
    #[error(transparent)]
    Search(#[from] rathaus_search::SearchError),
}

pub type IndexResult<T> = std::result::Result<T, IndexError>;

impl From<IndexError> for crate::UseCaseError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Storage(s) => s.into(),
            IndexError::Search(s) => crate::UseCaseError::Internal(s.to_string()),
        }
    }
}
