//! Forms API. Public (published versions, tenant by host):
//! `GET /forms`, `GET /forms/{id}`, `GET /forms/{id}/schema`,
//! `POST /forms/{id}/validate`. Editors (token with the Redaktion role):
//! `POST /forms/import` (XDatenfelder XML, alone or multipart with its
//! genericode lists), `POST /forms` (definition JSON, e.g. another tenant's
//! export), `GET /forms/{id}/draft`, `PUT /forms/{id}`, submit, approve,
//! reject, attach. `{id}` is the form's id or key.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use rathaus_app::forms::{FimUpload, NewDefinition, StoredForm};
use rathaus_domain::{
    FieldError,
    forms::{self, FormDefinition},
    tenancy::TenantId,
};
use rathaus_storage::{
    catalog::CatalogRepository,
    forms::{Form, FormRepository, FormVersion, Forms},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiQuery, ApiStaff, EditContent},
    client::Client,
    context::Ctx,
    editorial::{APPROVE, ChangeBody, REJECT, SUBMIT, api_change, api_step, change_json},
    error::AppError,
    form_render::problems_json,
    i18n::{self},
    intake::{find_form, published},
    json::body_limit,
    multipart,
    routes::{Routes, get, post},
};

/// Name of the exchange format of one form.
pub const FORMAT: &str = "rathaus.form/1";

pub fn routes() -> Routes {
    Routes::new("forms")
        .route("/forms", get(list).post(create))
        .route("/forms/{id}", get(one).put(change))
        .route("/forms/{id}/draft", get(draft))
        .route("/forms/{id}/schema", get(schema))
        .route("/forms/{id}/validate", post(validate))
        .route("/forms/{id}/submit", post(api_step::<Forms, SUBMIT>))
        .route("/forms/{id}/approve", post(api_step::<Forms, APPROVE>))
        .route("/forms/{id}/reject", post(api_step::<Forms, REJECT>))
        .route("/forms/{id}/attach", post(attach))
        // FIM schemas can be large; every other route keeps the 1 MiB default.
        .merge(
            Routes::new("forms")
                .route("/forms/import", post(import))
                .map(|r| r.layer(body_limit(IMPORT_BODY_LIMIT))),
        )
        .route(
            "/forms/{id}/change/approve",
            post(api_change::<Forms, true>),
        )
        .route(
            "/forms/{id}/change/reject",
            post(api_change::<Forms, false>),
        )
}

/// Largest FIM import body (XDatenfelder XML or the exchange JSON).
pub const IMPORT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Lint problems as a validation error naming each path.
pub(crate) fn lint_error(def: &FormDefinition) -> Result<(), AppError> {
    let problems = forms::lint(def);
    if problems.is_empty() {
        return Ok(());
    }
    Err(AppError::InvalidJson(
        problems
            .iter()
            .map(|(p, m)| format!("{p}: {m}"))
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

/// A form version in the exchange format `rathaus.form/1`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FormEnvelope {
    /// `rathaus.form/1`.
    format: String,
    id: Uuid,
    key: String,
    /// The slug of the service the form belongs to.
    service: Option<String>,
    version: i32,
    /// `draft`, `in_review`, `published`, `archived`.
    status: String,
    definition: Option<FormDefinition>,
    /// Whether a new form was created (create and import).
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    /// Notes of the import or the checks of the draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<Vec<Value>>,
    /// A link to a service waiting for a second editor (four eyes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_change: Option<ChangeBody>,
}

fn envelope(form: &Form, v: &FormVersion, service: Option<&str>) -> FormEnvelope {
    FormEnvelope {
        format: FORMAT.to_string(),
        id: form.id,
        key: form.key.clone(),
        service: service.map(str::to_string),
        version: v.number,
        status: v.status.clone(),
        definition: serde_json::from_str::<FormDefinition>(&v.definition).ok(),
        created: None,
        report: None,
        pending_change: None,
    }
}

/// A published form.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FormSummary {
    id: Uuid,
    key: String,
    service: Option<String>,
    version: i32,
    /// The German title.
    title: Option<String>,
}

/// `GET /forms`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FormList {
    forms: Vec<FormSummary>,
}

/// The answer of `POST /forms/{id}/validate`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Validation {
    valid: bool,
    version: i32,
    /// Per field: `path`, `code`, `message`, `messages` (German and English).
    #[schema(value_type = Vec<crate::platform::error::FieldProblem>)]
    errors: Vec<Value>,
}

/// The 422 of `POST /forms/{id}/validate`: the data's problems, or a body
/// that is not a JSON object (the error body).
pub(crate) struct ValidationFailed;

