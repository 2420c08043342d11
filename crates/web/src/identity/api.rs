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
        Json(serde_json::json!({
            "token": issued.secret,
            "token_type": "Bearer",
            "id": issued.record.id,
            "expires_at": issued.expires_at,
            "tenant": issued.tenant.slug,
        })),
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
    Ok(Json(serde_json::json!({
        "id": me.user.id,
        "email": me.user.email,
        "display_name": me.user.display_name,
        "tenant": { "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "ags": tenant.ags },
        "grants": me.grants.iter().map(|g| serde_json::json!({
            "role": g.role.code(),
            "org_unit_id": g.org_unit.id,
            "org_unit": g.org_unit.name,
        })).collect::<Vec<_>>(),
    })))
}
