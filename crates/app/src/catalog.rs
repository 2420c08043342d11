//! The service catalog (C1): services and their drafts, import and export,
//! search synonyms, and the published reads of the portal and the API.

pub mod search;

use rathaus_domain::{FieldError, ValidationErrors, catalog::ServiceContent, tenancy::TenantId};
use rathaus_search::Hit;
use rathaus_storage::catalog::{
    PublishedService, Service, ServiceOverview, ServiceVersion, Synonym,
};
use rathaus_storage::prelude::*;
use search::ResultKey;
use std::sync::Arc;
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

pub use rathaus_domain::catalog::{MAX_SEARCH_CHARS, MAX_SEARCH_TERMS, SearchText};

/// Most services one import may carry.
pub const MAX_IMPORT_SERVICES: usize = 2000;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    /// The services that were not taken, by position in the input.
    pub problems: Vec<ImportProblem>,
}

/// A service an import refused.
#[derive(Debug)]
pub struct ImportProblem {
    pub index: usize,
    /// The slug, when the entry could be read at all.
    pub slug: Option<String>,
    pub error: ImportError,
}

#[derive(Debug)]
pub enum ImportError {
    /// The entry is not a service in the exchange format.
    Unreadable(String),
    /// The service was read but refused (validation, workflow, conflict).
    Refused(UseCaseError),
}

impl App {
    /// Creates a service with its first draft.
    pub async fn create_service(
        &self,
        actor: &Actor,
        content: ServiceContent,
    ) -> UseCaseResult<(Service, ServiceVersion)> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self
            .store
            .create_service(staff.tenant(), staff.user.id, content)
            .await?)
    }

    /// Changes the open draft of a service, or starts a new draft; the
    /// public keeps the published version until a second editor approves.
    pub async fn save_service(
        &self,
        actor: &Actor,
        id: Uuid,
        content: ServiceContent,
    ) -> UseCaseResult<ServiceVersion> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self
            .store
            .repo()
            .save_draft(staff.tenant(), id, staff.user.id, content)
            .await?)
    }

    /// The editor's overview of all services.
    pub async fn catalog_overview(&self, actor: &Actor) -> UseCaseResult<Vec<ServiceOverview>> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self.store.repo().overview(staff.tenant()).await?)
    }

    /// The names of the org units a service may name as responsible.
    pub async fn service_units(&self, actor: &Actor) -> UseCaseResult<Vec<String>> {
        let staff = actor.require(Permission::EditContent)?;
        let units = self.store.repo().org_units(staff.tenant()).await?;
        Ok(units.into_iter().map(|u| u.name).collect())
    }

    /// A service for its editors (any status).
    pub async fn service_for_editing(&self, actor: &Actor, id: Uuid) -> UseCaseResult<Service> {
        let staff = actor.require(Permission::EditContent)?;
        self.store
            .repo()
            .service(staff.tenant(), id)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// Imports services in the exchange format as drafts: a new service, or
    /// a new draft of the service with the same slug. Each service on its
    /// own; what is refused is reported, the rest is taken.
    pub async fn import_catalog(
        &self,
        actor: &Actor,
        services: Vec<serde_json::Value>,
    ) -> UseCaseResult<ImportReport> {
        let staff = actor.require(Permission::EditContent)?;
        if services.len() > MAX_IMPORT_SERVICES {
            return Err(ValidationErrors::from(FieldError::new("services", "too_many")).into());
        }
        let (tenant, author) = (staff.tenant(), staff.user.id);
        let mut report = ImportReport::default();
        for (index, raw) in services.into_iter().enumerate() {
            let content: ServiceContent = match serde_json::from_value(raw) {
                Ok(c) => c,
                Err(e) => {
                    report.problems.push(ImportProblem {
                        index,
                        slug: None,
                        error: ImportError::Unreadable(e.to_string()),
                    });
                    continue;
                }
            };
            let slug = content.slug.clone();
            let existing = self.store.repo().service_by_slug(tenant, &slug).await?;
            let result = match existing {
                Some(s) => self
                    .store
                    .repo()
                    .save_draft(tenant, s.id, author, content)
                    .await
                    .map(|_| false),
                None => self
                    .store
                    .create_service(tenant, author, content)
                    .await
                    .map(|_| true),
            };
            match result {
                Ok(true) => report.created += 1,
                Ok(false) => report.updated += 1,
                Err(e) => report.problems.push(ImportProblem {
                    index,
                    slug: Some(slug),
                    error: ImportError::Refused(e.into()),
                }),
            }
        }
        Ok(report)
    }

    /// The published catalog of a tenant in the exchange format (public:
    /// other municipalities re-use it).
    pub async fn export_catalog(&self, tenant: TenantId) -> UseCaseResult<Vec<ServiceContent>> {
        Ok(self.store.repo().published_contents(tenant).await?)
    }

    /// A published service (not archived) by id, for the portal and the API.
    pub async fn published_service(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> UseCaseResult<PublishedService> {
        self.store
            .repo()
            .published(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// A published service (not archived) by its address.
    pub async fn published_service_by_slug(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> UseCaseResult<PublishedService> {
        self.store
            .repo()
            .published_by_slug(tenant, slug)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// Published services of a tenant matching words (with the tenant's
    /// synonyms), best first. The text is a parsed [`SearchText`] (within the limits).
    /// A search made before with the same index and synonyms is answered from
    /// memory; any other runs on the blocking pool (fuzzy matching is CPU
    /// work, never done on the async workers that serve every other request).
    pub async fn search_services(
        &self,
        tenant: TenantId,
        text: &SearchText,
        audience: Option<&str>,
        topic: Option<&str>,
        limit: usize,
    ) -> UseCaseResult<Arc<Vec<Hit>>> {
        let key = ResultKey::new(tenant, text.as_str(), audience, topic, limit);
        Ok(self.search.search_cached(&self.store, key).await?)
    }

    /// The search synonyms of the actor's tenant.
    pub async fn synonyms(&self, actor: &Actor) -> UseCaseResult<Vec<Synonym>> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self.store.repo().synonyms(staff.tenant()).await?)
    }

    /// Adds a synonym; the search uses it at once on this instance.
    pub async fn add_synonym(
        &self,
        actor: &Actor,
        term: &str,
        expansion: &str,
    ) -> UseCaseResult<Synonym> {
        let staff = actor.require(Permission::EditContent)?;
        let s = self
            .store
            .repo()
            .add_synonym(staff.tenant(), term, expansion)
            .await?;
        self.search.forget_synonyms(staff.tenant());
        Ok(s)
    }

    /// Removes a synonym; whether there was one.
    pub async fn delete_synonym(&self, actor: &Actor, id: Uuid) -> UseCaseResult<bool> {
        let staff = actor.require(Permission::EditContent)?;
        let deleted = self.store.repo().delete_synonym(staff.tenant(), id).await?;
        self.search.forget_synonyms(staff.tenant());
        Ok(deleted)
    }
}
