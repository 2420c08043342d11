//! The e-file (C6): the file plan, the Vorgang of each case with its
//! documents and their immutable versions, legal holds, hand-overs to the
//! archive and the deletion records of destroyed content.
//!
//! Filing is idempotent: a source (an application file, a message, the
//! submitted data) is filed once per Vorgang (unique index on
//! `(record_file_id, kind, source_id)`), so the jobs that file may run more
//! than once.

use chrono::{NaiveDate, Utc};
use rathaus_domain::{
    records::{
        DisposalStatus, Disposition, DocumentKind, FileStatus, PlanCode, PlanNode, Retention,
        RetentionTrigger,
    },
    tenancy::TenantId,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    audit::AuditRepository,
    entities::{
        application, application_number_floor, record_deletion, record_disposal,
        record_disposal_item, record_document, record_document_version, record_file,
        record_plan_node, record_service_node, record_setting,
    },
    outbox::OutboxRepository,
};

pub type RecordFile = record_file::Model;
pub type RecordDocument = record_document::Model;
pub type DocumentVersion = record_document_version::Model;
pub type Disposal = record_disposal::Model;
pub type DisposalItem = record_disposal_item::Model;
pub type Deletion = record_deletion::Model;
pub type PlanNodeRow = record_plan_node::Model;
pub type RecordSettings = record_setting::Model;

impl record_file::Model {
    pub fn status(&self) -> FileStatus {
        FileStatus::parse(&self.status).unwrap_or(FileStatus::Open)
    }
}

impl record_disposal::Model {
    pub fn status(&self) -> DisposalStatus {
        DisposalStatus::parse(&self.status).unwrap_or(DisposalStatus::Offered)
    }
}

impl record_disposal_item::Model {
    pub fn proposal(&self) -> Disposition {
        Disposition::parse(&self.proposal).unwrap_or(Disposition::Evaluate)
    }
    pub fn decision(&self) -> Option<Disposition> {
        self.decision.as_deref().and_then(Disposition::parse)
    }
}

impl record_plan_node::Model {
    /// The node as the domain sees it; a stored rule that does not parse is
    /// [`StorageError::Corrupt`].
    pub fn to_domain(&self) -> Result<PlanNode> {
        let corrupt = |column: &'static str, value: String| StorageError::Corrupt {
            table: "record_plan_nodes",
            column,
            value,
        };
        let code = PlanCode::parse(&self.code).map_err(|_| corrupt("code", self.code.clone()))?;
        let retention = match (
            self.retention_years,
            &self.retention_trigger,
            &self.disposition,
        ) {
            (Some(y), Some(t), Some(d)) => Some(
                Retention::new(
                    u16::try_from(y).map_err(|_| corrupt("retention_years", y.to_string()))?,
                    RetentionTrigger::parse(t)
                        .ok_or_else(|| corrupt("retention_trigger", t.clone()))?,
                    Disposition::parse(d).ok_or_else(|| corrupt("disposition", d.clone()))?,
                )
                .map_err(|_| corrupt("retention_years", y.to_string()))?,
            ),
            _ => None,
        };
        Ok(PlanNode {
            id: self.id,
            parent: self.parent_id,
            code,
            title: self.title.clone(),
            retention,
        })
    }
}

/// A node of a plan to seed or import.
#[derive(Debug, Clone)]
pub struct NewPlanNode {
    pub code: PlanCode,
    pub title: String,
    pub retention: Option<Retention>,
    /// Services (ids) filed under this node.
    pub services: Vec<Uuid>,
}

/// A document to file: its source and its one (first) version.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: DocumentKind,
    pub title: String,
    pub source_id: Option<Uuid>,
    pub date: NaiveDate,
    pub filed_by: Option<Uuid>,
    pub file_key: String,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

/// What the filing of a case knows (computed by the use case).
#[derive(Debug, Clone)]
pub struct Filing {
    pub case_id: Uuid,
    pub application_id: Uuid,
    pub plan_node_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    pub file_number: String,
    pub subject: String,
    pub opened_at: chrono::DateTime<Utc>,
    /// The case is over (closed, cancelled; or decided: then `event_on` is
    /// the day the decision becomes final).
    pub closed_at: Option<chrono::DateTime<Utc>>,
    pub event_on: Option<NaiveDate>,
    pub documents: Vec<NewDocument>,
}

/// A document with its versions, oldest first.
#[derive(Debug, Clone)]
pub struct FiledDocument {
    pub document: RecordDocument,
    pub versions: Vec<DocumentVersion>,
}

#[allow(async_fn_in_trait)]
pub trait RecordRepository {
    /// The tenant's plan, by code.
    async fn plan_nodes(&self, tenant: TenantId) -> Result<Vec<PlanNodeRow>>;
    /// The node a service files under.
    async fn plan_node_of_service(&self, tenant: TenantId, service: Uuid) -> Result<Option<Uuid>>;
    /// Which service files under which node.
    async fn service_nodes(&self, tenant: TenantId) -> Result<Vec<(Uuid, Uuid)>>;
    async fn record_settings(&self, tenant: TenantId) -> Result<Option<RecordSettings>>;
    async fn record_file(&self, tenant: TenantId, id: Uuid) -> Result<Option<RecordFile>>;
    async fn record_file_of_case(&self, tenant: TenantId, case: Uuid)
    -> Result<Option<RecordFile>>;
    /// A Vorgang's documents with their versions, by number.
    async fn filed_documents(&self, tenant: TenantId, file: Uuid) -> Result<Vec<FiledDocument>>;
    /// Vorgänge that are over and not on hold, not yet offered (candidates
    /// for a hand-over; the use case applies the retention rules).
    async fn closed_files(&self, tenant: TenantId) -> Result<Vec<RecordFile>>;
    async fn disposal(&self, tenant: TenantId, id: Uuid) -> Result<Option<Disposal>>;
    async fn disposals(&self, tenant: TenantId) -> Result<Vec<Disposal>>;
    async fn disposal_items(&self, tenant: TenantId, disposal: Uuid) -> Result<Vec<DisposalItem>>;
    async fn deletions_of(&self, tenant: TenantId, file: Uuid) -> Result<Vec<Deletion>>;
}

