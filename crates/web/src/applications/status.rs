//! The applicant's pages of one application: status and receipt data, the
//! mailbox (answers with files, downloads), the confirmation of receipt as
//! PDF; reached through the access link (`/antrag/eingang/{access}`) or the
//! citizen account (`/konto/antraege/{reference}`).

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use rathaus_domain::{forms, tenancy::TenantId};
use rathaus_storage::prelude::*;
use rathaus_storage::{catalog::CatalogRepository, forms::FormRepository};
use tower_sessions::Session;
use uuid::Uuid;

use super::views::{AccessHelpPage, SubmittedPage};
use crate::platform::{
    AppState,
    auth::{require_citizen, with_staff},
    context::Ctx,
    error::AppError,
    form_render,
    i18n::{self, Lang},
    layout::{Page, no_store},
    routes::{Routes, get, post},
    security::csrf_token,
    thread::{chrono_tz_berlin, local_time, thread_rows},
    upload::{MAX_UPLOAD_BYTES, StepBody, safe_file_name, sniff},
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

async fn resolve(
    state: &AppState,
    tenant: TenantId,
    access: &Access,
) -> Result<rathaus_storage::applications::Application, AppError> {
    let repo = state.store.repo();
    match access {
        Access::Link(a) if a.len() <= 100 => repo
            .application_by_access_token(tenant, a)
            .await?
            .ok_or(AppError::NotFound),
        Access::Link(_) => Err(AppError::NotFound),
        Access::Account(c, reference) => repo
            .application_by_reference(tenant, reference)
            .await?
            .filter(|a| a.citizen_id == Some(c.id))
            .ok_or(AppError::NotFound),
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
    let tenant = ctx.tenant()?.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let base = access.base();
    let case = repo
        .case_of(tenant, app.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    use rathaus_storage::tenancy::OrgUnitRepository;
    let unit = repo.org_unit(tenant, case.org_unit_id).await?;
    let files = repo.application_files(tenant, app.id).await?;
    // Opening the page is the Bekanntgabe of the office's messages.
    repo.mark_read(tenant, app.id, true).await?;
    let messages = repo.messages(tenant, app.id).await?;
    let thread = thread_rows(&messages, &files, |f| format!("{base}/dateien/{}", f.id));
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
            org_unit: unit.map(|u| u.name).unwrap_or_default(),
            status: ctx
                .t(&format!("case_status.{}", case.status().code()))
                .to_string(),
            files: files
                .into_iter()
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
                Some("received") => Some(ctx.t("account.received").to_string()),
                _ => None,
            },
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
    let tenant = ctx.tenant()?.tenant_id();
    let app = resolve(state, tenant, &access).await?;
    let text = body
        .pairs
        .iter()
        .find(|(k, _)| k == "body")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let mut checked = Vec::new();
    for (_, name, content) in body.files {
        if content.len() > MAX_UPLOAD_BYTES {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("file", "file.too_large").into(),
            ));
        }
        let mime = sniff(&content).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new("file", "file.type").into())
        })?;
        checked.push((name, mime, content));
    }
    if text.is_empty() && checked.is_empty() {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("body", "required").into(),
        ));
    }
    let mut files = Vec::new();
    for (name, mime, content) in checked {
        use sha2::Digest;
        let id = Uuid::now_v7();
        let key = format!("uploads/{id}");
        let sha = hex::encode(sha2::Sha256::digest(&content));
        let size = content.len() as i64;
        state
            .files
            .put(tenant, &key, content)
            .await
            .map_err(AppError::internal)?;
        files.push(rathaus_storage::applications::NewFile {
            field_path: "antwort".into(),
            file_key: key,
            name: safe_file_name(&name, mime),
            mime: mime.to_string(),
            size,
            sha256: sha,
        });
    }
    match state
        .store
        .applicant_answer(tenant, app.id, text, files)
        .await
    {
        Ok(_) => Ok(no_store(
            Redirect::to(&format!("{}?msg=sent", access.base())).into_response(),
        )),
        Err(rathaus_storage::applications::CaseError::Transition(_)) => {
            Err(AppError::Conflict("status"))
        }
        Err(rathaus_storage::applications::CaseError::Storage(e)) => Err(e.into()),
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
    let tenant = ctx.tenant()?.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let file = Uuid::parse_str(file).map_err(|_| AppError::NotFound)?;
    let f = repo
        .application_files(tenant, app.id)
        .await?
        .into_iter()
        .find(|f| f.id == file)
        .ok_or(AppError::NotFound)?;
    if let Some(m) = f.message_id
        && repo.decision_message(tenant, app.id, m).await?.is_some()
    {
        state.store.open_decision(tenant, m).await?;
    }
    let bytes = state
        .files
        .get(tenant, &f.file_key)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
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

/// The confirmation of receipt as PDF/A, typeset from the stored application.
async fn receipt_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(access): Path<String>,
) -> Result<Response, AppError> {
    receipt_as(&state, &ctx, Access::Link(access)).await
}

async fn receipt_as(state: &AppState, ctx: &Ctx, access: Access) -> Result<Response, AppError> {
    let tenant_row = ctx.tenant()?.clone();
    let tenant = tenant_row.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let case = repo
        .case_of(tenant, app.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    use rathaus_storage::tenancy::OrgUnitRepository;
    let office = repo
        .org_unit(tenant, case.org_unit_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let fees = match app.service_id {
        Some(s) => repo
            .published(tenant, s)
            .await?
            .map(|p| p.content.costs)
            .unwrap_or_default(),
        None => String::new(),
    };
    let data = app.data();
    let mut sections = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let nodes = forms::layout(&def, i, &data, Utc::now().date_naive());
        let mut rows = Vec::new();
        form_render::review_rows(&def, &nodes, Lang::De, &mut rows);
        sections.push((s.title.de.clone(), rows));
    }
    let files = repo
        .application_files(tenant, app.id)
        .await?
        .into_iter()
        .filter(|f| f.message_id.is_none())
        .map(|f| f.name)
        .collect();
    let receipt = rathaus_documents::Receipt {
        municipality: tenant_row.name.clone(),
        office,
        reference: app.reference.clone(),
        form_title: def.title.de.clone(),
        submitted_at: format!("{} Uhr", local_time(app.submitted_at)),
        sections,
        files,
        fees,
        next_steps: i18n::t(Lang::De, "submitted.next").to_string(),
        date: app
            .submitted_at
            .with_timezone(&chrono_tz_berlin())
            .date_naive(),
    };
    let pdf = tokio::task::spawn_blocking(move || rathaus_documents::receipt_pdf(&receipt))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
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
