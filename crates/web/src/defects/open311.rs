//! Open311 GeoReport v2 at `/open311/v2/`: discovery, services, service
//! definitions, requests (read and write) and tokens, each as `.json` and
//! `.xml`. `jurisdiction_id` is the tenant's slug; without it the host (or
//! the only tenant) names the tenant. Errors as the specification says: an
//! array of `code` + `description` (XML `<errors>`), 400 / 403 / 404.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{Duration, Utc};
use rathaus_app::{
    Actor, UseCaseError,
    defects::{CategoryView, DefectQuery, PublicReport, ReportChannel, ReportInput},
};
use rathaus_domain::tenancy::TenantId;
use rathaus_standards::open311::{
    self as o311, Attribute, Created, Discovery, Endpoint, Error as OError, Format, Service,
    ServiceDefinition, ServiceRequest, ServiceType, TokenAnswer,
};
use rathaus_storage::tenancy::Tenant;

use crate::platform::{
    AppState,
    context::Ctx,
    i18n::{self, Lang},
    openapi::{Auth, Op, op, query, schema},
    routes::{Routes, get},
};

/// Longest POST body (form-encoded text; photos come by `media_url`).
pub const MAX_BODY: usize = 64 * 1024;

pub fn routes() -> Routes {
    Routes::new("defects")
        .route("/open311/v2/{file}", get(top).post(post_top))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
        .map(|r| {
            r.layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
                .layer(axum::middleware::from_fn(read_only_but_requests))
        })
}

/// Every resource but `requests.{json,xml}` is read only: other methods get
/// 405 with `Allow: GET,HEAD` (the route serves all names of one segment).
async fn read_only_but_requests(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::Method;
    let path = req.uri().path();
    let writable = matches!(
        path,
        "/open311/v2/requests.json" | "/open311/v2/requests.xml"
    );
    if !matches!(*req.method(), Method::GET | Method::HEAD) && !writable {
        let format = if path.ends_with(".xml") {
            Format::Xml
        } else {
            Format::Json
        };
        let mut r = fail(
            format,
            Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Only GET and HEAD / Nur GET und HEAD",
            ),
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET,HEAD"));
        return r;
    }
    next.run(req).await
}

/// An Open311 error answer.
struct Failure {
    status: StatusCode,
    errors: Vec<OError>,
}

impl Failure {
    fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![OError {
                code: status.as_u16(),
                description: description.into(),
            }],
        }
    }
}

type Answer = Result<Response, (Format, Failure)>;

fn respond(format: Format, json: String, xml: impl FnOnce() -> String) -> Response {
    let (body, ct) = match format {
        Format::Json => (json, "application/json; charset=utf-8"),
        Format::Xml => (xml(), "text/xml; charset=utf-8"),
    };
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

fn fail(format: Format, f: Failure) -> Response {
    let (body, ct) = match format {
        Format::Json => (o311::to_json(&f.errors), "application/json; charset=utf-8"),
        Format::Xml => (o311::errors_xml(&f.errors), "text/xml; charset=utf-8"),
    };
    (f.status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

fn finish(a: Answer) -> Response {
    match a {
        Ok(r) => r,
        Err((format, f)) => fail(format, f),
    }
}

/// `name.json` / `name.xml` → (name, format); anything else is 404 (JSON).
fn split(file: &str) -> Result<(&str, Format), (Format, Failure)> {
    Format::from_path_suffix(file).ok_or_else(|| {
        (
            Format::Json,
            Failure::new(
                StatusCode::NOT_FOUND,
                "Unknown resource or format: use .json or .xml / Unbekannte Ressource oder Format: .json oder .xml verwenden",
            ),
        )
    })
}

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn msg(lang: Lang, de: &str, en: &str) -> String {
    match lang {
        Lang::De => de.to_string(),
        _ => en.to_string(),
    }
}

/// The tenant: by `jurisdiction_id` (its slug), else the host's.
async fn tenant_of(
    state: &AppState,
    ctx: &Ctx,
    jurisdiction: Option<&str>,
) -> Result<std::sync::Arc<Tenant>, Failure> {
    match jurisdiction {
        Some(j) => {
            if let Some(t) = ctx.tenant.as_ref().filter(|t| t.slug == j) {
                return Ok(t.clone());
            }
            match state.app.tenant_by_slug(j).await {
                Ok(t) => Ok(std::sync::Arc::new(t)),
                Err(_) => Err(Failure::new(
                    StatusCode::NOT_FOUND,
                    msg(
                        ctx.lang,
                        "jurisdiction_id nicht gefunden: geben Sie das Kürzel der Kommune an (siehe discovery)",
                        "jurisdiction_id not found: give the municipality's slug (see discovery)",
                    ),
                )),
            }
        }
        None => ctx.tenant.clone().ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                msg(
                    ctx.lang,
                    "jurisdiction_id fehlt: geben Sie das Kürzel der Kommune an",
                    "jurisdiction_id was not provided: give the municipality's slug",
                ),
            )
        }),
    }
}

