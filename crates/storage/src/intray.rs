//! The electronic in-tray (Posteingang): incoming mail uploaded by staff,
//! its extracted text and the proposals where it goes; the routing rules;
//! the tenant's learned classifier with its measured evaluation.
//!
//! An item is `open` until a person files it into a Vorgang (`filed`: its
//! text and proposals are cleared, the content lives on as the filed
//! document) or discards it (the row and its object are deleted: nothing is
//! kept beyond its purpose).

use chrono::Utc;
use rathaus_domain::tenancy::TenantId;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    audit::AuditRepository,
    entities::{intray_item, intray_model, intray_rule},
    outbox::OutboxRepository,
    records::{NewDocument, RecordDocument, RecordRepository},
};

pub type IntrayItem = intray_item::Model;
pub type IntrayRuleRow = intray_rule::Model;
pub type IntrayModelRow = intray_model::Model;

/// Status of an in-tray item.
pub const OPEN: &str = "open";
pub const FILED: &str = "filed";

/// A new item (its object already stored).
#[derive(Debug, Clone)]
pub struct NewIntrayItem {
    pub uploaded_by: Uuid,
    pub file_key: String,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub kind: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    /// JSON array of proposals.
    pub proposals: String,
}

/// A routing rule to store (keywords and target as the domain's JSON).
#[derive(Debug, Clone)]
pub struct NewIntrayRule<'a> {
    pub name: &'a str,
    pub priority: i32,
    pub sender: Option<&'a str>,
    pub keywords: &'a serde_json::Value,
    pub target: &'a serde_json::Value,
}

#[allow(async_fn_in_trait)]
pub trait IntrayRepository {
    /// Items of a status, newest first (at most `limit`).
    async fn intray_items(
        &self,
        tenant: TenantId,
        status: &str,
        limit: u64,
    ) -> Result<Vec<IntrayItem>>;
    async fn intray_item(&self, tenant: TenantId, id: Uuid) -> Result<Option<IntrayItem>>;
    /// The routing rules, highest priority first.
    async fn intray_rules(&self, tenant: TenantId) -> Result<Vec<IntrayRuleRow>>;
    async fn intray_model(&self, tenant: TenantId) -> Result<Option<IntrayModelRow>>;
}

