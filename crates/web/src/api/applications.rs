//! Applications and cases API.
//!
//! - `POST /applications` (public; `Idempotency-Key` header): submit data for a
//!   published form → reference and access token. Validated like the wizard.
//! - `GET /applications/{reference}`: with the applicant's access token as
//!   bearer, or a clerk token for cases in the clerk's org units.
//! - `GET /cases` (clerk token): the inbox with `status`, `mine`, `unassigned`,
//!   `reference`, `before` (cursor), `limit`.
//! - `POST /cases/{id}/claim`, `/status {"action"}`, `/notes {"text"}`,
//!   `/forward {"org_unit"}`, `/messages {"body", "requested_documents"?,
//!   "due_date"?}`, `/decide {"variant", "reason"}`; `GET /cases/{id}/audit`.
//! - Applicant (access token): `GET /applications/{reference}` (with the
//!   mailbox), `POST /applications/{reference}/messages {"body", "files"?:
//!   [{"name", "content" (base64)}]}`, `GET /applications/{reference}/files/{id}`
//!   (opening a Bescheid records its Bekanntgabe).

use axum::{
    Json, Router,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use rathaus_domain::{
    applications::{Reference, parse_idempotency_key},
    cases::{CaseAction, CaseStatus},
    forms,
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{
    applications::{Application, Case, CaseChange, CaseError, InboxQuery, NewApplication},
    identity::TokenRepository,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ApiJson, ApiUser};
use crate::{AppState, context::Ctx, error::AppError, staff_cases::units_of_clerk};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", post(submit))
        .route("/applications/{reference}", get(one))
        .route(
            "/applications/{reference}/messages",
            post(applicant_message),
        )
        .route(
            "/applications/{reference}/files/{file}",
            get(applicant_file),
        )
        .route("/cases/{id}/messages", post(office_message))
        .route("/cases/{id}/decide", post(decide))
        .route("/cases", get(inbox))
        .route("/cases/{id}/claim", post(claim))
        .route("/cases/{id}/status", post(status))
        .route("/cases/{id}/notes", post(note))
        .route("/cases/{id}/forward", post(forward))
        .route("/cases/{id}/audit", get(audit))
}

#[derive(serde::Deserialize)]
struct SubmitBody {
    /// Form id or key.
    form: String,
    data: Value,
}

async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let tid = tenant.tenant_id();
    if !state.limiter.check_draft(Some(peer.ip())) {
        return Err(AppError::RateLimited);
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(parse_idempotency_key)
                .ok_or_else(|| {
                    AppError::Validation(
                        rathaus_domain::FieldError::new(
                            "idempotency_key",
                            "idempotency_key.invalid",
                        )
                        .into(),
                    )
                })?,
        ),
    };
    let published = crate::intake::published_form(&state, tid, &body.form).await?;
    let (form, version, def) = (&published.form, &published.version, &published.definition);
    if !body.data.is_object() {
        return Err(AppError::InvalidJson(
            ctx.t("forms.data_object").to_string(),
        ));
    }
    let today = Utc::now().date_naive();
    let mut data = body.data;
    forms::apply_computed(def, &mut data, today);
    let problems = forms::validate(def, &data, today);
    if !problems.is_empty() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": {
                    "status": 422, "code": "validation", "message": ctx.t("error.text_422"),
                    "fields": super::forms::problems_json(def, &problems, ctx.lang),
                }
            })),
        )
            .into_response());
    }
    let (unit, due_days) = crate::forms::route(&state, tid, form.service_id, &data).await?;
    let notify_email = rathaus_domain::decisions::email_from_form(def, &data);
    let submitted = state
        .store
        .submit_application(NewApplication {
            tenant: tid,
            prefix: Reference::prefix_for(&tenant.name),
            service_id: form.service_id,
            form_version_id: version.id,
            data,
            idempotency_key: key,
            files: vec![],
            org_unit_id: unit,
            draft_id: None,
            actor: "applicant:api".into(),
            due_days,
            citizen_id: None,
            notify_email,
        })
        .await?;
    let base = state.config.public_url.trim_end_matches('/');
    let mut body = json!({
        "reference": submitted.application.reference,
        "status": submitted.case.status().code(),
        "created": submitted.created,
    });
    if let Some(t) = &submitted.access_token {
        body["access_token"] = json!(t);
        body["status_url"] = json!(format!("{base}/antrag/eingang/{t}"));
    }
    Ok((
        if submitted.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(body),
    )
        .into_response())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn application_json(
    state: &AppState,
    tenant: TenantId,
    app: &Application,
    case: &Case,
) -> Result<Value, AppError> {
    use rathaus_storage::tenancy::OrgUnitRepository;
    let repo = state.store.repo();
    let unit = repo.org_unit(tenant, case.org_unit_id).await?;
    let files = repo.application_files(tenant, app.id).await?;
    let mut all_files = files.clone();
    all_files.extend(repo.message_files(tenant, app.id).await?);
    let messages = repo.messages(tenant, app.id).await?;
    let file_json = |f: &rathaus_storage::applications::ApplicationFile| json!({"id": f.id, "field": f.field_path, "name": f.name, "mime": f.mime, "size": f.size, "sha256": f.sha256});
    Ok(json!({
        "reference": app.reference,
        "status": case.status().code(),
        "case": case.id,
        "submitted_at": app.submitted_at,
        "org_unit": unit.map(|u| u.name),
        "data": app.data(),
        "files": files.iter().filter(|f| f.message_id.is_none()).map(file_json).collect::<Vec<_>>(),
        "messages": messages.iter().map(|m| json!({
            "id": m.id,
            "kind": m.kind,
            "from_office": m.from_office,
            "body": m.body,
            "requested_documents": m.requested_documents.as_deref().map(|d| d.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>()),
            "due_date": m.due_date,
            "created_at": m.created_at,
            "read_at": m.read_at,
            "files": all_files.iter().filter(|f| f.message_id == Some(m.id)).map(file_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}

/// With the access token (applicant) or a clerk token of the responsible units.
async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, AppError> {
    let token = bearer(&headers).ok_or(AppError::InvalidToken)?;
    let repo = state.store.repo();
    let tenant = ctx.tenant()?.tenant_id();
    // A staff token?
    if let Some((tok, user)) = repo.authenticate_token(token).await? {
        let tid = TenantId(user.tenant_id);
        let _ = tok;
        let units = units_of_clerk(&state, tid, user.id).await?;
        let app = repo
            .application_by_reference(tid, &reference)
            .await?
            .ok_or(AppError::NotFound)?;
        let case = repo.case_of(tid, app.id).await?.ok_or(AppError::NotFound)?;
        if !units.contains(&case.org_unit_id) {
            return Err(AppError::NotFound);
        }
        return Ok(Json(application_json(&state, tid, &app, &case).await?).into_response());
    }
    let app = repo
        .application_by_access_token(tenant, token)
        .await?
        .filter(|a| a.reference.eq_ignore_ascii_case(reference.trim()))
        .ok_or(AppError::NotFound)?;
    let case = repo
        .case_of(tenant, app.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(application_json(&state, tenant, &app, &case).await?).into_response())
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
            let message = crate::staff_cases::refused_message(ctx.lang, &t);
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

/// The applicant of an application by access token (bearer).
async fn applicant_app(
    state: &AppState,
    tenant: TenantId,
    headers: &HeaderMap,
    reference: &str,
) -> Result<Application, AppError> {
    let token = bearer(headers).ok_or(AppError::InvalidToken)?;
    if token.len() > 100 {
        return Err(AppError::InvalidToken);
    }
    state
        .store
        .repo()
        .application_by_access_token(tenant, token)
        .await?
        .filter(|a| a.reference.eq_ignore_ascii_case(reference.trim()))
        .ok_or(AppError::NotFound)
}

#[derive(serde::Deserialize)]
struct UploadBody {
    name: String,
    /// Base64 (standard alphabet).
    content: String,
}

#[derive(serde::Deserialize)]
struct AnswerBody {
    #[serde(default)]
    body: String,
    #[serde(default)]
    files: Vec<UploadBody>,
}

/// The applicant answers (text and files; files are typed by content).
async fn applicant_message(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(reference): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    use base64::Engine;
    use sha2::Digest;
    let tenant = ctx.tenant()?.tenant_id();
    let app = applicant_app(&state, tenant, &headers, &reference).await?;
    let text = body.body.trim().to_string();
    if text.chars().count() > 8000 {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("body", "too_long").into(),
        ));
    }
    if body.files.len() > 10 {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("files", "too_long").into(),
        ));
    }
    let mut checked = Vec::new();
    for (i, f) in body.files.into_iter().enumerate() {
        let field = format!("files[{i}].content");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(f.content.trim())
            .map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new(&field, "file.base64").into())
            })?;
        if bytes.len() > crate::forms::MAX_UPLOAD_BYTES {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new(&field, "file.too_large").into(),
            ));
        }
        let mime = crate::forms::sniff(&bytes).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new(&field, "file.type").into())
        })?;
        checked.push((f.name, mime, bytes));
    }
    if text.is_empty() && checked.is_empty() {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("body", "required").into(),
        ));
    }
    let mut files = Vec::new();
    for (name, mime, bytes) in checked {
        let key = format!("uploads/{}", Uuid::now_v7());
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        let size = bytes.len() as i64;
        state
            .files
            .put(tenant, &key, bytes.into())
            .await
            .map_err(AppError::internal)?;
        files.push(rathaus_storage::applications::NewFile {
            field_path: "antwort".into(),
            file_key: key,
            name: crate::forms::safe_file_name(&name, mime),
            mime: mime.to_string(),
            size,
            sha256: sha,
        });
    }
    match state
        .store
        .applicant_answer(tenant, app.id, text, files)
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

