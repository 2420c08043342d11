//! What every capability shows of a payment: the JSON shape of the API
//! (applications, cases, payments) and the row of a page.

use rathaus_domain::payments::{PaymentStatus, Purpose};
use rathaus_storage::payments::Payment;
use uuid::Uuid;

use super::i18n::{self, Lang};

/// A payment as the API shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PaymentSummary {
    pub id: Uuid,
    /// `created`, `pending`, `paid`, `failed`, `cancelled`, `expired`,
    /// `refunded`, `partially_refunded`.
    pub status: String,
    /// Decimal with two places, e.g. `26.00`.
    pub amount: String,
    pub currency: String,
    /// `application` (pay before sending) or `fee_request` (pay later).
    pub purpose: String,
    pub kassenzeichen: String,
    pub description: String,
    /// The payment method the provider named (once paid).
    pub method: Option<String>,
    /// Refunded so far, e.g. `0.00`.
    pub refunded: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the payer goes to pay (while it is open): the provider's pay
    /// page once started, else the application's page with its pay button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

pub fn summary(p: &Payment, url: Option<String>) -> PaymentSummary {
    PaymentSummary {
        id: p.id,
        status: p.status.clone(),
        amount: p.amount().to_string(),
        currency: p.currency.clone(),
        purpose: p.purpose.clone(),
        kassenzeichen: p.kassenzeichen.clone(),
        description: p.description.clone(),
        method: p.method.clone(),
        refunded: p.refunded().to_string(),
        created_at: p.created_at,
        paid_at: p.paid_at,
        url: url.filter(|_| is_open(p)),
    }
}

/// Whether the payer can still pay it (created, or started and waiting).
pub fn is_open(p: &Payment) -> bool {
    matches!(p.status(), PaymentStatus::Created | PaymentStatus::Pending)
}

/// Whether a new attempt can be made for it (failed, cancelled or expired).
pub fn can_retry(p: &Payment) -> bool {
    matches!(
        p.status(),
        PaymentStatus::Failed | PaymentStatus::Cancelled | PaymentStatus::Expired
    )
}

/// A payment as a page shows it.
pub struct PaymentRow {
    pub id: String,
    pub kassenzeichen: String,
    pub amount: String,
    pub description: String,
    pub purpose: String,
    /// `application` or `fee_request`.
    pub purpose_code: String,
    pub status: String,
    pub status_code: String,
    pub method: String,
    pub paid_at: String,
    pub refunded: String,
    /// The payer may pay it now.
    pub open: bool,
}

pub fn row(lang: Lang, p: &Payment) -> PaymentRow {
    PaymentRow {
        id: p.id.to_string(),
        kassenzeichen: p.kassenzeichen.clone(),
        amount: match lang {
            Lang::De => p.amount().german(),
            Lang::En => format!("EUR {}", p.amount()),
        },
        description: p.description.clone(),
        purpose: i18n::t(
            lang,
            match p.purpose() {
                Purpose::Application => "payment.purpose_application",
                Purpose::FeeRequest => "payment.purpose_fee_request",
            },
        )
        .to_string(),
        purpose_code: p.purpose().code().to_string(),
        status: i18n::t(lang, &format!("payment.status_{}", p.status().code())).to_string(),
        status_code: p.status().code().to_string(),
        method: p.method.clone().unwrap_or_default(),
        paid_at: p
            .paid_at
            .map(|t| {
                t.with_timezone(&super::thread::chrono_tz_berlin())
                    .format("%d.%m.%Y %H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        refunded: if p.refunded_cents > 0 {
            p.refunded().german()
        } else {
            String::new()
        },
        open: is_open(p),
    }
}
