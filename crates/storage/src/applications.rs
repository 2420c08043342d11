//! Applications (C3): submission and reads.
//!
//! A submission is one transaction: the application with its reference
//! number, its files' metadata, the case in the responsible org unit's inbox,
//! the first audit entry, the outbox job for the receipt and notifications,
//! and the removal of the draft. Only after commit does the applicant see
//! "received". The group-commit writer is in `applications/writer.rs`.

use rathaus_domain::tenancy::TenantId;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result,
    cases::CaseRepository,
    entities::{application, application_file},
    identity::token_hash,
};

mod writer;

pub(crate) use writer::SubmissionWriter;

// The concepts that lived here before, at their old paths.
pub use crate::audit::AuditEntry;
pub use crate::cases::{Case, CaseChange, CaseError, InboxQuery, InboxRow};
pub use crate::decisions::NewDecision;
pub use crate::mailbox::{Message, OfficeMessage};

pub type Application = application::Model;
pub type ApplicationFile = application_file::Model;

impl application::Model {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// The row of one stored file of an application.
pub(crate) fn file_model(
    tenant: TenantId,
    application: Uuid,
    f: &NewFile,
    message: Option<Uuid>,
) -> application_file::ActiveModel {
    application_file::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        application_id: Set(application),
        field_path: Set(f.field_path.clone()),
        file_key: Set(f.file_key.clone()),
        name: Set(f.name.clone()),
        mime: Set(f.mime.clone()),
        size: Set(f.size),
        sha256: Set(f.sha256.clone()),
        message_id: Set(message),
    }
}
/// The field path of the stored confirmation of receipt among the
/// application's files (form field keys never start with `_`).
pub const RECEIPT_PATH: &str = "_eingangsbestaetigung";

/// Metadata of a file that is already in object storage.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub field_path: String,
    pub file_key: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// Everything a submission writes.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub tenant: TenantId,
    /// Reference prefix (`MS`).
    pub prefix: String,
    pub service_id: Option<Uuid>,
    pub form_version_id: Uuid,
    pub data: serde_json::Value,
    pub idempotency_key: Option<String>,
    /// SHA-256 (hex) of the request the key came with: a repeat of the key
    /// with another request is refused by the caller.
    pub request_hash: Option<String>,
    pub files: Vec<NewFile>,
    /// The org unit whose inbox receives the case (routing is decided before).
    pub org_unit_id: Uuid,
    /// The draft this submission came from; removed in the same transaction.
    pub draft_id: Option<Uuid>,
    /// Who submitted, for the audit log (`applicant`, `api:<user id>`).
    pub actor: String,
    /// The service's processing deadline in days: the case's due date.
    pub due_days: Option<u32>,
    /// The account submitting (None: access link only).
    pub citizen_id: Option<Uuid>,
    /// Where notifications go (the account's or the form's address).
    pub notify_email: Option<String>,
    /// Pay before sending: the case starts as "awaiting payment" and is
    /// received once its fee is paid.
    pub awaiting_payment: bool,
    /// A defect report submitted as this application (Mängelmelder): stored
    /// in the same transaction.
    pub defect: Option<Box<crate::defects::NewDefect>>,
}

/// The result of a submission.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub application: Application,
    pub case: Case,
    /// The applicant's access token: only when this call created the application.
    pub access_token: Option<String>,
    pub created: bool,
}

#[allow(async_fn_in_trait)]
pub trait ApplicationRepository {
    /// The stored confirmation of receipt of an application, if typeset.
    async fn receipt_file(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Option<ApplicationFile>>;
    async fn application(&self, tenant: TenantId, id: Uuid) -> Result<Option<Application>>;
    async fn application_by_key(&self, tenant: TenantId, key: &str) -> Result<Option<Application>>;
    /// The application an access token opens (the applicant's link).
    async fn application_by_access_token(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> Result<Option<Application>>;
    async fn application_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<Application>>;
    async fn application_files(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<ApplicationFile>>;
    /// The applications of a citizen account, newest first, with their cases.
    async fn applications_of_citizen(
        &self,
        tenant: TenantId,
        citizen: Uuid,
    ) -> Result<Vec<(Application, Option<Case>)>>;
    /// Records one stored file of an application (of the submission, an
    /// answer or a decision).
    async fn add_file(
        &self,
        tenant: TenantId,
        application: Uuid,
        f: &NewFile,
        message: Option<Uuid>,
    ) -> Result<ApplicationFile>;
}

impl<C: ConnectionTrait> ApplicationRepository for Repo<'_, C> {
    async fn receipt_file(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Option<ApplicationFile>> {
        Ok(application_file::Entity::find()
            .filter(application_file::Column::TenantId.eq(tenant.0))
            .filter(application_file::Column::ApplicationId.eq(application))
            .filter(application_file::Column::FieldPath.eq(RECEIPT_PATH))
            .one(self.0)
            .await?)
    }

    async fn application(&self, tenant: TenantId, id: Uuid) -> Result<Option<Application>> {
        Ok(application::Entity::find_by_id(id)
            .filter(application::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn application_by_key(&self, tenant: TenantId, key: &str) -> Result<Option<Application>> {
        Ok(application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::IdempotencyKey.eq(key))
            .one(self.0)
            .await?)
    }

    async fn application_by_access_token(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> Result<Option<Application>> {
        Ok(application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::AccessTokenHash.eq(token_hash(token)))
            .one(self.0)
            .await?)
    }

    async fn application_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<Application>> {
        Ok(application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::Reference.eq(reference.trim().to_ascii_uppercase()))
            .one(self.0)
            .await?)
    }

    async fn application_files(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<ApplicationFile>> {
        Ok(application_file::Entity::find()
            .filter(application_file::Column::TenantId.eq(tenant.0))
            .filter(application_file::Column::ApplicationId.eq(application))
            .order_by_asc(application_file::Column::FieldPath)
            .all(self.0)
            .await?)
    }

    async fn applications_of_citizen(
        &self,
        tenant: TenantId,
        citizen: Uuid,
    ) -> Result<Vec<(Application, Option<Case>)>> {
        let apps = application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::CitizenId.eq(citizen))
            .order_by_desc(application::Column::SubmittedAt)
            .limit(500)
            .all(self.0)
            .await?;
        let mut out = Vec::with_capacity(apps.len());
        for a in apps {
            let c = self.case_of(tenant, a.id).await?;
            out.push((a, c));
        }
        Ok(out)
    }

    async fn add_file(
        &self,
        tenant: TenantId,
        application: Uuid,
        f: &NewFile,
        message: Option<Uuid>,
    ) -> Result<ApplicationFile> {
        Ok(file_model(tenant, application, f, message)
            .insert(self.0)
            .await?)
    }
}

impl crate::Store {
    /// Records the typeset confirmation of receipt (already in object
    /// storage) as a document of the application. At most one exists: if
    /// another writer was first, its row is returned and `false` says that
    /// this file was not recorded (the caller deletes it).
    pub async fn store_receipt(
        &self,
        tenant: TenantId,
        application: Uuid,
        f: &NewFile,
    ) -> Result<(ApplicationFile, bool)> {
        let mut f = f.clone();
        f.field_path = RECEIPT_PATH.to_string();
        match self.repo().add_file(tenant, application, &f, None).await {
            Ok(row) => Ok((row, true)),
            Err(e) => match self.repo().receipt_file(tenant, application).await? {
                Some(first) => Ok((first, false)),
                None => Err(e),
            },
        }
    }
}
