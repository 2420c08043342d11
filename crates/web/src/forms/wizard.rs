//! The public form wizard (C2): one step per page, a review page, drafts
//! with a resume link. Everything works without JavaScript: a step is
//! re-evaluated by the server when it is submitted. `wizard.js` only asks
//! the server to re-evaluate the current step and swaps the fields in.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use chrono::Utc;
use rathaus_app::{
    Actor,
    applications::{Submission, SubmitOutcome},
    drafts::{Draft, Upload},
};
use rathaus_domain::{
    applications::parse_idempotency_key,
    forms::{self, FormDefinition, Problem},
};
use tower_sessions::Session;

use super::views::{FormReviewPage, FormSavedPage, FormStartPage, FormStepPage, ReviewSection};
use crate::platform::{
    AppState,
    auth::{current_citizen, with_staff},
    client::Client,
    context::Ctx,
    error::AppError,
    form_render::{self, RenderCtx},
    i18n::{self, Lang},
    layout::{Page, no_store},
    routes::{Routes, get, post},
    security::{CsrfForm, csrf_token, verify_csrf},
    upload::StepBody,
};

pub fn routes() -> Routes {
    Routes::new("forms")
        .route("/leistungen/{slug}/antrag", get(start).post(create_draft))
        .route("/antrag/{token}", get(resume))
        .route(
            "/antrag/{token}/schritt/{n}",
            get(step_page).post(step_post),
        )
        .route("/antrag/{token}/schritt/{n}/aktualisieren", post(refresh))
        .route("/antrag/{token}/pruefen", get(review))
        .route("/antrag/{token}/absenden", post(submit))
        .route("/antrag/{token}/gespeichert", get(saved))
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (service, _, def) = state.app.service_form(tenant, &slug).await?;
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
    Client(client): Client,
    body: Bytes,
) -> Result<Response, AppError> {
    let f: CsrfOnly = serde_urlencoded::from_bytes(&body).map_err(|_| AppError::Csrf)?;
    verify_csrf(&session, f.csrf_token.as_deref()).await?;
    if !state.limiter.check_draft(client) {
        return Err(AppError::RateLimited);
    }
    let tenant = ctx.tenant()?.tenant_id();
    // Logged in: the account's profile prefills the form.
    let actor = match current_citizen(&state, &ctx, &session).await? {
        Some(c) => Actor::Citizen {
            tenant,
            account: c.id,
        },
        None => Actor::Anonymous { tenant },
    };
    let token = state
        .app
        .start_draft(&actor, &slug, state.config.draft_days, today())
        .await?;
    Ok(Redirect::to(&format!("/antrag/{token}/schritt/1")).into_response())
}

