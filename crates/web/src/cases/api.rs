//! Cases API for clerks (staff token): `GET /cases` (the inbox with
//! `status`, `mine`, `unassigned`, `reference`, `before` (cursor), `limit`),
//! `POST /cases/{id}/claim`, `/status {"action"}`, `/notes {"text"}`,
//! `/forward {"org_unit"}`, `/messages {"body", "requested_documents"?,
//! "due_date"?}`; `GET /cases/{id}/audit`.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use rathaus_app::cases::{CaseStep, InboxFilter, OfficeMessageInput, cursor_of, parse_cursor};
use rathaus_domain::cases::{CaseAction, CaseStatus};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser},
    error::AppError,
    routes::{Routes, get, post},
};

pub fn routes() -> Routes {
    Routes::new("cases")
        .route("/cases/{id}/messages", post(office_message))
        .route("/cases", get(inbox))
        .route("/cases/{id}/claim", post(claim))
        .route("/cases/{id}/status", post(status))
        .route("/cases/{id}/notes", post(note))
        .route("/cases/{id}/forward", post(forward))
        .route("/cases/{id}/audit", get(audit))
}

#[derive(serde::Deserialize, Default)]
struct InboxParams {
    status: Option<String>,
    #[serde(default)]
    mine: bool,
    #[serde(default)]
    unassigned: bool,
    #[serde(default)]
    overdue: bool,
    reference: Option<String>,
    before: Option<String>,
    limit: Option<u64>,
}

fn case_json(r: &rathaus_storage::applications::InboxRow) -> Value {
    json!({
        "id": r.case.id,
        "reference": r.application.reference,
        "status": r.case.status().code(),
        "assignee": r.case.assignee_id,
        "org_unit": r.case.org_unit_id,
        "service": r.application.service_id,
        "submitted_at": r.application.submitted_at,
        "due_at": r.case.due_at,
        "overdue": r.case.overdue(Utc::now()),
    })
}

async fn inbox(
    State(state): State<AppState>,
    caller: ApiUser,
    Query(p): Query<InboxParams>,
) -> Result<Response, AppError> {
    let status = match p.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(CaseStatus::parse(s).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new("status", "option.unknown").into())
        })?),
    };
    let before = match p.before.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new("before", "cursor.invalid").into())
        })?),
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let actor = caller.actor(&state).await?;
    let rows = state
        .app
        .inbox(
            &actor,
            InboxFilter {
                status,
                mine: p.mine,
                unassigned: p.unassigned,
                overdue: p.overdue,
                reference: p.reference,
                before,
                limit,
            },
        )
        .await?;
    let next = (rows.len() as u64 == limit).then(|| cursor_of(&rows[rows.len() - 1].case));
    Ok(
        Json(json!({ "cases": rows.iter().map(case_json).collect::<Vec<_>>(), "next": next }))
            .into_response(),
    )
}

/// Applies a step through the use case; a refused step is 409 `case.transition`.
async fn change(
    state: &AppState,
    caller: &ApiUser,
    id: &str,
    step: CaseStep,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let actor = caller.actor(state).await?;
    let c = state.app.change_case(&actor, id, step).await?;
    Ok(Json(json!({
        "id": c.id, "status": c.status().code(), "assignee": c.assignee_id, "org_unit": c.org_unit_id
    }))
    .into_response())
}

async fn claim(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    change(&state, &caller, &id, CaseStep::Claim).await
}

#[derive(serde::Deserialize)]
struct StatusBody {
    action: CaseAction,
}

async fn status(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, AppError> {
    // `decide` is refused by the use case: POST /cases/{id}/decide.
    change(&state, &caller, &id, CaseStep::Status(body.action)).await
}

#[derive(serde::Deserialize)]
struct NoteBody {
    text: String,
}

async fn note(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Response, AppError> {
    change(&state, &caller, &id, CaseStep::Note(body.text)).await
}

#[derive(serde::Deserialize)]
struct ForwardBody {
    org_unit: Uuid,
}

async fn forward(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ForwardBody>,
) -> Result<Response, AppError> {
    change(&state, &caller, &id, CaseStep::Forward(body.org_unit)).await
}

async fn audit(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let actor = caller.actor(&state).await?;
    let (case, entries) = state.app.case_audit(&actor, id).await?;
    Ok(Json(json!({
        "case": case.id,
        "entries": entries.iter().map(|e| json!({
            "id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
            "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
            "prev_hash": e.prev_hash, "hash": e.hash,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
struct OfficeMessageBody {
    body: String,
    /// Documents requested (a document request moves the case to awaiting documents).
    #[serde(default)]
    requested_documents: Vec<String>,
    due_date: Option<chrono::NaiveDate>,
}

async fn office_message(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OfficeMessageBody>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let actor = caller.actor(&state).await?;
    let input = OfficeMessageInput {
        body: body.body,
        requested_documents: body.requested_documents,
        due_date: body.due_date,
    };
    let m = state.app.office_message(&actor, id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": m.id, "kind": m.kind })),
    )
        .into_response())
}
