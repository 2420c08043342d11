//! The editorial workflow's handlers, once for every kind of versioned
//! content (services, forms): the staff pages' submit/approve/reject/archive
//! buttons, the same steps in the API, and the view of the shared template
//! partial `platform/_workflow.html` (buttons and version history).
//! A capability names its pages and answers through [`EditorialKind`].

use std::future::Future;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Actor,
    editorial::{Archivable, Content, VersionRow, Workflow},
};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::ApiUser,
    auth::StaffUser,
    context::{Ctx, describe},
    error::AppError,
    layout::VersionRow as VersionLine,
    security::CsrfForm,
};

/// A kind of content with staff pages and API operations.
pub trait EditorialKind: Content + Send + Sync + 'static
where
    Self::Version: Send,
{
    /// The staff pages' prefix, e.g. `/staff/catalog`.
    const PAGES: &'static str;

    /// The detail page with the reason a step was refused.
    fn refused(
        state: &AppState,
        ctx: &Ctx,
        staff: &StaffUser,
        id: Uuid,
        reason: String,
    ) -> impl Future<Output = Result<Response, AppError>> + Send;

    /// The record named in an API path.
    fn resolve(
        state: &AppState,
        actor: &Actor,
        id: &str,
    ) -> impl Future<Output = Result<Uuid, AppError>> + Send;

    /// The API's answer after a step.
    fn answer(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
        version: Self::Version,
    ) -> impl Future<Output = Result<Response, AppError>> + Send;
}

fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

#[derive(serde::Deserialize)]
pub struct Empty {}

#[derive(serde::Deserialize, Default)]
pub struct RejectForm {
    #[serde(default)]
    comment: String,
}

/// Which step a staff page button takes.
enum Step {
    Submit,
    Approve,
    Reject(String),
}

async fn take<K: EditorialKind>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    step: Step,
) -> Result<K::Version, AppError>
where
    K::Version: Send,
{
    let app = &state.app;
    Ok(match step {
        Step::Submit => app.submit_version::<K>(actor, id).await?,
        Step::Approve => app.approve_version::<K>(actor, id).await?,
        Step::Reject(comment) => app.reject_version::<K>(actor, id, &comment).await?,
    })
}

/// Back to the detail page with a notice, or the page again with the reason
/// a refused step gives.
async fn after_page<K: EditorialKind>(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    msg: &str,
    result: Result<(), AppError>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{}/{id}?msg={msg}", K::PAGES)).into_response()),
        Err(e @ (AppError::Workflow(_) | AppError::Validation(_))) => {
            let (m, fields) = describe(ctx.lang, &e);
            let reason = fields.into_iter().map(|(_, m)| m).next().unwrap_or(m);
            K::refused(state, ctx, staff, id, reason).await
        }
        Err(e) => Err(e),
    }
}

async fn page_step<K: EditorialKind>(
    state: AppState,
    ctx: Ctx,
    staff: StaffUser,
    id: String,
    step: Step,
    msg: &str,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let r = take::<K>(&state, &actor, id, step).await.map(drop);
    after_page::<K>(&state, &ctx, &staff, id, msg, r).await
}

/// `POST <pages>/{id}/submit`
pub async fn page_submit<K: EditorialKind>(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    page_step::<K>(state, ctx, staff, id, Step::Submit, "submitted").await
}

/// `POST <pages>/{id}/approve`
pub async fn page_approve<K: EditorialKind>(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    page_step::<K>(state, ctx, staff, id, Step::Approve, "approved").await
}

/// `POST <pages>/{id}/reject` (comment optional)
pub async fn page_reject<K: EditorialKind>(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<RejectForm>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let step = Step::Reject(f.form.comment);
    page_step::<K>(state, ctx, staff, id, step, "rejected").await
}

/// `POST <pages>/{id}/archive`
pub async fn page_archive<K: EditorialKind + Archivable>(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let r = state
        .app
        .archive::<K>(&actor, id)
        .await
        .map_err(AppError::from);
    after_page::<K>(&state, &ctx, &staff, id, "archived", r).await
}

async fn api_step<K: EditorialKind>(
    state: AppState,
    caller: ApiUser,
    id: String,
    step: Step,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = caller.actor(&state).await?;
    actor.require(rathaus_app::Permission::EditContent)?;
    let id = K::resolve(&state, &actor, &id).await?;
    let v = take::<K>(&state, &actor, id, step).await?;
    K::answer(&state, &actor, id, v).await
}

/// `POST /api/v1/<kind>/{id}/submit`
pub async fn api_submit<K: EditorialKind>(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    api_step::<K>(state, caller, id, Step::Submit).await
}

/// `POST /api/v1/<kind>/{id}/approve`
pub async fn api_approve<K: EditorialKind>(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    api_step::<K>(state, caller, id, Step::Approve).await
}

/// `POST /api/v1/<kind>/{id}/reject`: the body `{"comment": …}` is optional.
pub async fn api_reject<K: EditorialKind>(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let comment = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        serde_json::from_slice::<RejectForm>(&body)
            .map_err(|e| AppError::InvalidJson(e.to_string()))?
            .comment
    };
    api_step::<K>(state, caller, id, Step::Reject(comment)).await
}

/// `POST /api/v1/<kind>/{id}/archive`: 204 without a body.
pub async fn api_archive<K: EditorialKind + Archivable>(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = caller.actor(&state).await?;
    actor.require(rathaus_app::Permission::EditContent)?;
    let id = K::resolve(&state, &actor, &id).await?;
    state.app.archive::<K>(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The answer `{id, version, status}` of a step.
pub fn step_json(id: Uuid, v: &impl VersionRow) -> Response {
    Json(serde_json::json!({ "id": id, "version": v.number(), "status": v.status().code() }))
        .into_response()
}

/// What `platform/_workflow.html` shows: the step buttons and the history.
pub struct WorkflowView {
    /// The record's page, e.g. `/staff/catalog/<id>`; the steps post below it.
    pub base: String,
    pub can_submit: bool,
    pub can_review: bool,
    pub own_change: bool,
    /// Offer "archive" (a public record of an archivable kind).
    pub can_archive: bool,
    /// Link each version to its comparison with the one before (`<base>/diff`).
    pub compare: bool,
    pub versions: Vec<VersionLine>,
}

impl WorkflowView {
    pub fn of<V>(base: String, w: &Workflow<V>) -> Self {
        Self {
            base,
            can_submit: w.can_submit,
            can_review: w.can_review,
            own_change: w.own_change,
            can_archive: false,
            compare: false,
            versions: w
                .history
                .iter()
                .map(|h| VersionLine {
                    number: h.number,
                    status: h.status.code(),
                    author: h.author.clone(),
                    reviewer: h.reviewer.clone(),
                    comment: h.comment.clone(),
                    updated: h.updated_at.format("%d.%m.%Y %H:%M").to_string(),
                })
                .collect(),
        }
    }
}
