//! `POST /api/v1/auth/token` (email + password → bearer token),
//! `DELETE /api/v1/auth/token` (revoke the token in use), `GET /api/v1/me`.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use chrono::{Duration, Utc};
use rathaus_domain::{FieldError, ValidationErrors, identity::Email};
use rathaus_storage::{
    identity::{TokenRepository, UserRepository, generate_token},
    tenancy::TenantRepository,
};

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser},
    context::Ctx,
    error::AppError,
    routes::{Routes, get, post},
    security::client_ip,
};

/// Tokens issued by password login live 90 days unless revoked.
const TOKEN_LIFETIME_DAYS: i64 = 90;

pub fn routes() -> Routes {
    Routes::new("identity")
        .route("/auth/token", post(issue).delete(revoke))
        .route("/me", get(me))
}

#[derive(serde::Deserialize)]
struct TokenRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Label shown in token lists, e.g. "Fachverfahren Gewerbe".
    name: Option<String>,
    /// Tenant slug; defaults to the tenant of the host.
    tenant: Option<String>,
}

async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: axum::http::Extensions,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<impl IntoResponse, AppError> {
    let mut errs = ValidationErrors::new();
    let email = errs.check(Email::parse(&req.email));
    if req.password.is_empty() {
        errs.push(FieldError::new("password", "required"));
    }
    errs.into_result().map_err(AppError::Validation)?;
    let email = email.expect("checked");
    let tenant = match req.tenant.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => state
            .store
            .repo()
            .tenant_by_slug(slug)
            .await?
            .ok_or_else(|| {
                AppError::Validation(FieldError::new("tenant", "slug.invalid").into())
            })?,
        None => (**ctx.tenant()?).clone(),
    };
    if !state.limiter.check(client_ip(&ext), email.as_str()) {
        return Err(AppError::RateLimited);
    }
    let user = state
        .store
        .repo()
        .check_password(tenant.tenant_id(), &email, &req.password)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let token = generate_token();
    let expires_at = Utc::now() + Duration::days(TOKEN_LIFETIME_DAYS);
    let name = req.name.unwrap_or_else(|| "API".to_string());
    let record = state
        .store
        .repo()
        .create_token(tenant.tenant_id(), user.id, &name, &token, Some(expires_at))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "token": token,
            "token_type": "Bearer",
            "id": record.id,
            "expires_at": expires_at,
            "tenant": tenant.slug,
        })),
    ))
}

async fn revoke(State(state): State<AppState>, caller: ApiUser) -> Result<StatusCode, AppError> {
    state
        .store
        .repo()
        .revoke_token(caller.tenant(), caller.token.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, caller: ApiUser) -> Result<impl IntoResponse, AppError> {
    let repo = state.store.repo();
    let tenant = repo
        .tenant(caller.tenant())
        .await?
        .ok_or(AppError::NotFound)?;
    let grants = repo.grants(caller.tenant(), caller.user.id).await?;
    Ok(Json(serde_json::json!({
        "id": caller.user.id,
        "email": caller.user.email,
        "display_name": caller.user.display_name,
        "tenant": { "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "ags": tenant.ags },
        "grants": grants.iter().map(|g| serde_json::json!({
            "role": g.role.code(),
            "org_unit_id": g.org_unit.id,
            "org_unit": g.org_unit.name,
        })).collect::<Vec<_>>(),
    })))
}
