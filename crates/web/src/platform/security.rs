//! Security headers, CSRF protection and login rate limits.

use std::{net::IpAddr, num::NonZeroU32};

use axum::{
    extract::{FromRequest, Request},
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::platform::{client::rate_key, error::AppError};

/// Strict CSP: no inline script or style, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] with more origins a form may lead to (the payment provider's
/// pay page, reached by the answer to the pay button). An origin that is
/// not a plain `http(s)://host[:port]` is left out.
pub fn csp_with_form_targets(origins: &[String]) -> HeaderValue {
    let extra: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        .filter(|o| {
            (o.starts_with("http://") || o.starts_with("https://"))
                && o.split_once("://").is_some_and(|(_, rest)| {
                    !rest.is_empty()
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
                })
        })
        .collect();
    if extra.is_empty() {
        return HeaderValue::from_static(CSP);
    }
    let csp = CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", extra.join(" ")),
    );
    HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CSP))
}

/// HSTS for a site served over https: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn security_headers(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if state.config.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    h.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

const CSRF_KEY: &str = "csrf";
/// The anonymous visitor's CSRF cookie (double submit); with an https public
/// URL it is `__Host-` prefixed, so no subdomain can set it.
pub const CSRF_COOKIE: &str = "rathaus_csrf";
const CSRF_COOKIE_HOST: &str = "__Host-rathaus_csrf";

/// The CSRF cookie of one request: what the browser sent and what this
/// request issued.
struct AnonCsrf {
    sent: Option<String>,
    issued: std::sync::Mutex<Option<String>>,
}

impl AnonCsrf {
    fn token(&self) -> String {
        if let Some(t) = &self.sent {
            return t.clone();
        }
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued
            .get_or_insert_with(rathaus_storage::identity::generate_token)
            .clone()
    }
}

tokio::task_local! {
    static ANON_CSRF: std::sync::Arc<AnonCsrf>;
}

/// A token we issued: `rh_` and 64 hex digits (anything else is ignored).
fn well_formed(t: &str) -> bool {
    t.len() == 67 && t.starts_with("rh_") && t[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Middleware (inside the session layer): makes the anonymous CSRF cookie
/// available to [`csrf_token`] and [`verify_csrf`] for this request and sets
/// it on the response when the request issued one. Anonymous forms are
/// protected by this double-submit cookie, so a page view writes no session
/// row; logged-in sessions keep their synchroniser token (ADR 0011).
pub async fn csrf_cookie(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let secure = state.config.public_url.starts_with("https://");
    let name = if secure {
        CSRF_COOKIE_HOST
    } else {
        CSRF_COOKIE
    };
    let sent = cookie_value(req.headers(), name)
        .filter(|t| well_formed(t))
        .map(str::to_string);
    let anon = std::sync::Arc::new(AnonCsrf {
        sent,
        issued: std::sync::Mutex::new(None),
    });
    let mut res = ANON_CSRF.scope(anon.clone(), next.run(req)).await;
    let issued = anon.issued.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(t) = issued {
        let cookie = format!(
            "{name}={t}; Path=/; HttpOnly; SameSite=Lax{}",
            if secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Whether someone (staff or citizen) is logged in with this session.
async fn logged_in(session: &Session) -> Result<bool, AppError> {
    use crate::platform::auth::{CITIZEN_KEY, USER_KEY};
    Ok(session.get::<serde_json::Value>(USER_KEY).await?.is_some()
        || session
            .get::<serde_json::Value>(CITIZEN_KEY)
            .await?
            .is_some())
}

/// The CSRF token for the forms of this response: the session's
/// synchroniser token once someone is logged in (created on first use),
/// else the anonymous double-submit cookie (no session is written).
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if !logged_in(session).await?
        && let Ok(t) = ANON_CSRF.try_with(|a| a.token())
    {
        return Ok(t);
    }
    if let Some(t) = session.get::<String>(CSRF_KEY).await? {
        return Ok(t);
    }
    let token = rathaus_storage::identity::generate_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Checks a submitted token, in constant time: a logged-in session accepts
/// only its synchroniser token; an anonymous visitor the CSRF cookie the
/// browser sent (or a token the session holds).
pub async fn verify_csrf(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    let Some(submitted) = submitted else {
        return Err(AppError::Csrf);
    };
    let same = |expected: &str| bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()));
    if !logged_in(session).await?
        && let Ok(Some(sent)) = ANON_CSRF.try_with(|a| a.sent.clone())
        && same(&sent)
    {
        return Ok(());
    }
    match session.get::<String>(CSRF_KEY).await? {
        Some(e) if same(&e) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

/// A form body whose `csrf_token` field has been checked against the session.
/// Use it for every state-changing HTML form.
pub struct CsrfForm<T> {
    pub form: T,
    pub session: Session,
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::internal("session layer missing"))?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new("body", "too_long").into())
            })?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        verify_csrf(&session, field.csrf_token.as_deref()).await?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            AppError::Validation(
                rathaus_domain::FieldError::new(form_field_of(&e.to_string()), "required").into(),
            )
        })?;
        Ok(Self { form, session })
    }
}

/// Extracts the field name from serde's "missing field `x`" message.
fn form_field_of(msg: &str) -> String {
    msg.split('`').nth(1).unwrap_or("body").to_string()
}