impl utoipa::PartialSchema for ValidationFailed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{Ref, schema::OneOfBuilder};
        OneOfBuilder::new()
            .item(Ref::from_schema_name("Validation"))
            .item(Ref::from_schema_name("ErrorBody"))
            .into()
    }
}

impl utoipa::ToSchema for ValidationFailed {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("Validation".into(), Validation::schema()));
        <Validation as utoipa::ToSchema>::schemas(schemas);
        schemas.push((
            "ErrorBody".into(),
            crate::platform::error::ErrorBody::schema(),
        ));
        <crate::platform::error::ErrorBody as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Form data: the keys and values of the form's JSON Schema (`GET /forms/{id}/schema`).
#[derive(serde::Deserialize)]
pub(crate) struct FormData(pub serde_json::Map<String, Value>);

impl utoipa::PartialSchema for FormData {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Object)
            .description(Some(
                "The data: keys and values as the form's JSON Schema (`GET /forms/{id}/schema`) says",
            ))
            .into()
    }
}

impl utoipa::ToSchema for FormData {}

async fn service_slug(
    state: &AppState,
    tenant: TenantId,
    form: &Form,
) -> Result<Option<String>, AppError> {
    Ok(match form.service_id {
        Some(s) => state.store.repo().service(tenant, s).await?.map(|s| s.slug),
        None => None,
    })
}

async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let rows = state.store.repo().forms_overview(tenant).await?;
    let mut out = Vec::new();
    for r in rows {
        let Some(p) = r.published else { continue };
        let def = p.definition();
        out.push(FormSummary {
            id: r.form.id,
            key: r.form.key.clone(),
            service: service_slug(&state, tenant, &r.form).await?,
            version: p.number,
            title: def.as_ref().map(|d| d.title.de.clone()),
        });
    }
    Ok(Json(FormList { forms: out }))
}

async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (form, v, _) = published(&state, tenant, &id).await?;
    let slug = service_slug(&state, tenant, &form).await?;
    Ok(Json(envelope(&form, &v, slug.as_deref())))
}

async fn draft(
    State(state): State<AppState>,
    ApiStaff { caller, .. }: ApiStaff<EditContent>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let tenant = caller.tenant();
    let form = find_form(&state, tenant, &id).await?;
    let versions = state.store.repo().form_versions(tenant, form.id).await?;
    let latest = versions.first().ok_or(AppError::NotFound)?;
    let slug = service_slug(&state, tenant, &form).await?;
    let mut body = envelope(&form, latest, slug.as_deref());
    body.report = Some(latest.report());
    Ok(Json(body))
}

async fn schema(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (_, _, def) = published(&state, tenant, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        serde_json::to_string_pretty(&forms::json_schema(&def)).expect("schema serialises"),
    )
        .into_response())
}

async fn validate(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    Path(id): Path<String>,
    body: Result<ApiJson<FormData>, AppError>,
) -> Result<Response, AppError> {
    if !state.limiter.check_validate(client) {
        return Err(AppError::RateLimited);
    }
    let tenant = ctx.tenant()?.tenant_id();
    let (_, v, def) = published(&state, tenant, &id).await?;
    let data = match body {
        Ok(ApiJson(FormData(data))) => Value::Object(data),
        Err(AppError::InvalidJson(_)) => {
            return Err(AppError::InvalidJson(
                i18n::t(ctx.lang, "forms.data_object").to_string(),
            ));
        }
        Err(e) => return Err(e),
    };
    let problems = forms::validate(&def, &data, Utc::now().date_naive());
    let body = Validation {
        valid: problems.is_empty(),
        version: v.number,
        errors: problems_json(&def, &problems, ctx.lang),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(body)).into_response())
}

#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
pub(crate) struct ImportParams {
    /// The form's key (default: from the schema).
    pub key: Option<String>,
    /// The slug of the service to attach the form to.
    pub service: Option<String>,
}

fn imported_json(i: &StoredForm, service: Option<&str>) -> FormEnvelope {
    let mut body = envelope(&i.form, &i.version, service);
    body.created = Some(i.created);
    body.report = Some(i.report.iter().map(|r| json!(r)).collect());
    body.pending_change = i.pending_change.as_ref().map(change_json);
    body
}