impl<C: ConnectionTrait> RecordRepository for Repo<'_, C> {
    async fn plan_nodes(&self, tenant: TenantId) -> Result<Vec<PlanNodeRow>> {
        Ok(record_plan_node::Entity::find()
            .filter(record_plan_node::Column::TenantId.eq(tenant.0))
            .order_by_asc(record_plan_node::Column::Code)
            .all(self.0)
            .await?)
    }

    async fn plan_node_of_service(&self, tenant: TenantId, service: Uuid) -> Result<Option<Uuid>> {
        Ok(record_service_node::Entity::find_by_id(service)
            .filter(record_service_node::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
            .map(|r| r.node_id))
    }

    async fn service_nodes(&self, tenant: TenantId) -> Result<Vec<(Uuid, Uuid)>> {
        Ok(record_service_node::Entity::find()
            .filter(record_service_node::Column::TenantId.eq(tenant.0))
            .all(self.0)
            .await?
            .into_iter()
            .map(|r| (r.service_id, r.node_id))
            .collect())
    }

    async fn record_settings(&self, tenant: TenantId) -> Result<Option<RecordSettings>> {
        Ok(record_setting::Entity::find_by_id(tenant.0)
            .one(self.0)
            .await?)
    }

    async fn record_file(&self, tenant: TenantId, id: Uuid) -> Result<Option<RecordFile>> {
        Ok(record_file::Entity::find_by_id(id)
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn record_file_of_case(
        &self,
        tenant: TenantId,
        case: Uuid,
    ) -> Result<Option<RecordFile>> {
        Ok(record_file::Entity::find()
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .filter(record_file::Column::CaseId.eq(case))
            .one(self.0)
            .await?)
    }

    async fn filed_documents(&self, tenant: TenantId, file: Uuid) -> Result<Vec<FiledDocument>> {
        let docs = record_document::Entity::find()
            .filter(record_document::Column::TenantId.eq(tenant.0))
            .filter(record_document::Column::RecordFileId.eq(file))
            .order_by_asc(record_document::Column::Number)
            .all(self.0)
            .await?;
        let ids: Vec<Uuid> = docs.iter().map(|d| d.id).collect();
        let mut versions = if ids.is_empty() {
            Vec::new()
        } else {
            record_document_version::Entity::find()
                .filter(record_document_version::Column::TenantId.eq(tenant.0))
                .filter(record_document_version::Column::DocumentId.is_in(ids))
                .order_by_asc(record_document_version::Column::Number)
                .all(self.0)
                .await?
        };
        Ok(docs
            .into_iter()
            .map(|d| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut versions)
                    .into_iter()
                    .partition(|v| v.document_id == d.id);
                versions = rest;
                FiledDocument {
                    document: d,
                    versions: mine,
                }
            })
            .collect())
    }

    async fn closed_files(&self, tenant: TenantId) -> Result<Vec<RecordFile>> {
        Ok(record_file::Entity::find()
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .filter(record_file::Column::Status.eq(FileStatus::Closed.code()))
            .filter(record_file::Column::LegalHold.eq(false))
            .filter(record_file::Column::EventOn.is_not_null())
            .order_by_asc(record_file::Column::EventOn)
            .limit(100_000)
            .all(self.0)
            .await?)
    }

    async fn disposal(&self, tenant: TenantId, id: Uuid) -> Result<Option<Disposal>> {
        Ok(record_disposal::Entity::find_by_id(id)
            .filter(record_disposal::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn disposals(&self, tenant: TenantId) -> Result<Vec<Disposal>> {
        Ok(record_disposal::Entity::find()
            .filter(record_disposal::Column::TenantId.eq(tenant.0))
            .order_by_desc(record_disposal::Column::CreatedAt)
            .limit(500)
            .all(self.0)
            .await?)
    }

    async fn disposal_items(&self, tenant: TenantId, disposal: Uuid) -> Result<Vec<DisposalItem>> {
        Ok(record_disposal_item::Entity::find()
            .filter(record_disposal_item::Column::TenantId.eq(tenant.0))
            .filter(record_disposal_item::Column::DisposalId.eq(disposal))
            .order_by_asc(record_disposal_item::Column::Id)
            .all(self.0)
            .await?)
    }

    async fn deletions_of(&self, tenant: TenantId, file: Uuid) -> Result<Vec<Deletion>> {
        Ok(record_deletion::Entity::find()
            .filter(record_deletion::Column::TenantId.eq(tenant.0))
            .filter(record_deletion::Column::RecordFileId.eq(file))
            .all(self.0)
            .await?)
    }
}

impl<C: ConnectionTrait> Repo<'_, C> {
    async fn require_record_file(&self, tenant: TenantId, id: Uuid) -> Result<RecordFile> {
        self.record_file(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("record"))
    }

    async fn require_disposal(&self, tenant: TenantId, id: Uuid) -> Result<Disposal> {
        self.disposal(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("disposal"))
    }

    pub(crate) async fn insert_document(
        &self,
        tenant: TenantId,
        file: Uuid,
        number: i32,
        d: &NewDocument,
    ) -> Result<RecordDocument> {
        let now = Utc::now();
        let doc = record_document::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            record_file_id: Set(file),
            number: Set(number),
            kind: Set(d.kind.code().into()),
            title: Set(d.title.chars().take(300).collect()),
            source_id: Set(d.source_id),
            document_date: Set(d.date),
            filed_at: Set(now),
            filed_by: Set(d.filed_by),
        }
        .insert(self.0)
        .await?;
        record_document_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            document_id: Set(doc.id),
            number: Set(1),
            file_key: Set(d.file_key.clone()),
            file_name: Set(d.file_name.chars().take(200).collect()),
            mime: Set(d.mime.clone()),
            size: Set(d.size),
            sha256: Set(d.sha256.clone()),
            created_at: Set(now),
            created_by: Set(d.filed_by),
            text: Set(None),
            seal: Set(None),
        }
        .insert(self.0)
        .await?;
        self.enqueue_processing(tenant).await?;
        Ok(doc)
    }

    /// Text extraction, seal and search index follow in a job (retried until
    /// done) that takes every version of the tenant not processed yet: one
    /// waiting job is enough. A waiting one is touched instead of adding
    /// another — the update holds its row until this transaction ends, so a
    /// worker claims it only after this version is committed (PostgreSQL;
    /// SQLite writes one transaction at a time anyway).
    pub(crate) async fn enqueue_processing(&self, tenant: TenantId) -> Result<()> {
        use crate::entities::outbox_job;
        use sea_orm::sea_query::Expr;
        let now = Utc::now().timestamp_millis();
        let touched = outbox_job::Entity::update_many()
            .col_expr(outbox_job::Column::UpdatedAtMs, Expr::value(now))
            .filter(outbox_job::Column::TenantId.eq(tenant.0))
            .filter(outbox_job::Column::Kind.eq(PROCESS_JOB))
            .filter(outbox_job::Column::Status.eq("pending"))
            .exec(self.0)
            .await?;
        if touched.rows_affected == 0 {
            self.enqueue(Some(tenant), PROCESS_JOB, &serde_json::json!({}))
                .await?;
        }
        Ok(())
    }

    /// The number the next document of a Vorgang gets.
    pub(crate) async fn next_document_number(&self, tenant: TenantId, file: Uuid) -> Result<i32> {
        let last = record_document::Entity::find()
            .filter(record_document::Column::TenantId.eq(tenant.0))
            .filter(record_document::Column::RecordFileId.eq(file))
            .order_by_desc(record_document::Column::Number)
            .one(self.0)
            .await?;
        Ok(last.map(|d| d.number).unwrap_or(0) + 1)
    }

    async fn set_disposal_status(&self, d: &Disposal, next: DisposalStatus) -> Result<Disposal> {
        let mut am: record_disposal::ActiveModel = d.clone().into();
        am.status = Set(next.code().into());
        am.updated_at = Set(Utc::now());
        Ok(am.update(self.0).await?)
    }
}

