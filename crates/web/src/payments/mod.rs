//! E-Payment (C7): the payer's way to the provider and back, the provider's
//! notification, the staff's payments (list, CSV, refunds with four eyes,
//! fee requests on a case) and the services' fees. Pages and API; handlers
//! parse, call `rathaus_app::payments`, render.

pub mod api;
pub mod pay;
pub mod staff;
pub mod views;

use crate::platform::openapi::{Auth, Op, op, query, schema};
use crate::platform::payment::PaymentSummary;
use crate::platform::routes::Routes;

pub fn routes() -> Routes {
    Routes::new("payments")
        .merge(pay::routes())
        .merge(staff::routes())
        .nest("/api/v1", api::routes().merge(pay::api_routes()))
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct MsgQuery {
    pub(crate) msg: Option<String>,
}

/// The day's reconciliation CSV as a download.
fn csv_response(day: chrono::NaiveDate, csv: String) -> axum::response::Response {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    let mut r = csv.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"zahlungen-{}.csv\"",
        day.format("%Y-%m-%d")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "post",
        "/payments/notify",
        "payments",
        "The payment provider's notification (pmPayment: form fields ags, txid, amount, desc, status, payment_method, procedure, created_at; no hash). Never trusted alone: the platform asks the provider's status endpoint and applies only what it says, with the right amount. 200 for every readable notification (an unknown transaction included)",
        Auth::Public,
        None,
        &[("200", "Read (`OK`)", None)],
        &[503],
    )
    .with_raw_body("application/x-www-form-urlencoded"),
    op(
        "get",
        "/payments",
        "payments",
        "The payments changed on a day, optionally of one status (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The day's payments", Some(schema::<api::PaymentList>))],
        &[],
    )
    .with_query(query::<api::DayParams>),
    op(
        "get",
        "/payments/reconciliation.csv",
        "payments",
        "The day's reconciliation export for the finance system (CSV, `;`, UTF-8): datum, kassenzeichen, aktenzeichen, betrag, haushaltsstelle, objektnummer, anbieter, transaktion, zahlart, status (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The CSV", None)],
        &[],
    )
    .with_query(query::<api::CsvParams>)
    .with_raw_response("text/csv"),
    op(
        "get",
        "/payments/{id}",
        "payments",
        "One payment with its log (every notification, status answer and refund, applied, ignored or refused) and its refunds (the case's clerks and Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The payment", Some(schema::<api::PaymentDetailBody>))],
        &[],
    ),
    op(
        "post",
        "/payments/{id}/refunds",
        "payments",
        "Refund a paid payment in full or in part: at once up to the tenant's threshold, above it waiting for a second person (the case's clerks and Fachadministration)",
        Auth::Staff,
        Some(schema::<api::RefundRequest>),
        &[("201", "The refund (`done` or `pending`)", Some(schema::<api::RefundBody>))],
        &[409],
    ),
    op(
        "post",
        "/refunds/{id}/approve",
        "payments",
        "A second person approves a waiting refund (not the one who asked for it)",
        Auth::Staff,
        None,
        &[("200", "The refund, done", Some(schema::<api::RefundBody>))],
        &[409],
    ),
    op(
        "get",
        "/cases/{id}/payments",
        "payments",
        "The payments of a case with their refunds (the case's clerks and Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The payments", Some(schema::<api::CasePayments>))],
        &[],
    ),
    op(
        "post",
        "/cases/{id}/fee-requests",
        "payments",
        "Ask the applicant for a fee (pay later): a payment with its Kassenzeichen and a message in the mailbox; the applicant pays through the application's page (the case's clerks)",
        Auth::Staff,
        Some(schema::<api::FeeRequestBody>),
        &[("201", "The payment", Some(schema::<PaymentSummary>))],
        &[409],
    ),
    op(
        "put",
        "/services/{id}/fee",
        "payments",
        "Set a service's fee (free, fixed, or by a rule on the form's values), when it is paid (`before` sending or `later`) and its booking data; `id` is the service's id or slug (Fachadministration)",
        Auth::Staff,
        Some(schema::<api::FeeBody>),
        &[("200", "The fee as stored", Some(schema::<api::FeeSaved>))],
        &[],
    ),
];
