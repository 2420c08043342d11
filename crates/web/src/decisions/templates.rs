//! Fachadministration keeps the Bescheid templates per service and variant.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_domain::{
    decisions::{self, Variant},
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{catalog::CatalogRepository, forms::FormRepository};
use uuid::Uuid;

use super::views::{TemplateEditPage, TemplateListPage, TemplateListRow};
use crate::platform::{
    AppState,
    auth::{StaffUser, require_admin, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    routes::{Routes, get},
    security::CsrfForm,
    workflow::template_code,
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
    require_admin(&state, &staff).await?;
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let mut rows = Vec::new();
    for o in repo.overview(tenant).await? {
        let own = repo.service_templates(tenant, o.service.id).await?;
        let rules = repo.routing_rules(tenant, o.service.id).await?.len();
        rows.push(TemplateListRow {
            id: o.service.id.to_string(),
            title: o.latest.content().title.de,
            own: Variant::ALL
                .iter()
                .map(|v| own.iter().any(|t| t.variant == v.code()))
                .collect(),
            rules,
        });
    }
    let page = staff_page(&ctx, &staff, ctx.t("templates.title")).await?;
    Ok(TemplateListPage { page, rows }.into_response())
}

fn parse_scope(scope: &str) -> Result<Option<Uuid>, AppError> {
    match scope {
        "default" => Ok(None),
        s => Uuid::parse_str(s).map(Some).map_err(|_| AppError::NotFound),
    }
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    scope: Option<Uuid>,
    variant: Variant,
    draft: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let service_title = match scope {
        Some(s) => Some(latest(state, tenant, s).await?.0),
        None => None,
    };
    let current = repo.decision_template(tenant, scope, variant).await?;
    let (dt, db) = decisions::default_template(variant);
    let (t, b) = match (draft, &current) {
        (Some(d), _) => d,
        (None, Some(c)) => (c.title.clone(), c.body.clone()),
        (None, None) => (dt.to_string(), db.to_string()),
    };
    let fields = match scope {
        Some(s) => match repo.published_form_for_service(tenant, s).await? {
            Some((_, v)) => v
                .definition()
                .map(|d| rathaus_domain::forms::field_list(&d))
                .unwrap_or_default(),
            None => vec![],
        },
        None => vec![],
    };
    let mut page = staff_page(ctx, staff, ctx.t("templates.edit_title")).await?;
    page.title = format!(
        "{} – {}",
        ctx.t(&format!("templates.variant_{}", variant.code())),
        service_title
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
            service: service_title,
            title: t,
            body: b,
            placeholders: decisions::PLACEHOLDERS
                .iter()
                .map(|(n, d)| (format!("{{{{{n}}}}}"), d.to_string()))
                .collect(),
            fields: fields
                .into_iter()
                .take(300)
                .map(|(p, label)| (format!("{{{{feld.{p}}}}}"), label))
                .collect(),
            saved_by: current.map(|c| {
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
    require_admin(&state, &staff).await?;
    let scope = parse_scope(&scope)?;
    let variant = Variant::parse(&variant).ok_or(AppError::NotFound)?;
    edit_page(&state, &ctx, &staff, scope, variant, None, None).await
}

#[derive(serde::Deserialize)]
struct TemplateForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((scope, variant)): Path<(String, String)>,
    f: CsrfForm<TemplateForm>,
) -> Result<Response, AppError> {
    require_admin(&state, &staff).await?;
    let scope = parse_scope(&scope)?;
    let variant = Variant::parse(&variant).ok_or(AppError::NotFound)?;
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let form_def = match scope {
        Some(s) => repo
            .published_form_for_service(tenant, s)
            .await?
            .and_then(|(_, v)| v.definition()),
        None => None,
    };
    let title = f.form.title.trim().to_string();
    let body = f.form.body.replace("\r\n", "\n");
    let problem = if title.is_empty() {
        Some(i18n::field_error(ctx.lang, "template_title", "required"))
    } else if body.trim().is_empty() {
        Some(i18n::field_error(ctx.lang, "template_body", "required"))
    } else if title.chars().count() > 200 {
        Some(i18n::field_error(ctx.lang, "template_title", "too_long"))
    } else {
        decisions::check(&title, form_def.as_ref())
            .and_then(|_| decisions::check(&body, form_def.as_ref()))
            .err()
            .map(|e| {
                i18n::tf(
                    ctx.lang,
                    &format!("validation.{}", template_code(&e)),
                    &[
                        ("field", i18n::t(ctx.lang, "field.template_body")),
                        ("detail", &e.to_string()),
                    ],
                )
            })
    };
    if let Some(p) = problem {
        return edit_page(
            &state,
            &ctx,
            &staff,
            scope,
            variant,
            Some((title, body)),
            Some(p),
        )
        .await;
    }
    state
        .store
        .save_decision_template(tenant, scope, variant, &title, &body, &staff.user.email)
        .await?;
    Ok(Redirect::to("/staff/templates?msg=saved").into_response())
}

/// A service's title and responsible org unit (newest version).
pub(super) async fn latest(
    state: &AppState,
    tenant: TenantId,
    service: Uuid,
) -> Result<(String, Uuid), AppError> {
    let o = state
        .store
        .repo()
        .overview(tenant)
        .await?
        .into_iter()
        .find(|o| o.service.id == service)
        .ok_or(AppError::NotFound)?;
    Ok((o.latest.content().title.de, o.latest.org_unit_id))
}
