//! Form editing for the Redaktion: import FIM XDatenfelder (with code lists)
//! or a definition in the JSON format, change labels, help, order,
//! required-ness and rules, preview each step as the public sees it, submit
//! for review, approve as a second person, attach to a service.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use rathaus_app::{
    UseCaseError,
    forms::{FimUpload, NewDefinition},
};
use rathaus_domain::{
    catalog::I18nText,
    forms::{self, Check, FormDefinition, Item},
};
use rathaus_storage::{
    catalog::CatalogRepository,
    forms::{FormRepository, FormVersion, Forms},
};
use uuid::Uuid;

use super::{
    api::FORMAT,
    views::{
        FormDetailPage, FormImportPage, FormItemPage, FormJsonPage, FormListRow, FormStepPage,
        FormsListPage, ItemRow,
    },
};
use crate::platform::{
    AppState,
    auth::{StaffUser, require_editor, staff_page},
    context::{Ctx, describe},
    editorial::{
        APPROVE, REJECT, SUBMIT, WorkflowView, after_page, page_change, page_step, pending_view,
    },
    error::AppError,
    form_render::{self, RenderCtx},
    i18n::Lang,
    multipart,
    routes::{Routes, get, post},
    security::{CsrfForm, verify_csrf},
    upload::StepBody,
};

pub fn routes() -> Routes {
    Routes::new("forms")
        .route("/staff/forms", get(list))
        .route(
            "/staff/forms/import",
            get(import_page).post(import_fim_post),
        )
        .route("/staff/forms/import-json", post(import_json_post))
        .route("/staff/forms/{id}", get(detail))
        .route(
            "/staff/forms/{id}/items/{path}",
            get(item_page).post(item_save),
        )
        .route("/staff/forms/{id}/move", post(move_item))
        .route("/staff/forms/{id}/json", get(json_page).post(json_save))
        .route("/staff/forms/{id}/export", get(export))
        .route(
            "/staff/forms/{id}/preview/{n}",
            get(preview).post(preview_post),
        )
        .route("/staff/forms/{id}/submit", post(page_step::<Forms, SUBMIT>))
        .route(
            "/staff/forms/{id}/approve",
            post(page_step::<Forms, APPROVE>),
        )
        .route("/staff/forms/{id}/reject", post(page_step::<Forms, REJECT>))
        .route("/staff/forms/{id}/attach", post(attach))
        .route(
            "/staff/forms/{id}/change/approve",
            post(page_change::<Forms, true>),
        )
        .route(
            "/staff/forms/{id}/change/reject",
            post(page_change::<Forms, false>),
        )
}

fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound)
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let services: HashMap<Uuid, String> = state
        .app
        .catalog_overview(&actor)
        .await?
        .into_iter()
        .map(|o| (o.service.id, o.latest.content().title.de))
        .collect();
    let rows = state
        .app
        .forms_overview(&actor)
        .await?
        .into_iter()
        .map(|o| FormListRow {
            id: o.form.id,
            key: o.form.key.clone(),
            title: o
                .latest
                .definition()
                .map(|d| d.title.de)
                .unwrap_or_default(),
            service: o
                .form
                .service_id
                .and_then(|s| services.get(&s).cloned())
                .unwrap_or_default(),
            latest: o.latest.number,
            status: o.latest.status().code(),
            published: o.published.map(|p| p.number),
        })
        .collect();
    let page = staff_page(&ctx, &staff, ctx.t("form_editor.title")).await?;
    Ok(FormsListPage { page, rows }.into_response())
}

async fn services_list(
    state: &AppState,
    staff: &StaffUser,
) -> Result<Vec<(String, String)>, AppError> {
    let mut v: Vec<(String, String)> = state
        .app
        .catalog_overview(&staff.actor(state).await?)
        .await?
        .into_iter()
        .map(|o| (o.service.slug, o.latest.content().title.de))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(v)
}