fn general(lang: Lang, e: UseCaseError) -> Failure {
    tracing::warn!(error = ?e, "open311 request failed");
    Failure::new(
        StatusCode::BAD_REQUEST,
        msg(
            lang,
            "Allgemeiner Dienstfehler: bitte später erneut versuchen",
            "General service error: please try again later",
        ),
    )
}

fn service_of(c: &CategoryView) -> Service {
    Service {
        service_code: c.category.code.clone(),
        service_name: c.category.name.clone(),
        description: c.category.description.clone(),
        metadata: !c.attributes.is_empty(),
        type_: ServiceType::Realtime,
        keywords: c.category.keywords.clone(),
        group: c.category.group_name.clone(),
    }
}

fn request_of(r: &PublicReport) -> ServiceRequest {
    let notes = match (&r.merged_into, &r.public_note) {
        (Some(m), _) => Some(format!("Duplicate of {m}")),
        (None, n) => n.clone(),
    };
    ServiceRequest {
        service_request_id: r.reference.clone(),
        status: r.status.open311().to_string(),
        status_notes: notes,
        service_name: r.category_name.clone(),
        service_code: r.category_code.clone(),
        description: r.description.clone(),
        agency_responsible: Some(r.unit_name.clone()).filter(|u| !u.is_empty()),
        service_notice: None,
        requested_datetime: r.created_at,
        updated_datetime: Some(r.updated_at),
        expected_datetime: None,
        address: r.address.clone().or_else(|| r.landmark.clone()),
        address_id: None,
        zipcode: r.postal_code.clone(),
        lat: r.point.map(|p| p.lat),
        long: r.point.map(|p| p.long),
        media_url: r.media_url.clone(),
    }
}

/// Absolute URLs of released photos are the report page's; the first is
/// `media_url` when the app sent none.
fn with_photo(state: &AppState, r: &PublicReport, mut s: ServiceRequest) -> ServiceRequest {
    if s.media_url.is_none() && !r.photos.is_empty() {
        s.media_url = Some(format!(
            "{}/maengel/{}/fotos/1",
            state.config.public_url.trim_end_matches('/'),
            r.reference
        ));
    }
    s
}

// ---------------------------------------------------------------------------
// GET /open311/v2/{discovery|services|requests}.{fmt}
// ---------------------------------------------------------------------------

async fn top(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(top_inner(&state, &ctx, &file, raw.as_deref()).await)
}

