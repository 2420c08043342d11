//! The service catalog: services, their versions and the four-eyes workflow,
//! the change log the search indexes follow, and search synonyms.

use chrono::Utc;
use rathaus_domain::{
    FieldError, ValidationErrors,
    catalog::{ServiceContent, VersionStatus, WorkflowAction, transition},
    tenancy::TenantId,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError,
    editorial::Archivable,
    entities::{catalog_index_log, org_unit, search_synonym, service, service_version},
    now_ms,
    tenancy::OrgUnitRepository,
};

pub type Service = service::Model;
pub type ServiceVersion = service_version::Model;
pub type Synonym = search_synonym::Model;

impl service_version::Model {
    /// The parsed content (stored as JSON, written only by this module).
    pub fn content(&self) -> ServiceContent {
        serde_json::from_str(&self.content).unwrap_or_default()
    }

    /// The workflow status. Rows read through the repositories are checked
    /// ([`StorageError::Corrupt`] otherwise), so this is the stored value;
    /// use [`service_version::Model::try_status`] for a row from elsewhere.
    pub fn status(&self) -> VersionStatus {
        self.try_status().unwrap_or(VersionStatus::Draft)
    }

    /// The workflow status, or [`StorageError::Corrupt`] for an unknown value.
    pub fn try_status(&self) -> Result<VersionStatus> {
        crate::parse_column(
            "service_versions",
            "status",
            &self.status,
            VersionStatus::parse,
        )
    }
}

/// A version as read: its status must be a known one.
fn checked(v: ServiceVersion) -> Result<ServiceVersion> {
    v.try_status()?;
    Ok(v)
}

/// A published service with what its public page needs.
#[derive(Debug, Clone)]
pub struct PublishedService {
    pub service: Service,
    pub version: ServiceVersion,
    pub content: ServiceContent,
    pub org_unit: org_unit::Model,
}

/// A row of the editor's overview.
#[derive(Debug, Clone)]
pub struct ServiceOverview {
    pub service: Service,
    /// Content of the newest version.
    pub latest: ServiceVersion,
    pub published: bool,
}

