//! Staff identity in the browser: login, logout and the staff home page.

use axum::{
    Router,
    extract::{FromRequestParts, Query, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use rathaus_domain::{ValidationErrors, identity::Email, tenancy::TenantId};
use rathaus_storage::{
    identity::{User, UserRepository},
    tenancy::{OrgUnitRepository, as_tree},
};
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    AppState,
    context::Ctx,
    error::AppError,
    i18n,
    security::{CsrfForm, client_ip, csrf_token},
    views::{LoginPage, Page, StaffPage},
};

const USER_KEY: &str = "staff_user";

#[derive(serde::Serialize, serde::Deserialize)]
struct SessionUser {
    user_id: Uuid,
    tenant_id: Uuid,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/staff", get(staff_home))
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
}

async fn current_user(
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
    } else if let Some(c) = crate::accounts::current_citizen(state, ctx, session).await? {
        page.citizen = Some(c.email);
        page.csrf = Some(csrf_token(session).await?);
    }
    Ok(page)
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    logged_out: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    ctx.tenant()?;
    if current_user(&state, &ctx, &session).await?.is_some() {
        return Ok(Redirect::to("/staff").into_response());
    }
    let page = LoginPage {
        page: Page::new(&ctx, ctx.t("login.title")),
        csrf_token: csrf_token(&session).await?,
        email: String::new(),
        error: None,
        field_errors: vec![],
        notice: q.logged_out.map(|_| ctx.t("staff.logged_out").to_string()),
        demo_mode: ctx.demo_mode,
    };
    Ok(page.into_response())
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    parts: axum::http::Extensions,
    form: CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let CsrfForm { form, session } = form;
    let render = |status: StatusCode,
                  error: Option<String>,
                  field_errors: Vec<(String, String)>,
                  csrf: String| {
        let page = LoginPage {
            page: Page::new(&ctx, ctx.t("login.title")),
            csrf_token: csrf,
            email: form.email.trim().to_string(),
            error,
            field_errors,
            notice: None,
            demo_mode: ctx.demo_mode,
        };
        (status, page).into_response()
    };
    let csrf = csrf_token(&session).await?;

    // Field checks first: name the field and the fix.
    let mut errs = ValidationErrors::new();
    let email = errs.check(Email::parse(&form.email));
    if form.password.is_empty() {
        errs.push(rathaus_domain::FieldError::new("password", "required"));
    }
    if !errs.is_empty() {
        let fields = errs
            .0
            .iter()
            .map(|e| {
                (
                    e.field.clone(),
                    i18n::field_error(ctx.lang, &e.field, e.code),
                )
            })
            .collect();
        return Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(ctx.t("login.error_summary").to_string()),
            fields,
            csrf,
        ));
    }
    let email = email.expect("checked");

    if !state.limiter.check(client_ip(&parts), email.as_str()) {
        return Ok(render(
            StatusCode::TOO_MANY_REQUESTS,
            Some(ctx.t("login.rate_limited").to_string()),
            vec![],
            csrf,
        ));
    }

    let user = state
        .store
        .repo()
        .check_password(tenant.tenant_id(), &email, &form.password)
        .await?;
    let user = match user {
        Some(u) => u,
        None => {
            tracing::info!(tenant = %tenant.slug, "failed staff login");
            return Ok(render(
                StatusCode::UNAUTHORIZED,
                Some(ctx.t("login.invalid").to_string()),
                vec![],
                csrf,
            ));
        }
    };

    // New session id on login (no session fixation), fresh CSRF token.
    session.cycle_id().await?;
    session.clear().await;
    session
        .insert(
            USER_KEY,
            SessionUser {
                user_id: user.id,
                tenant_id: tenant.id,
            },
        )
        .await?;
    csrf_token(&session).await?;
    state
        .store
        .repo()
        .record_login(tenant.tenant_id(), user.id)
        .await?;
    tracing::info!(tenant = %tenant.slug, user = %user.id, "staff login");
    Ok(Redirect::to("/staff").into_response())
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn logout(form: CsrfForm<Empty>) -> Result<Response, AppError> {
    form.session.flush().await?;
    Ok(Redirect::to("/login?logged_out=1").into_response())
}

async fn staff_home(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let repo = state.store.repo();
    let grants = repo.grants(staff.tenant(), staff.user.id).await?;
    let units = repo.org_units(staff.tenant()).await?;
    let tree = as_tree(&units)
        .into_iter()
        .map(|(d, u)| (d, u.clone()))
        .collect();
    let mut page = Page::new(&ctx, ctx.t("staff.title"));
    page.staff = Some(staff.user.email.clone());
    page.csrf = Some(csrf_token(&staff.session).await?);
    Ok(StaffPage {
        page,
        display_name: staff.user.display_name.clone(),
        email: staff.user.email.clone(),
        grants,
        tree,
    }
    .into_response())
}
