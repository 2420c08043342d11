//! Staff identity: login, logout and the staff home page in the browser,
//! API tokens (`/auth/token`, `/me`) and the org units API.

pub mod api;
pub mod org_units;
pub mod staff;
pub mod views;

use crate::platform::error::ErrorBody;
use crate::platform::openapi::{Auth, Op, op, schema};
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
        Some(schema::<api::TokenRequest>),
        &[
            ("201", "Issued", Some(schema::<api::TokenIssued>)),
            ("401", "Wrong email or password", Some(schema::<ErrorBody>)),
        ],
        &[429],
    ),
    op(
        "delete",
        "/auth/token",
        "auth",
        "Revoke the calling token",
        Auth::Staff,
        None,
        &[("204", "Revoked", None)],
        &[],
    ),
    op(
        "get",
        "/me",
        "auth",
        "The calling staff member with roles per org unit",
        Auth::Staff,
        None,
        &[("200", "The caller", Some(schema::<api::MeBody>))],
        &[],
    ),
    op(
        "get",
        "/org-units",
        "org units",
        "The tenant's org units",
        Auth::Staff,
        None,
        &[(
            "200",
            "The org units",
            Some(schema::<org_units::OrgUnitList>),
        )],
        &[],
    ),
    op(
        "get",
        "/org-units/{id}",
        "org units",
        "One org unit",
        Auth::Staff,
        None,
        &[(
            "200",
            "The org unit",
            Some(schema::<org_units::OrgUnitBody>),
        )],
        &[],
    ),
];
