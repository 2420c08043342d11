//! Umlaufmappen: pages (my Umlaufmappen, one Umlaufmappe with its steps and
//! the forms to sign off, return or withdraw; starting one from the
//! Vorgang's page) and API. Handlers parse, call `rathaus_app`, render.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::circulation::StartCirculation;
use rathaus_domain::records::CirculationAction;
use rathaus_storage::circulation::CirculationWithSteps;
use uuid::Uuid;

use super::api::id_of;
use super::views::{CirculationPage, CirculationRow, CirculationsPage, StepRow};
use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiStaff, RecordsStaff},
    auth::{StaffUser, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    routes::{Routes, get, post},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/staff/umlauf", get(mine_page))
        .route("/staff/umlauf/{id}", get(one_page))
        .route("/staff/umlauf/{id}/sign", post(sign_page))
        .route("/staff/umlauf/{id}/return", post(return_page))
        .route("/staff/umlauf/{id}/cancel", post(cancel_page))
        .route("/staff/records/{id}/umlauf", post(start_page))
}

pub fn api_routes() -> Routes {
    Routes::new("records")
        .route("/records/{id}/circulations", post(start).get(of_record))
        .route("/circulations", get(mine))
        .route("/circulations/{id}", get(one))
        .route("/circulations/{id}/sign", post(sign))
        .route("/circulations/{id}/return", post(give_back))
        .route("/circulations/{id}/cancel", post(cancel))
}

// ---------------------------------------------------------------- API

/// `POST /records/{id}/circulations`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct StartBody {
    /// What it is about (1 to 200 characters).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    title: String,
    /// What each person should do (up to 2,000 characters).
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    instruction: String,
    /// One document of the Vorgang it is about (else the whole Vorgang).
    document: Option<Uuid>,
    /// Staff members in order (1 to 10).
    #[schema(min_items = 1, max_items = 10)]
    people: Vec<Uuid>,
}

/// A step of an Umlaufmappe.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct StepBody {
    position: i32,
    person: Uuid,
    /// `waiting`, `current`, `signed`, `returned`.
    status: String,
    comment: Option<String>,
    done_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An Umlaufmappe.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CirculationBody {
    id: Uuid,
    record: Uuid,
    document: Option<Uuid>,
    title: String,
    instruction: String,
    started_by: Uuid,
    started_at: chrono::DateTime<chrono::Utc>,
    /// `running`, `completed`, `returned`, `cancelled`.
    status: String,
    steps: Vec<StepBody>,
}

/// `GET /circulations`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Circulations {
    /// Waiting for the caller's signature.
    waiting: Vec<CirculationBody>,
    /// Started by the caller.
    started: Vec<CirculationBody>,
}

/// `GET /records/{id}/circulations`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct RecordCirculations {
    circulations: Vec<CirculationBody>,
}

/// A step's comment (required to return).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct StepComment {
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    comment: String,
}

/// Why it goes back to the sender (required).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ReturnComment {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    comment: String,
}

fn body(c: &CirculationWithSteps) -> CirculationBody {
    CirculationBody {
        id: c.circulation.id,
        record: c.circulation.record_file_id,
        document: c.circulation.document_id,
        title: c.circulation.title.clone(),
        instruction: c.circulation.instruction.clone(),
        started_by: c.circulation.started_by,
        started_at: c.circulation.started_at,
        status: c.circulation.status().code().into(),
        steps: c
            .steps
            .iter()
            .map(|s| StepBody {
                position: s.position + 1,
                person: s.user_id,
                status: s.status.clone(),
                comment: s.comment.clone(),
                done_at: s.done_at,
            })
            .collect(),
    }
}

async fn start(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StartBody>,
) -> Result<Response, AppError> {
    let c = state
        .app
        .start_circulation(
            &actor,
            id_of(&id)?,
            StartCirculation {
                title: b.title,
                instruction: b.instruction,
                document: b.document,
                people: b.people,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(body(&c))).into_response())
}

async fn of_record(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let list = state
        .app
        .circulations_of_record(&actor, id_of(&id)?)
        .await?;
    Ok(Json(RecordCirculations {
        circulations: list.iter().map(body).collect(),
    })
    .into_response())
}

async fn mine(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
) -> Result<Response, AppError> {
    let m = state.app.my_circulations(&actor).await?;
    Ok(Json(Circulations {
        waiting: m.waiting.iter().map(|(c, _)| body(c)).collect(),
        started: m.started.iter().map(|(c, _)| body(c)).collect(),
    })
    .into_response())
}

async fn one(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (c, _) = state.app.circulation(&actor, id_of(&id)?).await?;
    Ok(Json(body(&c)).into_response())
}

async fn step(
    state: &AppState,
    actor: &rathaus_app::Actor,
    id: &str,
    action: CirculationAction,
    comment: &str,
) -> Result<Response, AppError> {
    let c = state
        .app
        .circulation_step(actor, id_of(id)?, action, comment)
        .await?;
    Ok(Json(body(&c)).into_response())
}

async fn sign(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StepComment>,
) -> Result<Response, AppError> {
    step(&state, &actor, &id, CirculationAction::SignOff, &b.comment).await
}

async fn give_back(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReturnComment>,
) -> Result<Response, AppError> {
    step(&state, &actor, &id, CirculationAction::Return, &b.comment).await
}

async fn cancel(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    step(&state, &actor, &id, CirculationAction::Cancel, "").await
}

// ---------------------------------------------------------------- pages