/// The audit entry a hand-over step writes (under the hand-over's id).
#[derive(Debug, Clone)]
pub struct AuditNote<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: serde_json::Value,
}

/// What the archive's message changes on one item of a hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemChange {
    /// The evaluation (0502): archive or destroy.
    Decision(Disposition),
    /// A receipt: taken or not, the archive's id, its message.
    Receipt {
        ok: bool,
        archive_id: Option<String>,
        message: Option<String>,
    },
}

/// The objects a destruction removes (deleted by the outbox job
/// `records.delete_objects` after the commit).
pub const DELETE_OBJECTS_JOB: &str = "records.delete_objects";

/// Extracts the text of new document versions, seals them and feeds the
/// search index (enqueued with every filed document).
pub const PROCESS_JOB: &str = "records.process";

impl Store {
    /// Seeds a tenant's plan (nodes whose code exists are kept) and which
    /// services file where, in one transaction.
    pub async fn seed_plan(
        &self,
        tenant: TenantId,
        nodes: &[NewPlanNode],
        archive_name: &str,
    ) -> Result<usize> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let mut existing: std::collections::HashMap<String, Uuid> = repo
            .plan_nodes(tenant)
            .await?
            .into_iter()
            .map(|n| (n.code, n.id))
            .collect();
        let mut created = 0;
        let mut sorted: Vec<&NewPlanNode> = nodes.iter().collect();
        sorted.sort_by_key(|n| n.code.as_str().split('.').count());
        for n in sorted {
            let id = match existing.get(n.code.as_str()) {
                Some(id) => *id,
                None => {
                    let parent = n
                        .code
                        .parent()
                        .and_then(|p| existing.get(p.as_str()).copied());
                    let id = Uuid::now_v7();
                    record_plan_node::ActiveModel {
                        id: Set(id),
                        tenant_id: Set(tenant.0),
                        parent_id: Set(parent),
                        code: Set(n.code.as_str().into()),
                        title: Set(n.title.clone()),
                        retention_years: Set(n.retention.map(|r| i32::from(r.years))),
                        retention_trigger: Set(n.retention.map(|r| r.trigger.code().into())),
                        disposition: Set(n.retention.map(|r| r.disposition.code().into())),
                        created_at: Set(Utc::now()),
                    }
                    .insert(&txn)
                    .await?;
                    existing.insert(n.code.as_str().into(), id);
                    created += 1;
                    id
                }
            };
            for s in &n.services {
                if repo.plan_node_of_service(tenant, *s).await?.is_none() {
                    record_service_node::ActiveModel {
                        service_id: Set(*s),
                        tenant_id: Set(tenant.0),
                        node_id: Set(id),
                    }
                    .insert(&txn)
                    .await?;
                }
            }
        }
        if repo.record_settings(tenant).await?.is_none() {
            record_setting::ActiveModel {
                tenant_id: Set(tenant.0),
                file_number_scheme: Set(rathaus_domain::records::FileNumberScheme::default()
                    .as_str()
                    .into()),
                archive_name: Set(archive_name.into()),
                updated_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(created)
    }

    /// Files a case: creates its Vorgang on the first call, brings its status
    /// up to date (not once it is part of a hand-over) and adds the documents
    /// not filed yet, in one transaction. Returns the Vorgang and the
    /// documents that were new (the caller removes the objects it stored for
    /// documents that turned out to be filed already).
    pub async fn file_case(
        &self,
        tenant: TenantId,
        filing: &Filing,
    ) -> Result<(RecordFile, Vec<NewDocument>)> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let now = Utc::now();
        let file = match repo.record_file_of_case(tenant, filing.case_id).await? {
            Some(f) => {
                if matches!(f.status(), FileStatus::Open | FileStatus::Closed) {
                    let mut am: record_file::ActiveModel = f.clone().into();
                    let status = if filing.closed_at.is_some() {
                        FileStatus::Closed
                    } else {
                        FileStatus::Open
                    };
                    am.status = Set(status.code().into());
                    am.closed_at = Set(filing.closed_at);
                    am.event_on = Set(filing.event_on);
                    am.org_unit_id = Set(filing.org_unit_id);
                    am.updated_at = Set(now);
                    am.update(&txn).await?
                } else {
                    f
                }
            }
            None => record_file::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                case_id: Set(filing.case_id),
                application_id: Set(filing.application_id),
                plan_node_id: Set(filing.plan_node_id),
                org_unit_id: Set(filing.org_unit_id),
                file_number: Set(filing.file_number.clone()),
                subject: Set(filing.subject.chars().take(300).collect()),
                status: Set(if filing.closed_at.is_some() {
                    FileStatus::Closed
                } else {
                    FileStatus::Open
                }
                .code()
                .into()),
                opened_at: Set(filing.opened_at),
                closed_at: Set(filing.closed_at),
                event_on: Set(filing.event_on),
                legal_hold: Set(false),
                legal_hold_reason: Set(None),
                legal_hold_by: Set(None),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(StorageError::conflict_on("file_number"))?,
        };
        let mut new = Vec::new();
        if matches!(file.status(), FileStatus::Open | FileStatus::Closed) {
            let filed = repo.filed_documents(tenant, file.id).await?;
            let mut number = filed.iter().map(|d| d.document.number).max().unwrap_or(0);
            for d in &filing.documents {
                let known = filed.iter().any(|f| {
                    f.document.kind == d.kind.code() && f.document.source_id == d.source_id
                });
                if !known {
                    number += 1;
                    repo.insert_document(tenant, file.id, number, d).await?;
                    new.push(d.clone());
                }
            }
        }
        txn.commit().await?;
        Ok((file, new))
    }

