//! What uploads occupy: the files of wizard drafts (`draft_uploads`), their
//! quota, the keys the database still references (for the orphan sweep) and
//! the usage per tenant (`rathaus admin storage-report`).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rathaus_domain::tenancy::TenantId;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result,
    entities::{application_file, draft_upload, form_draft},
};

pub type DraftUpload = draft_upload::Model;

/// Metadata of a draft's file that is already in object storage.
#[derive(Debug, Clone)]
pub struct NewDraftUpload {
    pub id: Uuid,
    pub field_path: String,
    pub file_key: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// Files and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub files: u64,
    pub bytes: u64,
}

impl Usage {
    pub fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// What one tenant's uploads occupy, by where they belong.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TenantUsage {
    /// Files of unsent drafts.
    pub drafts: Usage,
    /// Files submitted with applications.
    pub applications: Usage,
    /// Files of applicants' answers (mailbox).
    pub answers: Usage,
    /// Documents of the office (Bescheide and other files of messages).
    pub documents: Usage,
}

#[allow(async_fn_in_trait)]
pub trait UploadRepository {
    /// Records a stored file of a draft.
    async fn record_draft_upload(
        &self,
        tenant: TenantId,
        draft: Uuid,
        upload: &NewDraftUpload,
    ) -> Result<DraftUpload>;
    /// The files of a draft, oldest first.
    async fn draft_uploads(&self, tenant: TenantId, draft: Uuid) -> Result<Vec<DraftUpload>>;
    /// Forgets one file of a draft (the object is deleted by the caller).
    async fn delete_draft_upload(&self, tenant: TenantId, id: Uuid) -> Result<()>;
    /// (tenant, object name) of the files of drafts expired at `now`.
    async fn expired_draft_uploads(&self, now: DateTime<Utc>) -> Result<Vec<(TenantId, String)>>;
    /// Every object name of `tenant` the database refers to (drafts,
    /// applications, answers, documents).
    async fn referenced_files(&self, tenant: TenantId) -> Result<HashSet<String>>;
    /// Usage per tenant.
    async fn upload_usage(&self) -> Result<BTreeMap<Uuid, TenantUsage>>;
}

const SUM_SIZE: &str = "CAST(COALESCE(SUM(size), 0) AS BIGINT)";

impl<C: ConnectionTrait> UploadRepository for Repo<'_, C> {
    async fn record_draft_upload(
        &self,
        tenant: TenantId,
        draft: Uuid,
        u: &NewDraftUpload,
    ) -> Result<DraftUpload> {
        Ok(draft_upload::ActiveModel {
            id: Set(u.id),
            tenant_id: Set(tenant.0),
            draft_id: Set(draft),
            field_path: Set(u.field_path.clone()),
            file_key: Set(u.file_key.clone()),
            name: Set(u.name.clone()),
            mime: Set(u.mime.clone()),
            size: Set(u.size),
            sha256: Set(u.sha256.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(self.0)
        .await?)
    }

    async fn draft_uploads(&self, tenant: TenantId, draft: Uuid) -> Result<Vec<DraftUpload>> {
        Ok(draft_upload::Entity::find()
            .filter(draft_upload::Column::TenantId.eq(tenant.0))
            .filter(draft_upload::Column::DraftId.eq(draft))
            .order_by_asc(draft_upload::Column::CreatedAt)
            .order_by_asc(draft_upload::Column::Id)
            .all(self.0)
            .await?)
    }

    async fn delete_draft_upload(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        draft_upload::Entity::delete_many()
            .filter(draft_upload::Column::TenantId.eq(tenant.0))
            .filter(draft_upload::Column::Id.eq(id))
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn expired_draft_uploads(&self, now: DateTime<Utc>) -> Result<Vec<(TenantId, String)>> {
        let expired: Vec<Uuid> = form_draft::Entity::find()
            .select_only()
            .column(form_draft::Column::Id)
            .filter(form_draft::Column::ExpiresAt.lte(now))
            .into_tuple()
            .all(self.0)
            .await?;
        let mut out = Vec::new();
        for chunk in expired.chunks(500) {
            let rows: Vec<(Uuid, String)> = draft_upload::Entity::find()
                .select_only()
                .column(draft_upload::Column::TenantId)
                .column(draft_upload::Column::FileKey)
                .filter(draft_upload::Column::DraftId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(self.0)
                .await?;
            out.extend(rows.into_iter().map(|(t, k)| (TenantId(t), k)));
        }
        Ok(out)
    }

    async fn referenced_files(&self, tenant: TenantId) -> Result<HashSet<String>> {
        let mut keys: HashSet<String> = draft_upload::Entity::find()
            .select_only()
            .column(draft_upload::Column::FileKey)
            .filter(draft_upload::Column::TenantId.eq(tenant.0))
            .into_tuple::<String>()
            .all(self.0)
            .await?
            .into_iter()
            .collect();
        keys.extend(
            application_file::Entity::find()
                .select_only()
                .column(application_file::Column::FileKey)
                .filter(application_file::Column::TenantId.eq(tenant.0))
                .into_tuple::<String>()
                .all(self.0)
                .await?,
        );
        Ok(keys)
    }

    async fn upload_usage(&self) -> Result<BTreeMap<Uuid, TenantUsage>> {
        let mut out: BTreeMap<Uuid, TenantUsage> = BTreeMap::new();
        let drafts: Vec<(Uuid, i64, i64)> = draft_upload::Entity::find()
            .select_only()
            .column(draft_upload::Column::TenantId)
            .column_as(draft_upload::Column::Id.count(), "files")
            .column_as(Expr::cust(SUM_SIZE), "bytes")
            .group_by(draft_upload::Column::TenantId)
            .into_tuple()
            .all(self.0)
            .await?;
        for (t, files, bytes) in drafts {
            out.entry(t).or_default().drafts = Usage {
                files: files.max(0) as u64,
                bytes: bytes.max(0) as u64,
            };
        }
        let files: Vec<(Uuid, Option<Uuid>, String, i64, i64)> = application_file::Entity::find()
            .select_only()
            .column(application_file::Column::TenantId)
            .column(application_file::Column::MessageId)
            .column(application_file::Column::FieldPath)
            .column_as(application_file::Column::Id.count(), "files")
            .column_as(Expr::cust(SUM_SIZE), "bytes")
            .group_by(application_file::Column::TenantId)
            .group_by(application_file::Column::MessageId)
            .group_by(application_file::Column::FieldPath)
            .into_tuple()
            .all(self.0)
            .await?;
        for (t, message, field, files, bytes) in files {
            let u = out.entry(t).or_default();
            let slot = match (message, field.as_str()) {
                (None, _) => &mut u.applications,
                (Some(_), "antwort") => &mut u.answers,
                (Some(_), _) => &mut u.documents,
            };
            slot.files += files.max(0) as u64;
            slot.bytes += bytes.max(0) as u64;
        }
        Ok(out)
    }
}