async fn render_import(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    error: Option<&AppError>,
    json: String,
) -> Result<Response, AppError> {
    let page = staff_page(ctx, staff, ctx.t("form_editor.import_title")).await?;
    let (summary, fields) = match error {
        Some(e) => {
            let (m, f) = describe(ctx.lang, e);
            (Some(m), f)
        }
        None => (None, vec![]),
    };
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        FormImportPage {
            page,
            services: services_list(state, staff).await?,
            error: summary,
            field_errors: fields,
            json,
        },
    )
        .into_response())
}

async fn import_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    render_import(&state, &ctx, &staff, None, String::new()).await
}

/// The FIM upload: `schema` file, any number of `codelists` files, `key`, `service`.
async fn import_fim_post(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    req: Request,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let bad = |m: String| AppError::BadFile(m);
    let (mut csrf, mut key, mut service, mut schema, mut lists) =
        (None, None, None, None::<(String, String)>, Vec::new());
    for part in multipart::read(req).await.map_err(|e| bad(e.to_string()))? {
        let file = part.file_name.clone().unwrap_or_default();
        match part.name.as_str() {
            "csrf_token" => csrf = Some(part.text()),
            "key" => key = Some(part.text()),
            "service" => service = Some(part.text()),
            "schema" | "codelists" if !part.data.is_empty() => {
                let text = String::from_utf8(part.data.to_vec())
                    .map_err(|_| bad(format!("{file}: not UTF-8 text")))?;
                if part.name == "schema" {
                    schema = Some((file, text));
                } else {
                    lists.push((file, text));
                }
            }
            _ => {}
        }
    }
    verify_csrf(&staff.session, csrf.as_deref()).await?;
    let Some((file, xml)) = schema else {
        let e = AppError::Validation(rathaus_domain::FieldError::new("schema", "required").into());
        return render_import(&state, &ctx, &staff, Some(&e), String::new()).await;
    };
    let upload = FimUpload {
        schema: (file, xml),
        code_lists: lists,
        key,
        service,
    };
    match state
        .app
        .import_fim(&staff.actor(&state).await?, upload)
        .await
        .map_err(AppError::from)
    {
        Ok(i) => {
            Ok(Redirect::to(&format!("/staff/forms/{}?msg=imported", i.form.id)).into_response())
        }
        Err(
            e @ (AppError::BadFile(_)
            | AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::Workflow(_)
            | AppError::InvalidJson(_)),
        ) => render_import(&state, &ctx, &staff, Some(&e), String::new()).await,
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
struct JsonImport {
    #[serde(default)]
    json: String,
    #[serde(default)]
    service: String,
}

/// A definition in the exchange format (`GET /api/v1/forms/{id}` of any
/// tenant) or a bare definition.
async fn import_json_post(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    form: CsrfForm<JsonImport>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let text = form.form.json;
    let parsed: Result<(Option<String>, FormDefinition), String> =
        serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                let key = v.get("key").and_then(|k| k.as_str()).map(String::from);
                let def = v.get("definition").cloned().unwrap_or(v);
                serde_json::from_value(def)
                    .map(|d| (key, d))
                    .map_err(|e| e.to_string())
            });
    let (key, def) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return render_import(&state, &ctx, &staff, Some(&AppError::InvalidJson(e)), text)
                .await;
        }
    };
    let input = NewDefinition {
        key,
        service: Some(form.form.service),
        definition: def,
    };
    let actor = staff.actor(&state).await?;
    match state
        .app
        .store_form_definition(&actor, input)
        .await
        .map_err(AppError::from)
    {
        Ok(stored) => Ok(
            Redirect::to(&format!("/staff/forms/{}?msg=imported", stored.form.id)).into_response(),
        ),
        Err(
            e @ (AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::Workflow(_)
            | AppError::InvalidJson(_)),
        ) => render_import(&state, &ctx, &staff, Some(&e), text).await,
        Err(e) => Err(e),
    }
}

/// The form's newest version with its definition.
async fn latest(
    state: &AppState,
    staff: &StaffUser,
    id: Uuid,
) -> Result<(Vec<FormVersion>, FormDefinition), AppError> {
    let actor = staff.actor(state).await?;
    let versions = state
        .app
        .version_history::<Forms>(&actor, id)
        .await?
        .versions;
    let def = versions
        .first()
        .and_then(|v| v.definition())
        .ok_or(AppError::NotFound)?;
    Ok((versions, def))
}

