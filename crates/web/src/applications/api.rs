//! Applications API.
//!
//! - `POST /applications` (public; `Idempotency-Key` header): submit data for a
//!   published form → reference and access token. Validated like the wizard.
//! - `GET /applications/{reference}`: with the applicant's access token as
//!   bearer, or a clerk token for cases in the clerk's org units.
//! - Applicant (access token): `GET /applications/{reference}` (with the
//!   mailbox), `POST /applications/{reference}/messages {"body", "files"?:
//!   [{"name", "content" (base64)}]}`, `GET /applications/{reference}/files/{id}`
//!   (opening a Bescheid records its Bekanntgabe).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use rathaus_app::{
    Actor, UseCaseError,
    applications::{Answer, ApplicantApplication, Submission, SubmitOutcome, Upload},
};
use rathaus_domain::applications::parse_idempotency_key;
use rathaus_storage::applications::ApplicationFile;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiUser},
    client::Client,
    context::Ctx,
    error::AppError,
    form_render::problems_json,
    payment::{PaymentSummary, summary},
    routes::{Routes, get, post},
    workflow::refused,
};

pub fn routes() -> Routes {
    Routes::new("applications")
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
}

/// An application: a published form's data.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct SubmitBody {
    /// Form id or key.
    form: String,
    /// The data as described by the form's JSON Schema (`GET /forms/{id}/schema`).
    #[schema(value_type = Object)]
    data: Value,
}

/// A received application.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Received {
    reference: String,
    status: String,
    /// False when the Idempotency-Key named an application received before.
    created: bool,
    /// The applicant's access token (bearer for the applicant's operations); only on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_url: Option<String>,
    /// The fee to pay before the application is received (status
    /// `awaiting_payment`): `url` sends the payer to the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    payment: Option<PaymentSummary>,
}

async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    if !state.limiter.check_draft(client) {
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
    let submission = Submission::Data {
        form: body.form,
        data: body.data,
        idempotency_key: key,
    };
    let submitted = match state
        .app
        .submit_application(&Actor::Anonymous { tenant: tid }, submission)
        .await
    {
        Ok(SubmitOutcome::Received(s)) => s,
        Ok(SubmitOutcome::Invalid {
            definition,
            problems,
        }) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "error": {
                        "status": 422, "code": "validation", "message": ctx.t("error.text_422"),
                        "fields": problems_json(&definition, &problems, ctx.lang),
                    }
                })),
            )
                .into_response());
        }
        Err(UseCaseError::Validation(v)) if v.0.iter().any(|e| e.code == "forms.data_object") => {
            return Err(AppError::InvalidJson(
                ctx.t("forms.data_object").to_string(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let base = state.config.public_url.trim_end_matches('/');
    let payment = state
        .app
        .start_application_fee(&submitted.application)
        .await?
        .map(|(p, url)| summary(&p, url));
    let body = Received {
        payment,
        reference: submitted.application.reference.clone(),
        status: submitted.case.status().code().to_string(),
        created: submitted.created,
        status_url: (submitted.access_token.as_ref()).map(|t| format!("{base}/antrag/eingang/{t}")),
        access_token: submitted.access_token.clone(),
    };
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

/// A file of an application or of a message.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FileRef {
    id: Uuid,
    /// The form field (empty for files of a message).
    field: String,
    name: String,
    /// Detected from the content.
    mime: String,
    size: i64,
    sha256: String,
}

/// A message of the mailbox.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MailboxMessage {
    id: Uuid,
    /// `message`, `document_request`, `answer`, `decision`.
    kind: String,
    from_office: bool,
    body: String,
    requested_documents: Option<Vec<String>>,
    due_date: Option<chrono::NaiveDate>,
    created_at: chrono::DateTime<chrono::Utc>,
    read_at: Option<chrono::DateTime<chrono::Utc>>,
    files: Vec<FileRef>,
}

/// An application with its files and mailbox.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ApplicationBody {
    reference: String,
    status: String,
    case: Uuid,
    submitted_at: chrono::DateTime<chrono::Utc>,
    /// The responsible org unit's name.
    org_unit: Option<String>,
    /// The submitted data.
    data: Value,
    files: Vec<FileRef>,
    messages: Vec<MailboxMessage>,
    /// Its payments (the fee before sending, fee requests), oldest first.
    payments: Vec<PaymentSummary>,
}

fn application_json(a: &ApplicantApplication, payments: Vec<PaymentSummary>) -> ApplicationBody {
    let file_json = |f: &ApplicationFile| FileRef {
        id: f.id,
        field: f.field_path.clone(),
        name: f.name.clone(),
        mime: f.mime.clone(),
        size: f.size,
        sha256: f.sha256.clone(),
    };
    let app = &a.application;
    let files_of = |m: Option<Uuid>| {
        a.files
            .iter()
            .filter(|f| f.message_id == m)
            .map(file_json)
            .collect::<Vec<_>>()
    };
    ApplicationBody {
        reference: app.reference.clone(),
        status: a.case.status().code().to_string(),
        case: a.case.id,
        submitted_at: app.submitted_at,
        org_unit: a.org_unit.clone(),
        data: app.data(),
        files: files_of(None),
        messages: a
            .messages
            .iter()
            .map(|m| MailboxMessage {
                id: m.id,
                kind: m.kind.clone(),
                from_office: m.from_office,
                body: m.body.clone(),
                requested_documents: m.requested_documents.as_deref().map(|d| {
                    d.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                }),
                due_date: m.due_date,
                created_at: m.created_at,
                read_at: m.read_at,
                files: files_of(Some(m.id)),
            })
            .collect(),
        payments,
    }
}

/// With the access token (applicant) or a clerk token of the responsible units.
async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    caller: Result<ApiUser, AppError>,
    Path(reference): Path<String>,
) -> Result<Response, AppError> {
    let actor = match caller {
        Ok(staff) => staff.actor(&state).await?,
        Err(_) => {
            let token = bearer(&headers).ok_or(AppError::InvalidToken)?;
            state
                .app
                .applicant(ctx.tenant()?.tenant_id(), token)
                .await
                .map_err(unknown_token)?
        }
    };
    let found = state
        .app
        .read_application(&actor, Some(&reference), false)
        .await?;
    let payments = match actor.staff() {
        Some(_) => state
            .app
            .case_payments(&actor, found.case.id)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
        None => {
            state
                .app
                .applicant_payments(&actor, Some(&reference))
                .await?
        }
    };
    let payments = payments
        .iter()
        .map(|p| summary(p, p.provider_url.clone()))
        .collect();
    Ok(Json(application_json(&found, payments)).into_response())
}

