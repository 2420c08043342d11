//! Form definitions (C2): forms, their immutable versions under the same
//! four-eyes workflow as services, and applicants' drafts with resume tokens.

use chrono::{DateTime, Utc};
use rathaus_domain::{
    FieldError, ValidationErrors,
    catalog::{VersionStatus, WorkflowAction, transition},
    forms::{self, FormDefinition},
    tenancy::TenantId,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError,
    entities::{form, form_draft, form_version},
    identity::{generate_token, token_hash},
};

pub type Form = form::Model;
pub type FormVersion = form_version::Model;
pub type FormDraft = form_draft::Model;

impl form_version::Model {
    /// The parsed definition (stored as JSON, written only by this module).
    pub fn definition(&self) -> Option<FormDefinition> {
        serde_json::from_str(&self.definition).ok()
    }

    /// The workflow status. Rows read through the repositories are checked
    /// ([`StorageError::Corrupt`] otherwise), so this is the stored value;
    /// use [`form_version::Model::try_status`] for a row from elsewhere.
    pub fn status(&self) -> VersionStatus {
        self.try_status().unwrap_or(VersionStatus::Draft)
    }

    /// The workflow status, or [`StorageError::Corrupt`] for an unknown value.
    pub fn try_status(&self) -> Result<VersionStatus> {
        crate::parse_column(
            "form_versions",
            "status",
            &self.status,
            VersionStatus::parse,
        )
    }

    /// The import report's warnings as (element, message) pairs.
    pub fn report(&self) -> Vec<serde_json::Value> {
        self.import_report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default()
    }
}

/// A version as read: its status must be a known one.
fn checked(v: FormVersion) -> Result<FormVersion> {
    v.try_status()?;
    Ok(v)
}

