//! Mängelmelder API for staff under `/api/v1/defects`: the reports of the
//! clerk's units, one report with its contact data and nearby duplicates,
//! and the steps the pages offer (status with a public note, release for the
//! public, merging a duplicate). Apps report through Open311
//! (`/open311/v2/`, see [`super::open311`]).

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, Utc};
use rathaus_app::defects::{DefectQuery, PublicReport, StaffReport};
use rathaus_domain::defects::DefectStatus;
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiQuery, ApiStaff, WorkCases},
    error::AppError,
    openapi::{Auth, Op, op, query, schema},
    routes::{Routes, get, post},
};

pub fn routes() -> Routes {
    Routes::new("defects")
        .route("/defects", get(list))
        .route("/defects/{id}", get(one))
        .route("/defects/{id}/status", post(status))
        .route("/defects/{id}/moderation", post(moderation))
        .route("/defects/{id}/merge", post(merge))
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::NotFound)
}

/// A report's status.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DefectStatusBody {
    Open,
    Acknowledged,
    InProgress,
    Done,
    Forwarded,
}

impl From<DefectStatus> for DefectStatusBody {
    fn from(s: DefectStatus) -> Self {
        match s {
            DefectStatus::Open => Self::Open,
            DefectStatus::Acknowledged => Self::Acknowledged,
            DefectStatus::InProgress => Self::InProgress,
            DefectStatus::Done => Self::Done,
            DefectStatus::Forwarded => Self::Forwarded,
        }
    }
}

impl From<DefectStatusBody> for DefectStatus {
    fn from(s: DefectStatusBody) -> Self {
        match s {
            DefectStatusBody::Open => Self::Open,
            DefectStatusBody::Acknowledged => Self::Acknowledged,
            DefectStatusBody::InProgress => Self::InProgress,
            DefectStatusBody::Done => Self::Done,
            DefectStatusBody::Forwarded => Self::Forwarded,
        }
    }
}

/// One public step of a report.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DefectUpdateBody {
    status: DefectStatusBody,
    note: Option<String>,
    at: DateTime<Utc>,
}

/// A report as staff see it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DefectReportBody {
    id: Uuid,
    /// Also the Open311 `service_request_id`.
    reference: String,
    status: DefectStatusBody,
    service_code: String,
    category: String,
    /// The case in the routed unit's inbox.
    case_id: Uuid,
    org_unit_id: Uuid,
    lat: Option<f64>,
    long: Option<f64>,
    address: Option<String>,
    postal_code: Option<String>,
    landmark: Option<String>,
    description: String,
    /// The category's extra attributes as given (code → value).
    #[schema(value_type = Object)]
    attributes: serde_json::Value,
    /// Contact data while it is kept (30 days after the report closed).
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    photos: usize,
    public_note: Option<String>,
    /// The public sees the description.
    text_public: bool,
    /// The public sees the photos.
    photos_public: bool,
    /// The reference of the report this one duplicates.
    merged_into: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Statuses it may move to.
    next: Vec<DefectStatusBody>,
}

/// A report with its public history and the open reports of its category
/// within 50 m.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DefectDetailBody {
    report: DefectReportBody,
    updates: Vec<DefectUpdateBody>,
    nearby: Vec<DefectNearbyBody>,
}

/// An open report nearby (a possible duplicate).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DefectNearbyBody {
    id: Uuid,
    reference: String,
    status: DefectStatusBody,
    distance_m: f64,
}

/// The reports of a list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DefectListBody {
    reports: Vec<DefectReportBody>,
}

/// Which reports.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct DefectListParams {
    /// Only reports in this status.
    status: Option<DefectStatusBody>,
    /// Only reports of this category (Open311 `service_code`).
    #[param(max_length = 40)]
    service_code: Option<String>,
    /// At most this many (default 50, at most 200).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<u64>,
}

/// A new status with the public note (shown on the report's page, in
/// Open311 `status_notes`, and mailed to the reporter).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DefectStatusChangeBody {
    status: DefectStatusBody,
    /// Required for `forwarded` (whose responsibility it is).
    #[schema(max_length = 2000)]
    #[serde(default)]
    note: String,
}

/// What of the report the public sees.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DefectModerationBody {
    text_public: bool,
    photos_public: bool,
}

/// The report this one duplicates, by its reference.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DefectMergeBody {
    #[schema(min_length = 1, max_length = 40, example = "MS-2026-000123")]
    into: String,
}

fn body_of(s: &StaffReport) -> DefectReportBody {
    let r = &s.report;
    let p: &PublicReport = &s.public;
    DefectReportBody {
        id: r.id,
        reference: r.reference.clone(),
        status: p.status.into(),
        service_code: p.category_code.clone(),
        category: p.category_name.clone(),
        case_id: s.case_id,
        org_unit_id: s.org_unit_id,
        lat: r.lat,
        long: r.long,
        address: r.address.clone(),
        postal_code: r.postal_code.clone(),
        landmark: r.landmark.clone(),
        description: s.description.clone(),
        attributes: s.attributes.clone(),
        email: r.email.clone(),
        first_name: r.first_name.clone(),
        last_name: r.last_name.clone(),
        phone: r.phone.clone(),
        photos: s.photo_count,
        public_note: r.public_note.clone(),
        text_public: r.text_public,
        photos_public: r.photos_public,
        merged_into: p.merged_into.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        next: s.next.iter().map(|n| (*n).into()).collect(),
    }
}

