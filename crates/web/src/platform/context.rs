//! Per-request context: which tenant (by Host header, else the configured
//! default, else the only tenant) and which language (query `?lang=`, cookie,
//! `Accept-Language`, German). The middleware also renders [`ErrorMarker`]s.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rathaus_storage::tenancy::{Tenant, TenantRepository};

use crate::platform::{
    AppState,
    error::{AppError, ErrorBody, ErrorDetail, ErrorMarker, FieldProblem},
    i18n::{self, Lang},
    intake::TtlMap,
    layout,
};

pub const LANG_COOKIE: &str = "rathaus_lang";

/// The tenants of this installation, read at most once a minute. A host is
/// resolved in memory against that list, so an unknown `Host` header costs no
/// query and adds no cache entry, however many are sent.
pub struct TenantCache(TtlMap<(), Arc<Vec<Arc<Tenant>>>>);

const TENANT_TTL: Duration = Duration::from_secs(60);

impl Default for TenantCache {
    fn default() -> Self {
        Self(TtlMap::new(TENANT_TTL))
    }
}

impl TenantCache {
    async fn all(&self, state: &AppState) -> Result<Arc<Vec<Arc<Tenant>>>, AppError> {
        match self.0.get(&()) {
            Ok(all) => Ok(all),
            Err(generation) => {
                let all: Arc<Vec<Arc<Tenant>>> = Arc::new(
                    state
                        .store
                        .repo()
                        .tenants()
                        .await?
                        .into_iter()
                        .map(Arc::new)
                        .collect(),
                );
                self.0.insert((), all.clone(), generation);
                Ok(all)
            }
        }
    }

    /// The tenant whose host is `host`; else the configured default tenant;
    /// else the only tenant, when there is exactly one.
    async fn resolve(&self, state: &AppState, host: &str) -> Result<Option<Arc<Tenant>>, AppError> {
        let all = self.all(state).await?;
        let by_host = all.iter().find(|t| {
            t.host
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(host))
        });
        let by_default = || {
            state
                .config
                .default_tenant
                .as_deref()
                .and_then(|slug| all.iter().find(|t| t.slug == slug))
        };
        let only = || (all.len() == 1).then(|| &all[0]);
        Ok(by_host.or_else(by_default).or_else(only).cloned())
    }

    pub fn clear(&self) {
        self.0.clear();
    }
}

/// The context of one request.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub tenant: Option<Arc<Tenant>>,
    pub lang: Lang,
    /// Path of the request (for the language switch).
    pub path: String,
    pub demo_mode: bool,
}

impl Ctx {
    /// The tenant, or the "no tenant configured" error.
    pub fn tenant(&self) -> Result<&Arc<Tenant>, AppError> {
        self.tenant.as_ref().ok_or(AppError::NoTenant)
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::internal("context middleware missing"))
    }
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Lang::parse)
}

fn cookie_lang(req: &Request) -> Option<Lang> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("rathaus_lang="))
        .and_then(Lang::parse)
}

