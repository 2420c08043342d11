//! Payments (E-Payment, C7): fees per service, the tenant's settings, each
//! payment with its provider transaction, and the log of everything that
//! reached it.
//!
//! Every change of a payment's status goes through [`Store::payment_event`]:
//! one write transaction reads the payment, asks the domain's state machine
//! (`rathaus_domain::payments::next`), stores the new status (or nothing: a
//! repeated notification is ignored, an impossible one refused), logs the
//! event with its outcome, and — when the payment became paid — enqueues the
//! outbox job `payment.paid` (the application is received, the receipt goes
//! to the mailbox). So a provider's success is never lost between the
//! notification and what follows it.

use chrono::{DateTime, Datelike, Utc};
use rathaus_domain::{
    cases::CaseStatus,
    payments::{
        Collection, FeeSpec, KassenzeichenScheme, Money, PaymentError, PaymentEvent, PaymentStatus,
        Purpose, Transition, next,
    },
    tenancy::TenantId,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    audit::AuditRepository,
    entities::{payment, payment_event, payment_refund, payment_setting, service_fee},
    outbox::OutboxRepository,
};

pub type Payment = payment::Model;
pub type PaymentEventRow = payment_event::Model;
pub type Refund = payment_refund::Model;
pub type ServiceFee = service_fee::Model;
pub type PaymentSettings = payment_setting::Model;

/// The outbox job that follows a payment becoming paid.
pub const PAID_JOB: &str = "payment.paid";

impl payment::Model {
    /// The status (an unknown stored value is read as `Created`, which no
    /// event can harm).
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).unwrap_or(PaymentStatus::Created)
    }

    pub fn amount(&self) -> Money {
        Money::from_cents(self.amount_cents).unwrap_or(Money::ZERO)
    }

    pub fn refunded(&self) -> Money {
        Money::from_cents(self.refunded_cents).unwrap_or(Money::ZERO)
    }

    /// What it is for (an unknown stored value reads as a fee request,
    /// which moves no case).
    pub fn purpose(&self) -> Purpose {
        Purpose::parse(&self.purpose).unwrap_or(Purpose::FeeRequest)
    }
}

impl service_fee::Model {
    /// When the fee is paid (an unknown stored value reads as `before`).
    pub fn collection(&self) -> Collection {
        Collection::parse(&self.collect).unwrap_or_default()
    }

    /// The fee as the domain sees it.
    pub fn spec(&self) -> Result<FeeSpec> {
        serde_json::from_str(&self.fee).map_err(|_| StorageError::Corrupt {
            table: "service_fees",
            column: "fee",
            value: self.fee.chars().take(100).collect(),
        })
    }
}

/// A service's fee as set by the Fachadministration.
#[derive(Debug, Clone, Copy)]
pub struct NewServiceFee<'a> {
    pub fee: &'a FeeSpec,
    pub collect: Collection,
    pub haushaltsstelle: &'a str,
    pub objektnummer: &'a str,
}

/// A payment to create (its Kassenzeichen is numbered by the store).
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub application_id: Uuid,
    /// `application` (pay before sending) or `fee_request` (pay later).
    pub purpose: String,
    pub amount: Money,
    pub provider: String,
    pub description: String,
    pub haushaltsstelle: String,
    pub objektnummer: String,
}

/// Where an event came from (logged with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// The provider's notification, confirmed by its status endpoint.
    Notification,
    /// The applicant came back from the provider (status asked).
    Return,
    /// The reconciliation job asked the provider.
    Reconciliation,
    /// A staff member (refunds).
    Staff,
    /// The platform (start).
    Platform,
}