async fn top_inner(state: &AppState, ctx: &Ctx, file: &str, raw: Option<&str>) -> Answer {
    let (name, format) = split(file)?;
    let q = pairs(raw);
    let e = |f: Failure| (format, f);
    match name {
        "discovery" => {
            let base = format!(
                "{}/open311/v2/",
                state.config.public_url.trim_end_matches('/')
            );
            let tenant = ctx.tenant.clone();
            let d = Discovery {
                changeset: chrono::DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z")
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_else(|_| Utc::now()),
                contact: tenant
                    .as_ref()
                    .map(|t| format!("{} – Fachadministration Mängelmelder", t.name))
                    .unwrap_or_else(|| "rathaus".into()),
                key_service: format!(
                    "{}/staff/maengel/einstellungen",
                    state.config.public_url.trim_end_matches('/')
                ),
                endpoints: vec![Endpoint {
                    specification: "http://wiki.open311.org/GeoReport_v2".into(),
                    url: base,
                    changeset: chrono::DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z")
                        .map(|d| d.with_timezone(&Utc))
                        .unwrap_or_else(|_| Utc::now()),
                    type_: "production".into(),
                    formats: vec!["text/xml".into(), "application/json".into()],
                }],
            };
            Ok(respond(format, o311::to_json(&d), || {
                o311::discovery_xml(&d)
            }))
        }
        "services" => {
            let t = tenant_of(state, ctx, param(&q, "jurisdiction_id"))
                .await
                .map_err(e)?;
            let list: Vec<Service> = state
                .app
                .defect_categories(t.tenant_id())
                .await
                .map_err(|x| e(general(ctx.lang, x)))?
                .iter()
                .map(service_of)
                .collect();
            Ok(respond(format, o311::to_json(&list), || {
                o311::services_xml(&list)
            }))
        }
        "requests" => {
            let t = tenant_of(state, ctx, param(&q, "jurisdiction_id"))
                .await
                .map_err(e)?;
            for name in ["start_date", "end_date"] {
                if q.iter().any(|(k, v)| k == name && v.trim().is_empty()) {
                    return Err(e(Failure::new(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "{name}: leer / empty — W3C date-time, e.g. 2026-01-01T00:00:00Z, or leave it out"
                        ),
                    )));
                }
            }
            for (name, max) in [("service_request_id", 4000), ("service_code", 400)] {
                if param(&q, name).is_some_and(|v| v.chars().count() > max) {
                    return Err(e(Failure::new(
                        StatusCode::BAD_REQUEST,
                        format!("{name}: höchstens / at most {max}"),
                    )));
                }
            }
            let search = o311::parse_search(&q).map_err(|errors| {
                e(Failure {
                    status: StatusCode::BAD_REQUEST,
                    errors,
                })
            })?;
            let mut query = DefectQuery {
                references: search.service_request_id.clone(),
                service_codes: search.service_code.clone(),
                from: search.start_date,
                to: search.end_date,
                open311_status: search.status.clone(),
                limit: rathaus_app::defects::MAX_LIST,
                ..Default::default()
            };
            // The specification's default window: the last 90 days.
            if query.references.is_empty() && query.from.is_none() && query.to.is_none() {
                query.from = Some(Utc::now() - Duration::days(90));
            }
            let list: Vec<ServiceRequest> = state
                .app
                .public_defects(t.tenant_id(), &query)
                .await
                .map_err(|x| e(general(ctx.lang, x)))?
                .iter()
                .map(|r| with_photo(state, r, request_of(r)))
                .collect();
            Ok(respond(format, o311::to_json(&list), || {
                o311::requests_xml(&list)
            }))
        }
        _ => Err(e(Failure::new(
            StatusCode::NOT_FOUND,
            msg(
                ctx.lang,
                "Unbekannte Ressource: discovery, services, requests oder tokens",
                "Unknown resource: discovery, services, requests or tokens",
            ),
        ))),
    }
}

// ---------------------------------------------------------------------------
// GET /open311/v2/services/{code}.{fmt}
// ---------------------------------------------------------------------------

async fn service_definition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(definition_inner(&state, &ctx, &file, raw.as_deref()).await)
}

async fn definition_inner(state: &AppState, ctx: &Ctx, file: &str, raw: Option<&str>) -> Answer {
    let (code, format) = split(file)?;
    let e = |f: Failure| (format, f);
    let t = tenant_of(state, ctx, param(&pairs(raw), "jurisdiction_id"))
        .await
        .map_err(e)?;
    let c = match state.app.defect_category(t.tenant_id(), code).await {
        Ok(c) => c,
        Err(UseCaseError::NotFound) => {
            return Err(e(Failure::new(
                StatusCode::NOT_FOUND,
                msg(
                    ctx.lang,
                    "service_code nicht gefunden: siehe services",
                    "service_code not found: see services",
                ),
            )));
        }
        Err(x) => return Err(e(general(ctx.lang, x))),
    };
    let def = ServiceDefinition {
        service_code: c.category.code.clone(),
        attributes: c.attributes.iter().map(Attribute::from).collect(),
    };
    Ok(respond(format, o311::to_json(&def), || {
        o311::service_definition_xml(&def)
    }))
}

