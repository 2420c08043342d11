//! The public form wizard (C2): one step per page, a review page, drafts
//! with a resume link. Everything works without JavaScript: a step is
//! re-evaluated by the server when it is submitted. `wizard.js` only asks
//! the server to re-evaluate the current step and swaps the fields in.

use rathaus_storage::prelude::*;
use std::collections::HashMap;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequest, Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{Duration, Utc};
use rathaus_domain::{
    forms::{self, FormDefinition, Problem},
    tenancy::TenantId,
};
use rathaus_storage::{
    catalog::CatalogRepository,
    forms::{FormDraft, FormRepository, FormVersion},
};
use serde_json::Value as Json;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    AppState,
    context::Ctx,
    error::AppError,
    form_render::{self, RenderCtx},
    i18n::{self, Lang},
    security::{csrf_token, verify_csrf},
    staff::with_staff,
    views::{FormReviewPage, FormSavedPage, FormStartPage, FormStepPage, Page, ReviewSection},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/leistungen/{slug}/antrag", get(start).post(create_draft))
        .route("/antrag/{token}", get(resume))
        .route(
            "/antrag/{token}/schritt/{n}",
            get(step_page).post(step_post),
        )
        .route("/antrag/{token}/schritt/{n}/aktualisieren", post(refresh))
        .route("/antrag/{token}/pruefen", get(review))
        .route("/antrag/{token}/absenden", post(submit))
        .route("/antrag/eingang/{access}", get(received))
        .route("/antrag/eingang/{access}/antwort", post(answer))
        .route(
            "/antrag/eingang/{access}/eingangsbestaetigung.pdf",
            get(receipt_pdf),
        )
        .route(
            "/antrag/eingang/{access}/dateien/{file}",
            get(applicant_file),
        )
        .route("/antrag/{token}/gespeichert", get(saved))
        .route("/antrag/zugang", get(access_help))
}

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

pub(crate) fn no_store_response(r: Response) -> Response {
    no_store(r)
}

fn no_store(mut r: Response) -> Response {
    // Drafts hold personal data: never cache them anywhere.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The published form of a service, by the service's slug.
async fn form_of_service(
    state: &AppState,
    tenant: TenantId,
    slug: &str,
) -> Result<
    (
        rathaus_storage::catalog::PublishedService,
        FormVersion,
        FormDefinition,
    ),
    AppError,
> {
    let repo = state.store.repo();
    let service = repo
        .published_by_slug(tenant, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let (_, version) = repo
        .published_form_for_service(tenant, service.service.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    Ok((service, version, def))
}

async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (service, _, def) = form_of_service(&state, tenant, &slug).await?;
    let english = ctx.lang == Lang::En;
    let mut page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, def.title.get(english)),
    )
    .await?;
    page.csrf = Some(csrf_token(&session).await?);
    Ok(FormStartPage {
        page,
        slug,
        service_title: service.content.title.get(english).to_string(),
        steps: def
            .steps
            .iter()
            .map(|s| s.title.get(english).to_string())
            .collect(),
        draft_days: state.config.draft_days,
    }
    .into_response())
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    csrf_token: Option<String>,
}

async fn create_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f: CsrfOnly = serde_urlencoded::from_bytes(&body).map_err(|_| AppError::Csrf)?;
    verify_csrf(&session, f.csrf_token.as_deref()).await?;
    if !state.limiter.check_draft(Some(peer.ip())) {
        return Err(AppError::RateLimited);
    }
    let tenant = ctx.tenant()?.tenant_id();
    let (_, version, def) = form_of_service(&state, tenant, &slug).await?;
    let mut data = serde_json::json!({});
    // Logged in: the account's profile prefills the form.
    if let Some(c) = crate::accounts::current_citizen(&state, &ctx, &session).await? {
        let mut profile = c.profile_map();
        profile.insert("email".into(), c.email.clone());
        forms::prefill(&def, &mut data, &profile);
    }
    forms::apply_computed(&def, &mut data, today());
    let expires = Utc::now() + Duration::days(state.config.draft_days.into());
    let (_, token) = state
        .store
        .repo()
        .create_draft(tenant, version.id, &data, expires)
        .await?;
    Ok(Redirect::to(&format!("/antrag/{token}/schritt/1")).into_response())
}

