//! The submission cache lives in the use-case layer (`rathaus_app::intake`);
//! these wrappers keep the form pages' calls short. The middleware drops the
//! cache after staff writes whose use cases do not yet call
//! `App::changed` themselves.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
pub use rathaus_app::intake::{PublishedForm, Routing, TTL, TtlMap};
use rathaus_domain::{forms::FormDefinition, tenancy::TenantId};
use rathaus_storage::forms::{Form, FormVersion};

use crate::platform::{AppState, error::AppError};

/// A form by id or key.
pub async fn find_form(state: &AppState, tenant: TenantId, id: &str) -> Result<Form, AppError> {
    Ok(state.app.find_form(tenant, id).await?)
}

/// The published version of a form (by id or key) with its parsed definition.
pub async fn published(
    state: &AppState,
    tenant: TenantId,
    id: &str,
) -> Result<(Form, FormVersion, FormDefinition), AppError> {
    Ok(state.app.published(tenant, id).await?)
}

/// Whether a request may change forms, services, routing or org units.
fn is_staff_write(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    path.starts_with("/staff/")
        || [
            "/api/v1/forms",
            "/api/v1/services",
            "/api/v1/catalog",
            "/api/v1/org-units",
        ]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Drops the caches once a staff write has been answered (its transaction has
/// committed by then), so the next submission reads what it changed.
pub async fn forget_after_staff_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let write = is_staff_write(req.method(), req.uri().path());
    let response = next.run(req).await;
    if write {
        state.app.changed();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_writes_are_recognised() {
        assert!(is_staff_write(&Method::POST, "/staff/routing/abc"));
        assert!(is_staff_write(&Method::PUT, "/api/v1/forms/x"));
        assert!(is_staff_write(&Method::POST, "/api/v1/services/x/approve"));
        assert!(!is_staff_write(&Method::GET, "/staff/routing/abc"));
        assert!(!is_staff_write(&Method::POST, "/api/v1/applications"));
        assert!(!is_staff_write(&Method::POST, "/antrag/abc/schritt/1"));
    }
}
