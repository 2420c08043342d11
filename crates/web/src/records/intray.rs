//! The electronic in-tray (Posteingang): pages (the list with the upload
//! form, one item with its proposals and the form to file or discard it, the
//! rules and the classifier with its measured accuracy) and API. Handlers
//! parse, call `rathaus_app::intray`, render.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::intray::{
    ClassifierStatus, IntrayView, MAX_INTRAY_BYTES, NewRule, StoredProposal,
};
use rathaus_domain::intray::{RouteTarget, RoutingRule};
use rathaus_storage::intray::IntrayItem;
use uuid::Uuid;

use super::api::{document_body, id_of};
use super::filing::{content_response_raw, raw_body};
use super::views::{
    IntrayItemPage, IntrayPage, IntrayRow, IntraySettingsPage, ProposalRow, RuleRow,
};
use crate::platform::{
    AppState,
    api_auth::{AdministerTenant, ApiJson, ApiQuery, ApiStaff, RecordsStaff},
    auth::{StaffUser, staff_page},
    context::Ctx,
    error::AppError,
    i18n,
    json::body_limit,
    multipart,
    routes::{Routes, delete, get, post},
    security::{CsrfForm, verify_csrf},
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/staff/posteingang", get(list_page))
        .route("/staff/posteingang/einstellungen", get(settings_page))
        .route("/staff/posteingang/regeln", post(add_rule_page))
        .route(
            "/staff/posteingang/regeln/{id}/loeschen",
            post(delete_rule_page),
        )
        .route("/staff/posteingang/klassifikator", post(train_page))
        .route("/staff/posteingang/{id}", get(item_page))
        .route("/staff/posteingang/{id}/inhalt", get(content_page))
        .route("/staff/posteingang/{id}/ablegen", post(file_page))
        .route("/staff/posteingang/{id}/verwerfen", post(discard_page))
        .merge(
            Routes::new("records")
                .route("/staff/posteingang", post(upload_page))
                .map(|r| r.layer(body_limit(MAX_INTRAY_BYTES + 64 * 1024))),
        )
}

pub fn api_routes() -> Routes {
    Routes::new("records")
        .route("/intray", get(list))
        .route("/intray/rules", get(rules).post(add_rule))
        .route("/intray/rules/{id}", delete(delete_rule))
        .route("/intray/classifier", get(classifier))
        .route("/intray/classifier/train", post(train))
        .route("/intray/{id}", get(item))
        .route("/intray/{id}/content", get(content))
        .route("/intray/{id}/file", post(file))
        .route("/intray/{id}/discard", post(discard))
        .merge(
            Routes::new("records")
                .route("/intray", post(upload))
                .map(|r| r.layer(body_limit(MAX_INTRAY_BYTES))),
        )
}

// ---------------------------------------------------------------- API

/// A proposal where a piece of mail goes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ProposalBody {
    /// `reference` (found in the text), `rule` or `classifier`.
    source: String,
    reason: String,
    record: Option<Uuid>,
    file_number: Option<String>,
    plan_code: Option<String>,
    org_unit: Option<Uuid>,
    /// The classifier's probability (0 to 1).
    probability: Option<f64>,
}

fn proposal(p: &StoredProposal) -> ProposalBody {
    ProposalBody {
        source: p.source.clone(),
        reason: p.reason.clone(),
        record: p.record,
        file_number: p.file_number.clone(),
        plan_code: p.plan_code.clone(),
        org_unit: p.org_unit,
        probability: p.probability,
    }
}

/// A piece of mail in the in-tray.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct IntrayItemBody {
    id: Uuid,
    /// `open` or `filed`.
    status: String,
    received_at: chrono::DateTime<chrono::Utc>,
    file_name: String,
    mime: String,
    size: i64,
    sha256: String,
    /// `pdf`, `mail`, `image`, `text`.
    kind: String,
    sender: Option<String>,
    subject: Option<String>,
    /// The extracted text (first 2,000 characters).
    excerpt: String,
    proposals: Vec<ProposalBody>,
    /// Where it was filed.
    record: Option<Uuid>,
    document: Option<Uuid>,
}

