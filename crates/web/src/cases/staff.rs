//! Case work for Sachbearbeitung (C5): the inbox of the org units a clerk
//! works in (and their sub-units), a case with the submitted data, files and
//! full history, and the actions claim, status change, internal note and
//! forward. Every action is written with its audit entry in one transaction.

use rathaus_storage::prelude::*;
use std::collections::{HashMap, HashSet};

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use rathaus_domain::{
    cases::{CaseAction, CaseStatus, transition},
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::{CaseChange, CaseError, InboxQuery},
    catalog::CatalogRepository,
    forms::FormRepository,
    identity::UserRepository,
    tenancy::OrgUnitRepository,
};
use uuid::Uuid;

use super::views::{CaseAuditRow, CaseDetailPage, CaseFileRow, CaseInboxPage, CaseInboxRow};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page, units_of_clerk},
    context::Ctx,
    error::AppError,
    form_render,
    i18n::Lang,
    routes::{Routes, get, post},
    security::CsrfForm,
    thread::thread_rows,
    workflow::refused_message,
};

pub fn routes() -> Routes {
    Routes::new("cases")
        .route("/staff/cases", get(inbox))
        .route("/staff/cases/{id}", get(detail))
        .route("/staff/cases/{id}/files/{file}", get(file))
        .route("/staff/cases/{id}/claim", post(claim))
        .route("/staff/cases/{id}/status", post(status))
        .route("/staff/cases/{id}/note", post(note))
        .route("/staff/cases/{id}/forward", post(forward))
        .route("/staff/cases/{id}/message", post(message))
}

/// The org units whose cases this clerk works: units with a clerk grant and
/// everything below them.
async fn clerk_units(state: &AppState, staff: &StaffUser) -> Result<HashSet<Uuid>, AppError> {
    units_of_clerk(state, staff.tenant(), staff.user.id).await
}

#[derive(serde::Deserialize, Default)]
struct InboxParams {
    #[serde(default)]
    status: String,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    unassigned: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    before: String,
}

fn parse_before(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = s.split_once('_')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, Uuid::parse_str(id).ok()?))
}