impl form_draft::Model {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// A row of the editor's overview.
#[derive(Debug, Clone)]
pub struct FormOverview {
    pub form: Form,
    pub latest: FormVersion,
    pub published: Option<FormVersion>,
}

/// The key of a form: lowercase letters, digits and hyphens.
pub fn parse_form_key(input: &str) -> std::result::Result<String, FieldError> {
    rathaus_domain::catalog::parse_slug("key", input)
}

fn check_definition(def: &FormDefinition) -> Result<String> {
    let problems = forms::lint(def);
    if !problems.is_empty() {
        // The editor UI and the API lint first and show the details.
        return Err(ValidationErrors(
            problems
                .into_iter()
                .map(|(path, _)| FieldError::new(path, "form.lint"))
                .collect(),
        )
        .into());
    }
    Ok(serde_json::to_string(def).expect("definition serialises"))
}

#[allow(async_fn_in_trait)]
pub trait FormRepository {
    /// Creates a form with a first draft version. Writes more than once: on
    /// the pool use [`crate::Store::create_form`] (one transaction).
    async fn create_form(
        &self,
        tenant: TenantId,
        author: Uuid,
        key: &str,
        service: Option<Uuid>,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<(Form, FormVersion)>;
    /// Changes the open draft, or starts a new draft version.
    async fn save_form_draft(
        &self,
        tenant: TenantId,
        form: Uuid,
        author: Uuid,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<FormVersion>;
    async fn submit_form(&self, tenant: TenantId, form: Uuid, actor: Uuid) -> Result<FormVersion>;
    /// Publishes the version in review; refuses the author's own approval.
    /// Writes more than once: on the pool use [`crate::Store::workflow_step`].
    async fn approve_form(&self, tenant: TenantId, form: Uuid, actor: Uuid) -> Result<FormVersion>;
    async fn reject_form(
        &self,
        tenant: TenantId,
        form: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<FormVersion>;
    /// Links the form to a service (the service's online application).
    /// Writes twice: on the pool use [`crate::Store::attach_form`].
    async fn attach_form(&self, tenant: TenantId, form: Uuid, service: Option<Uuid>) -> Result<()>;
    async fn form(&self, tenant: TenantId, id: Uuid) -> Result<Option<Form>>;
    async fn form_by_key(&self, tenant: TenantId, key: &str) -> Result<Option<Form>>;
    async fn form_versions(&self, tenant: TenantId, form: Uuid) -> Result<Vec<FormVersion>>;
    async fn form_version(&self, tenant: TenantId, id: Uuid) -> Result<Option<FormVersion>>;
    async fn forms_overview(&self, tenant: TenantId) -> Result<Vec<FormOverview>>;
    /// The published version of a form.
    async fn published_form(
        &self,
        tenant: TenantId,
        form: Uuid,
    ) -> Result<Option<(Form, FormVersion)>>;
    /// The published form attached to a service.
    async fn published_form_for_service(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Option<(Form, FormVersion)>>;
    /// Starts a draft; returns it with its resume token (shown once).
    async fn create_draft(
        &self,
        tenant: TenantId,
        version: Uuid,
        data: &serde_json::Value,
        expires_at: DateTime<Utc>,
    ) -> Result<(FormDraft, String)>;
    /// The draft for a resume token, unless expired.
    async fn draft_by_token(&self, tenant: TenantId, token: &str) -> Result<Option<FormDraft>>;
    async fn update_draft(
        &self,
        tenant: TenantId,
        draft: Uuid,
        data: &serde_json::Value,
        step: i32,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn delete_draft(&self, tenant: TenantId, draft: Uuid) -> Result<()>;
    /// Removes expired drafts of all tenants (housekeeping job).
    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64>;
}

impl<C: ConnectionTrait> Repo<'_, C> {
    async fn open_form_version(&self, tenant: TenantId, form: Uuid) -> Result<Option<FormVersion>> {
        form_version::Entity::find()
            .filter(form_version::Column::TenantId.eq(tenant.0))
            .filter(form_version::Column::FormId.eq(form))
            .filter(
                form_version::Column::Status
                    .is_in([VersionStatus::Draft.code(), VersionStatus::InReview.code()]),
            )
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    async fn require_form(&self, tenant: TenantId, id: Uuid) -> Result<Form> {
        self.form(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("form"))
    }
}

fn new_form_version(
    tenant: TenantId,
    form: Uuid,
    number: i32,
    author: Uuid,
    definition: String,
    report: Option<&serde_json::Value>,
) -> form_version::ActiveModel {
    let now = Utc::now();
    form_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        form_id: Set(form),
        number: Set(number),
        status: Set(VersionStatus::Draft.code().to_string()),
        definition: Set(definition),
        import_report: Set(report.map(|r| r.to_string())),
        author_id: Set(author),
        submitted_by: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_comment: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl<C: ConnectionTrait> FormRepository for Repo<'_, C> {
    async fn create_form(
        &self,
        tenant: TenantId,
        author: Uuid,
        key: &str,
        service: Option<Uuid>,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<(Form, FormVersion)> {
        let key = parse_form_key(key).map_err(ValidationErrors::from)?;
        let json = check_definition(definition)?;
        let now = Utc::now();
        let form = form::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            key: Set(key),
            service_id: Set(service),
            published_version_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.0)
        .await
        .map_err(StorageError::conflict_on("key"))?;
        if let Some(s) = service {
            use crate::catalog::CatalogRepository;
            if self.service(tenant, s).await?.is_none() {
                return Err(StorageError::NotFound("service"));
            }
        }
        // A new form is linked without detaching the service's current one:
        // it is not public yet, and its first approved version (four eyes)
        // replaces the old form on the service (`publish_form`).
        let version = new_form_version(tenant, form.id, 1, author, json, report)
            .insert(self.0)
            .await?;
        Ok((form, version))
    }

    async fn save_form_draft(
        &self,
        tenant: TenantId,
        id: Uuid,
        author: Uuid,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<FormVersion> {
        let json = check_definition(definition)?;
        self.require_form(tenant, id).await?;
        match self.open_form_version(tenant, id).await? {
            Some(v) => {
                transition(v.status(), WorkflowAction::Edit, &author, &v.author_id)?;
                let mut am: form_version::ActiveModel = v.into();
                am.definition = Set(json);
                if let Some(r) = report {
                    am.import_report = Set(Some(r.to_string()));
                }
                am.author_id = Set(author);
                am.updated_at = Set(Utc::now());
                Ok(am.update(self.0).await?)
            }
            None => {
                let max: Option<i32> = form_version::Entity::find()
                    .select_only()
                    .column_as(form_version::Column::Number.max(), "max")
                    .filter(form_version::Column::FormId.eq(id))
                    .filter(form_version::Column::TenantId.eq(tenant.0))
                    .into_tuple()
                    .one(self.0)
                    .await?
                    .flatten();
                Ok(
                    new_form_version(tenant, id, max.unwrap_or(0) + 1, author, json, report)
                        .insert(self.0)
                        .await?,
                )
            }
        }
    }

    async fn submit_form(&self, tenant: TenantId, id: Uuid, actor: Uuid) -> Result<FormVersion> {
        self.submit_version::<Forms>(tenant, id, actor).await
    }

    async fn approve_form(&self, tenant: TenantId, id: Uuid, actor: Uuid) -> Result<FormVersion> {
        self.approve_version::<Forms>(tenant, id, actor).await
    }

    async fn reject_form(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<FormVersion> {
        self.reject_version::<Forms>(tenant, id, actor, comment)
            .await
    }

    async fn attach_form(&self, tenant: TenantId, id: Uuid, service: Option<Uuid>) -> Result<()> {
        let form = self.require_form(tenant, id).await?;
        if let Some(s) = service {
            use crate::catalog::CatalogRepository;
            if self.service(tenant, s).await?.is_none() {
                return Err(StorageError::NotFound("service"));
            }
            // One online form per service: a newly attached form replaces the old link.
            form::Entity::update_many()
                .col_expr(form::Column::ServiceId, Expr::value(Option::<Uuid>::None))
                .filter(form::Column::TenantId.eq(tenant.0))
                .filter(form::Column::ServiceId.eq(s))
                .filter(form::Column::Id.ne(id))
                .exec(self.0)
                .await?;
        }
        // A published form's link shows on its services' pages: the old
        // service's and the new one's change.
        let shown = if form.published_version_id.is_some() {
            [form.service_id, service]
        } else {
            [None, None]
        };
        let mut am: form::ActiveModel = form.into();
        am.service_id = Set(service);
        am.updated_at = Set(Utc::now());
        am.update(self.0).await?;
        for s in shown.into_iter().flatten() {
            self.log_change(tenant, s).await?;
        }
        Ok(())
    }

    async fn form(&self, tenant: TenantId, id: Uuid) -> Result<Option<Form>> {
        Ok(form::Entity::find_by_id(id)
            .filter(form::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn form_by_key(&self, tenant: TenantId, key: &str) -> Result<Option<Form>> {
        Ok(form::Entity::find()
            .filter(form::Column::TenantId.eq(tenant.0))
            .filter(form::Column::Key.eq(key))
            .one(self.0)
            .await?)
    }

    async fn form_versions(&self, tenant: TenantId, id: Uuid) -> Result<Vec<FormVersion>> {
        form_version::Entity::find()
            .filter(form_version::Column::TenantId.eq(tenant.0))
            .filter(form_version::Column::FormId.eq(id))
            .order_by_desc(form_version::Column::Number)
            .all(self.0)
            .await?
            .into_iter()
            .map(checked)
            .collect()
    }

    async fn form_version(&self, tenant: TenantId, id: Uuid) -> Result<Option<FormVersion>> {
        form_version::Entity::find_by_id(id)
            .filter(form_version::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    async fn forms_overview(&self, tenant: TenantId) -> Result<Vec<FormOverview>> {
        let forms = form::Entity::find()
            .filter(form::Column::TenantId.eq(tenant.0))
            .order_by_asc(form::Column::Key)
            .all(self.0)
            .await?;
        let versions = form_version::Entity::find()
            .filter(form_version::Column::TenantId.eq(tenant.0))
            .order_by_desc(form_version::Column::Number)
            .all(self.0)
            .await?;
        let mut latest = std::collections::HashMap::new();
        let mut by_id = std::collections::HashMap::new();
        for v in versions {
            let v = checked(v)?;
            latest.entry(v.form_id).or_insert_with(|| v.clone());
            by_id.insert(v.id, v);
        }
        Ok(forms
            .into_iter()
            .filter_map(|f| {
                let l = latest.remove(&f.id)?;
                let published = f.published_version_id.and_then(|p| by_id.remove(&p));
                Some(FormOverview {
                    form: f,
                    latest: l,
                    published,
                })
            })
            .collect())
    }

    async fn published_form(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(Form, FormVersion)>> {
        let Some(f) = self.form(tenant, id).await? else {
            return Ok(None);
        };
        let Some(vid) = f.published_version_id else {
            return Ok(None);
        };
        Ok(self.form_version(tenant, vid).await?.map(|v| (f, v)))
    }

    async fn published_form_for_service(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Option<(Form, FormVersion)>> {
        let Some(f) = form::Entity::find()
            .filter(form::Column::TenantId.eq(tenant.0))
            .filter(form::Column::ServiceId.eq(service))
            .filter(form::Column::PublishedVersionId.is_not_null())
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        let Some(vid) = f.published_version_id else {
            return Ok(None);
        };
        Ok(self.form_version(tenant, vid).await?.map(|v| (f, v)))
    }

    async fn create_draft(
        &self,
        tenant: TenantId,
        version: Uuid,
        data: &serde_json::Value,
        expires_at: DateTime<Utc>,
    ) -> Result<(FormDraft, String)> {
        if self.form_version(tenant, version).await?.is_none() {
            return Err(StorageError::NotFound("form version"));
        }
        let token = generate_token();
        let now = Utc::now();
        let draft = form_draft::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            form_version_id: Set(version),
            token_hash: Set(token_hash(&token)),
            data: Set(data.to_string()),
            step: Set(0),
            expires_at: Set(expires_at),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.0)
        .await?;
        Ok((draft, token))
    }

    async fn draft_by_token(&self, tenant: TenantId, token: &str) -> Result<Option<FormDraft>> {
        Ok(form_draft::Entity::find()
            .filter(form_draft::Column::TenantId.eq(tenant.0))
            .filter(form_draft::Column::TokenHash.eq(token_hash(token)))
            .filter(form_draft::Column::ExpiresAt.gt(Utc::now()))
            .one(self.0)
            .await?)
    }

    async fn update_draft(
        &self,
        tenant: TenantId,
        draft: Uuid,
        data: &serde_json::Value,
        step: i32,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let res = form_draft::Entity::update_many()
            .col_expr(form_draft::Column::Data, Expr::value(data.to_string()))
            .col_expr(form_draft::Column::Step, Expr::value(step))
            .col_expr(form_draft::Column::ExpiresAt, Expr::value(expires_at))
            .col_expr(form_draft::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(form_draft::Column::TenantId.eq(tenant.0))
            .filter(form_draft::Column::Id.eq(draft))
            .exec(self.0)
            .await?;
        if res.rows_affected == 0 {
            return Err(StorageError::NotFound("draft"));
        }
        Ok(())
    }

    async fn delete_draft(&self, tenant: TenantId, draft: Uuid) -> Result<()> {
        form_draft::Entity::delete_many()
            .filter(form_draft::Column::TenantId.eq(tenant.0))
            .filter(form_draft::Column::Id.eq(draft))
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(form_draft::Entity::delete_many()
            .filter(form_draft::Column::ExpiresAt.lte(now))
            .exec(self.0)
            .await?
            .rows_affected)
    }
}

impl crate::Store {
    /// Approves in one transaction ([`crate::Store::workflow_step`]).
    pub async fn approve_form(
        &self,
        tenant: TenantId,
        form: Uuid,
        actor: Uuid,
    ) -> Result<FormVersion> {
        use crate::editorial::WorkflowStep::Approve;
        self.workflow_step::<Forms>(tenant, form, actor, Approve)
            .await
    }

    /// Creates a form (and attaches it) in one transaction.
    pub async fn create_form(
        &self,
        tenant: TenantId,
        author: Uuid,
        key: &str,
        service: Option<Uuid>,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<(Form, FormVersion)> {
        let txn = self.begin_write().await?;
        let out = Repo(&txn)
            .create_form(tenant, author, key, service, definition, report)
            .await?;
        txn.commit().await?;
        Ok(out)
    }

    /// The published version of a form the platform itself provides (the
    /// defect report form): created and published at once under `key` when
    /// missing, without the editorial four-eyes workflow (its definition is
    /// code, reviewed as code). Returns the published version.
    pub async fn ensure_system_form(
        &self,
        tenant: TenantId,
        author: Uuid,
        key: &str,
        definition: &FormDefinition,
    ) -> Result<FormVersion> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        if let Some(form) = repo.form_by_key(tenant, key).await?
            && let Some((_, v)) = repo.published_form(tenant, form.id).await?
        {
            txn.rollback().await?;
            return Ok(v);
        }
        let (form, version) = match repo.form_by_key(tenant, key).await? {
            Some(form) => {
                let v = repo
                    .save_form_draft(tenant, form.id, author, definition, None)
                    .await?;
                (form, v)
            }
            None => {
                repo.create_form(tenant, author, key, None, definition, None)
                    .await?
            }
        };
        let now = Utc::now();
        let mut am: form_version::ActiveModel = version.into();
        am.status = Set(rathaus_domain::catalog::VersionStatus::Published
            .code()
            .into());
        am.reviewed_by = Set(Some(author));
        am.reviewed_at = Set(Some(now));
        am.updated_at = Set(now);
        let version = am.update(&txn).await?;
        let mut fm: form::ActiveModel = form.into();
        fm.published_version_id = Set(Some(version.id));
        fm.updated_at = Set(now);
        fm.update(&txn).await?;
        txn.commit().await?;
        Ok(version)
    }

    /// Links the form to a service, in one transaction (the service's
    /// previous form is detached first).
    pub async fn attach_form(
        &self,
        tenant: TenantId,
        form: Uuid,
        service: Option<Uuid>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        Repo(&txn).attach_form(tenant, form, service).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Stores a definition as a new form with key `key`, or as a new draft
    /// version of the form with that key (attached to `service` when one is
    /// given), in one transaction. Returns the form, the version and whether
    /// the form was created.
    pub async fn store_form_definition(
        &self,
        tenant: TenantId,
        author: Uuid,
        key: &str,
        service: Option<Uuid>,
        definition: &FormDefinition,
        report: Option<&serde_json::Value>,
    ) -> Result<(Form, FormVersion, bool)> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let out = match repo.form_by_key(tenant, key).await? {
            Some(form) => {
                let version = repo
                    .save_form_draft(tenant, form.id, author, definition, report)
                    .await?;
                if service.is_some() {
                    repo.attach_form(tenant, form.id, service).await?;
                }
                let form = repo.form(tenant, form.id).await?.unwrap_or(form);
                (form, version, false)
            }
            None => {
                let (form, version) = repo
                    .create_form(tenant, author, key, service, definition, report)
                    .await?;
                (form, version, true)
            }
        };
        txn.commit().await?;
        Ok(out)
    }
}

/// Forms under the editorial workflow ([`crate::editorial`]).
pub struct Forms;

crate::editorial::versioned!(
    Forms, FormVersion, form_version,
    record: require_form, open: open_form_version, history: form_versions,
    publish: publish_form
);

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Moves the pointer; the form becomes the one online form of its
    /// service (another form linked to it is detached). The service's page
    /// changes with it: logged for the instances' page caches.
    async fn publish_form(&self, tenant: TenantId, id: Uuid, version: Uuid) -> Result<()> {
        let form = self.require_form(tenant, id).await?;
        if let Some(s) = form.service_id {
            self.log_change(tenant, s).await?;
            form::Entity::update_many()
                .col_expr(form::Column::ServiceId, Expr::value(Option::<Uuid>::None))
                .filter(form::Column::TenantId.eq(tenant.0))
                .filter(form::Column::ServiceId.eq(s))
                .filter(form::Column::Id.ne(id))
                .exec(self.0)
                .await?;
        }
        let mut am: form::ActiveModel = form.into();
        am.published_version_id = Set(Some(version));
        am.updated_at = Set(Utc::now());
        am.update(self.0).await?;
        Ok(())
    }
}