// ---------------------------------------------------------------------------
// GET /open311/v2/requests/{id}.{fmt}, /tokens/{token}.{fmt}
// ---------------------------------------------------------------------------

async fn one_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(one_inner(&state, &ctx, &file, raw.as_deref()).await)
}

async fn one_inner(state: &AppState, ctx: &Ctx, file: &str, raw: Option<&str>) -> Answer {
    let (id, format) = split(file)?;
    let e = |f: Failure| (format, f);
    let t = tenant_of(state, ctx, param(&pairs(raw), "jurisdiction_id"))
        .await
        .map_err(e)?;
    match state.app.public_defect(t.tenant_id(), id).await {
        Ok(r) => {
            let list = vec![with_photo(state, &r, request_of(&r))];
            Ok(respond(format, o311::to_json(&list), || {
                o311::requests_xml(&list)
            }))
        }
        Err(UseCaseError::NotFound) => Err(e(Failure::new(
            StatusCode::NOT_FOUND,
            msg(
                ctx.lang,
                "service_request_id nicht gefunden",
                "service_request_id not found",
            ),
        ))),
        Err(x) => Err(e(general(ctx.lang, x))),
    }
}

async fn token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(token_inner(&state, &ctx, &file, raw.as_deref()).await)
}

async fn token_inner(state: &AppState, ctx: &Ctx, file: &str, raw: Option<&str>) -> Answer {
    let (token, format) = split(file)?;
    let e = |f: Failure| (format, f);
    let t = tenant_of(state, ctx, param(&pairs(raw), "jurisdiction_id"))
        .await
        .map_err(e)?;
    match state.app.defect_by_token(t.tenant_id(), token).await {
        Ok(r) => {
            let list = vec![TokenAnswer {
                token: r.token.clone(),
                service_request_id: Some(r.reference.clone()),
            }];
            Ok(respond(format, o311::to_json(&list), || {
                o311::tokens_xml(&list)
            }))
        }
        Err(UseCaseError::NotFound) => Err(e(Failure::new(
            StatusCode::NOT_FOUND,
            msg(ctx.lang, "token nicht gefunden", "token not found"),
        ))),
        Err(x) => Err(e(general(ctx.lang, x))),
    }
}

// ---------------------------------------------------------------------------
// POST /open311/v2/requests.{fmt}
// ---------------------------------------------------------------------------

async fn post_top(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    finish(post_inner(&state, &ctx, &file, raw.as_deref(), &body).await)
}

