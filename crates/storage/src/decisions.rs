//! Decisions (Bescheide): templates per service and variant, kept by
//! Fachadministration, and the issued decisions of cases.

use chrono::Utc;
use rathaus_domain::{decisions::Variant, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    applications::{ApplicationRepository, NewFile},
    audit::AuditRepository,
    cases::{CaseError, CaseRepository},
    entities::{decision_template, message},
    mailbox::{self, MailboxRepository, Message, MessageKind},
    outbox::OutboxRepository,
};

pub use crate::routing::RoutingRule;

pub type DecisionTemplate = decision_template::Model;

impl decision_template::Model {
    /// The variant, or [`StorageError::Corrupt`] for an unknown value (rows
    /// read through the repositories are checked already).
    pub fn try_variant(&self) -> Result<Variant> {
        crate::parse_column(
            "decision_templates",
            "variant",
            &self.variant,
            Variant::parse,
        )
    }
}

/// A template as read: its variant must be a known one.
fn checked(t: DecisionTemplate) -> Result<DecisionTemplate> {
    t.try_variant()?;
    Ok(t)
}

#[allow(async_fn_in_trait)]
pub trait DecisionRepository {
    /// The template of a service and variant, else the tenant's default for
    /// the variant; `None`: the built-in text applies.
    async fn decision_template(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        variant: Variant,
    ) -> Result<Option<DecisionTemplate>>;
    /// The service's own templates (not the defaults).
    async fn service_templates(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Vec<DecisionTemplate>>;
    /// A decision message of an application.
    async fn decision_message(
        &self,
        tenant: TenantId,
        application: Uuid,
        id: Uuid,
    ) -> Result<Option<Message>>;
}

impl<C: ConnectionTrait> DecisionRepository for Repo<'_, C> {
    /// The template of a service and variant, else the tenant's default for
    /// the variant; `None`: the built-in text applies.
    async fn decision_template(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        variant: Variant,
    ) -> Result<Option<DecisionTemplate>> {
        if let Some(s) = service
            && let Some(t) = decision_template::Entity::find()
                .filter(decision_template::Column::TenantId.eq(tenant.0))
                .filter(decision_template::Column::ServiceId.eq(s))
                .filter(decision_template::Column::Variant.eq(variant.code()))
                .one(self.0)
                .await?
        {
            return checked(t).map(Some);
        }
        decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::ServiceId.is_null())
            .filter(decision_template::Column::Variant.eq(variant.code()))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    /// The service's own templates (not the defaults).
    async fn service_templates(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Vec<DecisionTemplate>> {
        decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::ServiceId.eq(service))
            .all(self.0)
            .await?
            .into_iter()
            .map(checked)
            .collect()
    }

    async fn decision_message(
        &self,
        tenant: TenantId,
        application: Uuid,
        id: Uuid,
    ) -> Result<Option<Message>> {
        message::Entity::find_by_id(id)
            .filter(message::Column::TenantId.eq(tenant.0))
            .filter(message::Column::ApplicationId.eq(application))
            .filter(message::Column::Kind.eq(MessageKind::Decision.code()))
            .one(self.0)
            .await?
            .map(mailbox::checked)
            .transpose()
    }
}

impl Store {
    /// Creates or replaces the template of a service (or the tenant default
    /// when `service` is `None`) for a variant. The caller has checked the
    /// placeholders.
    pub async fn save_decision_template(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        variant: Variant,
        title: &str,
        body: &str,
        by: &str,
    ) -> Result<DecisionTemplate> {
        let txn = self.begin_write().await?;
        let mut q = decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::Variant.eq(variant.code()));
        q = match service {
            Some(s) => q.filter(decision_template::Column::ServiceId.eq(s)),
            None => q.filter(decision_template::Column::ServiceId.is_null()),
        };
        let saved = match q.one(&txn).await?.map(checked).transpose()? {
            Some(t) => {
                let mut am: decision_template::ActiveModel = t.into();
                am.title = Set(title.to_string());
                am.body = Set(body.to_string());
                am.updated_at = Set(Utc::now());
                am.updated_by = Set(by.to_string());
                am.update(&txn).await?
            }
            None => {
                decision_template::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant.0),
                    service_id: Set(service),
                    variant: Set(variant.code().to_string()),
                    title: Set(title.to_string()),
                    body: Set(body.to_string()),
                    updated_at: Set(Utc::now()),
                    updated_by: Set(by.to_string()),
                }
                .insert(&txn)
                .await?
            }
        };
        txn.commit().await?;
        Ok(saved)
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
        repo.set_case_status(&c, next).await?;
        let m = repo
            .add_message(
                tenant,
                c.application_id,
                MessageKind::Decision,
                Some(author.0),
                decision.title.clone(),
                (None, None),
            )
            .await?;
        let f = &decision.file;
        repo.add_file(tenant, c.application_id, f, Some(m.id))
            .await?;
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
            .filter(message::Column::Kind.eq(MessageKind::Decision.code()))
            .one(&txn)
            .await?
            .map(mailbox::checked)
            .transpose()?
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