fn item_body(i: &IntrayItem) -> IntrayItemBody {
    let proposals: Vec<StoredProposal> = serde_json::from_str(&i.proposals).unwrap_or_default();
    IntrayItemBody {
        id: i.id,
        status: i.status.clone(),
        received_at: i.received_at,
        file_name: i.file_name.clone(),
        mime: i.mime.clone(),
        size: i.size,
        sha256: i.sha256.clone(),
        kind: i.kind.clone(),
        sender: i.sender.clone(),
        subject: i.subject.clone(),
        excerpt: i.text.chars().take(2000).collect(),
        proposals: proposals.iter().map(proposal).collect(),
        record: i.target_file_id,
        document: i.document_id,
    }
}

/// `GET /intray`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct IntrayList {
    items: Vec<IntrayItemBody>,
}

/// A candidate Vorgang for an item.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Candidate {
    id: Uuid,
    file_number: String,
    subject: String,
}

/// `GET /intray/{id}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct IntrayItemView {
    #[serde(flatten)]
    item: IntrayItemBody,
    /// Vorgänge to choose from (proposed ones first).
    candidates: Vec<Candidate>,
}

/// Query of `POST /intray`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct UploadParams {
    /// The file's name (its extension follows the content's type).
    #[param(max_length = 200)]
    name: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    ApiQuery(p): ApiQuery<UploadParams>,
    req: Request,
) -> Result<Response, AppError> {
    super::filing::check_name(p.name.as_deref())?;
    let content = raw_body(&state, req, MAX_INTRAY_BYTES).await?;
    let i = state
        .app
        .receive_mail(&actor, p.name.as_deref().unwrap_or("post"), content)
        .await?;
    Ok((StatusCode::CREATED, Json(item_body(&i))).into_response())
}

async fn list(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
) -> Result<Response, AppError> {
    let items = state.app.intray(&actor).await?;
    Ok(Json(IntrayList {
        items: items.iter().map(item_body).collect(),
    })
    .into_response())
}

fn view_body(v: &IntrayView) -> IntrayItemView {
    IntrayItemView {
        item: item_body(&v.item),
        candidates: v
            .candidates
            .iter()
            .map(|f| Candidate {
                id: f.id,
                file_number: f.file_number.clone(),
                subject: f.subject.clone(),
            })
            .collect(),
    }
}

async fn item(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let v = state.app.intray_item(&actor, id_of(&id)?).await?;
    Ok(Json(view_body(&v)).into_response())
}

async fn content(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (i, bytes) = state.app.intray_content(&actor, id_of(&id)?).await?;
    Ok(content_response_raw(&i.mime, &i.file_name, bytes))
}

/// `POST /intray/{id}/file`: where the person files it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct FileBody {
    /// The Vorgang (one of the candidates, or any the caller may work on).
    record: Option<Uuid>,
    /// Or its file number, or its application's reference.
    #[schema(max_length = 140)]
    file_number: Option<String>,
    /// The document's title (default: the mail's subject).
    #[serde(default)]
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    title: String,
}

/// What filing an item did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Filed {
    item: IntrayItemBody,
    document: super::api::DocumentBody,
}

async fn file(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FileBody>,
) -> Result<Response, AppError> {
    let (i, doc) = state
        .app
        .file_intray_item(
            &actor,
            id_of(&id)?,
            b.record,
            b.file_number.as_deref(),
            &b.title,
        )
        .await?;
    let (d, _, _) = state.app.record_document(&actor, doc.id, None).await?;
    Ok(Json(Filed {
        item: item_body(&i),
        document: document_body(&d),
    })
    .into_response())
}