async fn post_inner(
    state: &AppState,
    ctx: &Ctx,
    file: &str,
    raw: Option<&str>,
    body: &[u8],
) -> Answer {
    let (name, format) = split(file)?;
    let e = |f: Failure| (format, f);
    if name != "requests" {
        let mut r = fail(
            format,
            Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                msg(
                    ctx.lang,
                    "Nur requests nimmt POST an",
                    "Only requests accepts POST",
                ),
            ),
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET,HEAD"));
        return Ok(r);
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        e(Failure::new(
            StatusCode::BAD_REQUEST,
            msg(
                ctx.lang,
                "Der Inhalt ist nicht application/x-www-form-urlencoded",
                "The body is not application/x-www-form-urlencoded",
            ),
        ))
    })?;
    let mut post = o311::parse_form(&form);
    if post.api_key.is_none() {
        // Some clients send the key in the query string.
        post.api_key = param(&pairs(raw), "api_key").map(str::to_string);
    }
    let t = tenant_of(state, ctx, post.jurisdiction_id.as_deref())
        .await
        .map_err(e)?;
    let tenant: TenantId = t.tenant_id();
    let Some(key) = post.api_key.as_deref() else {
        return Err(e(Failure::new(
            StatusCode::FORBIDDEN,
            msg(
                ctx.lang,
                "api_key fehlt: die Fachadministration vergibt Schlüssel für Apps",
                "api_key was not provided: the municipality issues keys for apps",
            ),
        )));
    };
    let key = state.app.open311_key(tenant, key).await.map_err(|_| {
        e(Failure::new(
            StatusCode::FORBIDDEN,
            msg(
                ctx.lang,
                "api_key ist ungültig oder widerrufen",
                "api_key is invalid or revoked",
            ),
        ))
    })?;
    let Some(code) = post.service_code.clone() else {
        return Err(e(Failure::new(
            StatusCode::BAD_REQUEST,
            msg(
                ctx.lang,
                "service_code fehlt: wählen Sie eine Kategorie aus services",
                "service_code was not provided: choose one from services",
            ),
        )));
    };
    if state.app.defect_category(tenant, &code).await.is_err() {
        return Err(e(Failure::new(
            StatusCode::NOT_FOUND,
            msg(
                ctx.lang,
                "service_code nicht gefunden: siehe services",
                "service_code not found: see services",
            ),
        )));
    }
    if !state.limiter.check_report_key(&key.id.to_string()) {
        return Err(e(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            msg(
                ctx.lang,
                "Zu viele Meldungen in kurzer Zeit: bitte in einer Minute erneut versuchen",
                "Too many reports in a short time: please try again in a minute",
            ),
        )));
    }
    let input = ReportInput {
        service_code: code,
        lat: post.lat,
        long: post.long,
        address: post.address_string.or(post.address_id),
        landmark: None,
        description: post.description.unwrap_or_default(),
        attributes: post.attributes,
        email: post.email,
        first_name: post.first_name,
        last_name: post.last_name,
        phone: post.phone,
        photos: Vec::new(),
        use_photo_location: false,
        media_url: post.media_url,
        strict_address: false,
    };
    let actor = Actor::Anonymous { tenant };
    match state
        .app
        .report_defect(&actor, ReportChannel::Open311 { key: key.id }, input)
        .await
    {
        Ok(r) => {
            let list = vec![Created {
                service_request_id: Some(r.reference),
                token: Some(r.token),
                service_notice: None,
                account_id: None,
            }];
            // 200 as the specification's examples (clients check for it).
            Ok(respond(format, o311::to_json(&list), || {
                o311::created_xml(&list)
            }))
        }
        Err(UseCaseError::Validation(errs)) => Err(e(Failure {
            status: StatusCode::BAD_REQUEST,
            errors: errs
                .0
                .iter()
                .map(|fe| OError {
                    code: 400,
                    description: format!(
                        "{}: {}",
                        fe.field,
                        i18n::field_error(ctx.lang, &fe.field, fe.code)
                    ),
                })
                .collect(),
        })),
        Err(x) => Err(e(general(ctx.lang, x))),
    }
}

// ---------------------------------------------------------------------------
// The OpenAPI description (the bodies as `rathaus_standards::open311` writes
// them; the JSON schemas of the specification are checked in its tests)
// ---------------------------------------------------------------------------

/// How the server answers a POST (`realtime`: the id at once).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum O311ServiceType {
    Realtime,
    Batch,
    Blackbox,
}

/// A category of defect (GeoReport v2 "service").
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Service {
    service_code: String,
    service_name: String,
    description: String,
    /// True when the service has attributes (see the service definition).
    metadata: bool,
    #[serde(rename = "type")]
    type_: O311ServiceType,
    /// Comma separated.
    keywords: String,
    group: String,
}

/// One option of a list attribute.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311AttrValue {
    key: String,
    name: String,
}

/// The datatype of an attribute.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum O311Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

/// An extra question of a category (sent as `attribute[code]`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Attribute {
    variable: bool,
    code: String,
    datatype: O311Datatype,
    required: bool,
    datatype_description: String,
    order: u32,
    description: String,
    /// Only for the list datatypes.
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Vec<O311AttrValue>>,
}

/// A category's attributes (GeoReport v2 "service definition").
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311ServiceDefinition {
    service_code: String,
    attributes: Vec<O311Attribute>,
}

