//! askama views of the payment pages.

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::{layout::Page, payment::PaymentRow};

/// Back from the provider, in a browser that did not start the payment.
#[derive(Template, WebTemplate)]
#[template(path = "payments/return.html")]
pub struct ReturnPage {
    pub page: Page,
    pub paid: bool,
    pub payments: Vec<PaymentRow>,
}

/// A row of the staff list.
pub struct ListRow {
    pub href: String,
    pub reference: String,
    pub row: PaymentRow,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "payments/list.html")]
pub struct ListPage {
    pub page: Page,
    pub date: String,
    pub status: String,
    pub statuses: Vec<(String, String)>,
    pub rows: Vec<ListRow>,
    pub csv_href: String,
    pub total: String,
}

pub struct EventRow {
    pub at: String,
    pub source: String,
    pub event: String,
    pub change: String,
    pub outcome: String,
}

pub struct RefundRow {
    pub id: String,
    pub amount: String,
    pub reason: String,
    pub status: String,
    pub requested: String,
    /// A second person may approve it now.
    pub approvable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "payments/detail.html")]
pub struct DetailPage {
    pub page: Page,
    pub payment: PaymentRow,
    pub reference: String,
    pub case_href: Option<String>,
    pub haushaltsstelle: String,
    pub objektnummer: String,
    pub provider: String,
    pub transaction: String,
    pub events: Vec<EventRow>,
    pub refunds: Vec<RefundRow>,
    /// Money was received and not all of it refunded.
    pub refundable: bool,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct FeeRow {
    pub service_id: String,
    pub service: String,
    pub fee: String,
    pub collect: String,
    pub haushaltsstelle: String,
    pub objektnummer: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "payments/fees.html")]
pub struct FeesPage {
    pub page: Page,
    pub rows: Vec<FeeRow>,
    pub message: Option<String>,
    pub error: Option<String>,
}
