//! Editorial work on the catalog (Redaktion): create and edit services,
//! submit for review, approve as a second person, reject, archive, compare
//! versions, maintain search synonyms.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::UseCaseError;
use rathaus_domain::catalog::{
    Audience, I18nText, OzgMapping, PrivacyNotice, ServiceContent, diff,
};
use rathaus_storage::catalog::Services;
use uuid::Uuid;

use super::views::{
    CatalogDetailPage, CatalogDiffPage, CatalogFormPage, CatalogListPage, SynonymsPage,
};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
    context::{Ctx, describe},
    editorial::{
        APPROVE, Empty, REJECT, SUBMIT, WorkflowView, page_archive, page_change, page_step,
        pending_view,
    },
    error::AppError,
    routes::{Routes, get, post},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("catalog")
        .route("/staff/catalog", get(list))
        .route("/staff/catalog/new", get(new_form).post(create))
        .route("/staff/catalog/{id}", get(detail))
        .route("/staff/catalog/{id}/edit", get(edit_form).post(save))
        .route(
            "/staff/catalog/{id}/submit",
            post(page_step::<Services, SUBMIT>),
        )
        .route(
            "/staff/catalog/{id}/approve",
            post(page_step::<Services, APPROVE>),
        )
        .route(
            "/staff/catalog/{id}/reject",
            post(page_step::<Services, REJECT>),
        )
        .route(
            "/staff/catalog/{id}/archive",
            post(page_archive::<Services>),
        )
        .route(
            "/staff/catalog/{id}/change/approve",
            post(page_change::<Services, true>),
        )
        .route(
            "/staff/catalog/{id}/change/reject",
            post(page_change::<Services, false>),
        )
        .route("/staff/catalog/{id}/diff", get(diff_page))
        .route("/staff/synonyms", get(synonyms).post(add_synonym))
        .route("/staff/synonyms/{id}/delete", post(delete_synonym))
}

fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let rows = state
        .app
        .catalog_overview(&staff.actor(&state).await?)
        .await?;
    let page = staff_page(&ctx, &staff, ctx.t("editor.title")).await?;
    Ok(CatalogListPage { page, rows }.into_response())
}

/// The edit form's fields (checkboxes are absent when not ticked).
#[derive(serde::Deserialize, Default)]
pub struct ServiceForm {
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub leika_key: String,
    pub audience_citizen: Option<String>,
    pub audience_business: Option<String>,
    #[serde(default)]
    pub org_unit: String,
    #[serde(default)]
    pub topics: String,
    #[serde(default)]
    pub life_situations: String,
    #[serde(default)]
    pub ozg_service: String,
    #[serde(default)]
    pub ozg_field: String,
    pub online_form: Option<String>,
    #[serde(default)]
    pub title_de: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub summary_de: String,
    #[serde(default)]
    pub summary_en: String,
    #[serde(default)]
    pub full_text: String,
    #[serde(default)]
    pub required_documents: String,
    #[serde(default)]
    pub prerequisites: String,
    #[serde(default)]
    pub costs: String,
    #[serde(default)]
    pub deadlines: String,
    #[serde(default)]
    pub processing_time: String,
    #[serde(default)]
    pub processing_days: String,
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub privacy_personal_data: String,
    #[serde(default)]
    pub privacy_purpose: String,
    #[serde(default)]
    pub privacy_legal_basis: String,
    #[serde(default)]
    pub privacy_retention: String,
    #[serde(default)]
    pub privacy_contact: String,
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

impl ServiceForm {
    pub fn into_content(self) -> ServiceContent {
        let mut audience = Vec::new();
        if self.audience_citizen.is_some() {
            audience.push(Audience::Citizen);
        }
        if self.audience_business.is_some() {
            audience.push(Audience::Business);
        }
        ServiceContent {
            slug: self.slug,
            leika_key: self.leika_key,
            audience,
            org_unit: self.org_unit,
            topics: split_list(&self.topics),
            life_situations: split_list(&self.life_situations),
            ozg: OzgMapping {
                service: self.ozg_service,
                field: self.ozg_field,
            },
            online_form: self.online_form.is_some(),
            title: I18nText {
                de: self.title_de,
                en: self.title_en,
            },
            summary: I18nText {
                de: self.summary_de,
                en: self.summary_en,
            },
            full_text: self.full_text,
            required_documents: self.required_documents,
            prerequisites: self.prerequisites,
            costs: self.costs,
            deadlines: self.deadlines,
            processing_time: self.processing_time,
            processing_days: self
                .processing_days
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=3650).contains(d)),
            procedure: self.procedure,
            legal_basis: self.legal_basis,
            notes: self.notes,
            privacy: PrivacyNotice {
                personal_data: self.privacy_personal_data,
                purpose: self.privacy_purpose,
                legal_basis: self.privacy_legal_basis,
                retention: self.privacy_retention,
                contact: self.privacy_contact,
            },
        }
    }
}