    /// Files a further document into a Vorgang (staff), in one transaction
    /// with its audit entry.
    pub async fn file_staff_document(
        &self,
        tenant: TenantId,
        file: Uuid,
        actor: &str,
        d: &NewDocument,
    ) -> Result<RecordDocument> {
        let txn = self.begin_write().await?;
        let doc = Repo(&txn)
            .add_document_to_file(tenant, file, d, actor)
            .await?;
        txn.commit().await?;
        Ok(doc)
    }

    /// Sets or lifts the legal hold of a Vorgang, audited.
    pub async fn set_legal_hold(
        &self,
        tenant: TenantId,
        file: Uuid,
        hold: Option<&str>,
        actor: (Uuid, &str),
    ) -> Result<RecordFile> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let f = repo.require_record_file(tenant, file).await?;
        let mut am: record_file::ActiveModel = f.clone().into();
        am.legal_hold = Set(hold.is_some());
        am.legal_hold_reason = Set(hold.map(String::from));
        am.legal_hold_by = Set(hold.map(|_| actor.0));
        am.updated_at = Set(Utc::now());
        let f = am.update(&txn).await?;
        repo.append_audit(
            tenant,
            f.case_id,
            actor.1,
            if hold.is_some() {
                "record.legal_hold_set"
            } else {
                "record.legal_hold_lifted"
            },
            &serde_json::json!({ "record": f.id, "reason": hold }),
        )
        .await?;
        txn.commit().await?;
        Ok(f)
    }

    /// Starts a hand-over with the given files and their proposals; the files
    /// become `offered`. Files that changed meanwhile (a hold, another
    /// hand-over) are left out. Returns the disposal and its items.
    pub async fn create_disposal(
        &self,
        tenant: TenantId,
        as_of: NaiveDate,
        files: &[(Uuid, Disposition)],
        actor: (Uuid, &str),
    ) -> Result<(Disposal, Vec<DisposalItem>)> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let now = Utc::now();
        let d = record_disposal::ActiveModel {
            id: Set(Uuid::new_v4()),
            tenant_id: Set(tenant.0),
            as_of: Set(as_of),
            status: Set(DisposalStatus::Offered.code().into()),
            created_by: Set(actor.0),
            created_at: Set(now),
            updated_at: Set(now),
            destruction_requested_by: Set(None),
            destruction_approved_by: Set(None),
        }
        .insert(&txn)
        .await?;
        let mut items = Vec::new();
        for (file, proposal) in files {
            // Only a closed file without a hold moves (checked in the update).
            let moved = record_file::Entity::update_many()
                .col_expr(
                    record_file::Column::Status,
                    Expr::value(FileStatus::Offered.code()),
                )
                .col_expr(record_file::Column::UpdatedAt, Expr::value(now))
                .filter(record_file::Column::TenantId.eq(tenant.0))
                .filter(record_file::Column::Id.eq(*file))
                .filter(record_file::Column::Status.eq(FileStatus::Closed.code()))
                .filter(record_file::Column::LegalHold.eq(false))
                .exec(&txn)
                .await?
                .rows_affected;
            if moved == 0 {
                continue;
            }
            items.push(
                record_disposal_item::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    tenant_id: Set(tenant.0),
                    disposal_id: Set(d.id),
                    record_file_id: Set(*file),
                    proposal: Set(proposal.code().into()),
                    decision: Set(None),
                    archive_id: Set(None),
                    receipt_ok: Set(None),
                    receipt_message: Set(None),
                }
                .insert(&txn)
                .await?,
            );
        }
        repo.append_audit(
            tenant,
            d.id,
            actor.1,
            "records.disposal_started",
            &serde_json::json!({ "as_of": as_of, "files": items.len() }),
        )
        .await?;
        txn.commit().await?;
        Ok((d, items))
    }

    /// Records an audited step of a hand-over that changes no item (0501
    /// read, 0503 written): moves the status when `next` differs.
    pub async fn disposal_step(
        &self,
        tenant: TenantId,
        disposal: Uuid,
        next: impl FnOnce(&Disposal) -> Result<DisposalStatus>,
        note: AuditNote<'_>,
    ) -> Result<Disposal> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let d = repo.require_disposal(tenant, disposal).await?;
        let status = next(&d)?;
        let d = if status != d.status() {
            repo.set_disposal_status(&d, status).await?
        } else {
            d
        };
        repo.append_audit(tenant, d.id, note.actor, note.action, &note.detail)
            .await?;
        txn.commit().await?;
        Ok(d)
    }

    /// Stores the archive's evaluation (0502) or receipt (0504–0507) per
    /// item: `update(item)` returns the changed item or None. Items the
    /// message does not name stay as they are.
    pub async fn update_disposal_items(
        &self,
        tenant: TenantId,
        disposal: Uuid,
        next: DisposalStatus,
        mut update: impl FnMut(&DisposalItem) -> Option<ItemChange>,
        note: AuditNote<'_>,
    ) -> Result<(Disposal, Vec<DisposalItem>)> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let d = repo.require_disposal(tenant, disposal).await?;
        let mut items = Vec::new();
        for item in repo.disposal_items(tenant, disposal).await? {
            items.push(match update(&item) {
                Some(change) => {
                    let mut am: record_disposal_item::ActiveModel = item.into();
                    match change {
                        ItemChange::Decision(d) => am.decision = Set(Some(d.code().into())),
                        ItemChange::Receipt {
                            ok,
                            archive_id,
                            message,
                        } => {
                            am.receipt_ok = Set(Some(ok));
                            am.archive_id = Set(archive_id.map(|a| a.chars().take(200).collect()));
                            am.receipt_message =
                                Set(message.map(|m| m.chars().take(500).collect()));
                        }
                    }
                    am.update(&txn).await?
                }
                None => item,
            });
        }
        let d = repo.set_disposal_status(&d, next).await?;
        repo.append_audit(tenant, d.id, note.actor, note.action, &note.detail)
            .await?;
        txn.commit().await?;
        Ok((d, items))
    }

    /// Destroys the content of the given files in one transaction: each
    /// gets a deletion record (what, when, who, hashes), its documents and
    /// its application (with case, messages and files) are deleted, its
    /// status becomes `status` (archived or destroyed), and one outbox job
    /// deletes the objects after the commit. The disposal moves to
    /// `completed`.
    pub async fn destroy_files(
        &self,
        tenant: TenantId,
        disposal: &Disposal,
        files: &[(Uuid, FileStatus)],
        approver: (Uuid, &str),
    ) -> Result<Vec<Deletion>> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let requested_by = disposal
            .destruction_requested_by
            .ok_or(StorageError::NotFound("destruction request"))?;
        let mut keys: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (file, status) in files {
            let f = repo.require_record_file(tenant, *file).await?;
            if f.legal_hold {
                return Err(StorageError::Conflict("legal_hold"));
            }
            let docs = repo.filed_documents(tenant, f.id).await?;
            let listed: Vec<serde_json::Value> = docs
                .iter()
                .flat_map(|d| {
                    d.versions.iter().map(move |v| {
                        serde_json::json!({
                            "document": d.document.id,
                            "number": d.document.number,
                            "kind": d.document.kind,
                            "title": d.document.title,
                            "version": v.number,
                            "sha256": v.sha256,
                            "size": v.size,
                        })
                    })
                })
                .collect();
            for d in &docs {
                keys.extend(d.versions.iter().map(|v| v.file_key.clone()));
            }
            // The application's own objects (uploads, receipt, Bescheide),
            // also those never filed.
            let app_files = crate::entities::application_file::Entity::find()
                .filter(crate::entities::application_file::Column::TenantId.eq(tenant.0))
                .filter(
                    crate::entities::application_file::Column::ApplicationId.eq(f.application_id),
                )
                .all(&txn)
                .await?;
            keys.extend(app_files.into_iter().map(|a| a.file_key));
            let deletion = record_deletion::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                record_file_id: Set(f.id),
                file_number: Set(f.file_number.clone()),
                disposal_id: Set(Some(disposal.id)),
                documents: Set(serde_json::Value::Array(listed).to_string()),
                deleted_at: Set(Utc::now()),
                requested_by: Set(requested_by),
                approved_by: Set(approver.0),
            }
            .insert(&txn)
            .await?;
            record_document::Entity::delete_many()
                .filter(record_document::Column::TenantId.eq(tenant.0))
                .filter(record_document::Column::RecordFileId.eq(f.id))
                .exec(&txn)
                .await?;
            // Umlaufmappen (their comments) and what the in-tray remembers of
            // items filed here go with the content.
            crate::entities::circulation::Entity::delete_many()
                .filter(crate::entities::circulation::Column::TenantId.eq(tenant.0))
                .filter(crate::entities::circulation::Column::RecordFileId.eq(f.id))
                .exec(&txn)
                .await?;
            crate::entities::intray_item::Entity::delete_many()
                .filter(crate::entities::intray_item::Column::TenantId.eq(tenant.0))
                .filter(crate::entities::intray_item::Column::TargetFileId.eq(f.id))
                .exec(&txn)
                .await?;
            // Its number is never given again (the writer numbers from the
            // highest of the stored applications and this floor).
            if let Some(app) = application::Entity::find_by_id(f.application_id)
                .filter(application::Column::TenantId.eq(tenant.0))
                .one(&txn)
                .await?
            {
                let floor = application_number_floor::Entity::find_by_id((tenant.0, app.year))
                    .one(&txn)
                    .await?;
                match floor {
                    Some(fl) if fl.floor_seq >= app.seq => {}
                    Some(fl) => {
                        let mut am: application_number_floor::ActiveModel = fl.into();
                        am.floor_seq = Set(app.seq);
                        am.update(&txn).await?;
                    }
                    None => {
                        application_number_floor::ActiveModel {
                            tenant_id: Set(tenant.0),
                            year: Set(app.year),
                            floor_seq: Set(app.seq),
                        }
                        .insert(&txn)
                        .await?;
                    }
                }
            }
            // Cascades to the case, its messages and files.
            application::Entity::delete_many()
                .filter(application::Column::TenantId.eq(tenant.0))
                .filter(application::Column::Id.eq(f.application_id))
                .exec(&txn)
                .await?;
            let mut am: record_file::ActiveModel = f.clone().into();
            am.status = Set(status.code().into());
            am.updated_at = Set(Utc::now());
            am.update(&txn).await?;
            repo.append_audit(
                tenant,
                f.case_id,
                approver.1,
                "record.content_destroyed",
                &serde_json::json!({ "record": f.id, "deletion": deletion.id, "disposal": disposal.id }),
            )
            .await?;
            out.push(deletion);
        }
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            repo.enqueue(
                Some(tenant),
                DELETE_OBJECTS_JOB,
                &serde_json::json!({ "keys": keys }),
            )
            .await?;
        }
        let mut am: record_disposal::ActiveModel = disposal.clone().into();
        am.status = Set(DisposalStatus::Completed.code().into());
        am.destruction_approved_by = Set(Some(approver.0));
        am.updated_at = Set(Utc::now());
        am.update(&txn).await?;
        repo.append_audit(
            tenant,
            disposal.id,
            approver.1,
            "records.destruction_approved",
            &serde_json::json!({ "files": out.len(), "requested_by": requested_by }),
        )
        .await?;
        txn.commit().await?;
        Ok(out)
    }

    /// Records who asked for the destruction (the first of the four eyes).
    pub async fn request_destruction(
        &self,
        tenant: TenantId,
        disposal: Uuid,
        actor: (Uuid, &str),
    ) -> Result<Disposal> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let d = repo.require_disposal(tenant, disposal).await?;
        let next = d
            .status()
            .next(
                rathaus_domain::records::DisposalStep::RequestDestruction,
                actor.0,
                None,
            )
            .map_err(|_| StorageError::Conflict("status"))?;
        let mut am: record_disposal::ActiveModel = d.into();
        am.status = Set(next.code().into());
        am.destruction_requested_by = Set(Some(actor.0));
        am.updated_at = Set(Utc::now());
        let d = am.update(&txn).await?;
        repo.append_audit(
            tenant,
            d.id,
            actor.1,
            "records.destruction_requested",
            &serde_json::json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(d)
    }
}