async fn discard(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state.app.discard_intray_item(&actor, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A routing rule: when a mail's sender contains `sender` and its text all
/// `keywords`, propose `target`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct RuleBody {
    #[serde(default)]
    #[schema(read_only)]
    id: Option<Uuid>,
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    /// Higher first (−1000 to 1000).
    #[serde(default)]
    #[schema(minimum = -1000, maximum = 1000)]
    priority: i32,
    /// Part of the sender's address, or `@domain`.
    #[schema(max_length = 200)]
    sender: Option<String>,
    /// All must occur (up to 20, each up to 60 characters).
    #[serde(default)]
    #[schema(max_items = 20)]
    keywords: Vec<String>,
    /// Where it proposes: `{"kind": "plan_node", "code": "32.10.05"}` (also
    /// `{"kind": "case", "reference": "MS-2026-000123"}` or
    /// `{"kind": "org_unit", "id": "…"}`).
    #[schema(value_type = Object)]
    target: serde_json::Value,
}

fn rule_body(r: &RoutingRule) -> RuleBody {
    RuleBody {
        id: Some(r.id),
        name: r.name.clone(),
        priority: r.priority,
        sender: r.sender.clone(),
        keywords: r.keywords.clone(),
        target: serde_json::to_value(&r.target).unwrap_or_default(),
    }
}

/// `GET /intray/rules`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Rules {
    rules: Vec<RuleBody>,
}

async fn rules(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
) -> Result<Response, AppError> {
    let list = state.app.intray_rules(&actor).await?;
    Ok(Json(Rules {
        rules: list.iter().map(rule_body).collect(),
    })
    .into_response())
}

async fn add_rule(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    ApiJson(b): ApiJson<RuleBody>,
) -> Result<Response, AppError> {
    let target: RouteTarget = serde_json::from_value(b.target).map_err(|_| {
        AppError::Validation(rathaus_domain::FieldError::new("target", "intray.target").into())
    })?;
    let r = state
        .app
        .add_intray_rule(
            &actor,
            NewRule {
                name: b.name,
                priority: b.priority,
                sender: b.sender,
                keywords: b.keywords,
                target: Some(target),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(rule_body(&r))).into_response())
}

async fn delete_rule(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state.app.delete_intray_rule(&actor, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The classifier's last measurement.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ClassifierBody {
    trained_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Documents it was trained on.
    samples: i32,
    /// Filed documents with text available for the next training.
    available: usize,
    /// Share of the held-out documents (a fifth) proposed right (0 to 1).
    accuracy: Option<f64>,
    /// What always proposing the most frequent plan node would reach.
    baseline_accuracy: Option<f64>,
    tested_on: Option<usize>,
    trained_on: Option<usize>,
}

fn classifier_body(s: &ClassifierStatus) -> ClassifierBody {
    ClassifierBody {
        trained_at: s.trained_at,
        samples: s.samples,
        available: s.available,
        accuracy: s.evaluation.as_ref().map(|e| e.accuracy),
        baseline_accuracy: s.evaluation.as_ref().map(|e| e.baseline_accuracy),
        tested_on: s.evaluation.as_ref().map(|e| e.tested_on),
        trained_on: s.evaluation.as_ref().map(|e| e.trained_on),
    }
}

async fn classifier(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<RecordsStaff>,
) -> Result<Response, AppError> {
    let s = state.app.classifier_status(&actor).await?;
    Ok(Json(classifier_body(&s)).into_response())
}

async fn train(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<AdministerTenant>,
) -> Result<Response, AppError> {
    let s = state.app.train_classifier(&actor).await?;
    Ok(Json(classifier_body(&s)).into_response())
}

// ---------------------------------------------------------------- pages

fn percent(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<super::staff::MsgQuery>,
) -> Result<Response, AppError> {
    list_view(&state, &ctx, &staff, q.msg.as_deref(), None).await
}

async fn list_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let items = state.app.intray(&actor).await?;
    let page = staff_page(ctx, staff, ctx.t("records.intray_title")).await?;
    let lang = ctx.lang;
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        IntrayPage {
            page,
            items: items
                .iter()
                .map(|i| {
                    let proposals: Vec<StoredProposal> =
                        serde_json::from_str(&i.proposals).unwrap_or_default();
                    IntrayRow {
                        href: format!("/staff/posteingang/{}", i.id),
                        name: i.subject.clone().unwrap_or_else(|| i.file_name.clone()),
                        sender: i.sender.clone().unwrap_or_default(),
                        received: i.received_at.format("%d.%m.%Y %H:%M").to_string(),
                        proposal: proposals
                            .first()
                            .map(|p| proposal_text(lang, p))
                            .unwrap_or_else(|| "–".into()),
                    }
                })
                .collect(),
            can_admin: actor
                .require(rathaus_app::Permission::AdministerTenant)
                .is_ok(),
            message: msg
                .filter(|m| ["filed", "discarded"].contains(m))
                .map(|m| i18n::t(lang, &format!("records.msg_intray_{m}")).to_string()),
            error,
        },
    )
        .into_response())
}