/// A draft with its form.
struct Loaded {
    tenant: TenantId,
    draft: FormDraft,
    def: FormDefinition,
    data: Json,
}

async fn load(state: &AppState, ctx: &Ctx, token: &str) -> Result<Loaded, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    if token.len() > 100 {
        return Err(AppError::NotFound);
    }
    let repo = state.store.repo();
    let draft = repo
        .draft_by_token(tenant, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, draft.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    let data = draft.data();
    Ok(Loaded {
        tenant,
        draft,
        def,
        data,
    })
}

fn step_index(def: &FormDefinition, n: &str) -> Result<usize, AppError> {
    n.parse::<usize>()
        .ok()
        .filter(|n| *n >= 1 && *n <= def.steps.len())
        .map(|n| n - 1)
        .ok_or(AppError::NotFound)
}

async fn resume(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let l = load(&state, &ctx, &token).await?;
    let step = (l.draft.step.max(0) as usize).min(l.def.steps.len().saturating_sub(1));
    Ok(no_store(
        Redirect::to(&format!("/antrag/{token}/schritt/{}", step + 1)).into_response(),
    ))
}

/// Words the problems of one step for the page.
fn worded(def: &FormDefinition, problems: &[Problem], lang: Lang) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|p| (p.path.clone(), form_render::problem_text(def, p, lang)))
        .collect()
}

struct StepView<'a> {
    token: &'a str,
    step: usize,
    problems: Vec<(String, String)>,
    notice: Option<&'static str>,
    status: StatusCode,
}

async fn render_step(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    l: &Loaded,
    v: StepView<'_>,
) -> Result<Response, AppError> {
    let english = ctx.lang == Lang::En;
    let def = &l.def;
    let nodes = forms::layout(def, v.step, &l.data, today());
    let errors: HashMap<String, String> = v.problems.iter().cloned().collect();
    let deps = form_render::rule_dependencies(def);
    let mut fields = String::new();
    form_render::render_nodes(
        &mut fields,
        &RenderCtx {
            lang: ctx.lang,
            errors: &errors,
            deps: &deps,
        },
        &nodes,
    );
    let step_title = def.steps[v.step].title.get(english).to_string();
    let title = if v.problems.is_empty() {
        format!("{step_title} – {}", def.title.get(english))
    } else {
        format!(
            "{}{step_title} – {}",
            ctx.t("wizard.error_prefix"),
            def.title.get(english)
        )
    };
    let mut page = with_staff(state, ctx, session, Page::new(ctx, &title)).await?;
    page.csrf = Some(csrf_token(session).await?);
    let has_file = def_has_file(&def.steps[v.step].items);
    let shown = forms::visible_paths(&nodes).join(",");
    Ok(no_store(
        (
            v.status,
            FormStepPage {
                page,
                form_title: def.title.get(english).to_string(),
                step_title,
                number: v.step + 1,
                total: def.steps.len(),
                action: format!("/antrag/{}/schritt/{}", v.token, v.step + 1),
                refresh: format!("/antrag/{}/schritt/{}/aktualisieren", v.token, v.step + 1),
                fields,
                errors: v
                    .problems
                    .iter()
                    .map(|(p, m)| (form_render::field_id(p), m.clone()))
                    .collect(),
                notice: v.notice.map(|k| ctx.t(k).to_string()),
                multipart: has_file,
                shown,
                preview: false,
            },
        )
            .into_response(),
    ))
}

fn def_has_file(items: &[forms::Item]) -> bool {
    items.iter().any(|i| match i {
        forms::Item::Field(f) => f.kind == forms::FieldKind::File,
        forms::Item::Group(g) => def_has_file(&g.items),
    })
}

async fn step_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((token, n)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let l = load(&state, &ctx, &token).await?;
    let step = step_index(&l.def, &n)?;
    render_step(
        &state,
        &ctx,
        &session,
        &l,
        StepView {
            token: &token,
            step,
            problems: vec![],
            notice: None,
            status: StatusCode::OK,
        },
    )
    .await
}

/// A submitted step: text pairs plus uploaded files (multipart), CSRF-checked.
pub struct StepBody {
    pub pairs: Vec<(String, String)>,
    /// (data path, original file name, content)
    pub files: Vec<(String, String, Bytes)>,
}

