//! Staff identity in the browser: login, logout and the staff home page.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{Permission, UseCaseError, identity::Credentials};
use rathaus_storage::tenancy::as_tree;
use tower_sessions::Session;

use super::views::{LoginPage, StaffPage};
use crate::platform::{
    AppState,
    auth::{SessionUser, StaffUser, USER_KEY, current_user},
    context::Ctx,
    error::AppError,
    i18n,
    layout::Page,
    routes::{Routes, get, post},
    security::{CsrfForm, client_ip, csrf_token},
};

pub fn routes() -> Routes {
    Routes::new("identity")
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/staff", get(staff_home))
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
    let credentials = match Credentials::parse(&form.email, &form.password) {
        Ok(c) => c,
        Err(errs) => {
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
    };

    if !state
        .limiter
        .check(client_ip(&parts), credentials.email.as_str())
    {
        return Ok(render(
            StatusCode::TOO_MANY_REQUESTS,
            Some(ctx.t("login.rate_limited").to_string()),
            vec![],
            csrf,
        ));
    }

    let user = match state
        .app
        .staff_login(tenant.tenant_id(), &credentials)
        .await
    {
        Ok(u) => u,
        Err(UseCaseError::Unauthenticated) => {
            tracing::info!(tenant = %tenant.slug, "failed staff login");
            return Ok(render(
                StatusCode::UNAUTHORIZED,
                Some(ctx.t("login.invalid").to_string()),
                vec![],
                csrf,
            ));
        }
        Err(e) => return Err(e.into()),
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
    let actor = staff.actor(&state).await?;
    let me = state.app.me(&actor).await?;
    let units = state.app.org_units(&actor).await?;
    let tree = as_tree(&units)
        .into_iter()
        .map(|(d, u)| (d, u.clone()))
        .collect();
    let holds = |p| actor.staff().is_some_and(|s| s.holds(p));
    let mut page = Page::new(&ctx, ctx.t("staff.title"));
    page.staff = Some(staff.user.email.clone());
    page.csrf = Some(csrf_token(&staff.session).await?);
    Ok(StaffPage {
        page,
        display_name: staff.user.display_name.clone(),
        email: staff.user.email.clone(),
        grants: me.grants,
        tree,
        works_cases: holds(Permission::WorkCases),
        edits_content: holds(Permission::EditContent),
        administers: holds(Permission::AdministerTenant),
    }
    .into_response())
}