fn item_rows(items: &[Item], prefix: &str, depth: usize, step: &str, out: &mut Vec<ItemRow>) {
    let n = items.len();
    for (i, item) in items.iter().enumerate() {
        let (key, label, kind, required, condition) = match item {
            Item::Field(f) => (
                &f.key,
                f.label.de.clone(),
                format!("{:?}", f.kind).to_lowercase(),
                f.required || f.required_if.is_some(),
                f.visible_if.clone().unwrap_or_default(),
            ),
            Item::Group(g) => (
                &g.key,
                g.label.de.clone(),
                if g.repeatable() {
                    format!(
                        "group {}..{}",
                        g.min,
                        g.max.map_or("*".into(), |m| m.to_string())
                    )
                } else {
                    "group".into()
                },
                g.min > 0,
                g.visible_if.clone().unwrap_or_default(),
            ),
        };
        let path = format!("{prefix}{key}");
        out.push(ItemRow {
            path: path.clone(),
            depth,
            label,
            kind,
            required,
            condition,
            step: step.to_string(),
            first: i == 0,
            last: i + 1 == n,
        });
        if let Item::Group(g) = item {
            item_rows(&g.items, &format!("{path}."), depth + 1, step, out);
        }
    }
}

#[derive(serde::Deserialize)]
struct DetailQuery {
    msg: Option<String>,
}