/// A version waiting for its text and seal, with where it is filed.
#[derive(Debug, Clone)]
pub struct PendingVersion {
    pub version: DocumentVersion,
    pub document: RecordDocument,
    pub file: RecordFile,
}

/// A processed version for the search index.
#[derive(Debug, Clone)]
pub struct IndexedVersion {
    pub version: DocumentVersion,
    pub document: RecordDocument,
    pub file: RecordFile,
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Versions of a tenant without seal (not processed yet), oldest first.
    pub async fn versions_to_process(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<PendingVersion>> {
        let versions = record_document_version::Entity::find()
            .filter(record_document_version::Column::TenantId.eq(tenant.0))
            .filter(record_document_version::Column::Seal.is_null())
            .order_by_asc(record_document_version::Column::CreatedAt)
            .limit(limit)
            .all(self.0)
            .await?;
        self.with_documents(tenant, versions).await.map(|v| {
            v.into_iter()
                .map(|(version, document, file)| PendingVersion {
                    version,
                    document,
                    file,
                })
                .collect()
        })
    }

    /// Processed versions with text, in creation order after `after` (for
    /// building and refreshing the search index; all tenants).
    pub async fn indexed_versions_after(
        &self,
        after: Option<chrono::DateTime<Utc>>,
        limit: u64,
    ) -> Result<Vec<IndexedVersion>> {
        let mut q = record_document_version::Entity::find()
            .filter(record_document_version::Column::Seal.is_not_null())
            .order_by_asc(record_document_version::Column::CreatedAt)
            .limit(limit);
        if let Some(a) = after {
            q = q.filter(record_document_version::Column::CreatedAt.gt(a));
        }
        let versions = q.all(self.0).await?;
        let mut out = Vec::new();
        // Group by tenant: every lookup stays scoped to its tenant.
        let mut tenants: Vec<Uuid> = versions.iter().map(|v| v.tenant_id).collect();
        tenants.sort();
        tenants.dedup();
        for t in tenants {
            let mine: Vec<DocumentVersion> = versions
                .iter()
                .filter(|v| v.tenant_id == t)
                .cloned()
                .collect();
            for (version, document, file) in self.with_documents(TenantId(t), mine).await? {
                out.push(IndexedVersion {
                    version,
                    document,
                    file,
                });
            }
        }
        out.sort_by_key(|v| v.version.created_at);
        Ok(out)
    }

    async fn with_documents(
        &self,
        tenant: TenantId,
        versions: Vec<DocumentVersion>,
    ) -> Result<Vec<(DocumentVersion, RecordDocument, RecordFile)>> {
        let doc_ids: Vec<Uuid> = versions.iter().map(|v| v.document_id).collect();
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs = record_document::Entity::find()
            .filter(record_document::Column::TenantId.eq(tenant.0))
            .filter(record_document::Column::Id.is_in(doc_ids))
            .all(self.0)
            .await?;
        let file_ids: Vec<Uuid> = docs.iter().map(|d| d.record_file_id).collect();
        let files = record_file::Entity::find()
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .filter(record_file::Column::Id.is_in(file_ids))
            .all(self.0)
            .await?;
        Ok(versions
            .into_iter()
            .filter_map(|v| {
                let d = docs.iter().find(|d| d.id == v.document_id)?.clone();
                let f = files.iter().find(|f| f.id == d.record_file_id)?.clone();
                Some((v, d, f))
            })
            .collect())
    }

    /// Versions of the tenant with this content (SHA-256, hex).
    pub async fn versions_by_sha256(
        &self,
        tenant: TenantId,
        sha256: &str,
    ) -> Result<Vec<(DocumentVersion, RecordDocument, RecordFile)>> {
        let versions = record_document_version::Entity::find()
            .filter(record_document_version::Column::TenantId.eq(tenant.0))
            .filter(record_document_version::Column::Sha256.eq(sha256))
            .limit(20)
            .all(self.0)
            .await?;
        self.with_documents(tenant, versions).await
    }

    /// A document with its versions and its Vorgang.
    pub async fn filed_document(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(FiledDocument, RecordFile)>> {
        let Some(doc) = record_document::Entity::find_by_id(id)
            .filter(record_document::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        let file = self.require_record_file(tenant, doc.record_file_id).await?;
        let versions = record_document_version::Entity::find()
            .filter(record_document_version::Column::TenantId.eq(tenant.0))
            .filter(record_document_version::Column::DocumentId.eq(doc.id))
            .order_by_asc(record_document_version::Column::Number)
            .all(self.0)
            .await?;
        Ok(Some((
            FiledDocument {
                document: doc,
                versions,
            },
            file,
        )))
    }

    /// Vorgänge under one plan node that are open or closed (newest first).
    pub async fn files_of_node(
        &self,
        tenant: TenantId,
        node: Uuid,
        limit: u64,
    ) -> Result<Vec<RecordFile>> {
        Ok(record_file::Entity::find()
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .filter(record_file::Column::PlanNodeId.eq(node))
            .filter(
                record_file::Column::Status
                    .is_in([FileStatus::Open.code(), FileStatus::Closed.code()]),
            )
            .order_by_desc(record_file::Column::OpenedAt)
            .limit(limit)
            .all(self.0)
            .await?)
    }

    /// A Vorgang by its file number.
    pub async fn record_file_by_number(
        &self,
        tenant: TenantId,
        number: &str,
    ) -> Result<Option<RecordFile>> {
        Ok(record_file::Entity::find()
            .filter(record_file::Column::TenantId.eq(tenant.0))
            .filter(record_file::Column::FileNumber.eq(number))
            .one(self.0)
            .await?)
    }

    /// The documents with text of the tenant's open or closed Vorgänge, with
    /// their Vorgang's plan node (training data of the in-tray classifier).
    pub async fn texts_for_training(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<(Uuid, String, Uuid)>> {
        let versions = record_document_version::Entity::find()
            .filter(record_document_version::Column::TenantId.eq(tenant.0))
            .filter(record_document_version::Column::Text.is_not_null())
            .order_by_desc(record_document_version::Column::CreatedAt)
            .limit(limit)
            .all(self.0)
            .await?;
        Ok(self
            .with_documents(tenant, versions)
            .await?
            .into_iter()
            .filter(|(_, d, _)| {
                !matches!(
                    DocumentKind::parse(&d.kind),
                    Some(DocumentKind::ApplicationData | DocumentKind::Receipt)
                )
            })
            .filter_map(|(v, _, f)| Some((v.id, v.text?, f.plan_node_id?)))
            .filter(|(_, t, _)| t.trim().chars().count() >= 20)
            .collect())
    }
}

impl Store {
    /// Stores a version's extracted text and its seal (once: a version that
    /// has its seal keeps it).
    pub async fn set_version_processed(
        &self,
        tenant: TenantId,
        version: Uuid,
        text: Option<String>,
        seal: String,
    ) -> Result<()> {
        use sea_orm::sea_query::Expr;
        record_document_version::Entity::update_many()
            .col_expr(record_document_version::Column::Text, Expr::value(text))
            .col_expr(record_document_version::Column::Seal, Expr::value(seal))
            .filter(record_document_version::Column::TenantId.eq(tenant.0))
            .filter(record_document_version::Column::Id.eq(version))
            .filter(record_document_version::Column::Seal.is_null())
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Moves a document into another Vorgang (open or closed, same tenant),
    /// as its next number, audited on both cases, in one transaction.
    pub async fn move_document(
        &self,
        tenant: TenantId,
        document: Uuid,
        to: Uuid,
        actor: &str,
    ) -> Result<RecordDocument> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let (doc, from) = repo
            .filed_document(tenant, document)
            .await?
            .ok_or(StorageError::NotFound("document"))?;
        let target = repo.require_record_file(tenant, to).await?;
        for f in [&from, &target] {
            if !matches!(f.status(), FileStatus::Open | FileStatus::Closed) || f.legal_hold {
                return Err(StorageError::Conflict("record_status"));
            }
        }
        if from.id == target.id {
            return Err(StorageError::Conflict("same_record"));
        }
        let number = repo.next_document_number(tenant, target.id).await?;
        let mut am: record_document::ActiveModel = doc.document.clone().into();
        am.record_file_id = Set(target.id);
        am.number = Set(number);
        let moved = am.update(&txn).await?;
        let detail = serde_json::json!({
            "document": doc.document.id,
            "title": doc.document.title,
            "from": from.file_number,
            "to": target.file_number,
        });
        repo.append_audit(
            tenant,
            from.case_id,
            actor,
            "record.document_moved_out",
            &detail,
        )
        .await?;
        repo.append_audit(
            tenant,
            target.case_id,
            actor,
            "record.document_moved_in",
            &detail,
        )
        .await?;
        txn.commit().await?;
        Ok(moved)
    }
}

pub type PlanChangeRow = crate::entities::record_plan_change::Model;

impl crate::entities::record_plan_change::Model {
    /// The change as the domain sees it.
    pub fn change(&self) -> Result<rathaus_domain::records::PlanChange> {
        serde_json::from_str(&self.payload).map_err(|_| StorageError::Corrupt {
            table: "record_plan_changes",
            column: "payload",
            value: self.payload.chars().take(100).collect(),
        })
    }
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// The plan changes of a tenant: pending first, then the last 50 decided.
    pub async fn plan_changes(&self, tenant: TenantId) -> Result<Vec<PlanChangeRow>> {
        use crate::entities::record_plan_change as pc;
        let mut pending = pc::Entity::find()
            .filter(pc::Column::TenantId.eq(tenant.0))
            .filter(pc::Column::Status.eq("pending"))
            .order_by_asc(pc::Column::RequestedAt)
            .all(self.0)
            .await?;
        let decided = pc::Entity::find()
            .filter(pc::Column::TenantId.eq(tenant.0))
            .filter(pc::Column::Status.ne("pending"))
            .order_by_desc(pc::Column::RequestedAt)
            .limit(50)
            .all(self.0)
            .await?;
        pending.extend(decided);
        Ok(pending)
    }

    pub async fn plan_change(&self, tenant: TenantId, id: Uuid) -> Result<Option<PlanChangeRow>> {
        use crate::entities::record_plan_change as pc;
        Ok(pc::Entity::find_by_id(id)
            .filter(pc::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn node_by_code(&self, tenant: TenantId, code: &str) -> Result<Option<PlanNodeRow>> {
        Ok(record_plan_node::Entity::find()
            .filter(record_plan_node::Column::TenantId.eq(tenant.0))
            .filter(record_plan_node::Column::Code.eq(code))
            .one(self.0)
            .await?)
    }

    /// Whether the change can be applied to the plan as it is now
    /// (`Conflict` naming what is missing or taken).
    pub async fn check_plan_change(
        &self,
        tenant: TenantId,
        change: &rathaus_domain::records::PlanChange,
    ) -> Result<()> {
        use rathaus_domain::records::PlanChange as P;
        match change {
            P::AddNode { code, .. } => {
                if self.node_by_code(tenant, code).await?.is_some() {
                    return Err(StorageError::Conflict("plan_code_taken"));
                }
                if let Some(parent) = PlanCode::parse(code).ok().and_then(|c| c.parent())
                    && self.node_by_code(tenant, parent.as_str()).await?.is_none()
                {
                    return Err(StorageError::Conflict("plan_parent_missing"));
                }
            }
            P::UpdateNode { code, .. } | P::AssignService { code, .. } => {
                if self.node_by_code(tenant, code).await?.is_none() {
                    return Err(StorageError::Conflict("plan_code_unknown"));
                }
                if let P::AssignService { service, .. } = change {
                    use crate::catalog::CatalogRepository;
                    if self.service(tenant, *service).await?.is_none() {
                        return Err(StorageError::NotFound("service"));
                    }
                }
            }
            P::SetFileNumberScheme { .. } => {}
        }
        Ok(())
    }

    async fn apply_plan_change(
        &self,
        tenant: TenantId,
        change: &rathaus_domain::records::PlanChange,
    ) -> Result<()> {
        use rathaus_domain::records::PlanChange as P;
        self.check_plan_change(tenant, change).await?;
        let now = Utc::now();
        match change {
            P::AddNode {
                code,
                title,
                retention,
            } => {
                let parent = match PlanCode::parse(code).ok().and_then(|c| c.parent()) {
                    Some(p) => self.node_by_code(tenant, p.as_str()).await?.map(|n| n.id),
                    None => None,
                };
                record_plan_node::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant.0),
                    parent_id: Set(parent),
                    code: Set(code.clone()),
                    title: Set(title.clone()),
                    retention_years: Set(retention.map(|r| i32::from(r.years))),
                    retention_trigger: Set(retention.map(|r| r.trigger.code().into())),
                    disposition: Set(retention.map(|r| r.disposition.code().into())),
                    created_at: Set(now),
                }
                .insert(self.0)
                .await?;
            }
            P::UpdateNode {
                code,
                title,
                retention,
            } => {
                let node = self
                    .node_by_code(tenant, code)
                    .await?
                    .ok_or(StorageError::Conflict("plan_code_unknown"))?;
                let mut am: record_plan_node::ActiveModel = node.into();
                am.title = Set(title.clone());
                am.retention_years = Set(retention.map(|r| i32::from(r.years)));
                am.retention_trigger = Set(retention.map(|r| r.trigger.code().into()));
                am.disposition = Set(retention.map(|r| r.disposition.code().into()));
                am.update(self.0).await?;
            }
            P::AssignService { service, code } => {
                let node = self
                    .node_by_code(tenant, code)
                    .await?
                    .ok_or(StorageError::Conflict("plan_code_unknown"))?;
                record_service_node::Entity::delete_many()
                    .filter(record_service_node::Column::TenantId.eq(tenant.0))
                    .filter(record_service_node::Column::ServiceId.eq(*service))
                    .exec(self.0)
                    .await?;
                record_service_node::ActiveModel {
                    service_id: Set(*service),
                    tenant_id: Set(tenant.0),
                    node_id: Set(node.id),
                }
                .insert(self.0)
                .await?;
            }
            P::SetFileNumberScheme { scheme } => match self.record_settings(tenant).await? {
                Some(s) => {
                    let mut am: record_setting::ActiveModel = s.into();
                    am.file_number_scheme = Set(scheme.clone());
                    am.updated_at = Set(now);
                    am.update(self.0).await?;
                }
                None => {
                    record_setting::ActiveModel {
                        tenant_id: Set(tenant.0),
                        file_number_scheme: Set(scheme.clone()),
                        archive_name: Set(String::new()),
                        updated_at: Set(now),
                    }
                    .insert(self.0)
                    .await?;
                }
            },
        }
        Ok(())
    }
}

impl Store {
    /// Records a plan change for a second person (checked against the plan
    /// as it is now).
    pub async fn request_plan_change(
        &self,
        tenant: TenantId,
        change: &rathaus_domain::records::PlanChange,
        summary: &str,
        by: Uuid,
    ) -> Result<PlanChangeRow> {
        use crate::entities::record_plan_change as pc;
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        repo.check_plan_change(tenant, change).await?;
        let row = pc::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            payload: Set(
                serde_json::to_string(change).map_err(|_| StorageError::Corrupt {
                    table: "record_plan_changes",
                    column: "payload",
                    value: String::new(),
                })?,
            ),
            summary: Set(summary.chars().take(500).collect()),
            requested_by: Set(by),
            requested_at: Set(Utc::now()),
            status: Set("pending".into()),
            reviewed_by: Set(None),
            reviewed_at: Set(None),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Approves (applies) or rejects a pending plan change. Its requester
    /// cannot approve it (four eyes); rejecting their own request withdraws
    /// it.
    pub async fn review_plan_change(
        &self,
        tenant: TenantId,
        id: Uuid,
        reviewer: Uuid,
        approve: bool,
    ) -> Result<PlanChangeRow> {
        use crate::entities::record_plan_change as pc;
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let row = repo
            .plan_change(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("plan change"))?;
        if row.status != "pending" {
            return Err(StorageError::Conflict("status"));
        }
        if approve {
            if row.requested_by == reviewer {
                return Err(StorageError::Conflict("own_approval"));
            }
            repo.apply_plan_change(tenant, &row.change()?).await?;
        }
        let mut am: pc::ActiveModel = row.into();
        am.status = Set(if approve { "approved" } else { "rejected" }.into());
        am.reviewed_by = Set(Some(reviewer));
        am.reviewed_at = Set(Some(Utc::now()));
        let row = am.update(&txn).await?;
        txn.commit().await?;
        Ok(row)
    }
}