fn detail_of(s: &StaffReport) -> DefectDetailBody {
    DefectDetailBody {
        report: body_of(s),
        updates: s
            .public
            .updates
            .iter()
            .map(|u| DefectUpdateBody {
                status: u.status.into(),
                note: u.note.clone(),
                at: u.at,
            })
            .collect(),
        nearby: s
            .nearby
            .iter()
            .map(|(p, d)| DefectNearbyBody {
                id: p.id,
                reference: p.reference.clone(),
                status: p.status.into(),
                distance_m: (*d * 10.0).round() / 10.0,
            })
            .collect(),
    }
}

async fn list(
    State(state): State<AppState>,
    staff: ApiStaff<WorkCases>,
    ApiQuery(q): ApiQuery<DefectListParams>,
) -> Result<Json<DefectListBody>, AppError> {
    if q.service_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > 40)
    {
        return Err(AppError::BadQuery(
            "service_code: at most 40 characters".into(),
        ));
    }
    if q.limit.is_some_and(|l| !(1..=200).contains(&l)) {
        return Err(AppError::BadQuery("limit: 1 to 200".into()));
    }
    if q.offset.is_some_and(|o| o > 100_000) {
        return Err(AppError::BadQuery("offset: at most 100000".into()));
    }
    let query = DefectQuery {
        statuses: q.status.map(|s| vec![s.into()]).unwrap_or_default(),
        service_codes: q.service_code.into_iter().collect(),
        limit: q.limit.unwrap_or(50).clamp(1, 200),
        offset: q.offset.unwrap_or(0).min(100_000),
        ..Default::default()
    };
    let reports = state.app.staff_defects(&staff.actor, &query).await?;
    Ok(Json(DefectListBody {
        reports: reports.iter().map(body_of).collect(),
    }))
}

async fn one(
    State(state): State<AppState>,
    staff: ApiStaff<WorkCases>,
    Path(id): Path<String>,
) -> Result<Json<DefectDetailBody>, AppError> {
    let r = state.app.staff_defect(&staff.actor, id_of(&id)?).await?;
    Ok(Json(detail_of(&r)))
}

async fn status(
    State(state): State<AppState>,
    staff: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DefectStatusChangeBody>,
) -> Result<Json<DefectDetailBody>, AppError> {
    let r = state
        .app
        .change_defect_status(&staff.actor, id_of(&id)?, body.status.into(), &body.note)
        .await?;
    Ok(Json(detail_of(&r)))
}

async fn moderation(
    State(state): State<AppState>,
    staff: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DefectModerationBody>,
) -> Result<Json<DefectDetailBody>, AppError> {
    let r = state
        .app
        .moderate_defect(
            &staff.actor,
            id_of(&id)?,
            body.text_public,
            body.photos_public,
        )
        .await?;
    Ok(Json(detail_of(&r)))
}

async fn merge(
    State(state): State<AppState>,
    staff: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DefectMergeBody>,
) -> Result<Json<DefectDetailBody>, AppError> {
    let r = state
        .app
        .merge_defect(&staff.actor, id_of(&id)?, &body.into)
        .await?;
    Ok(Json(detail_of(&r)))
}

/// The operations of this capability under `/api/v1` (Open311's are in
/// [`super::open311::OPERATIONS`]).
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/defects",
        "defects",
        "The defect reports of the clerk's org units, newest first (Sachbearbeitung)",
        Auth::Staff,
        None,
        &[("200", "The reports", Some(schema::<DefectListBody>))],
        &[],
    )
    .with_query(query::<DefectListParams>),
    op(
        "get",
        "/defects/{id}",
        "defects",
        "One report with its contact data, its public history and the open reports of its category within 50 m",
        Auth::Staff,
        None,
        &[("200", "The report", Some(schema::<DefectDetailBody>))],
        &[],
    ),
    op(
        "post",
        "/defects/{id}/status",
        "defects",
        "A new status (acknowledged, in progress, done, forwarded = not our responsibility) with a public note; the case follows, the reporter is told by e-mail. 409 for a step the status machine refuses",
        Auth::Staff,
        Some(schema::<DefectStatusChangeBody>),
        &[("200", "The report", Some(schema::<DefectDetailBody>))],
        &[409],
    ),
    op(
        "post",
        "/defects/{id}/moderation",
        "defects",
        "Release (or withdraw) the description and the photos for the public page and Open311",
        Auth::Staff,
        Some(schema::<DefectModerationBody>),
        &[("200", "The report", Some(schema::<DefectDetailBody>))],
        &[],
    ),
    op(
        "post",
        "/defects/{id}/merge",
        "defects",
        "Mark the report as a duplicate of another of the same category (by reference): it is closed pointing there, its reporter told. 409 when it was merged already",
        Auth::Staff,
        Some(schema::<DefectMergeBody>),
        &[("200", "The report", Some(schema::<DefectDetailBody>))],
        &[409],
    ),
];