pub(super) async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    let workflow = state.app.version_history::<Forms>(&actor, id).await?;
    let repo = state.store.repo();
    let form = repo
        .form(staff.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let latest = workflow.latest();
    let def = latest.definition().ok_or(AppError::NotFound)?;
    let mut items = Vec::new();
    for s in &def.steps {
        item_rows(&s.items, "", 0, &s.title.de, &mut items);
    }
    let service = match form.service_id {
        Some(s) => repo.service(staff.tenant(), s).await?.map(|s| s.slug),
        None => None,
    };
    let report: Vec<String> = latest
        .report()
        .iter()
        .map(|w| {
            let line = w.get("line").and_then(|l| l.as_u64()).unwrap_or(0);
            let element = w.get("element").and_then(|e| e.as_str()).unwrap_or("");
            let message = w.get("message").and_then(|m| m.as_str()).unwrap_or("");
            if line > 0 {
                format!("Zeile {line}, <{element}>: {message}")
            } else {
                format!("<{element}>: {message}")
            }
        })
        .collect();
    let page = staff_page(ctx, staff, &def.title.de).await?;
    let mut view = WorkflowView::of(format!("/staff/forms/{id}"), &workflow);
    view.pending = pending_view::<Forms>(state, &actor, id).await?;
    Ok((
        if error.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        FormDetailPage {
            page,
            id,
            key: form.key,
            title: def.title.de.clone(),
            service,
            services: services_list(state, staff).await?,
            public: form.published_version_id.is_some(),
            latest_status: workflow.latest_status.code(),
            can_edit: workflow.can_edit,
            workflow: view,
            steps: def.steps.iter().map(|s| s.title.de.clone()).collect(),
            items,
            report,
            notice,
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
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let notice = q.msg.and_then(|m| match m.as_str() {
        "saved" | "submitted" | "approved" | "rejected" | "imported" | "attached"
        | "change_requested" | "change_approved" | "change_rejected" => {
            Some(ctx.t(&format!("form_editor.msg.{m}")).to_string())
        }
        _ => None,
    });
    render_detail(&state, &ctx, &staff, parse_id(&id)?, notice, None).await
}

/// Saves a changed definition as the open draft (or a new version); a refused
/// step (in review) re-renders the detail page with the reason.
async fn save_def(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    def: &FormDefinition,
) -> Result<Response, AppError> {
    let actor = staff.actor(state).await?;
    match state.app.save_form(&actor, id, def).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/forms/{id}?msg=saved")).into_response()),
        Err(UseCaseError::Workflow(code)) => {
            let (m, _) = describe(ctx.lang, &AppError::Workflow(code));
            render_detail(state, ctx, staff, id, None, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The list holding the item at `path` (keys joined by `.`), and its index.
fn locate<'a>(def: &'a mut FormDefinition, path: &str) -> Option<(&'a mut Vec<Item>, usize)> {
    let keys: Vec<&str> = path.split('.').collect();
    let step = def
        .steps
        .iter()
        .position(|s| s.items.iter().any(|i| item_key(i) == keys[0]))?;
    let mut list = &mut def.steps[step].items;
    for (n, key) in keys.iter().enumerate() {
        let idx = list.iter().position(|i| item_key(i) == *key)?;
        if n + 1 == keys.len() {
            return Some((list, idx));
        }
        match &mut list[idx] {
            Item::Group(g) => list = &mut g.items,
            Item::Field(_) => return None,
        }
    }
    None
}

fn item_key(i: &Item) -> &str {
    match i {
        Item::Field(f) => &f.key,
        Item::Group(g) => &g.key,
    }
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct ItemForm {
    #[serde(default)]
    pub label_de: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub help_de: String,
    #[serde(default)]
    pub help_en: String,
    pub required: Option<String>,
    #[serde(default)]
    pub visible_if: String,
    #[serde(default)]
    pub required_if: String,
    #[serde(default)]
    pub computed: String,
    #[serde(default)]
    pub pattern: String,
    #[serde(default)]
    pub autocomplete: String,
    #[serde(default)]
    pub checks: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

impl ItemForm {
    fn of(item: &Item) -> Self {
        match item {
            Item::Field(f) => ItemForm {
                label_de: f.label.de.clone(),
                label_en: f.label.en.clone(),
                help_de: f.help.de.clone(),
                help_en: f.help.en.clone(),
                required: f.required.then(|| "on".into()),
                visible_if: f.visible_if.clone().unwrap_or_default(),
                required_if: f.required_if.clone().unwrap_or_default(),
                computed: f.computed.clone().unwrap_or_default(),
                pattern: f.pattern.clone().unwrap_or_default(),
                autocomplete: f.autocomplete.clone().unwrap_or_default(),
                checks: f
                    .checks
                    .iter()
                    .map(|c| format!("{} ;; {} ;; {}", c.rule, c.message.de, c.message.en))
                    .collect::<Vec<_>>()
                    .join("\n"),
                min: String::new(),
                max: String::new(),
            },
            Item::Group(g) => ItemForm {
                label_de: g.label.de.clone(),
                label_en: g.label.en.clone(),
                visible_if: g.visible_if.clone().unwrap_or_default(),
                min: g.min.to_string(),
                max: g.max.map(|m| m.to_string()).unwrap_or_default(),
                ..Default::default()
            },
        }
    }

    fn apply(&self, item: &mut Item) {
        match item {
            Item::Field(f) => {
                f.label = I18nText {
                    de: self.label_de.trim().to_string(),
                    en: self.label_en.trim().to_string(),
                };
                f.help = I18nText {
                    de: self.help_de.trim().to_string(),
                    en: self.help_en.trim().to_string(),
                };
                f.required = self.required.is_some();
                f.visible_if = opt(&self.visible_if);
                f.required_if = opt(&self.required_if);
                f.computed = opt(&self.computed);
                f.pattern = opt(&self.pattern);
                f.autocomplete = opt(&self.autocomplete);
                f.checks = self
                    .checks
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        let mut parts = l.split(";;").map(str::trim);
                        let rule = parts.next().unwrap_or_default().to_string();
                        let de = parts.next().unwrap_or_default().to_string();
                        let en = parts.next().unwrap_or_default().to_string();
                        Check {
                            rule,
                            message: I18nText { de, en },
                        }
                    })
                    .collect();
            }
            Item::Group(g) => {
                g.label = I18nText {
                    de: self.label_de.trim().to_string(),
                    en: self.label_en.trim().to_string(),
                };
                g.visible_if = opt(&self.visible_if);
                if let Ok(m) = self.min.trim().parse() {
                    g.min = m;
                }
                g.max = self.max.trim().parse().ok();
            }
        }
    }
}

async fn render_item(
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    path: &str,
    is_group: bool,
    values: ItemForm,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let page = staff_page(
        ctx,
        staff,
        &format!("{} – {}", ctx.t("form_editor.edit_item"), path),
    )
    .await?;
    Ok((
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        FormItemPage {
            page,
            id,
            path: path.to_string(),
            is_group,
            v: values,
            problems,
        },
    )
        .into_response())
}

async fn item_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let (_, mut def) = latest(&state, &staff, id).await?;
    let (list, idx) = locate(&mut def, &path).ok_or(AppError::NotFound)?;
    let item = &list[idx];
    let is_group = matches!(item, Item::Group(_));
    render_item(
        &ctx,
        &staff,
        id,
        &path,
        is_group,
        ItemForm::of(item),
        vec![],
    )
    .await
}

async fn item_save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((id, path)): Path<(String, String)>,
    form: CsrfForm<ItemForm>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let (_, mut def) = latest(&state, &staff, id).await?;
    let values = form.form;
    let is_group = {
        let (list, idx) = locate(&mut def, &path).ok_or(AppError::NotFound)?;
        values.apply(&mut list[idx]);
        matches!(list[idx], Item::Group(_))
    };
    let mut problems: Vec<String> = forms::lint(&def)
        .into_iter()
        .map(|(p, m)| format!("{p}: {m}"))
        .collect();
    if values.label_de.trim().is_empty() {
        problems.insert(0, ctx.t("form_editor.label_required").to_string());
    }
    if !problems.is_empty() {
        return render_item(&ctx, &staff, id, &path, is_group, values, problems).await;
    }
    save_def(&state, &ctx, &staff, id, &def).await
}

#[derive(serde::Deserialize)]
struct MoveForm {
    path: String,
    dir: String,
}

async fn move_item(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    form: CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let (_, mut def) = latest(&state, &staff, id).await?;
    {
        let (list, idx) = locate(&mut def, &form.form.path).ok_or(AppError::NotFound)?;
        match form.form.dir.as_str() {
            "up" if idx > 0 => list.swap(idx, idx - 1),
            "down" if idx + 1 < list.len() => list.swap(idx, idx + 1),
            _ => {}
        }
    }
    save_def(&state, &ctx, &staff, id, &def).await
}

async fn render_json(
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    json: String,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let page = staff_page(ctx, staff, ctx.t("form_editor.json_title")).await?;
    Ok((
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        FormJsonPage {
            page,
            id,
            json,
            problems,
        },
    )
        .into_response())
}

async fn json_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let (_, def) = latest(&state, &staff, id).await?;
    let json = serde_json::to_string_pretty(&def).expect("definition serialises");
    render_json(&ctx, &staff, id, json, vec![]).await
}

#[derive(serde::Deserialize)]
struct JsonForm {
    #[serde(default)]
    json: String,
}

async fn json_save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    form: CsrfForm<JsonForm>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let text = form.form.json;
    let def: FormDefinition = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => return render_json(&ctx, &staff, id, text, vec![e.to_string()]).await,
    };
    let problems: Vec<String> = forms::lint(&def)
        .into_iter()
        .map(|(p, m)| format!("{p}: {m}"))
        .collect();
    if !problems.is_empty() {
        return render_json(&ctx, &staff, id, text, problems).await;
    }
    save_def(&state, &ctx, &staff, id, &def).await
}