impl<C: ConnectionTrait> IntrayRepository for Repo<'_, C> {
    async fn intray_items(
        &self,
        tenant: TenantId,
        status: &str,
        limit: u64,
    ) -> Result<Vec<IntrayItem>> {
        Ok(intray_item::Entity::find()
            .filter(intray_item::Column::TenantId.eq(tenant.0))
            .filter(intray_item::Column::Status.eq(status))
            .order_by_desc(intray_item::Column::ReceivedAt)
            .limit(limit)
            .all(self.0)
            .await?)
    }

    async fn intray_item(&self, tenant: TenantId, id: Uuid) -> Result<Option<IntrayItem>> {
        Ok(intray_item::Entity::find_by_id(id)
            .filter(intray_item::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn intray_rules(&self, tenant: TenantId) -> Result<Vec<IntrayRuleRow>> {
        Ok(intray_rule::Entity::find()
            .filter(intray_rule::Column::TenantId.eq(tenant.0))
            .order_by_desc(intray_rule::Column::Priority)
            .order_by_asc(intray_rule::Column::Name)
            .all(self.0)
            .await?)
    }

    async fn intray_model(&self, tenant: TenantId) -> Result<Option<IntrayModelRow>> {
        Ok(intray_model::Entity::find_by_id(tenant.0)
            .filter(intray_model::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }
}

impl Store {
    pub async fn add_intray_item(
        &self,
        tenant: TenantId,
        item: NewIntrayItem,
    ) -> Result<IntrayItem> {
        Ok(intray_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            status: Set(OPEN.into()),
            received_at: Set(Utc::now()),
            uploaded_by: Set(item.uploaded_by),
            file_key: Set(item.file_key),
            file_name: Set(item.file_name.chars().take(200).collect()),
            mime: Set(item.mime),
            size: Set(item.size),
            sha256: Set(item.sha256),
            kind: Set(item.kind),
            sender: Set(item.sender.map(|s| s.chars().take(300).collect())),
            subject: Set(item.subject.map(|s| s.chars().take(300).collect())),
            text: Set(item.text),
            proposals: Set(item.proposals),
            target_file_id: Set(None),
            document_id: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
        }
        .insert(self.db())
        .await?)
    }

    /// Files an open item into a Vorgang as a document (in one transaction
    /// with the audit entry on the Vorgang's case and the processing job);
    /// the item keeps only where it went.
    pub async fn file_intray_item(
        &self,
        tenant: TenantId,
        item: Uuid,
        file: Uuid,
        document: &NewDocument,
        actor: (Uuid, &str),
    ) -> Result<(IntrayItem, RecordDocument)> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let it = repo
            .intray_item(tenant, item)
            .await?
            .ok_or(StorageError::NotFound("intray item"))?;
        if it.status != OPEN {
            return Err(StorageError::Conflict("status"));
        }
        let doc = repo
            .add_document_to_file(tenant, file, document, actor.1)
            .await?;
        let mut am: intray_item::ActiveModel = it.into();
        am.status = Set(FILED.into());
        am.text = Set(String::new());
        am.proposals = Set("[]".into());
        am.target_file_id = Set(Some(file));
        am.document_id = Set(Some(doc.id));
        am.decided_by = Set(Some(actor.0));
        am.decided_at = Set(Some(Utc::now()));
        let it = am.update(&txn).await?;
        txn.commit().await?;
        Ok((it, doc))
    }

    /// Deletes an open item (the caller deletes its object after the commit).
    pub async fn discard_intray_item(&self, tenant: TenantId, item: Uuid) -> Result<IntrayItem> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let it = repo
            .intray_item(tenant, item)
            .await?
            .ok_or(StorageError::NotFound("intray item"))?;
        if it.status != OPEN {
            return Err(StorageError::Conflict("status"));
        }
        intray_item::Entity::delete_by_id(it.id)
            .filter(intray_item::Column::TenantId.eq(tenant.0))
            .exec(&txn)
            .await?;
        repo.enqueue(
            Some(tenant),
            crate::records::DELETE_OBJECTS_JOB,
            &serde_json::json!({ "keys": [it.file_key] }),
        )
        .await?;
        txn.commit().await?;
        Ok(it)
    }

    pub async fn add_intray_rule(
        &self,
        tenant: TenantId,
        rule: &NewIntrayRule<'_>,
        by: Uuid,
    ) -> Result<IntrayRuleRow> {
        Ok(intray_rule::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            name: Set(rule.name.into()),
            priority: Set(rule.priority),
            sender: Set(rule.sender.map(String::from)),
            keywords: Set(rule.keywords.to_string()),
            target: Set(rule.target.to_string()),
            created_by: Set(by),
            created_at: Set(Utc::now()),
        }
        .insert(self.db())
        .await?)
    }

    pub async fn delete_intray_rule(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        let r = intray_rule::Entity::delete_many()
            .filter(intray_rule::Column::TenantId.eq(tenant.0))
            .filter(intray_rule::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        if r.rows_affected == 0 {
            return Err(StorageError::NotFound("intray rule"));
        }
        Ok(())
    }

    /// Replaces the tenant's classifier.
    pub async fn save_intray_model(
        &self,
        tenant: TenantId,
        model: String,
        evaluation: String,
        samples: i32,
        by: Option<Uuid>,
    ) -> Result<IntrayModelRow> {
        let txn = self.begin_write().await?;
        intray_model::Entity::delete_many()
            .filter(intray_model::Column::TenantId.eq(tenant.0))
            .exec(&txn)
            .await?;
        let row = intray_model::ActiveModel {
            tenant_id: Set(tenant.0),
            model: Set(model),
            evaluation: Set(evaluation),
            samples: Set(samples),
            trained_at: Set(Utc::now()),
            trained_by: Set(by),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Adds a document as the next number of a Vorgang that is open or
    /// closed (not offered, archived or destroyed), with the audit entry and
    /// the processing job (text, seal).
    pub(crate) async fn add_document_to_file(
        &self,
        tenant: TenantId,
        file: Uuid,
        d: &NewDocument,
        actor: &str,
    ) -> Result<RecordDocument> {
        use rathaus_domain::records::FileStatus;
        let f = self
            .record_file(tenant, file)
            .await?
            .ok_or(StorageError::NotFound("record"))?;
        if !matches!(f.status(), FileStatus::Open | FileStatus::Closed) {
            return Err(StorageError::Conflict("record_status"));
        }
        let number = self.next_document_number(tenant, f.id).await?;
        let doc = self.insert_document(tenant, f.id, number, d).await?;
        self.append_audit(
            tenant,
            f.case_id,
            actor,
            "record.document_filed",
            &serde_json::json!({ "document": doc.id, "sha256": d.sha256, "title": d.title }),
        )
        .await?;
        Ok(doc)
    }
}
