//! The payer's side: "pay now" on the applicant's page (access link or
//! account) starts the payment at the provider and sends the browser there;
//! the provider sends it back to `/antrag/{reference}/zahlung/zurueck`, where
//! the payment is confirmed by asking the provider; the provider's
//! notification arrives at `POST /api/v1/payments/notify`. No JavaScript.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{Actor, UseCaseError};
use rathaus_domain::payments::PaymentStatus;
use tower_sessions::Session;
use uuid::Uuid;

use super::views::ReturnPage;
use crate::platform::{
    AppState,
    auth::{require_citizen, with_staff},
    context::Ctx,
    error::AppError,
    json::body_limit,
    layout::{Page, no_store},
    payment::row,
    routes::{Routes, get, post},
    security::CsrfForm,
};

/// The session key under which the page to return to is kept per reference.
const RETURN_KEY: &str = "payment_return";

pub fn routes() -> Routes {
    Routes::new("payments")
        .route("/antrag/eingang/{access}/zahlung/{id}", post(pay_link))
        .route(
            "/konto/antraege/{reference}/zahlung/{id}",
            post(pay_account),
        )
        .route("/antrag/{reference}/zahlung/zurueck", get(returned))
}

pub fn api_routes() -> Routes {
    Routes::new("payments").merge(
        Routes::new("payments")
            .route("/payments/notify", post(notify))
            .map(|r| r.layer(body_limit(rathaus_standards::pmpayment::MAX_FORM_BYTES))),
    )
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn pay_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((access, payment)): Path<(String, String)>,
    f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let actor = state.app.applicant(tenant, &access).await?;
    pay(
        &state,
        &f.session,
        actor,
        None,
        &payment,
        format!("/antrag/eingang/{access}"),
    )
    .await
}

async fn pay_account(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((reference, payment)): Path<(String, String)>,
    f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let actor = Actor::Citizen {
        tenant: ctx.tenant()?.tenant_id(),
        account: c.id,
    };
    pay(
        &state,
        &f.session,
        actor,
        Some(&reference),
        &payment,
        format!("/konto/antraege/{reference}"),
    )
    .await
}

/// Starts the payment and sends the browser to the provider; remembers in
/// the session which page to come back to.
async fn pay(
    state: &AppState,
    session: &Session,
    actor: Actor,
    reference: Option<&str>,
    payment: &str,
    back: String,
) -> Result<Response, AppError> {
    let payment = Uuid::parse_str(payment).map_err(|_| AppError::NotFound)?;
    match state.app.start_payment(&actor, reference, payment).await {
        Ok(started) => {
            remember_return(session, &started, &back).await?;
            Ok(no_store(Redirect::to(&started.url).into_response()))
        }
        Err(UseCaseError::Workflow("payment.not_open")) => Ok(no_store(
            Redirect::to(&format!("{back}?msg=payment_open")).into_response(),
        )),
        Err(UseCaseError::Workflow("payment.provider_unavailable")) => Ok(no_store(
            Redirect::to(&format!("{back}?msg=payment_unavailable")).into_response(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Keeps `back` in the session for the payment's application, so that the
/// return page (which names only the reference) can lead there.
async fn remember_return(
    session: &Session,
    started: &rathaus_app::payments::Started,
    back: &str,
) -> Result<(), AppError> {
    let mut map: std::collections::BTreeMap<String, String> = session
        .get(RETURN_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    // At most a few open payments per browser.
    while map.len() >= 8 {
        let first = map.keys().next().cloned().unwrap_or_default();
        map.remove(&first);
    }
    map.insert(started.payment.application_id.to_string(), back.to_string());
    session
        .insert(RETURN_KEY, map)
        .await
        .map_err(|e| AppError::internal(format!("session: {e}")))?;
    Ok(())
}

/// The payer is back from the provider. The payments of the application are
/// confirmed at the provider; the browser that started the payment goes back
/// to the application's page with the outcome, any other sees only the
/// payments' status (no personal data).
#[derive(serde::Deserialize, Default)]
struct ReturnQuery {
    txid: Option<String>,
}

async fn returned(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(reference): Path<String>,
    Query(q): Query<ReturnQuery>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    if reference.len() > 40 {
        return Err(AppError::NotFound);
    }
    let txid = q.txid.as_deref().filter(|t| t.len() <= 100);
    let payments = state.app.payment_returned(tenant, &reference, txid).await?;
    let last = payments.iter().max_by_key(|p| p.started_at);
    let map: std::collections::BTreeMap<String, String> = session
        .get(RETURN_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    if let Some(last) = last
        && let Some(back) = map.get(&last.application_id.to_string())
    {
        let msg = match last.status() {
            s if s.money_received() => "paid",
            PaymentStatus::Failed => "payment_failed",
            PaymentStatus::Cancelled | PaymentStatus::Expired => "payment_cancelled",
            _ => "payment_open",
        };
        return Ok(no_store(
            Redirect::to(&format!("{back}?msg={msg}")).into_response(),
        ));
    }
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("payment.return_title")),
    )
    .await?;
    Ok(no_store(
        ReturnPage {
            page,
            paid: last.is_some_and(|p| p.status().money_received()),
            payments: payments.iter().map(|p| row(ctx.lang, p)).collect(),
        }
        .into_response(),
    ))
}

/// The provider's notification (form-encoded, no hash in pmPayment): never
/// trusted alone — the payment moves only by what the provider's status
/// endpoint says. Answers 200 for anything it could read (an unknown
/// transaction included, so a prober learns nothing), 422 for a body that
/// is no notification.
async fn notify(State(state): State<AppState>, body: Bytes) -> Result<Response, AppError> {
    match state.app.payment_notification(&body).await {
        Ok(_) => Ok((StatusCode::OK, "OK").into_response()),
        Err(UseCaseError::Workflow("payment.provider_unavailable")) => {
            // The provider retries; the reconciliation job asks later.
            Ok((StatusCode::SERVICE_UNAVAILABLE, "provider unavailable").into_response())
        }
        Err(e) => Err(e.into()),
    }
}
