//! E-Payment (C7): fees, starting a payment at the provider, the provider's
//! notification confirmed by its status endpoint, the applicant's return,
//! reconciliation of payments nobody came back from, refunds with four eyes,
//! and the day's export for the finance system.
//!
//! The provider is behind [`PaymentProvider`]; [`PmPaymentClient`] speaks
//! pmPayment over HTTP (the test provider `rathaus-payprovider` speaks it
//! too). A notification is never trusted alone: the platform asks the
//! provider's status endpoint and checks the amount before the state
//! machine (`rathaus_domain::payments::next`) sees an event.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use rathaus_domain::{
    cases::CaseStatus,
    payments::{
        Collection, KassenzeichenScheme, Money, PaymentEvent, PaymentStatus, Purpose, Transition,
        check_refund_approval, refund_needs_second_person,
    },
    tenancy::TenantId,
};
use rathaus_standards::pmpayment::{
    self, Notification, PaymentStatus as PmStatus, StartRequest, StartResponse, StatusResponse,
};
use rathaus_storage::{
    applications::{Application, ApplicationRepository, NewFile},
    cases::CaseRepository,
    forms::FormRepository,
    payments::{EventSource, NewPayment, Payment, PaymentEventRow, PaymentRepository, Refund},
    tenancy::{OrgUnitRepository, TenantRepository},
};
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Why the provider could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the payment provider answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the payment provider's answer is invalid: {0}")]
    Invalid(String),
}

/// A payment provider: start a payment, ask its status.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `pmpayment` (stored with each payment).
    fn name(&self) -> &'static str;
    /// The municipality key (AGS) the provider knows the tenant by.
    fn ags(&self) -> &str;
    async fn start(&self, request: &StartRequest) -> Result<StartResponse, ProviderError>;
    async fn status(&self, txid: &str) -> Result<StatusResponse, ProviderError>;
    /// The origin (`scheme://host[:port]`) of the pay pages the payer is
    /// sent to, if known: the platform's pages allow forms to lead there.
    fn pay_origin(&self) -> Option<String> {
        None
    }
}

/// pmPayment over HTTP: `POST <base>/payment/start` (form, HMAC-SHA256),
/// `GET <base>/payment/status/{ags}/{txid}`.
pub struct PmPaymentClient {
    base: String,
    /// Where the pay pages are (the provider's public address; the same as
    /// `base` unless set with [`PmPaymentClient::with_pay_base`]).
    pay_base: String,
    secret: String,
    ags: String,
    http: reqwest::Client,
}

impl PmPaymentClient {
    pub fn new(base: &str, secret: &str, ags: &str) -> Result<Self, ProviderError> {
        rathaus_storage::install_tls_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        Ok(Self {
            pay_base: base.trim_end_matches('/').to_string(),
            base: base.trim_end_matches('/').to_string(),
            secret: secret.to_string(),
            ags: ags.to_string(),
            http,
        })
    }
}

impl PmPaymentClient {
    /// The provider's public address when the platform reaches its API by
    /// another (an internal network address).
    pub fn with_pay_base(mut self, pay_base: &str) -> Self {
        self.pay_base = pay_base.trim_end_matches('/').to_string();
        self
    }
}

