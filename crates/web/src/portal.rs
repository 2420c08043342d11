//! Public portal pages: home and the legal pages (Impressum,
//! Datenschutzerklärung, Erklärung zur Barrierefreiheit), filled from the
//! tenant's data.

use axum::{Router, extract::State, response::IntoResponse, routing::get};
use rathaus_storage::tenancy::OrgUnitRepository;

use crate::{
    AppState,
    context::Ctx,
    error::AppError,
    staff::with_staff,
    views::{AccessibilityPage, HomePage, ImpressumPage, Page, PrivacyPage},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/impressum", get(impressum))
        .route("/datenschutz", get(privacy))
        .route("/barrierefreiheit", get(accessibility))
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?;
    let offices = state
        .store
        .repo()
        .org_units(tenant.tenant_id())
        .await?
        .into_iter()
        .filter(|u| u.parent_id.is_none())
        .collect();
    let page = with_staff(&state, &ctx, &session, Page::new(&ctx, ctx.t("home.title"))).await?;
    let topics = state.catalog.topics(tenant.tenant_id());
    let life_situations = state.catalog.life_situations(tenant.tenant_id());
    let headers = crate::catalog::cache_header(&page);
    Ok((
        headers,
        HomePage {
            page,
            tenant: (**tenant).clone(),
            offices,
            topics,
            life_situations,
        },
    ))
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
    let headers = crate::catalog::cache_header(&page);
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
