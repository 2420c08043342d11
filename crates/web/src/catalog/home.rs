//! The portal's home page: search, topics, life situations, offices.

use axum::{extract::State, response::IntoResponse};
use rathaus_storage::tenancy::OrgUnitRepository;

use super::views::HomePage;
use crate::platform::{
    AppState,
    auth::with_staff,
    context::Ctx,
    error::AppError,
    layout::{Page, cache_header},
    routes::{Routes, get},
};

pub fn routes() -> Routes {
    Routes::new("catalog").route("/", get(home))
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
    let topics = state.app.search.topics(tenant.tenant_id());
    let life_situations = state.app.search.life_situations(tenant.tenant_id());
    let headers = cache_header(&page);
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