/// The newest version in the exchange format, as a download.
async fn export(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let form = state
        .store
        .repo()
        .form(staff.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (versions, def) = latest(&state, &staff, id).await?;
    let body = serde_json::json!({
        "format": FORMAT,
        "key": form.key,
        "version": versions[0].number,
        "definition": def,
    });
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.json\"", form.key),
            ),
        ],
        serde_json::to_string_pretty(&body).expect("serialises"),
    )
        .into_response())
}

async fn render_preview(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    step: usize,
    data: &serde_json::Value,
    problems: Vec<forms::Problem>,
) -> Result<Response, AppError> {
    let _ = state;
    let (_, def) = latest(state, staff, id).await?;
    if step >= def.steps.len() {
        return Err(AppError::NotFound);
    }
    let english = ctx.lang == Lang::En;
    let today = Utc::now().date_naive();
    let nodes = forms::layout(&def, step, data, today);
    let worded: Vec<(String, String)> = problems
        .iter()
        .map(|p| (p.path.clone(), form_render::problem_text(&def, p, ctx.lang)))
        .collect();
    let errors: HashMap<String, String> = worded.iter().cloned().collect();
    let deps = form_render::rule_dependencies(&def);
    let fields = form_render::FieldMarkup::render(
        &RenderCtx {
            lang: ctx.lang,
            errors: &errors,
            deps: &deps,
        },
        &nodes,
    );
    let step_title = def.steps[step].title.get(english).to_string();
    let page = staff_page(
        ctx,
        staff,
        &format!("{} – {step_title}", ctx.t("form_editor.preview")),
    )
    .await?;
    Ok((
        if worded.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        FormStepPage {
            page,
            form_title: def.title.get(english).to_string(),
            step_title,
            number: step + 1,
            total: def.steps.len(),
            action: format!("/staff/forms/{id}/preview/{}", step + 1),
            refresh: String::new(),
            fields,
            errors: worded
                .iter()
                .map(|(p, m)| (form_render::field_id(p), m.clone()))
                .collect(),
            notice: None,
            multipart: false,
            shown: forms::visible_paths(&nodes).join(","),
            preview: true,
        },
    )
        .into_response())
}

