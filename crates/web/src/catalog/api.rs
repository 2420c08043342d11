//! Catalog API. Public: `GET /services` (search and filters),
//! `GET /services/{id}`, `GET /catalog/export`. Editors (token of a user with
//! the Redaktion role): create, change, submit, approve, reject, archive,
//! import.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
};
use rathaus_app::catalog::SearchText;
use rathaus_app::{Permission, catalog::ImportError};
use rathaus_domain::catalog::ServiceContent;
use rathaus_search::ListQuery;
use rathaus_storage::catalog::{PublishedService, Services};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser},
    context::{Ctx, describe},
    editorial::{APPROVE, REJECT, SUBMIT, api_archive, api_change, api_step},
    error::AppError,
    routes::{Routes, get, post},
};

/// Name of the exchange format.
pub const FORMAT: &str = "rathaus.catalog/1";

pub fn routes() -> Routes {
    Routes::new("catalog")
        .route("/services", get(list).post(create))
        .route("/services/{id}", get(one).put(change))
        .route("/services/{id}/submit", post(api_step::<Services, SUBMIT>))
        .route(
            "/services/{id}/approve",
            post(api_step::<Services, APPROVE>),
        )
        .route("/services/{id}/reject", post(api_step::<Services, REJECT>))
        .route("/services/{id}/archive", post(api_archive::<Services>))
        .route(
            "/services/{id}/change/approve",
            post(api_change::<Services, true>),
        )
        .route(
            "/services/{id}/change/reject",
            post(api_change::<Services, false>),
        )
        .route("/catalog/export", get(export))
        .route("/catalog/import", post(import))
}

fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

#[derive(serde::Deserialize)]
struct ListParams {
    #[serde(default)]
    q: String,
    audience: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    life_situation: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.clone();
    let audience = p.audience.as_deref().filter(|s| !s.is_empty());
    let topic = p.topic.as_deref().filter(|s| !s.is_empty());
    let text = SearchText::parse(&p.q).map_err(|e| AppError::BadRequest(e.into()))?;
    let hits = if text.is_empty() {
        state
            .app
            .search
            .index
            .list(
                tenant.id,
                &ListQuery {
                    audience,
                    topic,
                    life_situation: p.life_situation.as_deref().filter(|s| !s.is_empty()),
                },
            )
            .map_err(AppError::internal)?
    } else {
        state
            .app
            .search_services(tenant.tenant_id(), &text, audience, topic, 50)
            .await?
    };
    let base = state.config.public_url.trim_end_matches('/');
    Ok(Json(serde_json::json!({
        "items": hits.iter().map(|h| serde_json::json!({
            "id": h.id,
            "slug": h.slug,
            "title": { "de": h.title_de, "en": h.title_en },
            "summary": { "de": h.summary_de, "en": h.summary_en },
            "url": format!("{base}/leistungen/{}", h.slug),
            "score": h.score,
        })).collect::<Vec<_>>(),
    })))
}

fn published_json(p: &PublishedService) -> serde_json::Value {
    serde_json::json!({
        "id": p.service.id,
        "version": p.version.number,
        "published_at": p.version.reviewed_at,
        "content": p.content,
        "responsible_office": {
            "id": p.org_unit.id,
            "name": p.org_unit.name,
            "address": { "street": p.org_unit.street, "postal_code": p.org_unit.postal_code, "city": p.org_unit.city },
            "phone": p.org_unit.phone,
            "email": p.org_unit.email,
            "opening_hours": p.org_unit.opening_hours,
        },
    })
}

async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let p = state.app.published_service(tenant, parse_id(&id)?).await?;
    Ok(Json(published_json(&p)))
}

async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(content): ApiJson<ServiceContent>,
) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    let (s, v) = state.app.create_service(&actor, content).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": s.id, "version": v.number, "status": v.status })),
    ))
}

async fn change(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(content): ApiJson<ServiceContent>,
) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    let id = parse_id(&id)?;
    let v = state.app.save_service(&actor, id, content).await?;
    Ok(Json(
        serde_json::json!({ "id": id, "version": v.number, "status": v.status }),
    ))
}

/// The published catalog in the exchange format (public: other municipalities re-use it).
async fn export(State(state): State<AppState>, ctx: Ctx) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.clone();
    let services = state.app.export_catalog(tenant.tenant_id()).await?;
    Ok(Json(
        serde_json::json!({ "format": FORMAT, "tenant": tenant.slug, "services": services }),
    ))
}

#[derive(serde::Deserialize)]
struct ImportBody {
    format: String,
    services: Vec<serde_json::Value>,
}

/// Imports services as drafts (new services, or a new draft of an existing
/// slug); they are published through the normal review.
async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    actor.require(Permission::EditContent)?;
    if body.format != FORMAT {
        return Err(AppError::InvalidJson(format!(
            "format must be {FORMAT:?}, is {:?}",
            body.format
        )));
    }
    let report = state.app.import_catalog(&actor, body.services).await?;
    let errors: Vec<_> = report
        .problems
        .into_iter()
        .map(|p| match p.error {
            ImportError::Unreadable(message) => {
                serde_json::json!({ "index": p.index, "message": message })
            }
            ImportError::Refused(e) => {
                let (message, fields) = describe(ctx.lang, &e.into());
                serde_json::json!({
                    "index": p.index, "slug": p.slug, "message": message,
                    "fields": fields.iter().map(|(f, m)| serde_json::json!({"field": f, "message": m})).collect::<Vec<_>>(),
                })
            }
        })
        .collect();
    let (created, updated) = (report.created, report.updated);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((
        status,
        Json(serde_json::json!({ "created": created, "updated": updated, "errors": errors })),
    ))
}
