//! Staff identity: login, logout and the staff home page in the browser,
//! API tokens (`/auth/token`, `/me`) and the org units API.

pub mod api;
pub mod org_units;
pub mod staff;
pub mod views;

use serde_json::json;

use crate::platform::openapi::{Auth, CREATED, OK, Op, op};
use crate::platform::routes::Routes;

pub fn routes() -> Routes {
    Routes::new("identity")
        .merge(staff::routes())
        .nest("/api/v1", api::routes().merge(org_units::routes()))
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "post",
        "/auth/token",
        "auth",
        "Log in with email and password; returns a bearer token",
        Auth::Public,
        Some(
            || json!({"email": "sachbearbeitung@musterstadt.example", "password": "demo", "name": "Fachverfahren"}),
        ),
        CREATED,
    ),
    op(
        "delete",
        "/auth/token",
        "auth",
        "Revoke the calling token",
        Auth::Staff,
        None,
        &[("204", "Revoked")],
    ),
    op(
        "get",
        "/me",
        "auth",
        "The calling staff member with roles per org unit",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "get",
        "/org-units",
        "org units",
        "The tenant's org units",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "get",
        "/org-units/{id}",
        "org units",
        "One org unit",
        Auth::Public,
        None,
        OK,
    ),
];
