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
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use rathaus_domain::{
    applications::{Reference, parse_idempotency_key},
    forms,
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{
    applications::{Application, Case, CaseError, NewApplication},
    identity::TokenRepository,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::ApiJson,
    auth::units_of_clerk,
    context::Ctx,
    error::AppError,
    form_render::problems_json,
    intake::{published_form, route},
    routes::{Routes, get, post},
    upload::{MAX_UPLOAD_BYTES, safe_file_name, sniff},
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
    let published = published_form(&state, tid, &body.form).await?;
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
                    "fields": problems_json(def, &problems, ctx.lang),
                }
            })),
        )
            .into_response());
    }
    let (unit, due_days) = route(&state, tid, form.service_id, &data).await?;
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
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new(&field, "file.too_large").into(),
            ));
        }
        let mime = sniff(&bytes).ok_or_else(|| {
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
            name: safe_file_name(&name, mime),
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