async fn names(state: &AppState, tenant: TenantId) -> Result<HashMap<Uuid, String>, AppError> {
    Ok(state
        .store
        .repo()
        .users(tenant)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

async fn inbox(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(p): Query<InboxParams>,
) -> Result<Response, AppError> {
    let units = clerk_units(&state, &staff).await?;
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let page_size = 25;
    let q = InboxQuery {
        statuses: CaseStatus::parse(&p.status).into_iter().collect(),
        assignee: p.mine.is_some().then_some(staff.user.id),
        unassigned: p.unassigned.is_some(),
        overdue: p.overdue.is_some(),
        reference: Some(p.q.trim().to_string()).filter(|r| !r.is_empty()),
        before: parse_before(&p.before),
        limit: page_size,
    };
    let units_v: Vec<Uuid> = units.iter().copied().collect();
    let rows = repo.inbox(tenant, &units_v, &q).await?;
    let unit_names: HashMap<Uuid, String> = repo
        .org_units(tenant)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let people = names(&state, tenant).await?;
    let mut services: HashMap<Uuid, String> = HashMap::new();
    let mut out = Vec::new();
    for r in &rows {
        let service = match r.application.service_id {
            Some(s) => match services.get(&s) {
                Some(t) => t.clone(),
                None => {
                    let title = repo
                        .published(tenant, s)
                        .await?
                        .map(|p| p.content.title.de)
                        .unwrap_or_default();
                    services.insert(s, title.clone());
                    title
                }
            },
            None => String::new(),
        };
        out.push(CaseInboxRow {
            id: r.case.id,
            reference: r.application.reference.clone(),
            service,
            submitted: r
                .application
                .submitted_at
                .format("%d.%m.%Y %H:%M")
                .to_string(),
            status: r.case.status().code(),
            assignee: r
                .case
                .assignee_id
                .and_then(|a| people.get(&a).cloned())
                .unwrap_or_default(),
            org_unit: unit_names
                .get(&r.case.org_unit_id)
                .cloned()
                .unwrap_or_default(),
            due: r
                .case
                .due_at
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_default(),
            overdue: r.case.overdue(Utc::now()),
        });
    }
    let next = (rows.len() as u64 == page_size).then(|| {
        let last = &rows[rows.len() - 1].case;
        let mut params = vec![format!(
            "before={}_{}",
            last.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .replace('+', "%2B"),
            last.id
        )];
        if !p.status.is_empty() {
            params.push(format!("status={}", p.status));
        }
        if p.mine.is_some() {
            params.push("mine=1".into());
        }
        if p.unassigned.is_some() {
            params.push("unassigned=1".into());
        }
        if p.overdue.is_some() {
            params.push("overdue=1".into());
        }
        format!("/staff/cases?{}", params.join("&amp;"))
    });
    let page = staff_page(&ctx, &staff, ctx.t("cases.title")).await?;
    Ok(CaseInboxPage {
        page,
        rows: out,
        status: p.status,
        mine: p.mine.is_some(),
        unassigned: p.unassigned.is_some(),
        overdue: p.overdue.is_some(),
        q: p.q,
        next,
        statuses: CaseStatus::ALL.iter().map(|s| s.code()).collect(),
    }
    .into_response())
}

/// The case if it lies in one of the clerk's units (else: not found).
pub(super) async fn load_case(
    state: &AppState,
    staff: &StaffUser,
    id: &str,
) -> Result<rathaus_storage::applications::Case, AppError> {
    let units = clerk_units(state, staff).await?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let c = state
        .store
        .repo()
        .case(staff.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !units.contains(&c.org_unit_id) {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

fn audit_text(
    ctx: &Ctx,
    action: &str,
    detail: &serde_json::Value,
    units: &HashMap<Uuid, String>,
) -> String {
    let status = |k: &str| {
        detail
            .get(k)
            .and_then(|s| s.as_str())
            .map(|s| ctx.t(&format!("case_status.{s}")).to_string())
            .unwrap_or_default()
    };
    let unit = |k: &str| {
        detail
            .get(k)
            .and_then(|s| s.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .and_then(|u| units.get(&u).cloned())
            .unwrap_or_default()
    };
    match action {
        "received" => format!("{} → {}", ctx.t("cases.audit.received"), unit("org_unit")),
        "claimed" => format!("{} ({})", ctx.t("cases.audit.claimed"), status("status")),
        "status" => format!("{} → {}", status("from"), status("to")),
        "note" => format!(
            "{}: {}",
            ctx.t("cases.audit.note"),
            detail.get("text").and_then(|t| t.as_str()).unwrap_or("")
        ),
        "forwarded" => format!(
            "{}: {} → {}",
            ctx.t("cases.audit.forwarded"),
            unit("from"),
            unit("to")
        ),
        "decided" => format!(
            "{} ({})",
            ctx.t("cases.audit.decided"),
            ctx.t(&format!(
                "templates.variant_{}",
                detail
                    .get("variant")
                    .and_then(|v| v.as_str())
                    .filter(|v| *v == "approval" || *v == "rejection")
                    .unwrap_or("approval")
            ))
        ),
        "documents_requested" | "message_sent" | "answered" | "decision_opened" => {
            ctx.t(&format!("cases.audit.{action}")).to_string()
        }
        other => other.to_string(),
    }
}

pub(super) async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    c: rathaus_storage::applications::Case,
    error: Option<String>,
) -> Result<Response, AppError> {
    let tenant = staff.tenant();
    let repo = state.store.repo();
    let app = repo
        .application(tenant, c.application_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    let data = app.data();
    let today = Utc::now().date_naive();
    let mut sections = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let nodes = rathaus_domain::forms::layout(&def, i, &data, today);
        let mut rows = Vec::new();
        form_render::review_rows(&def, &nodes, ctx.lang, &mut rows);
        sections.push((s.title.get(ctx.lang == Lang::En).to_string(), rows));
    }
    let all_units = repo.org_units(tenant).await?;
    let unit_names: HashMap<Uuid, String> =
        all_units.iter().map(|u| (u.id, u.name.clone())).collect();
    let people = names(state, tenant).await?;
    let history = repo
        .audit_of_case(tenant, c.id)
        .await?
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let actor = Uuid::parse_str(e.actor.trim_start_matches("user:"))
                .ok()
                .and_then(|u| people.get(&u).cloned())
                .unwrap_or_else(|| {
                    if e.actor == "applicant" {
                        ctx.t("cases.applicant").to_string()
                    } else {
                        e.actor.clone()
                    }
                });
            CaseAuditRow {
                at: DateTime::parse_from_rfc3339(&e.at)
                    .map(|d| d.format("%d.%m.%Y %H:%M:%S").to_string())
                    .unwrap_or(e.at.clone()),
                actor,
                text: audit_text(ctx, &e.action, &detail, &unit_names),
            }
        })
        .collect();
    let files = repo
        .application_files(tenant, app.id)
        .await?
        .into_iter()
        .map(|f| CaseFileRow {
            href: format!("/staff/cases/{}/files/{}", c.id, f.id),
            name: f.name,
            size_kb: (f.size + 1023) / 1024,
            field: form_render::path_label(&def, &f.field_path, ctx.lang),
        })
        .collect();
    let status = c.status();
    let actions: Vec<(&'static str, &'static str)> = [
        (CaseAction::RequestDocuments, "request_documents"),
        (CaseAction::DocumentsReceived, "documents_received"),
        (CaseAction::Close, "close"),
        (CaseAction::Cancel, "cancel"),
    ]
    .into_iter()
    .filter(|(a, _)| transition(status, *a).is_ok())
    .map(|(_, code)| (code, code))
    .collect();
    let service = match app.service_id {
        Some(s) => repo.published(tenant, s).await?.map(|p| p.content.title.de),
        None => None,
    };
    // Reading the applicant's answers here marks them read.
    repo.mark_read(tenant, app.id, false).await?;
    let answer_files = repo.message_files(tenant, app.id).await?;
    let thread = thread_rows(&repo.messages(tenant, app.id).await?, &answer_files, |f| {
        format!("/staff/cases/{}/files/{}", c.id, f.id)
    });
    let mut page = staff_page(ctx, staff, &app.reference).await?;
    page.title = format!("{} – {}", app.reference, ctx.t("cases.title"));
    Ok((
        if error.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        CaseDetailPage {
            page,
            id: c.id,
            reference: app.reference.clone(),
            form_title: def.title.get(ctx.lang == Lang::En).to_string(),
            service: service.unwrap_or_default(),
            submitted: app.submitted_at.format("%d.%m.%Y %H:%M").to_string(),
            status: status.code(),
            assignee: c
                .assignee_id
                .and_then(|a| people.get(&a).cloned())
                .unwrap_or_default(),
            mine: c.assignee_id == Some(staff.user.id),
            open: status.is_open(),
            org_unit: unit_names.get(&c.org_unit_id).cloned().unwrap_or_default(),
            due: c
                .due_at
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_default(),
            overdue: c.overdue(Utc::now()),
            sections,
            files,
            history,
            actions,
            thread,
            units: all_units
                .into_iter()
                .filter(|u| u.id != c.org_unit_id)
                .map(|u| (u.id, u.name))
                .collect(),
            can_decide: transition(status, CaseAction::Decide).is_ok(),
            error,
        },
    )
        .into_response())
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = load_case(&state, &staff, &id).await?;
    render_detail(&state, &ctx, &staff, c, None).await
}

async fn file(
    State(state): State<AppState>,
    staff: StaffUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let c = load_case(&state, &staff, &id).await?;
    let file = Uuid::parse_str(&file).map_err(|_| AppError::NotFound)?;
    let f = state
        .store
        .repo()
        .application_files(staff.tenant(), c.application_id)
        .await?
        .into_iter()
        .find(|f| f.id == file)
        .ok_or(AppError::NotFound)?;
    let bytes = state
        .files
        .get(staff.tenant(), &f.file_key)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    let ascii: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, f.mime.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn apply(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    change: CaseChange,
) -> Result<Response, AppError> {
    let c = load_case(state, staff, id).await?;
    let actor = format!("user:{}", staff.user.id);
    match state
        .store
        .change_case(staff.tenant(), c.id, (staff.user.id, &actor), change)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{}", c.id)).into_response()),
        Err(CaseError::Transition(t)) => {
            let msg = refused_message(ctx.lang, &t);
            render_detail(state, ctx, staff, c, Some(msg)).await
        }
        Err(CaseError::Storage(e)) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    apply(&state, &ctx, &staff, &id, CaseChange::Claim).await
}

#[derive(serde::Deserialize)]
struct StatusForm {
    action: String,
}

async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<StatusForm>,
) -> Result<Response, AppError> {
    let action = match f.form.action.as_str() {
        "start" => CaseAction::Start,
        "request_documents" => CaseAction::RequestDocuments,
        "documents_received" => CaseAction::DocumentsReceived,
        // A decision is issued with its Bescheid (the decide form).
        "decide" => {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("action", "decide.needs_bescheid").into(),
            ));
        }
        "close" => CaseAction::Close,
        "cancel" => CaseAction::Cancel,
        _ => {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("action", "option.unknown").into(),
            ));
        }
    };
    apply(&state, &ctx, &staff, &id, CaseChange::Status(action)).await
}