/// Limits login attempts per account and per client address (in memory, per
/// instance; the per-account limit bounds password guessing, the per-address
/// limit bounds spraying over many accounts).
pub struct LoginLimiter {
    by_account: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// New form drafts per client address (anonymous writes to the database).
    drafts: DefaultKeyedRateLimiter<IpAddr>,
    /// Public validations of form data per client address (CPU per call).
    validations: DefaultKeyedRateLimiter<IpAddr>,
    /// Posts with files (wizard steps, answers) per client address (anonymous writes to the file store).
    uploads: DefaultKeyedRateLimiter<IpAddr>,
    /// Appointment holds and bookings per client address
    /// (`RATHAUS_BOOKINGS_PER_MINUTE`).
    bookings: DefaultKeyedRateLimiter<IpAddr>,
    /// Defect reports per Open311 app key (`RATHAUS_OPEN311_PER_MINUTE`):
    /// an app sends for many people from one address, so its key counts.
    reports: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self::with_submits(per_minute, 20)
    }

    /// With a limit for new drafts and API submissions per client address and minute.
    pub fn with_submits(per_minute: u32, submits_per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        let per_ip = NonZeroU32::new(per_minute.get().saturating_mul(3)).expect("non-zero");
        Self {
            by_account: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            by_ip: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_ip)),
            drafts: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(submits_per_minute.max(1)).expect("non-zero"),
            )),
            validations: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(submits_per_minute.max(1).saturating_mul(6)).expect("non-zero"),
            )),
            uploads: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(20).expect("non-zero"),
            )),
            bookings: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(10).expect("non-zero"),
            )),
            reports: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(120).expect("non-zero"),
            )),
        }
    }

    /// With a limit for defect reports per Open311 app key and minute.
    pub fn with_reports(mut self, per_minute: u32) -> Self {
        self.reports = DefaultKeyedRateLimiter::keyed(Quota::per_minute(
            NonZeroU32::new(per_minute.max(1)).expect("non-zero"),
        ));
        self
    }

    /// Counts a defect report of an Open311 app (by its key's id); false
    /// when the app must wait.
    pub fn check_report_key(&self, key: &str) -> bool {
        self.reports.check_key(&key.to_string()).is_ok()
    }

    /// With a limit for appointment holds and bookings per client address
    /// and minute.
    pub fn with_bookings(mut self, per_minute: u32) -> Self {
        self.bookings = DefaultKeyedRateLimiter::keyed(Quota::per_minute(
            NonZeroU32::new(per_minute.max(1)).expect("non-zero"),
        ));
        self
    }

    /// Counts an appointment hold or booking; false when the address must wait.
    pub fn check_booking(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.bookings.check_key(&rate_key(ip)).is_ok())
    }

    /// With a limit for posts with files per client address and minute.
    pub fn with_uploads(mut self, per_minute: u32) -> Self {
        self.uploads = DefaultKeyedRateLimiter::keyed(Quota::per_minute(
            NonZeroU32::new(per_minute.max(1)).expect("non-zero"),
        ));
        self
    }

    /// Counts an attempt; false when the caller must wait.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> bool {
        let ip_ok = ip.is_none_or(|ip| self.by_ip.check_key(&rate_key(ip)).is_ok());
        let account_ok = self.by_account.check_key(&account.to_lowercase()).is_ok();
        ip_ok && account_ok
    }

    /// Counts a new form draft; false when the address must wait.
    pub fn check_draft(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.drafts.check_key(&rate_key(ip)).is_ok())
    }

    /// Counts a validation of form data; false when the address must wait.
    pub fn check_validate(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.validations.check_key(&rate_key(ip)).is_ok())
    }

    /// Counts a post that carries files; false when the address must wait.
    pub fn check_upload(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.uploads.check_key(&rate_key(ip)).is_ok())
    }

    pub fn forget_old(&self) {
        self.validations.retain_recent();
        self.by_account.retain_recent();
        self.by_ip.retain_recent();
        self.drafts.retain_recent();
        self.uploads.retain_recent();
        self.bookings.retain_recent();
        self.reports.retain_recent();
    }
}

/// Client address of a request: the TCP peer, or what a trusted proxy
/// reports (see [`crate::platform::client`]).
pub fn client_ip(req_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    crate::platform::client::client_of(req_extensions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_quota() {
        let l = LoginLimiter::new(3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(l.check(Some(ip), "a@b.de"));
        assert!(l.check(Some(ip), "A@b.de"));
        assert!(l.check(Some(ip), "a@b.de"));
        assert!(
            !l.check(Some(ip), "a@b.de"),
            "fourth attempt on one account must wait"
        );
        assert!(
            l.check(Some(ip), "other@b.de"),
            "other accounts are not blocked"
        );
    }

    #[test]
    fn booking_limiter_blocks_per_address() {
        let l = LoginLimiter::new(3).with_bookings(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check_booking(Some(a)));
        assert!(l.check_booking(Some(a)));
        assert!(!l.check_booking(Some(a)), "third booking must wait");
        assert!(l.check_booking(Some(b)), "other addresses are not blocked");
    }

    #[test]
    fn upload_limiter_blocks_per_address() {
        let l = LoginLimiter::new(3).with_uploads(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check_upload(Some(a)));
        assert!(l.check_upload(Some(a)));
        assert!(!l.check_upload(Some(a)), "third post with files must wait");
        assert!(l.check_upload(Some(b)), "other addresses are not blocked");
    }

    #[test]
    fn missing_field_name_is_extracted() {
        assert_eq!(form_field_of("missing field `email`"), "email");
        assert_eq!(form_field_of("weird"), "body");
    }
}