impl<S: Send + Sync> FromRequest<S> for StepBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::internal("session layer missing"))?;
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let mut pairs = Vec::new();
        let mut files = Vec::new();
        if multipart {
            let mut mp = axum::extract::Multipart::from_request(req, state)
                .await
                .map_err(|_| AppError::Csrf)?;
            while let Some(field) = mp.next_field().await.map_err(|_| {
                AppError::Validation(
                    rathaus_domain::FieldError::new("body", "file.too_large").into(),
                )
            })? {
                let name = field.name().unwrap_or_default().to_string();
                if let Some(path) = name.strip_prefix("_file:") {
                    let file_name = field.file_name().unwrap_or_default().to_string();
                    let data = field.bytes().await.map_err(|_| {
                        AppError::Validation(
                            rathaus_domain::FieldError::new("body", "file.too_large").into(),
                        )
                    })?;
                    if !data.is_empty() {
                        files.push((path.to_string(), file_name, data));
                    }
                } else {
                    let text = field.text().await.map_err(|_| AppError::Csrf)?;
                    pairs.push((name, text));
                }
            }
        } else {
            let bytes = Bytes::from_request(req, state).await.map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new("body", "too_long").into())
            })?;
            pairs = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        }
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str());
        verify_csrf(&session, token).await?;
        Ok(StepBody { pairs, files })
    }
}

/// The type of an upload from its first bytes (never from its name).
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A file name safe to show and store: no paths, no control characters.
pub(crate) fn safe_file_name(name: &str, mime: &str) -> String {
    safe_name(name, mime)
}

fn safe_name(name: &str, mime: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !"<>:\"|?*".contains(*c))
        .take(100)
        .collect();
    if clean.trim().trim_matches('.').is_empty() {
        clean = "datei".into();
    }
    let ext = match mime {
        "application/pdf" => ".pdf",
        "image/png" => ".png",
        _ => ".jpg",
    };
    let lower = clean.to_lowercase();
    let has_ext = lower.ends_with(ext) || (ext == ".jpg" && lower.ends_with(".jpeg"));
    if !has_ext {
        clean.push_str(ext);
    }
    clean
}

/// Stores uploaded files; returns pairs that reference them, and problems.
async fn store_files(
    state: &AppState,
    tenant: TenantId,
    def: &FormDefinition,
    files: Vec<(String, String, Bytes)>,
) -> Result<(Vec<(String, String)>, Vec<Problem>), AppError> {
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    for (path, name, content) in files {
        if forms::field_at(def, &path).is_none_or(|f| f.kind != forms::FieldKind::File) {
            continue;
        }
        if content.len() > MAX_UPLOAD_BYTES {
            problems.push(Problem {
                path,
                code: "file.too_large",
                message: None,
            });
            continue;
        }
        let Some(mime) = sniff(&content) else {
            problems.push(Problem {
                path,
                code: "file.type",
                message: None,
            });
            continue;
        };
        let id = Uuid::now_v7();
        state
            .files
            .put(tenant, &format!("uploads/{id}"), content)
            .await
            .map_err(AppError::internal)?;
        pairs.push((path, format!("{id}/{}", safe_name(&name, mime))));
    }
    Ok((pairs, problems))
}