#[async_trait::async_trait]
impl PaymentProvider for PmPaymentClient {
    fn name(&self) -> &'static str {
        "pmpayment"
    }

    fn ags(&self) -> &str {
        &self.ags
    }

    fn pay_origin(&self) -> Option<String> {
        let (scheme, rest) = self.pay_base.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{scheme}://{host}"))
    }

    async fn start(&self, request: &StartRequest) -> Result<StartResponse, ProviderError> {
        let r = self
            .http
            .post(format!("{}{}", self.base, pmpayment::START_PATH))
            .form(&request.form_fields(self.secret.as_bytes()))
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        let status = r.status().as_u16();
        let body = r
            .bytes()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        if status != 200 && status != 201 {
            return Err(ProviderError::Refused {
                status,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        StartResponse::parse(&body).map_err(|e| ProviderError::Invalid(e.to_string()))
    }

    async fn status(&self, txid: &str) -> Result<StatusResponse, ProviderError> {
        let path = pmpayment::status_path(&self.ags, txid)
            .map_err(|e| ProviderError::Invalid(e.to_string()))?;
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        let status = r.status().as_u16();
        let body = r
            .bytes()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        if status != 200 {
            return Err(ProviderError::Refused {
                status,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        StatusResponse::parse(&body).map_err(|e| ProviderError::Invalid(e.to_string()))
    }
}

/// How this instance pays: the provider and the addresses it sends the
/// payer back to and notifies.
#[derive(Clone)]
pub struct PaymentConfig {
    pub provider: Arc<dyn PaymentProvider>,
    /// The platform's public address (for `notifyURL` and `redirectURL`).
    pub public_url: String,
}

/// A started payment: where to send the payer.
#[derive(Debug, Clone)]
pub struct Started {
    pub payment: Payment,
    pub url: String,
}

/// The fee a service asks of one application.
#[derive(Debug, Clone)]
pub struct FeeDue {
    pub amount: Money,
    pub collection: Collection,
    pub haushaltsstelle: String,
    pub objektnummer: String,
}

/// A payment as staff see it: with its log, its refunds and the
/// application's reference.
#[derive(Debug, Clone)]
pub struct PaymentDetail {
    pub payment: Payment,
    pub reference: String,
    pub case_id: Option<Uuid>,
    pub events: Vec<PaymentEventRow>,
    pub refunds: Vec<Refund>,
}

/// The field path of a Zahlungsbestätigung among an application's files.
pub const PAYMENT_RECEIPT_PATH: &str = "_zahlungsbestaetigung";

/// Longest purpose text of a fee request.
pub const MAX_FEE_PURPOSE_CHARS: usize = 200;

/// German local time at `t` (summer time April to October, approximately;
/// as the receipt).
fn berlin(t: chrono::DateTime<Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::Datelike;
    let summer = (4..=10).contains(&t.month());
    t.with_timezone(
        &chrono::FixedOffset::east_opt(if summer { 7200 } else { 3600 }).expect("offset"),
    )
}

impl std::fmt::Debug for PaymentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentConfig")
            .field("provider", &self.provider.name())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

fn provider_error(e: ProviderError) -> UseCaseError {
    tracing::warn!(error = %e, "payment provider");
    UseCaseError::Workflow("payment.provider_unavailable")
}

/// The event a confirmed provider status means.
fn event_of(s: &StatusResponse) -> Option<PaymentEvent> {
    match s.status {
        PmStatus::Paid => Money::from_cents(i64::try_from(s.amount).ok()?)
            .map(|amount| PaymentEvent::ProviderPaid { amount }),
        PmStatus::Failed => Some(PaymentEvent::ProviderFailed),
        PmStatus::Open => None,
    }
}

impl App {
    fn payment_config(&self) -> UseCaseResult<&PaymentConfig> {
        self.payments
            .as_deref()
            .ok_or(UseCaseError::Workflow("payment.not_configured"))
    }

    /// Whether this instance takes payments online.
    pub fn payments_enabled(&self) -> bool {
        self.payments.is_some()
    }

    /// The fee a service asks for an application with the form values
    /// `data`; `None` when it is free (or no fee is set).
    pub async fn fee_due(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        data: &serde_json::Value,
    ) -> UseCaseResult<Option<FeeDue>> {
        let Some(service) = service else {
            return Ok(None);
        };
        let Some(row) = self.store.repo().service_fee(tenant, service).await? else {
            return Ok(None);
        };
        let amount = row
            .spec()?
            .amount(data)
            .map_err(|e| UseCaseError::Internal(format!("fee rule of service {service}: {e}")))?;
        Ok(amount.map(|amount| FeeDue {
            amount,
            collection: row.collection(),
            haushaltsstelle: row.haushaltsstelle.clone(),
            objektnummer: row.objektnummer.clone(),
        }))
    }

    /// Whether an application with this fee is paid before it is received:
    /// a fee collected before sending, and a provider to pay at.
    pub fn pays_before_sending(&self, fee: Option<&FeeDue>) -> bool {
        self.payments.is_some() && fee.is_some_and(|f| f.collection == Collection::Before)
    }

    /// Creates a payment numbered with the tenant's Kassenzeichen.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_payment(
        &self,
        tenant: TenantId,
        application: Uuid,
        purpose: Purpose,
        amount: Money,
        description: &str,
        booking: (&str, &str),
    ) -> UseCaseResult<Payment> {
        let cfg = self.payment_config()?;
        let (prefix, scheme) = self.numbering(tenant).await?;
        Ok(self
            .store
            .create_payment(
                tenant,
                &NewPayment {
                    application_id: application,
                    purpose: purpose.code().into(),
                    amount,
                    provider: cfg.provider.name().into(),
                    description: description.into(),
                    haushaltsstelle: booking.0.into(),
                    objektnummer: booking.1.into(),
                },
                &prefix,
                &scheme,
            )
            .await?)
    }

    /// The tenant's Kassenzeichen prefix and scheme.
    async fn numbering(&self, tenant: TenantId) -> UseCaseResult<(String, KassenzeichenScheme)> {
        Ok(match self.store.repo().payment_settings(tenant).await? {
            Some(s) => (
                s.kassenzeichen_prefix.clone(),
                KassenzeichenScheme::parse(&s.kassenzeichen_scheme).unwrap_or_default(),
            ),
            None => ("RH".to_string(), KassenzeichenScheme::default()),
        })
    }

    /// The open payment of an application waiting for its fee (pay before
    /// sending), created if there is none: right after the submission, and
    /// again whenever the applicant looks (so a crash between storing the
    /// application and creating its payment loses nothing, and a failed or
    /// cancelled attempt can be paid anew). `None` when the case does not
    /// wait for a payment.
    pub async fn ensure_application_payment(
        &self,
        tenant: TenantId,
        application: &Application,
    ) -> UseCaseResult<Option<Payment>> {
        let repo = self.store.repo();
        let Some(case) = repo.case_of(tenant, application.id).await? else {
            return Ok(None);
        };
        if case.status() != CaseStatus::AwaitingPayment || self.payments.is_none() {
            return Ok(None);
        }
        let open = |ps: Vec<Payment>| {
            ps.into_iter().find(|p| {
                p.purpose() == Purpose::Application
                    && matches!(p.status(), PaymentStatus::Created | PaymentStatus::Pending)
            })
        };
        if let Some(p) = open(repo.payments_of_application(tenant, application.id).await?) {
            return Ok(Some(p));
        }
        let Some(fee) = self
            .fee_due(tenant, application.service_id, &application.data())
            .await?
        else {
            return Ok(None);
        };
        let description = self.payment_description(tenant, application).await?;
        match self
            .create_payment(
                tenant,
                application.id,
                Purpose::Application,
                fee.amount,
                &description,
                (&fee.haushaltsstelle, &fee.objektnummer),
            )
            .await
        {
            Ok(p) => Ok(Some(p)),
            // Created at the same moment by another request: that one.
            Err(UseCaseError::Conflict("payment_open")) => Ok(open(
                repo.payments_of_application(tenant, application.id).await?,
            )),
            Err(e) => Err(e),
        }
    }

    /// What a payment is for, as the payer and the finance system read it:
    /// the form's title.
    async fn payment_description(
        &self,
        tenant: TenantId,
        application: &Application,
    ) -> UseCaseResult<String> {
        Ok(self
            .store
            .repo()
            .form_version(tenant, application.form_version_id)
            .await?
            .and_then(|v| v.definition())
            .map(|d| d.title.de.clone())
            .unwrap_or_else(|| "Gebühr".into()))
    }

    /// The payments of the actor's own application (its applicant: access
    /// token or account), the open fee created first if it is due.
    pub async fn applicant_payments(
        &self,
        actor: &Actor,
        reference: Option<&str>,
    ) -> UseCaseResult<Vec<Payment>> {
        let application = self.own_application(actor, reference).await?;
        let tenant = actor.tenant();
        self.ensure_application_payment(tenant, &application)
            .await?;
        Ok(self
            .store
            .repo()
            .payments_of_application(tenant, application.id)
            .await?)
    }

    /// The open fee before sending of a just submitted application, started
    /// at the provider so that the answer can name the pay page: the payment
    /// and its URL (`None` while the provider cannot be reached: the payment
    /// stays `created` and the applicant's page offers to pay later).
    pub async fn start_application_fee(
        &self,
        application: &Application,
    ) -> UseCaseResult<Option<(Payment, Option<String>)>> {
        let actor = Actor::Applicant {
            tenant: TenantId(application.tenant_id),
            application: application.id,
        };
        let payments = self.applicant_payments(&actor, None).await?;
        let Some(p) = payments.into_iter().rev().find(|p| {
            p.purpose() == Purpose::Application
                && matches!(p.status(), PaymentStatus::Created | PaymentStatus::Pending)
        }) else {
            return Ok(None);
        };
        Ok(Some(match self.start_payment(&actor, None, p.id).await {
            Ok(started) => (started.payment, Some(started.url)),
            Err(e) => {
                tracing::warn!(error = %e, payment = %p.id, "payment not started at submission");
                (p, None)
            }
        }))
    }

    /// Starts (or resumes) a payment of the actor's own application at the
    /// provider and answers where to send the payer.
    pub async fn start_payment(
        &self,
        actor: &Actor,
        reference: Option<&str>,
        payment: Uuid,
    ) -> UseCaseResult<Started> {
        let app = self.own_application(actor, reference).await?;
        let cfg = self.payment_config()?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let p = repo
            .payment(tenant, payment)
            .await?
            .filter(|p| p.application_id == app.id)
            .ok_or(UseCaseError::NotFound)?;
        match (p.status(), &p.provider_url) {
            (PaymentStatus::Pending, Some(url)) => {
                return Ok(Started {
                    url: url.clone(),
                    payment: p,
                });
            }
            (PaymentStatus::Created, _) => {}
            _ => return Err(UseCaseError::Workflow("payment.not_open")),
        }
        // The fee before sending is paid once: not after the application was
        // received (by another, late payment) or cancelled.
        if p.purpose() == Purpose::Application
            && repo
                .case_of(tenant, app.id)
                .await?
                .is_none_or(|c| c.status() != CaseStatus::AwaitingPayment)
        {
            return Err(UseCaseError::Workflow("payment.not_open"));
        }
        let procedure = repo
            .payment_settings(tenant)
            .await?
            .map(|s| s.procedure)
            .unwrap_or_else(|| "rathaus".into());
        let base = cfg.public_url.trim_end_matches('/');
        let request = StartRequest::new(
            cfg.provider.ags(),
            u64::try_from(p.amount_cents).unwrap_or(0),
            procedure,
            format!("{} {}", app.reference, p.kassenzeichen),
            format!("{base}/api/v1/payments/notify"),
            format!("{base}/antrag/{}/zahlung/zurueck", app.reference),
        )
        .map_err(|e| UseCaseError::Internal(format!("payment start: {e}")))?;
        let started = cfg.provider.start(&request).await.map_err(provider_error)?;
        let p = self
            .store
            .payment_started(tenant, p.id, &started.txid, &started.url)
            .await?;
        Ok(Started {
            payment: p,
            url: started.url,
        })
    }

    /// The provider's notification (anybody may send one): its fields are
    /// never trusted; the provider's status endpoint is asked and only its
    /// answer, with the right amount, moves the payment. A notification for
    /// an unknown transaction or another municipality changes nothing.
    pub async fn payment_notification(&self, body: &[u8]) -> UseCaseResult<Option<Payment>> {
        let cfg = self.payment_config()?;
        let n = Notification::parse_form(body)
            .map_err(|e| UseCaseError::BadFile(format!("notification: {e}")))?;
        if n.ags != cfg.provider.ags() {
            return Ok(None);
        }
        let Some(p) = self
            .store
            .repo()
            .payment_by_txid(cfg.provider.name(), &n.txid)
            .await?
        else {
            return Ok(None);
        };
        self.confirm_payment(&p, EventSource::Notification, Some(&n))
            .await
            .map(Some)
    }

    /// Asks the provider about a payment and applies what it says.
    async fn confirm_payment(
        &self,
        p: &Payment,
        source: EventSource,
        notification: Option<&Notification>,
    ) -> UseCaseResult<Payment> {
        let cfg = self.payment_config()?;
        let tenant = TenantId(p.tenant_id);
        let Some(txid) = p.provider_txid.as_deref() else {
            return Ok(p.clone());
        };
        let status = cfg.provider.status(txid).await.map_err(provider_error)?;
        let detail = serde_json::json!({
            "txid": txid,
            "provider_status": status.status.code(),
            "provider_amount": status.amount,
            "notified_status": notification.map(|n| n.status.code()),
            "notified_amount": notification.map(|n| n.amount),
        });
        let event = match event_of(&status) {
            Some(e) => e,
            // Still open at the provider: a cancelled payer (notification of
            // -1 confirmed by -1) or nothing yet.
            None if notification.is_some_and(|n| n.status == PmStatus::Open) => {
                PaymentEvent::ProviderCancelled
            }
            None => return Ok(p.clone()),
        };
        let out = self
            .store
            .payment_event(
                tenant,
                p.id,
                event,
                source,
                status.payment_method.as_deref(),
                &detail,
            )
            .await?;
        Ok(out.payment)
    }

    /// The payer came back from the provider (the return address names only
    /// the reference, so anybody may call it): every pending payment of the
    /// application is checked at the provider. One still open at the
    /// provider whose transaction the return names (`txid`, added by the
    /// provider) was left without paying: cancelled, so that a new attempt
    /// can be made. Answers the payments' statuses — no personal data.
    pub async fn payment_returned(
        &self,
        tenant: TenantId,
        reference: &str,
        txid: Option<&str>,
    ) -> UseCaseResult<Vec<Payment>> {
        let repo = self.store.repo();
        let Some(application) = repo
            .application_by_reference(tenant, reference.trim())
            .await?
        else {
            return Err(UseCaseError::NotFound);
        };
        let mut out = Vec::new();
        for p in repo.payments_of_application(tenant, application.id).await? {
            if p.status() != PaymentStatus::Pending {
                out.push(p);
                continue;
            }
            let after = self.confirm_payment(&p, EventSource::Return, None).await?;
            // The provider sent the payer back (the return names its
            // transaction) and still has no payment: the payer left without
            // paying, and may try again. A late payment still counts.
            let sent_back = txid.is_some_and(|t| Some(t) == after.provider_txid.as_deref());
            if after.status() == PaymentStatus::Pending && sent_back {
                let out_event = self
                    .store
                    .payment_event(
                        tenant,
                        after.id,
                        PaymentEvent::ProviderCancelled,
                        EventSource::Return,
                        None,
                        &serde_json::json!({ "txid": txid, "provider_status": -1 }),
                    )
                    .await?;
                out.push(out_event.payment);
            } else {
                out.push(after);
            }
        }
        Ok(out)
    }

    /// The payments of a case (staff who may work it, or the
    /// Fachadministration).
    pub async fn case_payments(
        &self,
        actor: &Actor,
        case_id: Uuid,
    ) -> UseCaseResult<Vec<(Payment, Vec<Refund>)>> {
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let case = repo
            .case(tenant, case_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require(Permission::WorkCases)?;
            actor.require_case(case.org_unit_id)?;
        }
        let mut out = Vec::new();
        for p in repo
            .payments_of_application(tenant, case.application_id)
            .await?
        {
            let refunds = repo.refunds(tenant, p.id).await?;
            out.push((p, refunds));
        }
        Ok(out)
    }

    /// One payment with its log and refunds (staff who may work its case,
    /// or the Fachadministration).
    pub async fn payment_detail(
        &self,
        actor: &Actor,
        payment: Uuid,
    ) -> UseCaseResult<PaymentDetail> {
        let (p, _) = self.payment_for_staff(actor, payment).await?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let reference = repo
            .application(tenant, p.application_id)
            .await?
            .map(|a| a.reference)
            .unwrap_or_default();
        let case_id = repo.case_of(tenant, p.application_id).await?.map(|c| c.id);
        Ok(PaymentDetail {
            events: repo.payment_events(tenant, p.id).await?,
            refunds: repo.refunds(tenant, p.id).await?,
            reference,
            case_id,
            payment: p,
        })
    }

    /// The reference of a payment's application (staff who may see it).
    pub async fn payment_reference(&self, actor: &Actor, p: &Payment) -> UseCaseResult<String> {
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        Ok(self
            .store
            .repo()
            .application(staff.tenant(), p.application_id)
            .await?
            .map(|a| a.reference)
            .unwrap_or_default())
    }

    /// The payment a refund belongs to (staff who may see the payment).
    pub async fn refund_payment(&self, actor: &Actor, refund: Uuid) -> UseCaseResult<Uuid> {
        let r = self
            .store
            .repo()
            .refund(actor.tenant(), refund)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let (p, _) = self.payment_for_staff(actor, r.payment_id).await?;
        Ok(p.id)
    }

    /// The office asks the applicant for a fee later (pay later): the
    /// payment, a message in the mailbox with amount and Kassenzeichen, and
    /// the audit entry. Staff who may work the case.
    pub async fn request_fee(
        &self,
        actor: &Actor,
        case_id: Uuid,
        amount: &str,
        purpose: &str,
    ) -> UseCaseResult<Payment> {
        let staff = actor.require(Permission::WorkCases)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let case = repo
            .case(tenant, case_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        actor.require_case(case.org_unit_id)?;
        let cfg = self.payment_config()?;
        let mut errors = rathaus_domain::ValidationErrors::default();
        let amount = match Money::parse_field("amount", amount) {
            Ok(a) if !a.is_zero() => Some(a),
            Ok(_) => {
                errors.push(rathaus_domain::FieldError::new(
                    "amount",
                    "payment.amount_zero",
                ));
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let purpose = match rathaus_domain::validation::required_text(
            "purpose",
            purpose,
            MAX_FEE_PURPOSE_CHARS,
        ) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let (Some(amount), Some(purpose)) = (amount, purpose) else {
            return Err(UseCaseError::Validation(errors));
        };
        let application = repo
            .application(tenant, case.application_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let booking = match application.service_id {
            Some(s) => repo
                .service_fee(tenant, s)
                .await?
                .map(|f| (f.haushaltsstelle, f.objektnummer))
                .unwrap_or_default(),
            None => Default::default(),
        };
        let (prefix, scheme) = self.numbering(tenant).await?;
        let actor_label = format!("staff:{}", staff.user.id);
        let (p, _) = self
            .store
            .request_fee(
                tenant,
                case.id,
                (staff.user.id, &actor_label),
                &NewPayment {
                    application_id: application.id,
                    purpose: Purpose::FeeRequest.code().into(),
                    amount,
                    provider: cfg.provider.name().into(),
                    description: purpose.clone(),
                    haushaltsstelle: booking.0,
                    objektnummer: booking.1,
                },
                (&prefix, &scheme),
                |p| {
                    format!(
                        "Gebührenanforderung: Bitte zahlen Sie {} für „{}“ (Kassenzeichen {}). Sie können online bezahlen: Auf der Seite Ihres Antrags finden Sie unter „Zahlungen“ die Schaltfläche „Jetzt bezahlen“.",
                        amount.german(),
                        purpose,
                        p.kassenzeichen
                    )
                },
            )
            .await
            .map_err(|e| match e {
                rathaus_storage::cases::CaseError::Transition(t) => UseCaseError::Transition(t),
                rathaus_storage::cases::CaseError::Storage(s) => s.into(),
            })?;
        Ok(p)
    }

    /// The job after a payment became paid: the Zahlungsbestätigung (PDF/A)
    /// goes to the applicant's mailbox, once (the case of a
    /// pay-before-sending application was received in the transaction that
    /// stored the payment). Runs again harmlessly.
    pub async fn payment_paid(&self, tenant: TenantId, payment: Uuid) -> UseCaseResult<()> {
        let repo = self.store.repo();
        let Some(p) = repo.payment(tenant, payment).await? else {
            return Ok(());
        };
        if !p.status().money_received() || p.receipt_file_id.is_some() {
            return Ok(());
        }
        let application = repo
            .application(tenant, p.application_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let office = match repo.case_of(tenant, p.application_id).await? {
            Some(c) => repo
                .org_unit(tenant, c.org_unit_id)
                .await?
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let municipality = repo
            .tenant(tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let paid_at = berlin(p.paid_at.unwrap_or(p.updated_at));
        let receipt = rathaus_documents::PaymentReceipt {
            municipality,
            office,
            reference: application.reference.clone(),
            kassenzeichen: p.kassenzeichen.clone(),
            purpose: p.description.clone(),
            amount: p.amount().german(),
            paid_at: format!("{} Uhr", paid_at.format("%d.%m.%Y, %H:%M")),
            method: p.method.clone().unwrap_or_default(),
            provider: if p.provider == "pmpayment" {
                "pmPayment".into()
            } else {
                p.provider.clone()
            },
            transaction: p.provider_txid.clone().unwrap_or_default(),
            date: paid_at.date_naive(),
        };
        let pdf =
            tokio::task::spawn_blocking(move || rathaus_documents::payment_receipt_pdf(&receipt))
                .await
                .map_err(|e| {
                    UseCaseError::Internal(format!("typesetting the payment receipt: {e}"))
                })?
                .map_err(|e| {
                    UseCaseError::Internal(format!("typesetting the payment receipt: {e}"))
                })?;
        let key = format!(
            "payments/{}/{}-{}.pdf",
            p.application_id,
            p.id,
            Uuid::now_v7()
        );
        let stored = self
            .files
            .put(tenant, &key, bytes::Bytes::from(pdf))
            .await?;
        let posted = self
            .store
            .post_payment_receipt(
                tenant,
                p.id,
                format!(
                    "Zahlungsbestätigung: Ihre Zahlung über {} (Kassenzeichen {}) ist eingegangen. Die Bestätigung liegt als PDF bei.",
                    p.amount().german(),
                    p.kassenzeichen
                ),
                &NewFile {
                    field_path: PAYMENT_RECEIPT_PATH.into(),
                    file_key: key.clone(),
                    name: format!("Zahlungsbestaetigung-{}.pdf", p.kassenzeichen),
                    mime: "application/pdf".into(),
                    size: stored.size as i64,
                    sha256: stored.sha256,
                },
            )
            .await?;
        if posted.is_none()
            && let Err(e) = self.files.delete(tenant, &key).await
        {
            tracing::warn!(error = %e, %key, "removing a payment receipt typeset twice failed");
        }
        Ok(())
    }

    /// The fees of the tenant's services with the service's slug
    /// (Fachadministration).
    pub async fn service_fees(
        &self,
        actor: &Actor,
    ) -> UseCaseResult<Vec<(rathaus_storage::payments::ServiceFee, String)>> {
        use rathaus_storage::catalog::CatalogRepository;
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let mut out = Vec::new();
        for f in repo.service_fees(tenant).await? {
            let slug = repo
                .service(tenant, f.service_id)
                .await?
                .map(|s| s.slug)
                .unwrap_or_default();
            out.push((f, slug));
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Sets a service's fee, when it is paid and its booking data
    /// (Fachadministration). The rule's conditions and the booking data are
    /// checked first; each problem names its field.
    pub async fn set_service_fee(
        &self,
        actor: &Actor,
        service: &str,
        fee: &rathaus_domain::payments::FeeSpec,
        collection: Collection,
        haushaltsstelle: &str,
        objektnummer: &str,
    ) -> UseCaseResult<rathaus_storage::payments::ServiceFee> {
        use rathaus_storage::catalog::CatalogRepository;
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let service = service.trim();
        let found = match Uuid::parse_str(service) {
            Ok(id) => repo.service(tenant, id).await?,
            Err(_) if service.len() <= 200 => repo.service_by_slug(tenant, service).await?,
            Err(_) => None,
        };
        let Some(service) = found.map(|s| s.id) else {
            return Err(UseCaseError::Validation(
                rathaus_domain::FieldError::new("service", "payment.unknown_service").into(),
            ));
        };
        let mut errors = rathaus_domain::ValidationErrors::default();
        if let Err(e) = fee.check() {
            let field = match &e {
                rathaus_domain::payments::PaymentError::FeeRule { case, .. } => {
                    format!("fee.cases[{case}].when")
                }
                _ => "fee.cases".to_string(),
            };
            errors.push(rathaus_domain::FieldError::new(field, e.code()));
        }
        let booking = match rathaus_domain::payments::Booking::parse(haushaltsstelle, objektnummer)
        {
            Ok(b) => Some(b),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let Some(booking) = booking.filter(|_| errors.is_empty()) else {
            return Err(UseCaseError::Validation(errors));
        };
        Ok(self
            .store
            .set_service_fee(
                tenant,
                service,
                &rathaus_storage::payments::NewServiceFee {
                    fee,
                    collect: collection,
                    haushaltsstelle: booking.haushaltsstelle(),
                    objektnummer: booking.objektnummer(),
                },
                Some(staff.user.id),
            )
            .await?)
    }

    /// The reconciliation job: every payment pending for more than
    /// `min_age` is checked at the provider; one without an answer for 90
    /// minutes expires. Returns how many were looked at.
    pub async fn reconcile_payments(&self, min_age: chrono::Duration) -> UseCaseResult<usize> {
        let now = Utc::now();
        let pending = self
            .store
            .repo()
            .pending_payments(now - min_age, 500)
            .await?;
        let n = pending.len();
        for p in pending {
            let after = match self
                .confirm_payment(&p, EventSource::Reconciliation, None)
                .await
            {
                Ok(after) => after,
                Err(e) => {
                    tracing::warn!(payment = %p.id, error = %e, "reconciliation: provider not asked");
                    p.clone()
                }
            };
            if after.status() == PaymentStatus::Pending
                && let Some(started) = after.started_at
            {
                self.store
                    .payment_event(
                        TenantId(after.tenant_id),
                        after.id,
                        PaymentEvent::NoAnswer {
                            since_start: now - started,
                        },
                        EventSource::Reconciliation,
                        None,
                        &serde_json::json!({}),
                    )
                    .await?;
            }
        }
        Ok(n)
    }

    /// A refund by staff who may work the case: at once up to the tenant's
    /// threshold, above it waiting for a second person.
    pub async fn request_refund(
        &self,
        actor: &Actor,
        payment: Uuid,
        amount: Money,
        reason: &str,
    ) -> UseCaseResult<Refund> {
        let (p, staff_id) = self.payment_for_staff(actor, payment).await?;
        let tenant = actor.tenant();
        let reason = rathaus_domain::validation::required_text("reason", reason, 500)
            .map_err(rathaus_domain::ValidationErrors::from)?;
        let threshold = self
            .store
            .repo()
            .payment_settings(tenant)
            .await?
            .and_then(|s| Money::from_cents(s.refund_threshold_cents))
            .unwrap_or(Money::ZERO);
        // Checked by the state machine before anything is stored.
        if let Transition::Refused(e) = rathaus_domain::payments::next(
            p.status(),
            PaymentEvent::Refund {
                amount,
                refunded_so_far: p.refunded(),
                paid: p.amount(),
            },
            p.amount(),
        ) {
            return Err(UseCaseError::Workflow(e.code()));
        }
        if refund_needs_second_person(amount, threshold) {
            return Ok(self
                .store
                .add_refund(tenant, p.id, amount, &reason, staff_id, "pending")
                .await?);
        }
        let r = self
            .store
            .add_refund(tenant, p.id, amount, &reason, staff_id, "done")
            .await?;
        self.apply_refund(&p, amount, staff_id).await?;
        Ok(r)
    }

    /// A second person approves a waiting refund.
    pub async fn approve_refund(&self, actor: &Actor, refund: Uuid) -> UseCaseResult<Refund> {
        actor.staff().ok_or(UseCaseError::Forbidden)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require(Permission::WorkCases)?;
        }
        let tenant = actor.tenant();
        let r = self
            .store
            .repo()
            .refund(tenant, refund)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let (p, staff_id) = self.payment_for_staff(actor, r.payment_id).await?;
        if r.status != "pending" {
            return Err(UseCaseError::Workflow("payment.refund_decided"));
        }
        check_refund_approval(r.requested_by, staff_id)
            .map_err(|e| UseCaseError::Workflow(e.code()))?;
        let amount = Money::from_cents(r.amount_cents).unwrap_or(Money::ZERO);
        self.apply_refund(&p, amount, staff_id).await?;
        Ok(self
            .store
            .decide_refund(tenant, r.id, "done", staff_id)
            .await?)
    }

    async fn apply_refund(&self, p: &Payment, amount: Money, by: Uuid) -> UseCaseResult<()> {
        let out = self
            .store
            .payment_event(
                TenantId(p.tenant_id),
                p.id,
                PaymentEvent::Refund {
                    amount,
                    refunded_so_far: p.refunded(),
                    paid: p.amount(),
                },
                EventSource::Staff,
                None,
                &serde_json::json!({ "by": by, "amount": amount.to_string() }),
            )
            .await?;
        match out.transition {
            Transition::Refused(e) => Err(UseCaseError::Workflow(e.code())),
            _ => Ok(()),
        }
    }

    /// A payment and the staff member's id: the clerks of the case's unit and
    /// the Fachadministration.
    async fn payment_for_staff(
        &self,
        actor: &Actor,
        payment: Uuid,
    ) -> UseCaseResult<(Payment, Uuid)> {
        use rathaus_storage::cases::CaseRepository;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require(Permission::WorkCases)?;
        }
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let p = repo
            .payment(tenant, payment)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            let case = repo
                .case_of(tenant, p.application_id)
                .await?
                .ok_or(UseCaseError::NotFound)?;
            actor.require_case(case.org_unit_id)?;
        }
        Ok((p, staff.user.id))
    }

    /// The payments changed on a day (Fachadministration).
    pub async fn payments_of_day(
        &self,
        actor: &Actor,
        day: NaiveDate,
    ) -> UseCaseResult<Vec<Payment>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let from = day
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .ok_or(UseCaseError::NotFound)?;
        Ok(self
            .store
            .repo()
            .payments_on(staff.tenant(), from, from + chrono::Duration::days(1))
            .await?)
    }

    /// The day's reconciliation export for the finance system (CSV, `;`,
    /// UTF-8): date, Kassenzeichen, reference, amount, Haushaltsstelle,
    /// Objektnummer, provider, transaction, method, state.
    pub async fn reconciliation_csv(&self, actor: &Actor, day: NaiveDate) -> UseCaseResult<String> {
        let payments = self.payments_of_day(actor, day).await?;
        let repo = self.store.repo();
        let mut out = String::from(
            "datum;kassenzeichen;aktenzeichen;betrag;haushaltsstelle;objektnummer;anbieter;transaktion;zahlart;status\n",
        );
        for p in payments {
            let reference = repo
                .application(TenantId(p.tenant_id), p.application_id)
                .await?
                .map(|a| a.reference)
                .unwrap_or_default();
            let cells = [
                p.updated_at.format("%Y-%m-%d").to_string(),
                p.kassenzeichen.clone(),
                reference,
                p.amount().to_string(),
                p.haushaltsstelle.clone(),
                p.objektnummer.clone(),
                p.provider.clone(),
                p.provider_txid.clone().unwrap_or_default(),
                p.method.clone().unwrap_or_default(),
                p.status.clone(),
            ];
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            out.push('\n');
        }
        Ok(out)
    }
}

/// A CSV cell: quoted when it holds a separator, quote or line break;
/// a leading `= + - @` is prefixed with `'` (no formula in a spreadsheet).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_never_start_a_formula_and_keep_separators_inside() {
        assert_eq!(csv_cell("26.00"), "26.00");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+49"), "'+49");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("Zeile 1\nZeile 2"), "\"Zeile 1\nZeile 2\"");
    }
}
