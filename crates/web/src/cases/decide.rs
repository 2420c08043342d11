//! The clerk decides a case with a template-based Bescheid (preview, then
//! issue: PDF/A stored with the case and delivered into the mailbox), in the
//! browser and through the API (`POST /cases/{id}/decide {"variant",
//! "reason"}`). Part of `cases`: a refused decision shows the case page again.

use rathaus_storage::prelude::*;
use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use rathaus_domain::{
    decisions::{self, Variant},
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::{Application, Case, CaseError, NewDecision, NewFile},
    catalog::CatalogRepository,
    forms::FormRepository,
    tenancy::OrgUnitRepository,
};
use serde_json::json;
use uuid::Uuid;

use super::staff::{load_case, render_detail};
use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser, clerk_case},
    auth::StaffUser,
    context::Ctx,
    error::AppError,
    routes::{Routes, post},
    security::CsrfForm,
    workflow::{refused, refused_message, template_code},
};

pub fn routes() -> Routes {
    Routes::new("cases").route("/staff/cases/{id}/decide", post(decide))
}

pub fn api_routes() -> Routes {
    Routes::new("cases").route("/cases/{id}/decide", post(api_decide))
}

/// A rendered Bescheid: title and PDF/A bytes.
struct Rendered {
    pub title: String,
    pub pdf: Vec<u8>,
}