fn proposal_text(lang: i18n::Lang, p: &StoredProposal) -> String {
    let what = match (&p.file_number, &p.plan_code) {
        (Some(n), _) => n.clone(),
        (None, Some(c)) => i18n::tf(lang, "records.proposal_node", &[("code", c)]),
        _ => "–".into(),
    };
    let why = match p.source.as_str() {
        "reference" => i18n::tf(
            lang,
            "records.proposal_reference",
            &[("reference", &p.reason)],
        ),
        "rule" => i18n::tf(lang, "records.proposal_rule", &[("rule", &p.reason)]),
        _ => i18n::tf(
            lang,
            "records.proposal_classifier",
            &[("percent", &percent(p.probability.unwrap_or(0.0)))],
        ),
    };
    format!("{what} ({why})")
}

async fn upload_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    req: Request,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    // Who may, before the body is read.
    state.app.require_records_staff(&actor)?;
    let mut csrf = None;
    let mut file: Option<(String, Bytes)> = None;
    for part in multipart::read(req)
        .await
        .map_err(|e| AppError::BadFile(e.to_string()))?
    {
        match part.name.as_str() {
            "csrf_token" => csrf = Some(part.text()),
            "file" if !part.data.is_empty() => {
                file = Some((part.file_name.clone().unwrap_or_default(), part.data))
            }
            _ => {}
        }
    }
    verify_csrf(&staff.session, csrf.as_deref()).await?;
    let Some((name, content)) = file else {
        let e = AppError::Validation(rathaus_domain::FieldError::new("file", "required").into());
        let text = crate::platform::context::describe(ctx.lang, &e).0;
        return list_view(&state, &ctx, &staff, None, Some(text)).await;
    };
    match state.app.receive_mail(&actor, &name, content).await {
        Ok(i) => Ok(Redirect::to(&format!("/staff/posteingang/{}", i.id)).into_response()),
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            list_view(&state, &ctx, &staff, None, Some(text)).await
        }
    }
}

async fn item_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    item_view(&state, &ctx, &staff, &id, None).await
}

async fn item_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let v = state.app.intray_item(&actor, id_of(id)?).await?;
    let lang = ctx.lang;
    let mut page = staff_page(ctx, staff, ctx.t("records.intray_item")).await?;
    page.title = format!(
        "{}: {}",
        ctx.t("records.intray_item"),
        v.item
            .subject
            .clone()
            .unwrap_or_else(|| v.item.file_name.clone())
    );
    let proposed: Vec<Uuid> = v.proposals.iter().filter_map(|p| p.record).collect();
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        IntrayItemPage {
            page,
            id: v.item.id.to_string(),
            open: v.item.status == rathaus_storage::intray::OPEN,
            file_name: v.item.file_name.clone(),
            sender: v.item.sender.clone().unwrap_or_default(),
            subject: v.item.subject.clone().unwrap_or_default(),
            received: v.item.received_at.format("%d.%m.%Y %H:%M").to_string(),
            excerpt: v.item.text.chars().take(3000).collect(),
            proposals: v
                .proposals
                .iter()
                .map(|p| ProposalRow {
                    text: proposal_text(lang, p),
                })
                .collect(),
            candidates: v
                .candidates
                .iter()
                .enumerate()
                .map(|(n, f)| {
                    (
                        f.id.to_string(),
                        format!("{} – {}", f.file_number, f.subject),
                        n == 0 && proposed.contains(&f.id),
                    )
                })
                .collect(),
            error,
        },
    )
        .into_response())
}

async fn content_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let (i, bytes) = state.app.intray_content(&actor, id_of(&id)?).await?;
    Ok(content_response_raw(&i.mime, &i.file_name, bytes))
}

#[derive(serde::Deserialize)]
struct FileForm {
    #[serde(default)]
    record: String,
    #[serde(default)]
    file_number: String,
    #[serde(default)]
    title: String,
}

