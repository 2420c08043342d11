//! The e-file's pages: the overview for the Fachadministration (plan, due
//! list, hand-overs), one hand-over with its steps, and a case's Vorgang
//! (clerks of the case and the Fachadministration). Work without JavaScript:
//! plain forms, file inputs for the archive's messages.

use axum::{
    extract::{Path, Query, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Permission,
    records::{DisposalView, parse_as_of, parse_day},
};
use uuid::Uuid;

use super::attachment;
use super::views::{
    CirculationRow, DisposalPage, DisposalRow, DocumentRow, FileRow, ItemRow, OverviewPage,
    PlanRow, RecordPage,
};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    i18n::Lang,
    multipart,
    routes::{Routes, get, post},
    security::{CsrfForm, verify_csrf},
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/staff/records", get(overview))
        .route("/staff/records/disposals", post(start))
        .route("/staff/records/disposals/{id}", get(disposal))
        .route("/staff/records/disposals/{id}/0501", get(offer))
        .route("/staff/records/disposals/{id}/0503", get(package))
        .route("/staff/records/disposals/{id}/0502", post(evaluation))
        .route("/staff/records/disposals/{id}/receipt", post(receipt))
        .route(
            "/staff/records/disposals/{id}/destruction",
            post(request_destruction),
        )
        .route(
            "/staff/records/disposals/{id}/destruction/approve",
            post(approve_destruction),
        )
        .route("/staff/cases/{id}/record", get(record))
        .route("/staff/records/{id}/hold", post(hold))
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

fn rule_text(lang: Lang, r: &rathaus_domain::records::Retention) -> String {
    i18n::tf(
        lang,
        &format!("records.rule_{}", r.trigger.code()),
        &[("years", &r.years.to_string())],
    ) + " · "
        + i18n::t(
            lang,
            &format!("records.disposition_{}", r.disposition.code()),
        )
}

fn status_text(lang: Lang, prefix: &str, code: &str) -> String {
    i18n::t(lang, &format!("records.{prefix}_{code}")).to_string()
}

#[derive(serde::Deserialize, Default)]
struct OverviewQuery {
    as_of: Option<String>,
    msg: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, AppError> {
    overview_page(
        &state,
        &ctx,
        &staff,
        q.as_of.as_deref(),
        q.msg.as_deref(),
        None,
    )
    .await
}

async fn overview_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    as_of: Option<&str>,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    actor.require(Permission::AdministerTenant)?;
    let as_of = parse_as_of(as_of)?;
    let plan = state.app.record_plan(&actor).await?;
    let due = state.app.due_records(&actor, as_of).await?;
    let disposals = state.app.disposals(&actor).await?;
    let lang = ctx.lang;
    let page = staff_page(ctx, staff, ctx.t("records.title")).await?;
    let message = match msg {
        Some("started") => Some(ctx.t("records.msg_started").to_string()),
        _ => None,
    };
    Ok((
        if error.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        OverviewPage {
            page,
            plan: plan
                .iter()
                .map(|e| PlanRow {
                    code: e.node.code.as_str().into(),
                    title: e.node.title.clone(),
                    depth: e.node.code.as_str().split('.').count(),
                    rule: e
                        .node
                        .retention
                        .as_ref()
                        .map(|r| rule_text(lang, r))
                        .unwrap_or_default(),
                    services: e
                        .services
                        .iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            as_of: as_of.format("%Y-%m-%d").to_string(),
            due: due
                .iter()
                .map(|(f, d, ends)| FileRow {
                    href: format!("/staff/cases/{}/record", f.case_id),
                    file_number: f.file_number.clone(),
                    subject: f.subject.clone(),
                    status: status_text(lang, "file", f.status().code()),
                    extra: format!(
                        "{} · {}",
                        ends.format("%d.%m.%Y"),
                        i18n::t(lang, &format!("records.disposition_{}", d.code()))
                    ),
                })
                .collect(),
            disposals: disposals
                .iter()
                .map(|d| DisposalRow {
                    href: format!("/staff/records/disposals/{}", d.id),
                    id: d.id.to_string(),
                    as_of: d.as_of.format("%d.%m.%Y").to_string(),
                    status: status_text(lang, "disposal", d.status().code()),
                    files: 0,
                })
                .collect(),
            message,
            error,
        },
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct StartForm {
    as_of: String,
}

async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let as_of = parse_day(&f.form.as_of)?;
    match state.app.start_disposal(&actor, as_of).await {
        Ok(v) => Ok(Redirect::to(&format!(
            "/staff/records/disposals/{}?msg=started",
            v.disposal.id
        ))
        .into_response()),
        Err(e) => {
            let e = AppError::from(e);
            let text = crate::platform::context::describe(ctx.lang, &e).0;
            overview_page(&state, &ctx, &staff, Some(&f.form.as_of), None, Some(text)).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct MsgQuery {
    pub(super) msg: Option<String>,
}

async fn disposal(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let v = state.app.disposal(&actor, id_of(&id)?).await?;
    disposal_page(&ctx, &staff, &v, q.msg.as_deref(), None).await
}

async fn disposal_page(
    ctx: &Ctx,
    staff: &StaffUser,
    v: &DisposalView,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let mut page = staff_page(ctx, staff, ctx.t("records.disposal")).await?;
    page.title = format!(
        "{} {}",
        ctx.t("records.disposal"),
        v.disposal.as_of.format("%d.%m.%Y")
    );
    let message = msg
        .filter(|m| {
            [
                "started",
                "evaluated",
                "confirmed",
                "requested",
                "destroyed",
            ]
            .contains(m)
        })
        .map(|m| i18n::t(lang, &format!("records.msg_{m}")).to_string());
    let yes_no = |b: Option<bool>| match b {
        Some(true) => i18n::t(lang, "records.receipt_ok").to_string(),
        Some(false) => i18n::t(lang, "records.receipt_failed").to_string(),
        None => "–".into(),
    };
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        DisposalPage {
            page,
            id: v.disposal.id.to_string(),
            as_of: v.disposal.as_of.format("%d.%m.%Y").to_string(),
            status: status_text(lang, "disposal", v.disposal.status().code()),
            status_code: v.disposal.status().code().into(),
            items: v
                .items
                .iter()
                .map(|(i, f)| ItemRow {
                    file_number: f.file_number.clone(),
                    subject: f.subject.clone(),
                    proposal: i18n::t(lang, &format!("records.disposition_{}", i.proposal))
                        .to_string(),
                    decision: i
                        .decision
                        .as_deref()
                        .map(|d| i18n::t(lang, &format!("records.disposition_{d}")).to_string())
                        .unwrap_or_else(|| "–".into()),
                    receipt: yes_no(i.receipt_ok),
                    status: status_text(lang, "file", f.status().code()),
                })
                .collect(),
            requested_by_me: v.disposal.destruction_requested_by == Some(staff.user.id),
            message,
            error,
        },
    )
        .into_response())
}

async fn offer(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let (name, xml) = state.app.disposal_offer(&actor, id_of(&id)?).await?;
    Ok(attachment(
        "application/xml; charset=utf-8",
        &name,
        xml.into_bytes(),
    ))
}

async fn package(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = id_of(&id)?;
    match state.app.disposal_package(&actor, id).await {
        Ok((name, zip)) => Ok(attachment("application/zip", &name, zip)),
        Err(e) => {
            let e = AppError::from(e);
            let text = crate::platform::context::describe(ctx.lang, &e).0;
            let v = state.app.disposal(&actor, id).await?;
            disposal_page(&ctx, &staff, &v, None, Some(text)).await
        }
    }
}

/// The archive's message from the form's file input (`message`), with the
/// CSRF token of the same multipart body.
async fn uploaded_message(staff: &StaffUser, req: Request) -> Result<String, AppError> {
    let mut csrf = None;
    let mut xml = None;
    for part in multipart::read(req)
        .await
        .map_err(|e| AppError::BadFile(e.to_string()))?
    {
        match part.name.as_str() {
            "csrf_token" => csrf = Some(part.text()),
            "message" if !part.data.is_empty() => {
                xml =
                    Some(String::from_utf8(part.data.to_vec()).map_err(|_| {
                        AppError::BadFile("xdomea: kein UTF-8 (not UTF-8 text)".into())
                    })?)
            }
            _ => {}
        }
    }
    verify_csrf(&staff.session, csrf.as_deref()).await?;
    xml.ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("message", "required").into())
    })
}

async fn archive_message(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    req: Request,
    receipt: bool,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    // The permission answers before the body is read.
    actor.require(Permission::AdministerTenant)?;
    let id = id_of(id)?;
    let xml = uploaded_message(staff, req).await?;
    let done = if receipt {
        state.app.import_receipt(&actor, id, &xml).await
    } else {
        state.app.import_evaluation(&actor, id, &xml).await
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!(
            "/staff/records/disposals/{id}?msg={}",
            if receipt { "confirmed" } else { "evaluated" }
        ))
        .into_response()),
        Err(e) => {
            let e = AppError::from(e);
            let text = crate::platform::context::describe(ctx.lang, &e).0;
            let v = state.app.disposal(&actor, id).await?;
            disposal_page(ctx, staff, &v, None, Some(text)).await
        }
    }
}

async fn evaluation(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    archive_message(&state, &ctx, &staff, &id, req, false).await
}

async fn receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    archive_message(&state, &ctx, &staff, &id, req, true).await
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn request_destruction(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    destruction_step(&state, &ctx, &staff, &id, false).await
}

async fn approve_destruction(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    destruction_step(&state, &ctx, &staff, &id, true).await
}

/// The first (`approve` false) or second of the four eyes.
async fn destruction_step(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    approve: bool,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let id = id_of(id)?;
    let done = if approve {
        state
            .app
            .approve_destruction(&actor, id)
            .await
            .map(|_| "destroyed")
    } else {
        state
            .app
            .request_destruction(&actor, id)
            .await
            .map(|_| "requested")
    };
    match done {
        Ok(msg) => {
            Ok(Redirect::to(&format!("/staff/records/disposals/{id}?msg={msg}")).into_response())
        }
        Err(e) => {
            let e = AppError::from(e);
            let text = crate::platform::context::describe(ctx.lang, &e).0;
            let v = state.app.disposal(&actor, id).await?;
            disposal_page(ctx, staff, &v, None, Some(text)).await
        }
    }
}

async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let case_id = id_of(&id)?;
    let r = state.app.case_record(&actor, case_id).await?;
    let circulations = state.app.circulations_of_record(&actor, r.file.id).await?;
    let people = state.app.circulation_people(&actor).await?;
    let lang = ctx.lang;
    let mut page = staff_page(&ctx, &staff, ctx.t("records.record")).await?;
    page.title = format!("{} {}", ctx.t("records.record"), r.file.file_number);
    let message = q
        .msg
        .as_deref()
        .filter(|m| ["hold_set", "hold_lifted", "filed", "moved", "noted"].contains(m))
        .map(|m| i18n::t(lang, &format!("records.msg_{m}")).to_string());
    Ok(RecordPage {
        page,
        case_href: format!("/staff/cases/{case_id}"),
        record_id: r.file.id.to_string(),
        file_number: r.file.file_number.clone(),
        subject: r.file.subject.clone(),
        status: status_text(lang, "file", r.file.status().code()),
        plan: r
            .plan
            .as_ref()
            .map(|p| format!("{} {}", p.code.as_str(), p.title))
            .unwrap_or_else(|| "–".into()),
        retention: r
            .retention
            .as_ref()
            .map(|x| rule_text(lang, x))
            .unwrap_or_else(|| "–".into()),
        retention_ends: r
            .retention_ends
            .map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or_else(|| i18n::t(lang, "records.runs_after_close").to_string()),
        legal_hold: r
            .file
            .legal_hold
            .then(|| r.file.legal_hold_reason.clone().unwrap_or_default()),
        can_hold: actor.require(Permission::AdministerTenant).is_ok(),
        documents: r
            .documents
            .iter()
            .filter_map(|d| {
                let v = d.versions.last()?;
                Some(DocumentRow {
                    id: d.document.id.to_string(),
                    sealed: v.seal.is_some(),
                    movable: matches!(d.document.kind.as_str(), "staff" | "note" | "incoming"),
                    number: d.document.number,
                    kind: i18n::t(lang, &format!("records.kind_{}", d.document.kind)).to_string(),
                    title: d.document.title.clone(),
                    date: d.document.document_date.format("%d.%m.%Y").to_string(),
                    mime: v.mime.clone(),
                    size: v.size,
                    sha256: v.sha256.clone(),
                })
            })
            .collect(),
        deletions: r
            .deletions
            .iter()
            .map(|d| {
                (
                    d.deleted_at.format("%d.%m.%Y %H:%M").to_string(),
                    d.approved_by.to_string(),
                    serde_json::from_str::<Vec<serde_json::Value>>(&d.documents)
                        .map(|v| v.len())
                        .unwrap_or(0),
                )
            })
            .collect(),
        message,
        can_file: matches!(
            r.file.status(),
            rathaus_domain::records::FileStatus::Open | rathaus_domain::records::FileStatus::Closed
        ),
        circulations: circulations
            .iter()
            .map(|c| CirculationRow {
                href: format!("/staff/umlauf/{}", c.circulation.id),
                title: c.circulation.title.clone(),
                file_number: r.file.file_number.clone(),
                status: i18n::t(
                    lang,
                    &format!("records.circulation_{}", c.circulation.status().code()),
                )
                .to_string(),
                current: c
                    .steps
                    .iter()
                    .find(|s| s.status == "current")
                    .and_then(|s| people.iter().find(|(id, _)| *id == s.user_id))
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| "–".into()),
                started_at: c.circulation.started_at.format("%d.%m.%Y").to_string(),
            })
            .collect(),
        people: people
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect(),
        slots: (1..=5).collect(),
        can_move: r
            .documents
            .iter()
            .any(|d| matches!(d.document.kind.as_str(), "staff" | "note" | "incoming")),
    }
    .into_response())
}

#[derive(serde::Deserialize)]
struct HoldForm {
    reason: Option<String>,
    lift: Option<String>,
}

async fn hold(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<HoldForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = id_of(&id)?;
    let lift = f.form.lift.is_some();
    let reason = if lift {
        None
    } else {
        Some(f.form.reason.clone().unwrap_or_default())
    };
    let file = state
        .app
        .set_legal_hold(&actor, id, reason.as_deref())
        .await?;
    Ok(Redirect::to(&format!(
        "/staff/cases/{}/record?msg={}",
        file.case_id,
        if lift { "hold_lifted" } else { "hold_set" }
    ))
    .into_response())
}
