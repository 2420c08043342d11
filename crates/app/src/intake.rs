//! What a submission needs to know besides its data: the published form
//! version (with its parsed definition) and the routing of its service (rules,
//! the service's org unit, its processing deadline, else the central intake).
//!
//! Both change only through staff writes, yet every submission needs them:
//! read from the database each time they cost up to eight round trips per
//! submission — more than the write itself since submissions are written in
//! batches (ADR 0009). They are kept here for a few seconds ([`TTL`], for
//! changes made by other instances or the CLI) and dropped at once when a
//! staff write in this process succeeds ([`App::changed`], called by every
//! staff use case that changes forms, services or routing after its commit). A
//! generation counter keeps a lookup that started before such a write from
//! storing what it read.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rathaus_domain::{forms::FormDefinition, routing, tenancy::TenantId};
use rathaus_storage::{
    forms::{Form, FormVersion},
    prelude::*,
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{App, UseCaseError, UseCaseResult};

/// How long an entry serves without a look at the database.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries at most; a full map starts afresh.
const MAX_ENTRIES: usize = 10_000;

/// A map whose entries expire after `ttl`, with the generation check
/// described in the module docs.
pub struct TtlMap<K, V> {
    entries: RwLock<HashMap<K, (V, Instant)>>,
    generation: AtomicU64,
    ttl: Duration,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    /// The value under `key` while fresh; else the current generation, to
    /// hand to [`TtlMap::insert`] after reading the database.
    pub fn get<Q>(&self, key: &Q) -> Result<V, u64>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        // Read the generation first: a write after this makes the insert a no-op.
        let generation = self.generation.load(Ordering::Acquire);
        match self
            .entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            Some((v, at)) if at.elapsed() < self.ttl => Ok(v.clone()),
            _ => Err(generation),
        }
    }

    /// Keeps `value` unless the map was cleared since `generation`.
    pub fn insert(&self, key: K, value: V, generation: u64) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }

    /// How often the map was cleared.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn clear(&self) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }
}

/// A published form version, ready to validate against.
#[derive(Debug)]
pub struct PublishedForm {
    pub form: Form,
    pub version: FormVersion,
    pub definition: FormDefinition,
}

/// Where the applications of one service go.
#[derive(Debug)]
pub struct Routing {
    /// Zuständigkeitsprüfung: the service's rules on the form values.
    rules: Vec<routing::Rule<Uuid>>,
    /// The service's org unit, else the tenant's central intake.
    fallback: Uuid,
    /// The service's processing deadline in days.
    pub due_days: Option<u32>,
}

impl Routing {
    /// The org unit for these form values.
    pub fn org_unit(&self, data: &Json) -> Uuid {
        routing::route(&self.rules, data)
            .copied()
            .unwrap_or(self.fallback)
    }
}

/// The caches of the submission path.
pub struct IntakeCache {
    /// By (tenant, form id or key as requested).
    forms: TtlMap<(TenantId, String), Arc<PublishedForm>>,
    /// By (tenant, service; none: forms without a service).
    routing: TtlMap<(TenantId, Option<Uuid>), Arc<Routing>>,
    /// Tenant names (the reference prefix is made from it).
    tenant_names: TtlMap<TenantId, String>,
}

impl Default for IntakeCache {
    fn default() -> Self {
        Self {
            forms: TtlMap::new(TTL),
            routing: TtlMap::new(TTL),
            tenant_names: TtlMap::new(TTL),
        }
    }
}

impl IntakeCache {
    /// How often the submission caches were dropped (for tests and metrics).
    pub fn generation(&self) -> u64 {
        self.forms.generation()
    }

    pub fn clear(&self) {
        self.forms.clear();
        self.routing.clear();
        self.tenant_names.clear();
    }
}

impl App {
    /// Drops what the submission path keeps, after a staff write committed.
    pub fn changed(&self) {
        self.intake.clear();
    }

    /// A form of the actor's tenant by id or key.
    pub async fn find_form(&self, tenant: TenantId, id: &str) -> UseCaseResult<Form> {
        let repo = self.store.repo();
        let found = match Uuid::parse_str(id) {
            Ok(uuid) => repo.form(tenant, uuid).await?,
            Err(_) => repo.form_by_key(tenant, id).await?,
        };
        found.ok_or(UseCaseError::NotFound)
    }