async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    service_id: Option<Uuid>,
    content: ServiceContent,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let units = state.app.service_units(&staff.actor(state).await?).await?;
    let title = if service_id.is_some() {
        ctx.t("editor.edit_title")
    } else {
        ctx.t("editor.new_title")
    };
    let page = staff_page(ctx, staff, title).await?;
    let (summary, field_errors) = match error {
        Some(e) => {
            let (m, f) = describe(ctx.lang, e);
            (Some(m), f)
        }
        None => (None, vec![]),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        CatalogFormPage {
            page,
            action: match service_id {
                Some(id) => format!("/staff/catalog/{id}/edit"),
                None => "/staff/catalog/new".into(),
            },
            slug_fixed: service_id.is_some(),
            units,
            content,
            error_summary: summary,
            field_errors,
        },
    )
        .into_response())
}

async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let content = ServiceContent {
        audience: vec![Audience::Citizen],
        ..Default::default()
    };
    render_form(&state, &ctx, &staff, None, content, None).await
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    form: CsrfForm<ServiceForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let content = form.form.into_content();
    match state.app.create_service(&actor, content.clone()).await {
        Ok((s, _)) => {
            Ok(Redirect::to(&format!("/staff/catalog/{}?msg=saved", s.id)).into_response())
        }
        Err(e @ (UseCaseError::Validation(_) | UseCaseError::Conflict(_))) => {
            render_form(&state, &ctx, &staff, None, content, Some(&e.into())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let workflow = state.app.version_history::<Services>(&actor, id).await?;
    let content = workflow.latest().content();
    render_form(&state, &ctx, &staff, Some(id), content, None).await
}

async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    form: CsrfForm<ServiceForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let content = form.form.into_content();
    match state.app.save_service(&actor, id, content.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/catalog/{id}?msg=saved")).into_response()),
        Err(
            e @ (UseCaseError::Validation(_)
            | UseCaseError::Conflict(_)
            | UseCaseError::Workflow(_)),
        ) => render_form(&state, &ctx, &staff, Some(id), content, Some(&e.into())).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct DetailQuery {
    msg: Option<String>,
}

pub(super) async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let workflow = state.app.version_history::<Services>(&actor, id).await?;
    let service = state.app.service_for_editing(&actor, id).await?;
    let content = workflow.latest().content();
    let page = staff_page(ctx, staff, &content.title.de).await?;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let public = service.published_version_id.is_some() && service.archived_at.is_none();
    let mut view = WorkflowView::of(format!("/staff/catalog/{id}"), &workflow);
    view.pending = pending_view::<Services>(state, &actor, id).await?;
    view.can_archive = public && view.pending.is_none();
    view.compare = true;
    Ok((
        status,
        CatalogDetailPage {
            page,
            public,
            service,
            latest_status: workflow.latest_status.code(),
            can_edit: workflow.can_edit,
            workflow: view,
            title: content.title.de,
            notice,
            error,
        },
    )
        .into_response())
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let notice = q.msg.and_then(|m| match m.as_str() {
        "saved" | "submitted" | "approved" | "rejected" | "archived" | "change_requested"
        | "change_approved" | "change_rejected" => {
            Some(ctx.t(&format!("editor.msg.{m}")).to_string())
        }
        _ => None,
    });
    render_detail(&state, &ctx, &staff, parse_id(&id)?, notice, None).await
}

#[derive(serde::Deserialize)]
struct DiffQuery {
    from: Option<i32>,
    to: Option<i32>,
}

async fn diff_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let versions = state
        .app
        .version_history::<Services>(&actor, id)
        .await?
        .versions;
    let newest = versions.first().ok_or(AppError::NotFound)?.number;
    let to = q.to.unwrap_or(newest);
    let from = q.from.unwrap_or(to - 1);
    let find = |n: i32| versions.iter().find(|v| v.number == n);
    let (Some(a), Some(b)) = (find(from), find(to)) else {
        return Err(AppError::NotFound);
    };
    let changes = diff(&a.content(), &b.content());
    let page = staff_page(
        &ctx,
        &staff,
        &format!("{} {from} → {to}", ctx.t("editor.diff_title")),
    )
    .await?;
    Ok(CatalogDiffPage {
        page,
        service_id: id,
        title: b.content().title.de,
        from,
        to,
        numbers: versions.iter().map(|v| v.number).collect(),
        changes,
    }
    .into_response())
}

async fn render_synonyms(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let rows = state.app.synonyms(&staff.actor(state).await?).await?;
    let page = staff_page(ctx, staff, ctx.t("editor.synonyms_title")).await?;
    let (msg, fields) = match error {
        Some(e) => {
            let (m, f) = describe(ctx.lang, e);
            (Some(m), f)
        }
        None => (None, vec![]),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        SynonymsPage {
            page,
            rows,
            error: msg,
            field_errors: fields,
        },
    )
        .into_response())
}

async fn synonyms(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    render_synonyms(&state, &ctx, &staff, None).await
}

#[derive(serde::Deserialize)]
struct SynonymForm {
    #[serde(default)]
    term: String,
    #[serde(default)]
    expansion: String,
}

async fn add_synonym(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<SynonymForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    match state
        .app
        .add_synonym(&actor, &f.form.term, &f.form.expansion)
        .await
    {
        Ok(_) => Ok(Redirect::to("/staff/synonyms").into_response()),
        Err(e @ (UseCaseError::Validation(_) | UseCaseError::Conflict(_))) => {
            render_synonyms(&state, &ctx, &staff, Some(&e.into())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_synonym(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    state.app.delete_synonym(&actor, parse_id(&id)?).await?;
    Ok(Redirect::to("/staff/synonyms").into_response())
}
