//! The mailbox of an application: messages between office and applicant,
//! document requests (Nachforderung) and answers.

use chrono::Utc;
use rathaus_domain::{cases::CaseStatus, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    applications::{ApplicationFile, ApplicationRepository, NewFile},
    audit::AuditRepository,
    cases::{CaseError, CaseRepository},
    entities::{application_file, message},
    outbox::OutboxRepository,
};

pub type Message = message::Model;

/// What a message is (column `messages.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// The office writes to the applicant.
    Message,
    /// The office asks for documents.
    DocumentRequest,
    /// The applicant answers.
    Answer,
    /// A Bescheid.
    Decision,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        Self::Message,
        Self::DocumentRequest,
        Self::Answer,
        Self::Decision,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::DocumentRequest => "document_request",
            Self::Answer => "answer",
            Self::Decision => "decision",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

impl message::Model {
    /// The kind, or [`StorageError::Corrupt`] for an unknown value (rows
    /// read through the repositories are checked already).
    pub fn try_kind(&self) -> Result<MessageKind> {
        crate::parse_column("messages", "kind", &self.kind, MessageKind::parse)
    }
}

/// A message as read: its kind must be a known one.
pub(crate) fn checked(m: Message) -> Result<Message> {
    m.try_kind()?;
    Ok(m)
}

/// A message the office writes into an application's mailbox.
#[derive(Debug, Clone)]
pub struct OfficeMessage {
    pub body: String,
    /// Set for a document request (Nachforderung): the documents, one per line.
    pub requested_documents: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
}

#[allow(async_fn_in_trait)]
pub trait MailboxRepository {
    /// The thread of an application, oldest first.
    async fn messages(&self, tenant: TenantId, application: Uuid) -> Result<Vec<Message>>;
    /// Files that came with messages of an application.
    async fn message_files(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<ApplicationFile>>;
    /// Marks the office's (or the applicant's) unread messages as read now.
    /// Decisions are not: their Bekanntgabe is the opening of the Bescheid
    /// itself ([`Store::open_decision`]).
    async fn mark_read(
        &self,
        tenant: TenantId,
        application: Uuid,
        from_office: bool,
    ) -> Result<u64>;
    /// A message by id within the tenant.
    async fn message(&self, tenant: TenantId, id: Uuid) -> Result<Option<Message>>;
    /// Writes one message of an application's thread, unread; from the
    /// office when it has an `author`.
    async fn add_message(
        &self,
        tenant: TenantId,
        application: Uuid,
        kind: MessageKind,
        author: Option<Uuid>,
        body: String,
        request: (Option<String>, Option<chrono::NaiveDate>),
    ) -> Result<Message>;
}

impl<C: ConnectionTrait> MailboxRepository for Repo<'_, C> {
    async fn messages(&self, tenant: TenantId, application: Uuid) -> Result<Vec<Message>> {
        message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::ApplicationId.eq(application))
            .order_by_asc(message::Column::CreatedAt)
            .order_by_asc(message::Column::Id)
            .all(self.0)
            .await?
            .into_iter()
            .map(checked)
            .collect()
    }

    async fn message_files(
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

    async fn mark_read(
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
            .filter(message::Column::Kind.ne(MessageKind::Decision.code()))
            .filter(message::Column::ReadAt.is_null())
            .exec(self.0)
            .await?
            .rows_affected)
    }

    async fn message(&self, tenant: TenantId, id: Uuid) -> Result<Option<Message>> {
        message::Entity::find_by_id(id)
            .filter(message::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    async fn add_message(
        &self,
        tenant: TenantId,
        application: Uuid,
        kind: MessageKind,
        author: Option<Uuid>,
        body: String,
        (requested_documents, due_date): (Option<String>, Option<chrono::NaiveDate>),
    ) -> Result<Message> {
        Ok(message::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            application_id: Set(application),
            kind: Set(kind.code().to_string()),
            from_office: Set(author.is_some()),
            author_id: Set(author),
            body: Set(body),
            requested_documents: Set(requested_documents),
            due_date: Set(due_date),
            created_at: Set(Utc::now()),
            read_at: Set(None),
        }
        .insert(self.0)
        .await?)
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
            repo.set_case_status(&c, next).await?;
        } else if !c.status().is_open() {
            return Err(rathaus_domain::cases::TransitionError {
                from: c.status(),
                action: CaseAction::Start,
            }
            .into());
        }
        let m = repo
            .add_message(
                tenant,
                c.application_id,
                if request {
                    MessageKind::DocumentRequest
                } else {
                    MessageKind::Message
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
        use rathaus_domain::cases::{CaseAction, transition};
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
        let m = repo
            .add_message(
                tenant,
                application,
                MessageKind::Answer,
                None,
                body,
                (None, None),
            )
            .await?;
        for f in &files {
            repo.add_file(tenant, application, f, Some(m.id)).await?;
        }
        if c.status() == CaseStatus::AwaitingDocuments {
            let next = transition(c.status(), CaseAction::DocumentsReceived)?;
            repo.set_case_status(&c, next).await?;
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
            &serde_json::json!({ "message": m.id, "case": c.id, "application": c.application_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    }
}