#[derive(serde::Deserialize)]
struct NoteForm {
    #[serde(default)]
    text: String,
}

async fn note(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<NoteForm>,
) -> Result<Response, AppError> {
    let text = rathaus_domain::validation::required_text("note", &f.form.text, 4000)
        .map_err(|e| AppError::Validation(e.into()))?;
    apply(&state, &ctx, &staff, &id, CaseChange::Note(text)).await
}

#[derive(serde::Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    documents: String,
    #[serde(default)]
    due: String,
}

async fn message(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<MessageForm>,
) -> Result<Response, AppError> {
    let c = load_case(&state, &staff, &id).await?;
    let body = rathaus_domain::validation::required_text("body", &f.form.body, 8000)
        .map_err(|e| AppError::Validation(e.into()))?;
    let documents = Some(f.form.documents.trim().to_string()).filter(|d| !d.is_empty());
    let due = match f.form.due.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .filter(|d| *d >= Utc::now().date_naive())
                .ok_or_else(|| {
                    AppError::Validation(
                        rathaus_domain::FieldError::new("due", "date.invalid").into(),
                    )
                })?,
        ),
    };
    let actor = format!("user:{}", staff.user.id);
    match state
        .store
        .office_message(
            staff.tenant(),
            c.id,
            (staff.user.id, &actor),
            rathaus_storage::applications::OfficeMessage {
                body,
                requested_documents: documents,
                due_date: due,
            },
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{}", c.id)).into_response()),
        Err(CaseError::Transition(t)) => {
            let msg = refused_message(ctx.lang, &t);
            render_detail(&state, &ctx, &staff, c, Some(msg)).await
        }
        Err(CaseError::Storage(e)) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct ForwardForm {
    #[serde(default)]
    org_unit: String,
}

async fn forward(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<ForwardForm>,
) -> Result<Response, AppError> {
    let unit = Uuid::parse_str(&f.form.org_unit).map_err(|_| {
        AppError::Validation(rathaus_domain::FieldError::new("org_unit", "org_unit.unknown").into())
    })?;
    let c = load_case(&state, &staff, &id).await?;
    let actor = format!("user:{}", staff.user.id);
    state
        .store
        .change_case(
            staff.tenant(),
            c.id,
            (staff.user.id, &actor),
            CaseChange::Forward(unit),
        )
        .await
        .map_err(|e| match e {
            CaseError::Storage(s) => AppError::from(s),
            CaseError::Transition(_) => AppError::Conflict("status"),
        })?;
    // The case may have left the clerk's units: back to the inbox.
    let _ = ctx;
    Ok(Redirect::to("/staff/cases?msg=forwarded").into_response())
}
