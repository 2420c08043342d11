//! Bescheide: the clerk decides a case with a template-based Bescheid
//! (preview, then issue: PDF/A stored with the case and delivered into the
//! mailbox); Fachadministration keeps the templates per service and variant
//! and the routing rules per service (Zuständigkeitsprüfung).

use rathaus_storage::prelude::*;
use std::collections::HashMap;

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::Utc;
use rathaus_domain::{
    decisions::{self, Variant},
    identity::Role,
    routing,
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::{Application, Case, CaseError, NewDecision, NewFile},
    catalog::CatalogRepository,
    forms::FormRepository,
    identity::UserRepository,
    tenancy::OrgUnitRepository,
};
use uuid::Uuid;

use crate::{
    AppState,
    context::Ctx,
    error::AppError,
    security::CsrfForm,
    staff::StaffUser,
    staff_catalog::staff_page,
    views::{RoutingPage, RoutingRow, TemplateEditPage, TemplateListPage, TemplateListRow},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/cases/{id}/decide", post(decide))
        .route("/staff/templates", get(list))
        .route(
            "/staff/templates/{scope}/{variant}",
            get(edit_form).post(save),
        )
        .route(
            "/staff/routing/{service}",
            get(routing_form).post(save_routing),
        )
}

/// A rendered Bescheid: title and PDF/A bytes.
pub(crate) struct Rendered {
    pub title: String,
    pub pdf: Vec<u8>,
}

/// Fills the service's template (or the tenant's default, or the built-in
/// text) for this case and typesets it.
pub(crate) async fn render_decision(
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

fn template_code(e: &decisions::TemplateError) -> &'static str {
    match e {
        decisions::TemplateError::Unknown(_) => "template.unknown",
        decisions::TemplateError::Unclosed(_) => "template.unclosed",
        decisions::TemplateError::UnknownField(_) => "template.field",
    }
}

/// Renders, stores and records a decision (shared by the clerk UI and the API).
pub(crate) async fn issue_decision(
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
    let c = crate::staff_cases::load_case(&state, &staff, &id).await?;
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
            let msg = crate::staff_cases::refused_message(ctx.lang, &t);
            crate::staff_cases::render_detail(&state, &ctx, &staff, c, Some(msg)).await
        }
    }
}

