//! Working with the e-file: staff file further documents (upload or scan)
//! and notes, move documents between Vorgänge, download a document and its
//! seal, search the full text of all files they may see, and change the file
//! plan through the four-eyes workflow. Pages (no JavaScript) and API; the
//! handlers parse, call `rathaus_app`, render.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Path, Query, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Permission,
    records::{MAX_STAFF_DOCUMENT_BYTES, StaffDocument},
};
use rathaus_domain::records::{Disposition, PlanChange, Retention, RetentionTrigger};
use uuid::Uuid;

use super::api::{document_body, id_of};
use super::attachment;
use super::views::{PlanChangeRow, PlanChangesPage, SearchHitRow, SearchPage, Segment};
use crate::platform::{
    AppState,
    api_auth::{AdministerTenant, ApiJson, ApiQuery, ApiStaff, RecordsStaff},
    auth::{StaffUser, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    json::body_limit,
    multipart,
    routes::{Routes, get, post},
    security::{CsrfForm, verify_csrf},
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/staff/records/documents/{id}", get(download_page))
        .route("/staff/records/documents/{id}/seal", get(seal_page))
        .route("/staff/records/{id}/move", post(move_page))
        .route("/staff/records/{id}/note", post(note_page))
        .route("/staff/records/search", get(search_page))
        .route("/staff/records/{id}/open", get(open_page))
        .route("/staff/records/plan", get(plan_page))
        .route("/staff/records/plan/changes", post(request_change_page))
        .route(
            "/staff/records/plan/changes/{id}/approve",
            post(approve_change_page),
        )
        .route(
            "/staff/records/plan/changes/{id}/reject",
            post(reject_change_page),
        )
        .merge(
            Routes::new("records")
                .route("/staff/records/{id}/documents", post(upload_page))
                .map(|r| r.layer(body_limit(MAX_STAFF_DOCUMENT_BYTES + 64 * 1024))),
        )
}

pub fn api_routes() -> Routes {
    Routes::new("records")
        .route("/records/search", get(search))
        .route("/records/documents/{id}", get(download))
        .route("/records/documents/{id}/seal", get(seal))
        .route("/records/documents/{id}/move", post(move_document))
        .route("/cases/{id}/record/notes", post(note))
        .route("/records/plan/changes", get(changes).post(request_change))
        .route("/records/plan/changes/{id}/approve", post(approve_change))
        .route("/records/plan/changes/{id}/reject", post(reject_change))
        .merge(
            Routes::new("records")
                .route("/records/{id}/documents", post(upload))
                .map(|r| r.layer(body_limit(MAX_STAFF_DOCUMENT_BYTES))),
        )
}

// ---------------------------------------------------------------- API

/// Query of `GET /records/search`.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct SearchParams {
    /// Words to find (1 to 200 characters, at most 12 words); file numbers
    /// and references are found as written.
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Hits to skip (0 to 1,000).
    #[param(minimum = 0, maximum = 1000)]
    offset: Option<usize>,
}

/// A found document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SearchHit {
    document: Uuid,
    version: Uuid,
    record: Uuid,
    file_number: String,
    title: String,
    filed_at: chrono::DateTime<chrono::Utc>,
    /// A piece of the text around the matches (plain text).
    snippet: String,
    /// Byte ranges `[start, end]` of the matched words in `snippet`.
    highlights: Vec<[usize; 2]>,
}

/// `GET /records/search`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SearchResults {
    /// All matches the caller may see.
    total: usize,
    hits: Vec<SearchHit>,
}

async fn search(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Response, AppError> {
    let r = state
        .app
        .search_records(&actor, &p.q, p.offset.unwrap_or(0).min(1000))
        .await?;
    Ok(Json(SearchResults {
        total: r.total,
        hits: r
            .hits
            .into_iter()
            .map(|h| SearchHit {
                document: h.document,
                version: h.version,
                record: h.file,
                file_number: h.file_number,
                title: h.title,
                filed_at: h.filed_at,
                highlights: h.snippet.highlights.iter().map(|(a, b)| [*a, *b]).collect(),
                snippet: h.snippet.text,
            })
            .collect(),
    })
    .into_response())
}

/// Query of `POST /records/{id}/documents`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct UploadParams {
    /// The document's title (1 to 300 characters).
    #[param(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    title: String,
    /// The file's name (its extension follows the content's type).
    #[param(max_length = 200)]
    name: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<UploadParams>,
    req: Request,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    check_name(p.name.as_deref())?;
    let content = raw_body(&state, req, MAX_STAFF_DOCUMENT_BYTES).await?;
    let doc = state
        .app
        .file_document(
            &actor,
            id,
            StaffDocument {
                title: p.title,
                file_name: p.name.unwrap_or_else(|| "dokument".into()),
                content,
            },
        )
        .await?;
    filed(&state, &actor, doc.id).await
}

