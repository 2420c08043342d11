//! Fachadministration keeps the routing rules per service
//! (Zuständigkeitsprüfung). Part of `decisions`: both are the
//! Fachadministration's.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::routing::RuleInput;
use uuid::Uuid;

use super::views::{RoutingPage, RoutingRow};
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
    let actor = staff.actor(state).await?;
    let routing = state.app.service_routing(&actor, service).await?;
    let mut rows = match rows {
        Some(r) => r,
        None => routing
            .rules
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
    let mut fields = routing.fields;
    for r in &rows {
        if !r.field.is_empty() && !fields.iter().any(|(p, _)| *p == r.field) {
            fields.push((r.field.clone(), r.field.clone()));
        }
    }
    let mut page = staff_page(ctx, staff, ctx.t("routing.title")).await?;
    page.title = format!("{} – {}", ctx.t("routing.title"), routing.title);
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        RoutingPage {
            page,
            action: format!("/staff/routing/{service}"),
            service: routing.title,
            default_unit: routing
                .units
                .iter()
                .find(|u| u.id == routing.default_unit)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            rows,
            units: routing
                .units
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
    let service = Uuid::parse_str(&service).map_err(|_| AppError::NotFound)?;
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
    let rules = rows
        .iter()
        .map(|r| RuleInput {
            field: r.field.clone(),
            pattern: r.pattern.clone(),
            org_unit: Uuid::parse_str(&r.org_unit).ok(),
        })
        .collect();
    let actor = staff.actor(&state).await?;
    match state.app.save_routing(&actor, service, rules).await? {
        Ok(_) => Ok(Redirect::to(&format!("/staff/routing/{service}?msg=saved")).into_response()),
        Err(p) => {
            let error = i18n::tf(
                ctx.lang,
                "routing.row_error",
                &[
                    ("n", &(p.row + 1).to_string()),
                    ("message", &i18n::field_error(ctx.lang, "pattern", p.code)),
                ],
            );
            routing_page(&state, &ctx, &staff, service, Some(rows), Some(error)).await
        }
    }
}
