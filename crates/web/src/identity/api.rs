//! `POST /api/v1/auth/token` (email + password → bearer token),
//! `DELETE /api/v1/auth/token` (revoke the token in use), `GET /api/v1/me`.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use rathaus_app::identity::Credentials;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser},
    context::Ctx,
    error::AppError,
    routes::{Routes, get, post},
    security::client_ip,
};

pub fn routes() -> Routes {
    Routes::new("identity")
        .route("/auth/token", post(issue).delete(revoke))
        .route("/me", get(me))
}

/// A staff member's login.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenRequest {
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63}){1,4}$",
        max_length = 254
    )]
    email: String,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1000)]
    password: String,
    /// Label shown in token lists, e.g. "Fachverfahren Gewerbe".
    #[schema(max_length = 100)]
    name: Option<String>,
    /// Tenant slug; defaults to the tenant of the host.
    #[schema(max_length = 100)]
    tenant: Option<String>,
}

/// A token just issued: the secret is shown this once.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TokenIssued {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// `Bearer`.
    token_type: String,
    id: uuid::Uuid,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// The tenant's slug.
    tenant: String,
}

/// The caller's tenant.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TenantRef {
    id: uuid::Uuid,
    slug: String,
    name: String,
    /// Amtlicher Gemeindeschlüssel.
    ags: String,
}

/// A role in an org unit.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct GrantRef {
    /// The role's code, e.g. `editor`, `clerk`, `tenant_admin`.
    role: String,
    org_unit_id: uuid::Uuid,
    org_unit: String,
}

/// `GET /me`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MeBody {
    id: uuid::Uuid,
    email: String,
    display_name: String,
    tenant: TenantRef,
    grants: Vec<GrantRef>,
}

async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: axum::http::Extensions,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<impl IntoResponse, AppError> {
    let credentials =
        Credentials::parse(&req.email, &req.password).map_err(AppError::Validation)?;
    let tenant = match req.tenant.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => state.app.tenant_by_slug(slug).await?,
        None => (**ctx.tenant()?).clone(),
    };
    if !state
        .limiter
        .check(client_ip(&ext), credentials.email.as_str())
    {
        return Err(AppError::RateLimited);
    }
    let issued = state
        .app
        .issue_token(&tenant, &credentials, req.name)
        .await
        .map_err(|e| match e {
            rathaus_app::UseCaseError::Unauthenticated => AppError::InvalidToken,
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(TokenIssued {
            token: issued.secret,
            token_type: "Bearer".to_string(),
            id: issued.record.id,
            expires_at: issued.expires_at,
            tenant: issued.tenant.slug,
        }),
    ))
}

async fn revoke(State(state): State<AppState>, caller: ApiUser) -> Result<StatusCode, AppError> {
    let actor = caller.actor(&state).await?;
    state.app.revoke_token(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, caller: ApiUser) -> Result<impl IntoResponse, AppError> {
    let actor = caller.actor(&state).await?;
    let me = state.app.me(&actor).await?;
    let tenant = &me.tenant;
    Ok(Json(MeBody {
        id: me.user.id,
        email: me.user.email.clone(),
        display_name: me.user.display_name.clone(),
        tenant: TenantRef {
            id: tenant.id,
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            ags: tenant.ags.clone(),
        },
        grants: me
            .grants
            .iter()
            .map(|g| GrantRef {
                role: g.role.code().to_string(),
                org_unit_id: g.org_unit.id,
                org_unit: g.org_unit.name.clone(),
            })
            .collect(),
    }))
}