pub async fn context_middleware(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let from_query = query_lang(req.uri().query());
    let lang = from_query
        .or_else(|| cookie_lang(&req))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(name, _)| name)
                .to_lowercase()
        })
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    let tenant = match state.tenants.resolve(&state, &host).await {
        Ok(t) => t,
        Err(e) => {
            return render_error(&state, &ctx_without_tenant(lang, &path, &state), &e, is_api);
        }
    };
    let ctx = Ctx {
        tenant,
        lang,
        path,
        demo_mode: state.config.demo_mode,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut response = next.run(req).await;
    // A login redirect for browsers stays a redirect; everything else is rendered.
    if let Some(ErrorMarker(err)) = response.extensions().get::<ErrorMarker>().cloned()
        && (is_api || !matches!(*err, AppError::LoginRequired))
    {
        response = render_error(&state, &ctx, &err, is_api);
    }
    if let Some(lang) = from_query {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

fn ctx_without_tenant(lang: Lang, path: &str, state: &AppState) -> Ctx {
    Ctx {
        tenant: None,
        lang,
        path: path.to_string(),
        demo_mode: state.config.demo_mode,
    }
}

/// Renders an error as JSON (API) or as a page in the layout.
pub fn render_error(_state: &AppState, ctx: &Ctx, err: &AppError, is_api: bool) -> Response {
    let status = err.status();
    let lang = ctx.lang;
    let (message, fields) = describe(lang, err);
    if is_api {
        let body = ErrorBody {
            error: ErrorDetail {
                status: status.as_u16(),
                code: err.code().to_string(),
                message,
                fields: fields
                    .into_iter()
                    .map(|(field, message)| FieldProblem {
                        field: Some(field),
                        path: None,
                        code: None,
                        message,
                        messages: None,
                    })
                    .collect(),
                reference: match err {
                    AppError::Internal { reference, .. } => Some(reference.clone()),
                    _ => None,
                },
            },
        };
        let mut r = (status, Json(body)).into_response();
        if matches!(err, AppError::InvalidToken | AppError::LoginRequired) {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rathaus\""),
            );
        }
        return r;
    }
    let reference = match err {
        AppError::Internal { reference, .. } => Some(reference.clone()),
        _ => None,
    };
    let title = i18n::t(lang, &format!("error.title_{}", status.as_u16()));
    let page = layout::ErrorPage {
        page: layout::Page::new(ctx, title),
        message,
        fields: fields.into_iter().map(|(_, m)| m).collect(),
        reference,
    };
    (status, page).into_response()
}

/// Human-readable message and per-field messages of an error.
pub fn describe(lang: Lang, err: &AppError) -> (String, Vec<(String, String)>) {
    let status = err.status().as_u16();
    match err {
        AppError::BadRequest(errs) => {
            let fields: Vec<(String, String)> = errs
                .0
                .iter()
                .map(|e| (e.field.clone(), i18n::field_error(lang, &e.field, e.code)))
                .collect();
            let message = fields
                .first()
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| i18n::t(lang, "error.text_400").to_string());
            (message, fields)
        }
        AppError::TooLarge { limit } => (
            i18n::tf(
                lang,
                "error.too_large",
                &[("limit", &format!("{} KiB", limit / 1024))],
            ),
            vec![],
        ),
        AppError::Validation(errs) => (
            i18n::t(lang, "error.text_422").to_string(),
            errs.0
                .iter()
                .map(|e| (e.field.clone(), i18n::field_error(lang, &e.field, e.code)))
                .collect(),
        ),
        AppError::Conflict(field) => {
            // A conflict with a message of its own (`validation.conflict.<field>`:
            // an appointment time gone, …), else "this value is taken".
            let own = format!("conflict.{field}");
            let code = if i18n::has(lang, &format!("validation.{own}")) {
                own.as_str()
            } else {
                "conflict"
            };
            let m = i18n::field_error(lang, field, code);
            (m.clone(), vec![(field.to_string(), m)])
        }
        AppError::Csrf => (i18n::t(lang, "error.csrf").to_string(), vec![]),
        AppError::IdempotencyMismatch => {
            let m = i18n::t(lang, "error.idempotency_mismatch").to_string();
            (m.clone(), vec![("Idempotency-Key".to_string(), m)])
        }
        AppError::Workflow(code) => (i18n::t(lang, &format!("editor.{code}")).to_string(), vec![]),
        AppError::InvalidToken => (i18n::t(lang, "error.invalid_token").to_string(), vec![]),
        AppError::BadFile(detail) => (
            i18n::tf(lang, "error.invalid_file", &[("detail", detail)]),
            vec![],
        ),
        AppError::InvalidJson(detail) => (
            i18n::tf(lang, "error.invalid_json", &[("detail", detail)]),
            vec![],
        ),
        AppError::BadQuery(detail) => (
            i18n::tf(lang, "error.invalid_query", &[("detail", detail)]),
            vec![],
        ),
        AppError::UnsupportedMediaType => (
            i18n::t(lang, "error.unsupported_media_type").to_string(),
            vec![],
        ),
        AppError::NoTenant => (i18n::t(lang, "error.no_tenant").to_string(), vec![]),
        AppError::Transition(t) => (crate::platform::workflow::refused_message(lang, t), vec![]),
        _ => (
            i18n::t(lang, &format!("error.text_{status}")).to_string(),
            vec![],
        ),
    }
}
