//! Case work for Sachbearbeitung (C5): the inbox of the org units a clerk
//! works in (and their sub-units), a case with the submitted data, files and
//! full history, and the actions claim, status change, internal note and
//! forward. Every action is written with its audit entry in one transaction.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use rathaus_app::{
    Actor, UseCaseError,
    cases::{CaseStep, InboxFilter, OfficeMessageInput, parse_cursor},
};
use rathaus_domain::cases::{CaseAction, CaseStatus, transition};
use rathaus_storage::applications::Case;
use uuid::Uuid;

use super::views::{CaseAuditRow, CaseDetailPage, CaseFileRow, CaseInboxPage, CaseInboxRow};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
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

async fn inbox(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(p): Query<InboxParams>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let page_size = 25;
    let rows = state
        .app
        .inbox(
            &actor,
            InboxFilter {
                status: CaseStatus::parse(&p.status),
                mine: p.mine.is_some(),
                unassigned: p.unassigned.is_some(),
                overdue: p.overdue.is_some(),
                reference: Some(p.q.clone()),
                before: parse_cursor(&p.before),
                limit: page_size,
            },
        )
        .await?;
    let services: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r.application.service_id)
        .collect();
    let names = state.app.case_names(&actor, &services).await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(CaseInboxRow {
            id: r.case.id,
            reference: r.application.reference.clone(),
            service: names.service(r.application.service_id),
            submitted: r
                .application
                .submitted_at
                .format("%d.%m.%Y %H:%M")
                .to_string(),
            status: r.case.status().code(),
            assignee: names.person(r.case.assignee_id),
            org_unit: names.unit(r.case.org_unit_id),
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
            "before={}",
            rathaus_app::cases::cursor_of(last).replace('+', "%2B")
        )];
        // Only a known status code goes back into the link, never the raw query.
        if let Some(status) = CaseStatus::parse(&p.status) {
            params.push(format!("status={}", status.code()));
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
        // The template escapes the link (`&` → `&amp;`).
        format!("/staff/cases?{}", params.join("&"))
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

/// The actor and the case, if it lies in the actor's units (else: not found).
pub(super) async fn load_case(
    state: &AppState,
    staff: &StaffUser,
    id: &str,
) -> Result<(Actor, Case), AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let actor = staff.actor(state).await?;
    let case = state.app.case(&actor, id).await?;
    Ok((actor, case))
}

/// The answer to a case step: back to the case, or — when the status
/// machine refuses it — the case page with the worded reason.
pub(super) async fn after_step<T>(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    case: Case,
    result: Result<T, UseCaseError>,
    done: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(done).into_response()),
        Err(UseCaseError::Transition(t)) => {
            let msg = refused_message(ctx.lang, &t);
            render_detail(state, ctx, staff, case.id, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
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
        "documents_requested"
        | "message_sent"
        | "answered"
        | "decision_opened"
        | "payment_received"
        | "fee_requested" => ctx.t(&format!("cases.audit.{action}")).to_string(),
        other => other.to_string(),
    }
}

pub(super) async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    case_id: Uuid,
    error: Option<String>,
) -> Result<Response, AppError> {
    render_detail_with(state, ctx, staff, case_id, error, None).await
}

