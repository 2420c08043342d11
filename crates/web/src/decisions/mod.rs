//! Fachadministration: Bescheid templates per service and variant, and the
//! routing rules per service (Zuständigkeitsprüfung). Deciding a case is
//! part of `cases`.

pub mod routing;
pub mod templates;
pub mod views;

use crate::platform::routes::Routes;

pub fn routes() -> Routes {
    Routes::new("decisions")
        .merge(templates::routes())
        .merge(routing::routes())
}

/// This capability has no API operations.
pub const OPERATIONS: &[crate::platform::openapi::Op] = &[];
