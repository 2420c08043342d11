//! Who is asking the REST API (`/api/v1`): [`ApiUser`] (bearer token) and
//! [`ApiJson`] bodies. JSON in and out; errors as
//! `{"error": {"status", "code", "message", "fields": [{"field", "message"}]}}`
//! in the language of `Accept-Language`.

use std::marker::PhantomData;

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use rathaus_app::Permission;
use rathaus_domain::tenancy::TenantId;
use rathaus_storage::identity::{ApiToken, TokenRepository, User};
use serde::de::DeserializeOwned;

use crate::platform::{AppState, error::AppError};

/// A caller authenticated by `Authorization: Bearer <token>`. The tenant is
/// the token's: every query below is scoped by it. A token works only at its
/// own tenant's address: used under another tenant's host (or where the host
/// names no tenant) it is refused like an unknown one (401), so nothing of
/// tenant A is ever answered in tenant B's name.
pub struct ApiUser {
    pub user: User,
    pub token: ApiToken,
}

impl ApiUser {
    pub fn tenant(&self) -> TenantId {
        TenantId(self.user.tenant_id)
    }

    /// The actor for the use-case layer: the token's user with their grants now.
    pub async fn actor(&self, state: &AppState) -> Result<rathaus_app::Actor, AppError> {
        Ok(state
            .app
            .staff_actor_for(
                self.user.clone(),
                rathaus_app::Channel::ApiToken(self.token.id),
            )
            .await?)
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ctx = crate::platform::context::Ctx::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(AppError::InvalidToken)?;
        let (token, user) = state
            .store
            .repo()
            .authenticate_token(token)
            .await?
            .ok_or(AppError::InvalidToken)?;
        if ctx.tenant.as_ref().map(|t| t.id) != Some(token.tenant_id) {
            tracing::info!("API token used under another tenant's host: refused");
            return Err(AppError::InvalidToken);
        }
        Ok(ApiUser { user, token })
    }
}

/// JSON body whose parse errors become clear API errors: 415 without
/// `Content-Type: application/json`, 413 over the route's limit, 422 for
/// JSON that is malformed or of the wrong shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        crate::platform::json::read_json(req, state)
            .await
            .map(ApiJson)
    }
}

/// Query parameters whose parse errors are a JSON 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| AppError::BadQuery(e.to_string()))
    }
}

/// The permission an API operation needs before its body is read.
pub trait Needs {
    const PERMISSION: Permission;
    /// Another permission that is also enough (none: only `PERMISSION`).
    const OR: Option<Permission> = None;
}

/// Redaktion.
pub struct EditContent;
impl Needs for EditContent {
    const PERMISSION: Permission = Permission::EditContent;
}

/// Sachbearbeitung (in some org unit; the case's unit is checked by the use case).
pub struct WorkCases;
impl Needs for WorkCases {
    const PERMISSION: Permission = Permission::WorkCases;
}

/// Fachadministration (tenant settings, the e-file's hand-overs).
pub struct AdministerTenant;
impl Needs for AdministerTenant {
    const PERMISSION: Permission = Permission::AdministerTenant;
}

/// Sachbearbeitung or Fachadministration: the e-file's work (Vorgänge,
/// in-tray, Umlaufmappen); the use case checks the Vorgang's unit.
pub struct RecordsStaff;
impl Needs for RecordsStaff {
    const PERMISSION: Permission = Permission::WorkCases;
    const OR: Option<Permission> = Some(Permission::AdministerTenant);
}

/// A staff caller holding `N` (in some org unit), checked from the token
/// alone: a handler taking it before its body answers 401/403 before the
/// body is parsed, so a caller without the right learns nothing from the
/// body's problems.
pub struct ApiStaff<N> {
    pub caller: ApiUser,
    pub actor: rathaus_app::Actor,
    need: PhantomData<N>,
}

impl<N: Needs> FromRequestParts<AppState> for ApiStaff<N> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = ApiUser::from_request_parts(parts, state).await?;
        let actor = caller.actor(state).await?;
        if let Err(e) = actor.require(N::PERMISSION) {
            match N::OR {
                Some(p) => {
                    actor.require(p)?;
                }
                None => return Err(e.into()),
            }
        }
        Ok(ApiStaff {
            caller,
            actor,
            need: PhantomData,
        })
    }
}