async fn step_post(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((token, n)): Path<(String, String)>,
    body: StepBody,
) -> Result<Response, AppError> {
    let mut l = load(&state, &ctx, &token).await?;
    let step = step_index(&l.def, &n)?;
    let action = body
        .pairs
        .iter()
        .find(|(k, _)| k == "_action")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "next".into());
    let shown_before: Option<Vec<String>> =
        body.pairs
            .iter()
            .find(|(k, _)| k == "_shown")
            .map(|(_, v)| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            });
    let (mut pairs, upload_problems) = store_files(&state, l.tenant, &l.def, body.files).await?;
    // A new upload replaces the kept reference of the same field.
    let replaced: Vec<String> = pairs.iter().map(|(p, _)| p.clone()).collect();
    pairs.extend(
        body.pairs
            .into_iter()
            .filter(|(k, _)| !replaced.contains(k)),
    );
    forms::apply_step(&l.def, step, &mut l.data, &pairs);
    let mut next_step = step;
    let mut view_notice = None;
    let mut problems: Vec<Problem> = upload_problems;
    match action.as_str() {
        a if a.starts_with("add:") => {
            forms::add_instance(&l.def, &mut l.data, &a[4..]);
        }
        a if a.starts_with("remove:") => {
            forms::remove_instance(&l.def, &mut l.data, &a[7..]);
        }
        "back" | "save" => {}
        _ => {
            forms::apply_computed(&l.def, &mut l.data, today());
            let shown_now = forms::visible_paths(&forms::layout(&l.def, step, &l.data, today()));
            let appeared = shown_before
                .as_ref()
                .is_some_and(|before| shown_now.iter().any(|p| !before.contains(p)));
            if appeared {
                view_notice = Some("wizard.new_fields");
            } else if problems.is_empty() {
                problems = forms::validate_step(&l.def, step, &l.data, today());
                if problems.is_empty() {
                    next_step = step + 1;
                }
            }
        }
    }
    forms::apply_computed(&l.def, &mut l.data, today());
    let expires = Utc::now() + Duration::days(state.config.draft_days.into());
    let stored_step = if action == "back" {
        step.saturating_sub(1)
    } else {
        next_step.min(l.def.steps.len() - 1)
    };
    state
        .store
        .repo()
        .update_draft(l.tenant, l.draft.id, &l.data, stored_step as i32, expires)
        .await?;
    let to = |s: String| Ok(no_store(Redirect::to(&s).into_response()));
    match action.as_str() {
        "save" => to(format!("/antrag/{token}/gespeichert")),
        "back" if step == 0 => to(format!("/antrag/{token}/schritt/1")),
        "back" => to(format!("/antrag/{token}/schritt/{step}")),
        _ if next_step > step && next_step >= l.def.steps.len() => {
            to(format!("/antrag/{token}/pruefen"))
        }
        _ if next_step > step => to(format!("/antrag/{token}/schritt/{}", next_step + 1)),
        _ => {
            let worded = worded(&l.def, &problems, ctx.lang);
            let status = if worded.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_step(
                &state,
                &ctx,
                &session,
                &l,
                StepView {
                    token: &token,
                    step,
                    problems: worded,
                    notice: view_notice,
                    status,
                },
            )
            .await
        }
    }
}

/// Re-evaluates a step for the script: saves the entered values and returns
/// the step's fields as an HTML fragment (no error messages yet).
async fn refresh(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((token, n)): Path<(String, String)>,
    body: StepBody,
) -> Result<Response, AppError> {
    let mut l = load(&state, &ctx, &token).await?;
    let step = step_index(&l.def, &n)?;
    forms::apply_step(&l.def, step, &mut l.data, &body.pairs);
    forms::apply_computed(&l.def, &mut l.data, today());
    let expires = Utc::now() + Duration::days(state.config.draft_days.into());
    state
        .store
        .repo()
        .update_draft(l.tenant, l.draft.id, &l.data, step as i32, expires)
        .await?;
    let nodes = forms::layout(&l.def, step, &l.data, today());
    let deps = form_render::rule_dependencies(&l.def);
    let mut html = String::new();
    form_render::render_nodes(
        &mut html,
        &RenderCtx {
            lang: ctx.lang,
            errors: &HashMap::new(),
            deps: &deps,
        },
        &nodes,
    );
    let shown = forms::visible_paths(&nodes).join(",");
    html.push_str(&format!(
        "<input type=\"hidden\" name=\"_shown\" value=\"{}\">",
        form_render::esc(&shown)
    ));
    Ok(no_store(Html(html).into_response()))
}

async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let l = load(&state, &ctx, &token).await?;
    render_review(&state, &ctx, &session, &token, &l).await
}