async fn render_detail_with(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    case_id: Uuid,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let view = state.app.case_view(&actor, case_id).await?;
    let (c, app, def, names) = (view.case, view.application, view.definition, view.names);
    let data = app.data();
    let today = Utc::now().date_naive();
    let mut sections = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let nodes = rathaus_domain::forms::layout(&def, i, &data, today);
        let mut rows = Vec::new();
        form_render::review_rows(&def, &nodes, ctx.lang, &mut rows);
        sections.push((s.title.get(ctx.lang == Lang::En).to_string(), rows));
    }
    let unit_names: HashMap<Uuid, String> =
        names.units.iter().map(|u| (u.id, u.name.clone())).collect();
    let history = view
        .audit
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let actor = Uuid::parse_str(e.actor.trim_start_matches("user:"))
                .ok()
                .and_then(|u| names.people.get(&u).cloned())
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
    let files = view
        .files
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
    // Opening the case (case_view) marked the applicant's answers read.
    let thread = thread_rows(&view.messages, &view.message_files, |f| {
        format!("/staff/cases/{}/files/{}", c.id, f.id)
    });
    let payments = state.app.case_payments(&actor, c.id).await?;
    let defect_href = state
        .app
        .defect_of_case(&actor, c.id)
        .await?
        .map(|d| format!("/staff/maengel/{d}"));
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
            service: names.service(app.service_id),
            submitted: app.submitted_at.format("%d.%m.%Y %H:%M").to_string(),
            status: status.code(),
            assignee: names.person(c.assignee_id),
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
            units: names
                .units
                .into_iter()
                .filter(|u| u.id != c.org_unit_id)
                .map(|u| (u.id, u.name))
                .collect(),
            can_decide: transition(status, CaseAction::Decide).is_ok(),
            error,
            notice,
            payments: payments
                .iter()
                .map(|(p, _)| {
                    (
                        format!("/staff/zahlungen/{}", p.id),
                        crate::platform::payment::row(ctx.lang, p),
                    )
                })
                .collect(),
            payments_on: state.app.payments_enabled(),
            defect_href,
            can_request_fee: state.app.payments_enabled()
                && status.is_open()
                && status != rathaus_domain::cases::CaseStatus::AwaitingPayment,
        },
    )
        .into_response())
}

#[derive(serde::Deserialize, Default)]
struct DetailQuery {
    msg: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let (error, notice) = match q.msg.as_deref() {
        Some("fee_requested") => (None, Some(ctx.t("payment.msg_fee_requested").to_string())),
        Some("fee_refused") => (Some(ctx.t("payment.msg_fee_refused").to_string()), None),
        _ => (None, None),
    };
    render_detail_with(&state, &ctx, &staff, id, error, notice).await
}

async fn file(
    State(state): State<AppState>,
    staff: StaffUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let file = Uuid::parse_str(&file).map_err(|_| AppError::NotFound)?;
    let actor = staff.actor(&state).await?;
    let (f, bytes) = state.app.case_file(&actor, id, file).await?;
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
    step: CaseStep,
) -> Result<Response, AppError> {
    let (actor, c) = load_case(state, staff, id).await?;
    let result = state.app.change_case(&actor, c.id, step).await;
    let done = format!("/staff/cases/{}", c.id);
    after_step(state, ctx, staff, c, result, &done).await
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
    apply(&state, &ctx, &staff, &id, CaseStep::Claim).await
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
        // Refused by the use case: a decision needs its Bescheid.
        "decide" => CaseAction::Decide,
        "close" => CaseAction::Close,
        "cancel" => CaseAction::Cancel,
        _ => {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("action", "option.unknown").into(),
            ));
        }
    };
    apply(&state, &ctx, &staff, &id, CaseStep::Status(action)).await
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
    apply(&state, &ctx, &staff, &id, CaseStep::Note(f.form.text)).await
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
    let due_date = match f.form.due.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new("due", "date.invalid").into())
            })?,
        ),
    };
    let (actor, c) = load_case(&state, &staff, &id).await?;
    let input = OfficeMessageInput {
        body: f.form.body,
        requested_documents: f.form.documents.lines().map(str::to_string).collect(),
        due_date,
    };
    let result = state.app.office_message(&actor, c.id, input).await;
    let done = format!("/staff/cases/{}", c.id);
    after_step(&state, &ctx, &staff, c, result, &done).await
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
    let (actor, c) = load_case(&state, &staff, &id).await?;
    // The case may have left the clerk's units: back to the inbox.
    let result = state
        .app
        .change_case(&actor, c.id, CaseStep::Forward(unit))
        .await;
    after_step(
        &state,
        &ctx,
        &staff,
        c,
        result,
        "/staff/cases?msg=forwarded",
    )
    .await
}
