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

/// A postal address.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UnitAddress {
    street: String,
    postal_code: String,
    city: String,
}

/// An org unit of the tenant.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct OrgUnitBody {
    id: Uuid,
    parent_id: Option<Uuid>,
    /// `office`, `department`, `section`.
    kind: String,
    name: String,
    short_name: String,
    address: UnitAddress,
    phone: String,
    email: String,
    opening_hours: String,
}

/// `GET /org-units`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct OrgUnitList {
    items: Vec<OrgUnitBody>,
}

fn to_json(u: &OrgUnit) -> OrgUnitBody {
    OrgUnitBody {
        id: u.id,
        parent_id: u.parent_id,
        kind: u.kind.clone(),
        name: u.name.clone(),
        short_name: u.short_name.clone(),
        address: UnitAddress {
            street: u.street.clone(),
            postal_code: u.postal_code.clone(),
            city: u.city.clone(),
        },
        phone: u.phone.clone(),
        email: u.email.clone(),
        opening_hours: u.opening_hours.clone(),
    }
}

async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    let units = state.app.org_units(&actor).await?;
    Ok(Json(OrgUnitList {
        items: units.iter().map(to_json).collect(),
    }))
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