async fn render_review(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    token: &str,
    l: &Loaded,
) -> Result<Response, AppError> {
    let english = ctx.lang == Lang::En;
    let problems = forms::validate(&l.def, &l.data, today());
    let mut sections = Vec::new();
    for (i, s) in l.def.steps.iter().enumerate() {
        let nodes = forms::layout(&l.def, i, &l.data, today());
        let mut rows = Vec::new();
        form_render::review_rows(&l.def, &nodes, ctx.lang, &mut rows);
        sections.push(ReviewSection {
            title: s.title.get(english).to_string(),
            href: format!("/antrag/{token}/schritt/{}", i + 1),
            rows,
        });
    }
    let errors = problems
        .iter()
        .map(|p| {
            let step = forms::step_of(&l.def, &p.path).unwrap_or(0);
            (
                format!(
                    "/antrag/{token}/schritt/{}#{}",
                    step + 1,
                    form_render::field_id(&p.path)
                ),
                form_render::problem_text(&l.def, p, ctx.lang),
            )
        })
        .collect::<Vec<_>>();
    let title = format!(
        "{}{} – {}",
        if errors.is_empty() {
            ""
        } else {
            ctx.t("wizard.error_prefix")
        },
        ctx.t("wizard.review_title"),
        l.def.title.get(english)
    );
    let mut page = with_staff(state, ctx, session, Page::new(ctx, &title)).await?;
    page.csrf = Some(csrf_token(session).await?);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(no_store(
        (
            status,
            FormReviewPage {
                page,
                form_title: l.def.title.get(english).to_string(),
                sections,
                errors,
                token: token.to_string(),
                expires: l.draft.expires_at.format("%d.%m.%Y").to_string(),
                idempotency_key: format!("draft-{}", l.draft.id),
            },
        )
            .into_response(),
    ))
}

#[derive(serde::Deserialize)]
struct SubmitForm {
    #[serde(default)]
    idempotency_key: String,
}

fn submitted_key(token: &str) -> String {
    format!("submitted:{}", rathaus_storage::identity::token_hash(token))
}

