//! Records API: `GET /records/plan`, `GET /cases/{id}/record`,
//! `PUT|DELETE /records/{id}/hold`, `GET /records/due?as_of=`, and the
//! hand-over: `POST /records/disposals {"as_of"}`, `GET /records/disposals/{id}`,
//! `GET …/0501` (XML), `POST …/0502` (XML), `GET …/0503` (ZIP),
//! `POST …/receipt` (XML), `POST …/destruction`, `POST …/destruction/approve`.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, Utc};
use rathaus_app::records::{CaseRecord, DisposalView, MAX_XDOMEA_BYTES, parse_as_of, parse_day};
use uuid::Uuid;

use super::attachment;
use crate::platform::{
    AppState,
    api_auth::{AdministerTenant, ApiJson, ApiQuery, ApiStaff, ApiUser},
    error::AppError,
    json::body_limit,
    routes::{Routes, get, post, put},
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/records/plan", get(plan))
        .route("/cases/{id}/record", get(case_record))
        .route("/records/{id}/hold", put(set_hold).delete(lift_hold))
        .route("/records/due", get(due))
        .route("/records/disposals", post(start))
        .route("/records/disposals/{id}", get(disposal))
        .route("/records/disposals/{id}/0501", get(offer))
        .route("/records/disposals/{id}/0503", get(package))
        .route(
            "/records/disposals/{id}/destruction",
            post(request_destruction),
        )
        .route(
            "/records/disposals/{id}/destruction/approve",
            post(approve_destruction),
        )
        // The archive's messages may be large; every other route keeps the default.
        .merge(
            Routes::new("records")
                .route("/records/disposals/{id}/0502", post(evaluation))
                .route("/records/disposals/{id}/receipt", post(receipt))
                .map(|r| r.layer(body_limit(MAX_XDOMEA_BYTES))),
        )
}

pub(super) fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

/// A retention rule.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct RetentionBody {
    years: u16,
    /// `case_closed` or `decision_final`.
    trigger: String,
    /// `A` (offer to the archive), `V` (destroy), `B` (the archive evaluates).
    disposition: String,
}

fn retention(r: &rathaus_domain::records::Retention) -> RetentionBody {
    RetentionBody {
        years: r.years,
        trigger: r.trigger.code().into(),
        disposition: r.disposition.code().into(),
    }
}

/// A service filed under a node.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PlanService {
    id: Uuid,
    name: String,
}

/// A node of the file plan.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PlanNodeBody {
    id: Uuid,
    parent: Option<Uuid>,
    /// `32.10.05`
    code: String,
    title: String,
    /// The node's own rule (groups may have none).
    retention: Option<RetentionBody>,
    /// The rule that applies here (its own or the nearest ancestor's).
    effective_retention: Option<RetentionBody>,
    services: Vec<PlanService>,
}

/// `GET /records/plan`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Plan {
    nodes: Vec<PlanNodeBody>,
}

async fn plan(State(state): State<AppState>, caller: ApiUser) -> Result<Response, AppError> {
    let actor = caller.actor(&state).await?;
    let entries = state.app.record_plan(&actor).await?;
    Ok(Json(Plan {
        nodes: entries
            .iter()
            .map(|e| PlanNodeBody {
                id: e.node.id,
                parent: e.node.parent,
                code: e.node.code.as_str().into(),
                title: e.node.title.clone(),
                retention: e.node.retention.as_ref().map(retention),
                effective_retention: e.effective.as_ref().map(retention),
                services: e
                    .services
                    .iter()
                    .map(|(id, name)| PlanService {
                        id: *id,
                        name: name.clone(),
                    })
                    .collect(),
            })
            .collect(),
    })
    .into_response())
}

/// A version of a filed document (immutable).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct VersionBody {
    number: i32,
    file_name: String,
    mime: String,
    size: i64,
    /// SHA-256 of the content, hex.
    sha256: String,
    created_at: chrono::DateTime<Utc>,
    /// Whether the electronic seal is made (`GET /records/documents/{id}/seal`);
    /// it follows the filing within seconds.
    sealed: bool,
}

/// A filed document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DocumentBody {
    id: Uuid,
    /// Position in the Vorgang.
    number: i32,
    /// `application_data`, `receipt`, `upload`, `message`, `decision`, `staff`, `note`, `incoming`.
    kind: String,
    title: String,
    date: NaiveDate,
    filed_at: chrono::DateTime<Utc>,
    versions: Vec<VersionBody>,
}

/// What a destruction left.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DeletionBody {
    id: Uuid,
    file_number: String,
    disposal: Option<Uuid>,
    deleted_at: chrono::DateTime<Utc>,
    requested_by: Uuid,
    approved_by: Uuid,
    /// What was destroyed: document, title, version, SHA-256, size each.
    #[schema(value_type = Vec<Object>)]
    documents: serde_json::Value,
}