fn refused(ctx: &Ctx, t: &rathaus_domain::cases::TransitionError) -> Response {
    let message = crate::staff_cases::refused_message(ctx.lang, t);
    (
        StatusCode::CONFLICT,
        Json(json!({"error": {"status": 409, "code": "case.transition", "message": message}})),
    )
        .into_response()
}

/// A file of the application for the applicant; the first download of a
/// Bescheid is its Bekanntgabe.
async fn applicant_file(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((reference, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let app = applicant_app(&state, tenant, &headers, &reference).await?;
    let file = Uuid::parse_str(&file).map_err(|_| AppError::NotFound)?;
    let repo = state.store.repo();
    let f = repo
        .application_files(tenant, app.id)
        .await?
        .into_iter()
        .find(|f| f.id == file)
        .ok_or(AppError::NotFound)?;
    if let Some(m) = f.message_id
        && repo.decision_message(tenant, app.id, m).await?.is_some()
    {
        state.store.open_decision(tenant, m).await?;
    }
    let bytes = state
        .files
        .get(tenant, &f.file_key)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, f.mime.clone()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The clerk's case (in the caller's org units).
async fn clerk_case(state: &AppState, caller: &ApiUser, id: &str) -> Result<Case, AppError> {
    let tenant = caller.tenant();
    let units = units_of_clerk(state, tenant, caller.user.id).await?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    state
        .store
        .repo()
        .case(tenant, id)
        .await?
        .filter(|c| units.contains(&c.org_unit_id))
        .ok_or(AppError::NotFound)
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

#[derive(serde::Deserialize)]
struct DecideBody {
    /// `approval` or `rejection`.
    variant: String,
    #[serde(default)]
    reason: String,
}

/// Decides with a Bescheid from the service's template (PDF/A into the mailbox).
async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Response, AppError> {
    let tenant_name = ctx.tenant()?.name.clone();
    let case = clerk_case(&state, &caller, &id).await?;
    let variant = rathaus_domain::decisions::Variant::parse(&body.variant).ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("variant", "option.unknown").into())
    })?;
    if body.reason.chars().count() > 20_000 {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("reason", "too_long").into(),
        ));
    }
    let actor = format!("user:{}", caller.user.id);
    match crate::staff_decisions::issue_decision(
        &state,
        &tenant_name,
        caller.tenant(),
        &case,
        variant,
        &body.reason,
        (caller.user.id, &actor, &caller.user.display_name),
    )
    .await?
    {
        Ok(()) => {
            let c = state
                .store
                .repo()
                .case(caller.tenant(), case.id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Json(json!({ "id": c.id, "status": c.status().code() })).into_response())
        }
        Err(t) => Ok(refused(&ctx, &t)),
    }
}
