//! Checking electronic seals: the public page `/pruefen` (upload a document,
//! optionally with its `.siegel.json`; no login, no JavaScript), the tenant's
//! seal certificate for offline checks, and the API. Rate-limited per
//! client address like every anonymous post with files.

use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rathaus_app::seals::{MAX_VERIFY_BYTES, SealCheck};
use tower_sessions::Session;

use super::filing::raw_body;
use super::views::CheckPage;
use crate::platform::{
    AppState,
    client::Client,
    context::Ctx,
    error::AppError,
    i18n,
    json::body_limit,
    layout::Page,
    multipart,
    routes::{Routes, get, post},
    security::{csrf_token, verify_csrf},
};

pub fn routes() -> Routes {
    Routes::new("records")
        .route("/pruefen", get(check_form))
        .route("/pruefen/zertifikat.pem", get(certificate_page))
        .merge(
            Routes::new("records")
                .route("/pruefen", post(check))
                .map(|r| r.layer(body_limit(MAX_VERIFY_BYTES + 128 * 1024))),
        )
}

pub fn api_routes() -> Routes {
    Routes::new("records")
        .route("/seals/certificate", get(certificate))
        .merge(
            Routes::new("records")
                .route("/seals/verify", post(verify))
                .map(|r| r.layer(body_limit(MAX_VERIFY_BYTES))),
        )
}

/// What checking a document found.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SealCheckBody {
    /// SHA-256 of the document sent.
    sha256: String,
    size: u64,
    /// Whether the document is filed with this authority (same bytes).
    known: bool,
    /// `seal.valid`, `seal.content_changed`, `seal.signature_invalid`,
    /// `seal.unknown_certificate`, `seal.certificate_expired`,
    /// `seal.malformed.…`; none when no seal was found.
    outcome: Option<String>,
    valid: bool,
    issuer: Option<String>,
    sealed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// SHA-256 of the seal certificate.
    certificate_fingerprint: Option<String>,
    title: Option<String>,
}

fn check_body(c: &SealCheck) -> SealCheckBody {
    let v = c.verification.as_ref();
    SealCheckBody {
        sha256: c.sha256.clone(),
        size: c.size,
        known: c.known,
        outcome: v.map(|v| v.outcome.code().to_string()),
        valid: v.is_some_and(|v| v.outcome.is_valid()),
        issuer: v.and_then(|v| v.issuer.clone()),
        sealed_at: v.map(|v| v.sealed_at),
        certificate_fingerprint: v.and_then(|v| v.certificate_fingerprint.clone()),
        title: v
            .filter(|v| v.outcome.is_valid())
            .and_then(|v| v.title.clone()),
    }
}

async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    req: Request,
) -> Result<Response, AppError> {
    if !state.limiter.check_validate(client) {
        return Err(AppError::RateLimited);
    }
    let tenant = ctx.tenant()?.tenant_id();
    let content = raw_body(&state, req, MAX_VERIFY_BYTES).await?;
    let actor = rathaus_app::Actor::Anonymous { tenant };
    let c = state.app.check_seal(&actor, &content, None).await?;
    Ok(Json(check_body(&c)).into_response())
}

fn pem_response(pem: String) -> Response {
    let mut r = pem.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pem-file"),
    );
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"siegelzertifikat.pem\""),
    );
    r
}

async fn certificate(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let certs = state.app.seal_certificates(tenant).await?;
    Ok(pem_response(certs.join("")))
}

async fn certificate_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    certificate(State(state), ctx).await
}

async fn page_of(ctx: &Ctx, session: &Session) -> Result<Page, AppError> {
    let mut page = Page::new(ctx, ctx.t("records.check_title"));
    page.csrf = Some(csrf_token(session).await?);
    Ok(page)
}

async fn check_form(ctx: Ctx, session: Session) -> Result<Response, AppError> {
    let page = page_of(&ctx, &session).await?;
    Ok(crate::platform::layout::no_store(
        CheckPage {
            page,
            result: None,
            error: None,
        }
        .into_response(),
    ))
}

async fn check(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Client(client): Client,
    req: Request,
) -> Result<Response, AppError> {
    let page = page_of(&ctx, &session).await?;
    let lang = ctx.lang;
    let render = |page: Page, result, error, status| {
        Ok(crate::platform::layout::no_store(
            (
                status,
                CheckPage {
                    page,
                    result,
                    error,
                },
            )
                .into_response(),
        ))
    };
    if !state.limiter.check_upload(client) {
        return Err(AppError::RateLimited);
    }
    let tenant = ctx.tenant()?.tenant_id();
    let mut csrf = None;
    let mut document = None;
    let mut seal = None;
    for part in multipart::read(req)
        .await
        .map_err(|e| AppError::BadFile(e.to_string()))?
    {
        match part.name.as_str() {
            "csrf_token" => csrf = Some(part.text()),
            "document" if !part.data.is_empty() => document = Some(part.data),
            "seal" if !part.data.is_empty() => seal = Some(part.data),
            _ => {}
        }
    }
    verify_csrf(&session, csrf.as_deref()).await?;
    let Some(document) = document else {
        let text = i18n::t(lang, "records.check_no_document").to_string();
        return render(page, None, Some(text), StatusCode::UNPROCESSABLE_ENTITY);
    };
    let actor = rathaus_app::Actor::Anonymous { tenant };
    match state
        .app
        .check_seal(&actor, &document, seal.as_deref())
        .await
    {
        Ok(c) => {
            let b = check_body(&c);
            let verdict = match b.outcome.as_deref() {
                Some(code) if code.starts_with("seal.malformed") => {
                    i18n::t(lang, "records.seal_malformed").to_string()
                }
                Some(code) => {
                    i18n::t(lang, &format!("records.{}", code.replace('.', "_"))).to_string()
                }
                None if c.known => i18n::t(lang, "records.check_known_unsealed").to_string(),
                None => i18n::t(lang, "records.check_unknown").to_string(),
            };
            let result = super::views::CheckResult {
                valid: b.valid,
                verdict,
                issuer: b.issuer.unwrap_or_default(),
                sealed_at: b
                    .sealed_at
                    .map(|d| d.format("%d.%m.%Y %H:%M UTC").to_string())
                    .unwrap_or_default(),
                title: b.title.unwrap_or_default(),
                fingerprint: b.certificate_fingerprint.unwrap_or_default(),
                sha256: b.sha256,
            };
            render(page, Some(result), None, StatusCode::OK)
        }
        Err(e) => {
            let e = AppError::from(e);
            if matches!(e, AppError::BadFile(_)) {
                let text = crate::platform::context::describe(lang, &e).0;
                render(page, None, Some(text), StatusCode::UNPROCESSABLE_ENTITY)
            } else {
                Err(e)
            }
        }
    }
}