/// A Vorgang without its documents.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct RecordSummary {
    id: Uuid,
    case: Uuid,
    /// Aktenzeichen, e.g. `32.10.05-MS-2026-000123`.
    file_number: String,
    subject: String,
    /// `open`, `closed`, `offered`, `archived`, `destroyed`.
    status: String,
    opened_at: chrono::DateTime<Utc>,
    closed_at: Option<chrono::DateTime<Utc>>,
    /// The day retention counts from.
    event_on: Option<NaiveDate>,
    legal_hold: bool,
    legal_hold_reason: Option<String>,
}

pub(super) fn summary(f: &rathaus_storage::records::RecordFile) -> RecordSummary {
    RecordSummary {
        id: f.id,
        case: f.case_id,
        file_number: f.file_number.clone(),
        subject: f.subject.clone(),
        status: f.status().code().into(),
        opened_at: f.opened_at,
        closed_at: f.closed_at,
        event_on: f.event_on,
        legal_hold: f.legal_hold,
        legal_hold_reason: f.legal_hold_reason.clone(),
    }
}

/// `GET /cases/{id}/record`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseRecordBody {
    #[serde(flatten)]
    record: RecordSummary,
    plan_code: Option<String>,
    plan_title: Option<String>,
    retention: Option<RetentionBody>,
    /// The last day of retention (once the trigger event happened).
    retention_ends: Option<NaiveDate>,
    documents: Vec<DocumentBody>,
    deletions: Vec<DeletionBody>,
}

fn deletion(d: &rathaus_storage::records::Deletion) -> DeletionBody {
    DeletionBody {
        id: d.id,
        file_number: d.file_number.clone(),
        disposal: d.disposal_id,
        deleted_at: d.deleted_at,
        requested_by: d.requested_by,
        approved_by: d.approved_by,
        documents: serde_json::from_str(&d.documents).unwrap_or(serde_json::Value::Null),
    }
}

/// A filed document with its versions, as the API shows it.
pub(super) fn document_body(d: &rathaus_storage::records::FiledDocument) -> DocumentBody {
    DocumentBody {
        id: d.document.id,
        number: d.document.number,
        kind: d.document.kind.clone(),
        title: d.document.title.clone(),
        date: d.document.document_date,
        filed_at: d.document.filed_at,
        versions: d
            .versions
            .iter()
            .map(|v| VersionBody {
                number: v.number,
                file_name: v.file_name.clone(),
                mime: v.mime.clone(),
                size: v.size,
                sha256: v.sha256.clone(),
                created_at: v.created_at,
                sealed: v.seal.is_some(),
            })
            .collect(),
    }
}

fn record_body(r: &CaseRecord) -> CaseRecordBody {
    CaseRecordBody {
        record: summary(&r.file),
        plan_code: r.plan.as_ref().map(|p| p.code.as_str().into()),
        plan_title: r.plan.as_ref().map(|p| p.title.clone()),
        retention: r.retention.as_ref().map(retention),
        retention_ends: r.retention_ends,
        documents: r.documents.iter().map(document_body).collect(),
        deletions: r.deletions.iter().map(deletion).collect(),
    }
}

async fn case_record(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = caller.actor(&state).await?;
    let id = id_of(&id)?;
    let r = state.app.case_record(&actor, id).await?;
    Ok(Json(record_body(&r)).into_response())
}

/// A legal hold.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct HoldBody {
    /// Why (e.g. a pending lawsuit), 1 to 500 characters.
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    reason: String,
}

async fn set_hold(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let f = state
        .app
        .set_legal_hold(&actor, id, Some(&body.reason))
        .await?;
    Ok(Json(summary(&f)).into_response())
}

async fn lift_hold(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let f = state.app.set_legal_hold(&actor, id, None).await?;
    Ok(Json(summary(&f)).into_response())
}

/// The due list's date.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct DueParams {
    /// Retention ended before this day (`YYYY-MM-DD`, default today; days 1 to 28 of a month in the API).
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    as_of: Option<String>,
}

/// A Vorgang that is due.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DueRecord {
    #[serde(flatten)]
    record: RecordSummary,
    /// The plan's disposition: `A`, `V` or `B`.
    disposition: String,
    retention_ends: NaiveDate,
}

/// `GET /records/due`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DueList {
    as_of: NaiveDate,
    records: Vec<DueRecord>,
}