async fn load(state: &AppState, ctx: &Ctx, token: &str) -> Result<Draft, AppError> {
    Ok(state.app.draft(ctx.tenant()?.tenant_id(), token).await?)
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
    let step = (l.draft.step.max(0) as usize).min(l.definition.steps.len().saturating_sub(1));
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
    l: &Draft,
    v: StepView<'_>,
) -> Result<Response, AppError> {
    let english = ctx.lang == Lang::En;
    let def = &l.definition;
    let nodes = forms::layout(def, v.step, &l.data, today());
    let errors: HashMap<String, String> = v.problems.iter().cloned().collect();
    let deps = form_render::rule_dependencies(def);
    let fields = form_render::FieldMarkup::render(
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
    let step = step_index(&l.definition, &n)?;
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

async fn step_post(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((token, n)): Path<(String, String)>,
    body: StepBody,
) -> Result<Response, AppError> {
    let mut l = load(&state, &ctx, &token).await?;
    let step = step_index(&l.definition, &n)?;
    if !body.files.is_empty() && !state.limiter.check_upload(body.client) {
        return Err(AppError::RateLimited);
    }
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
    let uploads = body
        .files
        .into_iter()
        .map(|(path, name, content)| Upload {
            path,
            name,
            content,
        })
        .collect();
    let (mut pairs, upload_problems) = state
        .app
        .store_uploads(&l, step, uploads, &body.pairs)
        .await?;
    // A new upload replaces the kept reference of the same field.
    let replaced: Vec<String> = pairs.iter().map(|(p, _)| p.clone()).collect();
    pairs.extend(
        body.pairs
            .into_iter()
            .filter(|(k, _)| !replaced.contains(k)),
    );
    forms::apply_step(&l.definition, step, &mut l.data, &pairs);
    let mut next_step = step;
    let mut view_notice = None;
    // A refused file stops the step whatever the action, so it is never lost silently.
    let upload_refused = !upload_problems.is_empty();
    let mut problems: Vec<Problem> = upload_problems;
    match action.as_str() {
        a if a.starts_with("add:") => {
            forms::add_instance(&l.definition, &mut l.data, &a[4..]);
        }
        a if a.starts_with("remove:") => {
            forms::remove_instance(&l.definition, &mut l.data, &a[7..]);
        }
        "back" | "save" => {}
        _ => {
            forms::apply_computed(&l.definition, &mut l.data, today());
            let shown_now =
                forms::visible_paths(&forms::layout(&l.definition, step, &l.data, today()));
            let appeared = shown_before
                .as_ref()
                .is_some_and(|before| shown_now.iter().any(|p| !before.contains(p)));
            if appeared {
                view_notice = Some("wizard.new_fields");
            } else if problems.is_empty() {
                problems = forms::validate_step(&l.definition, step, &l.data, today());
                if problems.is_empty() {
                    next_step = step + 1;
                }
            }
        }
    }
    forms::apply_computed(&l.definition, &mut l.data, today());
    let stored_step = if action == "back" {
        step.saturating_sub(1)
    } else {
        next_step.min(l.definition.steps.len() - 1)
    };
    state
        .app
        .save_draft(&l, stored_step, state.config.draft_days)
        .await?;
    let to = |s: String| Ok(no_store(Redirect::to(&s).into_response()));
    match action.as_str() {
        _ if upload_refused => {
            let worded = worded(&l.definition, &problems, ctx.lang);
            render_step(
                &state,
                &ctx,
                &session,
                &l,
                StepView {
                    token: &token,
                    step,
                    problems: worded,
                    notice: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                },
            )
            .await
        }
        "save" => to(format!("/antrag/{token}/gespeichert")),
        "back" if step == 0 => to(format!("/antrag/{token}/schritt/1")),
        "back" => to(format!("/antrag/{token}/schritt/{step}")),
        _ if next_step > step && next_step >= l.definition.steps.len() => {
            to(format!("/antrag/{token}/pruefen"))
        }
        _ if next_step > step => to(format!("/antrag/{token}/schritt/{}", next_step + 1)),
        _ => {
            let worded = worded(&l.definition, &problems, ctx.lang);
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
    let step = step_index(&l.definition, &n)?;
    forms::apply_step(&l.definition, step, &mut l.data, &body.pairs);
    forms::apply_computed(&l.definition, &mut l.data, today());
    state
        .app
        .save_draft(&l, step, state.config.draft_days)
        .await?;
    let nodes = forms::layout(&l.definition, step, &l.data, today());
    let deps = form_render::rule_dependencies(&l.definition);
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
    l: &Draft,
) -> Result<Response, AppError> {
    let english = ctx.lang == Lang::En;
    let problems = forms::validate(&l.definition, &l.data, today());
    let mut sections = Vec::new();
    for (i, s) in l.definition.steps.iter().enumerate() {
        let nodes = forms::layout(&l.definition, i, &l.data, today());
        let mut rows = Vec::new();
        form_render::review_rows(&l.definition, &nodes, ctx.lang, &mut rows);
        sections.push(ReviewSection {
            title: s.title.get(english).to_string(),
            href: format!("/antrag/{token}/schritt/{}", i + 1),
            rows,
        });
    }
    let errors = problems
        .iter()
        .map(|p| {
            let step = forms::step_of(&l.definition, &p.path).unwrap_or(0);
            (
                format!(
                    "/antrag/{token}/schritt/{}#{}",
                    step + 1,
                    form_render::field_id(&p.path)
                ),
                form_render::problem_text(&l.definition, p, ctx.lang),
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
        l.definition.title.get(english)
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
                form_title: l.definition.title.get(english).to_string(),
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

/// Sends the application (`App::submit_application`): validated again on
/// the server, then written in one transaction (application, files, case,
/// audit entry, outbox job; the draft goes). A second click or a retry finds
/// the same application.
async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
    form: CsrfForm<SubmitForm>,
) -> Result<Response, AppError> {
    if let Some(target) = session.get::<String>(&submitted_key(&token)).await? {
        return Ok(no_store(Redirect::to(&target).into_response()));
    }
    let tenant = ctx.tenant()?.tenant_id();
    let citizen = current_citizen(&state, &ctx, &session).await?;
    let actor = match &citizen {
        Some(c) => Actor::Citizen {
            tenant,
            account: c.id,
        },
        None => Actor::Anonymous { tenant },
    };
    let submission = Submission::Draft {
        token: token.clone(),
        idempotency_key: parse_idempotency_key(&form.form.idempotency_key),
    };
    let submitted = match state.app.submit_application(&actor, submission).await? {
        SubmitOutcome::Received(s) => s,
        SubmitOutcome::Invalid { .. } => {
            let l = load(&state, &ctx, &token).await?;
            return render_review(&state, &ctx, &session, &token, &l).await;
        }
    };
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
            form_title: l.definition.title.get(english).to_string(),
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
