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
    payments::{
        KassenzeichenScheme, Money, PaymentEvent, PaymentStatus, Transition, check_refund_approval,
        refund_needs_second_person,
    },
    tenancy::TenantId,
};
use rathaus_standards::pmpayment::{
    self, Notification, PaymentStatus as PmStatus, StartRequest, StartResponse, StatusResponse,
};
use rathaus_storage::{
    applications::ApplicationRepository,
    payments::{EventSource, NewPayment, Payment, PaymentRepository, Refund},
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
}

/// pmPayment over HTTP: `POST <base>/payment/start` (form, HMAC-SHA256),
/// `GET <base>/payment/status/{ags}/{txid}`.
pub struct PmPaymentClient {
    base: String,
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
            base: base.trim_end_matches('/').to_string(),
            secret: secret.to_string(),
            ags: ags.to_string(),
            http,
        })
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

    /// Creates the payment of an application's fee (system: right after the
    /// submission), numbered with the tenant's Kassenzeichen.
    pub async fn create_payment(
        &self,
        tenant: TenantId,
        application: Uuid,
        purpose: &str,
        amount: Money,
        description: &str,
        booking: (&str, &str),
    ) -> UseCaseResult<Payment> {
        let cfg = self.payment_config()?;
        let settings = self.store.repo().payment_settings(tenant).await?;
        let (prefix, scheme) = match &settings {
            Some(s) => (
                s.kassenzeichen_prefix.clone(),
                KassenzeichenScheme::parse(&s.kassenzeichen_scheme).unwrap_or_default(),
            ),
            None => ("RH".to_string(), KassenzeichenScheme::default()),
        };
        Ok(self
            .store
            .create_payment(
                tenant,
                &NewPayment {
                    application_id: application,
                    purpose: purpose.into(),
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

    /// Starts (or resumes) the payment at the provider and answers where to
    /// send the payer: the applicant of the application only.
    pub async fn start_payment(&self, actor: &Actor, payment: Uuid) -> UseCaseResult<Started> {
        let cfg = self.payment_config()?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let p = repo
            .payment(tenant, payment)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if !actor.is_applicant_of(p.application_id) {
            return Err(UseCaseError::NotFound);
        }
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
        let app = repo
            .application(tenant, p.application_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
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

    /// The payer came back from the provider: the payment as the provider
    /// now says (the applicant of the application only).
    pub async fn payment_returned(
        &self,
        actor: &Actor,
        application: Uuid,
    ) -> UseCaseResult<Vec<Payment>> {
        if !actor.is_applicant_of(application) {
            return Err(UseCaseError::NotFound);
        }
        let tenant = actor.tenant();
        let mut out = Vec::new();
        for p in self
            .store
            .repo()
            .payments_of_application(tenant, application)
            .await?
        {
            if p.status() == PaymentStatus::Pending {
                out.push(self.confirm_payment(&p, EventSource::Return, None).await?);
            } else {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The payments of an application (its applicant, or staff who may see
    /// the case).
    pub async fn application_payments(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> UseCaseResult<Vec<Payment>> {
        Ok(self
            .store
            .repo()
            .payments_of_application(tenant, application)
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
