//! `GET /api/v1/org-units` and `GET /api/v1/org-units/{id}`: the caller's
//! tenant only; another tenant's unit is "not found".

use axum::{
    Json,
    extract::{Path, State},
    response::IntoResponse,
};
use rathaus_storage::tenancy::OrgUnit;
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::ApiUser,
    error::AppError,
    routes::{Routes, get},
};

pub fn routes() -> Routes {
    Routes::new("identity")
        .route("/org-units", get(list))
        .route("/org-units/{id}", get(one))
}

fn to_json(u: &OrgUnit) -> serde_json::Value {
    serde_json::json!({
        "id": u.id,
        "parent_id": u.parent_id,
        "kind": u.kind,
        "name": u.name,
        "short_name": u.short_name,
        "address": { "street": u.street, "postal_code": u.postal_code, "city": u.city },
        "phone": u.phone,
        "email": u.email,
        "opening_hours": u.opening_hours,
    })
}

async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    let units = state.app.org_units(&actor).await?;
    Ok(Json(
        serde_json::json!({ "items": units.iter().map(to_json).collect::<Vec<_>>() }),
    ))
}

async fn one(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let actor = caller.actor(&state).await?;
    let unit = state.app.org_unit(&actor, id).await?;
    Ok(Json(to_json(&unit)))
}