fn step_number(n: &str) -> Result<usize, AppError> {
    n.parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .map(|n| n - 1)
        .ok_or(AppError::NotFound)
}

async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    render_preview(
        &state,
        &ctx,
        &staff,
        parse_id(&id)?,
        step_number(&n)?,
        &serde_json::json!({}),
        vec![],
    )
    .await
}

/// Re-evaluates the posted step like the public wizard, without saving:
/// "next" validates and moves on, add/remove change repeatable groups.
async fn preview_post(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path((id, n)): Path<(String, String)>,
    body: StepBody,
) -> Result<Response, AppError> {
    require_editor(&state, &staff).await?;
    let id = parse_id(&id)?;
    let step = step_number(&n)?;
    let (_, def) = latest(&state, &staff, id).await?;
    let mut data = serde_json::json!({});
    forms::apply_step(&def, step, &mut data, &body.pairs);
    let action = body
        .pairs
        .iter()
        .find(|(k, _)| k == "_action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("next");
    let today = Utc::now().date_naive();
    match action {
        a if a.starts_with("add:") => {
            forms::add_instance(&def, &mut data, &a[4..]);
        }
        a if a.starts_with("remove:") => {
            forms::remove_instance(&def, &mut data, &a[7..]);
        }
        "back" if step > 0 => {
            return Ok(Redirect::to(&format!("/staff/forms/{id}/preview/{step}")).into_response());
        }
        _ => {
            forms::apply_computed(&def, &mut data, today);
            let problems = forms::validate_step(&def, step, &data, today);
            if problems.is_empty() {
                let next = if step + 1 < def.steps.len() {
                    step + 2
                } else {
                    1
                };
                return Ok(
                    Redirect::to(&format!("/staff/forms/{id}/preview/{next}")).into_response()
                );
            }
            return render_preview(&state, &ctx, &staff, id, step, &data, problems).await;
        }
    }
    forms::apply_computed(&def, &mut data, today);
    render_preview(&state, &ctx, &staff, id, step, &data, vec![]).await
}

#[derive(serde::Deserialize)]
struct AttachForm {
    #[serde(default)]
    service: String,
}

async fn attach(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<AttachForm>,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let id = parse_id(&id)?;
    let r = state
        .app
        .attach_form(&actor, id, Some(f.form.service.as_str()))
        .await
        .map(drop)
        .map_err(AppError::from);
    after_page::<Forms>((&state, &ctx, &staff), id, "change_requested", r).await
}
