//! Public portal pages: home and the legal pages (Impressum,
//! Datenschutzerklärung, Erklärung zur Barrierefreiheit), filled from the
//! tenant's data.

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
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

/// Public pages may be cached briefly by the browser, never by shared caches
/// (they show the logged-in state).
const CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "private, max-age=60");

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
    Ok((
        [CACHE],
        HomePage {
            page,
            tenant: (**tenant).clone(),
            offices,
            topics,
            life_situations,
        },
    ))
}

async fn impressum(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<impl IntoResponse, AppError> {
    let tenant = (**ctx.tenant()?).clone();
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("impressum.title")),
    )
    .await?;
    Ok(([CACHE], ImpressumPage { page, tenant }))
}

async fn privacy(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<impl IntoResponse, AppError> {
    let tenant = (**ctx.tenant()?).clone();
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("privacy.title")),
    )
    .await?;
    Ok(([CACHE], PrivacyPage { page, tenant }))
}

async fn accessibility(
    State(state): State<AppState>,
    ctx: Ctx,
    session: tower_sessions::Session,
) -> Result<impl IntoResponse, AppError> {
    let tenant = (**ctx.tenant()?).clone();
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("accessibility.title")),
    )
    .await?;
    Ok(([CACHE], AccessibilityPage { page, tenant }))
}