/// The applicant of an application by access token (bearer).
async fn applicant(state: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<Actor, AppError> {
    let token = bearer(headers).ok_or(AppError::InvalidToken)?;
    if token.len() > 100 {
        return Err(AppError::InvalidToken);
    }
    state
        .app
        .applicant(ctx.tenant()?.tenant_id(), token)
        .await
        .map_err(unknown_token)
}

/// A bearer that is neither a staff token nor an access token is an invalid
/// credential (401), not a missing application.
fn unknown_token(e: UseCaseError) -> AppError {
    match e {
        UseCaseError::NotFound => AppError::InvalidToken,
        other => other.into(),
    }
}

/// A file of an answer.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct UploadBody {
    name: String,
    /// Base64 (standard alphabet).
    content: String,
}

/// The applicant's answer: text, files or both.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct AnswerBody {
    #[serde(default)]
    #[schema(max_length = 8000)]
    body: String,
    #[serde(default)]
    #[schema(max_items = 10)]
    files: Vec<UploadBody>,
}

/// An answer just written.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AnswerCreated {
    id: Uuid,
    /// `answer`.
    kind: String,
}

/// The applicant, by the access token as bearer: taken before the body, so
/// that a caller without it gets 401 whatever the body.
pub(crate) struct ApplicantCaller(Actor);

impl axum::extract::FromRequestParts<AppState> for ApplicantCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AppError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let actor = applicant(state, &ctx, &parts.headers).await?;
        // The application of the path must be the token's, before the body is read.
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        if let Some((_, reference)) = params.iter().find(|(k, _)| *k == "reference") {
            state.app.require_own_application(&actor, reference).await?;
        }
        Ok(ApplicantCaller(actor))
    }
}

/// The applicant answers (text and files; files are typed by content).
async fn applicant_message(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    ApplicantCaller(actor): ApplicantCaller,
    Path(reference): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    use base64::Engine;
    if !body.files.is_empty() && !state.limiter.check_upload(client) {
        return Err(AppError::RateLimited);
    }
    let mut files = Vec::new();
    for (i, f) in body.files.into_iter().enumerate() {
        let content = base64::engine::general_purpose::STANDARD
            .decode(f.content.trim())
            .map_err(|_| {
                AppError::Validation(
                    rathaus_domain::FieldError::new(format!("files[{i}].content"), "file.base64")
                        .into(),
                )
            })?;
        files.push(Upload {
            name: f.name,
            content: content.into(),
        });
    }
    let answer = Answer {
        body: body.body,
        files,
    };
    match state
        .app
        .answer_application(&actor, Some(&reference), answer)
        .await
    {
        Ok(m) => Ok((
            StatusCode::CREATED,
            Json(AnswerCreated {
                id: m.id,
                kind: m.kind,
            }),
        )
            .into_response()),
        Err(UseCaseError::Transition(t)) => Ok(refused(&ctx, &t)),
        Err(e) => Err(e.into()),
    }
}

/// A file of the application for the applicant; the first download of a
/// Bescheid is its Bekanntgabe.
async fn applicant_file(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((reference, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let actor = applicant(&state, &ctx, &headers).await?;
    let file = Uuid::parse_str(&file).map_err(|_| AppError::NotFound)?;
    let (f, bytes) = state
        .app
        .applicant_file(&actor, Some(&reference), file)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, f.mime),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