fn row(
    ctx: &Ctx,
    c: &CirculationWithSteps,
    file: &rathaus_storage::records::RecordFile,
    names: &[(Uuid, String)],
) -> CirculationRow {
    let current = c
        .steps
        .iter()
        .find(|s| s.status == "current")
        .map(|s| name_of(names, s.user_id))
        .unwrap_or_else(|| "–".into());
    CirculationRow {
        href: format!("/staff/umlauf/{}", c.circulation.id),
        title: c.circulation.title.clone(),
        file_number: file.file_number.clone(),
        status: i18n::t(
            ctx.lang,
            &format!("records.circulation_{}", c.circulation.status().code()),
        )
        .to_string(),
        current,
        started_at: c.circulation.started_at.format("%d.%m.%Y").to_string(),
    }
}

fn name_of(names: &[(Uuid, String)], id: Uuid) -> String {
    names
        .iter()
        .find(|(u, _)| *u == id)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| id.to_string())
}

async fn mine_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let m = state.app.my_circulations(&actor).await?;
    let names = state.app.circulation_people(&actor).await?;
    let page = staff_page(&ctx, &staff, ctx.t("records.circulations_title")).await?;
    Ok(CirculationsPage {
        page,
        waiting: m
            .waiting
            .iter()
            .map(|(c, f)| row(&ctx, c, f, &names))
            .collect(),
        started: m
            .started
            .iter()
            .map(|(c, f)| row(&ctx, c, f, &names))
            .collect(),
    }
    .into_response())
}

async fn one_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<super::staff::MsgQuery>,
) -> Result<Response, AppError> {
    one_view(&state, &ctx, &staff, &id, q.msg.as_deref(), None).await
}

async fn one_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let (c, file) = state.app.circulation(&actor, id_of(id)?).await?;
    let names = state.app.circulation_people(&actor).await?;
    let mut page = staff_page(ctx, staff, ctx.t("records.circulation")).await?;
    page.title = format!("{}: {}", ctx.t("records.circulation"), c.circulation.title);
    let lang = ctx.lang;
    let running = c.circulation.status() == rathaus_domain::records::CirculationStatus::Running;
    let my_turn = running
        && c.steps
            .iter()
            .any(|s| s.status == "current" && s.user_id == staff.user.id);
    let document = match c.circulation.document_id {
        Some(d) => state
            .app
            .record_document(&actor, d, None)
            .await
            .ok()
            .map(|(doc, _, _)| (format!("/staff/records/documents/{d}"), doc.document.title)),
        None => None,
    };
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        CirculationPage {
            page,
            id: c.circulation.id.to_string(),
            title: c.circulation.title.clone(),
            instruction: c.circulation.instruction.clone(),
            record_href: format!("/staff/cases/{}/record", file.case_id),
            file_number: file.file_number.clone(),
            document,
            status: i18n::t(
                lang,
                &format!("records.circulation_{}", c.circulation.status().code()),
            )
            .to_string(),
            started_by: name_of(&names, c.circulation.started_by),
            steps: c
                .steps
                .iter()
                .map(|s| StepRow {
                    position: s.position + 1,
                    person: name_of(&names, s.user_id),
                    status: i18n::t(lang, &format!("records.step_{}", s.status)).to_string(),
                    comment: s.comment.clone().unwrap_or_default(),
                    done_at: s
                        .done_at
                        .map(|d| d.format("%d.%m.%Y %H:%M").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            my_turn,
            can_cancel: running && c.circulation.started_by == staff.user.id,
            message: msg
                .filter(|m| ["started", "signed", "returned", "cancelled"].contains(m))
                .map(|m| i18n::t(lang, &format!("records.msg_circulation_{m}")).to_string()),
            error,
        },
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct CommentForm {
    #[serde(default)]
    comment: String,
}

async fn page_step(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    action: CirculationAction,
    comment: &str,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    match state
        .app
        .circulation_step(&actor, id_of(id)?, action, comment)
        .await
    {
        Ok(_) => {
            let msg = match action {
                CirculationAction::SignOff => "signed",
                CirculationAction::Return => "returned",
                CirculationAction::Cancel => "cancelled",
            };
            Ok(Redirect::to(&format!("/staff/umlauf/{id}?msg={msg}")).into_response())
        }
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            one_view(state, ctx, staff, id, None, Some(text)).await
        }
    }
}

async fn sign_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<CommentForm>,
) -> Result<Response, AppError> {
    page_step(
        &state,
        &ctx,
        &staff,
        &id,
        CirculationAction::SignOff,
        &f.form.comment,
    )
    .await
}

async fn return_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<CommentForm>,
) -> Result<Response, AppError> {
    page_step(
        &state,
        &ctx,
        &staff,
        &id,
        CirculationAction::Return,
        &f.form.comment,
    )
    .await
}

async fn cancel_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<CommentForm>,
) -> Result<Response, AppError> {
    page_step(&state, &ctx, &staff, &id, CirculationAction::Cancel, "").await
}

/// The start form on the Vorgang's page: up to five people in order.
#[derive(serde::Deserialize)]
struct StartForm {
    title: String,
    #[serde(default)]
    instruction: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    person1: String,
    #[serde(default)]
    person2: String,
    #[serde(default)]
    person3: String,
    #[serde(default)]
    person4: String,
    #[serde(default)]
    person5: String,
}

async fn start_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let f = f.form;
    let people: Vec<Uuid> = [&f.person1, &f.person2, &f.person3, &f.person4, &f.person5]
        .iter()
        .filter_map(|p| Uuid::parse_str(p.trim()).ok())
        .collect();
    let c = state
        .app
        .start_circulation(
            &actor,
            id_of(&id)?,
            StartCirculation {
                title: f.title,
                instruction: f.instruction,
                document: Uuid::parse_str(f.document.trim()).ok(),
                people,
            },
        )
        .await?;
    Ok(Redirect::to(&format!("/staff/umlauf/{}?msg=started", c.circulation.id)).into_response())
}