/// Fachadministration (in any org unit) keeps templates and routing.
async fn admin(state: &AppState, staff: &StaffUser) -> Result<(), AppError> {
    let grants = state
        .store
        .repo()
        .grants(staff.tenant(), staff.user.id)
        .await?;
    if grants.iter().any(|g| g.role == Role::TenantAdmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    admin(&state, &staff).await?;
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
    admin(&state, &staff).await?;
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
    admin(&state, &staff).await?;
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
        Some(crate::i18n::field_error(
            ctx.lang,
            "template_title",
            "required",
        ))
    } else if body.trim().is_empty() {
        Some(crate::i18n::field_error(
            ctx.lang,
            "template_body",
            "required",
        ))
    } else if title.chars().count() > 200 {
        Some(crate::i18n::field_error(
            ctx.lang,
            "template_title",
            "too_long",
        ))
    } else {
        decisions::check(&title, form_def.as_ref())
            .and_then(|_| decisions::check(&body, form_def.as_ref()))
            .err()
            .map(|e| {
                crate::i18n::tf(
                    ctx.lang,
                    &format!("validation.{}", template_code(&e)),
                    &[
                        ("field", crate::i18n::t(ctx.lang, "field.template_body")),
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
async fn latest(
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

/// Empty rows offered for new rules on the routing page.
const NEW_RULE_ROWS: usize = 3;

async fn routing_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    service: Uuid,
    rows: Option<Vec<RoutingRow>>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let (title, default_unit_id) = latest(state, tenant, service).await?;
    let units = repo.org_units(tenant).await?;
    let mut rows = match rows {
        Some(r) => r,
        None => repo
            .routing_rules(tenant, service)
            .await?
            .into_iter()
            .map(|r| RoutingRow {
                field: r.field,
                pattern: r.pattern,
                org_unit: r.org_unit_id.to_string(),
            })
            .collect(),
    };
    for _ in 0..NEW_RULE_ROWS {
        rows.push(RoutingRow::default());
    }
    let fields = match repo.published_form_for_service(tenant, service).await? {
        Some((_, v)) => v
            .definition()
            .map(|d| rathaus_domain::forms::field_list(&d))
            .unwrap_or_default(),
        None => vec![],
    };
    let mut fields = fields;
    for r in &rows {
        if !r.field.is_empty() && !fields.iter().any(|(p, _)| *p == r.field) {
            fields.push((r.field.clone(), r.field.clone()));
        }
    }
    let mut page = staff_page(ctx, staff, ctx.t("routing.title")).await?;
    page.title = format!("{} – {}", ctx.t("routing.title"), title);
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        RoutingPage {
            page,
            action: format!("/staff/routing/{service}"),
            service: title,
            default_unit: units
                .iter()
                .find(|u| u.id == default_unit_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            rows,
            units: units
                .into_iter()
                .map(|u| (u.id.to_string(), u.name))
                .collect(),
            fields,
            error,
        },
    )
        .into_response())
}

async fn routing_form(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(service): Path<String>,
) -> Result<Response, AppError> {
    admin(&state, &staff).await?;
    let service = Uuid::parse_str(&service).map_err(|_| AppError::NotFound)?;
    routing_page(&state, &ctx, &staff, service, None, None).await
}

async fn save_routing(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(service): Path<String>,
    f: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    admin(&state, &staff).await?;
    let service = Uuid::parse_str(&service).map_err(|_| AppError::NotFound)?;
    let tenant = staff.tenant();
    let repo = state.store.repo();
    latest(&state, tenant, service).await?;
    let units: Vec<Uuid> = repo
        .org_units(tenant)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    // Rows arrive as field/pattern/org_unit triples in order.
    let mut rows: Vec<RoutingRow> = Vec::new();
    for (k, v) in &f.form {
        match k.as_str() {
            "field" => rows.push(RoutingRow {
                field: v.trim().to_string(),
                ..Default::default()
            }),
            "pattern" => {
                if let Some(r) = rows.last_mut() {
                    r.pattern = v.trim().to_string();
                }
            }
            "org_unit" => {
                if let Some(r) = rows.last_mut() {
                    r.org_unit = v.trim().to_string();
                }
            }
            _ => {}
        }
    }
    rows.retain(|r| !(r.field.is_empty() && r.pattern.is_empty()));
    let mut rules = Vec::new();
    let mut error = None;
    for (i, r) in rows.iter().enumerate() {
        let n = (i + 1).to_string();
        let unit = Uuid::parse_str(&r.org_unit)
            .ok()
            .filter(|u| units.contains(u));
        let problem = if r.field.is_empty() || r.field.len() > 200 {
            Some("routing.field")
        } else if let Err(e) = routing::check_pattern(&r.pattern) {
            Some(e.code)
        } else if unit.is_none() {
            Some("org_unit.unknown")
        } else {
            None
        };
        if let Some(code) = problem {
            error = Some(crate::i18n::tf(
                ctx.lang,
                "routing.row_error",
                &[
                    ("n", &n),
                    (
                        "message",
                        &crate::i18n::field_error(ctx.lang, "pattern", code),
                    ),
                ],
            ));
            break;
        }
        rules.push((r.field.clone(), r.pattern.clone(), unit.expect("checked")));
    }
    if error.is_some() {
        return routing_page(&state, &ctx, &staff, service, Some(rows), error).await;
    }
    state
        .store
        .replace_routing_rules(tenant, service, &rules)
        .await?;
    Ok(Redirect::to(&format!("/staff/routing/{service}?msg=saved")).into_response())
}
