//! Staff pages of payments: the list of a day with filters and the CSV for
//! the finance system (Fachadministration), one payment with its log and
//! refunds (four eyes above the threshold), the fee request on a case (pay
//! later), and the fees of the services.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::NaiveDate;
use rathaus_domain::payments::{Collection, FeeSpec, PaymentStatus};
use uuid::Uuid;

use super::views::{DetailPage, EventRow, FeeRow, FeesPage, ListPage, ListRow, RefundRow};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
    context::{Ctx, describe},
    error::AppError,
    i18n::{self, Lang},
    layout::no_store,
    payment::row,
    routes::{Routes, get, post},
    security::CsrfForm,
    thread::chrono_tz_berlin,
};

pub fn routes() -> Routes {
    Routes::new("payments")
        .route("/staff/zahlungen", get(list_page))
        .route("/staff/zahlungen/export.csv", get(csv_page))
        .route(
            "/staff/zahlungen/gebuehren",
            get(fees_page).post(set_fee_page),
        )
        .route("/staff/zahlungen/{id}", get(detail_page))
        .route("/staff/zahlungen/{id}/erstattung", post(refund_page))
        .route(
            "/staff/zahlungen/erstattungen/{id}/freigeben",
            post(approve_page),
        )
        .route("/staff/cases/{id}/gebuehr", post(fee_request_page))
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::NotFound)
}

/// A day as `YYYY-MM-DD` (empty: today).
pub(super) fn day_of(s: Option<&str>) -> Result<NaiveDate, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(chrono::Utc::now().date_naive()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            AppError::Validation(rathaus_domain::FieldError::new("date", "date.invalid").into())
        }),
    }
}

/// A status filter (empty: all).
pub(super) fn status_of(s: Option<&str>) -> Result<Option<PaymentStatus>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => PaymentStatus::parse(v).map(Some).ok_or_else(|| {
            AppError::Validation(
                rathaus_domain::FieldError::new("status", "payment.unknown_status").into(),
            )
        }),
    }
}

/// The page's message for a refused step; anything else is an error page.
fn page_error(lang: Lang, e: impl Into<AppError>) -> Result<String, AppError> {
    let e = e.into();
    if matches!(
        e,
        AppError::Validation(_)
            | AppError::Workflow(_)
            | AppError::Conflict(_)
            | AppError::Transition(_)
    ) {
        Ok(describe(lang, &e).0)
    } else {
        Err(e)
    }
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    date: Option<String>,
    status: Option<String>,
}

fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz_berlin())
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let day = day_of(q.date.as_deref())?;
    let status = status_of(q.status.as_deref())?;
    let payments = state.app.payments_of_day(&actor, day).await?;
    let mut rows = Vec::new();
    let mut total = rathaus_domain::payments::Money::ZERO;
    for p in payments
        .iter()
        .filter(|p| status.is_none_or(|s| p.status() == s))
    {
        if p.status().money_received() {
            total = total.checked_add(p.amount()).unwrap_or(total);
        }
        rows.push(ListRow {
            href: format!("/staff/zahlungen/{}", p.id),
            reference: state.app.payment_reference(&actor, p).await?,
            row: row(ctx.lang, p),
            updated: local(p.updated_at),
        });
    }
    let page = staff_page(&ctx, &staff, ctx.t("payment.list_title")).await?;
    let date = day.format("%Y-%m-%d").to_string();
    Ok(no_store(
        ListPage {
            page,
            csv_href: format!("/staff/zahlungen/export.csv?date={date}"),
            total: i18n::tf(
                ctx.lang,
                "payment.total",
                &[("count", &rows.len().to_string()), ("sum", &total.german())],
            ),
            date,
            status: status.map(|s| s.code().to_string()).unwrap_or_default(),
            statuses: PaymentStatus::ALL
                .iter()
                .map(|s| {
                    (
                        s.code().to_string(),
                        ctx.t(&format!("payment.status_{}", s.code())).to_string(),
                    )
                })
                .collect(),
            rows,
        }
        .into_response(),
    ))
}

async fn csv_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let day = day_of(q.date.as_deref())?;
    let csv = state.app.reconciliation_csv(&actor, day).await?;
    Ok(super::csv_response(day, csv))
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<super::MsgQuery>,
) -> Result<Response, AppError> {
    detail_view(&state, &ctx, &staff, &id, q.msg.as_deref(), None).await
}

async fn detail_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let d = state.app.payment_detail(&actor, id_of(id)?).await?;
    let me = staff.user.id;
    let lang = ctx.lang;
    let p = &d.payment;
    let page = staff_page(ctx, staff, ctx.t("payment.detail_title")).await?;
    let refundable = p.status().money_received() && p.refunded_cents < p.amount_cents;
    Ok(no_store(
        (
            if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            },
            DetailPage {
                page,
                payment: row(lang, p),
                reference: d.reference.clone(),
                case_href: d.case_id.map(|c| format!("/staff/cases/{c}")),
                haushaltsstelle: p.haushaltsstelle.clone(),
                objektnummer: p.objektnummer.clone(),
                provider: p.provider.clone(),
                transaction: p.provider_txid.clone().unwrap_or_default(),
                events: d
                    .events
                    .iter()
                    .map(|e| EventRow {
                        at: local(e.at),
                        source: e.source.clone(),
                        event: e.event.clone(),
                        change: format!("{} → {}", e.status_from, e.status_to),
                        outcome: e.outcome.clone(),
                    })
                    .collect(),
                refunds: d
                    .refunds
                    .iter()
                    .map(|r| RefundRow {
                        id: r.id.to_string(),
                        amount: rathaus_domain::payments::Money::from_cents(r.amount_cents)
                            .map(|m| m.german())
                            .unwrap_or_default(),
                        reason: r.reason.clone(),
                        status: i18n::t(lang, &format!("payment.refund_{}", r.status)).to_string(),
                        requested: local(r.requested_at),
                        approvable: r.status == "pending" && r.requested_by != me,
                    })
                    .collect(),
                refundable,
                message: msg
                    .filter(|m| ["refunded", "refund_pending", "approved"].contains(m))
                    .map(|m| i18n::t(lang, &format!("payment.msg_{m}")).to_string()),
                error,
            },
        )
            .into_response(),
    ))
}