    /// The published version of a form (by id or key) with its parsed definition.
    pub async fn published(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> UseCaseResult<(Form, FormVersion, FormDefinition)> {
        let form = self.find_form(tenant, id).await?;
        let (form, v) = self
            .store
            .repo()
            .published_form(tenant, form.id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let def = v.definition().ok_or(UseCaseError::NotFound)?;
        Ok((form, v, def))
    }

    /// The published version of a form, by id or key, from the cache.
    pub async fn published_form(
        &self,
        tenant: TenantId,
        form: &str,
    ) -> UseCaseResult<Arc<PublishedForm>> {
        let key = (tenant, form.to_string());
        let generation = match self.intake.forms.get(&key) {
            Ok(found) => return Ok(found),
            Err(generation) => generation,
        };
        let (form, version, definition) = self.published(tenant, form).await?;
        let published = Arc::new(PublishedForm {
            form,
            version,
            definition,
        });
        self.intake.forms.insert(key, published.clone(), generation);
        Ok(published)
    }

    /// The routing of a service's applications (none: the central intake), from the cache.
    pub async fn routing(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
    ) -> UseCaseResult<Arc<Routing>> {
        let key = (tenant, service);
        let generation = match self.intake.routing.get(&key) {
            Ok(found) => return Ok(found),
            Err(generation) => generation,
        };
        let repo = self.store.repo();
        let published = match service {
            Some(s) => repo.published(tenant, s).await?,
            None => None,
        };
        let found = match (service, published) {
            (Some(s), Some(p)) => Routing {
                rules: repo
                    .routing_rules(tenant, s)
                    .await?
                    .into_iter()
                    .map(|r| routing::Rule {
                        field: r.field,
                        pattern: r.pattern,
                        target: r.org_unit_id,
                    })
                    .collect(),
                fallback: p.org_unit.id,
                due_days: p.content.processing_days,
            },
            _ => Routing {
                rules: Vec::new(),
                fallback: repo
                    .org_units(tenant)
                    .await?
                    .into_iter()
                    .find(|u| u.parent_id.is_none())
                    .map(|u| u.id)
                    .ok_or_else(|| {
                        UseCaseError::Internal("tenant has no org unit for the intake".into())
                    })?,
                due_days: None,
            },
        };
        let found = Arc::new(found);
        self.intake.routing.insert(key, found.clone(), generation);
        Ok(found)
    }

    /// The tenant's name (for reference prefixes), from the cache.
    pub async fn tenant_name(&self, tenant: TenantId) -> UseCaseResult<String> {
        let generation = match self.intake.tenant_names.get(&tenant) {
            Ok(found) => return Ok(found),
            Err(generation) => generation,
        };
        let name = self
            .store
            .repo()
            .tenant(tenant)
            .await?
            .ok_or(UseCaseError::NotFound)?
            .name;
        self.intake
            .tenant_names
            .insert(tenant, name.clone(), generation);
        Ok(name)
    }

    /// Routing: the service's responsible org unit, else the tenant's central
    /// intake (its first top-level org unit); with the service's processing
    /// deadline in days.
    pub async fn route(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        data: &Json,
    ) -> UseCaseResult<(Uuid, Option<u32>)> {
        let routing = self.routing(tenant, service).await?;
        Ok((routing.org_unit(data), routing.due_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_from_before_a_clear_is_not_kept() {
        let map: TtlMap<u8, &str> = TtlMap::new(TTL);
        let Err(generation) = map.get(&1) else {
            panic!("empty map")
        };
        map.clear(); // a staff write commits while the lookup reads
        map.insert(1, "old", generation);
        assert!(map.get(&1).is_err());
        let Err(generation) = map.get(&1) else {
            panic!("still empty")
        };
        map.insert(1, "new", generation);
        assert_eq!(map.get(&1), Ok("new"));
    }

    #[test]
    fn entries_expire() {
        let map: TtlMap<u8, u8> = TtlMap::new(Duration::ZERO);
        map.insert(1, 1, 0);
        assert!(map.get(&1).is_err());
    }
}
