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
use chrono::{DateTime, Utc};
use rathaus_domain::cases::{CaseAction, CaseStatus};
use rathaus_storage::applications::{CaseChange, CaseError, InboxQuery};
use rathaus_storage::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser, clerk_case},
    auth::units_of_clerk,
    context::Ctx,
    error::AppError,
    routes::{Routes, get, post},
    workflow::{refused, refused_message},
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
    let tenant = caller.tenant();
    let units: Vec<Uuid> = units_of_clerk(&state, tenant, caller.user.id)
        .await?
        .into_iter()
        .collect();
    let statuses = match p.status.as_deref() {
        None | Some("") => vec![],
        Some(s) => vec![CaseStatus::parse(s).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new("status", "option.unknown").into())
        })?],
    };
    let before = match p.before.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            c.split_once('_')
                .and_then(|(at, id)| {
                    Some((
                        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
                        Uuid::parse_str(id).ok()?,
                    ))
                })
                .ok_or_else(|| {
                    AppError::Validation(
                        rathaus_domain::FieldError::new("before", "cursor.invalid").into(),
                    )
                })?,
        ),
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let rows = state
        .store
        .repo()
        .inbox(
            tenant,
            &units,
            &InboxQuery {
                statuses,
                assignee: p.mine.then_some(caller.user.id),
                unassigned: p.unassigned,
                overdue: p.overdue,
                reference: p.reference.filter(|r| !r.trim().is_empty()),
                before,
                limit,
            },
        )
        .await?;
    let next = (rows.len() as u64 == limit).then(|| {
        let c = &rows[rows.len() - 1].case;
        format!(
            "{}_{}",
            c.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            c.id
        )
    });
    Ok(
        Json(json!({ "cases": rows.iter().map(case_json).collect::<Vec<_>>(), "next": next }))
            .into_response(),
    )
}

async fn change(
    state: &AppState,
    ctx: &Ctx,
    caller: &ApiUser,
    id: &str,
    change: CaseChange,
) -> Result<Response, AppError> {
    let tenant = caller.tenant();
    let units = units_of_clerk(state, tenant, caller.user.id).await?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let case = state
        .store
        .repo()
        .case(tenant, id)
        .await?
        .filter(|c| units.contains(&c.org_unit_id))
        .ok_or(AppError::NotFound)?;
    let actor = format!("user:{}", caller.user.id);
    match state
        .store
        .change_case(tenant, case.id, (caller.user.id, &actor), change)
        .await
    {
        Ok(c) => Ok(Json(json!({
            "id": c.id, "status": c.status().code(), "assignee": c.assignee_id, "org_unit": c.org_unit_id
        }))
        .into_response()),
        Err(CaseError::Transition(t)) => {
            let message = refused_message(ctx.lang, &t);
            Ok((
                StatusCode::CONFLICT,
                Json(json!({"error": {"status": 409, "code": "case.transition", "message": message}})),
            )
                .into_response())
        }
        Err(CaseError::Storage(e)) => Err(e.into()),
    }
}

async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    change(&state, &ctx, &caller, &id, CaseChange::Claim).await
}

#[derive(serde::Deserialize)]
struct StatusBody {
    action: CaseAction,
}

async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, AppError> {
    if body.action == CaseAction::Decide {
        // A decision is issued with its Bescheid: POST /cases/{id}/decide.
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("action", "decide.needs_bescheid").into(),
        ));
    }
    change(&state, &ctx, &caller, &id, CaseChange::Status(body.action)).await
}

#[derive(serde::Deserialize)]
struct NoteBody {
    text: String,
}

async fn note(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Response, AppError> {
    let text = rathaus_domain::validation::required_text("text", &body.text, 4000)
        .map_err(|e| AppError::Validation(e.into()))?;
    change(&state, &ctx, &caller, &id, CaseChange::Note(text)).await
}

#[derive(serde::Deserialize)]
struct ForwardBody {
    org_unit: Uuid,
}

async fn forward(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ForwardBody>,
) -> Result<Response, AppError> {
    change(
        &state,
        &ctx,
        &caller,
        &id,
        CaseChange::Forward(body.org_unit),
    )
    .await
}

async fn audit(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let tenant = caller.tenant();
    let units = units_of_clerk(&state, tenant, caller.user.id).await?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let repo = state.store.repo();
    let case = repo
        .case(tenant, id)
        .await?
        .filter(|c| units.contains(&c.org_unit_id))
        .ok_or(AppError::NotFound)?;
    let entries = repo.audit_of_case(tenant, case.id).await?;
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
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OfficeMessageBody>,
) -> Result<Response, AppError> {
    let case = clerk_case(&state, &caller, &id).await?;
    let text = rathaus_domain::validation::required_text("body", &body.body, 8000)
        .map_err(|e| AppError::Validation(e.into()))?;
    if body.due_date.is_some_and(|d| d < Utc::now().date_naive()) {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("due_date", "date.invalid").into(),
        ));
    }
    let docs: Vec<String> = body
        .requested_documents
        .iter()
        .map(|d| d.trim().replace('\n', " "))
        .filter(|d| !d.is_empty())
        .collect();
    let actor = format!("user:{}", caller.user.id);
    match state
        .store
        .office_message(
            caller.tenant(),
            case.id,
            (caller.user.id, &actor),
            rathaus_storage::applications::OfficeMessage {
                body: text,
                requested_documents: (!docs.is_empty()).then(|| docs.join("\n")),
                due_date: body.due_date,
            },
        )
        .await
    {
        Ok(m) => Ok((
            StatusCode::CREATED,
            Json(json!({ "id": m.id, "kind": m.kind })),
        )
            .into_response()),
        Err(CaseError::Transition(t)) => Ok(refused(&ctx, &t)),
        Err(CaseError::Storage(e)) => Err(e.into()),
    }
}