#[derive(serde::Deserialize)]
struct RefundForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

async fn refund_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<RefundForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let payment = id_of(&id)?;
    let amount = match rathaus_domain::payments::Money::parse_field("amount", &f.form.amount) {
        Ok(a) => a,
        Err(e) => {
            let text = page_error(ctx.lang, AppError::Validation(e.into()))?;
            return detail_view(&state, &ctx, &staff, &id, None, Some(text)).await;
        }
    };
    match state
        .app
        .request_refund(&actor, payment, amount, &f.form.reason)
        .await
    {
        Ok(r) => {
            let msg = if r.status == "pending" {
                "refund_pending"
            } else {
                "refunded"
            };
            Ok(Redirect::to(&format!("/staff/zahlungen/{payment}?msg={msg}")).into_response())
        }
        Err(e) => {
            let text = page_error(ctx.lang, e)?;
            detail_view(&state, &ctx, &staff, &id, None, Some(text)).await
        }
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn approve_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let refund = id_of(&id)?;
    match state.app.approve_refund(&actor, refund).await {
        Ok(r) => Ok(
            Redirect::to(&format!("/staff/zahlungen/{}?msg=approved", r.payment_id))
                .into_response(),
        ),
        Err(e) => {
            let text = page_error(ctx.lang, e)?;
            let payment = state.app.refund_payment(&actor, refund).await?;
            detail_view(&state, &ctx, &staff, &payment.to_string(), None, Some(text)).await
        }
    }
}

#[derive(serde::Deserialize)]
struct FeeRequestForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    purpose: String,
}

/// A fee request from the case page: back to the case with the outcome.
async fn fee_request_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<FeeRequestForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let case = id_of(&id)?;
    match state
        .app
        .request_fee(&actor, case, &f.form.amount, &f.form.purpose)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/staff/cases/{case}?msg=fee_requested")).into_response())
        }
        Err(e) => {
            // Refused input goes back to the case page, which names the
            // problem; anything else is an error page.
            page_error(ctx.lang, e)?;
            Ok(Redirect::to(&format!("/staff/cases/{case}?msg=fee_refused")).into_response())
        }
    }
}

async fn fees_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<super::MsgQuery>,
) -> Result<Response, AppError> {
    fees_view(&state, &ctx, &staff, q.msg.as_deref(), None).await
}

async fn fees_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let fees = state.app.service_fees(&actor).await?;
    let page = staff_page(ctx, staff, ctx.t("payment.fees_title")).await?;
    Ok(no_store(
        (
            if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            },
            FeesPage {
                page,
                rows: fees
                    .iter()
                    .map(|(f, slug)| FeeRow {
                        service_id: f.service_id.to_string(),
                        service: slug.clone(),
                        fee: f.fee.clone(),
                        collect: ctx
                            .t(&format!("payment.collect_{}", f.collection().code()))
                            .to_string(),
                        haushaltsstelle: f.haushaltsstelle.clone(),
                        objektnummer: f.objektnummer.clone(),
                    })
                    .collect(),
                message: msg
                    .filter(|m| *m == "saved")
                    .map(|_| ctx.t("payment.msg_fee_saved").to_string()),
                error,
            },
        )
            .into_response(),
    ))
}

#[derive(serde::Deserialize)]
struct FeeForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    fee: String,
    #[serde(default)]
    collect: String,
    #[serde(default)]
    haushaltsstelle: String,
    #[serde(default)]
    objektnummer: String,
}

async fn set_fee_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<FeeForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let spec: FeeSpec = match serde_json::from_str(&f.form.fee) {
        Ok(s) => s,
        Err(_) => {
            let text = page_error(
                ctx.lang,
                AppError::Validation(
                    rathaus_domain::FieldError::new("fee", "payment.fee_json").into(),
                ),
            )?;
            return fees_view(&state, &ctx, &staff, None, Some(text)).await;
        }
    };
    let collect = Collection::parse(f.form.collect.trim()).unwrap_or_default();
    match state
        .app
        .set_service_fee(
            &actor,
            &f.form.service,
            &spec,
            collect,
            &f.form.haushaltsstelle,
            &f.form.objektnummer,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/staff/zahlungen/gebuehren?msg=saved").into_response()),
        Err(e) => {
            let text = page_error(ctx.lang, e)?;
            fees_view(&state, &ctx, &staff, None, Some(text)).await
        }
    }
}