/// A file name in the query: at most 200 characters.
pub(super) fn check_name(name: Option<&str>) -> Result<(), AppError> {
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::BadQuery(
            "name: höchstens 200 Zeichen (at most 200 characters)".into(),
        ));
    }
    Ok(())
}

/// The document just filed, as `201`.
async fn filed(
    state: &AppState,
    actor: &rathaus_app::Actor,
    document: Uuid,
) -> Result<Response, AppError> {
    let (d, _, _) = state.app.record_document(actor, document, None).await?;
    Ok((StatusCode::CREATED, Json(document_body(&d))).into_response())
}

/// The raw request body (any type: the use case types it by content).
pub(super) async fn raw_body(
    state: &AppState,
    req: Request,
    limit: usize,
) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge { limit }
        } else {
            AppError::BadFile(rejection.body_text())
        }
    })
}

/// A document's content (newest version), as a download.
pub(super) fn content_response(
    v: &rathaus_storage::records::DocumentVersion,
    content: Bytes,
) -> Response {
    content_response_raw(&v.mime, &v.file_name, content)
}

/// Content of a known type as a download (never rendered inline: HTML is
/// never among the types, and the attachment disposition and `nosniff`
/// keep the browser from guessing).
pub(super) fn content_response_raw(mime: &str, name: &str, content: Bytes) -> Response {
    let mime = match mime {
        m @ ("application/pdf" | "image/png" | "image/jpeg" | "application/json"
        | "message/rfc822") => m,
        _ => "text/plain; charset=utf-8",
    };
    let mut r = attachment("application/octet-stream", name, content.to_vec());
    if let Ok(h) = header::HeaderValue::from_str(mime) {
        r.headers_mut().insert(header::CONTENT_TYPE, h);
    }
    r
}

async fn download(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_, v, content) = state.app.record_document(&actor, id_of(&id)?, None).await?;
    Ok(content_response(&v, content))
}

async fn seal(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (name, json) = state.app.document_seal(&actor, id_of(&id)?, None).await?;
    Ok(attachment("application/json", &name, json.into_bytes()))
}

/// The seal file of a document (`rathaus-seal/1`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct SealFile {
    /// `rathaus-seal/1`
    format: String,
    /// `Ed25519` or `ECDSA-P256-SHA256`.
    algorithm: String,
    /// SHA-256 of the document, hex.
    sha256: String,
    size: u64,
    sealed_at: chrono::DateTime<chrono::Utc>,
    document: Option<String>,
    title: Option<String>,
    /// The sealing authority.
    issuer: String,
    /// Base64 signature over the documented signing input.
    signature: String,
    /// The seal certificate (X.509, PEM).
    certificate: String,
}

/// `POST /records/documents/{id}/move`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct MoveBody {
    /// The Vorgang to move the document into.
    to: Uuid,
}

async fn move_document(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    state.app.move_document(&actor, id, body.to).await?;
    let (d, _, _) = state.app.record_document(&actor, id, None).await?;
    Ok(Json(document_body(&d)).into_response())
}

/// `POST /cases/{id}/record/notes`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct NoteBody {
    /// The note (Vermerk), 1 to 4,000 characters.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    text: String,
}