async fn due(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiQuery(p): ApiQuery<DueParams>,
) -> Result<Response, AppError> {
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let due = state.app.due_records(&actor, as_of).await?;
    Ok(Json(DueList {
        as_of,
        records: due
            .iter()
            .map(|(f, d, ends)| DueRecord {
                record: summary(f),
                disposition: d.code().into(),
                retention_ends: *ends,
            })
            .collect(),
    })
    .into_response())
}

/// `POST /records/disposals`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct StartDisposal {
    /// Everything whose retention ends before this day (`YYYY-MM-DD`).
    #[schema(pattern = "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    as_of: String,
}

/// A file of a hand-over.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DisposalItemBody {
    record: RecordSummary,
    /// The plan's proposal: `A`, `V`, `B`.
    proposal: String,
    /// The archive's decision (0502): `A` or `V`.
    decision: Option<String>,
    /// Whether the archive's receipt confirmed it.
    receipt_ok: Option<bool>,
    archive_id: Option<String>,
    receipt_message: Option<String>,
}

/// A hand-over (xdomea process).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DisposalBody {
    /// Also the xdomea ProzessID.
    id: Uuid,
    as_of: NaiveDate,
    /// `offered`, `evaluated`, `handed_over`, `confirmed`, `destruction_requested`, `completed`.
    status: String,
    created_at: chrono::DateTime<Utc>,
    created_by: Uuid,
    destruction_requested_by: Option<Uuid>,
    destruction_approved_by: Option<Uuid>,
    items: Vec<DisposalItemBody>,
}

fn disposal_body(v: &DisposalView) -> DisposalBody {
    let d = &v.disposal;
    DisposalBody {
        id: d.id,
        as_of: d.as_of,
        status: d.status().code().into(),
        created_at: d.created_at,
        created_by: d.created_by,
        destruction_requested_by: d.destruction_requested_by,
        destruction_approved_by: d.destruction_approved_by,
        items: v
            .items
            .iter()
            .map(|(i, f)| DisposalItemBody {
                record: summary(f),
                proposal: i.proposal.clone(),
                decision: i.decision.clone(),
                receipt_ok: i.receipt_ok,
                archive_id: i.archive_id.clone(),
                receipt_message: i.receipt_message.clone(),
            })
            .collect(),
    }
}

async fn start(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiJson(body): ApiJson<StartDisposal>,
) -> Result<Response, AppError> {
    let as_of = parse_day(&body.as_of)?;
    let v = state.app.start_disposal(&actor, as_of).await?;
    Ok((StatusCode::CREATED, Json(disposal_body(&v))).into_response())
}

async fn disposal(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let v = state.app.disposal(&actor, id_of(&id)?).await?;
    Ok(Json(disposal_body(&v)).into_response())
}

async fn offer(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (name, xml) = state.app.disposal_offer(&actor, id_of(&id)?).await?;
    Ok(attachment(
        "application/xml; charset=utf-8",
        &name,
        xml.into_bytes(),
    ))
}

async fn package(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (name, zip) = state.app.disposal_package(&actor, id_of(&id)?).await?;
    Ok(attachment("application/zip", &name, zip))
}

/// An xdomea message in the body: `application/xml` or `text/xml`, UTF-8.
async fn xml_body(state: &AppState, req: Request) -> Result<String, AppError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ct != "application/xml" && ct != "text/xml" {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge {
                limit: MAX_XDOMEA_BYTES,
            }
        } else {
            AppError::BadFile(rejection.body_text())
        }
    })?;
    if bytes.is_empty() {
        return Err(AppError::BadFile(
            "xdomea: leerer Inhalt (empty body)".into(),
        ));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| AppError::BadFile("xdomea: kein UTF-8 (not UTF-8 text)".into()))
}

async fn evaluation(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let xml = xml_body(&state, req).await?;
    let v = state.app.import_evaluation(&actor, id, &xml).await?;
    Ok(Json(disposal_body(&v)).into_response())
}

async fn receipt(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let xml = xml_body(&state, req).await?;
    let v = state.app.import_receipt(&actor, id, &xml).await?;
    Ok(Json(disposal_body(&v)).into_response())
}

async fn request_destruction(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let v = state.app.request_destruction(&actor, id_of(&id)?).await?;
    Ok(Json(disposal_body(&v)).into_response())
}

/// `POST /records/disposals/{id}/destruction/approve`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Destroyed {
    disposal: DisposalBody,
    /// One deletion record per Vorgang whose content was destroyed.
    deletions: Vec<DeletionBody>,
}

async fn approve_destruction(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (v, deletions) = state.app.approve_destruction(&actor, id_of(&id)?).await?;
    Ok(Json(Destroyed {
        disposal: disposal_body(&v),
        deletions: deletions.iter().map(deletion).collect(),
    })
    .into_response())
}