#[allow(async_fn_in_trait)]
pub trait CatalogRepository {
    /// Creates a service with a first draft. Writes twice: on the pool use
    /// [`crate::Store::create_service`] (one transaction).
    async fn create_service(
        &self,
        tenant: TenantId,
        author: Uuid,
        content: ServiceContent,
    ) -> Result<(Service, ServiceVersion)>;
    /// Changes the open draft, or starts a new draft from the given content.
    async fn save_draft(
        &self,
        tenant: TenantId,
        service: Uuid,
        author: Uuid,
        content: ServiceContent,
    ) -> Result<ServiceVersion>;
    async fn submit_for_review(
        &self,
        tenant: TenantId,
        service: Uuid,
        actor: Uuid,
    ) -> Result<ServiceVersion>;
    /// Publishes the version in review; refuses the author's own approval.
    /// Writes more than once: on the pool use [`crate::Store::workflow_step`].
    async fn approve(&self, tenant: TenantId, service: Uuid, actor: Uuid)
    -> Result<ServiceVersion>;
    async fn reject(
        &self,
        tenant: TenantId,
        service: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<ServiceVersion>;
    /// Takes a service off the public portal. Writes twice: on the pool use
    /// [`crate::Store::archive_record`].
    async fn archive(&self, tenant: TenantId, service: Uuid) -> Result<()>;
    async fn service(&self, tenant: TenantId, id: Uuid) -> Result<Option<Service>>;
    async fn service_by_slug(&self, tenant: TenantId, slug: &str) -> Result<Option<Service>>;
    async fn versions(&self, tenant: TenantId, service: Uuid) -> Result<Vec<ServiceVersion>>;
    async fn overview(&self, tenant: TenantId) -> Result<Vec<ServiceOverview>>;
    /// The public view of a service (published, not archived).
    async fn published(&self, tenant: TenantId, service: Uuid) -> Result<Option<PublishedService>>;
    async fn published_by_slug(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> Result<Option<PublishedService>>;
    /// Published contents of one tenant (for export).
    async fn published_contents(&self, tenant: TenantId) -> Result<Vec<ServiceContent>>;
    /// All published, not archived services of all tenants, in pages (index rebuild).
    async fn published_page(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<(Service, ServiceVersion)>>;
    async fn index_log_since(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<catalog_index_log::Model>>;
    async fn index_log_head(&self) -> Result<i64>;
    async fn synonyms(&self, tenant: TenantId) -> Result<Vec<Synonym>>;
    async fn add_synonym(&self, tenant: TenantId, term: &str, expansion: &str) -> Result<Synonym>;
    async fn delete_synonym(&self, tenant: TenantId, id: Uuid) -> Result<bool>;
}

impl<C: ConnectionTrait> Repo<'_, C> {
    async fn resolve_unit(&self, tenant: TenantId, content: &ServiceContent) -> Result<Uuid> {
        self.org_unit_by_name(tenant, &content.org_unit)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| {
                ValidationErrors::from(FieldError::new("org_unit", "org_unit.unknown")).into()
            })
    }

    async fn open_version(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Option<ServiceVersion>> {
        service_version::Entity::find()
            .filter(service_version::Column::TenantId.eq(tenant.0))
            .filter(service_version::Column::ServiceId.eq(service))
            .filter(
                service_version::Column::Status
                    .is_in([VersionStatus::Draft.code(), VersionStatus::InReview.code()]),
            )
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    /// Logs that what the portal shows of a service changed (its version,
    /// its archiving, its online form), for every instance's search index and
    /// page cache to follow.
    pub(crate) async fn log_change(&self, tenant: TenantId, service: Uuid) -> Result<()> {
        catalog_index_log::ActiveModel {
            tenant_id: Set(tenant.0),
            service_id: Set(service),
            created_at_ms: Set(now_ms()),
            ..Default::default()
        }
        .insert(self.0)
        .await?;
        Ok(())
    }

    async fn require_service(&self, tenant: TenantId, id: Uuid) -> Result<Service> {
        self.service(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("service"))
    }

    async fn published_of(&self, tenant: TenantId, s: Service) -> Result<Option<PublishedService>> {
        if s.archived_at.is_some() {
            return Ok(None);
        }
        let Some(vid) = s.published_version_id else {
            return Ok(None);
        };
        let Some(version) = service_version::Entity::find_by_id(vid)
            .filter(service_version::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()?
        else {
            return Ok(None);
        };
        let Some(unit) = self.org_unit(tenant, version.org_unit_id).await? else {
            return Ok(None);
        };
        let content = version.content();
        Ok(Some(PublishedService {
            service: s,
            version,
            content,
            org_unit: unit,
        }))
    }
}

fn new_version(
    tenant: TenantId,
    service: Uuid,
    number: i32,
    unit: Uuid,
    author: Uuid,
    content: &ServiceContent,
) -> service_version::ActiveModel {
    let now = Utc::now();
    service_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        service_id: Set(service),
        number: Set(number),
        status: Set(VersionStatus::Draft.code().to_string()),
        org_unit_id: Set(unit),
        content: Set(serde_json::to_string(content).expect("content serialises")),
        author_id: Set(author),
        submitted_by: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_comment: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl<C: ConnectionTrait> CatalogRepository for Repo<'_, C> {
    async fn create_service(
        &self,
        tenant: TenantId,
        author: Uuid,
        content: ServiceContent,
    ) -> Result<(Service, ServiceVersion)> {
        let content = content.validate()?;
        let unit = self.resolve_unit(tenant, &content).await?;
        let now = Utc::now();
        let service = service::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            slug: Set(content.slug.clone()),
            published_version_id: Set(None),
            archived_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.0)
        .await
        .map_err(StorageError::conflict_on("slug"))?;
        let version = new_version(tenant, service.id, 1, unit, author, &content)
            .insert(self.0)
            .await?;
        Ok((service, version))
    }

    async fn save_draft(
        &self,
        tenant: TenantId,
        id: Uuid,
        author: Uuid,
        content: ServiceContent,
    ) -> Result<ServiceVersion> {
        let content = content.validate()?;
        let unit = self.resolve_unit(tenant, &content).await?;
        let service = self.require_service(tenant, id).await?;
        if content.slug != service.slug {
            // The address of a service stays stable once created.
            return Err(ValidationErrors::from(FieldError::new("slug", "slug.fixed")).into());
        }
        match self.open_version(tenant, id).await? {
            Some(v) => {
                transition(v.status(), WorkflowAction::Edit, &author, &v.author_id)?;
                let mut am: service_version::ActiveModel = v.into();
                am.content = Set(serde_json::to_string(&content).expect("content serialises"));
                am.org_unit_id = Set(unit);
                am.author_id = Set(author);
                am.updated_at = Set(Utc::now());
                Ok(am.update(self.0).await?)
            }
            None => {
                let max: Option<i32> = service_version::Entity::find()
                    .select_only()
                    .column_as(service_version::Column::Number.max(), "max")
                    .filter(service_version::Column::ServiceId.eq(id))
                    .filter(service_version::Column::TenantId.eq(tenant.0))
                    .into_tuple()
                    .one(self.0)
                    .await?
                    .flatten();
                Ok(
                    new_version(tenant, id, max.unwrap_or(0) + 1, unit, author, &content)
                        .insert(self.0)
                        .await?,
                )
            }
        }
    }

    async fn submit_for_review(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
    ) -> Result<ServiceVersion> {
        self.submit_version::<Services>(tenant, id, actor).await
    }

    async fn approve(&self, tenant: TenantId, id: Uuid, actor: Uuid) -> Result<ServiceVersion> {
        self.approve_version::<Services>(tenant, id, actor).await
    }

    async fn reject(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<ServiceVersion> {
        self.reject_version::<Services>(tenant, id, actor, comment)
            .await
    }

    async fn archive(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        Services::archive(self, tenant, id).await
    }

    async fn service(&self, tenant: TenantId, id: Uuid) -> Result<Option<Service>> {
        Ok(service::Entity::find_by_id(id)
            .filter(service::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn service_by_slug(&self, tenant: TenantId, slug: &str) -> Result<Option<Service>> {
        Ok(service::Entity::find()
            .filter(service::Column::TenantId.eq(tenant.0))
            .filter(service::Column::Slug.eq(slug))
            .one(self.0)
            .await?)
    }

    async fn versions(&self, tenant: TenantId, id: Uuid) -> Result<Vec<ServiceVersion>> {
        service_version::Entity::find()
            .filter(service_version::Column::TenantId.eq(tenant.0))
            .filter(service_version::Column::ServiceId.eq(id))
            .order_by_desc(service_version::Column::Number)
            .all(self.0)
            .await?
            .into_iter()
            .map(checked)
            .collect()
    }

    async fn overview(&self, tenant: TenantId) -> Result<Vec<ServiceOverview>> {
        let services = service::Entity::find()
            .filter(service::Column::TenantId.eq(tenant.0))
            .all(self.0)
            .await?;
        let versions = service_version::Entity::find()
            .filter(service_version::Column::TenantId.eq(tenant.0))
            .order_by_desc(service_version::Column::Number)
            .all(self.0)
            .await?;
        let mut latest: std::collections::HashMap<Uuid, ServiceVersion> =
            std::collections::HashMap::new();
        for v in versions {
            let v = checked(v)?;
            latest.entry(v.service_id).or_insert(v);
        }
        let mut out: Vec<ServiceOverview> = services
            .into_iter()
            .filter_map(|s| {
                let l = latest.remove(&s.id)?;
                let published = s.published_version_id.is_some() && s.archived_at.is_none();
                Some(ServiceOverview {
                    service: s,
                    latest: l,
                    published,
                })
            })
            .collect();
        out.sort_by_key(|o| o.latest.content().title.de.to_lowercase());
        Ok(out)
    }

    async fn published(&self, tenant: TenantId, id: Uuid) -> Result<Option<PublishedService>> {
        match self.service(tenant, id).await? {
            Some(s) => self.published_of(tenant, s).await,
            None => Ok(None),
        }
    }

    async fn published_by_slug(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> Result<Option<PublishedService>> {
        match self.service_by_slug(tenant, slug).await? {
            Some(s) => self.published_of(tenant, s).await,
            None => Ok(None),
        }
    }

    async fn published_contents(&self, tenant: TenantId) -> Result<Vec<ServiceContent>> {
        let services = service::Entity::find()
            .filter(service::Column::TenantId.eq(tenant.0))
            .filter(service::Column::ArchivedAt.is_null())
            .filter(service::Column::PublishedVersionId.is_not_null())
            .order_by_asc(service::Column::Slug)
            .all(self.0)
            .await?;
        let ids: Vec<Uuid> = services
            .iter()
            .filter_map(|s| s.published_version_id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let versions = service_version::Entity::find()
                .filter(service_version::Column::TenantId.eq(tenant.0))
                .filter(service_version::Column::Id.is_in(chunk.to_vec()))
                .all(self.0)
                .await?;
            out.extend(versions.iter().map(|v| v.content()));
        }
        out.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(out)
    }

    async fn published_page(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<(Service, ServiceVersion)>> {
        let mut q = service::Entity::find()
            .filter(service::Column::ArchivedAt.is_null())
            .filter(service::Column::PublishedVersionId.is_not_null())
            .order_by_asc(service::Column::Id)
            .limit(limit);
        if let Some(a) = after {
            q = q.filter(service::Column::Id.gt(a));
        }
        let services = q.all(self.0).await?;
        let ids: Vec<Uuid> = services
            .iter()
            .filter_map(|s| s.published_version_id)
            .collect();
        let versions = service_version::Entity::find()
            .filter(service_version::Column::Id.is_in(ids))
            .all(self.0)
            .await?;
        let mut by_id = std::collections::HashMap::new();
        for v in versions {
            by_id.insert(v.id, checked(v)?);
        }
        Ok(services
            .into_iter()
            .filter_map(|s| {
                // A version always belongs to its service's tenant.
                let v = by_id.remove(&s.published_version_id?)?;
                (v.tenant_id == s.tenant_id).then_some((s, v))
            })
            .collect())
    }

    async fn index_log_since(
        &self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<catalog_index_log::Model>> {
        Ok(catalog_index_log::Entity::find()
            .filter(catalog_index_log::Column::Id.gt(after))
            .order_by_asc(catalog_index_log::Column::Id)
            .limit(limit)
            .all(self.0)
            .await?)
    }

    async fn index_log_head(&self) -> Result<i64> {
        let max: Option<i64> = catalog_index_log::Entity::find()
            .select_only()
            .column_as(catalog_index_log::Column::Id.max(), "max")
            .into_tuple()
            .one(self.0)
            .await?
            .flatten();
        Ok(max.unwrap_or(0))
    }

    async fn synonyms(&self, tenant: TenantId) -> Result<Vec<Synonym>> {
        Ok(search_synonym::Entity::find()
            .filter(search_synonym::Column::TenantId.eq(tenant.0))
            .order_by_asc(search_synonym::Column::Term)
            .all(self.0)
            .await?)
    }

    async fn add_synonym(&self, tenant: TenantId, term: &str, expansion: &str) -> Result<Synonym> {
        let mut errs = ValidationErrors::new();
        let term = errs.check(rathaus_domain::validation::required_text("term", term, 100));
        let expansion = errs.check(rathaus_domain::validation::required_text(
            "expansion",
            expansion,
            200,
        ));
        errs.into_result()?;
        search_synonym::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            term: Set(term.expect("checked").to_lowercase()),
            expansion: Set(expansion.expect("checked")),
            created_at: Set(Utc::now()),
        }
        .insert(self.0)
        .await
        .map_err(StorageError::conflict_on("term"))
    }

    async fn delete_synonym(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        let r = search_synonym::Entity::delete_many()
            .filter(search_synonym::Column::TenantId.eq(tenant.0))
            .filter(search_synonym::Column::Id.eq(id))
            .exec(self.0)
            .await?;
        Ok(r.rows_affected > 0)
    }
}

impl crate::Store {
    /// Creates a service with its first draft version, in one transaction.
    pub async fn create_service(
        &self,
        tenant: TenantId,
        author: Uuid,
        content: ServiceContent,
    ) -> Result<(Service, ServiceVersion)> {
        let txn = self.begin_write().await?;
        let created = Repo(&txn).create_service(tenant, author, content).await?;
        txn.commit().await?;
        Ok(created)
    }
}

/// Services under the editorial workflow ([`crate::editorial`]).
pub struct Services;

crate::editorial::versioned!(
    Services, ServiceVersion, service_version,
    record: require_service, open: open_version, history: versions, publish: publish_service
);

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Moves the pointer, brings an archived service back and logs the
    /// change for the search indexes.
    async fn publish_service(&self, tenant: TenantId, id: Uuid, version: Uuid) -> Result<()> {
        let mut am: service::ActiveModel = self.require_service(tenant, id).await?.into();
        am.published_version_id = Set(Some(version));
        am.archived_at = Set(None);
        am.updated_at = Set(Utc::now());
        am.update(self.0).await?;
        self.log_change(tenant, id).await
    }
}

impl Archivable for Services {
    async fn archive<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<()> {
        let mut am: service::ActiveModel = repo.require_service(tenant, id).await?.into();
        am.archived_at = Set(Some(Utc::now()));
        am.updated_at = Set(Utc::now());
        am.update(repo.0).await?;
        repo.log_change(tenant, id).await
    }
}