/// A report as published: no personal data; the description only once
/// released by the municipality.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Request {
    /// The reference (`MS-2026-000123`).
    service_request_id: String,
    /// `open` (received, acknowledged, in progress) or `closed` (done, forwarded).
    status: String,
    /// The municipality's public note.
    status_notes: Option<String>,
    service_name: String,
    service_code: String,
    description: Option<String>,
    /// The org unit working it.
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    /// W3C date-time (UTC).
    #[schema(format = DateTime)]
    requested_datetime: String,
    #[schema(format = DateTime)]
    updated_datetime: Option<String>,
    #[schema(format = DateTime)]
    expected_datetime: Option<String>,
    address: Option<String>,
    address_id: Option<String>,
    zipcode: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    /// A released photo on the report's page, or the app's own picture.
    media_url: Option<String>,
}

/// The answer to a new report (an array of one).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Created {
    service_request_id: Option<String>,
    /// For `GET tokens/{token}`.
    token: Option<String>,
    service_notice: Option<String>,
    account_id: Option<String>,
}

/// The reference a token stands for (an array of one).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Token {
    token: String,
    service_request_id: Option<String>,
}

/// One endpoint of the discovery document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Endpoint {
    specification: String,
    url: String,
    #[schema(format = DateTime)]
    changeset: String,
    #[serde(rename = "type")]
    type_: String,
    formats: Vec<String>,
}

/// Service discovery.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Discovery {
    #[schema(format = DateTime)]
    changeset: String,
    contact: String,
    key_service: String,
    endpoints: Vec<O311Endpoint>,
}

/// A new report, form-encoded (`application/x-www-form-urlencoded`). The
/// category's extra attributes come as `attribute[<code>]=value`
/// (`attribute[<code>][]` for several values). A place is required:
/// `lat` and `long`, or `address_string` (the town's streets are matched),
/// or `address_id`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct O311PostBody {
    /// The app's key, issued by the Fachadministration (required here or
    /// as the query parameter `api_key`).
    #[schema(max_length = 200)]
    api_key: Option<String>,
    /// The municipality's slug (optional when the host names it).
    #[schema(max_length = 60)]
    jurisdiction_id: Option<String>,
    #[schema(max_length = 40)]
    service_code: String,
    /// WGS 84 decimal degrees.
    #[schema(max_length = 40)]
    lat: Option<String>,
    #[schema(max_length = 40)]
    long: Option<String>,
    #[schema(max_length = 300)]
    address_string: Option<String>,
    #[schema(max_length = 300)]
    address_id: Option<String>,
    /// For feedback (deleted 30 days after the report is closed).
    #[schema(max_length = 254)]
    email: Option<String>,
    /// Not kept.
    device_id: Option<String>,
    /// Not kept.
    account_id: Option<String>,
    #[schema(max_length = 100)]
    first_name: Option<String>,
    #[schema(max_length = 100)]
    last_name: Option<String>,
    #[schema(max_length = 40)]
    phone: Option<String>,
    #[schema(min_length = 1, max_length = 4000)]
    description: String,
    #[schema(max_length = 500)]
    media_url: Option<String>,
}

/// The app's key in the query string (when the body has none).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[allow(dead_code)]
pub(crate) struct KeyParams {
    /// The app's key, issued by the Fachadministration.
    #[param(max_length = 200)]
    api_key: Option<String>,
}

/// Which municipality.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[allow(dead_code)]
pub(crate) struct JurisdictionParams {
    /// The municipality's slug (optional when the host names it).
    #[param(max_length = 60)]
    jurisdiction_id: Option<String>,
}

/// Which reports (default: the last 90 days; at most 200, newest first).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[allow(dead_code)]
pub(crate) struct SearchParams {
    #[param(max_length = 60)]
    jurisdiction_id: Option<String>,
    /// References, comma separated (at most 100); other filters are then ignored.
    #[param(max_length = 4000)]
    service_request_id: Option<String>,
    /// Categories, comma separated.
    #[param(max_length = 400)]
    service_code: Option<String>,
    /// W3C date-time, e.g. `2026-01-01T00:00:00Z`.
    #[param(format = DateTime)]
    start_date: Option<String>,
    #[param(format = DateTime)]
    end_date: Option<String>,
    /// `open` or `closed` (comma separated).
    #[param(pattern = "^((open|closed)(,(open|closed))*)?$")]
    status: Option<String>,
}

/// The service list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Services(Vec<O311Service>);

/// Service requests.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Requests(Vec<O311Request>);

