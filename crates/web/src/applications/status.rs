//! The applicant's pages of one application: status and receipt data, the
//! mailbox (answers with files, downloads), the confirmation of receipt as
//! PDF; reached through the access link (`/antrag/eingang/{access}`) or the
//! citizen account (`/konto/antraege/{reference}`).

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Actor, UseCaseError,
    applications::{Answer, Upload},
};
use tower_sessions::Session;
use uuid::Uuid;

use super::views::{AccessHelpPage, SubmittedPage};
use crate::platform::{
    AppState,
    auth::{require_citizen, with_staff},
    context::Ctx,
    error::AppError,
    i18n::Lang,
    layout::{Page, no_store},
    routes::{Routes, get, post},
    security::csrf_token,
    thread::{chrono_tz_berlin, thread_rows},
    upload::StepBody,
};

pub fn routes() -> Routes {
    Routes::new("applications")
        .route("/antrag/eingang/{access}", get(received))
        .route("/antrag/eingang/{access}/antwort", post(answer))
        .route(
            "/antrag/eingang/{access}/eingangsbestaetigung.pdf",
            get(receipt_pdf),
        )
        .route(
            "/antrag/eingang/{access}/dateien/{file}",
            get(applicant_file),
        )
        .route("/antrag/zugang", get(access_help))
        .route("/konto/antraege/{reference}", get(account_application))
        .route("/konto/antraege/{reference}/antwort", post(account_answer))
        .route(
            "/konto/antraege/{reference}/eingangsbestaetigung.pdf",
            get(account_receipt),
        )
        .route(
            "/konto/antraege/{reference}/dateien/{file}",
            get(account_file),
        )
}

/// The confirmation of receipt (Eingangsbestätigung) behind the applicant's access link.
#[derive(serde::Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

/// How an applicant reaches an application: the access link, or the
/// account it was submitted from (`reference`).
enum Access {
    Link(String),
    Account(rathaus_storage::accounts::Citizen, String),
}

impl Access {
    fn base(&self) -> String {
        match self {
            Access::Link(a) => format!("/antrag/eingang/{a}"),
            Access::Account(_, r) => format!("/konto/antraege/{r}"),
        }
    }
}

impl Access {
    /// Who asks, and the reference the way of access names.
    async fn actor(&self, state: &AppState, ctx: &Ctx) -> Result<(Actor, Option<&str>), AppError> {
        let tenant = ctx.tenant()?.tenant_id();
        Ok(match self {
            Access::Link(a) => (state.app.applicant(tenant, a).await?, None),
            Access::Account(c, reference) => (
                Actor::Citizen {
                    tenant,
                    account: c.id,
                },
                Some(reference.as_str()),
            ),
        })
    }
}

async fn received(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(access): Path<String>,
    axum::extract::Query(q): axum::extract::Query<MsgQuery>,
) -> Result<Response, AppError> {
    show_application(&state, &ctx, &session, Access::Link(access), q.msg).await
}

/// The applicant's page of one application: receipt data, status, mailbox.
async fn show_application(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    access: Access,
    msg: Option<String>,
) -> Result<Response, AppError> {
    let (actor, reference) = access.actor(state, ctx).await?;
    // Opening the page is the Bekanntgabe of the office's messages.
    let found = state.app.read_application(&actor, reference, true).await?;
    let (app, case, def) = (&found.application, &found.case, &found.definition);
    let base = access.base();
    let (messages, files) = (&found.messages, &found.files);
    let thread = thread_rows(messages, files, |f| format!("{base}/dateien/{}", f.id));
    let english = ctx.lang == Lang::En;
    let mut page = with_staff(
        state,
        ctx,
        session,
        Page::new(ctx, ctx.t("submitted.title")),
    )
    .await?;
    page.csrf = Some(csrf_token(session).await?);
    let public = state.config.public_url.trim_end_matches('/');
    let payments = state.app.applicant_payments(&actor, reference).await?;
    let awaiting_payment = case.status() == rathaus_domain::cases::CaseStatus::AwaitingPayment;
    Ok(no_store(
        SubmittedPage {
            page,
            reference: app.reference.clone(),
            form_title: def.title.get(english).to_string(),
            submitted_at: app
                .submitted_at
                .with_timezone(&chrono_tz_berlin())
                .format("%d.%m.%Y, %H:%M Uhr")
                .to_string(),
            org_unit: found.org_unit.clone().unwrap_or_default(),
            status: ctx
                .t(&format!("case_status.{}", case.status().code()))
                .to_string(),
            files: files
                .iter()
                .filter(|f| f.message_id.is_none())
                .map(|f| format!("{} ({} KB)", f.name, (f.size + 1023) / 1024))
                .collect(),
            link: match &access {
                Access::Link(a) => Some(format!("{public}/antrag/eingang/{a}")),
                Access::Account(..) => None,
            },
            base,
            thread,
            open: case.status().is_open(),
            notice: match msg.as_deref() {
                Some("sent") => Some(ctx.t("mailbox.sent").to_string()),
                Some("received") if awaiting_payment => None,
                Some("received") => Some(ctx.t("account.received").to_string()),
                Some("paid") => Some(ctx.t("payment.msg_paid").to_string()),
                _ => None,
            },
            problem: match msg.as_deref() {
                Some("payment_failed") => Some(ctx.t("payment.msg_failed").to_string()),
                Some("payment_cancelled") => Some(ctx.t("payment.msg_cancelled").to_string()),
                Some("payment_open") => Some(ctx.t("payment.msg_open").to_string()),
                Some("payment_unavailable") => Some(ctx.t("payment.msg_unavailable").to_string()),
                _ => None,
            },
            awaiting_payment,
            payments: payments
                .iter()
                .map(|p| {
                    let mut row = crate::platform::payment::row(ctx.lang, p);
                    // The fee before sending is paid only while the
                    // application waits for it.
                    row.open &= awaiting_payment || row.purpose_code != "application";
                    row
                })
                .collect(),
        }
        .into_response(),
    ))
}

