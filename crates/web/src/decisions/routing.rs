//! Fachadministration keeps the routing rules per service
//! (Zuständigkeitsprüfung). Part of `decisions`: both are the
//! Fachadministration's and share the service lookup.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_domain::routing;
use rathaus_storage::prelude::*;
use rathaus_storage::{forms::FormRepository, tenancy::OrgUnitRepository};
use uuid::Uuid;

use super::{
    templates::latest,
    views::{RoutingPage, RoutingRow},
};
use crate::platform::{
    AppState,
    auth::{StaffUser, require_admin, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    routes::{Routes, get},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("decisions").route(
        "/staff/routing/{service}",
        get(routing_form).post(save_routing),
    )
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
    require_admin(&state, &staff).await?;
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
    require_admin(&state, &staff).await?;
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
            error = Some(i18n::tf(
                ctx.lang,
                "routing.row_error",
                &[
                    ("n", &n),
                    ("message", &i18n::field_error(ctx.lang, "pattern", code)),
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