/// The answer to POST requests (one entry).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311CreatedList(Vec<O311Created>);

/// The answer to GET tokens (one entry).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct O311Tokens(Vec<O311Token>);

const T: &str = "open311";

/// The Open311 GeoReport v2 operations (absolute paths).
pub const OPERATIONS: &[Op] = &[
    op("get", "/open311/v2/discovery.json", T, "Open311 service discovery (JSON)", Auth::Public, None,
        &[("200", "Discovery", Some(schema::<O311Discovery>))], &[]).open311(),
    op("get", "/open311/v2/discovery.xml", T, "Open311 service discovery (XML)", Auth::Public, None,
        &[("200", "Discovery", None)], &[]).open311().with_raw_response("text/xml"),
    op("get", "/open311/v2/services.json", T, "The defect categories (GeoReport v2 service list, JSON)", Auth::Public, None,
        &[("200", "The services", Some(schema::<O311Services>))], &[404]).open311().with_query(query::<JurisdictionParams>),
    op("get", "/open311/v2/services.xml", T, "The defect categories (GeoReport v2 service list, XML)", Auth::Public, None,
        &[("200", "The services", None)], &[404]).open311().with_query(query::<JurisdictionParams>).with_raw_response("text/xml"),
    op("get", "/open311/v2/services/{service_code}.json", T, "A category's extra attributes (GeoReport v2 service definition, JSON)", Auth::Public, None,
        &[("200", "The service definition", Some(schema::<O311ServiceDefinition>))], &[]).open311().with_query(query::<JurisdictionParams>),
    op("get", "/open311/v2/services/{service_code}.xml", T, "A category's extra attributes (GeoReport v2 service definition, XML)", Auth::Public, None,
        &[("200", "The service definition", None)], &[]).open311().with_query(query::<JurisdictionParams>).with_raw_response("text/xml"),
    op("get", "/open311/v2/requests.json", T, "Reports (GeoReport v2 service requests, JSON): by id, category, date range and open/closed", Auth::Public, None,
        &[("200", "The reports", Some(schema::<O311Requests>))], &[404]).open311().with_query(query::<SearchParams>),
    op("get", "/open311/v2/requests.xml", T, "Reports (GeoReport v2 service requests, XML)", Auth::Public, None,
        &[("200", "The reports", None)], &[404]).open311().with_query(query::<SearchParams>).with_raw_response("text/xml"),
    op("post", "/open311/v2/requests.json", T, "Report a defect (GeoReport v2 POST service request, JSON answer): needs the app's api_key (403 without); it becomes a case in the routed org unit's inbox", Auth::Public, None,
        &[("200", "The new report's id and token", Some(schema::<O311CreatedList>))], &[403, 404, 429]).open311().with_form_body(schema::<O311PostBody>).with_query(query::<KeyParams>),
    op("post", "/open311/v2/requests.xml", T, "Report a defect (GeoReport v2 POST service request, XML answer)", Auth::Public, None,
        &[("200", "The new report's id and token", None)], &[403, 404, 429]).open311().with_form_body(schema::<O311PostBody>).with_query(query::<KeyParams>).with_raw_response("text/xml"),
    op("get", "/open311/v2/requests/{service_request_id}.json", T, "One report (GeoReport v2, JSON: an array of one)", Auth::Public, None,
        &[("200", "The report", Some(schema::<O311Requests>))], &[]).open311().with_query(query::<JurisdictionParams>),
    op("get", "/open311/v2/requests/{service_request_id}.xml", T, "One report (GeoReport v2, XML)", Auth::Public, None,
        &[("200", "The report", None)], &[]).open311().with_query(query::<JurisdictionParams>).with_raw_response("text/xml"),
    op("get", "/open311/v2/tokens/{token}.json", T, "The report a POST's token stands for (JSON)", Auth::Public, None,
        &[("200", "The id", Some(schema::<O311Tokens>))], &[]).open311().with_query(query::<JurisdictionParams>),
    op("get", "/open311/v2/tokens/{token}.xml", T, "The report a POST's token stands for (XML)", Auth::Public, None,
        &[("200", "The id", None)], &[]).open311().with_query(query::<JurisdictionParams>).with_raw_response("text/xml"),
];