/// `POST /forms/import`: an XDatenfelder file as the body (`application/xml`),
/// or `multipart/form-data` with a part `schema`, any number of `codelist`
/// parts, and optional `key` and `service`.
async fn import(
    State(state): State<AppState>,
    ApiStaff { caller, actor, .. }: ApiStaff<EditContent>,
    ApiQuery(params): ApiQuery<ImportParams>,
    req: Request,
) -> Result<Response, AppError> {
    let tenant = caller.tenant();
    let mut key = params.key;
    let mut service = params.service;
    let mut schema: Option<(String, String)> = None;
    let mut lists = Vec::new();
    let bad = |m: &str| AppError::BadFile(m.to_string());
    if multipart::is_multipart(&req) {
        for part in multipart::read(req)
            .await
            .map_err(|e| bad(&e.to_string()))?
        {
            let file = part.file_name.clone().unwrap_or_else(|| part.name.clone());
            let text = String::from_utf8(part.data.to_vec())
                .map_err(|_| bad(&format!("{file}: not UTF-8 text")))?;
            match part.name.as_str() {
                "schema" => schema = Some((file, text)),
                "codelist" | "codelists" | "codelist[]" => lists.push((file, text)),
                "key" => key = Some(text),
                "service" => service = Some(text),
                _ => {}
            }
        }
    } else {
        let bytes = Bytes::from_request(req, &state)
            .await
            .map_err(|_| bad("body too large"))?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| bad("body: not UTF-8 text"))?;
        schema = Some(("body".into(), text));
    }
    let (name, xml) =
        schema.ok_or_else(|| AppError::Validation(FieldError::new("schema", "required").into()))?;
    let upload = FimUpload {
        schema: (name, xml),
        code_lists: lists,
        key,
        service,
    };
    let imported = state.app.import_fim(&actor, upload).await?;
    let slug = service_slug(&state, tenant, &imported.form).await?;
    let status = if imported.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(imported_json(&imported, slug.as_deref()))).into_response())
}

/// A form definition in the exchange format (`GET /forms/{id}` of any tenant gives one).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateBody {
    /// `rathaus.form/1` if given.
    #[serde(default)]
    #[schema(pattern = "^rathaus\\.form/1$")]
    format: Option<String>,
    /// The form's key (default: the definition's).
    #[serde(default)]
    key: Option<String>,
    /// The slug of the service to attach the form to.
    #[serde(default)]
    service: Option<String>,
    definition: FormDefinition,
}

/// `POST /forms`: a definition in the exchange format (`GET /forms/{id}` of
/// any tenant gives one); a new form, or a new draft of the form with that key.
async fn create(
    State(state): State<AppState>,
    ApiStaff { caller, actor, .. }: ApiStaff<EditContent>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, AppError> {
    let tenant = caller.tenant();
    if let Some(f) = &body.format
        && f != FORMAT
    {
        return Err(AppError::InvalidJson(format!(
            "format must be {FORMAT:?}, is {f:?}"
        )));
    }
    lint_error(&body.definition)?;
    let input = NewDefinition {
        key: body.key,
        service: body.service,
        definition: body.definition,
    };
    let stored = state.app.store_form_definition(&actor, input).await?;
    let slug = service_slug(&state, tenant, &stored.form).await?;
    let mut out = envelope(&stored.form, &stored.version, slug.as_deref());
    out.created = Some(stored.created);
    out.pending_change = stored.pending_change.as_ref().map(change_json);
    Ok((
        if stored.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(out),
    )
        .into_response())
}

async fn change(
    State(state): State<AppState>,
    ApiStaff { caller, actor, .. }: ApiStaff<EditContent>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, AppError> {
    let tenant = caller.tenant();
    let form = state.app.form_for_editing(&actor, &id).await?;
    lint_error(&body.definition)?;
    let version = state
        .app
        .save_form(&actor, form.id, &body.definition)
        .await?;
    let slug = service_slug(&state, tenant, &form).await?;
    Ok(Json(envelope(&form, &version, slug.as_deref())).into_response())
}

/// The answer of a workflow step: the form's envelope with the version.
pub(super) async fn step_answer(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
    v: FormVersion,
) -> Result<Response, AppError> {
    let form = state
        .store
        .repo()
        .form(tenant, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let slug = service_slug(state, tenant, &form).await?;
    Ok(Json(envelope(&form, &v, slug.as_deref())).into_response())
}

/// The service a form belongs to.
#[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AttachBody {
    /// The service's slug; none detaches the form.
    service: Option<String>,
}

/// The form and its service after attaching.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Attached {
    id: Uuid,
    /// The service asked for (none: detach).
    service: Option<String>,
    /// The pending change a second editor approves.
    change: ChangeBody,
}

async fn attach(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<EditContent>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttachBody>,
) -> Result<Response, AppError> {
    let form = state.app.form_for_editing(&actor, &id).await?;
    let change = state
        .app
        .attach_form(&actor, form.id, body.service.as_deref())
        .await?;
    // Accepted, not done: a second editor approves the link (four eyes).
    Ok((
        StatusCode::ACCEPTED,
        Json(Attached {
            id: form.id,
            service: body.service,
            change: change_json(&change),
        }),
    )
        .into_response())
}
