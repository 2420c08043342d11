//! Catalog API. Public: `GET /services` (search and filters),
//! `GET /services/{id}`, `GET /catalog/export`. Editors (token of a user with
//! the Redaktion role): create, change, submit, approve, reject, archive,
//! import.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use rathaus_app::catalog::{ImportError, SearchText};
use rathaus_domain::catalog::ServiceContent;
use rathaus_search::ListQuery;
use rathaus_storage::catalog::{PublishedService, Services};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiQuery, ApiStaff, EditContent},
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

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct ListParams {
    /// Search words.
    #[serde(default)]
    q: String,
    /// `citizen` or `business`.
    audience: Option<String>,
    /// A topic's slug.
    topic: Option<String>,
    /// A life situation's slug.
    #[serde(default)]
    life_situation: Option<String>,
}

/// A text in German and English.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Text {
    de: String,
    en: String,
}

/// A service found.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceHit {
    id: Uuid,
    slug: String,
    title: Text,
    summary: Text,
    /// The service page.
    url: String,
    score: f32,
}

/// `GET /services`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceList {
    items: Vec<ServiceHit>,
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.clone();
    let audience = p.audience.as_deref().filter(|s| !s.is_empty());
    let topic = p.topic.as_deref().filter(|s| !s.is_empty());
    let text = SearchText::parse(&p.q).map_err(|e| AppError::BadRequest(e.into()))?;
    let hits = if text.is_empty() {
        std::sync::Arc::new(
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
                .map_err(AppError::internal)?,
        )
    } else {
        state
            .app
            .search_services(tenant.tenant_id(), &text, audience, topic, 50)
            .await?
    };
    let base = state.config.public_url.trim_end_matches('/');
    Ok(Json(ServiceList {
        items: hits
            .iter()
            .map(|h| ServiceHit {
                id: h.id,
                url: format!("{base}/leistungen/{}", h.slug),
                slug: h.slug.clone(),
                title: Text {
                    de: h.title_de.clone(),
                    en: h.title_en.clone(),
                },
                summary: Text {
                    de: h.summary_de.clone(),
                    en: h.summary_en.clone(),
                },
                score: h.score,
            })
            .collect(),
    }))
}

/// A postal address.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Address {
    street: String,
    postal_code: String,
    city: String,
}

/// The office responsible for a service.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Office {
    id: Uuid,
    name: String,
    address: Address,
    phone: String,
    email: String,
    opening_hours: String,
}

/// A published service.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PublishedServiceBody {
    id: Uuid,
    version: i32,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    content: ServiceContent,
    responsible_office: Office,
}

fn published_json(p: &PublishedService) -> PublishedServiceBody {
    let u = &p.org_unit;
    PublishedServiceBody {
        id: p.service.id,
        version: p.version.number,
        published_at: p.version.reviewed_at,
        content: p.content.clone(),
        responsible_office: Office {
            id: u.id,
            name: u.name.clone(),
            address: Address {
                street: u.street.clone(),
                postal_code: u.postal_code.clone(),
                city: u.city.clone(),
            },
            phone: u.phone.clone(),
            email: u.email.clone(),
            opening_hours: u.opening_hours.clone(),
        },
    }
}

/// A version of a service after a change: `{id, version, status}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceVersionRef {
    id: Uuid,
    version: i32,
    /// `draft`, `in_review`, `published`, `archived`.
    status: String,
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
    ApiStaff { actor, .. }: ApiStaff<EditContent>,
    ApiJson(content): ApiJson<ServiceContent>,
) -> Result<impl IntoResponse, AppError> {
    let (s, v) = state.app.create_service(&actor, content).await?;
    Ok((
        StatusCode::CREATED,
        Json(ServiceVersionRef {
            id: s.id,
            version: v.number,
            status: v.status,
        }),
    ))
}

async fn change(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<EditContent>,
    Path(id): Path<String>,
    ApiJson(content): ApiJson<ServiceContent>,
) -> Result<impl IntoResponse, AppError> {
    let id = parse_id(&id)?;
    let v = state.app.save_service(&actor, id, content).await?;
    Ok(Json(ServiceVersionRef {
        id,
        version: v.number,
        status: v.status,
    }))
}

/// The catalog in the exchange format.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CatalogExport {
    /// `rathaus.catalog/1`.
    format: String,
    /// The tenant's slug.
    tenant: String,
    services: Vec<ServiceContent>,
}

/// The published catalog in the exchange format (public: other municipalities re-use it).
async fn export(State(state): State<AppState>, ctx: Ctx) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.clone();
    let services = state.app.export_catalog(tenant.tenant_id()).await?;
    Ok(Json(CatalogExport {
        format: FORMAT.to_string(),
        tenant: tenant.slug.clone(),
        services,
    }))
}

/// Services in the exchange format; each is checked on its own.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ImportBody {
    /// Must be `rathaus.catalog/1`.
    #[schema(pattern = "^rathaus\\.catalog/1$")]
    format: String,
    /// Services as in `GET /catalog/export`; one that cannot be read is
    /// reported in `errors` with its index.
    services: Vec<serde_json::Value>,
}

/// What an import did (207 when some services were refused).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ImportReport {
    created: usize,
    updated: usize,
    errors: Vec<ImportProblem>,
}

/// A service of the import that was refused.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ImportProblem {
    /// Its index in `services`.
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    slug: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<crate::platform::error::FieldProblem>,
}

/// Imports services as drafts (new services, or a new draft of an existing
/// slug); they are published through the normal review.
async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiStaff { actor, .. }: ApiStaff<EditContent>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<impl IntoResponse, AppError> {
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
            ImportError::Unreadable(message) => ImportProblem {
                index: p.index,
                slug: None,
                message,
                fields: Vec::new(),
            },
            ImportError::Refused(e) => {
                let (message, fields) = describe(ctx.lang, &e.into());
                ImportProblem {
                    index: p.index,
                    slug: p.slug,
                    message,
                    fields: fields
                        .into_iter()
                        .map(|(field, message)| crate::platform::error::FieldProblem {
                            field: Some(field),
                            path: None,
                            code: None,
                            message,
                            messages: None,
                        })
                        .collect(),
                }
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
        Json(ImportReport {
            created,
            updated,
            errors,
        }),
    ))
}
