//! Fachadministration keeps the Bescheid templates per service and variant.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::decisions::{TemplateInput, TemplateProblem, template_code};
use rathaus_domain::decisions::{self, Variant};
use uuid::Uuid;

use super::views::{TemplateEditPage, TemplateListPage, TemplateListRow};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    routes::{Routes, get},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("decisions")
        .route("/staff/templates", get(list))
        .route(
            "/staff/templates/{scope}/{variant}",
            get(edit_form).post(save),
        )
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let rows = state
        .app
        .decision_templates(&actor)
        .await?
        .into_iter()
        .map(|o| TemplateListRow {
            id: o.service.to_string(),
            title: o.title,
            own: o.own,
            rules: o.rules,
        })
        .collect();
    let page = staff_page(&ctx, &staff, ctx.t("templates.title")).await?;
    Ok(TemplateListPage { page, rows }.into_response())
}

fn parse_scope(scope: &str) -> Result<Option<Uuid>, AppError> {
    match scope {
        "default" => Ok(None),
        s => Uuid::parse_str(s).map(Some).map_err(|_| AppError::NotFound),
    }
}

fn parse_path(scope: &str, variant: &str) -> Result<(Option<Uuid>, Variant), AppError> {
    Ok((
        parse_scope(scope)?,
        Variant::parse(variant).ok_or(AppError::NotFound)?,
    ))
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    (scope, variant): (Option<Uuid>, Variant),
    draft: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let edit = state.app.decision_template(&actor, scope, variant).await?;
    let (t, b) = match (draft, &edit.saved) {
        (Some(d), _) => d,
        (None, Some(c)) => (c.title.clone(), c.body.clone()),
        (None, None) => (edit.builtin.0.to_string(), edit.builtin.1.to_string()),
    };
    let mut page = staff_page(ctx, staff, ctx.t("templates.edit_title")).await?;
    page.title = format!(
        "{} – {}",
        ctx.t(&format!("templates.variant_{}", variant.code())),
        edit.service_title
            .clone()
            .unwrap_or_else(|| ctx.t("templates.default").to_string())
    );
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        TemplateEditPage {
            page,
            action: format!(
                "/staff/templates/{}/{}",
                scope.map_or("default".to_string(), |s| s.to_string()),
                variant.code()
            ),
            service: edit.service_title,
            title: t,
            body: b,
            placeholders: decisions::PLACEHOLDERS
                .iter()
                .map(|(n, d)| (format!("{{{{{n}}}}}"), d.to_string()))
                .collect(),
            fields: edit
                .fields
                .into_iter()
                .take(300)
                .map(|(p, label)| (format!("{{{{feld.{p}}}}}"), label))
                .collect(),
            saved_by: edit.saved.map(|c| {
                format!(
                    "{} · {}",
                    c.updated_by,
                    c.updated_at.format("%d.%m.%Y %H:%M")
                )
            }),
            error,
        },
    )
        .into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((scope, variant)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let key = parse_path(&scope, &variant)?;
    edit_page(&state, &ctx, &staff, key, None, None).await
}

#[derive(serde::Deserialize)]
struct TemplateForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// The worded reason a draft was not saved.
fn problem_text(ctx: &Ctx, problem: &TemplateProblem) -> String {
    match problem {
        TemplateProblem::Field(e) => i18n::field_error(ctx.lang, &e.field, e.code),
        TemplateProblem::Placeholder(e) => i18n::tf(
            ctx.lang,
            &format!("validation.{}", template_code(e)),
            &[
                ("field", i18n::t(ctx.lang, "field.template_body")),
                ("detail", &e.to_string()),
            ],
        ),
    }
}

async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((scope, variant)): Path<(String, String)>,
    f: CsrfForm<TemplateForm>,
) -> Result<Response, AppError> {
    let key @ (service, variant) = parse_path(&scope, &variant)?;
    let actor = staff.actor(&state).await?;
    let input = TemplateInput {
        service,
        variant,
        title: f.form.title,
        body: f.form.body,
    };
    let draft = (
        input.title.trim().to_string(),
        input.body.replace("\r\n", "\n"),
    );
    match state.app.save_decision_template(&actor, input).await? {
        Ok(_) => Ok(Redirect::to("/staff/templates?msg=saved").into_response()),
        Err(p) => {
            let text = problem_text(&ctx, &p);
            edit_page(&state, &ctx, &staff, key, Some(draft), Some(text)).await
        }
    }
}
