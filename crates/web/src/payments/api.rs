//! Payments API: the day's payments and its CSV (Fachadministration), one
//! payment with its log, refunds with four eyes, fee requests on a case
//! (pay later), the fee of a service. The provider's notification is in
//! `pay.rs`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use rathaus_domain::payments::{Collection, FeeSpec, Money};
use rathaus_storage::payments::Refund;
use uuid::Uuid;

use super::staff::{day_of, status_of};
use crate::platform::{
    AppState,
    api_auth::{AdministerTenant, ApiJson, ApiQuery, ApiStaff, RecordsStaff, WorkCases},
    error::AppError,
    payment::{PaymentSummary, summary},
    routes::{Routes, get, post, put},
};

pub fn routes() -> Routes {
    Routes::new("payments")
        .route("/payments", get(list))
        .route("/payments/reconciliation.csv", get(csv))
        .route("/payments/{id}", get(one))
        .route("/payments/{id}/refunds", post(refund))
        .route("/refunds/{id}/approve", post(approve))
        .route("/cases/{id}/payments", get(of_case))
        .route("/cases/{id}/fee-requests", post(fee_request))
        .route("/services/{id}/fee", put(set_fee))
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::NotFound)
}

/// The day (`YYYY-MM-DD`, default today) and, for the list, a status.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct DayParams {
    /// The day the payments changed on (UTC; default today).
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    date: Option<String>,
    /// Only payments in this status.
    #[param(
        pattern = "^(created|pending|paid|failed|cancelled|expired|refunded|partially_refunded)?$"
    )]
    status: Option<String>,
}

/// The day for the CSV.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct CsvParams {
    /// The day the payments changed on (UTC; default today).
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    date: Option<String>,
}

/// A payment with its application's reference.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PaymentListed {
    #[serde(flatten)]
    payment: PaymentSummary,
    reference: String,
    haushaltsstelle: String,
    objektnummer: String,
    provider: String,
    /// The provider's transaction id (once started).
    transaction: Option<String>,
}

/// The payments of a day.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PaymentList {
    date: chrono::NaiveDate,
    payments: Vec<PaymentListed>,
}

async fn list(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiQuery(q): ApiQuery<DayParams>,
) -> Result<Response, AppError> {
    let day = day_of(q.date.as_deref())?;
    let status = status_of(q.status.as_deref())?;
    let mut out = Vec::new();
    for p in state.app.payments_of_day(&actor, day).await? {
        if status.is_some_and(|s| p.status() != s) {
            continue;
        }
        out.push(PaymentListed {
            reference: state.app.payment_reference(&actor, &p).await?,
            haushaltsstelle: p.haushaltsstelle.clone(),
            objektnummer: p.objektnummer.clone(),
            provider: p.provider.clone(),
            transaction: p.provider_txid.clone(),
            payment: summary(&p, None),
        });
    }
    Ok(Json(PaymentList {
        date: day,
        payments: out,
    })
    .into_response())
}

async fn csv(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiQuery(q): ApiQuery<CsvParams>,
) -> Result<Response, AppError> {
    let day = day_of(q.date.as_deref())?;
    let csv = state.app.reconciliation_csv(&actor, day).await?;
    Ok(super::csv_response(day, csv))
}

/// One entry of a payment's log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct EventBody {
    at: chrono::DateTime<chrono::Utc>,
    /// `notification`, `return`, `reconciliation`, `staff`, `platform`.
    source: String,
    event: String,
    status_from: String,
    status_to: String,
    /// `applied`, `ignored`, or the code of the refusal.
    outcome: String,
}

/// A refund.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct RefundBody {
    id: Uuid,
    payment: Uuid,
    amount: String,
    reason: String,
    /// `pending` (waits for a second person), `done`.
    status: String,
    requested_at: chrono::DateTime<chrono::Utc>,
    approved_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn refund_body(r: &Refund) -> RefundBody {
    RefundBody {
        id: r.id,
        payment: r.payment_id,
        amount: Money::from_cents(r.amount_cents)
            .map(|m| m.to_string())
            .unwrap_or_default(),
        reason: r.reason.clone(),
        status: r.status.clone(),
        requested_at: r.requested_at,
        approved_at: r.approved_at,
    }
}