/// The applicant answers with text and files (multipart, CSRF-checked).
async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(access): Path<String>,
    body: StepBody,
) -> Result<Response, AppError> {
    answer_as(&state, &ctx, Access::Link(access), body).await
}

/// The applicant's answer, through either way of access.
async fn answer_as(
    state: &AppState,
    ctx: &Ctx,
    access: Access,
    body: StepBody,
) -> Result<Response, AppError> {
    let (actor, reference) = access.actor(state, ctx).await?;
    if !body.files.is_empty() && !state.limiter.check_upload(body.client) {
        return Err(AppError::RateLimited);
    }
    let answer = Answer {
        body: body
            .pairs
            .into_iter()
            .find(|(k, _)| k == "body")
            .map(|(_, v)| v)
            .unwrap_or_default(),
        files: body
            .files
            .into_iter()
            .map(|(_, name, content)| Upload { name, content })
            .collect(),
    };
    match state
        .app
        .answer_application(&actor, reference, answer)
        .await
    {
        Ok(_) => Ok(no_store(
            Redirect::to(&format!("{}?msg=sent", access.base())).into_response(),
        )),
        Err(UseCaseError::Transition(_)) => Err(AppError::Conflict("status")),
        Err(e) => Err(e.into()),
    }
}

/// A file of the application or its answers, for the applicant.
async fn applicant_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((access, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    file_as(&state, &ctx, Access::Link(access), &file).await
}

/// A file for the applicant. Opening a Bescheid is its Bekanntgabe: the
/// first download records the time, which the clerk sees.
async fn file_as(
    state: &AppState,
    ctx: &Ctx,
    access: Access,
    file: &str,
) -> Result<Response, AppError> {
    let (actor, reference) = access.actor(state, ctx).await?;
    let file = Uuid::parse_str(file).map_err(|_| AppError::NotFound)?;
    let (f, bytes) = state.app.applicant_file(&actor, reference, file).await?;
    Ok(no_store(
        (
            [
                (header::CONTENT_TYPE, f.mime.clone()),
                (header::CONTENT_DISPOSITION, "attachment".to_string()),
            ],
            bytes,
        )
            .into_response(),
    ))
}

/// The confirmation of receipt as PDF/A: the document stored with the
/// application (typeset once), never typeset again per download.
async fn receipt_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(access): Path<String>,
) -> Result<Response, AppError> {
    receipt_as(&state, &ctx, Access::Link(access)).await
}

async fn receipt_as(state: &AppState, ctx: &Ctx, access: Access) -> Result<Response, AppError> {
    let (actor, reference) = access.actor(state, ctx).await?;
    let (app, pdf) = state.app.receipt_pdf(&actor, reference).await?;
    Ok(no_store(
        (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename=\"Eingangsbestaetigung-{}.pdf\"",
                        app.reference
                    ),
                ),
            ],
            pdf,
        )
            .into_response(),
    ))
}

/// Where emails without an access link point: how to open an application.
async fn access_help(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    ctx.tenant()?;
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("access_help.title")),
    )
    .await?;
    let reference = q
        .get("az")
        .map(|r| r.trim().to_string())
        .filter(|r| r.len() <= 30 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    Ok(AccessHelpPage { page, reference }.into_response())
}

async fn account_application(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(reference): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    show_application(
        &state,
        &ctx,
        &session,
        Access::Account(c, reference),
        q.get("msg").cloned(),
    )
    .await
}

async fn account_answer(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(reference): Path<String>,
    body: StepBody,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    answer_as(&state, &ctx, Access::Account(c, reference), body).await
}

async fn account_receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(reference): Path<String>,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    receipt_as(&state, &ctx, Access::Account(c, reference)).await
}

async fn account_file(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((reference, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    file_as(&state, &ctx, Access::Account(c, reference), &file).await
}
