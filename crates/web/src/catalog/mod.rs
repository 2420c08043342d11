//! The service catalog: public pages (home, search, lists, service pages,
//! sitemap), the search index, the Redaktion's editor (services, review,
//! synonyms) and the catalog API.

pub mod api;
pub mod home;
pub mod public;
pub mod staff;
pub mod views;

/// The blocks of a service text (named by the service page template).
pub use public::Block;

use serde_json::json;

use axum::response::Response;
use rathaus_app::catalog::search::IndexError;
use rathaus_storage::catalog::Services;
use uuid::Uuid;

use crate::platform::openapi::{Auth, CREATED, OK, Op, op};
use crate::platform::routes::Routes;
use crate::platform::{
    editorial::{EditorialKind, Here},
    error::AppError,
};

pub fn routes() -> Routes {
    Routes::new("catalog")
        .merge(home::routes())
        .merge(public::routes())
        .merge(staff::routes())
        .nest("/api/v1", api::routes())
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/services",
        "catalog",
        "Published services (search with q, filters, paging)",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "post",
        "/services",
        "catalog",
        "Create a service draft (Redaktion)",
        Auth::Staff,
        Some(|| json!({"slug": "hundesteuer", "title": {"de": "Hundesteuer", "en": "Dog tax"}})),
        CREATED,
    ),
    op(
        "get",
        "/services/{id}",
        "catalog",
        "One service (published, or any version for editors)",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "put",
        "/services/{id}",
        "catalog",
        "Change a service draft (Redaktion)",
        Auth::Staff,
        Some(|| json!({"title": {"de": "Hundesteuer", "en": "Dog tax"}})),
        OK,
    ),
    op(
        "post",
        "/services/{id}/submit",
        "catalog",
        "Submit a draft for review",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/services/{id}/approve",
        "catalog",
        "Approve and publish (a second editor)",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/services/{id}/reject",
        "catalog",
        "Reject with a comment",
        Auth::Staff,
        Some(|| json!({"comment": "Bitte Gebühren ergänzen."})),
        OK,
    ),
    op(
        "post",
        "/services/{id}/archive",
        "catalog",
        "Request archiving a service: a pending change that a second editor approves (four eyes); the service stays public until then",
        Auth::Staff,
        None,
        &[("202", "The pending change")],
    ),
    op(
        "post",
        "/services/{id}/change/approve",
        "catalog",
        "Approve and apply the service's pending change (a second editor; the requester cannot)",
        Auth::Staff,
        None,
        &[
            ("200", "The approved change"),
            ("409", "No pending change, or the requester's own"),
        ],
    ),
    op(
        "post",
        "/services/{id}/change/reject",
        "catalog",
        "Reject (or, as its requester, withdraw) the service's pending change",
        Auth::Staff,
        None,
        &[("200", "The rejected change"), ("409", "No pending change")],
    ),
    op(
        "get",
        "/catalog/export",
        "catalog",
        "The catalog in the exchange format rathaus.catalog/1",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/catalog/import",
        "catalog",
        "Import services in the exchange format as drafts",
        Auth::Staff,
        Some(|| json!({"format": "rathaus.catalog/1", "services": []})),
        OK,
    ),
];

impl From<IndexError> for AppError {
    fn from(e: IndexError) -> Self {
        rathaus_app::UseCaseError::from(e).into()
    }
}

impl EditorialKind for Services {
    const PAGES: &'static str = "/staff/catalog";

    async fn refused(at: Here<'_>, id: Uuid, reason: String) -> Result<Response, AppError> {
        staff::render_detail(at.0, at.1, at.2, id, None, Some(reason)).await
    }
}
