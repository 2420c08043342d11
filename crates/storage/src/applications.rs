//! Applications (C3), their cases (C5) and the hash-chained audit log.
//!
//! A submission is one transaction: the application with its reference
//! number, its files' metadata, the case in the responsible org unit's inbox,
//! the first audit entry, the outbox job for the receipt and notifications,
//! and the removal of the draft. Only after commit does the applicant see
//! "received".

use chrono::{SecondsFormat, Utc};
use rathaus_domain::{
    audit::{self, EntryFields},
    cases::CaseStatus,
    tenancy::TenantId,
};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, OnConflict},
};

use crate::{
    Repo, Result, StorageError, Store,
    entities::{application, application_file, audit_entry, audit_head, case, message},
    identity::token_hash,
    outbox::OutboxRepository,
};

mod writer;

pub(crate) use writer::SubmissionWriter;

pub type Application = application::Model;

/// The next entry of a tenant's audit chain after `prev_hash`, with its hash.
pub(crate) fn audit_entry_model(
    tenant: TenantId,
    case_id: Uuid,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
    at: chrono::DateTime<Utc>,
    prev_hash: &str,
) -> (audit_entry::ActiveModel, String) {
    let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let detail = detail.to_string();
    let hash = audit::entry_hash(
        prev_hash,
        &EntryFields {
            tenant: &tenant.0.to_string(),
            case: &case_id.to_string(),
            actor,
            action,
            detail: &detail,
            at: &at,
        },
    );
    let entry = audit_entry::ActiveModel {
        tenant_id: Set(tenant.0),
        case_id: Set(case_id),
        actor: Set(actor.to_string()),
        action: Set(action.to_string()),
        detail: Set(detail),
        at: Set(at),
        prev_hash: Set(prev_hash.to_string()),
        hash: Set(hash.clone()),
        ..Default::default()
    };
    (entry, hash)
}

/// Moves a case to `next` on the transaction of the change.
async fn set_case_status(
    txn: &sea_orm::DatabaseTransaction,
    c: &Case,
    next: CaseStatus,
) -> std::result::Result<(), sea_orm::DbErr> {
    let mut am: case::ActiveModel = c.clone().into();
    am.status = Set(next.code().to_string());
    am.updated_at = Set(Utc::now());
    am.update(txn).await?;
    Ok(())
}

/// Writes one message of an application's thread, unread.
async fn insert_message(
    txn: &sea_orm::DatabaseTransaction,
    tenant: TenantId,
    application: Uuid,
    kind: &str,
    author: Option<Uuid>,
    body: String,
    (requested_documents, due_date): (Option<String>, Option<chrono::NaiveDate>),
) -> std::result::Result<Message, sea_orm::DbErr> {
    message::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        application_id: Set(application),
        kind: Set(kind.to_string()),
        from_office: Set(author.is_some()),
        author_id: Set(author),
        body: Set(body),
        requested_documents: Set(requested_documents),
        due_date: Set(due_date),
        created_at: Set(Utc::now()),
        read_at: Set(None),
    }
    .insert(txn)
    .await
}