/// Every visible file field's value, with its path.
fn file_values(def: &FormDefinition, data: &Json) -> Vec<(String, String)> {
    fn walk(nodes: &[forms::Node<'_>], out: &mut Vec<(String, String)>) {
        for n in nodes {
            match n {
                forms::Node::Field {
                    path, def, value, ..
                } => {
                    if def.kind == forms::FieldKind::File
                        && let Some(v) = value.as_str()
                    {
                        out.push((path.clone(), v.to_string()));
                    }
                }
                forms::Node::Group { instances, .. } => {
                    for (_, inner) in instances {
                        walk(inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for i in 0..def.steps.len() {
        walk(&forms::layout(def, i, data, today()), &mut out);
    }
    out
}

/// Routing: the service's responsible org unit, else the tenant's central
/// intake (its first top-level org unit); with the service's processing
/// deadline in days.
pub(crate) async fn route(
    state: &AppState,
    tenant: TenantId,
    service: Option<Uuid>,
    data: &Json,
) -> Result<(Uuid, Option<u32>), AppError> {
    let routing = crate::intake::routing(state, tenant, service).await?;
    Ok((routing.org_unit(data), routing.due_days))
}

/// Sends the application: validated again on the server, then written in one
/// transaction (application, files, case, audit entry, outbox job; the draft
/// goes). A second click or a retry finds the same application.
async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
    form: crate::security::CsrfForm<SubmitForm>,
) -> Result<Response, AppError> {
    if let Some(target) = session.get::<String>(&submitted_key(&token)).await? {
        return Ok(no_store(Redirect::to(&target).into_response()));
    }
    let l = load(&state, &ctx, &token).await?;
    if !forms::validate(&l.def, &l.data, today()).is_empty() {
        return render_review(&state, &ctx, &session, &token, &l).await;
    }
    let tenant = ctx.tenant()?.clone();
    let repo = state.store.repo();
    let version = repo
        .form_version(l.tenant, l.draft.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form_row = repo
        .form(l.tenant, version.form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (unit, due_days) = route(&state, l.tenant, form_row.service_id, &l.data).await?;
    let citizen = crate::accounts::current_citizen(&state, &ctx, &session).await?;
    let notify_email = match &citizen {
        Some(c) => Some(c.email.clone()),
        None => rathaus_domain::decisions::email_from_form(&l.def, &l.data),
    };
    let mut files = Vec::new();
    for (path, value) in file_values(&l.def, &l.data) {
        let Some((id, name)) = value.split_once('/') else {
            continue;
        };
        let key = format!("uploads/{id}");
        let Some(bytes) = state
            .files
            .get(l.tenant, &key)
            .await
            .map_err(AppError::internal)?
        else {
            continue;
        };
        use sha2::Digest;
        files.push(rathaus_storage::applications::NewFile {
            field_path: path,
            file_key: key,
            name: name.to_string(),
            mime: sniff(&bytes)
                .unwrap_or("application/octet-stream")
                .to_string(),
            size: bytes.len() as i64,
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        });
    }
    let key = rathaus_domain::applications::parse_idempotency_key(&form.form.idempotency_key)
        .unwrap_or_else(|| format!("draft-{}", l.draft.id));
    let submitted = state
        .store
        .submit_application(rathaus_storage::applications::NewApplication {
            tenant: l.tenant,
            prefix: rathaus_domain::applications::Reference::prefix_for(&tenant.name),
            service_id: form_row.service_id,
            form_version_id: version.id,
            data: l.data.clone(),
            idempotency_key: Some(key),
            files,
            org_unit_id: unit,
            draft_id: Some(l.draft.id),
            actor: "applicant".into(),
            due_days,
            citizen_id: citizen.as_ref().map(|c| c.id),
            notify_email,
        })
        .await?;
    let target = match (&citizen, submitted.access_token) {
        (Some(_), _) => format!(
            "/konto/antraege/{}?msg=received",
            submitted.application.reference
        ),
        (None, Some(access)) => format!("/antrag/eingang/{access}"),
        // Submitted before from elsewhere: the draft is gone, the link was shown there.
        (None, None) => return Err(AppError::NotFound),
    };
    session.insert(&submitted_key(&token), &target).await?;
    Ok(no_store(Redirect::to(&target).into_response()))
}

/// The confirmation of receipt (Eingangsbestätigung) behind the applicant's access link.
#[derive(serde::Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

/// How an applicant reaches an application: the access link, or the
/// account it was submitted from (`reference`).
pub(crate) enum Access {
    Link(String),
    Account(rathaus_storage::accounts::Citizen, String),
}

impl Access {
    fn base(&self) -> String {
        match self {
            Access::Link(a) => format!("/antrag/eingang/{a}"),
            Access::Account(_, r) => format!("/konto/antraege/{r}"),
        }
    }
}

async fn resolve(
    state: &AppState,
    tenant: TenantId,
    access: &Access,
) -> Result<rathaus_storage::applications::Application, AppError> {
    let repo = state.store.repo();
    match access {
        Access::Link(a) if a.len() <= 100 => repo
            .application_by_access_token(tenant, a)
            .await?
            .ok_or(AppError::NotFound),
        Access::Link(_) => Err(AppError::NotFound),
        Access::Account(c, reference) => repo
            .application_by_reference(tenant, reference)
            .await?
            .filter(|a| a.citizen_id == Some(c.id))
            .ok_or(AppError::NotFound),
    }
}

async fn received(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(access): Path<String>,
    axum::extract::Query(q): axum::extract::Query<MsgQuery>,
) -> Result<Response, AppError> {
    show_application(&state, &ctx, &session, Access::Link(access), q.msg).await
}

/// The applicant's page of one application: receipt data, status, mailbox.
pub(crate) async fn show_application(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    access: Access,
    msg: Option<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let base = access.base();
    let case = repo
        .case_of(tenant, app.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    use rathaus_storage::tenancy::OrgUnitRepository;
    let unit = repo.org_unit(tenant, case.org_unit_id).await?;
    let files = repo.application_files(tenant, app.id).await?;
    // Opening the page is the Bekanntgabe of the office's messages.
    repo.mark_read(tenant, app.id, true).await?;
    let messages = repo.messages(tenant, app.id).await?;
    let thread = thread_rows(&messages, &files, |f| format!("{base}/dateien/{}", f.id));
    let english = ctx.lang == Lang::En;
    let mut page = with_staff(
        state,
        ctx,
        session,
        Page::new(ctx, ctx.t("submitted.title")),
    )
    .await?;
    page.csrf = Some(csrf_token(session).await?);
    let public = state.config.public_url.trim_end_matches('/');
    Ok(no_store(
        crate::views::SubmittedPage {
            page,
            reference: app.reference.clone(),
            form_title: def.title.get(english).to_string(),
            submitted_at: app
                .submitted_at
                .with_timezone(&chrono_tz_berlin())
                .format("%d.%m.%Y, %H:%M Uhr")
                .to_string(),
            org_unit: unit.map(|u| u.name).unwrap_or_default(),
            status: ctx
                .t(&format!("case_status.{}", case.status().code()))
                .to_string(),
            files: files
                .into_iter()
                .filter(|f| f.message_id.is_none())
                .map(|f| format!("{} ({} KB)", f.name, (f.size + 1023) / 1024))
                .collect(),
            link: match &access {
                Access::Link(a) => Some(format!("{public}/antrag/eingang/{a}")),
                Access::Account(..) => None,
            },
            base,
            thread,
            open: case.status().is_open(),
            notice: match msg.as_deref() {
                Some("sent") => Some(ctx.t("mailbox.sent").to_string()),
                Some("received") => Some(ctx.t("account.received").to_string()),
                _ => None,
            },
        }
        .into_response(),
    ))
}

/// Central European time for display (UTC+1, UTC+2 in summer; no tz database needed).
fn chrono_tz_berlin() -> chrono::FixedOffset {
    use chrono::Datelike;
    let now = Utc::now();
    // Last Sunday of March to last Sunday of October, approximately by month.
    let summer = (4..=10).contains(&now.month());
    chrono::FixedOffset::east_opt(if summer { 7200 } else { 3600 }).expect("offset")
}

async fn saved(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let l = load(&state, &ctx, &token).await?;
    let english = ctx.lang == Lang::En;
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("wizard.saved_title")),
    )
    .await?;
    let base = state.config.public_url.trim_end_matches('/');
    Ok(no_store(
        FormSavedPage {
            page,
            form_title: l.def.title.get(english).to_string(),
            link: format!("{base}/antrag/{token}"),
            expires: i18n::tf(
                ctx.lang,
                "wizard.expires",
                &[("date", &l.draft.expires_at.format("%d.%m.%Y").to_string())],
            ),
        }
        .into_response(),
    ))
}

fn local_time(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz_berlin())
        .format("%d.%m.%Y, %H:%M")
        .to_string()
}

/// The thread as rows for either side; `href` links a file.
pub(crate) fn thread_rows(
    messages: &[rathaus_storage::applications::Message],
    files: &[rathaus_storage::applications::ApplicationFile],
    href: impl Fn(&rathaus_storage::applications::ApplicationFile) -> String,
) -> Vec<crate::views::ThreadRow> {
    messages
        .iter()
        .map(|m| crate::views::ThreadRow {
            from_office: m.from_office,
            kind: match m.kind.as_str() {
                "document_request" => "document_request",
                "answer" => "answer",
                "decision" => "decision",
                _ => "message",
            },
            at: local_time(m.created_at),
            body: m.body.clone(),
            documents: m
                .requested_documents
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().trim_start_matches("- ").to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            due: m
                .due_date
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_default(),
            read_at: m.read_at.map(local_time).unwrap_or_default(),
            files: files
                .iter()
                .filter(|f| f.message_id == Some(m.id))
                .map(|f| (href(f), f.name.clone()))
                .collect(),
        })
        .collect()
}

/// The applicant answers with text and files (multipart, CSRF-checked).
async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(access): Path<String>,
    body: StepBody,
) -> Result<Response, AppError> {
    answer_as(&state, &ctx, Access::Link(access), body).await
}

/// The applicant's answer, through either way of access.
pub(crate) async fn answer_as(
    state: &AppState,
    ctx: &Ctx,
    access: Access,
    body: StepBody,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let app = resolve(state, tenant, &access).await?;
    let text = body
        .pairs
        .iter()
        .find(|(k, _)| k == "body")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let mut checked = Vec::new();
    for (_, name, content) in body.files {
        if content.len() > MAX_UPLOAD_BYTES {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("file", "file.too_large").into(),
            ));
        }
        let mime = sniff(&content).ok_or_else(|| {
            AppError::Validation(rathaus_domain::FieldError::new("file", "file.type").into())
        })?;
        checked.push((name, mime, content));
    }
    if text.is_empty() && checked.is_empty() {
        return Err(AppError::Validation(
            rathaus_domain::FieldError::new("body", "required").into(),
        ));
    }
    let mut files = Vec::new();
    for (name, mime, content) in checked {
        use sha2::Digest;
        let id = Uuid::now_v7();
        let key = format!("uploads/{id}");
        let sha = hex::encode(sha2::Sha256::digest(&content));
        let size = content.len() as i64;
        state
            .files
            .put(tenant, &key, content)
            .await
            .map_err(AppError::internal)?;
        files.push(rathaus_storage::applications::NewFile {
            field_path: "antwort".into(),
            file_key: key,
            name: safe_name(&name, mime),
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
        Ok(_) => Ok(no_store(
            Redirect::to(&format!("{}?msg=sent", access.base())).into_response(),
        )),
        Err(rathaus_storage::applications::CaseError::Transition(_)) => {
            Err(AppError::Conflict("status"))
        }
        Err(rathaus_storage::applications::CaseError::Storage(e)) => Err(e.into()),
    }
}

/// A file of the application or its answers, for the applicant.
async fn applicant_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((access, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    file_as(&state, &ctx, Access::Link(access), &file).await
}

/// A file for the applicant. Opening a Bescheid is its Bekanntgabe: the
/// first download records the time, which the clerk sees.
pub(crate) async fn file_as(
    state: &AppState,
    ctx: &Ctx,
    access: Access,
    file: &str,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let file = Uuid::parse_str(file).map_err(|_| AppError::NotFound)?;
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
    Ok(no_store(
        (
            [
                (header::CONTENT_TYPE, f.mime.clone()),
                (header::CONTENT_DISPOSITION, "attachment".to_string()),
            ],
            bytes,
        )
            .into_response(),
    ))
}

/// The confirmation of receipt as PDF/A, typeset from the stored application.
async fn receipt_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(access): Path<String>,
) -> Result<Response, AppError> {
    receipt_as(&state, &ctx, Access::Link(access)).await
}

pub(crate) async fn receipt_as(
    state: &AppState,
    ctx: &Ctx,
    access: Access,
) -> Result<Response, AppError> {
    let tenant_row = ctx.tenant()?.clone();
    let tenant = tenant_row.tenant_id();
    let repo = state.store.repo();
    let app = resolve(state, tenant, &access).await?;
    let case = repo
        .case_of(tenant, app.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = repo
        .form_version(tenant, app.form_version_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = version.definition().ok_or(AppError::NotFound)?;
    use rathaus_storage::tenancy::OrgUnitRepository;
    let office = repo
        .org_unit(tenant, case.org_unit_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let fees = match app.service_id {
        Some(s) => repo
            .published(tenant, s)
            .await?
            .map(|p| p.content.costs)
            .unwrap_or_default(),
        None => String::new(),
    };
    let data = app.data();
    let mut sections = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let nodes = forms::layout(&def, i, &data, today());
        let mut rows = Vec::new();
        form_render::review_rows(&def, &nodes, Lang::De, &mut rows);
        sections.push((s.title.de.clone(), rows));
    }
    let files = repo
        .application_files(tenant, app.id)
        .await?
        .into_iter()
        .filter(|f| f.message_id.is_none())
        .map(|f| f.name)
        .collect();
    let receipt = rathaus_documents::Receipt {
        municipality: tenant_row.name.clone(),
        office,
        reference: app.reference.clone(),
        form_title: def.title.de.clone(),
        submitted_at: format!("{} Uhr", local_time(app.submitted_at)),
        sections,
        files,
        fees,
        next_steps: i18n::t(Lang::De, "submitted.next").to_string(),
        date: app
            .submitted_at
            .with_timezone(&chrono_tz_berlin())
            .date_naive(),
    };
    let pdf = tokio::task::spawn_blocking(move || rathaus_documents::receipt_pdf(&receipt))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(no_store(
        (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename=\"Eingangsbestaetigung-{}.pdf\"",
                        app.reference
                    ),
                ),
            ],
            pdf,
        )
            .into_response(),
    ))
}

/// Where emails without an access link point: how to open an application.
async fn access_help(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    ctx.tenant()?;
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("access_help.title")),
    )
    .await?;
    let reference = q
        .get("az")
        .map(|r| r.trim().to_string())
        .filter(|r| r.len() <= 30 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    Ok(crate::views::AccessHelpPage { page, reference }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_typed_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(sniff(b"MZ\x90\x00 an exe named x.pdf"), None);
        assert_eq!(
            safe_name("C:\\Users\\x\\Nachweis.pdf", "application/pdf"),
            "Nachweis.pdf"
        );
        assert_eq!(safe_name("../../etc/passwd", "image/png"), "passwd.png");
        assert_eq!(safe_name("foto.jpeg", "image/jpeg"), "foto.jpeg");
        assert_eq!(safe_name("", "application/pdf"), "datei.pdf");
    }
}
