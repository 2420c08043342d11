//! Cases API for clerks (staff token): `GET /cases` (the inbox with
//! `status`, `mine`, `unassigned`, `reference`, `before` (cursor), `limit`),
//! `POST /cases/{id}/claim`, `/status {"action"}`, `/notes {"text"}`,
//! `/forward {"org_unit"}`, `/messages {"body", "requested_documents"?,
//! "due_date"?}`; `GET /cases/{id}/audit`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use rathaus_app::cases::{CaseStep, InboxFilter, OfficeMessageInput, cursor_of, parse_cursor};
use rathaus_domain::cases::{CaseAction, CaseStatus};
use serde_json::Value;
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiQuery, ApiStaff, WorkCases},
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

/// The inbox's filters.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct InboxParams {
    /// `received`, `in_progress`, `awaiting_documents`, `decided`, `closed`, `cancelled`.
    #[param(pattern = "^(received|in_progress|awaiting_documents|decided|closed|cancelled)?$")]
    status: Option<String>,
    /// Only the caller's cases.
    #[serde(default)]
    mine: bool,
    /// Only cases nobody has taken.
    #[serde(default)]
    unassigned: bool,
    /// Only cases past their due date.
    #[serde(default)]
    overdue: bool,
    /// The application's reference.
    reference: Option<String>,
    /// The `next` of the page before.
    #[param(
        pattern = "^(20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\.[0-9]{6}Z_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$"
    )]
    before: Option<String>,
    /// Cases per page (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// A case in the inbox.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseRow {
    id: Uuid,
    reference: String,
    status: String,
    assignee: Option<Uuid>,
    org_unit: Uuid,
    service: Option<Uuid>,
    submitted_at: chrono::DateTime<Utc>,
    due_at: Option<chrono::DateTime<Utc>>,
    overdue: bool,
}

/// `GET /cases`: a page of the inbox, newest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Inbox {
    cases: Vec<CaseRow>,
    /// The cursor of the next page (`before`), if there may be one.
    next: Option<String>,
}

fn case_json(r: &rathaus_storage::applications::InboxRow) -> CaseRow {
    CaseRow {
        id: r.case.id,
        reference: r.application.reference.clone(),
        status: r.case.status().code().to_string(),
        assignee: r.case.assignee_id,
        org_unit: r.case.org_unit_id,
        service: r.application.service_id,
        submitted_at: r.application.submitted_at,
        due_at: r.case.due_at,
        overdue: r.case.overdue(Utc::now()),
    }
}

async fn inbox(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    ApiQuery(p): ApiQuery<InboxParams>,
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
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::BadQuery("limit: 1 to 200".into()));
    }
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
    Ok(Json(Inbox {
        cases: rows.iter().map(case_json).collect(),
        next,
    })
    .into_response())
}

/// A case after a step.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseChanged {
    id: Uuid,
    status: String,
    assignee: Option<Uuid>,
    org_unit: Uuid,
}

/// Applies a step through the use case; a refused step is 409 `case.transition`.
async fn change(
    state: &AppState,
    actor: &rathaus_app::Actor,
    id: &str,
    step: CaseStep,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let c = state.app.change_case(actor, id, step).await?;
    Ok(Json(CaseChanged {
        id: c.id,
        status: c.status().code().to_string(),
        assignee: c.assignee_id,
        org_unit: c.org_unit_id,
    })
    .into_response())
}

async fn claim(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    change(&state, &actor, &id, CaseStep::Claim).await
}

/// A status step.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct StatusBody {
    /// The step (`decide` only through `POST /cases/{id}/decide`).
    #[schema(
        value_type = String,
        pattern = "^(start|request_documents|documents_received|close|cancel)$"
    )]
    action: CaseAction,
}

async fn status(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, AppError> {
    // `decide` is refused by the use case: POST /cases/{id}/decide.
    change(&state, &actor, &id, CaseStep::Status(body.action)).await
}

/// An internal note.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct NoteBody {
    #[schema(
        max_length = 4000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    text: String,
}

async fn note(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Response, AppError> {
    change(&state, &actor, &id, CaseStep::Note(body.text)).await
}

/// The org unit to hand the case to.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ForwardBody {
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    org_unit: Uuid,
}

async fn forward(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ForwardBody>,
) -> Result<Response, AppError> {
    change(&state, &actor, &id, CaseStep::Forward(body.org_unit)).await
}

/// One entry of the case's hash-chained audit log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AuditEntry {
    id: i64,
    /// RFC 3339 with microseconds, exactly as hashed.
    at: String,
    actor: String,
    action: String,
    /// The step's details.
    detail: Value,
    prev_hash: String,
    hash: String,
}

/// `GET /cases/{id}/audit`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Audit {
    case: Uuid,
    entries: Vec<AuditEntry>,
}

async fn audit(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let (case, entries) = state.app.case_audit(&actor, id).await?;
    Ok(Json(Audit {
        case: case.id,
        entries: entries
            .iter()
            .map(|e| AuditEntry {
                id: e.id,
                at: e.at.clone(),
                actor: e.actor.clone(),
                action: e.action.clone(),
                detail: serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
                prev_hash: e.prev_hash.clone(),
                hash: e.hash.clone(),
            })
            .collect(),
    })
    .into_response())
}

/// A message to the applicant; with documents, a document request.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct OfficeMessageBody {
    #[schema(
        max_length = 8000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    body: String,
    /// Documents requested (a document request moves the case to awaiting documents).
    #[serde(default)]
    #[schema(max_items = 30)]
    requested_documents: Vec<String>,
    /// The deadline of a document request: today or later.
    #[schema(pattern = "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    due_date: Option<chrono::NaiveDate>,
}

/// A message just written: its id and kind.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MessageCreated {
    pub id: Uuid,
    /// `message`, `document_request`, `answer`, `decision`.
    pub kind: String,
}

async fn office_message(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OfficeMessageBody>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let input = OfficeMessageInput {
        body: body.body,
        requested_documents: body.requested_documents,
        due_date: body.due_date,
    };
    let m = state.app.office_message(&actor, id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageCreated {
            id: m.id,
            kind: m.kind,
        }),
    )
        .into_response())
}