impl EventSource {
    pub fn code(self) -> &'static str {
        match self {
            Self::Notification => "notification",
            Self::Return => "return",
            Self::Reconciliation => "reconciliation",
            Self::Staff => "staff",
            Self::Platform => "platform",
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait PaymentRepository {
    async fn payment(&self, tenant: TenantId, id: Uuid) -> Result<Option<Payment>>;
    /// A payment by the provider's transaction id (any tenant: the
    /// notification names only the transaction; the caller checks the tenant).
    async fn payment_by_txid(&self, provider: &str, txid: &str) -> Result<Option<Payment>>;
    async fn payments_of_application(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<Payment>>;
    /// Payments changed on a day (UTC), oldest first (the day's export).
    async fn payments_on(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Payment>>;
    /// Pending payments started before `before` (all tenants): the
    /// reconciliation asks the provider about each.
    async fn pending_payments(&self, before: DateTime<Utc>, limit: u64) -> Result<Vec<Payment>>;
    async fn payment_events(&self, tenant: TenantId, payment: Uuid)
    -> Result<Vec<PaymentEventRow>>;
    async fn refunds(&self, tenant: TenantId, payment: Uuid) -> Result<Vec<Refund>>;
    async fn refund(&self, tenant: TenantId, id: Uuid) -> Result<Option<Refund>>;
    async fn service_fee(&self, tenant: TenantId, service: Uuid) -> Result<Option<ServiceFee>>;
    /// Every fee of the tenant's services.
    async fn service_fees(&self, tenant: TenantId) -> Result<Vec<ServiceFee>>;
    async fn payment_settings(&self, tenant: TenantId) -> Result<Option<PaymentSettings>>;
}

impl<C: ConnectionTrait> PaymentRepository for Repo<'_, C> {
    async fn payment(&self, tenant: TenantId, id: Uuid) -> Result<Option<Payment>> {
        Ok(payment::Entity::find_by_id(id)
            .filter(payment::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn payment_by_txid(&self, provider: &str, txid: &str) -> Result<Option<Payment>> {
        Ok(payment::Entity::find()
            .filter(payment::Column::Provider.eq(provider))
            .filter(payment::Column::ProviderTxid.eq(txid))
            .one(self.0)
            .await?)
    }

    async fn payments_of_application(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> Result<Vec<Payment>> {
        Ok(payment::Entity::find()
            .filter(payment::Column::TenantId.eq(tenant.0))
            .filter(payment::Column::ApplicationId.eq(application))
            .order_by_asc(payment::Column::CreatedAt)
            .all(self.0)
            .await?)
    }

    async fn payments_on(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Payment>> {
        Ok(payment::Entity::find()
            .filter(payment::Column::TenantId.eq(tenant.0))
            .filter(payment::Column::UpdatedAt.gte(from))
            .filter(payment::Column::UpdatedAt.lt(to))
            .order_by_asc(payment::Column::UpdatedAt)
            .limit(100_000)
            .all(self.0)
            .await?)
    }

    async fn pending_payments(&self, before: DateTime<Utc>, limit: u64) -> Result<Vec<Payment>> {
        Ok(payment::Entity::find()
            .filter(payment::Column::Status.eq(PaymentStatus::Pending.code()))
            .filter(payment::Column::StartedAt.lt(before))
            .order_by_asc(payment::Column::StartedAt)
            .limit(limit)
            .all(self.0)
            .await?)
    }

    async fn payment_events(
        &self,
        tenant: TenantId,
        payment: Uuid,
    ) -> Result<Vec<PaymentEventRow>> {
        Ok(payment_event::Entity::find()
            .filter(payment_event::Column::TenantId.eq(tenant.0))
            .filter(payment_event::Column::PaymentId.eq(payment))
            .order_by_asc(payment_event::Column::At)
            .all(self.0)
            .await?)
    }

    async fn refunds(&self, tenant: TenantId, payment: Uuid) -> Result<Vec<Refund>> {
        Ok(payment_refund::Entity::find()
            .filter(payment_refund::Column::TenantId.eq(tenant.0))
            .filter(payment_refund::Column::PaymentId.eq(payment))
            .order_by_asc(payment_refund::Column::RequestedAt)
            .all(self.0)
            .await?)
    }

    async fn refund(&self, tenant: TenantId, id: Uuid) -> Result<Option<Refund>> {
        Ok(payment_refund::Entity::find_by_id(id)
            .filter(payment_refund::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn service_fee(&self, tenant: TenantId, service: Uuid) -> Result<Option<ServiceFee>> {
        Ok(service_fee::Entity::find_by_id(service)
            .filter(service_fee::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn service_fees(&self, tenant: TenantId) -> Result<Vec<ServiceFee>> {
        Ok(service_fee::Entity::find()
            .filter(service_fee::Column::TenantId.eq(tenant.0))
            .limit(10_000)
            .all(self.0)
            .await?)
    }

    async fn payment_settings(&self, tenant: TenantId) -> Result<Option<PaymentSettings>> {
        Ok(payment_setting::Entity::find_by_id(tenant.0)
            .one(self.0)
            .await?)
    }
}

/// What [`Store::payment_event`] did.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub payment: Payment,
    pub transition: Transition,
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// Inserts a payment numbered with the tenant's next Kassenzeichen of
    /// the year.
    async fn insert_payment(
        &self,
        tenant: TenantId,
        new: &NewPayment,
        prefix: &str,
        scheme: &KassenzeichenScheme,
    ) -> Result<Payment> {
        let now = Utc::now();
        let year_start = chrono::NaiveDate::from_ymd_opt(now.year(), 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(now);
        if new.purpose == Purpose::Application.code()
            && payment::Entity::find()
                .filter(payment::Column::TenantId.eq(tenant.0))
                .filter(payment::Column::ApplicationId.eq(new.application_id))
                .filter(payment::Column::Purpose.eq(Purpose::Application.code()))
                .filter(
                    payment::Column::Status
                        .is_in([PaymentStatus::Created.code(), PaymentStatus::Pending.code()]),
                )
                .count(self.0)
                .await?
                > 0
        {
            return Err(StorageError::Conflict("payment_open"));
        }
        let seq = payment::Entity::find()
            .filter(payment::Column::TenantId.eq(tenant.0))
            .filter(payment::Column::CreatedAt.gte(year_start))
            .count(self.0)
            .await?
            + 1;
        let kassenzeichen = scheme
            .render(prefix, now.year(), seq)
            .map_err(|e| StorageError::Config(e.to_string()))?;
        payment::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            application_id: Set(new.application_id),
            purpose: Set(new.purpose.clone()),
            amount_cents: Set(new.amount.cents()),
            currency: Set("EUR".into()),
            status: Set(PaymentStatus::Created.code().into()),
            provider: Set(new.provider.clone()),
            provider_txid: Set(None),
            provider_url: Set(None),
            kassenzeichen: Set(kassenzeichen),
            haushaltsstelle: Set(new.haushaltsstelle.clone()),
            objektnummer: Set(new.objektnummer.clone()),
            method: Set(None),
            description: Set(new.description.chars().take(200).collect()),
            refunded_cents: Set(0),
            created_at: Set(now),
            started_at: Set(None),
            paid_at: Set(None),
            updated_at: Set(now),
            receipt_file_id: Set(None),
        }
        .insert(self.0)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(m)) if m.contains("application") => {
                StorageError::Conflict("payment_open")
            }
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                StorageError::Conflict("kassenzeichen")
            }
            _ => StorageError::Db(e),
        })
    }

    /// The fee of a pay-before-sending application is paid: its case moves
    /// from "awaiting payment" to "received" (with its audit entry); a case
    /// in any other status is left as it is.
    async fn application_fee_paid(&self, tenant: TenantId, p: &Payment) -> Result<()> {
        use crate::cases::CaseRepository;
        use rathaus_domain::cases::{CaseAction, transition};
        let Some(c) = self.case_of(tenant, p.application_id).await? else {
            return Ok(());
        };
        if let Ok(next) = transition(c.status(), CaseAction::PaymentReceived) {
            self.set_case_status(&c, next).await?;
            self.append_audit(
                tenant,
                c.id,
                "payment",
                "payment_received",
                &serde_json::json!({
                    "payment": p.id,
                    "kassenzeichen": p.kassenzeichen,
                    "amount": p.amount().to_string(),
                }),
            )
            .await?;
        }
        Ok(())
    }

    async fn log_event(
        &self,
        p: &Payment,
        source: EventSource,
        event: &str,
        to: PaymentStatus,
        outcome: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        payment_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(p.tenant_id),
            payment_id: Set(p.id),
            at: Set(Utc::now()),
            source: Set(source.code().into()),
            event: Set(event.into()),
            status_from: Set(p.status.clone()),
            status_to: Set(to.code().into()),
            outcome: Set(outcome.into()),
            detail: Set(detail.to_string()),
        }
        .insert(self.0)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Sets a service's fee and booking data (Fachadministration).
    pub async fn set_service_fee(
        &self,
        tenant: TenantId,
        service: Uuid,
        new: &NewServiceFee<'_>,
        by: Option<Uuid>,
    ) -> Result<ServiceFee> {
        let NewServiceFee {
            fee,
            collect,
            haushaltsstelle,
            objektnummer,
        } = *new;
        let txn = self.begin_write().await?;
        service_fee::Entity::delete_many()
            .filter(service_fee::Column::TenantId.eq(tenant.0))
            .filter(service_fee::Column::ServiceId.eq(service))
            .exec(&txn)
            .await?;
        let row = service_fee::ActiveModel {
            service_id: Set(service),
            tenant_id: Set(tenant.0),
            fee: Set(serde_json::to_string(fee).map_err(|e| StorageError::Config(e.to_string()))?),
            haushaltsstelle: Set(haushaltsstelle.into()),
            objektnummer: Set(objektnummer.into()),
            updated_at: Set(Utc::now()),
            updated_by: Set(by),
            collect: Set(collect.code().into()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Sets the tenant's payment settings.
    pub async fn set_payment_settings(
        &self,
        tenant: TenantId,
        procedure: &str,
        prefix: &str,
        scheme: &KassenzeichenScheme,
        refund_threshold: Money,
    ) -> Result<PaymentSettings> {
        let txn = self.begin_write().await?;
        payment_setting::Entity::delete_many()
            .filter(payment_setting::Column::TenantId.eq(tenant.0))
            .exec(&txn)
            .await?;
        let row = payment_setting::ActiveModel {
            tenant_id: Set(tenant.0),
            provider: Set("pmpayment".into()),
            procedure: Set(procedure.into()),
            kassenzeichen_prefix: Set(prefix.into()),
            kassenzeichen_scheme: Set(scheme.as_str().into()),
            refund_threshold_cents: Set(refund_threshold.cents()),
            updated_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Creates a payment with the tenant's next Kassenzeichen of the year,
    /// in one write transaction (a unique index keeps Kassenzeichen apart;
    /// a second open pay-before-sending payment of the same application is
    /// refused as `Conflict("payment_open")`).
    pub async fn create_payment(
        &self,
        tenant: TenantId,
        new: &NewPayment,
        prefix: &str,
        scheme: &KassenzeichenScheme,
    ) -> Result<Payment> {
        let txn = self.begin_write().await?;
        let row = Repo(&txn)
            .insert_payment(tenant, new, prefix, scheme)
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The office asks for a fee later (pay later): the payment and its
    /// message in the mailbox (with the amount and Kassenzeichen), the audit
    /// entry and the notification job in one transaction.
    pub async fn request_fee(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        author: (Uuid, &str),
        new: &NewPayment,
        numbering: (&str, &KassenzeichenScheme),
        body: impl FnOnce(&Payment) -> String,
    ) -> std::result::Result<(Payment, crate::mailbox::Message), crate::cases::CaseError> {
        use crate::cases::CaseRepository;
        use crate::mailbox::{MailboxRepository, MessageKind};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case(tenant, case_id)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        if c.application_id != new.application_id || c.status() == CaseStatus::Cancelled {
            return Err(rathaus_domain::cases::TransitionError {
                from: c.status(),
                action: rathaus_domain::cases::CaseAction::Start,
            }
            .into());
        }
        let p = repo
            .insert_payment(tenant, new, numbering.0, numbering.1)
            .await?;
        let m = repo
            .add_message(
                tenant,
                c.application_id,
                MessageKind::Message,
                Some(author.0),
                body(&p),
                (None, None),
            )
            .await?;
        repo.append_audit(
            tenant,
            case_id,
            author.1,
            "fee_requested",
            &serde_json::json!({
                "payment": p.id,
                "amount": p.amount().to_string(),
                "kassenzeichen": p.kassenzeichen,
                "message": m.id,
            }),
        )
        .await?;
        repo.enqueue(
            Some(tenant),
            "mailbox.office_message",
            &serde_json::json!({ "message": m.id, "application": c.application_id }),
        )
        .await?;
        txn.commit().await?;
        Ok((p, m))
    }

    /// Posts the Zahlungsbestätigung of a paid payment to the mailbox (the
    /// PDF is in object storage already): message, file, the payment's
    /// `receipt_file_id` and the notification job in one transaction.
    /// `None` when it was posted before (the job ran twice).
    pub async fn post_payment_receipt(
        &self,
        tenant: TenantId,
        payment: Uuid,
        body: String,
        file: &crate::applications::NewFile,
    ) -> Result<Option<crate::mailbox::Message>> {
        use crate::applications::ApplicationRepository;
        use crate::mailbox::{MailboxRepository, MessageKind};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let p = repo
            .payment(tenant, payment)
            .await?
            .ok_or(StorageError::NotFound("payment"))?;
        if p.receipt_file_id.is_some() {
            return Ok(None);
        }
        let m = repo
            .add_message(
                tenant,
                p.application_id,
                MessageKind::Message,
                None,
                body,
                (None, None),
            )
            .await?;
        let f = repo
            .add_file(tenant, p.application_id, file, Some(m.id))
            .await?;
        let mut am: payment::ActiveModel = p.clone().into();
        am.receipt_file_id = Set(Some(f.id));
        am.update(&txn).await?;
        repo.enqueue(
            Some(tenant),
            "mailbox.office_message",
            &serde_json::json!({ "message": m.id, "application": p.application_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(m))
    }

    /// Records the provider's transaction of a started payment (Created →
    /// Pending), logged.
    pub async fn payment_started(
        &self,
        tenant: TenantId,
        id: Uuid,
        txid: &str,
        url: &str,
    ) -> Result<Payment> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let p = repo
            .payment(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("payment"))?;
        let t = next(p.status(), PaymentEvent::Started, p.amount());
        let to = match &t {
            Transition::Changed(s) => *s,
            Transition::Unchanged => p.status(),
            Transition::Refused(_) => return Err(StorageError::Conflict("payment_status")),
        };
        let mut am: payment::ActiveModel = p.clone().into();
        am.status = Set(to.code().into());
        am.provider_txid = Set(Some(txid.into()));
        am.provider_url = Set(Some(url.into()));
        am.started_at = Set(Some(Utc::now()));
        am.updated_at = Set(Utc::now());
        let updated = am.update(&txn).await?;
        repo.log_event(
            &p,
            EventSource::Platform,
            "started",
            to,
            "applied",
            &serde_json::json!({ "txid": txid }),
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Applies an event to a payment in one transaction: the state machine
    /// decides; the event is logged with its outcome (`applied`, `ignored`,
    /// or the refusal's code); a payment that became paid enqueues
    /// [`PAID_JOB`].
    pub async fn payment_event(
        &self,
        tenant: TenantId,
        id: Uuid,
        event: PaymentEvent,
        source: EventSource,
        method: Option<&str>,
        detail: &serde_json::Value,
    ) -> Result<EventOutcome> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let p = repo
            .payment(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("payment"))?;
        let t = next(p.status(), event, p.amount());
        let (updated, outcome) = match &t {
            Transition::Changed(to) => {
                let mut am: payment::ActiveModel = p.clone().into();
                am.status = Set(to.code().into());
                am.updated_at = Set(Utc::now());
                if *to == PaymentStatus::Paid {
                    am.paid_at = Set(Some(Utc::now()));
                    if let Some(m) = method {
                        am.method = Set(Some(m.chars().take(64).collect()));
                    }
                }
                if let PaymentEvent::Refund { amount, .. } = event {
                    am.refunded_cents = Set(p.refunded_cents + amount.cents());
                }
                let u = am.update(&txn).await?;
                if *to == PaymentStatus::Paid && p.purpose() == Purpose::Application {
                    repo.application_fee_paid(tenant, &p).await?;
                }
                if *to == PaymentStatus::Paid {
                    repo.enqueue(
                        Some(tenant),
                        PAID_JOB,
                        &serde_json::json!({ "payment": p.id, "application": p.application_id }),
                    )
                    .await?;
                }
                (u, "applied".to_string())
            }
            Transition::Unchanged => (p.clone(), "ignored".to_string()),
            Transition::Refused(e) => {
                tracing::warn!(payment = %p.id, error = %e, "payment event refused");
                (p.clone(), e.code().to_string())
            }
        };
        repo.log_event(&p, source, event.code(), updated.status(), &outcome, detail)
            .await?;
        txn.commit().await?;
        Ok(EventOutcome {
            payment: updated,
            transition: t,
        })
    }

    /// Records a refund request; `approved_by` set when it needs no second
    /// person (then it is applied at once through [`Store::payment_event`]
    /// by the caller).
    pub async fn add_refund(
        &self,
        tenant: TenantId,
        payment: Uuid,
        amount: Money,
        reason: &str,
        requested_by: Uuid,
        status: &str,
    ) -> Result<Refund> {
        Ok(payment_refund::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            payment_id: Set(payment),
            amount_cents: Set(amount.cents()),
            reason: Set(reason.chars().take(500).collect()),
            status: Set(status.into()),
            requested_by: Set(requested_by),
            requested_at: Set(Utc::now()),
            approved_by: Set(None),
            approved_at: Set(None),
        }
        .insert(self.db())
        .await?)
    }

    /// Marks a refund decided (`done` or `rejected`) by `by`.
    pub async fn decide_refund(
        &self,
        tenant: TenantId,
        id: Uuid,
        status: &str,
        by: Uuid,
    ) -> Result<Refund> {
        let r = self
            .repo()
            .refund(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("refund"))?;
        let mut am: payment_refund::ActiveModel = r.into();
        am.status = Set(status.into());
        am.approved_by = Set(Some(by));
        am.approved_at = Set(Some(Utc::now()));
        Ok(am.update(self.db()).await?)
    }
}

/// The refusal of an event, if the outcome was one.
pub fn refusal(t: &Transition) -> Option<&PaymentError> {
    match t {
        Transition::Refused(e) => Some(e),
        _ => None,
    }
}
