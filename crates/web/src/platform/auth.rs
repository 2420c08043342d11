//! Who is asking, in the browser: the logged-in staff member ([`StaffUser`],
//! with role checks and the org units of a clerk) and the logged-in citizen
//! ([`current_citizen`]); the layout's login state ([`with_staff`]).

use rathaus_storage::prelude::*;

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_domain::{identity::Role, tenancy::TenantId};
use rathaus_storage::{
    accounts::Citizen,
    identity::{User, UserRepository},
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::platform::{
    AppState, context::Ctx, error::AppError, layout::Page, security::csrf_token,
};

pub const USER_KEY: &str = "staff_user";

#[derive(serde::Serialize, serde::Deserialize)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
}

/// The logged-in staff member of the request's tenant.
pub struct StaffUser {
    pub user: User,
    pub session: Session,
}

impl StaffUser {
    pub fn tenant(&self) -> TenantId {
        TenantId(self.user.tenant_id)
    }

    /// The actor for the use-case layer: this user with their grants now.
    pub async fn actor(&self, state: &AppState) -> Result<rathaus_app::Actor, AppError> {
        Ok(state
            .app
            .staff_actor_for(self.user.clone(), rathaus_app::Channel::Session)
            .await?)
    }
}

pub async fn current_user(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
) -> Result<Option<User>, AppError> {
    let Some(su) = session.get::<SessionUser>(USER_KEY).await? else {
        return Ok(None);
    };
    let Some(tenant) = ctx.tenant.as_ref() else {
        return Ok(None);
    };
    // A session of another tenant is worth nothing here.
    if tenant.id != su.tenant_id {
        return Ok(None);
    }
    Ok(state
        .store
        .repo()
        .user(tenant.tenant_id(), su.user_id)
        .await?
        .filter(|u| u.active))
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::internal("session layer missing"))?;
        match current_user(state, &ctx, &session).await? {
            Some(user) => Ok(StaffUser { user, session }),
            None => Err(AppError::LoginRequired),
        }
    }
}

/// Fills the layout's staff link and logout form when someone is logged in.
pub async fn with_staff(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    mut page: Page,
) -> Result<Page, AppError> {
    if let Some(user) = current_user(state, ctx, session).await? {
        page.staff = Some(user.email);
        page.csrf = Some(csrf_token(session).await?);
    } else if let Some(c) = current_citizen(state, ctx, session).await? {
        page.citizen = Some(c.email);
        page.csrf = Some(csrf_token(session).await?);
    }
    Ok(page)
}

pub const CITIZEN_KEY: &str = "citizen";

#[derive(Serialize, Deserialize)]
pub struct SessionCitizen {
    pub citizen_id: Uuid,
    pub tenant_id: Uuid,
    /// When the citizen logged in (epoch ms): a password reset after it ends
    /// the session. Sessions from before this field count as 0.
    #[serde(default)]
    pub since_ms: i64,
}

/// The confirmed citizen logged in to this tenant, if any.
pub async fn current_citizen(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
) -> Result<Option<Citizen>, AppError> {
    let Some(sc) = session.get::<SessionCitizen>(CITIZEN_KEY).await? else {
        return Ok(None);
    };
    let Some(tenant) = ctx.tenant.as_ref() else {
        return Ok(None);
    };
    if tenant.id != sc.tenant_id {
        return Ok(None);
    }
    Ok(state
        .store
        .repo()
        .citizen(tenant.tenant_id(), sc.citizen_id)
        .await?
        .filter(|c| c.confirmed())
        // A password reset ends every session logged in before it.
        .filter(|c| {
            c.password_changed_at
                .is_none_or(|t| t.timestamp_millis() <= sc.since_ms)
        }))
}

/// The logged-in citizen, or the redirect to the login page (back here after).
pub async fn require_citizen(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
) -> Result<Result<Citizen, Response>, AppError> {
    ctx.tenant()?;
    Ok(match current_citizen(state, ctx, session).await? {
        Some(c) => Ok(c),
        None => Err(
            Redirect::to(&format!("/konto/anmelden?next={}", urlencode(&ctx.path))).into_response(),
        ),
    })
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A staff member with the Redaktion role in some org unit.
pub async fn require_editor(state: &AppState, staff: &StaffUser) -> Result<(), AppError> {
    let grants = state
        .store
        .repo()
        .grants(staff.tenant(), staff.user.id)
        .await?;
    if grants.iter().any(|g| g.role == Role::Editor) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A staff page: the layout with the staff link and the logout form.
pub async fn staff_page(ctx: &Ctx, staff: &StaffUser, title: &str) -> Result<Page, AppError> {
    let mut page = Page::new(ctx, title);
    page.staff = Some(staff.user.email.clone());
    page.csrf = Some(csrf_token(&staff.session).await?);
    Ok(page)
}
