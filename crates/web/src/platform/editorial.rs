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
    editorial::{Archivable, Content, RecordChange, VersionRow, Workflow, WorkflowStep},
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

/// The state, context and staff member of a staff page request.
pub type Here<'a> = (&'a AppState, &'a Ctx, &'a StaffUser);

/// A kind of content with staff pages and API operations.
pub trait EditorialKind: Content + Send + Sync + 'static
where
    Self::Version: Send,
{
    /// The staff pages' prefix, e.g. `/staff/catalog`.
    const PAGES: &'static str;

    /// The detail page with the reason a step was refused.
    fn refused(
        here: Here<'_>,
        id: Uuid,
        reason: String,
    ) -> impl Future<Output = Result<Response, AppError>> + Send;

    /// The record named in an API path (by default its id).
    fn resolve(
        _state: &AppState,
        _actor: &Actor,
        id: &str,
    ) -> impl Future<Output = Result<Uuid, AppError>> + Send {
        std::future::ready(parse_id(id))
    }

    /// The API's answer after a step (by default `{id, version, status}`).
    fn answer(
        _state: &AppState,
        _actor: &Actor,
        id: Uuid,
        version: Self::Version,
    ) -> impl Future<Output = Result<Response, AppError>> + Send {
        std::future::ready(Ok(step_json(id, &version)))
    }
}

fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

/// The `STEP` of [`page_step`] and [`api_step`].
pub const SUBMIT: u8 = 0;
pub const APPROVE: u8 = 1;
pub const REJECT: u8 = 2;

/// The step and the detail page's notice after it.
fn step(kind: u8, comment: String) -> (WorkflowStep, &'static str) {
    match kind {
        SUBMIT => (WorkflowStep::Submit, "submitted"),
        APPROVE => (WorkflowStep::Approve, "approved"),
        _ => (WorkflowStep::Reject(comment), "rejected"),
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

/// The body of a step: a rejection's comment (optional everywhere).
#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
pub struct StepForm {
    /// Why the draft is rejected (shown to its author).
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    comment: String,
}

/// Back to the detail page with a notice, or the page again with the reason
/// a refused step (or refused input) gives.
pub async fn after_page<K: EditorialKind>(
    here: Here<'_>,
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
            let (m, fields) = describe(here.1.lang, &e);
            let reason = fields.into_iter().map(|(_, m)| m).next().unwrap_or(m);
            K::refused(here, id, reason).await
        }
        Err(e) => Err(e),
    }
}

/// `POST <pages>/{id}/submit|approve|reject` (`STEP`: [`SUBMIT`] …).
pub async fn page_step<K: EditorialKind, const STEP: u8>(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<StepForm>,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let (step, msg) = step(STEP, f.form.comment);
    let r = state.app.workflow_step::<K>(&actor, id, step).await;
    after_page::<K>(
        (&state, &ctx, &staff),
        id,
        msg,
        r.map(drop).map_err(AppError::from),
    )
    .await
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
        .map(drop)
        .map_err(AppError::from);
    after_page::<K>((&state, &ctx, &staff), id, "change_requested", r).await
}

/// `POST <pages>/{id}/change/approve|reject`: a second editor approves (and
/// so applies) or rejects the record's pending change (archiving, linking).
pub async fn page_change<K: EditorialKind, const APPROVE: bool>(
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
        .review_change::<K>(&actor, id, APPROVE)
        .await
        .map(drop)
        .map_err(AppError::from);
    let msg = if APPROVE {
        "change_approved"
    } else {
        "change_rejected"
    };
    after_page::<K>((&state, &ctx, &staff), id, msg, r).await
}

/// `POST /api/v1/<kind>/{id}/change/approve|reject`: the pending change
/// after the review.
pub async fn api_change<K: EditorialKind, const APPROVE: bool>(
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
    let change = state.app.review_change::<K>(&actor, id, APPROVE).await?;
    Ok(Json(change_json(&change)).into_response())
}

/// A change to a record (archive a service, attach a form to a service)
/// waiting for (or after) the four eyes.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChangeBody {
    pub id: Uuid,
    /// The service or form the change is about.
    pub record: Uuid,
    /// `archive` or `attach`.
    pub action: String,
    /// For `attach`: the service the form is attached to (none: detached).
    pub service: Option<Uuid>,
    /// `pending`, `approved`, `rejected` or `replaced`.
    pub status: String,
    pub requested_by: Uuid,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub reviewed_by: Option<Uuid>,
}

/// A change waiting for (or after) the four eyes, as the API shows it.
pub fn change_json(c: &RecordChange) -> ChangeBody {
    ChangeBody {
        id: c.id,
        record: c.record_id,
        action: c.action.clone(),
        service: c.target_id,
        status: c.status.clone(),
        requested_by: c.requested_by,
        requested_at: c.requested_at,
        reviewed_by: c.reviewed_by,
    }
}

/// The pending change of a record for the workflow partial: what it does
/// and whether the viewer asked for it.
pub async fn pending_view<K: EditorialKind>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Option<PendingChange>, AppError>
where
    K::Version: Send,
{
    let Some(c) = state.app.pending_change::<K>(actor, id).await? else {
        return Ok(None);
    };
    Ok(Some(PendingChange {
        what: match c.action.as_str() {
            "archive" => "editor.change.archive",
            _ if c.target_id.is_some() => "editor.change.attach",
            _ => "editor.change.detach",
        },
        own: actor.staff().is_some_and(|s| s.user.id == c.requested_by),
    }))
}

/// A change of the record waiting for a second editor.
pub struct PendingChange {
    /// Message key naming the change.
    pub what: &'static str,
    /// The viewer asked for it (and so cannot approve it).
    pub own: bool,
}

/// `POST /api/v1/<kind>/{id}/submit|approve|reject`; a rejection may carry
/// `{"comment": …}` (or no body).
pub async fn api_step<K: EditorialKind, const STEP: u8>(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError>
where
    K::Version: Send,
{
    let actor = caller.actor(&state).await?;
    actor.require(rathaus_app::Permission::EditContent)?;
    let comment = if STEP != REJECT || body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        serde_json::from_slice::<StepForm>(&body)
            .map_err(|e| AppError::InvalidJson(e.to_string()))?
            .comment
    };
    let id = K::resolve(&state, &actor, &id).await?;
    let (step, _) = step(STEP, comment);
    let v = state.app.workflow_step::<K>(&actor, id, step).await?;
    K::answer(&state, &actor, id, v).await
}

/// `POST /api/v1/<kind>/{id}/archive`: 202 with the pending change; the
/// record stays public until a second editor approves it.
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
    let change = state.app.archive::<K>(&actor, id).await?;
    // Accepted, not done: a second editor approves it (four eyes).
    Ok((StatusCode::ACCEPTED, Json(change_json(&change))).into_response())
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
    /// A change of the record waiting for a second editor.
    pub pending: Option<PendingChange>,
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
            pending: None,
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