/// Records one stored file of an application (of the submission, an answer or
/// a decision) on the transaction of that change.
async fn insert_file(
    txn: &sea_orm::DatabaseTransaction,
    tenant: TenantId,
    application: Uuid,
    f: &NewFile,
    message: Option<Uuid>,
) -> std::result::Result<(), sea_orm::DbErr> {
    file_model(tenant, application, f, message)
        .insert(txn)
        .await?;
    Ok(())
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
pub type ApplicationFile = application_file::Model;
pub type Case = case::Model;
pub type AuditEntry = audit_entry::Model;
pub type Message = message::Model;

impl case::Model {
    pub fn status(&self) -> CaseStatus {
        CaseStatus::parse(&self.status).unwrap_or(CaseStatus::Received)
    }

    /// Open and past its due date.
    pub fn overdue(&self, now: chrono::DateTime<Utc>) -> bool {
        self.status().is_open()
            && !matches!(self.status(), CaseStatus::Decided)
            && self.due_at.is_some_and(|d| d < now)
    }
}

impl application::Model {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| serde_json::json!({}))
    }
}

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

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Appends an audit entry for `case`. Updating the tenant's head row first
    /// serialises concurrent appenders (a row lock on PostgreSQL, the write
    /// lock on SQLite), so the chain never forks.
    pub async fn append_audit(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<AuditEntry> {
        let head = self.lock_audit_head(tenant, 1).await?;
        let (entry, hash) = audit_entry_model(
            tenant,
            case_id,
            actor,
            action,
            detail,
            Utc::now(),
            &head.last_hash,
        );
        let entry = entry.insert(self.0).await?;
        self.set_audit_head(tenant, hash).await?;
        Ok(entry)
    }

    /// Reserves `entries` places in the tenant's audit chain and returns the
    /// head before them. The update takes the head row's lock (PostgreSQL) or
    /// runs under the write lock (SQLite): appenders of one tenant serialise
    /// here until their transaction ends, so the chain never forks.
    pub(crate) async fn lock_audit_head(
        &self,
        tenant: TenantId,
        entries: i64,
    ) -> Result<audit_head::Model> {
        audit_head::Entity::insert(audit_head::ActiveModel {
            tenant_id: Set(tenant.0),
            entries: Set(0),
            last_hash: Set(audit::GENESIS.to_string()),
        })
        .on_conflict(
            OnConflict::column(audit_head::Column::TenantId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.0)
        .await?;
        audit_head::Entity::update_many()
            .col_expr(
                audit_head::Column::Entries,
                Expr::col(audit_head::Column::Entries).add(entries),
            )
            .filter(audit_head::Column::TenantId.eq(tenant.0))
            .exec(self.0)
            .await?;
        audit_head::Entity::find_by_id(tenant.0)
            .one(self.0)
            .await?
            .ok_or(StorageError::NotFound("audit head"))
    }

    /// Moves the tenant's head to the last appended entry's hash.
    pub(crate) async fn set_audit_head(&self, tenant: TenantId, hash: String) -> Result<()> {
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::LastHash, Expr::value(hash))
            .filter(audit_head::Column::TenantId.eq(tenant.0))
            .exec(self.0)
            .await?;
        Ok(())
    }

    pub async fn application_by_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<Application>> {
        Ok(application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::IdempotencyKey.eq(key))
            .one(self.0)
            .await?)
    }

    /// The application an access token opens (the applicant's link).
    pub async fn application_by_access_token(
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

    pub async fn application_by_reference(
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

    pub async fn case_of(&self, tenant: TenantId, application: Uuid) -> Result<Option<Case>> {
        Ok(case::Entity::find()
            .filter(case::Column::TenantId.eq(tenant.0))
            .filter(case::Column::ApplicationId.eq(application))
            .one(self.0)
            .await?)
    }

    pub async fn application_files(
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

    /// A case's audit entries, oldest first.
    pub async fn audit_of_case(&self, tenant: TenantId, case_id: Uuid) -> Result<Vec<AuditEntry>> {
        Ok(audit_entry::Entity::find()
            .filter(audit_entry::Column::TenantId.eq(tenant.0))
            .filter(audit_entry::Column::CaseId.eq(case_id))
            .order_by_asc(audit_entry::Column::Id)
            .all(self.0)
            .await?)
    }

    /// Checks a tenant's whole chain; returns (entries checked, first broken entry).
    pub async fn verify_audit(&self, tenant: TenantId) -> Result<(usize, Option<AuditEntry>)> {
        let entries = audit_entry::Entity::find()
            .filter(audit_entry::Column::TenantId.eq(tenant.0))
            .order_by_asc(audit_entry::Column::Id)
            .all(self.0)
            .await?;
        let tenant_s = tenant.0.to_string();
        let cases: Vec<String> = entries.iter().map(|e| e.case_id.to_string()).collect();
        let broken = audit::first_broken(entries.iter().zip(&cases).map(|(e, c)| {
            (
                e.prev_hash.as_str(),
                e.hash.as_str(),
                EntryFields {
                    tenant: &tenant_s,
                    case: c,
                    actor: &e.actor,
                    action: &e.action,
                    detail: &e.detail,
                    at: &e.at,
                },
            )
        }));
        // A deleted last entry leaves the head pointing past the chain.
        let head = audit_head::Entity::find_by_id(tenant.0).one(self.0).await?;
        let broken = broken.or_else(|| match (&head, entries.last()) {
            (Some(h), Some(last)) if h.last_hash != last.hash => Some(entries.len() - 1),
            (Some(h), None) if h.last_hash != audit::GENESIS => Some(0),
            _ => None,
        });
        let n = entries.len();
        Ok((n, broken.and_then(|i| entries.into_iter().nth(i))))
    }
}

/// Filters of a case inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// Only these statuses; empty: all open ones.
    pub statuses: Vec<CaseStatus>,
    /// Only cases assigned to this user.
    pub assignee: Option<Uuid>,
    /// Only unassigned cases.
    pub unassigned: bool,
    /// Only open cases past their due date.
    pub overdue: bool,
    /// Reference number (exact, case-insensitive).
    pub reference: Option<String>,
    /// Keyset: cases created before this (created_at, id).
    pub before: Option<(chrono::DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// A row of an inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub case: Case,
    pub application: Application,
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Cases in the given org units, newest first, by keyset.
    pub async fn inbox(
        &self,
        tenant: TenantId,
        units: &[Uuid],
        q: &InboxQuery,
    ) -> Result<Vec<InboxRow>> {
        let statuses: Vec<&str> = if q.statuses.is_empty() {
            CaseStatus::ALL
                .iter()
                .filter(|s| s.is_open())
                .map(|s| s.code())
                .collect()
        } else {
            q.statuses.iter().map(|s| s.code()).collect()
        };
        let application = match &q.reference {
            Some(r) => match self.application_by_reference(tenant, r).await? {
                Some(app) => Some(app.id),
                None => return Ok(vec![]),
            },
            None => None,
        };
        let limit = q.limit.clamp(1, 200);
        let query = |units: &[Uuid], statuses: &[&str]| {
            let mut find = case::Entity::find()
                .filter(case::Column::TenantId.eq(tenant.0))
                .filter(case::Column::OrgUnitId.is_in(units.iter().copied()))
                .filter(case::Column::Status.is_in(statuses.iter().copied()));
            if let Some(a) = q.assignee {
                find = find.filter(case::Column::AssigneeId.eq(a));
            }
            if q.unassigned {
                find = find.filter(case::Column::AssigneeId.is_null());
            }
            if q.overdue {
                find = find.filter(case::Column::DueAt.lt(Utc::now()));
            }
            if let Some(app) = application {
                find = find.filter(case::Column::ApplicationId.eq(app));
            }
            if let Some((at, id)) = q.before {
                // The plain bound comes first: without it SQLite plans the OR
                // as two index searches whose union it sorts in full (every
                // older case); with it, one backwards range walk that stops
                // after a page.
                find = find.filter(case::Column::CreatedAt.lte(at)).filter(
                    sea_orm::Condition::any()
                        .add(case::Column::CreatedAt.lt(at))
                        .add(
                            sea_orm::Condition::all()
                                .add(case::Column::CreatedAt.eq(at))
                                .add(case::Column::Id.lt(id)),
                        ),
                );
            }
            find.order_by_desc(case::Column::CreatedAt)
                .order_by_desc(case::Column::Id)
                .limit(limit)
        };
        // One query per (org unit, status): each walks the inbox index
        // (tenant, unit, status, created_at) backwards and stops after
        // `limit` rows, so a page costs the same with a thousand or a million
        // cases; the newest `limit` of all of them form the page. With very
        // many pairs, one query filters instead.
        let mut cases = if units.len() * statuses.len() <= 48 {
            let mut all = Vec::new();
            for u in units {
                for st in &statuses {
                    all.extend(
                        query(std::slice::from_ref(u), std::slice::from_ref(st))
                            .all(self.0)
                            .await?,
                    );
                }
            }
            all
        } else {
            query(units, &statuses).all(self.0).await?
        };
        cases.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id)));
        cases.truncate(limit as usize);
        let apps: std::collections::HashMap<Uuid, Application> = application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::Id.is_in(cases.iter().map(|c| c.application_id)))
            .all(self.0)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        Ok(cases
            .into_iter()
            .filter_map(|c| {
                let a = apps.get(&c.application_id)?.clone();
                Some(InboxRow {
                    case: c,
                    application: a,
                })
            })
            .collect())
    }

    pub async fn case(&self, tenant: TenantId, id: Uuid) -> Result<Option<Case>> {
        Ok(case::Entity::find_by_id(id)
            .filter(case::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    pub async fn application(&self, tenant: TenantId, id: Uuid) -> Result<Option<Application>> {
        Ok(application::Entity::find_by_id(id)
            .filter(application::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }
}

/// Why a case action is refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Transition(#[from] rathaus_domain::cases::TransitionError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sea_orm::DbErr> for CaseError {
    fn from(e: sea_orm::DbErr) -> Self {
        CaseError::Storage(e.into())
    }
}

/// What a clerk does to a case.
#[derive(Debug, Clone)]
pub enum CaseChange {
    /// Take the case (and start working on it).
    Claim,
    Status(rathaus_domain::cases::CaseAction),
    Note(String),
    Forward(Uuid),
}

impl Store {
    /// Applies a clerk's change to a case in one transaction with its audit entry.
    pub async fn change_case(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        actor: (Uuid, &str),
        change: CaseChange,
    ) -> std::result::Result<Case, CaseError> {
        use rathaus_domain::cases::{CaseAction, transition};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case(tenant, case_id)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        let status = c.status();
        let mut am: case::ActiveModel = c.clone().into();
        let (action, detail) = match &change {
            CaseChange::Claim => {
                let next = if status == CaseStatus::Received {
                    transition(status, CaseAction::Start)?
                } else if status.is_open() {
                    status
                } else {
                    return Err(rathaus_domain::cases::TransitionError {
                        from: status,
                        action: CaseAction::Start,
                    }
                    .into());
                };
                am.assignee_id = Set(Some(actor.0));
                am.status = Set(next.code().to_string());
                (
                    "claimed",
                    serde_json::json!({ "assignee": actor.0, "status": next.code() }),
                )
            }
            CaseChange::Status(a) => {
                let next = transition(status, *a)?;
                am.status = Set(next.code().to_string());
                (
                    "status",
                    serde_json::json!({ "from": status.code(), "to": next.code() }),
                )
            }
            CaseChange::Note(text) => ("note", serde_json::json!({ "text": text })),
            CaseChange::Forward(unit) => {
                use crate::tenancy::OrgUnitRepository;
                if repo.org_unit(tenant, *unit).await?.is_none() {
                    return Err(StorageError::NotFound("org unit").into());
                }
                am.org_unit_id = Set(*unit);
                am.assignee_id = Set(None);
                (
                    "forwarded",
                    serde_json::json!({ "from": c.org_unit_id, "to": unit }),
                )
            }
        };
        am.updated_at = Set(Utc::now());
        let updated = am.update(&txn).await?;
        repo.append_audit(tenant, case_id, actor.1, action, &detail)
            .await?;
        txn.commit().await?;
        Ok(updated)
    }
}

/// A message the office writes into an application's mailbox.
#[derive(Debug, Clone)]
pub struct OfficeMessage {
    pub body: String,
    /// Set for a document request (Nachforderung): the documents, one per line.
    pub requested_documents: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// The thread of an application, oldest first.
    pub async fn messages(&self, tenant: TenantId, application: Uuid) -> Result<Vec<Message>> {
        Ok(message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::ApplicationId.eq(application))
            .order_by_asc(message::Column::CreatedAt)
            .order_by_asc(message::Column::Id)
            .all(self.0)
            .await?)
    }

    /// Files that came with messages of an application.
    pub async fn message_files(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<ApplicationFile>> {
        Ok(application_file::Entity::find()
            .filter(application_file::Column::TenantId.eq(tenant.0))
            .filter(application_file::Column::ApplicationId.eq(application))
            .filter(application_file::Column::MessageId.is_not_null())
            .all(self.0)
            .await?)
    }

    /// Marks the office's (or the applicant's) unread messages as read now.
    /// Decisions are not: their Bekanntgabe is the opening of the Bescheid
    /// itself ([`Store::open_decision`]).
    pub async fn mark_read(
        &self,
        tenant: TenantId,
        application: Uuid,
        from_office: bool,
    ) -> Result<u64> {
        Ok(message::Entity::update_many()
            .col_expr(message::Column::ReadAt, Expr::value(Utc::now()))
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::ApplicationId.eq(application))
            .filter(message::Column::FromOffice.eq(from_office))
            .filter(message::Column::Kind.ne("decision"))
            .filter(message::Column::ReadAt.is_null())
            .exec(self.0)
            .await?
            .rows_affected)
    }
}

impl Store {
    /// The office writes to the applicant; a document request also moves the
    /// case to "awaiting documents". Message, status, audit entry and the
    /// notification job are one transaction.
    pub async fn office_message(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        author: (Uuid, &str),
        msg: OfficeMessage,
    ) -> std::result::Result<Message, CaseError> {
        use rathaus_domain::cases::{CaseAction, transition};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case(tenant, case_id)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        let request = msg.requested_documents.is_some();
        if request {
            let next = transition(c.status(), CaseAction::RequestDocuments)?;
            set_case_status(&txn, &c, next).await?;
        } else if !c.status().is_open() {
            return Err(rathaus_domain::cases::TransitionError {
                from: c.status(),
                action: CaseAction::Start,
            }
            .into());
        }
        let m = insert_message(
            &txn,
            tenant,
            c.application_id,
            if request {
                "document_request"
            } else {
                "message"
            },
            Some(author.0),
            msg.body,
            (msg.requested_documents, msg.due_date),
        )
        .await?;
        repo.append_audit(
            tenant,
            case_id,
            author.1,
            if request {
                "documents_requested"
            } else {
                "message_sent"
            },
            &serde_json::json!({ "message": m.id, "due": m.due_date }),
        )
        .await?;
        repo.enqueue(
            Some(tenant),
            "mailbox.office_message",
            &serde_json::json!({ "message": m.id, "application": c.application_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    }

    /// The applicant answers (through the access link); files are already
    /// stored. An answer to a document request returns the case to the clerk.
    pub async fn applicant_answer(
        &self,
        tenant: TenantId,
        application: Uuid,
        body: String,
        files: Vec<NewFile>,
    ) -> std::result::Result<Message, CaseError> {
        use rathaus_domain::cases::{CaseAction, CaseStatus, transition};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case_of(tenant, application)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        if !c.status().is_open() {
            return Err(rathaus_domain::cases::TransitionError {
                from: c.status(),
                action: CaseAction::DocumentsReceived,
            }
            .into());
        }
        let m = insert_message(
            &txn,
            tenant,
            application,
            "answer",
            None,
            body,
            (None, None),
        )
        .await?;
        for f in &files {
            insert_file(&txn, tenant, application, f, Some(m.id)).await?;
        }
        if c.status() == CaseStatus::AwaitingDocuments {
            let next = transition(c.status(), CaseAction::DocumentsReceived)?;
            set_case_status(&txn, &c, next).await?;
        }
        repo.append_audit(
            tenant,
            c.id,
            "applicant",
            "answered",
            &serde_json::json!({ "message": m.id, "files": files.len() }),
        )
        .await?;
        repo.enqueue(
            Some(tenant),
            "mailbox.applicant_answer",
            &serde_json::json!({ "message": m.id, "case": c.id }),
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    }
}

/// A decision to record: the rendered Bescheid is already stored as a file.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub variant: rathaus_domain::decisions::Variant,
    pub title: String,
    pub file: NewFile,
}

impl Store {
    /// The clerk decides: the case moves to "decided", the Bescheid is a
    /// message of kind `decision` with the PDF attached, the audit log names
    /// variant and the PDF's SHA-256, and the notification job is queued — one
    /// transaction.
    pub async fn decide(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        author: (Uuid, &str),
        decision: NewDecision,
    ) -> std::result::Result<Message, CaseError> {
        use rathaus_domain::cases::{CaseAction, transition};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case(tenant, case_id)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        let next = transition(c.status(), CaseAction::Decide)?;
        set_case_status(&txn, &c, next).await?;
        let m = insert_message(
            &txn,
            tenant,
            c.application_id,
            "decision",
            Some(author.0),
            decision.title.clone(),
            (None, None),
        )
        .await?;
        let f = &decision.file;
        insert_file(&txn, tenant, c.application_id, f, Some(m.id)).await?;
        repo.append_audit(
            tenant,
            case_id,
            author.1,
            "decided",
            &serde_json::json!({
                "variant": decision.variant.code(),
                "message": m.id,
                "sha256": f.sha256,
            }),
        )
        .await?;
        repo.enqueue(
            Some(tenant),
            "mailbox.decision",
            &serde_json::json!({ "message": m.id, "application": c.application_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    }

    /// The applicant opens a Bescheid: the first opening is its Bekanntgabe,
    /// recorded on the message and in the audit log. Returns the time of the
    /// first opening.
    pub async fn open_decision(
        &self,
        tenant: TenantId,
        message_id: Uuid,
    ) -> Result<chrono::DateTime<Utc>> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let m = message::Entity::find_by_id(message_id)
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::Kind.eq("decision"))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound("decision"))?;
        if let Some(at) = m.read_at {
            txn.commit().await?;
            return Ok(at);
        }
        let now = Utc::now();
        let application = m.application_id;
        let mut am: message::ActiveModel = m.into();
        am.read_at = Set(Some(now));
        // The stored value (PostgreSQL keeps microseconds), as later calls return it.
        let now = am.update(&txn).await?.read_at.unwrap_or(now);
        if let Some(c) = repo.case_of(tenant, application).await? {
            repo.append_audit(
                tenant,
                c.id,
                "applicant",
                "decision_opened",
                &serde_json::json!({ "message": message_id }),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(now)
    }
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// The applications of a citizen account, newest first, with their cases.
    pub async fn applications_of_citizen(
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

    /// A decision message of an application.
    pub async fn decision_message(
        &self,
        tenant: TenantId,
        application: Uuid,
        id: Uuid,
    ) -> Result<Option<Message>> {
        Ok(message::Entity::find_by_id(id)
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::ApplicationId.eq(application))
            .filter(message::Column::Kind.eq("decision"))
            .one(self.0)
            .await?)
    }

    /// A message by id within the tenant.
    pub async fn message(&self, tenant: TenantId, id: Uuid) -> Result<Option<Message>> {
        Ok(message::Entity::find_by_id(id)
            .filter(message::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }
}
