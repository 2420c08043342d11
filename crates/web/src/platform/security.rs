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
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
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

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF_KEY).await? {
        return Ok(t);
    }
    let token = rathaus_storage::identity::generate_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Checks a submitted token against the session's, in constant time.
pub async fn verify_csrf(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(CSRF_KEY).await?;
    match (expected, submitted) {
        (Some(e), Some(s)) if bool::from(e.as_bytes().ct_eq(s.as_bytes())) => Ok(()),
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
        }
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