/// Fills the service's template (or the tenant's default, or the built-in
/// text) for this case and typesets it.
async fn render_decision(
    state: &AppState,
    (tenant, tenant_name): (TenantId, &str),
    case: &Case,
    app: &Application,
    variant: Variant,
    reason: &str,
    clerk: &str,
) -> Result<Rendered, AppError> {
    let repo = state.store.repo();
    let (title_t, body_t) = match repo
        .decision_template(tenant, app.service_id, variant)
        .await?
    {
        Some(t) => (t.title, t.body),
        None => {
            let (t, b) = decisions::default_template(variant);
            (t.to_string(), b.to_string())
        }
    };
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    let data = app.data();
    let office = repo
        .org_unit(tenant, case.org_unit_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let service = match app.service_id {
        Some(s) => repo
            .published(tenant, s)
            .await?
            .map(|p| p.content.title.de)
            .unwrap_or_else(|| def.title.de.clone()),
        None => def.title.de.clone(),
    };
    let (name, address) = decisions::applicant_from_form(&def, &data);
    let today = Utc::now().date_naive();
    let named = HashMap::from([
        ("aktenzeichen", app.reference.clone()),
        ("datum", today.format("%d.%m.%Y").to_string()),
        ("eingang", app.submitted_at.format("%d.%m.%Y").to_string()),
        ("leistung", service),
        ("behoerde", tenant_name.to_string()),
        ("stelle", office.clone()),
        ("name", name.clone()),
        ("anschrift", address.clone()),
        ("begruendung", reason.trim().to_string()),
        ("sachbearbeitung", clerk.to_string()),
    ]);
    let ctx = decisions::Context {
        named,
        data: &data,
        form: Some(&def),
    };
    let template_error = |e: decisions::TemplateError| {
        AppError::Validation(rathaus_domain::FieldError::new("template", template_code(&e)).into())
    };
    let title = decisions::render(&title_t, &ctx).map_err(template_error)?;
    let body = decisions::render(&body_t, &ctx).map_err(template_error)?;
    let doc = rathaus_documents::Decision {
        municipality: tenant_name.to_string(),
        office,
        reference: app.reference.clone(),
        title: title.clone(),
        recipient: [name, address]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        body,
        clerk: clerk.to_string(),
        date: today,
    };
    let pdf = tokio::task::spawn_blocking(move || rathaus_documents::decision_pdf(&doc))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(Rendered { title, pdf })
}

/// Renders, stores and records a decision (shared by the clerk UI and the API).
async fn issue_decision(
    state: &AppState,
    tenant_name: &str,
    tenant: TenantId,
    case: &Case,
    variant: Variant,
    reason: &str,
    clerk: (Uuid, &str, &str),
) -> Result<Result<(), rathaus_domain::cases::TransitionError>, AppError> {
    use sha2::Digest;
    let repo = state.store.repo();
    let app = repo
        .application(tenant, case.application_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(t) =
        rathaus_domain::cases::transition(case.status(), rathaus_domain::cases::CaseAction::Decide)
    {
        return Ok(Err(t));
    }
    let r = render_decision(
        state,
        (tenant, tenant_name),
        case,
        &app,
        variant,
        reason,
        clerk.2,
    )
    .await?;
    let key = format!("decisions/{}.pdf", Uuid::now_v7());
    let sha = hex::encode(sha2::Sha256::digest(&r.pdf));
    let size = r.pdf.len() as i64;
    state
        .files
        .put(tenant, &key, r.pdf.into())
        .await
        .map_err(AppError::internal)?;
    let decision = NewDecision {
        variant,
        title: r.title,
        file: NewFile {
            field_path: "bescheid".into(),
            file_key: key,
            name: format!("Bescheid-{}.pdf", app.reference),
            mime: "application/pdf".into(),
            size,
            sha256: sha,
        },
    };
    match state
        .store
        .decide(tenant, case.id, (clerk.0, clerk.1), decision)
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(CaseError::Transition(t)) => Ok(Err(t)),
        Err(CaseError::Storage(e)) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct DecideForm {
    #[serde(default)]
    variant: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    preview: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<DecideForm>,
) -> Result<Response, AppError> {
    let tenant_row = ctx.tenant()?.clone();
    let c = load_case(&state, &staff, &id).await?;
    let variant = Variant::parse(&f.form.variant).ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("variant", "option.unknown").into())
    })?;
    if f.form.reason.chars().count() > 20_000 {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("reason", "too_long").into(),
        ));
    }
    let clerk = staff.user.display_name.clone();
    if f.form.preview.is_some() {
        let app = state
            .store
            .repo()
            .application(staff.tenant(), c.application_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let r = render_decision(
            &state,
            (staff.tenant(), &tenant_row.name),
            &c,
            &app,
            variant,
            &f.form.reason,
            &clerk,
        )
        .await?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"Bescheid-Vorschau.pdf\"".to_string(),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            r.pdf,
        )
            .into_response());
    }
    let actor = format!("user:{}", staff.user.id);
    match issue_decision(
        &state,
        &tenant_row.name,
        staff.tenant(),
        &c,
        variant,
        &f.form.reason,
        (staff.user.id, &actor, &clerk),
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to(&format!("/staff/cases/{}?msg=decided", c.id)).into_response()),
        Err(t) => {
            let msg = refused_message(ctx.lang, &t);
            render_detail(&state, &ctx, &staff, c, Some(msg)).await
        }
    }
}

#[derive(serde::Deserialize)]
struct DecideBody {
    /// `approval` or `rejection`.
    variant: String,
    #[serde(default)]
    reason: String,
}

/// Decides with a Bescheid from the service's template (PDF/A into the mailbox).
async fn api_decide(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Response, AppError> {
    let tenant_name = ctx.tenant()?.name.clone();
    let case = clerk_case(&state, &caller, &id).await?;
    let variant = rathaus_domain::decisions::Variant::parse(&body.variant).ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("variant", "option.unknown").into())
    })?;
    if body.reason.chars().count() > 20_000 {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("reason", "too_long").into(),
        ));
    }
    let actor = format!("user:{}", caller.user.id);
    match issue_decision(
        &state,
        &tenant_name,
        caller.tenant(),
        &case,
        variant,
        &body.reason,
        (caller.user.id, &actor, &caller.user.display_name),
    )
    .await?
    {
        Ok(()) => {
            let c = state
                .store
                .repo()
                .case(caller.tenant(), case.id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Json(json!({ "id": c.id, "status": c.status().code() })).into_response())
        }
        Err(t) => Ok(refused(&ctx, &t)),
    }
}