async fn file_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<FileForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let record = Uuid::parse_str(f.form.record.trim()).ok();
    let number = Some(f.form.file_number.as_str()).filter(|n| !n.trim().is_empty());
    // A number typed in wins over the preselected candidate.
    let record = if number.is_some() { None } else { record };
    match state
        .app
        .file_intray_item(&actor, id_of(&id)?, record, number, &f.form.title)
        .await
    {
        Ok(_) => Ok(Redirect::to("/staff/posteingang?msg=filed").into_response()),
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            item_view(&state, &ctx, &staff, &id, Some(text)).await
        }
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn discard_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    state.app.discard_intray_item(&actor, id_of(&id)?).await?;
    Ok(Redirect::to("/staff/posteingang?msg=discarded").into_response())
}

async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<super::staff::MsgQuery>,
) -> Result<Response, AppError> {
    settings_view(&state, &ctx, &staff, q.msg.as_deref(), None).await
}

async fn settings_view(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    msg: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    actor.require(rathaus_app::Permission::AdministerTenant)?;
    let rules = state.app.intray_rules(&actor).await?;
    let status = state.app.classifier_status(&actor).await?;
    let plan = state.app.record_plan(&actor).await?;
    let page = staff_page(ctx, staff, ctx.t("records.intray_settings")).await?;
    let lang = ctx.lang;
    let eval = status.evaluation.as_ref();
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        IntraySettingsPage {
            page,
            rules: rules
                .iter()
                .map(|r| RuleRow {
                    id: r.id.to_string(),
                    name: r.name.clone(),
                    priority: r.priority,
                    sender: r.sender.clone().unwrap_or_default(),
                    keywords: r.keywords.join(", "),
                    target: match &r.target {
                        RouteTarget::PlanNode { code } => {
                            i18n::tf(lang, "records.proposal_node", &[("code", code)])
                        }
                        RouteTarget::Case { reference } => reference.clone(),
                        RouteTarget::OrgUnit { id } => id.to_string(),
                    },
                })
                .collect(),
            nodes: plan
                .iter()
                .map(|e| (e.node.code.as_str().to_string(), e.node.title.clone()))
                .collect(),
            trained_at: status
                .trained_at
                .map(|t| t.format("%d.%m.%Y %H:%M").to_string()),
            samples: status.samples,
            available: status.available,
            accuracy: eval.map(|e| percent(e.accuracy)),
            baseline: eval.map(|e| percent(e.baseline_accuracy)),
            tested_on: eval.map(|e| e.tested_on).unwrap_or(0),
            per_label: eval
                .map(|e| {
                    e.per_label
                        .iter()
                        .map(|l| (l.label.clone(), l.correct, l.tested))
                        .collect()
                })
                .unwrap_or_default(),
            message: msg
                .filter(|m| ["rule_added", "rule_deleted", "trained"].contains(m))
                .map(|m| i18n::t(lang, &format!("records.msg_intray_{m}")).to_string()),
            error,
        },
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct RuleForm {
    name: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    code: String,
}

async fn add_rule_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<RuleForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let f = f.form;
    let rule = NewRule {
        name: f.name,
        priority: f.priority.trim().parse().unwrap_or(0),
        sender: Some(f.sender),
        keywords: f.keywords.split(',').map(String::from).collect(),
        target: Some(RouteTarget::PlanNode {
            code: f.code.trim().to_string(),
        }),
    };
    match state.app.add_intray_rule(&actor, rule).await {
        Ok(_) => {
            Ok(Redirect::to("/staff/posteingang/einstellungen?msg=rule_added").into_response())
        }
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            settings_view(&state, &ctx, &staff, None, Some(text)).await
        }
    }
}

async fn delete_rule_page(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    state.app.delete_intray_rule(&actor, id_of(&id)?).await?;
    Ok(Redirect::to("/staff/posteingang/einstellungen?msg=rule_deleted").into_response())
}

async fn train_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    match state.app.train_classifier(&actor).await {
        Ok(_) => Ok(Redirect::to("/staff/posteingang/einstellungen?msg=trained").into_response()),
        Err(e) => {
            let text = super::page_error(ctx.lang, e)?;
            settings_view(&state, &ctx, &staff, None, Some(text)).await
        }
    }
}