async fn note(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Response, AppError> {
    let doc = state.app.file_note(&actor, id_of(&id)?, &body.text).await?;
    filed(&state, &actor, doc.id).await
}

/// A change of the file plan waiting for (or decided by) a second person.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PlanChangeBody {
    id: Uuid,
    /// `pending`, `approved`, `rejected`.
    status: String,
    summary: String,
    change: PlanChange,
    requested_by: Uuid,
    requested_at: chrono::DateTime<chrono::Utc>,
    reviewed_by: Option<Uuid>,
    reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /records/plan/changes`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PlanChanges {
    changes: Vec<PlanChangeBody>,
}

fn change_body(c: &rathaus_storage::records::PlanChangeRow) -> Result<PlanChangeBody, AppError> {
    Ok(PlanChangeBody {
        id: c.id,
        status: c.status.clone(),
        summary: c.summary.clone(),
        change: c.change()?,
        requested_by: c.requested_by,
        requested_at: c.requested_at,
        reviewed_by: c.reviewed_by,
        reviewed_at: c.reviewed_at,
    })
}

async fn changes(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
) -> Result<Response, AppError> {
    let list = state.app.plan_changes(&actor).await?;
    Ok(Json(PlanChanges {
        changes: list.iter().map(change_body).collect::<Result<_, _>>()?,
    })
    .into_response())
}

async fn request_change(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiJson(change): ApiJson<PlanChange>,
) -> Result<Response, AppError> {
    let c = state.app.request_plan_change(&actor, change).await?;
    Ok((StatusCode::CREATED, Json(change_body(&c)?)).into_response())
}

async fn approve_change(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = state
        .app
        .review_plan_change(&actor, id_of(&id)?, true)
        .await?;
    Ok(Json(change_body(&c)?).into_response())
}

async fn reject_change(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = state
        .app
        .review_plan_change(&actor, id_of(&id)?, false)
        .await?;
    Ok(Json(change_body(&c)?).into_response())
}

// ---------------------------------------------------------------- pages

/// The case page of a Vorgang, with a message.
async fn back_to_record(
    state: &AppState,
    actor: &rathaus_app::Actor,
    record: Uuid,
    msg: &str,
) -> Result<Response, AppError> {
    let f = state.app.record_by_id(actor, record).await?;
    Ok(Redirect::to(&format!("/staff/cases/{}/record?msg={msg}", f.case_id)).into_response())
}

async fn upload_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = id_of(&id)?;
    // Who may, and which Vorgang, before the body is read.
    state.app.record_by_id(&actor, id).await?;
    let mut csrf = None;
    let mut title = String::new();
    let mut file: Option<(String, Bytes)> = None;
    for part in multipart::read(req)
        .await
        .map_err(|e| AppError::BadFile(e.to_string()))?
    {
        match part.name.as_str() {
            "csrf_token" => csrf = Some(part.text()),
            "title" => title = part.text(),
            "file" if !part.data.is_empty() => {
                file = Some((part.file_name.clone().unwrap_or_default(), part.data))
            }
            _ => {}
        }
    }
    verify_csrf(&staff.session, csrf.as_deref()).await?;
    let (name, content) = file.ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("file", "required").into())
    })?;
    state
        .app
        .file_document(
            &actor,
            id,
            StaffDocument {
                title,
                file_name: name,
                content,
            },
        )
        .await?;
    back_to_record(&state, &actor, id, "filed").await
}

async fn download_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let (_, v, content) = state.app.record_document(&actor, id_of(&id)?, None).await?;
    Ok(content_response(&v, content))
}

async fn seal_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let (name, json) = state.app.document_seal(&actor, id_of(&id)?, None).await?;
    Ok(attachment("application/json", &name, json.into_bytes()))
}

async fn open_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let f = state.app.record_by_id(&actor, id_of(&id)?).await?;
    Ok(Redirect::to(&format!("/staff/cases/{}/record", f.case_id)).into_response())
}

#[derive(serde::Deserialize)]
struct MoveForm {
    /// The document (of the Vorgang in the path).
    document: String,
    /// File number or reference of the target Vorgang.
    to: String,
}

async fn move_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    state.app.record_by_id(&actor, id_of(&id)?).await?;
    let document = id_of(&f.form.document)?;
    let target = state.app.record_by_number(&actor, &f.form.to).await?;
    state.app.move_document(&actor, document, target.id).await?;
    Ok(Redirect::to(&format!("/staff/cases/{}/record?msg=moved", target.case_id)).into_response())
}

#[derive(serde::Deserialize)]
struct NoteForm {
    text: String,
}

async fn note_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<NoteForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let record = state.app.record_by_id(&actor, id_of(&id)?).await?;
    state
        .app
        .file_note(&actor, record.case_id, &f.form.text)
        .await?;
    Ok(Redirect::to(&format!("/staff/cases/{}/record?msg=noted", record.case_id)).into_response())
}

#[derive(serde::Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
    offset: Option<usize>,
}

/// A text cut into plain and highlighted pieces (escaped by the template).
fn segments(text: &str, ranges: &[(usize, usize)]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(a, b) in ranges {
        if a < at || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        if a > at {
            out.push(Segment {
                text: text[at..a].to_string(),
                mark: false,
            });
        }
        out.push(Segment {
            text: text[a..b].to_string(),
            mark: true,
        });
        at = b;
    }
    if at < text.len() {
        out.push(Segment {
            text: text[at..].to_string(),
            mark: false,
        });
    }
    out
}

async fn search_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    state.app.require_records_staff(&actor)?;
    let page = staff_page(&ctx, &staff, ctx.t("records.search_title")).await?;
    let text = q.q.clone().unwrap_or_default();
    let offset = q.offset.unwrap_or(0).min(1000);
    let (results, error) = if text.trim().is_empty() {
        (None, None)
    } else {
        match state.app.search_records(&actor, &text, offset).await {
            Ok(r) => (Some(r), None),
            Err(e) => {
                let e = AppError::from(e);
                let msg = crate::platform::context::describe(ctx.lang, &e).0;
                (None, Some(msg))
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        SearchPage {
            page,
            q: text.chars().take(200).collect(),
            total: results.as_ref().map(|r| r.total),
            hits: results
                .map(|r| {
                    r.hits
                        .into_iter()
                        .map(|h| SearchHitRow {
                            href: format!("/staff/records/documents/{}", h.document),
                            record_href: format!("/staff/records/{}/open", h.file),
                            file_number: h.file_number,
                            title: segments(&h.title, &h.title_highlights),
                            snippet: segments(&h.snippet.text, &h.snippet.highlights),
                            filed_at: h.filed_at.format("%d.%m.%Y").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            next: None,
            error,
        },
    )
        .into_response())
}

async fn plan_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<super::staff::MsgQuery>,
) -> Result<Response, AppError> {
    plan_changes_page(&state, &ctx, &staff, q.msg.as_deref(), None).await
}

async fn plan_changes_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    actor.require(Permission::AdministerTenant)?;
    let changes = state.app.plan_changes(&actor).await?;
    let plan = state.app.record_plan(&actor).await?;
    let services = state.app.record_services(&actor).await?;
    let page = staff_page(ctx, staff, ctx.t("records.plan_title")).await?;
    let lang = ctx.lang;
    let message = msg
        .filter(|m| ["requested", "approved", "rejected"].contains(m))
        .map(|m| i18n::t(lang, &format!("records.msg_plan_{m}")).to_string());
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        PlanChangesPage {
            page,
            nodes: plan
                .iter()
                .map(|e| (e.node.code.as_str().to_string(), e.node.title.clone()))
                .collect(),
            services,
            changes: changes
                .iter()
                .map(|c| PlanChangeRow {
                    id: c.id.to_string(),
                    summary: c.summary.clone(),
                    status: i18n::t(lang, &format!("records.change_{}", c.status)).to_string(),
                    pending: c.status == "pending",
                    mine: c.requested_by == staff.user.id,
                    requested_at: c.requested_at.format("%d.%m.%Y %H:%M").to_string(),
                })
                .collect(),
            message,
            error,
        },
    )
        .into_response())
}

/// The plan change form: one form for every kind, `action` says which.
#[derive(serde::Deserialize)]
struct ChangeForm {
    action: String,
    code: Option<String>,
    title: Option<String>,
    years: Option<String>,
    trigger: Option<String>,
    disposition: Option<String>,
    service: Option<String>,
    scheme: Option<String>,
}

fn change_of(f: &ChangeForm) -> Result<PlanChange, AppError> {
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let retention = match f.years.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => {
            let years: u16 = y.parse().map_err(|_| {
                AppError::Validation(
                    rathaus_domain::FieldError::new("years", "records.retention_years").into(),
                )
            })?;
            Some(Retention {
                years,
                trigger: RetentionTrigger::parse(f.trigger.as_deref().unwrap_or("case_closed"))
                    .unwrap_or(RetentionTrigger::CaseClosed),
                disposition: Disposition::parse(f.disposition.as_deref().unwrap_or("B"))
                    .unwrap_or(Disposition::Evaluate),
            })
        }
    };
    Ok(match f.action.as_str() {
        "add_node" => PlanChange::AddNode {
            code: text(&f.code),
            title: text(&f.title),
            retention,
        },
        "update_node" => PlanChange::UpdateNode {
            code: text(&f.code),
            title: text(&f.title),
            retention,
        },
        "assign_service" => PlanChange::AssignService {
            service: Uuid::parse_str(f.service.as_deref().unwrap_or("")).map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new("service", "required").into())
            })?,
            code: text(&f.code),
        },
        "set_file_number_scheme" => PlanChange::SetFileNumberScheme {
            scheme: text(&f.scheme),
        },
        _ => return Err(AppError::NotFound),
    })
}

async fn request_change_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<ChangeForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let done = match change_of(&f.form) {
        Ok(c) => state
            .app
            .request_plan_change(&actor, c)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to("/staff/records/plan?msg=requested").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Workflow(_))) => {
            let text = crate::platform::context::describe(ctx.lang, &e).0;
            plan_changes_page(&state, &ctx, &staff, None, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

async fn review_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    approve: bool,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    match state
        .app
        .review_plan_change(&actor, id_of(id)?, approve)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/staff/records/plan?msg={}",
            if approve { "approved" } else { "rejected" }
        ))
        .into_response()),
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            plan_changes_page(state, ctx, staff, None, Some(text)).await
        }
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn approve_change_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    review_page(&state, &ctx, &staff, &id, true).await
}

async fn reject_change_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    review_page(&state, &ctx, &staff, &id, false).await
}
