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

#[derive(serde::Deserialize)]
struct SubmitBody {
    /// Form id or key.
    form: String,
    data: Value,
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

fn application_json(a: &ApplicantApplication) -> Value {
    let file_json = |f: &ApplicationFile| json!({"id": f.id, "field": f.field_path, "name": f.name, "mime": f.mime, "size": f.size, "sha256": f.sha256});
    let app = &a.application;
    json!({
        "reference": app.reference,
        "status": a.case.status().code(),
        "case": a.case.id,
        "submitted_at": app.submitted_at,
        "org_unit": a.org_unit,
        "data": app.data(),
        "files": a.files.iter().filter(|f| f.message_id.is_none()).map(file_json).collect::<Vec<_>>(),
        "messages": a.messages.iter().map(|m| json!({
            "id": m.id,
            "kind": m.kind,
            "from_office": m.from_office,
            "body": m.body,
            "requested_documents": m.requested_documents.as_deref().map(|d| d.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>()),
            "due_date": m.due_date,
            "created_at": m.created_at,
            "read_at": m.read_at,
            "files": a.files.iter().filter(|f| f.message_id == Some(m.id)).map(file_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
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
                .await?
        }
    };
    let found = state
        .app
        .read_application(&actor, Some(&reference), false)
        .await?;
    Ok(Json(application_json(&found)).into_response())
}

/// The applicant of an application by access token (bearer).
async fn applicant(state: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<Actor, AppError> {
    let token = bearer(headers).ok_or(AppError::InvalidToken)?;
    if token.len() > 100 {
        return Err(AppError::InvalidToken);
    }
    Ok(state
        .app
        .applicant(ctx.tenant()?.tenant_id(), token)
        .await?)
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
    ext: axum::http::Extensions,
    Path(reference): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    use base64::Engine;
    let actor = applicant(&state, &ctx, &headers).await?;
    if !body.files.is_empty()
        && !state
            .limiter
            .check_upload(crate::platform::security::client_ip(&ext))
    {
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
            Json(json!({ "id": m.id, "kind": m.kind })),
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
