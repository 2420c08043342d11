//! The legal pages every portal has (Impressum, Datenschutzerklärung,
//! Erklärung zur Barrierefreiheit), filled from the tenant's data. They
//! belong to no capability, so they live here.

use askama::Template;
use askama_web::WebTemplate;
use axum::{extract::State, response::IntoResponse};
use rathaus_storage::tenancy::Tenant;

use crate::platform::{
    AppState,
    auth::with_staff,
    context::Ctx,
    error::AppError,
    layout::{Page, cache_header},
    routes::{Routes, get},
};

pub fn routes() -> Routes {
    Routes::new("platform")
        .route("/impressum", get(impressum))
        .route("/datenschutz", get(privacy))
        .route("/barrierefreiheit", get(accessibility))
}

/// A legal page filled from the tenant's data.
async fn legal_page<T: IntoResponse>(
    state: &AppState,
    ctx: &Ctx,
    session: &tower_sessions::Session,
    title_key: &str,
    view: impl FnOnce(Page, rathaus_storage::tenancy::Tenant) -> T,
) -> Result<axum::response::Response, AppError> {
    let tenant = (**ctx.tenant()?).clone();
    let page = with_staff(state, ctx, session, Page::new(ctx, ctx.t(title_key))).await?;
    let headers = cache_header(&page);
    Ok((headers, view(page, tenant)).into_response())
}

async fn impressum(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<axum::response::Response, AppError> {
    legal_page(&state, &ctx, &session, "impressum.title", |page, tenant| {
        ImpressumPage { page, tenant }
    })
    .await
}

async fn privacy(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<axum::response::Response, AppError> {
    legal_page(&state, &ctx, &session, "privacy.title", |page, tenant| {
        PrivacyPage { page, tenant }
    })
    .await
}

async fn accessibility(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<axum::response::Response, AppError> {
    legal_page(
        &state,
        &ctx,
        &session,
        "accessibility.title",
        |page, tenant| AccessibilityPage { page, tenant },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "platform/impressum.html")]
pub struct ImpressumPage {
    pub page: Page,
    pub tenant: Tenant,
}

#[derive(Template, WebTemplate)]
#[template(path = "platform/privacy.html")]
pub struct PrivacyPage {
    pub page: Page,
    pub tenant: Tenant,
}

#[derive(Template, WebTemplate)]
#[template(path = "platform/accessibility.html")]
pub struct AccessibilityPage {
    pub page: Page,
    pub tenant: Tenant,
}