/// A payment with its log and refunds.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PaymentDetailBody {
    #[serde(flatten)]
    payment: PaymentListed,
    events: Vec<EventBody>,
    refunds: Vec<RefundBody>,
}

async fn one(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = state.app.payment_detail(&actor, id_of(&id)?).await?;
    let p = &d.payment;
    Ok(Json(PaymentDetailBody {
        payment: PaymentListed {
            reference: d.reference.clone(),
            haushaltsstelle: p.haushaltsstelle.clone(),
            objektnummer: p.objektnummer.clone(),
            provider: p.provider.clone(),
            transaction: p.provider_txid.clone(),
            payment: summary(p, None),
        },
        events: d
            .events
            .iter()
            .map(|e| EventBody {
                at: e.at,
                source: e.source.clone(),
                event: e.event.clone(),
                status_from: e.status_from.clone(),
                status_to: e.status_to.clone(),
                outcome: e.outcome.clone(),
            })
            .collect(),
        refunds: d.refunds.iter().map(refund_body).collect(),
    })
    .into_response())
}

/// A refund to make.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct RefundRequest {
    /// Decimal with at most two places, e.g. `26.00`.
    #[schema(max_length = 20)]
    amount: String,
    #[schema(max_length = 500)]
    reason: String,
}

async fn refund(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefundRequest>,
) -> Result<Response, AppError> {
    let payment = id_of(&id)?;
    let amount =
        Money::parse_field("amount", &body.amount).map_err(|e| AppError::Validation(e.into()))?;
    let r = state
        .app
        .request_refund(&actor, payment, amount, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(refund_body(&r))).into_response())
}

async fn approve(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let r = state.app.approve_refund(&actor, id_of(&id)?).await?;
    Ok(Json(refund_body(&r)).into_response())
}

/// The payments of a case.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CasePayments {
    payments: Vec<PaymentSummary>,
    refunds: Vec<RefundBody>,
}

async fn of_case(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let found = state.app.case_payments(&actor, id_of(&id)?).await?;
    Ok(Json(CasePayments {
        payments: found.iter().map(|(p, _)| summary(p, None)).collect(),
        refunds: found
            .iter()
            .flat_map(|(_, rs)| rs.iter().map(refund_body))
            .collect(),
    })
    .into_response())
}

/// A fee the office asks for (pay later).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct FeeRequestBody {
    /// Decimal with at most two places, above zero, e.g. `30.70`.
    #[schema(max_length = 20)]
    amount: String,
    /// What it is for (shown to the applicant and in the finance export).
    #[schema(max_length = 200)]
    purpose: String,
}

async fn fee_request(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FeeRequestBody>,
) -> Result<Response, AppError> {
    let p = state
        .app
        .request_fee(&actor, id_of(&id)?, &body.amount, &body.purpose)
        .await?;
    Ok((StatusCode::CREATED, Json(summary(&p, None))).into_response())
}

/// The fee of a service.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct FeeBody {
    /// `{"kind": "free"}`, `{"kind": "fixed", "amount": "30.70"}` or
    /// `{"kind": "by_rule", "cases": [{"when": "<condition>", "amount": "36.00"}], "otherwise": "26.00"}`.
    fee: FeeSpec,
    /// `before` (pay before sending, default) or `later` (on request).
    #[serde(default)]
    collect: Collection,
    #[schema(max_length = 40)]
    haushaltsstelle: String,
    #[schema(max_length = 40)]
    objektnummer: String,
}

/// A service's fee as stored.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FeeSaved {
    service: Uuid,
    #[schema(value_type = Object)]
    fee: serde_json::Value,
    collect: String,
    haushaltsstelle: String,
    objektnummer: String,
}

async fn set_fee(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FeeBody>,
) -> Result<Response, AppError> {
    let saved = state
        .app
        .set_service_fee(
            &actor,
            &id,
            &body.fee,
            body.collect,
            &body.haushaltsstelle,
            &body.objektnummer,
        )
        .await?;
    Ok(Json(FeeSaved {
        service: saved.service_id,
        fee: serde_json::from_str(&saved.fee).unwrap_or_default(),
        collect: saved.collect.clone(),
        haushaltsstelle: saved.haushaltsstelle.clone(),
        objektnummer: saved.objektnummer.clone(),
    })
    .into_response())
}
